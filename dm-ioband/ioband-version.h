/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioband version: the one place it is set. The module's MODULE_VERSION,
 * `iobandctl --version` (userspace/Makefile reads this line), dkms.conf's
 * PACKAGE_VERSION and debian/changelog must agree (tests/pkg/001 checks).
 */
#ifndef IOBAND_VERSION_H
#define IOBAND_VERSION_H
#define IOBAND_VERSION "0.1.0"
#endif
