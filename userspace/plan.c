// SPDX-License-Identifier: GPL-2.0
/*
 * plan.c - from the host file and the current state to a list of actions.
 * Pure: no system calls, no backend; plan_build(cfg, state-after-apply)
 * is empty, which is what makes apply idempotent.
 *
 * Order of the actions: create cgroups; set device-group parameters
 * (messages to an existing member, so that new members agree with them);
 * detach groups; remove devices; create devices; reload devices whose
 * backing device, size, device group or type changed; attach groups and
 * set weights; shape the network last.
 */
#include "plan.h"

#include <errno.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

struct want_group {
	uint64_t id;		/* 0: resolve from cgroup after creating it */
	const char *cgroup;
	unsigned int weight;
	struct iob_limits lim;
	const struct cfg_pos *pos;
};

struct want {
	char *name;
	char *uuid;
	const struct cfg_pos *pos;
	const char *backing;	/* as in the host file */
	unsigned int major, minor;
	uint64_t len;
	struct iob_table t;	/* groups: the resolved ones */
	struct want_group *g;	/* all groups */
	size_t n_g;
};

struct builder {
	const struct host_cfg *cfg;
	const struct cur_state *cur;
	struct plan *p;
	char *err;
};

#define berr(b, pos, sub, ...) cfg_pos_err(&(b)->err, pos, (b)->cfg->file, sub, __VA_ARGS__)

static const struct cur_res *res_of(const struct cur_state *cur, const char *path)
{
	size_t i;

	for (i = 0; i < cur->n_res; i++)
		if (!strcmp(cur->res[i].path, path))
			return &cur->res[i];
	return NULL;
}

static const struct cur_cg *cg_of(const struct cur_state *cur, const char *path)
{
	size_t i;

	for (i = 0; i < cur->n_cgs; i++)
		if (!strcmp(cur->cgs[i].path, path))
			return &cur->cgs[i];
	return NULL;
}

static const struct cur_dev *cur_dev(const struct cur_state *cur, const char *name)
{
	size_t i;

	for (i = 0; i < cur->n_devs; i++)
		if (!strcmp(cur->devs[i].dm.name, name))
			return &cur->devs[i];
	return NULL;
}

static const struct cur_dg *cur_dg(const struct cur_state *cur, const char *id)
{
	size_t i;

	for (i = 0; i < cur->n_dgs; i++)
		if (!strcmp(cur->dgs[i].id, id))
			return &cur->dgs[i];
	return NULL;
}

static struct action *act(struct plan *p, enum act_kind k, const char *dev)
{
	struct action *a = vec_push(&p->a, &p->n, sizeof(*a));

	a->kind = k;
	a->dev = xstrdup(dev);
	return a;
}

/* The single-line table of a wanted device (resolved groups only). */
static void want_tline(const struct want *w, struct dm_tline **t, size_t *n)
{
	*t = xcalloc(1, sizeof(**t));
	(*t)->start = 0;
	(*t)->len = w->len;
	(*t)->type = xstrdup(IOB_TARGET);
	(*t)->params = iob_table_format(&w->t);
	*n = 1;
}

static int want_init(struct builder *b, struct want *w, const char *name, const struct cfg_pos *pos,
		     const char *backing, const char *sub, const char *devgroup, enum iob_type type,
		     unsigned int weight, const struct iob_limits *lim)
{
	const struct cur_res *r = res_of(b->cur, backing);
	const struct cfg_devgroup *dg = config_devgroup(b->cfg, devgroup);

	memset(w, 0, sizeof(*w));
	w->name = xstrdup(name);
	w->uuid = xasprintf(IOB_UUID_APPLY "%s", name);
	w->pos = pos;
	w->backing = backing;
	iob_table_init(&w->t);
	if (!r || r->err) {
		berr(b, pos, sub, "%s: %s", quote_if_needed(backing), strerror(r ? -r->err : ENOENT));
		return -EINVAL;
	}
	w->major = r->major;
	w->minor = r->minor;
	w->len = r->sectors;
	if (!w->len) {
		berr(b, pos, sub, "%s: has size 0", quote_if_needed(backing));
		return -EINVAL;
	}
	w->t.device = xasprintf("%u:%u", r->major, r->minor);
	snprintf(w->t.devgroup, sizeof(w->t.devgroup), "%s", devgroup);
	w->t.type = type;
	w->t.default_weight = weight;
	if (lim)
		w->t.default_lim = *lim;
	if (dg) {
		w->t.policy = dg->policy;
		w->t.io_throttle = dg->io_throttle;
		w->t.io_limit = dg->io_limit;
		w->t.token_base = dg->token_base;
		w->t.dg_lim = dg->lim;
	}
	return 0;
}

static void want_free(struct want *w)
{
	free(w->name);
	free(w->uuid);
	iob_table_free(&w->t);
	free(w->g);
}

static int build_wants(struct builder *b, struct want **ws, size_t *nw)
{
	const struct host_cfg *cfg = b->cfg;
	size_t i, j, k, l;

	for (i = 0; i < cfg->n_devs; i++) {
		const struct cfg_device *d = &cfg->devs[i];
		struct want *w = vec_push(ws, nw, sizeof(*w));
		char *name = config_dev_dmname(d);
		int r = want_init(b, w, name, &d->pos, d->device, "device", d->devgroup, d->type,
				  d->weight, NULL);

		free(name);
		if (r)
			return r;
		for (j = 0; j < cfg->n_guests; j++) {
			const struct cfg_guest *g = &cfg->guests[j];

			for (k = 0; k < g->n_disks; k++) {
				const struct cfg_disk *dk = &g->disks[k];
				struct want_group *wg;

				if (!dk->ioband || strcmp(dk->ioband, d->name))
					continue;
				wg = vec_push(&w->g, &w->n_g, sizeof(*wg));
				wg->weight = dk->weight;
				wg->lim = dk->lim;
				wg->pos = &dk->pos;
				if (dk->has_group) {
					wg->id = dk->group;
				} else {
					const struct cur_cg *c = cg_of(b->cur, g->cgroup);

					wg->cgroup = g->cgroup;
					if (c && !c->err) {
						wg->id = c->id;
					} else if (!g->create_cgroup || (c && c->err != -ENOENT)) {
						berr(b, &g->pos, "cgroup", "%s: %s%s", quote_if_needed(g->cgroup),
						     strerror(c ? -c->err : ENOENT),
						     g->create_cgroup ? "" : " (create-cgroup: true creates it)");
						return -EINVAL;
					}
				}
				for (l = 0; l + 1 < w->n_g; l++)
					if (wg->id && w->g[l].id == wg->id) {
						berr(b, &dk->pos, "", "group %llu is already given to %s (line %d)",
						     (unsigned long long)wg->id, w->g[l].pos->field,
						     w->g[l].pos->line);
						return -EINVAL;
					}
				if (wg->id) {
					iob_table_add_group(&w->t, wg->id, wg->weight);
					w->t.groups[w->t.n_groups - 1].lim = wg->lim;
				}
			}
		}
	}
	for (j = 0; j < cfg->n_guests; j++) {
		const struct cfg_guest *g = &cfg->guests[j];

		for (k = 0; k < g->n_disks; k++) {
			const struct cfg_disk *dk = &g->disks[k];
			struct want *w;
			char *name;
			int r;

			if (!dk->device)
				continue;
			w = vec_push(ws, nw, sizeof(*w));
			name = config_disk_dmname(g, dk);
			r = want_init(b, w, name, &dk->pos, dk->device, "device", dk->devgroup,
				      IOB_NONE, dk->weight, &dk->lim);
			free(name);
			if (r)
				return r;
		}
	}
	/* Paths differ, the device is the same: /dev/vg/lv and /dev/dm-3. */
	for (i = 0; i < *nw; i++)
		for (j = 0; j < i; j++)
			if ((*ws)[i].major == (*ws)[j].major && (*ws)[i].minor == (*ws)[j].minor) {
				berr(b, (*ws)[i].pos, "device", "%s is the same device as %s (%s, line %d)",
				     quote_if_needed((*ws)[i].backing), quote_if_needed((*ws)[j].backing),
				     (*ws)[j].pos->field,
				     (*ws)[j].pos->line);
				return -EINVAL;
			}
	for (i = 0; i < *nw; i++)
		for (j = 0; j < b->cur->n_other; j++)
			if (!strcmp((*ws)[i].name, b->cur->other_names[j])) {
				berr(b, (*ws)[i].pos, "name", "device %s exists and is not managed by iobandctl apply",
				     (*ws)[i].name);
				return -EINVAL;
			}
	return 0;
}

static void dg_set(struct plan *p, const struct cur_dg *c, const char *key, const char *val,
		   const char *old)
{
	struct action *a = act(p, ACT_DG_SET, c->member);

	a->dg = xstrdup(c->id);
	a->key = xstrdup(key);
	a->val = xstrdup(val);
	a->old_val = xstrdup(old);
}

/*
 * The argument of the policy message that takes the device group from
 * FROM to TO (limit and burst) with policy P: what it does not give the
 * kernel keeps; l=0 lifts the limit and its burst, b=0 the burst.  Both
 * go together when both change, so that the limit never has to stay
 * under the old burst or the burst above the old limit.
 */
static char *policy_arg(enum iob_policy p, const struct iob_limits *to, const struct iob_limits *from)
{
	struct strbuf sb = { 0 };
	char r[IOB_RATE_STR_MAX];

	sb_adds(&sb, iob_policy_name(p));
	if (!to->lim.rate) {
		if (from->lim.rate)
			sb_adds(&sb, ",l=0");
		return sb_steal(&sb);
	}
	if (!iob_rate_eq(&to->lim, &from->lim)) {
		iob_rate_format(&to->lim, r, sizeof(r));
		sb_addf(&sb, ",l=%s", r);
	}
	if (!iob_rate_eq(&to->burst, &from->burst) ||
	    (to->burst.rate && to->burst_secs != from->burst_secs)) {
		iob_rate_format(&to->burst, r, sizeof(r));
		if (to->burst.rate)
			sb_addf(&sb, ",b=%s/%u", r, to->burst_secs);
		else
			sb_adds(&sb, ",b=0");
	}
	return sb_steal(&sb);
}

static void plan_dgs(struct builder *b, const struct want *ws, size_t nw)
{
	size_t i, j;

	for (i = 0; i < nw; i++) {
		const struct iob_table *t = &ws[i].t;
		const struct cur_dg *c = cur_dg(b->cur, t->devgroup);
		char v[32], o[32];
		bool limit_first;

		for (j = 0; j < i; j++)
			if (!strcmp(ws[j].t.devgroup, t->devgroup))
				break;
		if (j < i || !c)	/* done already / a new device group */
			continue;
		if (c->policy != t->policy || !iob_limits_eq(&t->dg_lim, &c->lim)) {
			char *nv = policy_arg(t->policy, &t->dg_lim, &c->lim);
			char *ov = policy_arg(c->policy, &c->lim, &t->dg_lim);

			dg_set(b->p, c, "policy", nv, ov);
			free(nv);
			free(ov);
		}
		/*
		 * Values as configured (0 = default, io_limit 0 = automatic),
		 * as the kernel prints them.  Keep io_throttle <= io_limit at
		 * every step.
		 */
		limit_first = t->io_throttle && c->io_limit && t->io_throttle > c->io_limit;
		for (j = 0; j < 2; j++) {
			bool lim = (j == 0) == limit_first;
			unsigned int want = lim ? t->io_limit : t->io_throttle;
			unsigned int have = lim ? c->io_limit : c->io_throttle;

			if (want == have)
				continue;
			snprintf(v, sizeof(v), "%u", want);
			snprintf(o, sizeof(o), "%u", have);
			dg_set(b->p, c, lim ? "io_limit" : "io_throttle", v, o);
		}
		if (t->token_base != c->token_base) {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)t->token_base);
			snprintf(o, sizeof(o), "%llu", (unsigned long long)c->token_base);
			dg_set(b->p, c, "token", v, o);
		}
	}
}

static bool needs_reload(const struct want *w, const struct cur_dev *c)
{
	char dev[32];

	if (!c->is_ioband || c->dm.nt != 1)
		return true;
	snprintf(dev, sizeof(dev), "%u:%u", w->major, w->minor);
	return strcmp(c->t.device, dev) || c->dm.t[0].len != w->len ||
		strcmp(c->t.devgroup, w->t.devgroup) || c->t.type != w->t.type;
}

/* A group of DEV (ID NULL: the default group): its weight, then its limits. */
static void group_changes(struct plan *p, const char *dev, const uint64_t *id, unsigned int weight,
			  unsigned int old_weight, const struct iob_limits *lim,
			  const struct iob_limits *old_lim)
{
	struct action *a;

	if (weight != old_weight) {
		a = act(p, ACT_GROUP_WEIGHT, dev);
		a->has_id = id;
		a->id = id ? *id : 0;
		a->weight = weight;
		a->old_weight = old_weight;
	}
	if (!iob_limits_eq(lim, old_lim)) {
		a = act(p, ACT_GROUP_LIMITS, dev);
		a->has_id = id;
		a->id = id ? *id : 0;
		a->lim = *lim;
		a->old_lim = *old_lim;
	}
}

int plan_build(const struct host_cfg *cfg, const struct cur_state *cur, struct plan *p, char **err)
{
	struct builder b = { .cfg = cfg, .cur = cur, .p = p };
	struct want *ws = NULL;
	size_t nw = 0, i, j;
	struct strv args = { 0 };
	enum { DETACH, REMOVE, CREATE, RELOAD, ATTACH, WEIGHT, NPASS };
	int pass;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	if (build_wants(&b, &ws, &nw))
		goto fail;

	/* Devices to remove must not be in use. */
	for (i = 0; i < cur->n_devs; i++) {
		const struct cur_dev *c = &cur->devs[i];

		for (j = 0; j < nw; j++)
			if (!strcmp(ws[j].name, c->dm.name))
				break;
		if (j == nw && c->dm.open_count > 0) {
			b.err = xasprintf("%s: %s would be removed but is in use (open count %d): stop its user first, or keep it in the host file",
					  cfg->file, c->dm.name, c->dm.open_count);
			goto fail;
		}
	}

	/* cgroups, in host-file order, each once. */
	for (i = 0; i < cfg->n_guests; i++) {
		const struct cfg_guest *g = &cfg->guests[i];
		const struct cur_cg *c = g->cgroup ? cg_of(cur, g->cgroup) : NULL;

		for (j = 0; j < i; j++)
			if (cfg->guests[j].cgroup && g->cgroup && !strcmp(cfg->guests[j].cgroup, g->cgroup))
				break;
		if (g->create_cgroup && j == i && (!c || c->err == -ENOENT))
			act(p, ACT_CGROUP_CREATE, "")->cgroup = xstrdup(g->cgroup);
	}

	plan_dgs(&b, ws, nw);

	for (pass = 0; pass < NPASS; pass++) {
		if (pass == REMOVE) {
			for (i = 0; i < cur->n_devs; i++) {
				const struct cur_dev *c = &cur->devs[i];
				struct action *a;

				for (j = 0; j < nw; j++)
					if (!strcmp(ws[j].name, c->dm.name))
						break;
				if (j < nw)
					continue;
				a = act(p, ACT_DEV_REMOVE, c->dm.name);
				a->uuid = xstrdup(c->dm.uuid);
				dm_tlines_copy(&a->old, &a->nold, c->dm.t, c->dm.nt);
			}
			continue;
		}
		for (i = 0; i < nw; i++) {
			const struct want *w = &ws[i];
			const struct cur_dev *c = cur_dev(cur, w->name);
			bool fresh = !c || needs_reload(w, c);
			struct action *a;

			switch (pass) {
			case CREATE:
				if (c)
					break;
				a = act(p, ACT_DEV_CREATE, w->name);
				a->uuid = xstrdup(w->uuid);
				want_tline(w, &a->t, &a->nt);
				break;
			case RELOAD:
				if (!c || !fresh)
					break;
				a = act(p, ACT_DEV_RELOAD, w->name);
				want_tline(w, &a->t, &a->nt);
				dm_tlines_copy(&a->old, &a->nold, c->dm.t, c->dm.nt);
				break;
			case DETACH:
				if (fresh)
					break;
				for (j = 0; j < c->t.n_groups; j++) {
					const struct iob_group *g = &c->t.groups[j];

					if (iob_table_group(&w->t, g->id))
						continue;
					a = act(p, ACT_GROUP_DETACH, w->name);
					a->has_id = true;
					a->id = g->id;
					a->old_weight = g->weight;
					a->old_lim = g->lim;
				}
				break;
			case ATTACH:
				for (j = 0; j < w->n_g; j++) {
					const struct want_group *g = &w->g[j];

					/* Resolved groups are in new tables already. */
					if (g->id && (fresh || iob_table_group(&c->t, g->id)))
						continue;
					a = act(p, ACT_GROUP_ATTACH, w->name);
					a->has_id = true;
					a->id = g->id;
					a->cgroup = g->id ? NULL : xstrdup(g->cgroup);
					a->weight = g->weight;
					a->lim = g->lim;
				}
				break;
			case WEIGHT:
				if (fresh)
					break;
				group_changes(p, w->name, NULL, w->t.default_weight, c->t.default_weight,
					      &w->t.default_lim, &c->t.default_lim);
				for (j = 0; j < w->t.n_groups; j++) {
					const struct iob_group *g = &w->t.groups[j];
					const struct iob_group *h = iob_table_group(&c->t, g->id);

					if (h)
						group_changes(p, w->name, &g->id, g->weight, h->weight,
							      &g->lim, &h->lim);
				}
				break;
			}
		}
	}

	if (cfg->net.present) {
		net_args(cfg, &args);
		if (!cur->net_applied || !strv_equal(&args, &cur->net_args)) {
			struct action *a = act(p, ACT_NET_APPLY, "");

			a->args = args;
			memset(&args, 0, sizeof(args));
			a->old_net = cur->net_applied;
			for (i = 0; cur->net_applied && i < cur->net_args.n; i++)
				strv_add(&a->old_args, cur->net_args.v[i]);
		}
	} else if (cur->net_applied) {
		struct action *a = act(p, ACT_NET_CLEAR, "");

		strv_add(&a->args, "clear");
		strv_add(&a->args, "--uplink");
		strv_add(&a->args, cur->net_args.n > 2 ? cur->net_args.v[2] : "?");
		for (i = 0; i < cur->net_args.n; i++)
			strv_add(&a->old_args, cur->net_args.v[i]);
		a->old_net = true;
	}
	strv_free(&args);
	for (i = 0; i < nw; i++)
		want_free(&ws[i]);
	free(ws);
	return 0;
fail:
	for (i = 0; i < nw; i++)
		want_free(&ws[i]);
	free(ws);
	plan_free(p);
	*err = b.err ? b.err : xstrdup("cannot plan");
	return -EINVAL;
}

int plan_for_config(struct host_cfg *cfg, struct plan *p, char **err)
{
	struct cur_state cur;
	int r;

	r = state_read(cfg, &cur, err);
	if (r) {
		config_free(cfg);
		return EX_FAIL;
	}
	r = plan_build(cfg, &cur, p, err);
	state_free(&cur);
	config_free(cfg);
	return r ? EX_CONFIG : EX_OK;
}

void net_args(const struct host_cfg *cfg, struct strv *args)
{
	const struct cfg_network *n = &cfg->net;
	size_t i, j, k;

	memset(args, 0, sizeof(*args));
	strv_add(args, "apply");
	strv_add(args, "--uplink");
	strv_add(args, n->uplink);
	strv_add(args, "--rate");
	strv_add(args, n->rate);
	if (n->down_rate) {
		strv_add(args, "--down-rate");
		strv_add(args, n->down_rate);
	}
	if (n->burst) {
		strv_add(args, "--burst");
		strv_add(args, n->burst);
	}
	if (n->host_weight) {
		strv_add(args, "--host-weight");
		strv_addf(args, "%u", n->host_weight);
	}
	for (i = 0; i < cfg->n_guests; i++) {
		const struct cfg_guest *g = &cfg->guests[i];

		for (j = 0; j < g->n_ifaces; j++) {
			const struct cfg_iface *f = &g->ifaces[j];
			struct strbuf sb = { 0 };

			sb_addf(&sb, "%s:weight=%u", f->name, f->weight);
			if (f->mac)
				sb_addf(&sb, ",mac=%s", f->mac);
			for (k = 0; k < f->ips.n; k++)
				sb_addf(&sb, ",ip=%s", f->ips.v[k]);
			if (f->cap)
				sb_addf(&sb, ",cap=%s", f->cap);
			if (f->down_cap)
				sb_addf(&sb, ",down-cap=%s", f->down_cap);
			if (f->up_cap)
				sb_addf(&sb, ",up-cap=%s", f->up_cap);
			if (f->floor)
				sb_addf(&sb, ",floor=%s", f->floor);
			if (f->burst)
				sb_addf(&sb, ",burst=%s", f->burst);
			strv_add(args, "--guest");
			strv_add(args, sb.s);
			sb_free(&sb);
		}
	}
}

void plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct action *a = &p->a[i];

		free(a->dev);
		free(a->uuid);
		dm_tlines_free(a->t, a->nt);
		dm_tlines_free(a->old, a->nold);
		free(a->key);
		free(a->val);
		free(a->old_val);
		free(a->dg);
		free(a->cgroup);
		strv_free(&a->args);
		strv_free(&a->old_args);
	}
	free(p->a);
	memset(p, 0, sizeof(*p));
}

/* ----------------------------------------------------------------- output */

static const char *const kind_names[] = {
	[ACT_CGROUP_CREATE] = "cgroup-create",
	[ACT_DG_SET] = "device-group-set",
	[ACT_GROUP_DETACH] = "detach",
	[ACT_DEV_REMOVE] = "remove",
	[ACT_DEV_CREATE] = "create",
	[ACT_DEV_RELOAD] = "reload",
	[ACT_GROUP_ATTACH] = "attach",
	[ACT_GROUP_WEIGHT] = "weight",
	[ACT_GROUP_LIMITS] = "limits",
	[ACT_NET_APPLY] = "net-apply",
	[ACT_NET_CLEAR] = "net-clear",
};

static char *group_name(const struct action *a)
{
	if (!a->has_id)
		return xstrdup("default group");
	if (a->cgroup)
		return xasprintf("group cgroup:%s", a->cgroup);
	return xasprintf("group %llu", (unsigned long long)a->id);
}

static char *tline_str(const struct dm_tline *t, size_t n)
{
	struct strbuf sb = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		sb_addf(&sb, "%s%llu %llu %s %s", i ? "; " : "", (unsigned long long)t[i].start,
			(unsigned long long)t[i].len, t[i].type, t[i].params);
	return sb_steal(&sb);
}

/* ",r=..,l=..,b=.." without the first comma, or "none" (malloc'ed) */
static char *limits_str(const struct iob_limits *l)
{
	char *s = iob_limits_format(l), *r;

	if (!*s) {
		free(s);
		return xstrdup("none");
	}
	r = xstrdup(s + 1);
	free(s);
	return r;
}

void action_print(const struct action *a, FILE *f)
{
	char *g = group_name(a), *s = NULL, *o = NULL;

	switch (a->kind) {
	case ACT_CGROUP_CREATE:
		fprintf(f, "cgroup-create %s\n", quote_if_needed(a->cgroup));
		break;
	case ACT_DG_SET:
		fprintf(f, "device-group-set %s %s %s (was %s; via %s)\n", quote_if_needed(a->dg),
			a->key, a->val, a->old_val, quote_if_needed(a->dev));
		break;
	case ACT_GROUP_DETACH:
		fprintf(f, "detach %s %s (weight %u", quote_if_needed(a->dev), g, a->old_weight);
		if (iob_limits_any(&a->old_lim)) {
			o = limits_str(&a->old_lim);
			fprintf(f, ", %s", o);
		}
		fprintf(f, ")\n");
		break;
	case ACT_DEV_REMOVE:
		s = tline_str(a->old, a->nold);
		fprintf(f, "remove %s (was: %s)\n", quote_if_needed(a->dev), s);
		break;
	case ACT_DEV_CREATE:
		s = tline_str(a->t, a->nt);
		fprintf(f, "create %s: %s\n", quote_if_needed(a->dev), s);
		break;
	case ACT_DEV_RELOAD:
		s = tline_str(a->t, a->nt);
		o = tline_str(a->old, a->nold);
		fprintf(f, "reload %s: %s (was: %s)\n", quote_if_needed(a->dev), s, o);
		break;
	case ACT_GROUP_ATTACH:
		fprintf(f, "attach %s %s weight %u", quote_if_needed(a->dev), g, a->weight);
		if (iob_limits_any(&a->lim)) {
			s = limits_str(&a->lim);
			fprintf(f, " %s", s);
		}
		fprintf(f, "\n");
		break;
	case ACT_GROUP_WEIGHT:
		fprintf(f, "weight %s %s %u (was %u)\n", quote_if_needed(a->dev), g, a->weight,
			a->old_weight);
		break;
	case ACT_GROUP_LIMITS:
		s = limits_str(&a->lim);
		o = limits_str(&a->old_lim);
		fprintf(f, "limits %s %s %s (was %s)\n", quote_if_needed(a->dev), g, s, o);
		break;
	case ACT_NET_APPLY:
	case ACT_NET_CLEAR:
		s = strv_join(&a->args, " ");
		fprintf(f, "%s ioband-tc %s\n", kind_names[a->kind], s);
		break;
	}
	free(g);
	free(s);
	free(o);
}

void plan_print(const struct plan *p, FILE *f)
{
	size_t i;

	if (!p->n) {
		fprintf(f, "nothing to do\n");
		return;
	}
	for (i = 0; i < p->n; i++)
		action_print(&p->a[i], f);
}

static json_object *jstrv(const struct strv *sv)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	return a;
}

static json_object *jtable(const struct dm_tline *t, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *l = json_object_new_object();

		json_object_object_add(l, "start", json_object_new_uint64(t[i].start));
		json_object_object_add(l, "length", json_object_new_uint64(t[i].len));
		json_object_object_add(l, "target", json_object_new_string(t[i].type));
		json_object_object_add(l, "params", json_object_new_string(t[i].params));
		json_object_array_add(a, l);
	}
	return a;
}

static void jgroup(json_object *o, const struct action *a)
{
	if (!a->has_id)
		json_object_object_add(o, "group", json_object_new_int(IOB_DEFAULT_GROUP));
	else if (!a->cgroup)
		json_object_object_add(o, "group", json_object_new_uint64(a->id));
	else
		json_object_object_add(o, "cgroup", json_object_new_string(a->cgroup));
}

/* {"reservation": "500iops", "limit": ..., "burst": "4000iops/10"}; "0": none */
static void jlimits(json_object *o, const char *key, const struct iob_limits *l)
{
	json_object *lo = json_object_new_object();
	char b[IOB_RATE_STR_MAX + 8];

	iob_rate_format(&l->rsv, b, sizeof(b));
	json_object_object_add(lo, "reservation", json_object_new_string(b));
	iob_rate_format(&l->lim, b, sizeof(b));
	json_object_object_add(lo, "limit", json_object_new_string(b));
	iob_rate_format(&l->burst, b, sizeof(b) - 8);
	if (l->burst.rate)
		snprintf(b + strlen(b), 8, "/%u", l->burst_secs);
	json_object_object_add(lo, "burst", json_object_new_string(b));
	json_object_object_add(o, key, lo);
}

char *plan_json(const struct plan *p)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char *s;
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "action", json_object_new_string(kind_names[a->kind]));
		if (*a->dev)
			json_object_object_add(o, "device", json_object_new_string(a->dev));
		switch (a->kind) {
		case ACT_CGROUP_CREATE:
			json_object_object_add(o, "cgroup", json_object_new_string(a->cgroup));
			break;
		case ACT_DG_SET:
			json_object_object_add(o, "device_group", json_object_new_string(a->dg));
			json_object_object_add(o, "key", json_object_new_string(a->key));
			json_object_object_add(o, "value", json_object_new_string(a->val));
			json_object_object_add(o, "old_value", json_object_new_string(a->old_val));
			break;
		case ACT_DEV_CREATE:
		case ACT_DEV_RELOAD:
		case ACT_DEV_REMOVE:
			if (a->nt)
				json_object_object_add(o, "table", jtable(a->t, a->nt));
			if (a->nold)
				json_object_object_add(o, "old_table", jtable(a->old, a->nold));
			break;
		case ACT_GROUP_ATTACH:
		case ACT_GROUP_DETACH:
		case ACT_GROUP_WEIGHT:
			jgroup(o, a);
			if (a->kind != ACT_GROUP_DETACH)
				json_object_object_add(o, "weight", json_object_new_int(a->weight));
			if (a->kind != ACT_GROUP_ATTACH)
				json_object_object_add(o, "old_weight", json_object_new_int(a->old_weight));
			if (a->kind == ACT_GROUP_ATTACH && iob_limits_any(&a->lim))
				jlimits(o, "limits", &a->lim);
			if (a->kind == ACT_GROUP_DETACH && iob_limits_any(&a->old_lim))
				jlimits(o, "old_limits", &a->old_lim);
			break;
		case ACT_GROUP_LIMITS:
			jgroup(o, a);
			jlimits(o, "limits", &a->lim);
			jlimits(o, "old_limits", &a->old_lim);
			break;
		case ACT_NET_APPLY:
		case ACT_NET_CLEAR:
			json_object_object_add(o, "args", jstrv(&a->args));
			break;
		}
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "actions", arr);
	s = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(root);
	return s;
}
