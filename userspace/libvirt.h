/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libvirt.h - the libvirt qemu hook: a guest's ioband policy lives in its
 * domain XML, under <metadata>, in the namespace IOB_LV_NS:
 *
 *   <ioband:ioband xmlns:ioband="urn:x-ioband:libvirt:1">
 *     <ioband:disk target="vda" device="/dev/vg0/web1-root"
 *                  device-group="ssd0" weight="200" min="500iops" max="2000iops"
 *                  burst="4000iops/10"/>
 *     <ioband:disk target="vdb" shared="images" weight="300"/>
 *     <ioband:interface mac="52:54:00:6b:3c:58" weight="3" cap="500mbit"/>
 *   </ioband:ioband>
 *
 * The hook turns that into one guest of the host file (config.h) and runs
 * the same planner as "iobandctl apply": the desired state of the host is
 * the host file plus every guest the hook has recorded under
 * $IOBAND_STATE_DIR/libvirt/ (default /run/ioband/libvirt).  See
 * docs/libvirt-hook.md.
 */
#ifndef IOBAND_LIBVIRT_H
#define IOBAND_LIBVIRT_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOB_LV_NS "urn:x-ioband:libvirt:1"
/* Any other namespace of this prefix (a typo, a later version) is refused. */
#define IOB_LV_NS_FAMILY "urn:x-ioband:"

struct lv_pdisk {		/* <ioband:disk> */
	int line;
	char *target, *device, *devgroup, *shared;
	bool has_group;
	uint64_t group;
	unsigned int weight;
	struct iob_limits lim;	/* min, max, burst: as the host file's */
};

struct lv_piface {		/* <ioband:interface> */
	int line;
	char *target;		/* <target dev> of the domain's interface, if any */
	struct cfg_iface c;	/* mac, ips, weight, rates (no name, no pos) */
};

struct lv_domain {
	char *file;		/* for messages */
	char *name;
	long id;		/* <domain id=>, -1 when absent */
	bool has_policy;
	int policy_line;
	struct lv_pdisk *disks;
	size_t n_disks;
	struct lv_piface *ifaces;
	size_t n_ifaces;
};

/*
 * Parse domain XML TEXT (FILE names it in messages).  Checks the policy
 * against the domain: every <ioband:disk target> is one of the domain's
 * disks, a disk of its own is a block disk whose source is the ioband
 * device the policy creates, every <ioband:interface mac> is one of the
 * domain's interfaces.  On error return -EINVAL with *err
 * "FILE:LINE: ELEMENT ATTRIBUTE: message".
 */
int lv_parse(const char *file, const char *text, size_t len, struct lv_domain *d, char **err);
void lv_domain_free(struct lv_domain *d);

enum lv_phase {
	LV_PREPARED,		/* disks of its own only (qemu not running) */
	LV_RUNNING,		/* everything: groups keyed by CGROUP, interfaces */
	LV_CHECK,		/* everything, for validation only (placeholders) */
};

/* The host-file guest for D in PHASE (CGROUP: LV_RUNNING only). */
int lv_guest(const struct lv_domain *d, enum lv_phase phase, const char *cgroup,
	     struct cfg_guest *g, char **err);

/*
 * The desired state: the host file (see lv_host_file()) plus every
 * recorded guest except SKIP (may be NULL).  Errors as config_load().
 */
int lv_load_all(struct host_cfg *cfg, const char *skip, char **err);

/* Add every recorded guest to CFG (apply does, so that it keeps them). On
 * error CFG is freed. */
int lv_add_recorded(struct host_cfg *cfg, char **err);

/* Which host file the hook uses: $IOBAND_HOST_FILE, else the file "apply"
 * last applied (*RECORDED set; also when it is gone: loading it then fails,
 * rather than the hook falling back), else /etc/ioband/host.yaml; NULL if
 * that does not exist. */
char *lv_host_file(bool *recorded);
/* Called by apply after success: remember FILE for the hook. */
void lv_host_file_record(const char *file);

/* Serialise apply and the hook: flock on $IOBAND_STATE_DIR/lock. -errno. */
int lv_lock(void);
void lv_unlock(int fd);

/* iobandctl hook qemu NAME OP SUBOP EXTRA, domain XML on stdin.  Exit code. */
int lv_hook_qemu(const char *name, const char *op, const char *subop, const char *extra);

#endif
