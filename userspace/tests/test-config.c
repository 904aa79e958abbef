// SPDX-License-Identifier: GPL-2.0
/*
 * test-config - the host-file parser and validator.
 *
 * Every bad/NAME.yaml must be rejected with exactly the message in
 * bad/NAME.err (file, line, field, text); every good/ file and the
 * documented examples must load.  Run from userspace/tests; the cgroup
 * v2 mount is /sys/fs/cgroup here (IOBAND_CGROUP_ROOT), whatever the host's.
 *
 *   test-config                check everything
 *   test-config --print FILE   print FILE's message (to write a new .err)
 */
#include "config.h"
#include "plan.h"
#include "utest.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct strbuf sb = { 0 };
	char buf[1024];

	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f))
		sb_adds(&sb, buf);
	fclose(f);
	if (sb.len && sb.s[sb.len - 1] == '\n')
		sb.s[--sb.len] = '\0';
	return sb_steal(&sb);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, sl = strlen(suffix);

	*out = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l > sl && !strcmp(e->d_name + l - sl, suffix))
			*(char **)vec_push(out, &n, sizeof(char *)) = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(*out, n, sizeof(char *), cmp);
	return n;
}

static void check_bad(void)
{
	char **files;
	size_t n = list("bad", ".yaml", &files), i;

	CHECK(n >= 20);
	if (chdir("bad"))
		abort();
	for (i = 0; i < n; i++) {
		struct host_cfg cfg;
		char *err = NULL, *errfile, *want;
		int r = config_load(files[i], &cfg, &err);

		errfile = xasprintf("%.*s.err", (int)(strlen(files[i]) - 5), files[i]);
		want = slurp(errfile);
		CHECK(r != 0);
		if (!want)
			fprintf(stderr, "bad/%s: no %s\n", files[i], errfile);
		CHECK_STR(err, want);
		if (!r)
			config_free(&cfg);
		free(err);
		free(want);
		free(errfile);
		free(files[i]);
	}
	free(files);
	if (chdir(".."))
		abort();
}

static void check_good(const char *dir)
{
	char **files;
	size_t n = list(dir, ".yaml", &files), i;

	for (i = 0; i < n; i++) {
		struct host_cfg cfg;
		char *path = xasprintf("%s/%s", dir, files[i]), *err = NULL;
		int r = config_load(path, &cfg, &err);

		if (r)
			fprintf(stderr, "%s: %s\n", path, err);
		CHECK(r == 0);
		if (!r)
			config_free(&cfg);
		free(err);
		free(path);
		free(files[i]);
	}
	free(files);
}

/* Details the files above do not show. */
static void check_values(void)
{
	static const char y[] =
		"version: 1\n"
		"device-groups:\n"
		"  - {id: ssd0, policy: default, io-throttle: 8, io-limit: 64, token-base: 2048}\n"
		"devices:\n"
		"  - {name: shared, device: '8:16', type: user, weight: 7}\n"
		"guests:\n"
		"  - name: g1\n"
		"    cgroup: /machine.slice//g1/\n"
		"    disks:\n"
		"      - {ioband: shared, group: 1000, weight: 9}\n"
		"      - {name: d, device: /dev/vdb}\n"
		"    interfaces:\n"
		"      - {name: tap0, ip: [10.0.0.2, 'fd00::/64'], in-cap: 10mbps, burst: 32k}\n"
		"network: {uplink: br0, rate: 1Gbit, host-weight: 5}\n";
	struct host_cfg cfg;
	struct strv a;
	char *err = NULL, *s;

	CHECK(config_parse("v.yaml", y, sizeof(y) - 1, &cfg, &err) == 0);
	if (err) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	CHECK(cfg.dgs[0].policy == IOB_WEIGHT && cfg.dgs[0].io_throttle == 8 &&
	      cfg.dgs[0].io_limit == 64 && cfg.dgs[0].token_base == 2048);
	CHECK(cfg.devs[0].type == IOB_UID && cfg.devs[0].weight == 7);
	CHECK_STR(cfg.devs[0].devgroup, "shared");
	CHECK_STR(cfg.guests[0].cgroup, "machine.slice/g1");	/* one spelling of it */
	CHECK(cfg.guests[0].disks[0].has_group && cfg.guests[0].disks[0].group == 1000);
	CHECK_STR(cfg.guests[0].disks[1].devgroup, "g1-d");
	CHECK(cfg.guests[0].disks[1].weight == IOB_WEIGHT_DEFAULT);
	net_args(&cfg, &a);
	s = strv_join(&a, " ");
	CHECK_STR(s, "apply --uplink br0 --rate 1Gbit --host-weight 5 --guest tap0:weight=1,ip=10.0.0.2,ip=fd00::/64,up-cap=10mbps,burst=32k");
	free(s);
	strv_free(&a);
	config_free(&cfg);

	/* min, max, burst and capacity: parsed as the module's rates */
	CHECK(config_load("good/limits.yaml", &cfg, &err) == 0);
	if (!err) {
		const struct cfg_disk *k = &cfg.guests[0].disks[0];
		uint64_t io, by;

		CHECK(cfg.dgs[0].cap_iops.rate == 20000 && cfg.dgs[0].cap_iops.iops &&
		      cfg.dgs[0].cap_bytes.rate == 400ULL << 20 && !cfg.dgs[1].cap_bytes.rate);
		CHECK(cfg.dgs[0].lim.lim.rate == 300ULL << 20 && !cfg.dgs[0].lim.lim.iops &&
		      cfg.dgs[0].lim.burst.rate == 400ULL << 20 && cfg.dgs[0].lim.burst_secs == 30 &&
		      !cfg.dgs[0].lim.rsv.rate && !iob_limits_any(&cfg.dgs[1].lim));
		CHECK(k->lim.rsv.rate == 5000 && k->lim.rsv.iops && k->lim.lim.rate == 10000 &&
		      k->lim.burst.rate == 15000 && k->lim.burst_secs == 30);
		k = &cfg.guests[1].disks[0];
		CHECK(k->lim.rsv.rate == 100ULL << 20 && !k->lim.rsv.iops && k->lim.burst.rate == 1ULL << 30);
		config_dg_reserved(&cfg, "ssd0", &io, &by);
		CHECK(io == 5000 && by == 100ULL << 20);
		config_dg_reserved(&cfg, "hdd0", &io, &by);
		CHECK(io == 300 && by == 0);
		config_free(&cfg);
	}
	free(err);
	err = NULL;

	/* The cgroup v2 mount in front of a guest's cgroup is cut off */
	{
		char p[] = "sys/fs/cgroup/unified/machine.slice/a.scope", *why;

		CHECK(!cgroup_path_unmount(p, "/sys/fs/cgroup/unified/"));
		CHECK_STR(p, "machine.slice/a.scope");
		CHECK(!cgroup_path_unmount(p, "/sys/fs/cgroup/unified"));
		CHECK_STR(p, "machine.slice/a.scope");	/* once */
		strcpy(p, "sys/fs/cgroup/machine.slice/a.scope");	/* a v1 hierarchy */
		why = cgroup_path_unmount(p, "/sys/fs/cgroup/unified");
		CHECK_STR(why, "is not below the cgroup v2 mount, /sys/fs/cgroup/unified: give the path below it (e.g. machine.slice/web1)");
		CHECK_STR(p, "sys/fs/cgroup/machine.slice/a.scope");
		free(why);
		strcpy(p, "sys/fs/cgroupx/a");	/* another name */
		CHECK(!cgroup_path_unmount(p, "/sys/fs/cgroup"));
		CHECK_STR(p, "sys/fs/cgroupx/a");
		strcpy(p, "sys/fs/cgroup/a");	/* a mount on / cuts nothing off */
		CHECK(!cgroup_path_unmount(p, "/"));
		CHECK_STR(p, "sys/fs/cgroup/a");
	}

	/* Rates are the module's, but for leading zeros: "0" (none) stays */
	{
		struct iob_limits l;
		const char *key;
		char *why = NULL;

		CHECK(limits_parse("0", "0k", NULL, &l, &key, &why) == 0 && !iob_limits_any(&l));
		CHECK(limits_parse("0iops", "1024", "2k/1", &l, &key, &why) == 0 && l.lim.rate == 1024);
		CHECK(limits_parse(NULL, "00", NULL, &l, &key, &why) == -EINVAL && !strcmp(key, "max"));
		CHECK_STR(why, "\"00\": " U64_LEADING_ZERO);
		free(why);
		CHECK(limits_parse(NULL, "1m", "02m/10", &l, &key, &why) == -EINVAL && !strcmp(key, "burst"));
		CHECK_STR(why, "\"02m/10\": " U64_LEADING_ZERO);
		free(why);
	}

	CHECK(valid_rate("1.5gbit") && valid_rate("100Mbit") && valid_rate("10kibps"));
	CHECK(!valid_rate("100") && !valid_rate("mbit") && !valid_rate("1.mbit") && !valid_rate("10 mbit"));
	CHECK(valid_size("1514") && valid_size("32k") && valid_size("1mb") && !valid_size("1x"));
	/* Well-formed but meaningless: what ioband-tc (and tc) would refuse. */
	CHECK(!valid_rate("0mbit") && !valid_rate("7bit") && valid_rate("8bit") && valid_rate("1bps"));
	CHECK(valid_rate("10tbit") && !valid_rate("10.1tbit") && !valid_rate("99999999999999999999tbit"));
	CHECK(!valid_size("0") && !valid_size("1500") && valid_size("4095m") && !valid_size("4g"));
	CHECK(mac_problem("01:00:5e:00:00:01") && mac_problem("00:00:00:00:00:00") &&
	      !mac_problem("52:54:00:12:34:56") && mac_problem("52:54:00:12:34"));
	CHECK(valid_ifname("vnet0") && valid_ifname("br-lan.10") && !valid_ifname("vnet+0") &&
	      !valid_ifname("0123456789abcdef") && !valid_ifname(""));
	CHECK(valid_ip("192.0.2.1") && valid_ip("10.0.0.0/8") && valid_ip("fd00::/64") && valid_ip("::1") &&
	      valid_ip("192.0.2.1/32") && valid_ip("0.0.0.0/0") && valid_ip("fd00::2/128"));
	CHECK(!valid_ip("192.0.2.256") && !valid_ip("1.2.3.4.5") && !valid_ip("10.0.0.0/33") &&
	      !valid_ip("fd00::/129") && !valid_ip("...") && !valid_ip(":::") && !valid_ip("1.2.3.4/") &&
	      !valid_ip("1.2.3.4/-1"));
	/* Host bits after /LEN: ioband-tc (ip_network, strict) refuses them. */
	CHECK(ip_check("192.0.2.12/24") == -ERANGE && ip_check("fd00::2/64") == -ERANGE &&
	      ip_check("10.0.0.1/0") == -ERANGE && ip_check("192.0.2.1/33") == -EINVAL);
	{
		char *w = ip_problem("192.0.2.12/24"), *w6 = ip_problem("fd00::2/64");

		CHECK_STR(w, "has host bits set after /24: give the network (192.0.2.0/24) or the address alone (192.0.2.12)");
		CHECK_STR(w6, "has host bits set after /64: give the network (fd00::/64) or the address alone (fd00::2)");
		free(w);
		free(w6);
	}
}

int main(int argc, char **argv)
{
	/* The mount the fixtures' absolute cgroups are below, on any host. */
	setenv("IOBAND_CGROUP_ROOT", "/sys/fs/cgroup", 1);
	if (argc == 3 && !strcmp(argv[1], "--print")) {
		struct host_cfg cfg;
		char *err = NULL;

		if (!config_load(argv[2], &cfg, &err)) {
			printf("ok\n");
			config_free(&cfg);
			return 0;
		}
		printf("%s\n", err);
		free(err);
		return 1;
	}
	check_bad();
	check_good("good");
	check_good("../../docs/examples");
	check_values();
	return ut_summary("test-config");
}
