#!/bin/sh
# Remakes default.pgo, the CPU profile Go's compiler uses to optimise
# flowcase (profile-guided optimisation: `go build` and `go install` of
# ./cmd/flowcase read it by themselves). It profiles the runs the
# benchmark measures, on the project generator's week of 5M flows: the full
# report, ingest of the NetFlow v9 capture and of the NDJSON, `query top`
# and a one-address lookup, and merges their profiles.
#
#   cmd/flowcase/pgo.sh            # from the repository's root; about 5 minutes, 3 GB of scratch space
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/flowcase
CGO_ENABLED=0 go build -pgo=off -o "$bin" ./cmd/flowcase
"$bin" bench --flows 5000000 --runs 1 --skip-peers --keep --out "$work/b" >/dev/null
week=$work/b/stores/week
"$bin" --cpuprofile "$work/report.prof" query report --store "$week" >/dev/null
"$bin" --cpuprofile "$work/v9.prof" ingest --quiet --store "$work/s1" "$work/b/flows-v9.pcap" >/dev/null
"$bin" --cpuprofile "$work/ndjson.prof" ingest --quiet --store "$work/s2" "$work/b/flows.ndjson" >/dev/null
"$bin" --cpuprofile "$work/top.prof" query top --store "$week" --by srcip --order bytes -n 20 >/dev/null
"$bin" --cpuprofile "$work/addr.prof" query flows --store "$week" --filter 'host 10.1.20.75' --format csv >/dev/null
# The profiles name their functions (with their first lines, which PGO
# needs): -symbolize=none keeps them rather than reading the binary.
go tool pprof -symbolize=none -proto "$work"/*.prof >cmd/flowcase/default.pgo
echo "wrote cmd/flowcase/default.pgo"
