// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-sched.c - dm-ioband's policies and weighted fair queueing core.
 *
 * Kernel-independent (see ioband-compat.h); the same file is linked into
 * dm-ioband.ko and into the userspace simulator (tests/unit/sim-sched.c).
 *
 * The scheduler is start-time fair queueing with a depth bound (SFQ(D)):
 * each group has a virtual time that an I/O of cost c advances by c/weight;
 * while the device has fewer than io_limit I/Os in flight and nothing is
 * held, I/O passes straight through (and is charged); otherwise I/O is
 * held per group and, whenever a slot frees, the backlogged group with the
 * smallest virtual start time sends its oldest I/O.  docs/scheduling.md
 * has the whole design and a worked example.
 */
#include "ioband-sched.h"

/* weight: every I/O costs the same, whatever its size. */
static u64 weight_io_cost(const struct ioband_io *io)
{
	return 1;
}

/*
 * The default token: IOBAND_TOKEN_DEPTHS device depths (io_limit I/Os
 * each) of idle credit, so a group returning from idle, or a shallow one
 * between its I/Os, is served ahead of queued deep groups, but cannot
 * burst for long.
 */
static u64 weight_default_token(u32 io_limit)
{
	return (u64)io_limit * IOBAND_TOKEN_DEPTHS;
}

/*
 * weight-iosize: an I/O costs its size in sectors.  A discard moves no
 * data and costs one page, as blk-throttle counts a discard as one small
 * I/O; otherwise a 1 GiB discard would stall its group for a long time.
 * A write-zeroes costs its size: many devices really write the zeroes.
 */
static u64 iosize_io_cost(const struct ioband_io *io)
{
	if (io->discard || !io->sectors)
		return 8;
	return io->sectors;
}

static u64 iosize_default_token(u32 io_limit)
{
	/* the weight policy's, in 4 KiB pages */
	return (u64)io_limit * IOBAND_TOKEN_DEPTHS * 8;
}

static const struct ioband_policy_ops ioband_policies[IOBAND_POLICY_NR] = {
	[IOBAND_POLICY_WEIGHT] = {
		.name = "weight",
		.io_cost = weight_io_cost,
		.default_token = weight_default_token,
	},
	[IOBAND_POLICY_WEIGHT_IOSIZE] = {
		.name = "weight-iosize",
		.io_cost = iosize_io_cost,
		.default_token = iosize_default_token,
	},
	/*
	 * range-bw: an I/O costs its size, as in weight-iosize; a group's
	 * range (KB/s) becomes a reservation and a limit in sectors per
	 * second (ioband-limit.h) and its share of what is left a weight.
	 */
	[IOBAND_POLICY_RANGE_BW] = {
		.name = "range-bw",
		.io_cost = iosize_io_cost,
		.default_token = iosize_default_token,
		.ranges = true,
	},
};

const struct ioband_policy_ops *ioband_policy_get(enum ioband_policy_id id)
{
	return id < IOBAND_POLICY_NR ? &ioband_policies[id] : NULL;
}

void ioband_wfq_init(struct ioband_wfq *w)
{
	w->heap = NULL;
	w->nr = 0;
	w->cap = 0;
}

struct ioband_entity **ioband_wfq_set_heap(struct ioband_wfq *w,
					   struct ioband_entity **heap,
					   u32 cap)
{
	struct ioband_entity **old = w->heap;
	u32 i;

	for (i = 0; i < w->nr; i++)
		heap[i] = old[i];
	w->heap = heap;
	w->cap = cap;
	return old;
}

static void heap_set(struct ioband_wfq *w, u32 i, struct ioband_entity *e)
{
	w->heap[i] = e;
	e->heap_idx = i;
}

static void heap_up(struct ioband_wfq *w, u32 i)
{
	struct ioband_entity *e = w->heap[i];

	while (i) {
		u32 parent = (i - 1) / 2;

		if (!ioband_vt_before(e->vtime, w->heap[parent]->vtime))
			break;
		heap_set(w, i, w->heap[parent]);
		i = parent;
	}
	heap_set(w, i, e);
}

static void heap_down(struct ioband_wfq *w, u32 i)
{
	struct ioband_entity *e = w->heap[i];

	for (;;) {
		u32 child = 2 * i + 1;

		if (child >= w->nr)
			break;
		if (child + 1 < w->nr &&
		    ioband_vt_before(w->heap[child + 1]->vtime,
				     w->heap[child]->vtime))
			child++;
		if (!ioband_vt_before(w->heap[child]->vtime, e->vtime))
			break;
		heap_set(w, i, w->heap[child]);
		i = child;
	}
	heap_set(w, i, e);
}

void ioband_wfq_activate(struct ioband_wfq *w, struct ioband_entity *e,
			 u64 floor)
{
	if (e->heap_idx != IOBAND_NOT_QUEUED)
		return;
	/*
	 * Callers reserve a slot per group (ioband_heap_reserve()); without
	 * one the group's bios would never be dispatched.
	 */
	if (WARN_ON_ONCE(w->nr >= w->cap))
		return;
	e->vtime = ioband_vt_start(e->vtime, floor);
	heap_set(w, w->nr++, e);
	heap_up(w, e->heap_idx);
}

void ioband_wfq_remove(struct ioband_wfq *w, struct ioband_entity *e)
{
	u32 i = e->heap_idx;
	struct ioband_entity *last;

	if (i == IOBAND_NOT_QUEUED)
		return;
	e->heap_idx = IOBAND_NOT_QUEUED;
	last = w->heap[--w->nr];
	if (last == e)
		return;
	heap_set(w, i, last);
	heap_down(w, i);
	heap_up(w, last->heap_idx);
}

u32 ioband_wfq_extract(struct ioband_wfq *w,
		       bool (*match)(struct ioband_entity *e, const void *arg),
		       const void *arg)
{
	u32 i = 0, n = w->nr, taken;

	/* Those kept to the front, those taken to the back. */
	while (i < n) {
		struct ioband_entity *e = w->heap[i];

		if (match(e, arg)) {
			w->heap[i] = w->heap[--n];
			w->heap[n] = e;
			e->heap_idx = IOBAND_NOT_QUEUED;
		} else {
			e->heap_idx = i++;
		}
	}
	taken = w->nr - n;
	w->nr = n;
	if (taken) {
		for (i = n / 2; i-- > 0; )
			heap_down(w, i);
	}
	return taken;
}

void ioband_wfq_dispatched(struct ioband_wfq *w, struct ioband_entity *e,
			   u64 vtime, bool more)
{
	e->vtime = vtime;
	if (e->heap_idx == IOBAND_NOT_QUEUED)
		return;
	if (more)
		heap_down(w, e->heap_idx);	/* its key only grew */
	else
		ioband_wfq_remove(w, e);
}
