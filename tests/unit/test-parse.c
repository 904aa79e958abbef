// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of dm-ioband's table and message parser (ioband-parse.c),
 * compiled in userspace with ASan and UBSan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioband-parse.h"
#include "utest.h"

#define MAXW 64

/* Split a line into a writable argv, as dm core does. */
static int split(const char *line, char *buf, size_t bufsz, char **argv)
{
	int argc = 0;
	char *p;

	snprintf(buf, bufsz, "%s", line);
	for (p = strtok(buf, " "); p && argc < MAXW; p = strtok(NULL, " "))
		argv[argc++] = p;
	return argc;
}

static int parse_line(const char *line, struct ioband_table_cfg *cfg,
		      char **err)
{
	static struct ioband_group_cfg groups[MAXW];
	char buf[1024], *argv[MAXW];
	int argc = split(line, buf, sizeof(buf), argv);

	cfg->groups = groups;
	*err = NULL;
	return ioband_parse_table(argc, argv, cfg, err);
}

static void test_good_tables(void)
{
	struct ioband_table_cfg c;
	char *err;
	int r;

	r = parse_line("/dev/sda1 1 0 0 none weight 0 :40", &c, &err);
	CHECK(r == 0, "r=%d err=%s", r, err);
	CHECK(!strcmp(c.devgroup, "1"), "devgroup %s", c.devgroup);
	CHECK(c.io_throttle == 0 && c.io_limit == 0, "defaults");
	CHECK(c.type == IOBAND_TYPE_NONE && c.policy == IOBAND_POLICY_WEIGHT, "type/policy");
	CHECK(c.default_weight == 40 && c.nr_groups == 0, "weight %u", c.default_weight);

	/* The 1.14 documentation's second example, verbatim. */
	r = parse_line("/dev/sda1 share1 10 400 user weight 2048 :100 1000:80 2000:20", &c, &err);
	CHECK(r == 0, "r=%d err=%s", r, err);
	CHECK(c.io_throttle == 10 && c.io_limit == 400 && c.token_base == 2048, "numbers");
	CHECK(c.type == IOBAND_TYPE_UID, "user is uid");
	CHECK(c.nr_groups == 2 && c.groups[0].id == 1000 && c.groups[0].weight == 80 &&
	      c.groups[1].id == 2000 && c.groups[1].weight == 20, "groups");

	/* '=' and ',' separators; no default weight given; default policy. */
	r = parse_line("8:16 g 0 0 gid default 0 5=10 6,20", &c, &err);
	CHECK(r == 0, "r=%d err=%s", r, err);
	CHECK(c.default_weight == IOBAND_WEIGHT_DEFAULT, "default weight %u", c.default_weight);
	CHECK(c.nr_groups == 2 && c.groups[1].id == 6 && c.groups[1].weight == 20, "sep");
	CHECK(c.policy == IOBAND_POLICY_WEIGHT, "default is weight");

	r = parse_line("8:16 g 4 128 cgroup weight-iosize 0 :100 18446744073:7", &c, &err);
	CHECK(r == 0, "r=%d err=%s", r, err);
	CHECK(c.type == IOBAND_TYPE_CGROUP && c.policy == IOBAND_POLICY_WEIGHT_IOSIZE, "cgroup");
	CHECK(c.groups[0].id == 18446744073ULL, "big cgroup id");

	r = parse_line("8:16 0123456789012345678901234567890 0 0 pid weight 0", &c, &err);
	CHECK(r == 0, "31-char devgroup accepted: %s", err);
	r = parse_line("8:16 g 0 0 pgrp weight 0 :32767 1:1", &c, &err);
	CHECK(r == 0 && c.default_weight == 32767, "max weight: %s", err);
	r = parse_line("8:16 g 32767 32767 uid weight 1099511627776 0:1", &c, &err);
	CHECK(r == 0, "limits and uid 0: %s", err);

	/* range-bw, the 1.14 documentation's line; max 0 = no cap. */
	r = parse_line("8:18 1 4 128 cgroup range-bw 16384 :0:0 2:100:500 3:700:1000 4:30000:35000",
		       &c, &err);
	CHECK(r == 0, "range-bw: %s", err);
	CHECK(c.policy == IOBAND_POLICY_RANGE_BW && c.default_min_kbs == 0 &&
	      c.default_max_kbs == 0 && c.nr_groups == 3, "range-bw cfg");
	CHECK(c.groups[0].id == 2 && c.groups[0].min_kbs == 100 && c.groups[0].max_kbs == 500 &&
	      c.groups[2].min_kbs == 30000 && c.groups[2].max_kbs == 35000 &&
	      c.groups[2].weight == IOBAND_WEIGHT_DEFAULT, "range-bw groups");
	r = parse_line("8:18 1 0 0 uid range-bw 0 =300,0 5=1073741823,0 6,0,1073741823", &c, &err);
	CHECK(r == 0 && c.default_min_kbs == 300 && c.default_max_kbs == 0 &&
	      c.groups[0].min_kbs == 1073741823 && c.groups[1].max_kbs == 1073741823,
	      "range-bw separators, no cap above a min, the largest values: %s", err);
	r = parse_line("8:18 1 0 0 none range-bw 0", &c, &err);
	CHECK(r == 0 && c.default_min_kbs == 0 && c.default_max_kbs == 0, "range-bw defaults 0:0");
	r = parse_line("8:18 1 0 0 none weight 0 :40", &c, &err);
	CHECK(r == 0 && c.default_min_kbs == 0 && c.default_max_kbs == 0, "weight: no range");

	/* a reservation and a limit after a weight */
	r = parse_line("8:18 1 0 0 uid weight 0 :40,l=20m 7:100,r=500iops,l=2000iops 8=5,l=0 9,9,r=1g,l=1099511627776",
		       &c, &err);
	CHECK(r == 0, "weight options: %s", err);
	CHECK(c.default_weight == 40 && !c.default_rsv.rate && c.default_lim.rate == 20ULL << 20 &&
	      !c.default_lim.iops, "default group l=20m");
	CHECK(c.groups[0].weight == 100 && c.groups[0].rsv.rate == 500 && c.groups[0].rsv.iops &&
	      c.groups[0].lim.rate == 2000 && c.groups[0].lim.iops, "r= l= iops");
	CHECK(c.groups[1].weight == 5 && !c.groups[1].lim.rate, "l=0: none");
	CHECK(c.groups[2].weight == 9 && c.groups[2].rsv.rate == 1ULL << 30 &&
	      c.groups[2].lim.rate == 1ULL << 40, "r=1g, l=2^40 bytes");
	r = parse_line("8:18 1 0 0 uid weight-iosize 0 :40 7:100,r=10m,l=100iops", &c, &err);
	CHECK(r == 0, "r bytes above l iops: different units, accepted: %s", err);

	/* a burst after a limit, in its unit */
	r = parse_line("8:18 1 0 0 uid weight 0 :40,l=20m,b=100m/30 7:100,b=2000iops/10,l=200iops 8:5,l=1m,b=0",
		       &c, &err);
	CHECK(r == 0, "bursts: %s", err);
	CHECK(c.default_bst.rate.rate == 100ULL << 20 && !c.default_bst.rate.iops &&
	      c.default_bst.secs == 30, "default group b=100m/30");
	CHECK(c.groups[0].bst.rate.rate == 2000 && c.groups[0].bst.rate.iops &&
	      c.groups[0].bst.secs == 10 && c.groups[0].lim.rate == 200, "b= before l=");
	CHECK(!c.groups[1].bst.rate.rate && !c.groups[1].bst.secs, "b=0: none");
	r = parse_line("8:18 1 0 0 uid weight 0 :40,l=20m,b=100m/3600", &c, &err);
	CHECK(r == 0 && c.default_bst.secs == 3600, "3600 s: %s", err);

	/* the device group's own limit and burst, after the policy */
	r = parse_line("8:18 1 0 0 uid weight-iosize,l=400m,b=1g/10 0 :40", &c, &err);
	CHECK(r == 0 && c.policy == IOBAND_POLICY_WEIGHT_IOSIZE && c.dg_limit.has_lim &&
	      c.dg_limit.lim.rate == 400ULL << 20 && c.dg_limit.has_bst &&
	      c.dg_limit.bst.rate.rate == 1ULL << 30 && c.dg_limit.bst.secs == 10,
	      "policy,l=,b=: %s", err);
	r = parse_line("8:18 1 0 0 uid range-bw,l=5000iops 0 :0:0", &c, &err);
	CHECK(r == 0 && c.policy == IOBAND_POLICY_RANGE_BW && c.dg_limit.lim.iops &&
	      c.dg_limit.lim.rate == 5000 && !c.dg_limit.has_bst, "range-bw,l=: %s", err);
	r = parse_line("8:18 1 0 0 uid weight 0 :40", &c, &err);
	CHECK(r == 0 && !c.dg_limit.has_lim && !c.dg_limit.has_bst, "no device group limit");
}

struct bad_case {
	const char *line;
	const char *error;	/* exact ti->error */
};

static const struct bad_case bad_tables[] = {
	{ "", "Not enough arguments: <device> <device-group-id> <io_throttle> <io_limit> <type> <policy> <token_base> [:<weight>] [<id>:<weight>...]" },
	{ "8:16 g 0 0 none weight", "Not enough arguments: <device> <device-group-id> <io_throttle> <io_limit> <type> <policy> <token_base> [:<weight>] [<id>:<weight>...]" },
	{ "8:16 01234567890123456789012345678901 0 0 none weight 0", "Invalid device-group id (1..31 characters)" },
	{ "8:16 g x 0 none weight 0", "Invalid io_throttle (0..32767, 0 = default)" },
	{ "8:16 g -1 0 none weight 0", "Invalid io_throttle (0..32767, 0 = default)" },
	{ "8:16 g 32768 0 none weight 0", "Invalid io_throttle (0..32767, 0 = default)" },
	{ "8:16 g 0 4k none weight 0", "Invalid io_limit (0..32767, 0 = default)" },
	{ "8:16 g 0 99999999999 none weight 0", "Invalid io_limit (0..32767, 0 = default)" },
	{ "8:16 g 10 5 none weight 0", "io_throttle must not exceed io_limit" },
	{ "8:16 g 0 0 users weight 0", "Invalid group type (none, uid, user, gid, pid, pgrp, cgroup)" },
	{ "8:16 g 0 0 cpuset weight 0", "Group type node/cpuset is not supported (use cgroup)" },
	{ "8:16 g 0 0 none weights 0", "Invalid policy (default, weight, weight-iosize, range-bw)" },
	{ "8:16 g 0 0 uid range-bw 0 :10", "Invalid range: missing <max> (<min>:<max>, KB/s)" },
	{ "8:16 g 0 0 uid range-bw 0 :x:10", "Invalid range <min> (0..1073741823 KB/s)" },
	{ "8:16 g 0 0 uid range-bw 0 :1073741824:0", "Invalid range <min> (0..1073741823 KB/s)" },
	{ "8:16 g 0 0 uid range-bw 0 :0:99999999999", "Invalid range <max> (0..1073741823 KB/s, 0 = no cap)" },
	{ "8:16 g 0 0 uid range-bw 0 :0:-1", "Invalid range <max> (0..1073741823 KB/s, 0 = no cap)" },
	{ "8:16 g 0 0 uid range-bw 0 :0:0 7:500:100", "Invalid range: <min> is above <max>" },
	{ "8:16 g 0 0 uid range-bw 0 :0:0 7:500", "Invalid range: missing <max> (<min>:<max>, KB/s)" },
	{ "8:16 g 0 0 uid range-bw 0 :0:0 7:1:2:3", "Invalid range <max> (0..1073741823 KB/s, 0 = no cap)" },
	{ "8:16 g 0 0 uid range-bw 0 :0:0 7", "Invalid group parameter (expected <group-id>:<min>:<max>)" },
	{ "8:16 g 0 0 uid range-bw 0 :0:0 :1:2", "Default group range :<min>:<max> given twice or after a group" },
	{ "8:16 g 0 0 uid range-bw 0 :0:0 -1:1:2", "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "8:16 g 0 0 none range-bw 0 :0:0 7:1:2", "Groups need a group type other than none" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,r=5", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=5x", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=iops", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=1025g", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=100000001iops", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=-1", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,x=1", "Invalid group option (,r=<rate>, ,l=<rate> and ,b=<rate>/<secs> after the weight, each once)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=1m,l=2m", "Invalid group option (,r=<rate>, ,l=<rate> and ,b=<rate>/<secs> after the weight, each once)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,", "Invalid group option (,r=<rate>, ,l=<rate> and ,b=<rate>/<secs> after the weight, each once)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,r=200iops,l=100iops", "Invalid group options: the reservation r= is above the limit l=" },
	{ "8:16 g 0 0 uid weight 0 :10,r=2m,l=1m", "Invalid group options: the reservation r= is above the limit l=" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,b=2m/10", "A burst b= needs a limit l=" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=1m,b=2000iops/10", "A burst b= takes the unit of the limit l= (both iops, or both bytes)" },
	{ "8:16 g 0 0 uid weight 0 :10 7:10,l=1m,b=1m/10", "A burst b= must be above the limit l=" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=1m/10", "A burst b= must be above the limit l=" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=3m", "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=3m/0", "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=3m/3601", "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=3m/1.5", "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=/10", "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=0/10", "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=3x/10", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 none weight,r=1m 0", "Invalid device group option (,l=<rate> and ,b=<rate>/<secs> after the policy, each once)" },
	{ "8:16 g 0 0 none weight,l=1m,l=2m 0", "Invalid device group option (,l=<rate> and ,b=<rate>/<secs> after the policy, each once)" },
	{ "8:16 g 0 0 none weight, 0", "Invalid device group option (,l=<rate> and ,b=<rate>/<secs> after the policy, each once)" },
	{ "8:16 g 0 0 none weight,b=2m/3 0", "A burst b= needs a limit l=" },
	{ "8:16 g 0 0 none weight,l=2m,b=1m/3 0", "A burst b= must be above the limit l=" },
	{ "8:16 g 0 0 none weight,l=2x 0", "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "8:16 g 0 0 none wait,l=2m 0", "Invalid policy (default, weight, weight-iosize, range-bw)" },
	{ "8:16 g 0 0 uid weight 0 :10,l=2m,b=3m/10,b=4m/10", "Invalid group option (,r=<rate>, ,l=<rate> and ,b=<rate>/<secs> after the weight, each once)" },
	{ "8:16 g 0 0 uid weight 0 :x,r=2m", "Invalid default group weight :<weight> (1..32767)" },
	{ "8:16 g 0 0 none weight abc", "Invalid token_base (0..2^40, 0 = default)" },
	{ "8:16 g 0 0 none weight 1099511627777", "Invalid token_base (0..2^40, 0 = default)" },
	{ "8:16 g 0 0 none weight 0 :0", "Invalid default group weight :<weight> (1..32767)" },
	{ "8:16 g 0 0 none weight 0 :32768", "Invalid default group weight :<weight> (1..32767)" },
	{ "8:16 g 0 0 none weight 0 :abc", "Invalid default group weight :<weight> (1..32767)" },
	{ "8:16 g 0 0 none weight 0 :10 1:10", "Groups need a group type other than none" },
	{ "8:16 g 0 0 uid weight 0 :10 1000", "Invalid group parameter (expected <group-id>:<weight>)" },
	{ "8:16 g 0 0 uid weight 0 :10 abc:10", "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "8:16 g 0 0 uid weight 0 :10 4294967295:10", "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "8:16 g 0 0 pid weight 0 :10 0:10", "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "8:16 g 0 0 pid weight 0 :10 4194305:10", "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "8:16 g 0 0 uid weight 0 :10 1000:0", "Invalid group weight <group-id>:<weight> (1..32767)" },
	{ "8:16 g 0 0 uid weight 0 :10 1000:", "Invalid group weight <group-id>:<weight> (1..32767)" },
	{ "8:16 g 0 0 uid weight 0 :10 1000:80 1000:20", "Duplicate group id" },
	{ "8:16 g 0 0 uid weight 0 :10 :20", "Default group weight :<weight> given twice or after a group" },
	{ "8:16 g 0 0 uid weight 0 1:20 :20", "Default group weight :<weight> given twice or after a group" },
	{ "8:16 g 0 0 cgroup weight 0 :10 -5:20", "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "8:16 g 0 0 uid weight 0 :10 1000:80x", "Invalid group weight <group-id>:<weight> (1..32767)" },
	{ "8:16 g 1 2 uid weight 0 :10 10:10 10 :20", "Invalid group parameter (expected <group-id>:<weight>)" },
};

static void test_bad_tables(void)
{
	struct ioband_table_cfg c;
	unsigned int i;
	char *err;

	for (i = 0; i < ARRAY_SIZE(bad_tables); i++) {
		int r = parse_line(bad_tables[i].line, &c, &err);

		CHECK(r == -EINVAL, "'%s' accepted", bad_tables[i].line);
		CHECK(err && !strcmp(err, bad_tables[i].error),
		      "'%s': got \"%s\", want \"%s\"", bad_tables[i].line,
		      err ? err : "(null)", bad_tables[i].error);
	}
	CHECK(ARRAY_SIZE(bad_tables) >= 20, "at least 20 malformed lines");
}

/* The parser must hand argv back to dm core unchanged. */
static void test_argv_untouched(void)
{
	char buf[256], *argv[MAXW];
	struct ioband_group_cfg groups[MAXW];
	struct ioband_table_cfg c = { .groups = groups };
	char *err;
	int argc = split("8:16 g 0 0 uid weight 0 :10 1000=80 2000,20", buf, sizeof(buf), argv);

	CHECK(ioband_parse_table(argc, argv, &c, &err) == 0, "parse");
	CHECK(!strcmp(argv[8], "1000=80"), "argv[8]=%s", argv[8]);
	CHECK(!strcmp(argv[9], "2000,20"), "argv[9]=%s", argv[9]);

	argc = split("8:16 g 0 0 uid range-bw 0 :1=2 1000=80,90 2000:3:2", buf, sizeof(buf), argv);
	CHECK(ioband_parse_table(argc, argv, &c, &err) == -EINVAL, "bad range");
	CHECK(!strcmp(argv[7], ":1=2") && !strcmp(argv[8], "1000=80,90") &&
	      !strcmp(argv[9], "2000:3:2"), "range-bw argv %s %s %s", argv[7], argv[8], argv[9]);
}

/*
 * 65536 groups, the most a table may have, given in descending id order:
 * accepted, handed back sorted by id; the same line with its last id equal
 * to its first is refused.  The duplicate check is a sort, not a compare
 * of every pair (2 * 10^9 of them here).
 */
static void test_many_groups(void)
{
	unsigned int n = IOBAND_GROUPS_MAX, argc = IOBAND_TABLE_FIXED_ARGS + n;
	const char *fixed[] = { "8:16", "g", "0", "0", "cgroup", "weight", "0" };
	char **argv = calloc(argc, sizeof(*argv));
	char *words = calloc(n, 24);
	struct ioband_group_cfg *groups = calloc(argc, sizeof(*groups));
	struct ioband_table_cfg c = { .groups = groups };
	unsigned int i, sorted = 1;
	char *err = NULL;
	int r;

	if (!argv || !words || !groups)
		abort();
	for (i = 0; i < IOBAND_TABLE_FIXED_ARGS; i++)
		argv[i] = (char *)fixed[i];
	for (i = 0; i < n; i++) {
		argv[IOBAND_TABLE_FIXED_ARGS + i] = words + 24 * i;
		snprintf(words + 24 * i, 24, "%u:%u", 1000000 - 7 * i, 1 + i % 100);
	}
	r = ioband_parse_table(argc, argv, &c, &err);
	CHECK(r == 0 && c.nr_groups == n, "65536 groups: r=%d err=%s", r, err);
	for (i = 1; i < c.nr_groups; i++)
		sorted &= c.groups[i - 1].id < c.groups[i].id;
	CHECK(sorted, "groups handed back sorted by id");
	CHECK(c.nr_groups && c.groups[0].id == 1000000 - 7 * (n - 1) &&
	      c.groups[0].weight == 1 + (n - 1) % 100, "lowest id with its weight");
	CHECK(!strcmp(argv[argc - 1], words + 24 * (n - 1)), "argv untouched");

	snprintf(words + 24 * (n - 1), 24, "1000000:5");
	err = NULL;
	r = ioband_parse_table(argc, argv, &c, &err);
	CHECK(r == -EINVAL && err && !strcmp(err, "Duplicate group id"),
	      "first and last equal: r=%d err=%s", r, err);
	free(groups);
	free(words);
	free(argv);
}

static int parse_msg(const char *line, enum ioband_type type,
		     struct ioband_msg *m, char **err)
{
	char buf[256], *argv[MAXW];
	int argc = split(line, buf, sizeof(buf), argv);

	*err = NULL;
	return ioband_parse_message(argc, argv, type, m, err);
}

static void test_messages(void)
{
	struct ioband_msg m;
	char *err;

	CHECK(!parse_msg("weight 50", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_WEIGHT && !m.has_id && m.value == 50, "weight 50");
	CHECK(!parse_msg("weight :60", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.has_id && m.value == 60, "weight :60");
	CHECK(!parse_msg("weight 1000:70", IOBAND_TYPE_UID, &m, &err) &&
	      m.has_id && m.id == 1000 && m.value == 70, "weight 1000:70");
	CHECK(!parse_msg("attach 1000", IOBAND_TYPE_UID, &m, &err) &&
	      m.verb == IOBAND_MSG_ATTACH && m.id == 1000, "attach");
	CHECK(!parse_msg("detach 7", IOBAND_TYPE_PID, &m, &err) &&
	      m.verb == IOBAND_MSG_DETACH && m.id == 7, "detach");
	CHECK(!parse_msg("type user", IOBAND_TYPE_NONE, &m, &err) &&
	      m.type == IOBAND_TYPE_UID, "type user");
	CHECK(!parse_msg("policy weight-iosize", IOBAND_TYPE_NONE, &m, &err) &&
	      m.policy == IOBAND_POLICY_WEIGHT_IOSIZE, "policy");
	CHECK(!parse_msg("token 0", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_TOKEN && m.value == 0, "token");
	CHECK(!parse_msg("token 5:128", IOBAND_TYPE_UID, &m, &err) &&
	      m.value == 128, "token id:n");
	CHECK(!parse_msg("io_throttle 8", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_IO_THROTTLE && m.value == 8, "io_throttle");
	CHECK(!parse_msg("io_limit 0", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_IO_LIMIT && m.value == 0, "io_limit");
	CHECK(!parse_msg("reset", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_RESET, "reset");
	CHECK(!parse_msg("stats", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_STATS, "stats");
	CHECK(!parse_msg("policy range-bw", IOBAND_TYPE_NONE, &m, &err) &&
	      m.policy == IOBAND_POLICY_RANGE_BW, "policy range-bw");
	CHECK(!parse_msg("range-bw 1000:100:500", IOBAND_TYPE_UID, &m, &err) &&
	      m.verb == IOBAND_MSG_RANGE_BW && m.has_id && m.id == 1000 &&
	      m.min_kbs == 100 && m.max_kbs == 500, "range-bw id:min:max");
	CHECK(!parse_msg("range-bw -1:0:2048", IOBAND_TYPE_UID, &m, &err) &&
	      !m.has_id && m.min_kbs == 0 && m.max_kbs == 2048, "range-bw -1 is the default group");
	CHECK(!parse_msg("range-bw :7:0", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.has_id && m.min_kbs == 7 && m.max_kbs == 0, "range-bw :min:max");
	CHECK(!parse_msg("range-bw -1=5,6", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.has_id && m.min_kbs == 5 && m.max_kbs == 6, "range-bw -1 with any type");
	CHECK(!parse_msg("reserve 1000:300iops", IOBAND_TYPE_UID, &m, &err) &&
	      m.verb == IOBAND_MSG_RESERVE && m.has_id && m.id == 1000 && m.rate.rate == 300 &&
	      m.rate.iops, "reserve id:iops");
	CHECK(!parse_msg("limit 40m", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_LIMIT && !m.has_id && m.rate.rate == 40ULL << 20 &&
	      !m.rate.iops, "limit bytes, default group");
	CHECK(!parse_msg("limit :0", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.has_id && !m.rate.rate, "limit :0 lifts it");
	CHECK(!parse_msg("burst 7:2000iops/10", IOBAND_TYPE_UID, &m, &err) &&
	      m.verb == IOBAND_MSG_BURST && m.has_id && m.id == 7 &&
	      m.burst.rate.rate == 2000 && m.burst.rate.iops && m.burst.secs == 10, "burst id:");
	CHECK(!parse_msg("burst 64m/5", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.has_id && m.burst.rate.rate == 64ULL << 20 && m.burst.secs == 5,
	      "burst, default group");
	CHECK(!parse_msg("policy weight,l=300iops", IOBAND_TYPE_NONE, &m, &err) &&
	      m.verb == IOBAND_MSG_POLICY && m.policy == IOBAND_POLICY_WEIGHT &&
	      m.dg_limit.has_lim && m.dg_limit.lim.rate == 300 && !m.dg_limit.has_bst,
	      "policy with a device group limit");
	CHECK(!parse_msg("policy weight-iosize", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.dg_limit.has_lim && !m.dg_limit.has_bst, "policy alone keeps the limit");
	CHECK(!parse_msg("policy weight,b=0", IOBAND_TYPE_NONE, &m, &err) &&
	      m.dg_limit.has_bst && !m.dg_limit.bst.rate.rate, "policy,b=0");
	CHECK(!parse_msg("burst :0", IOBAND_TYPE_NONE, &m, &err) &&
	      !m.has_id && !m.burst.rate.rate, "burst :0 removes it");
}

static const struct {
	const char *msg;
	enum ioband_type type;
	const char *error;
} bad_msgs[] = {
	{ "", IOBAND_TYPE_NONE, "Empty message" },
	{ "weigh 10", IOBAND_TYPE_NONE, "Unknown message (weight, attach, detach, type, policy, token, io_throttle, io_limit, range-bw, reserve, limit, burst, reset, stats)" },
	{ "WEIGHT 10", IOBAND_TYPE_NONE, "Unknown message (weight, attach, detach, type, policy, token, io_throttle, io_limit, range-bw, reserve, limit, burst, reset, stats)" },
	{ "weight", IOBAND_TYPE_NONE, "Message takes exactly one argument" },
	{ "weight 10 20", IOBAND_TYPE_NONE, "Message takes exactly one argument" },
	{ "weight 0", IOBAND_TYPE_NONE, "Invalid weight (1..32767)" },
	{ "weight 40000", IOBAND_TYPE_NONE, "Invalid weight (1..32767)" },
	{ "weight 1000:x", IOBAND_TYPE_UID, "Invalid weight (1..32767)" },
	{ "weight 5:10", IOBAND_TYPE_NONE, "Groups need a group type other than none" },
	{ "attach 5", IOBAND_TYPE_NONE, "Groups need a group type other than none" },
	{ "attach -1", IOBAND_TYPE_UID, "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "detach abc", IOBAND_TYPE_PID, "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "type cpuset", IOBAND_TYPE_NONE, "Group type node/cpuset is not supported (use cgroup)" },
	{ "type bogus", IOBAND_TYPE_NONE, "Invalid group type (none, uid, user, gid, pid, pgrp, cgroup)" },
	{ "policy fifo", IOBAND_TYPE_NONE, "Invalid policy (default, weight, weight-iosize, range-bw)" },
	{ "range-bw 5", IOBAND_TYPE_UID, "Invalid range-bw message (expected <group-id>:<min>:<max>, -1 for the default group)" },
	{ "range-bw 5:10", IOBAND_TYPE_UID, "Invalid range: missing <max> (<min>:<max>, KB/s)" },
	{ "range-bw 5:20:10", IOBAND_TYPE_UID, "Invalid range: <min> is above <max>" },
	{ "range-bw 5:1:1073741824", IOBAND_TYPE_UID, "Invalid range <max> (0..1073741823 KB/s, 0 = no cap)" },
	{ "range-bw 5:-1:10", IOBAND_TYPE_UID, "Invalid range <min> (0..1073741823 KB/s)" },
	{ "range-bw -2:1:10", IOBAND_TYPE_UID, "Invalid group id: the only negative one is -1 (the default group)" },
	{ "range-bw -1x:1:10", IOBAND_TYPE_UID, "Invalid group id: the only negative one is -1 (the default group)" },
	{ "range-bw 5:1:10", IOBAND_TYPE_NONE, "Groups need a group type other than none" },
	{ "range-bw 0:1:10", IOBAND_TYPE_PID, "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "range-bw 5:1:10 6:1:10", IOBAND_TYPE_UID, "Message takes exactly one argument" },
	{ "reserve 5:12x", IOBAND_TYPE_UID, "Invalid rate (<n>iops up to 10^8, or bytes/s from 1k to 2^40: <n>, <n>k, <n>m, <n>g; 0 = none)" },
	{ "limit", IOBAND_TYPE_UID, "Message takes exactly one argument" },
	{ "policy weight,r=1m", IOBAND_TYPE_UID, "Invalid device group option (,l=<rate> and ,b=<rate>/<secs> after the policy, each once)" },
	{ "policy weight,b=1m", IOBAND_TYPE_UID, "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "burst 5:2m", IOBAND_TYPE_UID, "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "burst 5:2m/0", IOBAND_TYPE_UID, "Invalid burst (<rate>/<secs>: a rate as l= takes, above it, for 1..3600 seconds; 0 = none)" },
	{ "burst 0:2m/1", IOBAND_TYPE_PID, "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "limit x:1m", IOBAND_TYPE_UID, "Invalid group id (uid/gid 0..4294967294, pid/pgrp 1..4194304, cgroup id >= 1)" },
	{ "token -3", IOBAND_TYPE_NONE, "Invalid token (0..2^40, 0 = default)" },
	{ "io_throttle 40000", IOBAND_TYPE_NONE, "Invalid io_throttle (0..32767, 0 = default)" },
	{ "io_limit many", IOBAND_TYPE_NONE, "Invalid io_limit (0..32767, 0 = default)" },
	{ "reset now", IOBAND_TYPE_NONE, "Message takes no argument" },
	{ "stats all", IOBAND_TYPE_NONE, "Message takes no argument" },
};

static void test_bad_messages(void)
{
	struct ioband_msg m;
	unsigned int i;
	char *err;

	for (i = 0; i < ARRAY_SIZE(bad_msgs); i++) {
		int r = parse_msg(bad_msgs[i].msg, bad_msgs[i].type, &m, &err);

		CHECK(r == -EINVAL, "'%s' accepted", bad_msgs[i].msg);
		CHECK(err && !strcmp(err, bad_msgs[i].error),
		      "'%s': got \"%s\", want \"%s\"", bad_msgs[i].msg,
		      err ? err : "(null)", bad_msgs[i].error);
	}
}

static void test_names(void)
{
	enum ioband_type t;
	enum ioband_policy_id p;
	char *err;
	unsigned int i;

	/* Every printed name parses back to itself: status TABLE round-trips. */
	for (i = 0; i < IOBAND_TYPE_NR; i++)
		CHECK(!ioband_parse_type(ioband_type_name(i), &t, &err) && t == i,
		      "type %u", i);
	for (i = 0; i < IOBAND_POLICY_NR; i++)
		CHECK(!ioband_parse_policy(ioband_policy_name(i), &p, &err) && p == i,
		      "policy %u", i);
}

int main(void)
{
	test_good_tables();
	test_bad_tables();
	test_argv_untouched();
	test_many_groups();
	test_messages();
	test_bad_messages();
	test_names();
	return utest_report("test-parse");
}
