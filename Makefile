# SPDX-License-Identifier: GPL-2.0
#
# ioband top-level Makefile.
#
#   make                  build dm-ioband/dm-ioband.ko against KDIR, and userspace
#   make KDIR=/path       build the module against another kernel tree
#   make check            install test dependencies (as root), run every test
#                         but the torture and pkg groups and the harness fixtures
#   make check-torture    the concurrency torture group (tests/torture) in the guest
#   make check-debug      build the debug kernel (KASAN, lockdep, kmemleak; ~20+ min
#                         the first time, cached in build/debug-kernel) and run the
#                         dm, sched, ctlvm and torture groups under it
#   make demo             build, boot the bundled guest, show two weighted shares
#   make fuzz             build the libFuzzer targets (tests/fuzz), fuzz each
#                         for FUZZ_SECONDS (default 10); fails on a crash
#   make install          modules_install + userspace install (as root)
#   make deb              Debian packages ioband and ioband-dkms into build/deb/
#   make check-pkg        build, install, check and purge the packages (as root)
#   make clean            remove build outputs, but keep the debug kernel
#   make distclean        remove build/ whole, the debug kernel too
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

.PHONY: all module userspace check check-torture check-debug check-pkg unit fuzz \
	demo deb deps install modules_install install-userspace clean distclean style help

all: module userspace

help:
	@sed -n '3,24p' Makefile | sed 's/^# \{0,1\}//'

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

# The packages are built from a clean copy of the tree (the files git tracks
# or would track, without build outputs; outside git: all but build/) in
# build/deb/src; the .debs land in build/deb/.
deb:
	rm -rf build/deb
	mkdir -p build/deb/src
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z -co --exclude-standard | \
			tar --null -T - --ignore-failed-read -cf -; \
	else \
		tar --exclude=./build -cf - .; \
	fi | tar -xf - -C build/deb/src
	cd build/deb/src && nice -n 19 dpkg-buildpackage -b -us -uc
	ls build/deb/*.deb

# Installs into this machine's root, checks, purges (tests/pkg).
check-pkg: DEPS = check
check-pkg: deps
	tests/run pkg

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
	@# the debug kernel (build/debug-kernel*) takes 80 CPU-minutes to build
	find build -mindepth 1 -maxdepth 1 ! -name 'debug-kernel*' -exec rm -rf {} + 2>/dev/null || true

distclean: clean
	rm -rf build
