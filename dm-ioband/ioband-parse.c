// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-parse.c - table line and message parsing for dm-ioband.
 *
 * Table line (dm-ioband 1.14 syntax, kept so that existing tables work):
 *
 *   <device> <device-group-id> <io_throttle> <io_limit> <type> <policy>
 *   <token_base> [:<weight>] [<group-id>:<weight> ...]
 *
 * where a weight may be followed by a reservation and a limit, each a rate
 * of I/Os ("500iops") or bytes ("20m": MiB, k and g too) per second, and a
 * burst above the limit for some seconds ("2000iops/10"):
 *
 *   <weight>[,r=<rate>][,l=<rate>[,b=<rate>/<secs>]]
 *
 * or, with the range-bw policy, a range in KB/s per group:
 *
 *   ... range-bw <token_base> [:<min>:<max>] [<group-id>:<min>:<max> ...]
 *
 * Messages:
 *
 *   weight [<id>:]<weight> | attach <id> | detach <id> | type <type> |
 *   policy <policy>[,l=<rate>][,b=<rate>/<secs>] | token [<id>:]<n> | io_throttle <n> | io_limit <n> |
 *   reset | stats | range-bw <group-id>|-1|:<min>:<max> |
 *   reserve [<id>:]<rate> | limit [<id>:]<rate> | burst [<id>:]<rate>/<secs>
 *
 * Group parameters may use ':', '=' or ',' between id and value, as in 1.14.
 * Every error string names the field that was wrong; the target hands it
 * to device-mapper as ti->error (table) or logs it (messages).
 */
#include "ioband-parse.h"

#define IOBAND_PARAM_DELIM "=:,"

static const char * const type_names[IOBAND_TYPE_NR] = {
	[IOBAND_TYPE_NONE] = "none",
	[IOBAND_TYPE_UID] = "uid",
	[IOBAND_TYPE_GID] = "gid",
	[IOBAND_TYPE_PID] = "pid",
	[IOBAND_TYPE_PGRP] = "pgrp",
	[IOBAND_TYPE_CGROUP] = "cgroup",
};

static const char * const policy_names[IOBAND_POLICY_NR] = {
	[IOBAND_POLICY_WEIGHT] = "weight",
	[IOBAND_POLICY_WEIGHT_IOSIZE] = "weight-iosize",
	[IOBAND_POLICY_RANGE_BW] = "range-bw",
};

const char *ioband_type_name(enum ioband_type type)
{
	return type < IOBAND_TYPE_NR ? type_names[type] : "?";
}

const char *ioband_policy_name(enum ioband_policy_id policy)
{
	return policy < IOBAND_POLICY_NR ? policy_names[policy] : "?";
}

int ioband_parse_type(const char *s, enum ioband_type *type, char **err)
{
	unsigned int i;

	if (!strcmp(s, "user")) {	/* 1.14 alias */
		*type = IOBAND_TYPE_UID;
		return 0;
	}
	for (i = 0; i < IOBAND_TYPE_NR; i++) {
		if (!strcmp(s, type_names[i])) {
			*type = i;
			return 0;
		}
	}
	if (!strcmp(s, "node") || !strcmp(s, "cpuset"))
		*err = "Group type node/cpuset is not supported (use cgroup)";
	else
		*err = "Invalid group type (none, uid, user, gid, pid, pgrp, cgroup)";
	return -EINVAL;
}

int ioband_parse_policy(const char *s, enum ioband_policy_id *policy,
			char **err)
{
	unsigned int i;

	if (!strcmp(s, "default")) {	/* 1.14 alias */
		*policy = IOBAND_POLICY_WEIGHT;
		return 0;
	}
	for (i = 0; i < IOBAND_POLICY_NR; i++) {
		if (!strcmp(s, policy_names[i])) {
			*policy = i;
			return 0;
		}
	}
	*err = "Invalid policy (default, weight, weight-iosize, range-bw)";
	return -EINVAL;
}

static int parse_u32_range(const char *s, u32 lo, u32 hi, u32 *out)
{
	unsigned int v;

	if (kstrtouint(s, 10, &v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int ioband_parse_group_id(const char *s, enum ioband_type type, u64 *id,
			  char **err)
{
	u64 v, lo = 0, hi;

	switch (type) {
	case IOBAND_TYPE_UID:
	case IOBAND_TYPE_GID:
		hi = U32_MAX - 1;	/* (uid_t)-1 is not a valid id */
		break;
	case IOBAND_TYPE_PID:
	case IOBAND_TYPE_PGRP:
		lo = 1;
		hi = IOBAND_PID_MAX;
		break;
	case IOBAND_TYPE_CGROUP:
		lo = 1;
		hi = (u64)LONG_MAX;	/* xarray index; cgroup ids are inode numbers */
		break;
	default:
		*err = "Groups need a group type other than none";
		return -EINVAL;
	}
	if (kstrtoull(s, 10, &v) || v < lo || v > hi) {
		*err = "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)";
		return -EINVAL;
	}
	*id = v;
	return 0;
}

/*
 * Split "<a><delim><b>" in place; returns b, or NULL without a delimiter.
 * *delim keeps the delimiter, for putting it back.
 */
static char *split_param(char *s, char *delim)
{
	char *d = strpbrk(s, IOBAND_PARAM_DELIM);

	if (!d)
		return NULL;
	*delim = *d;
	*d = '\0';
	return d + 1;
}

static int parse_weight(const char *s, u32 *w, char **err)
{
	if (parse_u32_range(s, IOBAND_WEIGHT_MIN, IOBAND_WEIGHT_MAX, w)) {
		*err = "Invalid weight (1..32767)";
		return -EINVAL;
	}
	return 0;
}

static bool is_delim(char c)
{
	return c && strchr(IOBAND_PARAM_DELIM, c);
}

int ioband_parse_rate(const char *s, struct ioband_rate *r, char **err)
{
	char num[24];
	size_t n = strspn(s, "0123456789");
	const char *unit = s + n;
	u64 v, mul = 1, max = IOBAND_RATE_BYTES_MAX;

	r->iops = false;
	if (!strcmp(unit, "iops")) {
		r->iops = true;
		max = IOBAND_RATE_IOPS_MAX;
	} else if (!strcmp(unit, "k")) {
		mul = 1ULL << 10;
	} else if (!strcmp(unit, "m")) {
		mul = 1ULL << 20;
	} else if (!strcmp(unit, "g")) {
		mul = 1ULL << 30;
	} else if (*unit) {
		n = 0;			/* an unknown unit */
	}
	if (!n || n >= sizeof(num))
		goto bad;
	memcpy(num, s, n);
	num[n] = '\0';
	if (kstrtoull(num, 10, &v) || v > max / mul)
		goto bad;
	r->rate = v * mul;
	if (!r->rate)
		r->iops = false;	/* 0: none, in any unit */
	else if (!r->iops && r->rate < 1024)
		goto bad;		/* a 4 KiB I/O every few seconds */
	return 0;
bad:
	*err = "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)";
	return -EINVAL;
}

int ioband_parse_burst(const char *s, struct ioband_burst *b, char **err)
{
	const char *slash = strchr(s, '/');
	char rate[32];
	u32 secs;
	int r;

	memset(b, 0, sizeof(*b));
	if (!strcmp(s, "0"))
		return 0;
	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(rate))
		goto bad;
	memcpy(rate, s, slash - s);
	rate[slash - s] = '\0';
	r = ioband_parse_rate(rate, &b->rate, err);
	if (r)
		return r;
	if (!b->rate.rate ||
	    parse_u32_range(slash + 1, 1, IOBAND_BURST_SECS_MAX, &secs))
		goto bad;
	b->secs = secs;
	return 0;
bad:
	memset(b, 0, sizeof(*b));
	*err = "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)";
	return -EINVAL;
}

const char *ioband_burst_problem(const struct ioband_burst *b,
				 const struct ioband_rate *lim)
{
	if (!b->rate.rate)
		return NULL;
	if (!lim->rate)
		return "A burst b= needs a limit l=";
	if (b->rate.iops != lim->iops)
		return "A burst b= takes the unit of the limit l= (both iops, or both bytes)";
	if (b->rate.rate <= lim->rate)
		return "A burst b= must be above the limit l=";
	return NULL;
}

/*
 * The options after a weight or a policy, from the ',' at @opt (NULL: none),
 * in place (put back): "r=<rate>" (only with @rsv), "l=<rate>",
 * "b=<rate>/<secs>", each once; *@has_l and *@has_b say which were given.
 * @unknown: the error for anything else.
 */
static int parse_opts(char *opt, struct ioband_rate *rsv,
		      struct ioband_rate *lim, struct ioband_burst *bst,
		      bool *has_l, bool *has_b, char *unknown, char **err)
{
	bool has_r = false;
	char *next;
	int r = 0;

	*has_l = false;
	*has_b = false;
	while (!r && opt) {
		char *o = opt + 1;

		next = strchr(o, ',');
		if (next)
			*next = '\0';
		if (rsv && !strncmp(o, "r=", 2) && !has_r) {
			has_r = true;
			r = ioband_parse_rate(o + 2, rsv, err);
		} else if (!strncmp(o, "l=", 2) && !*has_l) {
			*has_l = true;
			r = ioband_parse_rate(o + 2, lim, err);
		} else if (!strncmp(o, "b=", 2) && !*has_b) {
			*has_b = true;
			r = ioband_parse_burst(o + 2, bst, err);
		} else {
			*err = unknown;
			r = -EINVAL;
		}
		if (next)
			*next = ',';
		opt = next;
	}
	return r;
}

/*
 * "<weight>[,r=<rate>][,l=<rate>][,b=<rate>/<secs>]", in place (put back):
 * each option once, a reservation not above a limit in the same unit, a
 * burst only with a limit, in its unit and above it.  @werr: the error for
 * a bad weight.
 */
static int parse_weight_opts(char *s, u32 *weight, struct ioband_rate *rsv,
			     struct ioband_rate *lim, struct ioband_burst *bst,
			     char *werr, char **err)
{
	char *opt = strchr(s, ',');
	bool has_l, has_b;
	int r;

	memset(rsv, 0, sizeof(*rsv));
	memset(lim, 0, sizeof(*lim));
	memset(bst, 0, sizeof(*bst));
	if (opt)
		*opt = '\0';
	r = parse_weight(s, weight, err);
	if (r)
		*err = werr;
	if (opt)
		*opt = ',';
	if (!r)
		r = parse_opts(opt, rsv, lim, bst, &has_l, &has_b,
			       "Invalid group option (,r=<rate>, ,l=<rate> and ,b=<rate>/<secs> after the weight, each once)",
			       err);
	if (!r && rsv->rate && lim->rate && rsv->iops == lim->iops &&
	    rsv->rate > lim->rate) {
		*err = "Invalid group options: the reservation r= is above the limit l=";
		r = -EINVAL;
	}
	if (!r && ioband_burst_problem(bst, lim)) {
		*err = (char *)ioband_burst_problem(bst, lim);
		r = -EINVAL;
	}
	return r;
}

int ioband_parse_policy_opts(char *s, enum ioband_policy_id *policy,
			     struct ioband_dg_limit *dgl, char **err)
{
	char *opt = strchr(s, ',');
	int r;

	memset(dgl, 0, sizeof(*dgl));
	if (opt)
		*opt = '\0';
	r = ioband_parse_policy(s, policy, err);
	if (opt)
		*opt = ',';
	if (!r)
		r = parse_opts(opt, NULL, &dgl->lim, &dgl->bst, &dgl->has_lim,
			       &dgl->has_bst,
			       "Invalid device group option (,l=<rate> and ,b=<rate>/<secs> after the policy, each once)",
			       err);
	return r;
}

/*
 * "<min><delim><max>" in KB/s, in place (argv is put back).  min 0: no
 * reservation; max 0: no cap; otherwise min <= max.
 */
static int parse_range(char *s, u32 *min_kbs, u32 *max_kbs, char **err)
{
	char *max, delim;
	int r = 0;

	max = split_param(s, &delim);
	if (!max) {
		*err = "Invalid range: missing <max> (<min>:<max>, KB/s)";
		return -EINVAL;
	}
	if (parse_u32_range(s, 0, IOBAND_RANGE_MAX, min_kbs)) {
		*err = "Invalid range <min> (0..1073741823 KB/s)";
		r = -EINVAL;
	} else if (parse_u32_range(max, 0, IOBAND_RANGE_MAX, max_kbs)) {
		*err = "Invalid range <max> (0..1073741823 KB/s, 0 = no cap)";
		r = -EINVAL;
	} else if (*max_kbs && *min_kbs > *max_kbs) {
		*err = "Invalid range: <min> is above <max>";
		r = -EINVAL;
	}
	max[-1] = delim;
	return r;
}

static int cmp_group_id(const void *a, const void *b)
{
	u64 x = ((const struct ioband_group_cfg *)a)->id;
	u64 y = ((const struct ioband_group_cfg *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * Sort the groups by id and refuse a duplicate: O(n log n), where comparing
 * every pair of 65536 groups would take 2 * 10^9 steps.
 */
static int check_unique_ids(struct ioband_table_cfg *cfg, char **err)
{
	unsigned int i;

	sort(cfg->groups, cfg->nr_groups, sizeof(*cfg->groups), cmp_group_id,
	     NULL);
	for (i = 1; i < cfg->nr_groups; i++) {
		if (cfg->groups[i - 1].id == cfg->groups[i].id) {
			*err = "Duplicate group id";
			return -EINVAL;
		}
	}
	return 0;
}

int ioband_parse_table(unsigned int argc, char **argv,
		       struct ioband_table_cfg *cfg, char **err)
{
	unsigned int i;
	bool ranges;
	int r;

	memset(cfg->devgroup, 0, sizeof(cfg->devgroup));
	cfg->nr_groups = 0;
	cfg->default_weight = IOBAND_WEIGHT_DEFAULT;

	if (argc < IOBAND_TABLE_FIXED_ARGS) {
		*err = "Not enough arguments: <device> <device-group-id> <io_throttle> <io_limit> <type> <policy> <token_base> [:<weight>] [<id>:<weight>...]";
		return -EINVAL;
	}

	if (!argv[1][0] || strlen(argv[1]) > IOBAND_NAME_MAX) {
		*err = "Invalid device-group id (1..31 characters)";
		return -EINVAL;
	}
	strscpy(cfg->devgroup, argv[1], sizeof(cfg->devgroup));

	if (parse_u32_range(argv[2], 0, IOBAND_THROTTLE_MAX, &cfg->io_throttle)) {
		*err = "Invalid io_throttle (0..32767, 0 = default)";
		return -EINVAL;
	}
	if (parse_u32_range(argv[3], 0, IOBAND_THROTTLE_MAX, &cfg->io_limit)) {
		*err = "Invalid io_limit (0..32767, 0 = default)";
		return -EINVAL;
	}
	if (cfg->io_throttle && cfg->io_limit && cfg->io_throttle > cfg->io_limit) {
		*err = "io_throttle must not exceed io_limit";
		return -EINVAL;
	}

	r = ioband_parse_type(argv[4], &cfg->type, err);
	if (r)
		return r;
	r = ioband_parse_policy_opts(argv[5], &cfg->policy, &cfg->dg_limit,
				     err);
	if (!r && ioband_burst_problem(&cfg->dg_limit.bst, &cfg->dg_limit.lim)) {
		*err = (char *)ioband_burst_problem(&cfg->dg_limit.bst,
						    &cfg->dg_limit.lim);
		r = -EINVAL;
	}
	if (r)
		return r;

	if (kstrtoull(argv[6], 10, &cfg->token_base) ||
	    cfg->token_base > IOBAND_TOKEN_MAX) {
		*err = "Invalid token_base (0..2^40, 0 = default)";
		return -EINVAL;
	}

	ranges = cfg->policy == IOBAND_POLICY_RANGE_BW;
	cfg->default_min_kbs = 0;
	cfg->default_max_kbs = 0;
	memset(&cfg->default_rsv, 0, sizeof(cfg->default_rsv));
	memset(&cfg->default_lim, 0, sizeof(cfg->default_lim));
	memset(&cfg->default_bst, 0, sizeof(cfg->default_bst));
	i = IOBAND_TABLE_FIXED_ARGS;
	/* The default group's parameter is the first one with a leading delimiter. */
	if (i < argc && is_delim(argv[i][0])) {
		if (ranges) {
			r = parse_range(argv[i] + 1, &cfg->default_min_kbs,
					&cfg->default_max_kbs, err);
		} else {
			r = parse_weight_opts(argv[i] + 1, &cfg->default_weight,
					      &cfg->default_rsv,
					      &cfg->default_lim,
					      &cfg->default_bst,
					      "Invalid default group weight :<weight> (1..32767)",
					      err);
		}
		if (r)
			return r;
		i++;
	}

	if (i < argc && cfg->type == IOBAND_TYPE_NONE) {
		*err = "Groups need a group type other than none";
		return -EINVAL;
	}
	if (argc - i > IOBAND_GROUPS_MAX) {
		*err = "Too many groups (at most 65536 per device)";
		return -EINVAL;
	}

	for (; i < argc; i++) {
		struct ioband_group_cfg *g = &cfg->groups[cfg->nr_groups];
		char *val, delim;

		if (is_delim(argv[i][0])) {
			*err = ranges ?
				"Default group range :<min>:<max> given twice or after a group" :
				"Default group weight :<weight> given twice or after a group";
			return -EINVAL;
		}
		val = split_param(argv[i], &delim);
		if (!val) {
			*err = ranges ?
				"Invalid group parameter (expected <group-id>:<min>:<max>)" :
				"Invalid group parameter (expected <group-id>:<weight>)";
			return -EINVAL;
		}
		r = ioband_parse_group_id(argv[i], cfg->type, &g->id, err);
		val[-1] = delim;	/* leave argv as dm core gave it */
		if (r)
			return r;
		g->weight = IOBAND_WEIGHT_DEFAULT;
		memset(&g->rsv, 0, sizeof(g->rsv));
		memset(&g->lim, 0, sizeof(g->lim));
		memset(&g->bst, 0, sizeof(g->bst));
		g->min_kbs = 0;
		g->max_kbs = 0;
		if (ranges) {
			r = parse_range(val, &g->min_kbs, &g->max_kbs, err);
			if (r)
				return r;
		} else {
			r = parse_weight_opts(val, &g->weight, &g->rsv,
					      &g->lim, &g->bst,
					      "Invalid group weight <group-id>:<weight> (1..32767)",
					      err);
			if (r)
				return r;
		}
		cfg->nr_groups++;
	}
	return check_unique_ids(cfg, err);
}

static int msg_need_args(unsigned int argc, unsigned int n, char **err)
{
	if (argc != n) {
		*err = n == 1 ? "Message takes no argument" :
			"Message takes exactly one argument";
		return -EINVAL;
	}
	return 0;
}

/*
 * range-bw <group-id>:<min>:<max>: -1 (as 1.14) or nothing before the first
 * delimiter addresses the default group.
 */
static int parse_range_msg(char *arg, enum ioband_type type,
			   struct ioband_msg *msg, char **err)
{
	char *val, delim;
	int r;

	if (is_delim(arg[0]))
		return parse_range(arg + 1, &msg->min_kbs, &msg->max_kbs, err);
	val = split_param(arg, &delim);
	if (!val) {
		*err = "Invalid range-bw message (expected <group-id>:<min>:<max>, -1 for the default group)";
		return -EINVAL;
	}
	if (!strcmp(arg, "-1")) {
		r = 0;
	} else if (arg[0] == '-') {
		*err = "Invalid group id: the only negative one is -1 (the default group)";
		r = -EINVAL;
	} else {
		r = ioband_parse_group_id(arg, type, &msg->id, err);
		msg->has_id = !r;
	}
	val[-1] = delim;
	if (r)
		return r;
	return parse_range(val, &msg->min_kbs, &msg->max_kbs, err);
}

/* The messages that take one argument. */
static const struct {
	const char *name;
	enum ioband_msg_verb verb;
} msg_verbs[] = {
	{ "weight", IOBAND_MSG_WEIGHT },
	{ "token", IOBAND_MSG_TOKEN },
	{ "attach", IOBAND_MSG_ATTACH },
	{ "detach", IOBAND_MSG_DETACH },
	{ "type", IOBAND_MSG_TYPE },
	{ "policy", IOBAND_MSG_POLICY },
	{ "io_throttle", IOBAND_MSG_IO_THROTTLE },
	{ "io_limit", IOBAND_MSG_IO_LIMIT },
	{ "range-bw", IOBAND_MSG_RANGE_BW },
	{ "reserve", IOBAND_MSG_RESERVE },
	{ "limit", IOBAND_MSG_LIMIT },
	{ "burst", IOBAND_MSG_BURST },
};

int ioband_parse_message(unsigned int argc, char **argv,
			 enum ioband_type type, struct ioband_msg *msg,
			 char **err)
{
	const char *verb;
	char *arg, *val, delim;
	unsigned int i;
	int r;

	memset(msg, 0, sizeof(*msg));
	if (!argc) {
		*err = "Empty message";
		return -EINVAL;
	}
	verb = argv[0];

	if (!strcmp(verb, "reset") || !strcmp(verb, "stats")) {
		msg->verb = !strcmp(verb, "reset") ? IOBAND_MSG_RESET :
			IOBAND_MSG_STATS;
		return msg_need_args(argc, 1, err);
	}

	for (i = 0; i < ARRAY_SIZE(msg_verbs); i++)
		if (!strcmp(verb, msg_verbs[i].name))
			break;
	if (i == ARRAY_SIZE(msg_verbs)) {
		*err = "Unknown message (weight, attach, detach, type, policy, token, io_throttle, io_limit, range-bw, reserve, limit, burst, reset, stats)";
		return -EINVAL;
	}
	msg->verb = msg_verbs[i].verb;

	r = msg_need_args(argc, 2, err);
	if (r)
		return r;
	arg = argv[1];

	switch (msg->verb) {
	case IOBAND_MSG_WEIGHT:
	case IOBAND_MSG_TOKEN:
	case IOBAND_MSG_RESERVE:
	case IOBAND_MSG_LIMIT:
	case IOBAND_MSG_BURST:
		/* [<id>:]<value>; a bare ":<value>" addresses the default group. */
		val = arg;
		if (is_delim(arg[0])) {
			val = arg + 1;
		} else if (strpbrk(arg, IOBAND_PARAM_DELIM)) {
			val = split_param(arg, &delim);
			r = ioband_parse_group_id(arg, type, &msg->id, err);
			val[-1] = delim;
			if (r)
				return r;
			msg->has_id = true;
		}
		if (msg->verb == IOBAND_MSG_RESERVE ||
		    msg->verb == IOBAND_MSG_LIMIT)
			return ioband_parse_rate(val, &msg->rate, err);
		if (msg->verb == IOBAND_MSG_BURST)
			return ioband_parse_burst(val, &msg->burst, err);
		if (msg->verb == IOBAND_MSG_WEIGHT) {
			u32 w;

			r = parse_weight(val, &w, err);
			if (r)
				return r;
			msg->value = w;
		} else if (kstrtoull(val, 10, &msg->value) ||
			   msg->value > IOBAND_TOKEN_MAX) {
			*err = "Invalid token (0..2^40, 0 = default)";
			return -EINVAL;
		}
		return 0;
	case IOBAND_MSG_RANGE_BW:
		return parse_range_msg(arg, type, msg, err);
	case IOBAND_MSG_ATTACH:
	case IOBAND_MSG_DETACH:
		return ioband_parse_group_id(arg, type, &msg->id, err);
	case IOBAND_MSG_TYPE:
		return ioband_parse_type(arg, &msg->type, err);
	case IOBAND_MSG_POLICY:
		return ioband_parse_policy_opts(arg, &msg->policy,
						&msg->dg_limit, err);
	case IOBAND_MSG_IO_THROTTLE:
	case IOBAND_MSG_IO_LIMIT: {
		u32 v;

		if (parse_u32_range(arg, 0, IOBAND_THROTTLE_MAX, &v)) {
			*err = msg->verb == IOBAND_MSG_IO_LIMIT ?
				"Invalid io_limit (0..32767, 0 = default)" :
				"Invalid io_throttle (0..32767, 0 = default)";
			return -EINVAL;
		}
		msg->value = v;
		return 0;
	}
	default:
		break;
	}
	*err = "Unknown message";
	return -EINVAL;
}
