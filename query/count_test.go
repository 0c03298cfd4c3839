package query

import (
	"crypto/sha256"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

// TestCountFromPostings: a count whose filter the postings answer exactly
// (indexed terms only, values held by enough rows to be posted row by row)
// decodes no block in the range's inner blocks; one with an unindexed term
// decodes the candidates' blocks. Both count what a naive pass counts.
func TestCountFromPostings(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano()
	host := netip.MustParseAddr("10.9.8.7")
	recs := make([]flow.Record, 20000)
	for i := range recs {
		r := flow.Record{
			SrcAddr: netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(200))}),
			DstAddr: netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(50))}),
			SrcPort: uint16(40000 + rng.IntN(20000)), DstPort: []uint16{53, 80, 443}[rng.IntN(3)],
			Proto: 6, Bytes: uint64(rng.IntN(5000)), Packets: 3,
			Start: t0 + rng.Int64N(int64(48*time.Hour)),
		}
		if rng.IntN(10) == 0 {
			r.SrcAddr = host
		}
		r.End = r.Start + rng.Int64N(int64(time.Minute))
		recs[i] = r
	}
	st := storeOf(t, "count", recs)
	all := Range{From: math.MinInt64, To: math.MaxInt64}
	for _, c := range []struct {
		filter  string
		decodes bool
	}{
		{"host 10.9.8.7", false},
		{"src ip 10.9.8.7 and dst port 443", false},
		{"src ip 10.9.8.7 and not dst port 53", false},
		{"host 10.9.8.7 and bytes > 2500", true},
	} {
		f, err := ParseFilter(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for i := range recs {
			if f.Match(&recs[i]) {
				want++
			}
		}
		n, ss, err := Count(st, Request{Range: all, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		if n != want || want == 0 {
			t.Errorf("%q: count %d, want %d (>0)", c.filter, n, want)
		}
		if got := ss.BlocksRead > 0; got != c.decodes {
			t.Errorf("%q: %d blocks decoded, want decoding %v", c.filter, ss.BlocksRead, c.decodes)
		}
	}
	// Rows of the host in the first day's blocks that straddle nothing:
	// the same counts over a range as from a naive pass.
	f, _ := ParseFilter("host 10.9.8.7")
	rg := Range{From: t0 + int64(3*time.Hour), To: t0 + int64(27*time.Hour)}
	var want int64
	for i := range recs {
		if rg.Contains(recs[i].Start, recs[i].End) && f.Match(&recs[i]) {
			want++
		}
	}
	if n, _, err := Count(st, Request{Range: rg, Filter: f}); err != nil || n != want {
		t.Errorf("host over a range: count %d (%v), want %d", n, err, want)
	}
}

// storeOf returns a new store (closed when the test ends) holding recs as
// one source named name, and sets each record's SourceID.
func storeOf(t *testing.T, name string, recs []flow.Record) *index.Store {
	t.Helper()
	st, err := index.Open(t.TempDir(), index.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := st.BeginSource(index.SourceInfo{SHA256: sha256.Sum256([]byte(name)), Path: name})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Add(&recs[i]); err != nil {
			t.Fatal(err)
		}
		recs[i].SourceID = w.SourceID()
	}
	if _, err := w.Commit(index.SourceResult{}); err != nil {
		t.Fatal(err)
	}
	return st
}
