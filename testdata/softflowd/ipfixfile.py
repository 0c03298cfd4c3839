#!/usr/bin/env python3
"""Write the IPFIX messages of a capture as an IPFIX File (RFC 5655): their UDP payloads, one
after the other, in capture order.

Usage: ipfixfile.py CAPTURE OUT

The capture is a softflowd fixture: pcap, little-endian, Ethernet, IPv4, UDP, IPFIX only.
"""
import struct
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    if data[:4] != b"\xd4\xc3\xb2\xa1" or struct.unpack("<I", data[20:24])[0] != 1:
        sys.exit(f"{src}: not a little-endian Ethernet pcap")
    msgs = []
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ihl = (pkt[14] & 15) * 4
        payload = pkt[14 + ihl + 8:]
        if struct.unpack(">H", payload[:2])[0] != 10:
            sys.exit(f"{src}: a datagram that is not IPFIX")
        msgs.append(payload)
    open(out, "wb").write(b"".join(msgs))
    print(f"{out}: {len(msgs)} IPFIX messages")


if __name__ == "__main__":
    main()
