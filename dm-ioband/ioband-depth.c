// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-depth.c - the automatic depth of a device group.
 *
 * The depth a disk needs is what it completes per second times the time
 * one I/O takes when nothing queues below (Little's law at the knee; the
 * bandwidth-delay product of BBR).  Per period, the work done is
 *
 *	work = sum over completions of base(size) / period length
 *
 * with base(size) the latency baseline of the I/O's size bucket (the
 * smallest period average of the last WINDOW periods): the number of I/Os
 * the disk served in parallel, in any mix of sizes, so that large I/Os do
 * not look like congestion.  Then
 *
 *	est = max over the last WINDOW periods of the work of each and
 *	      the one before it together		target = est x 9/8
 *
 * (two periods together: on a slow disk a period holds a few dozen
 * completions, and the maximum of single periods took the one that
 * happened to end on a burst of them: 8.4-11.5 for a knee of 8 on a 40 ms
 * disk, and a bound above the knee)
 *
 * Below the knee the disk serves depth I/Os in parallel, est equals the
 * depth and the target is 1/8 above it: the bound grows by 1/8 per period
 * while it binds.  At the knee the work stops growing and the target stays
 * 1/8 above the knee.  Both filters resist noise (a slow period lowers
 * neither the baseline nor the estimate), which matters more than
 * precision: under emulation or on a busy host a period's latency varies
 * by half from one period to the next.
 *
 * - Startup: from IOBAND_DEPTH_INIT, the bound doubles each binding period
 *   while the rate grows by 1/4 (BBR's startup), so the baseline is
 *   learned below the knee and a deep disk is found in a few periods.
 *   After STARTUP_FLAT binding periods without such growth the bound goes
 *   to the target (the knee is behind), and stays in the steady state.
 *   The first binding period always doubles: at the bound a lighter load
 *   had before, the work cannot have grown.  In a startup after a cut
 *   (the latency just rose) on a disk whose 4 KiB baseline is an eighth
 *   of a period or more, so does one whose latency is below 9/8 of the
 *   baseline, work or not: nothing queues below, the knee is ahead (on a
 *   30 ms disk a doubling's work shows a period late, and startup ended
 *   at 7 for a knee of 24 in half the seeds of the simulator, the bound
 *   then creeping up by 1/8 per period).  Not on fast disks, nor in the
 *   first startup: where the submitters, not the disk, are the limit (a
 *   fast disk under a busy emulated CPU) the latency stays low while the
 *   work stays flat, and the bound could double past the load (a
 *   precaution: the failures first blamed on it were a test's window).
 * - Binding (a bio was held): the bound moves to the target at once when
 *   that is higher, or when the latency is twice the baseline (a queue of
 *   half the bound below: the bound an idle disk let grow meets a load),
 *   half-way when lower (damping).
 * - The refill gap: while the bound binds, a freed slot stays empty until
 *   the dispatcher (a work item) gives it a held bio, so a bound of D
 *   keeps only D x fill at the disk (fill = latency / (latency + gap)).
 *   The work then measures the bound's fill, not the knee, and a target
 *   of est x 9/8 sank below the knee whenever the gap was over an eighth
 *   of the latency (the simulator: 32% of a knee-8 100 us disk with a
 *   50 us gap).  A binding period's target is divided by the fill: the
 *   largest of the last FILLS binding periods' (at least 1/4), so that a
 *   stall's long gaps do not raise the bound; from the gap the caller
 *   measured (struct ioband_depth_period: refills, gap_ns).
 * - Not binding: the bound never drifts up; it comes down half-way to the
 *   target only while latency is 9/8 of the baseline or more (the disk
 *   queues below an idle bound), and otherwise stays for the next burst.
 * - An idle disk (the estimate under half a slot): nothing lowers the
 *   bound, not even the end of startup, and a binding period doubles it
 *   (ioband_depth_idle_disk()): the submitters' bursts, not the disk, met
 *   the bound; it grows to their depth and stops binding.
 * - Probes: every PROBE-th binding period runs below the bound, below
 *   the knee, so the window always holds an unqueued latency (without them
 *   a bound above the knee would measure its own queue as the baseline
 *   and grow).  WINDOW > PROBE.  They go to 7/8 and 3/4 in turn: the
 *   bound is 9/8 of the estimate, so 7/8 of it is just below the knee,
 *   and a period there costs an eighth of the disk's throughput, not a
 *   quarter (2.3% of the disk in all, against 3.1% with 3/4 every time:
 *   on an 8-tag disk whose knee is its tags, the probes at 3/4 cost 2.6-
 *   2.8% of the throughput against io_limit 8 set by hand, those in turn
 *   0.9-1.3%).  7/8 alone is not enough: from a bound above the knee,
 *   whose queue the baseline holds, a probe there lowers the bound by
 *   1/64 (9/8 x 7/8), which the latency noise of an emulated disk
 *   outweighs (the simulator's heavy noise walked the bound of a knee-16
 *   disk up to 26); at 3/4 by 5/32.  A probe that finds the latency 1/32
 *   below the baselines (the smallest of WINDOW periods: not noise) found
 *   such a queue, and one at 3/4 follows at once; the next probe after a
 *   size's first baseline (measured at the bound) goes to 3/4 as well.
 *   At the maximum (what the disk takes) the bound cannot climb, so the
 *   probes there stay at 7/8 unless one found a queue (a 7/8 probe from a
 *   bound of 32 on a knee of 28 sees an eighth less latency, and one at
 *   3/4 follows): where the knee is the tags (null_blk of 8 tags), the
 *   probes at 3/4 were most of what the automatic depth cost against
 *   io_limit 8 (tests/unit/004: 97.8% of capacity, 98.6% without them).
 *   On a few tags 7/8 rounds down to a larger step (2 to 1: half the
 *   disk, for a period that waits twice as long for its completions), so
 *   at the maximum a probe comes only every ioband_depth_probe_every()
 *   PROBE-th period, costing about an eighth of a period each (2 tags of
 *   40 ms: 97.6% of capacity, 90.3% with a probe every PROBE-th).
 *   Where the knee is the tags, even those were most of what remained
 *   (tests/unit/004, 8 tags of 10 ms: 98.6% of capacity), so each probe
 *   at the maximum in a row that found no queue there doubles the time to
 *   the next, up to QUIET_MAX times (8 tags: 99.7%; 2, 3 and 4 tags:
 *   98.4, 99.5, 99.1% against 97.6, 97.9, 98.3).  Only a probe that
 *   plainly found nothing: its latency less than 1/16 above the
 *   baselines (not lower by 1/32, not the noise of a busy host) and its
 *   work 1/32 below the estimate (7/8 of the tags did less: the disk uses
 *   all of them).  Any other probe, a probe from below the maximum and a
 *   cut start again at every ioband_depth_probe_every() PROBE-th period.
 *   Under heavy noise none is that plain and nothing changes (a knee of
 *   24 under a maximum of 32 stays off the maximum); a knee that falls
 *   below the tags is found as soon as before (16 to 10: within 1/4 of it
 *   in 1.75 s, with or without).
 *   Half-way between two probes below, a period runs at 5/4 + 1: if the
 *   disk does more work there, the estimate (a maximum) keeps it.  Where
 *   latency varies for reasons other than a queue (an emulated disk whose
 *   host CPU is busy), the work of a period at depth D is below D and the
 *   estimate alone would settle below the knee; the upward probe finds
 *   what the disk really does.  It runs only after a period whose latency
 *   was within 1/16 of the baseline: a disk that queues already has
 *   nothing more to give, and the probe's extra slots would go to the
 *   deepest groups, past their weight.  While the bound does not bind,
 *   one period in 4 * PROBE still probes down, to 3/4 of the load's own
 *   depth: a bound above the knee that the load never reaches lets the
 *   disk queue unseen (the baseline is then that queue's latency), and
 *   only a period below the load shows it.
 * - A slowdown (latency twice the baseline and the work below 3/4 of
 *   the estimate, of half a slot or more: an idle disk's latency is its
 *   submitters' stalls) two periods running (one alone is often a stall
 *   of the host, not the disk), both binding (a bound that holds nothing
 *   back protects nobody by a cut, and comes down half-way while not
 *   binding): the bound is cut to D x 1.15 / r
 *   (PARDA's fixed point for the latency seen: the knee, were the disk as
 *   parallel as before), the baselines and the estimate are forgotten and
 *   startup begins again from there, so that both a less parallel and a
 *   merely slower disk are found within a few periods.
 * - The disk's tags: below a request-based disk the caller gives its
 *   nr_requests as the maximum; below a bio-based device (an LV) it knows
 *   none, and a bound past the disk's tags queues its margin in their wait,
 *   where the submitters block and ioband has nothing left to order (an LV
 *   on a 16-tag disk: bounds of 15-18, an 80:20 pair split 67:33).  The
 *   caller sends with REQ_NOWAIT and reports the fewest in flight at which
 *   the disk refused a bio: in a period where four or more, and a
 *   sixteenth of the I/Os or more, were refused, the maximum is learned
 *   as it (the least seen), and forgotten after FORGET periods
 *   without such a period (a refusal for another reason, such as a frozen
 *   queue or another user of the disk, must not hold it low); a bound that
 *   climbs past the tags again is refused again within a period.  As it,
 *   not one below: a bio sent as another completes finds that request's
 *   tag not yet freed, at the tags (eight QD1 threads on an LV over an
 *   8-tag disk were refused at 8 in every period, and a maximum of 7 held
 *   the disk at 7/8 of its throughput); past the tags the refused bio
 *   waits for the next tag in the dispatch work, which fills it at once.
 * - 1 <= bound <= max.
 */
#include "ioband-depth.h"

#define T_RATIO		1178	/* 1.15 x 1024: the cut's latency target */
#define CUT_RATIO	2048	/* r >= 2: a slowdown */
#define CUT_PERIODS	2	/* ... in this many periods running */
#define STARTUP_FLAT	2	/* periods without growth that end startup */

void ioband_depth_init(struct ioband_depth *d, u32 max)
{
	memset(d, 0, sizeof(*d));
	d->max = max ? max : 1;
	d->disk_max = d->max;
	d->depth = (u64)min_t(u32, d->max, IOBAND_DEPTH_INIT) * IOBAND_DEPTH_ONE;
	d->limit = min_t(u32, d->max, IOBAND_DEPTH_INIT);
	d->ratio = 1024;
	d->startup = true;
}

/*
 * Put this period into the window; recompute the baselines.  True if a
 * size had none before (its first is measured at the bound).
 */
static bool ioband_depth_learn(struct ioband_depth *d,
			       const struct ioband_depth_period *p)
{
	unsigned int slot = d->period % IOBAND_DEPTH_WINDOW;
	unsigned int b, i;
	bool fresh = false;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		u64 m = 0;

		d->win[b][slot] = p->lnr[b] ?
			max_t(u64, div64_u64(p->lat_ns[b], p->lnr[b]), 1) : 0;
		for (i = 0; i < IOBAND_DEPTH_WINDOW; i++)
			if (d->win[b][i] && (!m || d->win[b][i] < m))
				m = d->win[b][i];
		fresh |= m && !d->base_ns[b];
		d->base_ns[b] = m;
	}
	return fresh;
}

/* Latency over baseline (r, x1024), weighted by completions. */
static u32 ioband_depth_ratio(const struct ioband_depth *d,
			      const struct ioband_depth_period *p)
{
	u64 sum = 0, n = 0;
	unsigned int b;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		if (!p->lnr[b] || !d->base_ns[b])
			continue;
		sum += div64_u64(p->lat_ns[b] * 1024, d->base_ns[b]);
		n += p->lnr[b];
	}
	if (!n)
		return 1024;
	return (u32)min_t(u64, div64_u64(sum, n), 1024ULL * 1024);
}

/* The work of window slot @i at the current baselines (fixed point). */
static u64 ioband_depth_work(const struct ioband_depth *d, unsigned int i)
{
	u64 busy = 0;
	unsigned int b;

	if (!d->wlen[i])
		return 0;
	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++)
		busy += (u64)d->wnr[i][b] * d->base_ns[b];
	return div64_u64(busy, max_t(u64, d->wlen[i] / IOBAND_DEPTH_ONE, 1));
}

/*
 * The work of window slots @i and the one before it together: what the
 * estimate takes, so that a period that happened to end on a burst of
 * completions (a few per period on a slow disk) does not set the maximum.
 */
static u64 ioband_depth_work2(const struct ioband_depth *d, unsigned int i)
{
	unsigned int j = (i + IOBAND_DEPTH_WINDOW - 1) % IOBAND_DEPTH_WINDOW;
	u64 busy = 0, len = d->wlen[i] + d->wlen[j];
	unsigned int b;

	if (!d->wlen[i] || !d->wlen[j])
		return ioband_depth_work(d, i);
	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++)
		busy += ((u64)d->wnr[i][b] + d->wnr[j][b]) * d->base_ns[b];
	return div64_u64(busy, max_t(u64, len / IOBAND_DEPTH_ONE, 1));
}

static u32 ioband_depth_clamp(struct ioband_depth *d)
{
	u64 lo = IOBAND_DEPTH_ONE, hi = (u64)d->max * IOBAND_DEPTH_ONE;

	if (d->depth < lo)
		d->depth = lo;
	if (d->depth > hi)
		d->depth = hi;
	return (u32)((d->depth + IOBAND_DEPTH_ONE / 2) / IOBAND_DEPTH_ONE);
}

/* The next period probes below @lim: at 3/4 if @deep, else 7/8 (>= 1). */
static u32 ioband_depth_probe_below(struct ioband_depth *d, u32 lim,
				    bool deep)
{
	d->probing = true;
	d->probe_down = true;
	d->probe_deep = deep;
	return max_t(u32, deep ? lim * 3 / 4 : lim * 7 / 8, 1);
}

/*
 * At the maximum, one in this many PROBE-th periods probes at 7/8: so
 * that a probe costs about an eighth of a period wherever 7/8 rounds
 * down to a larger step (2 tags: 1, half a period, one in four).
 */
static u32 ioband_depth_probe_every(u32 lim)
{
	u32 step = lim - max_t(u32, lim * 7 / 8, 1);

	return max_t(u32, (8 * step + lim / 2) / lim, 1);
}

/*
 * The disk did under half a slot of work: it was idle most of the time, so
 * nothing queues below to protect, and the submitters (a fast disk under
 * a busy CPU) or a cap, not the disk, set the rate.  A bound taken down to
 * a target of est x 9/8 (1 there) only sends every bio through the
 * dispatch work: beside a group capped at 1000 IOPS on a 10 us null_blk,
 * its neighbour did 3158-3834 IOPS at bounds of 1-4 against 4467-4866
 * with io_limit 8 or 128; one group of QD4 there, 0.65-0.89 of dm-linear
 * at bounds of 2-3 (bench/run, unsat).  The bound is not lowered then, and
 * doubles while it binds.  Not at a full slot: a disk of one slot (the
 * estimate about 1 at saturation) must not be taken for idle.
 */
bool ioband_depth_idle_disk(const struct ioband_depth *d)
{
	return d->est < IOBAND_DEPTH_ONE / 2;
}

/*
 * The share of a binding bound's slot time that held I/O at the disk
 * (x1024, at least 1/4): the rest is the time a freed slot waited for the
 * dispatcher to give it a held bio.  Slot time at the disk is the period's
 * completions times their mean latency (Little's law).
 */
static u32 ioband_depth_fill(const struct ioband_depth_period *p)
{
	u64 lat = 0, n = 0, nr = 0, busy;
	unsigned int b;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		lat += p->lat_ns[b];
		n += p->lnr[b];
		nr += p->nr[b];
	}
	if (!p->held || !p->refills || !n)
		return 1024;
	busy = div64_u64(lat, n) * nr;
	if (!busy)
		return 1024;
	return (u32)max_t(u64, div64_u64(busy * 1024, busy + p->gap_ns), 256);
}

/*
 * The tags the refusals showed, or forgotten (see the top of the file).
 * Not a few refusals: a request's tag is freed after its bios' end_io,
 * and a bio sent at once from there may find it still taken, at a count
 * in flight within the tags (twice in a run on an 8-tag disk of 40 ms,
 * whose periods hold 10-16 completions: 7 learned).  Past the tags nearly
 * every bio sent is refused.
 */
static void ioband_depth_refused(struct ioband_depth *d,
				 const struct ioband_depth_period *p)
{
	u64 nr = 0;
	unsigned int b;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++)
		nr += p->nr[b];
	if (p->refused && p->nr_refused >= 4 && p->nr_refused * 16 >= nr) {
		d->max = max_t(u32, min_t(u32, p->refused, d->max), 1);
		d->refused_age = 0;
	} else if (d->max < d->disk_max &&
		   ++d->refused_age >= IOBAND_DEPTH_FORGET) {
		d->max = d->disk_max;
	}
}

u32 ioband_depth_update(struct ioband_depth *d,
			const struct ioband_depth_period *p)
{
	u64 prev = d->est, work, target;
	u32 fill = 0;
	bool probed = d->probing, again = false, lost = false;
	bool was_idle = ioband_depth_idle_disk(d);	/* at prev */
	unsigned int i, slot;
	u32 r, lim;

	ioband_depth_refused(d, p);
	slot = d->period % IOBAND_DEPTH_WINDOW;
	if (probed && d->probe_down) {
		/*
		 * Was its latency 1/32 below the baselines before it (the
		 * smallest of WINDOW periods: below them is not noise)?
		 * Then they held a queue.
		 */
		bool found = ioband_depth_ratio(d, p) < 1024 - 1024 / 32;

		again = found && !d->probe_deep;
		d->deep = found;
		/* from the maximum, nothing found: the next may come later */
		lost = !found && d->probe_max &&
		       ioband_depth_ratio(d, p) < 1024 + 1024 / 16;
	}
	if (ioband_depth_learn(d, p) && !d->startup)
		d->deep = true;
	r = ioband_depth_ratio(d, p);
	d->ratio = r;
	for (i = 0; i < IOBAND_DEPTH_BUCKETS; i++)
		d->wnr[slot][i] = (u32)min_t(u64, p->nr[i], U32_MAX);
	d->wlen[slot] = p->len_ns;
	work = ioband_depth_work(d, slot);
	/* ... if the disk did less work there, as at the knee it does */
	if (probed && d->probe_down)
		d->quiet = lost && work * 32 < prev * 31 ?
			   min_t(u32, d->quiet + 1, IOBAND_DEPTH_QUIET_MAX) : 0;
	d->est = 0;
	for (i = 0; i < IOBAND_DEPTH_WINDOW; i++)
		d->est = max(d->est, ioband_depth_work2(d, i));
	d->period++;
	target = d->est + d->est / 8;
	if (p->held) {
		/*
		 * Slots that wait for a refill do no work: the bound that
		 * keeps the target at the disk is that much larger.
		 */
		d->fills[d->fill_i++ % IOBAND_DEPTH_FILLS] = ioband_depth_fill(p);
		for (i = 0; i < IOBAND_DEPTH_FILLS; i++)
			fill = max(fill, d->fills[i]);
		target = div64_u64(target * 1024, fill);
	}

	/*
	 * (not on an idle disk: the latency of its submitters' stalls; nor
	 * while the bound holds nothing back: it has nobody to protect, a
	 * stall of the host looks the same, and a cut below the load's own
	 * depth would hold it)
	 */
	if (r >= CUT_RATIO && work * 4 < prev * 3 && !was_idle && p->held)
		d->slow++;
	else
		d->slow = 0;
	if (d->slow >= CUT_PERIODS) {
		/* The disk got slower: cut, forget it, find it again. */
		d->depth = div64_u64(d->depth * T_RATIO, r);
		memset(d->win, 0, sizeof(d->win));
		memset(d->base_ns, 0, sizeof(d->base_ns));
		memset(d->wnr, 0, sizeof(d->wnr));
		memset(d->wlen, 0, sizeof(d->wlen));
		d->est = 0;
		d->cuts++;
		d->slow = 0;
		d->startup = true;
		d->doubled = false;
		d->deep = false;
		d->quiet = 0;
		d->flat = 0;
	} else if (d->startup) {
		/*
		 * Not binding: demand, not the disk, limits the work; but a
		 * disk that queues what the bound lets through is past its
		 * knee, which a load that never reaches the bound does not
		 * show otherwise (with a latency near the period, the work
		 * of a doubling shows a period late): startup is over.
		 */
		if (!p->held) {
			/* (one I/O in flight cannot make a queue below) */
			if (r > 1024 + 1024 / 8 &&
			    d->est >= 2 * IOBAND_DEPTH_ONE) {
				d->startup = false;
				d->depth = max_t(u64, target, IOBAND_DEPTH_ONE);
			}
		} else if (!d->doubled || work * 4 >= prev * 5 ||
			   (r < 1024 + 1024 / 8 && d->cuts &&
			    d->base_ns[0] >= IOBAND_DEPTH_PERIOD_NS / 8 &&
			    d->depth < (u64)d->max * IOBAND_DEPTH_ONE)) {
			/*
			 * The first binding period doubles whatever it did:
			 * at the bound a load below it had (a QD1 reader
			 * before a deep one came), the work cannot have grown
			 * and two such periods ended startup at 1.  After a
			 * cut, on a disk whose latency is an eighth of a
			 * period or more, below the maximum, so does one that
			 * found no queue below (its work may show a period
			 * late).
			 */
			d->doubled = true;
			d->flat = 0;
			d->depth *= 2;
		} else if (++d->flat >= STARTUP_FLAT) {
			d->startup = false;
			if (!ioband_depth_idle_disk(d))
				d->depth = max_t(u64, target, IOBAND_DEPTH_ONE);
		}
	} else if (!probed && p->held && ioband_depth_idle_disk(d)) {
		/* the disk has room: let the submitters' bursts through */
		d->depth *= 2;
	} else if (!probed && p->held && target) {
		if (target > d->depth || r >= CUT_RATIO)
			d->depth = target;
		else
			d->depth = (d->depth + target) / 2;
	} else if (!probed && target && target < d->depth &&
		   r > 1024 + 1024 / 8 && !ioband_depth_idle_disk(d)) {
		/*
		 * Not binding, but the disk queues what the bound lets
		 * through: down (never up).  Without a queue below a bound
		 * above the load stays, for the next burst.
		 */
		d->depth = (d->depth + target) / 2;
	}
	lim = ioband_depth_clamp(d);

	d->probing = false;
	d->probe_down = false;
	d->probe_deep = false;
	d->probe_max = lim >= d->max;
	i = d->period % IOBAND_DEPTH_PROBE;
	if (again && !d->startup && p->held && lim > 1) {
		/* a probe at 7/8 found a queue: at once one at 3/4 */
		lim = ioband_depth_probe_below(d, lim, true);
	} else if (probed || d->startup) {
		/* no probe */
	} else if (p->held && i == 0 && lim > 1 &&
		   (lim < d->max || d->deep ||
		    (d->period / IOBAND_DEPTH_PROBE) %
		    (ioband_depth_probe_every(lim) << d->quiet) == 0)) {
		/* 7/8 and 3/4 in turn; at the maximum 3/4 only when deep */
		lim = ioband_depth_probe_below(d, lim, d->deep ||
			(lim < d->max && d->period %
			 (IOBAND_DEPTH_DEEP * IOBAND_DEPTH_PROBE) == 0));
	} else if (p->held && i == IOBAND_DEPTH_PROBE / 2 && lim < d->max &&
		   r < 1024 + 1024 / 16) {
		lim = min_t(u32, lim + lim / 4 + 1, d->max);
		d->probing = true;
	} else if (!p->held && d->est >= 2 * IOBAND_DEPTH_ONE &&
		   d->period % (4 * IOBAND_DEPTH_PROBE) == 0) {
		/*
		 * Rarely: the baseline may be a queue below an idle bound.
		 * 3/4 of what the load keeps in flight (the estimate, about
		 * that while nothing is held), not of the bound above it.
		 */
		lim = ioband_depth_probe_below(d, min_t(u32, lim,
				d->est / IOBAND_DEPTH_ONE), true);
	}
	d->limit = lim;
	return lim;
}

/*
 * The caller dropped a period (ioband_depth_period_end(): one group alone
 * past the bound): a probe that ran in it is over, and the bound is back.
 * Otherwise a probe at 3/4 that a lone group's spell began in stayed the
 * bound for the whole spell: 6 on an 8-tag disk, the group at 0.86 of
 * dm-linear.  Its refusals still show the disk's tags: below an LV the
 * lone group's extra bios (ioband_depth_solo_extra(), within the maximum)
 * may be what went past them.
 */
u32 ioband_depth_skip(struct ioband_depth *d,
		      const struct ioband_depth_period *p)
{
	ioband_depth_refused(d, p);
	d->probing = false;
	d->probe_down = false;
	d->probe_deep = false;
	d->limit = ioband_depth_clamp(d);
	return d->limit;
}

/*
 * One group alone past the bound: as many more bios as the disk completes
 * in IOBAND_SOLO_QUEUE_NS at the bound (@limit x that / the latency
 * baseline; the largest of the sizes', which counts the fewest), at least
 * one, and not past the maximum (beyond an LV's tags each would be
 * refused and sent again) unless that one.  A disk of 10 ms: 1 (a
 * group that comes waits one completion longer); of 1 ms at a bound of 8:
 * 8; a fast disk under emulation (50 us at a bound of 2): 40, so that a
 * QD4 or QD8 load alone is never held and its bios do not each wait for
 * the dispatch work.  (A count, twice the bound plus 8, tried first: on
 * the 10 ms disk a group that came waited 100 ms for its share instead of
 * 50, and the lone group's reaper stalled in the disk's tag wait.)
 */
u32 ioband_depth_solo_extra(const struct ioband_depth *d, u32 limit)
{
	u64 base = 0, extra;
	unsigned int b;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++)
		base = max(base, d->base_ns[b]);
	if (!base || d->max <= limit + 1)
		return 1;
	extra = div64_u64((u64)limit * IOBAND_SOLO_QUEUE_NS, base);
	return (u32)max_t(u64, min_t(u64, extra, d->max - limit), 1);
}

u64 ioband_depth_base_ns(const struct ioband_depth *d)
{
	return d->base_ns[0];
}

/*
 * The period's mean 4 KiB latency, taken at once when it is lower, else
 * approached by an eighth of the way each period (a disk twice as slow is
 * within 10% of it in 13 periods, 0.65 s of 50 ms): a decaying minimum,
 * as the automatic depth's windowed one but without its probes, so with
 * a fixed io_limit above the disk's depth it includes the queue below.
 */
u64 ioband_depth_fixed_base(u64 base_ns, const struct ioband_depth_period *p)
{
	u64 mean;

	if (!p->lnr[0])
		return base_ns;
	mean = div64_u64(p->lat_ns[0], p->lnr[0]);
	if (!base_ns || mean <= base_ns)
		return mean;
	return base_ns + (mean - base_ns) / 8;
}

/* The latency at the target depth, were the disk at its knee: 9/8 base. */
u64 ioband_depth_target_ns(const struct ioband_depth *d)
{
	return d->base_ns[0] + d->base_ns[0] / 8;
}
