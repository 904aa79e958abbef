/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-limit.h - reservations and limits: a rate per group, paced by a
 * tag in wall-clock time, in the manner of mClock (Gulati et al., OSDI'10;
 * ceph/dmclock).  Used by range-bw (min = reservation, max = limit) and
 * by the weight policies' r= and l=.
 *
 * Kernel-independent, like ioband-sched.h: the caller keeps the tags
 * (atomically, or under its lock) and reads the clock.  docs/scheduling.md,
 * "Ranges", has the design and a worked example.
 *
 * A pace is a rate in cost units per second: bytes (a bio's size) or I/Os
 * (1 each).  Its tag is the time up to which the group has
 * been given what the rate allows: an I/O of cost c moves it by c / rate
 * seconds, starting no earlier than now - slack, so that a group that was
 * idle cannot bank more than the slack: IOBAND_PACE_SLACK_NS (5 ms), or
 * on a slow disk twice its latency (ioband_pace_slack_ns()).
 *
 * - Limit: a group may send an I/O while its limit tag is not after now.
 *   Over any window of W ns it sends at most rate x (W + slack) plus one
 *   I/O: the burst allowance is the slack's worth and one I/O (with a
 *   burst b=, what it banked: ioband_burst_bank_ns()).  One
 *   exception: an I/O that waited for its limit and is sent late (the
 *   timer and the dispatch work ran late: the dispatcher's lateness, not
 *   the group's idleness) moves the tag from where it was, up to
 *   IOBAND_PACE_LATE_NS (or the slack, if more) back, so that a loaded
 *   host, or a slow disk's slot that frees late, does not cut a capped
 *   group below its max; right after such a late release the group may
 *   catch up that much (ioband_pace_next_waited()).
 * - Reservation: a group is due while its reservation tag is not after
 *   now; a due group with bios held is served before the weights are
 *   looked at.  Only the I/Os sent for the reservation move the tag (and
 *   they do not move the group's virtual time), as mClock takes back the
 *   reservation tag of a request served by weight: a backlogged group gets
 *   its reservation, and on top of it its weight's share of what is left.
 */
#ifndef IOBAND_LIMIT_H
#define IOBAND_LIMIT_H

#include "ioband-compat.h"
#include "ioband-parse.h"

/*
 * What a group may bank while idle, and what covers the lateness of the
 * timer and the dispatch work that release a limited group: at least
 * IOBAND_PACE_SLACK_NS, and on a slow disk twice its 4 KiB latency (up to
 * IOBAND_PACE_SLACK_MAX_NS; ioband_pace_slack_ns()).
 */
#define IOBAND_PACE_SLACK_NS	(5ULL * 1000 * 1000)
#define IOBAND_PACE_SLACK_MAX_NS	(100ULL * 1000 * 1000)

/*
 * When reservations cannot all be met, they would take every slot: after
 * this many dispatches in a row for reservations while another group is
 * at the head of the backlog, one goes by weight, so groups without a
 * reservation get at least 1/(IOBAND_RSV_RUN + 1) of the dispatches.
 */
#define IOBAND_RSV_RUN		7

/* How much of the dispatcher's lateness a group held by its limit recovers. */
#define IOBAND_PACE_LATE_NS	(15ULL * 1000 * 1000)

/* A group's rate, encoded in a u64: bytes per second, or I/Os with this bit. */
#define IOBAND_RATE_IOPS	(1ULL << 63)

static inline u64 ioband_rate_enc(const struct ioband_rate *r)
{
	return r->rate ? r->rate | (r->iops ? IOBAND_RATE_IOPS : 0) : 0;
}

static inline struct ioband_rate ioband_rate_dec(u64 enc)
{
	return (struct ioband_rate) {
		.rate = enc & ~IOBAND_RATE_IOPS,
		.iops = !!(enc & IOBAND_RATE_IOPS),
	};
}

/*
 * The slack of a device group whose 4 KiB I/O takes @base_ns when nothing
 * queues (0: not known, a fixed io_limit).  A disk frees its slots in
 * bursts, one latency apart when it is slow (8 tags of 40 ms: eight slots
 * every 40 ms): a group paced with less slack than that finds its tag
 * closed at each burst and open between them, when the slots are taken,
 * and gets far less than its limit or its reservation (65 of a 100 IOPS
 * limit whose weight gave it 92).  Twice the latency lets it bank for the
 * next burst; a fast disk keeps IOBAND_PACE_SLACK_NS.  At most
 * IOBAND_PACE_SLACK_MAX_NS, the 100 ms of blk-throttle's slice and of
 * QEMU's default burst.
 */
static inline u64 ioband_pace_slack_ns(u64 base_ns)
{
	return max_t(u64, min_t(u64, 2 * base_ns, IOBAND_PACE_SLACK_MAX_NS),
		     IOBAND_PACE_SLACK_NS);
}

/* Time an I/O of @cost takes at @rate (> 0) cost units per second. */
static inline u64 ioband_pace_ns(u64 cost, u64 rate)
{
	return mul_u64_u64_div_u64(cost, 1000000000ULL, rate);
}

/* Whether @tag is not after @now (tags are compared as a wrapping clock). */
static inline bool ioband_pace_open(u64 tag, u64 now)
{
	return (s64)(tag - now) <= 0;
}

/*
 * The tag after an I/O of @cost at @rate, sent at @now.  @bank (ns) is what
 * the group may have banked while under its rate: the device group's slack
 * (ioband_pace_slack_ns()), or what a burst gives (ioband_burst_bank_ns());
 * never less than IOBAND_PACE_SLACK_NS.
 */
static inline u64 ioband_pace_next(u64 tag, u64 now, u64 cost, u64 rate,
				   u64 bank)
{
	u64 from = now - max_t(u64, bank, IOBAND_PACE_SLACK_NS);

	if ((s64)(tag - from) < 0)
		tag = from;
	return tag + ioband_pace_ns(cost, rate);
}

/*
 * The limit tag after an I/O queued at @queued and sent at @now: one that
 * was queued before the tag opened waited for its limit, so the tag moves
 * from where it was (at most IOBAND_PACE_LATE_NS, or the @bank, back); one
 * queued later was not held by its limit, as ioband_pace_next().
 */
static inline u64 ioband_pace_next_waited(u64 tag, u64 now, u64 queued,
					  u64 cost, u64 rate, u64 bank)
{
	u64 from = now - max_t(u64, bank, IOBAND_PACE_LATE_NS);

	if ((s64)(queued - tag) > 0)
		return ioband_pace_next(tag, now, cost, rate, bank);
	if ((s64)(tag - from) < 0)
		tag = from;
	return tag + ioband_pace_ns(cost, rate);
}

/*
 * A burst (b=<peak>/<secs> beside l=<rate>, as QEMU's iops-total-max and
 * iops-total-max-length): a group under its limit banks time, and may then
 * go at up to @peak for @secs seconds before it is back at @rate.  The
 * limit tag may fall behind now by the bank B, and while the group goes at
 * the peak the tag gains on now at (peak / rate - 1) seconds per second,
 * so B = (peak - rate) x secs / rate makes the burst last @secs.  The peak
 * itself is a second tag, paced as a limit with the slack only.  A group
 * that spent its bank earns it back at the rate it stays below its limit:
 * idle, in B.  Capped at IOBAND_BANK_MAX_NS.
 */
#define IOBAND_BANK_MAX_NS	(1000000ULL * 1000000000ULL)	/* 11.6 days */

static inline u64 ioband_burst_bank_ns(u64 rate, u64 peak, u32 secs)
{
	u64 extra;

	if (!rate || peak <= rate || !secs)
		return 0;
	extra = (peak - rate) * secs;	/* < 2^40 x 3600: no overflow */
	if (div64_u64(extra, rate) >= IOBAND_BANK_MAX_NS / 1000000000ULL)
		return IOBAND_BANK_MAX_NS;
	return mul_u64_u64_div_u64(extra, 1000000000ULL, rate);
}

/*
 * How long a reservation has gone unmet: @now - @tag when the tag is
 * behind by more than the slack (@slack, at least IOBAND_PACE_SLACK_NS:
 * the group is due and was not served in time), else 0.
 */
static inline u64 ioband_pace_lag(u64 tag, u64 now, u64 slack)
{
	s64 d = (s64)(now - tag);

	return d > (s64)max_t(u64, slack, IOBAND_PACE_SLACK_NS) ? (u64)d : 0;
}

/* How late a release may be and still be recovered in full. */
static inline u64 ioband_pace_late_ns(u64 slack)
{
	return max_t(u64, slack, IOBAND_PACE_LATE_NS);
}

/*
 * A group its limit holds is released by a timer and the dispatch work: at
 * a high rate, one of each per I/O (1000 of each a second for 1000 IOPS),
 * and the CPU they take is its neighbours' (under emulation an uncapped
 * neighbour of a 1000 IOPS cap on a fast disk did 0.76 of what it did
 * beside blk-throttle, which releases once a jiffy).  So the timer waits
 * past the tag's opening for up to IOBAND_LIMIT_BATCH_NS, as long as lets
 * more of the group's held bios go in the same pass: with @queued held and
 * @step ns between two of its I/Os at its rate, min(@queued - 1, batch /
 * @step) steps (0: one bio, a slow rate, or nothing more held).  The tags
 * do not change: over any window the group sends what it did, each bio at
 * most the batch later (recovered: ioband_pace_next_waited()).
 */
#define IOBAND_LIMIT_BATCH_NS	(4ULL * 1000 * 1000)

static inline u64 ioband_limit_batch_ns(u64 step, u32 queued)
{
	u64 n;

	if (!step || queued < 2)
		return 0;
	n = min_t(u64, queued - 1, div64_u64(IOBAND_LIMIT_BATCH_NS, step));
	return n * step;
}

/*
 * range-bw shares what is left above the reservations in proportion to the
 * mins: the weight of a group is its min in KB/s, shifted right by the
 * device group's @shift (so the largest min fits the weights' 15 bits);
 * a group with min 0 (or one below the step) weighs 1.
 */
static inline u32 ioband_range_weight(u32 min_kbs, u32 shift)
{
	u32 w = min_kbs >> shift;

	return w ? w : 1;
}

/* The shift that makes @max_min (the largest min, KB/s) a weight <= 32767. */
static inline u32 ioband_range_shift(u32 max_min)
{
	u32 shift = 0;

	while ((max_min >> shift) > 32767)
		shift++;
	return shift;
}

#endif /* IOBAND_LIMIT_H */
