// SPDX-License-Identifier: GPL-2.0
/*
 * test-plan - the planner and the executor, on the fake backend.
 *
 * Each step writes a host file, reads the (fake) current state, plans, and
 * compares the plan with the expected action list; executing it and
 * planning again must give nothing to do.  Edits must plan exactly the
 * difference; failures midway must leave the state as it was.
 */
#include "config.h"
#include "plan.h"
#include "utest.h"

#include <json.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/iobandctl-test-XXXXXX";
static char *fake;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static void reset_fake(void)
{
	write_file(fake,
		   "{ \"disks\": {\n"
		   "  \"/dev/sdb1\": { \"dev\": \"8:17\", \"size\": 2097152 },\n"
		   "  \"/dev/sdc1\": { \"dev\": \"8:33\", \"size\": 1048576 },\n"
		   "  \"/dev/vg0/web1\": { \"dev\": \"254:1\", \"size\": 409600 },\n"
		   "  \"/dev/vg0/web2\": { \"dev\": \"254:2\", \"size\": 819200 },\n"
		   "  \"/dev/vg0/web2-new\": { \"dev\": \"254:3\", \"size\": 819200 } },\n"
		   "  \"devices\": [], \"next_minor\": 0 }\n");
	be->done();
}

/* Plan YAML against the fake state: the plan's text, or "ERR: ...". */
static char *plan_of(const char *yaml, struct plan *keep)
{
	struct host_cfg cfg;
	struct cur_state cur;
	struct plan p;
	char *err = NULL, *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (config_parse("h.yaml", yaml, strlen(yaml), &cfg, &err))
		return xasprintf("ERR: %s", err);
	if (state_read(&cfg, &cur, &err)) {
		config_free(&cfg);
		return xasprintf("ERR: %s", err);
	}
	if (plan_build(&cfg, &cur, &p, &err)) {
		char *s = xasprintf("ERR: %s", err);

		free(err);
		state_free(&cur);
		config_free(&cfg);
		return s;
	}
	f = open_memstream(&buf, &len);
	plan_print(&p, f);
	fclose(f);
	if (keep)
		*keep = p;
	else
		plan_free(&p);
	state_free(&cur);
	config_free(&cfg);
	return buf;
}

static int apply(const char *yaml)
{
	struct plan p;
	char *s = plan_of(yaml, &p);
	int r;

	if (!strncmp(s, "ERR", 3)) {
		fprintf(stderr, "%s\n", s);
		free(s);
		return -1;
	}
	free(s);
	r = plan_execute(&p);
	plan_free(&p);
	be->done();	/* the fake saved its state; reload next time */
	return r;
}

#define EXPECT_PLAN(yaml, want) do {                     \
		char *s_ = plan_of(yaml, NULL);          \
		CHECK_STR(s_, want);                     \
		free(s_);                                \
		be->done();                              \
	} while (0)

static const char base[] =
	"version: 1\n"
	"device-groups:\n"
	"  - id: ssd0\n"
	"    policy: weight\n"
	"devices:\n"
	"  - name: images\n"
	"    device: /dev/sdb1\n"
	"    device-group: hdd\n"
	"    weight: 50\n"
	"guests:\n"
	"  - name: web1\n"
	"    cgroup: machine.slice/web1\n"
	"    disks:\n"
	"      - name: root\n"
	"        device: /dev/vg0/web1\n"
	"        device-group: ssd0\n"
	"        weight: 200\n"
	"      - ioband: images\n"
	"        weight: 300\n"
	"  - name: web2\n"
	"    cgroup: ioband.slice/web2\n"
	"    create-cgroup: true\n"
	"    disks:\n"
	"      - name: root\n"
	"        device: /dev/vg0/web2\n"
	"        device-group: ssd0\n"
	"        weight: 100\n"
	"      - ioband: images\n"
	"        weight: 100\n"
	"    interfaces:\n"
	"      - {name: vnet2, mac: '52:54:00:00:00:02', weight: 2, cap: 100mbit}\n"
	"network:\n"
	"  uplink: eth0\n"
	"  rate: 1gbit\n";

/* base with one substitution */
static char *edit(const char *from, const char *to)
{
	const char *p = strstr(base, from);

	if (!p)
		abort();
	return xasprintf("%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
}

static char *dump_devices(void)
{
	struct dm_dev *d;
	size_t n, i, j;
	struct strbuf sb = { 0 };

	be->list(&d, &n);
	for (i = 0; i < n; i++)
		for (j = 0; j < d[i].nt; j++)
			sb_addf(&sb, "%s %s %s\n", d[i].name, d[i].uuid, d[i].t[j].params);
	dm_devs_free(d, n);
	be->done();
	return sb_steal(&sb);
}

static void test_fresh_and_idempotent(void)
{
	char cg1[256], *s, *e;
	uint64_t id;

	reset_fake();
	snprintf(cg1, sizeof(cg1), "%s/cg/machine.slice/web1", tmp);
	/* web1's cgroup exists (libvirt made it), web2's does not */
	s = xasprintf("mkdir -p '%s'", cg1);
	if (system(s) != 0)
		abort();
	free(s);
	CHECK(cgroup_id("machine.slice/web1", &id) == 0);
	s = xasprintf(
		"cgroup-create ioband.slice/web2\n"
		"create ioband-images: 0 2097152 ioband 8:17 hdd 0 0 cgroup weight 0 :50 %llu:300\n"
		"create ioband-web1-root: 0 409600 ioband 254:1 ssd0 0 0 none weight 0 :200\n"
		"create ioband-web2-root: 0 819200 ioband 254:2 ssd0 0 0 none weight 0 :100\n"
		"attach ioband-images group cgroup:ioband.slice/web2 weight 100\n"
		"net-apply ioband-tc apply --uplink eth0 --rate 1gbit --guest vnet2:weight=2,mac=52:54:00:00:00:02,cap=100mbit\n",
		(unsigned long long)id);
	EXPECT_PLAN(base, s);
	free(s);
	CHECK(apply(base) == EX_OK);
	EXPECT_PLAN(base, "nothing to do\n");
	/* The fake normalises like the kernel: configured values, maj:min. */
	s = dump_devices();
	CHECK(strstr(s, "ioband-web1-root IOBAND-apply-ioband-web1-root 254:1 ssd0 0 0 none weight 0 :200\n") != NULL);
	e = xasprintf("ioband-images IOBAND-apply-ioband-images 8:17 hdd 0 0 cgroup weight 0 :50 %llu:300 ", (unsigned long long)id);
	CHECK(strstr(s, e) != NULL);
	free(e);
	free(s);
}

static void test_edits(void)
{
	char *y;
	uint64_t id2;

	CHECK(cgroup_id("ioband.slice/web2", &id2) == 0);

	/* One disk weight: one message. */
	y = edit("        weight: 200\n", "        weight: 250\n");
	EXPECT_PLAN(y, "weight ioband-web1-root default group 250 (was 200)\n");
	free(y);

	/* A shared group's weight; the shared device's default weight. */
	y = edit("        weight: 300\n", "        weight: 30\n");
	{
		char *s = plan_of(y, NULL);

		CHECK(strstr(s, "weight ioband-images group ") && strstr(s, " 30 (was 300)\n") &&
		      !strchr(strchr(s, '\n') + 1, '\n'));
		free(s);
		be->done();
	}
	free(y);
	y = edit("    weight: 50\n", "    weight: 60\n");
	EXPECT_PLAN(y, "weight ioband-images default group 60 (was 50)\n");
	free(y);

	/*
	 * Device-group parameters go to a member, as configured (0 =
	 * default, io_limit 0 = automatic), throttle/limit in a safe order.
	 */
	y = edit("    policy: weight\n", "    policy: weight-iosize\n    io-throttle: 300\n    io-limit: 400\n");
	EXPECT_PLAN(y,
		    "device-group-set ssd0 policy weight-iosize (was weight; via ioband-web1-root)\n"
		    "device-group-set ssd0 io_throttle 300 (was 0; via ioband-web1-root)\n"
		    "device-group-set ssd0 io_limit 400 (was 0; via ioband-web1-root)\n");
	CHECK(apply(y) == EX_OK);
	free(y);
	y = edit("    policy: weight\n", "    policy: weight-iosize\n    io-throttle: 500\n    io-limit: 600\n");
	EXPECT_PLAN(y,
		    "device-group-set ssd0 io_limit 600 (was 400; via ioband-web1-root)\n"
		    "device-group-set ssd0 io_throttle 500 (was 300; via ioband-web1-root)\n");
	free(y);
	y = edit("    policy: weight\n", "    policy: weight-iosize\n    io-throttle: 2\n    io-limit: 3\n");
	EXPECT_PLAN(y,
		    "device-group-set ssd0 io_throttle 2 (was 300; via ioband-web1-root)\n"
		    "device-group-set ssd0 io_limit 3 (was 400; via ioband-web1-root)\n");
	free(y);
	/* Back to the defaults: the automatic io_limit again. */
	EXPECT_PLAN(base,
		    "device-group-set ssd0 policy weight (was weight-iosize; via ioband-web1-root)\n"
		    "device-group-set ssd0 io_throttle 0 (was 300; via ioband-web1-root)\n"
		    "device-group-set ssd0 io_limit 0 (was 400; via ioband-web1-root)\n");
	CHECK(apply(base) == EX_OK);
	EXPECT_PLAN(base, "nothing to do\n");

	/* A new backing device: reload, nothing else. */
	y = edit("        device: /dev/vg0/web2\n", "        device: /dev/vg0/web2-new\n");
	EXPECT_PLAN(y,
		    "reload ioband-web2-root: 0 819200 ioband 254:3 ssd0 0 0 none weight 0 :100 "
		    "(was: 0 819200 ioband 254:2 ssd0 0 0 none weight 0 :100)\n");
	free(y);

	/* Network: only the tc arguments change. */
	y = edit("cap: 100mbit", "cap: 200mbit");
	EXPECT_PLAN(y, "net-apply ioband-tc apply --uplink eth0 --rate 1gbit --guest vnet2:weight=2,mac=52:54:00:00:00:02,cap=200mbit\n");
	free(y);

	/* A guest goes away: its device and its group, nothing else. */
	{
		const char *a = strstr(base, "  - name: web2\n"), *b = strstr(base, "network:\n");
		char *s;

		y = xasprintf("%.*s%s", (int)(a - base), base, b);
		s = xasprintf("detach ioband-images group %llu (weight 100)\n"
			      "remove ioband-web2-root (was: 0 819200 ioband 254:2 ssd0 0 0 none weight 0 :100)\n"
			      "net-apply ioband-tc apply --uplink eth0 --rate 1gbit\n",
			      (unsigned long long)id2);
		EXPECT_PLAN(y, s);
		free(s);
		/* apply it, then the original again: back to the start */
		CHECK(apply(y) == EX_OK);
		EXPECT_PLAN(y, "nothing to do\n");
		free(y);
		CHECK(apply(base) == EX_OK);
		EXPECT_PLAN(base, "nothing to do\n");
	}
}

/* The messages the fake accepted since the last call, one a line; cleared. */
static char *take_log(void)
{
	json_object *st = json_object_from_file(fake), *log = NULL;
	struct strbuf sb = { 0 };
	size_t i;

	sb_adds(&sb, "");
	if (st && json_object_object_get_ex(st, "log", &log))
		for (i = 0; i < json_object_array_length(log); i++)
			sb_addf(&sb, "%s\n", json_object_get_string(json_object_array_get_idx(log, i)));
	if (st) {
		json_object_object_del(st, "log");
		json_object_to_file_ext(fake, st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
		json_object_put(st);
	}
	return sb_steal(&sb);
}

#define EXPECT_LOG(want) do {                             \
		char *l_ = take_log();                    \
		CHECK_STR(l_, want);                      \
		free(l_);                                 \
	} while (0)

/* base with web1's own disk given KEYS (min, max, burst lines) */
static char *own_limits(const char *keys)
{
	static const char own[] = "        device-group: ssd0\n        weight: 200\n";
	char *k = xasprintf("%s%s", own, keys), *y = edit(own, k);

	free(k);
	return y;
}

/* Apply web1's own disk with KEYS: the fake must have had exactly WANT. */
static void limits_step(const char *keys, const char *want)
{
	char *y = own_limits(keys);

	CHECK(apply(y) == EX_OK);
	EXPECT_LOG(want);
	EXPECT_PLAN(y, "nothing to do\n");
	free(y);
}

#define WR "ioband-web1-root: "

/* min, max, burst: in new tables, changed live in a safe order, removed. */
static void test_limits(void)
{
	char *y, *s, *e;
	uint64_t id1;

	CHECK(apply(base) == EX_OK);
	CHECK(cgroup_id("machine.slice/web1", &id1) == 0);
	free(take_log());

	y = own_limits("        min: 500iops\n        max: 2000iops\n        burst: 4000iops/10\n");
	EXPECT_PLAN(y, "limits ioband-web1-root default group r=500iops,l=2000iops,b=4000iops/10 (was none)\n");
	free(y);
	limits_step("        min: 500iops\n        max: 2000iops\n        burst: 4000iops/10\n",
		    WR "reserve 500iops\n" WR "limit 2000iops\n" WR "burst 4000iops/10\n");
	s = dump_devices();
	CHECK(strstr(s, "ioband-web1-root IOBAND-apply-ioband-web1-root 254:1 ssd0 0 0 none weight 0 :200,r=500iops,l=2000iops,b=4000iops/10\n") != NULL);
	free(s);
	/* Up: the limit before the reservation that would exceed the old one. */
	limits_step("        min: 3000iops\n        max: 5000iops\n        burst: 8000iops/30\n",
		    WR "burst 0\n" WR "limit 5000iops\n" WR "reserve 3000iops\n" WR "burst 8000iops/30\n");
	/* Down, under the same burst: it stays; then its seconds alone. */
	limits_step("        min: 100iops\n        max: 1000iops\n        burst: 8000iops/30\n",
		    WR "reserve 100iops\n" WR "limit 1000iops\n");
	y = own_limits("        min: 100iops\n        max: 1000iops\n        burst: 8000iops/60\n");
	EXPECT_PLAN(y, "limits ioband-web1-root default group r=100iops,l=1000iops,b=8000iops/60 (was r=100iops,l=1000iops,b=8000iops/30)\n");
	free(y);
	limits_step("        min: 100iops\n        max: 1000iops\n        burst: 8000iops/60\n",
		    WR "burst 8000iops/60\n");
	/* A new burst over a limit that stays under the old one: no gap. */
	limits_step("        min: 100iops\n        max: 1500iops\n        burst: 3000iops/60\n",
		    WR "limit 1500iops\n" WR "burst 3000iops/60\n");
	/* A limit above the old burst: the burst goes first. */
	limits_step("        min: 100iops\n        max: 5000iops\n        burst: 8000iops/60\n",
		    WR "burst 0\n" WR "limit 5000iops\n" WR "burst 8000iops/60\n");
	/* A failure midway (the second message) goes back to where it was. */
	y = own_limits("        min: 1m\n        max: 20m\n");
	s = dump_devices();
	setenv("IOBAND_FAIL_AT", "2", 1);
	bk_fail_reset();
	CHECK(apply(y) == EX_ROLLEDBACK);
	unsetenv("IOBAND_FAIL_AT");
	e = dump_devices();
	CHECK_STR(e, s);
	free(e);
	free(s);
	free(y);
	free(take_log());
	/* Another unit, bytes as written or as the module prints them. */
	limits_step("        min: 1048576\n        max: 20480k\n",
		    WR "burst 0\n" WR "reserve 1m\n" WR "limit 20m\n");
	/* Gone from the file: removed (0). */
	CHECK(apply(base) == EX_OK);
	EXPECT_LOG("ioband-web1-root: reserve 0\nioband-web1-root: limit 0\n");
	EXPECT_PLAN(base, "nothing to do\n");

	/* A group on a shared device: by id. */
	y = edit("        weight: 300\n", "        weight: 300\n        max: 20m\n");
	s = xasprintf("limits ioband-images group %llu l=20m (was none)\n", (unsigned long long)id1);
	EXPECT_PLAN(y, s);
	free(s);
	CHECK(apply(y) == EX_OK);
	s = xasprintf("ioband-images: limit %llu:20m\n", (unsigned long long)id1);
	EXPECT_LOG(s);
	free(s);
	CHECK(apply(base) == EX_OK);
	free(take_log());
	free(y);

	/* New devices and groups get them in the table / on attach. */
	y = edit("network:\n", "  - name: web3\n    cgroup: machine.slice/web3\n    create-cgroup: true\n    disks:\n"
		 "      - {name: d, device: /dev/sdc1, device-group: ssd0, min: 300iops, max: 1g}\n"
		 "      - {ioband: images, min: 100iops}\n"
		 "network:\n");
	s = plan_of(y, NULL);
	be->done();
	CHECK(strstr(s, "create ioband-web3-d: 0 1048576 ioband 8:33 ssd0 0 0 none weight 0 :100,r=300iops,l=1g\n") != NULL);
	CHECK(strstr(s, "attach ioband-images group cgroup:machine.slice/web3 weight 100 r=100iops\n") != NULL);
	free(s);
	CHECK(apply(y) == EX_OK);
	s = take_log();
	CHECK(strstr(s, "ioband-images: reserve ") && strstr(s, ":100iops\n"));
	free(s);
	EXPECT_PLAN(y, "nothing to do\n");
	free(y);
	CHECK(apply(base) == EX_OK);
	free(take_log());
}

/* base with device group ssd0 given KEYS (after its policy line) */
static char *dg_keys(const char *policy, const char *keys)
{
	char *k = xasprintf("    policy: %s\n%s", policy, keys), *y = edit("    policy: weight\n", k);

	free(k);
	return y;
}

/* ssd0's table as the fake has it on MEMBER, from the policy on. */
static char *dg_table(const char *member)
{
	char *d = dump_devices(), *p = strstr(d, member), *r;

	p = p ? strstr(p, " none ") : NULL;
	r = xstrndup(p ? p + 6 : "", p ? strcspn(p + 6, " ") : 0);
	free(d);
	return r;
}

#define WR_SET "device-group-set ssd0 policy "
#define VIA " via ioband-web1-root)\n"

/* ssd0 with POLICY and KEYS: plans WANT, sends the one message ARG. */
static void dg_step(const char *policy, const char *keys, const char *want, const char *arg)
{
	char *y = dg_keys(policy, keys), *w = xasprintf(WR_SET "%s" VIA, want);
	char *l = xasprintf(WR "policy %s\n", arg);

	EXPECT_PLAN(y, w);
	CHECK(apply(y) == EX_OK);
	EXPECT_LOG(l);
	EXPECT_PLAN(y, "nothing to do\n");
	free(l);
	free(w);
	free(y);
}

/* A device group's own max and burst: in new tables, live, removed. */
static void test_dg_limits(void)
{
	char *y, *s, *before, *after;

	free(take_log());
	/* A new device group: its members' tables carry it. */
	y = xasprintf("%.*s  - id: fast\n    max: 300iops\n    burst: 600iops/5\n%.*s"
		      "  - name: web3\n    disks:\n      - {name: d, device: /dev/sdc1, device-group: fast}\n%s",
		      (int)(strstr(base, "devices:\n") - base), base,
		      (int)(strstr(base, "network:\n") - strstr(base, "devices:\n")), strstr(base, "devices:\n"),
		      strstr(base, "network:\n"));
	EXPECT_PLAN(y, "create ioband-web3-d: 0 1048576 ioband 8:33 fast 0 0 none weight,l=300iops,b=600iops/5 0 :100\n");
	CHECK(apply(y) == EX_OK);
	EXPECT_PLAN(y, "nothing to do\n");
	s = dg_table("ioband-web3-d ");
	CHECK_STR(s, "weight,l=300iops,b=600iops/5");
	free(s);
	CHECK(apply(base) == EX_OK);
	free(y);

	/* An existing device group: one policy message to one member. */
	dg_step("weight", "    max: 20m\n", "weight,l=20m (was weight,l=0;", "weight,l=20m");
	s = dg_table("ioband-web1-root ");
	CHECK_STR(s, "weight,l=20m");
	free(s);

	/* A new member gets the device group's limit in its table. */
	y = dg_keys("weight", "    max: 20m\n");
	s = xasprintf("%.*s  - name: web3\n    disks:\n      - {name: d, device: /dev/sdc1, device-group: ssd0}\n%s",
		      (int)(strstr(y, "network:\n") - y), y, strstr(y, "network:\n"));
	EXPECT_PLAN(s, "create ioband-web3-d: 0 1048576 ioband 8:33 ssd0 0 0 none weight,l=20m 0 :100\n");
	free(s);
	free(y);

	/* Limit and burst together; then a limit above the old burst. */
	dg_step("weight", "    max: 10m\n    burst: 40m/10\n", "weight,l=10m,b=40m/10 (was weight,l=20m,b=0;",
		"weight,l=10m,b=40m/10");
	y = dg_keys("weight", "    max: 10m\n    burst: 80m/10\n");
	EXPECT_PLAN(y, WR_SET "weight,b=80m/10 (was weight,b=40m/10;" VIA);
	free(y);
	dg_step("weight", "    max: 50m\n", "weight,l=50m,b=0 (was weight,l=10m,b=40m/10;", "weight,l=50m,b=0");

	/* Policy and limit change together: one message. */
	dg_step("weight-iosize", "    max: 30m\n", "weight-iosize,l=30m (was weight,l=50m;", "weight-iosize,l=30m");

	/* A failure after it: the device group's limit is put back. */
	y = dg_keys("weight", "    max: 1000iops\n    burst: 2000iops/10\n");
	s = xasprintf("%.*s        weight: 250\n%s", (int)(strstr(y, "        weight: 200\n") - y), y,
		      strstr(y, "        weight: 200\n") + strlen("        weight: 200\n"));
	EXPECT_PLAN(s, WR_SET "weight,l=1000iops,b=2000iops/10 (was weight-iosize,l=30m,b=0;" VIA
		    "weight ioband-web1-root default group 250 (was 200)\n");
	before = dump_devices();
	setenv("IOBAND_FAIL_AT", "2", 1);
	bk_fail_reset();
	CHECK(apply(s) == EX_ROLLEDBACK);
	unsetenv("IOBAND_FAIL_AT");
	after = dump_devices();
	CHECK_STR(after, before);
	free(before);
	free(after);
	free(take_log());
	free(s);
	free(y);

	/* Keys taken out: l=0 lifts the limit (and a burst with it). */
	dg_step("weight", "", "weight,l=0 (was weight-iosize,l=30m;", "weight,l=0");
	EXPECT_PLAN(base, "nothing to do\n");
	s = dg_table("ioband-web1-root ");
	CHECK_STR(s, "weight");
	free(s);
}

/* The fake's policy message takes the options as the module does. */
static void test_fake_policy(void)
{
	static const struct {
		const char *msg;
		int ok;
		const char *table;	/* after it */
	} steps[] = {
		{ "policy weight,l=20m,b=40m/10", 1, "weight,l=20m,b=40m/10" },
		{ "policy weight-iosize", 1, "weight-iosize,l=20m,b=40m/10" },	/* kept */
		{ "policy weight,l=10m", 1, "weight,l=10m,b=40m/10" },
		{ "policy weight,l=40m", 0, "weight,l=10m,b=40m/10" },	/* not below the burst */
		{ "policy weight,l=50m,b=80m/5", 1, "weight,l=50m,b=80m/5" },
		{ "policy weight,b=100iops/5", 0, "weight,l=50m,b=80m/5" },	/* another unit */
		{ "policy weight,r=1m", 0, "weight,l=50m,b=80m/5" },
		{ "policy weight,l=1m,l=2m", 0, "weight,l=50m,b=80m/5" },
		{ "policy weight,", 0, "weight,l=50m,b=80m/5" },
		{ "policy weight,x=1", 0, "weight,l=50m,b=80m/5" },
		{ "policy weight,b=0", 1, "weight,l=50m" },
		{ "policy weight,b=100m/5", 1, "weight,l=50m,b=100m/5" },
		{ "policy weight,l=0", 1, "weight" },	/* and its burst */
		{ "policy weight,b=100m/5", 0, "weight" },	/* needs a limit */
		{ "policy weight,l=0,b=100m/5", 0, "weight" },
		{ "policy weight,l=300iops,b=600iops/5", 1, "weight,l=300iops,b=600iops/5" },
		{ "policy weight,l=0", 1, "weight" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CHECK((fake_backend.message("ioband-web1-root", steps[i].msg, NULL) == 0) == steps[i].ok);
		be->done();
		s = dg_table("ioband-web1-root ");
		CHECK_STR(s, steps[i].table);
		free(s);
		s = dg_table("ioband-web2-root ");	/* the other member: shared */
		CHECK_STR(s, steps[i].table);
		free(s);
	}
	/* A joining member inherits the device group's limit or agrees with it. */
	CHECK(fake_backend.message("ioband-web1-root", "policy weight,l=300iops,b=600iops/5", NULL) == 0);
	be->done();
	{
		struct dm_tline t = { .start = 0, .len = 1024, .type = "ioband",
				      .params = "254:3 ssd0 0 0 none weight,l=400iops 0 :100" };

		CHECK(fake_backend.create("ioband-x", "", &t, 1) != 0);
		be->done();
		t.params = "254:3 ssd0 0 0 none weight,b=600iops/6 0 :100";
		CHECK(fake_backend.create("ioband-x", "", &t, 1) != 0);
		be->done();
		t.params = "254:3 ssd0 0 0 none weight,l=300iops 0 :100";
		CHECK(fake_backend.create("ioband-x", "", &t, 1) == 0);
		be->done();
		s = dg_table("ioband-x ");
		CHECK_STR(s, "weight,l=300iops,b=600iops/5");
		free(s);
		CHECK(fake_backend.remove("ioband-x") == 0);
		be->done();
	}
	CHECK(fake_backend.message("ioband-web1-root", "policy weight,l=0", NULL) == 0);
	be->done();
	free(take_log());
	EXPECT_PLAN(base, "nothing to do\n");
}

static void test_state_errors(void)
{
	char *y;

	/* Unknown block device: names file, line and field. */
	y = edit("/dev/vg0/web2\n", "/dev/vg0/nope\n");
	EXPECT_PLAN(y, "ERR: h.yaml:25: guests[1].disks[0].device: /dev/vg0/nope: No such file or directory");
	free(y);
	/* A device that would be removed is open: refuse, change nothing. */
	{
		char *st = NULL, *p;
		FILE *f = fopen(fake, "r");
		size_t len = 0;

		getdelim(&st, &len, '\0', f);
		fclose(f);
		p = strstr(st, "\"name\": \"ioband-web2-root\"");
		CHECK(p != NULL);
		p = strstr(p, "\"open\": 0");
		p[8] = '1';
		write_file(fake, st);
		free(st);
		y = xasprintf("version: 1\n");
		EXPECT_PLAN(y, "ERR: h.yaml: ioband-web2-root would be removed but is in use (open count 1): stop its user first, or keep it in the host file");
		free(y);
		st = NULL;
		f = fopen(fake, "r");
		getdelim(&st, &len, '\0', f);
		fclose(f);
		p = strstr(strstr(st, "\"name\": \"ioband-web2-root\""), "\"open\": 1");
		p[8] = '0';
		write_file(fake, st);
		free(st);
	}
	/* A cgroup that does not exist and is not to be created. */
	y = edit("    create-cgroup: true\n", "");
	{
		char *d = xasprintf("%s/cg/ioband.slice/web2", tmp);

		rmdir(d);
		free(d);
	}
	EXPECT_PLAN(y, "ERR: h.yaml:21: guests[1].cgroup: ioband.slice/web2: No such file or directory (create-cgroup: true creates it)");
	free(y);
	CHECK(apply(base) == EX_OK);
}

static void test_rollback(void)
{
	char *before, *after, *y, *z, *w, fail[16];
	int n;

	/* Three actions: create web3-d, weight of web1-root, net-apply. */
	y = edit("        weight: 200\n", "        weight: 250\n");
	w = xasprintf("%.*s  - name: web3\n    disks:\n      - {name: d, device: /dev/sdc1, device-group: ssd0}\n%s",
		      (int)(strstr(y, "  - name: web1\n") - y), y, strstr(y, "  - name: web1\n"));
	z = xasprintf("%.*scap: 200mbit%s", (int)(strstr(w, "cap: 100mbit") - w), w,
		      strstr(w, "cap: 100mbit") + strlen("cap: 100mbit"));
	/* Make the k-th mutating step fail, for every k: state unchanged. */
	for (n = 1; n <= 3; n++) {
		int r;

		snprintf(fail, sizeof(fail), "%d", n);
		before = dump_devices();
		setenv("IOBAND_FAIL_AT", fail, 1);
		bk_fail_reset();
		r = apply(z);
		unsetenv("IOBAND_FAIL_AT");
		after = dump_devices();
		CHECK(r == (n == 1 ? EX_FAIL : EX_ROLLEDBACK));
		CHECK_STR(after, before);
		free(before);
		free(after);
		EXPECT_PLAN(base, "nothing to do\n");
	}
	/* And without a failure it goes through. */
	CHECK(apply(z) == EX_OK);
	EXPECT_PLAN(z, "nothing to do\n");
	free(y);
	free(w);
	free(z);
}

int main(void)
{
	char *p;

	if (!mkdtemp(tmp))
		abort();
	fake = xasprintf("%s/fake.json", tmp);
	setenv("IOBAND_FAKE_DM", fake, 1);
	p = xasprintf("%s/cg", tmp);
	setenv("IOBAND_CGROUP_ROOT", p, 1);
	free(p);
	p = xasprintf("%s/run", tmp);
	setenv("IOBAND_STATE_DIR", p, 1);
	free(p);
	p = xasprintf("%s/ioband-tc", tmp);
	write_file(p, "#!/bin/sh\ncase \"$1\" in show) echo '{\"applied\": true}';; esac\nexit 0\n");
	chmod(p, 0755);
	setenv("IOBAND_TC", p, 1);
	free(p);
	be = &fake_backend;

	test_fresh_and_idempotent();
	test_edits();
	test_limits();
	test_dg_limits();
	test_fake_policy();
	test_state_errors();
	test_rollback();

	p = xasprintf("rm -rf '%s'", tmp);
	if (system(p) != 0)
		ut_fail++;
	free(p);
	free(fake);
	return ut_summary("test-plan");
}
