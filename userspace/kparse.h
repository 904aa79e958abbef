/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kparse.h - the module's rate and burst parsers (dm-ioband/ioband-parse.c)
 * for iobandctl.  0, or -EINVAL.
 */
#ifndef IOBAND_KPARSE_H
#define IOBAND_KPARSE_H

#include <stdbool.h>
#include <stdint.h>

/* "<n>iops", "<n>[k|m|g]" (bytes/s) or "0" (none) */
int iob_kparse_rate(const char *s, uint64_t *rate, bool *iops);
/* "<rate>/<secs>", or "0" (none: *rate 0) */
int iob_kparse_burst(const char *s, uint64_t *rate, bool *iops, unsigned int *secs);

#endif
