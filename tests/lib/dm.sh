# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the dm-ioband guest tests (groups dm, sched). Source after
# common.sh.

# ioband_cleanup: for `trap ioband_cleanup EXIT`: remove devices and disks,
# then unload dm-ioband so that the next test starts from a clean module.
ioband_cleanup() {
	set +e	# runs from a trap: one failure must not skip the rest
	# Background I/O would keep devices open and the module busy.
	# A killed fio exits only when its in-flight and held bios complete
	# (dm/011 holds 30 behind io_limit 1 on a 20 ms disk): wait up to 10 s.
	# A fio whose parent died (seen: fio segfaulting on SIGTERM under the
	# slow debug kernel) or that waits for I/Os it reaped already (fio_stop
	# in common.sh) is still there then: SIGKILL after 10 s.
	killall -q fio dd 2>/dev/null	# status 1 unless both were running
	local i
	for ((i = 0; i < 300; i++)); do
		grep -qsxE 'fio|dd' /proc/[0-9]*/comm || break
		((i == 100)) && killall -q -KILL fio dd 2>/dev/null
		sleep 0.1
	done
	if ((i == 300)); then	# say what keeps them, for the next look
		echo "ioband_cleanup: fio/dd still running after 30 s:" >&2
		ps -o pid,stat,wchan:32,comm -p "$(pgrep -d, -x 'fio|dd')" >&2
		dmsetup status >&2
	fi
	cleanup_all
	# A device stays open while a killed fio's AIO still has bios in it
	# (the iocbs hold the file): held bios drain at their group's rate,
	# slowly on the debug kernel.  Retry for 30 s, then say what is left.
	for ((i = 0; i < 60; i++)); do
		dmsetup ls 2>/dev/null | grep -qv '^No devices found' || break
		sleep 0.5
		cleanup_all
	done
	if ((i == 60)); then
		echo "ioband_cleanup: devices still there after 30 s:" >&2
		dmsetup info -c >&2
		dmsetup status >&2
	fi
	ioband_loaded && rmmod dm_ioband 2>/dev/null
	return 0
}

# ib_status_groups DEV: the per-group part of the status line, one group a
# line: "<id> <reads> <dreads> <rsect> <writes> <dwrites> <wsect>".
ib_status_groups() {
	dmsetup status "$1" | cut -d' ' -f5- | sed 's/ ext .*//' |
		awk '{ for (i = 1; i <= NF; i += 7) print $i, $(i+1), $(i+2), $(i+3), $(i+4), $(i+5), $(i+6) }'
}

# ib_status_ext DEV: the ext part of the status, "<id> <queued> <wait-us>"
# per group, without the device group's depth part after it.
ib_status_ext() {
	dmsetup status "$1" | sed -n 's/.* ext //; s/ depth .*//p'
}

# ib_held DEV: bios of DEV held in ioband now, all groups.
# One field a line, not awk's field loop: that took 13 s under TCG on the
# 200000 fields of 65537 groups (busybox awk), this 1.7 s.
ib_held() {
	ib_status_ext "$1" | tr ' ' '\n' | paste -d' ' - - - | cut -d' ' -f2 |
		{ grep -vx 0 || true; } | awk '{ s += $1 } END { print s + 0 }'
}

# ib_held_group DEV ID: bios of group ID (-1: the default group) of DEV
# held in ioband now.
ib_held_group() {
	ib_status_ext "$1" |
		awk -v id="$2" '{ for (i = 1; i <= NF; i += 3) if ($i == id) print $(i+1) }'
}

# ib_refused DEV: "<refused> <learned tags> <io_limit>" from DEV's status
# (0 0 N: none refused; below an LV, docs/dm-ioband.md).
ib_refused() {
	dmsetup status "$1" | awk '{
		r = 0; t = 0; d = 0
		for (i = 1; i <= NF; i++) {
			if ($i == "depth") d = $(i + 1)
			if ($i == "refused") { r = $(i + 1); t = $(i + 2) }
		}
		print r, t, d }'
}

# cg_make NAME: create /sys/fs/cgroup/NAME (a leaf) and print its cgroup
# id, the id the `cgroup` group type uses (the directory's inode number).
cg_make() {
	mkdir -p "/sys/fs/cgroup/$1"
	stat -c %i "/sys/fs/cgroup/$1"
}

# cg_remove_all NAME...: remove test cgroups (after their processes exited:
# call it after ioband_cleanup, which ends them).  Never fails: it runs in
# EXIT traps under set -e, where a failed rmdir (a cgroup still busy) ended
# the trap before ioband_cleanup, and a test that failed with fio running
# left its devices and the module to the next test.
cg_remove_all() {
	local n
	for n in "$@"; do
		if [[ -d /sys/fs/cgroup/$n ]]; then
			rmdir "/sys/fs/cgroup/$n" 2>/dev/null || true
		fi
	done
}

# fio_bg_in_cgroup NAME OUT FIO_ARGS...: start fio in the background inside
# cgroup NAME, terse v3 output to OUT; sets FIO_PID to the pid to wait for
# (not printed: a $(...) subshell would not be its parent). With FIO_GATE
# set to a path, fio starts only once that file exists (fio_gate_open), so
# that several groups start together: on a slow guest, starting four fio one
# after the other gives the first seconds alone that ramp_time may not cover.
fio_bg_in_cgroup() {
	local name=$1 out=$2
	shift 2
	(
		echo "$BASHPID" >"/sys/fs/cgroup/$name/cgroup.procs"
		if [[ -n ${FIO_GATE:-} ]]; then
			while [[ ! -e $FIO_GATE ]]; do sleep 0.02; done
		fi
		exec fio --output-format=terse --terse-version=3 --group_reporting=1 \
			--output="$out" "$@" >>"${TEST_LOG:-/dev/null}" 2>&1
	) &
	FIO_PID=$!
}

# fio_gate_open: let the fio started with FIO_GATE set begin.
fio_gate_open() {
	touch "$FIO_GATE"
}

# terse_iops FILE: read IOPS + write IOPS of the first job group in FILE.
terse_iops() {
	grep '^3;' "$1" | head -n 1 | awk -F';' '{ print $8 + $49 }'
}

# share_ok GOT_NUM GOT_TOTAL WEIGHT WEIGHT_TOTAL PCT: status 0 when the share
# GOT_NUM/GOT_TOTAL is within PCT percent (relative) of WEIGHT/WEIGHT_TOTAL.
share_ok() {
	awk -v n="$1" -v t="$2" -v w="$3" -v wt="$4" -v p="$5" 'BEGIN {
		if (t <= 0) exit 1
		s = n / t; want = w / wt; d = s - want; if (d < 0) d = -d
		exit !(d <= want * p / 100)
	}'
}

# share_pct N T: N/T as a percentage with one decimal.
share_pct() {
	awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", (t > 0 ? 100 * n / t : 0) }'
}

# ib_group_ios DEV ID: reads + writes completed so far by group ID of DEV.
ib_group_ios() {
	ib_status_groups "$1" | awk -v id="$2" '$1 == id { print $2 + $5 }'
}

# ib_snap DEV:ID...: one `dmsetup status` for all devices, parsed in bash
# (no awk): prints "<usecs> <ios of DEV:ID> ..." (reads + writes counted so
# far by group ID of DEV; usecs when the status was read). Under the debug
# kernel, with fio keeping the emulated CPU busy, every program started
# takes about a second (2026-12-03: ib_group_ios, four programs, took 2-4 s),
# so a window read with one program per device and group is seconds longer
# than its sleep, and its two ends are not one instant; one call reads them
# all at once.
ib_snap() {
	local line dev i t0 t1 out
	local -a _ibf
	local -A _ibios=()
	t0=${EPOCHREALTIME/./}
	out=$(dmsetup status) || return 1
	t1=${EPOCHREALTIME/./}
	while IFS= read -r line; do
		read -r -a _ibf <<<"$line"
		[[ ${_ibf[3]:-} == ioband ]] || continue
		dev=${_ibf[0]%:}
		for ((i = 5; i + 6 < ${#_ibf[@]}; i += 7)); do
			[[ ${_ibf[i]} != ext ]] || break
			_ibios[$dev:${_ibf[i]}]=$((_ibf[i + 1] + _ibf[i + 4]))
		done
	done <<<"$out"
	out=$(((t0 + t1) / 2))
	for i in "$@"; do
		[[ -n ${_ibios[$i]:-} ]] || { echo "ib_snap: no group $i in the status" >&2; return 1; }
		out+=" ${_ibios[$i]}"
	done
	echo "$out"
}

# ib_wait_ios DEV ID [SINCE [SECS]]: wait until group ID of DEV has more
# than SINCE (default 0) I/Os counted, i.e. a fio just started has issued:
# fio takes seconds to start under TCG (up to 7 s under the debug kernel,
# 2026-12-03), so a window opened a fixed time after starting it may see
# nothing of it. Status 1 if that has not happened after SECS (default 60).
ib_wait_ios() {
	local end=$((SECONDS + ${4:-60})) n
	while :; do
		n=$(ib_snap "$1:$2") || return 1
		((${n#* } > ${3:-0})) && return 0
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}
