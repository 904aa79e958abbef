// SPDX-License-Identifier: GPL-2.0
/* test-ioband - dm-ioband table, status and stats parsing/formatting. */
#include "ioband.h"
#include "utest.h"

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
	      !strcmp(iob_table_group(&t, 7)->opts, ",r=500iops,l=2000iops"));
	s = iob_table_format(&t);
	CHECK_STR(s, "8:18 1 0 0 uid weight 0 :40,l=20m 7:100,r=500iops,l=2000iops 8:5");
	free(s);
	iob_table_free(&t);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,r=5 6", &t, &err) < 0);
	CHECK(iob_table_parse("8:18 1 0 0 uid weight 0 :40 7:100,r=5;rm", &t, &err) < 0);
	CHECK_STR(err, "invalid group options (,r=<rate>,l=<rate>)");
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

int main(void)
{
	table();
	status();
	return ut_summary("test-ioband");
}
