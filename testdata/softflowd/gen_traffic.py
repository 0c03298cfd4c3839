#!/usr/bin/env python3
"""Write traffic.pcap: a small, deterministic capture of synthetic IPv4/IPv6 TCP, UDP and
ICMP traffic (Ethernet, microsecond pcap) for softflowd to turn into NetFlow/IPFIX exports.

Usage: gen_traffic.py OUT.pcap [small]

With "small", only the ICMP echo exchange (part 8 below: two flows) is written.

Nothing is sent on any network: the packets are only written to the file. Addresses are from
the documentation ranges (10.1.0.0/24 inside; 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
and 2001:db8::/32 outside). Times start at 2024-05-06T10:00:00Z (unix 1714989600) and span
about two minutes. Same output on every run (no randomness, no clock).
"""
import ipaddress
import struct
import sys

T0 = 1714989600
MAC_IN = bytes.fromhex("020000000001")
MAC_OUT = bytes.fromhex("020000000002")

packets = []  # (time_us, frame)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def is6(addr):
    return ":" in addr


def ip_packet(src, dst, proto, l4, ident=0):
    """IP header + l4 (whose checksum field is fixed up here for TCP/UDP/ICMPv6)."""
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if proto in (6, 17, 58):
        pseudo = s + d + (struct.pack("!IxxxB", len(l4), proto) if is6(src)
                          else struct.pack("!xBH", proto, len(l4)))
        off = {6: 16, 17: 6, 58: 2}[proto]
        c = csum(pseudo + l4)
        if proto == 17 and c == 0:
            c = 0xFFFF
        l4 = l4[:off] + struct.pack("!H", c) + l4[off + 2:]
    elif proto == 1:
        l4 = l4[:2] + struct.pack("!H", csum(l4)) + l4[4:]
    if is6(src):
        hdr = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + s + d
        return 0x86DD, hdr + l4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident & 0xFFFF, 0x4000, 64, proto, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return 0x0800, hdr + l4


def emit(t, src, dst, proto, l4, outbound=True):
    etype, ip = ip_packet(src, dst, proto, l4, ident=len(packets) + 1)
    macs = MAC_OUT + MAC_IN if outbound else MAC_IN + MAC_OUT
    packets.append((int(round(t * 1e6)), macs + struct.pack("!H", etype) + ip))


def payload(n, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp(sport, dport, seq, ack, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + data


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp_session(t, cli, cport, srv, sport, up, down, seg=1400, gap=0.01):
    """Handshake, `up` bytes client->server, `down` bytes server->client, FIN both ways."""
    cs, ss = 1000 + cport * 7, 500000 + sport * 13
    emit(t, cli, srv, 6, tcp(cport, sport, cs, 0, SYN)); t += gap
    emit(t, srv, cli, 6, tcp(sport, cport, ss, cs + 1, SYN | ACK), False); t += gap
    cs += 1; ss += 1
    emit(t, cli, srv, 6, tcp(cport, sport, cs, ss, ACK)); t += gap
    for n in chunks(up, seg):
        emit(t, cli, srv, 6, tcp(cport, sport, cs, ss, PSH | ACK, payload(n, cport))); cs += n; t += gap
        emit(t, srv, cli, 6, tcp(sport, cport, ss, cs, ACK), False); t += gap
    for n in chunks(down, seg):
        emit(t, srv, cli, 6, tcp(sport, cport, ss, cs, PSH | ACK, payload(n, sport)), False); ss += n; t += gap
    emit(t, cli, srv, 6, tcp(cport, sport, cs, ss, ACK)); t += gap
    emit(t, cli, srv, 6, tcp(cport, sport, cs, ss, FIN | ACK)); t += gap
    emit(t, srv, cli, 6, tcp(sport, cport, ss, cs + 1, FIN | ACK), False); t += gap
    emit(t, cli, srv, 6, tcp(cport, sport, cs + 1, ss + 1, ACK))


def dns(ident, name, answer=None):
    """A DNS query (answer None) or its response with one A/AAAA record."""
    qtype = 28 if answer and ":" in answer else 1
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    if answer is None:
        return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)
    rdata = ipaddress.ip_address(answer).packed
    return (struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0) + q + struct.pack("!HH", qtype, 1) +
            struct.pack("!HHHIH", 0xC00C, qtype, 1, 300, len(rdata)) + rdata)


def chunks(total, seg):
    out = []
    while total > 0:
        out.append(min(seg, total)); total -= seg
    return out


def main(out, small=False):
    if small:
        icmp_echo()
        return write(out)
    # 1. IPv4 HTTP: eight short sessions, 10 s apart
    for i in range(8):
        tcp_session(T0 + 10 * i + 0.125, "10.1.0.10", 40000 + i, "192.0.2.80", 80, 300 + 50 * i, 2000 + 1500 * i)
    # 2. IPv4 HTTPS downloads
    for i in range(4):
        tcp_session(T0 + 5 + 20 * i + 0.5, "10.1.0.11", 41000 + i, "198.51.100.20", 443, 600, 14000 + 7000 * i)
    # 3. a large upload to one outside host
    tcp_session(T0 + 30.25, "10.1.0.12", 42000, "203.0.113.9", 443, 56000, 900)
    # 4. a vertical SYN scan: 25 ports of one host; 22 and 80 open (SYN-ACK, then the scanner RSTs)
    t = T0 + 60.0
    for p in range(20, 45):
        emit(t, "10.1.0.66", "192.0.2.50", 6, tcp(50123, p, 777, 0, SYN)); t += 0.002
        if p in (22, 80):
            emit(t, "192.0.2.50", "10.1.0.66", 6, tcp(p, 50123, 9000 + p, 778, SYN | ACK), False); t += 0.002
            emit(t, "10.1.0.66", "192.0.2.50", 6, tcp(50123, p, 778, 0, RST)); t += 0.002
        else:
            emit(t, "192.0.2.50", "10.1.0.66", 6, tcp(p, 50123, 0, 778, RST | ACK), False); t += 0.002
    # 5. DNS over UDP, IPv4
    for i in range(10):
        t = T0 + 2 + 11 * i + 0.333
        name = f"host{i}.example.com"
        emit(t, "10.1.0.10", "192.0.2.53", 17, udp(53000 + i, 53, dns(0x1000 + i, name)))
        emit(t + 0.004, "192.0.2.53", "10.1.0.10", 17, udp(53, 53000 + i, dns(0x1000 + i, name, f"198.51.100.{100 + i}")), False)
    # 6. a UDP beacon: one 64-byte datagram every 10 s, no answer
    for i in range(12):
        emit(T0 + 1 + 10 * i, "10.1.0.13", "203.0.113.50", 17, udp(51000, 8443, payload(64, 99)))
    # 7. NTP both ways
    for i in range(2):
        emit(T0 + 50 + i, "10.1.0.10", "192.0.2.123", 17, udp(123, 123, payload(48, 3)))
        emit(T0 + 50.02 + i, "192.0.2.123", "10.1.0.10", 17, udp(123, 123, payload(48, 4)), False)
    icmp_echo()
    ipv6_traffic()
    write(out)


def icmp_echo():
    """8. ICMP echo request / reply"""
    for i in range(5):
        echo = lambda typ: struct.pack("!BBHHH", typ, 0, 0, 0x4242, i) + payload(56, i)
        emit(T0 + 70 + i, "10.1.0.10", "192.0.2.1", 1, echo(8))
        emit(T0 + 70.01 + i, "192.0.2.1", "10.1.0.10", 1, echo(0), False)


def ipv6_traffic():
    # 9. IPv6 HTTP
    for i in range(3):
        tcp_session(T0 + 80 + 7 * i + 0.75, "2001:db8:1::10", 43000 + i, "2001:db8:2::80", 80, 400, 5000 + 3000 * i)
    # 10. IPv6 DNS
    for i in range(5):
        t = T0 + 85 + 3 * i
        name = f"v6host{i}.example.org"
        emit(t, "2001:db8:1::10", "2001:db8:2::53", 17, udp(54000 + i, 53, dns(0x2000 + i, name)))
        emit(t + 0.003, "2001:db8:2::53", "2001:db8:1::10", 17, udp(53, 54000 + i, dns(0x2000 + i, name, f"2001:db8:3::{i + 1}")), False)
    # 11. ICMPv6 echo request / reply
    for i in range(3):
        echo6 = lambda typ: struct.pack("!BBHHH", typ, 0, 0, 0x6666, i) + payload(32, i)
        emit(T0 + 110 + i, "2001:db8:1::10", "2001:db8:2::1", 58, echo6(128))
        emit(T0 + 110.02 + i, "2001:db8:2::1", "2001:db8:1::10", 58, echo6(129), False)


def write(out):
    packets.sort(key=lambda p: p[0])
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for us, frame in packets:
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(frame), len(frame)))
            f.write(frame)
    print(f"{out}: {len(packets)} packets", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], small=sys.argv[2:] == ["small"])
