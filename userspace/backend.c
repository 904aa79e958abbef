// SPDX-License-Identifier: GPL-2.0
/*
 * backend.c - the backend-independent part: logging and failure-injection
 * wrappers around the mutating operations, and cgroup v2 paths and ids.
 */
#include "backend.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct backend_ops *be;

static long calls;
unsigned long bk_changes;

void bk_fail_reset(void)
{
	calls = 0;
}

int bk_fail_point(const char *what)
{
	const char *e = getenv("IOBAND_FAIL_AT");
	uint64_t at = 0;

	calls++;
	if (e && !parse_u64(e, &at) && at && (uint64_t)calls == at) {
		msg_err("%s: injected failure (IOBAND_FAIL_AT=%s)", what, e);
		return -EIO;
	}
	return 0;
}

static void log_table(const char *verb, const char *name, const struct dm_tline *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		msg_info("%s %s: %llu %llu %s %s", verb, quote_if_needed(name),
			 (unsigned long long)t[i].start, (unsigned long long)t[i].len, t[i].type,
			 t[i].params);
}

int bk_create(const char *name, const char *uuid, const struct dm_tline *t, size_t n)
{
	int r = bk_fail_point("create");

	log_table("create", name, t, n);
	if (!r)
		r = be->create(name, uuid, t, n);
	if (!r)
		bk_changes++;
	return r;
}

int bk_reload(const char *name, const struct dm_tline *t, size_t n)
{
	int r = bk_fail_point("reload");

	log_table("reload", name, t, n);
	if (!r)
		r = be->reload(name, t, n);
	if (!r)
		bk_changes++;
	return r;
}

int bk_suspend(const char *name)
{
	int r = bk_fail_point("suspend");

	msg_info("suspend %s", quote_if_needed(name));
	if (!r)
		r = be->suspend(name);
	if (!r)
		bk_changes++;
	return r;
}

int bk_resume(const char *name)
{
	int r = bk_fail_point("resume");

	msg_info("resume %s", quote_if_needed(name));
	if (!r)
		r = be->resume(name);
	if (!r)
		bk_changes++;
	return r;
}

int bk_remove(const char *name)
{
	int r = bk_fail_point("remove");

	msg_info("remove %s", quote_if_needed(name));
	if (!r)
		r = be->remove(name);
	if (!r)
		bk_changes++;
	return r;
}

int bk_message(const char *name, const char *msg, char **reply)
{
	int r = 0;

	/* "stats" only reads: it is not a failure point. */
	if (strcmp(msg, "stats"))
		r = bk_fail_point("message");
	msg_info("message %s 0 %s", quote_if_needed(name), msg);
	if (!r)
		r = be->message(name, msg, reply);
	if (!r)
		bk_changes++;
	return r;
}

int bk_cgroup_create(const char *path)
{
	int r = bk_fail_point("cgroup create");

	msg_info("cgroup create %s", quote_if_needed(path));
	if (!r)
		r = be->cgroup_create(path);
	if (!r)
		bk_changes++;
	return r;
}

void dm_tlines_free(struct dm_tline *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t[i].type);
		free(t[i].params);
	}
	free(t);
}

void dm_tlines_copy(struct dm_tline **dst, size_t *nd, const struct dm_tline *src, size_t n)
{
	size_t i;

	*dst = xcalloc(n, sizeof(**dst));
	for (i = 0; i < n; i++) {
		(*dst)[i].start = src[i].start;
		(*dst)[i].len = src[i].len;
		(*dst)[i].type = xstrdup(src[i].type);
		(*dst)[i].params = xstrdup(src[i].params);
	}
	*nd = n;
}

uint64_t dm_tlines_size(const struct dm_tline *t, size_t n)
{
	return n ? t[n - 1].start + t[n - 1].len : 0;
}

void dm_dev_free(struct dm_dev *d)
{
	free(d->name);
	free(d->uuid);
	dm_tlines_free(d->t, d->nt);
	memset(d, 0, sizeof(*d));
}

void dm_devs_free(struct dm_dev *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dm_dev_free(&d[i]);
	free(d);
}

const char *cgroup_root(void)
{
	static char root[PATH_MAX];
	const char *e = getenv("IOBAND_CGROUP_ROOT");
	FILE *f;
	char line[PATH_MAX + 256];

	if (e && *e)
		return e;
	if (root[0])
		return root;
	strcpy(root, "/sys/fs/cgroup");
	f = fopen("/proc/self/mounts", "r");
	if (!f)
		return root;
	while (fgets(line, sizeof(line), f)) {
		char dev[256], dir[PATH_MAX], type[64];

		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(root, sizeof(root), "%s", dir);
			break;
		}
	}
	fclose(f);
	return root;
}

char *cgroup_rel_path(const char *path)
{
	const char *root = cgroup_root();
	size_t rl = strlen(root);

	if (!strncmp(path, root, rl) && (path[rl] == '/' || !path[rl]))
		path += rl;
	while (*path == '/')
		path++;
	return xstrdup(path);
}

char *cgroup_fs_path(const char *path)
{
	char *rel = cgroup_rel_path(path), *p;

	p = *rel ? xasprintf("%s/%s", cgroup_root(), rel) : xstrdup(cgroup_root());
	free(rel);
	return p;
}

int cgroup_id(const char *path, uint64_t *id)
{
	char *p = cgroup_fs_path(path);
	struct stat st;
	int r = 0;

	if (stat(p, &st))
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	else
		*id = st.st_ino;
	free(p);
	return r;
}
