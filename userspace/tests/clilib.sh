# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# clilib.sh: checks shared by cli-test.sh and hook-test.sh. The caller sets
# BIN (the iobandctl binary) and T (a scratch directory) and starts with
# N=0 FAILS=0; each check adds to N, each failure to FAILS.
# shellcheck disable=SC2034  # OUT and ERR are for the caller

# tc_stub: $IOBAND_TC logs its arguments to $T/tc.log instead of running tc.
tc_stub() {
	cat >"$IOBAND_TC" <<TC
#!/bin/sh
echo "\$*" >>"$T/tc.log"
case "\$1" in show) echo '{"applied": true}';; esac
TC
	chmod +x "$IOBAND_TC"
}

# run WANT_STATUS CMD...: run, keep stdout/stderr in $OUT/$ERR.
run() {
	local want=$1 rc=0
	shift
	"$BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	N=$((N + 1))
	if [[ $rc != "$want" ]]; then
		echo "FAIL: iobandctl $*: exit $rc, want $want" >&2
		sed 's/^/  stdout: /' "$T/out" >&2
		sed 's/^/  stderr: /' "$T/err" >&2
		FAILS=$((FAILS + 1))
		return 1
	fi
}

# has WHAT TEXT PATTERN: TEXT contains the fixed string PATTERN.
has() {
	N=$((N + 1))
	if ! grep -qF -- "$3" <<<"$2"; then
		echo "FAIL: $1 lacks '$3':" >&2
		while IFS= read -r l; do echo "  | $l"; done <<<"$2" >&2
		FAILS=$((FAILS + 1))
	fi
}

same() {
	N=$((N + 1))
	if [[ $2 != "$3" ]]; then
		echo "FAIL: $1:" >&2
		diff <(echo "$3") <(echo "$2") | sed 's/^/  /' >&2
		FAILS=$((FAILS + 1))
	fi
}
