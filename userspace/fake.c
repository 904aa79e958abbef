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
 * (0/1)] for the status's limits part, "depth_us": [base, target]
 * gives the automatic depth part's latencies (0 0 otherwise, and with a
 * fixed io_limit, as the module), and "dglimit_us" the
 * dglimit part's figure (0 otherwise) when the table has a device-group
 * limit.
 *
 * ioband tables are normalised the way the kernel prints them (device as
 * maj:min; io_throttle, io_limit and token_base as configured, 0 = default
 * or automatic; groups by ascending id, as table, status and stats list
 * them) and the ioband messages are applied to the stored table.
 * The status has the kernel's depth part: FAKE_LIMIT, automatic, while
 * io_limit is 0.  cgroups are plain
 * directories under IOBAND_CGROUP_ROOT.
 */
#include "backend.h"
#include "ioband.h"
#include "util.h"

#include <errno.h>
#include <json.h>
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

static json_object *jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
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

static int ioband_of(json_object *d, struct iob_table *t);

/*
 * The limit and burst of device group DEVGROUP from a member other than
 * EXCEPT (the module keeps them per device group); false: none there.
 */
static bool dg_lim_of(const char *devgroup, const char *except, struct iob_limits *l)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		struct iob_table t;
		bool same;

		if (!strcmp(json_object_get_string(jget(d, "name")), except) || ioband_of(d, &t))
			continue;
		same = !strcmp(t.devgroup, devgroup);
		if (same)
			*l = t.dg_lim;
		iob_table_free(&t);
		if (same)
			return true;
	}
	return false;
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

/* Normalise an ioband table as the kernel would print it; -EINVAL if bad. */
static int normalise(const char *name, const struct dm_tline *in, json_object **line)
{
	char *params = xstrdup(in->params);

	if (!strcmp(in->type, IOB_TARGET)) {
		struct iob_table t;
		struct iob_limits dgl;
		const char *err;
		unsigned int ma, mi;
		uint64_t sz;

		free(params);
		if (iob_table_parse(in->params, &t, &err)) {
			msg_err("fake: ioband table rejected: %s", err);
			return -EINVAL;
		}
		if (fk_resolve(t.device, &ma, &mi, &sz)) {
			msg_err("fake: ioband: no device %s", t.device);
			iob_table_free(&t);
			return -ENODEV;
		}
		/* a member joining takes the device group's limit, or agrees with it */
		if (dg_lim_of(t.devgroup, name, &dgl)) {
			if ((t.dg_lim.lim.rate && !iob_rate_eq(&t.dg_lim.lim, &dgl.lim)) ||
			    (t.dg_lim.burst.rate && (!iob_rate_eq(&t.dg_lim.burst, &dgl.burst) ||
						     t.dg_lim.burst_secs != dgl.burst_secs))) {
				msg_err("fake: ioband table rejected: the policy's l=/b= differ from the device group's");
				iob_table_free(&t);
				return -EINVAL;
			}
			t.dg_lim = dgl;
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

static int make_table(const char *name, const struct dm_tline *t, size_t n, json_object **out)
{
	size_t i;

	*out = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *l;
		int r = normalise(name, &t[i], &l);

		if (r) {
			json_object_put(*out);
			return r;
		}
		json_object_array_add(*out, l);
	}
	return 0;
}

static int fk_create(const char *name, const char *uuid, const struct dm_tline *t, size_t n)
{
	json_object *d, *tab;
	int minor, r;

	if (find_dev(name, NULL)) {
		msg_err("create %s: %s", quote_if_needed(name), strerror(EEXIST));
		return -EEXIST;
	}
	r = make_table(name, t, n, &tab);
	if (r)
		return r;
	minor = json_object_get_int(jget(st, "next_minor"));
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
	int r;

	if (!d)
		return -ENODEV;
	r = make_table(name, t, n, &tab);
	if (r)
		return r;
	json_object_object_add(d, "inactive", tab);
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
	if (in && json_object_get_type(in) == json_type_array) {
		json_object_object_add(d, "table", json_object_get(in));
		json_object_object_del(d, "inactive");
		json_object_object_del(d, "counters");
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

/* r, dr, rs, w, dw, ws, queued, wait-us, rsv-lag-us, limited-us, unmet */
#define FAKE_COUNTERS 11

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

/* Whether any group of T has r=, l= or b=: the module then shows them. */
static bool any_limits(const struct iob_table *t)
{
	size_t i;

	for (i = 0; i < t->n_groups; i++)
		if (iob_limits_any(&t->groups[i].lim))
			return true;
	return iob_limits_any(&t->default_lim);
}

/* A group's reservation state, as the module names it, from counter 10. */
static const char *rsv_state(const struct iob_limits *l, const uint64_t v[FAKE_COUNTERS])
{
	return !l->rsv.rate ? "-" : v[10] ? "unmet" : "met";
}

static int ioband_of(json_object *d, struct iob_table *t)
{
	json_object *tab = jget(d, "table"), *l;
	const char *err;

	if (!tab || json_object_array_length(tab) != 1)
		return -EINVAL;
	l = json_object_array_get_idx(tab, 0);
	if (strcmp(json_object_get_string(json_object_array_get_idx(l, 2)), IOB_TARGET))
		return -EINVAL;
	return iob_table_parse(json_object_get_string(json_object_array_get_idx(l, 3)), t, &err);
}

static int fk_status(const char *name, char **params)
{
	json_object *d = find_dev(name, NULL);
	struct strbuf sb = { 0 };
	struct iob_table t;
	json_object *dus;
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
	dus = t.io_limit ? NULL : jget(d, "depth_us");
	sb_addf(&sb, " depth %u %s %lld %lld", t.io_limit ? t.io_limit : FAKE_LIMIT,
		t.io_limit ? "fixed" : "auto",
		dus ? (long long)json_object_get_int64(json_object_array_get_idx(dus, 0)) : 0LL,
		dus ? (long long)json_object_get_int64(json_object_array_get_idx(dus, 1)) : 0LL);
	/* The device group's own limit: the time it held bios ("dglimit_us"). */
	if (t.dg_lim.lim.rate) {
		json_object *h = jget(d, "dglimit_us");

		sb_addf(&sb, " dglimit %lld", h ? (long long)json_object_get_int64(h) : 0LL);
	}
	/* The limits part, as the module: when any group has r=, l= or b=. */
	has_lim = any_limits(&t);
	if (has_lim)
		sb_adds(&sb, " limits");
	for (i = 0; has_lim && i <= t.n_groups; i++) {
		int64_t id = i ? (int64_t)t.groups[i - 1].id : -1;
		const struct iob_limits *l = i ? &t.groups[i - 1].lim : &t.default_lim;

		counters(d, id, v);
		sb_addf(&sb, " %lld %s %llu %llu", (long long)id, rsv_state(l, v),
			(unsigned long long)v[8], (unsigned long long)v[9]);
	}
	iob_table_free(&t);
	*params = sb_steal(&sb);
	return 0;
}

/*
 * reserve|limit [<id>:]<rate>, burst [<id>:]<rate>/<secs> or 0, as the
 * module: not under range-bw, and the group's limits stay consistent
 * (limit 0 takes the burst too).
 */
static int fk_limit(struct iob_table *t, const char *verb, char *arg)
{
	char *c = strchr(arg, ':'), *val = c ? c + 1 : arg;
	struct iob_limits *l = &t->default_lim, nl;
	const char *key;
	uint64_t id;

	if (t->policy == IOB_RANGE_BW)
		return -EINVAL;
	if (c) {
		*c = '\0';
		if (parse_u64(arg, &id) || !iob_table_group(t, id))
			return -EINVAL;
		l = &iob_table_group(t, id)->lim;
	}
	nl = *l;
	if (!strcmp(verb, "burst") && !strcmp(val, "0")) {
		memset(&nl.burst, 0, sizeof(nl.burst));
		nl.burst_secs = 0;
	} else if (!strcmp(verb, "burst")) {
		if (iob_burst_parse(val, &nl.burst, &nl.burst_secs))
			return -EINVAL;
	} else if (iob_rate_parse(val, !strcmp(verb, "reserve") ? &nl.rsv : &nl.lim)) {
		return -EINVAL;
	}
	if (!nl.lim.rate) {
		memset(&nl.burst, 0, sizeof(nl.burst));
		nl.burst_secs = 0;
	}
	if (iob_limits_problem(&nl, &key))
		return -EINVAL;
	*l = nl;
	return 0;
}

/*
 * policy <policy>[,l=<rate>][,b=<rate>/<secs>|0], as the module: each
 * option once, no r=; what is not given stays, l=0 takes the burst too,
 * and the result must hold (a burst above the limit, in its unit).
 */
static int fk_policy(struct iob_table *t, char *arg)
{
	char *o = strchr(arg, ','), *tok, *save = NULL;
	struct iob_limits nl = t->dg_lim, given;
	bool has_l = false, has_b = false;
	enum iob_policy p;
	const char *key;

	memset(&given, 0, sizeof(given));
	if (o)
		*o++ = '\0';
	if (iob_parse_policy(arg, &p))
		return -EINVAL;
	if (o && (!*o || *o == ',' || strstr(o, ",,") || o[strlen(o) - 1] == ','))
		return -EINVAL;
	for (tok = o ? strtok_r(o, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "l=", 2) && !has_l) {
			has_l = true;
			if (iob_rate_parse(tok + 2, &given.lim))
				return -EINVAL;
		} else if (!strncmp(tok, "b=", 2) && !has_b) {
			has_b = true;
			if (strcmp(tok + 2, "0") && iob_burst_parse(tok + 2, &given.burst, &given.burst_secs))
				return -EINVAL;
		} else {
			return -EINVAL;		/* r=, anything else, or twice */
		}
	}
	if (has_l)
		nl.lim = given.lim;
	if (has_b) {
		nl.burst = given.burst;
		nl.burst_secs = given.burst_secs;
	}
	if (!nl.lim.rate && !has_b) {	/* a limit lifted takes its burst */
		memset(&nl.burst, 0, sizeof(nl.burst));
		nl.burst_secs = 0;
	}
	if (iob_limits_problem(&nl, &key))
		return -EINVAL;
	t->policy = p;
	t->dg_lim = nl;
	return 0;
}

/* The policy and the limit T now has, on every other member of its device group. */
static void dg_share(const char *name, const struct iob_table *t)
{
	json_object *a = devices();
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		struct iob_table o;
		char *p;

		if (!strcmp(json_object_get_string(jget(d, "name")), name) || ioband_of(d, &o))
			continue;
		if (!strcmp(o.devgroup, t->devgroup)) {
			o.policy = t->policy;
			o.dg_lim = t->dg_lim;
			p = iob_table_format(&o);
			json_object_array_put_idx(json_object_array_get_idx(jget(d, "table"), 0), 3,
						  json_object_new_string(p));
			free(p);
		}
		iob_table_free(&o);
	}
}

static int fk_message(const char *name, const char *msg, char **reply)
{
	json_object *d = find_dev(name, NULL);
	char verb[32], arg[128], extra[2];
	struct iob_table t;
	uint64_t v, id;
	int n, r = 0;

	if (reply)
		*reply = NULL;
	if (!d)
		return -ENODEV;
	if (ioband_of(d, &t))
		return -EINVAL;
	n = sscanf(msg, "%31s %127s %1s", verb, arg, extra);
	if (n == 1 && !strcmp(verb, "stats")) {
		struct strbuf sb = { 0 };
		size_t i;
		uint64_t c[FAKE_COUNTERS];
		bool has_lim = any_limits(&t);

		for (i = 0; i <= t.n_groups; i++) {
			int64_t gid = i ? (int64_t)t.groups[i - 1].id : -1;
			const struct iob_limits *l = i ? &t.groups[i - 1].lim : &t.default_lim;

			counters(d, gid, c);
			sb_addf(&sb, "%s%lld weight=%u reads=%llu read_sectors=%llu writes=%llu write_sectors=%llu delayed_reads=%llu delayed_writes=%llu queued=%llu wait_us=%llu",
				i ? "\n" : "", (long long)gid,
				i ? t.groups[i - 1].weight : t.default_weight,
				(unsigned long long)c[0], (unsigned long long)c[2],
				(unsigned long long)c[3], (unsigned long long)c[5],
				(unsigned long long)c[1], (unsigned long long)c[4],
				(unsigned long long)c[6], (unsigned long long)c[7]);
			/* as the module, with any r=, l= or b= (not its sectors) */
			if (has_lim)
				sb_addf(&sb, " rsv=%s rsv_lag_us=%llu limited_us=%llu rsv_sectors=0",
					rsv_state(l, c), (unsigned long long)c[8], (unsigned long long)c[9]);
		}
		if (reply)
			*reply = sb_steal(&sb);
		sb_free(&sb);
		goto out;
	} else if (n == 1 && !strcmp(verb, "reset")) {
		json_object_object_del(d, "counters");
	} else if (n != 2) {
		r = -EINVAL;
	} else if (!strcmp(verb, "weight")) {
		char *c = strpbrk(arg, ":=,");

		if (!c) {
			r = parse_u64_range(arg, 1, IOB_WEIGHT_MAX, &v);
			if (!r)
				t.default_weight = v;
		} else {
			*c = '\0';
			r = parse_u64_range(c + 1, 1, IOB_WEIGHT_MAX, &v);
			if (!r && !*arg)
				t.default_weight = v;
			else if (!r && (parse_u64(arg, &id) || !iob_table_group(&t, id)))
				r = -EINVAL;
			else if (!r)
				iob_table_group(&t, id)->weight = v;
		}
	} else if (!strcmp(verb, "reserve") || !strcmp(verb, "limit") || !strcmp(verb, "burst")) {
		r = fk_limit(&t, verb, arg);
	} else if (!strcmp(verb, "attach")) {
		if (parse_u64(arg, &id) || iob_check_group_id(t.type, id) || iob_table_group(&t, id))
			r = -EINVAL;
		else
			iob_table_add_group(&t, id, IOB_WEIGHT_DEFAULT);
		sort_groups(&t);
	} else if (!strcmp(verb, "detach")) {
		if (parse_u64(arg, &id) || !iob_table_group(&t, id))
			r = -EINVAL;
		else
			iob_table_del_group(&t, id);
	} else if (!strcmp(verb, "type")) {
		if (t.n_groups || iob_parse_type(arg, &t.type))
			r = -EINVAL;
	} else if (!strcmp(verb, "policy")) {
		r = fk_policy(&t, arg);
	} else if (!strcmp(verb, "token")) {
		r = parse_u64_range(arg, 0, IOB_TOKEN_MAX, &v);
		if (!r)
			t.token_base = v;
	} else if (!strcmp(verb, "io_throttle")) {
		r = parse_u64_range(arg, 0, IOB_THROTTLE_MAX, &v);
		if (!r && v && t.io_limit && v > t.io_limit)
			r = -EINVAL;
		if (!r)
			t.io_throttle = v;
	} else if (!strcmp(verb, "io_limit")) {
		r = parse_u64_range(arg, 0, IOB_THROTTLE_MAX, &v);
		if (!r && v && t.io_throttle && v < t.io_throttle)
			r = -EINVAL;
		if (!r)
			t.io_limit = v;
	} else {
		r = -EINVAL;
	}
	if (r) {
		r = -EINVAL;
		msg_err("%s: message %s: %s", quote_if_needed(name), quote(msg), strerror(EINVAL));
	} else {
		json_object *l = json_object_array_get_idx(jget(d, "table"), 0);
		char *p = iob_table_format(&t);

		json_object *log = jget(st, "log");

		json_object_array_put_idx(l, 3, json_object_new_string(p));
		free(p);
		if (!strcmp(verb, "policy"))
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
out:
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
