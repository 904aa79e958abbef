// SPDX-License-Identifier: GPL-2.0
/*
 * fake-dmsetup - dmsetup's commands on the fake backend ($IOBAND_FAKE_DM),
 * for tests/ctl/007 (fake-test.sh), which runs what the guest tests run
 * against the module and compares the replies:
 *
 *   fake-dmsetup create|reload NAME --table "<start> <len> <type> <params>"
 *   fake-dmsetup suspend|resume|clear|remove NAME
 *   fake-dmsetup table|status NAME
 *   fake-dmsetup message [--] NAME 0 WORD...
 *   fake-dmsetup dmesg		(what the fake "module" logged, a line each)
 *
 * Exit status 1 when the fake refused, 2 on usage errors.
 */
#include "backend.h"
#include "util.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: fake-dmsetup create|reload NAME --table LINE | suspend|resume|clear|remove|table|status NAME | message [--] NAME 0 WORD... | dmesg\n");
	return 2;
}

/* "<start> <len> <type> <params>" */
static int tline(const char *s, struct dm_tline *t)
{
	unsigned long long start, len;
	char type[64];
	int n = 0;

	if (sscanf(s, "%llu %llu %63s %n", &start, &len, type, &n) != 3 || !n)
		return -1;
	t->start = start;
	t->len = len;
	t->type = xstrdup(type);
	t->params = xstrdup(s + n);
	return 0;
}

static int dmesg(void)
{
	json_object *st = json_object_from_file(getenv("IOBAND_FAKE_DM")), *k = NULL;
	size_t i;

	if (st && json_object_object_get_ex(st, "dmesg", &k))
		for (i = 0; i < json_object_array_length(k); i++)
			puts(json_object_get_string(json_object_array_get_idx(k, i)));
	json_object_put(st);
	return 0;
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[1], *name = argv[2];
	struct dm_tline t;
	struct dm_dev d;
	char *out = NULL;
	size_t i;
	int r;

	if (!strcmp(cmd, "create") || !strcmp(cmd, "reload")) {
		if (argc != 5 || strcmp(argv[3], "--table") || tline(argv[4], &t))
			return usage();
		r = !strcmp(cmd, "create") ? be->create(name, "", &t, 1) : be->reload(name, &t, 1);
		free(t.type);
		free(t.params);
		return !!r;
	}
	if (argc != 3)
		return usage();
	if (!strcmp(cmd, "suspend"))
		return !!be->suspend(name);
	if (!strcmp(cmd, "resume"))
		return !!be->resume(name);
	if (!strcmp(cmd, "clear"))
		return !!be->clear(name);
	if (!strcmp(cmd, "remove"))
		return !!be->remove(name);
	if (!strcmp(cmd, "table")) {
		if (be->get(name, &d))
			return 1;
		for (i = 0; i < d.nt; i++)
			printf("%llu %llu %s %s\n", (unsigned long long)d.t[i].start,
			       (unsigned long long)d.t[i].len, d.t[i].type, d.t[i].params);
		dm_dev_free(&d);
		return 0;
	}
	if (!strcmp(cmd, "status")) {
		if (be->get(name, &d) || be->status(name, &out))
			return 1;
		printf("%llu %llu %s %s\n", (unsigned long long)d.t[0].start,
		       (unsigned long long)d.t[0].len, d.t[0].type, out);
		free(out);
		dm_dev_free(&d);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	struct strbuf sb = { 0 };
	char *reply = NULL;
	int i, r;

	progname = "fake-dmsetup";
	be = &fake_backend;
	if (argc == 2 && !strcmp(argv[1], "dmesg"))
		return dmesg();
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "message")) {
		r = run(argc, argv);
		be->done();
		return r;
	}
	i = !strcmp(argv[2], "--") ? 3 : 2;
	if (argc < i + 3 || strcmp(argv[i + 1], "0"))
		return usage();
	for (r = i + 2; r < argc; r++)
		sb_addf(&sb, "%s%s", r > i + 2 ? " " : "", argv[r]);
	r = be->message(argv[i], sb.s, &reply);
	if (!r && reply && *reply)
		puts(reply);
	free(reply);
	sb_free(&sb);
	be->done();
	return !!r;
}
