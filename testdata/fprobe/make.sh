#!/bin/bash
# Remake the fprobe fixtures: NetFlow v1, v5 and v7 exports by fprobe of live traffic on loopback,
# with tshark's decoding. See README.md.
#
#   sudo ./make.sh      (root: fprobe and tcpdump capture on lo, nmap sends SYN probes)
#
# Needs (Debian 12): fprobe 1.1, nmap 7.93, tcpdump 4.99, tshark 4.0, python3 (stdlib only).
# Network traffic, all on lo: nmap's probes of 127.0.0.2 and 127.0.0.3 and their answers, a few
# TCP connections to a listener on 127.0.0.2:8080, and fprobe's export datagrams to
# 127.0.0.1:$PORT..$PORT+2 (default 39064-39066; a local UDP sink receives each).
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-39064}
W=$(mktemp -d)
PIDS=() SINKS=()
cleanup() {
	for p in "${PIDS[@]}" "${SINKS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
log() { echo "make.sh: $*" >&2; }
SF=../softflowd

# 1. a sink and a recorder per version
for v in 1 5 7; do
	case $v in 1) port=$PORT ;; 5) port=$((PORT + 1)) ;; 7) port=$((PORT + 2)) ;; esac
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(65535)
' "$port" &
	SINKS+=($!)
	tcpdump -i lo -U -w "$W/fprobe_v$v.pcap" "udp and dst host 127.0.0.1 and dst port $port" >"$W/rec$v.log" 2>&1 &
	PIDS+=($!)
	echo "$port" >"$W/port$v"
done
for v in 1 5 7; do
	for _ in $(seq 1 50); do grep -q 'listening on' "$W/rec$v.log" && break; sleep 0.1; done
done

# 2. fprobe, one per version, on the same traffic: flows idle for 1 s or active for 2 s expire,
# checked every second
for v in 1 5 7; do
	fprobe -i lo -f "host 127.0.0.2 or host 127.0.0.3" -d 1 -e 2 -s 1 -n "$v" -l "1:fprobe$v$$" \
		"127.0.0.1:$(cat "$W/port$v")"
done
sleep 2

# 3. the traffic
python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.2", 8080)); s.listen(8)
def serve():
    while True:
        c, _ = s.accept(); c.recv(4096); c.sendall(b"y" * 5000); c.close()
threading.Thread(target=serve, daemon=True).start()
for i in range(5):
    c = socket.create_connection(("127.0.0.2", 8080)); c.sendall(b"x" * (100 + i)); 
    while c.recv(65536): pass
    c.close()
'
# at most 200 probes a second: fprobe's capture loses packets of faster bursts on lo
nmap -n -Pn -T4 --max-retries 0 --max-rate 200 -sS --top-ports 100 127.0.0.2 >"$W/nmap1.log"
nmap -n -Pn -T4 --max-retries 0 --max-rate 200 -sU -p 1-20 127.0.0.3 >"$W/nmap2.log"
sleep 6
pkill -f "fprobe -i lo -f host 127.0.0.2 or host 127.0.0.3" || true
sleep 1.5
# recorders stop on SIGINT; the sinks (background Python, SIGINT ignored) on SIGTERM
for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
for p in "${SINKS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
PIDS=() SINKS=()
for v in 1 5 7; do cp "$W/fprobe_v$v.pcap" . && chmod 644 "fprobe_v$v.pcap"; done

# 4. ground truth: tshark's decoding, one CSV row per record (the softflowd fixtures' truth.py)
for v in 1 5 7; do
	python3 "$SF/truth.py" --port "$(cat "$W/port$v")" "fprobe_v$v.pcap" "fprobe_v$v.pcap.csv"
done >summary.txt
{
	echo "# tools that made these files"
	fprobe -h 2>&1 | head -1
	nmap --version | head -1
	tcpdump --version 2>&1 | head -1
	tshark --version 2>/dev/null | head -1
	python3 --version
} >versions.txt
log "done: $(tr '\n' ' ' <summary.txt)"
