package ingest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestPmacctJSON reads pmacct's JSON (testdata/pmacct: nfacctd fed with the
// softflowd v9 fixture's export packets on loopback, print plugin): its
// names (ip_src, port_dst, ip_proto as a name, timestamp_start, peer_ip_src,
// tcp_flags as a decimal string) read as they are, its zone-less times with
// --input-tz. pmacct aggregates records with equal primitives, so the
// check is per 5-tuple: bytes, packets and TCP flags add up to the flows
// flowcase decodes from the capture, and the first start is within a
// second of theirs.
func TestPmacctJSON(t *testing.T) {
	type agg struct {
		bytes, packets uint64
		flags          uint8
		first          int64
	}
	sum := func(path string, tz *time.Location) map[string]agg {
		st := capStore(t)
		sum, err := Run(st, []string{path}, Options{Version: "test", InputTZ: tz})
		if err != nil || sum.Files[0].Err != nil || len(sum.Files[0].Rejected) != 0 {
			t.Fatalf("ingest %s: %v, %+v", path, err, sum.Files)
		}
		out := map[string]agg{}
		for _, r := range capRows(t, st) {
			k := fmt.Sprintf("%s %s:%d>%s:%d/%d", r.Exporter, r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto)
			a, ok := out[k]
			if !ok || r.Start < a.first {
				a.first = r.Start
			}
			a.bytes, a.packets, a.flags = a.bytes+r.Bytes, a.packets+r.Packets, a.flags|r.TCPFlags
			out[k] = a
		}
		return out
	}
	got := sum("../testdata/pmacct/softflowd_v9.pmacct.json", time.UTC)
	want := sum(filepath.Join(softflowdDir, "softflowd_v9.pcap"), nil)
	if len(got) != len(want) || len(want) < 50 {
		t.Errorf("got %d 5-tuples, want the capture's %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		// pmacct 1.7.7 gives softflowd's v9 times in whole seconds, up to a
		// second off the millisecond times tshark and flowcase read.
		near := g.first-w.first < int64(time.Second) && w.first-g.first < int64(time.Second)
		if g.bytes != w.bytes || g.packets != w.packets || g.flags != w.flags || !near {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
}
