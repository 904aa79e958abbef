// SPDX-License-Identifier: GPL-2.0
/*
 * dm-ioband: I/O bandwidth control for virtual-machine hosts.
 *
 * An ioband device sits on one block device (a disk, a partition, an LV)
 * and sorts every bio into a group: one per uid, gid, pid, process group or
 * cgroup (the bio's own blkcg, so that writeback of dirty pages is charged
 * to the cgroup that dirtied them), plus a default group for everything
 * else.  Several ioband devices with the same device-group id (partitions
 * of one disk, LVs on one PV) form a device group that shares the disk.
 *
 * The table line, messages and status are those of dm-ioband 1.14 (see
 * docs/dm-ioband.md); ioband-parse.c turns them into a validated
 * description and this file applies it.
 *
 * Scheduling (docs/scheduling.md has the design and a worked example) is
 * start-time fair queueing with a depth bound, whose arithmetic lives in
 * ioband-sched.c:
 *
 * - Fast path, map(): while nothing is held in the device group and fewer
 *   than io_limit bios are in flight, a bio is charged (an atomic update
 *   of its group's virtual time) and remapped at once.  No lock is taken.
 * - Slow path: otherwise the bio is held on its group's FIFO under the
 *   device group's qlock, the group enters the backlog heap (O(log n)), and
 *   whatever the free slots allow is dispatched, smallest virtual start
 *   time first.  map() never sleeps; a REQ_NOWAIT bio that would be held
 *   is completed with BLK_STS_AGAIN instead.
 * - Completions only decrement the in-flight count; once io_throttle slots
 *   are free again (a low-water mark, so not on every completion) they kick
 *   the dispatch work, which refills the slots.  A watchdog timer kicks it
 *   too while bios are held, so nothing can be stranded.
 * - Held bios are released with dm_submit_bio_remap(), which keeps the
 *   original bio's blkcg association, so layers below still charge the
 *   right cgroup.  presuspend releases everything a device holds.
 */
#include <linux/device-mapper.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/percpu.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/blk-cgroup.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/timer.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>

#include "ioband-parse.h"
#include "ioband-sched.h"
#include "ioband-owner.h"
#include "ioband-depth.h"
#include "ioband-limit.h"

#define DM_MSG_PREFIX "ioband"

#define IOBAND_DEFAULT_IO_THROTTLE	4
#define IOBAND_WATCHDOG			(HZ / 10)	/* while bios are held */

/*
 * Bios that others wait for (a journal commit, page-out under memory
 * pressure) are never held behind a guest's backlog: they are issued at
 * once and charged to their group, which pays for them later, as blk-iocost
 * does for bio_issue_as_root_blkg() bios (REQ_META | REQ_SWAP) with debt.
 */
#define IOBAND_REQ_URGENT		(REQ_META | REQ_PRIO | REQ_SWAP)

static struct workqueue_struct *ioband_wq;

/* Per-CPU counters of one group; summed for status. */
struct ioband_stats {
	u64 ios[2];		/* bios mapped, by data direction */
	u64 delayed[2];		/* of which were held before dispatch */
	u64 sectors[2];
	u64 wait_ns;		/* total time held */
};

struct ioband_target;

struct ioband_group {
	u64 id;			/* unused for the default group */
	u32 weight;
	struct ioband_target *t;
	struct ioband_stats __percpu *stats;

	/* Virtual time: start tag of the next I/O.  Lock-free (cmpxchg). */
	atomic64_t vtime;
	/*
	 * One reference while attached (the xarray's; the target's for the
	 * default group) and one per bio in flight: detach does not wait for
	 * the disk, the last put frees the group (ioband_group_put()).
	 */
	refcount_t ref;

	/* Held bios, under dg->qlock. */
	struct bio_list queue;
	unsigned int nr_queued;		/* written under qlock, read locklessly */
	struct ioband_entity ent;	/* backlog heap entry */
	u32 held_weight;		/* its part of dg->heap_wsum */
	bool detached;			/* written under qlock, read locklessly */

	/*
	 * Think time (docs/scheduling.md): habits are updated locklessly by
	 * map() and end_io() (a lost update only blurs an average); rnode and
	 * reserving, under qlock, put an active group that holds nothing on
	 * dg->reservers.
	 */
	struct ioband_habit habit;
	u64 last_done_ns;		/* its last completion */
	u64 last_submit_ns;		/* its last bio mapped */
	u64 vcost;			/* virtual time its last I/O took */
	struct list_head rnode;
	bool reserving;

	/*
	 * Reservations and limits (ioband-limit.h): range-bw's range as
	 * configured, KB/s, 0 = none, or the weight policies' r= and l=
	 * (rates encoded by ioband_rate_enc()), and b=: the peak rate, its
	 * seconds and the bank they give (ioband_burst_bank_ns());
	 * the reservation tag (ktime ns), moved by the dispatcher under
	 * qlock, and the limit and peak tags, moved locklessly by the fast
	 * path and under qlock by the dispatcher.  Under qlock:
	 * fnode puts a group in the heap with a reservation on dg->floors,
	 * tnode one held back by its limit (out of the heap) on dg->throttled.
	 */
	u32 min_kbs;
	u32 max_kbs;
	u64 rsv;			/* weight policies: r=, l= (encoded) */
	u64 lim;
	u64 bst;
	u32 bst_secs;
	u64 bank_ns;
	atomic64_t rtag;
	atomic64_t ltag;
	atomic64_t ptag;
	struct list_head fnode;
	struct list_head tnode;
	bool throttled;
	u64 throttled_ns;		/* since when, under qlock */
	u64 limited_ns;			/* total time held by its limit, qlock */
	u64 rsv_sectors;		/* sent for its reservation, qlock */
	u64 rsv_lost_ns;		/* when it last went unmet, qlock */
	struct rcu_head rcu;
};

/* Per-CPU sums of completions and their latency, by size bucket. */
struct ioband_depth_pcpu {
	u64 nr[IOBAND_DEPTH_BUCKETS];
	u64 lat_ns[IOBAND_DEPTH_BUCKETS];
};

/*
 * A device group: the ioband devices that share one disk.  Found by name;
 * its parameters (io_throttle, io_limit, token, policy) are shared by all
 * members.
 */
struct ioband_devgroup {
	struct list_head node;		/* in ioband_devgroups */
	char name[IOBAND_NAME_MAX + 1];
	unsigned int ref;		/* under ioband_devgroups_lock */
	struct list_head members;	/* ioband_target.dg_node */

	struct mutex lock;		/* serialises reconfiguration */
	/* As configured (0 = default / automatic), under lock. */
	u32 io_throttle_cfg;
	u32 io_limit_cfg;
	u64 token_cfg;
	/*
	 * Effective values, never 0: written under lock and depth_busy,
	 * read with READ_ONCE() on the I/O path.  With io_limit_cfg 0 the
	 * depth controller sets them once per period.
	 */
	u32 io_throttle;
	u32 io_limit;
	u64 token_base;
	enum ioband_policy_id policy;
	u32 nr_entities;		/* groups of all members, under lock */

	/*
	 * The automatic depth (io_limit 0; ioband-depth.c).  Completions add
	 * their latency from dispatch to per-CPU counters; the completion
	 * that finds a period over takes depth_busy (never waits for it) and
	 * feeds the counters' increase since the last period to the
	 * controller.  depth, dsnap and period_start belong to whoever holds
	 * depth_busy.
	 */
	struct ioband_depth depth;
	struct ioband_depth_pcpu __percpu *dstat;
	struct ioband_depth_pcpu dsnap;	/* dstat summed at period start */
	unsigned long depth_busy;	/* bit 0 */
	u64 period_start;		/* ktime ns, read locklessly */
	bool depth_held;		/* a bio was held in this period */
	u32 depth_max;			/* what the disk takes */

	/* Scheduler state. */
	atomic_t inflight;		/* dispatched to the disk, not completed */
	atomic_t queued;		/* held in ioband */
	atomic_t tqueued;		/* of which by throttled groups (qlock) */
	atomic64_t vnow;		/* virtual time: largest start tag issued */
	spinlock_t qlock;		/* held bios and the backlog heap */
	struct ioband_wfq wfq;
	struct work_struct dispatch_work;
	struct timer_list watchdog;
	bool dying;

	/*
	 * Think time: the groups that are active but hold nothing (bios in
	 * flight, or their last one completed less than IOBAND_GRACE_NS ago)
	 * and may keep slots free for their next bios (ioband_reserved()),
	 * under qlock.  A group leaves the list when it holds a bio (it is in
	 * the heap then), when its grace is over, on detach and on its
	 * device's presuspend, so the list never points to a freed group.
	 * heap_wsum: the weights of the groups in the heap.  kick re-runs the
	 * dispatcher when it held bios back for a reservation or a group's
	 * limit opens (ioband_dispatch_at()).
	 */
	struct list_head reservers;
	u64 heap_wsum;
	struct hrtimer kick;
	/*
	 * The grace: IOBAND_GRACE_NS, or half the disk's 4 KiB latency
	 * baseline when the automatic depth knows it and it is longer (up to
	 * IOBAND_GRACE_MAX_NS); set at each depth period's end.
	 */
	u64 grace_ns;

	/*
	 * Reservations and limits (range-bw, r=, l=): the groups in the heap
	 * that have a reservation (floors) and the groups held back by their
	 * limit (throttled), under qlock.
	 * range_shift turns mins into weights (ioband_range_weight()), under
	 * lock; rsv_run counts dispatches for reservations in a row.
	 */
	struct list_head floors;
	struct list_head throttled;
	u32 range_shift;
	u32 rsv_run;

	/*
	 * The device group's own limit and burst (",l=" and ",b=" after the
	 * policy): all its members' bios together, paced as a group's are
	 * (ioband_cap_take()).  Set under lock, tags moved locklessly.
	 */
	u64 lim;
	u64 bst;
	u32 bst_secs;
	u64 bank_ns;
	atomic64_t ltag;
	atomic64_t ptag;
};

/* Per-bio data: what end_io must know. */
struct ioband_bio {
	u64 queued_ns;
	u64 issued_ns;			/* 0: not measured (fixed io_limit) */
	struct ioband_group *g;		/* valid while counted */
	u8 bucket;			/* size bucket of the depth controller */
	bool counted;			/* in dg->inflight, holds a ref on g */
};

struct ioband_target {
	struct dm_target *ti;
	struct dm_dev *dev;
	struct ioband_devgroup *dg;
	struct list_head dg_node;	/* under ioband_devgroups_lock */
	struct mapped_device *md;

	enum ioband_type type;		/* changes only with no extra groups */
	bool draining;			/* suspending: hold nothing */
	struct ioband_group default_group;
	struct xarray groups;		/* id -> group; readers use RCU */
	unsigned int nr_groups;		/* under dg->lock */
	bool limits;			/* a group has r= or l=, under dg->lock */

	/* Shared parameters this table asked for, applied when it resumes. */
	bool cfg_pending;
	struct ioband_table_cfg cfg;
};

static LIST_HEAD(ioband_devgroups);
static DEFINE_MUTEX(ioband_devgroups_lock);

static const char *ioband_dev_name(struct ioband_target *t)
{
	return dm_device_name(t->md);
}

/* Default group first, then the extra groups by ascending id. */
static struct ioband_group *ioband_next_group(struct ioband_target *t,
					      struct ioband_group *g,
					      unsigned long *id)
{
	if (g == &t->default_group) {
		*id = 0;
		return xa_find(&t->groups, id, ULONG_MAX, XA_PRESENT);
	}
	return xa_find_after(&t->groups, id, ULONG_MAX, XA_PRESENT);
}

/* Callers hold rcu_read_lock() or dg->lock, so groups stay valid. */
#define ioband_for_each_group(t, id, g)					\
	for ((g) = &(t)->default_group; (g);				\
	     (g) = ioband_next_group((t), (g), &(id)))

static u64 ioband_default_token(enum ioband_policy_id policy, u32 io_limit)
{
	return ioband_policy_get(policy)->default_token(io_limit);
}

/*
 * The effective io_throttle for a configured one (0 = default) under an
 * effective io_limit.  The dispatcher runs when io_throttle slots are free,
 * so the disk sees between io_limit - io_throttle and io_limit bios: 4
 * (1.14's default) for deep queues, less for shallow ones, where a batch
 * of 4 would leave much of the disk idle.  A configured value above an
 * automatic io_limit is cut to it.
 */
static u32 ioband_eff_throttle(u32 io_throttle, u32 io_limit)
{
	if (!io_throttle)
		return clamp_t(u32, io_limit / 16, 1, IOBAND_DEFAULT_IO_THROTTLE);
	return min(io_throttle, io_limit);
}

/*
 * Check configured values (0 = default; io_limit 0 = automatic) of a table
 * or message.  Returns 0 or -EINVAL with *err set; changes nothing.
 */
static int ioband_check_params(u32 io_throttle, u32 io_limit, char **err)
{
	if (io_throttle && io_limit && io_throttle > io_limit) {
		*err = "io_throttle must not exceed io_limit";
		return -EINVAL;
	}
	return 0;
}

/* The per-CPU completion sums of the device group, added up. */
static void ioband_depth_sum(struct ioband_devgroup *dg,
			     struct ioband_depth_pcpu *sum)
{
	int cpu, b;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct ioband_depth_pcpu *p = per_cpu_ptr(dg->dstat, cpu);

		for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
			sum->nr[b] += READ_ONCE(p->nr[b]);
			sum->lat_ns[b] += READ_ONCE(p->lat_ns[b]);
		}
	}
}

/* Start a new depth period now.  Caller holds depth_busy. */
static void ioband_depth_restart(struct ioband_devgroup *dg)
{
	ioband_depth_sum(dg, &dg->dsnap);
	WRITE_ONCE(dg->depth_held, false);
	WRITE_ONCE(dg->period_start, ktime_get_ns());
}

static void ioband_depth_lock(struct ioband_devgroup *dg)
{
	while (test_and_set_bit_lock(0, &dg->depth_busy))
		cpu_relax();
}

static void ioband_depth_unlock(struct ioband_devgroup *dg)
{
	clear_bit_unlock(0, &dg->depth_busy);
}

/*
 * Set the effective io_limit (and what follows from it: io_throttle and a
 * default token) from the configured values, or from the controller's
 * bound when io_limit is automatic.  Caller holds depth_busy.
 */
static void ioband_apply_limit(struct ioband_devgroup *dg, u32 limit)
{
	WRITE_ONCE(dg->io_limit, limit);
	WRITE_ONCE(dg->io_throttle,
		   ioband_eff_throttle(dg->io_throttle_cfg, limit));
	WRITE_ONCE(dg->token_base, dg->token_cfg ? dg->token_cfg :
		   ioband_default_token(dg->policy, limit));
}

static void ioband_dispatch_work(struct work_struct *ws);

/*
 * The dispatcher held bios back (a think-time reservation) or a throttled
 * group's limit opens: dispatch.
 */
static enum hrtimer_restart ioband_kick_fn(struct hrtimer *ht)
{
	struct ioband_devgroup *dg = container_of(ht, struct ioband_devgroup,
						  kick);

	if (!READ_ONCE(dg->dying))
		queue_work(ioband_wq, &dg->dispatch_work);
	return HRTIMER_NORESTART;
}

static void ioband_watchdog_fn(struct timer_list *tl)
{
	struct ioband_devgroup *dg = from_timer(dg, tl, watchdog);

	if (atomic_read(&dg->queued) && !READ_ONCE(dg->dying))
		queue_work(ioband_wq, &dg->dispatch_work);
}

/*
 * Make room in the backlog heap for @need groups.  The heap only grows;
 * allocation happens here, outside qlock, so the I/O path never allocates.
 */
static int ioband_heap_reserve(struct ioband_devgroup *dg, u32 need)
{
	struct ioband_entity **heap, **old;
	u32 cap;

	lockdep_assert_held(&dg->lock);
	if (need <= dg->wfq.cap)
		return 0;
	cap = max3(need, 2 * dg->wfq.cap, 16U);
	heap = kvmalloc_array(cap, sizeof(*heap), GFP_KERNEL);
	if (!heap)
		return -ENOMEM;
	spin_lock_irq(&dg->qlock);
	old = ioband_wfq_set_heap(&dg->wfq, heap, cap);
	spin_unlock_irq(&dg->qlock);
	kvfree(old);
	return 0;
}

static struct ioband_devgroup *ioband_devgroup_alloc(const char *name)
{
	struct ioband_devgroup *dg = kzalloc(sizeof(*dg), GFP_KERNEL);

	if (!dg)
		return NULL;
	dg->dstat = alloc_percpu(struct ioband_depth_pcpu);
	if (!dg->dstat) {
		kfree(dg);
		return NULL;
	}
	strscpy(dg->name, name, sizeof(dg->name));
	INIT_LIST_HEAD(&dg->members);
	mutex_init(&dg->lock);
	spin_lock_init(&dg->qlock);
	ioband_wfq_init(&dg->wfq);
	INIT_WORK(&dg->dispatch_work, ioband_dispatch_work);
	timer_setup(&dg->watchdog, ioband_watchdog_fn, 0);
	INIT_LIST_HEAD(&dg->reservers);
	dg->grace_ns = IOBAND_GRACE_NS;
	hrtimer_init(&dg->kick, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	dg->kick.function = ioband_kick_fn;
	INIT_LIST_HEAD(&dg->floors);
	INIT_LIST_HEAD(&dg->throttled);
	return dg;
}

static void ioband_devgroup_free(struct ioband_devgroup *dg)
{
	WRITE_ONCE(dg->dying, true);
	/* After shutdown the work cannot re-arm it (6.1 has it too). */
	timer_shutdown_sync(&dg->watchdog);
	hrtimer_cancel(&dg->kick);	/* then it queues the work no more */
	cancel_work_sync(&dg->dispatch_work);
	hrtimer_cancel(&dg->kick);	/* armed by the work before it saw dying */
	WARN_ON(!list_empty(&dg->reservers));
	WARN_ON(!list_empty(&dg->floors) || !list_empty(&dg->throttled));
	WARN_ON(atomic_read(&dg->queued) || dg->wfq.nr);
	kvfree(dg->wfq.heap);
	free_percpu(dg->dstat);
	mutex_destroy(&dg->lock);
	kfree(dg);
}

/*
 * Set the device group's shared parameters from configured values (0 =
 * default; io_limit 0 = automatic).  Returns 0, or -EINVAL with *err set
 * and nothing changed.
 */
static int ioband_set_params(struct ioband_devgroup *dg, u32 io_throttle,
			     u32 io_limit, enum ioband_policy_id policy,
			     u64 token, char **err)
{
	bool was_auto = !dg->io_limit_cfg && dg->io_limit;
	int r;

	lockdep_assert_held(&dg->lock);
	r = ioband_check_params(io_throttle, io_limit, err);
	if (r)
		return r;
	ioband_depth_lock(dg);
	dg->io_throttle_cfg = io_throttle;
	WRITE_ONCE(dg->io_limit_cfg, io_limit);
	dg->token_cfg = token;
	WRITE_ONCE(dg->policy, policy);
	if (!io_limit && !was_auto) {
		/* Automatic from now on: start from scratch. */
		ioband_depth_init(&dg->depth, dg->depth_max);
		ioband_depth_restart(dg);
	}
	ioband_apply_limit(dg, io_limit ? io_limit : dg->depth.limit);
	if (io_limit)	/* no latency measured: the plain grace */
		WRITE_ONCE(dg->grace_ns, IOBAND_GRACE_NS);
	ioband_depth_unlock(dg);
	return 0;
}

/*
 * Set the device group's own limit (@lim, encoded; 0: none, and no burst)
 * and burst (peak @bst for @secs).  dg->lock.
 */
static void ioband_dg_set_limit(struct ioband_devgroup *dg, u64 lim, u64 bst,
				u32 secs)
{
	lockdep_assert_held(&dg->lock);
	if (!lim)
		bst = 0;
	WRITE_ONCE(dg->lim, lim);
	WRITE_ONCE(dg->bst, bst);
	WRITE_ONCE(dg->bst_secs, bst ? secs : 0);
	WRITE_ONCE(dg->bank_ns,
		   ioband_burst_bank_ns(lim & ~IOBAND_RATE_IOPS,
					bst & ~IOBAND_RATE_IOPS, secs));
}

/*
 * The device group's limit and burst after @dgl (what it does not give
 * stays; a limit of 0 takes the burst with it) into *@lim, *@bst, *@secs.
 * Returns NULL, or what is wrong with the result.  dg->lock.
 */
static const char *ioband_dg_limit_merge(struct ioband_devgroup *dg,
					 const struct ioband_dg_limit *dgl,
					 u64 *lim, u64 *bst, u32 *secs)
{
	struct ioband_rate l;
	struct ioband_burst b;

	*lim = dgl->has_lim ? ioband_rate_enc(&dgl->lim) : dg->lim;
	*bst = dgl->has_bst ? ioband_rate_enc(&dgl->bst.rate) :
		*lim ? dg->bst : 0;
	*secs = dgl->has_bst ? dgl->bst.secs : dg->bst_secs;
	l = ioband_rate_dec(*lim);
	b.rate = ioband_rate_dec(*bst);
	b.secs = *secs;
	return ioband_burst_problem(&b, &l);
}

static struct ioband_devgroup *ioband_devgroup_find(const char *name)
{
	struct ioband_devgroup *dg;

	lockdep_assert_held(&ioband_devgroups_lock);
	list_for_each_entry(dg, &ioband_devgroups, node)
		if (!strcmp(dg->name, name))
			return dg;
	return NULL;
}

static bool ioband_devgroup_has_other_md(struct ioband_devgroup *dg,
					 struct mapped_device *md)
{
	struct ioband_target *m;

	lockdep_assert_held(&ioband_devgroups_lock);
	list_for_each_entry(m, &dg->members, dg_node)
		if (m->md != md)
			return true;
	return false;
}

/*
 * What the disk below takes in flight: its tags for a request-based queue;
 * for a bio-based one (dm, md, NVMe multipath), which has no such bound,
 * IOBAND_DEPTH_MAX_DEFAULT.
 */
static u32 ioband_disk_depth(struct block_device *bdev)
{
	struct request_queue *q = bdev_get_queue(bdev);
	u64 depth = IOBAND_DEPTH_MAX_DEFAULT;

	/* the queues that take reads and writes, not the polled ones */
	if (queue_is_mq(q) && q->tag_set)
		depth = (u64)q->tag_set->queue_depth *
			max(q->tag_set->map[HCTX_TYPE_DEFAULT].nr_queues, 1U);
	return clamp_t(u64, depth, 1, IOBAND_THROTTLE_MAX);
}

/*
 * range-bw weighs a group by its min shifted right by dg->range_shift
 * (ioband_range_weight()): make it fit @min_kbs.  It only grows, so that
 * no member's groups need visiting.  Caller holds dg->lock.
 */
static void ioband_range_fit(struct ioband_devgroup *dg, u32 min_kbs)
{
	u32 shift = ioband_range_shift(min_kbs);

	if (shift > dg->range_shift)
		WRITE_ONCE(dg->range_shift, shift);
}

/*
 * Join (or create) the device group named in the table.  A new member of a
 * group that other devices already use must agree with its policy and with
 * every shared parameter it gives explicitly (0 inherits); a reload of the
 * group's only device may change them, which takes effect at resume.
 */
static int ioband_devgroup_join(struct ioband_target *t, char **err)
{
	struct ioband_table_cfg *cfg = &t->cfg;
	struct ioband_devgroup *dg;
	int r = 0;

	mutex_lock(&ioband_devgroups_lock);
	dg = ioband_devgroup_find(cfg->devgroup);
	if (dg && ioband_devgroup_has_other_md(dg, t->md)) {
		mutex_lock(&dg->lock);
		if (cfg->policy != dg->policy) {
			*err = "Device group already uses another policy (change it with the policy message)";
			r = -EINVAL;
		} else if (cfg->io_throttle &&
			   cfg->io_throttle != dg->io_throttle_cfg) {
			*err = "io_throttle differs from the device group's (give 0 to inherit)";
			r = -EINVAL;
		} else if (cfg->io_limit && cfg->io_limit != dg->io_limit_cfg) {
			*err = "io_limit differs from the device group's (give 0 to inherit)";
			r = -EINVAL;
		} else if (cfg->token_base && cfg->token_base != dg->token_cfg) {
			*err = "token_base differs from the device group's (give 0 to inherit)";
			r = -EINVAL;
		} else if (cfg->dg_limit.has_lim &&
			   ioband_rate_enc(&cfg->dg_limit.lim) != dg->lim) {
			*err = "The policy's l= differs from the device group's (leave it out to inherit)";
			r = -EINVAL;
		} else if (cfg->dg_limit.has_bst &&
			   (ioband_rate_enc(&cfg->dg_limit.bst.rate) != dg->bst ||
			    cfg->dg_limit.bst.secs != dg->bst_secs)) {
			*err = "The policy's b= differs from the device group's (leave it out to inherit)";
			r = -EINVAL;
		}
		mutex_unlock(&dg->lock);
		if (r)
			goto out;
	} else if (dg) {
		/* Reload of the group's only device: check now, apply at resume. */
		r = ioband_check_params(cfg->io_throttle, cfg->io_limit, err);
		if (r)
			goto out;
		t->cfg_pending = true;
	} else {
		dg = ioband_devgroup_alloc(cfg->devgroup);
		if (!dg) {
			*err = "Cannot allocate device group";
			r = -ENOMEM;
			goto out;
		}
		dg->depth_max = ioband_disk_depth(t->dev->bdev);
		mutex_lock(&dg->lock);
		r = ioband_set_params(dg, cfg->io_throttle, cfg->io_limit,
				      cfg->policy, cfg->token_base, err);
		if (!r)
			ioband_dg_set_limit(dg, ioband_rate_enc(&cfg->dg_limit.lim),
					    ioband_rate_enc(&cfg->dg_limit.bst.rate),
					    cfg->dg_limit.bst.secs);
		mutex_unlock(&dg->lock);
		if (r) {
			ioband_devgroup_free(dg);
			goto out;
		}
		list_add(&dg->node, &ioband_devgroups);
	}

	/* A heap slot for each of this table's groups; start them at vnow. */
	mutex_lock(&dg->lock);
	r = ioband_heap_reserve(dg, dg->nr_entities + 1 + t->nr_groups);
	if (!r) {
		struct ioband_group *g;
		unsigned long id;

		dg->nr_entities += 1 + t->nr_groups;
		ioband_for_each_group(t, id, g) {
			atomic64_set(&g->vtime, atomic64_read(&dg->vnow));
			ioband_range_fit(dg, g->min_kbs);
		}
	}
	mutex_unlock(&dg->lock);
	if (r) {
		*err = "Cannot allocate scheduler heap";
		if (!dg->ref) {
			list_del(&dg->node);
			ioband_devgroup_free(dg);
		}
		goto out;
	}
	dg->ref++;
	list_add_tail(&t->dg_node, &dg->members);
	t->dg = dg;
out:
	mutex_unlock(&ioband_devgroups_lock);
	return r;
}

static void ioband_devgroup_leave(struct ioband_target *t)
{
	struct ioband_devgroup *dg = t->dg;

	mutex_lock(&ioband_devgroups_lock);
	list_del(&t->dg_node);
	mutex_lock(&dg->lock);
	dg->nr_entities -= 1 + t->nr_groups;
	mutex_unlock(&dg->lock);
	if (!--dg->ref) {
		list_del(&dg->node);
		ioband_devgroup_free(dg);
	}
	mutex_unlock(&ioband_devgroups_lock);
	t->dg = NULL;
}

/*
 * Set @g's burst: peak rate @enc (encoded; 0: none) for @secs, beside its
 * current limit.  dg->lock.
 */
static void ioband_set_burst(struct ioband_group *g, u64 enc, u32 secs)
{
	WRITE_ONCE(g->bst, enc);
	WRITE_ONCE(g->bst_secs, enc ? secs : 0);
	WRITE_ONCE(g->bank_ns,
		   ioband_burst_bank_ns(g->lim & ~IOBAND_RATE_IOPS,
					enc & ~IOBAND_RATE_IOPS, secs));
}

static int ioband_group_init(struct ioband_target *t, struct ioband_group *g,
			     const struct ioband_group_cfg *cfg)
{
	g->stats = alloc_percpu(struct ioband_stats);
	if (!g->stats)
		return -ENOMEM;
	g->id = cfg->id;
	g->weight = cfg->weight;
	g->min_kbs = cfg->min_kbs;
	g->max_kbs = cfg->max_kbs;
	g->rsv = ioband_rate_enc(&cfg->rsv);
	g->lim = ioband_rate_enc(&cfg->lim);
	ioband_set_burst(g, ioband_rate_enc(&cfg->bst.rate), cfg->bst.secs);
	g->t = t;
	refcount_set(&g->ref, 1);
	bio_list_init(&g->queue);
	g->ent.heap_idx = IOBAND_NOT_QUEUED;
	INIT_LIST_HEAD(&g->rnode);
	INIT_LIST_HEAD(&g->fnode);
	INIT_LIST_HEAD(&g->tnode);
	return 0;
}

static void ioband_group_free(struct ioband_group *g)
{
	free_percpu(g->stats);
	kfree(g);
}

static void ioband_group_free_rcu(struct rcu_head *head)
{
	ioband_group_free(container_of(head, struct ioband_group, rcu));
}

/*
 * Drop a reference to a group; the last one frees it after a grace period
 * (in an RCU callback, not in the completion's context).  The default
 * group's own reference is the target's, never dropped.  Returns the
 * references left: @g must not be used after this.
 */
static int ioband_group_put(struct ioband_group *g)
{
	int old;

	if (__refcount_dec_and_test(&g->ref, &old))
		call_rcu(&g->rcu, ioband_group_free_rcu);
	return old - 1;
}

/*
 * A detached group's own reference, dropped once map(), which looks groups
 * up under rcu_read_lock(), can no longer find it: until then a map() may
 * still take a reference for a bio.  Already after a grace period: the
 * last reference frees the group at once.
 */
static void ioband_group_unref_rcu(struct rcu_head *head)
{
	struct ioband_group *g = container_of(head, struct ioband_group, rcu);

	if (refcount_dec_and_test(&g->ref))
		ioband_group_free(g);
}

/* Create and publish an extra group.  Caller holds dg->lock or owns t. */
static int ioband_group_attach(struct ioband_target *t,
			       const struct ioband_group_cfg *cfg)
{
	struct ioband_group *g;
	int r;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	r = ioband_group_init(t, g, cfg);
	if (r) {
		kfree(g);
		return r;
	}
	r = xa_insert(&t->groups, cfg->id, g, GFP_KERNEL);
	if (r) {
		ioband_group_put(g);
		return r;
	}
	t->nr_groups++;
	return 0;
}

/*
 * At dtr dm core has no bio of ours in flight and calls map() no more, so
 * the groups' own references are the last: each group goes after a grace
 * period, as at the end of a detach (module exit waits: rcu_barrier()).
 */
static void ioband_free_groups(struct ioband_target *t)
{
	struct ioband_group *g;
	unsigned long id;

	xa_for_each(&t->groups, id, g) {
		xa_erase(&t->groups, id);
		WARN_ON_ONCE(ioband_group_put(g));
	}
	xa_destroy(&t->groups);
	t->nr_groups = 0;
}

/*
 * Whether a group of @t has a reservation or limit (r=, l=).  dg->lock, or
 * t is not live yet.
 */
static bool ioband_has_limits(struct ioband_target *t)
{
	struct ioband_group *g;
	unsigned long id;

	ioband_for_each_group(t, id, g)
		if (g->rsv || g->lim)
			return true;
	return false;
}

static void ioband_dtr(struct dm_target *ti)
{
	struct ioband_target *t = ti->private;

	if (t->dg)
		ioband_devgroup_leave(t);
	ioband_free_groups(t);
	/* Embedded in t: nothing in flight may hold it (see above). */
	WARN_ON_ONCE(t->default_group.stats &&
		     refcount_read(&t->default_group.ref) != 1);
	free_percpu(t->default_group.stats);
	if (t->dev)
		dm_put_device(ti, t->dev);
	kvfree(t->cfg.groups);
	kfree(t);
}

/*
 * Construct an ioband device:
 *
 *   <device> <device-group-id> <io_throttle> <io_limit> <type> <policy>
 *   <token_base> [:<weight>] [<group-id>:<weight> ...]
 */
static int ioband_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct ioband_group_cfg def = { .id = 0 };
	struct ioband_target *t;
	unsigned int i;
	int r;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t) {
		ti->error = "Cannot allocate ioband context";
		return -ENOMEM;
	}
	ti->private = t;
	t->ti = ti;
	t->md = dm_table_get_md(ti->table);
	xa_init(&t->groups);
	INIT_LIST_HEAD(&t->dg_node);

	/*
	 * The bound before the allocation: a line of many words must not make
	 * a huge allocation (the parser gives the same error).  At the bound
	 * the array is 1 MiB: vmalloc'ed rather than a high-order kmalloc.
	 */
	if (argc > IOBAND_TABLE_FIXED_ARGS + 1 + IOBAND_GROUPS_MAX) {
		ti->error = "Too many groups (at most 65536 per device)";
		r = -EINVAL;
		goto bad;
	}
	t->cfg.groups = kvcalloc(max(argc, 1U), sizeof(*t->cfg.groups),
				 GFP_KERNEL);
	if (!t->cfg.groups) {
		ti->error = "Cannot allocate group table";
		r = -ENOMEM;
		goto bad;
	}
	r = ioband_parse_table(argc, argv, &t->cfg, &ti->error);
	if (r)
		goto bad;

	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &t->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad;
	}

	t->type = t->cfg.type;
	def.weight = t->cfg.default_weight;
	def.rsv = t->cfg.default_rsv;
	def.lim = t->cfg.default_lim;
	def.bst = t->cfg.default_bst;
	def.min_kbs = t->cfg.default_min_kbs;
	def.max_kbs = t->cfg.default_max_kbs;
	r = ioband_group_init(t, &t->default_group, &def);
	if (r) {
		ti->error = "Cannot allocate default group";
		goto bad;
	}
	for (i = 0; i < t->cfg.nr_groups; i++) {
		r = ioband_group_attach(t, &t->cfg.groups[i]);
		if (r) {
			ti->error = "Cannot allocate group";
			goto bad;
		}
	}

	t->limits = ioband_has_limits(t);
	r = ioband_devgroup_join(t, &ti->error);
	if (r)
		goto bad;

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct ioband_bio);
	ti->accounts_remapped_io = true;
	return 0;
bad:
	ioband_dtr(ti);
	return r;
}

/*
 * Find the group of a bio.  Called under rcu_read_lock(); the group stays
 * valid, with its own reference, until rcu_read_unlock() (a detach drops
 * that reference only after a grace period), so the caller may take one.
 * A group found may be detached by then: held bios must check (map()).
 */
static struct ioband_group *ioband_classify(struct ioband_target *t,
					    struct bio *bio)
{
	enum ioband_type type = READ_ONCE(t->type);
	struct cgroup_subsys_state *css;
	struct ioband_group *g;
	struct cgroup *cgrp;
	u64 id;

	/* uid..pgrp from dm core's worker, a flusher: the owner is unknown */
	if (type != IOBAND_TYPE_CGROUP && ioband_owner_is_kthread())
		return &t->default_group;

	switch (type) {
	case IOBAND_TYPE_UID:
		id = from_kuid(&init_user_ns, current_uid());
		break;
	case IOBAND_TYPE_GID:
		id = from_kgid(&init_user_ns, current_gid());
		break;
	case IOBAND_TYPE_PID:
		id = task_tgid_nr(current);
		break;
	case IOBAND_TYPE_PGRP:
		id = task_pgrp_nr(current);
		break;
	case IOBAND_TYPE_CGROUP:
		/*
		 * The original bio's blkcg, not current's: writeback is
		 * issued by flusher threads on behalf of the cgroup that
		 * dirtied the pages (ioband-owner.c).  The nearest ancestor
		 * with a group gets the bio, so that a guest's sub-cgroups
		 * (vcpu, emulator) count as the guest.
		 */
		css = ioband_owner_css(t->ti, t->md, bio);
		if (!css)
			return &t->default_group;
		for (cgrp = css->cgroup; cgrp; cgrp = cgroup_parent(cgrp)) {
			g = xa_load(&t->groups, cgroup_id(cgrp));
			if (g)
				return g;
		}
		return &t->default_group;
	default:
		return &t->default_group;
	}
	g = xa_load(&t->groups, id);
	return g ? g : &t->default_group;
}

/*
 * Bios held that the dispatcher could send now: held, and not by a group
 * over its limit.  Read without qlock (two counters: a reader between two
 * updates errs towards "some", the slow path).
 */
static int ioband_held_eligible(struct ioband_devgroup *dg)
{
	return atomic_read(&dg->queued) - atomic_read(&dg->tqueued);
}

/* Whether the device group's policy gives groups ranges (range-bw). */
static bool ioband_ranges(struct ioband_devgroup *dg)
{
	return ioband_policy_get(READ_ONCE(dg->policy))->ranges;
}

/* The weight @g is scheduled by: its own, or under range-bw its min's. */
static u32 ioband_weight(struct ioband_devgroup *dg, struct ioband_group *g)
{
	if (ioband_ranges(dg))
		return ioband_range_weight(READ_ONCE(g->min_kbs),
					   READ_ONCE(dg->range_shift));
	return READ_ONCE(g->weight);
}

/*
 * @g's reservation and limit, encoded: bytes per second, or with
 * IOBAND_RATE_IOPS I/Os per second; 0: none.  range-bw's KB/s, or the
 * weight policies' r= and l=.
 */
static u64 ioband_min_rate(struct ioband_devgroup *dg, struct ioband_group *g)
{
	if (ioband_ranges(dg))
		return (u64)READ_ONCE(g->min_kbs) * 1024;
	return READ_ONCE(g->rsv);
}

static u64 ioband_max_rate(struct ioband_devgroup *dg, struct ioband_group *g)
{
	if (ioband_ranges(dg))
		return (u64)READ_ONCE(g->max_kbs) * 1024;
	return READ_ONCE(g->lim);
}

/* @g's burst rate, encoded (in the unit of its limit), or 0. */
static u64 ioband_peak_rate(struct ioband_devgroup *dg, struct ioband_group *g)
{
	if (ioband_ranges(dg))
		return 0;
	return READ_ONCE(g->bst);
}

/* When @g's limit (and its burst's peak) next lets it send. */
static u64 ioband_limit_opens(struct ioband_devgroup *dg,
			      struct ioband_group *g)
{
	u64 tag = atomic64_read(&g->ltag), ptag;

	if (!ioband_peak_rate(dg, g))
		return tag;
	ptag = atomic64_read(&g->ptag);
	return (s64)(ptag - tag) > 0 ? ptag : tag;
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
 * Take an I/O of @cost from a cap: a limit tag @lt paced at @rate, with a
 * burst's @bank, and a peak tag @pt paced at @peak (0: no burst).  Unless
 * @force, only while both are open (false otherwise).  The peak tag moves
 * after the limit's compare-and-swap: two CPUs that both found it open may
 * both go, so the peak holds within one I/O per CPU.  Lock-free.
 */
static bool ioband_cap_take(atomic64_t *lt, atomic64_t *pt, u64 rate,
			    u64 peak, u64 bank, u64 cost, u64 now, u64 queued,
			    bool force)
{
	s64 old;
	u64 next;

	if (peak && !force && !ioband_pace_open(atomic64_read(pt), now))
		return false;
	old = atomic64_read(lt);
	do {
		if (!force && !ioband_pace_open(old, now))
			return false;
		next = ioband_pace_next_waited(old, now, queued, cost, rate,
					       bank);
	} while (!atomic64_try_cmpxchg(lt, &old, next));
	if (!peak)
		return true;
	old = atomic64_read(pt);
	do {
		next = ioband_pace_next_waited(old, now, queued, cost, peak, 0);
	} while (!atomic64_try_cmpxchg(pt, &old, next));
	return true;
}

/* Whether the device group's own limit lets a bio go at @now. */
static bool ioband_dg_open(struct ioband_devgroup *dg, u64 now)
{
	if (!READ_ONCE(dg->lim))
		return true;
	return ioband_pace_open(atomic64_read(&dg->ltag), now) &&
		(!READ_ONCE(dg->bst) ||
		 ioband_pace_open(atomic64_read(&dg->ptag), now));
}

/* When the device group's own limit next lets a bio go. */
static u64 ioband_dg_opens(struct ioband_devgroup *dg)
{
	u64 tag = atomic64_read(&dg->ltag), ptag;

	if (!READ_ONCE(dg->bst))
		return tag;
	ptag = atomic64_read(&dg->ptag);
	return (s64)(ptag - tag) > 0 ? ptag : tag;
}

/*
 * @bio of @g, queued at @queued (@now if it was not held), may go at @now
 * as far as its limit and the device group's go: if so (or if @force:
 * urgent bios, draining) their tags move.  The device group's is checked
 * first and taken after the group's (at most one I/O per CPU over it, as
 * the peak).  Lock-free.
 */
static bool ioband_limit_take(struct ioband_devgroup *dg,
			      struct ioband_group *g, u64 now, u64 queued,
			      struct bio *bio, bool force)
{
	u64 enc = ioband_max_rate(dg, g), dgenc = READ_ONCE(dg->lim);
	u64 rate, cost, peak;

	if (!force && !ioband_dg_open(dg, now))
		return false;
	if (enc) {
		cost = ioband_pace_cost(enc, bio, &rate);
		peak = ioband_peak_rate(dg, g) & ~IOBAND_RATE_IOPS;
		if (!ioband_cap_take(&g->ltag, &g->ptag, rate, peak,
				     peak ? READ_ONCE(g->bank_ns) : 0, cost,
				     now, queued, force))
			return false;
	}
	if (dgenc) {
		cost = ioband_pace_cost(dgenc, bio, &rate);
		peak = READ_ONCE(dg->bst) & ~IOBAND_RATE_IOPS;
		ioband_cap_take(&dg->ltag, &dg->ptag, rate, peak,
				peak ? READ_ONCE(dg->bank_ns) : 0, cost, now,
				queued, true);
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
static void ioband_rsv_take(struct ioband_devgroup *dg,
			    struct ioband_group *g, u64 now, u64 queued,
			    struct bio *bio)
{
	u64 enc = ioband_min_rate(dg, g), rate, cost, tag;

	lockdep_assert_held(&dg->qlock);
	if (!enc)
		return;
	cost = ioband_pace_cost(enc, bio, &rate);
	tag = atomic64_read(&g->rtag);
	/* waited for the tag, and served later than the tag can recover */
	if ((s64)(queued - tag) <= 0 &&
	    (s64)(now - tag) > (s64)IOBAND_PACE_LATE_NS)
		WRITE_ONCE(g->rsv_lost_ns, now);
	atomic64_set(&g->rtag,
		     ioband_pace_next_waited(tag, now, queued, cost, rate, 0));
}

/*
 * Charge @cost to @g.  Lock-free: the fast path calls it without qlock,
 * the dispatcher with it.  The group's start tag is raised to the floor (no
 * credit hoarded while idle beyond the token), and vnow follows the largest
 * start tag issued, within half a token (ioband_vnow_lags()).
 */
static void ioband_charge(struct ioband_devgroup *dg, struct ioband_group *g,
			  u64 cost)
{
	u32 w = ioband_weight(dg, g);
	u64 token = READ_ONCE(dg->token_base);
	u64 vcost = ioband_vt_cost(cost, w);
	u64 floor = ioband_vt_floor(atomic64_read(&dg->vnow), token, w);
	s64 old = atomic64_read(&g->vtime);
	u64 start;

	do {
		start = ioband_vt_start(old, floor);
	} while (!atomic64_try_cmpxchg(&g->vtime, &old, start + vcost));
	WRITE_ONCE(g->vcost, vcost);

	old = atomic64_read(&dg->vnow);
	while (ioband_vnow_lags(old, start, token, w) &&
	       !atomic64_try_cmpxchg(&dg->vnow, &old, start))
		;
}

static u64 ioband_bio_cost(struct ioband_devgroup *dg, struct bio *bio)
{
	struct ioband_io io = {
		.sectors = bio_sectors(bio),
		.write = op_is_write(bio_op(bio)),
		.discard = op_is_discard(bio->bi_opf),
	};

	return ioband_policy_get(READ_ONCE(dg->policy))->io_cost(&io);
}

/*
 * At or below this many in flight, completions kick the dispatcher: once
 * io_throttle slots are free.  (The two values may come from different
 * updates of the automatic depth: never below 0.)
 */
static int ioband_low_water(struct ioband_devgroup *dg)
{
	u32 limit = READ_ONCE(dg->io_limit);

	return limit - min(READ_ONCE(dg->io_throttle), limit);
}

/*
 * A bio of @g goes to the disk: end_io will account for it, and the bio
 * holds a reference to @g until then.  With an automatic io_limit, reads
 * and writes are timed from here (@now, the caller's clock) to end_io: the
 * disk's latency, not the time held in ioband.
 */
static void ioband_issued(struct ioband_devgroup *dg, struct ioband_group *g,
			  struct ioband_bio *pb, struct bio *bio, u64 now)
{
	refcount_inc(&g->ref);
	ioband_habit_issue(&g->habit, refcount_read(&g->ref) - 1);
	pb->g = g;
	pb->counted = true;
	pb->issued_ns = 0;
	if (!READ_ONCE(dg->io_limit_cfg) &&
	    (bio_op(bio) == REQ_OP_READ || bio_op(bio) == REQ_OP_WRITE)) {
		pb->issued_ns = now;
		pb->bucket = ioband_depth_bucket(bio_sectors(bio));
	}
}

/*
 * The reservers list and the backlog heap (think time, docs/scheduling.md).
 * All under qlock.
 */
static void ioband_rsv_del(struct ioband_group *g)
{
	if (g->reserving) {
		list_del_init(&g->rnode);
		WRITE_ONCE(g->reserving, false);
	}
}

/* @g is active and holds nothing: it may reserve slots. */
static void ioband_rsv_add(struct ioband_devgroup *dg, struct ioband_group *g)
{
	if (!g->reserving && !g->nr_queued && !g->detached &&
	    !READ_ONCE(g->t->draining)) {
		list_add_tail(&g->rnode, &dg->reservers);
		WRITE_ONCE(g->reserving, true);
	}
}

/* @g gets held bios: into the backlog with its start tag raised to @floor. */
static void ioband_held_in(struct ioband_devgroup *dg, struct ioband_group *g,
			   u64 floor)
{
	g->ent.vtime = atomic64_read(&g->vtime);
	ioband_wfq_activate(&dg->wfq, &g->ent, floor);
	g->held_weight = ioband_weight(dg, g);
	dg->heap_wsum += g->held_weight;
	ioband_rsv_del(g);
	if (ioband_min_rate(dg, g))
		list_add_tail(&g->fnode, &dg->floors);
}

/* @g left the backlog (the heap took it out already). */
static void ioband_held_out(struct ioband_devgroup *dg, struct ioband_group *g)
{
	dg->heap_wsum -= g->held_weight;
	g->held_weight = 0;
	list_del_init(&g->fnode);
}

/*
 * A reservation set, or the range-bw policy chosen, while groups are in
 * the backlog: those with a reservation join dg->floors now, not at their
 * next activation (a deep group may never leave the backlog).  O(backlog),
 * at reconfiguration only.
 */
static void ioband_floors_sync(struct ioband_devgroup *dg)
{
	u32 i;

	spin_lock_irq(&dg->qlock);
	for (i = 0; i < dg->wfq.nr; i++) {
		struct ioband_group *g = container_of(dg->wfq.heap[i],
						      struct ioband_group, ent);

		if (list_empty(&g->fnode) && ioband_min_rate(dg, g))
			list_add_tail(&g->fnode, &dg->floors);
	}
	spin_unlock_irq(&dg->qlock);
}

/* @g's start tag may not be below this when it enters the backlog. */
static u64 ioband_floor(struct ioband_devgroup *dg, struct ioband_group *g)
{
	return ioband_vt_floor(atomic64_read(&dg->vnow),
			       READ_ONCE(dg->token_base), ioband_weight(dg, g));
}

/*
 * Limits (range-bw max): @g, at the head of what the dispatcher looked at,
 * may not send its next bio before its limit tag.  Out of the backlog it
 * goes, onto dg->throttled, until ioband_unthrottle() finds the tag open.
 */
static void ioband_throttle(struct ioband_devgroup *dg, struct ioband_group *g,
			    u64 now)
{
	ioband_wfq_remove(&dg->wfq, &g->ent);
	ioband_held_out(dg, g);
	WRITE_ONCE(g->throttled_ns, now);
	WRITE_ONCE(g->throttled, true);		/* status reads both */
	list_add_tail(&g->tnode, &dg->throttled);
	atomic_add(g->nr_queued, &dg->tqueued);
}

/*
 * Run the dispatcher again at @when (ktime ns), unless dg->kick is set to
 * run it earlier: the earlier run re-arms for what is still pending.
 * Under qlock.
 */
static void ioband_dispatch_at(struct ioband_devgroup *dg, u64 when)
{
	ktime_t at = ns_to_ktime(when);

	if (READ_ONCE(dg->dying))
		return;
	if (!hrtimer_is_queued(&dg->kick) ||
	    ktime_before(at, hrtimer_get_expires(&dg->kick)))
		hrtimer_start(&dg->kick, at, HRTIMER_MODE_ABS);
}

/* @g is no longer held back by its limit (it may have no bios left). */
static void ioband_unthrottle_one(struct ioband_devgroup *dg,
				  struct ioband_group *g, u64 now)
{
	atomic_sub(g->nr_queued, &dg->tqueued);
	list_del_init(&g->tnode);
	WRITE_ONCE(g->throttled, false);
	WRITE_ONCE(g->limited_ns, g->limited_ns + now - g->throttled_ns);
}

/*
 * Throttled groups whose limit opened (or was lifted) go back into the
 * backlog; the timer is set for the first of the others.  O(throttled).
 */
static void ioband_unthrottle(struct ioband_devgroup *dg, u64 now)
{
	struct ioband_group *g, *n;
	u64 first = 0;
	bool any = false;

	list_for_each_entry_safe(g, n, &dg->throttled, tnode) {
		u64 tag = ioband_limit_opens(dg, g);

		if (!ioband_max_rate(dg, g) || ioband_pace_open(tag, now)) {
			ioband_unthrottle_one(dg, g, now);
			if (g->nr_queued)
				ioband_held_in(dg, g, ioband_floor(dg, g));
		} else if (!any || (s64)(tag - first) < 0) {
			first = tag;
			any = true;
		}
	}
	if (any)
		ioband_dispatch_at(dg, first);
}

/*
 * Reservations (range-bw min): the group in the backlog whose reservation
 * is due (its tag not after @now) and earliest, or NULL.  O(floors).
 */
static struct ioband_group *ioband_due(struct ioband_devgroup *dg, u64 now)
{
	struct ioband_group *g, *best = NULL;
	u64 best_tag = 0;

	list_for_each_entry(g, &dg->floors, fnode) {
		u64 tag = atomic64_read(&g->rtag);

		if (!ioband_min_rate(dg, g) || !ioband_pace_open(tag, now))
			continue;
		if (!best || (s64)(tag - best_tag) < 0) {
			best = g;
			best_tag = tag;
		}
	}
	return best;
}

/*
 * The slots kept free for the active groups that hold nothing and lag
 * @head, the start tag of the head of the backlog (ioband_habit_reserve());
 * groups whose grace is over leave the list.
 */
static u32 ioband_reserved(struct ioband_devgroup *dg, u64 now, u64 head)
{
	u32 limit = READ_ONCE(dg->io_limit);
	u64 token = READ_ONCE(dg->token_base);
	u64 vnow = atomic64_read(&dg->vnow);
	u64 grace = READ_ONCE(dg->grace_ns);
	u64 wsum = dg->heap_wsum;
	struct ioband_group *g, *n;
	u32 r = 0;

	if (list_empty(&dg->reservers))
		return 0;
	list_for_each_entry_safe(g, n, &dg->reservers, rnode) {
		if (refcount_read(&g->ref) == 1 &&
		    now - READ_ONCE(g->last_done_ns) >= grace) {
			ioband_rsv_del(g);	/* it stopped */
			continue;
		}
		wsum += ioband_weight(dg, g);
	}
	list_for_each_entry(g, &dg->reservers, rnode) {
		u32 w = ioband_weight(dg, g);

		if (ioband_lagging(atomic64_read(&g->vtime),
				   ioband_vt_floor(vnow, token, w), head,
				   READ_ONCE(g->vcost)))
			r += ioband_habit_reserve(&g->habit, limit, w, wsum,
						  refcount_read(&g->ref) - 1,
						  grace);
	}
	return r;
}

/*
 * The group the dispatcher serves next: one whose reservation is due
 * (range-bw; *@for_rsv is set), else the head of the backlog, @head; but
 * after IOBAND_RSV_RUN dispatches for reservations of others in a row, the
 * head once.
 */
static struct ioband_group *ioband_pick(struct ioband_devgroup *dg, u64 now,
					struct ioband_group *head, bool *for_rsv)
{
	struct ioband_group *g;

	*for_rsv = false;
	if (list_empty(&dg->floors))
		return head;
	g = ioband_due(dg, now);
	if (!g || (g != head && dg->rsv_run >= IOBAND_RSV_RUN)) {
		dg->rsv_run = 0;
		return head;
	}
	if (g != head)
		dg->rsv_run++;
	*for_rsv = true;
	return g;
}

/*
 * Dispatch held bios, smallest start tag first (reservations that are due
 * before that), while there is room in flight beside the slots reserved
 * for groups with think time; a group over its limit leaves the backlog
 * until the limit opens.  The bios go to @out, for the caller to submit
 * without qlock.
 */
static void ioband_dispatch(struct ioband_devgroup *dg, struct bio_list *out)
{
	u64 now = ktime_get_ns();
	u32 limit = READ_ONCE(dg->io_limit);
	u32 rsv = U32_MAX;		/* not computed yet */
	struct ioband_entity *e;

	lockdep_assert_held(&dg->qlock);

	if (!list_empty(&dg->throttled))
		ioband_unthrottle(dg, now);
	while ((e = ioband_wfq_first(&dg->wfq))) {
		struct ioband_group *g = container_of(e, struct ioband_group, ent);
		struct ioband_bio *pb;
		struct bio *bio;
		bool for_rsv;
		u64 cost;

		if (atomic_read(&dg->inflight) >= limit)
			break;
		/* The device group's own limit: all wait for it. */
		if (!ioband_dg_open(dg, now)) {
			ioband_dispatch_at(dg, ioband_dg_opens(dg));
			break;
		}
		/*
		 * Again only when a group joined the reservers: the head's tag
		 * only grows, lagging groups stay so.
		 */
		if (rsv == U32_MAX)
			rsv = ioband_reserved(dg, now, e->vtime);
		if (rsv && atomic_read(&dg->inflight) + rsv >= limit) {
			ioband_dispatch_at(dg, now + READ_ONCE(dg->grace_ns) / 2);
			break;
		}
		g = ioband_pick(dg, now, g, &for_rsv);
		e = &g->ent;
		bio = bio_list_peek(&g->queue);
		pb = dm_per_bio_data(bio, sizeof(*pb));
		cost = ioband_bio_cost(dg, bio);
		if (!ioband_limit_take(dg, g, now, pb->queued_ns, bio, false)) {
			ioband_throttle(dg, g, now);
			ioband_dispatch_at(dg, ioband_limit_opens(dg, g));
			continue;
		}
		bio_list_pop(&g->queue);
		WRITE_ONCE(g->nr_queued, g->nr_queued - 1);
		atomic_dec(&dg->queued);
		/*
		 * For its reservation, or by weight: one or the other pays.
		 * For a reservation the heap key stays: g->vtime may be below
		 * it (the key was raised to the floor when g entered the
		 * backlog), and a key must only grow in place.
		 */
		if (for_rsv) {
			ioband_rsv_take(dg, g, now, pb->queued_ns, bio);
			WRITE_ONCE(g->rsv_sectors,
				   g->rsv_sectors + bio_sectors(bio));
		} else {
			ioband_charge(dg, g, cost);
		}
		ioband_wfq_dispatched(&dg->wfq, e,
				      for_rsv ? e->vtime : atomic64_read(&g->vtime),
				      g->nr_queued);
		if (!g->nr_queued) {
			/* it may now reserve slots for its next bios */
			ioband_held_out(dg, g);
			ioband_rsv_add(dg, g);
			rsv = U32_MAX;
		}
		atomic_inc(&dg->inflight);

		ioband_issued(dg, g, pb, bio, now);
		this_cpu_add(g->stats->wait_ns, now - pb->queued_ns);
		bio_list_add(out, bio);
	}
}

static void ioband_submit_list(struct bio_list *list)
{
	struct bio *bio;

	while ((bio = bio_list_pop(list)))
		dm_submit_bio_remap(bio, NULL);
}

static void ioband_arm_watchdog(struct ioband_devgroup *dg)
{
	if (atomic_read(&dg->queued) && !timer_pending(&dg->watchdog) &&
	    !READ_ONCE(dg->dying))
		mod_timer(&dg->watchdog, jiffies + IOBAND_WATCHDOG);
}

static void ioband_dispatch_work(struct work_struct *ws)
{
	struct ioband_devgroup *dg =
		container_of(ws, struct ioband_devgroup, dispatch_work);
	struct bio_list list = BIO_EMPTY_LIST;

	spin_lock_irq(&dg->qlock);
	ioband_dispatch(dg, &list);
	spin_unlock_irq(&dg->qlock);
	ioband_submit_list(&list);
	ioband_arm_watchdog(dg);
}

/* A bio of @g is mapped (not refused): count it for status. */
static void ioband_count(struct ioband_group *g, int dir, unsigned int sectors)
{
	this_cpu_inc(g->stats->ios[dir]);
	this_cpu_add(g->stats->sectors[dir], sectors);
}

/*
 * A bio of @g arrives: the time since its last completion, if none came in
 * between, is how long it thought (a long pause counts as 50 ms).  Returns
 * the clock read, for the fast path's ioband_issued().
 */
static u64 ioband_think(struct ioband_group *g)
{
	u64 now = ktime_get_ns();
	u64 done = READ_ONCE(g->last_done_ns);

	if (done > READ_ONCE(g->last_submit_ns))
		ioband_habit_submit(&g->habit,
				    min(now - done, 2 * IOBAND_GRACE_MAX_NS));
	WRITE_ONCE(g->last_submit_ns, now);
	return now;
}

static int ioband_map(struct dm_target *ti, struct bio *bio)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	struct ioband_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct bio_list list = BIO_EMPTY_LIST;
	unsigned int sectors = bio_sectors(bio);
	int dir = bio_data_dir(bio);
	struct ioband_group *g;
	unsigned long flags;
	u64 now, cost;

	pb->counted = false;
	bio_set_dev(bio, t->dev->bdev);
	if (sectors)
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);

	/*
	 * An empty flush carries no data: nothing to charge.  It need not
	 * wait for held writes either: a flush covers writes that completed
	 * before it was issued, and held ones have not.
	 */
	if (!sectors && op_is_flush(bio->bi_opf))
		return DM_MAPIO_REMAPPED;

	rcu_read_lock();
	g = ioband_classify(t, bio);
	now = ioband_think(g);
	cost = ioband_bio_cost(dg, bio);

	/* Urgent: past its limit too, which it pays for later. */
	if (bio->bi_opf & IOBAND_REQ_URGENT) {
		atomic_inc(&dg->inflight);
		ioband_limit_take(dg, g, now, now, bio, true);
		goto issue;
	}

	/*
	 * Fast path: nothing held but by groups over their limit (they may
	 * not send anyway), room in flight, within its own limit.
	 */
	if (!ioband_held_eligible(dg) || READ_ONCE(t->draining)) {
		bool drain = READ_ONCE(t->draining);

		if ((atomic_inc_return(&dg->inflight) <= READ_ONCE(dg->io_limit) ||
		     drain) && ioband_limit_take(dg, g, now, now, bio, drain))
			goto issue;
		atomic_dec(&dg->inflight);
	}

	/* Not counted: the caller retries it without REQ_NOWAIT. */
	if (bio->bi_opf & REQ_NOWAIT) {
		rcu_read_unlock();
		bio_wouldblock_error(bio);
		return DM_MAPIO_SUBMITTED;
	}

	/* Slow path: hold the bio on its group's FIFO and dispatch in order. */
	spin_lock_irqsave(&dg->qlock, flags);
	/*
	 * presuspend sets draining under qlock and then releases what is
	 * held: a bio must not be held after it did (as in dm-delay's
	 * delay_bio()).
	 */
	if (READ_ONCE(t->draining)) {
		spin_unlock_irqrestore(&dg->qlock, flags);
		atomic_inc(&dg->inflight);
		ioband_limit_take(dg, g, now, now, bio, true);
		goto issue;
	}
	/* Detached since classify(): nothing is held on it any more. */
	if (g->detached)
		g = &t->default_group;
	/* Under qlock, so that presuspend's and dispatch's clock is later. */
	pb->queued_ns = ktime_get_ns();
	ioband_count(g, dir, sectors);
	this_cpu_inc(g->stats->delayed[dir]);
	bio_list_add(&g->queue, bio);
	WRITE_ONCE(g->nr_queued, g->nr_queued + 1);
	if (!dg->depth_held)
		WRITE_ONCE(dg->depth_held, true);	/* the bound binds */
	if (g->nr_queued == 1)
		ioband_held_in(dg, g, ioband_floor(dg, g));
	atomic_inc(&dg->queued);
	/* after queued: a reader in between sees one more, not one fewer */
	if (g->throttled)
		atomic_inc(&dg->tqueued);
	/* Pairs with ioband_end_io(): one of us sees the other's update. */
	smp_mb__after_atomic();
	ioband_dispatch(dg, &list);
	spin_unlock_irqrestore(&dg->qlock, flags);
	rcu_read_unlock();

	/* Inside map() these are only queued on current->bio_list. */
	ioband_submit_list(&list);
	ioband_arm_watchdog(dg);
	return DM_MAPIO_SUBMITTED;

issue:
	ioband_count(g, dir, sectors);
	ioband_charge(dg, g, cost);
	ioband_issued(dg, g, pb, bio, now);
	rcu_read_unlock();
	return DM_MAPIO_REMAPPED;
}

/*
 * End of a depth period: the counters' increase since the last one goes to
 * the controller, whose bound becomes the effective io_limit.  A period
 * lasts IOBAND_DEPTH_PERIOD_NS and IOBAND_DEPTH_MIN_SAMPLES completions;
 * one that lasted over a second without holding anything back was mostly
 * idle and teaches nothing (its rate would mislead the probes): dropped.
 * Caller holds depth_busy.
 */
static void ioband_depth_period_end(struct ioband_devgroup *dg, u64 now)
{
	struct ioband_depth_period p = { .len_ns = now - dg->period_start };
	struct ioband_depth_pcpu sum;
	u64 n = 0;
	u32 old, lim;
	int b;

	ioband_depth_sum(dg, &sum);
	for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
		p.nr[b] = sum.nr[b] - dg->dsnap.nr[b];
		p.lat_ns[b] = sum.lat_ns[b] - dg->dsnap.lat_ns[b];
		n += p.nr[b];
	}
	if (n < IOBAND_DEPTH_MIN_SAMPLES)
		return;			/* the period goes on */
	p.held = READ_ONCE(dg->depth_held) || atomic_read(&dg->queued);
	dg->dsnap = sum;
	WRITE_ONCE(dg->depth_held, false);
	WRITE_ONCE(dg->period_start, now);
	if (READ_ONCE(dg->io_limit_cfg))
		return;			/* made fixed meanwhile */
	if (!p.held && p.len_ns > 20 * IOBAND_DEPTH_PERIOD_NS)
		return;
	old = READ_ONCE(dg->io_limit);
	lim = ioband_depth_update(&dg->depth, &p);
	WRITE_ONCE(dg->grace_ns,
		   clamp(ioband_depth_base_ns(&dg->depth) / 2, IOBAND_GRACE_NS,
			 IOBAND_GRACE_MAX_NS));
	if (lim != old)
		ioband_apply_limit(dg, lim);
	if (lim > old && atomic_read(&dg->queued))
		queue_work(ioband_wq, &dg->dispatch_work);
}

/* A timed bio completed: count it; end the period if it is over. */
static void ioband_depth_done(struct ioband_devgroup *dg,
			      struct ioband_bio *pb, u64 now)
{
	this_cpu_inc(dg->dstat->nr[pb->bucket]);
	this_cpu_add(dg->dstat->lat_ns[pb->bucket], now - pb->issued_ns);
	if (now - READ_ONCE(dg->period_start) < IOBAND_DEPTH_PERIOD_NS)
		return;
	if (test_and_set_bit_lock(0, &dg->depth_busy))
		return;			/* another completion does it */
	ioband_depth_period_end(dg, now);
	ioband_depth_unlock(dg);
}

static int ioband_end_io(struct dm_target *ti, struct bio *bio,
			 blk_status_t *error)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	struct ioband_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct ioband_group *g = pb->g;
	unsigned long flags;
	u64 now;
	int left;

	if (!pb->counted)
		return DM_ENDIO_DONE;
	now = ktime_get_ns();
	if (pb->issued_ns)
		ioband_depth_done(dg, pb, now);

	/*
	 * Think time: g holds nothing while others wait; it may keep slots
	 * free for its next bios (ioband_reserved()).  The put is the last
	 * use of g: a detached group may be freed once its last bio drops
	 * its reference.
	 */
	WRITE_ONCE(g->last_done_ns, now);
	if (!READ_ONCE(g->detached)) {
		/* in flight after this one: all references but two */
		ioband_habit_done(&g->habit, refcount_read(&g->ref) - 2);
		if (atomic_read(&dg->queued) && !READ_ONCE(g->reserving) &&
		    !READ_ONCE(g->nr_queued)) {
			spin_lock_irqsave(&dg->qlock, flags);
			ioband_rsv_add(dg, g);
			spin_unlock_irqrestore(&dg->qlock, flags);
		}
	}
	ioband_group_put(g);
	left = atomic_dec_return(&dg->inflight);
	/* throttled groups' bios wait for their timer (or the watchdog) */
	if (ioband_held_eligible(dg) && left <= ioband_low_water(dg))
		queue_work(ioband_wq, &dg->dispatch_work);
	return DM_ENDIO_DONE;
}

static bool ioband_entity_of(struct ioband_entity *e, const void *t)
{
	return container_of(e, struct ioband_group, ent)->t == t;
}

/* Send all of @g's held bios to @list, past its limit.  Under qlock. */
static void ioband_release_held(struct ioband_devgroup *dg,
				struct ioband_group *g, u64 now,
				struct bio_list *list)
{
	struct bio *bio;

	while ((bio = bio_list_pop(&g->queue))) {
		struct ioband_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
		u64 cost = ioband_bio_cost(dg, bio);

		atomic_dec(&dg->queued);
		atomic_inc(&dg->inflight);
		ioband_limit_take(dg, g, now, now, bio, true);
		ioband_charge(dg, g, cost);
		ioband_issued(dg, g, pb, bio, now);
		this_cpu_add(g->stats->wait_ns, now - pb->queued_ns);
		bio_list_add(list, bio);
	}
	WRITE_ONCE(g->nr_queued, 0);
}

/*
 * Release every bio this device holds, and hold nothing until resume, so
 * that suspend (and so table reloads and removal) completes.
 */
static void ioband_presuspend(struct dm_target *ti)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	struct bio_list list = BIO_EMPTY_LIST;
	struct ioband_group *g, *next;
	u32 i, n;
	u64 now;

	spin_lock_irq(&dg->qlock);
	/* After the lock: every held bio's queued_ns is earlier. */
	now = ktime_get_ns();
	WRITE_ONCE(t->draining, true);
	/*
	 * The groups holding bios are the ones in the backlog heap: take this
	 * device's out of it rather than walk every group (up to 65536) with
	 * interrupts off.  The heap is the device group's, O(groups with
	 * bios held in all members).
	 */
	n = ioband_wfq_extract(&dg->wfq, ioband_entity_of, t);
	for (i = 0; i < n; i++) {
		g = container_of(dg->wfq.heap[dg->wfq.nr + i],
				 struct ioband_group, ent);
		ioband_held_out(dg, g);
		ioband_release_held(dg, g, now, &list);
	}
	/* and those held back by their limit, out of the heap */
	list_for_each_entry_safe(g, next, &dg->throttled, tnode) {
		if (g->t != t)
			continue;
		ioband_unthrottle_one(dg, g, now);
		ioband_release_held(dg, g, now, &list);
	}
	/* Its groups reserve nothing until resume (ioband_rsv_add()). */
	list_for_each_entry_safe(g, next, &dg->reservers, rnode)
		if (g->t == t)
			ioband_rsv_del(g);
	spin_unlock_irq(&dg->qlock);
	ioband_submit_list(&list);
}

static void ioband_presuspend_undo(struct dm_target *ti)
{
	struct ioband_target *t = ti->private;

	WRITE_ONCE(t->draining, false);
}

static void ioband_stats_sum(struct ioband_group *g, struct ioband_stats *s)
{
	int cpu;

	memset(s, 0, sizeof(*s));
	for_each_possible_cpu(cpu) {
		struct ioband_stats *p = per_cpu_ptr(g->stats, cpu);

		s->ios[READ] += READ_ONCE(p->ios[READ]);
		s->ios[WRITE] += READ_ONCE(p->ios[WRITE]);
		s->delayed[READ] += READ_ONCE(p->delayed[READ]);
		s->delayed[WRITE] += READ_ONCE(p->delayed[WRITE]);
		s->sectors[READ] += READ_ONCE(p->sectors[READ]);
		s->sectors[WRITE] += READ_ONCE(p->sectors[WRITE]);
		s->wait_ns += READ_ONCE(p->wait_ns);
	}
}

static void ioband_stats_reset(struct ioband_group *g)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(g->stats, cpu), 0, sizeof(struct ioband_stats));
}

/* Queued-now is the number of bios of the group held in ioband. */
static unsigned int ioband_group_queued(struct ioband_group *g)
{
	return READ_ONCE(g->nr_queued);
}

static void ioband_emit_group_id(struct ioband_target *t,
				 struct ioband_group *g, char *result,
				 unsigned int maxlen, unsigned int *szp)
{
	unsigned int sz = *szp;

	if (g == &t->default_group)
		DMEMIT("%d", IOBAND_DEFAULT_GROUP);
	else
		DMEMIT("%llu", g->id);
	*szp = sz;
}

/*
 * " depth <io_limit> <auto|fixed> <base us> <target us>": the effective
 * io_limit and, when automatic, the latency baseline and target of 4 KiB
 * I/O that the controller steers by (0 until it has measured them).  Read
 * without depth_busy: a value of the last period or the one before.
 */
static void ioband_emit_depth(struct ioband_devgroup *dg, char *result,
			      unsigned int maxlen, unsigned int *szp)
{
	bool automatic = !READ_ONCE(dg->io_limit_cfg);
	unsigned int sz = *szp;
	u64 base = 0, target = 0;

	if (automatic) {
		base = ioband_depth_base_ns(&dg->depth);
		target = ioband_depth_target_ns(&dg->depth);
	}
	DMEMIT(" depth %u %s %llu %llu", READ_ONCE(dg->io_limit),
	       automatic ? "auto" : "fixed", div_u64(base, NSEC_PER_USEC),
	       div_u64(target, NSEC_PER_USEC));
	*szp = sz;
}

/*
 * range-bw: how far behind its reservation @g is while it has bios held
 * (ioband_pace_lag(): 0 when met), and how long its limit has held it back
 * in all, in ns.  Read without qlock: a snapshot.
 */
static u64 ioband_rsv_lag(struct ioband_devgroup *dg, struct ioband_group *g,
			  u64 now)
{
	if (!READ_ONCE(g->nr_queued) || !ioband_min_rate(dg, g))
		return 0;
	return ioband_pace_lag(atomic64_read(&g->rtag), now);
}

/*
 * Whether @g's reservation went unmet in the last second: served later
 * than its tag can recover (ioband_rsv_take()), or that far behind now.
 */
static bool ioband_rsv_unmet(struct ioband_devgroup *dg,
			     struct ioband_group *g, u64 now)
{
	u64 lost = READ_ONCE(g->rsv_lost_ns);

	if (lost && now - lost < NSEC_PER_SEC)
		return true;
	return ioband_rsv_lag(dg, g, now) > IOBAND_PACE_LATE_NS;
}

static u64 ioband_limited(struct ioband_group *g, u64 now)
{
	u64 ns = READ_ONCE(g->limited_ns);

	if (READ_ONCE(g->throttled))
		ns += now - READ_ONCE(g->throttled_ns);
	return ns;
}

/*
 * " limits <group> <rsv> <rsv-lag-us> <limited-us>..." (range-bw, or a
 * group with r=, l=): per group, whether its reservation was met in the
 * last second ("met", "unmet", "-" without one), how far behind it is now
 * (0: met) and how long its limit has held it back in all.
 */
static void ioband_emit_limits(struct ioband_target *t, char *result,
			       unsigned int maxlen, unsigned int *szp)
{
	struct ioband_devgroup *dg = t->dg;
	unsigned int sz = *szp;
	u64 now = ktime_get_ns();
	struct ioband_group *g;
	unsigned long id;

	DMEMIT(" limits");
	rcu_read_lock();
	ioband_for_each_group(t, id, g) {
		DMEMIT(" ");
		ioband_emit_group_id(t, g, result, maxlen, &sz);
		DMEMIT(" %s %llu %llu",
		       !ioband_min_rate(dg, g) ? "-" :
		       ioband_rsv_unmet(dg, g, now) ? "unmet" : "met",
		       div_u64(ioband_rsv_lag(dg, g, now), NSEC_PER_USEC),
		       div_u64(ioband_limited(g, now), NSEC_PER_USEC));
	}
	rcu_read_unlock();
	*szp = sz;
}

/*
 * The groups' parts of the INFO status, "<group>... ext <group-ext>...",
 * summing each group's per-CPU counters once.  A group's part goes at the
 * front of @result, its ext part at the back, reversed, growing down; at
 * the end the back is reversed (into group order again) and moved behind
 * " ext".  If the two would meet, @result is filled to the brim instead,
 * which tells dm core that it was too small, as a truncated DMEMIT() does
 * (DM_BUFFER_FULL_FLAG: libdevmapper asks again with a larger one).
 */
static void ioband_emit_info(struct ioband_target *t, char *result,
			     unsigned int maxlen, unsigned int *szp)
{
	unsigned int sz = *szp, tail = maxlen - 1, msz, esz, i, j;
	char mbuf[160], ebuf[64];
	struct ioband_stats s;
	struct ioband_group *g;
	unsigned long id;
	bool full = false;

	rcu_read_lock();
	ioband_for_each_group(t, id, g) {
		ioband_stats_sum(g, &s);
		mbuf[0] = ' ';
		msz = 1;
		ioband_emit_group_id(t, g, mbuf, sizeof(mbuf), &msz);
		memcpy(ebuf, mbuf, msz);
		esz = msz;
		msz += scnprintf(mbuf + msz, sizeof(mbuf) - msz,
				 " %llu %llu %llu %llu %llu %llu",
				 s.ios[READ], s.delayed[READ], s.sectors[READ],
				 s.ios[WRITE], s.delayed[WRITE],
				 s.sectors[WRITE]);
		esz += scnprintf(ebuf + esz, sizeof(ebuf) - esz, " %u %llu",
				 ioband_group_queued(g),
				 div_u64(s.wait_ns, NSEC_PER_USEC));
		if (sz + msz + esz > tail) {
			full = true;
			break;
		}
		memcpy(result + sz, mbuf, msz);
		sz += msz;
		for (i = 0; i < esz; i++)
			result[--tail] = ebuf[i];
	}
	rcu_read_unlock();

	if (full || sz + 4 > tail) {
		memset(result + sz, ' ', maxlen - 1 - sz);
		result[maxlen - 1] = '\0';
		*szp = maxlen - 1;
		return;
	}
	for (i = tail, j = maxlen - 2; i < j; i++, j--)
		swap(result[i], result[j]);
	memcpy(result + sz, " ext", 4);
	memmove(result + sz + 4, result + tail, maxlen - 1 - tail);
	sz += 4 + maxlen - 1 - tail;
	result[sz] = '\0';
	*szp = sz;
}

/* A rate as the table gives it: <n>iops, or bytes in the largest unit. */
static void ioband_emit_rate(const char *key, u64 enc, char *result,
			     unsigned int maxlen, unsigned int *szp)
{
	static const char units[] = "gmk";
	u64 rate = enc & ~IOBAND_RATE_IOPS;
	unsigned int sz = *szp, i;

	if (enc & IOBAND_RATE_IOPS) {
		DMEMIT("%s%lluiops", key, rate);
	} else {
		for (i = 0; i < 3; i++) {
			u32 shift = 30 - 10 * i;

			if (!(rate & ((1ULL << shift) - 1))) {
				DMEMIT("%s%llu%c", key, rate >> shift, units[i]);
				break;
			}
		}
		if (i == 3)
			DMEMIT("%s%llu", key, rate);
	}
	*szp = sz;
}

static void ioband_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	struct ioband_group *g;
	unsigned long id;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%s", dg->name);
		ioband_emit_info(t, result, maxlen, &sz);
		/* truncated, or not written at all when the buffer is full */
		ioband_emit_depth(dg, result, maxlen, &sz);
		if (ioband_ranges(dg) || READ_ONCE(t->limits))
			ioband_emit_limits(t, result, maxlen, &sz);
		break;

	case STATUSTYPE_TABLE:
		mutex_lock(&dg->lock);
		/* As configured: 0 stays default (automatic io_limit). */
		DMEMIT("%s %s %u %u %s %s", t->dev->name, dg->name,
		       dg->io_throttle_cfg, dg->io_limit_cfg,
		       ioband_type_name(t->type),
		       ioband_policy_name(dg->policy));
		if (dg->lim)
			ioband_emit_rate(",l=", dg->lim, result, maxlen, &sz);
		if (dg->bst) {
			ioband_emit_rate(",b=", dg->bst, result, maxlen, &sz);
			DMEMIT("/%u", dg->bst_secs);
		}
		DMEMIT(" %llu", dg->token_cfg);
		/* the default group's parameter, then each group's */
		ioband_for_each_group(t, id, g) {
			DMEMIT(" ");
			if (g != &t->default_group)
				DMEMIT("%llu", g->id);
			if (ioband_ranges(dg)) {
				DMEMIT(":%u:%u", g->min_kbs, g->max_kbs);
				continue;
			}
			DMEMIT(":%u", g->weight);
			if (g->rsv)
				ioband_emit_rate(",r=", g->rsv, result, maxlen,
						 &sz);
			if (g->lim)
				ioband_emit_rate(",l=", g->lim, result, maxlen,
						 &sz);
			if (g->bst) {
				ioband_emit_rate(",b=", g->bst, result, maxlen,
						 &sz);
				DMEMIT("/%u", g->bst_secs);
			}
		}
		mutex_unlock(&dg->lock);
		break;

	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

static struct ioband_group *ioband_lookup(struct ioband_target *t,
					  const struct ioband_msg *msg)
{
	return msg->has_id ? xa_load(&t->groups, msg->id) : &t->default_group;
}

static int ioband_msg_stats(struct ioband_target *t, char *result,
			    unsigned int maxlen)
{
	u64 now = ktime_get_ns();
	struct ioband_stats s;
	struct ioband_group *g;
	unsigned long id;
	unsigned int sz = 0;

	ioband_for_each_group(t, id, g) {
		ioband_stats_sum(g, &s);
		if (sz)
			DMEMIT("\n");
		ioband_emit_group_id(t, g, result, maxlen, &sz);
		DMEMIT(" weight=%u reads=%llu read_sectors=%llu writes=%llu write_sectors=%llu delayed_reads=%llu delayed_writes=%llu queued=%u wait_us=%llu",
		       READ_ONCE(g->weight), s.ios[READ], s.sectors[READ],
		       s.ios[WRITE], s.sectors[WRITE], s.delayed[READ],
		       s.delayed[WRITE], ioband_group_queued(g),
		       div_u64(s.wait_ns, NSEC_PER_USEC));
		if (ioband_ranges(t->dg))
			DMEMIT(" min_kbs=%u max_kbs=%u", READ_ONCE(g->min_kbs),
			       READ_ONCE(g->max_kbs));
		if (ioband_ranges(t->dg) || READ_ONCE(t->limits))
			DMEMIT(" rsv=%s rsv_lag_us=%llu limited_us=%llu rsv_sectors=%llu",
			       !ioband_min_rate(t->dg, g) ? "-" :
			       ioband_rsv_unmet(t->dg, g, now) ? "unmet" : "met",
			       div_u64(ioband_rsv_lag(t->dg, g, now),
				       NSEC_PER_USEC),
			       div_u64(ioband_limited(g, now), NSEC_PER_USEC),
			       READ_ONCE(g->rsv_sectors));
	}
	return 1;
}

/*
 * A detached group's held bios join the tail of the default group's queue,
 * in their order, rather than being lost or issued out of turn.  map()
 * checks detached under qlock, so nothing is held on @g after this.
 */
static void ioband_group_orphan(struct ioband_devgroup *dg,
				struct ioband_target *t, struct ioband_group *g)
{
	struct ioband_group *def = &t->default_group;

	spin_lock_irq(&dg->qlock);
	WRITE_ONCE(g->detached, true);
	ioband_rsv_del(g);
	if (g->throttled)
		ioband_unthrottle_one(dg, g, ktime_get_ns());
	if (g->nr_queued) {
		ioband_wfq_remove(&dg->wfq, &g->ent);
		ioband_held_out(dg, g);
		bio_list_merge(&def->queue, &g->queue);
		bio_list_init(&g->queue);
		if (!def->nr_queued)
			ioband_held_in(dg, def, atomic64_read(&dg->vnow));
		WRITE_ONCE(def->nr_queued, def->nr_queued + g->nr_queued);
		WRITE_ONCE(g->nr_queued, 0);
	}
	spin_unlock_irq(&dg->qlock);
}

/*
 * reserve / limit [<id>:]<rate>, burst [<id>:]<rate>/<secs>: a weight
 * policy's r=, l= (0 also removes the burst) or b=.  dg->lock.
 */
static int ioband_msg_rate(struct ioband_target *t, struct ioband_msg *msg,
			   char **err)
{
	struct ioband_devgroup *dg = t->dg;
	struct ioband_group *g;
	u64 enc = ioband_rate_enc(&msg->rate);

	if (ioband_ranges(dg)) {
		*err = "range-bw has min:max, not reserve/limit (range-bw <group-id>:<min>:<max>)";
		return -EINVAL;
	}
	g = ioband_lookup(t, msg);
	if (!g) {
		*err = "No such group (attach it first)";
		return -EINVAL;
	}
	if (msg->verb == IOBAND_MSG_RESERVE) {
		if (enc && g->lim && !((enc ^ g->lim) & IOBAND_RATE_IOPS) &&
		    enc > g->lim) {
			*err = "The reservation would be above the group's limit";
			return -EINVAL;
		}
		WRITE_ONCE(g->rsv, enc);
		ioband_floors_sync(dg);
	} else if (msg->verb == IOBAND_MSG_LIMIT) {
		if (enc && g->rsv && !((enc ^ g->rsv) & IOBAND_RATE_IOPS) &&
		    enc < g->rsv) {
			*err = "The limit would be below the group's reservation";
			return -EINVAL;
		}
		if (enc && g->bst && ((enc ^ g->bst) & IOBAND_RATE_IOPS ||
				      enc >= g->bst)) {
			*err = "The limit would not be below the group's burst (change or remove the burst first)";
			return -EINVAL;
		}
		WRITE_ONCE(g->lim, enc);
		ioband_set_burst(g, enc ? g->bst : 0, g->bst_secs);
	} else {
		struct ioband_rate lim = ioband_rate_dec(g->lim);
		const char *problem = ioband_burst_problem(&msg->burst, &lim);

		if (problem) {
			*err = (char *)problem;
			return -EINVAL;
		}
		ioband_set_burst(g, ioband_rate_enc(&msg->burst.rate),
				 msg->burst.secs);
	}
	t->limits = ioband_has_limits(t);
	return 0;
}

/* Apply a parsed message.  Called with dg->lock held. */
static int ioband_apply_msg(struct ioband_target *t, struct ioband_msg *msg,
			    char *result, unsigned int maxlen, char **err)
{
	struct ioband_devgroup *dg = t->dg;
	struct ioband_group_cfg gcfg = {
		.id = msg->id, .weight = IOBAND_WEIGHT_DEFAULT,
	};
	struct ioband_group *g;
	unsigned long id;
	int r;

	lockdep_assert_held(&dg->lock);

	switch (msg->verb) {
	case IOBAND_MSG_WEIGHT:
		if (ioband_ranges(dg)) {
			*err = "The range-bw policy has no weights (range-bw <group-id>:<min>:<max>)";
			return -EINVAL;
		}
		g = ioband_lookup(t, msg);
		if (!g) {
			*err = "No such group (attach it first)";
			return -EINVAL;
		}
		WRITE_ONCE(g->weight, msg->value);
		return 0;

	case IOBAND_MSG_RESERVE:
	case IOBAND_MSG_LIMIT:
	case IOBAND_MSG_BURST:
		return ioband_msg_rate(t, msg, err);

	case IOBAND_MSG_RANGE_BW:
		if (!ioband_ranges(dg)) {
			*err = "Ranges need the range-bw policy (message policy range-bw first)";
			return -EINVAL;
		}
		g = ioband_lookup(t, msg);
		if (!g) {
			*err = "No such group (attach it first)";
			return -EINVAL;
		}
		ioband_range_fit(dg, msg->min_kbs);
		WRITE_ONCE(g->min_kbs, msg->min_kbs);
		WRITE_ONCE(g->max_kbs, msg->max_kbs);
		ioband_floors_sync(dg);
		return 0;

	case IOBAND_MSG_ATTACH:
		if (xa_load(&t->groups, msg->id)) {
			*err = "Group already attached";
			return -EEXIST;
		}
		if (t->nr_groups >= IOBAND_GROUPS_MAX) {
			*err = "Too many groups (at most 65536 per device)";
			return -ENOSPC;
		}
		r = ioband_heap_reserve(dg, dg->nr_entities + 1);
		if (!r)
			r = ioband_group_attach(t, &gcfg);
		if (r) {
			*err = "Cannot allocate group";
			return r;
		}
		dg->nr_entities++;
		g = xa_load(&t->groups, msg->id);
		atomic64_set(&g->vtime, atomic64_read(&dg->vnow));
		return 0;

	case IOBAND_MSG_DETACH:
		g = xa_erase(&t->groups, msg->id);
		if (!g) {
			*err = "No such group";
			return -EINVAL;
		}
		t->nr_groups--;
		/*
		 * No waiting, with dg->lock held, for map() or the disk: g's
		 * bios in flight hold references, a map() that found g before
		 * the erase may take one until a grace period has passed, and
		 * the last reference frees it.
		 */
		ioband_group_orphan(dg, t, g);
		dg->nr_entities--;
		call_rcu(&g->rcu, ioband_group_unref_rcu);
		return 0;

	case IOBAND_MSG_TYPE:
		if (t->nr_groups && msg->type != t->type) {
			*err = "Cannot change the group type while groups are attached (detach them first)";
			return -EBUSY;
		}
		WRITE_ONCE(t->type, msg->type);
		return 0;

	/*
	 * Shared parameters, kept as configured: a value left at its default
	 * (0) follows the others (a default token the policy and io_limit,
	 * io_limit 0 the disk); one set explicitly stays.
	 */
	case IOBAND_MSG_POLICY: {
		const char *problem;
		u64 lim, bst;
		u32 secs;

		problem = ioband_dg_limit_merge(dg, &msg->dg_limit, &lim, &bst,
						&secs);
		if (problem) {
			*err = (char *)problem;
			return -EINVAL;
		}
		r = ioband_set_params(dg, dg->io_throttle_cfg,
				      dg->io_limit_cfg, msg->policy,
				      dg->token_cfg, err);
		if (!r) {
			ioband_dg_set_limit(dg, lim, bst, secs);
			ioband_floors_sync(dg);
		}
		return r;
	}

	case IOBAND_MSG_TOKEN:
		return ioband_set_params(dg, dg->io_throttle_cfg,
					 dg->io_limit_cfg, dg->policy,
					 msg->value, err);

	case IOBAND_MSG_IO_THROTTLE:
		return ioband_set_params(dg, msg->value, dg->io_limit_cfg,
					 dg->policy, dg->token_cfg, err);

	case IOBAND_MSG_IO_LIMIT:
		return ioband_set_params(dg, dg->io_throttle_cfg, msg->value,
					 dg->policy, dg->token_cfg, err);

	case IOBAND_MSG_RESET:
		ioband_for_each_group(t, id, g)
			ioband_stats_reset(g);
		return 0;

	case IOBAND_MSG_STATS:
		return ioband_msg_stats(t, result, maxlen);
	}
	*err = "Unknown message";
	return -EINVAL;
}

static int ioband_message(struct dm_target *ti, unsigned int argc, char **argv,
			  char *result, unsigned int maxlen)
{
	struct ioband_target *t = ti->private;
	struct ioband_msg msg;
	char *err = NULL;
	int r;

	mutex_lock(&t->dg->lock);
	r = ioband_parse_message(argc, argv, t->type, &msg, &err);
	if (!r)
		r = ioband_apply_msg(t, &msg, result, maxlen, &err);
	mutex_unlock(&t->dg->lock);

	/* A larger io_limit, a new weight or policy: dispatch under it now. */
	if (!r && atomic_read(&t->dg->queued))
		queue_work(ioband_wq, &t->dg->dispatch_work);

	if (r < 0)
		DMERR("%s: message %s: %s", ioband_dev_name(t),
		      argc ? argv[0] : "(empty)", err ? err : "failed");
	return r;
}

static void ioband_resume(struct dm_target *ti)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	char *err;

	WRITE_ONCE(t->draining, false);
	if (!t->cfg_pending)
		return;
	/* A reload of the group's only device brings its shared parameters. */
	mutex_lock(&dg->lock);
	if (ioband_set_params(dg, t->cfg.io_throttle, t->cfg.io_limit,
			      t->cfg.policy, t->cfg.token_base, &err))
		DMERR("%s: %s", ioband_dev_name(t), err);	/* checked at load */
	ioband_dg_set_limit(dg, ioband_rate_enc(&t->cfg.dg_limit.lim),
			    ioband_rate_enc(&t->cfg.dg_limit.bst.rate),
			    t->cfg.dg_limit.bst.secs);
	ioband_floors_sync(dg);
	mutex_unlock(&dg->lock);
	t->cfg_pending = false;
}

static int ioband_iterate_devices(struct dm_target *ti,
				  iterate_devices_callout_fn fn, void *data)
{
	struct ioband_target *t = ti->private;

	return fn(ti, t->dev, 0, ti->len, data);
}

static struct target_type ioband_target = {
	.name		 = "ioband",
	.version	 = {2, 0, 0},
	.features	 = DM_TARGET_NOWAIT,
	.module		 = THIS_MODULE,
	.ctr		 = ioband_ctr,
	.dtr		 = ioband_dtr,
	.map		 = ioband_map,
	.end_io		 = ioband_end_io,
	.presuspend	 = ioband_presuspend,
	.presuspend_undo = ioband_presuspend_undo,
	.resume		 = ioband_resume,
	.status		 = ioband_status,
	.message	 = ioband_message,
	.iterate_devices = ioband_iterate_devices,
};

/* Not module_dm(): it does not exist in 6.1, which ioband also supports. */
static int __init dm_ioband_init(void)
{
	int r;

	/* WQ_MEM_RECLAIM: held writeback must be released under memory pressure. */
	ioband_wq = alloc_workqueue("kioband", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!ioband_wq)
		return -ENOMEM;
	r = dm_register_target(&ioband_target);
	if (r < 0) {
		DMERR("register failed %d", r);
		destroy_workqueue(ioband_wq);
	}
	return r;
}

static void __exit dm_ioband_exit(void)
{
	dm_unregister_target(&ioband_target);
	/* Groups freed after a grace period: their callbacks are our code. */
	rcu_barrier();
	destroy_workqueue(ioband_wq);
}

module_init(dm_ioband_init);
module_exit(dm_ioband_exit);

MODULE_DESCRIPTION(DM_NAME " I/O bandwidth control by weight for groups of bios");
MODULE_LICENSE("GPL");
