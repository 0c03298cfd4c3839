#!/bin/bash
# Remake evidence.zip (Info-ZIP's zip) and evidence.tar.zst (GNU tar with zstd): the same bundle of
# evidence as investigators receive it, from other fixtures of testdata.
#
#   ./make.sh      (no root, no network; Debian 12: zip 3.0, tar 1.34, zstd 1.5.4, gzip)
#
# Members: case/flows.ndjson.xz (../compressed), case/exports/softflowd_v9.pcap (../softflowd),
# case/notes.txt (not evidence), case/inner.tar.gz (a tar inside: softflowd_v5.pcap).
set -euo pipefail
cd "$(dirname "$0")"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/case/exports" "$W/inner"
cp ../compressed/flows.ndjson.xz "$W/case/"
cp ../softflowd/softflowd_v9.pcap "$W/case/exports/"
printf 'Collected from the branch office router, 2026-03-02.\n' >"$W/case/notes.txt"
cp ../softflowd/softflowd_v5.pcap "$W/inner/"
# Fixed times and owners, so that the archives are the same bytes each time.
find "$W" -exec touch -h -d '2026-03-02 00:00:00 UTC' {} +
tar -C "$W/inner" --owner=0 --group=0 --numeric-owner --mtime='2026-03-02 00:00:00 UTC' --sort=name -cf - softflowd_v5.pcap |
	gzip -9n >"$W/case/inner.tar.gz"
touch -d '2026-03-02 00:00:00 UTC' "$W/case/inner.tar.gz"
rm -f evidence.zip
(cd "$W" && TZ=UTC zip -X -q -r "$OLDPWD/evidence.zip" case/flows.ndjson.xz case/exports/softflowd_v9.pcap case/notes.txt case/inner.tar.gz)
tar -C "$W" --owner=0 --group=0 --numeric-owner --mtime='2026-03-02 00:00:00 UTC' --sort=name --zstd -cf evidence.tar.zst case
{ zip -v | sed -n 2p; tar --version | head -1; zstd --version; } >versions.txt
