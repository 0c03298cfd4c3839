package query

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

// TestPlannedScanMatchesNaive: for random flows in a real store and random
// filters and ranges, the planned query (postings, block pruning, residual
// filter) returns exactly the rows a naive pass over the records returns.
func TestPlannedScanMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano()
	recs := make([]flow.Record, 12000)
	for i := range recs {
		r := randomRecord(rng)
		r.Start = t0 + rng.Int64N(int64(72*time.Hour))
		r.End = r.Start + rng.Int64N(int64(20*time.Minute))
		if rng.IntN(100) == 0 {
			r.End += int64(30 * time.Hour)
		}
		recs[i] = *r
	}
	st, err := index.Open(t.TempDir(), index.Options{Create: true, SegmentRows: 900})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for part, lo := 0, 0; lo < len(recs); part, lo = part+1, lo+4000 {
		w, err := st.BeginSource(index.SourceInfo{SHA256: sha256.Sum256([]byte{byte(part)}), Path: fmt.Sprint(part)})
		if err != nil {
			t.Fatal(err)
		}
		for i := lo; i < lo+4000; i++ {
			if err := w.Add(&recs[i]); err != nil {
				t.Fatal(err)
			}
			recs[i].SourceID = w.SourceID()
		}
		if _, err := w.Commit(index.SourceResult{}); err != nil {
			t.Fatal(err)
		}
	}
	key := func(r flow.Record) string { return fmt.Sprintf("%+v", r) }
	rows := 0
	for i := range 400 {
		g := &filterGen{rng: rng, indexedOnly: i%3 == 0}
		text, _ := g.expr(3)
		f, err := ParseFilter(text)
		if err != nil {
			t.Fatal(err)
		}
		rg := Range{From: t0 + rng.Int64N(int64(72*time.Hour)), Starting: i%2 == 0}
		rg.To = rg.From + rng.Int64N(int64(12*time.Hour))
		var want, got []string
		for _, r := range recs {
			if rg.Contains(r.Start, r.End) && f.Match(&r) {
				want = append(want, key(r))
			}
		}
		_, err = Scan(st, Request{Range: rg, Filter: f, Ordered: i%4 == 0}, func(r *flow.Record) bool {
			got = append(got, key(*r))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("filter %q range %+v: got %d rows, want %d", text, rg, len(got), len(want))
		}
		if n, _, err := Count(st, Request{Range: rg, Filter: f}); err != nil || n != int64(len(want)) {
			t.Fatalf("filter %q range %+v: count %d (%v), want %d", text, rg, n, err, len(want))
		}
		rows += len(got)
	}
	t.Logf("400 random queries, %d rows in all", rows)
}
