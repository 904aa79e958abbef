/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-core.h - dm-ioband's own types: the device group, the target, the
 * group and the per-bio data, the accessors the other files share, and
 * what each of ioband-devgroup.c (device groups and groups: registry,
 * shared parameters, lifecycle), ioband-io.c (the I/O path: classify,
 * charge, hold, dispatch, complete), ioband-caps.c (limits, bursts and
 * reservations applied to bios), ioband-period.c (the automatic depth's
 * periods) and ioband-target.c (the dm callbacks, status and messages)
 * offers the others.  The design is in
 * ioband-target.c's header and docs/scheduling.md.
 */
#ifndef IOBAND_CORE_H
#define IOBAND_CORE_H

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
/* How long bios above a refused size go without REQ_NOWAIT (ioband-io.c) */
#define IOBAND_NOWAIT_RETRY_NS		(10ULL * NSEC_PER_SEC)

/*
 * Bios that others wait for (a journal commit, page-out under memory
 * pressure) are never held behind a guest's backlog: they are issued at
 * once and charged to their group, which pays for them later, as blk-iocost
 * does for bio_issue_as_root_blkg() bios (REQ_META | REQ_SWAP) with debt.
 */
#define IOBAND_REQ_URGENT		(REQ_META | REQ_PRIO | REQ_SWAP)

/* Per-CPU counters of one group; summed for status. */
struct ioband_stats {
	u64 ios[2];		/* bios mapped, by data direction */
	u64 delayed[2];		/* of which were held before dispatch */
	u64 sectors[2];
	u64 wait_ns;		/* total time held */
};

struct ioband_target;

/*
 * A cap: a limit (a rate encoded by ioband_rate_enc(), 0 = none) and a
 * burst above it (the peak rate, its seconds and the bank they give,
 * ioband_burst_bank_ns()), set under dg->lock by ioband_cap_set(); the
 * limit and peak tags (ktime ns) are moved locklessly by the fast path
 * and under qlock by the dispatcher (ioband_cap_take()).  A group's l=
 * and b=, and the device group's own.
 */
struct ioband_cap {
	u64 lim;
	u64 bst;
	u32 bst_secs;
	u64 bank_ns;
	atomic64_t ltag;
	atomic64_t ptag;
};

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
	 * configured, KB/s, 0 = none, or the weight policies' r= (a rate
	 * encoded by ioband_rate_enc()) and cap, l= and b=; the
	 * reservation tag (ktime ns), moved by the dispatcher under
	 * qlock.  Under qlock:
	 * fnode puts a group in the heap with a reservation on dg->floors,
	 * tnode one held back by its limit (out of the heap) on dg->throttled.
	 */
	u32 min_kbs;
	u32 max_kbs;
	u64 rsv;			/* weight policies: r= (encoded) */
	struct ioband_cap cap;		/* l= and b= */
	atomic64_t rtag;
	struct list_head fnode;
	struct list_head tnode;
	bool throttled;
	u64 throttled_ns;		/* since when, under qlock */
	u64 limited_ns;			/* total time held by its limit, qlock */
	u64 rsv_sectors;		/* sent for its reservation, qlock */
	u64 rsv_lost_ns;		/* when it last went unmet, qlock */
	struct rcu_head rcu;
};

/*
 * Per-CPU sums of completions and their latency, by size bucket, and of
 * the dispatch work's refills and their gap (ioband_refilled()).
 */
struct ioband_depth_pcpu {
	u64 nr[IOBAND_DEPTH_BUCKETS];
	u64 lnr[IOBAND_DEPTH_BUCKETS];
	u64 lat_ns[IOBAND_DEPTH_BUCKETS];
	u64 refills;
	u64 gap_ns;
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
	struct list_head members;	/* ioband_target.dg_node: both locks */

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
	bool depth_held;		/* the bound held a bio back, this period */
	u32 depth_max;			/* what the disk takes */
	dev_t depth_dev;		/* ... the disk it was read from */
	/*
	 * The refill gap (ioband_refilled()): the completion that queues the
	 * dispatch work sets kick_ns (if 0), the work takes it and adds the
	 * held bios it then sent, and the time their slots stayed empty, to
	 * dstat.
	 */
	atomic64_t kick_ns;
	u64 refill_ready_ns;		/* the work item's last submission end */
	/*
	 * Bios the disk refused for want of a tag (ioband_resend()): to be
	 * sent again by the dispatch work (qlock), the fewest in flight a
	 * refusal saw this period (0: none; the controller's), and how many
	 * there were in all (status, and per period for the controller).
	 */
	struct bio_list retry;
	atomic_t refused_at;
	atomic64_t refusals;
	u64 refusals_snap;		/* at period start; depth_busy's */
	/*
	 * Bios of more sectors than nowait_sectors go without REQ_NOWAIT
	 * (U32_MAX: any may), since nowait_cut_ns: the disk refused every
	 * one of more than a page that large, one it has to split
	 * (ioband_nowait_period()); nowait_warned: that was logged.
	 */
	u32 nowait_sectors;
	u64 nowait_cut_ns;
	bool nowait_warned;
	/*
	 * Refusals of bios of more than a page this period (ioband_resend()):
	 * how many, the fewest in flight at one, the smallest such bio; and
	 * the largest bio the disk took with REQ_NOWAIT, this period and the
	 * one before, and the most in flight it took one at, this period
	 * (end_io).  At the period's end the refusals are a want of tags, or
	 * a size the disk splits (ioband_nowait_period()).
	 */
	atomic_t big_refusals;
	atomic_t big_refused_at;
	u32 big_refused_sectors;	/* U32_MAX: none */
	u32 nowait_took;
	u32 nowait_took_prev;		/* depth_busy's */
	u32 nowait_took_at;
	/*
	 * One group alone (ioband_solo()): the group whose bio was mapped
	 * last (compared, never dereferenced), since when no other group's
	 * was, and whether a bio passed the bound as solo this period.
	 * Written locklessly by map(); a lost update only delays or
	 * shortens a solo spell by one bio.
	 */
	const void *solo;
	u64 solo_since;
	bool solo_used;
	u32 solo_extra;		/* how far past the bound: the depth's */

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
	 * baseline when it is known and longer (up to IOBAND_GRACE_MAX_NS):
	 * the automatic depth's, or with a fixed io_limit fixed_base_ns
	 * (ioband_depth_fixed_base(), under depth_busy); set at each depth
	 * period's end.
	 */
	u64 grace_ns;
	u64 fixed_base_ns;
	/*
	 * What a paced group may bank (ioband_pace_slack_ns()): from the
	 * same baseline, set with the grace; IOBAND_PACE_SLACK_NS without.
	 */
	u64 pace_slack_ns;

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
	 * policy): all its members' bios together, paced as a group's are.
	 */
	struct ioband_cap cap;
	/*
	 * How long it has held bios back: in all (closed spells), and since
	 * when now (0: not holding).  qlock; the status reads them without.
	 */
	u64 dglim_ns;
	u64 dglim_since;
};

/*
 * A bio as ioband sends it, to send it again after a refusal (as
 * dm-bio-record.h's, which out-of-tree modules cannot include): a device
 * below may have remapped, trimmed or chained it.
 */
struct ioband_bio_rec {
	/* its cgroup: bio_endio() drops the blkg before dm's end_io */
	struct cgroup_subsys_state *css;
	struct block_device *bdev;
	unsigned long flags;
	struct bvec_iter iter;
	int remaining;
	int inflight;		/* ioband's, this bio included, when sent */
};

/* Per-bio data: what end_io must know. */
struct ioband_bio {
	u64 queued_ns;
	u64 issued_ns;			/* 0: not measured (fixed io_limit) */
	struct ioband_group *g;		/* valid while counted */
	u8 bucket;			/* size bucket of the depth controller */
	bool counted;			/* in dg->inflight, holds a ref on g */
	bool nowait;			/* ioband added REQ_NOWAIT; rec is set */
	struct ioband_bio_rec rec;
};

struct ioband_target {
	struct dm_target *ti;
	struct dm_dev *dev;
	struct ioband_devgroup *dg;
	struct list_head dg_node;	/* ioband_devgroups_lock and dg->lock */
	struct mapped_device *md;

	enum ioband_type type;		/* changes only with no extra groups */
	bool nowait;			/* below: bio-based, takes REQ_NOWAIT */
	bool draining;			/* suspending: hold nothing */
	struct ioband_group default_group;
	struct xarray groups;		/* id -> group; readers use RCU */
	unsigned int nr_groups;		/* under dg->lock */
	bool limits;			/* a group has r= or l=, under dg->lock */
	bool live;			/* resumed once: its mins count, dg->lock */

	/* Shared parameters this table asked for, applied when it resumes. */
	bool cfg_pending;
	struct ioband_table_cfg cfg;
};

static inline const char *ioband_dev_name(struct ioband_target *t)
{
	return dm_device_name(t->md);
}

/* Default group first, then the extra groups by ascending id. */
static inline struct ioband_group *ioband_next_group(struct ioband_target *t,
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

/*
 * Bios held that the dispatcher could send now: held, and not by a group
 * over its limit.  Read without qlock (two counters: a reader between two
 * updates errs towards "some", the slow path).
 */
static inline int ioband_held_eligible(struct ioband_devgroup *dg)
{
	return atomic_read(&dg->queued) - atomic_read(&dg->tqueued);
}

/* Whether the device group's policy gives groups ranges (range-bw). */
static inline bool ioband_ranges(struct ioband_devgroup *dg)
{
	return ioband_policy_get(READ_ONCE(dg->policy))->ranges;
}

/* The weight @g is scheduled by: its own, or under range-bw its min's. */
static inline u32 ioband_weight(struct ioband_devgroup *dg, struct ioband_group *g)
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
static inline u64 ioband_min_rate_in(struct ioband_group *g, bool ranges)
{
	if (ranges)
		return (u64)READ_ONCE(g->min_kbs) * 1024;
	return READ_ONCE(g->rsv);
}

static inline u64 ioband_max_rate_in(struct ioband_group *g, bool ranges)
{
	if (ranges)
		return (u64)READ_ONCE(g->max_kbs) * 1024;
	return READ_ONCE(g->cap.lim);
}

static inline u64 ioband_min_rate(struct ioband_devgroup *dg, struct ioband_group *g)
{
	return ioband_min_rate_in(g, ioband_ranges(dg));
}

static inline u64 ioband_max_rate(struct ioband_devgroup *dg, struct ioband_group *g)
{
	return ioband_max_rate_in(g, ioband_ranges(dg));
}

/* @g's burst rate, encoded (in the unit of its limit), or 0. */
static inline u64 ioband_peak_rate(struct ioband_devgroup *dg, struct ioband_group *g)
{
	if (ioband_ranges(dg))
		return 0;
	return READ_ONCE(g->cap.bst);
}

/* Queued-now is the number of bios of the group held in ioband. */
static inline unsigned int ioband_group_queued(struct ioband_group *g)
{
	return READ_ONCE(g->nr_queued);
}

extern struct workqueue_struct *ioband_wq;

/* ioband-devgroup.c */
void ioband_depth_sum(struct ioband_devgroup *dg,
		      struct ioband_depth_pcpu *sum);
void ioband_depth_unlock(struct ioband_devgroup *dg);
void ioband_apply_limit(struct ioband_devgroup *dg, u32 limit);
int ioband_heap_reserve(struct ioband_devgroup *dg, u32 need);
int ioband_set_params(struct ioband_devgroup *dg, u32 io_throttle,
		      u32 io_limit, enum ioband_policy_id policy,
		      u64 token, char **err);
void ioband_cap_set(struct ioband_cap *c, u64 lim, u64 bst, u32 secs);
void ioband_group_retag(struct ioband_devgroup *dg, struct ioband_group *g,
			u64 lim, u64 rsv);
void ioband_retag_all(struct ioband_devgroup *dg, bool was_ranges);
void ioband_devgroup_disk(struct ioband_devgroup *dg, struct block_device *bdev);
const char *ioband_dg_limit_merge(struct ioband_devgroup *dg,
				  const struct ioband_dg_limit *dgl,
				  u64 *lim, u64 *bst, u32 *secs);
void ioband_range_refit(struct ioband_devgroup *dg);
int ioband_devgroup_join(struct ioband_target *t, char **err);
void ioband_devgroup_leave(struct ioband_target *t);
int ioband_group_init(struct ioband_target *t, struct ioband_group *g,
		      const struct ioband_group_cfg *cfg);
int ioband_group_put(struct ioband_group *g);
void ioband_group_unref_rcu(struct rcu_head *head);
int ioband_group_attach(struct ioband_target *t,
			const struct ioband_group_cfg *cfg);
void ioband_free_groups(struct ioband_target *t);
bool ioband_has_limits(struct ioband_target *t);
void ioband_group_orphan(struct ioband_devgroup *dg,
			 struct ioband_target *t, struct ioband_group *g);

/* ioband-io.c */
enum hrtimer_restart ioband_kick_fn(struct hrtimer *ht);
void ioband_watchdog_fn(struct timer_list *tl);
void ioband_rsv_del(struct ioband_group *g);
void ioband_held_in(struct ioband_devgroup *dg, struct ioband_group *g,
		    u64 floor);
void ioband_held_out(struct ioband_devgroup *dg, struct ioband_group *g);
void ioband_floors_sync(struct ioband_devgroup *dg);
void ioband_unthrottle_one(struct ioband_devgroup *dg,
			   struct ioband_group *g, u64 now);
void ioband_submit_list(struct bio_list *list);
void ioband_dispatch_work(struct work_struct *ws);
void ioband_nowait_period(struct ioband_devgroup *dg);
int ioband_map(struct dm_target *ti, struct bio *bio);
int ioband_end_io(struct dm_target *ti, struct bio *bio,
		  blk_status_t *error);
bool ioband_entity_of(struct ioband_entity *e, const void *t);
void ioband_release_held(struct ioband_devgroup *dg,
			 struct ioband_group *g, u64 now,
			 struct bio_list *list);

/* ioband-caps.c */
u64 ioband_limit_opens(struct ioband_devgroup *dg, struct ioband_group *g);
u64 ioband_limit_wake(u64 enc, u64 opens, struct bio *bio, u32 queued);
u64 ioband_group_wake(struct ioband_devgroup *dg, struct ioband_group *g,
		      u64 opens);
u64 ioband_dg_opens(struct ioband_devgroup *dg);
bool ioband_dg_open(struct ioband_devgroup *dg, u64 now);
void ioband_dg_holding(struct ioband_devgroup *dg, u64 now, bool held);
bool ioband_limit_take(struct ioband_devgroup *dg, struct ioband_group *g,
		       u64 now, u64 queued, struct bio *bio, bool force);
void ioband_rsv_take(struct ioband_devgroup *dg, struct ioband_group *g,
		     u64 now, u64 queued, struct bio *bio);

/* ioband-period.c */
void ioband_depth_done(struct ioband_devgroup *dg, struct ioband_bio *pb,
		       u64 now);

#endif /* IOBAND_CORE_H */
