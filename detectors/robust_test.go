package detectors

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestMedianSelect checks that median (selection, no sort) gives exactly
// the sorted sample's quantile(0.5), and medianMAD exactly describe's
// median and MAD, on sizes 1..300 with many ties.
func TestMedianSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 300; n++ {
		for _, levels := range []int{1, 3, 50, 1 << 30} {
			x := make([]float64, n)
			for i := range x {
				x[i] = float64(rng.IntN(levels)) * 0.37
			}
			sorted := slices.Sorted(slices.Values(x))
			want := quantile(sorted, 0.5)
			if got := median(slices.Clone(x)); got != want {
				t.Fatalf("n=%d levels=%d: median %v, sorted quantile %v", n, levels, got, want)
			}
			d, _ := describe(slices.Clone(x), nil)
			if med, mad, _ := medianMAD(slices.Clone(x), nil); med != d.Median || mad != d.MAD {
				t.Fatalf("n=%d levels=%d: medianMAD %v %v, describe %v %v", n, levels, med, mad, d.Median, d.MAD)
			}
			k := rng.IntN(n)
			y := slices.Clone(x)
			if got := selectNth(y, k); got != sorted[k] {
				t.Fatalf("n=%d k=%d: selectNth %v, sorted %v", n, k, got, sorted[k])
			}
			for i := range y {
				if (i < k && y[i] > y[k]) || (i > k && y[i] < y[k]) {
					t.Fatalf("n=%d k=%d: y[%d]=%v on the wrong side of %v", n, k, i, y[i], y[k])
				}
			}
		}
	}
}

// TestBeaconCandidatesWorkers checks that scoring the candidates on
// several goroutines (a Suite's Beacon) gives exactly the one-goroutine
// result, on enough triples (12,000, each with 12 connections) that the
// states span several chunks and every worker has some.
func TestBeaconCandidatesWorkers(t *testing.T) {
	const pairs, rounds = 12000, 12
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []flow.Record
	for k := range rounds {
		for i := range pairs {
			start := t0 + int64(k)*5*mn + int64(i)*10*int64(time.Microsecond) + rng.Int64N(20*sec)
			recs = append(recs, flow.Record{Start: start, End: start + sec,
				SrcAddr: ip4(10, 1, byte(i>>8), byte(i)), DstAddr: ip4(198, 51, byte(i>>8), byte(i)),
				SrcPort: uint16(40000 + k), DstPort: 443, Proto: flow.ProtoTCP, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN,
				Packets: 5, Bytes: uint64(300 + rng.IntN(50)), RevPackets: 4, RevBytes: 900})
		}
	}
	sortByStart(recs)
	var got [][]BeaconFinding
	for _, workers := range []int{1, 2, 3, 8} {
		s := NewSuite(SuiteConfig{Serial: true})
		s.Beacon.workers = workers
		for i := range recs {
			s.Add(&recs[i])
		}
		c := s.Beacon.Candidates()
		if n := s.Beacon.full.len(); n < 2*chunkLen {
			t.Fatalf("%d full states: too few to split", n)
		}
		got = append(got, c)
	}
	if len(got[0]) != pairs {
		t.Fatalf("%d candidates, want %d", len(got[0]), pairs)
	}
	for i := 1; i < len(got); i++ {
		if !reflect.DeepEqual(got[0], got[i]) {
			t.Fatalf("candidates differ between 1 worker and run %d", i)
		}
	}
}
