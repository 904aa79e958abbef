// SPDX-License-Identifier: GPL-2.0
/*
 * iobandctl - run a VM host with dm-ioband: create and remove ioband
 * devices, slide one under an existing device-mapper device and back out,
 * manage groups, watch the shares, and bring about a whole host described
 * in one YAML file (apply).  See iobandctl(8).
 *
 * One command table drives dispatch, arity checks, options and help.
 * Commands return an exit code (util.h): 0 ok, 1 runtime failure, 2 usage,
 * 3 invalid host file or state (nothing changed), 4 failed and rolled back.
 */
#include "backend.h"
#include "config.h"
#include "ioband.h"
#include "libvirt.h"
#include "plan.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef IOBAND_VERSION
#define IOBAND_VERSION "unknown"
#endif

#define MAX_OPTS 12

struct cmd;

struct ctx {
	const struct cmd *cmd;
	char **pos;		/* positional arguments */
	int npos;
	const char *val[MAX_OPTS];	/* option values, in the order of cmd->opts */
	bool set[MAX_OPTS];
};

struct cmd {
	const char *name;	/* one or two words: "group add" */
	const char *synopsis;
	int min_args, max_args;	/* positional; max -1 = any */
	const char *const opts[MAX_OPTS];	/* "name=" takes a value, "name" is a flag */
	int (*fn)(struct ctx *c);
	const char *help;
};

static const struct cmd cmds[];

/* ------------------------------------------------------------- utilities */

static void print_cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: %s %s%s%s\n", progname, c->name, *c->synopsis ? " " : "", c->synopsis);
}

static int usage_error(const struct cmd *c, const char *fmt, ...) PRINTF(2, 3);
static int usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", progname, c ? c->name : "", c ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c) {
		print_cmd_usage(stderr, c);
		fprintf(stderr, "Try '%s %s --help'.\n", progname, c->name);
	} else {
		fprintf(stderr, "Try '%s --help'.\n", progname);
	}
	return EX_USAGE;
}

static const char *opt(const struct ctx *c, const char *name)
{
	int i;

	for (i = 0; i < MAX_OPTS && c->cmd->opts[i]; i++) {
		size_t n = strcspn(c->cmd->opts[i], "=");

		if (strlen(name) == n && !strncmp(c->cmd->opts[i], name, n))
			return c->set[i] ? (c->val[i] ? c->val[i] : "") : NULL;
	}
	abort();
}

static int opt_uint(const struct ctx *c, const char *name, uint64_t lo, uint64_t hi, uint64_t def,
		    uint64_t *out)
{
	const char *v = opt(c, name);
	int r;

	*out = def;
	r = v ? parse_u64_range(v, lo, hi, out) : 0;
	if (r == -EDOM)
		return usage_error(c->cmd, "--%s: %s: " U64_LEADING_ZERO, name, quote(v));
	if (r)
		return usage_error(c->cmd, "--%s: must be %llu..%llu", name, (unsigned long long)lo,
				   (unsigned long long)hi);
	return 0;
}

static bool is_ioband(const struct dm_dev *d)
{
	return iob_tlines_ioband(d->t, d->nt);
}

static int get_ioband(const char *name, struct dm_dev *d, struct iob_table *t)
{
	const char *err;
	int r = be->get(name, d);

	if (r) {
		msg_err("%s: %s", quote_if_needed(name), r == -ENODEV ? "no such device" : strerror(-r));
		return EX_FAIL;
	}
	if (!is_ioband(d) || iob_table_parse(d->t[0].params, t, &err)) {
		msg_err("%s: not an ioband device", quote_if_needed(name));
		dm_dev_free(d);
		return EX_FAIL;
	}
	return 0;
}

/* Table options shared by create and insert. */
static int table_from_opts(struct ctx *c, const char *name, struct iob_table *t)
{
	const char *g = opt(c, "group"), *ty = opt(c, "type"), *po = opt(c, "policy");
	uint64_t v;
	int r;

	iob_table_init(t);
	/* The host file's rule for device-group ids (a --group may not start with -). */
	if (g && !valid_name(g, IOB_NAME_MAX))
		return usage_error(c->cmd, "--group: %s: use 1..%d of A-Z a-z 0-9 _ . + - (not first . or -)",
				   quote(g), IOB_NAME_MAX);
	if (!g && !valid_name(name, IOB_NAME_MAX))
		return usage_error(c->cmd, "%s is no device-group id (1..%d of A-Z a-z 0-9 _ . + -, not first . or -): give --group",
				   quote_if_needed(name), IOB_NAME_MAX);
	strcpy(t->devgroup, g ? g : name);
	if (ty && iob_parse_type(ty, &t->type))
		return usage_error(c->cmd, "--type: none, uid, user, gid, pid, pgrp or cgroup");
	if (po && (iob_parse_policy(po, &t->policy) || t->policy == IOB_RANGE_BW))
		return usage_error(c->cmd, "--policy: weight, weight-iosize or default (range-bw: dmsetup, see dm-ioband.md)");
	if ((r = opt_uint(c, "weight", IOB_WEIGHT_MIN, IOB_WEIGHT_MAX, IOB_WEIGHT_DEFAULT, &v)))
		return r;
	t->default_weight = v;
	if ((r = opt_uint(c, "io-throttle", 0, IOB_THROTTLE_MAX, 0, &v)))
		return r;
	t->io_throttle = v;
	if ((r = opt_uint(c, "io-limit", 0, IOB_THROTTLE_MAX, 0, &v)))
		return r;
	t->io_limit = v;
	if (t->io_throttle && t->io_limit && t->io_throttle > t->io_limit)
		return usage_error(c->cmd, "--io-throttle must not exceed --io-limit");
	return opt_uint(c, "token", 0, IOB_TOKEN_MAX, 0, &t->token_base);
}

/* Device group DG's member MEMBER has FIELD V (0: the ZERO one): OPT differs. */
static void join_mismatch(const char *dg, const char *field, uint64_t v, const char *zero,
			  const char *member, const char *opt)
{
	char val[32];

	if (v)
		snprintf(val, sizeof(val), "%s %llu", field, (unsigned long long)v);
	else
		snprintf(val, sizeof(val), "the %s %s", zero, field);
	msg_err("device group %s has %s (member %s): leave --%s out to inherit it",
		quote_if_needed(dg), val, member, opt);
}

/*
 * A device joining device group T->devgroup must give its shared parameters
 * as its members do, or 0 to inherit them (iob_join_conflict(), the rule
 * the fake backend applies as the module does); the module's reason reaches
 * only the kernel log, so say here which member has what, and the option
 * that fixes it.  NAME, the device being made, is no member to compare with.
 */
static int check_devgroup_join(const char *name, const struct iob_table *t)
{
	struct dm_dev *all;
	size_t n, i;
	int r = EX_OK;

	if (be->list(&all, &n))
		return EX_OK;	/* the create itself says what is wrong */
	for (i = 0; i < n && r == EX_OK; i++) {
		struct iob_table m;
		const char *err, *mn = quote_if_needed(all[i].name);

		/* NAME itself: create says it exists */
		if (!strcmp(all[i].name, name) || !is_ioband(&all[i]) ||
		    iob_table_parse(all[i].t[0].params, &m, &err))
			continue;
		if (strcmp(m.devgroup, t->devgroup)) {
			iob_table_free(&m);
			continue;
		}
		r = EX_FAIL;
		/* create and insert give no l= or b= (they inherit them) */
		switch (iob_join_conflict(t, false, false, &m)) {
		case IOB_JOIN_POLICY:
			if (m.policy == IOB_RANGE_BW)
				msg_err("device group %s uses policy range-bw (member %s): create its members with dmsetup (dm-ioband.md)",
					quote_if_needed(t->devgroup), mn);
			else
				msg_err("device group %s uses policy %s (member %s): give --policy %s",
					quote_if_needed(t->devgroup), iob_policy_name(m.policy), mn,
					iob_policy_name(m.policy));
			break;
		case IOB_JOIN_THROTTLE:
			join_mismatch(t->devgroup, "io_throttle", m.io_throttle, "default", mn, "io-throttle");
			break;
		case IOB_JOIN_LIMIT:
			join_mismatch(t->devgroup, "io_limit", m.io_limit, "automatic", mn, "io-limit");
			break;
		case IOB_JOIN_TOKEN:
			join_mismatch(t->devgroup, "token_base", m.token_base, "default", mn, "token");
			break;
		default:
			r = EX_OK;
		}
		iob_table_free(&m);
	}
	dm_devs_free(all, n);
	return r;
}

/*
 * Writeback throttling (wbt) on a disk below ioband puts ioband's
 * dispatcher to sleep for one group's writeback while the others' held
 * bios wait, and the automatic depth takes those waits for the disk's
 * latency (docs/dm-ioband.md, "Behaviour worth knowing").  iocost and BFQ
 * switch it off on their disk; iobandctl only says so, once per disk and
 * run: it changes nothing outside its devices.  DIR is a block device's
 * sysfs directory: its slaves are walked down to the disks.
 */
static void wbt_warn_below(const char *dir, int depth)
{
	static struct strv warned;
	char *p = xasprintf("%s/slaves", dir), *q, *text = NULL, *disk;
	DIR *d = opendir(p);
	struct dirent *e;
	bool leaf = true;
	size_t i, len;
	long v;

	free(p);
	if (d) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			leaf = false;
			if (depth < 16) {
				q = xasprintf("%s/slaves/%s", dir, e->d_name);
				wbt_warn_below(q, depth + 1);
				free(q);
			}
		}
		closedir(d);
	}
	if (!leaf)
		return;
	/* a partition's queue is its disk's */
	p = xasprintf("%s/partition", dir);
	q = xasprintf(access(p, F_OK) ? "%s" : "%s/..", dir);
	free(p);
	disk = realpath(q, NULL);
	p = xasprintf("%s/queue/wbt_lat_usec", q);
	free(q);
	if (disk && !read_text_file(p, &text, &len) && (v = strtol(text, NULL, 10)) > 0) {
		const char *name = strrchr(disk, '/') + 1;

		for (i = 0; i < warned.n && strcmp(warned.v[i], name); i++)
			;
		if (i == warned.n) {
			strv_add(&warned, name);
			msg_warn("%s: writeback throttling is on below ioband (queue/wbt_lat_usec %ld): ioband schedules writeback itself, and wbt makes its dispatcher wait for one group's writeback; turn it off with: echo 0 > /sys/block/%s/queue/wbt_lat_usec",
				 quote_if_needed(name), v, name);
		}
	}
	free(text);
	free(disk);
	free(p);
}

/* Warn of wbt below the ioband devices the executed plan P made or reloaded. */
static void wbt_check(const struct plan *p)
{
	const char *sys = getenv("IOBAND_SYSFS");	/* tests */
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];
		struct iob_table t;
		const char *err;
		unsigned int ma, mi;
		uint64_t sectors;
		char c;

		if ((a->kind != ACT_DEV_CREATE && a->kind != ACT_DEV_RELOAD) ||
		    !iob_tlines_ioband(a->t, a->nt))
			continue;
		iob_table_init(&t);
		/* maj:min as the tables have it (no /dev/block without udev) */
		if (!iob_table_parse(a->t[0].params, &t, &err) &&
		    (sscanf(t.device, "%u:%u%c", &ma, &mi, &c) == 2 ||
		     !be->resolve(t.device, &ma, &mi, &sectors))) {
			char *dir = xasprintf("%s/dev/block/%u:%u", sys && *sys ? sys : "/sys", ma, mi);

			wbt_warn_below(dir, 0);
			free(dir);
		}
		iob_table_free(&t);
	}
}

static int finish_plan(struct plan *p, bool dry_run)
{
	int r;

	if (dry_run) {
		plan_print(p, stdout);
		plan_free(p);
		return EX_OK;
	}
	r = plan_execute(p);
	if (!r)
		wbt_check(p);
	plan_free(p);
	return r;
}

/* ----------------------------------------------------------- create/remove */

static int cmd_create(struct ctx *c)
{
	const char *name = c->pos[0], *dev = c->pos[1];
	struct iob_table t;
	struct plan p = { 0 };
	struct action *a;
	unsigned int ma, mi;
	uint64_t sectors;
	int r;

	/* As the host file's names: no '/' (device-mapper refuses it), fits its uuid. */
	iob_table_init(&t);
	if (!valid_name(name, dm_name_max(IOB_UUID_CTL))) {
		r = usage_error(c->cmd, "NAME %s: use 1..%zu of A-Z a-z 0-9 _ . + - (not first . or -)",
				quote(name), dm_name_max(IOB_UUID_CTL));
		goto out;
	}
	if (!strcmp(name, "control")) {
		r = usage_error(c->cmd, "NAME \"control\" is device-mapper's control node");
		goto out;
	}
	r = table_from_opts(c, name, &t);
	if (r)
		goto out;
	r = check_devgroup_join(name, &t);
	if (r)
		goto out;
	r = be->resolve(dev, &ma, &mi, &sectors);
	if (r) {
		msg_err("%s: %s", quote_if_needed(dev), strerror(-r));
		r = EX_FAIL;
		goto out;
	}
	t.device = xasprintf("%u:%u", ma, mi);
	a = vec_push(&p.a, &p.n, sizeof(*a));
	a->kind = ACT_DEV_CREATE;
	a->dev = xstrdup(name);
	a->uuid = xasprintf(IOB_UUID_CTL "%s", name);
	a->t = xcalloc(1, sizeof(*a->t));
	a->nt = 1;
	a->t->len = sectors;
	a->t->type = xstrdup(IOB_TARGET);
	a->t->params = iob_table_format(&t);
	r = finish_plan(&p, opt(c, "dry-run"));
out:
	iob_table_free(&t);
	return r;
}

static const char *managed_by(const struct dm_dev *d, const struct dm_dev *all, size_t n);

/* D sits on the IOBAND-orig- device of an inserted layer (any uuid of its own). */
static bool is_inserted(const struct dm_dev *d)
{
	struct dm_dev *all;
	size_t n;
	bool r;

	if (be->list(&all, &n))
		return false;
	r = !strcmp(managed_by(d, all, n), "insert");
	dm_devs_free(all, n);
	return r;
}

static int cmd_remove(struct ctx *c)
{
	struct dm_dev d;
	struct iob_table t;
	int r = get_ioband(c->pos[0], &d, &t);

	if (r)
		return r;
	if (!strncmp(d.uuid, "LVM-", 4) || (*d.uuid && strncmp(d.uuid, "IOBAND-", 7))) {
		msg_err("%s is not an iobandctl device (uuid %s): use eject for an inserted layer",
			quote_if_needed(d.name), quote_if_needed(d.uuid));
		r = EX_FAIL;
	} else if (is_inserted(&d)) {
		/* A layer keeps the device's own uuid: none, for one dmsetup made. */
		msg_err("%s is an inserted ioband layer: use eject", quote_if_needed(d.name));
		r = EX_FAIL;
	} else if (bk_remove(d.name)) {
		r = EX_FAIL;
	}
	dm_dev_free(&d);
	iob_table_free(&t);
	return r;
}

/* -------------------------------------------------------------- insert/eject */

static char *lower_name(const char *name)
{
	return xasprintf("%s-iob", name);
}

static int cmd_insert(struct ctx *c)
{
	const char *name = c->pos[0];
	char *lname = lower_name(name);
	struct dm_dev d = { 0 }, l = { 0 };
	struct iob_table t;
	struct plan p = { 0 };
	struct action *a;
	uint64_t size;
	size_t i;
	int r;

	iob_table_init(&t);
	r = be->get(name, &d);
	if (r) {
		msg_err("%s: %s", quote_if_needed(name), r == -ENODEV ? "no such device-mapper device" : strerror(-r));
		r = EX_FAIL;
		goto out;
	}
	if (!d.nt || d.suspended) {
		msg_err("%s: %s", quote_if_needed(name), d.nt ? "is suspended" : "has no table");
		r = EX_FAIL;
		goto out;
	}
	if (is_ioband(&d)) {
		msg_err("%s already is an ioband device", quote_if_needed(name));
		r = EX_FAIL;
		goto out;
	}
	/*
	 * Step 1 makes a second live device of the same table: harmless for
	 * targets that only remap, not for those with state on the disks
	 * (raid, mirror, cache, thin, snapshot, ...), which would then run
	 * twice over the same metadata.
	 */
	for (i = 0; i < d.nt; i++) {
		if (strcmp(d.t[i].type, "linear") && strcmp(d.t[i].type, "striped")) {
			msg_err("%s: its table has a %s target: insert copies the table into a second live device, which only linear and striped tables allow",
				quote_if_needed(name), quote_if_needed(d.t[i].type));
			r = EX_FAIL;
			goto out;
		}
	}
	if (!be->get(lname, &l)) {
		msg_err("%s already exists", quote_if_needed(lname));
		r = EX_FAIL;
		goto out;
	}
	if (!strcmp(name, "control")) {
		r = usage_error(c->cmd, "NAME \"control\" is device-mapper's control node");
		goto out;
	}
	r = table_from_opts(c, name, &t);
	if (r)
		goto out;
	r = check_devgroup_join(name, &t);
	if (r)
		goto out;
	size = dm_tlines_size(d.t, d.nt);
	/* NAME-iob's uuid is the tighter limit (116 characters, NAME-iob's name 123). */
	if (strlen(name) > dm_name_max(IOB_UUID_ORIG)) {
		msg_err("%s: name longer than %zu characters: the layer's dm uuid " IOB_UUID_ORIG "%s would not fit",
			quote_if_needed(name), dm_name_max(IOB_UUID_ORIG), quote_if_needed(name));
		r = EX_FAIL;
		goto out;
	}

	/* 1. NAME-iob: a second device with NAME's table (the same blocks). */
	a = vec_push(&p.a, &p.n, sizeof(*a));
	a->kind = ACT_DEV_CREATE;
	a->dev = xstrdup(lname);
	a->uuid = xasprintf(IOB_UUID_ORIG "%s", name);
	dm_tlines_copy(&a->t, &a->nt, d.t, d.nt);
	/* 2. NAME: ioband over NAME-iob; reload, suspend (flush), resume. */
	t.device = xasprintf("/dev/mapper/%s", lname);
	a = vec_push(&p.a, &p.n, sizeof(*a));
	a->kind = ACT_DEV_RELOAD;
	a->dev = xstrdup(name);
	a->t = xcalloc(1, sizeof(*a->t));
	a->nt = 1;
	a->t->len = size;
	a->t->type = xstrdup(IOB_TARGET);
	dm_tlines_copy(&a->old, &a->nold, d.t, d.nt);
	if (opt(c, "dry-run")) {
		a->t->params = iob_table_format(&t);
		r = finish_plan(&p, true);
		goto out;
	}
	/* The ioband table names NAME-iob by number, known once it exists. */
	r = plan_execute(&(struct plan){ .a = p.a, .n = 1 });
	if (r)
		goto out_plan;
	r = be->get(lname, &l);
	if (r) {
		msg_err("%s: vanished", quote_if_needed(lname));
		be->remove(lname);
		r = EX_ROLLEDBACK;
		goto out_plan;
	}
	free(t.device);
	t.device = xasprintf("%u:%u", l.major, l.minor);
	a->t->params = iob_table_format(&t);
	r = plan_execute(&(struct plan){ .a = p.a + 1, .n = 1 });
	if (r) {
		if (be->remove(lname)) {
			msg_err("could not remove %s", quote_if_needed(lname));
			r = EX_FAIL;
		} else {
			r = EX_ROLLEDBACK;
		}
	}
out_plan:
	plan_free(&p);
out:
	dm_dev_free(&d);
	dm_dev_free(&l);
	iob_table_free(&t);
	free(lname);
	return r;
}

static int cmd_eject(struct ctx *c)
{
	const char *name = c->pos[0];
	struct dm_dev d = { 0 }, *all = NULL, *l = NULL;
	struct iob_table t;
	struct plan p = { 0 };
	struct action *a;
	size_t n = 0, i;
	unsigned int ma, mi;
	int r;

	r = get_ioband(name, &d, &t);
	if (r)
		return r;
	r = EX_FAIL;
	if (sscanf(t.device, "%u:%u", &ma, &mi) != 2 || be->list(&all, &n))
		goto out;
	for (i = 0; i < n; i++)
		if (all[i].major == ma && all[i].minor == mi)
			l = &all[i];
	if (!l || strncmp(l->uuid, IOB_UUID_ORIG, strlen(IOB_UUID_ORIG))) {
		msg_err("%s: no ioband layer was inserted here (its device %s is not an %s* device)",
			quote_if_needed(name), quote_if_needed(t.device), IOB_UUID_ORIG);
		goto out;
	}
	if (l->open_count > 1)
		msg_warn("%s is open %d times; only %s should use it", quote_if_needed(l->name),
			 l->open_count, quote_if_needed(name));
	/* NAME gets its old table back, then NAME-iob goes. */
	a = vec_push(&p.a, &p.n, sizeof(*a));
	a->kind = ACT_DEV_RELOAD;
	a->dev = xstrdup(name);
	dm_tlines_copy(&a->t, &a->nt, l->t, l->nt);
	dm_tlines_copy(&a->old, &a->nold, d.t, d.nt);
	a = vec_push(&p.a, &p.n, sizeof(*a));
	a->kind = ACT_DEV_REMOVE;
	a->dev = xstrdup(l->name);
	a->uuid = xstrdup(l->uuid);
	dm_tlines_copy(&a->old, &a->nold, l->t, l->nt);
	r = finish_plan(&p, opt(c, "dry-run"));
out:
	dm_devs_free(all, n);
	dm_dev_free(&d);
	iob_table_free(&t);
	return r;
}

/* ------------------------------------------------------------------ groups */

/*
 * A cgroup PATH of the command line (relative to the cgroup root, or
 * absolute below it): by the host file's rule, never the root or outside it,
 * and normalized as the host file's (doubled or trailing slashes dropped, the
 * v2 mount in front taken off). On success *REL is the path below the root.
 */
static int check_cgroup_arg(const struct ctx *c, const char *path, char **rel)
{
	const char *why;
	char *mw;
	int r = 0;

	*rel = cgroup_rel_path(path);
	why = cgroup_path_problem(*rel);
	if (why) {
		r = usage_error(c->cmd, "cgroup %s: %s", quote(path), why);
		goto out;
	}
	cgroup_path_normalize(*rel);
	mw = cgroup_path_unmount(*rel, cgroup_root());
	if (mw) {
		r = usage_error(c->cmd, "cgroup %s: %s", quote(path), mw);
		free(mw);
	}
out:
	if (r) {
		free(*rel);
		*rel = NULL;
	}
	return r;
}

static int parse_group_arg(struct ctx *c, const struct iob_table *t, const char *s, bool allow_default,
			   bool *is_default, uint64_t *id)
{
	int r;

	*is_default = false;
	if (!strcmp(s, "default") || !strcmp(s, "-1")) {
		if (allow_default) {
			*is_default = true;
			return 0;
		}
		/* Not a cgroup called "default", nor "must be a number". */
		return usage_error(c->cmd, "group %s: the default group is always there (group set NAME default weight=W sets its weight)",
				   s);
	}
	if (t->type == IOB_NONE)
		return usage_error(c->cmd, "group %s: the device has type none, which has only the default group",
				   quote_if_needed(s));
	r = parse_u64(s, id);
	if (r == -EDOM)
		return usage_error(c->cmd, "group id %s: " U64_LEADING_ZERO, quote(s));
	if (!r) {
		if (iob_check_group_id(t->type, *id))
			return usage_error(c->cmd, "group id %s: must be %s for type %s", s,
					   iob_group_id_range(t->type), iob_type_name(t->type));
		return 0;
	}
	if (t->type == IOB_CGROUP) {
		char *rel;

		r = check_cgroup_arg(c, s, &rel);
		if (r)
			return r;
		r = cgroup_id(rel, id);
		free(rel);
		if (r) {
			msg_err("cgroup %s: %s", quote_if_needed(s), strerror(-r));
			return EX_FAIL;
		}
		return 0;
	}
	return usage_error(c->cmd, "group id %s: must be a number%s", quote_if_needed(s),
			   allow_default ? " or default" : "");
}

/* weight=W arguments after NAME ID. */
static int parse_kv(struct ctx *c, int from, bool need_weight, unsigned int *w)
{
	int i;
	bool got = false;

	*w = IOB_WEIGHT_DEFAULT;
	for (i = from; i < c->npos; i++) {
		uint64_t v;
		int r;

		if (strncmp(c->pos[i], "weight=", 7))
			return usage_error(c->cmd, "unknown setting %s (weight=W)", quote(c->pos[i]));
		r = parse_u64_range(c->pos[i] + 7, IOB_WEIGHT_MIN, IOB_WEIGHT_MAX, &v);
		if (r)
			return usage_error(c->cmd, "weight: %s",
					   r == -EDOM ? U64_LEADING_ZERO : "must be 1..32767");
		*w = v;
		got = true;
	}
	if (need_weight && !got)
		return usage_error(c->cmd, "weight=W is required");
	return 0;
}

static int group_common(struct ctx *c, int kind)
{
	struct dm_dev d;
	struct iob_table t;
	struct plan p = { 0 };
	struct action *a;
	struct iob_group *g;
	bool def;
	uint64_t id = 0;
	unsigned int w = IOB_WEIGHT_DEFAULT;	/* group add without weight= */
	int r = get_ioband(c->pos[0], &d, &t);

	if (r)
		return r;
	r = parse_group_arg(c, &t, c->pos[1], kind == ACT_GROUP_WEIGHT, &def, &id);
	if (!r)
		r = parse_kv(c, 2, kind == ACT_GROUP_WEIGHT, &w);
	if (!r && kind == ACT_GROUP_DETACH && c->npos > 2)
		r = usage_error(c->cmd, "takes no settings");
	/* The module refuses any weight message under range-bw. */
	if (!r && kind != ACT_GROUP_DETACH && c->npos > 2 && t.policy == IOB_RANGE_BW)
		r = usage_error(c->cmd, "%s has policy range-bw, which has no weights (a group's min and max: dmsetup message %s 0 range-bw ID:MIN:MAX)",
				d.name, d.name);
	if (r)
		goto out;
	g = def ? NULL : iob_table_group(&t, id);
	if (kind == ACT_GROUP_ATTACH && g) {
		msg_err("%s: group %llu exists (use group set)", quote_if_needed(d.name),
			(unsigned long long)id);
		r = EX_FAIL;
		goto out;
	}
	if (kind != ACT_GROUP_ATTACH && !def && !g) {
		msg_err("%s: no group %llu", quote_if_needed(d.name), (unsigned long long)id);
		r = EX_FAIL;
		goto out;
	}
	a = vec_push(&p.a, &p.n, sizeof(*a));
	a->kind = kind;
	a->dev = xstrdup(d.name);
	a->has_id = !def;
	a->id = id;
	a->weight = w;
	a->old_weight = def ? t.default_weight : g ? g->weight : 0;
	r = finish_plan(&p, false);
out:
	dm_dev_free(&d);
	iob_table_free(&t);
	return r;
}

static int cmd_group_add(struct ctx *c)
{
	return group_common(c, ACT_GROUP_ATTACH);
}

static int cmd_group_set(struct ctx *c)
{
	return group_common(c, ACT_GROUP_WEIGHT);
}

static int cmd_group_remove(struct ctx *c)
{
	return group_common(c, ACT_GROUP_DETACH);
}

/* ------------------------------------------------------------------ status */

struct devstat {
	struct dm_dev d;
	struct iob_table t;
	struct iob_status s;
	const char *managed;
};

static const char *managed_by(const struct dm_dev *d, const struct dm_dev *all, size_t n)
{
	unsigned int ma, mi;
	size_t i;

	if (!strncmp(d->uuid, IOB_UUID_APPLY, strlen(IOB_UUID_APPLY)))
		return "apply";
	if (!strncmp(d->uuid, IOB_UUID_CTL, strlen(IOB_UUID_CTL)))
		return "create";
	if (sscanf(d->t[0].params, "%u:%u", &ma, &mi) == 2)
		for (i = 0; i < n; i++)
			if (all[i].major == ma && all[i].minor == mi &&
			    !strncmp(all[i].uuid, IOB_UUID_ORIG, strlen(IOB_UUID_ORIG)))
				return "insert";
	return "other";
}

/*
 * Every ioband device (or just NAME), with table and status.  With NAME,
 * the others are read for their tables only (the device group's weights):
 * a problem with one of them is not NAME's.  A table that does not parse
 * is reported and left out: there is nothing to show of it.
 */
static int collect(const char *name, struct devstat **out, size_t *nout)
{
	struct dm_dev *all;
	size_t n, i;
	int r = be->list(&all, &n);

	*out = NULL;
	*nout = 0;
	if (r)
		return EX_FAIL;
	for (i = 0; i < n; i++) {
		bool want = !name || !strcmp(all[i].name, name);
		struct devstat *s;
		struct iob_table t;
		const char *err;
		char *params;

		if (!is_ioband(&all[i])) {
			if (name && want) {
				msg_err("%s: not an ioband device", quote_if_needed(name));
				r = EX_FAIL;
			}
			continue;
		}
		if (iob_table_parse(all[i].t[0].params, &t, &err)) {
			if (want) {
				msg_err("%s: cannot parse its table: %s: %s", quote_if_needed(all[i].name),
					err, quote_if_needed(all[i].t[0].params));
				r = EX_FAIL;
			}
			continue;
		}
		s = vec_push(out, nout, sizeof(*s));
		s->managed = managed_by(&all[i], all, n);
		s->t = t;
		if (!want) {
			s->d = all[i];
			memset(&all[i], 0, sizeof(all[i]));
			continue;
		}
		if (be->status(all[i].name, &params)) {
			r = EX_FAIL;
		} else {
			if (iob_status_parse(params, &s->s, &err)) {
				msg_err("%s: %s: %s", quote_if_needed(all[i].name), err,
					quote_if_needed(params));
				r = EX_FAIL;
			}
			free(params);
		}
		s->d = all[i];
		memset(&all[i], 0, sizeof(all[i]));
	}
	if (name && !r) {
		for (i = 0; i < *nout; i++)
			if (!strcmp((*out)[i].d.name, name))
				break;
		if (i == *nout) {
			msg_err("%s: no such device", quote_if_needed(name));
			r = EX_FAIL;
		}
	}
	dm_devs_free(all, n);
	return r;
}

static void devstats_free(struct devstat *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dm_dev_free(&s[i].d);
		iob_table_free(&s[i].t);
		iob_status_free(&s[i].s);
	}
	free(s);
}

static unsigned int weight_of(const struct iob_table *t, int64_t id)
{
	const struct iob_group *g;

	if (id == IOB_DEFAULT_GROUP)
		return t->default_weight;
	g = iob_table_group(t, (uint64_t)id);
	return g ? g->weight : 0;
}

/* Sum of the weights in T's device group (over the devices in S). */
static unsigned long long total_weight(const struct iob_table *t, const struct devstat *s, size_t n)
{
	unsigned long long w = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (strcmp(s[i].t.devgroup, t->devgroup))
			continue;
		w += s[i].t.default_weight;
		for (j = 0; j < s[i].t.n_groups; j++)
			w += s[i].t.groups[j].weight;
	}
	return w ? w : 1;
}

/* The limits of the table of D for group G, or NULL (range-bw). */
static const struct iob_limits *limits_of(const struct iob_table *t, int64_t id)
{
	const struct iob_group *tg;

	if (t->policy == IOB_RANGE_BW)
		return NULL;
	if (id == IOB_DEFAULT_GROUP)
		return &t->default_lim;
	tg = iob_table_group(t, (uint64_t)id);
	return tg ? &tg->lim : NULL;
}

/* "options" as the table has them, and each of r=, l=, b= by name. */
static void limits_json(json_object *go, const struct iob_limits *l)
{
	char b[IOB_RATE_STR_MAX], *o;

	if (!iob_limits_any(l))
		return;
	o = iob_limits_format(l);
	json_object_object_add(go, "options", json_object_new_string(o + 1));
	free(o);
	if (l->rsv.rate) {
		iob_rate_format(&l->rsv, b, sizeof(b));
		json_object_object_add(go, "reservation", json_object_new_string(b));
	}
	if (l->lim.rate) {
		iob_rate_format(&l->lim, b, sizeof(b));
		json_object_object_add(go, "limit", json_object_new_string(b));
	}
	if (l->burst.rate) {
		json_object *bo = json_object_new_object();

		iob_rate_format(&l->burst, b, sizeof(b));
		json_object_object_add(bo, "rate", json_object_new_string(b));
		json_object_object_add(bo, "seconds", json_object_new_int(l->burst_secs));
		json_object_object_add(go, "burst", bo);
	}
}

static json_object *status_json(const struct devstat *s, size_t n, const char *only)
{
	json_object *root = json_object_new_object(), *devs = json_object_new_array();
	size_t i, j;

	for (i = 0; i < n; i++) {
		json_object *o, *gs;
		char b[32];

		if (only && strcmp(only, s[i].d.name))
			continue;
		o = json_object_new_object();
		gs = json_object_new_array();
		json_object_object_add(o, "name", json_object_new_string(s[i].d.name));
		json_object_object_add(o, "uuid", json_object_new_string(s[i].d.uuid));
		snprintf(b, sizeof(b), "%u:%u", s[i].d.major, s[i].d.minor);
		json_object_object_add(o, "dev", json_object_new_string(b));
		json_object_object_add(o, "managed_by", json_object_new_string(s[i].managed));
		json_object_object_add(o, "sectors", json_object_new_uint64(s[i].d.t[0].len));
		json_object_object_add(o, "device", json_object_new_string(s[i].t.device));
		json_object_object_add(o, "device_group", json_object_new_string(s[i].t.devgroup));
		json_object_object_add(o, "io_throttle", json_object_new_int(s[i].t.io_throttle));
		json_object_object_add(o, "io_limit", json_object_new_int(s[i].t.io_limit));
		json_object_object_add(o, "type", json_object_new_string(iob_type_name(s[i].t.type)));
		json_object_object_add(o, "policy", json_object_new_string(iob_policy_name(s[i].t.policy)));
		if (iob_limits_any(&s[i].t.dg_lim)) {
			json_object *lo = json_object_new_object();

			limits_json(lo, &s[i].t.dg_lim);
			if (s[i].s.has_dglimit)
				json_object_object_add(lo, "limited_us",
						       json_object_new_uint64(s[i].s.dglimit_us));
			json_object_object_add(o, "device_group_limits", lo);
		}
		json_object_object_add(o, "token_base", json_object_new_uint64(s[i].t.token_base));
		json_object_object_add(o, "open_count", json_object_new_int(s[i].d.open_count));
		json_object_object_add(o, "suspended", json_object_new_boolean(s[i].d.suspended));
		if (s[i].s.has_depth) {
			json_object *dp = json_object_new_object();

			json_object_object_add(dp, "io_limit", json_object_new_uint64(s[i].s.depth));
			json_object_object_add(dp, "mode", json_object_new_string(s[i].s.depth_auto ? "auto" : "fixed"));
			/* null: a fixed io_limit, or not measured yet (the kernel's 0) */
			json_object_object_add(dp, "latency_baseline_us", s[i].s.depth_base_us ?
					       json_object_new_uint64(s[i].s.depth_base_us) : NULL);
			json_object_object_add(dp, "latency_target_us", s[i].s.depth_target_us ?
					       json_object_new_uint64(s[i].s.depth_target_us) : NULL);
			json_object_object_add(dp, "refused", json_object_new_uint64(s[i].s.refused));
			json_object_object_add(dp, "learned_tags", json_object_new_uint64(s[i].s.refused_tags));
			json_object_object_add(o, "depth", dp);
		}
		for (j = 0; j < s[i].s.n; j++) {
			const struct iob_gstat *g = &s[i].s.g[j];
			json_object *go = json_object_new_object();
			unsigned int w = weight_of(&s[i].t, g->id);

			json_object_object_add(go, "id", json_object_new_int64(g->id));
			if (s[i].t.policy == IOB_RANGE_BW) {
				const struct iob_group *tg = g->id == IOB_DEFAULT_GROUP ? NULL :
					iob_table_group(&s[i].t, (uint64_t)g->id);

				json_object_object_add(go, "min_kbs", json_object_new_int64(
					tg ? tg->min_kbs : s[i].t.default_min_kbs));
				json_object_object_add(go, "max_kbs", json_object_new_int64(
					tg ? tg->max_kbs : s[i].t.default_max_kbs));
				if (g->rsv != IOB_RSV_UNKNOWN)
					json_object_object_add(go, "rsv", json_object_new_string(iob_rsv_name(g->rsv)));
				json_object_object_add(go, "rsv_lag_us", json_object_new_uint64(g->rsv_lag_us));
				json_object_object_add(go, "limited_us", json_object_new_uint64(g->limited_us));
			} else {
				const struct iob_limits *l = limits_of(&s[i].t, g->id);

				json_object_object_add(go, "weight", json_object_new_int(w));
				json_object_object_add(go, "target_share",
					json_object_new_double(round(1000.0 * w / total_weight(&s[i].t, s, n)) / 1000.0));
				if (l)
					limits_json(go, l);
				if (s[i].s.has_limits) {
					if (g->rsv != IOB_RSV_UNKNOWN)
						json_object_object_add(go, "rsv", json_object_new_string(iob_rsv_name(g->rsv)));
					json_object_object_add(go, "rsv_lag_us", json_object_new_uint64(g->rsv_lag_us));
					json_object_object_add(go, "limited_us", json_object_new_uint64(g->limited_us));
				}
			}
			json_object_object_add(go, "reads", json_object_new_uint64(g->reads));
			json_object_object_add(go, "delayed_reads", json_object_new_uint64(g->delayed_reads));
			json_object_object_add(go, "read_sectors", json_object_new_uint64(g->read_sectors));
			json_object_object_add(go, "writes", json_object_new_uint64(g->writes));
			json_object_object_add(go, "delayed_writes", json_object_new_uint64(g->delayed_writes));
			json_object_object_add(go, "write_sectors", json_object_new_uint64(g->write_sectors));
			json_object_object_add(go, "queued", json_object_new_uint64(g->queued));
			json_object_object_add(go, "wait_us", json_object_new_uint64(g->wait_us));
			json_object_array_add(gs, go);
		}
		json_object_object_add(o, "groups", gs);
		json_object_array_add(devs, o);
	}
	json_object_object_add(root, "devices", devs);
	return root;
}

static void group_label(char *b, size_t n, int64_t id)
{
	if (id == IOB_DEFAULT_GROUP)
		snprintf(b, n, "default");
	else
		snprintf(b, n, "%lld", (long long)id);
}

/* " r=500iops l=2000iops b=4000iops/10": the table's options as words (free it) */
static char *limits_words(const struct iob_limits *l)
{
	char *o = iob_limits_format(l), *p;

	for (p = o; *p; p++)
		if (*p == ',')
			*p = ' ';
	return o;
}

/* "    r=500iops l=2000iops b=4000iops/10  reservation met, lag 0 ms, limited 1.2 s" */
/* The end of a group's limits line: whether they held (its limit: CAP). */
static void print_held(const struct devstat *d, const struct iob_gstat *g, const char *sep,
		       const char *cap)
{
	if (d->s.has_limits) {
		if (g->rsv != IOB_RSV_UNKNOWN)
			printf("%sreservation %s", sep, iob_rsv_name(g->rsv));
		printf(", lag %.1f ms, held by its %s %.1f s", g->rsv_lag_us / 1000.0, cap,
		       g->limited_us / 1e6);
	}
	putchar('\n');
}

static void print_limits(const struct devstat *d, const struct iob_gstat *g)
{
	const struct iob_limits *l = limits_of(&d->t, g->id);
	char *o;

	if (!l || !iob_limits_any(l))
		return;
	o = limits_words(l);
	printf("  %-20s%s", "", o);
	free(o);
	print_held(d, g, "  ", "limit");
}

/* Under range-bw: the group's min and max (KB/s), and whether they hold. */
static void print_range(const struct devstat *d, const struct iob_gstat *g)
{
	const struct iob_group *tg = g->id == IOB_DEFAULT_GROUP ? NULL :
		iob_table_group(&d->t, (uint64_t)g->id);
	unsigned int mn = tg ? tg->min_kbs : d->t.default_min_kbs;
	unsigned int mx = tg ? tg->max_kbs : d->t.default_max_kbs;

	printf("  %-20s range min %u KB/s, max ", "", mn);
	if (mx)
		printf("%u KB/s", mx);
	else
		printf("none");
	print_held(d, g, ", ", "max");
}

static int cmd_status(struct ctx *c)
{
	const char *only = c->npos ? c->pos[0] : NULL;
	struct devstat *s;
	size_t n, i, j;
	bool first = true;
	int r = collect(only, &s, &n);

	if (opt(c, "json")) {
		json_object *o = status_json(s, n, only);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
		json_object_put(o);
	} else if (!n && !r) {
		printf("no ioband devices\n");
	}
	for (i = 0; i < n && !opt(c, "json"); i++) {
		const struct devstat *d = &s[i];

		if (only && strcmp(only, d->d.name))
			continue;
		char lim[16];

		if (d->t.io_limit)
			snprintf(lim, sizeof(lim), "%u", d->t.io_limit);
		else
			snprintf(lim, sizeof(lim), "auto");
		printf("%s%s (%u:%u) on %s, %llu MiB, device group %s, type %s, policy %s, io_throttle %u, io_limit %s, token %llu, by %s%s\n",
		       first ? "" : "\n", quote_if_needed(d->d.name), d->d.major, d->d.minor,
		       quote_if_needed(d->t.device), (unsigned long long)(d->d.t[0].len >> 11),
		       quote_if_needed(d->t.devgroup),
		       iob_type_name(d->t.type), iob_policy_name(d->t.policy), d->t.io_throttle,
		       lim, (unsigned long long)d->t.token_base, d->managed,
		       d->d.suspended ? ", SUSPENDED" : "");
		if (d->s.has_depth && !d->s.depth_auto)
			printf("  depth %llu (fixed)\n", (unsigned long long)d->s.depth);
		else if (d->s.has_depth && !d->s.depth_base_us)
			printf("  depth %llu (auto), latency not measured yet\n",
			       (unsigned long long)d->s.depth);
		else if (d->s.has_depth)
			printf("  depth %llu (auto), latency baseline %llu us, target %llu us\n",
			       (unsigned long long)d->s.depth,
			       (unsigned long long)d->s.depth_base_us,
			       (unsigned long long)d->s.depth_target_us);
		if (d->s.has_refused)
			printf("  the disk refused %llu bios for want of a tag; learned tags %llu%s\n",
			       (unsigned long long)d->s.refused,
			       (unsigned long long)d->s.refused_tags,
			       d->s.refused_tags ? "" : " (none in force)");
		if (iob_limits_any(&d->t.dg_lim)) {
			char *o = limits_words(&d->t.dg_lim);

			printf("  device group limit %s", o + strspn(o, " "));
			if (d->s.has_dglimit)
				printf(", held by it %.1f s", d->s.dglimit_us / 1e6);
			putchar('\n');
			free(o);
		}
		printf("  %-20s %6s %6s %10s %10s %10s %10s %8s %8s %7s %10s\n", "GROUP", "WEIGHT",
		       "TARGET", "READS", "READ_MB", "WRITES", "WRITE_MB", "DLY_RD", "DLY_WR",
		       "QUEUED", "WAIT_MS");
		for (j = 0; j < d->s.n; j++) {
			const struct iob_gstat *g = &d->s.g[j];
			unsigned int w = weight_of(&d->t, g->id);
			char lbl[32];

			group_label(lbl, sizeof(lbl), g->id);
			/* range-bw has no weights: its min and max follow */
			if (d->t.policy == IOB_RANGE_BW)
				printf("  %-20s %6s %6s", lbl, "-", "-");
			else
				printf("  %-20s %6u %5.1f%%", lbl, w,
				       100.0 * w / total_weight(&d->t, s, n));
			printf(" %10llu %10.1f %10llu %10.1f %8llu %8llu %7llu %10llu\n",
			       (unsigned long long)g->reads,
			       g->read_sectors / 2048.0, (unsigned long long)g->writes,
			       g->write_sectors / 2048.0, (unsigned long long)g->delayed_reads,
			       (unsigned long long)g->delayed_writes, (unsigned long long)g->queued,
			       (unsigned long long)(g->wait_us / 1000));
			if (d->t.policy == IOB_RANGE_BW)
				print_range(d, g);
			else
				print_limits(d, g);
		}
		first = false;
	}
	devstats_free(s, n);
	return r;
}

/* --------------------------------------------------------------------- top */

struct sample {
	char *dev;
	char devgroup[IOB_NAME_MAX + 1];
	enum iob_policy policy;
	struct iob_status st;	/* from the stats message */
	struct iob_table t;	/* r=, l=, b= */
	struct iob_status ls;	/* the status: its limits part */
};

static void samples_free(struct sample *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].dev);
		iob_status_free(&s[i].st);
		iob_table_free(&s[i].t);
		iob_status_free(&s[i].ls);
	}
	free(s);
}

static int take_samples(char **names, int nnames, struct sample **out, size_t *nout)
{
	struct dm_dev *all;
	size_t n, i;
	int k, r = be->list(&all, &n);

	*out = NULL;
	*nout = 0;
	if (r)
		return EX_FAIL;
	for (i = 0; i < n; i++) {
		struct sample *s;
		struct iob_table t;
		const char *err;
		char *reply = NULL;

		for (k = 0; k < nnames; k++)
			if (!strcmp(names[k], all[i].name))
				break;
		if ((nnames && k == nnames) || !is_ioband(&all[i]) ||
		    iob_table_parse(all[i].t[0].params, &t, &err))
			continue;
		struct iob_status st;

		if (be->message(all[i].name, "stats", &reply) || !reply ||
		    iob_stats_parse(reply, &st, &err)) {
			free(reply);
			iob_table_free(&t);
			continue;	/* removed meanwhile, or an old module */
		}
		s = vec_push(out, nout, sizeof(*s));
		s->dev = xstrdup(all[i].name);
		strcpy(s->devgroup, t.devgroup);
		s->policy = t.policy;
		s->st = st;
		s->t = t;
		free(reply);
		/* The reservations' state is in the status only. */
		if (!be->status(all[i].name, &reply)) {
			if (iob_status_parse(reply, &s->ls, &err))
				memset(&s->ls, 0, sizeof(s->ls));
			free(reply);
		}
	}
	dm_devs_free(all, n);
	return 0;
}

static const struct iob_gstat *prev_of(const struct sample *prev, size_t np, const char *dev, int64_t id)
{
	size_t i;

	for (i = 0; i < np; i++)
		if (!strcmp(prev[i].dev, dev))
			return iob_status_group(&prev[i].st, id);
	return NULL;
}

static uint64_t d64(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;	/* counters reset */
}

/*
 * For group ID of sample S: the reservation's state, the share of the
 * interval its limit held it back (from the status' limits part), and its
 * r=, l=, b= ("-" where there is nothing to say).
 */
static void top_limits(const struct sample *s, const struct sample *prev, size_t np, int64_t id,
		       double dt, char rsv[8], char held[16], char **lims)
{
	const struct iob_limits *l = limits_of(&s->t, id);
	const struct iob_gstat *g = s->ls.has_limits ? iob_status_group(&s->ls, id) : NULL;
	const struct iob_gstat *p = NULL;
	size_t i;
	char *o;

	snprintf(rsv, 8, "-");
	snprintf(held, 16, "-");
	for (i = 0; g && i < np; i++)
		if (!strcmp(prev[i].dev, s->dev) && prev[i].ls.has_limits)
			p = iob_status_group(&prev[i].ls, id);
	if (g && g->rsv != IOB_RSV_UNKNOWN && g->rsv != IOB_RSV_NONE)
		snprintf(rsv, 8, "%s", iob_rsv_name(g->rsv));
	if (g && p)	/* the two readings are not exactly dt apart */
		snprintf(held, 16, "%.0f%%", fmin(100.0, 100.0 * d64(g->limited_us, p->limited_us) / 1e6 / dt));
	o = l ? iob_limits_format(l) : xstrdup("");
	*lims = xstrdup(*o ? o + 1 : "-");
	free(o);
}

static void top_frame(const struct sample *cur, size_t nc, const struct sample *prev, size_t np,
		      double dt)
{
	size_t i, j, k;

	printf("%-24s %-8s %6s %8s %8s %8s %7s %7s %7s %5s %5s  %s\n", "DEVICE", "GROUP", "WEIGHT",
	       "R_IOPS", "W_IOPS", "MB/s", "SHARE", "TARGET", "QUEUED", "RSV", "HELD", "LIMITS");
	for (i = 0; i < nc; i++) {
		/* Shares are within the device group: the unit the scheduler shares. */
		double tot = 0, wsum = 0;

		for (k = 0; k < nc; k++) {
			if (strcmp(cur[k].devgroup, cur[i].devgroup))
				continue;
			for (j = 0; j < cur[k].st.n; j++) {
				const struct iob_gstat *g = &cur[k].st.g[j];
				const struct iob_gstat *p = prev_of(prev, np, cur[k].dev, g->id);
				double u = cur[k].policy == IOB_WEIGHT_IOSIZE ?
					d64(g->read_sectors + g->write_sectors,
					    p ? p->read_sectors + p->write_sectors : 0) :
					d64(g->reads + g->writes, p ? p->reads + p->writes : 0);

				tot += u;
				if (u > 0 || g->queued)
					wsum += g->weight;
			}
		}
		for (j = 0; j < cur[i].st.n; j++) {
			const struct iob_gstat *g = &cur[i].st.g[j];
			const struct iob_gstat *p = prev_of(prev, np, cur[i].dev, g->id);
			uint64_t dr = d64(g->reads, p ? p->reads : 0);
			uint64_t dw = d64(g->writes, p ? p->writes : 0);
			uint64_t ds = d64(g->read_sectors + g->write_sectors,
					  p ? p->read_sectors + p->write_sectors : 0);
			double u = cur[i].policy == IOB_WEIGHT_IOSIZE ? ds : dr + dw;
			bool active = u > 0 || g->queued;
			char lbl[32], share[16], target[16], rsv[8], held[16], *lims;

			group_label(lbl, sizeof(lbl), g->id);
			snprintf(share, sizeof(share), "%.1f%%", tot > 0 ? 100.0 * u / tot : 0.0);
			if (active && wsum > 0)
				snprintf(target, sizeof(target), "%.1f%%", 100.0 * g->weight / wsum);
			else
				snprintf(target, sizeof(target), "-");
			top_limits(&cur[i], prev, np, g->id, dt, rsv, held, &lims);
			printf("%-24s %-8s %6u %8.0f %8.0f %8.1f %7s %7s %7llu %5s %5s  %s\n",
			       j ? "" : quote_if_needed(cur[i].dev), lbl, g->weight, dr / dt, dw / dt,
			       ds * 512.0 / 1e6 / dt, share, target, (unsigned long long)g->queued,
			       rsv, held, lims);
			free(lims);
		}
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_top(struct ctx *c)
{
	const char *iv = opt(c, "interval"), *cn = opt(c, "count");
	double interval = 1.0, t0, t1;
	uint64_t count = 0, frame;
	struct sample *prev = NULL, *cur = NULL;
	size_t np = 0, nc = 0;
	bool tty = isatty(STDOUT_FILENO);
	char *end;
	int k, r;

	if (iv) {
		/* Decimal only: strtod() takes hex ("0x1"), exponents, inf. */
		interval = strtod(iv, &end);
		if (*end || iv[strspn(iv, "0123456789.")] || !(interval >= 0.05 && interval <= 3600))
			return usage_error(c->cmd, "--interval: 0.05..3600 seconds");
	}
	if (cn && (r = parse_u64_range(cn, 1, UINT32_MAX, &count)))
		return usage_error(c->cmd, "--count: %s",
				   r == -EDOM ? U64_LEADING_ZERO : "1..4294967295");
	/* As status: a NAME that is no ioband device is an error, not an empty view. */
	for (k = 0; k < c->npos; k++) {
		struct dm_dev d;
		struct iob_table t;

		r = get_ioband(c->pos[k], &d, &t);
		if (r)
			return r;
		dm_dev_free(&d);
		iob_table_free(&t);
	}
	r = take_samples(c->pos, c->npos, &prev, &np);
	if (r)
		return r;
	t0 = now_s();
	for (frame = 0; !count || frame < count; frame++) {
		struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };

		nanosleep(&ts, NULL);
		r = take_samples(c->pos, c->npos, &cur, &nc);
		if (r)
			break;
		t1 = now_s();
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (frame)
			putchar('\n');
		if (tty) {
			time_t now = time(NULL);
			char tb[64];

			strftime(tb, sizeof(tb), "%H:%M:%S", localtime(&now));
			printf("iobandctl top - %s - every %.2gs (q: ctrl-c)\n", tb, interval);
		}
		if (!nc)
			printf("no ioband devices\n");
		else
			top_frame(cur, nc, prev, np, t1 - t0 > 0 ? t1 - t0 : interval);
		fflush(stdout);
		samples_free(prev, np);
		prev = cur;
		np = nc;
		cur = NULL;
		nc = 0;
		t0 = t1;
	}
	samples_free(prev, np);
	return r;
}

/* ------------------------------------------------------------------- apply */

/*
 * Reservations in IOPS of a device group that declares no capacity,
 * against what its live status suggests the disk delivers: io_limit I/Os
 * in flight, each taking the latency measured at that depth (Little's
 * law).  An estimate (of 4 KiB I/O, and only with the automatic io_limit
 * once measured): a warning, never a refusal.  Byte rates get none.
 */
static void warn_capacity(const struct host_cfg *cfg)
{
	struct dm_dev *all;
	struct strv seen = { 0 };
	size_t n, i, k;

	if (be->list(&all, &n))
		return;
	for (i = 0; i < n; i++) {
		const struct cfg_devgroup *dg;
		struct iob_table t;
		struct iob_status st;
		const char *err;
		char *params;
		uint64_t io, by, est;

		if (!is_ioband(&all[i]) || iob_table_parse(all[i].t[0].params, &t, &err))
			continue;
		for (k = 0; k < seen.n; k++)
			if (!strcmp(seen.v[k], t.devgroup))
				break;
		dg = config_devgroup(cfg, t.devgroup);
		config_dg_reserved(cfg, t.devgroup, &io, &by);
		if (k < seen.n || (dg && dg->cap_iops.rate) || !io || be->status(all[i].name, &params)) {
			iob_table_free(&t);
			continue;
		}
		if (!iob_status_parse(params, &st, &err)) {
			if (st.has_depth && st.depth_auto && st.depth_target_us) {
				strv_add(&seen, t.devgroup);
				est = st.depth * 1000000 / st.depth_target_us;
				if (io > est)
					msg_warn("device group %s: the reservations add up to %lluiops, above the ~%lluiops the disk seems to deliver (io_limit %llu at %llu us, from %s's status; an estimate: declare capacity to check it)",
						 t.devgroup, (unsigned long long)io, (unsigned long long)est,
						 (unsigned long long)st.depth,
						 (unsigned long long)st.depth_target_us, all[i].name);
			}
			iob_status_free(&st);
		}
		free(params);
		iob_table_free(&t);
	}
	strv_free(&seen);
	dm_devs_free(all, n);
}

static int apply_locked(struct ctx *c)
{
	struct host_cfg cfg;
	struct plan p;
	char *err = NULL;
	int r;

	/* The host file, plus the guests the libvirt hook is running. */
	r = config_load(c->pos[0], &cfg, &err);
	if (!r)
		r = lv_add_recorded(&cfg, &err);
	if (!r)
		warn_capacity(&cfg);
	if (!r)
		r = plan_for_config(&cfg, &p, &err);
	else
		r = EX_CONFIG;
	if (r) {
		if (r == EX_FAIL)
			msg_err("%s", err);
		else
			fprintf(stderr, "%s\n", err);
		free(err);
		return r;
	}
	if (opt(c, "json")) {
		char *j = plan_json(&p);

		puts(j);
		free(j);
		plan_free(&p);
		return EX_OK;
	}
	if (opt(c, "dry-run"))
		return finish_plan(&p, true);
	r = plan_execute(&p);
	if (!r)
		lv_host_file_record(c->pos[0]);
	if (!r && !opt(c, "quiet")) {
		if (p.n)
			printf("applied %zu change(s)\n", p.n);
		else
			printf("nothing to do\n");
	}
	plan_free(&p);
	return r;
}

static int cmd_apply(struct ctx *c)
{
	/* The libvirt hook changes the same state: one at a time. */
	int lock, r;

	/* --json is a form of the dry run's plan: never a real apply. */
	if (opt(c, "json") && !opt(c, "dry-run"))
		return usage_error(c->cmd, "--json goes with --dry-run (the plan as JSON)");
	lock = lv_lock();
	if (lock < 0)
		return EX_FAIL;
	r = apply_locked(c);
	lv_unlock(lock);
	return r;
}

static int cmd_check(struct ctx *c)
{
	struct host_cfg cfg;
	char *err = NULL;

	if (config_load(c->pos[0], &cfg, &err)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return EX_CONFIG;
	}
	printf("%s: ok: %zu device group(s), %zu shared device(s), %zu guest(s)%s\n",
	       quote_if_needed(c->pos[0]),
	       cfg.n_dgs, cfg.n_devs, cfg.n_guests, cfg.net.present ? ", network" : "");
	config_free(&cfg);
	return EX_OK;
}

/* ------------------------------------------------------------------ cgroup */

/* ------------------------------------------------------------------- hook */

static int cmd_hook_qemu(struct ctx *c)
{
	return lv_hook_qemu(c->pos[0], c->pos[1], c->pos[2], c->pos[3]);
}

static int cmd_cgroup_create(struct ctx *c)
{
	int *pids = xcalloc(c->npos, sizeof(*pids));
	uint64_t id, v;
	char *rel = NULL;
	bool created = false;
	int i, r = check_cgroup_arg(c, c->pos[0], &rel);

	for (i = 1; !r && i < c->npos; i++) {
		int e = parse_u64_range(c->pos[i], 1, IOB_PID_MAX, &v);

		if (e)
			r = usage_error(c->cmd, "not a pid: %s%s", quote_if_needed(c->pos[i]),
					e == -EDOM ? " (" U64_LEADING_ZERO ")" : "");
		else
			pids[i - 1] = (int)v;
	}
	/* Each pid must exist before anything is created (exit 1: nothing changed). */
	for (i = 1; !r && i < c->npos; i++) {
		char *pp = xasprintf("%s/%d", proc_root(), pids[i - 1]);

		if (access(pp, F_OK)) {
			msg_err("%s: no such process", quote_if_needed(c->pos[i]));
			r = EX_FAIL;
		}
		free(pp);
	}
	if (!r && cgroup_id(rel, &id)) {
		if (bk_cgroup_create(rel))
			r = EX_FAIL;
		else
			created = true;
	}
	if (!r && c->npos > 1 && be->cgroup_move(rel, pids, c->npos - 1)) {
		/* a pid gone meanwhile: take back the cgroup made for it */
		if (created) {
			char *p = cgroup_fs_path(rel);

			if (rmdir(p))
				msg_warn("%s: cannot remove the cgroup made for these pids: %s",
					 quote_if_needed(c->pos[0]), strerror(errno));
			free(p);
		}
		r = EX_FAIL;
	}
	if (!r) {
		int e = cgroup_id(rel, &id);

		if (e) {
			msg_err("%s: %s", quote_if_needed(c->pos[0]), strerror(-e));
			r = EX_FAIL;
		} else {
			printf("%llu\n", (unsigned long long)id);
		}
	}
	free(rel);
	free(pids);
	return r;
}

static int cmd_cgroup_id(struct ctx *c)
{
	uint64_t id;
	char *rel;
	int r = check_cgroup_arg(c, c->pos[0], &rel);

	if (r)
		return r;
	r = cgroup_id(rel, &id);
	if (r) {
		char *p = cgroup_fs_path(rel);

		msg_err("%s: %s", quote_if_needed(p), strerror(-r));
		free(p);
		free(rel);
		return EX_FAIL;
	}
	free(rel);
	printf("%llu\n", (unsigned long long)id);
	return EX_OK;
}

/* ------------------------------------------------------------------- table */

#define TABLE_OPTS "group=", "type=", "policy=", "weight=", "io-throttle=", "io-limit=", "token="

static int cmd_help(struct ctx *c);

static const struct cmd cmds[] = {
	{ "create", "NAME DEVICE [--group ID] [--type T] [--policy P] [--weight W] [--io-throttle N] [--io-limit N] [--token N] [--dry-run]",
	  2, 2, { TABLE_OPTS, "dry-run" }, cmd_create,
	  "Create ioband device NAME (1..117 of A-Z a-z 0-9 _ . + -, not first . or -)\n"
	  "on block DEVICE. --group is the device-group id (1..31 of the same;\n"
	  "default NAME; devices with the same id share one scheduler), --type the\n"
	  "group type (none), --policy the policy (weight), --weight the default\n"
	  "group's weight (100). Zero io-throttle/io-limit/token mean the default;\n"
	  "joining a device group with members, the group's (give its policy)." },
	{ "remove", "NAME", 1, 1, { NULL }, cmd_remove,
	  "Remove ioband device NAME (one made by create or apply, or by dmsetup\n"
	  "without a uuid)." },
	{ "insert", "DMDEV [--group ID] [--type T] [--policy P] [--weight W] [--io-throttle N] [--io-limit N] [--token N] [--dry-run]",
	  1, 1, { TABLE_OPTS, "dry-run" }, cmd_insert,
	  "Slide an ioband layer under the device-mapper device DMDEV (an LVM LV, a\n"
	  "dm-linear) while it is in use: its table moves to a new device DMDEV-iob,\n"
	  "and DMDEV becomes ioband over DMDEV-iob, keeping its name and number.\n"
	  "Any failure is rolled back." },
	{ "eject", "DMDEV [--dry-run]", 1, 1, { "dry-run" }, cmd_eject,
	  "Undo insert: DMDEV gets its table back and DMDEV-iob is removed." },
	{ "group add", "NAME ID [weight=W]", 2, 3, { NULL }, cmd_group_add,
	  "Attach group ID (a uid, gid, pid, pgrp or cgroup id, or for type cgroup a\n"
	  "cgroup path) to ioband device NAME, with weight W (100)." },
	{ "group set", "NAME ID|default weight=W", 3, 3, { NULL }, cmd_group_set,
	  "Set the weight of group ID (or the default group) of NAME." },
	{ "group remove", "NAME ID", 2, 2, { NULL }, cmd_group_remove,
	  "Detach group ID from NAME; its I/O goes to the default group." },
	{ "status", "[NAME] [--json]", 0, 1, { "json" }, cmd_status,
	  "Show every ioband device (or NAME): table, groups, weights, reservations,\n"
	  "limits and bursts, counters." },
	{ "top", "[NAME...] [--interval SECS] [--count N]", 0, -1, { "interval=", "count=" }, cmd_top,
	  "Live per-group view, refreshed every --interval seconds (1): IOPS, MB/s,\n"
	  "the share of the device group's work each group got against its target\n"
	  "(its weight among the groups that were busy), queued bios, and whether\n"
	  "its reservation is met, how much of the interval its limit held it back,\n"
	  "its r=, l=, b=. --count stops after N refreshes." },
	{ "apply", "FILE [--dry-run [--json]] [--quiet]", 1, 1, { "dry-run", "json", "quiet" }, cmd_apply,
	  "Bring the host to the state FILE describes (see HOST FILE in iobandctl(8)):\n"
	  "only what differs changes; nothing changes when FILE is invalid; a failure\n"
	  "midway undoes what this run did. --dry-run prints the plan (--json: as\n"
	  "JSON; only with --dry-run); --quiet leaves out the line \"applied N\n"
	  "change(s)\" or \"nothing to do\". Warns when a device group without a\n"
	  "declared capacity has reservations above the IOPS its status suggests (an\n"
	  "estimate)." },
	{ "check", "FILE", 1, 1, { NULL }, cmd_check,
	  "Validate a host file without looking at the system but for the cgroup v2\n"
	  "mount (min, max, burst, and reservations against each device group's\n"
	  "declared capacity too)." },
	{ "cgroup create", "PATH [PID...]", 1, -1, { NULL }, cmd_cgroup_create,
	  "Create cgroup v2 group PATH (relative to the cgroup root) with the io\n"
	  "controller, move PIDs into it, print its id." },
	{ "cgroup id", "PATH", 1, 1, { NULL }, cmd_cgroup_id,
	  "Print the id that type cgroup uses for PATH (the inode number of its\n"
	  "cgroup v2 directory)." },
	{ "hook qemu", "NAME OP SUBOP EXTRA  (domain XML on stdin)", 4, 4, { NULL }, cmd_hook_qemu,
	  "The libvirt qemu hook (install hooks/qemu as /etc/libvirt/hooks/qemu.d/50-ioband):\n"
	  "apply the ioband policy in the domain's <metadata> as it is prepared,\n"
	  "started, stopped and released; refuse a migration this host cannot\n"
	  "meet. See docs/libvirt-hook.md." },
	{ "help", "[COMMAND]", 0, 2, { NULL }, cmd_help, "Show help." },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-v] COMMAND [ARGS]\n\ncommands:\n", progname);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].synopsis);
	fprintf(f, "\noptions: -v, --verbose (twice: libdevmapper debug)  -h, --help  --version\n"
		   "exit status: 0 ok, 1 failure, 2 usage error, 3 invalid host file or state\n"
		   "(nothing changed), 4 failed and rolled back. See iobandctl(8).\n");
}

static void cmd_help_text(FILE *f, const struct cmd *c)
{
	print_cmd_usage(f, c);
	fprintf(f, "\n%s\n", c->help);
}

static const struct cmd *find_cmd(int argc, char **argv, int *words)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const char *sp = strchr(cmds[i].name, ' ');

		if (!sp && !strcmp(argv[0], cmds[i].name)) {
			*words = 1;
			return &cmds[i];
		}
		if (sp && argc > 1 && strlen(argv[0]) == (size_t)(sp - cmds[i].name) &&
		    !strncmp(argv[0], cmds[i].name, sp - cmds[i].name) && !strcmp(argv[1], sp + 1)) {
			*words = 2;
			return &cmds[i];
		}
	}
	return NULL;
}

/*
 * The commands of the family WORD ("group", "cgroup"): with HELP on stdout
 * (exit 0: "group --help", "help group"), else on stderr after saying that
 * SUB is unknown or, without SUB, missing (exit 2).  -1: no such family.
 */
static int family_usage(const char *word, const char *sub, bool help)
{
	size_t i, wl = strlen(word);
	bool any = false;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strncmp(cmds[i].name, word, wl) && cmds[i].name[wl] == ' ')
			any = true;
	if (!any)
		return -1;
	if (!help && sub)
		fprintf(stderr, "%s: %s: unknown subcommand %s\n", progname, word, quote(sub));
	else if (!help)
		fprintf(stderr, "%s: %s: missing subcommand\n", progname, word);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strncmp(cmds[i].name, word, wl) && cmds[i].name[wl] == ' ')
			print_cmd_usage(help ? stdout : stderr, &cmds[i]);
	return help ? EX_OK : EX_USAGE;
}

static int cmd_help(struct ctx *c)
{
	const struct cmd *h;
	int words, r;

	if (!c->npos) {
		usage(stdout);
		return EX_OK;
	}
	h = find_cmd(c->npos, c->pos, &words);
	if (h && words == c->npos) {
		cmd_help_text(stdout, h);
		return EX_OK;
	}
	if (h)
		return usage_error(c->cmd, "%s takes no subcommand %s", h->name, quote(c->pos[words]));
	/* "help group": the group commands, as "group --help" */
	r = family_usage(c->pos[0], c->npos > 1 ? c->pos[1] : NULL, c->npos == 1);
	return r < 0 ? usage_error(c->cmd, "unknown command %s", quote(c->pos[0])) : r;
}

/* An option word (not a positional argument: "-", "-5" are those). */
static bool is_option(const char *a)
{
	return a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9');
}

static int run(const struct cmd *cmd, int argc, char **argv)
{
	struct ctx c = { .cmd = cmd };
	bool dashdash = false;
	int i, k;

	c.pos = xcalloc(argc + 1, sizeof(*c.pos));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t nl;

		if (dashdash || !is_option(a)) {
			c.pos[c.npos++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			free(c.pos);
			cmd_help_text(stdout, cmd);
			return EX_OK;
		}
		if (strncmp(a, "--", 2)) {
			free(c.pos);
			return usage_error(cmd, "unknown option %s", quote(a));
		}
		a += 2;
		eq = strchr(a, '=');
		nl = eq ? (size_t)(eq - a) : strlen(a);
		for (k = 0; k < MAX_OPTS && cmd->opts[k]; k++) {
			size_t ol = strcspn(cmd->opts[k], "=");

			if (ol == nl && !strncmp(cmd->opts[k], a, nl))
				break;
		}
		if (k == MAX_OPTS || !cmd->opts[k]) {
			char *o = xstrndup(a - 2, nl + 2);
			int r = usage_error(cmd, "unknown option %s", quote(o));

			free(o);
			free(c.pos);
			return r;
		}
		if (c.set[k]) {
			free(c.pos);
			return usage_error(cmd, "--%.*s given twice", (int)nl, a);
		}
		c.set[k] = true;
		if (strchr(cmd->opts[k], '=')) {
			if (eq) {
				c.val[k] = eq + 1;
			} else if (i + 1 < argc && !is_option(argv[i + 1])) {
				/* Never the next option: "--group --dry-run" is no group id. */
				c.val[k] = argv[++i];
			} else {
				free(c.pos);
				return usage_error(cmd, "--%s needs a value", a);
			}
		} else if (eq) {
			free(c.pos);
			return usage_error(cmd, "--%.*s takes no value", (int)nl, a);
		}
	}
	if (c.npos < cmd->min_args) {
		free(c.pos);
		return usage_error(cmd, "missing arguments");
	}
	if (cmd->max_args >= 0 && c.npos > cmd->max_args) {
		free(c.pos);
		return usage_error(cmd, "too many arguments");
	}
	i = cmd->fn(&c);
	free(c.pos);
	return i;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;
	int words, r, i = 1;

	be = backend_default();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "-vv")) {
			verbose += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EX_OK;
		} else if (!strcmp(argv[i], "--version")) {
			if (i + 1 < argc)
				return usage_error(NULL, "--version takes no arguments");
			printf("iobandctl %s (%s)\n", IOBAND_VERSION, be->name);
			return EX_OK;
		} else {
			return usage_error(NULL, "unknown option %s", quote(argv[i]));
		}
	}
	if (i == argc) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = find_cmd(argc - i, argv + i, &words);
	if (!cmd) {
		const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
		bool help = sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h"));

		r = family_usage(argv[i], help ? NULL : sub, help);
		if (r >= 0)
			return r;
		return usage_error(NULL, "unknown command %s", quote(argv[i]));
	}
	r = run(cmd, argc - i - words, argv + i + words);
	if (be->done)
		be->done();
	/* As git does: a full disk must not look like success. */
	if (fflush(stdout) || ferror(stdout)) {
		msg_err("write failure on standard output: %s", strerror(errno));
		return EX_FAIL;
	}
	return r;
}
