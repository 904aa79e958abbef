// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - allocation, strings and messages for iobandctl.
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *progname = "iobandctl";
int verbose;

static void vmsg(const char *pfx, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", progname, pfx);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void msg_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

const char *proc_root(void)
{
	const char *pr = getenv("IOBAND_PROC");

	return pr && *pr ? pr : "/proc";
}

void msg_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

/* The length of the UTF-8 character at S (1..4) if it is printable, else 0. */
static size_t printable_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)	/* controls, DEL, stray or overlong bytes */
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xc2 || s[0] == 0xe0)	/* C1 controls; overlong */
		lo = 0xa0;
	else if (s[0] == 0xf0)			/* overlong */
		lo = 0x90;
	else if (s[0] == 0xed)			/* UTF-16 surrogates */
		hi = 0x9f;
	else if (s[0] == 0xf4)			/* above U+10FFFF */
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static bool printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (; *p; p += n)
		if (!(n = printable_len(p)))
			return false;
	return true;
}

static int hex_digit(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Whether a '\' of the text, before P, would read as the start of an
 * escape in quote()'s output: before the closing quote, before what is
 * written with a '\' itself ('"', '\', a byte written \xHH), or before
 * "xHH" naming such a byte.  Any other '\' stands for itself ("\x2d").
 */
static bool backslash_escaped(const unsigned char *p)
{
	int hi, lo;

	if (!*p || *p == '"' || *p == '\\' || !printable_len(p))
		return true;
	if (p[0] != 'x' || (hi = hex_digit(p[1])) < 0 || (lo = hex_digit(p[2])) < 0)
		return false;
	return hi * 16 + lo < 0x20 || hi * 16 + lo >= 0x7f;
}

const char *quote(const char *s)
{
	static char *slot[QUOTE_SLOTS];
	static size_t next;
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sb = { 0 };
	size_t n;

	sb_adds(&sb, "\"");
	for (; *p; p += n) {
		n = printable_len(p);
		if (!n) {
			sb_addf(&sb, "\\x%02x", *p);
			n = 1;
		} else if (*p == '"' || (*p == '\\' && backslash_escaped(p + 1))) {
			sb_addf(&sb, "\\%c", *p);
		} else {
			sb_addf(&sb, "%.*s", (int)n, (const char *)p);
		}
	}
	sb_adds(&sb, "\"");
	next = (next + 1) % QUOTE_SLOTS;
	free(slot[next]);
	slot[next] = sb_steal(&sb);
	return slot[next];
}

const char *quote_if_needed(const char *s)
{
	return printable(s) && !strchr(s, '"') ? s : quote(s);
}

static void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", progname);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb_steal(&sb);
}

void *vec_push(void *arr_p, size_t *n, size_t sz)
{
	char **arr = arr_p;
	char *e;

	*arr = xrealloc(*arr, (*n + 1) * sz);
	e = *arr + *n * sz;
	memset(e, 0, sz);
	(*n)++;
	return e;
}

void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int need;

	va_copy(aq, ap);
	need = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (need < 0)
		oom();
	if (sb->len + need + 1 > sb->cap) {
		sb->cap = (sb->len + need + 1) * 2;
		sb->s = xrealloc(sb->s, sb->cap);
	}
	vsnprintf(sb->s + sb->len, need + 1, fmt, ap);
	sb->len += need;
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_addf(sb, "%s", s);
}

int read_text(FILE *f, char **out, size_t *len)
{
	size_t cap = 8192, n = 0, got;
	char *buf = xmalloc(cap);

	/* Bytes, not "%.*s": that would stop at a NUL and hide it. */
	errno = 0;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n > READ_TEXT_MAX) {
			/* /dev/zero, a pipe that never ends: not our text. */
			free(buf);
			return -EFBIG;
		}
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;	/* read(2)'s: EISDIR for a directory */

		free(buf);
		return -e;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return memchr(buf, '\0', n) ? -EINVAL : 0;
}

int read_text_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	int r;

	if (!f)
		return -errno;
	r = read_text(f, out, len);
	fclose(f);
	return r;
}

char *sb_steal(struct strbuf *sb)
{
	char *s = sb->s ? sb->s : xstrdup("");

	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

void strv_add(struct strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 2) * sizeof(*sv->v));
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void strv_addf(struct strv *sv, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	strv_add(sv, sb.s);
	sb_free(&sb);
}

void strv_free(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

bool strv_equal(const struct strv *a, const struct strv *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

char *strv_join(const struct strv *sv, const char *sep)
{
	struct strbuf sb = { 0 };
	size_t i;

	for (i = 0; i < sv->n; i++)
		sb_addf(&sb, "%s%s", i ? sep : "", sv->v[i]);
	return sb_steal(&sb);
}

int parse_u64(const char *s, uint64_t *v)
{
	uint64_t r = 0;

	if (!s || !*s || s[strspn(s, "0123456789")])
		return -EINVAL;
	if (s[0] == '0' && s[1])
		return -EDOM;
	for (; *s; s++) {
		if (r > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		r = r * 10 + (uint64_t)(*s - '0');
	}
	*v = r;
	return 0;
}

int parse_u64_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	uint64_t r;
	int e = parse_u64(s, &r);

	if (e == -EDOM)
		return e;
	if (e || r < lo || r > hi)
		return -EINVAL;
	*v = r;
	return 0;
}
