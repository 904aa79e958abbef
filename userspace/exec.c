// SPDX-License-Identifier: GPL-2.0
/*
 * exec.c - run a plan; on the first failure undo what this run did,
 * newest first.  Every action knows its inverse from the plan alone (the
 * old table, the old weight, the old ioband-tc arguments), so the undo log
 * is simply "the actions done so far".
 */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* While undoing: straight to the backend, no failure points, no log. */
static bool undoing;

static int msg(const char *dev, const char *fmt, ...) PRINTF(2, 3);
static int msg(const char *dev, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;
	int r;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	r = undoing ? be->message(dev, sb.s, NULL) : bk_message(dev, sb.s, NULL);
	sb_free(&sb);
	return r;
}

/* Load TABLE into DEV and switch to it; on failure leave the old one live. */
static int swap_table(const char *dev, const struct dm_tline *t, size_t n)
{
	int r = bk_reload(dev, t, n);

	if (r)
		return r;
	r = bk_suspend(dev);		/* flushes: no I/O is lost */
	if (r) {
		be->clear(dev);
		return r;
	}
	r = bk_resume(dev);
	if (r) {
		/* Still suspended with the new table pending: drop it and go on. */
		be->clear(dev);
		if (be->resume(dev))
			msg_err("%s is left suspended", quote_if_needed(dev));
	}
	return r;
}

static char *id_str(const struct action *a, uint64_t id)
{
	return a->has_id ? xasprintf("%llu:", (unsigned long long)id) : xstrdup("");
}

/* One of reserve, limit, burst for group ID (NULL: the default group). */
static int limit_msg(const char *dev, const uint64_t *id, const char *verb,
		     const struct iob_rate *r, unsigned int secs)
{
	char b[IOB_RATE_STR_MAX], ids[24] = "";

	if (id)
		snprintf(ids, sizeof(ids), "%llu:", (unsigned long long)*id);
	iob_rate_format(r, b, sizeof(b));
	if (r->rate && secs)
		return msg(dev, "%s %s%s/%u", verb, ids, b, secs);
	return msg(dev, "%s %s%s", verb, ids, b);
}

/*
 * The messages that take a group of DEV (ID NULL: the default group) from
 * limits FROM to TO, in an order the module accepts at every step: first
 * drop a burst that is going, or that the new limit would not stay under;
 * then the reservation and the limit, the one first that keeps the
 * reservation under the limit (TO has it so, and FROM); then the new
 * burst, if it differs.  *AT: the limits reached (on failure, where to go
 * back from).
 */
static int group_set_limits(const char *dev, const uint64_t *id, const struct iob_limits *from,
		     const struct iob_limits *to, struct iob_limits *at)
{
	const struct iob_rate none = { 0, false };
	bool burst_same = iob_rate_eq(&from->burst, &to->burst) &&
			  (!to->burst.rate || from->burst_secs == to->burst_secs);
	/* The old burst may stay while the limit changes (TO is valid). */
	bool under = burst_same || iob_rate_eq(&from->lim, &to->lim) ||
		     (to->lim.rate && to->lim.iops == from->burst.iops &&
		      to->lim.rate < from->burst.rate);
	bool rsv_first;
	int r, k;

	*at = *from;
	if (at->burst.rate && (!to->burst.rate || !under)) {
		r = limit_msg(dev, id, "burst", &none, 0);
		if (r)
			return r;
		at->burst = none;
		at->burst_secs = 0;
	}
	/* The reservation first unless it would go above the current limit. */
	rsv_first = !(to->rsv.rate && at->lim.rate && to->rsv.iops == at->lim.iops &&
		      to->rsv.rate > at->lim.rate);
	for (k = 0; k < 2; k++) {
		bool rsv = (k == 0) == rsv_first;
		const struct iob_rate *want = rsv ? &to->rsv : &to->lim;
		struct iob_rate *have = rsv ? &at->rsv : &at->lim;

		if (iob_rate_eq(have, want))
			continue;
		r = limit_msg(dev, id, rsv ? "reserve" : "limit", want, 0);
		if (r)
			return r;
		*have = *want;
		if (!rsv && !want->rate) {	/* limit 0 takes the burst too */
			at->burst = none;
			at->burst_secs = 0;
		}
	}
	if (to->burst.rate && !(iob_rate_eq(&at->burst, &to->burst) &&
				at->burst_secs == to->burst_secs)) {
		r = limit_msg(dev, id, "burst", &to->burst, to->burst_secs);
		if (r)
			return r;
		at->burst = to->burst;
		at->burst_secs = to->burst_secs;
	}
	return 0;
}

/* Limits from FROM to TO; on failure, back to FROM as far as it goes. */
static int set_limits(const char *dev, const uint64_t *id, const struct iob_limits *from,
		      const struct iob_limits *to)
{
	struct iob_limits at, back;
	bool was = undoing;
	int r = group_set_limits(dev, id, from, to, &at);

	if (r) {
		undoing = true;
		if (group_set_limits(dev, id, &at, from, &back))
			msg_err("%s: limits of the group left as they were reached",
				quote_if_needed(dev));
		undoing = was;
	}
	return r;
}

static int attach(const char *dev, uint64_t id, unsigned int weight, const struct iob_limits *lim)
{
	static const struct iob_limits none;
	int r = msg(dev, "attach %llu", (unsigned long long)id);

	if (r)
		return r;	/* nothing to take back */
	if (weight != IOB_WEIGHT_DEFAULT)
		r = msg(dev, "weight %llu:%u", (unsigned long long)id, weight);
	if (!r && iob_limits_any(lim))
		r = set_limits(dev, &id, &none, lim);
	if (r)
		msg(dev, "detach %llu", (unsigned long long)id);
	return r;
}

/*
 * Undo the tc part of A, a NET_APPLY or NET_CLEAR that ran: its old
 * arguments again, or clear if nothing was applied before; with SAVE, the
 * state file says so.
 */
static int net_revert(const struct action *a, bool save)
{
	bool applied = a->kind == ACT_NET_CLEAR || a->old_net;
	struct strv c = { 0 };
	int r;

	if (applied) {
		r = tc_run(&a->old_args, NULL);
	} else {
		strv_add(&c, "clear");
		strv_add(&c, "--uplink");
		strv_add(&c, a->args.v[2]);
		r = tc_run(&c, NULL);
		strv_free(&c);
	}
	if (!r && save)
		r = state_file_save(applied, &a->old_args);
	return r;
}

/*
 * Run A's ioband-tc (NET_APPLY: it applies, NET_CLEAR: it clears) and
 * record it in the state file.  If the record cannot be written, the tc
 * change is undone at once: failed, the action is not rolled back with
 * the others, and a shaping the state file does not know would be left.
 */
static int net_run(const struct action *a)
{
	bool apply = a->kind == ACT_NET_APPLY;
	int r = bk_fail_point("ioband-tc");

	if (!r)
		r = tc_run(&a->args, NULL);
	if (r)
		return r;
	bk_changes++;
	r = state_file_save(apply, &a->args);
	if (r && net_revert(a, false))
		msg_err("the uplink's shaping is left as ioband-tc %s made it; the state file does not record it",
			apply ? "apply" : "clear");
	return r;
}

/* Do A; *id receives the group id resolved at run time (attach by cgroup). */
static int do_action(const struct action *a, uint64_t *id)
{
	char *ids = id_str(a, a->id);
	int r = 0;

	*id = a->id;
	switch (a->kind) {
	case ACT_CGROUP_CREATE:
		r = bk_cgroup_create(a->cgroup);
		break;
	case ACT_DG_SET:
		r = msg(a->dev, "%s %s", a->key, a->val);
		break;
	case ACT_GROUP_DETACH:
		r = msg(a->dev, "detach %llu", (unsigned long long)a->id);
		break;
	case ACT_DEV_REMOVE:
		r = bk_remove(a->dev);
		break;
	case ACT_DEV_CREATE:
		r = bk_create(a->dev, a->uuid, a->t, a->nt);
		break;
	case ACT_DEV_RELOAD:
		r = swap_table(a->dev, a->t, a->nt);
		break;
	case ACT_GROUP_ATTACH:
		if (a->cgroup) {	/* the id of a cgroup this plan creates */
			r = cgroup_id(a->cgroup, id);
			if (r) {
				msg_err("cgroup %s: %s", quote_if_needed(a->cgroup), strerror(-r));
				break;
			}
		}
		r = attach(a->dev, *id, a->weight, &a->lim);
		break;
	case ACT_GROUP_WEIGHT:
		r = msg(a->dev, "weight %s%u", ids, a->weight);
		break;
	case ACT_GROUP_LIMITS:
		r = set_limits(a->dev, a->has_id ? &a->id : NULL, &a->old_lim, &a->lim);
		break;
	case ACT_NET_APPLY:
	case ACT_NET_CLEAR:
		r = net_run(a);
		break;
	}
	free(ids);
	return r;
}

/*
 * The name of a device of device group DG, preferably PREF, for a DG_SET
 * undo; NULL if it has none (it went with its devices: those re-created
 * make it again with their old tables' values).
 */
static char *dg_member(const char *dg, const char *pref)
{
	struct dm_dev *devs = NULL;
	size_t n = 0, i;
	char *name = NULL;

	if (be->list(&devs, &n))
		return xstrdup(pref);	/* try the one it went through */
	for (i = 0; i < n; i++) {
		struct iob_table t;
		const char *err;
		bool in;

		if (!iob_tlines_ioband(devs[i].t, devs[i].nt))
			continue;
		iob_table_init(&t);
		in = !iob_table_parse(devs[i].t[0].params, &t, &err) &&
		     !strcmp(t.devgroup, dg);
		iob_table_free(&t);
		if (in && (!name || !strcmp(devs[i].name, pref))) {
			free(name);
			name = xstrdup(devs[i].name);
		}
	}
	dm_devs_free(devs, n);
	return name;
}

/* The undo does not count as failure points: be->... directly where it matters. */
static int undo_action(const struct action *a, uint64_t id)
{
	char *ids = id_str(a, id), *p;
	int r = 0;

	undoing = true;
	switch (a->kind) {
	case ACT_CGROUP_CREATE:
		p = cgroup_fs_path(a->cgroup);
		if (rmdir(p))
			r = -errno;
		free(p);
		break;
	case ACT_DG_SET: {
		char *m = dg_member(a->dg, a->dev);

		if (m) {
			p = xasprintf("%s %s", a->key, a->old_val);
			r = be->message(m, p, NULL);
			free(p);
			free(m);
		}
		break;
	}
	case ACT_GROUP_DETACH:
		r = attach(a->dev, id, a->old_weight, &a->old_lim);
		break;
	case ACT_DEV_REMOVE:
		r = be->create(a->dev, a->uuid, a->old, a->nold);
		break;
	case ACT_DEV_CREATE:
		r = be->remove(a->dev);
		break;
	case ACT_DEV_RELOAD:
		r = be->reload(a->dev, a->old, a->nold);
		if (!r)
			r = be->suspend(a->dev);
		if (!r)
			r = be->resume(a->dev);
		break;
	case ACT_GROUP_ATTACH:
		p = xasprintf("detach %llu", (unsigned long long)id);
		r = be->message(a->dev, p, NULL);
		free(p);
		break;
	case ACT_GROUP_WEIGHT:
		p = xasprintf("weight %s%u", ids, a->old_weight);
		r = be->message(a->dev, p, NULL);
		free(p);
		break;
	case ACT_GROUP_LIMITS:
		r = set_limits(a->dev, a->has_id ? &id : NULL, &a->lim, &a->old_lim);
		break;
	case ACT_NET_APPLY:
	case ACT_NET_CLEAR:
		r = net_revert(a, true);
		break;
	}
	undoing = false;
	free(ids);
	return r;
}

int plan_execute(const struct plan *p)
{
	uint64_t *ids = xcalloc(p->n, sizeof(*ids));
	unsigned long changes = bk_changes;
	size_t i, done;
	int r = 0, bad = 0, pass;

	for (done = 0; done < p->n; done++) {
		r = do_action(&p->a[done], &ids[done]);
		if (r)
			break;
		if (verbose)
			action_print(&p->a[done], stderr);
	}
	if (!r) {
		free(ids);
		return EX_OK;
	}
	fprintf(stderr, "%s: failed: ", progname);
	action_print(&p->a[done], stderr);
	if (done)
		fprintf(stderr, "%s: rolling back %zu action(s)\n", progname, done);
	/*
	 * The device groups' parameters first: a table reloaded back or a
	 * device re-created must agree with its device group's (the kernel
	 * refuses another io_limit or policy), and a plan changes those
	 * parameters before the devices.  Then the rest, last done first.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = done; i-- > 0;) {
			if ((p->a[i].kind == ACT_DG_SET) != !pass)
				continue;
			if (undo_action(&p->a[i], ids[i])) {
				fprintf(stderr, "%s: could not undo: ", progname);
				action_print(&p->a[i], stderr);
				bad++;
			}
		}
	}
	free(ids);
	if (bad) {
		msg_err("rollback incomplete (%d action(s) not undone): check with iobandctl status and apply --dry-run", bad);
		return EX_FAIL;
	}
	return done || bk_changes != changes ? EX_ROLLEDBACK : EX_FAIL;
}
