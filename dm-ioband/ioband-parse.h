/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-parse.h - table line and message parsing for dm-ioband.
 *
 * Kernel-independent: it only turns words into a validated description and
 * says which field was wrong.  The target (dm-ioband.c) applies the result;
 * the unit tests (tests/unit/) drive the same code in userspace.
 */
#ifndef IOBAND_PARSE_H
#define IOBAND_PARSE_H

#include "ioband-compat.h"

#define IOBAND_NAME_MAX		31	/* device-group id, as in dm-ioband 1.14 */
#define IOBAND_THROTTLE_MAX	32767	/* io_throttle, io_limit: SHRT_MAX as in 1.14 */
#define IOBAND_WEIGHT_MIN	1
#define IOBAND_WEIGHT_MAX	32767
#define IOBAND_WEIGHT_DEFAULT	100
#define IOBAND_TOKEN_MAX	(1ULL << 40)
#define IOBAND_GROUPS_MAX	65536	/* extra groups per target */
#define IOBAND_PID_MAX		4194304	/* PID_MAX_LIMIT on 64-bit */
#define IOBAND_DEFAULT_GROUP	(-1)	/* how the default group is shown */
#define IOBAND_RANGE_MAX	1073741823	/* range-bw KB/s: INT_MAX / 2, as 1.14 */
#define IOBAND_RATE_IOPS_MAX	100000000ULL	/* r=, l=: I/Os per second */
#define IOBAND_RATE_BYTES_MAX	(1ULL << 40)	/* r=, l=: bytes per second */

/* Fixed positions of the table line after <start> <len> ioband. */
#define IOBAND_TABLE_FIXED_ARGS	7	/* <device> ... <token_base> */

enum ioband_type {
	IOBAND_TYPE_NONE,
	IOBAND_TYPE_UID,
	IOBAND_TYPE_GID,
	IOBAND_TYPE_PID,
	IOBAND_TYPE_PGRP,
	IOBAND_TYPE_CGROUP,
	IOBAND_TYPE_NR,
};

enum ioband_policy_id {
	IOBAND_POLICY_WEIGHT,
	IOBAND_POLICY_WEIGHT_IOSIZE,
	IOBAND_POLICY_RANGE_BW,
	IOBAND_POLICY_NR,
};

/* A reservation or limit: per second, I/Os or bytes; rate 0 = none. */
struct ioband_rate {
	u64 rate;
	bool iops;
};

/*
 * A burst beside a limit: up to @rate (same unit as the limit, above it)
 * for @secs seconds (1..IOBAND_BURST_SECS_MAX); rate 0 = none.
 */
struct ioband_burst {
	struct ioband_rate rate;
	u32 secs;
};

#define IOBAND_BURST_SECS_MAX	3600

/*
 * A device group's limit and burst, after its policy:
 * "<policy>[,l=<rate>][,b=<rate>/<secs>]".  has_*: given (a member's table
 * without them inherits the device group's; a message keeps them).
 */
struct ioband_dg_limit {
	struct ioband_rate lim;
	struct ioband_burst bst;
	bool has_lim;
	bool has_bst;
};

/*
 * A group's parameters: its weight and optional reservation and limit
 * (weight, weight-iosize: "<weight>[,r=<rate>][,l=<rate>[,b=<rate>/<secs>]]"), or its range
 * in KB/s (range-bw; min 0: no reservation, max 0: no cap).  A table sets
 * those of its policy; the others keep their defaults.
 */
struct ioband_group_cfg {
	u64 id;
	u32 weight;
	struct ioband_rate rsv;
	struct ioband_rate lim;
	struct ioband_burst bst;
	u32 min_kbs;
	u32 max_kbs;
};

/* A parsed and validated table line, everything but the device path. */
struct ioband_table_cfg {
	char devgroup[IOBAND_NAME_MAX + 1];
	u32 io_throttle;	/* 0: default */
	u32 io_limit;		/* 0: default */
	enum ioband_type type;
	enum ioband_policy_id policy;
	struct ioband_dg_limit dg_limit;
	u64 token_base;		/* 0: default */
	u32 default_weight;
	struct ioband_rate default_rsv;
	struct ioband_rate default_lim;
	struct ioband_burst default_bst;
	u32 default_min_kbs;	/* range-bw */
	u32 default_max_kbs;
	unsigned int nr_groups;
	struct ioband_group_cfg *groups;	/* caller-provided, >= argc entries */
};

enum ioband_msg_verb {
	IOBAND_MSG_WEIGHT,
	IOBAND_MSG_ATTACH,
	IOBAND_MSG_DETACH,
	IOBAND_MSG_TYPE,
	IOBAND_MSG_POLICY,
	IOBAND_MSG_TOKEN,
	IOBAND_MSG_IO_THROTTLE,
	IOBAND_MSG_IO_LIMIT,
	IOBAND_MSG_RESET,
	IOBAND_MSG_STATS,
	IOBAND_MSG_RANGE_BW,
	IOBAND_MSG_RESERVE,
	IOBAND_MSG_LIMIT,
	IOBAND_MSG_BURST,
};

struct ioband_msg {
	enum ioband_msg_verb verb;
	bool has_id;		/* weight/token/range-bw: a group id was given */
	u64 id;
	u64 value;		/* weight, token, io_throttle, io_limit */
	u32 min_kbs;		/* range-bw */
	u32 max_kbs;
	struct ioband_rate rate;	/* reserve, limit */
	struct ioband_burst burst;	/* burst */
	enum ioband_type type;
	enum ioband_policy_id policy;
	struct ioband_dg_limit dg_limit;	/* policy */
};

const char *ioband_type_name(enum ioband_type type);
const char *ioband_policy_name(enum ioband_policy_id policy);
int ioband_parse_type(const char *s, enum ioband_type *type, char **err);
int ioband_parse_policy(const char *s, enum ioband_policy_id *policy,
			char **err);
/* "<policy>[,l=<rate>][,b=<rate>/<secs>]", in place (put back). */
int ioband_parse_policy_opts(char *s, enum ioband_policy_id *policy,
			     struct ioband_dg_limit *dgl, char **err);
int ioband_parse_group_id(const char *s, enum ioband_type type, u64 *id,
			  char **err);
/* "<n>iops" or "<n>[k|m|g]" (bytes/s, 1k = 1024); "0": none. */
int ioband_parse_rate(const char *s, struct ioband_rate *r, char **err);
/* "<rate>/<secs>", or "0": none. */
int ioband_parse_burst(const char *s, struct ioband_burst *b, char **err);
/*
 * Whether burst @b may go with limit @lim: NULL, or what is wrong (no
 * limit, another unit, not above the limit).
 */
const char *ioband_burst_problem(const struct ioband_burst *b,
				 const struct ioband_rate *lim);

/*
 * Parse argv[1..] of a table line (argv[0] is the device, which only the
 * kernel can resolve).  cfg->groups must have room for argc entries; they
 * come back sorted by id.  Returns 0, or -EINVAL with *err naming the bad
 * field (a duplicate id is found after every group parsed).
 */
int ioband_parse_table(unsigned int argc, char **argv,
		       struct ioband_table_cfg *cfg, char **err);

/*
 * Parse a message.  Only syntax and ranges are checked here; whether a group
 * exists is the target's business.  The type is needed to range-check ids.
 * Returns 0, or -EINVAL with *err naming what was wrong.
 */
int ioband_parse_message(unsigned int argc, char **argv,
			 enum ioband_type type, struct ioband_msg *msg,
			 char **err);

#endif /* IOBAND_PARSE_H */
