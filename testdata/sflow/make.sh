#!/bin/bash
# Remake the sFlow fixtures in this directory: pmacctd's sfprobe (a real sFlow v5 agent) sampling
# the softflowd fixtures' traffic captures, its datagrams recorded with tcpdump on loopback; tshark's
# decoding of every flow sample (truth.py) and what nfdump's sfcapd collector made of the same
# datagrams (nfdump -o json).
#
#   sudo ./make.sh      (root for tcpdump on lo)
#
# Needs (Debian 12): pmacct 1.7.7 (pmacctd), tcpdump 4.99, tshark 4.0, nfdump-sflow 1.7.1
# (sfcapd) with nfdump, python3 (stdlib only).
# Network traffic: sfprobe's datagrams to 127.0.0.1:$PORT (default 39343, away from 6343), and
# their replay to sfcapd on 127.0.0.1:$PORT+1.
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-39343}
W=$(mktemp -d)
trap 'pkill -f "tcpdump -i lo -w $W" 2>/dev/null || true; kill $(cat "$W/sfcapd.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT
log() { echo "make.sh: $*" >&2; }

zcat ../softflowd/traffic.pcap.gz >"$W/traffic.pcap"
zcat ../softflowd/traffic_scans.pcap.gz >"$W/traffic_scans.pcap"

# sample OUT TRAFFIC RATE: pmacctd reads TRAFFIC (a savefile, at full speed) and its sfprobe plugin
# sends one sample per RATE packets (pmacctd's sampling is random: 1 in RATE on average) to
# 127.0.0.1:$PORT, where tcpdump records them into OUT.
sample() {
	local out=$1 traffic=$2 rate=$3
	cat >"$W/pmacctd.conf" <<CONF
daemonize: false
pcap_savefile: $traffic
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:$PORT
sfprobe_agentip: 192.0.2.9
sfprobe_agentsubid: 7
sfprobe_ifindex: 3
sampling_rate: $rate
CONF
	tcpdump -i lo -w "$W/out.pcap" -U "udp dst port $PORT" >"$W/tcpdump.log" 2>&1 &
	for _ in $(seq 1 50); do grep -q 'listening on' "$W/tcpdump.log" && break; sleep 0.1; done
	pmacctd -f "$W/pmacctd.conf" >"$W/pmacctd.log" 2>&1 || true # exits 1 at the savefile's end
	sleep 1
	kill %1
	wait %1 || true
	cp "$W/out.pcap" "$out"
	log "$out: $(tshark -r "$out" 2>/dev/null | wc -l) datagrams"
}
sample sflow_traffic.pcap "$W/traffic.pcap" 1
sample sflow_scans.pcap "$W/traffic_scans.pcap" 1
sample sflow_scans_sampled.pcap "$W/traffic_scans.pcap" 10
gzip -9nf sflow_scans.pcap

# tshark's decoding of every flow sample
for f in sflow_traffic.pcap sflow_scans_sampled.pcap; do
	tshark -r "$f" -d "udp.port==$PORT,sflow" -T json --no-duplicate-keys 2>/dev/null | python3 truth.py >"$f.csv"
done

# sfcapd: the datagrams of sflow_traffic.pcap replayed to it; its file as nfdump's JSON (UTC)
mkdir "$W/nf"
sfcapd -b 127.0.0.1 -p $((PORT + 1)) -w "$W/nf" -D -P "$W/sfcapd.pid" >"$W/sfcapd.log" 2>&1
sleep 1
python3 ../softflowd/replay.py $((PORT + 1)) sflow_traffic.pcap
sleep 1
kill "$(cat "$W/sfcapd.pid")"
for _ in $(seq 1 20); do [ -e "$W/sfcapd.pid" ] || break; sleep 0.25; done
TZ=UTC nfdump -R "$W/nf" -o json | gzip -9n >sflow_traffic.sfcapd.json.gz
{ pmacctd -V 2>&1 | head -1; tshark -v | head -1; sfcapd -V 2>&1 | head -1; } >versions.txt
log "sfcapd: $(zcat sflow_traffic.sfcapd.json.gz | grep -c "\"type\"") records"
