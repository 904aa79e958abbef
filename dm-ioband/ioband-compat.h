/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-compat.h - the few kernel primitives that the kernel-independent
 * parts of dm-ioband (table/message parser, scheduler arithmetic) use.
 *
 * In the kernel this only pulls in the real headers.  In userspace (unit
 * tests and the scheduler simulator, built by tests/unit/Makefile) it
 * provides equivalents with the same names and semantics, in the manner of
 * the kernel's tools/testing/ shims, so that the very same .c files are
 * compiled into both.
 */
#ifndef IOBAND_COMPAT_H
#define IOBAND_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/math64.h>
#include <linux/bug.h>
#include <linux/sort.h>

#else /* userspace */

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;

#ifndef U32_MAX
#define U32_MAX UINT32_MAX
#endif
#ifndef U64_MAX
#define U64_MAX UINT64_MAX
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
/* A caller bug the kernel warns about: fatal in the userspace tests. */
#define WARN_ON_ONCE(c) ((c) ? (abort(), 1) : 0)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static inline u64 div64_u64(u64 a, u64 b) { return a / b; }

/* The kernel's sort() (a heapsort) has a swap argument; pass NULL here. */
static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *),
			void (*swap)(void *, void *, int))
{
	if (swap)
		abort();
	qsort(base, num, size, cmp);
}
static inline u64 div_u64(u64 a, u32 b) { return a / b; }
/* a * b / c without overflowing in between (the kernel's, lib/math/div64.c) */
static inline u64 mul_u64_u64_div_u64(u64 a, u64 b, u64 c)
{
	return (u64)((__uint128_t)a * b / c);
}

/*
 * kstrtoull() semantics: the whole string must be a number (one trailing
 * newline allowed), no sign, no leading blanks, overflow is -ERANGE.
 */
static inline int kstrtoull(const char *s, unsigned int base, u64 *res)
{
	u64 v = 0;
	const char *p = s;

	if (base != 10)
		return -EINVAL;
	if (*p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = *p - '0';

		if (v > (U64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*res = v;
	return 0;
}

static inline int kstrtouint(const char *s, unsigned int base, unsigned int *res)
{
	u64 v;
	int r = kstrtoull(s, base, &v);

	if (r)
		return r;
	if (v > UINT_MAX)
		return -ERANGE;
	*res = (unsigned int)v;
	return 0;
}

static inline size_t strscpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (!size)
		return -E2BIG;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, n + 1);
	return n;
}

#endif /* __KERNEL__ */

#endif /* IOBAND_COMPAT_H */
