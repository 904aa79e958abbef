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
# tests check.
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

# replay DEV OUT FIRST LAST: device DEV made with the table of the line of
# tests/dm/OUT.out that begins with "FIRST: ", then that file's message
# lines up to the one that begins with LAST replayed on it (see above).
replay() {
	local dev=$1 out=$2 first=$3 last=$4 line dg m q why got want n=0
	local file=$OUTS/$out.out

	line=$(grep -m1 "^$first: " "$file") || { fail "$out.out has no line '$first: '"; return; }
	line=${line#"$first: "}
	dg=${line%% *}
	dmsetup create "$dev" --table "0 2048 ioband 8:16 $(unids <<<"$line")" || fail "$out: create $line"
	while IFS= read -r line; do
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
	((n >= 10)) || fail "$out: only $n lines replayed"
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

echo "fake-test: $((N - FAILS)) checks passed, $FAILS failed"
((FAILS == 0))
