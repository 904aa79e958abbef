# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# ctl/lib.sh: build the userspace test binaries (once; make is incremental).
# ctl_build: all of them (test-bins). ctl_build_only TARGET...: those of
# userspace/Makefile only (tc/006 needs tests/iobandctl-fake alone, and
# runs before the guest, where each binary's build is ~17 s of one CPU).
# Both set T.
# shellcheck disable=SC2034  # T is for the tests that source this
ctl_build_only() {
	local log=${TEST_LOG:-/dev/null}
	make -C "$IOBAND_ROOT/userspace" -j2 "$@" >>"$log" 2>&1 || {
		echo "make -C userspace $* failed:" >&2
		make -C "$IOBAND_ROOT/userspace" "$@" 2>&1 | grep -E 'error|warning' | head -20 >&2
		exit 1
	}
	T=$IOBAND_ROOT/userspace/tests
}

ctl_build() {
	ctl_build_only test-bins
}
