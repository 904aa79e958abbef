#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# ioband-tc-json.py - the JSON side of ioband-tc: reads `tc -j` output, never
# changes anything.  ioband-tc (POSIX sh) runs every tc/ip command that
# modifies the system; this helper only reads state and prints text.
#
#   snapshot DEV               JSON record of DEV's root and ingress qdiscs
#   record DEV SNAPFILE        snapshot into SNAPFILE, then check-restorable
#   facts DEV                  "root KIND HANDLE", "leaf PARENT KIND"...,
#                              "class ID"..., "redirect IFB|none",
#                              "ingress ingress|clsact|none"
#   record-state SNAPFILE DEV  "same" if SNAPFILE records DEV as it is now
#                              (same ifindex), "other" if DEV was re-created
#                              (another ifindex), "gone" if there is no DEV;
#                              exit 3 printing why if DEV is there and
#                              SNAPFILE is not a readable record of it
#   check-restorable SNAPFILE  exit 0 if clear can put the record back exactly,
#                              else print the reason and exit 3
#   restore-plan SNAPFILE      tc argument lines that put DEV back as recorded
#   compare SNAPFILE           exit 0 if DEV matches the record, else print
#                              the difference and exit 3
#   forget SNAPFILE            rewrite the record as "kernel default root, no
#                              ingress" (apply --force on a configuration that
#                              cannot be re-created)
#   classes DEV                class ids of DEV's root qdisc, one a line
#   redirect-target DEV        IFB that DEV's ingress redirects to when the
#                              only ingress filter is ioband-tc's, else "none"
#   leaf-kind DEV CLASSID      kind of the qdisc under CLASSID, or "none"
#   root-kind DEV              "KIND HANDLE" of DEV's root qdisc, or "none -"
#   valid-ip ADDR              exit 0 if ADDR is an IPv4/IPv6 address[/prefix];
#                              prints "4 ADDR/LEN" or "6 ADDR/LEN"
#   clash                      reads "GUEST mac MAC" / "GUEST ip ADDR/LEN"
#                              lines; exit 3 printing the first pair of
#                              guests whose classifiers match the same packets
#                              (same MAC, overlapping networks)
#   link-kind DEV              DEV's link kind (bridge, veth, ...) or "none"
#   ifindex DEV                DEV's ifindex, nothing if DEV does not exist
#   show STATEDIR [--json]     summary of an applied configuration
#
# Exit codes: 0 ok, 1 runtime failure (tc failed), 2 usage, 3 "no" answer.

import ipaddress
import json
import os
import re
import subprocess
import sys

TC = os.environ.get("IOBAND_TC_TC", "tc")

# Root qdiscs that clear can re-create exactly from their `tc -j` options.
# Anything else is restorable only when it is the kernel default (handle 0:).
RESTORABLE = ("pfifo", "bfifo", "pfifo_head_drop", "pfifo_fast", "noqueue",
              "tbf")


def tcj(*args):
    """Run `tc -j ARGS`; return the parsed list ([] on empty output)."""
    try:
        out = subprocess.run((TC, "-j") + args, check=True,
                             capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.stderr.write("ioband-tc: tc -j %s: %s" % (" ".join(args),
                                                     e.stderr or "failed\n"))
        sys.exit(1)
    out = out.strip()
    return json.loads(out) if out else []


RATE_UNITS = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
              "kibit": 1024, "mibit": 1024 ** 2, "gibit": 1024 ** 3,
              "tibit": 1024 ** 4}
CLASS_RE = re.compile(r"^class (\S+) (\S+) (?:root|parent (\S+))"
                      r"(?: leaf (\S+))?.*? rate (\S+) ceil (\S+)"
                      r"(?: burst (\S+) cburst (\S+))?")
SENT_RE = re.compile(r"^\s*Sent (\d+) bytes (\d+) pkt \(dropped (\d+), "
                     r"overlimits (\d+)")


def text_rate(s):
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]+)", s)
    if not m or m.group(2).lower() not in RATE_UNITS:
        return 0
    return int(float(m.group(1)) * RATE_UNITS[m.group(2).lower()])


def tc_classes(dev):
    """Classes of dev with counters.

    iproute2 6.1 prints HTB classes as text even under -j, so this one
    reads the text form: "class htb 1:10 parent 1:1 leaf 10: prio 0 rate
    60Mbit ceil 100Mbit burst 30000b cburst 50000b" then " Sent N bytes...".
    """
    try:
        out = subprocess.run((TC, "-s", "class", "show", "dev", dev),
                             check=True, capture_output=True,
                             text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.stderr.write("ioband-tc: tc class show dev %s: %s" % (
            dev, e.stderr or "failed\n"))
        sys.exit(1)
    classes = []
    for line in out.splitlines():
        m = CLASS_RE.match(line)
        if m:
            classes.append({
                "kind": m.group(1), "classid": m.group(2),
                "parent": m.group(3) or "root", "leaf": m.group(4),
                "rate_bit": text_rate(m.group(5)),
                "ceil_bit": text_rate(m.group(6)),
                "burst": m.group(7), "cburst": m.group(8),
                "bytes": 0, "packets": 0, "drops": 0, "overlimits": 0})
            continue
        m = SENT_RE.match(line)
        if m and classes:
            classes[-1].update(bytes=int(m.group(1)),
                               packets=int(m.group(2)),
                               drops=int(m.group(3)),
                               overlimits=int(m.group(4)))
    return classes


def ip_link(dev):
    """dev's link in the current network namespace (ip -j -d link show), or
    None if absent.

    Asks netlink, not /sys: a caller that entered the namespace with
    setns(2) may still see another namespace's sysfs."""
    r = subprocess.run(("ip", "-j", "-d", "link", "show", "dev", dev),
                       capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        return None
    return json.loads(r.stdout)[0]


def ifindex(dev):
    """ifindex of dev, None if absent."""
    link = ip_link(dev)
    return None if link is None else link["ifindex"]


def snapshot(dev):
    qdiscs = tcj("qdisc", "show", "dev", dev)
    root = None
    ingress = None
    children = 0
    for q in qdiscs:
        if q.get("root"):
            root = {"kind": q["kind"], "handle": q["handle"],
                    "options": q.get("options", {})}
        elif q["kind"] in ("ingress", "clsact"):
            ingress = {"kind": q["kind"], "handle": q["handle"]}
        else:
            children += 1
    classes = 0
    root_filters = 0
    if root is not None and root["handle"] != "0:":
        classes = len(tc_classes(dev))
        root_filters = nfilters("dev", dev, "parent", root["handle"])
    ingress_filters = 0
    if ingress is not None:
        ingress_filters = nfilters("dev", dev, "ingress")
        if ingress["kind"] == "clsact":
            ingress_filters += nfilters("dev", dev, "egress")
    return {"ifname": dev, "ifindex": ifindex(dev), "root": root,
            "children": children, "classes": classes,
            "root_filters": root_filters, "ingress": ingress,
            "ingress_filters": ingress_filters}


def nfilters(*args):
    """Number of filters (distinct protocol/priority pairs) tc lists.

    tc -j lists a u32 filter as 3 entries (priority, hash table, node)."""
    return len({(f.get("protocol"), f.get("pref"), f.get("chain"))
                for f in tcj("filter", "show", *args)})


def redirect_target(dev):
    """The IFB of ioband-tc's ingress redirect (prio 1, u32 match-all, mirred
    egress redirect) when it is the only ingress filter on dev."""
    filters = tcj("filter", "show", "dev", dev, "ingress")
    if len({(f.get("protocol"), f.get("pref")) for f in filters}) != 1:
        return "none"
    nodes = [f for f in filters if "actions" in f.get("options", {})]
    if len(nodes) != 1 or nodes[0]["pref"] != 1 or \
            nodes[0]["protocol"] != "all":
        return "none"
    opts = nodes[0]["options"]
    acts = opts["actions"]
    if opts.get("match", {}).get("mask") != "0" or len(acts) != 1 or \
            acts[0].get("kind") != "mirred" or \
            acts[0].get("mirred_action") != "redirect" or \
            acts[0].get("direction") != "egress":
        return "none"
    return acts[0].get("to_dev", "none")


def load(path):
    with open(path) as f:
        return json.load(f)


def record_state(path, dev):
    """How the record at path relates to dev now: ("same"|"other"|"gone",
    None), or (None, why) when dev is there and the file is not a record of
    it with what restore_plan and difference read (damaged)."""
    now = ifindex(dev)
    if now is None:
        return "gone", None
    try:
        snap = load(path)
    except OSError as e:
        return None, "cannot be read (%s)" % e.strerror
    except ValueError as e:
        return None, "damaged record: not JSON (%s)" % e
    if not isinstance(snap, dict):
        return None, "damaged record: not a JSON object"
    if snap.get("ifname") != dev:
        return None, "damaged record: ifname %s, not %s" % (
            json.dumps(snap.get("ifname")), dev)
    idx = snap.get("ifindex")
    if type(idx) is not int or idx <= 0:
        return None, "damaged record: ifindex %s" % json.dumps(idx)
    for key in ("root", "ingress"):
        if key not in snap:
            return None, "damaged record: no %s" % key
        q = snap[key]
        if q is not None and (
                not isinstance(q, dict) or
                not isinstance(q.get("kind"), str) or
                not isinstance(q.get("handle"), str) or
                not isinstance(q.get("options", {}), dict)):
            return None, "damaged record: %s %s" % (key, json.dumps(q))
    return ("same" if idx == now else "other"), None


def restorable(snap):
    root = snap["root"]
    if root is not None and root["handle"] != "0:":
        if root["kind"] not in RESTORABLE:
            return "root qdisc %s %s is not one ioband-tc can re-create" % (
                root["kind"], root["handle"])
        if snap["children"] or snap["classes"] or snap["root_filters"]:
            return "root qdisc %s %s has classes, child qdiscs or filters" % (
                root["kind"], root["handle"])
    ing = snap["ingress"]
    if ing is not None and snap["ingress_filters"]:
        return "%s qdisc has %d filter(s) (libvirt <bandwidth>?)" % (
            ing["kind"], snap["ingress_filters"])
    return None


def qdisc_args(kind, opts):
    """tc arguments that re-create a classless qdisc from its -j options."""
    a = [kind]
    if kind in ("pfifo", "bfifo", "pfifo_head_drop"):
        if "limit" in opts:
            a += ["limit", str(opts["limit"])]
    elif kind == "tbf":
        a += ["rate", "%dbit" % (opts["rate"] * 8),
              "burst", "%db" % opts["burst"]]
        if "limit" in opts:
            a += ["limit", "%db" % opts["limit"]]
        else:
            a += ["latency", "%dus" % opts["lat"]]
        if "peakrate" in opts:
            a += ["peakrate", "%dbit" % (opts["peakrate"] * 8),
                  "mtu", "%db" % opts["mtu"]]
    return a


def restore_plan(snap):
    dev = snap["ifname"]
    cur = snapshot(dev)
    lines = []
    if cur["ingress"] is not None:
        lines.append(["qdisc", "del", "dev", dev, cur["ingress"]["kind"]])
    if snap["ingress"] is not None:
        if snap["ingress"]["kind"] == "clsact":
            lines.append(["qdisc", "add", "dev", dev, "clsact"])
        else:
            lines.append(["qdisc", "add", "dev", dev, "handle", "ffff:",
                          "ingress"])
    root = snap["root"]
    if root is None or root["handle"] == "0:":
        if cur["root"] is not None and cur["root"]["handle"] != "0:":
            lines.append(["qdisc", "del", "dev", dev, "root"])
    else:
        lines.append(["qdisc", "replace", "dev", dev, "root", "handle",
                      root["handle"]] + qdisc_args(root["kind"],
                                                   root["options"]))
    return lines


def difference(snap):
    cur = snapshot(snap["ifname"])
    diffs = []
    for key in ("root", "ingress"):
        a, b = snap[key], cur[key]
        if a == b:
            continue
        # "No root recorded" (the device was down, or apply --force) and a
        # kernel-default root now are the same configuration.
        if key == "root" and a is None and b and b["handle"] == "0:":
            continue
        # A default root (0:) is re-attached by the kernel on "del root";
        # equal kind and options is all that can be asked of it.
        if key == "root" and a and b and a["handle"] == b["handle"] == "0:" \
                and a["kind"] == b["kind"] and a["options"] == b["options"]:
            continue
        diffs.append("%s: recorded %s, now %s" % (key, json.dumps(a),
                                                 json.dumps(b)))
    return diffs


def valid_ip(arg):
    try:
        net = ipaddress.ip_network(arg, strict=True)
    except ValueError:
        return None
    return "%d %s" % (net.version, net.with_prefixlen)


def clash(lines):
    """First pair of guests whose classifiers overlap, as a message."""
    seen = []
    for line in lines:
        guest, kind, value = line.split()
        if kind == "ip":
            value = ipaddress.ip_network(value)
        for g, k, v in seen:
            if g == guest or k != kind:
                continue
            if kind == "mac" and v == value:
                return "--guest %s: mac=%s is also --guest %s's" % (
                    guest, value, g)
            if kind == "ip" and v.version == value.version and \
                    v.overlaps(value):
                return "--guest %s: ip=%s overlaps --guest %s's ip=%s" % (
                    guest, value, g, v)
        seen.append((guest, kind, value))
    return None


def link_kind(dev):
    """dev's link kind (bridge, veth, ...), "none" if absent or plain."""
    link = ip_link(dev) or {}
    return link.get("linkinfo", {}).get("info_kind", "none")


# ---- show ----------------------------------------------------------------

def fmt_rate(bps):
    """bit/s -> short human form, as tc prints it."""
    for unit, scale in (("Gbit", 1e9), ("Mbit", 1e6), ("Kbit", 1e3)):
        if bps >= scale:
            v = bps / scale
            return ("%.0f%s" if v == int(v) else "%.2f%s") % (v, unit)
    return "%dbit" % bps


def read_kv(path):
    kv = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" in line:
                    k, v = line.split("=", 1)
                    kv[k] = v
    except OSError:
        pass
    return kv


def dev_tree(dev, kinds=("htb",)):
    """Classes (with stats) and leaf qdiscs of dev, or None if it is gone."""
    if ifindex(dev) is None:
        return None
    qd = tcj("-s", "qdisc", "show", "dev", dev)
    root = next((q for q in qd if q.get("root")), None)
    classes = []
    if root and root["kind"] in kinds:
        for c in tc_classes(dev):
            leaf = next((q for q in qd if q.get("parent") == c["classid"]),
                        None)
            c["leaf"] = leaf["kind"] if leaf else None
            del c["kind"]
            classes.append(c)
    ingress = [q["kind"] for q in qd if q["kind"] in ("ingress", "clsact")]
    return {"root": {"kind": root["kind"], "handle": root["handle"]}
            if root else None,
            "ingress": ingress[0] if ingress else None,
            "classes": classes}


def show(statedir, as_json):
    cfg = read_kv(os.path.join(statedir, "plan"))
    if not cfg:
        if as_json:
            print(json.dumps({"applied": False}))
        else:
            print("ioband-tc: nothing applied")
        return
    uplink = cfg["uplink"]
    guests = [g for g in cfg.get("guests", "").split() if g]
    try:
        with open(os.path.join(statedir, "status")) as f:
            status = f.read().strip()
    except OSError:
        status = "unknown"
    doc = {"applied": True, "status": status, "uplink": uplink,
           "rate_bit": int(cfg["rate_bit"]), "leaf": cfg.get("leaf"),
           "host_weight": int(cfg.get("host_weight", "1")),
           "host_guaranteed_bit": int(cfg.get("host_rate_bit", "0")),
           "uplink_tree": dev_tree(uplink), "guests": []}
    down_ifb = cfg.get("uplink_ifb") or None
    doc["down_rate_bit"] = int(cfg["down_rate_bit"]) \
        if cfg.get("down_rate_bit") else None
    doc["down_ifb"] = down_ifb
    doc["down_tree"] = dev_tree(down_ifb) if down_ifb else None
    for g in guests:
        p = "g_%s_" % g
        ifb = cfg.get(p + "ifb") or None
        ent = {"ifname": g,
               "weight": int(cfg[p + "weight"]),
               "classid": cfg[p + "classid"],
               "guaranteed_bit": int(cfg[p + "rate_bit"]),
               "ceil_bit": int(cfg[p + "ceil_bit"]),
               "down_ceil_bit": int(cfg[p + "down_bit"]),
               "down_guaranteed_bit": int(cfg[p + "drate_bit"])
               if cfg.get(p + "drate_bit") else None,
               "up_cap_bit": int(cfg[p + "up_cap_bit"])
               if cfg.get(p + "up_cap_bit") else None,
               "match": cfg.get(p + "match", "").split(),
               "ifb": ifb,
               "tap_tree": dev_tree(g),
               "ifb_tree": dev_tree(ifb) if ifb else None}
        doc["guests"].append(ent)
    if as_json:
        print(json.dumps(doc, indent=2, sort_keys=True))
        return

    def stat(c):
        return "%d bytes %d pkts %d drops" % (c["bytes"], c["packets"],
                                             c["drops"])

    print("uplink %s: %s total%s, leaf qdisc %s%s" % (
        uplink, fmt_rate(doc["rate_bit"]),
        ", downloads %s%s" % (fmt_rate(doc["down_rate_bit"]),
                              " via %s" % down_ifb if down_ifb else "")
        if doc["down_rate_bit"] else "", doc["leaf"],
        "" if status == "applied" else " (status: %s)" % status))
    tree = doc["uplink_tree"]
    if tree is None:
        print("  (interface is gone)")
    else:
        for c in tree["classes"]:
            if c["classid"] == "1:2":
                print("  class 1:2  unclassified  rate %s ceil %s  %s" % (
                    fmt_rate(c["rate_bit"]), fmt_rate(c["ceil_bit"]),
                    stat(c)))
    for g in doc["guests"]:
        print("guest %s: weight %d, guaranteed %s, ceil %s on %s (class %s),"
              " match %s" % (
                  g["ifname"], g["weight"], fmt_rate(g["guaranteed_bit"]),
                  fmt_rate(g["ceil_bit"]), uplink, g["classid"],
                  " ".join(g["match"])))
        if tree:
            for c in tree["classes"]:
                if c["classid"] == g["classid"]:
                    print("  upload via %s:  %s" % (uplink, stat(c)))
        dt = doc["down_tree"]
        if dt:
            for c in dt["classes"]:
                if c["classid"] == g["classid"]:
                    print("  download via %s ingress -> %s: guaranteed %s,"
                          " ceil %s:  %s" % (
                              uplink, doc["down_ifb"],
                              fmt_rate(g["down_guaranteed_bit"] or 0),
                              fmt_rate(c["ceil_bit"]), stat(c)))
        t = g["tap_tree"]
        if t is None:
            print("  (interface is gone)")
            continue
        for c in t["classes"]:
            print("  download (%s egress) ceil %s:  %s" % (
                g["ifname"], fmt_rate(c["ceil_bit"]), stat(c)))
        if g["ifb"]:
            it = g["ifb_tree"]
            for c in (it["classes"] if it else []):
                print("  upload cap (%s ingress -> %s) %s:  %s" % (
                    g["ifname"], g["ifb"], fmt_rate(c["ceil_bit"]), stat(c)))
        else:
            print("  upload cap: none")


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: ioband-tc-json.py COMMAND ARGS\n")
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "snapshot" and len(args) == 1:
        print(json.dumps(snapshot(args[0]), sort_keys=True))
    elif cmd == "record-state" and len(args) == 2:
        state, why = record_state(args[0], args[1])
        if why:
            print(why)
            return 3
        print(state)
    elif cmd == "check-restorable" and len(args) == 1:
        why = restorable(load(args[0]))
        if why:
            print(why)
            return 3
    elif cmd == "restore-plan" and len(args) == 1:
        for line in restore_plan(load(args[0])):
            print(" ".join(line))
    elif cmd == "compare" and len(args) == 1:
        diffs = difference(load(args[0]))
        for d in diffs:
            print(d)
        return 3 if diffs else 0
    elif cmd == "forget" and len(args) == 1:
        snap = load(args[0])
        snap.update(root=None, ingress=None, children=0, classes=0,
                    root_filters=0, ingress_filters=0, forced=True)
        with open(args[0], "w") as f:
            f.write(json.dumps(snap, sort_keys=True) + "\n")
    elif cmd == "classes" and len(args) == 1:
        for c in tc_classes(args[0]):
            print(c["classid"])
    elif cmd == "record" and len(args) == 2:
        snap = snapshot(args[0])
        with open(args[1], "w") as f:
            f.write(json.dumps(snap, sort_keys=True) + "\n")
        why = restorable(snap)
        if why:
            print(why)
            return 3
    elif cmd == "facts" and len(args) == 1:
        dev = args[0]
        qd = tcj("qdisc", "show", "dev", dev)
        root = next((q for q in qd if q.get("root")), None)
        print("root %s %s" % ((root["kind"], root["handle"]) if root
                              else ("none", "-")))
        for q in qd:
            if not q.get("root") and q["kind"] not in ("ingress", "clsact"):
                print("leaf %s %s" % (q.get("parent"), q["kind"]))
        if root is not None and root["handle"] != "0:":
            for c in tc_classes(dev):
                print("class %s" % c["classid"])
        print("redirect %s" % redirect_target(dev))
        ing = next((q["kind"] for q in qd
                    if q["kind"] in ("ingress", "clsact")), "none")
        print("ingress %s" % ing)
    elif cmd == "redirect-target" and len(args) == 1:
        print(redirect_target(args[0]))
    elif cmd == "leaf-kind" and len(args) == 2:
        q = [q for q in tcj("qdisc", "show", "dev", args[0])
             if q.get("parent") == args[1]]
        print(q[0]["kind"] if q else "none")
    elif cmd == "root-kind" and len(args) == 1:
        r = snapshot(args[0])["root"]
        print("%s %s" % (r["kind"], r["handle"]) if r else "none -")
    elif cmd == "valid-ip" and len(args) == 1:
        r = valid_ip(args[0])
        if r is None:
            return 3
        print(r)
    elif cmd == "clash" and not args:
        why = clash(line for line in sys.stdin.read().splitlines() if line)
        if why:
            print(why)
            return 3
    elif cmd == "ifindex" and len(args) == 1:
        i = ifindex(args[0])
        if i is not None:
            print(i)
    elif cmd == "link-kind" and len(args) == 1:
        print(link_kind(args[0]))
    elif cmd == "show" and len(args) in (1, 2):
        show(args[0], len(args) == 2 and args[1] == "--json")
    else:
        sys.stderr.write("ioband-tc-json.py: bad command\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
