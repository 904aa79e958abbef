# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# ctlvm/lib.sh: common setup for the iobandctl guest tests.
. "$IOBAND_ROOT/tests/lib/common.sh"
export DM_DISABLE_UDEV=1
export IOBAND_STATE_DIR=$TEST_TMP/run
export IOBAND_TC=${IOBAND_TC:-$IOBAND_ROOT/tc-helpers/ioband-tc}

ctl_begin() {
	need_guest
	need_root
	need_cmd iobandctl dmsetup
	trap ctl_cleanup EXIT
	ioband_load
}

CTL_MOUNTS=()
ctl_cleanup() {
	set +e
	local m
	for m in "${CTL_MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	cleanup_all
	ioband_loaded && ioband_unload 2>/dev/null
	return 0
}

# ctl CMD...: iobandctl, failing the test on a non-zero status.
ctl() {
	log "iobandctl $*"
	iobandctl "$@" 2>>"${TEST_LOG:-/dev/null}" || fail "iobandctl $* failed (status $?)"
}

# ctl_status WANT CMD...: iobandctl expecting status WANT.
ctl_status() {
	local want=$1 rc=0
	shift
	log "iobandctl $* (want status $want)"
	iobandctl "$@" >>"${TEST_LOG:-/dev/null}" 2>&1 || rc=$?
	[[ $rc == "$want" ]] || fail "iobandctl $*: status $rc, want $want"
}

# tables: every dm device's table, sorted (to compare before/after).
tables() {
	dmsetup table 2>/dev/null | sort
}

# json_vals KEY: the values of "KEY": in iobandctl --json output on stdin,
# one a line, in order (the guest has no python or jq).
json_vals() {
	sed -n "s/^ *\"$1\": \\(.*\\),\\{0,1\\}\$/\\1/p" | sed 's/,$//; s/^"//; s/"$//'
}
