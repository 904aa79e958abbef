/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband.h - the dm-ioband table, status and "stats" reply, as data.
 *
 * Table parameters (what follows "<start> <len> ioband"):
 *
 *   <device> <device-group-id> <io_throttle> <io_limit> <type> <policy>
 *   <token_base> [:<weight>] [<group-id>:<weight> ...]
 *
 * The kernel prints the same fields with <device> as maj:min and
 * io_throttle, io_limit and token_base as configured (0 stays 0).
 */
#ifndef IOBAND_IOBAND_H
#define IOBAND_IOBAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOB_TARGET		"ioband"
#define IOB_NAME_MAX		31	/* device-group id */
#define IOB_WEIGHT_MIN		1
#define IOB_WEIGHT_MAX		32767
#define IOB_WEIGHT_DEFAULT	100
#define IOB_RANGE_MAX		1073741823	/* range-bw KB/s, as the module */
#define IOB_THROTTLE_MAX	32767
#define IOB_TOKEN_MAX		(1ULL << 40)
#define IOB_PID_MAX		4194304ULL
#define IOB_DEFAULT_GROUP	(-1)
#define IOB_GROUPS_MAX		65536	/* extra groups per device, as the module */

enum iob_type { IOB_NONE, IOB_UID, IOB_GID, IOB_PID, IOB_PGRP, IOB_CGROUP, IOB_TYPE_NR };
enum iob_policy { IOB_WEIGHT, IOB_WEIGHT_IOSIZE, IOB_RANGE_BW, IOB_POLICY_NR };

/*
 * A reservation, limit or burst rate (weight, weight-iosize): per second,
 * I/Os ("500iops", up to 10^8) or bytes ("1048576", "1024k", "20m", "1g";
 * 1k..2^40); rate 0 = none.  Parsed by the module's ioband_parse_rate()
 * (kparse.c).
 */
#define IOB_RATE_BYTES_MIN	1024ULL
#define IOB_BURST_SECS_MAX	3600
#define IOB_RATE_STR_MAX	24	/* "1099511627776", "100000000iops" */

struct iob_rate {
	uint64_t rate;
	bool iops;
};

/* A group's ",r=<rate>,l=<rate>,b=<rate>/<secs>" after its weight. */
struct iob_limits {
	struct iob_rate rsv, lim, burst;
	unsigned int burst_secs;	/* 1..3600 when burst.rate */
};

struct iob_group {
	uint64_t id;
	unsigned int weight;
	struct iob_limits lim;
	unsigned int min_kbs, max_kbs;	/* range-bw */
};

struct iob_table {
	char *device;			/* path or maj:min */
	char devgroup[IOB_NAME_MAX + 1];
	unsigned int io_throttle, io_limit;
	uint64_t token_base;
	enum iob_type type;
	enum iob_policy policy;
	struct iob_limits dg_lim;	/* ",l=" ",b=" after the policy (no rsv) */
	unsigned int default_weight;
	struct iob_limits default_lim;
	unsigned int default_min_kbs, default_max_kbs;	/* range-bw */
	struct iob_group *groups;
	size_t n_groups;
};

/* A reservation's state in the status: "-", "met", "unmet" (lost service
 * in the last second); IOB_RSV_UNKNOWN from older modules' 3-field part. */
enum iob_rsv { IOB_RSV_UNKNOWN, IOB_RSV_NONE, IOB_RSV_MET, IOB_RSV_UNMET };

/* One group of "dmsetup status" (both halves) or of the "stats" reply. */
struct iob_gstat {
	int64_t id;			/* IOB_DEFAULT_GROUP for the default group */
	unsigned int weight;		/* stats reply only (0 from status) */
	uint64_t reads, delayed_reads, read_sectors;
	uint64_t writes, delayed_writes, write_sectors;
	uint64_t queued, wait_us;
	/* from status's " limits" part (range-bw, r=, l=, b=) */
	enum iob_rsv rsv;
	uint64_t rsv_lag_us, limited_us;
};

struct iob_status {
	char devgroup[IOB_NAME_MAX + 1];
	struct iob_gstat *g;
	size_t n;
	/* " depth <io_limit> <auto|fixed> <base us> <target us>" (newer targets) */
	bool has_depth;
	bool depth_auto;
	uint64_t depth, depth_base_us, depth_target_us;
	/*
	 * " limits <group> <rsv> <rsv-lag-us> <limited-us>..." (range-bw, or
	 * a group with r=, l= or b=); older modules: no <rsv>.
	 */
	bool has_limits;
	/* " dglimit <limited-us>" (a device group with its own l=) */
	bool has_dglimit;
	uint64_t dglimit_us;
	/* "refused <count> <tags>": bios the disk refused, the learned max */
	bool has_refused;
	uint64_t refused, refused_tags;
};

const char *iob_type_name(enum iob_type t);
const char *iob_policy_name(enum iob_policy p);
/* Accept the kernel's aliases (user = uid, default = weight). */
int iob_parse_type(const char *s, enum iob_type *t);
int iob_parse_policy(const char *s, enum iob_policy *p);
/* Range-check a group id for a type; 0 if valid. */
int iob_check_group_id(enum iob_type t, uint64_t id);
const char *iob_group_id_range(enum iob_type t);

/* Parse a rate; -EINVAL when malformed or out of range. */
int iob_rate_parse(const char *s, struct iob_rate *r);
/* "<rate>/<secs>" (a burst); secs 1..3600, rate not 0. */
int iob_burst_parse(const char *s, struct iob_rate *r, unsigned int *secs);
/* As the module prints it: <n>iops, or bytes in the largest exact unit. */
void iob_rate_format(const struct iob_rate *r, char *buf, size_t len);
/* a == b (both none counts as equal) */
bool iob_rate_eq(const struct iob_rate *a, const struct iob_rate *b);
bool iob_limits_eq(const struct iob_limits *a, const struct iob_limits *b);
/*
 * What keeps table T out of the device group whose member has table DG, as
 * the module's ioband_devgroup_join() checks it: another policy, or a
 * shared parameter T gives (0 inherits) other than DG's; l= and b= only
 * when T's policy gives them (HAS_LIM, HAS_BST).
 */
enum iob_join {
	IOB_JOIN_OK, IOB_JOIN_POLICY, IOB_JOIN_THROTTLE, IOB_JOIN_LIMIT,
	IOB_JOIN_TOKEN, IOB_JOIN_LIM, IOB_JOIN_BST,
};
enum iob_join iob_join_conflict(const struct iob_table *t, bool has_lim, bool has_bst,
				const struct iob_table *dg);
bool iob_limits_any(const struct iob_limits *l);
/*
 * What is wrong with L as a whole, or NULL; *key is then "min", "max" or
 * "burst" (the host file's names): a reservation above the limit in the
 * same unit, a burst without a limit, in another unit, or not above it.
 */
const char *iob_limits_problem(const struct iob_limits *l, const char **key);
/* ",r=..,l=..,b=../.." or "" (malloc'ed) */
char *iob_limits_format(const struct iob_limits *l);
const char *iob_rsv_name(enum iob_rsv r);

void iob_table_init(struct iob_table *t);
void iob_table_free(struct iob_table *t);
void iob_table_copy(struct iob_table *dst, const struct iob_table *src);
struct iob_group *iob_table_group(const struct iob_table *t, uint64_t id);
void iob_table_add_group(struct iob_table *t, uint64_t id, unsigned int weight);
void iob_table_del_group(struct iob_table *t, uint64_t id);
/* Parse table params; on error return -EINVAL with *err a static message. */
int iob_table_parse(const char *params, struct iob_table *t, const char **err);
char *iob_table_format(const struct iob_table *t);

int iob_status_parse(const char *params, struct iob_status *st, const char **err);
int iob_stats_parse(const char *reply, struct iob_status *st, const char **err);
struct iob_gstat *iob_status_group(const struct iob_status *st, int64_t id);
void iob_status_free(struct iob_status *st);

#endif
