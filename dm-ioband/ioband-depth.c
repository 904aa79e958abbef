// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-depth.c - the automatic depth of a device group.
 *
 * A delay-based window in the manner of PARDA (FAST'09):
 *
 *	D' = (1 - g) * D + g * D * T / r
 *
 * where r is the period's latency over the baseline (averaged over the
 * size buckets, each against its own baseline, so that large I/Os do not
 * look like congestion) and T the target ratio.  Above the knee latency
 * grows as D / knee, so the fixed point is D = T * knee.  Guards:
 *
 * - Below target (r <= 1 + (T - 1) / 4) and binding, D grows by 1/4 per
 *   period (a slow start), so a faster disk is found within a second.
 * - Not binding (no bio held in the period): D never grows.
 * - A sudden slowdown (r >= 2): D is cut at once to D * T / r, the
 *   baseline is forgotten (the disk changed) and the next period probes.
 * - The baseline is the minimum of the per-period average latencies of the
 *   last WINDOW periods, so it re-learns.  A depth that was too deep from
 *   the start would never see the unqueued latency, so every PROBE-th
 *   binding period runs at 3/4 depth: if the disk completes as much
 *   (>= PROBE_KEEP %), the extra depth was only a queue below; the lower
 *   depth is kept and the next period probes again (BBR's ProbeRTT, with
 *   the rate as the judge).
 * - 1 <= D <= max.
 */
#include "ioband-depth.h"

#define T_RATIO		1178	/* 1.15 x 1024 */
#define GAIN_SHIFT	1	/* g = 1/2 */
#define CUT_RATIO	2048	/* r >= 2: sudden slowdown */
#define PROBE_KEEP	88	/* % of the throughput a probe may lose */

void ioband_depth_init(struct ioband_depth *d, u32 max)
{
	memset(d, 0, sizeof(*d));
	d->max = max ? max : 1;
	d->depth = (u64)min_t(u32, d->max, IOBAND_DEPTH_INIT) * IOBAND_DEPTH_ONE;
	d->limit = min_t(u32, d->max, IOBAND_DEPTH_INIT);
	d->ratio = 1024;
}

static void ioband_depth_forget(struct ioband_depth *d)
{
	memset(d->win, 0, sizeof(d->win));
	memset(d->base_ns, 0, sizeof(d->base_ns));
}

/* Put this period's averages into the window; recompute the baselines. */
static void ioband_depth_learn(struct ioband_depth *d,
			       const struct ioband_depth_period *p)
{
	unsigned int slot = d->period % IOBAND_DEPTH_WINDOW;
	unsigned int b, i;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		u64 m = 0;

		d->win[b][slot] = p->nr[b] ?
			max_t(u64, div64_u64(p->lat_ns[b], p->nr[b]), 1) : 0;
		for (i = 0; i < IOBAND_DEPTH_WINDOW; i++)
			if (d->win[b][i] && (!m || d->win[b][i] < m))
				m = d->win[b][i];
		d->base_ns[b] = m;
	}
}

/* Latency over baseline, x1024, weighted by completions. */
static u32 ioband_depth_ratio(const struct ioband_depth *d,
			      const struct ioband_depth_period *p)
{
	u64 sum = 0, n = 0;
	unsigned int b;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		if (!p->nr[b] || !d->base_ns[b])
			continue;
		sum += div64_u64(p->lat_ns[b] * 1024, d->base_ns[b]);
		n += p->nr[b];
	}
	if (!n)
		return 1024;
	return (u32)min_t(u64, div64_u64(sum, n), 1024ULL * 1024);
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

static u64 ioband_depth_rate(const struct ioband_depth_period *p)
{
	u64 n = 0;
	unsigned int b;

	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++)
		n += p->nr[b];
	return p->len_ns ? div64_u64(n * 1000000000ULL, p->len_ns) : 0;
}

/* D moves by the delay law: (1 - g) * D + g * D * T / r. */
static u64 ioband_depth_law(u64 depth, u32 r)
{
	return depth - (depth >> GAIN_SHIFT) +
	       (div64_u64(depth * T_RATIO, r) >> GAIN_SHIFT);
}

u32 ioband_depth_update(struct ioband_depth *d,
			const struct ioband_depth_period *p)
{
	bool probed = d->probing, chain = false;
	u64 rate = ioband_depth_rate(p);
	u32 r, lim;

	ioband_depth_learn(d, p);
	r = ioband_depth_ratio(d, p);
	d->ratio = r;
	d->period++;

	if (r >= CUT_RATIO) {
		/* The disk got slower: cut now, re-learn, probe next. */
		d->depth = div64_u64(d->depth * T_RATIO, r);
		d->cuts++;
		ioband_depth_forget(d);
		d->probe_next = true;
	} else if (probed) {
		/*
		 * The probe ran at 3/4 depth.  Throughput kept (within the
		 * noise): the extra depth only queued below.  Keep the lower
		 * depth and probe lower still next period.
		 */
		if (rate * 100 >= d->ref_rate * PROBE_KEEP &&
		    (u64)d->probe_limit * IOBAND_DEPTH_ONE < d->depth) {
			d->depth = (u64)d->probe_limit * IOBAND_DEPTH_ONE;
			chain = true;
		}
	} else if (p->held) {
		if (r <= 1024 + (T_RATIO - 1024) / 4)
			d->depth += d->depth / 4;	/* slow start */
		else
			d->depth = ioband_depth_law(d->depth, r);
	} else if (r > T_RATIO) {
		/* Not binding, but queueing below: shrink, never grow. */
		d->depth = min(ioband_depth_law(d->depth, r), d->depth);
	}
	if (!probed)
		d->ref_rate = rate;
	lim = ioband_depth_clamp(d);

	d->probing = lim > 1 && (chain || d->probe_next ||
				 (p->held && d->period % IOBAND_DEPTH_PROBE == 0));
	d->probe_next = false;
	if (d->probing) {
		lim = max_t(u32, lim * 3 / 4, 1);
		d->probe_limit = lim;
	}
	d->limit = lim;
	return lim;
}

u64 ioband_depth_base_ns(const struct ioband_depth *d)
{
	return d->base_ns[0];
}

u64 ioband_depth_target_ns(const struct ioband_depth *d)
{
	return d->base_ns[0] * T_RATIO / 1024;
}
