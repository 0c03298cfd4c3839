#!/bin/bash
# Remake softflowd_v5_v9.nfcapd (the file nfcapd writes, and copies of it with LZ4, bzip2 and LZO
# blocks) and softflowd_v5_v9.nfdump.json and .csv (nfdump's own JSON and CSV exports of it): the
# softflowd fixtures' flows as nfdump's collector keeps them.
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
python3 ../softflowd/replay.py "$PORT" ../softflowd/softflowd_v5.pcap ../softflowd/softflowd_v9.pcap
sleep 1
kill "$(cat "$W/pid")"
for _ in $(seq 1 20); do [ -e "$W/pid" ] || break; sleep 0.25; done
files=("$W"/nf/nfcapd.2*)
[ ${#files[@]} = 1 ] || { echo "make.sh: nfcapd wrote ${#files[@]} files, want 1" >&2; exit 1; }
cp "${files[0]}" softflowd_v5_v9.nfcapd
for c in 1:lzo 2:bz2 3:lz4; do # nfdump -J: the same records, each block compressed
	cp softflowd_v5_v9.nfcapd "softflowd_v5_v9.${c#*:}.nfcapd"
	nfdump -J "${c%%:*}" -r "softflowd_v5_v9.${c#*:}.nfcapd" >/dev/null
done
# nfdump prints local times without a zone; UTC here, so that --input-tz UTC reads them back.
TZ=UTC nfdump -R "$W/nf" -o json >softflowd_v5_v9.nfdump.json
TZ=UTC nfdump -R "$W/nf" -o csv >softflowd_v5_v9.nfdump.csv
TZ=UTC nfdump -R "$W/nf" -I | grep -E '^(Flows|Bytes|Packets):' >summary.txt
nfdump -V >versions.txt
echo "make.sh: ${#files[@]} nfcapd file(s); $(grep Flows: summary.txt)" >&2
