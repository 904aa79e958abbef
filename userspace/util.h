/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - small helpers shared by iobandctl: allocation that cannot fail
 * (an out-of-memory controller aborts), a growable string, a string vector,
 * and the exit codes.
 */
#ifndef IOBAND_UTIL_H
#define IOBAND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (documented in iobandctl(8), EXIT STATUS). */
enum {
	EX_OK = 0,		/* success */
	EX_FAIL = 1,		/* runtime failure */
	EX_USAGE = 2,		/* bad command line */
	EX_CONFIG = 3,		/* invalid host file or state: nothing changed */
	EX_ROLLEDBACK = 4,	/* failed midway, everything undone */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

extern const char *progname;
extern int verbose;

void msg_err(const char *fmt, ...) PRINTF(1, 2);
void msg_warn(const char *fmt, ...) PRINTF(1, 2);
/* Where processes are looked up: $IOBAND_PROC (tests), else /proc. */
const char *proc_root(void);
void msg_info(const char *fmt, ...) PRINTF(1, 2);	/* only with -v */

/*
 * User text (from the host file, domain XML, the command line) in a
 * message: S in double quotes, with every byte that a terminal or a log
 * could take for something else than text written \xhh: C0 controls (ESC,
 * newline...), DEL, C1 controls (U+0080..U+009F) and bytes that are not
 * UTF-8.  '"' is written \", and '\\' is written \\ where it would
 * otherwise read as one of these escapes: before '"', '\\', such a byte,
 * "xhh" of such a byte, or the closing quote.  Any other '\\' stays, so
 * that systemd's "machine-qemu\x2d1.scope" reads as written (\x2d, a
 * printable byte, is never an escape), and every output reads back as
 * one text.  The result stays valid for the next QUOTE_SLOTS calls (the
 * arguments of one message); xstrdup() it to keep it.  quote_if_needed():
 * S itself when there is nothing to escape and no '"' in it.
 */
#define QUOTE_SLOTS 8
const char *quote(const char *s);
const char *quote_if_needed(const char *s);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

/* Grow *arr (of *n elements of size sz) by one zeroed element; return it. */
void *vec_push(void *arr_p, size_t *n, size_t sz);

struct strbuf {
	char *s;
	size_t len, cap;
};
void sb_addf(struct strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void sb_adds(struct strbuf *sb, const char *s);
char *sb_steal(struct strbuf *sb);	/* never NULL */
void sb_free(struct strbuf *sb);

/* NULL-terminated string vector. */
struct strv {
	char **v;
	size_t n;
};
void strv_add(struct strv *sv, const char *s);
void strv_addf(struct strv *sv, const char *fmt, ...) PRINTF(2, 3);
void strv_free(struct strv *sv);
bool strv_equal(const struct strv *a, const struct strv *b);
char *strv_join(const struct strv *sv, const char *sep);

/*
 * Read all of F / of the file PATH as text into *out (malloc'ed, NUL-ended,
 * *len bytes).  0, -errno of the open or the read (-EIO if unknown; a
 * directory: -EISDIR), -EFBIG beyond READ_TEXT_MAX bytes (nothing is set),
 * or -EINVAL when the text holds a NUL byte (*out is then still set).
 */
#define READ_TEXT_MAX	(16U << 20)
int read_text(FILE *f, char **out, size_t *len);
int read_text_file(const char *path, char **out, size_t *len);

/*
 * Strict decimal parsing: the whole string, no sign, no spaces, and no
 * leading zeros ("010" is 8 to YAML 1.1 and C, 10 to others: it is
 * neither).  0; -EINVAL if S is no number (or, for the range, outside
 * LO..HI); -ERANGE above 2^64-1; -EDOM for a leading zero.
 */
int parse_u64(const char *s, uint64_t *v);
int parse_u64_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *v);
/* What -EDOM of parse_u64() means, for messages. */
#define U64_LEADING_ZERO "no leading zeros (octal to some readers, decimal to others)"

#endif
