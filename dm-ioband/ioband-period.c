// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-period.c - the automatic depth's periods: each timed completion
 * is counted (and its latency, if it was dispatched in the period), and
 * at a period's end the counters go to the controller (ioband-depth.c),
 * whose bound becomes the effective io_limit, and whose latency baseline
 * sets the think-time grace and the caps' slack.
 */
#include "ioband-core.h"

/* The grace and the pace slack from a 4 KiB latency @base (0: not known). */
static void ioband_set_latency(struct ioband_devgroup *dg, u64 base)
{
	WRITE_ONCE(dg->grace_ns, clamp(base / 2, IOBAND_GRACE_NS,
				       IOBAND_GRACE_MAX_NS));
	WRITE_ONCE(dg->pace_slack_ns, ioband_pace_slack_ns(base));
}

/*
 * End of a depth period: the counters' increase since the last one goes to
 * the controller, whose bound becomes the effective io_limit (with a fixed
 * io_limit only the latency, for the grace and the slack).  A period
 * lasts IOBAND_DEPTH_PERIOD_NS and has IOBAND_DEPTH_MIN_SAMPLES timed
 * completions (of bios dispatched within it: at least one latency);
 * one that lasted over a second without holding anything back was mostly
 * idle and teaches nothing (its rate would mislead the probes): dropped.
 * Caller holds depth_busy.
 */
static void ioband_depth_period_end(struct ioband_devgroup *dg, u64 now)
{
	struct ioband_depth_period p = { .len_ns = now - dg->period_start };
	struct ioband_depth_pcpu sum;
	bool skip = false;
	u64 n = 0;
	u32 old, lim;
	int b;

	ioband_depth_sum(dg, &sum);
	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		p.nr[b] = sum.nr[b] - dg->dsnap.nr[b];
		p.lnr[b] = sum.lnr[b] - dg->dsnap.lnr[b];
		p.lat_ns[b] = sum.lat_ns[b] - dg->dsnap.lat_ns[b];
		n += p.lnr[b];
	}
	if (n < IOBAND_DEPTH_MIN_SAMPLES)
		return;			/* the period goes on */
	/* bios above a refused size may try REQ_NOWAIT again */
	if (READ_ONCE(dg->nowait_sectors) != U32_MAX &&
	    now - READ_ONCE(dg->nowait_cut_ns) > IOBAND_NOWAIT_RETRY_NS)
		WRITE_ONCE(dg->nowait_sectors, U32_MAX);
	ioband_nowait_period(dg);
	p.refused = atomic_xchg(&dg->refused_at, 0);
	p.nr_refused = atomic64_read(&dg->refusals) - dg->refusals_snap;
	dg->refusals_snap += p.nr_refused;
	p.refills = sum.refills - dg->dsnap.refills;
	p.gap_ns = sum.gap_ns - dg->dsnap.gap_ns;
	/* bios waiting for a slot now: not for a cap or the dg limit */
	p.held = READ_ONCE(dg->depth_held) ||
		 (ioband_held_eligible(dg) && !READ_ONCE(dg->dglim_since));
	dg->dsnap = sum;
	WRITE_ONCE(dg->depth_held, false);
	WRITE_ONCE(dg->period_start, now);
	if (READ_ONCE(dg->io_limit_cfg)) {
		dg->fixed_base_ns = ioband_depth_fixed_base(dg->fixed_base_ns,
							    &p);
		ioband_set_latency(dg, dg->fixed_base_ns);
		return;
	}
	if (READ_ONCE(dg->solo_used)) {
		/*
		 * One group alone past the bound: its queue, not the disk's;
		 * but an idle disk has none, and its bound may grow there.
		 */
		WRITE_ONCE(dg->solo_used, false);
		skip = !ioband_depth_idle_disk(&dg->depth);
	}
	if (!skip && !p.held && p.len_ns > 20 * IOBAND_DEPTH_PERIOD_NS)
		return;
	old = READ_ONCE(dg->io_limit);
	if (skip) {
		/* but a probe it began in ends */
		lim = ioband_depth_skip(&dg->depth, &p);
	} else {
		lim = ioband_depth_update(&dg->depth, &p);
		ioband_set_latency(dg, ioband_depth_base_ns(&dg->depth));
	}
	if (lim != old)
		ioband_apply_limit(dg, lim);
	else	/* (the baseline moved) */
		WRITE_ONCE(dg->solo_extra,
			   ioband_depth_solo_extra(&dg->depth, lim));
	if (lim > old && atomic_read(&dg->queued))
		queue_work(ioband_wq, &dg->dispatch_work);
}

/*
 * A timed bio completed: count it, and its latency if it was dispatched
 * in this period (under its bound); end the period if it is over.
 */
void ioband_depth_done(struct ioband_devgroup *dg,
		       struct ioband_bio *pb, u64 now)
{
	u64 start = READ_ONCE(dg->period_start);

	this_cpu_inc(dg->dstat->nr[pb->bucket]);
	if (pb->issued_ns >= start) {
		this_cpu_inc(dg->dstat->lnr[pb->bucket]);
		this_cpu_add(dg->dstat->lat_ns[pb->bucket],
			     now - pb->issued_ns);
	}
	/* (signed: a restart may have moved the start past our clock) */
	if ((s64)(now - start) < IOBAND_DEPTH_PERIOD_NS)
		return;
	if (test_and_set_bit_lock(0, &dg->depth_busy))
		return;			/* another completion does it */
	/* ... or did it just before: the period is young again */
	if ((s64)(now - dg->period_start) >= IOBAND_DEPTH_PERIOD_NS)
		ioband_depth_period_end(dg, now);
	ioband_depth_unlock(dg);
}
