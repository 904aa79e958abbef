// SPDX-License-Identifier: GPL-2.0
/* backend-fake.c - tests/iobandctl-fake: state in $IOBAND_FAKE_DM. */
#include "backend.h"

const struct backend_ops *backend_default(void)
{
	return &fake_backend;
}
