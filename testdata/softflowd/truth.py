#!/usr/bin/env python3
"""Ground truth for one fixture: tshark's decoding of every NetFlow/IPFIX data record.

Usage: truth.py [--port N]... CAPTURE OUT.csv
Prints one summary line (export packets, records) on stdout.

tshark 4.0 trusts the NetFlow v9 header `count`, which softflowd fills with the number of
*data* records only (templates left out, unlike RFC 3954), so plain tshark stops early and
misses the data FlowSets of a packet whose templates already reach `count`. As for the shared
captures' truth (TRUTH.md, finding 1), tshark here decodes a temporary copy in which every v9
header count is set to 65535; the summary line also gives what plain tshark decodes.

One row per data record, in file order. Columns:
  frame, frame_time_epoch, interface_id (pcapng interface, empty for pcap), exporter_ip,
  exporter_port, collector_port, version, domain_id (v5 engine_type/engine_id, v9 source id,
  IPFIX observation domain), set_id (template id; empty for v5), kind (flow | options),
  src_ip, dst_ip, src_port, dst_port, proto, tcp_flags, tos, icmp_type_code (type*256+code, from
  IE 32 or IE 176/177; v5 has none: softflowd puts type*256+code in dst_port there),
  ip_version (IE 60), flow_end_reason (IE 136), bytes, packets,
  first_raw, last_raw (as tshark shows them: seconds of sysUpTime for v1/v5/v7/v9 and for IPFIX
  IE 22/21), first_epoch, last_epoch (UTC unix seconds: v1/v5/v7/v9 from the header's unix time and
  sysUpTime, whole seconds only in v9; IPFIX from systemInitTimeMilliseconds, IE 160, sent by
  softflowd in an options record), sys_init_epoch (options records). Options records (kind
  options: softflowd's v9 sampling/interface record, its IPFIX systemInitTime record) have
  no flow columns.
"""
import csv
import os
import re
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

COLUMNS = ["frame", "frame_time_epoch", "interface_id", "exporter_ip", "exporter_port", "collector_port",
           "version", "domain_id", "set_id", "kind", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
           "tcp_flags", "tos", "icmp_type_code", "ip_version", "flow_end_reason", "bytes", "packets",
           "first_raw", "last_raw", "first_epoch", "last_epoch", "sys_init_epoch"]


def packet_offsets(path):
    """File offset of each packet's first byte (pcap or pcapng; one section, as written here)."""
    data = open(path, "rb").read()
    out = []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        off = 24
        while off + 16 <= len(data):
            caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            out.append(off + 16)
            off += 16 + caplen
        return out
    e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off = 0
    while off + 12 <= len(data):
        typ, blen = struct.unpack(e + "II", data[off:off + 8])
        if typ == 6:
            out.append(off + 28)
        off += blen
    return out


def parse_abs(s):
    """'May  6, 2024 10:01:52.020000000 UTC' -> unix seconds (float)."""
    m = re.match(r"(\w{3})\s+(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?", s.strip())
    if not m:
        return None
    mon, day, year, hh, mm, ss, frac = m.groups()
    dt = datetime.strptime(f"{mon} {day} {year} {hh}:{mm}:{ss}", "%b %d %Y %H:%M:%S").replace(tzinfo=timezone.utc)
    return dt.timestamp() + float("0." + (frac or "0"))


def pdml(path, ports):
    args = ["tshark", "-r", path, "-T", "pdml"]
    for p in ports:
        args += ["-d", f"udp.port=={p},cflow", "-d", f"tcp.port=={p},cflow"]
    out = subprocess.run(args, capture_output=True, check=True, env=dict(os.environ, TZ="UTC")).stdout
    return ET.fromstring(out)


def fields(elem):
    d = {}
    for f in elem.iter("field"):
        n = f.get("name")
        if n and n not in d:
            d[n] = f
    return d


def show(d, *names):
    for n in names:
        if n in d:
            return d[n].get("show", "")
    return ""


def icmp_type_code(d):
    if "cflow.icmp_type_code_ipv4" in d:
        return str(int(d["cflow.icmp_type_code_ipv4"].get("value"), 16))
    if "cflow.icmp_ipv6_type" in d:
        return str(int(show(d, "cflow.icmp_ipv6_type")) * 256 + int(show(d, "cflow.icmp_ipv6_code") or 0))
    return ""


def kind_of(rec):
    """options for an options-data record (scope fields, sampling, system init time)."""
    names = fields(rec)
    if any(n.startswith("cflow.scope") or n in ("cflow.sys_init_time", "cflow.sampling_interval") for n in names):
        return "options"
    return "flow"


def records(root):
    """Yield (packet fields, cflow header fields, record element, set_id, kind)."""
    for pkt in root.iter("packet"):
        protos = {p.get("name"): p for p in pkt.findall("proto")}
        for c in pkt.findall("proto"):
            if c.get("name") != "cflow":
                continue
            hdr = {f.get("name"): f for f in c.iter("field") if f.get("name", "").startswith("cflow.")
                   and f.get("name") in ("cflow.version", "cflow.count", "cflow.sysuptime", "cflow.unix_secs",
                                         "cflow.unix_nsecs", "cflow.exporttime", "cflow.source_id", "cflow.od_id",
                                         "cflow.engine_type", "cflow.engine_id")}
            for child in c:
                s = child.get("show", "")
                if child.get("name") == "" and s.startswith("pdu "):
                    yield protos, hdr, child, "", "flow"
                    continue
                m = re.match(r"(?:FlowSet|Set) \d+ \[id=(\d+)\]", s)
                if child.get("name") != "" or not m or int(m.group(1)) < 256:
                    continue
                for r in child:
                    if r.get("name") == "" and re.match(r"Flow \d+", r.get("show", "")):
                        yield protos, hdr, r, m.group(1), kind_of(r)


def main():
    args, ports = sys.argv[1:], []
    while args[0] == "--port":
        ports.append(int(args[1]))
        args = args[2:]
    cap, out = args
    plain = sum(1 for _ in records(pdml(cap, ports)))
    # copy with every v9 header count set to 65535 (see the docstring)
    root = pdml(cap, ports)
    data = bytearray(open(cap, "rb").read())
    offs = packet_offsets(cap)
    for pkt in root.iter("packet"):
        fr = int(fields(pkt)["frame.number"].get("show"))
        for c in pkt.findall("proto"):
            f = fields(c)
            if c.get("name") == "cflow" and show(f, "cflow.version") == "9":
                pos = offs[fr - 1] + int(f["cflow.count"].get("pos"))
                data[pos:pos + 2] = b"\xff\xff"
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(cap)[1]) as tmp:
        tmp.write(data)
        tmp.flush()
        root = pdml(tmp.name, ports)
    rows, init, pkts = [], {}, set()
    for protos, hdr, rec, set_id, kind in records(root):
        fr = fields(protos["frame"])
        ip = fields(protos.get("ip", protos.get("ipv6")))
        udp = fields(protos.get("udp", protos.get("tcp")))  # the transport: UDP, or TCP for IPFIX over TCP
        d = fields(rec)
        ver = show(hdr, "cflow.version")
        exporter = show(ip, "ip.src", "ipv6.src")
        dom = show(hdr, "cflow.source_id", "cflow.od_id")
        if ver == "5":
            dom = show(hdr, "cflow.engine_type") + "/" + show(hdr, "cflow.engine_id")
        frame = show(fr, "frame.number")
        pkts.add(frame)
        row = {
            "frame": frame, "frame_time_epoch": show(fr, "frame.time_epoch"),
            "interface_id": show(fr, "frame.interface_id"), "exporter_ip": exporter,
            "exporter_port": show(udp, "udp.srcport", "tcp.srcport"),
            "collector_port": show(udp, "udp.dstport", "tcp.dstport"),
            "version": ver, "domain_id": dom, "set_id": set_id, "kind": kind,
            "src_ip": show(d, "cflow.srcaddr", "cflow.srcaddrv6"), "dst_ip": show(d, "cflow.dstaddr", "cflow.dstaddrv6"),
            "src_port": show(d, "cflow.srcport"), "dst_port": show(d, "cflow.dstport"),
            "proto": show(d, "cflow.protocol"), "tcp_flags": show(d, "cflow.tcpflags"), "tos": show(d, "cflow.tos"),
            "bytes": show(d, "cflow.octets"), "packets": show(d, "cflow.packets"),
            "icmp_type_code": icmp_type_code(d), "ip_version": show(d, "cflow.ip_version"),
            "flow_end_reason": show(d, "cflow.flow_end_reason"),
        }
        first_raw, last_raw = show(d, "cflow.timestart"), show(d, "cflow.timeend")
        # tshark 4.0 shows a 4-byte start/end of 0 ms (IE 22/21) as an absolute 1970 time
        for name, key in (("cflow.abstimestart", "first"), ("cflow.abstimeend", "last")):
            f = d.get(name)
            if f is not None and f.get("size") == "4" and (parse_abs(f.get("show")) or 0) < 631152000:
                v = f"{int(f.get('value'), 16) / 1000:.9f}"
                first_raw, last_raw = (v, last_raw) if key == "first" else (first_raw, v)
        row["first_raw"], row["last_raw"] = first_raw, last_raw
        if kind == "options":
            t = parse_abs(show(d, "cflow.sys_init_time"))
            if t is not None:
                init[(exporter, dom)] = t
                row["sys_init_epoch"] = f"{t:.3f}"
        elif ver in ("1", "5", "7", "9"):
            now = float(show(hdr, "cflow.unix_secs", "cflow.exporttime")) + float(show(hdr, "cflow.unix_nsecs") or 0) / 1e9
            up = float(show(hdr, "cflow.sysuptime"))
            row["first_epoch"] = f"{now - (up - float(first_raw)):.3f}"
            row["last_epoch"] = f"{now - (up - float(last_raw)):.3f}"
        elif (exporter, dom) in init:
            row["first_epoch"] = f"{init[(exporter, dom)] + float(first_raw):.3f}"
            row["last_epoch"] = f"{init[(exporter, dom)] + float(last_raw):.3f}"
        rows.append(row)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    flows = sum(1 for r in rows if r["kind"] == "flow")
    print(f"{os.path.basename(cap)}: {len(offs)} packets, {len(pkts)} with records, {flows} flow records, "
          f"{len(rows) - flows} options records; plain tshark (header count trusted): {plain} records")


if __name__ == "__main__":
    main()
