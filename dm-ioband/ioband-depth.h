/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-depth.h - the automatic depth of a device group (io_limit 0):
 * per-period latency and completion counts in, the depth bound out.
 *
 * Kernel-independent: compiled into the module and, unchanged, into the
 * userspace simulator (tests/unit/sim-depth.c).  The caller serialises
 * ioband_depth_update() (one caller per period); the per-completion side
 * (ioband_depth_bucket() and the sums in struct ioband_depth_period) is
 * the caller's, kept in atomics.  The design is in docs/scheduling.md.
 */
#ifndef IOBAND_DEPTH_H
#define IOBAND_DEPTH_H

#include "ioband-compat.h"

/* Size buckets: <= 4 KiB, 8 KiB, ..., >= 512 KiB. */
#define IOBAND_DEPTH_BUCKETS	8
/* Periods whose averages make up the latency baseline (a windowed min). */
#define IOBAND_DEPTH_WINDOW	10
/*
 * Every this many periods one runs below the bound (7/8 and 3/4 in turn;
 * at the maximum 7/8) to re-learn the baseline, and half-way between them
 * one at 5/4 to see whether the disk does more.
 */
#define IOBAND_DEPTH_PROBE	8
/*
 * Every this many probes below, one goes to 3/4 (the others to 7/8; at
 * the maximum all do unless a probe found a queue or a baseline is new).
 */
#define IOBAND_DEPTH_DEEP	2
/*
 * At the maximum, each probe in a row that found no queue doubles the
 * periods to the next, up to this many doublings.
 */
#define IOBAND_DEPTH_QUIET_MAX	2
/* Binding periods whose slot fill the bound takes the largest of. */
#define IOBAND_DEPTH_FILLS	4
/* Fixed point of the depth. */
#define IOBAND_DEPTH_ONE	1024
/* A period: at least this long and at least this many timed completions. */
#define IOBAND_DEPTH_PERIOD_NS	(50ULL * 1000 * 1000)
#define IOBAND_DEPTH_MIN_SAMPLES	8
/* Without a request queue below: the bound never exceeds this. */
#define IOBAND_DEPTH_MAX_DEFAULT	1024
/* Periods without refusals (ioband-depth.c) that forget a learned maximum. */
#define IOBAND_DEPTH_FORGET	64
#define IOBAND_DEPTH_INIT	1
/*
 * One group alone may pass the bound by what the disk completes in this
 * long (ioband_depth_solo_extra()): the longest a newcomer's first bio
 * waits behind those extra bios.
 */
#define IOBAND_SOLO_QUEUE_NS	(1000ULL * 1000)

/*
 * What the caller observed in one period.  Every completion is work done
 * in the period; only those of I/Os dispatched within it are timed: the
 * others were dispatched under an earlier bound (on a disk whose latency
 * is near the period's length, most of them), and would show that bound's
 * latency, not this one's.  The caller ends a period once it has
 * IOBAND_DEPTH_MIN_SAMPLES timed completions, so a period lasts at least
 * one latency.
 */
struct ioband_depth_period {
	u64 nr[IOBAND_DEPTH_BUCKETS];		/* completions */
	u64 lnr[IOBAND_DEPTH_BUCKETS];		/* of them, timed */
	u64 lat_ns[IOBAND_DEPTH_BUCKETS];	/* their dispatch->end_io sum */
	u64 len_ns;		/* length of the period */
	bool held;		/* a bio was held: the bound was binding */
	/*
	 * Slots freed while bios were held, and the time they stayed empty
	 * before a held bio took them (the dispatcher's refill gap).
	 */
	u64 refills;
	u64 gap_ns;
	/*
	 * Of the bios the disk refused for want of a free tag (REQ_NOWAIT),
	 * the fewest in flight when one was sent (itself included); 0: none.
	 */
	u32 refused;
	u64 nr_refused;		/* how many */
};

struct ioband_depth {
	u64 depth;		/* fixed point, IOBAND_DEPTH_ONE = 1 */
	u32 max;		/* what the disk takes: disk_max or learned */
	u32 disk_max;		/* what the caller said it takes */
	u32 refused_age;	/* periods since a refusal lowered max */
	u32 limit;		/* the bound to apply now (probe included) */
	u32 period;		/* periods seen */
	bool probing;		/* this period runs below or above the bound */
	bool probe_down;	/* ... below it */
	bool probe_deep;	/* ... at 3/4 */
	bool probe_max;		/* ... from the maximum */
	bool deep;		/* the next probe below goes to 3/4 in any case */
	u32 quiet;		/* probes at the maximum in a row that found none */
	bool startup;		/* doubling while the rate grows */
	bool doubled;		/* startup: a binding period doubled it */
	u32 flat;		/* startup: periods the rate did not grow */
	u32 slow;		/* consecutive periods that looked slower */
	/* Per bucket, period averages of the last WINDOW periods (0 = none). */
	u64 win[IOBAND_DEPTH_BUCKETS][IOBAND_DEPTH_WINDOW];
	u64 base_ns[IOBAND_DEPTH_BUCKETS];	/* min of win[b] (0 = none) */
	/*
	 * Completions per bucket and length of the last WINDOW periods: their
	 * work (completions at their unqueued latency per unit of time: the
	 * I/Os the disk served in parallel) is reckoned at the current
	 * baselines, so that a baseline learned lower corrects them all.
	 */
	u32 wnr[IOBAND_DEPTH_WINDOW][IOBAND_DEPTH_BUCKETS];
	u64 wlen[IOBAND_DEPTH_WINDOW];
	/* the largest work in the window (of two periods together): the knee */
	u64 est;
	u32 ratio;		/* last latency / baseline, x1024 */
	u32 fills[IOBAND_DEPTH_FILLS];	/* slot fill of the last binding periods */
	u32 fill_i;
	u32 cuts;		/* sudden slowdowns seen */
};

static inline unsigned int ioband_depth_bucket(u32 sectors)
{
	unsigned int b = 0;

	sectors >>= 4;		/* 8 KiB and up: one bucket per power of 2 */
	while (sectors && b < IOBAND_DEPTH_BUCKETS - 1) {
		sectors >>= 1;
		b++;
	}
	return b;
}

void ioband_depth_init(struct ioband_depth *d, u32 max);

/*
 * End of a period: learn from @p and compute the new bound, returned and
 * left in d->limit (1 <= limit <= max).
 */
u32 ioband_depth_update(struct ioband_depth *d,
			const struct ioband_depth_period *p);

/*
 * A period the caller dropped: end a probe, learn the tags from its
 * refusals (only them); returns the bound (d->limit).
 */
u32 ioband_depth_skip(struct ioband_depth *d,
		      const struct ioband_depth_period *p);

/* The estimate is under half a slot: the disk is idle most of the time. */
bool ioband_depth_idle_disk(const struct ioband_depth *d);

/*
 * How many bios past @limit one group alone may have in flight (the
 * caller's solo spell): what the disk completes in IOBAND_SOLO_QUEUE_NS.
 */
u32 ioband_depth_solo_extra(const struct ioband_depth *d, u32 limit);

/* The latency baseline and target of 4 KiB I/O, in ns (0: not known). */
u64 ioband_depth_base_ns(const struct ioband_depth *d);
u64 ioband_depth_target_ns(const struct ioband_depth *d);

/*
 * A fixed io_limit has no bound to find, but the grace and the pace slack
 * follow the disk's latency all the same: the estimate after period @p,
 * from @base_ns (0: none yet; returns 0 while no 4 KiB I/O was timed).
 */
u64 ioband_depth_fixed_base(u64 base_ns, const struct ioband_depth_period *p);

#endif /* IOBAND_DEPTH_H */
