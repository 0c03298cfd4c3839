package index

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestSilent: the silences of a range are the stretches of more than the
// gap without a flow of a complete source, lead and tail included, read
// from the manifests: a week of flows, a stray flow a year before it, and
// a range that runs a month past it.
func TestSilent(t *testing.T) {
	s := openTemp(t, t.TempDir())
	defer s.Close()
	const day = int64(24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	week := randRecords(rng, 2000)
	first, last := week[0].Start, week[0].End
	for _, r := range week {
		first, last = min(first, r.Start), max(last, r.End)
	}
	stray := randRecord(rng)
	stray.Start, stray.End = t0-365*day, t0-365*day+int64(time.Second)
	ingest(t, s, "week", week)
	ingest(t, s, "stray", []flow.Record{stray})
	gap := 7 * day
	for _, c := range []struct {
		name     string
		from, to int64
		want     int64
	}{
		{"the week alone", first, last + 1, 0},
		{"stray flow to the week", stray.Start, last + 1, first - stray.End},
		{"a month past the week", first, last + 30*day, 30 * day},
		{"a short tail is observed", first, last + 6*day, 0},
		{"nothing in range", t0 + 100*day, t0 + 200*day, 100 * day},
	} {
		got, err := s.Silent(c.from, c.to, gap)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: silent %v, want %v", c.name, time.Duration(got), time.Duration(c.want))
		}
	}
}
