// SPDX-License-Identifier: GPL-2.0
/*
 * kparse.c - the module's own parsers (dm-ioband/ioband-parse.c, built
 * here through ioband-compat.h, as tests/unit and tests/fuzz build it),
 * behind an interface free of kernel types: what iobandctl accepts as a
 * rate or a burst is what the module accepts, by the same code.  Kept in
 * its own file so that the compatibility header's macros (min, max, ...)
 * stay out of the rest of iobandctl.
 */
#include "ioband-parse.h"
#include "kparse.h"

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
