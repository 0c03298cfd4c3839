package detectors

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestTopMerge: Tops over any split of the records, merged, give the same
// result as one Top over all of them (a parallel scan merges one Top per
// goroutine), IPv6 and missing addresses included.
func TestTopMerge(t *testing.T) {
	recs := randomRecords(6000, 2)
	for i := range recs {
		switch i % 7 {
		case 0:
			recs[i].SrcAddr = flow.Record{}.SrcAddr // none: "unknown"
		case 1:
			recs[i].SrcAddr = recs[i].SrcAddr.Prev() // more keys
		}
	}
	recs[5].DstAddr = netip.MustParseAddr("2001:db8::5")
	recs[6].SrcAddr = netip.MustParseAddr("2001:db8::6")
	for _, by := range []TopKey{BySrcIP, ByDstIP, ByDstPort, BySrcPort, ByProto, ByPair, ByExporter} {
		cfg := TopConfig{By: by, Order: OrderFlows, N: 50}
		one := NewTop(cfg)
		parts := []*Top{NewTop(cfg), NewTop(cfg), NewTop(cfg)}
		for i := range recs {
			one.Add(&recs[i])
			parts[(i*7)%3].Add(&recs[i])
		}
		merged := NewTop(cfg)
		for _, p := range parts {
			merged.Merge(p)
		}
		if got, want := merged.Result(), one.Result(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: merged result differs:\n got %+v\nwant %+v", by, got, want)
		}
	}
}
