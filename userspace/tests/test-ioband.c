// SPDX-License-Identifier: GPL-2.0
/* test-ioband - dm-ioband table, status and stats parsing/formatting. */
#include "ioband.h"
#include "utest.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static void table(void)
{
	struct iob_table t;
	const char *err = NULL;
	char *s;

	CHECK(iob_table_parse("8:16 share1 10 400 user weight 2048 :100 1000:80 2000=20", &t, &err) == 0);
	CHECK(t.type == IOB_UID && t.policy == IOB_WEIGHT && t.io_throttle == 10 && t.io_limit == 400);
	CHECK(t.token_base == 2048 && t.default_weight == 100 && t.n_groups == 2);
	CHECK(iob_table_group(&t, 2000) && iob_table_group(&t, 2000)->weight == 20);
	s = iob_table_format(&t);
	CHECK_STR(s, "8:16 share1 10 400 uid weight 2048 :100 1000:80 2000:20");
	free(s);
	iob_table_del_group(&t, 1000);
	iob_table_add_group(&t, 7, 1);
	s = iob_table_format(&t);
	CHECK_STR(s, "8:16 share1 10 400 uid weight 2048 :100 2000:20 7:1");
	free(s);
	iob_table_free(&t);

	CHECK(iob_table_parse("/dev/sda1 1 0 0 none default 0", &t, &err) == 0);
	CHECK(t.default_weight == IOB_WEIGHT_DEFAULT && t.policy == IOB_WEIGHT);
	iob_table_free(&t);

	CHECK(iob_table_parse("8:16 g 0 0 none weight", &t, &err) < 0);
	CHECK(iob_table_parse("8:16 g 0 0 none fifo 0 :0:0", &t, &err) < 0);
	CHECK_STR(err, "invalid policy");
	/* range-bw: the 1.14 documentation's line round-trips */
	CHECK(iob_table_parse("8:18 1 4 128 cgroup range-bw 16384 :0:0 2:100:500 3=700,1000", &t, &err) == 0);
	CHECK(t.policy == IOB_RANGE_BW && t.n_groups == 2 && iob_table_group(&t, 3)->min_kbs == 700 &&
	      iob_table_group(&t, 3)->max_kbs == 1000);
	s = iob_table_format(&t);
	CHECK_STR(s, "8:18 1 4 128 cgroup range-bw 16384 :0:0 2:100:500 3:700:1000");
	free(s);
	iob_table_free(&t);
	/* a weight's reservation and limit round-trip */
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40,l=20m 7:100,r=500iops,l=2000iops 8=5", &t, &err) == 0);
	CHECK(t.default_weight == 40 && iob_table_group(&t, 7)->weight == 100 &&
	      iob_table_group(&t, 7)->lim.rsv.rate == 500 && iob_table_group(&t, 7)->lim.rsv.iops &&
	      iob_table_group(&t, 7)->lim.lim.rate == 2000 && t.default_lim.lim.rate == 20 << 20 &&
	      !t.default_lim.lim.iops);
	s = iob_table_format(&t);
	CHECK_STR(s, "8:18 1 0 0 uid weight 0 :40,l=20m 7:100,r=500iops,l=2000iops 8:5");
	free(s);
	iob_table_free(&t);
	/* bursts; rates come back as the module prints them */
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40,l=20480k,b=40960k/30 7:100,r=500iops,l=2000iops,b=4000iops/10 8:5,r=1048576",
			      &t, &err) == 0);
	CHECK(iob_table_group(&t, 7)->lim.burst.rate == 4000 && iob_table_group(&t, 7)->lim.burst_secs == 10);
	s = iob_table_format(&t);
	CHECK_STR(s, "8:18 1 0 0 uid weight 0 :40,l=20m,b=40m/30 7:100,r=500iops,l=2000iops,b=4000iops/10 8:5,r=1m");
	free(s);
	iob_table_free(&t);
	/* the device group's own limit and burst after the policy */
	CHECK(iob_table_parse("8:18 1 0 0 uid weight-iosize,l=409600k,b=1g/10 0 :40", &t, &err) == 0);
	CHECK(t.policy == IOB_WEIGHT_IOSIZE && t.dg_lim.lim.rate == 400 << 20 &&
	      t.dg_lim.burst.rate == 1ULL << 30 && t.dg_lim.burst_secs == 10);
	s = iob_table_format(&t);
	CHECK_STR(s, "8:18 1 0 0 uid weight-iosize,l=400m,b=1g/10 0 :40");
	free(s);
	iob_table_free(&t);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight,r=5m 0 :40", &t, &err) < 0);
	CHECK_STR(err, "invalid device group options (,l=<rate>,b=<rate>/<secs> after the policy, each once)");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight,b=5m/3 0 :40", &t, &err) < 0);
	CHECK_STR(err, "invalid group options (b= needs l=, in its unit and above it)");
	CHECK(iob_table_parse("8:18 1 0 0 uid wait,l=5m 0 :40", &t, &err) < 0);
	CHECK_STR(err, "invalid policy");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,r=5k 6", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,r=5;rm", &t, &err) < 0);
	CHECK_STR(err, "invalid rate (<n>iops, or bytes/s <n>, <n>k, <n>m, <n>g from 1k; 0 = none)");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,x=5", &t, &err) < 0);
	CHECK_STR(err, "invalid group options (,r=<rate>,l=<rate>,b=<rate>/<secs>, each once)");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,r=5k,r=6k", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,,r=5k", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,r=5m,l=4m", &t, &err) < 0);
	CHECK_STR(err, "invalid group options (r= above l=)");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40,r=5m,l=400iops", &t, &err) == 0);
	iob_table_free(&t);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,b=4m/10", &t, &err) < 0);
	CHECK_STR(err, "invalid group options (b= needs l=, in its unit and above it)");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,l=4m,b=4m/10", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,l=4m,b=9000iops/10", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,l=4m,b=8m/0", &t, &err) < 0);
	CHECK_STR(err, "invalid burst (b=<rate>/<secs>, secs 1..3600)");
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,l=4m,b=8m/3601", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,l=4m,b=8m", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid range-bw 0 :0:0 2:500:100", &t, &err) < 0);
	CHECK_STR(err, "invalid range (min above max)");
	CHECK(iob_table_parse("8:18 1 0 0 uid range-bw 0 :0:0 2:100", &t, &err) < 0);
	CHECK_STR(err, "invalid range (expected <min>:<max>, KB/s)");
	CHECK(iob_table_parse("8:16 g 0 0 pid weight 0 :100 0:5", &t, &err) < 0);
	CHECK_STR(err, "invalid group id");
	CHECK(iob_table_parse("8:16 g 0 0 uid weight 0 :100 5:5 5:6", &t, &err) < 0);
	CHECK_STR(err, "duplicate group id");
	CHECK(iob_table_parse("8:16 g 0 0 uid weight 0 :0", &t, &err) < 0);
	CHECK(iob_table_parse("8:16 g 10 5 uid weight 0", &t, &err) < 0);
	CHECK_STR(err, "io_throttle must not exceed io_limit");
	CHECK(iob_table_parse("8:16 a-device-group-name-of-32-chars! 0 0 uid weight 0", &t, &err) < 0);

	CHECK(iob_check_group_id(IOB_UID, 0) == 0 && iob_check_group_id(IOB_UID, 4294967295ULL) < 0);
	CHECK(iob_check_group_id(IOB_PID, 0) < 0 && iob_check_group_id(IOB_PID, 4194304) == 0);
	CHECK(iob_check_group_id(IOB_CGROUP, 1) == 0 && iob_check_group_id(IOB_NONE, 1) < 0);
}

static void rates(void)
{
	struct iob_rate r;
	unsigned int secs;
	char b[IOB_RATE_STR_MAX];

	CHECK(iob_rate_parse("500iops", &r) == 0 && r.iops && r.rate == 500);
	CHECK(iob_rate_parse("20m", &r) == 0 && !r.iops && r.rate == 20 << 20);
	CHECK(iob_rate_parse("1024", &r) == 0 && r.rate == 1024);
	CHECK(iob_rate_parse("0", &r) == 0 && !r.rate);
	CHECK(iob_rate_parse("0iops", &r) == 0 && !r.rate && !r.iops);
	CHECK(iob_rate_parse("100000000iops", &r) == 0 && iob_rate_parse("100000001iops", &r) < 0);
	CHECK(iob_rate_parse("1024g", &r) == 0 && iob_rate_parse("1025g", &r) < 0);
	CHECK(iob_rate_parse("1023", &r) < 0 && iob_rate_parse("1k", &r) == 0);
	CHECK(iob_rate_parse("", &r) < 0 && iob_rate_parse("iops", &r) < 0 && iob_rate_parse("5K", &r) < 0);
	CHECK(iob_rate_parse("-5", &r) < 0 && iob_rate_parse("5 k", &r) < 0 &&
	      iob_rate_parse("99999999999999999999999", &r) < 0);
	/* the module's own parser (kparse.c): leading zeros as kstrtoull takes them */
	CHECK(iob_rate_parse("0000000000000000000001k", &r) == 0 && r.rate == 1024);
	CHECK(iob_burst_parse("2000iops/10", &r, &secs) == 0 && r.iops && r.rate == 2000 && secs == 10);
	/* the module's "0" (no burst) is not a burst to set */
	CHECK(iob_burst_parse("0", &r, &secs) < 0);
	CHECK(iob_burst_parse("0/10", &r, &secs) < 0 && iob_burst_parse("2m/", &r, &secs) < 0 &&
	      iob_burst_parse("2m", &r, &secs) < 0 && iob_burst_parse("2m/3601", &r, &secs) < 0);
	/* printed back in the largest exact unit, as the module does */
	{
		static const char *const io[][2] = {
			{ "20480k", "20m" }, { "1536k", "1536k" }, { "1500", "1500" }, { "0", "0" },
			{ "1073741824", "1g" }, { "7iops", "7iops" },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(io); i++) {
			CHECK(iob_rate_parse(io[i][0], &r) == 0);
			iob_rate_format(&r, b, sizeof(b));
			CHECK_STR(b, io[i][1]);
		}
	}
}

static void status(void)
{
	struct iob_status st;
	const char *err;

	/* The example of the interface description. */
	CHECK(iob_status_parse("share1 -1 10 0 80 5 0 40 1000 3 1 24 0 0 0 ext -1 0 0 1000 0 0", &st, &err) == 0);
	CHECK_STR(st.devgroup, "share1");
	CHECK(st.n == 2 && st.g[0].id == -1 && st.g[0].reads == 10 && st.g[0].read_sectors == 80);
	CHECK(st.g[0].writes == 5 && st.g[0].write_sectors == 40);
	CHECK(st.g[1].id == 1000 && st.g[1].reads == 3 && st.g[1].delayed_reads == 1 && st.g[1].read_sectors == 24);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8", &st, &err) == 0);
	CHECK(st.g[0].queued == 7 && st.g[0].wait_us == 8);
	iob_status_free(&st);
	/* The depth part of newer targets; older lines have none. */
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1180 1357", &st, &err) == 0);
	CHECK(st.has_depth && st.depth_auto && st.depth == 5 && st.depth_base_us == 1180 &&
	      st.depth_target_us == 1357 && st.n == 1 && st.g[0].wait_us == 8);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 400 fixed 0 0", &st, &err) == 0);
	CHECK(st.has_depth && !st.depth_auto && st.depth == 400);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8", &st, &err) == 0 && !st.has_depth);
	iob_status_free(&st);
	/* range-bw adds a limits part after the depth */
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 7 1 2 3 4 5 6 ext -1 7 8 7 0 0 depth 5 auto 1 2 limits -1 0 0 7 1500 250000",
			       &st, &err) == 0);
	CHECK(st.has_limits && st.has_depth && st.depth == 5 && st.n == 2 &&
	      st.g[1].rsv_lag_us == 1500 && st.g[1].limited_us == 250000);
	iob_status_free(&st);
	/* the limits part with the reservation's state (met, unmet, -) */
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 7 1 2 3 4 5 6 ext -1 7 8 7 0 0 depth 5 auto 1 2 limits -1 - 0 0 7 unmet 1500 250000",
			       &st, &err) == 0);
	CHECK(st.has_limits && st.n == 2 && st.g[0].rsv == IOB_RSV_NONE && st.g[1].rsv == IOB_RSV_UNMET &&
	      st.g[1].rsv_lag_us == 1500 && st.g[1].limited_us == 250000 && st.has_depth);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 met 0 7", &st, &err) == 0);
	CHECK(st.g[0].rsv == IOB_RSV_MET && st.g[0].limited_us == 7);
	iob_status_free(&st);
	/* a device group with its own limit: the time it held bios back */
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 dglimit 4200", &st, &err) == 0);
	CHECK(st.has_dglimit && st.dglimit_us == 4200 && st.has_depth && st.depth == 5 && !st.has_limits);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 dglimit 9 limits -1 met 0 7", &st, &err) == 0);
	CHECK(st.has_dglimit && st.dglimit_us == 9 && st.has_limits && st.g[0].limited_us == 7);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2", &st, &err) == 0 && !st.has_dglimit);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 refused 37 16 dglimit 9", &st, &err) == 0);
	CHECK(st.has_refused && st.refused == 37 && st.refused_tags == 16 && st.dglimit_us == 9);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2", &st, &err) == 0 && !st.has_refused);
	iob_status_free(&st);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 refused 37", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 refused x 16", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 dglimit 9 refused 1 2", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 dglimit", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 dglimit x", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 dglimit 1 2", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 met 0 7 dglimit 1", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 met 0", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 maybe 0 0", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 met 0 0 0", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 0", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits 3 0 0", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1 2 limits -1 0 0 9", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 auto 1", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth 5 maybe 1 2", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext -1 7 8 depth x auto 1 2", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 ext -1 0 0", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 ext 5 0 0", &st, &err) < 0);

	CHECK(iob_stats_parse("-1 weight=100 reads=1 read_sectors=8 writes=2 write_sectors=16 delayed_reads=0 delayed_writes=1 queued=3 wait_us=44\n"
			      "1000 weight=50 reads=0 read_sectors=0 writes=0 write_sectors=0 delayed_reads=0 delayed_writes=0 queued=0 wait_us=0 future=1",
			      &st, &err) == 0);
	CHECK(st.n == 2 && st.g[0].weight == 100 && st.g[0].write_sectors == 16 && st.g[0].queued == 3 &&
	      st.g[0].wait_us == 44 && st.g[1].id == 1000 && st.g[1].weight == 50);
	iob_status_free(&st);
	CHECK(iob_stats_parse("-1 weight=x", &st, &err) < 0);
	/* Found by tests/fuzz: a group twice, a weight no kernel has. */
	CHECK(iob_stats_parse("-1 weight=1\n5 weight=2\n5 weight=3", &st, &err) < 0);
	CHECK(iob_stats_parse("-1 weight=4294967297", &st, &err) < 0);
	CHECK(iob_status_parse("g -1 1 2 3 4 5 6 -1 1 2 3 4 5 6 ext -1 0 0 -1 0 0", &st, &err) < 0);
}

/*
 * A reader of quote()'s output, by the rule iobandctl.8 gives: in the
 * quotes \" is ", \\ is \, \xhh of a byte below 0x20 or from 0x7f is
 * that byte; any other \ is itself.  NULL if Q is not one quoted text.
 */
static char *unquote(const char *q)
{
	struct strbuf sb = { 0 };
	unsigned int b;

	if (*q++ != '"')
		return NULL;
	for (; *q && *q != '"'; q++) {
		if (q[0] == '\\' && (q[1] == '"' || q[1] == '\\')) {
			sb_addf(&sb, "%c", *++q);
		} else if (q[0] == '\\' && q[1] == 'x' && isxdigit((unsigned char)q[2]) &&
			   isxdigit((unsigned char)q[3]) && !isupper((unsigned char)q[2]) &&
			   !isupper((unsigned char)q[3]) && sscanf(q + 2, "%2x", &b) == 1 &&
			   (b < 0x20 || b >= 0x7f)) {
			sb_addf(&sb, "%c", (char)b);
			q += 3;
		} else {
			sb_addf(&sb, "%c", *q);
		}
	}
	if (*q != '"' || q[1]) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

/* util.c's quote(): what messages make of user text. */
static void quoting(void)
{
	CHECK_STR(quote("web1"), "\"web1\"");
	CHECK_STR(quote(""), "\"\"");
	CHECK_STR(quote("a\033[2J\n\t\r\177b"), "\"a\\x1b[2J\\x0a\\x09\\x0d\\x7fb\"");
	/* UTF-8 stays; C1 controls, stray, overlong and surrogate bytes do not */
	CHECK_STR(quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CHECK_STR(quote("\xc2\x9b\x9b\xc0\x9b\xe0\x80\x9b\xed\xa0\x80\xc3"),
		  "\"\\xc2\\x9b\\x9b\\xc0\\x9b\\xe0\\x80\\x9b\\xed\\xa0\\x80\\xc3\"");
	/* not escaped: systemd's escapes read as written */
	CHECK_STR(quote("machine-qemu\\x2d1.scope"), "\"machine-qemu\\x2d1.scope\"");
	CHECK_STR(quote("C:\\dir\\n"), "\"C:\\dir\\n\"");
	/* escaped where they would read as an escape, or end the quotes */
	CHECK_STR(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
	CHECK_STR(quote("a\\"), "\"a\\\\\"");
	CHECK_STR(quote("\\x1b"), "\"\\\\x1b\"");	/* not ESC, which is "\x1b" */
	CHECK_STR(quote("\\x9B\\xzz"), "\"\\\\x9B\\xzz\"");
	CHECK_STR(quote("\\\033"), "\"\\\\\\x1b\"");
	CHECK_STR(quote("\\\\x2d"), "\"\\\\\\x2d\"");
	CHECK_STR(quote_if_needed("/dev/sdb"), "/dev/sdb");
	CHECK_STR(quote_if_needed("/dev/\033"), "\"/dev/\\x1b\"");
	CHECK_STR(quote_if_needed("a\\x2d"), "a\\x2d");
	CHECK_STR(quote_if_needed("\"a\""), "\"\\\"a\\\"\"");
	/* every text reads back as itself: the quoting is unambiguous */
	{
		static const char abc[] = { '\\', '"', 'x', '1', 'b', 'F', '2', 'd', 'a',
					    '\033', '\177', (char)0xc2, (char)0x9b, (char)0xc3, (char)0xa9 };
		char t[8], *back;
		unsigned int seed = 1;
		int i, j, bad = 0;

		for (i = 0; i < 20000; i++) {
			int len = (int)(rand_r(&seed) % sizeof(t));

			for (j = 0; j < len; j++)
				t[j] = abc[rand_r(&seed) % sizeof(abc)];
			t[len] = '\0';
			back = unquote(quote(t));
			if (!back || strcmp(back, t)) {
				if (!bad++)
					fprintf(stderr, "quote(%s) reads back as %s\n", quote(t),
						back ? quote(back) : "(not one text)");
			}
			free(back);
		}
		CHECK(bad == 0);
	}
	/* QUOTE_SLOTS results at once, as in one message */
	{
		const char *q[QUOTE_SLOTS];
		char want[16];
		int i;

		for (i = 0; i < QUOTE_SLOTS; i++) {
			snprintf(want, sizeof(want), "%d", i);
			q[i] = quote(want);
		}
		for (i = 0; i < QUOTE_SLOTS; i++) {
			snprintf(want, sizeof(want), "\"%d\"", i);
			CHECK_STR(q[i], want);
		}
	}
}

int main(void)
{
	table();
	rates();
	status();
	quoting();
	return ut_summary("test-ioband");
}
