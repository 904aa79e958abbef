// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-parse.c - libFuzzer target: dm-ioband's table and message parser
 * (dm-ioband/ioband-parse.c, compiled as for tests/unit).
 *
 * Input: the first byte selects what the rest is:
 *   'T'          a table line (what follows "<start> <len> ioband")
 *   '0'..'5'     a message, the target's group type being that enum value
 *   other        bit 0 set: a table line; else a message of type (b>>1)%6
 * The rest is cut at the first NUL (dm core passes C strings) and split
 * into words the way dm_split_args() does (white space separates, a
 * backslash quotes the next character).
 *
 * Besides crashes, it aborts when an accepted line breaks the parser's
 * promises: ranges, unique group ids, argv handed back unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioband-parse.h"

#define FUZZ_MAX_INPUT 65536

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-parse: accepted input breaks: %s\n", what);
		abort();
	}
}

/* dm_split_args() in drivers/md/dm-table.c, without its allocation. */
static unsigned int split_args(char *s, char **argv, unsigned int max)
{
	unsigned int argc = 0;

	for (;;) {
		char *out, *end;

		while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
			s++;
		if (!*s || argc == max)
			break;
		argv[argc++] = out = end = s;
		for (; *end; end++) {
			if (*end == '\\' && end[1]) {
				*out++ = *++end;
				continue;
			}
			if (*end == ' ' || (*end >= '\t' && *end <= '\r'))
				break;
			*out++ = *end;
		}
		s = *end ? end + 1 : end;
		*out = '\0';
	}
	return argc;
}

static bool id_in_range(enum ioband_type type, u64 id)
{
	switch (type) {
	case IOBAND_TYPE_UID:
	case IOBAND_TYPE_GID:
		return id <= U32_MAX - 1;
	case IOBAND_TYPE_PID:
	case IOBAND_TYPE_PGRP:
		return id >= 1 && id <= IOBAND_PID_MAX;
	case IOBAND_TYPE_CGROUP:
		return id >= 1 && id <= (u64)LONG_MAX;
	default:
		return false;
	}
}

/* A copy of argv, to check that the parser hands it back unchanged. */
static char **argv_dup(unsigned int argc, char **argv)
{
	char **copy = calloc(argc + 1, sizeof(*copy));
	unsigned int i;

	if (!copy)
		abort();
	for (i = 0; i < argc; i++)
		copy[i] = strdup(argv[i]);
	return copy;
}

static void argv_check_free(unsigned int argc, char **argv, char **copy)
{
	unsigned int i;

	for (i = 0; i < argc; i++) {
		check(!strcmp(copy[i], argv[i]), "argv changed");
		free(copy[i]);
	}
	free(copy);
}

static void fuzz_table(unsigned int argc, char **argv)
{
	struct ioband_group_cfg *groups = calloc(argc + 1, sizeof(*groups));
	char **copy;
	struct ioband_table_cfg cfg = { .groups = groups };
	char *err = NULL;
	unsigned int i, j;
	int r;

	if (!groups)
		abort();
	copy = argv_dup(argc, argv);
	r = ioband_parse_table(argc, argv, &cfg, &err);
	argv_check_free(argc, argv, copy);
	if (r) {
		check(r == -EINVAL && err && *err, "error without a message");
		free(groups);
		return;
	}
	check(cfg.devgroup[0] && strlen(cfg.devgroup) <= IOBAND_NAME_MAX, "devgroup");
	check(cfg.io_throttle <= IOBAND_THROTTLE_MAX && cfg.io_limit <= IOBAND_THROTTLE_MAX,
	      "io_throttle/io_limit range");
	check(!cfg.io_throttle || !cfg.io_limit || cfg.io_throttle <= cfg.io_limit,
	      "io_throttle > io_limit");
	check(cfg.type < IOBAND_TYPE_NR && cfg.policy < IOBAND_POLICY_NR, "type/policy");
	check(cfg.token_base <= IOBAND_TOKEN_MAX, "token_base");
	check(cfg.default_weight >= IOBAND_WEIGHT_MIN && cfg.default_weight <= IOBAND_WEIGHT_MAX,
	      "default weight");
	check(cfg.nr_groups <= IOBAND_GROUPS_MAX && cfg.nr_groups + IOBAND_TABLE_FIXED_ARGS <= argc,
	      "group count");
	check(!cfg.nr_groups || cfg.type != IOBAND_TYPE_NONE, "groups on type none");
	for (i = 0; i < cfg.nr_groups; i++) {
		check(groups[i].weight >= IOBAND_WEIGHT_MIN && groups[i].weight <= IOBAND_WEIGHT_MAX,
		      "group weight");
		check(id_in_range(cfg.type, groups[i].id), "group id range");
		for (j = 0; j < i; j++)
			check(groups[i].id != groups[j].id, "duplicate group id");
	}
	free(groups);
}

static void fuzz_message(unsigned int argc, char **argv, enum ioband_type type)
{
	struct ioband_msg msg;
	char *err = NULL;
	char **copy = argv_dup(argc, argv);
	int r;

	r = ioband_parse_message(argc, argv, type, &msg, &err);
	argv_check_free(argc, argv, copy);
	if (r) {
		check(r == -EINVAL && err && *err, "error without a message");
		return;
	}
	switch (msg.verb) {
	case IOBAND_MSG_WEIGHT:
		check(msg.value >= IOBAND_WEIGHT_MIN && msg.value <= IOBAND_WEIGHT_MAX, "weight");
		break;
	case IOBAND_MSG_TOKEN:
		check(msg.value <= IOBAND_TOKEN_MAX, "token");
		break;
	case IOBAND_MSG_IO_THROTTLE:
	case IOBAND_MSG_IO_LIMIT:
		check(msg.value <= IOBAND_THROTTLE_MAX, "io_throttle/io_limit");
		break;
	case IOBAND_MSG_TYPE:
		check(msg.type < IOBAND_TYPE_NR, "type");
		break;
	case IOBAND_MSG_POLICY:
		check(msg.policy < IOBAND_POLICY_NR, "policy");
		break;
	default:
		break;
	}
	if (msg.has_id || msg.verb == IOBAND_MSG_ATTACH || msg.verb == IOBAND_MSG_DETACH)
		check(id_in_range(type, msg.id), "group id range");
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned int argc, sel;
	char *buf, **argv;

	if (!size || size > FUZZ_MAX_INPUT)
		return 0;
	sel = data[0];
	buf = malloc(size);
	argv = calloc(size, sizeof(*argv));
	if (!buf || !argv)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argc = split_args(buf, argv, size);
	if (sel == 'T' || (!(sel >= '0' && sel <= '5') && (sel & 1)))
		fuzz_table(argc, argv);
	else
		fuzz_message(argc, argv, sel >= '0' && sel <= '5' ? sel - '0' :
			     (sel >> 1) % IOBAND_TYPE_NR);
	free(argv);
	free(buf);
	return 0;
}
