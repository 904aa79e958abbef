// SPDX-License-Identifier: GPL-2.0
/*
 * ioband-owner.c - the blkcg that owns a bio mapped by an ioband target.
 *
 * dm core (drivers/md/dm.c, alloc_io()/alloc_tio()) clones every bio with
 * bio_alloc_clone(NULL, ...): the clone has no blkg when the target's map()
 * runs, and bio_set_dev() then associates the *submitting task's* cgroup
 * (for writeback, the flusher's: the root).  dm core copies the original
 * bio's association only in dm_submit_bio_remap(), after map().  The owner
 * the kernel recorded (wbc_init_bio() for writeback, the submitter for
 * direct I/O) is on the original bio: io->orig_bio of the clone's struct
 * dm_io.  Nothing exported returns it, so this file mirrors the part of
 * dm core's private layout (drivers/md/dm-core.h) that leads to it.
 *
 * The layout was read from Debian's linux-source-6.1 (6.1.x) and
 * linux-source-6.12 (6.12.x); it is the same in both.  It is never
 * trusted blindly: every bio is checked against what dm core exports
 * (dm_per_bio_data() finds the start of the tio or dm_io with the kernel's
 * own offsets, dm_bio_get_target_bio_nr() reads target_bio_nr, and
 * dm_start_time_ns_from_clone() reads io->start_time), both magic numbers,
 * tio->ti against the target being mapped, io->md against the target's
 * mapped device, and that the original bio was submitted to that device.
 * On any mismatch ioband_owner_css() falls back to the clone's own blkcg
 * (the submitting task's: the behaviour before this file existed) and says
 * so once per reason in the kernel log.
 */
#include <linux/device-mapper.h>
#include <linux/blkdev.h>
#include <linux/blk-cgroup.h>
#include <linux/bio.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "ioband-owner.h"

#define DM_MSG_PREFIX "ioband"

/* Defined by Kbuild for the kernel versions whose dm core was read. */
#ifdef IOBAND_OWNER_LAYOUT

/* drivers/md/dm-core.h, 6.1 and 6.12: DM_TIO_MAGIC, DM_IO_MAGIC. */
#define IOBAND_DM_TIO_MAGIC 28714
#define IOBAND_DM_IO_MAGIC 19577
#define IOBAND_DM_TIO_INSIDE_DM_IO 0	/* enum bit DM_TIO_INSIDE_DM_IO */

/* drivers/md/dm-core.h: struct dm_target_io. */
struct ioband_dm_tio {
	unsigned short magic;
	blk_short_t flags;
	unsigned int target_bio_nr;
	struct ioband_dm_io *io;
	struct dm_target *ti;
	unsigned int *len_ptr;
	sector_t old_sector;
	struct bio clone;
};

/* drivers/md/dm-stats.h: struct dm_stats_aux. */
struct ioband_dm_stats_aux {
	bool merged;
	unsigned long long duration_ns;
};

/* drivers/md/dm-core.h: struct dm_io, up to and including tio. */
struct ioband_dm_io {
	unsigned short magic;
	blk_short_t flags;
	spinlock_t lock;
	unsigned long start_time;
	void *data;
	struct ioband_dm_io *next;
	struct ioband_dm_stats_aux stats_aux;
	blk_status_t status;
	atomic_t io_count;
	struct mapped_device *md;
	struct bio *orig_bio;
	unsigned int sector_offset;
	unsigned int sectors;
	struct ioband_dm_tio tio;
};

#define IOBAND_TIO_BIO_OFFSET offsetof(struct ioband_dm_tio, clone)
#define IOBAND_IO_BIO_OFFSET \
	(offsetof(struct ioband_dm_io, tio) + IOBAND_TIO_BIO_OFFSET)
#endif

enum ioband_owner_fail {
	IOBAND_OWNER_VERSION,
	IOBAND_OWNER_OFFSET,
	IOBAND_OWNER_TIO,
	IOBAND_OWNER_IO,
	IOBAND_OWNER_ORIG,
	IOBAND_OWNER_NR
};

static const char * const ioband_owner_reason[IOBAND_OWNER_NR] = {
	[IOBAND_OWNER_VERSION] = "dm core's layout is not known for this kernel version",
	[IOBAND_OWNER_OFFSET] = "the clone's offset in dm core's tio/dm_io does not match",
	[IOBAND_OWNER_TIO] = "the clone's dm_target_io does not match (magic, target_bio_nr or target)",
	[IOBAND_OWNER_IO] = "the clone's dm_io does not match (magic, start time or device)",
	[IOBAND_OWNER_ORIG] = "the original bio is not one submitted to this device",
};

static unsigned long ioband_owner_warned;

static struct cgroup_subsys_state *ioband_owner_fallback(struct bio *clone,
							 enum ioband_owner_fail why)
{
	if (!test_and_set_bit(why, &ioband_owner_warned))
		DMWARN("cgroup owner of dm clones: %s; classifying by the submitting task's cgroup instead (writeback is then charged to the flusher)",
		       ioband_owner_reason[why]);
	return bio_blkcg_css(clone);
}

/*
 * The blkcg css that owns @clone, the bio dm core passed to @ti's map():
 * its original bio's (guarded, see above), else the clone's own.
 */
struct cgroup_subsys_state *ioband_owner_css(struct dm_target *ti,
					     struct mapped_device *md,
					     struct bio *clone)
{
#ifdef IOBAND_OWNER_LAYOUT
	char *start = dm_per_bio_data(clone, 0);
	size_t off = (char *)clone - start;
	struct ioband_dm_tio *tio;
	struct ioband_dm_io *io;
	struct bio *orig;

	if (off != IOBAND_TIO_BIO_OFFSET && off != IOBAND_IO_BIO_OFFSET)
		return ioband_owner_fallback(clone, IOBAND_OWNER_OFFSET);
	tio = container_of(clone, struct ioband_dm_tio, clone);
	if (tio->magic != IOBAND_DM_TIO_MAGIC ||
	    !!(tio->flags & (1U << IOBAND_DM_TIO_INSIDE_DM_IO)) !=
	    (off == IOBAND_IO_BIO_OFFSET) ||
	    tio->target_bio_nr != dm_bio_get_target_bio_nr(clone) ||
	    tio->ti != ti || !tio->io)
		return ioband_owner_fallback(clone, IOBAND_OWNER_TIO);
	io = tio->io;
	if (off == IOBAND_IO_BIO_OFFSET && io != (struct ioband_dm_io *)start)
		return ioband_owner_fallback(clone, IOBAND_OWNER_TIO);
	if (io->magic != IOBAND_DM_IO_MAGIC || io->md != md ||
	    jiffies_to_nsecs(io->start_time) != dm_start_time_ns_from_clone(clone))
		return ioband_owner_fallback(clone, IOBAND_OWNER_IO);
	orig = io->orig_bio;
	if (!orig || !orig->bi_bdev || orig->bi_bdev->bd_disk != dm_disk(md))
		return ioband_owner_fallback(clone, IOBAND_OWNER_ORIG);
	return bio_blkcg_css(orig);
#else
	return ioband_owner_fallback(clone, IOBAND_OWNER_VERSION);
#endif
}

/*
 * uid/gid/pid/pgrp classify by current.  dm core maps some bios in its own
 * worker (the data part of a PREFLUSH write, bios deferred while the device
 * was suspended) and writeback arrives from flusher threads: the task that
 * owns those is not known, and a kernel thread's uid 0 is not its owner.
 */
bool ioband_owner_is_kthread(void)
{
	return !!(current->flags & PF_KTHREAD);
}
