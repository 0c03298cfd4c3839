package ingest

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestCapturePSAMP: softflowd's PSAMP export of traffic.pcap reports each
// of its 468 packets with its first bytes (dataLinkFrameSection) and the
// time it was seen, and no flow keys. flowcase reads the keys from the
// section: per 5-tuple, the packets and bytes must add up to the flows
// softflowd exports as IPFIX from the same traffic (softflowd_ipfix.pcap).
func TestCapturePSAMP(t *testing.T) {
	type agg struct{ bytes, packets uint64 }
	sum := func(path string) (map[string]agg, int) {
		st := capStore(t)
		res := capIngest(t, st, path).Files[0]
		if len(res.Rejected) != 0 {
			t.Fatalf("%s: rejected %v", path, res.Rejected)
		}
		out := map[string]agg{}
		rows := capRows(t, st)
		for _, r := range rows {
			if !r.SrcAddr.IsValid() || !r.DstAddr.IsValid() {
				t.Fatalf("%s: a record without addresses: %+v", path, r)
			}
			k := fmt.Sprintf("%s:%d>%s:%d/%d", r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto)
			a := out[k]
			a.bytes += r.Bytes
			a.packets += r.Packets
			out[k] = a
		}
		return out, len(rows)
	}
	packets, n := sum(filepath.Join(softflowdDir, "psamp_traffic.pcap.gz"))
	flows, _ := sum(filepath.Join(softflowdDir, "softflowd_ipfix.pcap"))
	if n != 468 {
		t.Errorf("got %d packet records, want traffic.pcap's 468", n)
	}
	var total agg
	for k, want := range flows {
		if got := packets[k]; got != want {
			t.Errorf("%s: packets add up to %d bytes in %d packets; softflowd's flows say %d in %d", k, got.bytes, got.packets, want.bytes, want.packets)
		}
		total.bytes += want.bytes
		total.packets += want.packets
	}
	if len(packets) != len(flows) || total.bytes != 266_578 || total.packets != 468 {
		t.Errorf("got %d 5-tuples from packets, %d from flows, flows total %+v; want the same and 266,578 bytes in 468 packets", len(packets), len(flows), total)
	}
}
