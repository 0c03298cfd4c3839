package flow

import (
	"math"
	"testing"
)

// EpochNanos and EpochShift tell the unit alike, at every boundary.
func TestEpochNanos(t *testing.T) {
	for _, c := range []struct {
		n, want int64
		ok      bool
	}{
		{0, 0, true},
		{1772445600, 1772445600e9, true},
		{99_999_999_999, 0, false},                 // 11 digits: seconds, past 2262
		{100_000_000_000, 100_000_000_000e6, true}, // 12 digits: ms
		{1772445600123, 1772445600123e6, true},
		{9_999_999_999_999, 0, false}, // 13 digits of ms past 2262
		{1772445600123456, 1772445600123456e3, true},
		{1772445600123456789, 1772445600123456789, true},
		{math.MaxInt64, math.MaxInt64, true},
		{-1, 0, false},
	} {
		got, ok := EpochNanos(c.n)
		if got != c.want || ok != c.ok {
			t.Errorf("EpochNanos(%d) = %d, %v; want %d, %v", c.n, got, ok, c.want, c.ok)
		}
	}
	for digits, n := 1, int64(1); digits <= 19; digits, n = digits+1, n*10 {
		// n and 10n-1 have digits digits: both read in EpochShift's unit.
		for _, v := range []int64{n, n*10 - 1} {
			if digits == 19 && v != n {
				v = math.MaxInt64
			}
			scale := int64(1)
			for range EpochShift(digits) {
				scale *= 10
			}
			got, ok := EpochNanos(v)
			if ok && got != v*scale {
				t.Errorf("EpochNanos(%d) = %d, EpochShift(%d) says x%d", v, got, digits, scale)
			}
		}
	}
}
