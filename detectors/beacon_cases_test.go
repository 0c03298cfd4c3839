package detectors

import (
	"testing"
	"time"
)

// TestBeaconWholeSecondTimes: a beacon without jitter whose check-ins come
// every 60.25 s (the sleep and the work of each), in evidence that keeps
// whole seconds (many CSV exports, NDJSON with RFC 3339 seconds), has
// intervals of 60 s and, one in four, 61 s. Its first quartile and median
// are the same tick, and Bowley's skew, (Q3+Q1-2·Q2)/(Q3-Q1), was 1: the
// perfect beacon scored 0.7365 on a skew of the rounding, while the same
// beacon at 60.05 s (intervals of 60 s, one in twenty 61 s) scored 0.982.
// The skew of a sample whose quartile equals its median is taken as 0, as
// RITA takes it.
func TestBeaconWholeSecondTimes(t *testing.T) {
	for _, period := range []time.Duration{60050 * time.Millisecond, 60250 * time.Millisecond} {
		b := NewBeacon(BeaconConfig{From: t0, To: t0 + 7*24*hr})
		for i := range int64(7 * 24 * 59) {
			at := t0 + i*int64(period)
			r := beatConn(1, at/sec*sec, uint16(20000+i%40000), 1200)
			r.End = r.Start + sec
			b.Add(&r)
		}
		got := b.Findings()
		if len(got) != 1 {
			t.Fatalf("%v: %d findings, want 1", period, len(got))
		}
		f := got[0]
		if f.ConnectionCount != 9912 || f.MedianInterval != 60 || f.MADInterval != 0 || f.BowleySkew != 0 ||
			f.Parts.Skew != 1 || f.Parts.Interval != 0.9844 || f.Score != 0.982 {
			t.Errorf("%v: %d connections, median %v, MAD %v, skew %v (part %v), interval part %v, score %v; want 9912, 60, 0, 0 (1), 0.9844, 0.982",
				period, f.ConnectionCount, f.MedianInterval, f.MADInterval, f.BowleySkew, f.Parts.Skew, f.Parts.Interval, f.Score)
		}
	}
}
