// SPDX-License-Identifier: GPL-2.0
/*
 * ioband.c - parse and format dm-ioband tables, status and stats replies.
 * Mirrors the module's ioband-parse.c rules so that iobandctl rejects what
 * the kernel would reject, with a better message, before touching anything;
 * rates and bursts it parses with the module's own code (kparse.c).
 */
#include "ioband.h"
#include "util.h"
#include "kparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[IOB_TYPE_NR] = {
	[IOB_NONE] = "none", [IOB_UID] = "uid", [IOB_GID] = "gid",
	[IOB_PID] = "pid", [IOB_PGRP] = "pgrp", [IOB_CGROUP] = "cgroup",
};

static const char *const policy_names[IOB_POLICY_NR] = {
	[IOB_WEIGHT] = "weight", [IOB_WEIGHT_IOSIZE] = "weight-iosize",
	[IOB_RANGE_BW] = "range-bw",
};

const char *iob_type_name(enum iob_type t)
{
	return t < IOB_TYPE_NR ? type_names[t] : "?";
}

const char *iob_policy_name(enum iob_policy p)
{
	return p < IOB_POLICY_NR ? policy_names[p] : "?";
}

int iob_parse_type(const char *s, enum iob_type *t)
{
	unsigned int i;

	if (!strcmp(s, "user")) {
		*t = IOB_UID;
		return 0;
	}
	for (i = 0; i < IOB_TYPE_NR; i++)
		if (!strcmp(s, type_names[i])) {
			*t = i;
			return 0;
		}
	return -EINVAL;
}

int iob_parse_policy(const char *s, enum iob_policy *p)
{
	unsigned int i;

	if (!strcmp(s, "default")) {
		*p = IOB_WEIGHT;
		return 0;
	}
	for (i = 0; i < IOB_POLICY_NR; i++)
		if (!strcmp(s, policy_names[i])) {
			*p = i;
			return 0;
		}
	return -EINVAL;
}

int iob_check_group_id(enum iob_type t, uint64_t id)
{
	switch (t) {
	case IOB_UID:
	case IOB_GID:
		return id <= 4294967294ULL ? 0 : -ERANGE;
	case IOB_PID:
	case IOB_PGRP:
		return id >= 1 && id <= IOB_PID_MAX ? 0 : -ERANGE;
	case IOB_CGROUP:
		return id >= 1 && id <= (uint64_t)INT64_MAX ? 0 : -ERANGE;
	default:
		return -EINVAL;
	}
}

const char *iob_group_id_range(enum iob_type t)
{
	switch (t) {
	case IOB_UID:
	case IOB_GID:
		return "0..4294967294";
	case IOB_PID:
	case IOB_PGRP:
		return "1..4194304";
	case IOB_CGROUP:
		return "a cgroup id >= 1";
	default:
		return "none (type none has no groups)";
	}
}

void iob_table_init(struct iob_table *t)
{
	memset(t, 0, sizeof(*t));
	t->default_weight = IOB_WEIGHT_DEFAULT;
}

void iob_table_free(struct iob_table *t)
{
	free(t->device);
	free(t->groups);
	iob_table_init(t);
}

void iob_table_copy(struct iob_table *dst, const struct iob_table *src)
{
	*dst = *src;
	dst->device = xstrdup(src->device);
	dst->groups = xcalloc(src->n_groups, sizeof(*src->groups));
	if (src->n_groups)
		memcpy(dst->groups, src->groups, src->n_groups * sizeof(*src->groups));
}

struct iob_group *iob_table_group(const struct iob_table *t, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->n_groups; i++)
		if (t->groups[i].id == id)
			return &t->groups[i];
	return NULL;
}

void iob_table_add_group(struct iob_table *t, uint64_t id, unsigned int weight)
{
	struct iob_group *g = vec_push(&t->groups, &t->n_groups, sizeof(*g));

	g->id = id;
	g->weight = weight;
}

void iob_table_del_group(struct iob_table *t, uint64_t id)
{
	struct iob_group *g = iob_table_group(t, id);

	if (!g)
		return;
	memmove(g, g + 1, (t->n_groups - (size_t)(g - t->groups) - 1) * sizeof(*g));
	t->n_groups--;
}

/* Split params into whitespace-separated words (modifies a copy). */
static size_t split_words(char *s, char ***out)
{
	char **w = NULL, *tok, *save = NULL;
	size_t n = 0;

	for (tok = strtok_r(s, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		char **slot = vec_push(&w, &n, sizeof(*w));
		*slot = tok;
	}
	*out = w;
	return n;
}

static bool is_delim(char c)
{
	return c == ':' || c == '=' || c == ',';
}

int iob_rate_parse(const char *s, struct iob_rate *r)
{
	memset(r, 0, sizeof(*r));
	return iob_kparse_rate(s, &r->rate, &r->iops) ? -EINVAL : 0;
}

int iob_burst_parse(const char *s, struct iob_rate *r, unsigned int *secs)
{
	memset(r, 0, sizeof(*r));
	/* the module takes "0" (none); here a burst is given or left out */
	if (iob_kparse_burst(s, &r->rate, &r->iops, secs) || !r->rate)
		return -EINVAL;
	return 0;
}

void iob_rate_format(const struct iob_rate *r, char *buf, size_t len)
{
	static const char units[] = "gmk";
	unsigned int i;

	if (r->iops) {
		snprintf(buf, len, "%lluiops", (unsigned long long)r->rate);
		return;
	}
	for (i = 0; r->rate && i < 3; i++) {
		unsigned int shift = 30 - 10 * i;

		if (!(r->rate & ((1ULL << shift) - 1))) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(r->rate >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)r->rate);
}

bool iob_rate_eq(const struct iob_rate *a, const struct iob_rate *b)
{
	return a->rate == b->rate && (!a->rate || a->iops == b->iops);
}

enum iob_join iob_join_conflict(const struct iob_table *t, bool has_lim, bool has_bst,
				const struct iob_table *dg)
{
	if (t->policy != dg->policy)
		return IOB_JOIN_POLICY;
	if (t->io_throttle && t->io_throttle != dg->io_throttle)
		return IOB_JOIN_THROTTLE;
	if (t->io_limit && t->io_limit != dg->io_limit)
		return IOB_JOIN_LIMIT;
	if (t->token_base && t->token_base != dg->token_base)
		return IOB_JOIN_TOKEN;
	if (has_lim && !iob_rate_eq(&t->dg_lim.lim, &dg->dg_lim.lim))
		return IOB_JOIN_LIM;
	if (has_bst && (!iob_rate_eq(&t->dg_lim.burst, &dg->dg_lim.burst) ||
			t->dg_lim.burst_secs != dg->dg_lim.burst_secs))
		return IOB_JOIN_BST;
	return IOB_JOIN_OK;
}

bool iob_limits_eq(const struct iob_limits *a, const struct iob_limits *b)
{
	return iob_rate_eq(&a->rsv, &b->rsv) && iob_rate_eq(&a->lim, &b->lim) &&
	       iob_rate_eq(&a->burst, &b->burst) &&
	       (!a->burst.rate || a->burst_secs == b->burst_secs);
}

bool iob_limits_any(const struct iob_limits *l)
{
	return l->rsv.rate || l->lim.rate || l->burst.rate;
}

const char *iob_limits_problem(const struct iob_limits *l, const char **key)
{
	*key = "min";
	if (l->rsv.rate && l->lim.rate && l->rsv.iops == l->lim.iops && l->rsv.rate > l->lim.rate)
		return "the reservation is above the limit (max)";
	*key = "burst";
	if (!l->burst.rate)
		return NULL;
	if (!l->lim.rate)
		return "a burst needs a limit (max)";
	if (l->burst.iops != l->lim.iops)
		return l->lim.iops ? "must be in iops, as the limit (max)" :
				     "must be in bytes/s, as the limit (max)";
	if (l->burst.rate <= l->lim.rate)
		return "must be above the limit (max)";
	return NULL;
}

char *iob_limits_format(const struct iob_limits *l)
{
	struct strbuf sb = { 0 };
	char b[IOB_RATE_STR_MAX];

	sb_adds(&sb, "");
	if (l->rsv.rate) {
		iob_rate_format(&l->rsv, b, sizeof(b));
		sb_addf(&sb, ",r=%s", b);
	}
	if (l->lim.rate) {
		iob_rate_format(&l->lim, b, sizeof(b));
		sb_addf(&sb, ",l=%s", b);
	}
	if (l->burst.rate) {
		iob_rate_format(&l->burst, b, sizeof(b));
		sb_addf(&sb, ",b=%s/%u", b, l->burst_secs);
	}
	return sb_steal(&sb);
}

const char *iob_rsv_name(enum iob_rsv r)
{
	switch (r) {
	case IOB_RSV_NONE:
		return "-";
	case IOB_RSV_MET:
		return "met";
	case IOB_RSV_UNMET:
		return "unmet";
	default:
		return "?";
	}
}

/*
 * "<weight>[,r=<rate>][,l=<rate>[,b=<rate>/<secs>]]", as the module's
 * parse_weight_opts(): each option once, r not above l in the same unit,
 * b only with l, in its unit and above it.
 */
/*
 * The options after the ',' at @o (NULL: none): r= (only if @allow_r), l=,
 * b=, each once, into @l; @bad: the error for anything else.
 */
static int parse_opts(char *o, struct iob_limits *l, bool allow_r, const char *bad_opt,
		      const char **err)
{
	char *tok, *save = NULL;
	const char *key;
	bool seen[3] = { false, false, false };

	if (o && (!*o || *o == ',' || strstr(o, ",,") || o[strlen(o) - 1] == ',')) {
		*err = bad_opt;
		return -EINVAL;
	}
	for (tok = o ? strtok_r(o, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		int k = !strncmp(tok, "r=", 2) && allow_r ? 0 : !strncmp(tok, "l=", 2) ? 1 :
			!strncmp(tok, "b=", 2) ? 2 : -1;
		int bad;

		if (k < 0 || seen[k]) {
			*err = bad_opt;
			return -EINVAL;
		}
		seen[k] = true;
		bad = k == 0 ? iob_rate_parse(tok + 2, &l->rsv) :
		      k == 1 ? iob_rate_parse(tok + 2, &l->lim) :
		      iob_burst_parse(tok + 2, &l->burst, &l->burst_secs);
		if (bad) {
			*err = k == 2 ? "invalid burst (b=<rate>/<secs>, secs 1..3600)" :
			       "invalid rate (<n>iops, or bytes/s <n>, <n>k, <n>m, <n>g from 1k; 0 = none)";
			return -EINVAL;
		}
	}
	if (iob_limits_problem(l, &key)) {
		*err = !strcmp(key, "min") ? "invalid group options (r= above l=)" :
		       "invalid group options (b= needs l=, in its unit and above it)";
		return -EINVAL;
	}
	return 0;
}

static int parse_weight_opts(char *s, unsigned int *weight, struct iob_limits *l, const char **err)
{
	char *o = strchr(s, ',');
	uint64_t v;

	memset(l, 0, sizeof(*l));
	if (o)
		*o++ = '\0';
	if (parse_u64_range(s, IOB_WEIGHT_MIN, IOB_WEIGHT_MAX, &v)) {
		*err = "invalid group weight";
		return -EINVAL;
	}
	*weight = v;
	return parse_opts(o, l, true, "invalid group options (,r=<rate>,l=<rate>,b=<rate>/<secs>, each once)",
			  err);
}

/* "<policy>[,l=<rate>][,b=<rate>/<secs>]": the device group's own limit. */
static int parse_policy_opts(char *s, enum iob_policy *p, struct iob_limits *l, const char **err)
{
	char *o = strchr(s, ',');

	memset(l, 0, sizeof(*l));
	if (o)
		*o++ = '\0';
	if (iob_parse_policy(s, p)) {
		*err = "invalid policy";
		return -EINVAL;
	}
	return parse_opts(o, l, false,
			  "invalid device group options (,l=<rate>,b=<rate>/<secs> after the policy, each once)",
			  err);
}

/* range-bw "<min>:<max>" in KB/s, as the module's parse_range(). */
static int parse_range(char *s, unsigned int *mn, unsigned int *mx, const char **err)
{
	char *d = strpbrk(s, ":=,");
	uint64_t a, b;

	if (!d) {
		*err = "invalid range (expected <min>:<max>, KB/s)";
		return -EINVAL;
	}
	*d = '\0';
	if (parse_u64_range(s, 0, IOB_RANGE_MAX, &a) || parse_u64_range(d + 1, 0, IOB_RANGE_MAX, &b)) {
		*err = "invalid range (min and max 0..1073741823 KB/s)";
		return -EINVAL;
	}
	if (b && a > b) {
		*err = "invalid range (min above max)";
		return -EINVAL;
	}
	*mn = a;
	*mx = b;
	return 0;
}

int iob_table_parse(const char *params, struct iob_table *t, const char **err)
{
	char *copy = xstrdup(params), **w;
	size_t n = split_words(copy, &w), i;
	uint64_t v;
	int r = -EINVAL;

	iob_table_init(t);
	if (n < 7) {
		*err = "not enough arguments (<device> <device-group-id> <io_throttle> <io_limit> <type> <policy> <token_base> ...)";
		goto out;
	}
	t->device = xstrdup(w[0]);
	if (!w[1][0] || strlen(w[1]) > IOB_NAME_MAX) {
		*err = "invalid device-group id (1..31 characters)";
		goto out;
	}
	strcpy(t->devgroup, w[1]);
	if (parse_u64_range(w[2], 0, IOB_THROTTLE_MAX, &v)) {
		*err = "invalid io_throttle (0..32767)";
		goto out;
	}
	t->io_throttle = v;
	if (parse_u64_range(w[3], 0, IOB_THROTTLE_MAX, &v)) {
		*err = "invalid io_limit (0..32767)";
		goto out;
	}
	t->io_limit = v;
	if (t->io_throttle && t->io_limit && t->io_throttle > t->io_limit) {
		*err = "io_throttle must not exceed io_limit";
		goto out;
	}
	if (iob_parse_type(w[4], &t->type)) {
		*err = "invalid type";
		goto out;
	}
	if (parse_policy_opts(w[5], &t->policy, &t->dg_lim, err))
		goto out;
	if (parse_u64_range(w[6], 0, IOB_TOKEN_MAX, &t->token_base)) {
		*err = "invalid token_base";
		goto out;
	}
	i = 7;
	if (i < n && is_delim(w[i][0])) {
		if (t->policy == IOB_RANGE_BW) {
			if (parse_range(w[i] + 1, &t->default_min_kbs, &t->default_max_kbs, err))
				goto out;
		} else if (parse_weight_opts(w[i] + 1, &t->default_weight, &t->default_lim, err)) {
			if (!strcmp(*err, "invalid group weight"))
				*err = "invalid default group weight";
			goto out;
		}
		i++;
	}
	for (; i < n; i++) {
		char *d = strpbrk(w[i], ":=,");
		unsigned int mn = 0, mx = 0, wt = IOB_WEIGHT_DEFAULT;
		struct iob_limits lim = { 0 };
		uint64_t id;

		if (!d) {
			*err = "invalid group parameter (expected <id>:<weight>)";
			goto out;
		}
		*d = '\0';
		if (parse_u64(w[i], &id) || iob_check_group_id(t->type, id)) {
			*err = "invalid group id";
			goto out;
		}
		if (t->policy == IOB_RANGE_BW) {
			if (parse_range(d + 1, &mn, &mx, err))
				goto out;
		} else if (parse_weight_opts(d + 1, &wt, &lim, err)) {
			goto out;
		}
		if (iob_table_group(t, id)) {
			*err = "duplicate group id";
			goto out;
		}
		iob_table_add_group(t, id, wt);
		t->groups[t->n_groups - 1].min_kbs = mn;
		t->groups[t->n_groups - 1].max_kbs = mx;
		if (t->policy != IOB_RANGE_BW)
			t->groups[t->n_groups - 1].lim = lim;
	}
	r = 0;
out:
	free(w);
	free(copy);
	if (r)
		iob_table_free(t);
	return r;
}

static void add_weight(struct strbuf *sb, const char *id, unsigned int w, const struct iob_limits *l)
{
	char *o = iob_limits_format(l);

	sb_addf(sb, " %s:%u%s", id, w, o);
	free(o);
}

char *iob_table_format(const struct iob_table *t)
{
	char *dgl = iob_limits_format(&t->dg_lim);
	struct strbuf sb = { 0 };
	size_t i;


	sb_addf(&sb, "%s %s %u %u %s %s%s %llu", t->device, t->devgroup,
		t->io_throttle, t->io_limit, iob_type_name(t->type),
		iob_policy_name(t->policy), dgl, (unsigned long long)t->token_base);
	free(dgl);
	if (t->policy == IOB_RANGE_BW)
		sb_addf(&sb, " :%u:%u", t->default_min_kbs, t->default_max_kbs);
	else
		add_weight(&sb, "", t->default_weight, &t->default_lim);
	for (i = 0; i < t->n_groups; i++) {
		char id[24];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)t->groups[i].id);
		if (t->policy == IOB_RANGE_BW)
			sb_addf(&sb, " %s:%u:%u", id, t->groups[i].min_kbs, t->groups[i].max_kbs);
		else
			add_weight(&sb, id, t->groups[i].weight, &t->groups[i].lim);
	}
	return sb_steal(&sb);
}

static int parse_gid(const char *s, int64_t *id)
{
	uint64_t v;

	if (!strcmp(s, "-1")) {
		*id = IOB_DEFAULT_GROUP;
		return 0;
	}
	if (parse_u64(s, &v) || v > (uint64_t)INT64_MAX)
		return -EINVAL;
	*id = (int64_t)v;
	return 0;
}

struct iob_gstat *iob_status_group(const struct iob_status *st, int64_t id)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->g[i].id == id)
			return &st->g[i];
	return NULL;
}

/* The last group of ST (just added) has the id of an earlier one. */
static bool last_is_duplicate(const struct iob_status *st)
{
	size_t i;

	for (i = 0; i + 1 < st->n; i++)
		if (st->g[i].id == st->g[st->n - 1].id)
			return true;
	return false;
}

void iob_status_free(struct iob_status *st)
{
	free(st->g);
	memset(st, 0, sizeof(*st));
}

int iob_status_parse(const char *params, struct iob_status *st, const char **err)
{
	char *copy = xstrdup(params), **w;
	size_t n = split_words(copy, &w), i, k;
	int r = -EINVAL;

	memset(st, 0, sizeof(*st));
	*err = "malformed ioband status";
	if (n < 2 || strlen(w[0]) > IOB_NAME_MAX)
		goto out;
	strcpy(st->devgroup, w[0]);
	for (i = 1; i < n && strcmp(w[i], "ext"); i += 7) {
		struct iob_gstat *g;
		uint64_t *f[6];

		if (i + 7 > n)
			goto out;
		g = vec_push(&st->g, &st->n, sizeof(*g));
		f[0] = &g->reads; f[1] = &g->delayed_reads; f[2] = &g->read_sectors;
		f[3] = &g->writes; f[4] = &g->delayed_writes; f[5] = &g->write_sectors;
		if (parse_gid(w[i], &g->id) || last_is_duplicate(st))
			goto out;
		for (k = 0; k < 6; k++)
			if (parse_u64(w[i + 1 + k], f[k]))
				goto out;
	}
	if (i >= n)		/* no "ext" part */
		goto out;
	for (i++, k = 0; i < n && strcmp(w[i], "depth"); i += 3, k++) {
		int64_t id;

		if (i + 3 > n || k >= st->n || parse_gid(w[i], &id) || id != st->g[k].id ||
		    parse_u64(w[i + 1], &st->g[k].queued) || parse_u64(w[i + 2], &st->g[k].wait_us))
			goto out;
	}
	if (k != st->n)
		goto out;
	if (i < n) {		/* the depth part, refused, dglimit, then limits */
		size_t lim = i + 5;

		if (lim + 2 < n && !strcmp(w[lim], "refused")) {
			if (parse_u64(w[lim + 1], &st->refused) ||
			    parse_u64(w[lim + 2], &st->refused_tags))
				goto out;
			st->has_refused = true;
			lim += 3;
		}
		if (lim + 1 < n && !strcmp(w[lim], "dglimit")) {
			if (parse_u64(w[lim + 1], &st->dglimit_us))
				goto out;
			st->has_dglimit = true;
			lim += 2;
		}
		if (lim < n && !strcmp(w[lim], "limits")) {
			/*
			 * Per group "<id> <rsv> <lag> <limited>", <rsv> one of
			 * met, unmet, -; older modules: "<id> <lag> <limited>".
			 */
			for (lim++, k = 0; k < st->n; k++) {
				struct iob_gstat *g = &st->g[k];
				int64_t id;

				if (lim + 3 > n || parse_gid(w[lim], &id) || id != g->id)
					goto out;
				g->rsv = !strcmp(w[lim + 1], "-") ? IOB_RSV_NONE :
					 !strcmp(w[lim + 1], "met") ? IOB_RSV_MET :
					 !strcmp(w[lim + 1], "unmet") ? IOB_RSV_UNMET : IOB_RSV_UNKNOWN;
				if (g->rsv != IOB_RSV_UNKNOWN)
					lim++;
				if (lim + 3 > n || parse_u64(w[lim + 1], &g->rsv_lag_us) ||
				    parse_u64(w[lim + 2], &g->limited_us))
					goto out;
				lim += 3;
			}
			if (lim != n)
				goto out;
			st->has_limits = true;
		} else if (lim != n) {
			goto out;
		}
		if (i + 5 > n || parse_u64(w[i + 1], &st->depth) ||
		    (strcmp(w[i + 2], "auto") && strcmp(w[i + 2], "fixed")) ||
		    parse_u64(w[i + 3], &st->depth_base_us) ||
		    parse_u64(w[i + 4], &st->depth_target_us))
			goto out;
		st->has_depth = true;
		st->depth_auto = !strcmp(w[i + 2], "auto");
	}
	r = 0;
out:
	free(w);
	free(copy);
	if (r)
		iob_status_free(st);
	return r;
}

int iob_stats_parse(const char *reply, struct iob_status *st, const char **err)
{
	char *copy = xstrdup(reply), *line, *save = NULL;
	int r = -EINVAL;

	memset(st, 0, sizeof(*st));
	*err = "malformed ioband stats reply";
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **w;
		size_t n = split_words(line, &w), i;
		struct iob_gstat *g;
		bool bad = false;

		if (!n) {
			free(w);
			continue;
		}
		g = vec_push(&st->g, &st->n, sizeof(*g));
		if (parse_gid(w[0], &g->id) || last_is_duplicate(st))
			bad = true;
		for (i = 1; i < n && !bad; i++) {
			static const char *const keys[] = {
				"weight", "reads", "read_sectors", "writes", "write_sectors",
				"delayed_reads", "delayed_writes", "queued", "wait_us",
			};
			uint64_t *dst[ARRAY_SIZE(keys)] = {
				NULL, &g->reads, &g->read_sectors, &g->writes, &g->write_sectors,
				&g->delayed_reads, &g->delayed_writes, &g->queued, &g->wait_us,
			};
			char *eq = strchr(w[i], '=');
			uint64_t v;
			size_t k;

			if (!eq) {
				bad = true;
				break;
			}
			*eq = '\0';
			for (k = 0; k < ARRAY_SIZE(keys); k++)
				if (!strcmp(w[i], keys[k]))
					break;
			/*
			 * Other keys (rsv=met, min_kbs=, a newer module's):
			 * not read here, whatever their value's form.
			 */
			if (k == ARRAY_SIZE(keys))
				continue;
			if (parse_u64(eq + 1, &v) || (k == 0 && v > IOB_WEIGHT_MAX))
				bad = true;
			else if (k == 0)
				g->weight = (unsigned int)v;
			else
				*dst[k] = v;
		}
		free(w);
		if (bad)
			goto out;
	}
	r = 0;
out:
	free(copy);
	if (r)
		iob_status_free(st);
	return r;
}
