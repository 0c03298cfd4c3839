#!/bin/bash
# Remake the softflowd fixtures in this directory. See README.md for what each file is.
#
#   sudo ./make.sh [synthetic] [psamp] [tcp] [nmap] [scans] [beacon] [exfil]   (root for tcpdump/dumpcap on lo
#                                        and any, and for nmap's SYN scans; default: every set)
#
# Needs (Debian 12): softflowd 1.1.0, tcpdump 4.99, dumpcap and tshark 4.0, python3 (stdlib only),
# libfixbuf-tools 2.4 (ipfixDump) for the IPFIX File,
# and for the nmap and scans sets nmap 7.93.
# Network traffic: softflowd's export datagrams, sent to 127.0.0.1 (a local UDP sink receives
# them so softflowd never sees "connection refused"; for the tcp set a TCP connection to a local
# listener on $PORT+2), for the nmap set nmap's probes of loopback
# addresses (127.0.0.2-4, 127.0.1.1-254; for the scans set 127.0.0.7-8, 127.0.3.1-80 and ::1) and their answers, for the beacon and exfil sets the
# connections of beacon.py (127.0.0.5, 127.0.0.6) and exfil.py (127.0.1.9-11). Ports: $PORT (v5, v9) and
# $PORT+1 (IPFIX); defaults 39055/39056, away from 2055/4739 so that a collector or another
# generator running on this machine cannot receive or mix in our exports.
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-39055}
W=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

log() { echo "make.sh: $*" >&2; }

SETS=${*:-synthetic psamp tcp nmap scans beacon exfil}
want() { [[ " $SETS " == *" $1 "* ]]; }

# 1. the traffic softflowd reads (deterministic; see gen_traffic.py)
python3 gen_traffic.py traffic.pcap
python3 gen_traffic.py traffic_small.pcap small

# start_sink PORT: a UDP receiver on 127.0.0.1:PORT that discards what it gets
start_sink() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(65535)
' "$1" &
	SINK=$!
	PIDS+=($SINK)
}

# wait_listening FILE: wait until a recorder says it is capturing
wait_listening() {
	for _ in $(seq 1 50); do
		grep -qiE 'listening on|capturing on' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	log "recorder did not start: $(cat "$1")"
	return 1
}

# run_softflowd VERSION PORT TRAFFIC [OPTION...]: export TRAFFIC once, wait until it is done, shut
# it down
run_softflowd() {
	local ver=$1 port=$2 traffic=$3 ctl=$W/sfd$1.ctl
	shift 3
	softflowd -d -a -r "$traffic" -n 127.0.0.1:"$port" -v "$ver" -p "$W/sfd$ver.pid" -c "$ctl" "$@" \
		>"$W/softflowd$ver.log" 2>&1 &
	local pid=$!
	PIDS+=($pid)
	# softflowd 1.1.0 as packaged in Debian 12 exits at the end of a -r file after exporting
	# every flow ("Shutting down after pcap EOF"); builds that do not (see the shared captures'
	# gen_softflowd.sh) are waited for until their packet counter stops moving and then told
	# to "shutdown", which expires and exports every flow still open.
	local prev=-1 cur
	for _ in $(seq 1 120); do
		sleep 0.5
		kill -0 "$pid" 2>/dev/null || break
		cur=$(softflowctl -c "$ctl" statistics 2>/dev/null | awk -F': ' '/Packets processed/{print $2}')
		[ -n "$cur" ] && [ "$cur" != 0 ] && [ "$cur" = "$prev" ] && break # 0: not started reading yet
		prev=${cur:--1}
	done
	softflowctl -c "$ctl" statistics >"$W/stats$ver.txt" 2>&1 || true
	softflowctl -c "$ctl" shutdown >/dev/null 2>&1 || true
	for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
	kill -0 "$pid" 2>/dev/null && { log "softflowd -v $ver did not exit; killing it"; kill "$pid"; }
	wait "$pid" 2>/dev/null || true
	log "softflowd -v $ver: $(cat "$W/softflowd$ver.log" "$W/stats$ver.txt" | grep -m1 -E 'Flows exported')"
}

# record NAME VERSION PORT TRAFFIC RECORDERS...: run softflowd while the given recorders capture its
# exports. Recorders: lo (tcpdump -i lo, pcap), any (tcpdump -i any, pcap, SLL2),
# ng (dumpcap -i lo, pcapng), ng2 (dumpcap -i lo -i any, pcapng with two interfaces).
record() {
	local name=$1 ver=$2 port=$3 traffic=$4; shift 4
	local filter="udp and dst host 127.0.0.1 and dst port $port" rec pids=()
	start_sink "$port"
	for rec in "$@"; do
		case $rec in
		lo) tcpdump -i lo -U -w "$W/$name.pcap" "$filter" >"$W/$rec.log" 2>&1 & ;;
		any) tcpdump -i any -U -w "$W/${name}_any.pcap" "$filter" >"$W/$rec.log" 2>&1 & ;;
		ng) dumpcap -q -i lo -f "$filter" -w "$W/$name.pcapng" >"$W/$rec.log" 2>&1 & ;;
		ng2) dumpcap -q -i lo -f "$filter" -i any -y LINUX_SLL2 -f "$filter" -w "$W/${name}_lo+any.pcapng" >"$W/$rec.log" 2>&1 & ;;
		esac
		pids+=($!)
		PIDS+=($!)
		wait_listening "$W/$rec.log"
	done
	sleep 1
	run_softflowd "$ver" "$port" "$traffic"
	sleep 1.5
	for p in "${pids[@]}"; do kill -INT "$p"; wait "$p" 2>/dev/null || true; done
	kill "$SINK"; wait "$SINK" 2>/dev/null || true
	PIDS=() # all waited for: never signal a reused pid
	for f in "$W/$name".pcap "$W/${name}"_any.pcap "$W/$name".pcapng "$W/${name}"_lo+any.pcapng; do
		[ -e "$f" ] || continue
		cp "$f" . && chmod 644 "$(basename "$f")"
	done
}

# record_tcp NAME PORT TRAFFIC: IPFIX over TCP (softflowd -P tcp) to a local TCP listener on
# 127.0.0.1:PORT that reads and discards, recorded with tcpdump -i lo.
record_tcp() {
	local name=$1 port=$2 traffic=$3
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
while True:
    c, _ = s.accept()
    while c.recv(65536):
        pass
' "$port" &
	SINK=$!
	PIDS+=($SINK)
	tcpdump -i lo -U -w "$W/$name.pcap" "tcp and host 127.0.0.1 and port $port" >"$W/tcp.log" 2>&1 &
	local rec=$!
	PIDS+=($rec)
	wait_listening "$W/tcp.log"
	sleep 1
	run_softflowd 10 "$port" "$traffic" -P tcp
	sleep 1.5
	kill -INT "$rec"; wait "$rec" 2>/dev/null || true
	kill "$SINK"; wait "$SINK" 2>/dev/null || true
	PIDS=()
	cp "$W/$name.pcap" . && chmod 644 "$name.pcap"
}

# record_live OUT FILTER COMMAND...: run COMMAND while tcpdump records FILTER on lo into OUT (256
# bytes of each packet: softflowd reads the lengths from the headers).
record_live() {
	local out=$1 filter=$2
	shift 2
	tcpdump -i lo -U -s 256 -w "$W/$out" "$filter" >"$W/live-rec.log" 2>&1 &
	local rec=$!
	PIDS+=($rec)
	wait_listening "$W/live-rec.log"
	"$@"
	sleep 1
	kill -INT "$rec"; wait "$rec" 2>/dev/null || true
	PIDS=()
	cp "$W/$out" . && chmod 644 "$out"
}

# run_scans: real scans by nmap of loopback addresses. Three listeners make some probed ports
# open: 127.0.0.2:80 and :443, 127.0.0.3:22. Not deterministic (times, nmap's source ports, the
# order of probes); what the scans touch is.
run_scans() {
	python3 -c '
import socket, threading
def serve(addr):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr); s.listen(64)
    while True:
        c, _ = s.accept(); c.close()
for a in [("127.0.0.2", 80), ("127.0.0.2", 443), ("127.0.0.3", 22)]:
    threading.Thread(target=serve, args=(a,), daemon=True).start()
threading.Event().wait()
' &
	local listeners=$!
	sleep 0.5
	local nm="nmap -n -Pn -T4 --max-retries 0"
	$nm -sS 127.0.0.2 >"$W/nmap1.log"               # vertical SYN scan of nmap's top 1000 ports (80, 443 open)
	$nm -sS -p 80 127.0.1.1-254 >"$W/nmap2.log"     # SYN sweep of port 80
	$nm -sT --top-ports 100 127.0.0.3 >"$W/nmap3.log" # vertical connect scan of the top 100 (22 open)
	$nm -sU -p 1-100 127.0.0.4 >"$W/nmap4.log"      # UDP scan: ICMP port unreachable back
	kill "$listeners"; wait "$listeners" 2>/dev/null || true
	log "nmap: $(grep -h 'Nmap done' "$W"/nmap?.log | tr '\n' ' ')"
}

# run_scans2: more kinds of real scans, for the meter (the capture itself is kept, gzip): FIN,
# NULL, Xmas and ACK scans, an IPv6 SYN scan of ::1 and a sweep of four ports over 80 addresses.
# Listeners: 127.0.0.7:80 and :443, 127.0.0.8:22, [::1]:8443.
run_scans2() {
	python3 -c '
import socket, threading
def serve(addr, fam=socket.AF_INET):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr); s.listen(64)
    while True:
        c, _ = s.accept(); c.close()
for a in [("127.0.0.7", 80), ("127.0.0.7", 443), ("127.0.0.8", 22)]:
    threading.Thread(target=serve, args=(a,), daemon=True).start()
threading.Thread(target=serve, args=(("::1", 8443), socket.AF_INET6), daemon=True).start()
threading.Event().wait()
' &
	local listeners=$!
	sleep 0.5
	local nm="nmap -n -Pn -T4 --max-retries 0"
	$nm -sF -p 1-200 127.0.0.7 >"$W/scan1.log"   # FIN scan: closed ports answer RST+ACK, open ones nothing
	$nm -sN -p 1-200 127.0.0.8 >"$W/scan2.log"   # NULL scan
	$nm -sX -p 200-400 127.0.0.7 >"$W/scan3.log" # Xmas scan
	$nm -sA -p 1-150 127.0.0.8 >"$W/scan4.log"   # ACK scan: every port answers RST
	$nm -6 -sS -p 8000-8600 ::1 >"$W/scan5.log"  # IPv6 SYN scan, 8443 open
	$nm -sS -p 22,80,443,3389 127.0.3.1-80 >"$W/scan6.log" # sweep of four ports, all closed
	kill "$listeners"; wait "$listeners" 2>/dev/null || true
	log "scans: $(grep -h 'Nmap done' "$W"/scan?.log | tr '\n' ' ')"
}

# 2. the exports, recorded on loopback
if want synthetic; then
	record softflowd_v5 5 "$PORT" traffic.pcap lo
	record softflowd_v9 9 "$PORT" traffic.pcap lo any ng2
	record softflowd_ipfix 10 $((PORT + 1)) traffic.pcap lo ng
	record softflowd_v9_small 9 "$PORT" traffic_small.pcap lo
	# the same IPFIX messages as an IPFIX File (RFC 5655), checked by libfixbuf's ipfixDump
	python3 ipfixfile.py softflowd_ipfix.pcap softflowd_ipfix.ipfix
	ipfixDump --in softflowd_ipfix.ipfix | grep 'File Stats' >softflowd_ipfix.ipfix.txt
fi
if want nmap; then
	record_live traffic_nmap.pcap "host 127.0.0.2 or host 127.0.0.3 or host 127.0.0.4 or net 127.0.1.0/24" run_scans
	record softflowd_v9_nmap 9 "$PORT" traffic_nmap.pcap lo
fi
if want scans; then
	record_live traffic_scans.pcap "host 127.0.0.7 or host 127.0.0.8 or net 127.0.3.0/24 or (ip6 and host ::1 and not udp)" run_scans2
	record softflowd_v9_scans 9 "$PORT" traffic_scans.pcap lo
	gzip -9nc traffic_scans.pcap >traffic_scans.pcap.gz # kept: the meter's evidence (flowcase ingest --meter)
fi
if want beacon; then
	record_live traffic_beacon.pcap "host 127.0.0.5 or host 127.0.0.6" python3 beacon.py
	record softflowd_ipfix_beacon 10 $((PORT + 1)) traffic_beacon.pcap lo
fi
if want psamp; then
	# PSAMP (RFC 5476): softflowd reports every packet of traffic.pcap with its first bytes
	# (dataLinkFrameSection); named apart from softflowd_* as its records are packets, not flows
	record psamp_traffic psamp $((PORT + 1)) traffic.pcap lo
	gzip -9nf psamp_traffic.pcap # every packet's first 1,390 bytes: kept compressed (flowcase and tshark read it so)
fi
if want tcp; then
	record_tcp softflowd_ipfix_tcp $((PORT + 2)) traffic.pcap
fi
if want exfil; then
	record_live traffic_exfil.pcap "host 127.0.1.9 or host 127.0.1.10 or host 127.0.1.11" python3 exfil.py
	record softflowd_v9_exfil 9 "$PORT" traffic_exfil.pcap lo
fi

# 3. ground truth: tshark's decoding of every export record, one CSV row per record
for f in softflowd_*.pcap softflowd_*.pcapng psamp_*.pcap.gz; do
	[ -e "$f" ] || continue
	in=$f out=$f.csv
	if [ "${f%.gz}" != "$f" ]; then # truth.py reads the plain file
		in=$W/$(basename "${f%.gz}") out=${f%.gz}.csv
		gunzip -c "$f" >"$in"
	fi
	python3 truth.py --port "$PORT" --port $((PORT + 1)) --port $((PORT + 2)) "$in" "$out"
done >summary.txt
{
	echo "# tools that made these files"
	tshark --version 2>/dev/null | head -1
	softflowd -h 2>&1 | grep -m1 -o 'softflowd version [0-9.]*'
	tcpdump --version 2>&1 | head -2
	dumpcap --version 2>/dev/null | head -1
	nmap --version 2>/dev/null | head -1
	python3 --version
	sha256sum traffic*.pcap
	# the live recordings of sets not remade this time keep their line
	[ -e versions.txt ] && grep -E '^[0-9a-f]{64}  traffic' versions.txt | while read -r _ f; do
		[ -e "$f" ] || grep -F "  $f" versions.txt
	done || true
} >versions.txt.new
mv versions.txt.new versions.txt
log "done"
