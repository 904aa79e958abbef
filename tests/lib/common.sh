# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for ioband tests (bash). Source it at the top of a test:
#
#   #!/bin/bash
#   # TIMEOUT=120                 (optional, seconds; default 300)
#   set -euo pipefail
#   . "$IOBAND_ROOT/tests/lib/common.sh"
#   need_guest
#   trap cleanup_all EXIT
#
# Requirements skip (print "SKIP: reason", exit 77); broken behaviour fails.
# Helpers that create something print its path on stdout, so call them as
# `dev=$(nullb_create size=256)`: under `set -e` a failing helper then stops
# the test with its message on stderr.
#
# Disks: the guest has no real disk. A test disk is a null_blk device created
# through configfs (any size, optionally memory backed, optionally limited to
# a known bandwidth with mbps= or a known latency with completion_nsec=). null_blk
# cannot be partitioned, so partitioned_disk() writes a partition table to a
# memory-backed null_blk and exposes it through a direct-I/O loop device with
# partition scanning (losetup -P): /dev/loopNp1.. are real partitions whose
# I/O ends on the null_blk, so its bandwidth limit still applies.

NULLB_CONFIGFS=/sys/kernel/config/nullb

# The test's real stdout, kept so that skip() reaches the harness even when
# called inside $(...) (e.g. from partitioned_disk's need_cmd).
exec {_IOBAND_STDOUT}>&1

# skip REASON: a requirement is missing. Never use this to hide a failure.
skip() {
	echo "SKIP: $*" >&"$_IOBAND_STDOUT"
	exit 77
}

# fail MESSAGE: end the test as failed.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# log ARGS...: note something in the test's full log (not on stdout, which
# may be compared with a golden .out file).
log() {
	echo "$*" >>"${TEST_LOG:-/dev/null}"
}

# kmsg_mark: mark the kernel log; kmsg_since then prints what the kernel
# logged after the newest mark. Tests use these, never "dmesg -c": the
# harness reads the whole test's log for splats after it (and fails a test
# whose log was cleared meanwhile).
# (A mark is unique by the shell's pid and the time: a counter would repeat
# in each $(...) subshell.)
kmsg_mark() {
	KMSG_MARK="ioband-test: mark $BASHPID at $EPOCHREALTIME"
	echo "$KMSG_MARK" >/dev/kmsg
}

kmsg_since() {
	dmesg | awk -v m="${KMSG_MARK:?kmsg_since before kmsg_mark}" '
		seen; index($0, m) { seen = 1 }'
}

need_root() {
	[[ $(id -u) -eq 0 ]] || skip "needs root"
}

# need_cmd CMD...: skip unless every command is available.
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "command $c not available"
	done
}

# need_guest: skip unless running inside the tests/run qemu guest.
need_guest() {
	[[ -n ${IOBAND_GUEST:-} ]] || skip "runs in the tests/run guest only"
}

# need_target NAME: skip unless device-mapper target NAME is registered.
need_target() {
	dmsetup targets 2>/dev/null | grep -qw "^$1" || skip "dm target $1 not available"
}

# ---------------------------------------------------------------- module

# ioband_ko: print the path of the dm-ioband.ko built for this kernel.
ioband_ko() {
	[[ -n ${IOBAND_KO:-} ]] ||
		fail "IOBAND_KO is not set: dm-ioband tests must run in the guest (tests/run)"
	[[ -f $IOBAND_KO ]] ||
		fail "$IOBAND_KO does not exist: the module build failed (see build/module in the run output)"
	echo "$IOBAND_KO"
}

# ioband_load [PARAM=VALUE...]: insmod dm-ioband.ko. Tests load and unload it
# themselves (the guest init does not), so load/unload itself is testable.
# shellcheck disable=SC2120 # the parameters are optional
ioband_load() {
	local ko
	ko=$(ioband_ko)
	if ioband_loaded; then
		fail "dm-ioband is still loaded before insmod: an earlier test left it in use" \
			"(devices: $(dmsetup ls 2>&1 | tr '\n' ' '); see its log)"
	fi
	insmod "$ko" "$@" || fail "insmod $ko $* failed"
}

# ioband_unload: rmmod dm-ioband (fails while a device still uses it).
ioband_unload() {
	local mod
	mod=$(basename "$(ioband_ko)" .ko)
	rmmod "${mod//-/_}" || fail "rmmod ${mod//-/_} failed"
}

# ioband_loaded: status 0 when the module is loaded.
ioband_loaded() {
	local mod
	mod=$(basename "${IOBAND_KO:-dm-ioband.ko}" .ko)
	[[ -d /sys/module/${mod//-/_} ]]
}

# ---------------------------------------------------------------- disks

# nullb_create [ATTR=VALUE...]: create a null_blk disk via configfs and print
# its /dev path. ATTRs are null_blk configfs attributes; the useful ones:
#   size=MiB (default 256)  memory_backed=0|1 (default 0: reads return zeros)
#   mbps=MiB/s (bandwidth limit)  completion_nsec=N + irqmode=2 (fixed latency)
#   hw_queue_depth=N  blocksize=512|4096  submit_queues=N
nullb_create() {
	local i name attr
	if [[ ! -d $NULLB_CONFIGFS ]]; then
		modprobe null_blk nr_devices=0 >/dev/null 2>&1 || true
		[[ -d $NULLB_CONFIGFS ]] || fail "null_blk configfs ($NULLB_CONFIGFS) not available"
	fi
	# 6.12 names the disk after the configfs directory; 6.1 uses the lowest
	# free index. Choosing the lowest name free in both places makes the two
	# agree (checked below).
	for ((i = 0; ; i++)); do
		name=nullb$i
		[[ -e $NULLB_CONFIGFS/$name || -e /sys/block/$name ]] || break
	done
	mkdir "$NULLB_CONFIGFS/$name" || fail "mkdir $NULLB_CONFIGFS/$name failed"
	echo 256 >"$NULLB_CONFIGFS/$name/size"
	for attr in "$@"; do
		[[ $attr == *=* && -e $NULLB_CONFIGFS/$name/${attr%%=*} ]] ||
			fail "nullb_create: unknown null_blk attribute '$attr'"
		echo "${attr#*=}" >"$NULLB_CONFIGFS/$name/${attr%%=*}" ||
			fail "nullb_create: cannot set $attr"
	done
	echo 1 >"$NULLB_CONFIGFS/$name/power" || fail "nullb_create: power on $name failed"
	[[ -b /dev/$name ]] || fail "nullb_create: /dev/$name did not appear"
	log "nullb_create $name $*"
	echo "/dev/$name"
}

# nullb_remove /dev/nullbN: power off and delete one configfs null_blk disk.
nullb_remove() {
	local name=${1#/dev/}
	[[ -d $NULLB_CONFIGFS/$name ]] || return 0
	echo 0 >"$NULLB_CONFIGFS/$name/power" 2>/dev/null || true
	rmdir "$NULLB_CONFIGFS/$name" || fail "nullb_remove: cannot remove $name (still in use?)"
}

nullb_remove_all() {
	local d
	[[ -d $NULLB_CONFIGFS ]] || return 0
	for d in "$NULLB_CONFIGFS"/*/; do
		[[ -d $d ]] && nullb_remove "$(basename "$d")"
	done
	return 0
}

# partitioned_disk NPARTS PART_MIB [ATTR=VALUE...]: make a disk with NPARTS
# partitions of exactly PART_MIB MiB each (the first starts at 1 MiB), print
# the whole-disk device (/dev/loopN); partitions are /dev/loopNp1..pNPARTS.
# Extra ATTRs go to the underlying null_blk (e.g. mbps=40 for a disk of
# known bandwidth). The null_blk is memory backed (the partition table must
# survive), so keep NPARTS*PART_MIB well under the guest's 2 GiB of RAM
# if the test writes everywhere.
partitioned_disk() {
	local nparts=$1 part_mib=$2 nb loop label=dos i script
	shift 2
	need_cmd sfdisk losetup
	((nparts >= 1 && part_mib >= 1)) || fail "partitioned_disk: bad NPARTS/PART_MIB"
	# dos for up to 4 primaries; gpt beyond (its backup header needs the
	# spare MiB at the end).
	((nparts > 4)) && label=gpt
	nb=$(nullb_create size=$((nparts * part_mib + 2)) memory_backed=1 "$@")
	script="label: $label"$'\n'
	for ((i = 0; i < nparts; i++)); do
		script+="start=$((2048 + i * part_mib * 2048)), size=$((part_mib * 2048)), type=83"$'\n'
	done
	# null_blk itself cannot hold partitions, so do not ask it to re-read.
	echo -n "$script" | sfdisk --no-reread --no-tell-kernel -q "$nb" >>"${TEST_LOG:-/dev/null}" 2>&1 ||
		fail "partitioned_disk: sfdisk on $nb failed"
	loop=$(losetup -f --show -P --direct-io=on "$nb") ||
		fail "partitioned_disk: losetup -P on $nb failed"
	for ((i = 0; i < 50; i++)); do
		[[ -b ${loop}p$nparts ]] && break
		sleep 0.1
	done
	[[ -b ${loop}p$nparts ]] || fail "partitioned_disk: ${loop}p$nparts did not appear"
	log "partitioned_disk $loop on $nb: $nparts x $part_mib MiB"
	echo "$loop"
}

# sectors DEV: size of a block device in 512-byte sectors.
sectors() {
	blockdev --getsz "$1"
}

# dm_remove_all: remove every device-mapper device (the guest has no others).
dm_remove_all() {
	dmsetup remove_all >/dev/null 2>&1 || dmsetup remove_all -f >/dev/null 2>&1 || true
	! dmsetup ls 2>/dev/null | grep -qv '^No devices found'
}

# cleanup_all: tear down everything the helpers create, in dependency order:
# dm devices, loop devices, null_blk disks. Meant for `trap cleanup_all EXIT`
# in guest tests; never fails (it runs from a trap).
cleanup_all() {
	set +e
	dm_remove_all
	losetup -D >/dev/null 2>&1
	nullb_remove_all >/dev/null 2>&1
	return 0
}

# ---------------------------------------------------------------- fio

# run_fio FIO_ARGS...: run fio with terse (v3) output, one line per job group
# (group_reporting is forced), into $FIO_TERSE (default $TEST_TMP/fio.terse).
# fio's own chatter goes to $TEST_LOG; on failure its output is shown.
run_fio() {
	local out=${FIO_TERSE:-${TEST_TMP:-/tmp}/fio.terse} rc=0
	log "fio $*"
	fio --output-format=terse --terse-version=3 --group_reporting=1 \
		--output="$out" "$@" >>"${TEST_LOG:-/dev/null}" 2>&1 || rc=$?
	if ((rc != 0)); then
		echo "fio failed (status $rc): fio $*" >&2
		cat "$out" >&2 2>/dev/null
		return "$rc"
	fi
}

# dmsetup remove, retried for a few seconds while the device is busy
# (dmsetup --retry): a fio that fio_stop ended with SIGKILL, or whose job
# process exited with AIO in flight, leaves the device's last reference to
# the completion, dropped a moment later from a workqueue (CI, 2026-12-06:
# dm/013's "dmsetup remove ib1" failed with EBUSY right after fio_stop).
# A device that stays open fails all the same, after the retries.
dmsetup() {
	if [[ ${1:-} == remove && ${2:-} != --* ]]; then
		command dmsetup remove --retry "${@:2}"
	else
		command dmsetup "$@"
	fi
}

# fio_stop: end every fio running in the background and wait until they are
# gone.  SIGTERM first: fio then waits for its I/O and closes the devices
# itself, so that they can be removed at once.  But fio 3.33 (Debian 12)
# reaps its last I/Os with io_getevents(min_nr = all in flight), and when
# the signal interrupts that call after it got some, asks again for all of
# them and waits forever (fixed in fio 3.35, axboe/fio#1556); slow I/O (a
# limit, a low depth) makes that likely (dm/013: a fio job in read_events
# with nothing left in ioband or below it).  A fio still there after 10 s
# gets SIGKILL: by then its I/O has completed, so the kill closes its files
# at once too (a SIGKILL with AIO in flight leaves the last reference to
# the device to the completion, which drops it later from a workqueue: the
# device is still open for a moment after fio has gone).
fio_stop() {
	killall -q fio 2>/dev/null || true
	fio_gone 10 || { killall -q -KILL fio 2>/dev/null || true; fio_gone_killed; }
	wait 2>/dev/null || true
}

# fio_kill PID...: end the fio processes PID (as started with `fio ... &`;
# fio forwards the signal to its job processes) as fio_stop does.
fio_kill() {
	local p all=()
	for p in "$@"; do
		# shellcheck disable=SC2207 # pids, one word each
		all+=("$p" $(cat /proc/"$p"/task/*/children 2>/dev/null || true))
	done
	kill "$@" 2>/dev/null || true
	fio_gone 10 "${all[@]}" || {
		kill -KILL "${all[@]}" 2>/dev/null || true
		fio_gone_killed "${all[@]}"
	}
	wait "$@" 2>/dev/null || true
}

# fio_gone SECS [PID...]: wait up to SECS seconds until no fio process (or
# none of PID) is left but zombies.  Status 1 otherwise, with the pids
# left in FIO_LEFT.
fio_gone() {
	local p left secs=$1
	local end=$((${EPOCHREALTIME/./} + secs * 1000000))
	shift
	while :; do
		left=""
		if (($#)); then
			for p in "$@"; do
				[[ $(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) == [!Z]* ]] && left+=" $p"
			done
		else
			left=$(awk '$2 == "(fio)" && $3 != "Z" { print $1 }' /proc/[0-9]*/stat 2>/dev/null || true)
		fi
		[[ -z $left ]] && return 0
		((${EPOCHREALTIME/./} < end)) || break
		sleep 0.1
	done
	FIO_LEFT=$left
	return 1
}

# fio_gone_killed [PID...]: fio_gone for 30 s after SIGKILL; what is still
# there then is named on stderr.
fio_gone_killed() {
	fio_gone 30 "$@" && return 0
	echo "fio still running 30 s after SIGKILL:$FIO_LEFT" >&2
	return 1
}

# fio_field NAME [LINE] [FILE]: print one field of run_fio's terse output.
# LINE is the 1-based job group (default 1). NAMEs: jobname error read_kb
# read_bw (KiB/s) read_iops read_runtime_ms write_kb write_bw write_iops
# write_runtime_ms.
fio_field() {
	local col line=${2:-1} file=${3:-${FIO_TERSE:-${TEST_TMP:-/tmp}/fio.terse}}
	case "$1" in
	jobname) col=3 ;;
	error) col=5 ;;
	read_kb) col=6 ;;
	read_bw) col=7 ;;
	read_iops) col=8 ;;
	read_runtime_ms) col=9 ;;
	write_kb) col=47 ;;
	write_bw) col=48 ;;
	write_iops) col=49 ;;
	write_runtime_ms) col=50 ;;
	*) fail "fio_field: unknown field $1" ;;
	esac
	grep '^3;' "$file" | sed -n "${line}p" | cut -d';' -f"$col"
}
