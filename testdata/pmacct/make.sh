#!/bin/bash
# Remake softflowd_v9.pmacct.json: pmacct's JSON output (nfacctd, print plugin) for the flows of the
# softflowd v9 fixture. See README.md.
#
#   ./make.sh      (no root needed)
#
# Needs (Debian 12): pmacct 1.7.7 (nfacctd), python3 (stdlib only).
# Network traffic: the UDP payloads of ../softflowd/softflowd_v9.pcap, sent from 127.0.0.1 to
# nfacctd listening on 127.0.0.1:$PORT (default 39068).
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-39068}
W=$(mktemp -d)
# nfacctd forks its plugins: it runs in a session of its own, stopped as a group
stop() { kill -TERM -- "-$1" 2>/dev/null || true; sleep 1; kill -KILL -- "-$1" 2>/dev/null || true; }
trap '[ -n "${pid:-}" ] && stop "$pid"; rm -rf "$W"' EXIT

cat >"$W/nfacctd.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $PORT
plugins: print
print_output: json
print_output_file: $W/out.json
print_output_file_append: true
print_refresh_time: 1
aggregate: src_host, dst_host, src_port, dst_port, proto, tcpflags, timestamp_start, timestamp_end, peer_src_ip
nfacctd_time_new: false
CONF
TZ=UTC setsid nfacctd -f "$W/nfacctd.conf" >"$W/nfacctd.log" 2>&1 &
pid=$!
sleep 2
python3 ../softflowd/replay.py "$PORT" ../softflowd/softflowd_v9.pcap
sleep 4 # the print plugin writes every second
cp "$W/out.json" softflowd_v9.pmacct.json
chmod 644 softflowd_v9.pmacct.json
nfacctd -V 2>&1 | head -1 >versions.txt
stop "$pid"
pid=
echo "make.sh: $(wc -l <softflowd_v9.pmacct.json) records" >&2
