#!/usr/bin/env python3
"""Write the IPFIX messages of a capture as an IPFIX File (RFC 5655): their UDP payloads, one
after the other, in capture order.

Usage: ipfixfile.py CAPTURE OUT

The capture is a softflowd fixture: pcap, little-endian, Ethernet, IPv4, UDP, IPFIX only.
"""
import struct
import sys

from replay import payloads


def main():
    src, out = sys.argv[1], sys.argv[2]
    msgs = list(payloads(src))
    if any(struct.unpack(">H", m[:2])[0] != 10 for m in msgs):
        sys.exit(f"{src}: a datagram that is not IPFIX")
    open(out, "wb").write(b"".join(msgs))
    print(f"{out}: {len(msgs)} IPFIX messages")


if __name__ == "__main__":
    main()
