/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plan.h - apply = parse -> validate -> read current state -> plan ->
 * execute with an undo log.
 *
 * state_read() looks at the system (through the backend); plan_build() is
 * a pure function of the host file and that state, so it is unit-tested
 * without root; plan_execute() runs the actions in order and, when one
 * fails, runs the undo of every action already done, newest first.
 */
#ifndef IOBAND_PLAN_H
#define IOBAND_PLAN_H

#include "backend.h"
#include "config.h"
#include "ioband.h"
#include "util.h"

#include <string.h>

#include <stdio.h>

/* A device apply manages (dm uuid IOBAND-apply-<name>). */
struct cur_dev {
	struct dm_dev dm;
	bool is_ioband;		/* one ioband target */
	struct iob_table t;	/* when is_ioband */
};

/* A device group as the kernel has it, from any member's table. */
struct cur_dg {
	char *id;
	char *member;		/* a device to send device-group messages to */
	enum iob_policy policy;
	unsigned int io_throttle, io_limit;
	uint64_t token_base;
	struct iob_limits lim;	/* its own limit and burst (no rsv) */
};

struct cur_res {		/* a block device path of the host file */
	char *path;
	int err;
	unsigned int major, minor;
	uint64_t sectors;
};

struct cur_cg {			/* a cgroup of the host file */
	char *path;
	int err;		/* -ENOENT: does not exist */
	uint64_t id;
};

struct cur_state {
	struct cur_dev *devs;
	size_t n_devs;
	char **other_names;	/* every other dm device */
	size_t n_other;
	struct cur_dg *dgs;
	size_t n_dgs;
	struct cur_res *res;
	size_t n_res;
	struct cur_cg *cgs;
	size_t n_cgs;
	bool net_applied;	/* from the state file */
	struct strv net_args;
};

enum act_kind {
	ACT_CGROUP_CREATE,
	ACT_DG_SET,
	ACT_GROUP_DETACH,
	ACT_DEV_REMOVE,
	ACT_DEV_CREATE,
	ACT_DEV_RELOAD,
	ACT_GROUP_ATTACH,
	ACT_GROUP_WEIGHT,
	ACT_GROUP_LIMITS,
	ACT_NET_APPLY,
	ACT_NET_CLEAR,
};

struct action {
	enum act_kind kind;
	char *dev;			/* dm name (DG_SET: the member) */
	char *uuid;			/* create, remove */
	struct dm_tline *t, *old;	/* create/reload: new; reload/remove: old */
	size_t nt, nold;
	char *key, *val, *old_val;	/* DG_SET: "policy", "weight-iosize,l=20m", "weight,l=0" */
	char *dg;			/* DG_SET: device-group id */
	bool has_id;			/* group actions: false = default group */
	uint64_t id;
	char *cgroup;			/* attach: id to resolve after cgroup create; cgroup create */
	unsigned int weight, old_weight;
	struct iob_limits lim, old_lim;	/* attach, limits; detach: old_lim */
	struct strv args, old_args;	/* ioband-tc arguments */
	bool old_net;			/* NET_APPLY: something was applied before */
};

struct plan {
	struct action *a;
	size_t n;
};

/* Whether a table of N lines T is one ioband target (what iobandctl runs). */
static inline bool iob_tlines_ioband(const struct dm_tline *t, size_t n)
{
	return n == 1 && !strcmp(t[0].type, IOB_TARGET);
}

int state_read(const struct host_cfg *cfg, struct cur_state *cur, char **err);
void state_free(struct cur_state *cur);

/* On a state-dependent error (exit 3) return -EINVAL with *err set. */
int plan_build(const struct host_cfg *cfg, const struct cur_state *cur, struct plan *p, char **err);
/*
 * state_read() + plan_build() for CFG, which is freed either way.  On
 * failure return EX_FAIL (the state cannot be read) or EX_CONFIG (CFG does
 * not fit the host) with *err set.
 */
int plan_for_config(struct host_cfg *cfg, struct plan *p, char **err);
void plan_free(struct plan *p);
void plan_print(const struct plan *p, FILE *f);
void action_print(const struct action *a, FILE *f);
char *plan_json(const struct plan *p);

/* The ioband-tc arguments the host file asks for (without the program). */
void net_args(const struct host_cfg *cfg, struct strv *args);

/* 0, or EX_ROLLEDBACK / EX_FAIL (rollback failed too). */
int plan_execute(const struct plan *p);

/* ioband-tc and the state file */
char *tc_helper_path(void);
int tc_run(const struct strv *args, char **out);
char *state_file_path(void);
/* 0 (no file: nothing applied), or -errno with *err (malloc'ed) saying why and what to do. */
int state_file_load(bool *net_applied, struct strv *args, char **err);
int state_file_save(bool net_applied, const struct strv *args);

#endif
