# SPDX-License-Identifier: GPL-2.0
#
# ioband top-level Makefile.
#
#   make                  build dm-ioband/dm-ioband.ko against KDIR, and userspace
#   make KDIR=/path       build the module against another kernel tree
#   make check            install test dependencies (as root), run every test
#   make check-torture    the concurrency torture group (tests/torture) in the guest
#   make check-debug      build the debug kernel (KASAN, lockdep, kmemleak; ~20+ min
#                         the first time, cached in build/debug-kernel) and run the
#                         dm, sched, ctlvm and torture groups under it
#   make demo             build, boot the bundled guest, show two weighted shares
#   make fuzz             build the libFuzzer targets (tests/fuzz), fuzz each
#                         for FUZZ_SECONDS (default 10); fails on a crash
#   make install          modules_install + userspace install (as root)
#
# KDIR defaults to the running kernel's build tree; where that does not exist
# (a build host whose own kernel is not the target) to the newest installed
# Debian 6.12 cloud headers.

KVER_RUNNING := $(shell uname -r)
KDIR_DEFAULT := $(firstword $(wildcard /lib/modules/$(KVER_RUNNING)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-6.12*-cloud-amd64))))
KDIR ?= $(KDIR_DEFAULT)

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all module userspace check check-torture check-debug unit fuzz demo deps \
	install modules_install \
	install-userspace clean style help

all: module userspace

help:
	@sed -n '3,20p' Makefile | sed 's/^# \{0,1\}//'

module:
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { \
		echo "error: no kernel build tree: set KDIR=, or install linux-headers-6.12-cloud-amd64" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

userspace:
	$(MAKE) -C userspace

install: modules_install install-userspace

install-userspace: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

deps:
	scripts/install-deps $(DEPS)

# Userspace unit tests of the kernel-independent code (ASan + UBSan).
unit:
	$(MAKE) -C tests/unit run

# libFuzzer targets of every parser of untrusted text (clang; tests/fuzz).
FUZZ_SECONDS ?= 10
fuzz:
	$(MAKE) -C tests/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS)

check: DEPS = check
check: deps
	tests/run

check-torture: DEPS = check
check-torture: deps
	tests/run torture

check-debug: DEPS = debug
check-debug: deps
	tests/run --debug dm sched ctlvm torture

demo: DEPS = demo
demo: deps
	tests/demo

style:
	scripts/checkpatch

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C userspace clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/tools clean
	-$(MAKE) -C tests/fuzz clean
	rm -rf build
