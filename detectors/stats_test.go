package detectors

import (
	"errors"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

func randomRecords(n int, seed uint64) []flow.Record {
	rng := rand.New(rand.NewPCG(seed, 9))
	recs := make([]flow.Record, n)
	t := t0
	for i := range recs {
		t += int64(rng.IntN(int(2 * sec)))
		recs[i] = flow.Record{Start: t, End: t + sec, SrcAddr: ip4(10, 0, byte(rng.IntN(3)), byte(rng.IntN(20))),
			DstAddr: ip4(198, 51, 100, byte(rng.IntN(30))), SrcPort: uint16(rng.IntN(5)), DstPort: uint16(rng.IntN(40)),
			Proto: []uint8{6, 17, 1}[rng.IntN(3)], Bytes: uint64(rng.IntN(5000)), RevBytes: uint64(rng.IntN(5000)),
			Packets: uint64(rng.IntN(9) + 1), RevPackets: uint64(rng.IntN(9)), SamplingInterval: uint32(1 + rng.IntN(2)),
			Exporter: ip4(10, 255, 0, byte(rng.IntN(3)))}
	}
	return recs
}

// Top is checked against a plain map of the same records, for every key
// and order.
func TestTopAgainstMap(t *testing.T) {
	recs := randomRecords(5000, 1)
	keyOf := map[TopKey]func(r *flow.Record) string{
		BySrcIP:    func(r *flow.Record) string { return r.SrcAddr.String() },
		ByDstIP:    func(r *flow.Record) string { return r.DstAddr.String() },
		ByDstPort:  func(r *flow.Record) string { return strconv.Itoa(int(r.DstPort)) },
		BySrcPort:  func(r *flow.Record) string { return strconv.Itoa(int(r.SrcPort)) },
		ByProto:    func(r *flow.Record) string { return flow.ProtoName(r.Proto) },
		ByPair:     func(r *flow.Record) string { return r.SrcAddr.String() + " -> " + r.DstAddr.String() },
		ByExporter: func(r *flow.Record) string { return r.Exporter.String() },
	}
	for by, kf := range keyOf {
		for _, order := range []TopOrder{OrderBytes, OrderFlows, OrderPackets} {
			top := NewTop(TopConfig{By: by, Order: order, N: 7})
			naive := map[string]*Counts{}
			for i := range recs {
				top.Add(&recs[i])
				k := kf(&recs[i])
				if naive[k] == nil {
					naive[k] = &Counts{}
				}
				naive[k].add(&recs[i])
			}
			res := top.Result()
			if res.Distinct != len(naive) || len(res.Entries) != min(7, len(naive)) {
				t.Fatalf("%v/%v: distinct %d entries %d, want %d %d", by, order, res.Distinct, len(res.Entries), len(naive), min(7, len(naive)))
			}
			metrics := make([]uint64, 0, len(naive))
			for _, c := range naive {
				metrics = append(metrics, c.metric(order))
			}
			sort.Slice(metrics, func(i, j int) bool { return metrics[i] > metrics[j] })
			for i, e := range res.Entries {
				if c := naive[e.Key]; c == nil || *c != e.Counts || e.metric(order) != metrics[i] {
					t.Errorf("%v/%v entry %d %q: got %+v, want counts %+v and metric %d", by, order, i, e.Key, e.Counts, c, metrics[i])
				}
			}
		}
	}
}

func TestParseTop(t *testing.T) {
	if k, err := ParseTopKey("dstport"); err != nil || k != ByDstPort {
		t.Errorf("ParseTopKey(dstport) = %v, %v", k, err)
	}
	if _, err := ParseTopKey("ports"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("ParseTopKey(ports) error %v, want ErrUnknownKey", err)
	}
	if o, err := ParseTopOrder("packets"); err != nil || o != OrderPackets {
		t.Errorf("ParseTopOrder(packets) = %v, %v", o, err)
	}
	if _, err := ParseTopOrder("size"); !errors.Is(err, ErrUnknownOrder) {
		t.Errorf("ParseTopOrder(size) error %v, want ErrUnknownOrder", err)
	}
}

func TestTimeline(t *testing.T) {
	recs := randomRecords(5000, 2)
	tl := NewTimeline(TimelineConfig{Every: 10 * time.Minute, From: t0 - hr, To: t0 + 5*hr})
	var total Counts
	for i := len(recs) - 1; i >= 0; i-- { // out of order on purpose
		tl.Add(&recs[i])
		total.add(&recs[i])
	}
	b := tl.Buckets()
	if len(b) != 36 || b[0].StartNS != t0-hr || b[35].StartNS != t0+5*hr-10*mn {
		t.Fatalf("got %d buckets from %s to %s, want 36 from 23:00 to 04:50", len(b), b[0].Start, b[len(b)-1].Start)
	}
	var sum Counts
	for i, x := range b {
		sum.Flows += x.Flows
		sum.Bytes += x.Bytes
		sum.Packets += x.Packets
		sum.RawBytes += x.RawBytes
		sum.RawPackets += x.RawPackets
		if i < 6 && x.Flows != 0 {
			t.Errorf("bucket %s before the first record has %d flows", x.Start, x.Flows)
		}
	}
	if sum != total {
		t.Errorf("buckets sum to %+v, want %+v", sum, total)
	}
}

func TestBaseline(t *testing.T) {
	recs := randomRecords(5000, 3)
	b := NewBaseline(BaselineConfig{})
	var total Counts
	for i := range recs {
		b.Add(&recs[i])
		total.add(&recs[i])
	}
	s := b.Summary()
	if s.TotalFlows != 5000 || s.TotalBytes != total.RawBytes || s.ScaledBytes != total.Bytes || s.BytesIn+s.BytesOut != s.TotalBytes {
		t.Errorf("totals %+v, want flows 5000 raw %d scaled %d", s, total.RawBytes, total.Bytes)
	}
	var protoBytes uint64
	for _, v := range s.ProtocolDistribution {
		protoBytes += v
	}
	if protoBytes != s.TotalBytes || len(s.ProtocolMix) != 3 {
		t.Errorf("protocol_distribution sums to %d, want %d; mix %d, want 3", protoBytes, s.TotalBytes, len(s.ProtocolMix))
	}
	if len(s.TopPorts) != 20 || len(s.TopDstPorts) != 20 || s.TopDstPorts[0].Flows < s.TopDstPorts[19].Flows {
		t.Errorf("top ports %d %d, want 20 in descending order", len(s.TopPorts), len(s.TopDstPorts))
	}
	if len(s.TopTalkers) != 10 || len(s.Timeline) == 0 {
		t.Errorf("talkers %d timeline %d, want 10 and some", len(s.TopTalkers), len(s.Timeline))
	}
}
