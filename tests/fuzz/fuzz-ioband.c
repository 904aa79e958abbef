// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-ioband.c - libFuzzer target: iobandctl's parsers of what the kernel
 * prints (userspace/ioband.c): the table ("dmsetup table" params), the
 * status line and the "stats" message reply.
 *
 * Input: the first byte selects the parser ('t' table, 's' status,
 * 'S' stats; other bytes by value mod 3), the rest (cut at the first NUL,
 * as libdevmapper hands over C strings) is its text.  An accepted table
 * must format back to a line that parses to the same table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioband.h"

#define FUZZ_MAX_INPUT 65536

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-ioband: accepted input breaks: %s\n", what);
		abort();
	}
}

/* Field by field: the limits' rates have padding. */
static bool same_groups(const struct iob_table *a, const struct iob_table *b)
{
	size_t i;

	for (i = 0; i < a->n_groups; i++) {
		const struct iob_group *x = &a->groups[i], *y = &b->groups[i];

		if (x->id != y->id || x->weight != y->weight || x->min_kbs != y->min_kbs ||
		    x->max_kbs != y->max_kbs || !iob_limits_eq(&x->lim, &y->lim))
			return false;
	}
	return true;
}

static bool same_table(const struct iob_table *a, const struct iob_table *b)
{
	return !strcmp(a->device, b->device) && !strcmp(a->devgroup, b->devgroup) &&
	       a->io_throttle == b->io_throttle && a->io_limit == b->io_limit &&
	       a->token_base == b->token_base && a->type == b->type && a->policy == b->policy &&
	       a->default_weight == b->default_weight &&
	       iob_limits_eq(&a->default_lim, &b->default_lim) && a->n_groups == b->n_groups &&
	       same_groups(a, b);
}

static void fuzz_table(const char *s)
{
	struct iob_table t, t2;
	const char *err = NULL;
	char *line;
	size_t i;

	if (iob_table_parse(s, &t, &err)) {
		check(err && *err, "error without a message");
		return;
	}
	check(t.device && *t.device, "device");
	check(t.devgroup[0] && strlen(t.devgroup) <= IOB_NAME_MAX, "devgroup");
	check(t.io_throttle <= IOB_THROTTLE_MAX && t.io_limit <= IOB_THROTTLE_MAX, "io_throttle/io_limit");
	check(!t.io_throttle || !t.io_limit || t.io_throttle <= t.io_limit, "io_throttle > io_limit");
	check(t.token_base <= IOB_TOKEN_MAX, "token_base");
	check(t.default_weight >= IOB_WEIGHT_MIN && t.default_weight <= IOB_WEIGHT_MAX, "default weight");
	for (i = 0; i < t.n_groups; i++) {
		check(t.groups[i].weight >= IOB_WEIGHT_MIN && t.groups[i].weight <= IOB_WEIGHT_MAX,
		      "group weight");
		check(!iob_check_group_id(t.type, t.groups[i].id), "group id range");
	}
	line = iob_table_format(&t);
	if (iob_table_parse(line, &t2, &err)) {
		fprintf(stderr, "fuzz-ioband: formatted table '%s' does not parse: %s\n", line, err);
		abort();
	}
	check(same_table(&t, &t2), "format/parse round trip");
	free(line);
	iob_table_free(&t2);
	iob_table_free(&t);
}

static void fuzz_status(const char *s, bool stats)
{
	struct iob_status st;
	const char *err = NULL;
	size_t i, j;
	int r = stats ? iob_stats_parse(s, &st, &err) : iob_status_parse(s, &st, &err);

	if (r) {
		check(err && *err, "error without a message");
		return;
	}
	check(strlen(st.devgroup) <= IOB_NAME_MAX, "devgroup");
	for (i = 0; i < st.n; i++) {
		check(st.g[i].id >= IOB_DEFAULT_GROUP, "group id");
		check(iob_status_group(&st, st.g[i].id) != NULL, "lookup");
		for (j = 0; j < i; j++)
			check(st.g[i].id != st.g[j].id, "duplicate group id");
	}
	iob_status_free(&st);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned int sel;
	char *buf;

	if (!size || size > FUZZ_MAX_INPUT)
		return 0;
	sel = data[0];
	buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (sel != 't' && sel != 's' && sel != 'S')
		sel = "tsS"[sel % 3];
	if (sel == 't')
		fuzz_table(buf);
	else
		fuzz_status(buf, sel == 'S');
	free(buf);
	return 0;
}
