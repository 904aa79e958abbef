// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-libvirt.c - libFuzzer target: the libvirt hook's domain XML and
 * ioband metadata parser (userspace/libvirt.c, libxml2 underneath), then
 * what the hook does next with an accepted domain: the host-file guest for
 * each phase, checked against an empty host file and against
 * docs/examples/host.yaml (the cross-entry rules of config.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include "libvirt.h"

#define FUZZ_MAX_INPUT 65536

#ifndef HOST_YAML
#define HOST_YAML "docs/examples/host.yaml"
#endif

static struct host_cfg host;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-libvirt: accepted input breaks: %s\n", what);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *err = NULL;

	(void)argc;
	(void)argv;
	xmlInitParser();
	if (config_load(HOST_YAML, &host, &err)) {
		fprintf(stderr, "fuzz-libvirt: %s\n", err);
		exit(1);
	}
	return 0;
}

static void try_guest(const struct lv_domain *d, enum lv_phase ph, struct host_cfg *cfg)
{
	struct cfg_guest g;
	char *err = NULL;

	if (lv_guest(d, ph, ph == LV_RUNNING ? "machine.slice/fuzz" : NULL, &g, &err)) {
		check(err && *err, "lv_guest error without a message");
		free(err);
		return;
	}
	if (config_check_guest(cfg, &g, &err)) {
		check(err && *err, "config_check_guest error without a message");
		free(err);
	}
	config_guest_free(&g);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct lv_domain d;
	struct host_cfg empty = { 0 };
	char *err = NULL;
	size_t i;
	int ph;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (lv_parse("fuzz.xml", (const char *)data, size, &d, &err)) {
		check(err && *err, "error without a message");
		free(err);
		xmlResetLastError();
		return 0;
	}
	check(!d.has_policy || valid_name(d.name, 64), "domain name");
	for (i = 0; i < d.n_disks; i++) {
		const struct lv_pdisk *k = &d.disks[i];

		check(!!k->device != !!k->shared, "device xor shared");
		check(k->weight >= IOB_WEIGHT_MIN && k->weight <= IOB_WEIGHT_MAX, "disk weight");
	}
	for (i = 0; i < d.n_ifaces; i++)
		check(d.ifaces[i].c.mac && valid_mac(d.ifaces[i].c.mac), "interface mac");
	for (ph = LV_PREPARED; ph <= LV_CHECK; ph++) {
		try_guest(&d, ph, &empty);
		try_guest(&d, ph, &host);
	}
	config_free(&empty);
	lv_domain_free(&d);
	return 0;
}
