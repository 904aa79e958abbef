// SPDX-License-Identifier: GPL-2.0
/*
 * metabio: a test-only module for tests/dm/011.  On load it reads @nr
 * 4 KiB blocks of @dev one after another, with REQ_META | REQ_PRIO when
 * @meta is set, logs how long they took on average and fails to load
 * (-ECANCELED), so nothing stays.  It stands for what a filesystem does
 * with its metadata (an inode table block, a journal commit) while a
 * guest's backlog is held in ioband below.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/module.h>

static char *dev;
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "block device to read");
static unsigned int nr = 5;
module_param(nr, uint, 0444);
MODULE_PARM_DESC(nr, "reads to time");
static bool meta;
module_param(meta, bool, 0444);
MODULE_PARM_DESC(meta, "mark the reads REQ_META | REQ_PRIO");

static int metabio_read(struct block_device *bdev, struct page *page,
			unsigned int i)
{
	blk_opf_t opf = REQ_OP_READ | (meta ? REQ_META | REQ_PRIO : 0);
	struct bio *bio = bio_alloc(bdev, 1, opf, GFP_KERNEL);
	int r;

	bio->bi_iter.bi_sector = (sector_t)i * 8;
	__bio_add_page(bio, page, PAGE_SIZE, 0);
	r = submit_bio_wait(bio);
	bio_put(bio);
	return r;
}

static int metabio_run(struct block_device *bdev)
{
	struct page *page = alloc_page(GFP_KERNEL);
	u64 t0 = ktime_get_ns();
	unsigned int i;
	int r = 0;

	if (!page)
		return -ENOMEM;
	for (i = 0; i < nr && !r; i++)
		r = metabio_read(bdev, page, i);
	if (!r)
		pr_info("metabio: %u %s reads of %s: %llu us each\n", nr,
			meta ? "REQ_META" : "plain", dev,
			div_u64(ktime_get_ns() - t0, nr * NSEC_PER_USEC));
	__free_page(page);
	return r;
}

static int __init metabio_init(void)
{
#ifdef METABIO_BLKDEV_GET
	struct block_device *bdev;
#else
	struct file *f;
#endif
	int r;

	if (!dev || !nr)
		return -EINVAL;
#ifdef METABIO_BLKDEV_GET
	bdev = blkdev_get_by_path(dev, FMODE_READ, NULL);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	r = metabio_run(bdev);
	blkdev_put(bdev, FMODE_READ);
#else
	f = bdev_file_open_by_path(dev, BLK_OPEN_READ, NULL, NULL);
	if (IS_ERR(f))
		return PTR_ERR(f);
	r = metabio_run(file_bdev(f));
	fput(f);
#endif
	return r ? r : -ECANCELED;
}
module_init(metabio_init);

MODULE_DESCRIPTION("ioband test fixture: timed reads, with or without REQ_META");
MODULE_LICENSE("GPL");
