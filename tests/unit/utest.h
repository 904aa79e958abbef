/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal test harness: CHECK() records a failure and carries on. */
#ifndef UTEST_H
#define UTEST_H
#include <stdio.h>

static int utest_failed, utest_checks;

#define CHECK(cond, ...) do {						\
	utest_checks++;							\
	if (!(cond)) {							\
		utest_failed++;						\
		fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__,	\
			__LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static inline int utest_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, utest_checks, utest_failed);
	return utest_failed ? 1 : 0;
}
#endif
