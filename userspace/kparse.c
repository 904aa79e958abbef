// SPDX-License-Identifier: GPL-2.0
/*
 * kparse.c - the module's own parsers (dm-ioband/ioband-parse.c, built
 * here through ioband-compat.h, as tests/unit and tests/fuzz build it),
 * behind an interface free of kernel types: what iobandctl accepts as a
 * rate or a burst is what the module accepts, by the same code, and the
 * fake backend (fake.c) takes or refuses tables and messages by it as
 * the module does.  Kept in its own file so that the compatibility header's
 * macros (min, max, ...) stay out of the rest of iobandctl.
 */
#include "ioband-parse.h"
#include "kparse.h"

#include <stdio.h>

int iob_kparse_rate(const char *s, uint64_t *rate, bool *iops)
{
	struct ioband_rate r;
	char *err;

	if (ioband_parse_rate(s, &r, &err))
		return -EINVAL;
	*rate = r.rate;
	*iops = r.iops;
	return 0;
}

int iob_kparse_burst(const char *s, uint64_t *rate, bool *iops, unsigned int *secs)
{
	struct ioband_burst b;
	char *err;

	if (ioband_parse_burst(s, &b, &err))
		return -EINVAL;
	*rate = b.rate.rate;
	*iops = b.rate.iops;
	*secs = b.secs;
	return 0;
}

static struct ioband_rate krate(const struct iob_rate *r)
{
	return (struct ioband_rate){ .rate = r->rate, .iops = r->iops };
}

static struct iob_rate urate(const struct ioband_rate *r)
{
	return (struct iob_rate){ .rate = r->rate, .iops = r->iops };
}

const char *iob_kburst_problem(const struct iob_rate *b, const struct iob_rate *l)
{
	struct ioband_burst kb = { .rate = krate(b), .secs = 1 };
	struct ioband_rate kl = krate(l);

	return ioband_burst_problem(&kb, &kl);
}

/* S split in place at blanks, as dm core splits a table or a message. */
static unsigned int split(char *s, char ***argv)
{
	unsigned int n = 0;
	char *tok, *save = NULL;

	*argv = calloc(strlen(s) / 2 + 1, sizeof(**argv));
	if (!*argv)
		abort();
	for (tok = strtok_r(s, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		(*argv)[n++] = tok;
	return n;
}

int iob_kparse_table(const char *params, bool *has_lim, bool *has_bst, const char **err)
{
	struct ioband_table_cfg cfg;
	char *s = strdup(params ? params : ""), **argv, *kerr = NULL;
	unsigned int argc;
	int r;

	if (!s)
		abort();
	argc = split(s, &argv);
	cfg.groups = calloc(argc + 1, sizeof(*cfg.groups));
	if (!cfg.groups)
		abort();
	r = ioband_parse_table(argc, argv, &cfg, &kerr);
	*has_lim = !r && cfg.dg_limit.has_lim;
	*has_bst = !r && cfg.dg_limit.has_bst;
	*err = kerr;
	free(cfg.groups);
	free(argv);
	free(s);
	return r ? -EINVAL : 0;
}

/* The module's types are the same lists in the same order. */
_Static_assert((int)IOBAND_TYPE_NR == (int)IOB_TYPE_NR && (int)IOBAND_TYPE_CGROUP == (int)IOB_CGROUP,
	       "group types");
_Static_assert((int)IOBAND_POLICY_NR == (int)IOB_POLICY_NR &&
	       (int)IOBAND_POLICY_RANGE_BW == (int)IOB_RANGE_BW, "policies");

int iob_kparse_message(const char *msg, enum iob_type type, struct iob_kmsg *m, const char **err)
{
	struct ioband_msg k;
	char *s = strdup(msg), **argv, *kerr = NULL;
	unsigned int argc;
	int r;

	if (!s)
		abort();
	memset(m, 0, sizeof(*m));
	argc = split(s, &argv);
	r = ioband_parse_message(argc, argv, (enum ioband_type)type, &k, &kerr);
	*err = kerr;
	if (!r) {
		snprintf(m->verb, sizeof(m->verb), "%s", argv[0]);
		m->has_id = k.has_id;
		m->id = k.id;
		m->value = k.value;
		m->min_kbs = k.min_kbs;
		m->max_kbs = k.max_kbs;
		m->rate = urate(k.verb == IOBAND_MSG_BURST ? &k.burst.rate : &k.rate);
		m->burst_secs = k.burst.secs;
		m->type = (enum iob_type)k.type;
		m->policy = (enum iob_policy)k.policy;
		m->dg_lim.lim = urate(&k.dg_limit.lim);
		m->dg_lim.burst = urate(&k.dg_limit.bst.rate);
		m->dg_lim.burst_secs = k.dg_limit.bst.secs;
		m->has_lim = k.dg_limit.has_lim;
		m->has_bst = k.dg_limit.has_bst;
	}
	free(argv);
	free(s);
	return r ? -EINVAL : 0;
}
