#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli-test.sh IOBANDCTL-FAKE: the command line of iobandctl on the fake
# backend: usage errors and exit codes, apply/dry-run/re-apply, rollback,
# create/remove, group, insert/eject, status --json, cgroup id; min, max
# and burst through apply (messages, status, top), capacity (check, and
# apply's estimate from the status); user text and names from the system
# quoted in what is printed; a range-bw device's status and top.
set -uo pipefail

BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/iobandctl-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
export IOBAND_FAKE_DM=$T/fake.json IOBAND_CGROUP_ROOT=$T/cg IOBAND_STATE_DIR=$T/run
# sysfs as iobandctl reads it for wbt below ioband: no disks (tests say)
export IOBAND_SYSFS=$T/sys
export IOBAND_TC=$T/ioband-tc
unset IOBAND_FAIL_AT
FAILS=0 N=0
# shellcheck source=userspace/tests/clilib.sh
. "$HERE/clilib.sh"
tc_stub

mkdir -p "$T/cg/machine.slice/g1"

fresh() {
	cat >"$IOBAND_FAKE_DM" <<'J'
{ "disks": { "/dev/sdb": { "dev": "8:16", "size": 2097152 },
             "/dev/sdc": { "dev": "8:32", "size": 1048576 } },
  "devices": [ { "name": "vg-lv", "uuid": "LVM-abc", "minor": 0, "open": 1,
                 "table": [ [0, 1024, "linear", "8:32 2048"], [1024, 1024, "linear", "8:32 8192"] ] } ],
  "next_minor": 1 }
J
	rm -rf "$IOBAND_STATE_DIR" "$T/tc.log"
}

fresh
# ---- usage errors: exit 2 and the command's usage line
run 2
has "no command" "$ERR" "usage: iobandctl [-v] COMMAND [ARGS]"
run 2 frobnicate
same "unknown command" "$ERR" "iobandctl: unknown command \"frobnicate\"
Try 'iobandctl --help'."
# User text in messages: control characters escaped, never sent as such.
run 2 $'frob\e[2J\n'
same "unknown command: escaped" "$ERR" 'iobandctl: unknown command "frob\x1b[2J\x0a"
Try '"'iobandctl --help'."
run 2 create x /dev/sdb $'--gr\x9boup=1'
has "unknown option: escaped" "$ERR" 'iobandctl: create: unknown option "--gr\x9boup"'
run 2 create x /dev/sdb --group $'a\rb'
has "bad --group: escaped" "$ERR" 'iobandctl: create: --group: "a\x0db": use 1..31'
# '"' and a '\' that would read as an escape are escaped too: one reading
run 2 create x /dev/sdb --group "a\"b\\x1b\\"
has "bad --group: quote and backslash escaped" "$ERR" 'iobandctl: create: --group: "a\"b\\x1b\\": use 1..31'
run 1 status $'nosuch\e]0;x\a'
same "no such device: escaped" "$ERR" 'iobandctl: "nosuch\x1b]0;x\x07": no such device'
run 2 creat x /dev/sdb
has "prefix is not a command" "$ERR" 'unknown command "creat"'
run 2 create onlyname
same "missing args" "$ERR" "iobandctl: create: missing arguments
usage: iobandctl create NAME DEVICE [--group ID] [--type T] [--policy P] [--weight W] [--io-throttle N] [--io-limit N] [--token N] [--dry-run]
Try 'iobandctl create --help'."
run 2 remove a b
has "too many" "$ERR" "iobandctl: remove: too many arguments"
run 2 create x /dev/sdb --weight 0
has "bad weight" "$ERR" "iobandctl: create: --weight: must be 1..32767"
run 2 create x /dev/sdb --weight 010
has "weight with a leading zero" "$ERR" 'iobandctl: create: --weight: "010": no leading zeros (octal to some readers, decimal to others)'
run 2 create x /dev/sdb --type node
has "bad type" "$ERR" "--type: none, uid, user, gid, pid, pgrp or cgroup"
run 2 create x /dev/sdb --polcy weight
has "unknown option" "$ERR" 'iobandctl: create: unknown option "--polcy"'
run 2 create x /dev/sdb --weight
has "missing value" "$ERR" "--weight needs a value"
run 2 create x /dev/sdb --weight 5 --weight 6
has "twice" "$ERR" "--weight given twice"
# A value-taking option never takes the next option as its value: nothing
# changes (the flag would otherwise be lost: a dry run made real).
before=$(cat "$IOBAND_FAKE_DM")
run 2 insert vg-lv --group --dry-run
same "option as a value" "$ERR" "iobandctl: insert: --group needs a value
usage: iobandctl insert DMDEV [--group ID] [--type T] [--policy P] [--weight W] [--io-throttle N] [--io-limit N] [--token N] [--dry-run]
Try 'iobandctl insert --help'."
run 2 create x /dev/sdb --group --dry-run
has "option as a value (create)" "$ERR" "iobandctl: create: --group needs a value"
run 2 create x /dev/sdb --group -x --dry-run
has "value like an option" "$ERR" "--group needs a value"
run 2 create x /dev/sdb --group=-x --dry-run
has "group id starting with -" "$ERR" 'iobandctl: create: --group: "-x": use 1..31 of A-Z a-z 0-9 _ . + - (not first . or -)'
run 2 create x /dev/sdb --group 'a b'
has "group id with a space" "$ERR" '--group: "a b": use 1..31'
# NAME as the host file's names, within device-mapper's limits (dm refuses
# '/'; the uuid IOBAND-ctl-NAME has 128 characters at most)
run 2 create a/b /dev/sdb --dry-run
has "name with /" "$ERR" 'iobandctl: create: NAME "a/b": use 1..117 of A-Z a-z 0-9 _ . + - (not first . or -)'
run 2 create '' /dev/sdb
has "empty name" "$ERR" 'iobandctl: create: NAME "": use 1..117'
run 2 create control /dev/sdb --dry-run
has "control" "$ERR" "NAME \"control\" is device-mapper's control node"
run 2 create "$(printf 'n%.0s' {1..118})" /dev/sdb --group g --dry-run
has "name too long" "$ERR" "use 1..117 of"
run 0 create "$(printf 'n%.0s' {1..117})" /dev/sdb --group g --dry-run
run 2 create a-name-of-32-characters-xxxxxxxx /dev/sdb --dry-run
has "name as group" "$ERR" "a-name-of-32-characters-xxxxxxxx is no device-group id (1..31 of A-Z a-z 0-9 _ . + -, not first . or -): give --group"
run 2 top --interval --count 1
has "numeric option" "$ERR" "--interval needs a value"
same "nothing changed by usage errors" "$(cat "$IOBAND_FAKE_DM")" "$before"
run 2 status --json=1
has "flag value" "$ERR" "--json takes no value"
run 2 group
has "group alone" "$ERR" "iobandctl: group: missing subcommand"
has "group alone lists" "$ERR" "usage: iobandctl group add NAME ID [weight=W]"
run 2 group frob x 1
has "group unknown" "$ERR" 'iobandctl: group: unknown subcommand "frob"'
run 2 cgroup
has "cgroup alone" "$ERR" "usage: iobandctl cgroup id PATH"
run 2 top --interval 0
has "interval" "$ERR" "--interval: 0.05..3600 seconds"
run 2 top --count 0
has "count 0" "$ERR" "--count: 1..4294967295"
# the range the message gives (it said "a number >= 1" of 4294967296 too)
run 2 top --count 4294967296
has "count above 2^32-1" "$ERR" "iobandctl: top: --count: 1..4294967295"
run 2 top --interval 0x1 --count 1
has "interval in hex" "$ERR" "--interval: 0.05..3600 seconds"
run 2 --version extra
same "version with an argument" "$ERR" "iobandctl: --version takes no arguments
Try 'iobandctl --help'."
run 2 -x status
has "global option" "$ERR" 'unknown option "-x"'
# ---- help: exit 0 on stdout
run 0 --help
has "help" "$OUT" "  apply FILE [--dry-run [--json]] [--quiet]"
run 0 apply --help
has "apply --help" "$OUT" "usage: iobandctl apply FILE"
run 0 help group add
has "help group add" "$OUT" "usage: iobandctl group add NAME ID [weight=W]"
run 0 group --help
has "group --help" "$OUT" "usage: iobandctl group remove NAME ID"
run 2 help nosuch
# help of a command family: as "group --help", on stdout
run 0 help group
same "help group" "$OUT" "usage: iobandctl group add NAME ID [weight=W]
usage: iobandctl group set NAME ID|default weight=W
usage: iobandctl group remove NAME ID"
same "help group: no error" "$ERR" ""
run 0 help cgroup
has "help cgroup" "$OUT" "usage: iobandctl cgroup id PATH"
run 2 help group frob
has "help group frob" "$ERR" 'iobandctl: group: unknown subcommand "frob"'
run 2 help create extra
has "help create extra" "$ERR" 'iobandctl: help: create takes no subcommand "extra"'
# every command in the table has a --help
for c in create remove insert eject "group add" "group set" "group remove" status top apply check "cgroup create" "cgroup id" help; do
	# shellcheck disable=SC2086
	run 0 $c --help && has "$c --help" "$OUT" "usage: iobandctl $c"
done

# ---- apply: invalid file (3), dry run, apply, re-apply, edit
run 3 apply "$HERE/bad/03-disk-weight-range.yaml"
same "bad file" "$ERR" "$HERE/bad/03-disk-weight-range.yaml:16: guests[1].disks[0].weight: must be 1..32767"
run 3 check "$HERE/bad/19-cgroup-missing.yaml"
run 3 check "$HERE/bad/77-dm-name-too-long.yaml"
has "dm name too long" "$ERR" "guests[0].disks[0].name: guest name and disk name are too long for the device name ioband-"
run 3 apply "$T/nonexistent.yaml"
has "missing file" "$ERR" "nonexistent.yaml: No such file or directory"
run 3 check "$T"
same "directory" "$ERR" "$T: Is a directory"
# Input without end: refused at 16 MiB (it was read until memory ran out).
run 3 check /dev/zero
same "endless file" "$ERR" "/dev/zero: larger than 16 MiB: not a host file"
cat >"$T/host.yaml" <<'Y'
version: 1
devices:
  - {name: shared, device: /dev/sdb, type: cgroup}
guests:
  - name: g1
    cgroup: machine.slice/g1
    disks:
      - {ioband: shared, weight: 300}
      - {name: data, device: /dev/sdc, device-group: shared, weight: 50}
    interfaces:
      - {name: vnet0, mac: "52:54:00:00:00:01", weight: 4}
network: {uplink: eth0, rate: 1gbit}
Y
CG=$(stat -c %i "$T/cg/machine.slice/g1")
run 0 cgroup id machine.slice/g1
same "cgroup id" "$OUT" "$CG"
run 0 cgroup id "$T/cg/machine.slice/g1"
same "cgroup id (absolute)" "$OUT" "$CG"
run 1 cgroup id machine.slice/none
# ... spelled as the host file may spell it: the same cgroup
run 0 cgroup id /machine.slice//g1/
same "cgroup id (doubled and trailing slashes)" "$OUT" "$CG"
run 0 cgroup id "${T%/*}//${T##*/}/cg//machine.slice/g1"
same "cgroup id (the mount spelled with doubled slashes)" "$OUT" "$CG"
run 2 cgroup id "${T#/}/cg"
has "cgroup id of the mount, written relative" "$ERR" "is the cgroup v2 mount"
run 2 cgroup id sys/fs/cgroup/machine.slice/g1
has "cgroup id below another mount" "$ERR" "is not below the cgroup v2 mount"
# cgroup paths by the host file's rule: below the root, no "..", not empty
run 2 cgroup id ../../../etc
same "cgroup id outside the root" "$ERR" "iobandctl: cgroup id: cgroup \"../../../etc\": must be a cgroup below the root, without . or .. (e.g. machine.slice/web1)
usage: iobandctl cgroup id PATH
Try 'iobandctl cgroup id --help'."
run 2 cgroup id "$T/cg"
has "cgroup id of the root" "$ERR" "must be a cgroup below the root"
run 2 cgroup create ../escape
has "cgroup create outside the root" "$ERR" 'cgroup "../escape": must be a cgroup below the root'
[[ ! -e $T/escape ]] || { echo "FAIL: cgroup create made $T/escape" >&2; FAILS=$((FAILS + 1)); }
run 2 cgroup create '' $$
has "cgroup create of the root" "$ERR" 'cgroup "": must be a cgroup below the root'
[[ ! -e $T/cg/cgroup.procs ]] || { echo "FAIL: cgroup create moved a pid into the root" >&2; FAILS=$((FAILS + 1)); }
run 2 cgroup create machine.slice/./x
# One cgroup spelled two ways is one cgroup: created once, by its one name.
cat >"$T/twice.yaml" <<'Y'
guests:
  - {name: a, cgroup: /ioband.slice//x, create-cgroup: true}
  - {name: b, cgroup: ioband.slice/x/, create-cgroup: true}
Y
run 0 apply --dry-run "$T/twice.yaml"
same "cgroup spelled twice: created once" "$OUT" "cgroup-create ioband.slice/x"
# The cgroup v2 mount in front is no part of it either: created below it.
cat >"$T/mount.yaml" <<Y
guests:
  - {name: a, cgroup: $T/cg/ioband.slice/x, create-cgroup: true}
  - {name: b, cgroup: ioband.slice/x, create-cgroup: true}
Y
run 0 apply --dry-run "$T/mount.yaml"
same "cgroup with the mount in front: created below it, once" "$OUT" "cgroup-create ioband.slice/x"
run 0 apply --dry-run "$T/host.yaml"
same "dry run" "$OUT" "create ioband-shared: 0 2097152 ioband 8:16 shared 0 0 cgroup weight 0 :100 $CG:300
create ioband-g1-data: 0 1048576 ioband 8:32 shared 0 0 none weight 0 :50
net-apply ioband-tc apply --uplink eth0 --rate 1gbit --guest vnet0:weight=4,mac=52:54:00:00:00:01"
[[ ! -e $T/tc.log ]] || { echo "FAIL: dry run ran ioband-tc apply" >&2; FAILS=$((FAILS + 1)); }
run 0 apply --dry-run --json "$T/host.yaml"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert [a["action"] for a in d["actions"]] == ["create","create","net-apply"], d' <<<"$OUT" ||
		{ echo "FAIL: dry-run --json" >&2; FAILS=$((FAILS + 1)); }
fi
before=$(cat "$IOBAND_FAKE_DM")
# --json without --dry-run: a usage error, nothing applied
run 2 apply --json "$T/host.yaml"
has "json without dry-run" "$ERR" "iobandctl: apply: --json goes with --dry-run (the plan as JSON)"
same "json without dry-run: nothing applied" "$(cat "$IOBAND_FAKE_DM")" "$before"
[[ ! -e $T/tc.log ]] || { echo "FAIL: apply --json ran ioband-tc" >&2; FAILS=$((FAILS + 1)); }
# a failure midway: exit 4, the fake state as before
IOBAND_FAIL_AT=2 run 4 apply "$T/host.yaml"
has "rolled back" "$ERR" "rolling back 1 action(s)"
same "state after rollback" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"])' "$IOBAND_FAKE_DM")" \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["devices"])' "$before")"
# ioband-tc applied, but the state file cannot record it: the shaping is
# cleared again at once (a failed action is not rolled back with the
# others), and the rest is rolled back
mkdir -p "$IOBAND_STATE_DIR/state.json.tmp"
IOBAND_FAIL_AT='' run 4 apply "$T/host.yaml"
has "state file not written" "$ERR" "cannot write $IOBAND_STATE_DIR/state.json"
[[ $ERR != *"could not undo"* && $ERR != *"left as"* ]] || { echo "FAIL: tc apply with no state file: $ERR" >&2; FAILS=$((FAILS + 1)); }
same "tc apply with no state file: shaping cleared" "$(tail -n 1 "$T/tc.log")" "clear --uplink eth0"
same "tc apply with no state file: devices rolled back" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"])' "$IOBAND_FAKE_DM")" \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["devices"])' "$before")"
rm -rf "$IOBAND_STATE_DIR/state.json.tmp" "$T/tc.log"
run 0 apply "$T/host.yaml"
same "apply" "$OUT" "applied 3 change(s)"
run 0 apply "$T/host.yaml"
same "re-apply" "$OUT" "nothing to do"
sed -i 's/weight: 300/weight: 30/' "$T/host.yaml"
run 0 apply --dry-run "$T/host.yaml"
same "edit" "$OUT" "weight ioband-shared group $CG 30 (was 300)"
run 0 apply --quiet "$T/host.yaml"
same "apply --quiet: no summary" "$OUT" ""
run 0 apply "$T/host.yaml"
same "re-apply after edit" "$OUT" "nothing to do"

# A damaged state.json (what apply did to the network): refused with the
# reason and the remedy, nothing changed; removing it is the way out.
cp "$IOBAND_STATE_DIR/state.json" "$T/state.json.good"
before=$(cat "$IOBAND_FAKE_DM")
echo '{' >"$IOBAND_STATE_DIR/state.json"
run 1 apply "$T/host.yaml"
same "damaged state.json" "$ERR" "iobandctl: $IOBAND_STATE_DIR/state.json: not valid JSON (unexpected end of data); it records the network shaping apply last did: remove it to forget that (an uplink left shaped: ioband-tc clear --uplink IF)"
same "damaged state.json: nothing changed" "$(cat "$IOBAND_FAKE_DM")" "$before"
echo '["apply"]' >"$IOBAND_STATE_DIR/state.json"
run 1 apply --dry-run "$T/host.yaml"
has "state.json not an object" "$ERR" "state.json: not an ioband state file (not a JSON object); it records"
# Valid JSON, but no record of ioband-tc's arguments: refused as well (a
# "net" whose args were no list was taken for nothing shaped; a null among
# them became "ioband-tc clear --uplink (null)").
for bad in '{"net": {"args": "apply"}}' '{"net": {"args": ["apply", "--uplink", null]}}' '{"net": []}' '{"net": {"args": []}}'; do
	echo "$bad" >"$IOBAND_STATE_DIR/state.json"
	run 1 apply --dry-run "$T/host.yaml"
	same "state.json $bad" "$ERR" "iobandctl: $IOBAND_STATE_DIR/state.json: not an ioband state file (net.args is no list of ioband-tc apply --uplink IF ... arguments); it records the network shaping apply last did: remove it to forget that (an uplink left shaped: ioband-tc clear --uplink IF)"
done
same "damaged state.json: still nothing changed" "$(cat "$IOBAND_FAKE_DM")" "$before"
cp "$T/state.json.good" "$IOBAND_STATE_DIR/state.json"
run 0 apply "$T/host.yaml"
same "state.json restored" "$OUT" "nothing to do"

# ---- status
run 0 status
has "status" "$OUT" "on 8:16, 1024 MiB, device group shared, type cgroup, policy weight"
run 0 status --json ioband-g1-data
if command -v python3 >/dev/null; then
	python3 -c '
import json, sys
d = json.load(sys.stdin)["devices"]
assert len(d) == 1 and d[0]["name"] == "ioband-g1-data", d
g = d[0]["groups"]
assert g[0]["id"] == -1 and g[0]["weight"] == 50, g
# device group "shared": 100 (default) + 30 (g1) + 50 (data)
assert abs(g[0]["target_share"] - 50 / 180) < 0.001, g
assert d[0]["managed_by"] == "apply" and d[0]["device"] == "8:32", d' <<<"$OUT" ||
		{ echo "FAIL: status --json: $OUT" >&2; FAILS=$((FAILS + 1)); }
fi
run 1 status nosuch
# An ioband table iobandctl cannot parse (a newer module's, say): named on
# stderr and left out; status --json stays valid JSON (it crashed), and the
# status of another device is not failed by it.
cp "$IOBAND_FAKE_DM" "$T/before-odd.json"
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"].append({"name": "odd", "uuid": "", "minor": s["next_minor"], "open": 0,
                     "table": [[0, 1024, "ioband", "8:32 odd 0 0 frob weight 0 :100"]]})
s["next_minor"] += 1
json.dump(s, open(sys.argv[1], "w"))
P
run 1 status --json
same "unparsable table: named" "$ERR" "iobandctl: odd: cannot parse its table: invalid type: 8:32 odd 0 0 frob weight 0 :100"
python3 -c '
import json, sys
d = json.load(sys.stdin)["devices"]
assert "odd" not in [x["name"] for x in d] and "ioband-g1-data" in [x["name"] for x in d], d' <<<"$OUT" ||
	{ echo "FAIL: status --json with an unparsable table: $OUT" >&2; FAILS=$((FAILS + 1)); }
run 1 status
[[ $OUT != *"(null)"* && $OUT != *odd* ]] || { echo "FAIL: status shows the unparsable device: $OUT" >&2; FAILS=$((FAILS + 1)); }
has "unparsable table: the others shown" "$OUT" "ioband-g1-data"
run 0 status ioband-g1-data
same "another device's unparsable table: no error" "$ERR" ""
run 1 status odd
same "status of the unparsable device" "$ERR" "iobandctl: odd: cannot parse its table: invalid type: 8:32 odd 0 0 frob weight 0 :100"
cp "$T/before-odd.json" "$IOBAND_FAKE_DM"
# A range-bw device (dmsetup's: iobandctl makes none): the module's status
# has the limits part and its stats reply min_kbs=, max_kbs= and rsv=
# fields; status and top read them.
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"].append({"name": "rb", "uuid": "", "minor": s["next_minor"], "open": 0,
                     "table": [[0, 1024, "ioband", "8:32 rb 0 0 cgroup range-bw 0 :0:0 11:100:500 12:700:0"]],
                     "counters": {"11": [5, 1, 40, 0, 0, 0, 2, 300, 1500, 250000, 1]}})
s["next_minor"] += 1
json.dump(s, open(sys.argv[1], "w"))
P
run 0 status rb
has "range-bw: a range's line" "$OUT" "range min 100 KB/s, max 500 KB/s, reservation unmet, lag 1.5 ms, held by its max 0.2 s"
has "range-bw: no reservation" "$OUT" "range min 0 KB/s, max none, reservation -, lag 0.0 ms"
run 0 status --json rb
python3 -c '
import json, sys
g = json.load(sys.stdin)["devices"][0]["groups"]
assert [(x["id"], x["min_kbs"], x["max_kbs"], x["rsv"]) for x in g] == [(-1, 0, 0, "-"), (11, 100, 500, "unmet"), (12, 700, 0, "met")], g
assert g[1]["rsv_lag_us"] == 1500 and g[1]["limited_us"] == 250000 and g[1]["queued"] == 2, g' <<<"$OUT" ||
	{ echo "FAIL: status --json of a range-bw device: $OUT" >&2; FAILS=$((FAILS + 1)); }
# top: the weights the mins give (1 for a min of 0), the reservations' state
run 0 top rb --count 1 --interval 0.05
has "range-bw: top's default group" "$OUT" "rb                       default       1"
has "range-bw: top's group 11" "$OUT" "                         11          100        0        0      0.0    0.0%  100.0%       2 unmet"
has "range-bw: top's group 12" "$OUT" "                         12          700"
# its groups have no weights: the module refuses the weight message
run 2 group set rb 11 weight=9
same "range-bw: group set" "$ERR" "iobandctl: group set: rb has policy range-bw, which has no weights (a group's min and max: dmsetup message rb 0 range-bw ID:MIN:MAX)
usage: iobandctl group set NAME ID|default weight=W
Try 'iobandctl group set --help'."
run 2 group add rb 13 weight=40
has "range-bw: group add with a weight" "$ERR" "iobandctl: group add: rb has policy range-bw, which has no weights"
run 0 group add rb 13
run 0 status --json rb
python3 -c 'import json,sys; g=json.load(sys.stdin)["devices"][0]["groups"]; assert [x["id"] for x in g] == [-1, 11, 12, 13] and g[3]["min_kbs"] == 0, g' <<<"$OUT" ||
	{ echo "FAIL: range-bw: group add: $OUT" >&2; FAILS=$((FAILS + 1)); }
cp "$T/before-odd.json" "$IOBAND_FAKE_DM"
run 1 top nonexist --count 1 --interval 0.05
same "top: no such device" "$ERR" "iobandctl: nonexist: no such device"
same "top: no such device, no frame" "$OUT" ""
run 1 top ioband-g1-data vg-lv --count 1 --interval 0.05
same "top: not an ioband device" "$ERR" "iobandctl: vg-lv: not an ioband device"
run 0 top --count 2 --interval 0.05
has "top" "$OUT" "DEVICE                   GROUP    WEIGHT   R_IOPS"
has "top rows" "$OUT" "ioband-g1-data"

# ---- create / group / remove
run 0 create --dry-run solo 8:16 --type uid --weight 7
same "create dry-run" "$OUT" "create solo: 0 2097152 ioband 8:16 solo 0 0 uid weight 0 :7"
run 0 create solo 8:16 --type uid --weight 7 --group shared2
# Joining a device group: its shared parameters as its members have them,
# or left out (0) to inherit them; else the member and the option named
# (the module's own reason goes only to the kernel log), nothing created.
run 1 create join1 8:32 --group shared2 --policy weight-iosize
same "join: policy" "$ERR" "iobandctl: device group shared2 uses policy weight (member solo): give --policy weight"
run 1 create join1 8:32 --group shared2 --io-limit 8
same "join: io_limit" "$ERR" "iobandctl: device group shared2 has the automatic io_limit (member solo): leave --io-limit out to inherit it"
run 1 create join1 8:32 --group shared2 --io-throttle 3
same "join: io_throttle" "$ERR" "iobandctl: device group shared2 has the default io_throttle (member solo): leave --io-throttle out to inherit it"
run 1 create join1 8:32 --group shared2 --token 64
same "join: token_base" "$ERR" "iobandctl: device group shared2 has the default token_base (member solo): leave --token out to inherit it"
run 1 insert vg-lv --group shared2 --policy weight-iosize
has "join by insert" "$ERR" "device group shared2 uses policy weight (member solo)"
run 0 status --json
python3 -c 'import json,sys; n=[d["name"] for d in json.load(sys.stdin)["devices"]]; assert "solo" in n and not {"join1", "vg-lv"} & set(n), n' <<<"$OUT" ||
	{ echo "FAIL: join refused, yet created: $OUT" >&2; FAILS=$((FAILS + 1)); }
run 0 create jl 8:32 --group jlim --io-limit 8 --io-throttle 4 --token 64
run 1 create join1 8:16 --group jlim --io-limit 16
same "join: io_limit differs" "$ERR" "iobandctl: device group jlim has io_limit 8 (member jl): leave --io-limit out to inherit it"
run 1 create jl 8:16 --group jlim --io-limit 16
has "join: the name taken, not a member" "$ERR" "create jl: File exists"
run 0 create join1 8:16 --group jlim --io-limit 8 --token 64
run 0 remove join1
run 0 create join1 8:16 --group jlim
run 0 remove join1
run 0 remove jl
run 0 group add solo 1000 weight=40
run 2 group add solo 1000 wieght=40
run 1 group add solo 1000
has "exists" "$ERR" "group 1000 exists"
run 0 group set solo 1000 weight=41
run 0 group set solo default weight=9
run 2 group set solo 1000
run 2 group add solo -5
# The default group by name where only set takes it: said so (it was "group
# id -1: must be a number", and on a cgroup device "cgroup default: No such
# file or directory", exit 1).
run 2 group remove solo default
has "remove default" "$ERR" "iobandctl: group remove: group default: the default group is always there (group set NAME default weight=W sets its weight)"
run 2 group remove solo -1
has "remove -1" "$ERR" "iobandctl: group remove: group -1: the default group is always there"
run 2 group add solo default weight=5
has "add default" "$ERR" "iobandctl: group add: group default: the default group is always there"
run 0 status solo
has "group row" "$OUT" "  1000                     41"
has "default row" "$OUT" "  default                   9"
# Groups in the module's order, by ascending id, whatever the order added.
run 0 group add solo 999
run 0 status --json solo
python3 -c 'import json,sys; g=json.load(sys.stdin)["devices"][0]["groups"]; assert [x["id"] for x in g] == [-1, 999, 1000], g' <<<"$OUT" ||
	{ echo "FAIL: groups out of order: $OUT" >&2; FAILS=$((FAILS + 1)); }
run 0 group remove solo 999
run 0 group remove solo 1000
run 1 group remove solo 1000
run 0 remove solo
run 1 remove solo
# The fake's status gives device NAME the depth latencies BASE TARGET (us).
fake_depth_us() {
	python3 - "$IOBAND_FAKE_DM" "$@" <<'P'
import json, sys
f, name, base, target = sys.argv[1:]
s = json.load(open(f))
[d for d in s["devices"] if d["name"] == name][0]["depth_us"] = [int(base), int(target)]
json.dump(s, open(f, "w"))
P
}
# The depth part of status: its text line and its json (KEY=VALUE, VALUE
# a python expression).
depth_is() {
	local what=$1 name=$2 line=$3 k
	shift 3
	run 0 status "$name"
	same "$what" "$(grep '^  depth' <<<"$OUT")" "$line"
	run 0 status --json "$name"
	for k in "$@"; do
		python3 -c 'import json,sys; d=json.load(sys.stdin)["devices"][0]["depth"]; k,v=sys.argv[1].split("=",1); assert d[k] == eval(v), d' "$k" <<<"$OUT" ||
			{ echo "FAIL: $what: json $k: $OUT" >&2; FAILS=$((FAILS + 1)); }
	done
}
# A fixed io_limit: the status's depth part has no latencies (the module
# measures them, but shows them only for the automatic depth).
run 0 create fixed 8:16 --io-limit 64 --group fixedg
fake_depth_us fixed 8000 10000
depth_is "fixed io_limit: no latencies" fixed "  depth 64 (fixed)" \
	mode='"fixed"' latency_baseline_us=None latency_target_us=None
run 0 remove fixed
# The automatic depth before its first measurement (the kernel's 0 us), and after.
run 0 create autod 8:16 --group autog
depth_is "auto, not measured: no latencies" autod "  depth 192 (auto), latency not measured yet" \
	mode='"auto"' latency_baseline_us=None latency_target_us=None
fake_depth_us autod 1180 1357
depth_is "auto, measured" autod "  depth 192 (auto), latency baseline 1180 us, target 1357 us" \
	latency_baseline_us=1180 latency_target_us=1357
run 0 remove autod
# a device of type none has only the default group
run 0 create plain 8:16
run 2 group add plain 5
has "type none: group add" "$ERR" "iobandctl: group add: group 5: the device has type none, which has only the default group"
run 0 group set plain default weight=9
run 0 remove plain
run 1 remove vg-lv
# a group that fails midway (attach ok, weight fails): rolled back
run 0 create c1 /dev/sdb --type pid
# the attach itself fails: nothing to detach (no detach sent, none refused)
IOBAND_FAIL_AT=1 run 1 group add c1 77 weight=5
[[ $ERR != *detach* ]] || { echo "FAIL: a failed attach sent a detach: $ERR" >&2; FAILS=$((FAILS + 1)); }
IOBAND_FAIL_AT=2 run 4 group add c1 77 weight=5
run 0 status --json c1
python3 -c 'import json,sys; g=json.load(sys.stdin)["devices"][0]["groups"]; assert [x["id"] for x in g] == [-1], g' <<<"$OUT" ||
	{ echo "FAIL: group 77 survived the rollback" >&2; FAILS=$((FAILS + 1)); }
run 0 remove c1
run 0 create c2 /dev/sdb --type cgroup
run 2 group add c2 ../../../etc
has "group add: cgroup outside the root" "$ERR" 'iobandctl: group add: cgroup "../../../etc": must be a cgroup below the root'
run 2 group remove c2 default
has "remove default (cgroup device)" "$ERR" "iobandctl: group remove: group default: the default group is always there"
run 0 group add c2 machine.slice/g1
run 0 status c2
has "group add by cgroup path" "$OUT" "  $CG "
run 0 remove c2

# ---- insert / eject (vg-lv is "mounted": open 1)
vg_before=$(python3 -c 'import json,sys; d=[x for x in json.load(open(sys.argv[1]))["devices"] if x["name"]=="vg-lv"][0]; print(d["minor"], d["table"])' "$IOBAND_FAKE_DM")
run 0 insert --dry-run vg-lv --weight 5
has "insert plan" "$OUT" "create vg-lv-iob: 0 1024 linear 8:32 2048; 1024 1024 linear 8:32 8192"
IOBAND_FAIL_AT=2 run 4 insert vg-lv
run 0 insert vg-lv --weight 5 --group lvs
run 0 status --json vg-lv
has "inserted" "$OUT" '"managed_by": "insert"'
has "same dev_t" "$OUT" '"dev": "253:0"'
run 1 insert vg-lv
has "twice" "$ERR" "vg-lv already is an ioband device"
run 0 eject vg-lv
vg_after=$(python3 -c 'import json,sys; d=[x for x in json.load(open(sys.argv[1]))["devices"] if x["name"]=="vg-lv"][0]; print(d["minor"], d["table"])' "$IOBAND_FAKE_DM")
same "eject restores the table" "$vg_after" "$vg_before"
run 1 eject vg-lv
run 0 status
[[ $OUT != *vg-lv-iob* ]] || { echo "FAIL: vg-lv-iob left" >&2; FAILS=$((FAILS + 1)); }
# add_dev NAME UUID: a device of dmsetup's making, unopened, linear on sdc.
add_dev() {
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"].append({"name": sys.argv[2], "uuid": sys.argv[3], "minor": s["next_minor"], "open": 0,
                     "table": [[0, 1024, "linear", "8:32 4096"]]})
s["next_minor"] += 1
json.dump(s, open(sys.argv[1], "w"))' "$IOBAND_FAKE_DM" "$@"
}
# Rollback after a device group's parameters changed: the old tables go
# back only once the device group has its old parameters again (the kernel
# refuses a table with another io_limit), whichever member the change was
# sent through (one later removed).
cp "$IOBAND_FAKE_DM" "$T/saved.json"
rm -rf "$T/saved-run"
[[ ! -d $IOBAND_STATE_DIR ]] || cp -a "$IOBAND_STATE_DIR" "$T/saved-run"
fresh
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
s["disks"]["/dev/sdd"] = {"dev": "8:48", "size": 1048576}
json.dump(s, open(sys.argv[1], "w"))' "$IOBAND_FAKE_DM"
cat >"$T/dgA.yaml" <<'Y'
version: 1
device-groups:
  - {id: ssd0, io-limit: 10}
guests:
  - name: web1
    disks:
      - {name: root, device: /dev/sdb, device-group: ssd0}
  - name: web2
    disks:
      - {name: root, device: /dev/sdc, device-group: ssd0}
Y
run 0 apply "$T/dgA.yaml"
devs() { python3 -c 'import json,sys; print(sorted((d["name"], d["table"]) for d in json.load(open(sys.argv[1]))["devices"]))' "$IOBAND_FAKE_DM"; }
before=$(devs)
# io-limit 20, web1 moved to another disk, web2's weight changed
sed -e 's/io-limit: 10/io-limit: 20/' -e 's|/dev/sdb|/dev/sdd|' -e '$s/device-group: ssd0}/device-group: ssd0, weight: 200}/' \
	"$T/dgA.yaml" >"$T/dgB.yaml"
for k in 2 3 4 5; do
	IOBAND_FAIL_AT=$k run 4 apply "$T/dgB.yaml"
	[[ $ERR != *"could not undo"* ]] || { echo "FAIL: dgB, failure at $k: $ERR" >&2; FAILS=$((FAILS + 1)); }
	same "dgB, failure at $k: rolled back" "$(devs)" "$before"
done
# io-limit 20, web2 removed (the member the change may go through), web1's
# weight changed: failing at the weight, web2 is re-created after the
# device group has io_limit 10 again
sed -e 's/io-limit: 10/io-limit: 20/' -e 's|/dev/sdb, device-group: ssd0}|/dev/sdb, device-group: ssd0, weight: 300}|' \
	"$T/dgA.yaml" | head -n 7 >"$T/dgC.yaml"
for k in 2 3; do
	IOBAND_FAIL_AT=$k run 4 apply "$T/dgC.yaml"
	[[ $ERR != *"could not undo"* ]] || { echo "FAIL: dgC, failure at $k: $ERR" >&2; FAILS=$((FAILS + 1)); }
	same "dgC, failure at $k: rolled back" "$(devs)" "$before"
done
run 0 apply "$T/dgC.yaml"
cp "$T/saved.json" "$IOBAND_FAKE_DM"
rm -rf "$IOBAND_STATE_DIR"
[[ ! -d $T/saved-run ]] || cp -a "$T/saved-run" "$IOBAND_STATE_DIR"
# Writeback throttling on the disk below: a warning, once per disk; not
# when it is off. /dev/sdb is 8:16; 8:32 (sdc) a partition of sdx.
mkdir -p "$T/sys/devices/sdb/queue" "$T/sys/devices/sdx/sdc" "$T/sys/devices/sdx/queue" "$T/sys/dev/block"
echo 2000 >"$T/sys/devices/sdb/queue/wbt_lat_usec"
echo 75000 >"$T/sys/devices/sdx/queue/wbt_lat_usec"
echo 1 >"$T/sys/devices/sdx/sdc/partition"
ln -s ../../devices/sdb "$T/sys/dev/block/8:16"
ln -s ../../devices/sdx/sdc "$T/sys/dev/block/8:32"
run 0 create wb1 /dev/sdb
same "wbt on below: warned" "$ERR" "iobandctl: warning: sdb: writeback throttling is on below ioband (queue/wbt_lat_usec 2000): ioband schedules writeback itself, and wbt makes its dispatcher wait for one group's writeback; turn it off with: echo 0 > /sys/block/sdb/queue/wbt_lat_usec"
run 0 create wb2 /dev/sdc
has "wbt on below a partition: its disk named" "$ERR" "warning: sdx: writeback throttling is on below ioband (queue/wbt_lat_usec 75000)"
echo 0 >"$T/sys/devices/sdb/queue/wbt_lat_usec"
run 0 remove wb1
run 0 create wb1 /dev/sdb
same "wbt off below: no warning" "$ERR" ""
run 0 remove wb1
run 0 remove wb2
rm -rf "$T/sys"
# insert copies the table into a second live device: only linear and
# striped ones (a raid1 LV's second copy would run over the same legs).
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
s["devices"].append({"name": "vg-r1", "uuid": "LVM-r1", "minor": s["next_minor"], "open": 1,
                     "table": [[0, 1024, "raid", "raid1 3 0 region_size 1024 2 - 8:32 - 8:48"]]})
s["next_minor"] += 1
json.dump(s, open(sys.argv[1], "w"))' "$IOBAND_FAKE_DM"
before=$(cat "$IOBAND_FAKE_DM")
run 1 insert vg-r1
same "insert under raid1" "$ERR" "iobandctl: vg-r1: its table has a raid target: insert copies the table into a second live device, which only linear and striped tables allow"
same "insert under raid1: nothing changed" "$(cat "$IOBAND_FAKE_DM")" "$before"
# A layer under a device without a dm uuid (dmsetup create's): remove
# refuses it as it does under an LV, eject takes it out.
add_dev plain ""
run 0 insert plain
run 1 remove plain
same "remove of a layer" "$ERR" "iobandctl: plain is an inserted ioband layer: use eject"
run 0 status plain
has "layer kept" "$OUT" "by insert"
run 0 eject plain
# Names from the system are quoted as user text is: a dm device named with
# an ESC (dmsetup takes it) is shown escaped in messages, status, top and
# plans, never raw; so is a host file's name in check's "ok" line.
esc=$'lv\e[2J'
add_dev "$esc" LVM-esc
no_esc() {
	N=$((N + 1))
	[[ $OUT$ERR != *$'\e'* ]] || { echo "FAIL: $1: a raw ESC in the output" >&2; FAILS=$((FAILS + 1)); }
}
run 0 -v insert "$esc" --group esc --type uid
no_esc "insert -v"
run 0 status "$esc"
has "status: a system name escaped" "$OUT" '"lv\x1b[2J" (253:'
no_esc "status"
run 0 top --count 1
has "top: a system name escaped" "$OUT" '"lv\x1b[2J"'
no_esc "top"
run 0 group add "$esc" 7
run 1 group add "$esc" 7
same "group add: a system name escaped" "$ERR" 'iobandctl: "lv\x1b[2J": group 7 exists (use group set)'
run 1 remove "$esc"
same "remove: a system name escaped" "$ERR" 'iobandctl: "lv\x1b[2J" is not an iobandctl device (uuid LVM-esc): use eject for an inserted layer'
run 0 eject --dry-run "$esc"
has "eject plan: a system name escaped" "$OUT" 'remove "lv\x1b[2J-iob" (was: 0 1024 linear 8:32 4096)'
no_esc "eject plan"
run 0 -v eject "$esc"
no_esc "eject -v"
cp "$HERE/good/minimal.yaml" "$T/h"$'\e'".yaml"
run 0 check "$T/h"$'\e'".yaml"
same "check: the file name escaped" "$OUT" "\"$T/h\\x1b.yaml\": ok: 0 device group(s), 0 shared device(s), 1 guest(s)"
no_esc "check"

# ---- cgroup create (fake: a directory) with pids (which must exist:
# IOBAND_PROC stands for /proc)
mkdir -p "$T/proc/123" "$T/proc/456" "$T/proc/789"
export IOBAND_PROC=$T/proc
run 1 cgroup create ioband.slice/g8 123 99999
same "cgroup create: a pid that does not exist" "$ERR" "iobandctl: 99999: no such process"
[[ ! -e $T/cg/ioband.slice/g8 ]] || { echo "FAIL: cgroup create made g8 for a pid that does not exist" >&2; FAILS=$((FAILS + 1)); }
run 0 cgroup create ioband.slice/g9 123 456
same "cgroup create id" "$OUT" "$(stat -c %i "$T/cg/ioband.slice/g9")"
same "pids moved" "$(cat "$T/cg/ioband.slice/g9/cgroup.procs")" "123
456"
run 2 cgroup create ioband.slice/g9 notapid
run 0 cgroup create ioband.slice//g10/ 789
same "cgroup create id (normalized)" "$OUT" "$(stat -c %i "$T/cg/ioband.slice/g10")"
same "pid moved (normalized)" "$(cat "$T/cg/ioband.slice/g10/cgroup.procs")" "789"
[[ ! -e $T/cg/ioband.slice/g10/g10 ]] || { echo "FAIL: cgroup create made a nested g10" >&2; FAILS=$((FAILS + 1)); }

# ---- min, max, burst: tables, live messages, status, top, capacity
cp "$T/host.yaml" "$T/host0.yaml"
sed -i 's/device-group: shared, weight: 50}/device-group: shared, weight: 50, min: 500iops, max: 2000iops, burst: 4000iops\/10}/' "$T/host.yaml"
run 0 check "$T/host.yaml"
run 0 apply --dry-run "$T/host.yaml"
same "limits: plan" "$OUT" "limits ioband-g1-data default group r=500iops,l=2000iops,b=4000iops/10 (was none)"
run 0 apply --dry-run --json "$T/host.yaml"
python3 -c '
import json, sys
a = json.load(sys.stdin)["actions"]
assert a[0]["action"] == "limits" and a[0]["group"] == -1, a
assert a[0]["limits"] == {"reservation": "500iops", "limit": "2000iops", "burst": "4000iops/10"}, a
assert a[0]["old_limits"]["limit"] == "0", a' <<<"$OUT" ||
	{ echo "FAIL: limits dry-run --json: $OUT" >&2; FAILS=$((FAILS + 1)); }
msglog() {
	python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1])).get("log", [])))' "$IOBAND_FAKE_DM"
}
loglen=$(msglog | wc -l)
run 0 apply "$T/host.yaml"
same "limits: messages" "$(msglog | tail -n +$((loglen + 1)))" "ioband-g1-data: reserve 500iops
ioband-g1-data: limit 2000iops
ioband-g1-data: burst 4000iops/10"
run 0 apply "$T/host.yaml"
same "limits: re-apply" "$OUT" "nothing to do"
# The status as the module shows it: the limits part, the reservation unmet.
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
d = [x for x in s["devices"] if x["name"] == "ioband-g1-data"][0]
d["counters"] = {"-1": [10, 0, 80, 0, 0, 0, 3, 900, 2500, 1500000, 1]}
json.dump(s, open(sys.argv[1], "w"))
P
run 0 status ioband-g1-data
has "status: limits line" "$OUT" "r=500iops l=2000iops b=4000iops/10  reservation unmet, lag 2.5 ms, held by its limit 1.5 s"
run 0 status --json ioband-g1-data
python3 -c '
import json, sys
g = json.load(sys.stdin)["devices"][0]["groups"][0]
assert g["reservation"] == "500iops" and g["limit"] == "2000iops", g
assert g["burst"] == {"rate": "4000iops", "seconds": 10}, g
assert g["options"] == "r=500iops,l=2000iops,b=4000iops/10", g
assert g["rsv"] == "unmet" and g["rsv_lag_us"] == 2500 and g["limited_us"] == 1500000, g' <<<"$OUT" ||
	{ echo "FAIL: status --json limits: $OUT" >&2; FAILS=$((FAILS + 1)); }
run 0 top --count 1 --interval 0.05 ioband-g1-data
has "top: limit columns" "$OUT" "RSV  HELD  LIMITS"
has "top: the group's limits" "$OUT" "unmet    0%  r=500iops,l=2000iops,b=4000iops/10"
# A device group's own limit (",l=" after the policy, on every member's
# table): the status's dglimit part, the time it held the device group's
# bios; and the refused part, the bios the disk refused for want of a tag
# and the tags the automatic depth learned. Both are the device group's,
# the same on every member (set here on the other member, ioband-shared).
cp "$IOBAND_FAKE_DM" "$T/before-dglimit.json"
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
for d in s["devices"]:
    if " shared " in d["table"][0][3]:
        d["table"][0][3] = d["table"][0][3].replace(" weight ", " weight,l=300iops ", 1)
    if d["name"] == "ioband-shared":
        d["dglimit_us"] = 4200000
        d["refused"] = [37, 16]
json.dump(s, open(sys.argv[1], "w"))
P
run 0 status ioband-g1-data
has "status: device group limit line" "$OUT" "device group limit l=300iops, held by it 4.2 s"
has "status: refused" "$OUT" "the disk refused 37 bios for want of a tag; learned tags 16"
run 0 status --json ioband-g1-data
python3 -c '
import json, sys
d = json.load(sys.stdin)["devices"][0]
assert d["device_group_limits"]["limit"] == "300iops", d
assert d["device_group_limits"]["limited_us"] == 4200000, d
assert d["depth"]["refused"] == 37 and d["depth"]["learned_tags"] == 16, d' <<<"$OUT" ||
	{ echo "FAIL: status --json device group limit: $OUT" >&2; FAILS=$((FAILS + 1)); }
cp "$T/before-dglimit.json" "$IOBAND_FAKE_DM"
# Changed: only the difference, in an order the module accepts.
sed -i 's/max: 2000iops, burst: 4000iops\/10/max: 400iops/; s/min: 500iops/min: 300iops/' "$T/host.yaml"
loglen=$(msglog | wc -l)
run 0 apply "$T/host.yaml"
same "limits: changed live" "$(msglog | tail -n +$((loglen + 1)))" "ioband-g1-data: burst 0
ioband-g1-data: reserve 300iops
ioband-g1-data: limit 400iops"
# No capacity declared: a warning when the reservations exceed the estimate
# from the status (io_limit 192 at 10 ms: 19200 IOPS).
python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
for d in s["devices"]:
    d["depth_us"] = [8000, 10000]
json.dump(s, open(sys.argv[1], "w"))
P
sed -i 's/min: 300iops, max: 400iops/min: 20000iops/' "$T/host.yaml"
run 0 apply --dry-run "$T/host.yaml"
has "capacity estimate" "$ERR" "warning: device group shared: the reservations add up to 20000iops, above the ~19200iops the disk seems to deliver (io_limit 192 at 10000 us"
printf 'device-groups:\n  - {id: shared, capacity: 30000iops}\n' >>"$T/host.yaml"
run 0 apply --dry-run "$T/host.yaml"
same "declared capacity: no estimate" "$ERR" ""
printf 'device-groups:\n  - {id: shared, capacity: 10000iops}\n' >"$T/cap.yaml"
grep -v -e '^device-groups:' -e 'capacity:' "$T/host.yaml" >>"$T/cap.yaml"
run 3 check "$T/cap.yaml"
has "check: above capacity" "$ERR" "cap.yaml:11: guests[0].disks[1].min: the reservations in device group shared add up to 20000iops, above its capacity 10000iops"
run 3 apply "$T/cap.yaml"
sed -i 's/min: 20000iops/min: 3000iops, max: 2000iops/' "$T/cap.yaml"
run 3 check "$T/cap.yaml"
has "check: min above max" "$ERR" "guests[0].disks[1].min: 3000iops is above max 2000iops"
# Out of the file: removed.
cp "$T/host0.yaml" "$T/host.yaml"
loglen=$(msglog | wc -l)
run 0 apply "$T/host.yaml"
same "limits: removed" "$(msglog | tail -n +$((loglen + 1)))" "ioband-g1-data: reserve 0
ioband-g1-data: limit 0"
run 0 apply "$T/host.yaml"
same "limits: gone" "$OUT" "nothing to do"

# ---- remove everything: an empty host file tears down what apply made
printf 'version: 1\n' >"$T/empty.yaml"
run 0 apply "$T/empty.yaml"
same "teardown" "$OUT" "applied 3 change(s)"
has "tc clear" "$(tail -n 1 "$T/tc.log")" "clear --uplink eth0"
run 0 apply "$T/empty.yaml"
same "teardown twice" "$OUT" "nothing to do"

echo "cli-test: $((N - FAILS)) checks passed, $FAILS failed"
((FAILS == 0))
