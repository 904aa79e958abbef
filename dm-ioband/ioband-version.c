// SPDX-License-Identifier: GPL-2.0
/* MODULE_VERSION of dm-ioband, from ioband-version.h. */
#include <linux/module.h>
#include "ioband-version.h"

MODULE_VERSION(IOBAND_VERSION);
