package ingest

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Records kept after a repair are stored and noted, not counted as
// rejected: a v9 record that ends before it starts (kept with its end at
// its start) and one without any time (placed at its packet's export time).
func TestCaptureKeptAfterRepair(t *testing.T) {
	be := binary.BigEndian
	t0 := uint64(capBase / 1e6)
	exportSecs := uint32(capBase/1e9) + 60
	// Template 256: addresses, ports, protocol, bytes, flowStart/EndMilliseconds;
	// template 257: the same without times.
	tpls := v9Template(nil, 256, 8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 4, 152, 8, 153, 8)
	tpls = v9Template(tpls, 257, 8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 4)
	key := func(b []byte, src string, bytes uint32) []byte {
		b = append(b, netip.MustParseAddr(src).AsSlice()...)
		b = append(b, 192, 168, 1, 20)
		b = be.AppendUint16(b, 50000)
		b = be.AppendUint16(b, 443)
		b = append(b, 6)
		return be.AppendUint32(b, bytes)
	}
	inverted := be.AppendUint64(be.AppendUint64(key(nil, "10.0.0.1", 100), t0+5_000), t0)
	path := writeV9Packet(t, "repaired.pcap", 4, v9Set(0, tpls), v9Set(256, inverted), v9Set(257, key(nil, "10.0.0.2", 200))) // two templates, two records
	st := capStore(t)
	res := capIngest(t, st, path).Files[0]
	want := []string{
		"1 flow records carry no time of their own (or only times since the exporter's start, which it did not send): each is placed at its export packet's time",
		"1 flow records end before they start: each is kept with its end set to its start",
	}
	if res.Flows != 2 || len(res.Rejected) != 0 || !slices.Equal(res.Notes, want) {
		t.Fatalf("got %d flows, rejected %v, notes %q; want 2, none and %q", res.Flows, res.Rejected, res.Notes, want)
	}
	for _, r := range capRows(t, st) {
		start, end := r.Start, r.End
		switch r.Bytes {
		case 100:
			if want := int64(t0+5_000) * 1e6; start != want || end != want {
				t.Errorf("inverted record at [%d, %d]; want both %d", start, end, want)
			}
		case 200:
			if want := int64(exportSecs) * 1e9; start != want || end != want {
				t.Errorf("timeless record at [%d, %d]; want both at the export time %d", start, end, want)
			}
		default:
			t.Errorf("unexpected row %+v", r)
		}
	}
}

// A case folder's notes and scripts beside the evidence (a Markdown title,
// a shell script's #!) are not evidence: passed over and listed, where
// their '#' made them Zeek logs that failed the whole ingest.
func TestHashLinesAreNotZeek(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"README.md":    "# Case notes\n\nCollected on site.\n",
		"make.sh":      "#!/bin/sh\necho collect\n",
		"flows.ndjson": `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000}` + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := Run(capStore(t), []string{dir}, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, f := range sum.Files {
		if f.Err != nil {
			t.Errorf("%s: %v", f.Path, f.Err)
		}
		if f.Skipped == SkippedFormat {
			skipped++
		}
	}
	if sum.Flows != 1 || skipped != 2 {
		t.Errorf("%d flows, %d files skipped as not evidence; want 1 and 2: %+v", sum.Flows, skipped, sum.Files)
	}
}
