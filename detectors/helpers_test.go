package detectors

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// Helpers of the unit tests and the beacon calibration. The standard test
// week comes from internal/gen (detect_test.go).

var t0 = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC).UnixNano() // a Monday

const (
	sec = int64(time.Second)
	mn  = int64(time.Minute)
	hr  = int64(time.Hour)
)

var resolver = gen.Resolver

func ip4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

// sessions returns the records of the sessions in start order (stable: a
// request stays before its answer).
func sessions(xs ...gen.Session) []flow.Record {
	var recs []flow.Record
	for i := range xs {
		recs = xs[i].Append(recs)
	}
	sortByStart(recs)
	return recs
}

func sortByStart(recs []flow.Record) {
	slices.SortStableFunc(recs, func(a, b flow.Record) int { return cmp.Compare(a.Start, b.Start) })
}

// workday reports whether day d of a week starting on Monday is Monday to
// Friday.
func workday(d int) bool { return d%7 < 5 }

func uniformJitter(j float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return 1 - j + 2*j*r.Float64() }
}

// csJitter is Cobalt Strike's: the sleep shortened by up to j.
func csJitter(j float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return 1 - j*r.Float64() }
}
