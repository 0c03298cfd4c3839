#!/usr/bin/env python3
"""Read `tshark -T json --no-duplicate-keys` of an sFlow capture on stdin and write one CSV row per
flow sample, as tshark decodes it: the datagram (its capture time in unix seconds), the sample, and the sampled packet's outermost IP
header and transport ports (empty where the sample holds none)."""
import csv
import json
import sys

COLS = ["frame", "time", "agent", "sub_agent", "datagram_seq", "sample_seq", "sampling_rate", "input", "output",
        "src", "dst", "proto", "ip_len", "src_port", "dst_port", "tcp_flags", "icmp_type", "icmp_code"]


def first(o, key):
    """The first value of key in o, searching depth first; lists give their first element."""
    if isinstance(o, dict):
        if key in o:
            v = o[key]
            return v[0] if isinstance(v, list) else v
        for v in o.values():
            r = first(v, key)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = first(v, key)
            if r is not None:
                return r
    return None


def samples(sflow):
    for k, v in sflow.items():
        for s in v if isinstance(v, list) else [v]:
            if k.startswith("Flow sample") and isinstance(s, dict):
                yield s


def main():
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(COLS)
    for pkt in json.load(sys.stdin):
        layers = pkt["_source"]["layers"]
        sf = layers.get("sflow")
        if sf is None:
            continue
        for s in samples(sf):
            hdr = first(s, "sflow_245.header_tree") or {}
            ip, ip6 = first(hdr, "ip"), first(hdr, "ipv6")
            row = {"frame": layers["frame"]["frame.number"], "time": layers["frame"]["frame.time_epoch"], "agent": sf.get("sflow_245.agent") or sf.get("sflow_245.agent.v6"),
                   "sub_agent": sf["sflow_245.sub_agent_id"], "datagram_seq": sf["sflow_245.sequence_number"],
                   "sample_seq": s.get("sflow.flow_sample.sequence_number"), "sampling_rate": s.get("sflow.flow_sample.sampling_rate"),
                   "input": s.get("sflow.flow_sample.input_interface"), "output": first(s, "sflow.flow_sample.output_interface_value")}
            if ip:
                row.update(src=ip["ip.src"], dst=ip["ip.dst"], proto=ip["ip.proto"], ip_len=ip["ip.len"])
            elif ip6:
                row.update(src=ip6["ipv6.src"], dst=ip6["ipv6.dst"], proto=first(ip6, "ipv6.nxt"),
                           ip_len=40 + int(ip6["ipv6.plen"]))
            for proto in ("tcp", "udp"):
                t = first(hdr, proto)
                if t:
                    row.update(src_port=t[proto + ".srcport"], dst_port=t[proto + ".dstport"])
                    if proto == "tcp":
                        row["tcp_flags"] = int(t["tcp.flags"], 16)
            for proto in ("icmp", "icmpv6"):
                t = first(hdr, proto)
                if t:
                    row.update(icmp_type=t[proto + ".type"], icmp_code=t[proto + ".code"])
            w.writerow([row.get(c, "") for c in COLS])


main()
