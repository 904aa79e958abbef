/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - the host file: what iobandctl apply brings about.
 *
 * config_load() parses YAML (libyaml) and validates everything that can be
 * checked without looking at the system; every error names the file, the
 * line and the field: "host.yaml:12: guests[1].disks[0].weight: must be
 * 1..32767".  The schema is documented in iobandctl(8), HOST FILE.
 */
#ifndef IOBAND_CONFIG_H
#define IOBAND_CONFIG_H

#include "ioband.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

/* Where a value came from, for messages after parsing. */
struct cfg_pos {
	char *file;		/* NULL: the host file; else where the entry came from */
	int line;
	char *field;		/* "guests[1].disks[0]" */
	struct {
		const char *key;	/* static */
		int line;		/* of the key's value */
	} keys[12];
	int n_keys;
};

/* The line of KEY's value in the entry at POS (the entry's line if absent). */
int cfg_line(const struct cfg_pos *pos, const char *key);
/*
 * Unless *ERR is set already, set it to "FILE:LINE: FIELD[.SUB]: " and FMT
 * (malloc'ed), of key SUB ("": the entry itself) of the entry at POS; FILE
 * names the host file, for the entries that came from it.
 */
void cfg_pos_err(char **err, const struct cfg_pos *pos, const char *file, const char *sub,
		 const char *fmt, ...) PRINTF(5, 6);

struct cfg_devgroup {
	struct cfg_pos pos;
	char *id;
	enum iob_policy policy;
	unsigned int io_throttle, io_limit;	/* 0 = kernel default */
	uint64_t token_base;
	/* What the disk delivers, for the reservations: rate 0 = not given. */
	struct iob_rate cap_iops, cap_bytes;
	/* Its own limit and burst, after the policy (",l=..,b=.."); no rsv. */
	struct iob_limits lim;
};

/* A shared ioband device: guests get groups on it. */
struct cfg_device {
	struct cfg_pos pos;
	char *name;		/* dm name is "ioband-<name>" */
	char *device;
	char *devgroup;
	enum iob_type type;
	unsigned int weight;	/* the default group's */
};

struct cfg_disk {
	struct cfg_pos pos;
	char *name;
	/* Either a device of its own (device, devgroup; type none) ... */
	char *device;
	char *devgroup;
	/* ... or a group on a shared device (ioband, group). */
	char *ioband;
	bool has_group;
	uint64_t group;
	unsigned int weight;
	struct iob_limits lim;	/* min (r=), max (l=), burst (b=) of its group */
};

struct cfg_iface {
	struct cfg_pos pos;
	char *name;
	char *mac;
	struct strv ips;
	unsigned int weight;
	char *cap, *down_cap, *up_cap, *floor, *burst;
};

struct cfg_guest {
	struct cfg_pos pos;
	char *name;
	char *cgroup;		/* NULL: none */
	bool create_cgroup;
	struct cfg_disk *disks;
	size_t n_disks;
	struct cfg_iface *ifaces;
	size_t n_ifaces;
};

struct cfg_network {
	bool present;
	struct cfg_pos pos;
	char *uplink, *rate, *burst;
	char *down_rate;	/* NULL: downloads capped, not shared by weight */
	unsigned int host_weight;	/* 0: ioband-tc's default */
};

struct host_cfg {
	char *file;
	struct cfg_devgroup *dgs;
	size_t n_dgs;
	struct cfg_device *devs;
	size_t n_devs;
	struct cfg_guest *guests;
	size_t n_guests;
	struct cfg_network net;
};

#define IOB_DM_PREFIX		"ioband-"
#define IOB_UUID_APPLY		"IOBAND-apply-"	/* devices apply manages */
#define IOB_UUID_CTL		"IOBAND-ctl-"	/* iobandctl create */
#define IOB_UUID_ORIG		"IOBAND-orig-"	/* under an inserted layer */
#define IOB_NET_WEIGHT_MAX	10000
/* device-mapper's longest name and uuid: DM_NAME_LEN, DM_UUID_LEN less the NUL */
#define IOB_DM_NAME_MAX		127
#define IOB_DM_UUID_MAX		128

/*
 * The longest dm name a device whose uuid is UUID_PREFIX<name> may have
 * (the uuid is the tighter limit for every prefix above).
 */
size_t dm_name_max(const char *uuid_prefix);

/*
 * Parse and validate FILE.  On error return -EINVAL with *err (malloc'ed)
 * "FILE:LINE: FIELD: message"; *cfg is then empty.
 */
int config_load(const char *file, struct host_cfg *cfg, char **err);
/* Same, from a string (tests); NAME is used in messages. */
int config_parse(const char *name, const char *text, size_t len, struct host_cfg *cfg, char **err);
void config_free(struct host_cfg *cfg);

const struct cfg_devgroup *config_devgroup(const struct host_cfg *cfg, const char *id);
const struct cfg_device *config_device(const struct host_cfg *cfg, const char *name);
/* dm name of a shared device / of a guest's own disk (malloc'ed). */
char *config_dev_dmname(const struct cfg_device *d);
char *config_disk_dmname(const struct cfg_guest *g, const struct cfg_disk *k);

/*
 * Add guest G (built by other code, e.g. from a libvirt domain's metadata,
 * with pos.file set) to CFG and check the cross-entry rules again.  On
 * success CFG owns G's contents; on error return -EINVAL with *err set,
 * CFG unchanged and G freed.
 */
int config_add_guest(struct host_cfg *cfg, struct cfg_guest *g, char **err);
/* Whether G would be valid in CFG; CFG is left unchanged, G freed. */
int config_check_guest(struct host_cfg *cfg, struct cfg_guest *g, char **err);
void config_guest_free(struct cfg_guest *g);
void config_iface_free(struct cfg_iface *f);

/*
 * Rates and sizes as ioband-tc takes them (tc units): a rate 8bit..10tbit,
 * a burst size 1514 bytes..4g.  *_problem() says what is wrong, or NULL.
 */
bool valid_rate(const char *s);
bool valid_size(const char *s);
const char *rate_problem(const char *s);
const char *size_problem(const char *s);
/*
 * A disk's min, max and burst as the host file and the libvirt metadata
 * give them (NULL: not given): rates as the module's r= and l=, a burst
 * "<rate>/<secs>".  On error return -EINVAL with *key the one at fault
 * ("min", "max", "burst") and *why (malloc'ed) what is wrong.
 */
int limits_parse(const char *min, const char *max, const char *burst, struct iob_limits *l,
		 const char **key, char **why);
/*
 * What is wrong with rate S (min, max, capacity), or NULL: the module's
 * syntax, less a leading zero ("0100iops"; "0" is none), which the module
 * would take.  limits_parse() refuses one in a burst's seconds too.
 */
const char *iob_rate_problem(const char *s);
/* The reservations of the device group ID, per unit (0: none). */
void config_dg_reserved(const struct host_cfg *cfg, const char *id, uint64_t *iops,
			uint64_t *bytes);

/* Not multicast, not all zeros; NULL if fine. */
const char *mac_problem(const char *s);
/* Guest, disk and device-group names: 1..MAX of A-Z a-z 0-9 _ . + - */
bool valid_name(const char *s, size_t max);
/*
 * A cgroup path below the cgroup root (leading '/' ignored): not empty, no
 * "." or ".." component, no white space.  NULL if fine, else what it must be.
 */
const char *cgroup_path_problem(const char *s);
/*
 * Rewrite S, a path cgroup_path_problem() accepts, in the one form that is
 * compared and shown: no leading, trailing or doubled '/'
 * ("/machine.slice//a.scope/" is "machine.slice/a.scope").
 */
void cgroup_path_normalize(char *s);
/*
 * S, normalized, below the cgroup v2 mount ROOT: written with ROOT in
 * front ("/sys/fs/cgroup/machine.slice/a.scope" when ROOT is
 * /sys/fs/cgroup), ROOT is cut off ("machine.slice/a.scope"), as the
 * command line's paths (cgroup_rel_path()).  NULL, or (malloc'ed) what is
 * wrong: S is ROOT itself, or below /sys/fs/cgroup but not below ROOT (a
 * v1 hierarchy of a hybrid host), S unchanged.
 */
char *cgroup_path_unmount(char *s, const char *root);
/* Interface names: 1..15 of A-Z a-z 0-9 _ . - (ioband-tc takes no '+') */
bool valid_ifname(const char *s);
bool valid_mac(const char *s);
/*
 * Interface addresses as ioband-tc takes them: an IPv4 or IPv6 address
 * alone, or a network's own address/LEN (no bits set after LEN:
 * 192.0.2.0/24, not 192.0.2.12/24).  ip_check(): 0, -EINVAL if S is no
 * address[/LEN], -ERANGE if bits are set after LEN; ip_problem(): what is
 * wrong (malloc'ed), or NULL.
 */
int ip_check(const char *s);
bool valid_ip(const char *s);
char *ip_problem(const char *s);
/*
 * What is wrong with the interface address S (malloc'ed), or NULL: as
 * ioband-tc takes it, an address alone or a network's own address/LEN
 * (no bits set after LEN: 192.0.2.0/24, not 192.0.2.12/24).
 */
char *ip_problem(const char *s);

#endif
