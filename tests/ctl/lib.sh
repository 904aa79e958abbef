# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# ctl/lib.sh: build the userspace test binaries (once; make is incremental).
# shellcheck disable=SC2034  # T is for the tests that source this
ctl_build() {
	local log=${TEST_LOG:-/dev/null}
	make -C "$IOBAND_ROOT/userspace" -j2 test-bins >>"$log" 2>&1 || {
		echo "make -C userspace test-bins failed:" >&2
		make -C "$IOBAND_ROOT/userspace" test-bins 2>&1 | grep -E 'error|warning' | head -20 >&2
		exit 1
	}
	T=$IOBAND_ROOT/userspace/tests
}
