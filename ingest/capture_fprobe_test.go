package ingest

import (
	"path/filepath"
	"testing"
)

// TestCaptureFprobe: NetFlow v1, v5 and v7 exported by fprobe from live
// traffic on loopback (testdata/fprobe, made by its make.sh), checked
// record by record against tshark's decoding, with each exporter's
// sequence continuous (v5 and v7 count flows; v1 has no sequence).
func TestCaptureFprobe(t *testing.T) {
	for _, v := range []string{"1", "5", "7"} {
		path := filepath.Join("../testdata/fprobe", "fprobe_v"+v+".pcap")
		t.Run("v"+v, func(t *testing.T) {
			truth := readSoftflowdTruth(t, path+".csv")
			st := capStore(t)
			res := capIngest(t, st, path).Files[0]
			_, x := capSource(t, st, res)
			want, _ := softflowdWant(t, truth)
			var got []string
			for _, r := range capRows(t, st) {
				got = append(got, softflowdKey(&r))
			}
			if len(want) < 50 {
				t.Fatalf("%d truth rows, want the fixture's 60 or so", len(want))
			}
			compareKeys(t, got, want)
			if len(res.Rejected) != 0 || x.DuplicatePackets != 0 {
				t.Errorf("rejected %v, %d duplicate packets; want none", res.Rejected, x.DuplicatePackets)
			}
			checkSoftflowdExporters(t, x, truth)
		})
	}
}
