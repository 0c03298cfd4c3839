package detectors

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

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

// TestTimelineMerge: Timelines over a split of the records, each part out
// of start order, merged, equal one Timeline over all of them.
func TestTimelineMerge(t *testing.T) {
	recs := randomRecords(5000, 3)
	cfg := TimelineConfig{Every: time.Minute}
	one := NewTimeline(cfg)
	parts := []*Timeline{NewTimeline(cfg), NewTimeline(cfg)}
	for i := range recs {
		one.Add(&recs[i])
	}
	for i := len(recs) - 1; i >= 0; i-- { // backwards: the slow path
		parts[i%2].Add(&recs[i])
	}
	merged := NewTimeline(cfg)
	for _, p := range parts {
		merged.Merge(p)
	}
	got, want := merged.Buckets(), one.Buckets()
	if len(want) < 10 || !reflect.DeepEqual(got, want) {
		t.Fatalf("merged timeline: %d buckets, want %d equal ones", len(got), len(want))
	}
}
