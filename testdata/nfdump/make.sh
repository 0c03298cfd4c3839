#!/bin/bash
# Remake softflowd_v5_v9.nfdump.json: nfdump's own JSON export of the softflowd fixtures' flows.
#
#   ./make.sh      (no root needed)
#
# Needs (Debian 12): nfdump 1.7.1 (nfcapd, nfdump), python3 (stdlib only).
# Network traffic: the UDP payloads of ../softflowd/softflowd_v5.pcap and softflowd_v9.pcap, sent
# from 127.0.0.1 to nfcapd listening on 127.0.0.1:$PORT (default 39062, away from 2055/9995).
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-39062}
W=$(mktemp -d)
trap 'kill $(cat "$W/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT

mkdir "$W/nf"
nfcapd -b 127.0.0.1 -p "$PORT" -w "$W/nf" -D -P "$W/pid" >"$W/nfcapd.log" 2>&1
sleep 1
# replay.py PORT CAPTURE...: send each export packet's UDP payload, in capture order
python3 - "$PORT" ../softflowd/softflowd_v5.pcap ../softflowd/softflowd_v9.pcap <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "pcap, little-endian, Ethernet"
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ihl = (pkt[14] & 15) * 4           # Ethernet, then IPv4
        s.sendto(pkt[14 + ihl + 8:], ("127.0.0.1", port))
        time.sleep(0.002)
PY
sleep 1
kill "$(cat "$W/pid")"
for _ in $(seq 1 20); do [ -e "$W/pid" ] || break; sleep 0.25; done
files=("$W"/nf/nfcapd.2*)
# nfdump prints local times without a zone; UTC here, so that --input-tz UTC reads them back.
TZ=UTC nfdump -R "$W/nf" -o json >softflowd_v5_v9.nfdump.json
TZ=UTC nfdump -R "$W/nf" -I | grep -E '^(Flows|Bytes|Packets):' >summary.txt
nfdump -V >versions.txt
echo "make.sh: ${#files[@]} nfcapd file(s); $(grep Flows: summary.txt)" >&2
