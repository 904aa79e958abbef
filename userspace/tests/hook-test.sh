#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hook-test.sh IOBANDCTL-FAKE: the libvirt qemu hook on the fake backend,
# run with the argument vectors libvirtd uses and the fixtures in tests/data/libvirt/:
# prepare -> started -> stopped -> release leaves nothing behind; malformed
# metadata refuses prepare naming the element and changes nothing; a guest
# without metadata is untouched; min, max and burst reach the tables and the
# messages; migrate refuses what the host cannot meet (also reservations
# above a device group's capacity); apply keeps the guests the hook runs.
set -uo pipefail

BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
FX=${IOBAND_FIXTURES:-$HERE/../../tests/data/libvirt}
T=$(mktemp -d /tmp/iobandctl-hook-XXXXXX)
trap 'rm -rf "$T"' EXIT
export IOBAND_FAKE_DM=$T/fake.json IOBAND_CGROUP_ROOT=$T/cg IOBAND_STATE_DIR=$T/run
# sysfs as iobandctl reads it for wbt below ioband: no disks (tests say)
export IOBAND_SYSFS=$T/sys
export IOBAND_TC=$T/ioband-tc IOBAND_LIBVIRT_RUNDIR=$T/lvrun IOBAND_PROC=$T/proc
export IOBAND_HOST_FILE=$T/host.yaml
unset IOBAND_FAIL_AT
FAILS=0 N=0
# shellcheck source=userspace/tests/clilib.sh
. "$HERE/clilib.sh"
tc_stub


cat >"$IOBAND_HOST_FILE" <<'Y'
version: 1
device-groups:
  - id: ssd0
    policy: weight
devices:
  - name: images
    device: /dev/sdc
    device-group: hdd0
    type: cgroup
    weight: 50
network:
  uplink: eth0
  rate: 100mbit
Y

SCOPE='machine.slice/machine-qemu\x2d7\x2dweb1.scope'
fresh() {
	cat >"$IOBAND_FAKE_DM" <<'J'
{ "disks": { "/dev/sdb": { "dev": "8:16", "size": 2097152 },
             "/dev/sdc": { "dev": "8:32", "size": 1048576 } },
  "devices": [], "next_minor": 0 }
J
	rm -rf "$IOBAND_STATE_DIR" "$T/tc.log" "$T/cg" "$T/proc" "$IOBAND_LIBVIRT_RUNDIR"
	mkdir -p "$T/cg/$SCOPE/libvirt/emulator" "$T/proc/4242" "$IOBAND_LIBVIRT_RUNDIR"
	# What libvirt leaves for a running guest: the pid file, qemu's cgroup.
	echo 4242 >"$IOBAND_LIBVIRT_RUNDIR/web1.pid"
	printf '0::/%s/libvirt/emulator\n' "$SCOPE" >"$T/proc/4242/cgroup"
}

# hook WANT XML OP SUBOP [NAME]: run the hook as libvirtd does (guest web1
# unless NAME), the domain XML on stdin.
hook() {
	run "$1" hook qemu "${5:-web1}" "$3" "$4" - <"$2" || return 1
	# stdout is the XML filter channel: always empty (XML unchanged).
	same "hook ${5:-web1} $3 < ${2##*/}: stdout" "$OUT" ""
}

# The system as the fake backend and the stub ioband-tc see it.
snapshot() {
	python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
for d in sorted(s["devices"], key=lambda d: d["name"]):
    print(d["name"], d["uuid"], " | ".join(t[2] + " " + t[3] for t in d["table"]))
P
	if [[ -d $IOBAND_STATE_DIR/libvirt ]]; then
		find "$IOBAND_STATE_DIR/libvirt" -mindepth 1 -printf 'record %f\n' | sort
	fi
}

# ---- the whole life of a guest
fresh
empty=$(snapshot)
hook 0 "$FX/web1-prepare.xml" prepare begin
has "prepare: own disk" "$(snapshot)" "ioband-web1-vda IOBAND-apply-ioband-web1-vda ioband 8:16 ssd0 0 0 none weight 0 :200"
has "prepare: record" "$(snapshot)" "record web1.json"
has "prepare: shared device of the host file" "$(snapshot)" "ioband-images IOBAND-apply-ioband-images"
same "prepare: no group yet" "$(snapshot | grep ioband-images)" "ioband-images IOBAND-apply-ioband-images ioband 8:32 hdd0 0 0 cgroup weight 0 :50"
# The host file's network is shaped, without the guest's interfaces.
same "prepare: no guest shaping yet" "$(cat "$T/tc.log")" "apply --uplink eth0 --rate 100mbit"
hook 0 "$FX/web1-prepare.xml" start begin
hook 0 "$FX/web1-started.xml" started begin
cgid=$(stat -c %i "$T/cg/$SCOPE")
has "started: group for qemu's scope" "$(snapshot | grep ioband-images)" " $cgid:300"
has "started: shaping" "$(tail -n 1 "$T/tc.log")" \
	"apply --uplink eth0 --rate 100mbit --guest vnet0:weight=3,mac=52:54:00:6b:3c:58,cap=50mbit,up-cap=20mbit --guest tap-web1:weight=1,mac=52:54:00:6b:3c:59,ip=192.0.2.12"
has "started: record running" "$(cat "$IOBAND_STATE_DIR/libvirt/web1.json")" '"running"'
# The domain XML is kept root-only, as libvirt keeps its copies.
same "record modes" "$(stat -c '%a %n' "$IOBAND_STATE_DIR/libvirt" "$IOBAND_STATE_DIR"/libvirt/web1.* | sed "s|$IOBAND_STATE_DIR/||")" "700 libvirt
600 libvirt/web1.json
600 libvirt/web1.xml"
running=$(snapshot)
# libvirtd restarted: reconnect re-applies, idempotent.
hook 0 "$FX/web1-started.xml" reconnect begin
same "reconnect changes nothing" "$(snapshot)" "$running"
# apply of the host file keeps what the hook runs.
run 0 apply "$IOBAND_HOST_FILE"
same "apply keeps the hook's guest" "$OUT" "nothing to do"
hook 0 "$FX/web1-started.xml" stopped end
after_stop=$(snapshot)
has "stopped: disk stays until release" "$after_stop" "ioband-web1-vda"
[[ $after_stop != *" $cgid:300"* ]] || { echo "FAIL: stopped left the group" >&2; FAILS=$((FAILS + 1)); }
same "stopped: guest shaping removed" "$(tail -n 1 "$T/tc.log")" "apply --uplink eth0 --rate 100mbit"
hook 0 "$FX/web1-started.xml" release end
left=$(snapshot)
[[ $left != *web1* ]] || { echo "FAIL: release left: $left" >&2; FAILS=$((FAILS + 1)); }
N=$((N + 1))
# Only the host file's shared device remains (apply made it for the guest).
same "release leaves the host file's state" "$left" "ioband-images IOBAND-apply-ioband-images ioband 8:32 hdd0 0 0 cgroup weight 0 :50"
hook 0 "$FX/web1-started.xml" release end	# twice: nothing recorded, nothing done

# ---- a guest without ioband metadata is left alone
fresh
before=$(snapshot)
for op in "prepare begin" "start begin" "started begin" "stopped end" "release end" "migrate begin"; do
	# shellcheck disable=SC2086
	hook 0 "$FX/plain.xml" $op plain
done
same "no metadata: untouched" "$(snapshot)" "$before"
same "no metadata: no tc" "$(cat "$T/tc.log" 2>/dev/null)" ""
# Through the installed wrapper, guests whose names iobandctl could take for
# an option ("-web": a usage error refused its start; "--help" printed help
# on stdout, the XML channel) or that make no file name (".web": refused)
# are left alone like any guest without ioband metadata.
for name in -web --help -h .web; do
	sed "s|<name>plain</name>|<name>$name</name>|" "$FX/plain.xml" >"$T/odd-name.xml"
	for op in "prepare begin" "started begin" "migrate begin" "stopped end" "release end"; do
		rc=0
		# shellcheck disable=SC2086
		IOBANDCTL=$BIN "$HERE/../hooks/qemu" "$name" $op - <"$T/odd-name.xml" >"$T/out" 2>"$T/err" || rc=$?
		same "guest $name without metadata: $op: exit status" "$rc" 0
		same "guest $name without metadata: $op: stdout" "$(cat "$T/out")" ""
		same "guest $name without metadata: $op: stderr" "$(cat "$T/err")" ""
	done
done
same "odd names: untouched" "$(snapshot)" "$before"
hook 0 "$FX/web1-started.xml" frobnicate begin	# unknown operation: nothing
same "unknown op: untouched" "$(snapshot)" "$before"

# ---- malformed metadata: prepare refused, the message names the element
bad() {
	local what=$1 expr=$2 want=$3
	sed -e "$expr" "$FX/web1-prepare.xml" >"$T/bad.xml"
	hook 3 "$T/bad.xml" prepare begin || return
	has "$what" "$ERR" "$want"
	has "$what: refused" "$ERR" "guest web1: prepare: refused"
	same "$what: nothing changed" "$(snapshot)" "$empty"
}
fresh
bad "bad weight" 's/weight="200"/weight="0"/' "<ioband:disk target='vda'> weight: \"0\": must be 1..32767"
bad "weight text" 's/weight="300"/weight="lots"/' "<ioband:disk target='vdb'> weight: \"lots\": must be 1..32767"
# Character references bring control characters (newline, the C1 CSI)
# into attributes: escaped in the message.
bad "control characters" 's/weight="200"/weight="2\&#10;0\&#155;0"/' "<ioband:disk target='vda'> weight: \"2\\x0a0\\xc2\\x9b0\": must be 1..32767"
bad "quote in a value" 's/weight="200"/weight="2\&quot;0"/' "<ioband:disk target='vda'> weight: \"2\\\"0\": must be 1..32767"
bad "weight with a leading zero" 's/weight="200"/weight="0200"/' "<ioband:disk target='vda'> weight: \"0200\": no leading zeros (octal to some readers, decimal to others)"
bad "unknown attribute" 's/weight="200"/wieght="200"/' "<ioband:disk target='vda'>: unknown attribute \"wieght\""
bad "no target" 's/target="vda" //' "<ioband:disk>: attribute target is required"
bad "target not in domain" 's/target="vda"/target="vdz"/' "<ioband:disk target='vdz'> target: the domain has no disk with <target dev='vdz'/>"
bad "device and shared" 's/device-group="ssd0"/shared="images"/' "give device (a device of its own) or shared"
bad "neither" 's/shared="images" //' "<ioband:disk target='vdb'>: give device"
bad "source bypasses ioband" 's|/dev/mapper/ioband-web1-vda|/dev/vg0/web1-root|' "the domain's disk vda must be <disk type='block'> with <source dev='/dev/mapper/ioband-web1-vda'/>"
bad "relative device" 's|device="/dev/sdb"|device="sdb"|' "<ioband:disk target='vda'> device: \"sdb\": must be an absolute path"
bad "bad device-group" 's/device-group="ssd0"/device-group="a b"/' "<ioband:disk target='vda'> device-group: \"a b\""
bad "group on own disk" 's/device-group="ssd0"/group="5"/' "<ioband:disk target='vda'> group: only for a disk on a shared device"
bad "bad group" 's/shared="images"/shared="images" group="x"/' "<ioband:disk target='vdb'> group: \"x\": not a group id"
bad "group with a leading zero" 's/shared="images"/shared="images" group="010"/' "<ioband:disk target='vdb'> group: \"010\": no leading zeros"
bad "duplicate disk" 's/target="vdb"/target="vda"/' "<ioband:disk target='vda'>: disk vda already has a policy (line 6)"
bad "unknown shared device" 's/shared="images"/shared="nosuch"/' "<ioband:disk target='vdb'>.ioband: no device \"nosuch\" in devices"
bad "bad mac" 's/mac="52:54:00:6b:3c:58"/mac="52:54:00:6b:3c"/' "<ioband:interface mac='52:54:00:6b:3c'> mac: \"52:54:00:6b:3c\": must be a MAC address"
bad "mac not in domain" 's/mac="52:54:00:6b:3c:58"/mac="52:54:00:00:00:01"/' "<ioband:interface mac='52:54:00:00:00:01'> mac: the domain has no interface with <mac address='52:54:00:00:00:01'/>"
bad "no mac" 's/mac="52:54:00:6b:3c:59" //' "<ioband:interface>: attribute mac is required"
bad "bad rate" 's/cap="50mbit"/cap="50 fast"/' "<ioband:interface mac='52:54:00:6b:3c:58'> cap: \"50 fast\": must be a rate with a unit"
bad "rate without unit" 's/up-cap="20mbit"/up-cap="20"/' "up-cap: \"20\": must be a rate with a unit"
bad "zero rate" 's/cap="50mbit"/cap="0mbit"/' "<ioband:interface mac='52:54:00:6b:3c:58'> cap: \"0mbit\": must be at least 8bit (1 byte/s)"
bad "absurd rate" 's/cap="50mbit"/cap="99999tbit"/' "cap: \"99999tbit\": must be at most 10tbit"
bad "multicast mac" 's/mac="52:54:00:6b:3c:58"/mac="01:00:5e:00:00:01"/' "mac: \"01:00:5e:00:00:01\": is a multicast address"
bad "ip out of range" 's/ip="192.0.2.12"/ip="192.0.2.300"/' "ip: \"192.0.2.300\": must be IPv4 or IPv6"
bad "prefix out of range" 's/ip="192.0.2.12"/ip="192.0.2.12\/33"/' "ip: \"192.0.2.12/33\": must be IPv4 or IPv6"
bad "host bits after the prefix" 's/ip="192.0.2.12"/ip="192.0.2.12\/24"/' "<ioband:interface mac='52:54:00:6b:3c:59'> ip: \"192.0.2.12/24\": has host bits set after /24: give the network (192.0.2.0/24) or the address alone (192.0.2.12)"
bad "bad ip" 's/ip="192.0.2.12"/ip="192.0.2.12 nowhere"/' "ip: \"nowhere\": must be IPv4 or IPv6"
bad "overlapping networks" 's/cap="50mbit" up-cap/ip="192.0.2.0\/24" cap="50mbit" up-cap/' "domain web1 (prepare):9: <ioband:interface mac='52:54:00:6b:3c:59'>.ip: 192.0.2.12 overlaps 192.0.2.0/24 of <ioband:interface mac='52:54:00:6b:3c:58'> (domain web1 (prepare):8): ioband-tc could not tell their traffic apart"
bad "iface weight" 's/weight="3"/weight="10001"/' "<ioband:interface mac='52:54:00:6b:3c:58'> weight: \"10001\": must be 1..10000"
bad "unknown element" 's|<ioband:disk target="vdb"|<ioband:disc target="vdb"|; s|shared="images" weight="300"/>|/>|' "<ioband:disc>: unknown element (want disk or interface)"
bad "foreign element" 's|<ioband:disk target="vdb" shared="images" weight="300"/>|<x:disk xmlns:x="urn:other" target="vdb"/>|' "<x:disk>: element of namespace urn:other in <ioband:ioband>"
bad "unqualified unknown" 's|<ioband:disk target="vdb" shared="images" weight="300"/>|<disc target="vdb"/>|' "<ioband:disc>: unknown element (want disk or interface)"
bad "two policies" 's|</metadata>|<ioband:ioband xmlns:ioband="urn:x-ioband:libvirt:1"/></metadata>|' "<metadata>: a second element in namespace urn:x-ioband:libvirt:1 (first at line 5)"
bad "wrong root" 's|<ioband:ioband xmlns|<ioband:policy xmlns|; s|</ioband:ioband>|</ioband:policy>|' "<ioband:policy>: the ioband metadata element is <ioband"
bad "other ioband namespace" 's|xmlns:ioband="urn:x-ioband:libvirt:1"|xmlns:ioband="urn:x-ioband:libvirt:2"|' "domain web1 (prepare):5: <metadata>: namespace urn:x-ioband:libvirt:2 is not the one this iobandctl reads (urn:x-ioband:libvirt:1): the guest's ioband policy would be ignored"
bad "not well-formed" 's|</ioband:ioband>||' "not well-formed XML"
bad "text in policy" 's|<ioband:disk target="vdb"|weight=5 <ioband:disk target="vdb"|' "<ioband:ioband>: text is not allowed here"
bad "child element" 's|<ioband:disk target="vdb" shared="images" weight="300"/>|<ioband:disk target="vdb" shared="images"><ioband:x/></ioband:disk>|' "<ioband:disk>: must be empty"
bad "text in a disk" 's|<ioband:disk target="vdb" shared="images" weight="300"/>|<ioband:disk target="vdb" shared="images">weight=300</ioband:disk>|' "domain web1 (prepare):7: <ioband:disk>: must be empty"
bad "CDATA in policy" 's|<ioband:disk target="vdb"|<![CDATA[weight=5]]><ioband:disk target="vdb"|' "<ioband:ioband>: text is not allowed here"

# A damaged state.json: prepare refused, the message says why and what to do.
fresh
mkdir -p "$IOBAND_STATE_DIR"
echo '{' >"$IOBAND_STATE_DIR/state.json"
hook 1 "$FX/web1-prepare.xml" prepare begin
has "damaged state.json" "$ERR" "state.json: not valid JSON (unexpected end of data); it records the network shaping apply last did: remove it to forget that"
has "damaged state.json: refused" "$ERR" "guest web1: prepare: refused"
same "damaged state.json: nothing changed" "$(snapshot)" "$empty"
rm "$IOBAND_STATE_DIR/state.json"
hook 0 "$FX/web1-prepare.xml" prepare begin
hook 0 "$FX/web1-prepare.xml" release end

# A planning error points into the domain XML, not the host file.
fresh
sed -e 's|device="/dev/sdb"|device="/dev/nonexist"|' "$FX/web1-prepare.xml" >"$T/nodev.xml"
hook 3 "$T/nodev.xml" prepare begin
same "plan error: the domain's line" "$(head -n 1 <<<"$ERR")" "iobandctl: domain web1 (prepare):6: <ioband:disk target='vda'>.device: /dev/nonexist: No such file or directory"
same "plan error: nothing changed" "$(snapshot)" "$empty"

# As "virsh metadata --set" writes it: only the top element qualified.
fresh
sed -e 's|<ioband:disk |<disk |; s|<ioband:interface |<interface |' "$FX/web1-prepare.xml" >"$T/virsh.xml"
hook 0 "$T/virsh.xml" prepare begin
has "unqualified children work" "$(snapshot)" "ioband-web1-vda IOBAND-apply-ioband-web1-vda"
hook 0 "$T/virsh.xml" release end

# A NUL byte in the XML is refused, not cut short.
{ head -c 200 "$FX/web1-prepare.xml"; printf '\0'; tail -c +201 "$FX/web1-prepare.xml"; } >"$T/nul.xml"
before=$(snapshot)
hook 1 "$T/nul.xml" prepare begin
has "NUL byte" "$ERR" "cannot read the domain XML on stdin"
same "NUL byte: nothing changed" "$(snapshot)" "$before"

# The message gives the line: the bad weight is on line 6 of the XML.
sed -e 's/weight="200"/weight="0"/' "$FX/web1-prepare.xml" >"$T/bad.xml"
hook 3 "$T/bad.xml" prepare begin
has "line number" "$ERR" "domain web1 (prepare):6: <ioband:disk target='vda'> weight"

# An interface policy needs the host file's network section.
fresh
grep -v -e '^network:' -e 'uplink:' -e 'rate:' "$IOBAND_HOST_FILE" >"$T/nonet.yaml"
IOBAND_HOST_FILE=$T/nonet.yaml hook 3 "$FX/web1-prepare.xml" prepare begin
has "needs network" "$ERR" "<ioband:interface mac='52:54:00:6b:3c:58'>: needs a network section (uplink and rate) in the host file $T/nonet.yaml"
same "needs network: nothing changed" "$(snapshot)" "$empty"

# A libvirt guest named like a guest of the host file.
printf 'guests:\n  - name: web1\n    cgroup: machine.slice/web1\n' >>"$T/nonet.yaml"
IOBAND_HOST_FILE=$T/nonet.yaml hook 0 "$FX/plain.xml" prepare begin plain	# no policy: not looked at
sed -e '/<ioband:interface /d' "$FX/web1-prepare.xml" >"$T/noif.xml"
IOBAND_HOST_FILE=$T/nonet.yaml hook 3 "$T/noif.xml" prepare begin
has "name clash" "$ERR" "domain web1 (prepare):5: <ioband:ioband>.name: duplicate guest \"web1\" (first at $T/nonet.yaml:"

# The domain name must match, and must be usable in device names.
hook 1 "$FX/web1-prepare.xml" prepare begin other
has "name mismatch" "$ERR" "the domain XML names \"web1\""
hook 1 "$FX/web1-prepare.xml" prepare begin ../x
has "path name" "$ERR" "not a usable domain name"
# Control characters in the name (from libvirt) are escaped in messages.
hook 1 "$FX/web1-prepare.xml" prepare begin $'web\e[2J1'
same "name with ESC: escaped" "$ERR" 'iobandctl: guest "web\x1b[2J1": prepare: the domain XML names "web1"
iobandctl: guest "web\x1b[2J1": prepare: refused'

# ---- started fails (no cgroup for qemu): refused, the prepared state stays
fresh
hook 0 "$FX/web1-prepare.xml" prepare begin
prepared=$(snapshot)
rm "$IOBAND_LIBVIRT_RUNDIR/web1.pid"
hook 1 "$FX/web1-started.xml" started begin
has "started without pid file" "$ERR" "cannot read qemu's pid file $IOBAND_LIBVIRT_RUNDIR/web1.pid"
same "started failed: prepared state kept" "$(snapshot)" "$prepared"
has "still prepared" "$(cat "$IOBAND_STATE_DIR/libvirt/web1.json")" '"prepared"'
# Without a shared disk the cgroup is not needed: started works without it.
sed -e '/shared="images"/d' "$FX/web1-started.xml" >"$T/noshared.xml"
hook 0 "$T/noshared.xml" started begin
has "started without cgroup: shaped" "$(tail -n 1 "$T/tc.log")" "--guest vnet0:weight=3"
hook 0 "$T/noshared.xml" stopped end
# A failing action midway (the group attach) is rolled back.
echo 4242 >"$IOBAND_LIBVIRT_RUNDIR/web1.pid"
IOBAND_FAIL_AT=2 hook 4 "$FX/web1-started.xml" started begin
same "rolled back" "$(snapshot)" "$prepared"
has "still prepared after rollback" "$(cat "$IOBAND_STATE_DIR/libvirt/web1.json")" '"prepared"'
# reconnect never fails: it would kill a running guest.
IOBAND_FAIL_AT=2 hook 0 "$FX/web1-started.xml" reconnect begin
has "reconnect warns" "$ERR" "reconnect: policy not re-applied"
hook 0 "$FX/web1-started.xml" release end
same "release after failures" "$(snapshot | grep -c web1)" "0"

# ---- migrate: validate and plan, change nothing
fresh
hook 0 "$FX/web1-prepare.xml" migrate begin
same "migrate check changes nothing" "$(snapshot)" "$empty"
sed -e 's|device="/dev/sdb"|device="/dev/sdx"|' "$FX/web1-prepare.xml" >"$T/mig.xml"
hook 3 "$T/mig.xml" migrate begin
has "migrate: missing device" "$ERR" "domain web1 (migrate):6: <ioband:disk target='vda'>.device: /dev/sdx: No such file or directory"
has "migrate: refused" "$ERR" "guest web1: migrate: refused"
sed -e 's|shared="images"|shared="scratch"|' "$FX/web1-prepare.xml" >"$T/mig.xml"
hook 3 "$T/mig.xml" migrate begin
has "migrate: shared device unknown here" "$ERR" "no device \"scratch\" in devices"
# Another running guest already holds the disk.
sed -e 's/<name>web1</<name>web2</' -e 's/ioband-web1-vda/ioband-web2-vda/' "$FX/web1-prepare.xml" >"$T/web2.xml"
hook 0 "$FX/web1-prepare.xml" prepare begin
hook 3 "$T/web2.xml" migrate begin web2
has "migrate: disk taken" "$ERR" "/dev/sdb is already used by"
hook 0 "$FX/web1-started.xml" release end

# ---- min, max, burst: validated as the host file's, applied as apply does
fresh
bad "bad min" 's/weight="200"/weight="200" min="500 iops"/' "<ioband:disk target='vda'> min: \"500 iops\": must be a rate: <n>iops"
bad "min above max" 's/weight="200"/weight="200" min="3000iops" max="2000iops"/' "<ioband:disk target='vda'> min: 3000iops is above max 2000iops"
bad "burst without max" 's/weight="300"/weight="300" burst="4000iops\/10"/' "<ioband:disk target='vdb'> burst: needs max"
bad "burst in another unit" 's/weight="200"/weight="200" max="2000iops" burst="40m\/10"/' "<ioband:disk target='vda'> burst: \"40m/10\" is in bytes/s, max 2000iops in iops"
bad "burst not above max" 's/weight="200"/weight="200" max="2000iops" burst="2000iops\/10"/' "burst: \"2000iops/10\": the rate must be above max 2000iops"
bad "burst seconds" 's/weight="200"/weight="200" max="20m" burst="40m\/0"/' "burst: \"40m/0\": the seconds must be 1..3600"
bad "max below 1k" 's/weight="200"/weight="200" max="512"/' "<ioband:disk target='vda'> max: \"512\": must be at least 1k bytes/s"
bad "max with a leading zero" 's/weight="200"/weight="200" max="02000iops"/' "<ioband:disk target='vda'> max: \"02000iops\": no leading zeros (octal to some readers, decimal to others)"

# The messages the fake backend accepted, one a line.
msglog() {
	python3 - "$IOBAND_FAKE_DM" <<'P'
import json, sys
for m in json.load(open(sys.argv[1])).get("log", []):
    print(m)
P
}
lim='s/weight="200"/weight="200" min="500iops" max="2000iops" burst="4000iops\/10"/; s/weight="300"/weight="300" max="20m"/'
sed -e "$lim" "$FX/web1-prepare.xml" >"$T/lim-prepare.xml"
sed -e "$lim" "$FX/web1-started.xml" >"$T/lim-started.xml"
hook 0 "$T/lim-prepare.xml" prepare begin
has "limits in the new table" "$(snapshot)" "ioband-web1-vda IOBAND-apply-ioband-web1-vda ioband 8:16 ssd0 0 0 none weight 0 :200,r=500iops,l=2000iops,b=4000iops/10"
hook 0 "$T/lim-started.xml" started begin
cgid=$(stat -c %i "$T/cg/$SCOPE")
same "started: the group's weight, then its limit" "$(msglog)" "ioband-images: attach $cgid
ioband-images: weight $cgid:300
ioband-images: limit $cgid:20m"
# The metadata changed (virsh metadata --live), applied again: only the difference.
sed -e 's/max="20m"/max="40m" burst="80m\/5"/' "$T/lim-started.xml" >"$T/lim2.xml"
hook 0 "$T/lim2.xml" reconnect begin
same "reconnect: changed live" "$(msglog | tail -n 2)" "ioband-images: limit $cgid:40m
ioband-images: burst $cgid:80m/5"
hook 0 "$T/lim2.xml" release end

# ---- migrate: refused when the reservations would exceed the capacity
fresh
cat "$IOBAND_HOST_FILE" - >"$T/cap.yaml" <<'Y'
guests:
  - name: db
    cgroup: machine.slice/db
    create-cgroup: true
    disks:
      - ioband: images
        min: 600iops
Y
sed -i 's/^device-groups:$/device-groups:\n  - id: hdd0\n    capacity: [1000iops, 100m]/' "$T/cap.yaml"
sed -e 's/weight="300"/weight="300" min="500iops"/' "$FX/web1-prepare.xml" >"$T/mig.xml"
IOBAND_HOST_FILE=$T/cap.yaml hook 3 "$T/mig.xml" migrate begin
has "migrate: reservations above capacity" "$ERR" "domain web1 (migrate):7: <ioband:disk target='vdb'>.min: the reservations in device group hdd0 add up to 1100iops, above its capacity 1000iops ($T/cap.yaml:"
has "migrate: capacity refused" "$ERR" "guest web1: migrate: refused"
same "migrate refused: nothing changed" "$(snapshot)" "$empty"
sed -e 's/weight="300"/weight="300" min="400iops"/' "$FX/web1-prepare.xml" >"$T/mig.xml"
IOBAND_HOST_FILE=$T/cap.yaml hook 0 "$T/mig.xml" migrate begin
# Another unit is measured against the other capacity.
sed -e 's/weight="300"/weight="300" min="101m"/' "$FX/web1-prepare.xml" >"$T/mig.xml"
IOBAND_HOST_FILE=$T/cap.yaml hook 3 "$T/mig.xml" migrate begin
has "migrate: bytes above capacity" "$ERR" "add up to 101m, above its capacity 100m"

# ---- the host file apply last applied is gone: the hook refuses, rather
# than falling back to /etc/ioband/host.yaml or none and removing what
# apply made (its shared devices, the uplink's shaping)
fresh
cp "$IOBAND_HOST_FILE" "$T/applied.yaml"
run 0 apply "$T/applied.yaml"
mv "$T/applied.yaml" "$T/moved.yaml"
before=$(snapshot)
IOBAND_HOST_FILE='' hook 3 "$FX/web1-prepare.xml" prepare begin
has "recorded host file gone" "$ERR" "$T/applied.yaml: No such file or directory (the host file iobandctl apply last applied, as $IOBAND_STATE_DIR/host-file says: apply it again from where it is now, or set IOBAND_HOST_FILE)"
same "recorded host file gone: nothing changed" "$(snapshot)" "$before"
[[ $before == *ioband-images* ]] || { echo "FAIL: the applied host file made no shared device" >&2; FAILS=$((FAILS + 1)); }

# ---- a damaged record's phase (null, a number, another word) is refused
# as not a record, not read as "prepared" or dereferenced
fresh
hook 0 "$FX/web1-prepare.xml" prepare begin
good=$(cat "$IOBAND_STATE_DIR/libvirt/web1.json")
before=$(snapshot)
for ph in null 5 '"stopped"'; do
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); r["phase"] = json.loads(sys.argv[2]); json.dump(r, open(sys.argv[1], "w"))' \
		"$IOBAND_STATE_DIR/libvirt/web1.json" "$ph"
	run 3 apply "$IOBAND_HOST_FILE"
	has "record with phase $ph" "$ERR" "$IOBAND_STATE_DIR/libvirt/web1.json: not an ioband hook record"
	same "record with phase $ph: nothing changed" "$(snapshot)" "$before"
	echo "$good" >"$IOBAND_STATE_DIR/libvirt/web1.json"
done
hook 0 "$FX/web1-prepare.xml" release end

echo "hook-test: $((N - FAILS)) checks passed, $FAILS failed"
((FAILS == 0))
