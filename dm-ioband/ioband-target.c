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
#include "ioband-core.h"

struct workqueue_struct *ioband_wq;

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
	/*
	 * REQ_NOWAIT only below a bio-based device (an LV), whose disk's
	 * tags ioband cannot read: a request-based disk's are the bound's
	 * maximum already (ioband_disk_depth()), and there the flag would
	 * only cost (below an I/O scheduler blk-mq runs the queue of each
	 * REQ_NOWAIT request from kblockd).  Not on a zoned disk: a write
	 * sent again must not pass a later one.
	 */
	t->nowait = bdev_nowait(t->dev->bdev) && !bdev_is_zoned(t->dev->bdev) &&
		    !queue_is_mq(bdev_get_queue(t->dev->bdev));
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

/* The `reset` message: @g's counters, and what its limits part shows. */
static void ioband_stats_reset(struct ioband_devgroup *dg,
			       struct ioband_group *g)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(g->stats, cpu), 0, sizeof(struct ioband_stats));
	spin_lock_irq(&dg->qlock);
	WRITE_ONCE(g->limited_ns, 0);
	if (g->throttled)	/* held now: counts from now on */
		WRITE_ONCE(g->throttled_ns, ktime_get_ns());
	WRITE_ONCE(g->rsv_sectors, 0);
	spin_unlock_irq(&dg->qlock);
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
 * " refused <count> <tags>" (once the disk refused a bio sent with
 * REQ_NOWAIT, ioband_resend()): how many it refused, and the maximum the
 * automatic depth learned from them (0: none, or a fixed io_limit).
 */
static void ioband_emit_refused(struct ioband_devgroup *dg, char *result,
				unsigned int maxlen, unsigned int *szp)
{
	u64 n = atomic64_read(&dg->refusals);
	u32 max = READ_ONCE(dg->depth.max);
	unsigned int sz = *szp;

	if (!n)
		return;
	if (READ_ONCE(dg->io_limit_cfg) || max >= READ_ONCE(dg->depth.disk_max))
		max = 0;
	DMEMIT(" refused %llu %u", n, max);
	*szp = sz;
}

/*
 * " dglimit <limited us>" (a device group with its own l=): how long its
 * limit has held bios back in all, the current spell included.
 */
static void ioband_emit_dglimit(struct ioband_devgroup *dg, char *result,
				unsigned int maxlen, unsigned int *szp)
{
	u64 ns = READ_ONCE(dg->dglim_ns), since = READ_ONCE(dg->dglim_since);
	unsigned int sz = *szp;
	u64 now = ktime_get_ns();

	if (since && atomic_read(&dg->queued) && now > since)
		ns += now - since;
	DMEMIT(" dglimit %llu", div_u64(ns, NSEC_PER_USEC));
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
	u64 tag;

	if (!READ_ONCE(g->nr_queued) || !ioband_min_rate(dg, g))
		return 0;
	tag = atomic64_read(&g->rtag);
	/* none served for it yet: not behind since boot (its first is due) */
	if (!tag)
		return 0;
	return ioband_pace_lag(tag, now, READ_ONCE(dg->pace_slack_ns));
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
	return ioband_rsv_lag(dg, g, now) >
		ioband_pace_late_ns(READ_ONCE(dg->pace_slack_ns));
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

/* A cap as the table gives it: ",l=<rate>" and ",b=<rate>/<secs>". */
static void ioband_emit_cap(u64 lim, u64 bst, u32 bst_secs, char *result,
			    unsigned int maxlen, unsigned int *szp)
{
	unsigned int sz;

	if (lim)
		ioband_emit_rate(",l=", lim, result, maxlen, szp);
	if (bst) {
		ioband_emit_rate(",b=", bst, result, maxlen, szp);
		sz = *szp;
		DMEMIT("/%u", bst_secs);
		*szp = sz;
	}
}

/* A table line's shared parameters, as ioband_table_shared() finds them. */
struct ioband_shared {
	u32 io_throttle;
	u32 io_limit;
	enum ioband_policy_id policy;
	u64 lim, bst;
	u32 bst_secs;
	u64 token_base;
};

/*
 * The shared parameters of @t's table line: the device group's, as
 * configured (0 stays default: an automatic io_limit stays automatic), or,
 * for a reload of the group's only device not resumed yet (`dmsetup table
 * --inactive`), the ones it brings at resume.  dg->lock.
 */
static void ioband_table_shared(struct ioband_target *t,
				struct ioband_shared *s)
{
	const struct ioband_table_cfg *c = &t->cfg;
	struct ioband_devgroup *dg = t->dg;

	if (t->cfg_pending) {
		*s = (struct ioband_shared) {
			.io_throttle = c->io_throttle,
			.io_limit = c->io_limit,
			.policy = c->policy,
			.lim = ioband_rate_enc(&c->dg_limit.lim),
			.bst = ioband_rate_enc(&c->dg_limit.bst.rate),
			.bst_secs = c->dg_limit.bst.secs,
			.token_base = c->token_base,
		};
		return;
	}
	*s = (struct ioband_shared) {
		.io_throttle = dg->io_throttle_cfg,
		.io_limit = dg->io_limit_cfg,
		.policy = dg->policy,
		.lim = dg->cap.lim,
		.bst = dg->cap.bst,
		.bst_secs = dg->cap.bst_secs,
		.token_base = dg->token_cfg,
	};
}

static void ioband_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	struct ioband_shared sh;
	struct ioband_group *g;
	unsigned long id;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%s", dg->name);
		ioband_emit_info(t, result, maxlen, &sz);
		/* truncated, or not written at all when the buffer is full */
		ioband_emit_depth(dg, result, maxlen, &sz);
		ioband_emit_refused(dg, result, maxlen, &sz);
		if (READ_ONCE(dg->cap.lim))
			ioband_emit_dglimit(dg, result, maxlen, &sz);
		if (ioband_ranges(dg) || READ_ONCE(t->limits))
			ioband_emit_limits(t, result, maxlen, &sz);
		break;

	case STATUSTYPE_TABLE:
		mutex_lock(&dg->lock);
		ioband_table_shared(t, &sh);
		DMEMIT("%s %s %u %u %s %s", t->dev->name, dg->name,
		       sh.io_throttle, sh.io_limit, ioband_type_name(t->type),
		       ioband_policy_name(sh.policy));
		ioband_emit_cap(sh.lim, sh.bst, sh.bst_secs, result, maxlen,
				&sz);
		DMEMIT(" %llu", sh.token_base);
		/* the default group's parameter, then each group's */
		ioband_for_each_group(t, id, g) {
			DMEMIT(" ");
			if (g != &t->default_group)
				DMEMIT("%llu", g->id);
			if (ioband_policy_get(sh.policy)->ranges) {
				DMEMIT(":%u:%u", g->min_kbs, g->max_kbs);
				continue;
			}
			DMEMIT(":%u", g->weight);
			if (g->rsv)
				ioband_emit_rate(",r=", g->rsv, result, maxlen,
						 &sz);
			ioband_emit_cap(g->cap.lim, g->cap.bst, g->cap.bst_secs,
					result, maxlen, &sz);
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
		       ioband_weight(t->dg, g), s.ios[READ], s.sectors[READ],
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
 * reserve / limit [<id>:]<rate>, burst [<id>:]<rate>/<secs>: a weight
 * policy's r=, l= (0 also removes the burst) or b=.  dg->lock.
 */
static int ioband_msg_rate(struct ioband_target *t, struct ioband_msg *msg,
			   char **err)
{
	struct ioband_devgroup *dg = t->dg;
	struct ioband_group *g;
	struct ioband_cap *c;
	u64 enc = ioband_rate_enc(&msg->rate), rsv;

	if (ioband_ranges(dg)) {
		*err = "range-bw has min:max, not reserve/limit (range-bw <group-id>:<min>:<max>)";
		return -EINVAL;
	}
	g = ioband_lookup(t, msg);
	if (!g) {
		*err = "No such group (attach it first)";
		return -EINVAL;
	}
	c = &g->cap;
	if (msg->verb == IOBAND_MSG_RESERVE) {
		if (enc && c->lim && !((enc ^ c->lim) & IOBAND_RATE_IOPS) &&
		    enc > c->lim) {
			*err = "The reservation would be above the group's limit";
			return -EINVAL;
		}
		rsv = g->rsv;
		WRITE_ONCE(g->rsv, enc);
		ioband_group_retag(dg, g, c->lim, rsv);
		ioband_floors_sync(dg);
	} else if (msg->verb == IOBAND_MSG_LIMIT) {
		if (enc && g->rsv && !((enc ^ g->rsv) & IOBAND_RATE_IOPS) &&
		    enc < g->rsv) {
			*err = "The limit would be below the group's reservation";
			return -EINVAL;
		}
		if (enc && c->bst && ((enc ^ c->bst) & IOBAND_RATE_IOPS ||
				      enc >= c->bst)) {
			*err = "The limit would not be below the group's burst (change or remove the burst first)";
			return -EINVAL;
		}
		ioband_cap_set(c, enc, c->bst, c->bst_secs);
	} else {
		struct ioband_rate lim = ioband_rate_dec(c->lim);
		const char *problem = ioband_burst_problem(&msg->burst, &lim);

		if (problem) {
			*err = (char *)problem;
			return -EINVAL;
		}
		ioband_cap_set(c, c->lim, ioband_rate_enc(&msg->burst.rate),
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
	u64 lim, rsv;
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
		lim = ioband_max_rate(dg, g);
		rsv = ioband_min_rate(dg, g);
		WRITE_ONCE(g->min_kbs, msg->min_kbs);
		WRITE_ONCE(g->max_kbs, msg->max_kbs);
		ioband_group_retag(dg, g, lim, rsv);
		ioband_range_refit(dg);
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
		return 0;

	case IOBAND_MSG_DETACH:
		g = xa_erase(&t->groups, msg->id);
		if (!g) {
			*err = "No such group";
			return -EINVAL;
		}
		t->nr_groups--;
		t->limits = ioband_has_limits(t);
		/*
		 * No waiting, with dg->lock held, for map() or the disk: g's
		 * bios in flight hold references, a map() that found g before
		 * the erase may take one until a grace period has passed, and
		 * the last reference frees it.
		 */
		ioband_group_orphan(dg, t, g);
		dg->nr_entities--;
		if (g->min_kbs)
			ioband_range_refit(dg);
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
		bool was_ranges;
		u64 lim, bst;
		u32 secs;

		problem = ioband_dg_limit_merge(dg, &msg->dg_limit, &lim, &bst,
						&secs);
		if (problem) {
			*err = (char *)problem;
			return -EINVAL;
		}
		was_ranges = ioband_ranges(dg);
		r = ioband_set_params(dg, dg->io_throttle_cfg,
				      dg->io_limit_cfg, msg->policy,
				      dg->token_cfg, err);
		if (!r) {
			if (ioband_ranges(dg) != was_ranges)
				ioband_retag_all(dg, was_ranges);
			ioband_cap_set(&dg->cap, lim, bst, secs);
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
			ioband_stats_reset(dg, g);
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
	mutex_lock(&dg->lock);
	/*
	 * range-bw's weights fit this table's mins from now on: not at load,
	 * where a table that never goes live would change the device group.
	 */
	t->live = true;
	ioband_range_refit(dg);
	/* A reload of the group's only device brings its shared parameters. */
	if (t->cfg_pending) {
		if (ioband_set_params(dg, t->cfg.io_throttle, t->cfg.io_limit,
				      t->cfg.policy, t->cfg.token_base, &err))
			DMERR("%s: %s", ioband_dev_name(t), err); /* checked at load */
		ioband_devgroup_disk(dg, t->dev->bdev);
		ioband_cap_set(&dg->cap, ioband_rate_enc(&t->cfg.dg_limit.lim),
			       ioband_rate_enc(&t->cfg.dg_limit.bst.rate),
			       t->cfg.dg_limit.bst.secs);
		ioband_floors_sync(dg);
		WRITE_ONCE(t->cfg_pending, false);
	}
	mutex_unlock(&dg->lock);
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
