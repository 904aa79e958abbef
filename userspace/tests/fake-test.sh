#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fake-test.sh FAKE-DMSETUP: the fake backend replies as the module does.
# The guest tests record the module's replies in tests/dm/*.out: the table
# after each message ("MSG: TABLE"), and for a refused message or table the
# reason the module logs ("'MSG': message VERB: WHY", "'TABLE': ioband:
# WHY").  Here the same messages and tables go to the fake, through
# fake-dmsetup (dmsetup's commands on the fake), and its tables and logged
# reasons must be those lines; then the status and stats parts the guest
# tests check, and the device groups' shared parameters.
set -uo pipefail

SHIM=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
OUTS=$HERE/../../tests/dm
T=$(mktemp -d /tmp/iobandctl-fake-XXXXXX)
trap 'rm -rf "$T"' EXIT
export IOBAND_FAKE_DM=$T/fake.json
FAILS=0 N=0
# shellcheck source=userspace/tests/clilib.sh
. "$HERE/clilib.sh"

dmsetup() { "$SHIM" "$@"; }
kmsg_mark() { KMSG=$("$SHIM" dmesg | wc -l); }
kmsg_since() { "$SHIM" dmesg | tail -n +$((KMSG + 1)); }
fail() {
	N=$((N + 1)) FAILS=$((FAILS + 1))
	echo "FAIL: $*" >&2
}

fresh() {
	echo '{ "disks": { "/dev/sdb": { "dev": "8:16", "size": 2097152 },
	                   "/dev/sdc": { "dev": "8:32", "size": 2097152 } } }' >"$IOBAND_FAKE_DM"
}

# The guest tests' cgroups, as they print them: A B C D (ids 11 to 14).
ids() { sed -E "s/(^|[ '])11([:=,]|$)/\1A\2/g; s/(^|[ '])12([:=,]|$)/\1B\2/g; s/(^|[ '])13([:=,]|$)/\1C\2/g; s/(^|[ '])14([:=,]|$)/\1D\2/g"; }
unids() { sed -E "s/(^| )A([:=,]|$)/\111\2/g; s/(^| )B([:=,]|$)/\112\2/g; s/(^| )C([:=,]|$)/\113\2/g; s/(^| )D([:=,]|$)/\114\2/g"; }
tbl() { dmsetup table "$1" | cut -d' ' -f5- | ids; }
msg() { local d=$1; shift; dmsetup message -- "$d" 0 "$@"; }
# send DEV TEXT: message TEXT (ids as the guest tests print them) to DEV,
# word by word as dmsetup takes it.
send() {
	local -a w
	read -ra w <<<"$(unids <<<"$2")"
	msg "$1" "${w[@]}"
}

# What the guest test did between two of its recorded lines, unrecorded.
declare -A PRE POST
PRE["type pid"]="detach 2000"
PRE["'attach 7' twice"]="attach 7"
PRE["'limit A:1m' under range-bw"]="policy range-bw"
POST["'limit A:1m' under range-bw"]="policy weight"

# replay DEV OUT FIRST LAST [MIN]: the message lines of tests/dm/OUT.out
# after the one that begins with "FIRST: ", up to the one that begins with
# LAST, replayed on DEV (see above), MIN (10) of them at least; DEV made
# first with FIRST's table, unless it exists.
replay() {
	local dev=$1 out=$2 first=$3 last=$4 min=${5:-10} line dg m q why got want n=0 started=
	local file=$OUTS/$out.out

	line=$(grep -m1 "^$first: " "$file") || { fail "$out.out has no line '$first: '"; return; }
	line=${line#"$first: "}
	dg=${line%% *}
	dmsetup table "$dev" >/dev/null 2>&1 ||
		dmsetup create "$dev" --table "0 2048 ioband 8:16 $(unids <<<"$line")" || fail "$out: create $line"
	while IFS= read -r line; do
		[[ -n $started || $line == "$first: "* ]] || continue
		started=1
		[[ $line != "$last"* ]] || break
		case $line in
		"'"*"'"*": message "*)
			m=${line%%: message *}
			why=${line#"$m: "}
			q=${m#\'}
			[[ -z ${PRE[$m]:-} ]] || send "$dev" "${PRE[$m]}"
			kmsg_mark
			n=$((n + 1))
			if send "$dev" "${q%%\'*}" 2>/dev/null; then
				fail "$out: $m accepted"
			else
				same "$out: $m refused" "$(kmsg_since | grep -o 'message .*' | head -n 1 | ids)" "$why"
			fi
			[[ -z ${POST[$m]:-} ]] || send "$dev" "${POST[$m]}"
			;;
		*": $dg "[0-9]*)
			m=${line%%": $dg "*}
			want=${line#"$m: "}
			[[ $m != "$first" ]] || continue
			[[ -z ${PRE[$m]:-} ]] || send "$dev" "${PRE[$m]}"
			n=$((n + 1))
			send "$dev" "$m" || { fail "$out: $m refused"; continue; }
			got=$(tbl "$dev")
			if [[ $want == *" (depth "*")" ]]; then
				got+=" (depth $(dmsetup status "$dev" | grep -o ' depth [0-9]* [a-z]*' | cut -d' ' -f4))"
			fi
			same "$out: $m" "$got" "$want"
			;;
		esac
	done <"$file"
	((n >= min)) || fail "$out: only $n lines replayed"
}

# refused_tables OUT PREFIX: each "'REST': ioband: WHY" line of
# tests/dm/OUT.out, a table "PREFIX REST" the module refused saying WHY:
# the fake refuses it, leaving no device, and logs the same.
refused_tables() {
	local out=$1 prefix=$2 line t n=0

	while IFS= read -r line; do
		[[ $line == "'"*"': ioband: "* ]] || continue
		t=${line#\'}
		t=${t%%"': ioband: "*}
		kmsg_mark
		n=$((n + 1))
		if dmsetup create ibx --table "0 2048 ioband 8:16 $prefix $(unids <<<"$t")" 2>/dev/null; then
			fail "$out: table '$t' accepted"
			dmsetup remove ibx
		else
			same "$out: table '$t' refused" "'$t': $(kmsg_since | grep -o 'ioband: .*' | head -n 1 | ids)" "$line"
		fi
	done <"$OUTS/$out.out"
	((n)) || fail "$out.out has no refused table"
	dmsetup table ibx >/dev/null 2>&1 && fail "$out: a refused table left a device"
}

# ---- dm/004: each message's table; malformed ones refused with the reason
fresh
replay m 004 start "table unchanged"
msg m detach 7
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"][0]["counters"] = {"-1": [0, 0, 0, 10, 0, 80, 0, 0]}
json.dump(s, open(sys.argv[1], "w"))
P
same "004: stats" "stats:
$(msg m stats | sed 's/^/  /')" "$(sed -n '/^stats:$/,/^after reset/p' "$OUTS/004.out" | sed '$d')"
msg m reset
same "004: status after reset" "after reset: $(dmsetup status m | cut -d' ' -f4-)" "$(grep '^after reset: ' "$OUTS/004.out")"

# ---- dm/012: range-bw's ranges; the policy keeps them and the weights
fresh
replay rb 012 table "table unchanged"
has "012: the limits part" "$(dmsetup status rb)" " limits -1 met 0 0 "
has "012: stats of a range" "$(msg rb stats | grep '^11 ')" " min_kbs=200 max_kbs=400 rsv=met rsv_lag_us=0 limited_us=0"
# weight_of ID: the weight range-bw gives group ID, from the stats
weight_of() { msg rb stats | awk -v id="$1" '$1 == id { sub("weight=", "", $2); print $2 }'; }
msg rb range-bw 13:2000000:0
same "012: a weight beside a large min (200 >> 6)" "$(weight_of 11)" 3
msg rb range-bw 13:0:0
same "012: the weight after the large min went" "$(weight_of 11)" 200
msg rb range-bw 13:2000000:0
msg rb detach 13
same "012: the weight after its group went" "$(weight_of 11)" 200
same "012: the weights are the mins" "$(weight_of 12)/$(weight_of -1)" "700/5"
msg rb attach 13
same "012: a min of 0 weighs 1" "$(weight_of 13)" 1
dmsetup remove rb
refused_tables 012 "rb 0 0 cgroup range-bw"

# ---- dm/013: reservations, limits and bursts beside the weights
fresh
replay rl 013 table "table unchanged"
msg rl policy weight
has "013: the limits part" "$(dmsetup status rl)" " limits -1 met 0 0 11 met 0 0 12 - 0 0"
# reset clears the counters, the time held and the sectors sent for the
# reservation, not the bios held now, the lag or an unmet reservation
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"][0]["counters"] = {"11": [4, 1, 32, 2, 1, 16, 3, 500, 1500, 2000, 1, 64],
                               "12": [7, 0, 56, 0, 0, 0, 0, 0]}
json.dump(s, open(sys.argv[1], "w"))
P
has "013: the sectors sent for a reservation" "$(msg rl stats | grep '^11 ')" " rsv=unmet rsv_lag_us=1500 limited_us=2000 rsv_sectors=64"
msg rl reset
st=$(dmsetup status rl)
has "013: reset: counters" "$st" " 11 0 0 0 0 0 0 12 0 0 0 0 0 0 ext "
has "013: reset: held now" "$st" " ext -1 0 0 11 3 0 12 0 0 depth "
has "013: reset: lag and state" "$st" " limits -1 met 0 0 11 unmet 1500 0 12 - 0 0"
has "013: reset: stats" "$(msg rl stats | grep '^11 ')" " rsv=unmet rsv_lag_us=1500 limited_us=0 rsv_sectors=0"
# a group detached and attached again starts from nothing
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"][0].setdefault("counters", {})["12"] = [7, 0, 56, 0, 0, 0, 0, 0]
json.dump(s, open(sys.argv[1], "w"))
P
msg rl detach 12
msg rl attach 12
has "013: attached again" "$(dmsetup status rl)" " 12 0 0 0 0 0 0 ext "
dmsetup remove rl
refused_tables 013 "rl 0 0 cgroup weight 0 :100"

# ---- device groups: the shared parameters (dm/013's device group
# limit, dm/025's pending reload, docs/dm-ioband.md "Device groups")
fresh
dmsetup create ib1 --table "0 2048 ioband 8:16 dgl 0 0 none weight,l=300iops 0 :100"
dmsetup create ib2 --table "0 2048 ioband 8:32 dgl 0 0 none weight 0 :100"
same "013: a member inherits the device group's limit" \
	"a member without ,l= inherits it: $(tbl ib2 | sed 's/l=300iops/l=<dcap>iops/')" \
	"$(grep '^a member without ,l= inherits it: ' "$OUTS/013.out")"
kmsg_mark
dmsetup create ib3 --table "0 2048 ioband 8:32 dgl 0 0 none weight,l=999iops 0 :100" 2>/dev/null &&
	fail "013: a member with another l= joined"
same "013: a member with another l= refused" \
	"'weight,l=999iops' beside l=<dcap>iops: $(kmsg_since | grep -o 'ioband: .*')" \
	"$(grep "^'weight,l=999iops' beside" "$OUTS/013.out")"
replay ib2 013 "a member without ,l= inherits it" "two members" 3
# what a joining member gives must be the device group's, or 0 / left out
join_refused() {	# REST WHY: "dgl REST" joining dgl beside ib1 and ib2
	kmsg_mark
	if dmsetup create ib3 --table "0 2048 ioband 8:32 dgl $1" 2>/dev/null; then
		fail "dgl $1 joined"
		dmsetup remove ib3
	else
		same "refused to join: dgl $1" "$(kmsg_since | grep -o 'ioband: .*')" "ioband: $2"
	fi
}
msg ib1 io_limit 32
msg ib2 token 512
same "a device group's io_limit and token on every member" "$(tbl ib1)|$(tbl ib2)" \
	"dgl 0 32 none weight,l=300iops 512 :100|dgl 0 32 none weight,l=300iops 512 :100"
join_refused "0 0 none weight-iosize,l=300iops 0 :100" "Device group already uses another policy (change it with the policy message) (-EINVAL)"
join_refused "8 0 none weight 0 :100" "io_throttle differs from the device group's (give 0 to inherit) (-EINVAL)"
join_refused "0 64 none weight 0 :100" "io_limit differs from the device group's (give 0 to inherit) (-EINVAL)"
join_refused "0 0 none weight 100 :100" "token_base differs from the device group's (give 0 to inherit) (-EINVAL)"
join_refused "0 0 none weight,l=0 0 :100" "The policy's l= differs from the device group's (leave it out to inherit) (-EINVAL)"
join_refused "0 0 none weight,l=300iops,b=600iops/5 0 :100" "The policy's b= differs from the device group's (leave it out to inherit) (-EINVAL)"
dmsetup create ib3 --table "0 2048 ioband 8:32 dgl 0 32 none weight 512 :100" || fail "a member giving the device group's own values refused"
dmsetup remove ib3
dmsetup create ib3 --table "0 2048 ioband 8:32 dgl 0 0 none weight 0 :100" || fail "a member giving 0 refused"
same "a joining member inherits the device group's values" "$(tbl ib3)" "dgl 0 32 none weight,l=300iops 512 :100"
msg ib3 policy weight-iosize,l=0
same "the policy message on every member" "$(tbl ib1)|$(tbl ib2)" \
	"dgl 0 32 none weight-iosize 512 :100|dgl 0 32 none weight-iosize 512 :100"
same "the shared io_limit's depth, no dglimit part without the limit" "$(dmsetup status ib1 | grep -o ' depth .*')" " depth 32 fixed 0 0"
# the bios the disk refused: the device group's figure; no tags learned
# with a fixed io_limit
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
[d for d in s["devices"] if d["name"] == "ib2"][0]["refused"] = [5, 9]
json.dump(s, open(sys.argv[1], "w"))
P
same "the refused part" "$(dmsetup status ib1 | grep -o ' depth .*')" " depth 32 fixed 0 0 refused 5 0"
msg ib1 io_limit 0
same "the refused part, automatic depth" "$(dmsetup status ib3 | grep -o ' depth .*')" " depth 192 auto 0 0 refused 5 9"
# dm/025: no member on (or under) another member of its device group
dmsetup create y --table "0 2048 ioband 8:16 g25 0 0 none weight 0"
kmsg_mark
dmsetup create x --table "0 2048 ioband /dev/mapper/y g25 0 0 none weight 0" 2>/dev/null &&
	fail "025: an ioband device on a member of its own device group was created"
has "025: on a member" "$(kmsg_since)" "ioband: The device is stacked on (or under) a member of its device group: give it another group (-EINVAL)"
dmsetup create x --table "0 2048 ioband /dev/mapper/y g25x 0 0 none weight 0" ||
	fail "025: an ioband device on one of another device group refused"
kmsg_mark
dmsetup reload y --table "0 2048 ioband 8:16 g25x 0 0 none weight 0" 2>/dev/null &&
	fail "025: an ioband device under a member of its device group was loaded"
has "025: under a member" "$(kmsg_since)" "stacked on (or under) a member of its device group"
# A reload of its device group's only member: no device joins until it
# resumes (it brings the shared parameters then).
dmsetup create p --table "0 2048 ioband 8:16 g25p 0 0 none weight 0"
dmsetup reload p --table "0 2048 ioband 8:16 g25p 0 0 none weight-iosize 0"
kmsg_mark
dmsetup create q --table "0 2048 ioband 8:32 g25p 0 0 none weight 0" 2>/dev/null &&
	fail "025: a device joined a device group whose other device had a reload pending"
has "025: no device joins a device group with a reload pending" "$(kmsg_since)" "has a reload pending"
dmsetup resume p
dmsetup create q --table "0 2048 ioband 8:32 g25p 0 0 none weight-iosize 0" ||
	fail "025: a device did not join after the pending reload's resume"
# a reload of a member beside another: nothing pending
dmsetup reload q --table "0 2048 ioband 8:32 g25p 0 0 none weight-iosize 0 :50"
dmsetup create r --table "0 2048 ioband 8:32 g25p 0 0 none weight-iosize 0" ||
	fail "a device did not join beside a reload of a member that is not alone"

echo "fake-test: $((N - FAILS)) checks passed, $FAILS failed"
((FAILS == 0))
