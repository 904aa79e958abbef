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

static int msg(const char *dev, const char *fmt, ...) PRINTF(2, 3);
static int msg(const char *dev, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;
	int r;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	r = bk_message(dev, sb.s, NULL);
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
			msg_err("%s is left suspended", dev);
	}
	return r;
}

static char *id_str(const struct action *a, uint64_t id)
{
	return a->has_id ? xasprintf("%llu:", (unsigned long long)id) : xstrdup("");
}

static int attach(const char *dev, uint64_t id, unsigned int weight)
{
	int r = msg(dev, "attach %llu", (unsigned long long)id);

	if (!r && weight != IOB_WEIGHT_DEFAULT) {
		r = msg(dev, "weight %llu:%u", (unsigned long long)id, weight);
		if (r)
			msg(dev, "detach %llu", (unsigned long long)id);
	}
	return r;
}

static int net_apply(const struct strv *args)
{
	int r = bk_fail_point("ioband-tc");

	if (!r)
		r = tc_run(args, NULL);
	if (!r)
		bk_changes++;
	if (!r)
		r = state_file_save(true, args);
	return r;
}

static int net_clear(const struct action *a)
{
	int r = bk_fail_point("ioband-tc");

	if (!r)
		r = tc_run(&a->args, NULL);
	if (!r)
		r = state_file_save(false, NULL);
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
				msg_err("cgroup %s: %s", a->cgroup, strerror(-r));
				break;
			}
		}
		r = attach(a->dev, *id, a->weight);
		break;
	case ACT_GROUP_WEIGHT:
		r = msg(a->dev, "weight %s%u", ids, a->weight);
		break;
	case ACT_NET_APPLY:
		r = net_apply(&a->args);
		break;
	case ACT_NET_CLEAR:
		r = net_clear(a);
		break;
	}
	free(ids);
	return r;
}

/* The undo does not count as failure points: be->... directly where it matters. */
static int undo_action(const struct action *a, uint64_t id)
{
	char *ids = id_str(a, id), *p;
	int r = 0;

	switch (a->kind) {
	case ACT_CGROUP_CREATE:
		p = cgroup_fs_path(a->cgroup);
		if (rmdir(p))
			r = -errno;
		free(p);
		break;
	case ACT_DG_SET:
		p = xasprintf("%s %s", a->key, a->old_val);
		r = be->message(a->dev, p, NULL);
		free(p);
		break;
	case ACT_GROUP_DETACH:
		r = attach(a->dev, id, a->old_weight);
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
	case ACT_NET_APPLY:
		if (a->old_net) {
			r = tc_run(&a->old_args, NULL);
			if (!r)
				r = state_file_save(true, &a->old_args);
		} else {
			struct strv c = { 0 };

			strv_add(&c, "clear");
			strv_add(&c, "--uplink");
			strv_add(&c, a->args.v[2]);
			r = tc_run(&c, NULL);
			strv_free(&c);
			if (!r)
				r = state_file_save(false, NULL);
		}
		break;
	case ACT_NET_CLEAR:
		r = tc_run(&a->old_args, NULL);
		if (!r)
			r = state_file_save(true, &a->old_args);
		break;
	}
	free(ids);
	return r;
}

int plan_execute(const struct plan *p)
{
	uint64_t *ids = xcalloc(p->n, sizeof(*ids));
	unsigned long changes = bk_changes;
	size_t i, done;
	int r = 0, bad = 0;

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
	for (i = done; i-- > 0;) {
		if (undo_action(&p->a[i], ids[i])) {
			fprintf(stderr, "%s: could not undo: ", progname);
			action_print(&p->a[i], stderr);
			bad++;
		}
	}
	free(ids);
	if (bad) {
		msg_err("rollback incomplete (%d action(s) not undone): check with iobandctl status and apply --dry-run", bad);
		return EX_FAIL;
	}
	return done || bk_changes != changes ? EX_ROLLEDBACK : EX_FAIL;
}
