// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - load and validate the host file (YAML, libyaml).
 *
 * The document is loaded whole (yaml_parser_load) and walked with a field
 * path in hand, so that every message can say where it is.  Validation
 * stops at the first error: one precise message beats a cascade.
 */
#include "config.h"
#include "backend.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct pctx {
	const char *file;
	yaml_document_t *doc;
	char *err;		/* the first error */
};

typedef yaml_node_t node_t;

static void perr(struct pctx *c, const node_t *n, const char *field, const char *fmt, ...)
	PRINTF(4, 5);
static void perr(struct pctx *c, const node_t *n, const char *field, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	if (c->err)
		return;
	sb_addf(&sb, "%s:%d: %s: ", c->file, n ? (int)n->start_mark.line + 1 : 1, field);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	c->err = sb_steal(&sb);
}

static int line_of(const node_t *n)
{
	return (int)n->start_mark.line + 1;
}

struct field {
	const char *key;
	node_t *val;		/* set by walk_map */
	node_t *key_node;
};

static void pos_set(struct cfg_pos *p, const node_t *n, const char *field, const struct field *f)
{
	p->line = line_of(n);
	p->field = xstrdup(field);
	for (; f && f->key; f++)
		if (f->val && p->n_keys < (int)ARRAY_SIZE(p->keys)) {
			p->keys[p->n_keys].key = f->key;
			p->keys[p->n_keys++].line = line_of(f->val);
		}
}

int cfg_line(const struct cfg_pos *pos, const char *key)
{
	int i;

	for (i = 0; i < pos->n_keys; i++)
		if (!strcmp(pos->keys[i].key, key))
			return pos->keys[i].line;
	return pos->line;
}

static const char *scalar(const node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_null(const node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		(!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

static const char *node_kind(const node_t *n)
{
	if (is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* --------------------------------------------------------------- mappings */

/*
 * Check that N is a mapping whose keys are all in F (NULL-key terminated)
 * and fill in the values.  Unknown and duplicate keys are errors.
 */
static int walk_map(struct pctx *c, node_t *n, const char *field, struct field *f)
{
	yaml_node_pair_t *p;

	if (n->type != YAML_MAPPING_NODE) {
		perr(c, n, field, "must be a mapping, not %s", node_kind(n));
		return -EINVAL;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		node_t *k = yaml_document_get_node(c->doc, p->key);
		node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *ks = scalar(k);
		struct field *e;

		if (!ks) {
			perr(c, k, field, "keys must be scalars");
			return -EINVAL;
		}
		for (e = f; e->key; e++)
			if (!strcmp(e->key, ks))
				break;
		if (!e->key) {
			struct strbuf sb = { 0 };
			struct field *x;

			for (x = f; x->key; x++)
				sb_addf(&sb, "%s%s", x == f ? "" : ", ", x->key);
			if (*field)
				perr(c, k, field, "unknown key %s (known: %s)", quote(ks), sb.s);
			else
				perr(c, k, quote_if_needed(ks), "unknown key (known: %s)", sb.s);
			sb_free(&sb);
			return -EINVAL;
		}
		if (e->val) {
			char *fp = *field ? xasprintf("%s.%s", field, ks) : xstrdup(ks);

			perr(c, k, fp, "given twice (first at line %d)", line_of(e->key_node));
			free(fp);
			return -EINVAL;
		}
		e->val = v;
		e->key_node = k;
	}
	return 0;
}

static node_t *fval(struct field *f, const char *key)
{
	for (; f->key; f++)
		if (!strcmp(f->key, key))
			return f->val && !is_null(f->val) ? f->val : NULL;
	abort();	/* a key missing from the table: a bug here */
}

static char *fpath(const char *parent, const char *key)
{
	return *parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

static int need(struct pctx *c, node_t *map, struct field *f, const char *parent,
		const char *key)
{
	char *fp;

	if (fval(f, key))
		return 0;
	fp = fpath(parent, key);
	perr(c, map, fp, "required");
	free(fp);
	return -EINVAL;
}

/* ----------------------------------------------------------------- values */

static int get_str(struct pctx *c, node_t *n, const char *field, char **out)
{
	const char *s = scalar(n);

	if (!s) {
		perr(c, n, field, "must be a string, not %s", node_kind(n));
		return -EINVAL;
	}
	if (!*s) {
		perr(c, n, field, "must not be empty");
		return -EINVAL;
	}
	*out = xstrdup(s);
	return 0;
}

static int get_uint(struct pctx *c, node_t *n, const char *field, uint64_t lo, uint64_t hi,
		    uint64_t *out)
{
	const char *s = scalar(n);
	int r = s ? parse_u64_range(s, lo, hi, out) : -EINVAL;

	if (r) {
		if (r == -EDOM)
			perr(c, n, field, "%s: " U64_LEADING_ZERO, quote(s));
		else if (lo == hi)
			perr(c, n, field, "must be %llu", (unsigned long long)lo);
		else
			perr(c, n, field, "must be %llu..%llu", (unsigned long long)lo,
			     (unsigned long long)hi);
		return -EINVAL;
	}
	return 0;
}

static int get_bool(struct pctx *c, node_t *n, const char *field, bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) {
		*out = true;
		return 0;
	}
	if (s && (!strcmp(s, "false") || !strcmp(s, "no"))) {
		*out = false;
		return 0;
	}
	perr(c, n, field, "must be true or false");
	return -EINVAL;
}

/* Names that end up in dm device names and in ioband-tc arguments. */
bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.+-", *s))
			return false;
	return true;
}

size_t dm_name_max(const char *uuid_prefix)
{
	size_t u = IOB_DM_UUID_MAX - strlen(uuid_prefix);

	return u < IOB_DM_NAME_MAX ? u : IOB_DM_NAME_MAX;
}

const char *cgroup_path_problem(const char *s)
{
	const char *p = s + strspn(s, "/");

	if (!*p || strpbrk(p, " \t\n"))
		goto bad;
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			goto bad;
		p += n;
		p += strspn(p, "/");
	}
	return NULL;
bad:
	return "must be a cgroup below the root, without . or .. (e.g. machine.slice/web1)";
}

void cgroup_path_normalize(char *s)
{
	const char *p = s;
	char *d = s;

	for (p += strspn(p, "/"); *p; p += strspn(p, "/")) {
		if (d != s)
			*d++ = '/';
		while (*p && *p != '/')
			*d++ = *p++;
	}
	*d = '\0';
}

char *cgroup_path_unmount(char *s, const char *root)
{
	char *r = xasprintf("/%s", root), *why = NULL;
	size_t n;

	cgroup_path_normalize(r + 1);	/* "/sys/fs/cgroup", for messages */
	n = strlen(r + 1);	/* 0: mounted on /, where every path is below it */
	if (n && !strncmp(s, r + 1, n) && (!s[n] || s[n] == '/')) {
		if (!s[n])
			why = xasprintf("is the cgroup v2 mount, %s: must be a cgroup below it (e.g. machine.slice/web1)",
					quote_if_needed(r));
		else
			memmove(s, s + n + 1, strlen(s + n + 1) + 1);
	} else if (n && !strncmp(s, "sys/fs/cgroup", 13) && (!s[13] || s[13] == '/')) {
		why = xasprintf("is not below the cgroup v2 mount, %s: give the path below it (e.g. machine.slice/web1)",
				quote_if_needed(r));
	}
	free(r);
	return why;
}

/* Interface names as ioband-tc takes them: no '+'. */
bool valid_ifname(const char *s)
{
	return valid_name(s, 15) && !strchr(s, '+');
}

static int get_ifname(struct pctx *c, node_t *n, const char *field, char **out)
{
	if (get_str(c, n, field, out))
		return -EINVAL;
	if (!valid_ifname(*out)) {
		perr(c, n, field, "%s: use 1..15 of A-Z a-z 0-9 _ . - (not first . or -)", quote(*out));
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

static int get_name(struct pctx *c, node_t *n, const char *field, size_t max, char **out)
{
	if (get_str(c, n, field, out))
		return -EINVAL;
	if (!valid_name(*out, max)) {
		perr(c, n, field, "%s: use 1..%zu of A-Z a-z 0-9 _ . + - (not first . or -)",
		     quote(*out), max);
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

/* MAJOR:MINOR in decimal, within Linux's 12-bit major and 20-bit minor. */
static bool valid_devnum(const char *s)
{
	const char *colon = strchr(s, ':');
	char *maj;
	uint64_t a, b;
	int r;

	if (!colon)
		return false;
	maj = xstrndup(s, (size_t)(colon - s));
	r = parse_u64_range(maj, 0, 4095, &a) || parse_u64_range(colon + 1, 0, 1048575, &b);
	free(maj);
	return !r;
}

static int get_devpath(struct pctx *c, node_t *n, const char *field, char **out)
{
	if (get_str(c, n, field, out))
		return -EINVAL;
	if ((*out)[0] != '/' && !valid_devnum(*out)) {
		perr(c, n, field, "%s: must be an absolute path or MAJOR:MINOR (0..4095:0..1048575)",
		     quote(*out));
		return -EINVAL;
	}
	if (strpbrk(*out, " \t\n")) {
		perr(c, n, field, "must not contain white space");
		return -EINVAL;
	}
	return 0;
}

struct unit {
	const char *name;
	double scale;
};

/*
 * NUMBER[.FRACTION]UNIT as tc and ioband-tc read it; *v is NUMBER times the
 * unit's scale.  -EINVAL when it is not of that form.
 */
static int num_unit(const char *s, const struct unit *units, bool unit_required, double *v)
{
	const char *p = s;
	bool dot = false;
	double scale = 1;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p) || (*p == '.' && !dot); p++)
		dot |= *p == '.';
	if (p[-1] == '.')
		return -EINVAL;
	if (*p || unit_required) {
		for (; units->name; units++)
			if (!strcasecmp(p, units->name))
				break;
		if (!units->name)
			return -EINVAL;
		scale = units->scale;
	}
	*v = strtod(s, NULL) * scale;
	return 0;
}

/* In bit/s; ioband-tc takes 8bit (1 byte/s, tc's resolution) to 10tbit. */
#define RATE_MIN 8.0
#define RATE_MAX 1e13
/* In bytes: one full frame up to tc's 32-bit burst. */
#define BURST_MIN 1514.0
#define BURST_MAX 4294967295.0

static int rate_bits(const char *s, double *v)
{
	static const struct unit u[] = {
		{ "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "tbit", 1e12 },
		{ "kibit", 1024.0 }, { "mibit", 1048576.0 }, { "gibit", 1073741824.0 },
		{ "tibit", 1099511627776.0 },
		{ "bps", 8 }, { "kbps", 8e3 }, { "mbps", 8e6 }, { "gbps", 8e9 }, { "tbps", 8e12 },
		{ "kibps", 8192.0 }, { "mibps", 8388608.0 }, { "gibps", 8589934592.0 },
		{ "tibps", 8796093022208.0 }, { NULL, 0 },
	};

	return num_unit(s, u, true, v);
}

static int size_bytes(const char *s, double *v)
{
	static const struct unit u[] = {
		{ "b", 1 }, { "k", 1024.0 }, { "kb", 1024.0 }, { "m", 1048576.0 },
		{ "mb", 1048576.0 }, { "g", 1073741824.0 }, { "gb", 1073741824.0 }, { NULL, 0 },
	};

	return num_unit(s, u, false, v);
}

bool valid_rate(const char *s)
{
	double v;

	return !rate_bits(s, &v) && v >= RATE_MIN && v <= RATE_MAX;
}

bool valid_size(const char *s)
{
	double v;

	return !size_bytes(s, &v) && v >= BURST_MIN && v <= BURST_MAX;
}

const char *rate_problem(const char *s)
{
	double v;

	if (rate_bits(s, &v))
		return "must be a rate with a unit (e.g. 100mbit, 1gbit, 10mbps)";
	if (v < RATE_MIN)
		return "must be at least 8bit (1 byte/s)";
	if (v > RATE_MAX)
		return "must be at most 10tbit";
	return NULL;
}

const char *size_problem(const char *s)
{
	double v;

	if (size_bytes(s, &v))
		return "must be a size (e.g. 32k, 1m, 1514b)";
	if (v < BURST_MIN)
		return "must be at least one full frame (1514 bytes)";
	if (v > BURST_MAX)
		return "must be below 4g (4294967295 bytes at most)";
	return NULL;
}

/*
 * A number of a rate or burst written with a leading zero ("0100iops",
 * "40m/030"): the module's parser (kstrtoull) takes it as decimal, as the
 * 1.14 tables do; the host file refuses it, as its integers (parse_u64()).
 * "0" alone, and "0k" or "0iops", are 0.
 */
static bool leading_zero(const char *s)
{
	return s[0] == '0' && isdigit((unsigned char)s[1]);
}

const char *iob_rate_problem(const char *s)
{
	struct iob_rate r;
	size_t n = strspn(s, "0123456789");
	const char *u = s + n;

	if (leading_zero(s))
		return U64_LEADING_ZERO;
	if (!iob_rate_parse(s, &r))
		return NULL;
	if (!n || (*u && strcmp(u, "iops") && strcmp(u, "k") && strcmp(u, "m") && strcmp(u, "g")))
		return "must be a rate: <n>iops, or bytes/s as <n>, <n>k, <n>m or <n>g (e.g. 500iops, 20m)";
	/* The module's parser copies the digits into a buffer of 24 bytes. */
	if (n > 23)
		return "must have at most 23 digits";
	if (!strcmp(u, "iops"))
		return "must be at most 100000000iops";
	/* By value: "1023" is too small; past 2^64-1 (ERANGE), too large. */
	errno = 0;
	if (!*u && strtoull(s, NULL, 10) < IOB_RATE_BYTES_MIN && errno != ERANGE)
		return "must be at least 1k bytes/s (1024), or 0 for none";
	return "must be at most 1024g bytes/s (2^40)";
}

int limits_parse(const char *min, const char *max, const char *burst, struct iob_limits *l,
		 const char **key, char **why)
{
	const char *const vals[3] = { min, max, burst };
	static const char *const keys[3] = { "min", "max", "burst" };
	struct iob_rate *dst[3] = { &l->rsv, &l->lim, &l->burst };
	char rb[IOB_RATE_STR_MAX], lb[IOB_RATE_STR_MAX];
	const char *p, *slash = burst ? strchr(burst, '/') : NULL;
	int i, e;

	memset(l, 0, sizeof(*l));
	*why = NULL;
	for (i = 0; i < 2; i++) {
		*key = keys[i];
		if (vals[i] && (p = iob_rate_problem(vals[i]))) {
			*why = xasprintf("%s: %s", quote(vals[i]), p);
			return -EINVAL;
		}
		if (vals[i])
			iob_rate_parse(vals[i], dst[i]);
	}
	*key = "burst";
	if (burst && (leading_zero(burst) || (slash && leading_zero(slash + 1)) ||
		      iob_burst_parse(burst, &l->burst, &l->burst_secs))) {
		char *r = slash ? xstrndup(burst, (size_t)(slash - burst)) : NULL;
		uint64_t secs;

		if (!slash)
			p = "must be <rate>/<seconds> (e.g. 2000iops/10, 40m/30)";
		else if ((p = iob_rate_problem(r)))
			;
		else if (!strcmp(r, "0"))
			p = "the rate must not be 0 (leave burst out for none)";
		else if ((e = parse_u64_range(slash + 1, 1, IOB_BURST_SECS_MAX, &secs)))
			p = e == -EDOM ? U64_LEADING_ZERO : "the seconds must be 1..3600";
		free(r);
		*why = xasprintf("%s: %s", quote(burst), p ? p : "malformed");
		return -EINVAL;
	}
	if (!iob_limits_problem(l, key))
		return 0;
	iob_rate_format(&l->rsv, rb, sizeof(rb));
	iob_rate_format(&l->lim, lb, sizeof(lb));
	if (!strcmp(*key, "min"))
		*why = xasprintf("%s is above max %s", rb, lb);
	else if (!l->lim.rate)
		*why = xasprintf("needs max (a burst lets the group go above its limit)");
	else if (l->burst.iops != l->lim.iops)
		*why = xasprintf("%s is in %s, max %s in %s: give both in the same unit", quote(burst),
				 l->burst.iops ? "iops" : "bytes/s", lb, l->lim.iops ? "iops" : "bytes/s");
	else
		*why = xasprintf("%s: the rate must be above max %s", quote(burst), lb);
	return -EINVAL;
}

static int get_rate(struct pctx *c, node_t *n, const char *field, char **out)
{
	const char *why;

	if (get_str(c, n, field, out))
		return -EINVAL;
	why = rate_problem(*out);
	if (why) {
		perr(c, n, field, "%s: %s", quote(*out), why);
		return -EINVAL;
	}
	return 0;
}

static int get_size(struct pctx *c, node_t *n, const char *field, char **out)
{
	const char *why;

	if (get_str(c, n, field, out))
		return -EINVAL;
	why = size_problem(*out);
	if (why) {
		perr(c, n, field, "%s: %s", quote(*out), why);
		return -EINVAL;
	}
	return 0;
}

/* A sequence: call fn on each item with its field path "parent[i]". */
static int walk_seq(struct pctx *c, node_t *n, const char *field,
		    int (*fn)(struct pctx *, node_t *, const char *, void *), void *arg)
{
	yaml_node_item_t *it;
	size_t i = 0;

	if (n->type != YAML_SEQUENCE_NODE) {
		perr(c, n, field, "must be a list, not %s", node_kind(n));
		return -EINVAL;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		char *fp = xasprintf("%s[%zu]", field, i);
		int r = fn(c, yaml_document_get_node(c->doc, *it), fp, arg);

		free(fp);
		if (r)
			return r;
	}
	return 0;
}

/* One value, or a list of them: fn on each. */
static int walk_one_or_seq(struct pctx *c, node_t *n, const char *field,
			   int (*fn)(struct pctx *, node_t *, const char *, void *), void *arg)
{
	return n->type == YAML_SEQUENCE_NODE ? walk_seq(c, n, field, fn, arg) : fn(c, n, field, arg);
}

/* ---------------------------------------------------------------- entries */

/* One capacity rate: IOPS or bytes/s, each kind once. */
static int parse_capacity(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct cfg_devgroup *dg = arg;
	const char *s = scalar(n), *why;
	struct iob_rate r, *dst;

	if (!s || is_null(n)) {
		perr(c, n, field, "must be a rate (e.g. 20000iops, 400m) or a list of one in iops and one in bytes/s");
		return -EINVAL;
	}
	if ((why = iob_rate_problem(s))) {
		perr(c, n, field, "%s: %s", quote(s), why);
		return -EINVAL;
	}
	iob_rate_parse(s, &r);
	if (!r.rate) {
		perr(c, n, field, "%s: must not be 0 (leave capacity out when unknown)", quote(s));
		return -EINVAL;
	}
	dst = r.iops ? &dg->cap_iops : &dg->cap_bytes;
	if (dst->rate) {
		perr(c, n, field, "%s: a capacity in %s is given already", quote(s),
		     r.iops ? "iops" : "bytes/s");
		return -EINVAL;
	}
	*dst = r;
	return 0;
}

/*
 * min (if WITH_MIN), max and burst of the entry FIELD, whose keys are F,
 * into L, as limits_parse() checks them.
 */
static int parse_limits(struct pctx *c, struct field *f, const char *field, bool with_min,
			struct iob_limits *l)
{
	static const char *const keys[] = { "min", "max", "burst" };
	const char *lv[3] = { NULL, NULL, NULL }, *bad;
	char *fp, *why;
	node_t *v;
	int i;

	for (i = with_min ? 0 : 1; i < 3; i++) {
		if ((v = fval(f, keys[i])) && !(lv[i] = scalar(v))) {
			fp = fpath(field, keys[i]);
			perr(c, v, fp, "must be a rate (e.g. 500iops, 20m%s), not %s",
			     i == 2 ? ", with /<seconds>" : "", node_kind(v));
			free(fp);
			return -EINVAL;
		}
	}
	if (!limits_parse(lv[0], lv[1], lv[2], l, &bad, &why))
		return 0;
	fp = fpath(field, bad);
	perr(c, fval(f, bad), fp, "%s", why);
	free(fp);
	free(why);
	return -EINVAL;
}

static int parse_dg(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct host_cfg *cfg = arg;
	struct field f[] = {
		{ .key = "id" }, { .key = "policy" }, { .key = "io-throttle" }, { .key = "io-limit" }, { .key = "token-base" },
		{ .key = "capacity" }, { .key = "min" }, { .key = "max" }, { .key = "burst" }, { .key = NULL },
	};
	struct cfg_devgroup *dg;
	node_t *v;
	uint64_t x;
	char *fp = NULL;
	int r = -EINVAL;

	if (walk_map(c, n, field, f) || need(c, n, f, field, "id"))
		return -EINVAL;
	dg = vec_push(&cfg->dgs, &cfg->n_dgs, sizeof(*dg));
	pos_set(&dg->pos, n, field, f);
	fp = fpath(field, "id");
	if (get_name(c, fval(f, "id"), fp, IOB_NAME_MAX, &dg->id))
		goto out;
	free(fp);
	fp = fpath(field, "policy");
	if ((v = fval(f, "policy"))) {
		if (!scalar(v) || iob_parse_policy(scalar(v), &dg->policy)) {
			perr(c, v, fp, "must be weight, weight-iosize or default");
			goto out;
		}
		/* the module has it; the host file has no min/max keys yet */
		if (dg->policy == IOB_RANGE_BW) {
			perr(c, v, fp, "range-bw is not supported (weight, weight-iosize)");
			goto out;
		}
	}
	free(fp);
	fp = fpath(field, "io-throttle");
	if ((v = fval(f, "io-throttle"))) {
		if (get_uint(c, v, fp, 0, IOB_THROTTLE_MAX, &x))
			goto out;
		dg->io_throttle = x;
	}
	free(fp);
	fp = fpath(field, "io-limit");
	if ((v = fval(f, "io-limit"))) {
		if (get_uint(c, v, fp, 0, IOB_THROTTLE_MAX, &x))
			goto out;
		dg->io_limit = x;
	}
	if (dg->io_throttle && dg->io_limit && dg->io_throttle > dg->io_limit) {
		free(fp);
		fp = fpath(field, "io-throttle");
		perr(c, fval(f, "io-throttle"), fp, "must not exceed io-limit (%u)", dg->io_limit);
		goto out;
	}
	free(fp);
	fp = fpath(field, "token-base");
	if ((v = fval(f, "token-base")) && get_uint(c, v, fp, 0, IOB_TOKEN_MAX, &dg->token_base))
		goto out;
	free(fp);
	fp = fpath(field, "capacity");
	if ((v = fval(f, "capacity"))) {
		if (walk_one_or_seq(c, v, fp, parse_capacity, dg))
			goto out;
	}
	free(fp);
	fp = fpath(field, "min");
	if ((v = fval(f, "min"))) {
		perr(c, v, fp, "a device group has no reservation (give min to its disks); max and burst cap the device group");
		goto out;
	}
	if (parse_limits(c, f, field, false, &dg->lim))
		goto out;
	r = 0;
out:
	free(fp);
	return r;
}

static int parse_type(struct pctx *c, node_t *v, const char *fp, enum iob_type *t)
{
	const char *s = scalar(v);

	if (!s || iob_parse_type(s, t)) {
		if (s && (!strcmp(s, "node") || !strcmp(s, "cpuset")))
			perr(c, v, fp, "%s is not supported (use cgroup)", s);
		else
			perr(c, v, fp, "must be none, uid, user, gid, pid, pgrp or cgroup");
		return -EINVAL;
	}
	return 0;
}

static int parse_device(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct host_cfg *cfg = arg;
	struct field f[] = {
		{ .key = "name" }, { .key = "device" }, { .key = "device-group" }, { .key = "type" }, { .key = "weight" }, { .key = NULL },
	};
	struct cfg_device *d;
	node_t *v;
	uint64_t x;
	char *fp = NULL;
	int r = -EINVAL;

	if (walk_map(c, n, field, f) || need(c, n, f, field, "name") ||
	    need(c, n, f, field, "device"))
		return -EINVAL;
	d = vec_push(&cfg->devs, &cfg->n_devs, sizeof(*d));
	pos_set(&d->pos, n, field, f);
	d->type = IOB_CGROUP;
	d->weight = IOB_WEIGHT_DEFAULT;
	fp = fpath(field, "name");
	if (get_name(c, fval(f, "name"), fp, 64, &d->name))
		goto out;
	free(fp);
	fp = fpath(field, "device");
	if (get_devpath(c, fval(f, "device"), fp, &d->device))
		goto out;
	free(fp);
	fp = fpath(field, "device-group");
	if ((v = fval(f, "device-group"))) {
		if (get_name(c, v, fp, IOB_NAME_MAX, &d->devgroup))
			goto out;
	} else if (strlen(d->name) > IOB_NAME_MAX) {
		perr(c, n, fp, "required: the name is longer than %d characters", IOB_NAME_MAX);
		goto out;
	} else {
		d->devgroup = xstrdup(d->name);
	}
	free(fp);
	fp = fpath(field, "type");
	if ((v = fval(f, "type")) && parse_type(c, v, fp, &d->type))
		goto out;
	free(fp);
	fp = fpath(field, "weight");
	if ((v = fval(f, "weight"))) {
		if (get_uint(c, v, fp, IOB_WEIGHT_MIN, IOB_WEIGHT_MAX, &x))
			goto out;
		d->weight = x;
	}
	r = 0;
out:
	free(fp);
	return r;
}

static int parse_disk(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct cfg_guest *g = arg;
	struct field f[] = {
		{ .key = "name" }, { .key = "device" }, { .key = "device-group" }, { .key = "ioband" }, { .key = "group" },
		{ .key = "weight" }, { .key = "min" }, { .key = "max" }, { .key = "burst" }, { .key = NULL },
	};
	struct cfg_disk *k;
	node_t *v;
	uint64_t x;
	char *fp = NULL;
	int r = -EINVAL;

	if (walk_map(c, n, field, f))
		return -EINVAL;
	k = vec_push(&g->disks, &g->n_disks, sizeof(*k));
	pos_set(&k->pos, n, field, f);
	k->weight = IOB_WEIGHT_DEFAULT;
	if (fval(f, "device") && fval(f, "ioband")) {
		fp = fpath(field, "ioband");
		perr(c, fval(f, "ioband"), fp, "give either device (a device of its own) or ioband (a group on a shared device), not both");
		goto out;
	}
	if (!fval(f, "device") && !fval(f, "ioband")) {
		perr(c, n, field, "one of device or ioband is required");
		goto out;
	}
	fp = fpath(field, "name");
	if ((v = fval(f, "name"))) {
		if (get_name(c, v, fp, 64, &k->name))
			goto out;
	} else if (fval(f, "device")) {
		perr(c, n, fp, "required with device");
		goto out;
	}
	free(fp);
	fp = fpath(field, "weight");
	if ((v = fval(f, "weight"))) {
		if (get_uint(c, v, fp, IOB_WEIGHT_MIN, IOB_WEIGHT_MAX, &x))
			goto out;
		k->weight = x;
	}
	if (parse_limits(c, f, field, true, &k->lim))
		goto out;
	free(fp);
	fp = NULL;
	if (fval(f, "device")) {
		fp = fpath(field, "group");
		if (fval(f, "group")) {
			perr(c, fval(f, "group"), fp, "only for a disk on a shared device (ioband)");
			goto out;
		}
		free(fp);
		fp = fpath(field, "device");
		if (get_devpath(c, fval(f, "device"), fp, &k->device))
			goto out;
		free(fp);
		fp = fpath(field, "device-group");
		if ((v = fval(f, "device-group"))) {
			if (get_name(c, v, fp, IOB_NAME_MAX, &k->devgroup))
				goto out;
		} else {
			k->devgroup = xasprintf("%s-%s", g->name, k->name);
			if (strlen(k->devgroup) > IOB_NAME_MAX) {
				perr(c, n, fp, "required: %s is longer than %d characters",
				     quote(k->devgroup), IOB_NAME_MAX);
				goto out;
			}
		}
	} else {
		fp = fpath(field, "device-group");
		if (fval(f, "device-group")) {
			perr(c, fval(f, "device-group"), fp, "set the device group on the shared device");
			goto out;
		}
		free(fp);
		fp = fpath(field, "ioband");
		if (get_name(c, fval(f, "ioband"), fp, 64, &k->ioband))
			goto out;
		free(fp);
		fp = fpath(field, "group");
		if ((v = fval(f, "group"))) {
			/* Range-checked against the device's type in validate(). */
			if (get_uint(c, v, fp, 0, (uint64_t)INT64_MAX, &k->group))
				goto out;
			k->has_group = true;
		}
	}
	r = 0;
out:
	free(fp);
	return r;
}

bool valid_mac(const char *s)
{
	int i;

	for (i = 0; i < 6; i++, s += 3) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return false;
		if (s[2] != (i == 5 ? '\0' : ':'))
			return false;
	}
	return true;
}

const char *mac_problem(const char *s)
{
	if (!valid_mac(s))
		return "must be a MAC address like 52:54:00:12:34:56";
	if (strtoul(s, NULL, 16) & 1)
		return "is a multicast address: not one of a guest's interface";
	if (!strcmp(s, "00:00:00:00:00:00"))
		return "is all zeros: not one of a guest's interface";
	return NULL;
}

/* "ADDR[/LEN]" as ioband-tc takes it (Python's ip_network, strict). */
struct ip_net {
	int fam;
	unsigned char a[sizeof(struct in6_addr)];
	unsigned int len;
};

/* S into N; the result as ip_check()'s. */
static int ip_net_parse(const char *s, struct ip_net *n)
{
	const char *slash = strchr(s, '/');
	char *a = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	unsigned int bits, i;
	uint64_t len;
	int r = 0;

	n->fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	bits = n->fam == AF_INET ? 32 : 128;
	len = bits;
	if (inet_pton(n->fam, a, n->a) != 1 || (slash && parse_u64_range(slash + 1, 0, bits, &len)))
		r = -EINVAL;
	free(a);
	if (r)
		return r;
	n->len = (unsigned int)len;
	for (i = n->len; i < bits; i++)
		if (n->a[i / 8] & (0x80 >> (i % 8)))
			return -ERANGE;
	return 0;
}

char *ip_problem(const char *s)
{
	char net[INET6_ADDRSTRLEN];
	struct ip_net n;
	unsigned int i;
	int r = ip_net_parse(s, &n);

	if (r == -EINVAL)
		return xstrdup("must be an IPv4 or IPv6 address[/LEN]");
	if (!r)
		return NULL;
	for (i = n.len; i < (n.fam == AF_INET ? 32U : 128U); i++)
		n.a[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	inet_ntop(n.fam, n.a, net, sizeof(net));
	return xasprintf("has host bits set after /%u: give the network (%s/%u) or the address alone (%.*s)",
			 n.len, net, n.len, (int)strcspn(s, "/"), s);
}

/* Whether the valid addresses A and B match packets in common. */
static bool ip_overlap(const char *a, const char *b)
{
	struct ip_net x, y;
	unsigned int i, len;

	if (ip_net_parse(a, &x) || ip_net_parse(b, &y) || x.fam != y.fam)
		return false;
	len = x.len < y.len ? x.len : y.len;
	for (i = 0; i < len; i++)
		if ((x.a[i / 8] ^ y.a[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

int ip_check(const char *s)
{
	struct ip_net n;

	return ip_net_parse(s, &n);
}

bool valid_ip(const char *s)
{
	return !ip_check(s);
}

static int parse_ip(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct cfg_iface *i = arg;
	char *s, *why;

	if (get_str(c, n, field, &s))
		return -EINVAL;
	if ((why = ip_problem(s))) {
		perr(c, n, field, "%s: %s", quote(s), why);
		free(why);
		free(s);
		return -EINVAL;
	}
	strv_add(&i->ips, s);
	free(s);
	return 0;
}

static int parse_iface(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct cfg_guest *g = arg;
	struct field f[] = {
		{ .key = "name" }, { .key = "mac" }, { .key = "ip" }, { .key = "weight" }, { .key = "cap" }, { .key = "down-cap" },
		{ .key = "up-cap" }, { .key = "in-cap" }, { .key = "floor" }, { .key = "burst" }, { .key = NULL },
	};
	static const char *const rates[] = { "cap", "down-cap", "up-cap", "in-cap", "floor" };
	struct cfg_iface *i;
	node_t *v;
	uint64_t x;
	char *fp = NULL, **dst[5];
	size_t k;
	int r = -EINVAL;

	if (walk_map(c, n, field, f) || need(c, n, f, field, "name"))
		return -EINVAL;
	i = vec_push(&g->ifaces, &g->n_ifaces, sizeof(*i));
	pos_set(&i->pos, n, field, f);
	i->weight = 1;
	fp = fpath(field, "name");
	if (get_ifname(c, fval(f, "name"), fp, &i->name))
		goto out;
	free(fp);
	fp = fpath(field, "mac");
	if ((v = fval(f, "mac"))) {
		if (get_str(c, v, fp, &i->mac))
			goto out;
		if (mac_problem(i->mac)) {
			perr(c, v, fp, "%s: %s", quote(i->mac), mac_problem(i->mac));
			goto out;
		}
	}
	free(fp);
	fp = fpath(field, "ip");
	if ((v = fval(f, "ip"))) {
		if (walk_one_or_seq(c, v, fp, parse_ip, i))
			goto out;
	}
	if (!i->mac && !i->ips.n) {
		perr(c, n, field, "mac or ip is required (to classify the guest's traffic on the uplink)");
		goto out;
	}
	free(fp);
	fp = fpath(field, "weight");
	if ((v = fval(f, "weight"))) {
		if (get_uint(c, v, fp, 1, IOB_NET_WEIGHT_MAX, &x))
			goto out;
		i->weight = x;
	}
	if (fval(f, "up-cap") && fval(f, "in-cap")) {
		free(fp);
		fp = fpath(field, "in-cap");
		perr(c, fval(f, "in-cap"), fp, "same as up-cap: give only one");
		goto out;
	}
	dst[0] = &i->cap;
	dst[1] = &i->down_cap;
	dst[2] = &i->up_cap;
	dst[3] = &i->up_cap;
	dst[4] = &i->floor;
	for (k = 0; k < ARRAY_SIZE(rates); k++) {
		free(fp);
		fp = fpath(field, rates[k]);
		if ((v = fval(f, rates[k])) && get_rate(c, v, fp, dst[k]))
			goto out;
	}
	free(fp);
	fp = fpath(field, "burst");
	if ((v = fval(f, "burst")) && get_size(c, v, fp, &i->burst))
		goto out;
	r = 0;
out:
	free(fp);
	return r;
}

static int parse_guest(struct pctx *c, node_t *n, const char *field, void *arg)
{
	struct host_cfg *cfg = arg;
	struct field f[] = {
		{ .key = "name" }, { .key = "cgroup" }, { .key = "create-cgroup" }, { .key = "disks" }, { .key = "interfaces" }, { .key = NULL },
	};
	struct cfg_guest *g;
	node_t *v;
	char *fp = NULL;
	int r = -EINVAL;

	if (walk_map(c, n, field, f) || need(c, n, f, field, "name"))
		return -EINVAL;
	g = vec_push(&cfg->guests, &cfg->n_guests, sizeof(*g));
	pos_set(&g->pos, n, field, f);
	fp = fpath(field, "name");
	if (get_name(c, fval(f, "name"), fp, 64, &g->name))
		goto out;
	free(fp);
	fp = fpath(field, "cgroup");
	if ((v = fval(f, "cgroup"))) {
		const char *why;
		char *mw;

		if (get_str(c, v, fp, &g->cgroup))
			goto out;
		if ((why = cgroup_path_problem(g->cgroup))) {
			perr(c, v, fp, "%s: %s", quote(g->cgroup), why);
			goto out;
		}
		cgroup_path_normalize(g->cgroup);
		if ((mw = cgroup_path_unmount(g->cgroup, cgroup_root()))) {
			perr(c, v, fp, "%s: %s", quote(scalar(v)), mw);
			free(mw);
			goto out;
		}
	}
	free(fp);
	fp = fpath(field, "create-cgroup");
	if ((v = fval(f, "create-cgroup"))) {
		if (get_bool(c, v, fp, &g->create_cgroup))
			goto out;
		if (g->create_cgroup && !g->cgroup) {
			perr(c, v, fp, "needs cgroup");
			goto out;
		}
	}
	free(fp);
	fp = fpath(field, "disks");
	if ((v = fval(f, "disks")) && walk_seq(c, v, fp, parse_disk, g))
		goto out;
	free(fp);
	fp = fpath(field, "interfaces");
	if ((v = fval(f, "interfaces")) && walk_seq(c, v, fp, parse_iface, g))
		goto out;
	r = 0;
out:
	free(fp);
	return r;
}

static int parse_network(struct pctx *c, node_t *n, struct cfg_network *net)
{
	struct field f[] = { { .key = "uplink" }, { .key = "rate" }, { .key = "down-rate" }, { .key = "burst" },
			     { .key = "host-weight" }, { .key = NULL } };
	node_t *v;
	uint64_t x;

	if (walk_map(c, n, "network", f) || need(c, n, f, "network", "uplink") ||
	    need(c, n, f, "network", "rate"))
		return -EINVAL;
	net->present = true;
	pos_set(&net->pos, n, "network", f);
	if (get_ifname(c, fval(f, "uplink"), "network.uplink", &net->uplink) ||
	    get_rate(c, fval(f, "rate"), "network.rate", &net->rate))
		return -EINVAL;
	if ((v = fval(f, "down-rate")) && get_rate(c, v, "network.down-rate", &net->down_rate))
		return -EINVAL;
	if ((v = fval(f, "burst")) && get_size(c, v, "network.burst", &net->burst))
		return -EINVAL;
	if ((v = fval(f, "host-weight"))) {
		if (get_uint(c, v, "network.host-weight", 1, IOB_NET_WEIGHT_MAX, &x))
			return -EINVAL;
		net->host_weight = x;
	}
	return 0;
}

/* ------------------------------------------------------------- validation */

const struct cfg_devgroup *config_devgroup(const struct host_cfg *cfg, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->n_dgs; i++)
		if (!strcmp(cfg->dgs[i].id, id))
			return &cfg->dgs[i];
	return NULL;
}

const struct cfg_device *config_device(const struct host_cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_devs; i++)
		if (!strcmp(cfg->devs[i].name, name))
			return &cfg->devs[i];
	return NULL;
}

char *config_dev_dmname(const struct cfg_device *d)
{
	return xasprintf(IOB_DM_PREFIX "%s", d->name);
}

char *config_disk_dmname(const struct cfg_guest *g, const struct cfg_disk *k)
{
	return xasprintf(IOB_DM_PREFIX "%s-%s", g->name, k->name);
}

/* The device group of disk K: its own device's, or its shared device's. */
static const char *disk_devgroup(const struct host_cfg *cfg, const struct cfg_disk *k)
{
	const struct cfg_device *d;

	if (k->device)
		return k->devgroup;
	d = config_device(cfg, k->ioband);
	return d ? d->devgroup : NULL;
}

void config_dg_reserved(const struct host_cfg *cfg, const char *id, uint64_t *iops,
			uint64_t *bytes)
{
	size_t i, j;

	*iops = *bytes = 0;
	for (i = 0; i < cfg->n_guests; i++)
		for (j = 0; j < cfg->guests[i].n_disks; j++) {
			const struct cfg_disk *k = &cfg->guests[i].disks[j];
			const char *dg = disk_devgroup(cfg, k);

			if (dg && !strcmp(dg, id))
				*(k->lim.rsv.iops ? iops : bytes) += k->lim.rsv.rate;
		}
}

/* "line N" of KEY at P in the host file, "FILE:N" in another (malloc'ed). */
static char *pos_where(const struct cfg_pos *p, const char *key)
{
	return p->file ? xasprintf("%s:%d", p->file, cfg_line(p, key)) :
			 xasprintf("line %d", cfg_line(p, key));
}

void cfg_pos_err(char **err, const struct cfg_pos *pos, const char *file, const char *sub,
		 const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	if (*err)
		return;
	sb_addf(&sb, "%s:%d: %s%s%s: ", pos->file ? pos->file : file, cfg_line(pos, sub),
		pos->field, *sub ? "." : "", sub);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	*err = sb_steal(&sb);
}

#define pos_err(c, p, sub, ...) cfg_pos_err(&(c)->err, p, (c)->file, sub, __VA_ARGS__)

/* ------------------------------------------------- bursts that tc can hold */

/*
 * ioband-tc's apply refuses an explicit burst (network.burst, an interface's
 * burst) that tc cannot hold at the rate of a class it goes to: tc hands
 * HTB a burst as its time at the class's rate, in 64 ns ticks in a u32
 * (tc_calc_xmittime: whole microseconds at rate/8 bytes/s, then 15.625
 * ticks each), which past 2^32 ticks, 274.877906944 s, wraps unnoticed.
 * The class rates come from weighted water-filling of network.rate (and
 * network.down-rate): the same computation as ioband-tc's compute_plan(),
 * so that check refuses what apply would (tc-helpers/ioband-tc: burst_max,
 * waterfill, check_bursts).  tests/ctl/008 compares the two on random
 * network sections (`ioband-tc check`).
 */

/* A rate in bit/s, a size in bytes, rounded as ioband-tc's awk (%.0f). */
static uint64_t tc_bits(const char *s)
{
	double v = 0;

	rate_bits(s, &v);
	return (uint64_t)nearbyint(v);
}

static uint64_t tc_bytes(const char *s)
{
	double v = 0;

	size_bytes(s, &v);
	return (uint64_t)nearbyint(v);
}

/* The largest burst in bytes that tc can hold at RATE bit/s. */
static uint64_t tc_burst_max(uint64_t rate)
{
	uint64_t r = rate / 8;		/* tc's bytes/s */

	return r >= 15625000 ? 4294967295ULL : (274877907ULL * r - 1) / 1000000;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

struct wf {
	double w, floor;	/* floor < 0: none */
	double ceil, rate;
	bool fixed;
};

/* ioband-tc's waterfill: floors first, then TOTAL by weight within ceilings. */
static void waterfill(double total, struct wf *e, size_t n)
{
	double p = total, w;
	bool changed;
	size_t i;

	for (i = 0; i < n; i++)
		if ((e[i].fixed = e[i].floor >= 0)) {
			e[i].rate = e[i].floor;
			p -= e[i].floor;
		}
	do {
		w = 0;
		changed = false;
		for (i = 0; i < n; i++)
			if (!e[i].fixed)
				w += e[i].w;
		for (i = 0; i < n; i++)
			if (!e[i].fixed && p * e[i].w / w >= e[i].ceil) {
				e[i].rate = e[i].ceil;
				e[i].fixed = true;
				p -= e[i].ceil;
				changed = true;
			}
	} while (changed && w > 0);
	for (i = 0; i < n; i++) {
		if (!e[i].fixed)
			e[i].rate = p * e[i].w / w;
		e[i].rate = e[i].rate < 8 ? 8 : trunc(e[i].rate);
	}
}

/* The lowest rate an explicit burst goes with, and what it is. */
struct low_rate {
	uint64_t rate;
	char *what;
};

static void low_rate(struct low_rate *lo, uint64_t rate, char *what)
{
	if (!lo->what || rate < lo->rate) {
		free(lo->what);
		lo->rate = rate;
		lo->what = what;
	} else {
		free(what);
	}
}

/* The burst S at P must fit LO; else the error (WHO: the interface, or NULL). */
static int burst_fits(struct pctx *c, const struct cfg_pos *p, const char *who, const char *s,
		      const struct low_rate *lo)
{
	uint64_t b = tc_bytes(s), max = tc_burst_max(lo->rate);

	if (b <= max)
		return 0;
	pos_err(c, p, "burst", "%s (%llu bytes) is more than tc can hold %s%s%s%s: at most %llu bytes at that rate (tc keeps a burst as its time at the class's rate, at most 274.9 s)%s",
		quote(s), (unsigned long long)b, who ? "for " : "at the lowest rate it goes with, ",
		who ? who : "", who ? " at " : "", lo->what, (unsigned long long)max,
		max < BURST_MIN ? "; less than one full frame: leave the burst out (the default fits the rate)" : "");
	return -EINVAL;
}

struct iface_rates {
	const struct cfg_iface *f;
	uint64_t down, up;	/* its ceilings, within network.rate */
	bool has_up;		/* an upload cap: a class on its ingress IFB */
};

/*
 * Into LO: the rates of the classes of interface X (UP, DN: its shares of
 * network.rate and network.down-rate); WHOSE: "its" or "vnet0's".
 */
static void iface_low(struct low_rate *lo, const struct host_cfg *cfg, const struct iface_rates *x,
		      const struct wf *up, const struct wf *dn, const char *whose)
{
	low_rate(lo, (uint64_t)up->rate, xasprintf("%s guaranteed rate %.0f bit/s on %s", whose,
						    up->rate, cfg->net.uplink));
	low_rate(lo, x->down, xasprintf("%s download ceiling %llu bit/s", whose,
					(unsigned long long)x->down));
	if (x->has_up)
		low_rate(lo, x->up, xasprintf("%s upload cap %llu bit/s", whose,
					      (unsigned long long)x->up));
	if (cfg->net.down_rate)
		low_rate(lo, (uint64_t)dn->rate, xasprintf("%s download guarantee %.0f bit/s (network.down-rate)",
							   whose, dn->rate));
}

/* The explicit bursts of CFG's network against the rates of their classes. */
static int check_net_bursts(struct pctx *c, const struct host_cfg *cfg)
{
	const struct cfg_network *net = &cfg->net;
	uint64_t rate = tc_bits(net->rate), down_rate = net->down_rate ? tc_bits(net->down_rate) : 0;
	double hw = net->host_weight ? net->host_weight : 1;
	struct iface_rates *ir = NULL;
	struct wf *up, *dn;
	struct low_rate lo = { 0 };
	size_t n = 0, i, j;
	int r = 0;

	for (i = 0; i < cfg->n_guests; i++)
		for (j = 0; j < cfg->guests[i].n_ifaces; j++) {
			const struct cfg_iface *f = &cfg->guests[i].ifaces[j];
			const char *d = f->down_cap ? f->down_cap : f->cap;
			const char *u = f->up_cap ? f->up_cap : f->cap;
			struct iface_rates *x = vec_push(&ir, &n, sizeof(*ir));

			x->f = f;
			x->down = min_u64(d ? tc_bits(d) : rate, rate);
			x->up = min_u64(u ? tc_bits(u) : rate, rate);
			x->has_up = u;
		}
	/* The interfaces' classes in the order of ioband-tc's --guest, then the host's. */
	up = xcalloc(n + 1, sizeof(*up));
	dn = xcalloc(n + 1, sizeof(*dn));
	for (i = 0; i < n; i++) {
		up[i] = (struct wf){ .w = ir[i].f->weight, .ceil = (double)ir[i].up,
				     .floor = ir[i].f->floor ? (double)tc_bits(ir[i].f->floor) : -1 };
		dn[i] = (struct wf){ .w = ir[i].f->weight, .floor = -1,
				     .ceil = (double)min_u64(ir[i].down, down_rate) };
	}
	up[n] = (struct wf){ .w = hw, .floor = -1, .ceil = (double)rate };
	dn[n] = (struct wf){ .w = hw, .floor = -1, .ceil = (double)down_rate };
	waterfill((double)rate, up, n + 1);
	if (down_rate)
		waterfill((double)down_rate, dn, n + 1);
	/* As ioband-tc checks them: network.burst, then each interface's. */
	if (net->burst) {
		for (i = 0; i < n; i++) {
			char *whose = xasprintf("%s's", ir[i].f->name);

			if (!ir[i].f->burst)	/* network.burst goes to its classes */
				iface_low(&lo, cfg, &ir[i], &up[i], &dn[i], whose);
			free(whose);
		}
		low_rate(&lo, (uint64_t)up[n].rate,
			 xasprintf("the host traffic's guaranteed rate %.0f bit/s (host-weight)", up[n].rate));
		low_rate(&lo, rate, xasprintf("network.rate %llu bit/s", (unsigned long long)rate));
		if (down_rate) {
			low_rate(&lo, (uint64_t)dn[n].rate,
				 xasprintf("the host traffic's download guarantee %.0f bit/s (host-weight)",
					   dn[n].rate));
			low_rate(&lo, down_rate, xasprintf("network.down-rate %llu bit/s",
							   (unsigned long long)down_rate));
		}
		r = burst_fits(c, &net->pos, NULL, net->burst, &lo);
	}
	for (i = 0; i < n && !r; i++) {
		struct low_rate il = { 0 };

		if (!ir[i].f->burst)
			continue;
		iface_low(&il, cfg, &ir[i], &up[i], &dn[i], "its");
		r = burst_fits(c, &ir[i].f->pos, ir[i].f->name, ir[i].f->burst, &il);
		free(il.what);
	}
	free(lo.what);
	free(ir);
	free(up);
	free(dn);
	return r;
}

/* Cross-entry rules; errors point at the later of two clashing entries. */
static int validate(struct pctx *c, struct host_cfg *cfg)
{
	struct dmn {
		char *name;
		const struct cfg_pos *pos;
	} *names = NULL;
	struct use {
		const char *path;
		const struct cfg_pos *pos;
	} *uses = NULL;
	size_t n_names = 0, n_uses = 0, i, j, k, l;
	double floors = 0, net_rate = 0;
	char *fp = NULL;
	int r = -EINVAL;

#define POSERR(p, sub, ...) do {                                              \
		pos_err(c, p, sub, __VA_ARGS__);                                      \
		goto out;                                                             \
	} while (0)

	for (i = 0; i < cfg->n_dgs; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->dgs[i].id, cfg->dgs[j].id))
				POSERR(&cfg->dgs[i].pos, "id", "duplicate device group %s (first at line %d)",
				       quote(cfg->dgs[i].id), cfg->dgs[j].pos.line);
	for (i = 0; i < cfg->n_devs; i++) {
		struct cfg_device *d = &cfg->devs[i];
		struct dmn *m;
		struct use *u;

		for (j = 0; j < i; j++)
			if (!strcmp(d->name, cfg->devs[j].name))
				POSERR(&d->pos, "name", "duplicate device %s (first at line %d)",
				       quote(d->name), cfg->devs[j].pos.line);
		for (j = 0; j < n_uses; j++)
			if (!strcmp(uses[j].path, d->device))
				POSERR(&d->pos, "device", "%s is already used by %s (line %d)",
				       quote_if_needed(d->device), uses[j].pos->field, cfg_line(uses[j].pos, "device"));
		u = vec_push(&uses, &n_uses, sizeof(*u));
		u->path = d->device;
		u->pos = &d->pos;
		m = vec_push(&names, &n_names, sizeof(*m));
		m->name = config_dev_dmname(d);
		m->pos = &d->pos;
		if (strlen(m->name) > dm_name_max(IOB_UUID_APPLY))
			POSERR(&d->pos, "name", "too long for the device name %s (%zu characters; %zu at most, for its dm uuid " IOB_UUID_APPLY "<device name>)",
			       m->name, strlen(m->name), dm_name_max(IOB_UUID_APPLY));
	}
	for (i = 0; i < cfg->n_guests; i++) {
		struct cfg_guest *g = &cfg->guests[i];

		for (j = 0; j < i; j++)
			if (!strcmp(g->name, cfg->guests[j].name))
				POSERR(&g->pos, "name", "duplicate guest %s (first at %s:%d)",
				       quote(g->name), cfg->guests[j].pos.file ? cfg->guests[j].pos.file : c->file,
				       cfg->guests[j].pos.line);
		for (k = 0; k < g->n_disks; k++) {
			struct cfg_disk *dk = &g->disks[k];

			for (l = 0; l < k; l++)
				if (dk->name && g->disks[l].name && !strcmp(dk->name, g->disks[l].name))
					POSERR(&dk->pos, "name", "duplicate disk %s in guest %s (first at line %d)",
					       quote(dk->name), g->name, g->disks[l].pos.line);
			if (dk->device) {
				struct dmn *m;
				struct use *u;
				char *dn = config_disk_dmname(g, dk);
				size_t dl = strlen(dn);

				if (dl > dm_name_max(IOB_UUID_APPLY)) {
					free(dn);
					POSERR(&dk->pos, "name", "guest name and disk name are too long for the device name " IOB_DM_PREFIX "%s-%s (%zu characters; %zu at most, for its dm uuid " IOB_UUID_APPLY "<device name>)",
					       g->name, dk->name, dl, dm_name_max(IOB_UUID_APPLY));
				}
				for (j = 0; j < n_names; j++)
					if (!strcmp(names[j].name, dn)) {
						free(dn);
						POSERR(&dk->pos, "name", "device name %s%s-%s clashes with %s (line %d)",
						       IOB_DM_PREFIX, g->name, dk->name,
						       names[j].pos->field, names[j].pos->line);
					}
				for (j = 0; j < n_uses; j++)
					if (!strcmp(uses[j].path, dk->device)) {
						free(dn);
						POSERR(&dk->pos, "device", "%s is already used by %s (line %d)",
						       quote_if_needed(dk->device), uses[j].pos->field, cfg_line(uses[j].pos, "device"));
					}
				m = vec_push(&names, &n_names, sizeof(*m));
				m->name = dn;
				m->pos = &dk->pos;
				u = vec_push(&uses, &n_uses, sizeof(*u));
				u->path = dk->device;
				u->pos = &dk->pos;
			} else {
				const struct cfg_device *d = config_device(cfg, dk->ioband);

				if (!d)
					POSERR(&dk->pos, "ioband", "no device %s in devices", quote(dk->ioband));
				if (d->type == IOB_NONE)
					POSERR(&dk->pos, "ioband", "device %s has type none: it cannot hold groups",
					       d->name);
				if (dk->has_group && iob_check_group_id(d->type, dk->group))
					POSERR(&dk->pos, "group", "must be %s for type %s (device %s)",
					       iob_group_id_range(d->type), iob_type_name(d->type), d->name);
				if (!dk->has_group && d->type != IOB_CGROUP)
					POSERR(&dk->pos, "group", "required: device %s has type %s",
					       d->name, iob_type_name(d->type));
				if (!dk->has_group && !g->cgroup)
					POSERR(&g->pos, "cgroup", "required: %s is a group on cgroup device %s",
					       dk->pos.field, d->name);
				/* Two groups with the same id on one device. */
				for (j = 0; j <= i; j++) {
					struct cfg_guest *h = &cfg->guests[j];

					for (l = 0; l < (j == i ? k : h->n_disks); l++) {
						struct cfg_disk *o = &h->disks[l];
						bool same;

						if (!o->ioband || strcmp(o->ioband, dk->ioband))
							continue;
						if (o->has_group && dk->has_group)
							same = o->group == dk->group;
						else if (!o->has_group && !dk->has_group)
							same = !strcmp(h->cgroup, g->cgroup);
						else
							continue;	/* checked once ids are known */
						if (same && dk->has_group)
							POSERR(&dk->pos, "group", "group %llu of device %s is already given to %s (line %d)",
							       (unsigned long long)dk->group, d->name, o->pos.field,
							       cfg_line(&o->pos, "group"));
						if (same)
							POSERR(&dk->pos, "ioband", "cgroup %s already has a group on device %s (%s, line %d)",
							       quote_if_needed(g->cgroup), d->name, o->pos.field, cfg_line(&o->pos, "ioband"));
					}
				}
			}
		}
		for (k = 0; k < g->n_ifaces; k++) {
			struct cfg_iface *f = &g->ifaces[k];

			if (!cfg->net.present)
				POSERR(&f->pos, "", "needs a network section (uplink and rate)%s%s",
				       f->pos.file ? " in the host file " : "",
				       f->pos.file ? cfg->file : "");
			if (!strcmp(f->name, cfg->net.uplink))
				POSERR(&f->pos, "name", "is the uplink");
			/* ioband-tc refuses these: they name its own IFB devices. */
			if (!strncmp(f->name, "iobifb", 6))
				POSERR(&f->pos, "name", "%s: names beginning iobifb are ioband-tc's own IFB devices",
				       f->name);
			/* What ioband-tc refuses: a floor above the upload ceiling or the rate. */
			if (f->floor) {
				const char *up = f->up_cap ? f->up_cap : f->cap;
				double fl, ceil;

				rate_bits(f->floor, &fl);
				rate_bits(cfg->net.rate, &net_rate);
				if (up && !rate_bits(up, &ceil) && fl > ceil)
					POSERR(&f->pos, "floor", "%s is above the interface's %s %s",
					       f->floor, f->up_cap ? "up-cap" : "cap", up);
				floors += fl;
				if (floors > net_rate)
					POSERR(&f->pos, "floor", "floors add up to more than network.rate %s",
					       cfg->net.rate);
			}
			for (j = 0; j <= i; j++) {
				struct cfg_guest *h = &cfg->guests[j];

				for (l = 0; l < (j == i ? k : h->n_ifaces); l++) {
					const struct cfg_iface *o = &h->ifaces[l];
					size_t a, b;

					if (!strcmp(o->name, f->name))
						POSERR(&f->pos, "name", "interface %s is already used by %s (line %d)",
						       f->name, o->pos.field, o->pos.line);
					/* What ioband-tc refuses: two guests matching the same packets. */
					free(fp);
					fp = pos_where(&o->pos, "mac");
					if (f->mac && o->mac && !strcasecmp(f->mac, o->mac))
						POSERR(&f->pos, "mac", "%s is also the mac of %s (%s): ioband-tc could not tell their traffic apart",
						       f->mac, o->pos.field, fp);
					free(fp);
					fp = pos_where(&o->pos, "ip");
					for (a = 0; a < f->ips.n; a++)
						for (b = 0; b < o->ips.n; b++)
							if (ip_overlap(f->ips.v[a], o->ips.v[b]))
								POSERR(&f->pos, "ip", "%s overlaps %s of %s (%s): ioband-tc could not tell their traffic apart",
								       f->ips.v[a], o->ips.v[b], o->pos.field, fp);
				}
			}
		}
	}
	if (cfg->net.present && check_net_bursts(c, cfg))
		goto out;
	/*
	 * Reservations within a declared capacity, per unit; the message names
	 * the disk whose reservation goes over (a migrating guest's: last).
	 */
	for (l = 0; l < cfg->n_dgs; l++) {
		const struct cfg_devgroup *dg = &cfg->dgs[l];
		uint64_t sum[2] = { 0, 0 };

		if (!dg->cap_iops.rate && !dg->cap_bytes.rate)
			continue;
		for (i = 0; i < cfg->n_guests; i++)
			for (k = 0; k < cfg->guests[i].n_disks; k++) {
				const struct cfg_disk *dk = &cfg->guests[i].disks[k];
				const char *id = disk_devgroup(cfg, dk);
				const struct iob_rate *cap = dk->lim.rsv.iops ? &dg->cap_iops : &dg->cap_bytes;
				char a[IOB_RATE_STR_MAX], b[IOB_RATE_STR_MAX];
				struct iob_rate t;

				if (!dk->lim.rsv.rate || !id || strcmp(id, dg->id))
					continue;
				sum[dk->lim.rsv.iops] += dk->lim.rsv.rate;
				if (!cap->rate || sum[dk->lim.rsv.iops] <= cap->rate)
					continue;
				t.iops = dk->lim.rsv.iops;
				t.rate = sum[t.iops];
				iob_rate_format(&t, a, sizeof(a));
				iob_rate_format(cap, b, sizeof(b));
				POSERR(&dk->pos, "min", "the reservations in device group %s add up to %s, above its capacity %s (%s:%d: %s.capacity)",
				       dg->id, a, b, c->file, cfg_line(&dg->pos, "capacity"), dg->pos.field);
			}
	}
	r = 0;
out:
#undef POSERR
	for (i = 0; i < n_names; i++)
		free(names[i].name);
	free(names);
	free(uses);
	free(fp);
	return r;
}

/* ------------------------------------------------------------------- load */

static int parse_root(struct pctx *c, node_t *root, struct host_cfg *cfg)
{
	struct field f[] = {
		{ .key = "version" }, { .key = "device-groups" }, { .key = "devices" }, { .key = "guests" }, { .key = "network" }, { .key = NULL },
	};
	node_t *v;
	uint64_t ver;

	if (!root || is_null(root)) {
		perr(c, root, "(document)", "empty host file");
		return -EINVAL;
	}
	if (root->type != YAML_MAPPING_NODE) {
		perr(c, root, "(document)", "must be a mapping (version, device-groups, devices, guests, network)");
		return -EINVAL;
	}
	if (walk_map(c, root, "", f))
		return -EINVAL;
	if ((v = fval(f, "version")) && get_uint(c, v, "version", 1, 1, &ver))
		return -EINVAL;
	if ((v = fval(f, "device-groups")) && walk_seq(c, v, "device-groups", parse_dg, cfg))
		return -EINVAL;
	if ((v = fval(f, "devices")) && walk_seq(c, v, "devices", parse_device, cfg))
		return -EINVAL;
	/* Interfaces check the uplink name: parse the network first. */
	if ((v = fval(f, "network")) && parse_network(c, v, &cfg->net))
		return -EINVAL;
	if ((v = fval(f, "guests")) && walk_seq(c, v, "guests", parse_guest, cfg))
		return -EINVAL;
	return validate(c, cfg);
}

/* "FILE:LINE: YAML syntax error: ..." of the load PARSER failed (malloc'ed). */
static char *syntax_error(const char *name, const yaml_parser_t *parser)
{
	return xasprintf("%s:%zu: YAML syntax error: %s%s%s", name,
			 (parser->problem_mark.line ? parser->problem_mark.line :
			  parser->context_mark.line) + 1,
			 parser->problem ? parser->problem : "unknown",
			 parser->context ? " " : "", parser->context ? parser->context : "");
}

int config_parse(const char *name, const char *text, size_t len, struct host_cfg *cfg, char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct pctx c = { .file = name };
	int r = -EINVAL;

	memset(cfg, 0, sizeof(*cfg));
	cfg->file = xstrdup(name);
	*err = NULL;
	if (!yaml_parser_initialize(&parser)) {
		*err = xasprintf("%s: cannot initialise the YAML parser", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		*err = syntax_error(name, &parser);
		yaml_parser_delete(&parser);
		config_free(cfg);
		return -EINVAL;
	}
	c.doc = &doc;
	r = parse_root(&c, yaml_document_get_root_node(&doc), cfg);
	if (!r) {
		/*
		 * A second document is a mistake (a stray "---"); so is
		 * anything after the first that is not YAML at all.
		 */
		yaml_document_t doc2;

		if (yaml_parser_load(&parser, &doc2)) {
			node_t *n2 = yaml_document_get_root_node(&doc2);

			if (n2) {
				perr(&c, n2, "(document)", "only one YAML document is allowed");
				r = -EINVAL;
			}
			yaml_document_delete(&doc2);
		} else {
			c.err = syntax_error(name, &parser);
			r = -EINVAL;
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r) {
		*err = c.err ? c.err : xasprintf("%s: invalid", name);
		config_free(cfg);
	}
	return r;
}

int config_load(const char *file, struct host_cfg *cfg, char **err)
{
	char *text = NULL, *name = xstrdup(quote_if_needed(file));	/* for messages */
	size_t len;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	r = read_text_file(file, &text, &len);
	if (r == -EINVAL)
		*err = xasprintf("%s: contains a NUL byte", name);
	else if (r == -EFBIG)
		*err = xasprintf("%s: larger than %u MiB: not a host file", name, READ_TEXT_MAX >> 20);
	else if (r)
		*err = xasprintf("%s: %s", name, strerror(-r));
	else
		r = config_parse(name, text, len, cfg, err);
	free(text);
	free(name);
	return r;
}

static void pos_free(struct cfg_pos *p)
{
	free(p->field);
	free(p->file);
}

void config_iface_free(struct cfg_iface *f)
{
	pos_free(&f->pos);
	free(f->name);
	free(f->mac);
	strv_free(&f->ips);
	free(f->cap);
	free(f->down_cap);
	free(f->up_cap);
	free(f->floor);
	free(f->burst);
	memset(f, 0, sizeof(*f));
}

void config_guest_free(struct cfg_guest *g)
{
	size_t j;

	pos_free(&g->pos);
	free(g->name);
	free(g->cgroup);
	for (j = 0; j < g->n_disks; j++) {
		struct cfg_disk *k = &g->disks[j];

		pos_free(&k->pos);
		free(k->name);
		free(k->device);
		free(k->devgroup);
		free(k->ioband);
	}
	free(g->disks);
	for (j = 0; j < g->n_ifaces; j++)
		config_iface_free(&g->ifaces[j]);
	free(g->ifaces);
	memset(g, 0, sizeof(*g));
}

int config_add_guest(struct host_cfg *cfg, struct cfg_guest *g, char **err)
{
	struct pctx c = { .file = cfg->file ? cfg->file : "(host file)" };
	struct cfg_guest *n = vec_push(&cfg->guests, &cfg->n_guests, sizeof(*n));

	*n = *g;
	memset(g, 0, sizeof(*g));
	*err = NULL;
	if (!validate(&c, cfg))
		return 0;
	cfg->n_guests--;
	config_guest_free(&cfg->guests[cfg->n_guests]);
	*err = c.err ? c.err : xstrdup("invalid guest");
	return -EINVAL;
}

int config_check_guest(struct host_cfg *cfg, struct cfg_guest *g, char **err)
{
	int r = config_add_guest(cfg, g, err);

	if (!r)
		config_guest_free(&cfg->guests[--cfg->n_guests]);
	return r;
}

void config_free(struct host_cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_dgs; i++) {
		pos_free(&cfg->dgs[i].pos);
		free(cfg->dgs[i].id);
	}
	free(cfg->dgs);
	for (i = 0; i < cfg->n_devs; i++) {
		struct cfg_device *d = &cfg->devs[i];

		pos_free(&d->pos);
		free(d->name);
		free(d->device);
		free(d->devgroup);
	}
	free(cfg->devs);
	for (i = 0; i < cfg->n_guests; i++)
		config_guest_free(&cfg->guests[i]);
	free(cfg->guests);
	pos_free(&cfg->net.pos);
	free(cfg->net.uplink);
	free(cfg->net.rate);
	free(cfg->net.burst);
	free(cfg->net.down_rate);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}
