// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-caps.c - limits, bursts and reservations applied to bios: when a
 * group's cap (its limit tag, and its burst's peak tag) and the device
 * group's own cap let a bio go, taking an I/O from them (lock-free), when
 * to wake the dispatcher for bios they hold, and a reservation's tag.  The
 * tag arithmetic is ioband-limit.h's (kernel-independent, tests/unit).
 */
#include "ioband-core.h"

/*
 * When cap @c next lets a bio go: its limit tag or, with a burst in force
 * (@peak), its peak tag if that is later.
 */
static u64 ioband_cap_opens(struct ioband_cap *c, bool peak)
{
	u64 tag = atomic64_read(&c->ltag), ptag;

	if (!peak)
		return tag;
	ptag = atomic64_read(&c->ptag);
	return (s64)(ptag - tag) > 0 ? ptag : tag;
}

/* When @g's limit (and its burst's peak) next lets it send. */
u64 ioband_limit_opens(struct ioband_devgroup *dg,
		       struct ioband_group *g)
{
	return ioband_cap_opens(&g->cap, ioband_peak_rate(dg, g));
}

/*
 * What @bio costs against the encoded rate @enc (its size in bytes, a
 * discard one page as in weight-iosize, or 1 for I/Os per second); the
 * rate itself goes to *@rate.
 */
static u64 ioband_pace_cost(u64 enc, struct bio *bio, u64 *rate)
{
	*rate = enc & ~IOBAND_RATE_IOPS;
	if (enc & IOBAND_RATE_IOPS)
		return 1;
	if (op_is_discard(bio->bi_opf) || !bio_sectors(bio))
		return PAGE_SIZE;
	return (u64)bio_sectors(bio) << SECTOR_SHIFT;
}

/*
 * When to run the dispatcher for bios held by the limit of rate @enc until
 * @opens, @bio first of @queued: then, or a little later so that more of
 * them go in the same pass (ioband_limit_batch_ns(), at the limit's rate).
 */
u64 ioband_limit_wake(u64 enc, u64 opens, struct bio *bio, u32 queued)
{
	u64 rate, cost;

	if (!enc || !bio)
		return opens;
	cost = ioband_pace_cost(enc, bio, &rate);
	return opens + ioband_limit_batch_ns(ioband_pace_ns(cost, rate),
					     queued);
}

/* ... for @g, held by its own limit until @opens.  Under qlock. */
u64 ioband_group_wake(struct ioband_devgroup *dg,
		      struct ioband_group *g, u64 opens)
{
	return ioband_limit_wake(ioband_max_rate(dg, g), opens,
				 bio_list_peek(&g->queue), g->nr_queued);
}

/*
 * Take an I/O of @cost from cap @c: its limit tag paced at @rate, and with
 * a burst (@peak: its rate, 0 for none) the bank the burst gives and the
 * peak tag paced at @peak; both with the device group's @slack.  Unless
 * @force, only while both are open (false otherwise).  The peak tag moves
 * after the limit's compare-and-swap: two CPUs that both found it open may
 * both go, so the peak holds within one I/O per CPU.  Lock-free.
 */
static bool ioband_cap_take(struct ioband_cap *c, u64 rate, u64 peak,
			    u64 cost, u64 now, u64 queued, u64 slack,
			    bool force)
{
	u64 bank = max(peak ? READ_ONCE(c->bank_ns) : 0, slack);
	s64 old;
	u64 next;

	if (peak && !force && !ioband_pace_open(atomic64_read(&c->ptag), now))
		return false;
	old = atomic64_read(&c->ltag);
	do {
		if (!force && !ioband_pace_open(old, now))
			return false;
		next = ioband_pace_next_waited(old, now, queued, cost, rate,
					       bank);
	} while (!atomic64_try_cmpxchg(&c->ltag, &old, next));
	if (!peak)
		return true;
	old = atomic64_read(&c->ptag);
	do {
		next = ioband_pace_next_waited(old, now, queued, cost, peak,
					       slack);
	} while (!atomic64_try_cmpxchg(&c->ptag, &old, next));
	return true;
}

/* When the device group's own limit next lets a bio go. */
u64 ioband_dg_opens(struct ioband_devgroup *dg)
{
	return ioband_cap_opens(&dg->cap, READ_ONCE(dg->cap.bst));
}

/* Whether the device group's own limit lets a bio go at @now. */
bool ioband_dg_open(struct ioband_devgroup *dg, u64 now)
{
	return !READ_ONCE(dg->cap.lim) ||
		ioband_pace_open(ioband_dg_opens(dg), now);
}

/*
 * The device group's limit holds bios back from @now (@held), or does not
 * (it opened, was lifted, or nothing waits): the status's time held.
 * Under qlock.
 */
void ioband_dg_holding(struct ioband_devgroup *dg, u64 now, bool held)
{
	u64 since = dg->dglim_since;

	if (held && !since) {
		WRITE_ONCE(dg->dglim_since, now);
	} else if (!held && since) {
		WRITE_ONCE(dg->dglim_ns, dg->dglim_ns + now - since);
		WRITE_ONCE(dg->dglim_since, 0);
	}
}

/*
 * @bio of @g, queued at @queued (@now if it was not held), may go at @now
 * as far as its limit and the device group's go: if so (or if @force:
 * urgent bios, draining) their tags move.  The device group's is checked
 * first and taken after the group's (at most one I/O per CPU over it, as
 * the peak).  Lock-free.
 */
bool ioband_limit_take(struct ioband_devgroup *dg,
		       struct ioband_group *g, u64 now, u64 queued,
		       struct bio *bio, bool force)
{
	u64 enc = ioband_max_rate(dg, g), dgenc = READ_ONCE(dg->cap.lim);
	u64 slack = READ_ONCE(dg->pace_slack_ns);
	u64 rate, cost, peak;

	if (!force && !ioband_dg_open(dg, now))
		return false;
	if (enc) {
		cost = ioband_pace_cost(enc, bio, &rate);
		peak = ioband_peak_rate(dg, g) & ~IOBAND_RATE_IOPS;
		if (!ioband_cap_take(&g->cap, rate, peak, cost, now, queued,
				     slack, force))
			return false;
	}
	if (dgenc) {
		cost = ioband_pace_cost(dgenc, bio, &rate);
		peak = READ_ONCE(dg->cap.bst) & ~IOBAND_RATE_IOPS;
		ioband_cap_take(&dg->cap, rate, peak, cost, now, queued, slack,
				true);
	}
	return true;
}

/*
 * @bio of @g, queued at @queued, went at @now for its reservation: the
 * tag moves.  One that waited for it recovers the
 * dispatcher's lateness (ioband_pace_next_waited()): a disk that completes
 * in bursts frees slots only now and then, and a reservation due between
 * two bursts must not lose the time to the next.  Only the dispatcher
 * moves the tag, under qlock; status reads it without.
 */
void ioband_rsv_take(struct ioband_devgroup *dg,
		     struct ioband_group *g, u64 now, u64 queued,
		     struct bio *bio)
{
	u64 enc = ioband_min_rate(dg, g), rate, cost, tag;
	u64 slack = READ_ONCE(dg->pace_slack_ns);

	lockdep_assert_held(&dg->qlock);
	if (!enc)
		return;
	cost = ioband_pace_cost(enc, bio, &rate);
	tag = atomic64_read(&g->rtag);
	/* waited for the tag, and served later than the tag can recover */
	if ((s64)(queued - tag) <= 0 &&
	    (s64)(now - tag) > (s64)ioband_pace_late_ns(slack))
		WRITE_ONCE(g->rsv_lost_ns, now);
	atomic64_set(&g->rtag, ioband_pace_next_waited(tag, now, queued, cost,
						       rate, slack));
}
