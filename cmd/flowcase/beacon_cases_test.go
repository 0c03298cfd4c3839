package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// beaconRow is a beacon finding's JSON, as far as these tests read it.
type beaconRow struct {
	Source          string  `json:"source"`
	Destination     string  `json:"destination"`
	Port            int     `json:"port"`
	Proto           string  `json:"proto"`
	ConnectionCount int     `json:"connection_count"`
	Beats           int     `json:"beats"`
	MedianInterval  float64 `json:"median_interval"`
	BowleySkew      float64 `json:"bowley_skew"`
	Coverage        float64 `json:"coverage"`
	Score           float64 `json:"score"`
	FirstSeen       string  `json:"first_seen"`
	LastSeen        string  `json:"last_seen"`
	Flows           int     `json:"flows"`
	Query           string  `json:"query"`
}

func (b beaconRow) String() string {
	return fmt.Sprintf("%s->%s:%d/%s n=%d beats=%d median=%v skew=%v coverage=%v score=%v %s..%s",
		b.Source, b.Destination, b.Port, b.Proto, b.ConnectionCount, b.Beats, b.MedianInterval, b.BowleySkew,
		b.Coverage, b.Score, b.FirstSeen, b.LastSeen)
}

// TestBeaconTwoDaysEndToEnd: two days of evidence ten days apart, ingested
// one after the other, as NDJSON in whole seconds: an implant checking in
// every 60 s less up to 20 % (Cobalt Strike's jitter) after 0.25 s of
// work, one opening a GET and a POST a second apart every 5 minutes, an
// SNMP poll every 60 s, and other hosts' traffic to a new site each time.
// The report finds the three, measured over the two observed days (the
// nine between are a silence); drilled down to the implant's host it scores
// it the same; a range of twelve hours of the first day counts the flows
// of those hours; and every finding's query lists exactly its flows.
func TestBeaconTwoDaysEndToEnd(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	day0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for k, day := range []time.Time{day0, day0.AddDate(0, 0, 10)} {
		rng := rand.New(rand.NewPCG(uint64(k)+5, 9))
		var b strings.Builder
		type line struct {
			at   time.Time
			text string
		}
		var lines []line
		flow := func(src, dst string, dport, proto int, at time.Time, up, down int) {
			flags := 0
			if proto == 6 {
				flags = 27
			}
			at = at.Truncate(time.Second)
			lines = append(lines, line{at, fmt.Sprintf(`{"src_ip":"%s","dst_ip":"%s","src_port":%d,"dst_port":%d,"protocol":%d,"bytes_in":%d,"bytes_out":%d,"packets":5,"packets_out":4,"tcp_flags":%d,"start":"%s","end":"%s"}`,
				src, dst, 49152+rng.IntN(16000), dport, proto, up, down, flags, at.Format(time.RFC3339), at.Add(time.Second).Format(time.RFC3339))})
		}
		end := day.Add(24 * time.Hour)
		for at := day.Add(17 * time.Second); at.Before(end); at = at.Add(time.Duration(float64(time.Minute)*(1-0.2*rng.Float64())) + 250*time.Millisecond) {
			flow("10.0.0.9", "203.0.113.66", 443, 6, at, 600, 1200)
		}
		for at := day.Add(41 * time.Second); at.Before(end); at = at.Add(5 * time.Minute) {
			flow("10.0.0.12", "198.51.100.7", 80, 6, at, 300, 900)
			flow("10.0.0.12", "198.51.100.7", 80, 6, at.Add(time.Second), 1400, 300)
		}
		for at := day.Add(3 * time.Second); at.Before(end); at = at.Add(time.Minute) {
			flow("10.2.0.1", "10.3.0.1", 161, 17, at, 90, 300)
		}
		for i := range 2000 {
			flow(fmt.Sprintf("10.0.1.%d", 1+i%200), fmt.Sprintf("192.0.2.%d", 1+i%250), 443, 6, day.Add(time.Duration(i)*43*time.Second), 700, 20000)
		}
		// Start order, stable.
		for i := 1; i < len(lines); i++ {
			for j := i; j > 0 && lines[j].at.Before(lines[j-1].at); j-- {
				lines[j], lines[j-1] = lines[j-1], lines[j]
			}
		}
		for _, l := range lines {
			b.WriteString(l.text + "\n")
		}
		path := filepath.Join(dir, fmt.Sprintf("day%d.ndjson", k))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "ingest", "--quiet", "--store", store, path)
	}
	beacons := func(args ...string) []beaconRow {
		t.Helper()
		var rep struct {
			Beacons []beaconRow `json:"beaconing_patterns"`
		}
		js := mustRun(t, append([]string{"query", "beacons", "--store", store, "--format", "json"}, args...)...)
		if err := json.Unmarshal([]byte(js), &rep); err != nil {
			t.Fatal(err)
		}
		var qs reportJSON
		if err := json.Unmarshal([]byte(js), &qs); err != nil {
			t.Fatal(err)
		}
		checkFindingQueries(t, qs)
		return rep.Beacons
	}
	check := func(name string, got []beaconRow, want []string) {
		t.Helper()
		var s []string
		for _, b := range got {
			s = append(s, b.String())
		}
		if strings.Join(s, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", name, strings.Join(s, "\n"), strings.Join(want, "\n"))
		}
	}
	implant := "10.0.0.9->203.0.113.66:443/tcp n=3183 beats=0 median=54 skew=0 coverage=0.9947 score=0.8705 2026-03-02T00:00:17Z..2026-03-12T23:59:14Z"
	check("both days", beacons(), []string{
		"10.2.0.1->10.3.0.1:161/udp n=2880 beats=0 median=60 skew=0 coverage=0.9999 score=0.9814 2026-03-02T00:00:03Z..2026-03-12T23:59:03Z",
		"10.0.0.12->198.51.100.7:80/tcp n=1152 beats=576 median=300 skew=0 coverage=0.9985 score=0.9581 2026-03-02T00:00:41Z..2026-03-12T23:55:42Z",
		implant,
	})
	check("the implant's host", beacons("--filter", "host 10.0.0.9"), []string{implant})
	check("twelve hours", beacons("--from", "2026-03-02T06:00:00Z", "--to", "2026-03-02T18:00:00Z"), []string{
		"10.2.0.1->10.3.0.1:161/udp n=720 beats=0 median=60 skew=0 coverage=0.9986 score=0.9625 2026-03-02T06:00:03Z..2026-03-02T17:59:03Z",
		"10.0.0.12->198.51.100.7:80/tcp n=288 beats=144 median=300 skew=0 coverage=0.9931 score=0.9155 2026-03-02T06:00:41Z..2026-03-02T17:55:42Z",
		"10.0.0.9->203.0.113.66:443/tcp n=794 beats=0 median=54 skew=0 coverage=0.9913 score=0.8523 2026-03-02T06:00:47Z..2026-03-02T17:59:24Z",
	})
}
