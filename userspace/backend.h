/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - everything iobandctl does to the system goes through here.
 *
 * The real backend (dm.c) uses libdevmapper and libcgroup; the fake backend
 * (fake.c, test builds only) keeps device-mapper state in a JSON file so
 * that the planner, executor and CLI run unprivileged on any host.
 *
 * Conventions: 0 on success, -errno on failure (libdm's 1/0 is converted
 * in dm.c); errors are reported by the backend itself.
 */
#ifndef IOBAND_BACKEND_H
#define IOBAND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dm_tline {
	uint64_t start, len;
	char *type;
	char *params;
};

struct dm_dev {
	char *name;
	char *uuid;			/* "" when none */
	unsigned int major, minor;
	int open_count;
	bool suspended;
	bool inactive_table;		/* a reloaded table is waiting */
	struct dm_tline *t;		/* live table */
	size_t nt;
};

struct backend_ops {
	const char *name;
	/* All device-mapper devices, with their live tables. */
	int (*list)(struct dm_dev **devs, size_t *n);
	/* One device; -ENODEV when it does not exist. */
	int (*get)(const char *name, struct dm_dev *dev);
	/* STATUSTYPE_INFO params of the first target. */
	int (*status)(const char *name, char **params);
	int (*create)(const char *name, const char *uuid, const struct dm_tline *t, size_t n);
	int (*reload)(const char *name, const struct dm_tline *t, size_t n);
	int (*suspend)(const char *name);
	int (*resume)(const char *name);
	int (*clear)(const char *name);		/* drop the inactive table */
	int (*remove)(const char *name);
	int (*message)(const char *name, const char *msg, char **reply);
	/* A block device path (or maj:min) to its number and size in sectors. */
	int (*resolve)(const char *path, unsigned int *major, unsigned int *minor,
		       uint64_t *sectors);
	/* cgroup v2: create PATH (relative to the cgroup root), move PIDs in. */
	int (*cgroup_create)(const char *path);
	int (*cgroup_move)(const char *path, const int *pids, size_t n);
	void (*done)(void);	/* flush (fake: save) and release */
};

extern const struct backend_ops *be;
extern const struct backend_ops dm_backend;
extern const struct backend_ops fake_backend;
/* Set by the build: the real or the fake backend. */
const struct backend_ops *backend_default(void);

/*
 * Mutating wrappers used by the commands: they log with -v, and honour
 * IOBAND_FAIL_AT=N (the Nth mutating call fails with EIO; for tests of
 * rollback, documented in iobandctl(8)).
 */
int bk_create(const char *name, const char *uuid, const struct dm_tline *t, size_t n);
int bk_reload(const char *name, const struct dm_tline *t, size_t n);
int bk_suspend(const char *name);
int bk_resume(const char *name);
int bk_remove(const char *name);
int bk_message(const char *name, const char *msg, char **reply);
int bk_cgroup_create(const char *path);
int bk_fail_point(const char *what);	/* for non-dm actions (tc) */
void bk_fail_reset(void);
/* Successful mutating calls so far (to tell "nothing changed" apart). */
extern unsigned long bk_changes;

void dm_dev_free(struct dm_dev *d);
void dm_devs_free(struct dm_dev *d, size_t n);
void dm_tlines_free(struct dm_tline *t, size_t n);
void dm_tlines_copy(struct dm_tline **dst, size_t *nd, const struct dm_tline *src, size_t n);
uint64_t dm_tlines_size(const struct dm_tline *t, size_t n);

/* The cgroup v2 mount (env IOBAND_CGROUP_ROOT overrides; default from
 * /proc/self/mounts, else /sys/fs/cgroup). */
const char *cgroup_root(void);
/* PATH (absolute under the root, or relative to it) to a directory path. */
char *cgroup_fs_path(const char *path);
/* Relative path ("machine.slice/x") for libcgroup. */
char *cgroup_rel_path(const char *path);
/* The cgroup v2 id of PATH (inode number of its directory); -errno. */
int cgroup_id(const char *path, uint64_t *id);

#endif
