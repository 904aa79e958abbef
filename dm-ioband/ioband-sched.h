/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-sched.h - policy arithmetic of dm-ioband: the policies' cost
 * functions and the weighted fair queueing core shared by them.
 *
 * Kernel-independent: compiled into the module and, unchanged, into the
 * userspace simulator and unit tests (tests/unit/).  The caller provides
 * locking; see each function's contract.  The algorithm is described in
 * docs/scheduling.md.
 */
#ifndef IOBAND_SCHED_H
#define IOBAND_SCHED_H

#include "ioband-compat.h"
#include "ioband-parse.h"

/*
 * Virtual time is in units of 1/IOBAND_VT_ONE cost unit at weight 1: an
 * I/O of cost c advances its group's virtual time by c * IOBAND_VT_ONE / w.
 * With weights up to 32767, a cost-1 I/O still moves 32 units.  Virtual
 * times wrap; they are only ever compared with ioband_vt_before(), which
 * is correct while the values compared are within 2^63 of each other
 * (they are within a few seconds of service of one another).
 */
#define IOBAND_VT_SHIFT		20
#define IOBAND_VT_ONE		(1ULL << IOBAND_VT_SHIFT)

/* What a policy may look at to price an I/O. */
struct ioband_io {
	u32 sectors;
	bool write;
	bool discard;		/* no data moved (not write-zeroes) */
};

/*
 * A policy: how much an I/O costs, in the policy's unit.
 *
 * @io_cost: cost of one I/O, >= 1.  Must not block; called once per bio,
 *	in map() or in the dispatcher, possibly under a spinlock.
 * @default_token: token_base used when the table or message gives 0, for a
 *	device group with the given io_limit; in the same unit as io_cost.
 * @ranges: groups have a range (min and max KB/s, range-bw) rather than a
 *	weight; io_cost must then be in sectors.
 *
 * Policies are looked up by id (the parser maps names and aliases to ids)
 * in a small static registry, ioband_policy_get().
 */
struct ioband_policy_ops {
	const char *name;
	u64 (*io_cost)(const struct ioband_io *io);
	u64 (*default_token)(u32 io_limit);
	bool ranges;
};

const struct ioband_policy_ops *ioband_policy_get(enum ioband_policy_id id);

/*
 * A schedulable entity: one group.  @vtime is the virtual start time of
 * the group's next I/O (its last finish time).  @heap_idx is its place in
 * the backlog heap, IOBAND_NOT_QUEUED when it has nothing held.
 */
#define IOBAND_NOT_QUEUED	U32_MAX

struct ioband_entity {
	u64 vtime;
	u32 heap_idx;
};

/*
 * The backlog: a binary min-heap of the entities that have I/O held,
 * ordered by vtime.  The array is provided by the caller (who can allocate
 * where allocation is allowed) through ioband_wfq_set_heap().
 */
struct ioband_wfq {
	struct ioband_entity **heap;
	u32 nr;				/* entities in the heap */
	u32 cap;			/* size of @heap */
};

static inline bool ioband_vt_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

/* Virtual time an I/O of @cost takes from a group of @weight. */
static inline u64 ioband_vt_cost(u64 cost, u32 weight)
{
	return div_u64(cost << IOBAND_VT_SHIFT, weight ? weight : 1);
}

/*
 * The earliest start tag a group may have now: @token cost units of idle
 * credit behind the virtual time, so that a group that was idle cannot
 * hoard more than that.
 */
static inline u64 ioband_vt_floor(u64 vnow, u64 token, u32 weight)
{
	return vnow - ioband_vt_cost(token, weight);
}

/*
 * Whether vnow must be advanced to a start tag just issued: only once it
 * lags by more than half a token (in the issuing group's virtual time).
 * Following the largest start tag exactly would cost the fast path a
 * cmpxchg on a shared cache line for nearly every bio; lagging by half a
 * token only lets a returning group bring up to 1.5 tokens of credit.
 */
static inline bool ioband_vnow_lags(u64 vnow, u64 start, u64 token, u32 weight)
{
	return ioband_vt_before(vnow + ioband_vt_cost(token, weight) / 2, start);
}

/*
 * How far a group's vtime can really be ahead of the floor: the token
 * (at most 2^40 units at weight 1: 2^60), vnow's lag of half a token and
 * one I/O (2^32 sectors at weight 1: 2^52) stay below 2^61.  A vtime that
 * seems further ahead is a stale one: its group was idle while vnow
 * advanced by more than 2^63 (days at high rates with small weights), and
 * the wrapped difference makes it compare as ahead.
 */
#define IOBAND_VT_STALE		(1ULL << 62)

/*
 * The start tag of a group's next I/O: its own vtime, but not below floor;
 * a stale vtime (see IOBAND_VT_STALE) is clamped to the floor too.
 */
static inline u64 ioband_vt_start(u64 vtime, u64 floor)
{
	if (ioband_vt_before(vtime, floor) || vtime - floor >= IOBAND_VT_STALE)
		return floor;
	return vtime;
}

void ioband_wfq_init(struct ioband_wfq *w);

/*
 * Move the heap to @heap of @cap entries (cap >= w->nr).  Caller holds the
 * lock protecting @w; returns the old array for the caller to free.
 */
struct ioband_entity **ioband_wfq_set_heap(struct ioband_wfq *w,
					   struct ioband_entity **heap,
					   u32 cap);

/*
 * A group gets its first held I/O: put it in the backlog with its start
 * tag raised to @floor.  Needs w->nr < w->cap (the caller reserves a heap
 * slot per group).  Caller holds the lock protecting @w.
 */
void ioband_wfq_activate(struct ioband_wfq *w, struct ioband_entity *e,
			 u64 floor);

/* The backlogged entity with the smallest start tag, or NULL. */
static inline struct ioband_entity *ioband_wfq_first(struct ioband_wfq *w)
{
	return w->nr ? w->heap[0] : NULL;
}

/*
 * @e (in the backlog) had one I/O dispatched and its start tag is now
 * @vtime.  Keeps @e in the backlog, re-ordered, if @more, else removes it.
 * Caller holds the lock.
 */
void ioband_wfq_dispatched(struct ioband_wfq *w, struct ioband_entity *e,
			   u64 vtime, bool more);

/* Take @e out of the backlog (detach, drain).  Caller holds the lock. */
void ioband_wfq_remove(struct ioband_wfq *w, struct ioband_entity *e);

/*
 * Take out of the backlog every entity that @match picks (the backlog of a
 * device group holds the groups of all its members; a suspend releases
 * one member's).  @match is called once for each entity in the backlog,
 * the heap is rebuilt once: O(w->nr).  The n entities taken are left in
 * w->heap[w->nr .. w->nr + n), in no particular order, for the caller to go
 * through before it releases the lock (the next activation reuses those
 * slots).  Returns n.  Caller holds the lock.
 */
u32 ioband_wfq_extract(struct ioband_wfq *w,
		       bool (*match)(struct ioband_entity *e, const void *arg),
		       const void *arg);

/*
 * Slot reservation for groups with think time (docs/scheduling.md,
 * "Think time").  A group that is active but has nothing held (bios in
 * flight, or its last one completed less than a grace period ago) and whose
 * start tag lags the head of the backlog by more than one of its own I/Os
 * keeps free the slots it is entitled to and does not use: its quota,
 * ceil(io_limit * weight / active weight), less what it has in flight.
 * Deep groups dispatch only into the slots left.  A group that asks less
 * than its share keeps at most that quota free while it is active; a group
 * that stops gives everything up one grace period after its last
 * completion.
 */
#define IOBAND_GRACE_NS		(2ULL * 1000 * 1000)
/*
 * On a slow disk a thread's think time is small beside the I/O it waits for
 * even when it is above 1 ms (a sync writer's fsync round trip, a slow
 * CPU): the caller may stretch the grace to half the disk's latency, up to
 * this much.
 */
#define IOBAND_GRACE_MAX_NS	(25ULL * 1000 * 1000)

/*
 * One group alone this long (no other group's bio mapped but while a cap
 * held that group) may pass the automatic depth bound (ioband_solo(), by
 * ioband_depth_solo_extra()): four of the longest graces, so that a group
 * with think time is not taken for gone.
 */
#define IOBAND_SOLO_NS		(4 * IOBAND_GRACE_MAX_NS)

/*
 * The default token_base, in device depths.  A group of many threads with
 * think time (eight QD1 jobs) lags the deep groups by up to its depth
 * while its threads think; with one depth of credit the floor took that
 * lag back and the group got 76-78% for 80 (bench/run --methods
 * ioband-tok32,ioband-tok128 on the 8-tag disk: 79.2% and 79.6%).  Four
 * is also 1.14's default bucket (io_limit x 2 x DEFAULT_BUCKET).
 */
#define IOBAND_TOKEN_DEPTHS	4

/* Whether a group's next start tag lags @head by more than one I/O. */
static inline bool ioband_lagging(u64 vtime, u64 floor, u64 head, u64 vcost)
{
	return ioband_vt_before(ioband_vt_start(vtime, floor) + vcost, head);
}

/*
 * Slots kept free for a lagging active group: its quota of @limit by
 * @weight among @wsum (the weights of all active groups, its own included),
 * rounded up, less @inflight.
 */
static inline u32 ioband_reserve(u32 limit, u32 weight, u64 wsum, u32 inflight)
{
	u64 quota;

	if (!wsum)
		return 0;
	quota = div64_u64((u64)limit * weight + wsum - 1, wsum);
	return quota > inflight ? (u32)(quota - inflight) : 0;
}

/*
 * What the reservation knows of a group's habits, kept per group by the
 * caller: @think_ns, a moving average (1/8) of the time from a completion
 * to the group's next submission; @peak16, 16 x the depth it recently had
 * in flight (raised at once at issue, decaying by 1/64 of the gap at each
 * completion).  A group reserves only while its think time is below half
 * the grace (it "wants more but thinks"; a group paced by its own clock,
 * fio --rate, thinks longer and reserves nothing), never more slots than
 * it recently used, and never more than idle for half a grace in all: n
 * slots while n x think < grace / 2 (fio --rate_iops at QD4, which waits
 * for all it has in flight and then sleeps up to one interval, keeps one
 * or two, not its burst of four).
 */
struct ioband_habit {
	u64 think_ns;
	u32 peak16;
};

/*
 * Written without a lock from map() and end_io() on any CPU (a lost update
 * only blurs an average), read by the dispatcher: each field is read and
 * written once per call.
 */
static inline void ioband_habit_submit(struct ioband_habit *h, u64 think)
{
	u64 t = READ_ONCE(h->think_ns);

	WRITE_ONCE(h->think_ns, t - (t >> 3) + (think >> 3));
}

static inline void ioband_habit_issue(struct ioband_habit *h, u32 inflight)
{
	if (inflight * 16 > READ_ONCE(h->peak16))
		WRITE_ONCE(h->peak16, inflight * 16);
}

static inline void ioband_habit_done(struct ioband_habit *h, u32 inflight)
{
	u32 p = READ_ONCE(h->peak16);

	if (p > inflight * 16)
		WRITE_ONCE(h->peak16, p - (p - inflight * 16 + 63) / 64);
}

/*
 * Slots a lagging active group with these habits keeps free, with a grace
 * of @grace_ns (IOBAND_GRACE_NS, or more on a slow disk).
 */
static inline u32 ioband_habit_reserve(const struct ioband_habit *h, u32 limit,
				       u32 weight, u64 wsum, u32 inflight,
				       u64 grace_ns)
{
	u32 peak = (READ_ONCE(h->peak16) + 15) / 16;
	u64 think = READ_ONCE(h->think_ns);
	u64 most;
	u32 r;

	if (think >= grace_ns / 2)
		return 0;
	r = ioband_reserve(limit, weight, wsum, inflight);
	/* its quota, but never more than its habit */
	if (inflight + r > peak)
		r = peak > inflight ? peak - inflight : 0;
	/* nor more idle slot time than half a grace */
	most = think ? div64_u64(grace_ns / 2, think) : r;
	return r > most ? (u32)most : r;
}

#endif /* IOBAND_SCHED_H */
