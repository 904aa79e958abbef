// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-config.c - libFuzzer target: the host-file loader
 * (userspace/config.c, libyaml underneath).  The input is the file's text,
 * NUL bytes and all (config_load() refuses those before parsing; the
 * parser itself is handed the bytes).  An accepted file must satisfy what
 * the planner relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

#define FUZZ_MAX_INPUT 65536

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-config: accepted input breaks: %s\n", what);
		abort();
	}
}

static void check_cfg(const struct host_cfg *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_dgs; i++)
		check(valid_name(cfg->dgs[i].id, IOB_NAME_MAX), "device-group id");
	for (i = 0; i < cfg->n_devs; i++) {
		const struct cfg_device *d = &cfg->devs[i];

		check(valid_name(d->name, 64) && d->device && d->devgroup &&
		      strlen(d->devgroup) <= IOB_NAME_MAX, "device");
		check(d->weight >= IOB_WEIGHT_MIN && d->weight <= IOB_WEIGHT_MAX, "device weight");
	}
	for (i = 0; i < cfg->n_guests; i++) {
		const struct cfg_guest *g = &cfg->guests[i];

		check(valid_name(g->name, 64), "guest name");
		check(!g->create_cgroup || g->cgroup, "create-cgroup without cgroup");
		for (j = 0; j < g->n_disks; j++) {
			const struct cfg_disk *k = &g->disks[j];

			check(!!k->device != !!k->ioband, "device xor ioband");
			check(k->weight >= IOB_WEIGHT_MIN && k->weight <= IOB_WEIGHT_MAX, "disk weight");
			if (k->device) {
				char *dn = config_disk_dmname(g, k);

				check(k->devgroup && strlen(k->devgroup) <= IOB_NAME_MAX, "disk devgroup");
				check(strlen(dn) < 128, "dm name length");	/* DM_NAME_LEN */
				free(dn);
			} else {
				const struct cfg_device *d = config_device(cfg, k->ioband);

				check(d && d->type != IOB_NONE, "disk on a missing device");
				check(!k->has_group || !iob_check_group_id(d->type, k->group), "group id");
				check(k->has_group || g->cgroup, "cgroup group without cgroup");
			}
		}
		for (j = 0; j < g->n_ifaces; j++) {
			const struct cfg_iface *f = &g->ifaces[j];

			check(cfg->net.present && strcmp(f->name, cfg->net.uplink), "interface");
			check(f->mac || f->ips.n, "interface without mac or ip");
			check(f->weight >= 1 && f->weight <= IOB_NET_WEIGHT_MAX, "interface weight");
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct host_cfg cfg;
	char *err = NULL;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!config_parse("fuzz.yaml", (const char *)data, size, &cfg, &err)) {
		check(!err, "error message on success");
		check_cfg(&cfg);
		config_free(&cfg);
	} else {
		check(err && *err, "error without a message");
		free(err);
	}
	return 0;
}
