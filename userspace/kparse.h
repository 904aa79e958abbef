/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kparse.h - the module's parsers (dm-ioband/ioband-parse.c) for
 * iobandctl and its fake backend.  0, or -EINVAL.
 */
#ifndef IOBAND_KPARSE_H
#define IOBAND_KPARSE_H

#include "ioband.h"

#include <stdbool.h>
#include <stdint.h>

/* "<n>iops", "<n>[k|m|g]" (bytes/s) or "0" (none) */
int iob_kparse_rate(const char *s, uint64_t *rate, bool *iops);
/* "<rate>/<secs>", or "0" (none: *rate 0) */
int iob_kparse_burst(const char *s, uint64_t *rate, bool *iops, unsigned int *secs);
/*
 * The module's ioband_burst_problem(): NULL, or why burst B cannot go
 * with limit L (its text).
 */
const char *iob_kburst_problem(const struct iob_rate *b, const struct iob_rate *l);

/*
 * Table PARAMS as the module's constructor parses them (all but the
 * device): -EINVAL with *err its ti->error.  *has_lim, *has_bst: whether
 * the policy gives ",l=" and ",b=" (a member that gives them must agree
 * with its device group).
 */
int iob_kparse_table(const char *params, bool *has_lim, bool *has_bst, const char **err);

/* A message the module's parser accepted: ioband_parse_message(). */
struct iob_kmsg {
	char verb[16];			/* its first word */
	bool has_id;			/* weight, token, reserve, limit, burst, range-bw */
	uint64_t id;			/* and attach, detach */
	uint64_t value;			/* weight, token, io_throttle, io_limit */
	unsigned int min_kbs, max_kbs;	/* range-bw */
	struct iob_rate rate;		/* reserve, limit; burst: its rate (0: none) */
	unsigned int burst_secs;	/* burst */
	enum iob_type type;		/* type */
	enum iob_policy policy;		/* policy */
	struct iob_limits dg_lim;	/* policy: its l= and b=, */
	bool has_lim, has_bst;		/* when given */
};

/*
 * MSG (the words after "message <dev> 0") as the module parses it for a
 * device of type TYPE: -EINVAL with *err the module's reason.
 */
int iob_kparse_message(const char *msg, enum iob_type type, struct iob_kmsg *m, const char **err);

#endif
