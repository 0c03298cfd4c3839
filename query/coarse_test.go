package query

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestPlannedScanCoarse: segments of several blocks whose postings keep
// rare ports and addresses in the coarse section (candidates are whole
// blocks, re-checked row by row). Filters naming rare values, their
// negations, ranges over them and random filters return exactly the rows
// of a naive pass.
func TestPlannedScanCoarse(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano()
	recs := make([]flow.Record, 24000)
	for i := range recs {
		r := randomRecord(rng)
		// Mostly ephemeral source ports (rare: the coarse section), some
		// one-off addresses.
		if rng.IntN(4) != 0 {
			r.SrcPort = uint16(32768 + rng.IntN(28000))
		}
		if rng.IntN(5) == 0 {
			r.DstAddr = netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
		r.Start = t0 + rng.Int64N(int64(3*time.Hour))
		r.End = r.Start + rng.Int64N(int64(time.Minute))
		recs[i] = *r
	}
	st := storeOf(t, "coarse", recs)
	var filters []string
	for range 15 {
		r := recs[rng.IntN(len(recs))]
		for !r.DstAddr.IsValid() {
			r = recs[rng.IntN(len(recs))]
		}
		p := r.SrcPort
		filters = append(filters,
			fmt.Sprintf("src port %d", p), fmt.Sprintf("not src port %d", p),
			fmt.Sprintf("port %d", p), fmt.Sprintf("not port %d", p),
			fmt.Sprintf("src portrange %d-%d", p, p+uint16(rng.IntN(50))),
			fmt.Sprintf("not src portrange %d-%d", p, p+3),
			fmt.Sprintf("src port %d or dst port 443", p),
			fmt.Sprintf("src port %d and not dst port 53", p),
			fmt.Sprintf("not (src port %d or host %s)", p, r.DstAddr),
			fmt.Sprintf("host %s", r.DstAddr), fmt.Sprintf("not dst host %s", r.DstAddr),
			fmt.Sprintf("dst net %s/28", r.DstAddr),
			fmt.Sprintf("src port != %d", p))
	}
	for i := range 120 {
		g := &filterGen{rng: rng, indexedOnly: i%2 == 0}
		text, _ := g.expr(3)
		filters = append(filters, text)
	}
	rows := 0
	for i, text := range filters {
		f, err := ParseFilter(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		rg := Range{From: t0 + rng.Int64N(int64(3*time.Hour)), Starting: i%2 == 0}
		rg.To = rg.From + rng.Int64N(int64(3*time.Hour))
		if i%3 == 0 {
			rg = Range{From: t0 - int64(time.Hour), To: t0 + int64(4*time.Hour)}
		}
		want := map[flow.Record]int{}
		n := 0
		for _, r := range recs {
			if rg.Contains(r.Start, r.End) && f.Match(&r) {
				want[r]++
				n++
			}
		}
		got := 0
		_, err = Scan(st, Request{Range: rg, Filter: f, Ordered: i%4 == 0}, func(r *flow.Record) bool {
			if want[*r] == 0 {
				t.Errorf("filter %q range %+v: got row %+v, not matching", text, rg, *r)
				return false
			}
			want[*r]--
			got++
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != n || t.Failed() {
			t.Fatalf("filter %q range %+v: got %d rows, want %d", text, rg, got, n)
		}
		if c, _, err := Count(st, Request{Range: rg, Filter: f}); err != nil || c != int64(n) {
			t.Fatalf("filter %q range %+v: count %d (%v), want %d", text, rg, c, err, n)
		}
		rows += got
	}
	t.Logf("%d filters, %d rows in all", len(filters), rows)
}
