package detectors

import (
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestTimelineSparse: a timeline spanning more than MaxTimelineBuckets
// intervals (a flow dated 1970 beside this year's) lists only the intervals
// with flows and says so; one within it lists the empty ones too.
func TestTimelineSparse(t *testing.T) {
	at := func(s string) flow.Record {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return flow.Record{Start: ts.UnixNano(), End: ts.UnixNano(), Bytes: 10, Packets: 1}
	}
	tl := NewTimeline(TimelineConfig{})
	for _, r := range []flow.Record{at("1970-01-01T01:30:00Z"), at("2026-03-02T10:15:00Z"), at("2026-03-02T10:45:00Z"), at("2026-03-02T12:00:00Z")} {
		tl.Add(&r)
	}
	b := tl.Buckets()
	if !tl.Sparse() || len(b) != 3 || b[0].Start != "1970-01-01T01:00:00Z" || b[1].Flows != 2 || b[2].Start != "2026-03-02T12:00:00Z" {
		t.Fatalf("sparse %v, buckets %+v", tl.Sparse(), b)
	}
	want := "the timeline spans 492348 intervals of 1h0m0s (1970-01-01T01:00:00Z to 2026-03-02T12:00:00Z): only the 3 with flows are listed; a wider interval lists them all"
	if got := tl.SparseNote(); got != want || tl.Intervals() != 492348 {
		t.Errorf("note %q, %d intervals; want %q", got, tl.Intervals(), want)
	}
	week := NewTimeline(TimelineConfig{Every: 7 * 24 * time.Hour})
	for _, r := range []flow.Record{at("1970-01-01T01:30:00Z"), at("2026-03-02T10:15:00Z")} {
		week.Add(&r)
	}
	if week.Sparse() || week.SparseNote() != "" || len(week.Buckets()) != 2932 { // Mondays from 1969-12-29
		t.Errorf("weekly: sparse %v, note %q, %d buckets", week.Sparse(), week.SparseNote(), len(week.Buckets()))
	}
	dense := NewTimeline(TimelineConfig{})
	for _, r := range []flow.Record{at("2026-03-02T10:15:00Z"), at("2026-03-02T12:00:00Z")} {
		dense.Add(&r)
	}
	if b := dense.Buckets(); dense.Sparse() || len(b) != 3 || b[1].Flows != 0 {
		t.Errorf("three hours: %+v", b)
	}
}
