// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - what is there now: the ioband devices apply manages (found by
 * their dm uuid, not by a record of ours), every device group's effective
 * parameters, the host file's block devices and cgroups resolved, and the
 * one thing the system cannot tell us back exactly, the ioband-tc
 * arguments last applied (IOBAND_STATE_DIR/state.json, /run/ioband by
 * default).  Also: running ioband-tc.
 */
#include "plan.h"

#include <errno.h>
#include <json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

static void add_res(struct cur_state *cur, const char *path)
{
	struct cur_res *r;
	size_t i;

	for (i = 0; i < cur->n_res; i++)
		if (!strcmp(cur->res[i].path, path))
			return;
	r = vec_push(&cur->res, &cur->n_res, sizeof(*r));
	r->path = xstrdup(path);
	r->err = be->resolve(path, &r->major, &r->minor, &r->sectors);
}

static void add_cg(struct cur_state *cur, const char *path)
{
	struct cur_cg *c;
	size_t i;

	for (i = 0; i < cur->n_cgs; i++)
		if (!strcmp(cur->cgs[i].path, path))
			return;
	c = vec_push(&cur->cgs, &cur->n_cgs, sizeof(*c));
	c->path = xstrdup(path);
	c->err = cgroup_id(path, &c->id);
}

static void note_dg(struct cur_state *cur, const char *dev, const struct iob_table *t)
{
	struct cur_dg *g;
	size_t i;

	for (i = 0; i < cur->n_dgs; i++)
		if (!strcmp(cur->dgs[i].id, t->devgroup))
			return;
	g = vec_push(&cur->dgs, &cur->n_dgs, sizeof(*g));
	g->id = xstrdup(t->devgroup);
	g->member = xstrdup(dev);
	g->policy = t->policy;
	g->io_throttle = t->io_throttle;
	g->io_limit = t->io_limit;
	g->token_base = t->token_base;
	g->lim = t->dg_lim;
}

int state_read(const struct host_cfg *cfg, struct cur_state *cur, char **err)
{
	struct dm_dev *all;
	size_t n, i, j;
	int r;

	memset(cur, 0, sizeof(*cur));
	*err = NULL;
	r = be->list(&all, &n);
	if (r) {
		*err = xasprintf("cannot read the device-mapper devices: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < n; i++) {
		struct dm_dev *d = &all[i];
		struct iob_table t;
		const char *e;
		bool ok = iob_tlines_ioband(d->t, d->nt) &&
			!iob_table_parse(d->t[0].params, &t, &e);

		if (ok)
			note_dg(cur, d->name, &t);
		if (!strncmp(d->uuid, IOB_UUID_APPLY, strlen(IOB_UUID_APPLY))) {
			struct cur_dev *c = vec_push(&cur->devs, &cur->n_devs, sizeof(*c));

			c->dm = *d;
			c->is_ioband = ok;
			if (ok)
				c->t = t;
			memset(d, 0, sizeof(*d));
		} else {
			char **s = vec_push(&cur->other_names, &cur->n_other, sizeof(*s));

			*s = xstrdup(d->name);
			if (ok)
				iob_table_free(&t);
		}
	}
	dm_devs_free(all, n);

	for (i = 0; i < cfg->n_devs; i++)
		add_res(cur, cfg->devs[i].device);
	for (i = 0; i < cfg->n_guests; i++) {
		const struct cfg_guest *g = &cfg->guests[i];

		for (j = 0; j < g->n_disks; j++)
			if (g->disks[j].device)
				add_res(cur, g->disks[j].device);
		if (g->cgroup)
			add_cg(cur, g->cgroup);
	}

	r = state_file_load(&cur->net_applied, &cur->net_args, err);
	if (r) {
		state_free(cur);
		return r;
	}
	/* Cleared behind our back (ioband-tc clear, a reboot of /run)? */
	if (cur->net_applied && cur->net_args.n > 2) {
		struct strv a = { 0 };
		char *out = NULL;
		json_object *o, *v;

		strv_add(&a, "show");
		strv_add(&a, "--uplink");
		strv_add(&a, cur->net_args.v[2]);
		strv_add(&a, "--json");
		if (!tc_run(&a, &out) && (o = json_tokener_parse(out))) {
			if (json_object_object_get_ex(o, "applied", &v) && !json_object_get_boolean(v))
				cur->net_applied = false;
			json_object_put(o);
		}
		free(out);
		strv_free(&a);
	}
	return 0;
}

void state_free(struct cur_state *cur)
{
	size_t i;

	for (i = 0; i < cur->n_devs; i++) {
		dm_dev_free(&cur->devs[i].dm);
		if (cur->devs[i].is_ioband)
			iob_table_free(&cur->devs[i].t);
	}
	free(cur->devs);
	for (i = 0; i < cur->n_other; i++)
		free(cur->other_names[i]);
	free(cur->other_names);
	for (i = 0; i < cur->n_dgs; i++) {
		free(cur->dgs[i].id);
		free(cur->dgs[i].member);
	}
	free(cur->dgs);
	for (i = 0; i < cur->n_res; i++)
		free(cur->res[i].path);
	free(cur->res);
	for (i = 0; i < cur->n_cgs; i++)
		free(cur->cgs[i].path);
	free(cur->cgs);
	strv_free(&cur->net_args);
	memset(cur, 0, sizeof(*cur));
}

/* ------------------------------------------------------------- state file */

char *state_file_path(void)
{
	const char *d = getenv("IOBAND_STATE_DIR");

	return xasprintf("%s/state.json", d && *d ? d : "/run/ioband");
}

/*
 * The file records what apply did to the network, so that a later apply
 * can undo or change it: one that cannot be read is refused, never taken
 * for "nothing applied" (that would leave an uplink shaped for good).
 */
int state_file_load(bool *net_applied, struct strv *args, char **err)
{
	static const char fix[] =
		"it records the network shaping apply last did: remove it to forget that "
		"(an uplink left shaped: ioband-tc clear --uplink IF)";
	char *p = state_file_path(), *text = NULL;
	struct json_tokener *tok;
	json_object *o = NULL, *net, *a;
	size_t len, i;
	int r;

	*net_applied = false;
	memset(args, 0, sizeof(*args));
	*err = NULL;
	r = read_text_file(p, &text, &len);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r) {
		*err = r == -EINVAL ? xasprintf("%s: not valid JSON (a NUL byte); %s", p, fix) :
			xasprintf("cannot read %s: %s", p, strerror(-r));
		goto out;
	}
	/* Strict, and the terminating NUL too: a truncated file is an error. */
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len + 1);
	if (!o)
		*err = xasprintf("%s: not valid JSON (%s); %s", p,
				 json_tokener_error_desc(json_tokener_get_error(tok)), fix);
	json_tokener_free(tok);
	if (o && json_object_get_type(o) != json_type_object)
		*err = xasprintf("%s: not an ioband state file (not a JSON object); %s", p, fix);
	if (*err) {
		r = -EINVAL;
		goto out;
	}
	if (json_object_object_get_ex(o, "net", &net)) {
		/* As state_file_save() writes it: "apply --uplink IF ...", strings. */
		bool ok = json_object_object_get_ex(net, "args", &a) &&
			  json_object_get_type(a) == json_type_array &&
			  json_object_array_length(a) >= 3;

		for (i = 0; ok && i < json_object_array_length(a); i++)
			ok = json_object_get_type(json_object_array_get_idx(a, i)) == json_type_string;
		if (ok)
			for (i = 0; i < json_object_array_length(a); i++)
				strv_add(args, json_object_get_string(json_object_array_get_idx(a, i)));
		if (!ok || strcmp(args->v[0], "apply") || strcmp(args->v[1], "--uplink")) {
			*err = xasprintf("%s: not an ioband state file (net.args is no list of ioband-tc apply --uplink IF ... arguments); %s",
					 p, fix);
			strv_free(args);
			r = -EINVAL;
			goto out;
		}
		*net_applied = true;
	}
out:
	json_object_put(o);
	free(text);
	free(p);
	return r;
}

int state_file_save(bool net_applied, const struct strv *args)
{
	const char *d = getenv("IOBAND_STATE_DIR");
	char *dir = xstrdup(d && *d ? d : "/run/ioband"), *p = state_file_path();
	char *tmp = xasprintf("%s.tmp", p);
	json_object *o = json_object_new_object();
	size_t i;
	int r = 0;

	if (net_applied) {
		json_object *net = json_object_new_object(), *a = json_object_new_array();

		for (i = 0; i < args->n; i++)
			json_object_array_add(a, json_object_new_string(args->v[i]));
		json_object_object_add(net, "args", a);
		json_object_object_add(o, "net", net);
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		r = -errno;
	if (!r && (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY) || rename(tmp, p)))
		r = -EIO;
	if (r)
		msg_err("cannot write %s", p);
	json_object_put(o);
	free(dir);
	free(p);
	free(tmp);
	return r;
}

/* --------------------------------------------------------------- ioband-tc */

char *tc_helper_path(void)
{
	const char *e = getenv("IOBAND_TC");
	char self[PATH_MAX], *p;
	ssize_t n;

	if (e && *e)
		return xstrdup(e);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		p = xasprintf("%s/ioband-tc", self);
		if (!access(p, X_OK))
			return p;
		free(p);
		/* The source tree: userspace/../tc-helpers/ioband-tc */
		p = xasprintf("%s/../tc-helpers/ioband-tc", self);
		if (!access(p, X_OK))
			return p;
		free(p);
	}
	return xstrdup(LIBEXECDIR "/ioband/ioband-tc");
}

/* Run ioband-tc ARGS (no shell); its stdout into *out when out != NULL. */
int tc_run(const struct strv *args, char **out)
{
	char *prog = tc_helper_path(), **argv;
	int pfd[2] = { -1, -1 }, status;
	struct strbuf sb = { 0 };
	pid_t pid;
	size_t i;

	if (out)
		*out = NULL;
	if (access(prog, X_OK)) {
		msg_err("ioband-tc not found at %s (set IOBAND_TC)", prog);
		free(prog);
		return -ENOENT;
	}
	argv = xcalloc(args->n + 2, sizeof(*argv));
	argv[0] = prog;
	for (i = 0; i < args->n; i++)
		argv[i + 1] = args->v[i];
	if (out && pipe(pfd)) {
		free(argv);
		free(prog);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		if (out) {
			dup2(pfd[1], STDOUT_FILENO);
			close(pfd[0]);
			close(pfd[1]);
		} else {
			dup2(STDERR_FILENO, STDOUT_FILENO);	/* keep our stdout clean */
		}
		execv(prog, argv);
		fprintf(stderr, "%s: exec %s: %s\n", progname, prog, strerror(errno));
		_exit(127);
	}
	free(argv);
	if (pid < 0) {
		free(prog);
		return -errno;
	}
	if (out) {
		char buf[4096];
		ssize_t n;

		close(pfd[1]);
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			sb_addf(&sb, "%.*s", (int)n, buf);
		close(pfd[0]);
		*out = sb_steal(&sb);
	}
	free(prog);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		msg_err("ioband-tc %s failed (exit status %d)", args->n ? args->v[0] : "",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	return 0;
}
