// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-devgroup.c - device groups and their groups: the registry of device groups, their
 * shared parameters (as configured and as in effect), members joining and
 * leaving, and the life of a group (attach, orphan, free after RCU).
 */
#include "ioband-core.h"

static LIST_HEAD(ioband_devgroups);
static DEFINE_MUTEX(ioband_devgroups_lock);

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
void ioband_depth_sum(struct ioband_devgroup *dg,
		      struct ioband_depth_pcpu *sum)
{
	int cpu, b;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		struct ioband_depth_pcpu *p = per_cpu_ptr(dg->dstat, cpu);

		for (b = 0; b < IOBAND_DEPTH_BUCKETS; b++) {
			sum->nr[b] += READ_ONCE(p->nr[b]);
			sum->lnr[b] += READ_ONCE(p->lnr[b]);
			sum->lat_ns[b] += READ_ONCE(p->lat_ns[b]);
		}
		sum->refills += READ_ONCE(p->refills);
		sum->gap_ns += READ_ONCE(p->gap_ns);
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

void ioband_depth_unlock(struct ioband_devgroup *dg)
{
	clear_bit_unlock(0, &dg->depth_busy);
}

/*
 * Set the effective io_limit (and what follows from it: io_throttle and a
 * default token) from the configured values, or from the controller's
 * bound when io_limit is automatic.  Caller holds depth_busy.
 */
void ioband_apply_limit(struct ioband_devgroup *dg, u32 limit)
{
	WRITE_ONCE(dg->io_limit, limit);
	WRITE_ONCE(dg->solo_extra, ioband_depth_solo_extra(&dg->depth, limit));
	WRITE_ONCE(dg->io_throttle,
		   ioband_eff_throttle(dg->io_throttle_cfg, limit));
	WRITE_ONCE(dg->token_base, dg->token_cfg ? dg->token_cfg :
		   ioband_default_token(dg->policy, limit));
}

/*
 * Make room in the backlog heap for @need groups.  The heap only grows;
 * allocation happens here, outside qlock, so the I/O path never allocates.
 */
int ioband_heap_reserve(struct ioband_devgroup *dg, u32 need)
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
	bio_list_init(&dg->retry);
	dg->nowait_sectors = U32_MAX;
	dg->big_refused_sectors = U32_MAX;
	INIT_WORK(&dg->dispatch_work, ioband_dispatch_work);
	timer_setup(&dg->watchdog, ioband_watchdog_fn, 0);
	INIT_LIST_HEAD(&dg->reservers);
	dg->grace_ns = IOBAND_GRACE_NS;
	dg->pace_slack_ns = IOBAND_PACE_SLACK_NS;
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
	WARN_ON(!bio_list_empty(&dg->retry));
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
int ioband_set_params(struct ioband_devgroup *dg, u32 io_throttle,
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
	if (io_limit) {	/* no latency measured yet: the plain grace, slack */
		dg->fixed_base_ns = 0;
		WRITE_ONCE(dg->grace_ns, IOBAND_GRACE_NS);
		WRITE_ONCE(dg->pace_slack_ns, IOBAND_PACE_SLACK_NS);
	}
	ioband_depth_unlock(dg);
	return 0;
}

/*
 * A cap's @tag, paced at encoded rate @old, now paced at @new: what it is
 * ahead of @now (the cost of the I/Os sent past their rate) is paid at the
 * new rate; with no rate, or one of the other unit, it opens now.  Behind
 * @now (time banked) it stays.  Against the lock-free takers: cmpxchg.
 */
static void ioband_tag_rescale(atomic64_t *tag, u64 now, u64 old, u64 new)
{
	s64 cur = atomic64_read(tag);
	u64 o = old & ~IOBAND_RATE_IOPS, n = new & ~IOBAND_RATE_IOPS;
	u64 next;

	do {
		if (ioband_pace_open(cur, now) || old == new)
			return;
		if (!o || !n || ((old ^ new) & IOBAND_RATE_IOPS))
			next = now;
		else if (o > n && cur - now >
			 mul_u64_u64_div_u64(IOBAND_BANK_MAX_NS, n, o))
			/* the quotient would not fit (x86's divq: #DE) */
			next = now + IOBAND_BANK_MAX_NS;
		else
			next = now + mul_u64_u64_div_u64(cur - now, o, n);
	} while (!atomic64_try_cmpxchg(tag, &cur, next));
}

/*
 * @g's limit and reservation tags were paced at encoded rates @lim and
 * @rsv; they are now paced at its current ones (a reserve or range-bw
 * message, a policy switch into or out of range-bw): rescaled as a limit's
 * is by ioband_cap_set(), so that the change takes effect at once (a max
 * of 1 KB/s raised after a 64 KiB bio lets the next go now, not in 64 s).
 * dg->lock.
 */
void ioband_group_retag(struct ioband_devgroup *dg, struct ioband_group *g,
			u64 lim, u64 rsv)
{
	u64 now = ktime_get_ns();

	ioband_tag_rescale(&g->cap.ltag, now, lim, ioband_max_rate(dg, g));
	ioband_tag_rescale(&g->rtag, now, rsv, ioband_min_rate(dg, g));
}

/*
 * The policy switched into (@was_ranges false) or out of range-bw: every
 * group's tags, paced at the rates of the policy before, to the new ones.
 * dg->lock.
 */
void ioband_retag_all(struct ioband_devgroup *dg, bool was_ranges)
{
	struct ioband_target *m;
	struct ioband_group *g;
	unsigned long id;

	lockdep_assert_held(&dg->lock);
	list_for_each_entry(m, &dg->members, dg_node) {
		ioband_for_each_group(m, id, g)
			ioband_group_retag(dg, g,
					   ioband_max_rate_in(g, was_ranges),
					   ioband_min_rate_in(g, was_ranges));
	}
}

/*
 * Set a cap: limit @lim (encoded; 0: none, and no burst) and burst (peak
 * @bst for @secs; 0: none).  A tag ahead of now is rescaled to the new
 * rate (ioband_tag_rescale()): a limit raised from 1 KiB/s after a 64 KiB
 * bio lets the next go at once, not 64 s later.  dg->lock.
 */
void ioband_cap_set(struct ioband_cap *c, u64 lim, u64 bst, u32 secs)
{
	u64 now = ktime_get_ns();

	if (!lim)
		bst = 0;
	ioband_tag_rescale(&c->ltag, now, c->lim, lim);
	ioband_tag_rescale(&c->ptag, now, c->bst, bst);
	WRITE_ONCE(c->lim, lim);
	WRITE_ONCE(c->bst, bst);
	WRITE_ONCE(c->bst_secs, bst ? secs : 0);
	WRITE_ONCE(c->bank_ns,
		   ioband_burst_bank_ns(lim & ~IOBAND_RATE_IOPS,
					bst & ~IOBAND_RATE_IOPS, secs));
}

/*
 * The device group's limit and burst after @dgl (what it does not give
 * stays; a limit of 0 takes the burst with it) into *@lim, *@bst, *@secs.
 * Returns NULL, or what is wrong with the result.  dg->lock.
 */
const char *ioband_dg_limit_merge(struct ioband_devgroup *dg,
				  const struct ioband_dg_limit *dgl,
				  u64 *lim, u64 *bst, u32 *secs)
{
	struct ioband_rate l;
	struct ioband_burst b;

	*lim = dgl->has_lim ? ioband_rate_enc(&dgl->lim) : dg->cap.lim;
	*bst = dgl->has_bst ? ioband_rate_enc(&dgl->bst.rate) :
		*lim ? dg->cap.bst : 0;
	*secs = dgl->has_bst ? dgl->bst.secs : dg->cap.bst_secs;
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
 * The device group's disk is now @bdev (a reload of its only device, at
 * resume): on another disk, what the old one takes, the latency baselines
 * and the tags learned from it mean nothing; an automatic depth starts
 * again from scratch.  dg->lock.
 */
void ioband_devgroup_disk(struct ioband_devgroup *dg, struct block_device *bdev)
{
	lockdep_assert_held(&dg->lock);
	if (bdev->bd_dev == dg->depth_dev)
		return;
	ioband_depth_lock(dg);
	dg->depth_dev = bdev->bd_dev;
	dg->depth_max = ioband_disk_depth(bdev);
	atomic_set(&dg->refused_at, 0);
	WRITE_ONCE(dg->nowait_sectors, U32_MAX);
	atomic_set(&dg->big_refusals, 0);
	WRITE_ONCE(dg->nowait_took, 0);
	dg->nowait_took_prev = 0;
	WRITE_ONCE(dg->nowait_took_at, 0);
	dg->fixed_base_ns = 0;
	if (!dg->io_limit_cfg) {
		ioband_depth_init(&dg->depth, dg->depth_max);
		ioband_depth_restart(dg);
		ioband_apply_limit(dg, dg->depth.limit);
	}
	ioband_depth_unlock(dg);
}

/*
 * Two ioband targets of one table in one device group (two slices of its
 * disk in one device) must give the same shared parameters: the table is
 * one device to the checks below, and each target's are applied at resume.
 */
static bool ioband_cfg_shared_eq(const struct ioband_table_cfg *a,
				 const struct ioband_table_cfg *b)
{
	return a->policy == b->policy && a->io_throttle == b->io_throttle &&
	       a->io_limit == b->io_limit && a->token_base == b->token_base &&
	       a->dg_limit.has_lim == b->dg_limit.has_lim &&
	       a->dg_limit.has_bst == b->dg_limit.has_bst &&
	       ioband_rate_enc(&a->dg_limit.lim) ==
			ioband_rate_enc(&b->dg_limit.lim) &&
	       ioband_rate_enc(&a->dg_limit.bst.rate) ==
			ioband_rate_enc(&b->dg_limit.bst.rate) &&
	       a->dg_limit.bst.secs == b->dg_limit.bst.secs;
}

/*
 * One walk of @dg's members for what keeps @t out:
 * - one of @t and a member on the other: both in one device group would
 *   deadlock (the upper's bio holds a slot of the shared bound while the
 *   lower's map() holds its remapped bio for a slot the upper's bio will
 *   only free when it completes).  Only directly: a device in between, an
 *   LV or a loop file, is not seen;
 * - a target of @t's own table with other shared parameters;
 * - a reload of another device, not resumed yet: it brings its shared
 *   parameters at resume, and @t would be checked against values about to
 *   be replaced.
 * *@other says whether another device is a member.  Returns 0 or the
 * error, with *@err.
 */
static int ioband_devgroup_members_ok(struct ioband_devgroup *dg,
				      struct ioband_target *t, bool *other,
				      char **err)
{
	struct gendisk *below = t->dev->bdev->bd_disk;
	struct gendisk *self = dm_disk(t->md);
	struct ioband_target *m;

	lockdep_assert_held(&ioband_devgroups_lock);
	*other = false;
	list_for_each_entry(m, &dg->members, dg_node) {
		if (below == dm_disk(m->md) || m->dev->bdev->bd_disk == self) {
			*err = "The device is stacked on (or under) a member of its device group: give it another group";
			return -EINVAL;
		}
		if (m->ti->table == t->ti->table &&
		    !ioband_cfg_shared_eq(&m->cfg, &t->cfg)) {
			*err = "Another ioband target of this table in the device group gives other shared parameters (policy, io_throttle, io_limit, token_base, l=, b=)";
			return -EINVAL;
		}
		if (m->md == t->md)
			continue;
		if (READ_ONCE(m->cfg_pending)) {
			*err = "The device group's other device has a reload pending: resume or clear it first";
			return -EBUSY;
		}
		*other = true;
	}
	return 0;
}

/*
 * range-bw weighs a group by its min shifted right by dg->range_shift
 * (ioband_range_weight()): the shift that makes the largest min of the
 * live members' groups fit, again after a min or a member changed (it
 * shrinks too: a large min set once and taken back must not leave the
 * others' weights coarse).  Not a table loaded but never resumed.
 * O(groups of all members).  dg->lock.
 */
void ioband_range_refit(struct ioband_devgroup *dg)
{
	struct ioband_target *m;
	struct ioband_group *g;
	unsigned long id;
	u32 max_min = 0;

	lockdep_assert_held(&dg->lock);
	list_for_each_entry(m, &dg->members, dg_node) {
		if (!m->live)
			continue;
		ioband_for_each_group(m, id, g)
			max_min = max(max_min, READ_ONCE(g->min_kbs));
	}
	WRITE_ONCE(dg->range_shift, ioband_range_shift(max_min));
}

/*
 * Join (or create) the device group named in the table.  A new member of a
 * group that other devices already use must agree with its policy and with
 * every shared parameter it gives explicitly (0 inherits); a reload of the
 * group's only device may change them, which takes effect at resume.
 */
int ioband_devgroup_join(struct ioband_target *t, char **err)
{
	struct ioband_table_cfg *cfg = &t->cfg;
	struct ioband_devgroup *dg;
	bool other = false;
	int r = 0;

	mutex_lock(&ioband_devgroups_lock);
	dg = ioband_devgroup_find(cfg->devgroup);
	if (dg) {
		r = ioband_devgroup_members_ok(dg, t, &other, err);
		if (r)
			goto out;
	}
	if (dg && other) {
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
			   ioband_rate_enc(&cfg->dg_limit.lim) != dg->cap.lim) {
			*err = "The policy's l= differs from the device group's (leave it out to inherit)";
			r = -EINVAL;
		} else if (cfg->dg_limit.has_bst &&
			   (ioband_rate_enc(&cfg->dg_limit.bst.rate) != dg->cap.bst ||
			    cfg->dg_limit.bst.secs != dg->cap.bst_secs)) {
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
		WRITE_ONCE(t->cfg_pending, true);
	} else {
		dg = ioband_devgroup_alloc(cfg->devgroup);
		if (!dg) {
			*err = "Cannot allocate device group";
			r = -ENOMEM;
			goto out;
		}
		dg->depth_max = ioband_disk_depth(t->dev->bdev);
		dg->depth_dev = t->dev->bdev->bd_dev;
		mutex_lock(&dg->lock);
		r = ioband_set_params(dg, cfg->io_throttle, cfg->io_limit,
				      cfg->policy, cfg->token_base, err);
		if (!r)
			ioband_cap_set(&dg->cap,
				       ioband_rate_enc(&cfg->dg_limit.lim),
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
		ioband_for_each_group(t, id, g)
			atomic64_set(&g->vtime, atomic64_read(&dg->vnow));
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
	mutex_lock(&dg->lock);
	list_add_tail(&t->dg_node, &dg->members);
	mutex_unlock(&dg->lock);
	t->dg = dg;
out:
	mutex_unlock(&ioband_devgroups_lock);
	return r;
}

void ioband_devgroup_leave(struct ioband_target *t)
{
	struct ioband_devgroup *dg = t->dg;

	mutex_lock(&ioband_devgroups_lock);
	mutex_lock(&dg->lock);
	list_del(&t->dg_node);
	dg->nr_entities -= 1 + t->nr_groups;
	if (t->live)
		ioband_range_refit(dg);
	mutex_unlock(&dg->lock);
	if (!--dg->ref) {
		list_del(&dg->node);
		ioband_devgroup_free(dg);
	}
	mutex_unlock(&ioband_devgroups_lock);
	t->dg = NULL;
}

int ioband_group_init(struct ioband_target *t, struct ioband_group *g,
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
	ioband_cap_set(&g->cap, ioband_rate_enc(&cfg->lim),
		       ioband_rate_enc(&cfg->bst.rate), cfg->bst.secs);
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
int ioband_group_put(struct ioband_group *g)
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
void ioband_group_unref_rcu(struct rcu_head *head)
{
	struct ioband_group *g = container_of(head, struct ioband_group, rcu);

	if (refcount_dec_and_test(&g->ref))
		ioband_group_free(g);
}

/* Create and publish an extra group.  Caller holds dg->lock or owns t. */
int ioband_group_attach(struct ioband_target *t,
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
	/*
	 * A live device's new group starts at the device group's virtual
	 * time before map() can find it (a table's groups: at join).
	 */
	if (t->dg)
		atomic64_set(&g->vtime, atomic64_read(&t->dg->vnow));
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
void ioband_free_groups(struct ioband_target *t)
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
bool ioband_has_limits(struct ioband_target *t)
{
	struct ioband_group *g;
	unsigned long id;

	ioband_for_each_group(t, id, g)
		if (g->rsv || g->cap.lim)
			return true;
	return false;
}

/*
 * A detached group's held bios join the tail of the default group's queue,
 * in their order, rather than being lost or issued out of turn.  map()
 * checks detached under qlock, so nothing is held on @g after this.
 */
void ioband_group_orphan(struct ioband_devgroup *dg,
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
		/* held behind the default group's limit with the others */
		if (def->throttled)
			atomic_add(g->nr_queued, &dg->tqueued);
		else if (!def->nr_queued)
			ioband_held_in(dg, def, atomic64_read(&dg->vnow));
		WRITE_ONCE(def->nr_queued, def->nr_queued + g->nr_queued);
		WRITE_ONCE(g->nr_queued, 0);
	}
	spin_unlock_irq(&dg->qlock);
}
