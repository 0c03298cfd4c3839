#!/usr/bin/env python3
"""Send every export packet of pcap captures to a collector on 127.0.0.1, in capture order.

Usage: replay.py PORT CAPTURE...

The captures are the softflowd fixtures: pcap, little-endian, Ethernet, IPv4, UDP. Only each
packet's UDP payload is sent, from 127.0.0.1, 2 ms apart.
"""
import socket
import struct
import sys
import time


def payloads(path):
    """Yield the UDP payload of every packet of a little-endian Ethernet IPv4 pcap, in order."""
    data = open(path, "rb").read()
    if data[:4] != b"\xd4\xc3\xb2\xa1" or struct.unpack("<I", data[20:24])[0] != 1:
        sys.exit(f"{path}: not a little-endian Ethernet pcap")
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ihl = (pkt[14] & 15) * 4
        yield pkt[14 + ihl + 8:]


def main():
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for path in sys.argv[2:]:
        for payload in payloads(path):
            s.sendto(payload, ("127.0.0.1", port))
            time.sleep(0.002)


if __name__ == "__main__":
    main()
