#!/bin/bash
# Remake the compressed copies of flows.ndjson (the first 300 records of the bundled sample) and of
# ../softflowd/softflowd_v9.pcap, as the Debian 12 tools write them: bzip2 1.0.8, xz 5.4.1 and
# zstd 1.5.4 (gzip copies are everywhere else in testdata).
#
#   ./make.sh      (no root, no network)
set -euo pipefail
cd "$(dirname "$0")"
head -300 <(zcat ../sample/flows.ndjson.gz) >flows.ndjson
bzip2 -9 -c flows.ndjson >flows.ndjson.bz2
xz -9 -c flows.ndjson >flows.ndjson.xz
zstd -q -19 -c flows.ndjson >flows.ndjson.zst
rm flows.ndjson
xz -c ../softflowd/softflowd_v9.pcap >softflowd_v9.pcap.xz
zstd -q -c ../softflowd/softflowd_v9.pcap >softflowd_v9.pcap.zst
bzip2 -c ../softflowd/softflowd_v9.pcap >softflowd_v9.pcap.bz2
{ bzip2 --version 2>&1 | head -1; xz --version | head -1; zstd --version; } >versions.txt
