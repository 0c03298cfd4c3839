package detectors

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestTimelineDaylightSaving: with a zone that changes its offset, buckets
// of a day or more start at its midnights and those above an hour that
// divide a day on its hours, across the change (the offset at the range's
// start had been used throughout: after Berlin's clocks went forward, every
// day started at 01:00). A bucket around a change holds 23 or 25 hours;
// every record counts in the bucket whose local span holds its start.
func TestTimelineDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	local := func(y int, m time.Month, d, h, mi int) int64 {
		return time.Date(y, m, d, h, mi, 0, 0, berlin).UnixNano()
	}
	// One record every 10 minutes from Friday 2026-03-27 to Tuesday
	// 2026-03-31 (clocks forward on Sunday 29 at 02:00), and the same
	// around the change back on Sunday 2026-10-25 at 03:00.
	var recs []flow.Record
	for _, span := range [][2]int64{{local(2026, 3, 27, 0, 0), local(2026, 3, 31, 0, 0)}, {local(2026, 10, 23, 0, 0), local(2026, 10, 27, 0, 0)}} {
		for ns := span[0]; ns < span[1]; ns += int64(10 * time.Minute) {
			recs = append(recs, flow.Record{Start: ns, End: ns, Bytes: 1, Packets: 1})
		}
	}
	check := func(every time.Duration, wants map[string]uint64, n int) {
		t.Helper()
		tl := NewTimeline(TimelineConfig{Every: every, Location: berlin})
		for i := range recs {
			tl.Add(&recs[i])
		}
		b := tl.Buckets()
		if len(b) != n {
			t.Errorf("every %s: %d buckets, want %d", every, len(b), n)
		}
		var sum uint64
		seen := 0
		for i, x := range b {
			sum += x.Flows
			lt := time.Unix(0, x.StartNS).In(berlin)
			if f, ok := wants[lt.Format("2006-01-02 15:04")]; ok {
				seen++
				if f != x.Flows {
					t.Errorf("every %s: bucket %s has %d flows, want %d", every, lt, x.Flows, f)
				}
			}
			if every >= 24*time.Hour && (lt.Hour() != 0 || lt.Minute() != 0) {
				t.Errorf("every %s: bucket %d starts at %s, not a Berlin midnight", every, i, lt)
			}
			if every < 24*time.Hour && lt.Minute() != 0 {
				t.Errorf("every %s: bucket %d starts at %s, not on a Berlin hour", every, i, lt)
			}
		}
		if seen != len(wants) {
			t.Errorf("every %s: %d of the %d buckets looked for", every, seen, len(wants))
		}
		if sum != uint64(len(recs)) {
			t.Errorf("every %s: %d flows in the buckets, want %d", every, sum, len(recs))
		}
	}
	// Days: 144 records a day, 138 on the 23-hour Sunday and 150 on the
	// 25-hour one; the 212 days between the changes are empty buckets.
	check(24*time.Hour, map[string]uint64{
		"2026-03-28 00:00": 144, "2026-03-29 00:00": 138, "2026-03-30 00:00": 144, "2026-03-31 00:00": 0,
		"2026-10-24 00:00": 144, "2026-10-25 00:00": 150, "2026-10-26 00:00": 144,
	}, 214)
	// Six hours: 00:00-06:00 on the short Sunday holds five hours.
	check(6*time.Hour, map[string]uint64{
		"2026-03-29 00:00": 30, "2026-03-29 06:00": 36, "2026-03-30 00:00": 36,
		"2026-10-25 00:00": 42, "2026-10-25 06:00": 36,
	}, 214*4)
	// Two hours: the bucket of 02:00 on the short Sunday starts when the
	// clocks jump to 03:00 and holds one hour; on 25 October it starts at
	// the first 02:00 and holds three.
	check(2*time.Hour, map[string]uint64{
		"2026-03-29 00:00": 12, "2026-03-29 03:00": 6, "2026-03-29 04:00": 12,
		"2026-10-25 00:00": 12, "2026-10-25 02:00": 18, "2026-10-25 04:00": 12,
	}, 214*12)
	// Weeks start on Monday midnights in Berlin (23:00 UTC on Sunday in
	// winter, 22:00 in summer).
	check(7*24*time.Hour, map[string]uint64{"2026-03-23 00:00": 144 + 144 + 138, "2026-03-30 00:00": 144, "2026-10-19 00:00": 144 + 144 + 150, "2026-10-26 00:00": 144}, 32)

	// Hours stay exact spans: the repeated 02:00 of 25 October is two
	// buckets of six records, both labelled 02:00 on Berlin's clock.
	hourly := NewTimeline(TimelineConfig{Every: time.Hour, Location: berlin, From: recs[0].Start})
	for i := range recs {
		hourly.Add(&recs[i])
	}
	twos := 0
	for _, x := range hourly.Buckets() {
		if lt := time.Unix(0, x.StartNS).In(berlin); lt.Format("2006-01-02 15") == "2026-10-25 02" {
			twos++
			if x.Flows != 6 {
				t.Errorf("hour %s: %d flows, want 6", lt, x.Flows)
			}
		}
	}
	if twos != 2 {
		t.Errorf("%d buckets at 02:00 on 25 October, want 2", twos)
	}
}

// TestTimelineZoneOrder: calendar buckets are the same whatever the order
// of the records and however they are split between timelines merged
// afterwards (the last bucket's span is cached for records in order).
func TestTimelineZoneOrder(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, ny).UnixNano()
	recs := make([]flow.Record, 20000)
	for i := range recs {
		ns := start + rng.Int64N(int64(20*24*time.Hour))
		recs[i] = flow.Record{Start: ns, End: ns, Bytes: uint64(i), Packets: 1}
	}
	for _, every := range []time.Duration{2 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour} {
		cfg := TimelineConfig{Every: every, Location: ny}
		shuffled := NewTimeline(cfg)
		for i := range recs {
			shuffled.Add(&recs[i])
		}
		sorted := append([]flow.Record(nil), recs...)
		sortByStart(sorted)
		a, b := NewTimeline(cfg), NewTimeline(cfg)
		for i := range sorted {
			if i%2 == 0 {
				a.Add(&sorted[i])
			} else {
				b.Add(&sorted[i])
			}
		}
		a.Merge(b)
		x, y := shuffled.Buckets(), a.Buckets()
		if len(x) != len(y) {
			t.Fatalf("every %s: %d buckets shuffled, %d sorted and merged", every, len(x), len(y))
		}
		for i := range x {
			if x[i] != y[i] {
				t.Errorf("every %s: bucket %d: %+v shuffled, %+v merged", every, i, x[i], y[i])
			}
		}
		// Every record lies in its bucket's span.
		for i := range recs {
			idx := shuffled.index(recs[i].Start)
			if lo, hi := shuffled.startOf(idx), shuffled.startOf(idx+1); recs[i].Start < lo || recs[i].Start >= hi {
				t.Fatalf("every %s: record at %s outside its bucket [%s, %s)", every,
					time.Unix(0, recs[i].Start).In(ny), time.Unix(0, lo).In(ny), time.Unix(0, hi).In(ny))
			}
		}
	}
}
