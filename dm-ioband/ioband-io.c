// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-io.c - the I/O path: classify a bio, charge it, hold it or let it
 * through (as far as its limit and reservation go: ioband-caps.c), dispatch
 * held bios by virtual time, hand completions to the automatic depth
 * (ioband-period.c), and the timers and work that keep the dispatcher
 * running.
 */
#include "ioband-core.h"

static bool nowait = true;
module_param(nowait, bool, 0644);
MODULE_PARM_DESC(nowait,
		 "Below a bio-based device (an LV) that takes REQ_NOWAIT, send bios with it, send a refused one again from the dispatch work and learn the disk's tags from the refusals (default: Y)");

/*
 * The dispatcher held bios back (a think-time reservation) or a throttled
 * group's limit opens: dispatch.
 */
enum hrtimer_restart ioband_kick_fn(struct hrtimer *ht)
{
	struct ioband_devgroup *dg = container_of(ht, struct ioband_devgroup,
						  kick);

	if (!READ_ONCE(dg->dying))
		queue_work(ioband_wq, &dg->dispatch_work);
	return HRTIMER_NORESTART;
}

void ioband_watchdog_fn(struct timer_list *tl)
{
	struct ioband_devgroup *dg = from_timer(dg, tl, watchdog);

	if (atomic_read(&dg->queued) && !READ_ONCE(dg->dying))
		queue_work(ioband_wq, &dg->dispatch_work);
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

/* A read or a write: what the depth times and REQ_NOWAIT goes with. */
static bool ioband_bio_rw(const struct bio *bio)
{
	return bio_op(bio) == REQ_OP_READ || bio_op(bio) == REQ_OP_WRITE;
}

/*
 * A partition's remap, dm's chaining, and BIO_QUIET, which a refusal made
 * on the bio itself sets (bio_wouldblock_error()): what a refused bio is
 * sent again with.
 */
#define IOBAND_REC_FLAGS	((1U << BIO_REMAPPED) | (1U << BIO_CHAIN) | \
				 (1U << BIO_QUIET))

/*
 * Add the segments @bv makes to *@segs as the disk counts them
 * (bvec_split_segs()): one for a bvec within a page; a bvec of several
 * pages is cut at max_segment_size and at the segment boundary, into as
 * many segments.  False if the disk would split the bio inside @bv (past
 * max_segments, or a gap at the virtual boundary inside it).
 */
static bool ioband_bvec_segs(const struct queue_limits *lim,
			     const struct bio_vec *bv, unsigned int *segs)
{
	phys_addr_t addr = page_to_phys(bv->bv_page) + bv->bv_offset;
	unsigned long mask = lim->seg_boundary_mask;
	unsigned int len = bv->bv_len, done = 0, seg;

	if (bv->bv_offset + len <= PAGE_SIZE)
		return ++*segs <= lim->max_segments;
	while (len) {
		seg = min_t(unsigned long, len,
			    min(mask - (mask & (addr + done)),
				(unsigned long)lim->max_segment_size - 1) + 1);
		/* (0: limits not validated, in doubt no, and no endless loop) */
		if (!seg || ++*segs > lim->max_segments)
			return false;
		done += seg;
		len -= seg;
		if (len && ((bv->bv_offset + done) & lim->virt_boundary_mask))
			return false;
	}
	return true;
}

/*
 * Whether the disk below takes @bio whole, by the limits stacked on @bdev
 * (an LV's are its disk's): a REQ_NOWAIT bio that it would have to split
 * is refused with BLK_STS_AGAIN whatever its tags (bio_split_rw_at();
 * blk_bio_segment_split() on 6.1), and each such refusal would read as a
 * full disk (1 MiB reads at QD2 on a disk of max_sectors_kb 64 held the
 * automatic depth at 1: tests/dm/024).  Size (to the physical block, as
 * get_max_io_size()), chunk boundary, segments as the disk counts them
 * (ioband_bvec_segs(): a bvec of physically contiguous pages longer than
 * max_segment_size is several segments, not a split; taken for one, 96
 * KiB reads from such buffers were never sent with REQ_NOWAIT), gaps at
 * the virtual boundary between bvecs; in doubt, no.
 */
static bool ioband_fits(struct block_device *bdev, struct bio *bio)
{
	const struct queue_limits *lim = &bdev_get_queue(bdev)->limits;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int pbs = lim->physical_block_size >> SECTOR_SHIFT;
	unsigned int max = lim->max_sectors, start, end, segs = 0;
	struct bio_vec bv, prev = { };
	struct bvec_iter iter;

	if (lim->chunk_sectors) {
		sector_t off = sector;

		max = min(max, lim->chunk_sectors -
			  sector_div(off, lim->chunk_sectors));
	}
	start = sector & (pbs - 1);
	end = (start + max) & ~(pbs - 1);
	if (end > start)
		max = end - start;
	if (bio_sectors(bio) > max)
		return false;
	bio_for_each_bvec(bv, bio, iter) {
		/* segs: each bvec before this one made one or more */
		if (segs && lim->virt_boundary_mask &&
		    ((bv.bv_offset | (prev.bv_offset + prev.bv_len)) &
		     lim->virt_boundary_mask))
			return false;
		if (!ioband_bvec_segs(lim, &bv, &segs))
			return false;
		prev = bv;
	}
	return true;
}

/*
 * Send @bio with REQ_NOWAIT, as it is now, if the device below is
 * bio-based and takes it (t->nowait, and still now: a reload below, a
 * snapshot-origin or a pvmove mirror, may take it away) and if @may: where
 * no tag is free it is refused at once (ioband_resend()) rather than wait
 * in the disk's tag wait, in the submitter's own submit_bio() on the fast
 * path.  Below an LV that wait is where a bound past the disk's tags
 * queued its margin: fio's submitting thread blocked there, handed ioband
 * no more bios, and the wait's order, not the weights, decided (an 80:20
 * pair 67:33 on a 16-tag disk).  Not for a bio sent past the bound (one
 * group alone, a drain, an urgent bio: meant to wait in the disk's queue;
 * the caller's @may), nor one the disk would split (ioband_fits()) or of a
 * size it refused lately (ioband_nowait_cut()), nor one that has
 * REQ_NOWAIT already (its refusal is its submitter's), nor
 * one with an integrity payload (not restored here) or polled, nor other
 * ops.
 */
static void ioband_nowait(struct ioband_target *t, struct ioband_bio *pb,
			  struct bio *bio, bool may)
{
	struct ioband_bio_rec *rec = &pb->rec;
	struct cgroup_subsys_state *css;
	int n;

	pb->nowait = false;
	/* off: not even the in-flight count is read */
	if (!may || !READ_ONCE(nowait) || !t->nowait || !ioband_bio_rw(bio) ||
	    (bio->bi_opf & (REQ_NOWAIT | REQ_INTEGRITY | REQ_POLLED)) ||
	    bio_sectors(bio) > READ_ONCE(t->dg->nowait_sectors) ||
	    !bdev_nowait(t->dev->bdev) || !ioband_fits(t->dev->bdev, bio))
		return;
	/*
	 * The owner's, for the resend: dm core gives the clone the original
	 * bio's blkcg only in dm_submit_bio_remap() (6.12), after this; the
	 * clone's own now is that of the task in map(), a flusher's for
	 * writeback.  Valid while the original bio is.
	 */
	css = ioband_owner_css(t->ti, t->md, bio);
	/*
	 * Last before the bio goes: others sent between this read and the
	 * disk make a refusal at a lower count than the tags'.
	 */
	n = atomic_read(&t->dg->inflight);
	if (n > READ_ONCE(t->dg->io_limit))
		return;
	pb->nowait = true;
	rec->css = css;
	if (css)
		css_get(css);
	rec->bdev = bio->bi_bdev;
	rec->flags = bio->bi_flags;
	rec->iter = bio->bi_iter;
	rec->remaining = atomic_read(&bio->__bi_remaining);
	rec->inflight = n;
	bio->bi_opf |= REQ_NOWAIT;
}

/*
 * Whether the refusal of @bio was made on it, not on a clone below it:
 * bio_wouldblock_error() marked it BIO_QUIET, which it was not when sent.
 */
static bool ioband_refused_here(const struct ioband_bio *pb, struct bio *bio)
{
	return bio_flagged(bio, BIO_QUIET) &&
	       !(pb->rec.flags & (1U << BIO_QUIET));
}

/* Raise *@p to @v, racing with others. */
static void ioband_raise(u32 *p, u32 v)
{
	u32 old = READ_ONCE(*p);

	while (v > old && !try_cmpxchg(p, &old, v))
		;
}

/* Lower *@p to @v, racing with others. */
static void ioband_lower(u32 *p, u32 v)
{
	u32 old = READ_ONCE(*p);

	while (v < old && !try_cmpxchg(p, &old, v))
		;
}

/* Lower @a, the fewest in flight at a refusal (0: none), to @n. */
static void ioband_refused_min(atomic_t *a, int n)
{
	int old = atomic_read(a);

	while (n && (!old || n < old) && !atomic_try_cmpxchg(a, &old, n))
		;
}

/*
 * Bios of @sectors and more go without REQ_NOWAIT for
 * IOBAND_NOWAIT_RETRY_NS (ioband_depth_period_end() lifts it): the disk
 * refuses them at any count in flight (ioband_nowait_period()).  Logged
 * once per device group.  depth_busy.
 */
static void ioband_nowait_cut(struct ioband_devgroup *dg, u32 sectors)
{
	if (sectors - 1 < READ_ONCE(dg->nowait_sectors))
		WRITE_ONCE(dg->nowait_sectors, sectors - 1);
	WRITE_ONCE(dg->nowait_cut_ns, ktime_get_ns());
	if (!dg->nowait_warned) {
		dg->nowait_warned = true;
		DMINFO("device group %s: the disk refused every bio of %u KiB or more sent with REQ_NOWAIT; if its limits are stricter than the device's below ioband (max_sectors_kb lowered after an LV was loaded), reload that device",
		       dg->name, sectors / 2);
	}
}

/*
 * End of a depth period: what the refusals of bios of more than a page
 * (ioband_resend()) were.  The disk refuses a REQ_NOWAIT bio for want of
 * a tag, or because it would have to split it, which it does the same way
 * at any count in flight.  ioband_fits() judges by the limits of the
 * device below ioband, and an LV keeps those it was loaded with: lower
 * the disk's max_sectors_kb after that, and bios the LV takes whole are
 * split below (96 KiB reads at QD2 on an LV over a 64-tag disk whose
 * max_sectors_kb went from 127 to 64 were refused at 1 or 2 in flight and
 * taught the automatic depth 1).  A want of tags, learned and counted as
 * the refusals of smaller bios, if the disk refused bios of a page too
 * this period (a fixed io_limit of 32 over 4 tags: QD32 writes of 4-64
 * KiB, nearly all refused, dm/014), or took a bio as large with REQ_NOWAIT this
 * period or the last (8-64 KiB reads at QD16 over 4 tags, the bound at
 * the tags: refused past them, dm/024), or none at as many in flight as
 * the fewest a refusal saw, of three or more (large bios only, at a fixed
 * io_limit far past the tags: every one sent past them refused, the
 * resent ones holding the tags).  Otherwise the disk refuses that size
 * where it has tags free: ioband_nowait_cut().  depth_busy.
 */
void ioband_nowait_period(struct ioband_devgroup *dg)
{
	u64 small = atomic64_read(&dg->refusals) - dg->refusals_snap;
	int nr = atomic_xchg(&dg->big_refusals, 0);
	int at = atomic_xchg(&dg->big_refused_at, 0);
	u32 sectors = xchg(&dg->big_refused_sectors, U32_MAX);
	u32 took = xchg(&dg->nowait_took, 0);
	u32 took_at = xchg(&dg->nowait_took_at, 0);
	u32 seen = max(took, dg->nowait_took_prev);

	dg->nowait_took_prev = took;
	/* a refusal between the exchanges: counted in the next period */
	if (!nr || !at || sectors == U32_MAX)
		return;
	if (small || seen >= sectors || (took_at < (u32)at && at > 2)) {
		ioband_refused_min(&dg->refused_at, at);
		atomic64_add(nr, &dg->refusals);
	} else {
		ioband_nowait_cut(dg, sectors);
	}
}

/*
 * The disk refused @bio, sent with REQ_NOWAIT by ioband: it stays in
 * flight, counted and charged, and goes again as it was sent (its blkcg
 * back in the work), without REQ_NOWAIT, from the dispatch work, which may
 * wait for a tag (alone: the submitters do not).  Its latency, from its
 * first dispatch, includes that wait.  For want of a tag (@tags:
 * BLK_STS_AGAIN), the fewest in flight when a refused bio was sent, in the
 * period, tells the depth controller the disk's tags (not the count at the
 * refusal: completions in between may have left their tags not yet
 * freed); not a bio refused because the device below stopped taking
 * REQ_NOWAIT since it was sent (BLK_STS_NOTSUPP), nor one the LV itself
 * refused (ioband_end_io()).  One of more than a page is judged at the
 * period's end (ioband_nowait_period()).  Any context (the submitter's,
 * the work's, an interrupt).
 */
static void ioband_resend(struct ioband_devgroup *dg, struct ioband_bio *pb,
			  struct bio *bio, bool tags)
{
	struct ioband_bio_rec *rec = &pb->rec;
	u32 sectors = rec->iter.bi_size >> SECTOR_SHIFT;
	unsigned long flags;

	if (tags && sectors > (PAGE_SIZE >> SECTOR_SHIFT)) {
		ioband_lower(&dg->big_refused_sectors, sectors);
		ioband_refused_min(&dg->big_refused_at, rec->inflight);
		atomic_inc(&dg->big_refusals);
	} else if (tags) {
		ioband_refused_min(&dg->refused_at, rec->inflight);
		atomic64_inc(&dg->refusals);
	}
	/*
	 * Only the flags that go with the iterator: BIO_CGROUP_ACCT,
	 * BIO_BPS_THROTTLED and the like stay, or the bio is counted twice
	 * (dm/030: io.stat of the cgroup 55 MiB for 32 written).
	 */
	bio->bi_flags = (bio->bi_flags & ~IOBAND_REC_FLAGS) |
			(rec->flags & IOBAND_REC_FLAGS);
	bio->bi_bdev = rec->bdev;
	bio->bi_iter = rec->iter;
	atomic_set(&bio->__bi_remaining, rec->remaining);
	bio->bi_opf &= ~REQ_NOWAIT;
	bio->bi_status = BLK_STS_OK;
	pb->nowait = false;
	/*
	 * Queued under qlock: once it is dropped the work may send the bio,
	 * it may complete, and the last member go (dg freed) before this CPU
	 * runs again; nothing here holds the device.
	 */
	spin_lock_irqsave(&dg->qlock, flags);
	bio_list_add(&dg->retry, bio);
	queue_work(ioband_wq, &dg->dispatch_work);
	spin_unlock_irqrestore(&dg->qlock, flags);
}

/*
 * A bio of @g goes to the disk: end_io will account for it, and the bio
 * holds a reference to @g until then.  Reads and writes are timed from
 * here (@now, the caller's clock) to end_io: the disk's latency, not the
 * time held in ioband (for the automatic depth, or with a fixed io_limit
 * for the grace and the slack alone).  @may_refuse: within the bound, the
 * disk below may refuse it (ioband_nowait()).
 */
static void ioband_issued(struct ioband_devgroup *dg, struct ioband_group *g,
			  struct ioband_bio *pb, struct bio *bio, u64 now,
			  bool may_refuse)
{
	refcount_inc(&g->ref);
	ioband_habit_issue(&g->habit, refcount_read(&g->ref) - 1);
	pb->g = g;
	pb->counted = true;
	pb->issued_ns = 0;
	ioband_nowait(g->t, pb, bio, may_refuse);
	if (ioband_bio_rw(bio)) {
		pb->issued_ns = now;
		pb->bucket = ioband_depth_bucket(bio_sectors(bio));
	}
}

/*
 * The reservers list and the backlog heap (think time, docs/scheduling.md).
 * All under qlock.
 */
void ioband_rsv_del(struct ioband_group *g)
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
void ioband_held_in(struct ioband_devgroup *dg, struct ioband_group *g,
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
void ioband_held_out(struct ioband_devgroup *dg, struct ioband_group *g)
{
	dg->heap_wsum -= g->held_weight;
	g->held_weight = 0;
	list_del_init(&g->fnode);
}

/* The group of the backlog heap's @i-th entity.  Under qlock. */
static struct ioband_group *ioband_backlog_group(struct ioband_devgroup *dg,
						 u32 i)
{
	return container_of(dg->wfq.heap[i], struct ioband_group, ent);
}

/*
 * A reservation set, or the range-bw policy chosen, while groups are in
 * the backlog: those with a reservation join dg->floors now, not at their
 * next activation (a deep group may never leave the backlog).  O(backlog),
 * at reconfiguration only.
 */
void ioband_floors_sync(struct ioband_devgroup *dg)
{
	u32 i;

	spin_lock_irq(&dg->qlock);
	for (i = 0; i < dg->wfq.nr; i++) {
		struct ioband_group *g = ioband_backlog_group(dg, i);

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
void ioband_unthrottle_one(struct ioband_devgroup *dg,
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
		} else {
			tag = ioband_group_wake(dg, g, tag);
			if (!any || (s64)(tag - first) < 0)
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

/* Whether @g's own cap held it within IOBAND_SOLO_NS: its timer paces it. */
static bool ioband_solo_capped(struct ioband_group *g, u64 now)
{
	return READ_ONCE(g->throttled) ||
	       (s64)(now - READ_ONCE(g->throttled_ns)) < (s64)IOBAND_SOLO_NS;
}

/*
 * A bio of @g is mapped: the solo spell goes on, or begins with @g (true
 * if it began).  Not a bio of a group its own cap held within
 * IOBAND_SOLO_NS: such a group waits for its timer, not for a slot (a
 * group capped at 1000 IOPS beside an uncapped one on a fast disk);
 * whenever its cap opens, it is in the backlog, the other is not alone
 * there, and the bound holds the other again.  (Not only while it is
 * held: between two holds its bios pass within its cap, and each such bio
 * ended the other's spell.)
 */
static bool ioband_solo_mapped(struct ioband_devgroup *dg,
			       struct ioband_group *g, u64 now)
{
	if (READ_ONCE(dg->solo) == g || ioband_solo_capped(g, now))
		return false;
	WRITE_ONCE(dg->solo_since, now);
	WRITE_ONCE(dg->solo, g);
	return true;
}

/*
 * Whether the lone group is alone in the backlog too: every other group
 * with bios held is one its cap paces.  If not, the first other begins a
 * spell of its own, as if it had mapped a bio now: its bios are there, on
 * a slow disk longer than it maps (a reservation of 10 IOPS, weight 100,
 * beside weight 800 on a 1-tag 40 ms disk was served past its slack
 * in 60 of 120 status reads while the other passed the bound).  Under
 * qlock, once per dispatch pass: groups join the backlog only under it.
 */
static bool ioband_solo_backlog(struct ioband_devgroup *dg, u64 now)
{
	u32 i;

	lockdep_assert_held(&dg->qlock);
	for (i = 0; i < dg->wfq.nr; i++)
		if (ioband_solo_mapped(dg, ioband_backlog_group(dg, i), now))
			return false;
	return true;
}

/*
 * One group alone: with the automatic depth (a hand-set io_limit is a
 * bound the operator asked for), one group has been the only one whose
 * bios were mapped for IOBAND_SOLO_NS, but for groups that their own cap
 * paces (ioband_solo_mapped()).  Nobody needs ordering then, and the
 * bound only costs: each held bio waits for the work item after the
 * completion that frees its slot, and the disk idles meanwhile (5% of a
 * 10 ms disk's throughput under emulation; on a fast disk most of a
 * capped group's neighbour's throughput).  While the spell lasts, bios
 * may pass the bound by dg->solo_extra (@inflight counts the bio itself):
 * what the disk completes in IOBAND_SOLO_QUEUE_NS, one on a 10 ms disk
 * (that one waits in the disk's own queue, its submitter in the tag wait
 * as under dm-linear, and takes the next free tag at once).  A capped
 * group's bio passes as well when its cap opens, by one more: the lone
 * group keeps its extra full, and a paced bio must not wait for one of
 * them to complete (its cap's slack is short: a 2000 IOPS burst beside a
 * QD32 group on a fast disk did 1807 IOPS without that one).  The first
 * bio of another group ends the spell; it waits behind at most that many
 * more.  So do the held bios of another (ioband_solo_backlog()): a group
 * backlogged behind the bound maps a bio only when one of its own
 * completes, more than IOBAND_SOLO_NS apart on a slow disk.
 * Such periods teach the depth controller nothing (the queue below is
 * ioband's doing): ioband_depth_period_end() drops them, and the bound
 * stays what it was; but not on an idle disk (no queue below), where the
 * controller lets a binding bound grow to the group's depth.  Not before
 * the controller's startup is over: the bound found then is the knee,
 * right when a second group comes (a bound frozen in startup, 1 or 2,
 * would cost it seconds).
 * @alone: NULL on the fast path (no bio is held but by capped groups),
 * else the dispatcher's answer of ioband_solo_backlog() for this pass (-1
 * until asked).
 */
static bool ioband_solo(struct ioband_devgroup *dg, struct ioband_group *g,
			u64 now, int inflight, int *alone)
{
	const void *solo = READ_ONCE(dg->solo);
	u32 limit = READ_ONCE(dg->io_limit);

	/* one more for a capped group: the lone one fills its extra */
	if (solo != g)
		limit++;
	if (READ_ONCE(dg->io_limit_cfg) || READ_ONCE(dg->depth.startup) ||
	    !solo ||
	    (s64)(now - READ_ONCE(dg->solo_since)) < (s64)IOBAND_SOLO_NS ||
	    inflight > limit + READ_ONCE(dg->solo_extra))
		return false;
	if (alone && *alone < 0)
		*alone = ioband_solo_backlog(dg, now);
	if (alone && !*alone)
		return false;
	if (!READ_ONCE(dg->solo_used))
		WRITE_ONCE(dg->solo_used, true);
	return true;
}

/*
 * The depth bound (with the slots kept for think time) is what holds a bio
 * back: the period binds.  Not a limit's or the device group's limit's
 * holds: while a cap paces the load, the work the controller sees is the
 * cap's, and taking that for the disk's walks the bound down to 1.
 */
static void ioband_depth_binds(struct ioband_devgroup *dg)
{
	if (!dg->depth_held)
		WRITE_ONCE(dg->depth_held, true);
}

/*
 * The dispatch work, woken by a completion at @kick (end_io: a slot freed
 * while bios were held), ran at @now and sent @sent held bios.  The slots
 * freed up to then waited (now - kick) x (sent + 1) / (2 x sent) on
 * average, spread evenly over that wait: the whole of it for one slot,
 * half for many.  Not the time the work item was still submitting its
 * last batch (dg->refill_ready_ns): below a bio-based device (an LV) a
 * bound past the disk's tags blocks it in their wait, which is the disk
 * being full, not a gap, and counting it would raise the bound further.
 * Under qlock.
 */
static void ioband_refilled(struct ioband_devgroup *dg, u64 kick, u64 now,
			    u32 sent)
{
	kick = max(kick, READ_ONCE(dg->refill_ready_ns));
	if (!sent || now <= kick)
		return;
	this_cpu_add(dg->dstat->gap_ns, (now - kick) * (sent + 1) / 2);
	this_cpu_add(dg->dstat->refills, sent);
}

/*
 * Dispatch held bios, smallest start tag first (reservations that are due
 * before that), while there is room in flight beside the slots reserved
 * for groups with think time; a group over its limit leaves the backlog
 * until the limit opens.  The bios go to @out, for the caller to submit
 * without qlock; returns how many.
 */
static u32 ioband_dispatch(struct ioband_devgroup *dg, struct bio_list *out)
{
	u64 now = ktime_get_ns();
	u32 limit = READ_ONCE(dg->io_limit);
	u32 rsv = U32_MAX;		/* not computed yet */
	int alone = -1;			/* likewise */
	struct ioband_entity *e;
	u32 sent = 0;

	lockdep_assert_held(&dg->qlock);

	if (!list_empty(&dg->throttled))
		ioband_unthrottle(dg, now);
	while ((e = ioband_wfq_first(&dg->wfq))) {
		struct ioband_group *g = container_of(e, struct ioband_group, ent);
		struct ioband_bio *pb;
		struct bio *bio;
		bool for_rsv;
		u64 cost;
		int n;

		n = atomic_read(&dg->inflight);
		/* one group alone, but for those their caps pace */
		if (n >= limit && !ioband_solo(dg, g, now, n + 1, &alone)) {
			ioband_depth_binds(dg);
			break;
		}
		/* The device group's own limit: all wait for it. */
		if (!ioband_dg_open(dg, now)) {
			ioband_dg_holding(dg, now, true);
			ioband_dispatch_at(dg, ioband_limit_wake(
				READ_ONCE(dg->cap.lim), ioband_dg_opens(dg),
				bio_list_peek(&g->queue),
				max(ioband_held_eligible(dg), 0)));
			break;
		}
		ioband_dg_holding(dg, now, false);
		/*
		 * Again only when a group joined the reservers: the head's tag
		 * only grows, lagging groups stay so.
		 */
		if (rsv == U32_MAX)
			rsv = ioband_reserved(dg, now, e->vtime);
		if (rsv && atomic_read(&dg->inflight) + rsv >= limit) {
			ioband_depth_binds(dg);
			ioband_dispatch_at(dg, now + READ_ONCE(dg->grace_ns) / 2);
			break;
		}
		g = ioband_pick(dg, now, g, &for_rsv);
		e = &g->ent;
		bio = bio_list_peek(&g->queue);
		pb = dm_per_bio_data(bio, sizeof(*pb));
		cost = ioband_bio_cost(dg, bio);
		if (!ioband_limit_take(dg, g, now, pb->queued_ns, bio, false)) {
			/*
			 * The device group's limit closed since the check
			 * above (a bio through map() took it): the loop's top
			 * holds all for it; g's own limit may be open.
			 */
			if (!ioband_dg_open(dg, now))
				continue;
			ioband_throttle(dg, g, now);
			ioband_dispatch_at(dg, ioband_group_wake(dg, g,
					ioband_limit_opens(dg, g)));
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

		ioband_issued(dg, g, pb, bio, now, true);
		this_cpu_add(g->stats->wait_ns, now - pb->queued_ns);
		bio_list_add(out, bio);
		sent++;
	}
	if (!e)			/* the backlog is empty: nothing held back */
		ioband_dg_holding(dg, now, false);
	return sent;
}

void ioband_submit_list(struct bio_list *list)
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

void ioband_dispatch_work(struct work_struct *ws)
{
	struct ioband_devgroup *dg =
		container_of(ws, struct ioband_devgroup, dispatch_work);
	struct bio_list list = BIO_EMPTY_LIST, retry;
	u64 kick = atomic64_xchg(&dg->kick_ns, 0);
	u64 now = ktime_get_ns();
	struct bio *bio;
	u32 sent;

	spin_lock_irq(&dg->qlock);
	retry = dg->retry;
	bio_list_init(&dg->retry);
	sent = ioband_dispatch(dg, &list);
	if (kick)
		ioband_refilled(dg, kick, now, sent);
	spin_unlock_irq(&dg->qlock);
	/*
	 * Refused ones first: they were sent before (ioband_resend()).
	 * Their blkcg again here, in process context: a blkg lookup may
	 * create one.
	 */
	while ((bio = bio_list_pop(&retry))) {
		struct ioband_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

		if (pb->rec.css) {
			bio_associate_blkg_from_css(bio, pb->rec.css);
			css_put(pb->rec.css);
		}
		submit_bio_noacct(bio);
	}
	if (!bio_list_empty(&list)) {
		ioband_submit_list(&list);
		WRITE_ONCE(dg->refill_ready_ns, ktime_get_ns());
	}
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

int ioband_map(struct dm_target *ti, struct bio *bio)
{
	struct ioband_target *t = ti->private;
	struct ioband_devgroup *dg = t->dg;
	struct ioband_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct bio_list list = BIO_EMPTY_LIST;
	unsigned int sectors = bio_sectors(bio);
	int dir = bio_data_dir(bio);
	struct ioband_group *g;
	unsigned long flags;
	bool may_refuse = false;	/* sent past the bound: not */
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
	ioband_solo_mapped(dg, g, now);
	cost = ioband_bio_cost(dg, bio);

	/* Urgent: past its limit too, which it pays for later. */
	if (bio->bi_opf & IOBAND_REQ_URGENT) {
		atomic_inc(&dg->inflight);
		ioband_limit_take(dg, g, now, now, bio, true);
		goto issue;
	}

	/*
	 * Fast path: nothing held but by groups over their limit, room in
	 * flight, within its own limit.  Not for a group over its limit
	 * with bios held: its tag opens before the wake that sends them
	 * (ioband_limit_wake(), a batch later), and a bio of its own arriving
	 * in between would pass them, again and again under a steady stream.
	 */
	if ((!ioband_held_eligible(dg) && !READ_ONCE(g->nr_queued)) ||
	    READ_ONCE(t->draining)) {
		bool drain = READ_ONCE(t->draining);
		int n = atomic_inc_return(&dg->inflight);

		may_refuse = !drain;
		if ((n <= READ_ONCE(dg->io_limit) || drain ||
		     ioband_solo(dg, g, now, n, NULL)) &&
		    ioband_limit_take(dg, g, now, now, bio, drain))
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
		may_refuse = false;
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
	ioband_issued(dg, g, pb, bio, now, may_refuse);
	rcu_read_unlock();
	return DM_MAPIO_REMAPPED;
}

/*
 * The disk took a bio of @sectors sent with REQ_NOWAIT at @n in flight:
 * the largest of each, for ioband_nowait_period().
 */
static void ioband_nowait_took(struct ioband_devgroup *dg, u32 sectors, int n)
{
	ioband_raise(&dg->nowait_took, sectors);
	ioband_raise(&dg->nowait_took_at, n);
}

int ioband_end_io(struct dm_target *ti, struct bio *bio,
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
	if (pb->nowait) {
		/*
		 * No tag free, or REQ_NOWAIT no longer taken below (a reload
		 * there; a read or write the device really does not take
		 * fails again without the flag).  A want of tags is refused
		 * at the disk, on the LV's clone; a refusal made on this bio
		 * itself (BIO_QUIET: bio_wouldblock_error()) is the LV's own:
		 * suspended (lvextend, a snapshot), its queue frozen.  Those
		 * say nothing of the disk's tags (a suspend of 0.3 s under
		 * two QD16 readers taught 1, for 4 s).
		 */
		if (unlikely(*error == BLK_STS_AGAIN ||
			     *error == BLK_STS_NOTSUPP)) {
			ioband_resend(dg, pb, bio,
				      *error == BLK_STS_AGAIN &&
				      !ioband_refused_here(pb, bio));
			return DM_ENDIO_INCOMPLETE;
		}
		if (pb->rec.css)
			css_put(pb->rec.css);
		ioband_nowait_took(dg, pb->rec.iter.bi_size >> SECTOR_SHIFT,
				   pb->rec.inflight);
	}
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
	if (ioband_held_eligible(dg) && left <= ioband_low_water(dg)) {
		/* the freed slots wait for the work from now (refilled()) */
		if (!READ_ONCE(dg->io_limit_cfg) &&
		    !atomic64_read(&dg->kick_ns))
			atomic64_cmpxchg(&dg->kick_ns, 0, now);
		queue_work(ioband_wq, &dg->dispatch_work);
	}
	return DM_ENDIO_DONE;
}

bool ioband_entity_of(struct ioband_entity *e, const void *t)
{
	return container_of(e, struct ioband_group, ent)->t == t;
}

/* Send all of @g's held bios to @list, past its limit.  Under qlock. */
void ioband_release_held(struct ioband_devgroup *dg,
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
		ioband_issued(dg, g, pb, bio, now, false);
		this_cpu_add(g->stats->wait_ns, now - pb->queued_ns);
		bio_list_add(list, bio);
	}
	WRITE_ONCE(g->nr_queued, 0);
}
