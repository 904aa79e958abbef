/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioband-owner.h - who owns a bio that dm core hands to map().
 *
 * dm core clones each bio without a block device (bio_alloc_clone(NULL)),
 * so the clone carries no blkcg when map() runs; the owner the kernel
 * recorded is on the original bio.  See ioband-owner.c.
 */
#ifndef IOBAND_OWNER_H
#define IOBAND_OWNER_H

struct bio;
struct dm_target;
struct mapped_device;
struct cgroup_subsys_state;

struct cgroup_subsys_state *ioband_owner_css(struct dm_target *ti,
					     struct mapped_device *md,
					     struct bio *clone);
bool ioband_owner_is_kthread(void);

#endif /* IOBAND_OWNER_H */
