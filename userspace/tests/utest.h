/* SPDX-License-Identifier: GPL-2.0 */
/* utest.h - the smallest test harness: CHECK, CHECK_STR, and a summary. */
#ifndef IOBAND_UTEST_H
#define IOBAND_UTEST_H

#include <stdio.h>
#include <string.h>

static int ut_fail, ut_pass;

#define CHECK(cond) do {                                                       \
		if (cond) {                                                    \
			ut_pass++;                                             \
		} else {                                                       \
			ut_fail++;                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want) do {                                              \
		const char *g_ = (got), *w_ = (want);                          \
		if (g_ && w_ && !strcmp(g_, w_)) {                             \
			ut_pass++;                                             \
		} else {                                                       \
			ut_fail++;                                             \
			fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n",   \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)",  \
				w_ ? w_ : "(null)");                           \
		}                                                              \
	} while (0)

static inline int ut_summary(const char *name)
{
	printf("%s: %d checks passed, %d failed\n", name, ut_pass, ut_fail);
	return ut_fail ? 1 : 0;
}

#endif
