#!/bin/bash
# Remake softflowd_v5_v9.goflow2.ndjson: goflow2's JSON output for the softflowd fixtures' flows.
#
#   ./make.sh      (no root needed)
#
# Needs: Go (goflow2 v2.2.6 is built from the Go module proxy), python3 (stdlib only).
# Network traffic: the UDP payloads of ../softflowd/softflowd_v5.pcap and softflowd_v9.pcap, sent
# from 127.0.0.1 to goflow2 listening on 127.0.0.1:$PORT (default 39063).
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-39063}
VERSION=v2.2.6
W=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$W"' EXIT

GOBIN="$W/bin" GOFLAGS= go install "github.com/netsampler/goflow2/v2/cmd/goflow2@$VERSION"
"$W/bin/goflow2" -listen "netflow://127.0.0.1:$PORT" -format json -transport file \
	-transport.file "$W/out.ndjson" >"$W/goflow2.log" 2>&1 &
pid=$!
sleep 1.5
python3 ../softflowd/replay.py "$PORT" ../softflowd/softflowd_v5.pcap ../softflowd/softflowd_v9.pcap
sleep 1
kill "$pid"
wait "$pid" 2>/dev/null || true
cp "$W/out.ndjson" softflowd_v5_v9.goflow2.ndjson
echo "goflow2 $VERSION ($(go version | cut -d' ' -f3))" >versions.txt
echo "make.sh: $(wc -l <softflowd_v5_v9.goflow2.ndjson) flows" >&2
