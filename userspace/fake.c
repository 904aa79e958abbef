// SPDX-License-Identifier: GPL-2.0
/*
 * fake.c - a device-mapper stand-in for tests (linked into
 * tests/iobandctl-fake only, never into iobandctl).
 *
 * State lives in the JSON file named by IOBAND_FAKE_DM:
 *
 *   { "disks":   { "/dev/sdb": { "dev": "8:16", "size": 2097152 } },
 *     "devices": [ { "name": "x", "uuid": "", "minor": 0, "open": 0,
 *                    "suspended": false, "table": [ [0, 2048, "linear", "8:16 0"] ],
 *                    "inactive": null, "counters": { "-1": [r, dr, rs, w, dw, ws, q, us] } } ],
 *     "next_minor": 1, "log": [ "x: weight 50" ] }
 *
 * "log" records every message the fake accepted (but stats), as
 * "<device>: <message>", for tests of what apply and the hook send.  A
 * device's counters may go on with [..., rsv-lag-us, limited-us, unmet
 * (0/1), rsv-sectors] for the status's limits part and the stats' rsv=
 * fields ("reset" clears all but queued, the lag and unmet, as the
 * module).  The device group's figures, as the module has them (one for
 * all its members; the fake takes them from the first member that has
 * them): "depth_us": [base, target] gives the automatic depth part's
 * latencies (0 0 otherwise, and with a fixed io_limit, as the module),
 * "refused": [count, tags] the refused part (none while count is 0; tags
 * 0 with a fixed io_limit), and "dglimit_us" the dglimit part's figure (0
 * otherwise) when the table has a device-group limit.
 *
 * ioband tables are normalised the way the kernel prints them (device as
 * maj:min; io_throttle, io_limit and token_base as configured, 0 = default
 * or automatic; groups by ascending id, as table, status and stats list
 * them) and the ioband messages are applied to the stored table.  The
 * module keeps the shared parameters (policy with its l= and b=,
 * io_throttle, io_limit, token_base) per device group: a member joining
 * agrees with the others' or inherits them, and a message changes them on
 * every member's table.  A reload of a device group's only member marks
 * it "pending" (the device group) until its resume or clear: no other
 * device joins meanwhile.  No member may sit on another.
 * Tables and messages are parsed by the module's own parser (kparse.c)
 * and taken or refused by its rules, with its errno; "dmesg" records the
 * reason of each refusal as the module (through dm core, for a table)
 * logs it.  A device's "kept" holds what its
 * policy does not show, which the module keeps across policy changes
 * (weights, r=, l=, b= under range-bw; ranges under the others), as a
 * table under the other kind of policy.
 * The status has the kernel's depth part: FAKE_LIMIT, automatic, while
 * io_limit is 0.  cgroups are plain
 * directories under IOBAND_CGROUP_ROOT.
 */
#include "backend.h"
#include "ioband.h"
#include "kparse.h"
#include "util.h"

#include <errno.h>
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAKE_MAJOR 253
#define FAKE_LIMIT 192

static json_object *st;
static char *st_path;

static void fake_load(void)
{
	if (st)
		return;
	st_path = getenv("IOBAND_FAKE_DM");
	if (!st_path || !*st_path) {
		msg_err("fake backend: set IOBAND_FAKE_DM to a state file");
		exit(EX_FAIL);
	}
	st = access(st_path, F_OK) ? NULL : json_object_from_file(st_path);
	if (!st && !access(st_path, F_OK)) {
		msg_err("fake backend: cannot parse %s", st_path);
		exit(EX_FAIL);
	}
	if (!st)
		st = json_object_new_object();
	if (!json_object_object_get_ex(st, "disks", NULL))
		json_object_object_add(st, "disks", json_object_new_object());
	if (!json_object_object_get_ex(st, "devices", NULL))
		json_object_object_add(st, "devices", json_object_new_array());
	if (!json_object_object_get_ex(st, "next_minor", NULL))
		json_object_object_add(st, "next_minor", json_object_new_int(0));
}

static void fake_save(void)
{
	char *tmp = xasprintf("%s.tmp", st_path);

	if (json_object_to_file_ext(tmp, st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED) ||
	    rename(tmp, st_path)) {
		msg_err("fake backend: cannot write %s", st_path);
		exit(EX_FAIL);
	}
	free(tmp);
}

/* A line of what the module logs (dmesg), kept in the state's "dmesg". */
static void klog(const char *fmt, ...) PRINTF(1, 2);

static json_object *jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static void klog(const char *fmt, ...)
{
	json_object *k = jget(st, "dmesg");
	struct strbuf sb = { 0 };
	va_list ap;

	if (!k) {
		k = json_object_new_array();
		json_object_object_add(st, "dmesg", k);
	}
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	json_object_array_add(k, json_object_new_string(sb.s));
	sb_free(&sb);
}

static json_object *devices(void)
{
	fake_load();
	return jget(st, "devices");
}

static json_object *find_dev(const char *name, size_t *idx)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);

		if (!strcmp(json_object_get_string(jget(d, "name")), name)) {
			if (idx)
				*idx = i;
			return d;
		}
	}
	return NULL;
}

static int table_from_json(json_object *t, struct dm_tline **out, size_t *n)
{
	size_t i;

	*out = NULL;
	*n = 0;
	if (!t || json_object_get_type(t) != json_type_array)
		return 0;
	for (i = 0; i < json_object_array_length(t); i++) {
		json_object *l = json_object_array_get_idx(t, i);
		struct dm_tline *tl = vec_push(out, n, sizeof(*tl));

		tl->start = json_object_get_int64(json_object_array_get_idx(l, 0));
		tl->len = json_object_get_int64(json_object_array_get_idx(l, 1));
		tl->type = xstrdup(json_object_get_string(json_object_array_get_idx(l, 2)));
		tl->params = xstrdup(json_object_get_string(json_object_array_get_idx(l, 3)));
	}
	return 0;
}

static void fill(json_object *d, struct dm_dev *out)
{
	memset(out, 0, sizeof(*out));
	out->name = xstrdup(json_object_get_string(jget(d, "name")));
	out->uuid = xstrdup(jget(d, "uuid") ? json_object_get_string(jget(d, "uuid")) : "");
	out->major = FAKE_MAJOR;
	out->minor = json_object_get_int(jget(d, "minor"));
	out->open_count = json_object_get_int(jget(d, "open"));
	out->suspended = json_object_get_boolean(jget(d, "suspended"));
	out->inactive_table = jget(d, "inactive") && json_object_get_type(jget(d, "inactive")) == json_type_array;
	table_from_json(jget(d, "table"), &out->t, &out->nt);
}

static int fk_list(struct dm_dev **devs, size_t *n)
{
	json_object *a = devices();
	size_t i;

	*devs = NULL;
	*n = 0;
	for (i = 0; i < json_object_array_length(a); i++)
		fill(json_object_array_get_idx(a, i), vec_push(devs, n, sizeof(**devs)));
	return 0;
}

static int fk_get(const char *name, struct dm_dev *d)
{
	json_object *o = find_dev(name, NULL);

	if (!o)
		return -ENODEV;
	fill(o, d);
	return 0;
}

static int fk_resolve(const char *path, unsigned int *maj, unsigned int *min, uint64_t *sectors)
{
	json_object *disks, *a = devices();
	unsigned int ma, mi;
	char c;
	size_t i;

	disks = jget(st, "disks");
	json_object_object_foreach(disks, k, v) {
		const char *dev = json_object_get_string(jget(v, "dev"));

		if (!strcmp(k, path) || !strcmp(dev, path)) {
			if (sscanf(dev, "%u:%u", maj, min) != 2)
				return -EINVAL;
			*sectors = json_object_get_int64(jget(v, "size"));
			return 0;
		}
	}
	bool by_name = !strncmp(path, "/dev/mapper/", 12);

	if (!by_name && sscanf(path, "%u:%u%c", &ma, &mi, &c) != 2)
		return -ENOENT;
	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		const char *name = json_object_get_string(jget(d, "name"));
		int minor = json_object_get_int(jget(d, "minor"));
		struct dm_tline *t;
		size_t n;

		if (by_name ? !strcmp(path + 12, name) :
		    (ma == FAKE_MAJOR && mi == (unsigned int)minor)) {
			*maj = FAKE_MAJOR;
			*min = minor;
			table_from_json(jget(d, "table"), &t, &n);
			*sectors = dm_tlines_size(t, n);
			dm_tlines_free(t, n);
			return 0;
		}
	}
	return -ENOENT;
}

/* The ioband table of the one-line table TAB (as stored); -EINVAL: none. */
static int ioband_of_table(json_object *tab, struct iob_table *t)
{
	json_object *l;
	const char *err;

	if (!tab || json_object_get_type(tab) != json_type_array || json_object_array_length(tab) != 1)
		return -EINVAL;
	l = json_object_array_get_idx(tab, 0);
	if (strcmp(json_object_get_string(json_object_array_get_idx(l, 2)), IOB_TARGET))
		return -EINVAL;
	return iob_table_parse(json_object_get_string(json_object_array_get_idx(l, 3)), t, &err);
}

/* Device D's live ioband table. */
static int ioband_of(json_object *d, struct iob_table *t)
{
	return ioband_of_table(jget(d, "table"), t);
}

/*
 * The table of a live member of device group DEVGROUP other than EXCEPT,
 * which has the device group's shared parameters (the module keeps them
 * per device group, and every member's table shows them); false: none.
 */
static bool dg_member(const char *devgroup, const char *except, struct iob_table *dg)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);

		if (strcmp(json_object_get_string(jget(d, "name")), except) && !ioband_of(d, dg)) {
			if (!strcmp(dg->devgroup, devgroup))
				return true;
			iob_table_free(dg);
		}
	}
	return false;
}

/*
 * Whether another device than EXCEPT has a reload into DEVGROUP pending
 * that brings the device group's shared parameters at its resume (a
 * reload of its only member, marked "pending").
 */
static bool dg_pending(const char *devgroup, const char *except)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i), *p = jget(d, "pending");

		if (p && strcmp(json_object_get_string(jget(d, "name")), except) &&
		    !strcmp(json_object_get_string(p), devgroup))
			return true;
	}
	return false;
}

/*
 * Whether table T (on MA:MI) of device NAME sits on a live member of its
 * device group, or such a member sits on NAME, as
 * ioband_devgroup_members_ok() refuses it: the upper device's bio would
 * hold a slot of the shared bound that the lower's waits for.
 */
static bool dg_stacked(const char *name, const struct iob_table *t, unsigned int ma,
		       unsigned int mi)
{
	json_object *a = devices(), *self = find_dev(name, NULL);
	unsigned int oma, omi;
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		struct iob_table o;
		bool on;

		if (d == self || ioband_of(d, &o))
			continue;
		on = !strcmp(o.devgroup, t->devgroup) &&
		     ((ma == FAKE_MAJOR && (int)mi == json_object_get_int(jget(d, "minor"))) ||
		      (self && sscanf(o.device, "%u:%u", &oma, &omi) == 2 && oma == FAKE_MAJOR &&
		       (int)omi == json_object_get_int(jget(self, "minor"))));
		iob_table_free(&o);
		if (on)
			return true;
	}
	return false;
}

/*
 * What keeps table T (the policy giving l= and b= when HAS_LIM, HAS_BST)
 * out of the device group whose member has table DG, as
 * ioband_devgroup_join(): NULL, or the module's reason.
 */
static const char *join_problem(const struct iob_table *t, bool has_lim, bool has_bst,
				const struct iob_table *dg)
{
	static const char *const why[] = {
		[IOB_JOIN_POLICY] = "Device group already uses another policy (change it with the policy message)",
		[IOB_JOIN_THROTTLE] = "io_throttle differs from the device group's (give 0 to inherit)",
		[IOB_JOIN_LIMIT] = "io_limit differs from the device group's (give 0 to inherit)",
		[IOB_JOIN_TOKEN] = "token_base differs from the device group's (give 0 to inherit)",
		[IOB_JOIN_LIM] = "The policy's l= differs from the device group's (leave it out to inherit)",
		[IOB_JOIN_BST] = "The policy's b= differs from the device group's (leave it out to inherit)",
	};

	return why[iob_join_conflict(t, has_lim, has_bst, dg)];
}

static int cmp_group(const void *a, const void *b)
{
	uint64_t x = ((const struct iob_group *)a)->id, y = ((const struct iob_group *)b)->id;

	return x < y ? -1 : x > y;
}

/* T's groups by ascending id: the module's order in table, status and stats. */
static void sort_groups(struct iob_table *t)
{
	if (t->n_groups)
		qsort(t->groups, t->n_groups, sizeof(*t->groups), cmp_group);
}

/*
 * Normalise an ioband table as the kernel would print it: 0, or -errno
 * with *WHY what the module says (ti->error).  The module's own parser
 * (kparse.c) takes or refuses it; the fake holds it as iob_table_parse()
 * reads it.
 */
static int normalise(const char *name, const struct dm_tline *in, json_object **line,
		     const char **why)
{
	char *params = xstrdup(in->params);

	if (!strcmp(in->type, IOB_TARGET)) {
		struct iob_table t, dg;
		bool has_lim, has_bst;
		unsigned int ma, mi;
		uint64_t sz;

		free(params);
		if (iob_kparse_table(in->params, &has_lim, &has_bst, why) ||
		    iob_table_parse(in->params, &t, why))
			return -EINVAL;
		if (fk_resolve(t.device, &ma, &mi, &sz)) {
			*why = "Device lookup failed";
			iob_table_free(&t);
			return -ENODEV;
		}
		if (dg_stacked(name, &t, ma, mi)) {
			*why = "The device is stacked on (or under) a member of its device group: give it another group";
			iob_table_free(&t);
			return -EINVAL;
		}
		if (dg_pending(t.devgroup, name)) {
			*why = "The device group's other device has a reload pending: resume or clear it first";
			iob_table_free(&t);
			return -EBUSY;
		}
		/*
		 * A member joining agrees with the device group's shared
		 * parameters (0, or no l=, b=: inherited), and shows them.
		 */
		if (dg_member(t.devgroup, name, &dg)) {
			*why = join_problem(&t, has_lim, has_bst, &dg);
			t.io_throttle = dg.io_throttle;
			t.io_limit = dg.io_limit;
			t.token_base = dg.token_base;
			t.dg_lim = dg.dg_lim;
			iob_table_free(&dg);
			if (*why) {
				iob_table_free(&t);
				return -EINVAL;
			}
		}
		free(t.device);
		t.device = xasprintf("%u:%u", ma, mi);
		sort_groups(&t);
		params = iob_table_format(&t);
		iob_table_free(&t);
	}
	*line = json_object_new_array();
	json_object_array_add(*line, json_object_new_int64(in->start));
	json_object_array_add(*line, json_object_new_int64(in->len));
	json_object_array_add(*line, json_object_new_string(in->type));
	json_object_array_add(*line, json_object_new_string(params));
	free(params);
	return 0;
}

/*
 * The table T of N lines for device NAME (its minor MINOR), normalised;
 * refused as dm refuses it: the module's reason logged, WHAT ("create",
 * "reload") failed.
 */
static int make_table(const char *name, int minor, const char *what, const struct dm_tline *t,
		      size_t n, json_object **out)
{
	const char *why = NULL;
	size_t i;
	int r = 0;

	*out = json_object_new_array();
	for (i = 0; i < n && !r; i++) {
		json_object *l;

		r = normalise(name, &t[i], &l, &why);
		if (!r)
			json_object_array_add(*out, l);
	}
	if (r) {
		klog("device-mapper: table: %d:%d: %s: %s (%s)", FAKE_MAJOR, minor, t[i - 1].type,
		     why ? why : "failed", r == -EBUSY ? "-EBUSY" : r == -ENODEV ? "-ENODEV" : "-EINVAL");
		msg_err("%s %s: %s", what, quote_if_needed(name), strerror(-r));
		json_object_put(*out);
		fake_save();
	}
	return r;
}

static int fk_create(const char *name, const char *uuid, const struct dm_tline *t, size_t n)
{
	json_object *d, *tab;
	int minor, r;

	if (find_dev(name, NULL)) {
		msg_err("create %s: %s", quote_if_needed(name), strerror(EEXIST));
		return -EEXIST;
	}
	minor = json_object_get_int(jget(st, "next_minor"));
	r = make_table(name, minor, "create", t, n, &tab);
	if (r)
		return r;
	json_object_object_add(st, "next_minor", json_object_new_int(minor + 1));
	d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "uuid", json_object_new_string(uuid ? uuid : ""));
	json_object_object_add(d, "minor", json_object_new_int(minor));
	json_object_object_add(d, "open", json_object_new_int(0));
	json_object_object_add(d, "suspended", json_object_new_boolean(0));
	json_object_object_add(d, "table", tab);
	json_object_array_add(devices(), d);
	fake_save();
	return 0;
}

static int fk_reload(const char *name, const struct dm_tline *t, size_t n)
{
	json_object *d = find_dev(name, NULL), *tab;
	struct iob_table nt, lt, o;
	int r;

	if (!d)
		return -ENODEV;
	r = make_table(name, json_object_get_int(jget(d, "minor")), "reload", t, n, &tab);
	if (r)
		return r;
	json_object_object_add(d, "inactive", tab);
	json_object_object_del(d, "pending");
	/*
	 * A reload of its device group's only member brings the shared
	 * parameters at its resume; until then no other device joins.
	 */
	if (!ioband_of_table(tab, &nt)) {
		if (!ioband_of(d, &lt)) {
			if (dg_member(nt.devgroup, name, &o))
				iob_table_free(&o);
			else if (!strcmp(lt.devgroup, nt.devgroup))
				json_object_object_add(d, "pending", json_object_new_string(nt.devgroup));
			iob_table_free(&lt);
		}
		iob_table_free(&nt);
	}
	fake_save();
	return 0;
}

static int fk_suspend(const char *name)
{
	json_object *d = find_dev(name, NULL);

	if (!d)
		return -ENODEV;
	json_object_object_add(d, "suspended", json_object_new_boolean(1));
	fake_save();
	return 0;
}

static int fk_resume(const char *name)
{
	json_object *d = find_dev(name, NULL), *in;

	if (!d)
		return -ENODEV;
	in = jget(d, "inactive");
	json_object_object_del(d, "pending");
	if (in && json_object_get_type(in) == json_type_array) {
		json_object_object_add(d, "table", json_object_get(in));
		json_object_object_del(d, "inactive");
		json_object_object_del(d, "counters");
		json_object_object_del(d, "kept");
	}
	json_object_object_add(d, "suspended", json_object_new_boolean(0));
	fake_save();
	return 0;
}

static int fk_clear(const char *name)
{
	json_object *d = find_dev(name, NULL);

	if (!d)
		return -ENODEV;
	json_object_object_del(d, "inactive");
	json_object_object_del(d, "pending");
	fake_save();
	return 0;
}

static int fk_remove(const char *name)
{
	size_t idx;
	json_object *d = find_dev(name, &idx);

	if (!d)
		return -ENODEV;
	if (json_object_get_int(jget(d, "open"))) {
		msg_err("remove %s: %s", quote_if_needed(name), strerror(EBUSY));
		return -EBUSY;
	}
	json_object_array_del_idx(devices(), idx, 1);
	fake_save();
	return 0;
}

/*
 * r, dr, rs, w, dw, ws, queued, wait-us, rsv-lag-us, limited-us, unmet,
 * rsv-sectors
 */
#define FAKE_COUNTERS 12

static void counters(json_object *d, int64_t id, uint64_t v[FAKE_COUNTERS])
{
	json_object *c = jget(d, "counters"), *a;
	char key[32];
	size_t i;

	memset(v, 0, FAKE_COUNTERS * sizeof(*v));
	snprintf(key, sizeof(key), "%lld", (long long)id);
	a = c ? jget(c, key) : NULL;
	for (i = 0; a && i < FAKE_COUNTERS && i < json_object_array_length(a); i++)
		v[i] = json_object_get_int64(json_object_array_get_idx(a, i));
}

/*
 * The reset message: the counters, each group's limited-us and
 * rsv-sectors; not what is held now, a lag or an unmet reservation.
 */
static void counters_reset(json_object *d)
{
	json_object *c = jget(d, "counters");
	size_t i;

	if (!c)
		return;
	json_object_object_foreach(c, id, a) {
		(void)id;
		for (i = 0; i < json_object_array_length(a); i++)
			if (i != 6 && i != 8 && i != 10)
				json_object_array_put_idx(a, i, json_object_new_int64(0));
	}
}

/*
 * Whether the module shows T's limits part (and the stats' rsv= fields):
 * under range-bw, or when a group has r=, l= or b=.
 */
static bool shows_limits(const struct iob_table *t)
{
	size_t i;

	for (i = 0; i < t->n_groups; i++)
		if (iob_limits_any(&t->groups[i].lim))
			return true;
	return t->policy == IOB_RANGE_BW || iob_limits_any(&t->default_lim);
}

/* Group I of T, the default group first, as the module walks them. */
struct gview {
	int64_t id;
	unsigned int weight, min_kbs, max_kbs;
	const struct iob_limits *lim;
};

static struct gview group_at(const struct iob_table *t, size_t i)
{
	const struct iob_group *g = i ? &t->groups[i - 1] : NULL;

	if (!g)
		return (struct gview){ IOB_DEFAULT_GROUP, t->default_weight, t->default_min_kbs,
				       t->default_max_kbs, &t->default_lim };
	return (struct gview){ (int64_t)g->id, g->weight, g->min_kbs, g->max_kbs, &g->lim };
}

/*
 * Group G's reservation state, as the module names it: "-" without one
 * (r=; under range-bw a min), else from counter 10 (unmet).
 */
static const char *rsv_state(const struct iob_table *t, const struct gview *g,
			     const uint64_t v[FAKE_COUNTERS])
{
	bool rsv = t->policy == IOB_RANGE_BW ? g->min_kbs : g->lim->rsv.rate;

	return !rsv ? "-" : v[10] ? "unmet" : "met";
}

/*
 * A figure the module has per device group (the depth's latencies, the
 * bios the disk refused, the time the device group's limit held bios):
 * KEY of the first member of T's device group that has one.
 */
static json_object *dg_figure(const struct iob_table *t, const char *key)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i), *v = jget(d, key);
		struct iob_table o;
		bool same;

		if (!v || ioband_of(d, &o))
			continue;
		same = !strcmp(o.devgroup, t->devgroup);
		iob_table_free(&o);
		if (same)
			return v;
	}
	return NULL;
}

/* Element I of array V (-1: V itself), 0 without it. */
static long long jint(json_object *v, int i)
{
	if (v && i >= 0)
		v = json_object_get_type(v) == json_type_array ? json_object_array_get_idx(v, i) : NULL;
	return v ? (long long)json_object_get_int64(v) : 0;
}

static int fk_status(const char *name, char **params)
{
	json_object *d = find_dev(name, NULL);
	struct strbuf sb = { 0 };
	struct iob_table t;
	json_object *dus, *ref;
	bool has_lim;
	uint64_t v[FAKE_COUNTERS];
	size_t i;

	if (!d)
		return -ENODEV;
	if (ioband_of(d, &t)) {
		*params = xstrdup("");
		return 0;
	}
	sb_adds(&sb, t.devgroup);
	for (i = 0; i <= t.n_groups; i++) {
		int64_t id = i ? (int64_t)t.groups[i - 1].id : -1;

		counters(d, id, v);
		sb_addf(&sb, " %lld %llu %llu %llu %llu %llu %llu", (long long)id,
			(unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
			(unsigned long long)v[3], (unsigned long long)v[4], (unsigned long long)v[5]);
	}
	sb_adds(&sb, " ext");
	for (i = 0; i <= t.n_groups; i++) {
		int64_t id = i ? (int64_t)t.groups[i - 1].id : -1;

		counters(d, id, v);
		sb_addf(&sb, " %lld %llu %llu", (long long)id, (unsigned long long)v[6],
			(unsigned long long)v[7]);
	}
	/* the latencies with the automatic depth only */
	dus = t.io_limit ? NULL : dg_figure(&t, "depth_us");
	sb_addf(&sb, " depth %u %s %lld %lld", t.io_limit ? t.io_limit : FAKE_LIMIT,
		t.io_limit ? "fixed" : "auto", jint(dus, 0), jint(dus, 1));
	/* once the disk refused bios; the tags learned with the automatic depth only */
	ref = dg_figure(&t, "refused");
	if (jint(ref, 0))
		sb_addf(&sb, " refused %lld %lld", jint(ref, 0), t.io_limit ? 0LL : jint(ref, 1));
	/* The device group's own limit: the time it held bios ("dglimit_us"). */
	if (t.dg_lim.lim.rate)
		sb_addf(&sb, " dglimit %lld", jint(dg_figure(&t, "dglimit_us"), -1));
	/* The limits part, as the module: range-bw, or any r=, l= or b=. */
	has_lim = shows_limits(&t);
	if (has_lim)
		sb_adds(&sb, " limits");
	for (i = 0; has_lim && i <= t.n_groups; i++) {
		struct gview g = group_at(&t, i);

		counters(d, g.id, v);
		sb_addf(&sb, " %lld %s %llu %llu", (long long)g.id, rsv_state(&t, &g, v),
			(unsigned long long)v[8], (unsigned long long)v[9]);
	}
	iob_table_free(&t);
	*params = sb_steal(&sb);
	return 0;
}

/*
 * Into T, from K (the same device's table under the other kind of
 * policy): what T's policy does not show, which the module keeps across
 * policies: the weights, reservations and limits under range-bw, the
 * ranges under the others.
 */
static void kept_merge(struct iob_table *t, const struct iob_table *k)
{
	bool ranges = t->policy == IOB_RANGE_BW;
	size_t i;

	if (ranges) {
		t->default_weight = k->default_weight;
		t->default_lim = k->default_lim;
	} else {
		t->default_min_kbs = k->default_min_kbs;
		t->default_max_kbs = k->default_max_kbs;
	}
	for (i = 0; i < t->n_groups; i++) {
		struct iob_group *g = &t->groups[i];
		const struct iob_group *o = iob_table_group(k, g->id);

		if (o && ranges) {
			g->weight = o->weight;
			g->lim = o->lim;
		} else if (o) {
			g->min_kbs = o->min_kbs;
			g->max_kbs = o->max_kbs;
		}
	}
}

/* D's table, with what its policy does not show (D's "kept"). */
static int ioband_full(json_object *d, struct iob_table *t)
{
	json_object *kept = jget(d, "kept");
	struct iob_table k;
	const char *err;
	int r = ioband_of(d, t);

	if (!r && kept && !iob_table_parse(json_object_get_string(kept), &k, &err)) {
		kept_merge(t, &k);
		iob_table_free(&k);
	}
	return r;
}

/* T as D's table; what its policy does not show as D's "kept". */
static void table_store(json_object *d, struct iob_table *t)
{
	enum iob_policy p = t->policy;
	char *s = iob_table_format(t);

	json_object_array_put_idx(json_object_array_get_idx(jget(d, "table"), 0), 3,
				  json_object_new_string(s));
	free(s);
	t->policy = p == IOB_RANGE_BW ? IOB_WEIGHT : IOB_RANGE_BW;
	s = iob_table_format(t);
	t->policy = p;
	json_object_object_add(d, "kept", json_object_new_string(s));
	free(s);
}

/*
 * range-bw weighs a group by its min, shifted right so that the largest
 * min of the device group's live members (kept under another policy too)
 * fits 15 bits (ioband_range_refit(), ioband_range_weight()): the shift
 * for DEVGROUP.
 */
static unsigned int range_shift(const char *devgroup)
{
	json_object *a = devices();
	unsigned int max_min = 0, shift = 0;
	size_t i, j;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct iob_table t;

		if (ioband_full(json_object_array_get_idx(a, i), &t))
			continue;
		for (j = 0; !strcmp(t.devgroup, devgroup) && j <= t.n_groups; j++)
			if (group_at(&t, j).min_kbs > max_min)
				max_min = group_at(&t, j).min_kbs;
		iob_table_free(&t);
	}
	while ((max_min >> shift) > IOB_WEIGHT_MAX)
		shift++;
	return shift;
}

/* The stats message's reply, as ioband_msg_stats(). */
static char *stats_reply(json_object *d, const struct iob_table *t)
{
	bool ranges = t->policy == IOB_RANGE_BW, has_lim = shows_limits(t);
	unsigned int shift = ranges ? range_shift(t->devgroup) : 0;
	struct strbuf sb = { 0 };
	uint64_t c[FAKE_COUNTERS];
	size_t i;

	for (i = 0; i <= t->n_groups; i++) {
		struct gview g = group_at(t, i);
		/* range-bw: the weight its min gives (1 for a min below the step) */
		unsigned int w = !ranges ? g.weight : g.min_kbs >> shift ? g.min_kbs >> shift : 1;

		counters(d, g.id, c);
		sb_addf(&sb, "%s%lld weight=%u reads=%llu read_sectors=%llu writes=%llu write_sectors=%llu delayed_reads=%llu delayed_writes=%llu queued=%llu wait_us=%llu",
			i ? "\n" : "", (long long)g.id, w,
			(unsigned long long)c[0], (unsigned long long)c[2],
			(unsigned long long)c[3], (unsigned long long)c[5],
			(unsigned long long)c[1], (unsigned long long)c[4],
			(unsigned long long)c[6], (unsigned long long)c[7]);
		if (ranges)
			sb_addf(&sb, " min_kbs=%u max_kbs=%u", g.min_kbs, g.max_kbs);
		if (has_lim)
			sb_addf(&sb, " rsv=%s rsv_lag_us=%llu limited_us=%llu rsv_sectors=%llu",
				rsv_state(t, &g, c), (unsigned long long)c[8], (unsigned long long)c[9],
				(unsigned long long)c[11]);
	}
	return sb_steal(&sb);
}

/* A group's parameters: the default group's, or an attached one's. */
struct gref {
	unsigned int *weight, *min_kbs, *max_kbs;
	struct iob_limits *lim;
};

/* The group M names in T ([<id>:]..., none: the default group); false: not attached. */
static bool group_ref(struct iob_table *t, const struct iob_kmsg *m, struct gref *g)
{
	struct iob_group *x = m->has_id ? iob_table_group(t, m->id) : NULL;

	if (!m->has_id)
		*g = (struct gref){ &t->default_weight, &t->default_min_kbs, &t->default_max_kbs,
				    &t->default_lim };
	else if (x)
		*g = (struct gref){ &x->weight, &x->min_kbs, &x->max_kbs, &x->lim };
	return !m->has_id || x;
}

/*
 * reserve, limit, burst on the group's limits L, as ioband_msg_rate(): a
 * reservation not above the limit, a limit not below it and below the
 * burst (in its unit), limit 0 taking the burst too.
 */
static int set_rate(struct iob_limits *l, const struct iob_kmsg *m, const char **why)
{
	const struct iob_rate *r = &m->rate;

	if (!strcmp(m->verb, "reserve")) {
		if (r->rate && l->lim.rate && r->iops == l->lim.iops && r->rate > l->lim.rate) {
			*why = "The reservation would be above the group's limit";
			return -EINVAL;
		}
		l->rsv = *r;
	} else if (!strcmp(m->verb, "limit")) {
		if (r->rate && l->rsv.rate && r->iops == l->rsv.iops && r->rate < l->rsv.rate) {
			*why = "The limit would be below the group's reservation";
			return -EINVAL;
		}
		if (r->rate && l->burst.rate && (r->iops != l->burst.iops || r->rate >= l->burst.rate)) {
			*why = "The limit would not be below the group's burst (change or remove the burst first)";
			return -EINVAL;
		}
		l->lim = *r;
	} else {
		*why = iob_kburst_problem(r, &l->lim);
		if (*why)
			return -EINVAL;
		l->burst = *r;
		l->burst_secs = m->burst_secs;
	}
	if (!l->lim.rate)
		memset(&l->burst, 0, sizeof(l->burst));
	if (!l->burst.rate)
		l->burst_secs = 0;
	return 0;
}

/*
 * policy <policy>[,l=<rate>][,b=<rate>/<secs>], as ioband_dg_limit_merge():
 * what is not given stays, a limit of 0 takes the burst with it, and the
 * burst must go with the limit.
 */
static int set_policy(struct iob_table *t, const struct iob_kmsg *m, const char **why)
{
	struct iob_limits nl = t->dg_lim;

	if (m->has_lim)
		nl.lim = m->dg_lim.lim;
	if (m->has_bst) {
		nl.burst = m->dg_lim.burst;
		nl.burst_secs = m->dg_lim.burst_secs;
	} else if (!nl.lim.rate) {
		memset(&nl.burst, 0, sizeof(nl.burst));
	}
	*why = iob_kburst_problem(&nl.burst, &nl.lim);
	if (*why)
		return -EINVAL;
	if (!nl.burst.rate)
		nl.burst_secs = 0;
	t->policy = m->policy;
	t->dg_lim = nl;
	return 0;
}

/*
 * Message M (its words parsed as the module parses them) on T, the table
 * of D, as ioband_apply_msg(): 0 (stats: its *REPLY), or -errno with *WHY
 * the reason the module logs.
 */
static int apply_msg(json_object *d, struct iob_table *t, const struct iob_kmsg *m, char **reply,
		     const char **why)
{
	bool ranges = t->policy == IOB_RANGE_BW;
	const char *v = m->verb;
	struct gref g;

	if (!strcmp(v, "stats")) {
		if (reply)
			*reply = stats_reply(d, t);
		return 0;
	}
	if (!strcmp(v, "reset")) {
		counters_reset(d);
		return 0;
	}
	if (!strcmp(v, "weight") && ranges) {
		*why = "The range-bw policy has no weights (range-bw <group-id>:<min>:<max>)";
		return -EINVAL;
	}
	if (!strcmp(v, "range-bw") && !ranges) {
		*why = "Ranges need the range-bw policy (message policy range-bw first)";
		return -EINVAL;
	}
	if ((!strcmp(v, "reserve") || !strcmp(v, "limit") || !strcmp(v, "burst")) && ranges) {
		*why = "range-bw has min:max, not reserve/limit (range-bw <group-id>:<min>:<max>)";
		return -EINVAL;
	}
	if (!strcmp(v, "weight") || !strcmp(v, "range-bw") || !strcmp(v, "reserve") ||
	    !strcmp(v, "limit") || !strcmp(v, "burst")) {
		if (!group_ref(t, m, &g)) {
			*why = "No such group (attach it first)";
			return -EINVAL;
		}
		if (!strcmp(v, "weight")) {
			*g.weight = m->value;
		} else if (!strcmp(v, "range-bw")) {
			*g.min_kbs = m->min_kbs;
			*g.max_kbs = m->max_kbs;
		} else {
			return set_rate(g.lim, m, why);
		}
	} else if (!strcmp(v, "attach")) {
		if (iob_table_group(t, m->id)) {
			*why = "Group already attached";
			return -EEXIST;
		}
		if (t->n_groups >= IOB_GROUPS_MAX) {
			*why = "Too many groups (at most 65536 per device)";
			return -ENOSPC;
		}
		iob_table_add_group(t, m->id, IOB_WEIGHT_DEFAULT);
		sort_groups(t);
	} else if (!strcmp(v, "detach")) {
		if (!iob_table_group(t, m->id)) {
			*why = "No such group";
			return -EINVAL;
		}
		iob_table_del_group(t, m->id);
		/* attached again, it starts from 0 */
		if (jget(d, "counters")) {
			char key[24];

			snprintf(key, sizeof(key), "%llu", (unsigned long long)m->id);
			json_object_object_del(jget(d, "counters"), key);
		}
	} else if (!strcmp(v, "type")) {
		if (t->n_groups && m->type != t->type) {
			*why = "Cannot change the group type while groups are attached (detach them first)";
			return -EBUSY;
		}
		t->type = m->type;
	} else if (!strcmp(v, "policy")) {
		return set_policy(t, m, why);
	} else if (!strcmp(v, "token")) {
		t->token_base = m->value;
	} else if ((!strcmp(v, "io_throttle") && m->value && t->io_limit && m->value > t->io_limit) ||
		   (!strcmp(v, "io_limit") && m->value && t->io_throttle && t->io_throttle > m->value)) {
		*why = "io_throttle must not exceed io_limit";
		return -EINVAL;
	} else if (!strcmp(v, "io_throttle")) {
		t->io_throttle = m->value;
	} else {
		t->io_limit = m->value;
	}
	return 0;
}

/*
 * The shared parameters T now has (policy and its l=, b=, io_throttle,
 * io_limit, token_base), on every other member of its device group: the
 * module keeps them per device group.
 */
static void dg_share(const char *name, const struct iob_table *t)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		struct iob_table o;

		if (!strcmp(json_object_get_string(jget(d, "name")), name) || ioband_full(d, &o))
			continue;
		if (!strcmp(o.devgroup, t->devgroup)) {
			o.policy = t->policy;
			o.dg_lim = t->dg_lim;
			o.io_throttle = t->io_throttle;
			o.io_limit = t->io_limit;
			o.token_base = t->token_base;
			table_store(d, &o);
		}
		iob_table_free(&o);
	}
}

/*
 * A message, as the module takes it: parsed by its own parser
 * (kparse.c), applied or refused by its rules with its errno; a refusal
 * is logged (the state's "dmesg") as the module logs it.
 */
static int fk_message(const char *name, const char *msg, char **reply)
{
	json_object *d = find_dev(name, NULL);
	struct iob_table t;
	struct iob_kmsg m;
	const char *why = NULL, *w = msg + strspn(msg, " \t\n");
	int r;

	if (reply)
		*reply = NULL;
	if (!d)
		return -ENODEV;
	if (ioband_full(d, &t))
		return -EINVAL;
	r = iob_kparse_message(msg, t.type, &m, &why);
	if (!r)
		r = apply_msg(d, &t, &m, reply, &why);
	if (r) {
		klog("device-mapper: ioband: %d:%d: message %.*s: %s", FAKE_MAJOR,
		     json_object_get_int(jget(d, "minor")), *w ? (int)strcspn(w, " \t\n") : 7,
		     *w ? w : "(empty)", why ? why : "failed");
		msg_err("%s: message %s: %s", quote_if_needed(name), quote(msg), strerror(-r));
		fake_save();
	} else if (strcmp(m.verb, "stats")) {
		json_object *log = jget(st, "log");
		char *p;

		table_store(d, &t);
		if (!strcmp(m.verb, "policy") || !strcmp(m.verb, "token") ||
		    !strcmp(m.verb, "io_throttle") || !strcmp(m.verb, "io_limit"))
			dg_share(name, &t);
		if (!log) {
			log = json_object_new_array();
			json_object_object_add(st, "log", log);
		}
		p = xasprintf("%s: %s", name, msg);
		json_object_array_add(log, json_object_new_string(p));
		free(p);
		fake_save();
	}
	iob_table_free(&t);
	return r;
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			r = -errno;
		*s = '/';
	}
	if (!r && mkdir(p, 0755) && errno != EEXIST)
		r = -errno;
	free(p);
	return r;
}

static int fk_cgroup_create(const char *path)
{
	char *p = cgroup_fs_path(path);
	int r = mkdir_p(p);

	if (r)
		msg_err("cgroup create %s: %s", quote_if_needed(p), strerror(-r));
	free(p);
	return r;
}

static int fk_cgroup_move(const char *path, const int *pids, size_t n)
{
	char *dir = cgroup_fs_path(path), *p = xasprintf("%s/cgroup.procs", dir);
	FILE *f = fopen(p, "a");
	size_t i;

	free(dir);
	free(p);
	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		fprintf(f, "%d\n", pids[i]);
	return fclose(f) ? -EIO : 0;
}

static void fk_done(void)
{
	if (st)
		json_object_put(st);
	st = NULL;
}

const struct backend_ops fake_backend = {
	.name = "fake",
	.list = fk_list,
	.get = fk_get,
	.status = fk_status,
	.create = fk_create,
	.reload = fk_reload,
	.suspend = fk_suspend,
	.resume = fk_resume,
	.clear = fk_clear,
	.remove = fk_remove,
	.message = fk_message,
	.resolve = fk_resolve,
	.cgroup_create = fk_cgroup_create,
	.cgroup_move = fk_cgroup_move,
	.done = fk_done,
};
