// SPDX-License-Identifier: GPL-2.0
/* backend-dm.c - iobandctl proper uses libdevmapper and libcgroup. */
#include "backend.h"

const struct backend_ops *backend_default(void)
{
	return &dm_backend;
}
