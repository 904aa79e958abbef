# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Run ONE test and decide its verdict. Shared by the host runner (tests/run,
# bash) and the guest init (tests/guest/init, busybox sh), so that a test is
# judged the same way wherever it runs. Keep this file POSIX sh.
#
# Safe to source from scripts running with `set -euo pipefail`.
#
# Usage:
#   . tests/lib/harness.sh
#   harness_run_test GROUP/NNN /path/to/tests/GROUP/NNN RESULT_DIR CHECK_DMESG
#   -> sets HARNESS_STATUS (pass|fail|skip) and HARNESS_REASON, and writes
#      RESULT_DIR/GROUP/NNN.{stdout,stderr,full,dmesg,details}; the .details
#      file holds what a human needs to see for a failure (diff, output tail,
#      kernel splat).
#
# Conventions implemented here (docs/testing.md):
#   exit 0 pass; exit 77 skip (with a "SKIP: reason" line on stdout); anything
#   else fails; NNN.out, when present, must equal stdout; a test may declare
#   "# TIMEOUT=N" (seconds, default 300) near its top; with CHECK_DMESG=1 (the
#   guest) a kernel splat in dmesg during the test fails it.

HARNESS_DEFAULT_TIMEOUT=300
# Lines that mean the kernel is unhappy (blktests check:_check_dmesg, plus the
# lockup detectors).
# The debug kernel's checkers (tests/run --debug) mostly print "BUG:" or
# "WARNING:" first, but their own words are matched too, so that a report
# whose banner line is lost or reworded still fails the test: KASAN, lockdep
# (circular, recursive, inconsistent), RCU-lockdep, might_sleep, debugobjects
# (ODEBUG) and kmemleak (its scan's summary line; harness_kmemleak_check reads
# the report itself).
HARNESS_SPLAT_RE='BUG:|WARNING:|Oops|general protection|hung task|blocked for more than|soft lockup|rcu_sched self-detected stall|RCU stall|rcu: INFO|Call Trace'
HARNESS_SPLAT_RE="$HARNESS_SPLAT_RE"'|KASAN:|UBSAN:|possible circular locking dependency|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|ODEBUG:|kmemleak:.*suspected memory leak|unreferenced object 0x'
# Loading our unsigned out-of-tree module taints the kernel; that is expected.
HARNESS_SPLAT_ALLOW_RE='loading out-of-tree module taints kernel|module verification failed: signature'
# How many lines of output/dmesg go into a failure report.
HARNESS_TAIL=40

# harness_header FILE KEY VALUE_RE: print the value of the test's first
# "# KEY=value" line among its first 30 lines whose value matches the basic
# regular expression VALUE_RE (nothing if none): "# TIMEOUT=N" here,
# "# CONCURRENT=yes" in tests/run.
harness_header() {
	# One sed, no pipeline: callers may run with pipefail.
	sed -n "/^#[[:space:]]*$2=$3[[:space:]]*\$/{s/^#[[:space:]]*$2=//;s/[[:space:]]*\$//;p;q;}; 30q" "$1"
}

# harness_test_timeout FILE: print the test's timeout in seconds, taken from
# its "# TIMEOUT=N" header line (harness_header), times HARNESS_TIMEOUT_SCALE
# (default 1; the debug kernel runs several times slower: tests/run --debug).
harness_test_timeout() {
	_t=$(harness_header "$1" TIMEOUT '[0-9][0-9]*')
	echo $((${_t:-$HARNESS_DEFAULT_TIMEOUT} * ${HARNESS_TIMEOUT_SCALE:-1}))
}

# harness_drop_known FILE: the dmesg dump without the reports of a known
# bug outside ioband, each replaced by a line naming it. One so far:
# null_blk's bandwidth timer (mbps=), which null_handle_throttled() restarts
# with "if (!hrtimer_active()) hrtimer_restart()" from any CPU, unlocked:
# two submitters that both find it idle can enqueue it again while its
# callback runs, and the callback's hrtimer_forward() WARNs (6.12 and
# upstream alike; seen once, sched/007 in CI on 2026-12-06). Only a WARNING
# at hrtimer_forward whose call trace begins in nullb_bwtimer_fn is
# dropped; any other report in the same dump still counts.
harness_drop_known() {
	awk '
	function flush() {
		if (warn && first ~ /^nullb_bwtimer_fn\+/)
			print "harness: dropped a known null_blk report (bw_timer restart race, hrtimer_forward in nullb_bwtimer_fn)"
		else
			printf "%s", buf
		inb = 0; buf = ""; warn = 0; trace = 0; first = ""
	}
	/-+\[ cut here \]-+/ { if (inb) flush(); inb = 1 }
	!inb { print; next }
	{ buf = buf $0 "\n" }
	/WARNING: .* at kernel\/time\/hrtimer\.c:[0-9]+ hrtimer_forward\+/ { warn = 1 }
	trace && first == "" && /[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/ {
		for (i = 1; i <= NF; i++)
			if ($i ~ /\+0x/) { first = $i; break }
	}
	/Call Trace:/ { trace = 1 }
	/---\[ end trace [0-9a-f]+ \]---/ { flush() }
	END { if (inb) printf "%s", buf }
	' "$1"
}

# harness_emulator_int3 FILE: status 0 if the first oops of a console log
# is an "int3" trap at a byte that is no int3 (0xcc) in the code the oops
# dumps: the CPU executed a breakpoint its memory no longer holds. The
# kernel puts int3 there only while it patches a jump label or alternative
# (text_poke_bp()), and waits for every CPU before it writes the last
# byte, so no real CPU traps after that; qemu's TCG (7.2) now and then
# runs a translation made before the patch ended (Debian's 6.12: in
# sched_clock_cpu at boot, 12-05; in kmem_cache_free, mkdir's exit, during
# dm/013, 12-07). The "Code:" line marks the byte after the trap with
# <..>; the one before it is where the int3 was. A trap at a byte that
# still reads cc (a kprobe, a patch still in progress) does not match.
harness_emulator_int3() {
	awk '
	!oops && /Oops: / { if ($0 !~ /Oops: int3/) exit 1; oops = 1; next }
	oops && / Code: / {
		for (i = 2; i <= NF; i++)
			if ($i ~ /^<[0-9a-f][0-9a-f]>$/) {
				prev = $(i - 1)
				exit (prev ~ /^[0-9a-f][0-9a-f]$/ && prev != "cc") ? 0 : 1
			}
		exit 1
	}
	END { if (!oops) exit 1 }
	' "$1"
}

# harness_splats FILE: print the splat lines of a dmesg dump (none: status
# 1), known bugs outside ioband aside (harness_drop_known).
harness_splats() {
	harness_drop_known "$1" | grep -E "$HARNESS_SPLAT_RE" |
		grep -v -E "$HARNESS_SPLAT_ALLOW_RE"
}

# The kmemleak report file (debugfs); only a debug kernel has it.
HARNESS_KMEMLEAK=${HARNESS_KMEMLEAK:-/sys/kernel/debug/kmemleak}
# Seconds between the two scans after a test: kmemleak does not report an
# object younger than 5 s, and a second scan confirms the first's findings.
HARNESS_KMEMLEAK_GAP=${HARNESS_KMEMLEAK_GAP:-6}

# harness_kmemleak_manual: stop kmemleak's own scanning thread (its first
# scan comes a minute after boot, then one every 10 minutes); the harness
# scans after each test (harness_kmemleak_check).  Under TCG a scan of the
# debug kernel's memory can take the guest's CPU from the test that runs
# meanwhile (dm/013's rate checks failed in the two debug runs before it
# was off, and passed after).
harness_kmemleak_manual() {
	[ -w "$HARNESS_KMEMLEAK" ] || return 0
	echo scan=off >"$HARNESS_KMEMLEAK" 2>/dev/null || :
}

# harness_kmemleak_clear: forget leaks reported so far (boot, earlier tests).
harness_kmemleak_clear() {
	[ -w "$HARNESS_KMEMLEAK" ] || return 0
	echo clear >"$HARNESS_KMEMLEAK" 2>/dev/null || :
}

# harness_kmemleak_check OUT: scan twice, a few seconds apart, and write the
# report (unreferenced objects with their allocation backtraces) to OUT.
# Status 0 if there is a leak to report, 1 if none (or no kmemleak).
harness_kmemleak_check() {
	[ -w "$HARNESS_KMEMLEAK" ] || return 1
	echo scan >"$HARNESS_KMEMLEAK" 2>/dev/null || return 1
	sleep "$HARNESS_KMEMLEAK_GAP"
	echo scan >"$HARNESS_KMEMLEAK" 2>/dev/null || return 1
	cat "$HARNESS_KMEMLEAK" >"$1" 2>/dev/null || return 1
	harness_kmemleak_leaks "$1"
}

# harness_kmemleak_leaks FILE: status 0 if FILE (a kmemleak report) lists a
# leaked object.
harness_kmemleak_leaks() {
	grep -q '^unreferenced object 0x' "$1"
}

# harness_tail TITLE FILE: append the last lines of FILE, if any, to the
# current test's details with a header.
harness_tail() {
	if [ -s "$2" ]; then
		echo "--- $1 (last $HARNESS_TAIL lines)"
		tail -n "$HARNESS_TAIL" "$2"
	fi >>"$_details"
}

# harness_umount_under DIR: unmount whatever a test left mounted at or
# below DIR (deepest first), so that removing DIR cannot reach into a
# mounted file system.
harness_umount_under() {
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r _m; do
		umount "$_m" 2>/dev/null || umount -l "$_m" 2>/dev/null || :
	done
}

# harness_fail_also REASON: the test fails (also) for REASON: appended to
# a failure's reason, in place of a pass's or a skip's.
harness_fail_also() {
	if [ "$HARNESS_STATUS" = fail ]; then
		HARNESS_REASON="$HARNESS_REASON; $1"
	else
		HARNESS_REASON=$1
	fi
	HARNESS_STATUS=fail
}

harness_run_test() {
	_name=$1 _path=$2 _resdir=$3 _check_dmesg=${4:-0}
	_base=$_resdir/$_name
	_details=$_base.details
	mkdir -p "$(dirname "$_base")"
	: >"$_details"
	HARNESS_STATUS=fail
	HARNESS_REASON=

	_timeout=$(harness_test_timeout "$_path")
	_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ioband-test.XXXXXX")
	# busybox dmesg has no -C; -c (print and clear) works in both.
	if [ "$_check_dmesg" = 1 ]; then
		dmesg -c >/dev/null
		harness_kmemleak_clear
		# A mark in the kernel log: a dump or a console log then says
		# which test a report came in, and the check below that the
		# test's whole log is there.
		_mark="ioband-harness: test $_name"
		echo "$_mark" >/dev/kmsg 2>/dev/null || _mark=
	fi

	# A fresh scratch directory, the documented variables, and no stdin. The
	# timeout is coreutils' (also in the guest): it runs the test in its own
	# process group and kills the whole group, fio children included.
	_rc=0
	(
		cd "$_tmp" || exit 1
		exec env TEST_NAME="$_name" TEST_TMP="$_tmp" TEST_LOG="$_base.full" \
			timeout -k 10 "$_timeout" "$_path" </dev/null
	) >"$_base.stdout" 2>"$_base.stderr" || _rc=$?

	if [ "$_rc" -eq 124 ] || [ "$_rc" -eq 137 ]; then
		HARNESS_REASON="timed out after ${_timeout}s"
	elif [ "$_rc" -eq 77 ]; then
		HARNESS_STATUS=skip
		HARNESS_REASON=$(sed -n 's/^SKIP: //p' "$_base.stdout" | tail -n 1)
		[ -n "$HARNESS_REASON" ] || HARNESS_REASON="exit 77 without a SKIP: line"
	elif [ "$_rc" -ne 0 ]; then
		HARNESS_REASON="exit status $_rc"
	elif [ -f "$_path.out" ] && ! cmp -s "$_path.out" "$_base.stdout"; then
		HARNESS_REASON="output differs from ${_name##*/}.out"
		diff -u "$_path.out" "$_base.stdout" >"$_base.diff" || :
		{
			echo "--- diff -u ${_name##*/}.out stdout"
			sed -n '3,102p' "$_base.diff"
		} >>"$_details"
	else
		HARNESS_STATUS=pass
	fi
	if [ "$HARNESS_STATUS" = fail ] && [ ! -s "$_details" ]; then
		harness_tail stdout "$_base.stdout"
		harness_tail stderr "$_base.stderr"
		harness_tail "TEST_LOG $_base.full" "$_base.full"
	fi

	# A splat fails the test whatever it reported, skips included: the
	# kernel misbehaved while it ran.
	if [ "$_check_dmesg" = 1 ]; then
		if harness_kmemleak_check "$_base.kmemleak"; then
			harness_fail_also "kmemleak reported a leak"
			{
				echo "--- $HARNESS_KMEMLEAK after the test (first 80 lines)"
				sed -n '1,80p' "$_base.kmemleak"
			} >>"$_details"
		fi
		dmesg >"$_base.dmesg"
		# Without the mark the log was cleared (dmesg -c: tests use
		# kmsg_mark) or overran its buffer: a splat may be gone.
		if [ -n "$_mark" ] && ! grep -qF "$_mark" "$_base.dmesg"; then
			harness_fail_also "the kernel log lost the harness's mark during the test (cleared, or overran): its splat check is incomplete"
		fi
		if harness_splats "$_base.dmesg" >"$_base.splats"; then
			# The reason names the first splat line (without its
			# timestamp), so that a summary showing only the
			# FAIL lines still says what the kernel reported.
			_splat=$(sed -n '1s/^\[[ 0-9.]*\] *//p' "$_base.splats")
			harness_fail_also "kernel splat in dmesg: $_splat"
			{
				echo "--- splat lines in dmesg (first 20)"
				sed -n '1,20p' "$_base.splats"
				echo "--- dmesg during the test (last 80 lines)"
				tail -n 80 "$_base.dmesg"
			} >>"$_details"
		fi
	fi
	harness_umount_under "$_tmp"
	rm -rf "$_tmp"
}
