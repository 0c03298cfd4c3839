package detectors

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// A triple's observations survive their varint encoding exactly, across
// the inline bytes and many chunks, up to MaxIntervals.
func TestBeaconObsRoundTrip(t *testing.T) {
	const max = 3000
	b := newBeacon(BeaconConfig{MaxIntervals: max})
	rng := rand.New(rand.NewPCG(1, 2))
	edge := []uint32{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<28 - 1, 1 << 28, math.MaxUint32}
	var states [3]beaconState
	var want [3][]beaconObs
	for i := range 4000 {
		k := i % len(states)
		s := &states[k]
		o := beaconObs{edge[rng.IntN(len(edge))], uint32(rng.Uint64())}
		if i%5 == 0 {
			o.ival = uint32(rng.IntN(300_000))
		}
		if s.count == 0 {
			s.count = 1 // the first connection: no observation
			continue
		}
		if s.count-1 < max {
			b.putObs(s, o)
			want[k] = append(want[k], o)
		}
		s.count++
	}
	var sc scratch
	for k := range states {
		got := b.obsOf(&states[k], &sc, nil)
		if len(got) != min(int(states[k].count-1), max) || !slices.Equal(got, want[k]) {
			t.Errorf("state %d: %d observations back, want %d (equal: %v)", k, len(got), len(want[k]), slices.Equal(got, want[k]))
		}
	}
	// One observation, inline only; none.
	one := beaconState{count: 2}
	b.putObs(&one, beaconObs{60_000, 512})
	if got := b.obsOf(&one, &sc, nil); !slices.Equal(got, []beaconObs{{60_000, 512}}) || one.tail != 0 || one.fill != 5 {
		t.Errorf("one observation: got %v, tail %d, fill %d", got, one.tail, one.fill)
	}
	if got := b.obsOf(&beaconState{count: 1}, &sc, nil); len(got) != 0 {
		t.Errorf("no observation: got %v", got)
	}
}

// A pair whose records come from two origins (exporters with different
// sampling intervals) keeps exact scaled totals, counts and origins once
// it widens; the same records from one origin keep them narrow.
func TestExfilWidePair(t *testing.T) {
	in, out := ip4(10, 1, 0, 5), ip4(198, 51, 100, 9)
	x, y := ip4(192, 0, 2, 1), ip4(192, 0, 2, 2)
	rec := func(i int, exp netip.Addr, samp uint32, up, down uint64, hostOpens bool) flow.Record {
		r := flow.Record{Start: t0 + int64(i)*hr, End: t0 + int64(i)*hr + sec, Proto: 6, Packets: 10, RevPackets: 10,
			TCPFlags: flow.SYN | flow.ACK | flow.FIN, Exporter: exp, SamplingInterval: samp}
		if hostOpens {
			r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Bytes, r.RevBytes = in, out, uint16(50000+i), 443, up, down
		} else {
			r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Bytes, r.RevBytes = out, in, uint16(50000+i), 22, down, up
		}
		return r
	}
	recs := []flow.Record{
		rec(0, x, 1, 40e6, 1e6, true),
		rec(1, x, 1, 30e6, 2e6, true),
		rec(2, y, 10, 5e6, 1e5, true),  // widens: 50e6 scaled out
		rec(3, x, 1, 7e6, 3e6, false),  // the peer opens
		rec(4, y, 10, 1e6, 1e6, false), // 10e6 out, 10e6 in
	}
	e := exfilOf(ExfilConfig{Bytes: 50e6}, recs)
	got := e.Findings()
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(got), got)
	}
	f := got[0]
	wantOut := uint64(40e6 + 30e6 + 50e6 + 7e6 + 10e6)
	wantIn := uint64(1e6 + 2e6 + 1e6 + 3e6 + 10e6)
	if f.TotalBytes != wantOut || f.InBytes != wantIn || f.RawOutBytes != 83e6 || f.RawInBytes != 7.1e6 ||
		f.OpenedBySource != 3 || f.OpenedByDestination != 2 || f.OutOnSourceOpened != 120e6 || f.Opener != "both" ||
		f.Flows != 5 || !slices.Equal(f.SamplingIntervals, []uint32{1, 10}) || f.FirstSeenNS != t0 || f.LastSeenNS != t0+4*hr {
		t.Errorf("got %+v", f)
	}
	if e.wide.len() != 1 {
		t.Errorf("%d wide pairs, want 1", e.wide.len())
	}
	// One origin: narrow, the same sums (sampling 1).
	for i := range recs {
		recs[i].Exporter, recs[i].SamplingInterval = x, 1
	}
	e = exfilOf(ExfilConfig{Bytes: 50e6}, recs)
	got = e.Findings()
	if len(got) != 1 || got[0].TotalBytes != 83e6 || got[0].InBytes != 7.1e6 || got[0].OpenedBySource != 3 ||
		got[0].OpenedByDestination != 2 || got[0].OutOnSourceOpened != 75e6 || e.wide.len() != 0 {
		t.Errorf("one origin: got %+v, %d wide", got, e.wide.len())
	}
}

// A triple whose connections come from two origins (exporters with
// different sampling intervals) keeps exact evidence once it widens; the
// same connections from one origin keep it narrow. Each connection is one
// record.
func TestBeaconWideState(t *testing.T) {
	src, dst := ip4(10, 1, 0, 5), ip4(198, 51, 100, 9)
	x, y := ip4(192, 0, 2, 1), ip4(192, 0, 2, 2)
	recs := func(twoOrigins bool) []flow.Record {
		var rs []flow.Record
		for i := range 20 {
			st := t0 + int64(i)*60*sec
			r := flow.Record{Start: st, End: st + sec, SrcAddr: src, DstAddr: dst, SrcPort: uint16(40000 + i), DstPort: 443,
				Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.FIN, Packets: 5, RevPackets: 5, Bytes: 1000, RevBytes: 2000,
				Exporter: x, SamplingInterval: 1}
			if twoOrigins && i >= 12 {
				r.Exporter, r.SamplingInterval = y, 10
			}
			rs = append(rs, r)
		}
		return rs
	}
	for _, two := range []bool{false, true} {
		b := NewBeacon(BeaconConfig{From: t0, To: t0 + 20*60*sec})
		rs := recs(two)
		for i := range rs {
			b.Add(&rs[i])
		}
		got := b.Candidates()
		if len(got) != 1 {
			t.Fatalf("two origins %v: %d candidates, want 1", two, len(got))
		}
		f := got[0]
		wantScaled, wantSamp, wantWide := uint64(20*3000), []uint32{1}, 0
		if two {
			wantScaled, wantSamp, wantWide = 12*3000+8*30000, []uint32{1, 10}, 1
		}
		if f.ConnectionCount != 20 || f.Flows != 20 || f.RawBytes != 60000 || f.ScaledBytes != wantScaled ||
			!slices.Equal(f.SamplingIntervals, wantSamp) || f.FirstSeenNS != t0 || f.LastSeenNS != t0+19*60*sec ||
			f.LastEndNS != t0+19*60*sec+sec || f.MedianInterval != 60 || f.MedianBytes != 3000 || f.IntervalsEvaluated != 19 ||
			b.wide.len() != wantWide {
			t.Errorf("two origins %v: got %+v, %d wide", two, f, b.wide.len())
		}
	}
}
