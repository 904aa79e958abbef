// SPDX-License-Identifier: GPL-2.0
/*
 * dm.c - the real backend: device-mapper through libdevmapper, cgroups
 * through libcgroup.  Following dmsetup: one task per operation, every
 * setter checked, udev cookies on the tasks that generate uevents (create
 * with a table, resume, remove) and dm_udev_wait() on the way out.  libdm
 * returns 1 for success; this file converts to 0 / -errno.
 */
#include "backend.h"
#include "util.h"

#include <errno.h>
#include <libcgroup.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

static bool dm_ready;

/* libdm's log levels (lib/log/log.h; not in the public header). */
#define DMLOG_WARN	4
#define DMLOG_FLAGS	(128 | 256)	/* _LOG_STDERR | _LOG_ONCE */

/* libdm's own messages go through our logger (debug ones only with -vv). */
static void dm_log(int level, const char *file, int line, int dm_errno_or_class,
		   const char *f, ...) PRINTF(5, 6);
static void dm_log(int level, const char *file, int line, int dm_errno_or_class,
		   const char *f, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno_or_class;
	level &= ~DMLOG_FLAGS;
	if (level > DMLOG_WARN && verbose < 2)
		return;
	va_start(ap, f);
	fprintf(stderr, "%s: libdevmapper: ", progname);
	vfprintf(stderr, f, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void dm_setup(void)
{
	const char *e = getenv("DM_DISABLE_UDEV");

	if (dm_ready)
		return;
	dm_ready = true;
	dm_log_with_errno_init(dm_log);
	/* No udev (a minimal VM, a container): let libdm create the nodes. */
	if ((e && *e && strcmp(e, "0")) || access("/run/udev/control", F_OK))
		dm_udev_set_sync_support(0);
}

static int task_err(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);

	return e > 0 ? -e : -EIO;
}

static struct dm_task *task_new(int type, const char *name)
{
	struct dm_task *dmt;

	dm_setup();
	dmt = dm_task_create(type);
	if (!dmt)
		return NULL;
	if (name && !dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

static int add_targets(struct dm_task *dmt, const struct dm_tline *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!dm_task_add_target(dmt, t[i].start, t[i].len, t[i].type, t[i].params))
			return -ENOMEM;
	return 0;
}

/* Fill dev from a DM_DEVICE_TABLE task that ran. */
static int fill_dev(struct dm_task *dmt, const char *name, struct dm_dev *d)
{
	struct dm_info info;
	void *next = NULL;
	const char *uuid;

	memset(d, 0, sizeof(*d));
	if (!dm_task_get_info(dmt, &info))
		return -EIO;
	if (!info.exists)
		return -ENODEV;
	d->name = xstrdup(name);
	uuid = dm_task_get_uuid(dmt);
	d->uuid = xstrdup(uuid ? uuid : "");
	d->major = info.major;
	d->minor = info.minor;
	d->open_count = info.open_count;
	d->suspended = info.suspended;
	d->inactive_table = info.inactive_table;
	if (!info.live_table)
		return 0;
	do {
		uint64_t start, len;
		char *type = NULL, *params = NULL;
		struct dm_tline *tl;

		next = dm_get_next_target(dmt, next, &start, &len, &type, &params);
		if (!type)
			break;
		tl = vec_push(&d->t, &d->nt, sizeof(*tl));
		tl->start = start;
		tl->len = len;
		tl->type = xstrdup(type);
		tl->params = xstrdup(params ? params : "");
	} while (next);
	return 0;
}

static int dmb_get(const char *name, struct dm_dev *d)
{
	struct dm_task *dmt = task_new(DM_DEVICE_TABLE, name);
	int r;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		r = task_err(dmt);
		if (r == -ENXIO)
			r = -ENODEV;
	} else {
		r = fill_dev(dmt, name, d);
	}
	dm_task_destroy(dmt);
	return r;
}

static int dmb_list(struct dm_dev **devs, size_t *n)
{
	struct dm_task *dmt = task_new(DM_DEVICE_LIST, NULL);
	struct dm_names *names;
	unsigned int next = 0;
	int r = 0;

	*devs = NULL;
	*n = 0;
	if (!dmt) {
		/* dm_task_create() fails when the driver is missing. */
		msg_err("cannot use device-mapper (is dm-mod loaded? are you root?)");
		return -ENODEV;
	}
	if (!dm_task_run(dmt)) {
		r = task_err(dmt);
		msg_err("cannot list device-mapper devices: %s (is dm-mod loaded?)", strerror(-r));
		goto out;
	}
	names = dm_task_get_names(dmt);
	if (!names || !names->dev)
		goto out;
	do {
		struct dm_dev d;

		names = (struct dm_names *)((char *)names + next);
		/* A device removed meanwhile is simply not listed. */
		if (!dmb_get(names->name, &d))
			*(struct dm_dev *)vec_push(devs, n, sizeof(d)) = d;
		next = names->next;
	} while (next);
out:
	dm_task_destroy(dmt);
	return r;
}

static int dmb_status(const char *name, char **params)
{
	struct dm_task *dmt = task_new(DM_DEVICE_STATUS, name);
	uint64_t start, len;
	char *type = NULL, *p = NULL;
	int r = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		r = task_err(dmt);
		msg_err("%s: status: %s", quote_if_needed(name), strerror(-r));
	} else {
		dm_get_next_target(dmt, NULL, &start, &len, &type, &p);
		if (!type) {
			msg_err("%s: has no table", quote_if_needed(name));
			r = -ENODATA;
		} else {
			*params = xstrdup(p ? p : "");
		}
	}
	dm_task_destroy(dmt);
	return r;
}

/* Run a task that generates uevents, with a udev cookie. */
static int run_udev(struct dm_task *dmt, const char *what, const char *name)
{
	uint32_t cookie = 0;
	uint16_t flags = DM_UDEV_DISABLE_LIBRARY_FALLBACK;
	int r = 0;

	if (!dm_udev_get_sync_support())
		flags = 0;
	if (!dm_task_set_cookie(dmt, &cookie, flags)) {
		r = -EIO;
	} else if (!dm_task_run(dmt)) {
		r = task_err(dmt);
	}
	(void)dm_udev_wait(cookie);
	if (r)
		msg_err("%s %s: %s", what, quote_if_needed(name), strerror(-r));
	return r;
}

static int dmb_create(const char *name, const char *uuid, const struct dm_tline *t, size_t n)
{
	struct dm_task *dmt = task_new(DM_DEVICE_CREATE, name);
	int r;

	if (!dmt)
		return -ENOMEM;
	r = add_targets(dmt, t, n);
	if (!r && uuid && *uuid && !dm_task_set_uuid(dmt, uuid))
		r = -EINVAL;
	if (!r)
		r = run_udev(dmt, "create", name);
	dm_task_destroy(dmt);
	return r;
}

static int run_simple(int type, const char *name, const char *what,
		      const struct dm_tline *t, size_t n)
{
	struct dm_task *dmt = task_new(type, name);
	int r = 0;

	if (!dmt)
		return -ENOMEM;
	if (t)
		r = add_targets(dmt, t, n);
	if (r)
		goto out;
	if (type == DM_DEVICE_RESUME || type == DM_DEVICE_REMOVE) {
		if (type == DM_DEVICE_REMOVE)
			(void)dm_task_retry_remove(dmt);	/* udev may hold it open briefly */
		r = run_udev(dmt, what, name);
	} else if (!dm_task_run(dmt)) {
		r = task_err(dmt);
		msg_err("%s %s: %s", what, quote_if_needed(name), strerror(-r));
	}
out:
	dm_task_destroy(dmt);
	return r;
}

static int dmb_reload(const char *name, const struct dm_tline *t, size_t n)
{
	return run_simple(DM_DEVICE_RELOAD, name, "reload", t, n);
}

static int dmb_suspend(const char *name)
{
	return run_simple(DM_DEVICE_SUSPEND, name, "suspend", NULL, 0);
}

static int dmb_resume(const char *name)
{
	return run_simple(DM_DEVICE_RESUME, name, "resume", NULL, 0);
}

static int dmb_clear(const char *name)
{
	return run_simple(DM_DEVICE_CLEAR, name, "clear", NULL, 0);
}

static int dmb_remove(const char *name)
{
	return run_simple(DM_DEVICE_REMOVE, name, "remove", NULL, 0);
}

static int dmb_message(const char *name, const char *msg, char **reply)
{
	struct dm_task *dmt = task_new(DM_DEVICE_TARGET_MSG, name);
	const char *resp;
	int r = 0;

	if (reply)
		*reply = NULL;
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg)) {
		r = -ENOMEM;
	} else if (!dm_task_run(dmt)) {
		r = task_err(dmt);
		msg_err("%s: message %s: %s", quote_if_needed(name), quote(msg), strerror(-r));
	} else if (reply) {
		resp = dm_task_get_message_response(dmt);
		*reply = xstrdup(resp ? resp : "");
	}
	dm_task_destroy(dmt);
	return r;
}

static int dmb_resolve(const char *path, unsigned int *maj, unsigned int *min, uint64_t *sectors)
{
	unsigned int a, b;
	char *p = NULL, c;
	struct stat st;
	uint64_t bytes = 0;
	int fd, r = 0;

	if (sscanf(path, "%u:%u%c", &a, &b, &c) == 2) {
		p = xasprintf("/sys/dev/block/%u:%u", a, b);
		if (stat(p, &st)) {
			r = -ENODEV;
			goto out;
		}
		free(p);
		p = xasprintf("/dev/block/%u:%u", a, b);
	} else {
		p = xstrdup(path);
	}
	if (stat(p, &st)) {
		r = -errno;
		goto out;
	}
	if (!S_ISBLK(st.st_mode)) {
		r = -ENOTBLK;
		goto out;
	}
	*maj = major(st.st_rdev);
	*min = minor(st.st_rdev);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes))
		r = -errno;
	if (fd >= 0)
		close(fd);
	*sectors = bytes >> 9;
out:
	free(p);
	return r;
}

static int cg_ready(void)
{
	static int ready = 1;

	if (ready == 1) {
		ready = cgroup_init();
		if (ready)
			msg_err("libcgroup: %s", cgroup_strerror(ready));
	}
	return ready ? -ENOSYS : 0;
}

static int dmb_cgroup_create(const char *path)
{
	char *rel = cgroup_rel_path(path);
	struct cgroup *cg = NULL;
	int r;

	r = cg_ready();
	if (r)
		goto out;
	cg = cgroup_new_cgroup(rel);
	if (!cg) {
		r = -ENOMEM;
		goto out;
	}
	/* The io controller must be on for the group's bios to carry it. */
	if (!cgroup_add_controller(cg, "io")) {
		msg_err("cgroup %s: cannot add the io controller", quote_if_needed(rel));
		r = -EINVAL;
		goto out;
	}
	r = cgroup_create_cgroup(cg, 0);
	if (r) {
		msg_err("cgroup create %s: %s", quote_if_needed(rel), cgroup_strerror(r));
		r = -EIO;
	}
out:
	if (cg)
		cgroup_free(&cg);
	free(rel);
	return r;
}

static int dmb_cgroup_move(const char *path, const int *pids, size_t n)
{
	char *rel = cgroup_rel_path(path);
	struct cgroup *cg = NULL;
	size_t i;
	int r;

	r = cg_ready();
	if (r)
		goto out;
	cg = cgroup_new_cgroup(rel);
	if (!cg || !cgroup_add_controller(cg, "io")) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		int e = cgroup_attach_task_pid(cg, pids[i]);

		if (e) {
			msg_err("cgroup %s: moving pid %d: %s", quote_if_needed(rel), pids[i], cgroup_strerror(e));
			r = -EIO;
		}
	}
out:
	if (cg)
		cgroup_free(&cg);
	free(rel);
	return r;
}

static void dmb_done(void)
{
	if (dm_ready)
		dm_lib_release();
}

const struct backend_ops dm_backend = {
	.name = "libdevmapper",
	.list = dmb_list,
	.get = dmb_get,
	.status = dmb_status,
	.create = dmb_create,
	.reload = dmb_reload,
	.suspend = dmb_suspend,
	.resume = dmb_resume,
	.clear = dmb_clear,
	.remove = dmb_remove,
	.message = dmb_message,
	.resolve = dmb_resolve,
	.cgroup_create = dmb_cgroup_create,
	.cgroup_move = dmb_cgroup_move,
	.done = dmb_done,
};
