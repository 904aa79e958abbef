# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the torture group. Source after common.sh and dm.sh.
#
# A torture test starts verifying writers (tt_writer) on its members, runs
# storms (tt_storm) for TT_SECS seconds, stops them (tt_stop), then checks
# that every writer verified clean and that nothing is held or in flight
# (tt_quiet). Every dmsetup call of a storm runs under `timeout`: a call
# that hangs fails the test, with what the kernel says about blocked tasks.

# How long the storms run (seconds), and how long one step may take (60 s,
# times the harness's scale: under the debug kernel torture/002's joining
# member wrote and verified its 512 KiB at about 5 IOPS and was not done
# in 60 s, twice; a hang still never ends). The storms run longer by the
# same scale: torture/001's attach_detach storm did one round in 12 s under
# the debug kernel on a loaded host (it must do two).
TT_SECS=${TT_SECS:-$((12 * ${HARNESS_TIMEOUT_SCALE:-1}))}
TT_STEP_SECS=${TT_STEP_SECS:-$((60 * ${HARNESS_TIMEOUT_SCALE:-1}))}
TT_DIR=${TEST_TMP:-/tmp}/torture
mkdir -p "$TT_DIR"
TT_PIDS=()

# tt_cleanup: for `trap tt_cleanup EXIT`: stop everything we started.
tt_cleanup() {
	set +e
	touch "$TT_DIR/stop"
	local p
	for p in "${TT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[[ ! -s $TT_DIR/steps.log ]] || log "last step outputs:" "$(tail -n 20 "$TT_DIR/steps.log")"
	# A device left suspended would keep the writers (and cleanup) blocked.
	for p in $(dmsetup ls 2>/dev/null | awk '{ print $1 }'); do
		dmsetup info "$p" 2>/dev/null | grep -q SUSPENDED && dmsetup resume "$p"
	done
	ioband_cleanup
}

# tt_step WHAT CMD...: run CMD under the step timeout. A timeout is a hang:
# it is recorded in $TT_DIR/hang (the test fails) and the blocked tasks are
# dumped into the kernel log. Returns CMD's status (124 on a hang).
tt_step() {
	local what=$1 rc=0
	shift
	timeout -k 5 "$TT_STEP_SECS" "$@" >>"$TT_DIR/steps.log" 2>&1 || rc=$?
	if ((rc == 124 || rc == 137)); then
		echo "$what: '$*' did not return within ${TT_STEP_SECS}s" >>"$TT_DIR/hang"
		echo w >/proc/sysrq-trigger 2>/dev/null
	fi
	return "$rc"
}

# tt_writer NAME DEV [FIO_ARG...]: start a loop of fio runs on DEV, each
# writing the first 4 MiB at random with crc32c checksums and verifying
# them (also while writing: verify_backlog), until tt_stop. A run that
# fails is recorded in $TT_DIR/NAME.fail with fio's output.
tt_writer() {
	local name=$1 dev=$2
	shift 2
	(
		n=0
		while [[ ! -e $TT_DIR/stop ]]; do
			if ! fio --name="$name" --filename="$dev" --rw=randwrite --bs=4k --size=4M \
				--ioengine=libaio --iodepth=8 --direct=1 --verify=crc32c --do_verify=1 \
				--verify_fatal=1 --verify_backlog=64 --randseed=$((n + 1)) "$@" \
				>"$TT_DIR/$name.out" 2>&1; then
				cp "$TT_DIR/$name.out" "$TT_DIR/$name.fail"
				break
			fi
			n=$((n + 1))
			echo "$n" >"$TT_DIR/$name.runs"
		done
	) &
	TT_PIDS+=($!)
}

# tt_loader NAME DEV [FIO_ARG...]: like tt_writer, without verification and
# carrying on through I/O errors (for a member on a failing disk); the
# runs that met an error (fio's first error code, terse field 5) are
# counted in $TT_DIR/NAME.errors, one line each.
tt_loader() {
	local name=$1 dev=$2
	shift 2
	(
		n=0
		while [[ ! -e $TT_DIR/stop ]]; do
			fio --name="$name" --filename="$dev" --rw=randrw --bs=4k --size=4M \
				--ioengine=libaio --iodepth=8 --direct=1 --continue_on_error=all \
				--randseed=$((n + 1)) --output-format=terse --terse-version=3 "$@" \
				>"$TT_DIR/$name.out" 2>&1
			n=$((n + 1))
			echo "$n" >"$TT_DIR/$name.runs"
			awk -F';' '/^3;/ && $5 != 0 { print "error " $5 }' "$TT_DIR/$name.out" \
				>>"$TT_DIR/$name.errors"
		done
	) &
	TT_PIDS+=($!)
}

# tt_bad NAME WHAT: record a failure of storm NAME (the test fails on it).
tt_bad() {
	echo "$2" >>"$TT_DIR/$1.bad"
}

# tt_msg NAME DEV ARGS...: one message that must succeed (recorded as a
# failure of NAME otherwise, with its status).
tt_msg() {
	local name=$1 rc=0
	shift
	tt_step "$name" dmsetup message "$@" || rc=$?
	((rc == 0)) || tt_bad "$name" "dmsetup message $* -> $rc"
}

# tt_suspend_cycle DEV ROUND: suspend DEV (with --noflush in odd rounds)
# and resume it; both must succeed (recorded as failures of "suspend").
tt_suspend_cycle() {
	local nf=()
	(($2 % 2)) && nf=(--noflush)
	tt_step suspend dmsetup suspend "${nf[@]}" "$1" || tt_bad suspend "suspend ${nf[*]} $1 failed"
	sleep 0.3
	tt_step suspend dmsetup resume "$1" || tt_bad suspend "resume $1 failed"
	sleep 0.2
}

# tt_storm NAME CMD...: run CMD (a function doing one storm round; it is
# given the round number) again and again until tt_stop.
tt_storm() {
	local name=$1
	shift
	(
		i=0
		while [[ ! -e $TT_DIR/stop ]]; do
			"$@" "$i"
			i=$((i + 1))
		done
		echo "$i" >"$TT_DIR/$name.rounds"
	) &
	TT_PIDS+=($!)
}

# tt_check_held MIN_PERCENT DEV...: of the bios DEVs mapped (since each one's
# last reload: its counters start again then), at least MIN_PERCENT had to
# be held in ioband, as the tests say the storms meet held bios; logged
# either way. On 12-07 (Debian's 6.12): 70-93% (8944 of 10847 in 001,
# 6878 of 9808 in 002, 4931 of 5306 in 003, 9458 of 12288 in 004); the
# tests ask 25%. Not yet measured under the debug kernel: a failure there
# says the storms met few held bios, which is what it checks.
tt_check_held() {
	local min=$1 d ios held
	shift
	read -r ios held < <(for d in "$@"; do ib_status_groups "$d"; done |
		awk '{ i += $2 + $5; h += $3 + $6 } END { print i + 0, h + 0 }')
	log "held: $held of $ios bios mapped on $*"
	((ios > 0 && held * 100 >= ios * min)) ||
		fail "only $held of $ios bios mapped on $* were held (want $min%)"
}

# tt_run: let the storms run TT_SECS seconds, then stop everything and wait
# for the writers' last runs (bounded: a writer that cannot finish is a hang).
tt_run() {
	local p deadline
	sleep "$TT_SECS"
	touch "$TT_DIR/stop"
	deadline=$((SECONDS + TT_STEP_SECS * 2))
	for p in "${TT_PIDS[@]}"; do
		while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
		if kill -0 "$p" 2>/dev/null; then
			echo "a writer or storm (pid $p) still running $((TT_STEP_SECS * 2))s after the stop" >>"$TT_DIR/hang"
			echo w >/proc/sysrq-trigger 2>/dev/null
		fi
	done
	TT_PIDS=()
}

# tt_check_writers NAME...: each writer verified clean and ran at least once.
tt_check_writers() {
	local n
	for n in "$@"; do
		[[ ! -e $TT_DIR/$n.fail ]] || fail "writer $n failed: $(tail -n 20 "$TT_DIR/$n.fail")"
		[[ -s $TT_DIR/$n.runs ]] || fail "writer $n completed no run in ${TT_SECS}s"
		log "writer $n: $(cat "$TT_DIR/$n.runs") verified runs"
	done
}

# tt_check_hangs: no step hung.
tt_check_hangs() {
	[[ ! -s $TT_DIR/hang ]] || fail "hang: $(cat "$TT_DIR/hang")"
	return 0
}

# tt_rounds NAME: how many rounds storm NAME did.
tt_rounds() {
	cat "$TT_DIR/$1.rounds" 2>/dev/null || echo 0
}

# tt_quiet DEV...: nothing held in ioband (status: every group's queued-now
# is 0) and nothing in flight below dm (sysfs inflight) on each DEV.
tt_quiet() {
	local d held dm inflight
	for d in "$@"; do
		held=$(ib_held "$d")
		[[ $held == 0 ]] || fail "$d holds $held bios at the end: $(dmsetup status "$d")"
		dm=$(dmsetup info -c --noheadings -o major,minor "$d" | tr -d ' ')
		inflight=$(awk '{ print $1 + $2 }' "/sys/dev/block/$dm/inflight")
		[[ $inflight == 0 ]] || fail "$d ($dm) has $inflight bios in flight at the end"
	done
}
