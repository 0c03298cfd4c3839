package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/ingest"
)

// TestRowsFormats: the findings, top entries, timeline and count in ndjson
// (one object a line) and csv (a header of every column, one row each)
// hold what the json form holds, on the sample evidence: 7 vertical scans,
// 3 sweeps, 5 exfiltration candidates and 7 beacons.
func TestRowsFormats(t *testing.T) {
	store := sampleStore(t)
	kinds := func(lines []string) map[string]int {
		n := map[string]int{}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("ndjson line %q: %v", l, err)
			}
			n[m["finding"].(string)]++
		}
		return n
	}
	lines := strings.Split(strings.TrimSpace(mustRun(t, "query", "report", "--store", store, "--format", "ndjson")), "\n")
	want := map[string]int{"report": 1, "baseline": 1, "scan": 7, "sweep": 3, "exfil": 5, "beacon": 7}
	if got := kinds(lines); !maps.Equal(got, want) {
		t.Errorf("report ndjson: %v, want %v", got, want)
	}
	rows, err := csv.NewReader(strings.NewReader(mustRun(t, "query", "report", "--store", store, "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range rows[1:] {
		n[r[0]]++
	}
	if !maps.Equal(n, map[string]int{"scan": 7, "sweep": 3, "exfil": 5, "beacon": 7}) || rows[0][0] != "finding" {
		t.Errorf("report csv: header %v, rows %v", rows[0][:3], n)
	}
	// A beacon's columns: its own fields, its evidence, its query.
	rows, err = csv.NewReader(strings.NewReader(mustRun(t, "query", "beacons", "--store", store, "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"source", "destination", "port", "connection_count", "parts.interval", "first_seen", "sources", "query"} {
		if !slices.Contains(rows[0], col) {
			t.Errorf("beacons csv: no column %q in %v", col, rows[0])
		}
	}
	if len(rows) != 8 {
		t.Errorf("beacons csv: %d rows, want a header and 7", len(rows))
	}
	top := mustRun(t, "query", "top", "--store", store, "--by", "dstport", "-n", "3", "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(top), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "key,") {
		t.Errorf("top csv: %q", top)
	}
	tl := strings.Split(strings.TrimSpace(mustRun(t, "query", "timeline", "--store", store, "--every", "24h", "--format", "ndjson")), "\n")
	var flows float64
	for _, l := range tl {
		var b map[string]any
		if err := json.Unmarshal([]byte(l), &b); err != nil {
			t.Fatal(err)
		}
		flows += b["flows"].(float64)
	}
	if flows != 31643 {
		t.Errorf("timeline ndjson: %d buckets of %v flows, want 31643", len(tl), flows)
	}
	if got := mustRun(t, "query", "count", "--store", store, "--format", "csv"); got != "flows\n31643\n" {
		t.Errorf("count csv: %q", got)
	}
	rows, err = csv.NewReader(strings.NewReader(mustRun(t, "info", "--store", store, "--format", "csv"))).ReadAll()
	if err != nil || len(rows) != 2 || !slices.Equal(rows[0][:4], []string{"id", "path", "sha256", "format"}) || rows[1][7] != "31643" {
		t.Errorf("info csv: %v, %v", rows, err)
	}
}

// TestFlatten: nested objects become dotted columns, strings lose their
// quotes, null is empty, arrays of plain values are joined by spaces and
// others kept as JSON text; the csv of rows with different members has a
// column for each, first seen first.
func TestFlatten(t *testing.T) {
	var cols []column
	if err := flatten(&cols, "", []byte(`{"a":1,"b":{"c":"x,y","d":null},"e":[1,"two"],"f":[{"g":1}],"h":true}`)); err != nil {
		t.Fatal(err)
	}
	want := []column{{"a", "1"}, {"b.c", "x,y"}, {"b.d", ""}, {"e", "1 two"}, {"f", `[{"g":1}]`}, {"h", "true"}}
	if !slices.Equal(cols, want) {
		t.Errorf("got %v, want %v", cols, want)
	}
	var b strings.Builder
	err := writeRows(&b, "csv", []json.RawMessage{json.RawMessage(`{"a":1,"b":2}`), json.RawMessage(`{"c":3,"a":4}`)})
	if err != nil || b.String() != "a,b,c\n1,2,\n4,,3\n" {
		t.Errorf("csv: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := writeRows(&b, "csv", nil); err != nil || b.Len() != 0 {
		t.Errorf("no rows: %q, %v; want nothing", b.String(), err)
	}
}

// TestOutsideRangeNote: a range wholly outside the case's flows says where
// they are, in the report's notes and on stderr for flows and count; a
// range within them that the filter empties says nothing.
func TestOutsideRangeNote(t *testing.T) {
	store := sampleStore(t)
	const note = "the range holds no flows: the case's flows span 2026-03-02T00:00:00Z to "
	out := mustRun(t, "query", "report", "--store", store, "--from", "2030-01-01", "--to", "2030-01-02", "--format", "json")
	var rep struct{ Notes []string }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, note) }) {
		t.Errorf("report notes %q, want one beginning %q", rep.Notes, note)
	}
	for _, cmd := range []string{"flows", "count"} {
		_, errs, code := flowcase(t, "query", cmd, "--store", store, "--from", "2030-01-01", "--to", "2030-01-02")
		if code != 0 || !strings.Contains(errs, "note: "+note) {
			t.Errorf("query %s: exit %d, stderr %q", cmd, code, errs)
		}
		_, errs, _ = flowcase(t, "query", cmd, "--store", store, "--filter", "ip 192.0.2.254")
		if strings.Contains(errs, "note:") {
			t.Errorf("query %s with an empty filter: stderr %q", cmd, errs)
		}
	}
	// One end beyond the flows: the range is empty at that end, not
	// reversed (it read "2030-01-01 .. 2026-03-03").
	for _, c := range []struct{ flag, at string }{{"--from", "2030-01-01T00:00:00Z"}, {"--to", "2020-01-01T00:00:00Z"}} {
		out := mustRun(t, "query", "report", "--store", store, c.flag, c.at)
		if want := "range " + c.at + " .. " + c.at + ": 0 flows\n"; !strings.HasPrefix(out, want) {
			t.Errorf("report %s %s: begins %q, want %q", c.flag, c.at, out[:min(len(out), 80)], want)
		}
	}
}

// TestTimelineLabels: the table's bucket labels tell the buckets apart at
// any width: seconds for 10 s, milliseconds for 250 ms (both were labelled
// to the minute, six or 240 rows alike).
func TestTimelineLabels(t *testing.T) {
	store := sampleStore(t)
	for _, c := range []struct{ every, from, to, first, second string }{
		{"1h", "2026-03-02T00:00:00Z", "2026-03-02T02:00:00Z", "2026-03-02 00:00", "2026-03-02 01:00"},
		{"10s", "2026-03-02T00:00:00Z", "2026-03-02T00:01:00Z", "2026-03-02 00:00:00", "2026-03-02 00:00:10"},
		{"250ms", "2026-03-02T00:00:00Z", "2026-03-02T00:00:01Z", "2026-03-02 00:00:00.000", "2026-03-02 00:00:00.250"},
	} {
		out := mustRun(t, "query", "timeline", "--store", store, "--every", c.every, "--from", c.from, "--to", c.to)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 3 {
			t.Fatalf("--every %s: %q", c.every, out)
		}
		first, second := strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
		if !strings.HasPrefix(first, c.first+" ") || !strings.HasPrefix(second, c.second+" ") {
			t.Errorf("--every %s: rows %q, %q; want them labelled %q, %q", c.every, first, second, c.first, c.second)
		}
	}
}

// TestLastRange: --last is the last span before --to when it is given (it
// was the store's end, and --to then emptied or ignored it), else before
// the case's last flow; it must be positive; eight digits are a date.
func TestLastRange(t *testing.T) {
	store := sampleStore(t)
	count := func(args ...string) string {
		return strings.TrimSpace(mustRun(t, append([]string{"query", "count", "--store", store}, args...)...))
	}
	if a, b := count("--last", "1h", "--to", "2026-03-02T12:00"), count("--from", "2026-03-02T11:00", "--to", "2026-03-02T12:00"); a != b || a == "0" {
		t.Errorf("--last 1h --to 12:00: %s flows, 11:00 to 12:00: %s", a, b)
	}
	if a, b := count("--from", "20260302", "--to", "20260303"), count("--from", "2026-03-02", "--to", "2026-03-03"); a != b || a == "0" {
		t.Errorf("20260302 to 20260303: %s flows, 2026-03-02 to 2026-03-03: %s", a, b)
	}
	for _, d := range []string{"-1h", "0s"} {
		_, errs, code := flowcase(t, "query", "count", "--store", store, "--last", d)
		if code != 2 || !strings.Contains(errs, "want a positive duration") {
			t.Errorf("--last %s: exit %d, %q", d, code, errs)
		}
	}
}

// TestWarningsWhereAsked: the exfiltration detector's warning (too little
// history on the two-day sample) is in its table and the report's, not in
// the scans', sweeps', beacons' or baseline's, as in their JSON.
func TestWarningsWhereAsked(t *testing.T) {
	store := sampleStore(t)
	for _, part := range []string{"report", "exfil", "scans", "sweeps", "beacons", "baseline"} {
		out := mustRun(t, "query", part, "--store", store)
		want := part == "report" || part == "exfil"
		if got := strings.Contains(out, "note: exfil: history rule not applied"); got != want {
			t.Errorf("query %s: exfil's warning shown %v, want %v", part, got, want)
		}
	}
}

// TestJSONReadsAsWritten: JSON output keeps '>' and '<' as written (a
// pair's "a -> b", a filter's 'bytes > 1M'), so grep finds them; they were
// written \u003e.
func TestJSONReadsAsWritten(t *testing.T) {
	store := sampleStore(t)
	for _, args := range [][]string{
		{"query", "top", "--store", store, "--by", "pair", "-n", "1", "--format", "json"},
		{"query", "top", "--store", store, "--by", "pair", "-n", "1", "--format", "ndjson"},
		{"query", "scans", "--store", store, "--filter", "bytes > 0", "--format", "json"},
	} {
		out := mustRun(t, args...)
		if strings.Contains(out, `\u003e`) || !strings.Contains(out, ">") {
			t.Errorf("%v: %.200s; want '>' as written", args[1:], out)
		}
	}
}

// TestExportersTable: a row counting many domains together says so in the
// DOMAIN column (it read as domain 0), and the data waiting for templates
// is listed up to 20 lines, the rest counted.
func TestExportersTable(t *testing.T) {
	info := &storeInfo{Exporters: []ingest.ExporterInfo{
		{Address: "192.0.2.1", Port: 4739, ObservationDomain: 7, Protocols: []string{"ipfix"}, Flows: 10},
		{Address: "192.0.2.1", Protocols: []string{"ipfix"}, Flows: 1000, Other: "domains"},
	}}
	for i := range 25 {
		info.Waiting = append(info.Waiting, ingest.Waiting{Exporter: "192.0.2.1:4739", TemplateID: uint16(256 + i), Sets: 1, Bytes: 40})
	}
	var b strings.Builder
	writeExporters(&b, info)
	out := b.String()
	if !strings.Contains(out, "192.0.2.1:4739  7 ") || !strings.Contains(out, "192.0.2.1:0     other domains") {
		t.Errorf("rows:\n%s", out)
	}
	if n := strings.Count(out, "waiting: 1 data sets"); n != 20 || !strings.Contains(out, "waiting: and 5 more") {
		t.Errorf("%d waiting lines:\n%s", n, out)
	}
}

// TestTimelineZoneDays: with --tz, daily buckets start at the zone's
// midnight (they started at UTC's: 05:30 in Asia/Kolkata), each holding
// the flows that start in its local day.
func TestTimelineZoneDays(t *testing.T) {
	store := sampleStore(t)
	var buckets []struct {
		StartNS int64 `json:"start_ns"`
		Flows   int   `json:"flows"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "query", "timeline", "--store", store, "--every", "1d", "--tz", "+05:30", "--format", "json")), &buckets); err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 3 {
		t.Fatalf("%d buckets, want 3 local days", len(buckets))
	}
	const day, off = int64(24 * time.Hour), int64(5*time.Hour + 30*time.Minute)
	for _, b := range buckets {
		if (b.StartNS+off)%day != 0 {
			t.Errorf("bucket at %s: not a +05:30 midnight", time.Unix(0, b.StartNS).UTC())
		}
		from, to := time.Unix(0, b.StartNS).UTC().Format(time.RFC3339Nano), time.Unix(0, b.StartNS+day).UTC().Format(time.RFC3339Nano)
		if n := strings.TrimSpace(mustRun(t, "query", "count", "--store", store, "--starting", "--from", from, "--to", to)); n != strconv.Itoa(b.Flows) {
			t.Errorf("bucket at %s: %d flows, count says %s", from, b.Flows, n)
		}
	}
	// A week starts on a Monday (it was the epoch's Thursday).
	if err := json.Unmarshal([]byte(mustRun(t, "query", "timeline", "--store", store, "--every", "1w", "--format", "json")), &buckets); err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 1 || time.Unix(0, buckets[0].StartNS).UTC() != time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) || buckets[0].Flows != 31643 {
		t.Errorf("weeks: %+v; want one from Monday 2026-03-02 of 31643 flows", buckets)
	}
}

// TestTimelineZoneDaylightSaving: `query timeline --tz` keeps days on the
// zone's midnights after its clocks change (they had kept the offset of
// the range's start: 01:00 in Berlin's summer), each bucket holding what
// `query count` finds in its local day; `query report --tz` lays the
// baseline's hourly timeline on the zone's hours (+05:30: on UTC's half
// hours) and names the zone in its parameters.
func TestTimelineZoneDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	dir := t.TempDir()
	var b strings.Builder
	start := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC)
	for i := range 96 { // one flow an hour for four days, over the change of 29 March
		ts := start.Add(time.Duration(i) * time.Hour)
		fmt.Fprintf(&b, `{"src_ip":"10.0.0.%d","dst_ip":"192.0.2.1","src_port":40000,"dst_port":443,"protocol":6,"bytes_in":100,"bytes_out":10,"packets":2,"start":%q,"duration":1}`+"\n",
			1+i%20, ts.Format(time.RFC3339))
	}
	path := filepath.Join(dir, "dst.ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store")
	mustRun(t, "ingest", "--store", store, path)
	var buckets []struct {
		StartNS int64 `json:"start_ns"`
		Flows   int   `json:"flows"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "query", "timeline", "--store", store, "--every", "1d", "--tz", "Europe/Berlin", "--format", "json")), &buckets); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, bk := range buckets {
		lt := time.Unix(0, bk.StartNS).In(berlin)
		got = append(got, fmt.Sprintf("%s:%d", lt.Format("01-02 15:04"), bk.Flows))
		if i+1 < len(buckets) {
			from, to := time.Unix(0, bk.StartNS).UTC().Format(time.RFC3339), time.Unix(0, buckets[i+1].StartNS).UTC().Format(time.RFC3339)
			if n := strings.TrimSpace(mustRun(t, "query", "count", "--store", store, "--starting", "--from", from, "--to", to)); n != strconv.Itoa(bk.Flows) {
				t.Errorf("bucket at %s: %d flows, count says %s", lt, bk.Flows, n)
			}
		}
	}
	// 12:00 UTC on the 27th is 13:00 in Berlin: 11 hours that day, 24,
	// 23 on the short Sunday, 24, and the last 14.
	if want := "03-27 00:00:11 03-28 00:00:24 03-29 00:00:23 03-30 00:00:24 03-31 00:00:14"; strings.Join(got, " ") != want {
		t.Errorf("days in Berlin: %s, want %s", strings.Join(got, " "), want)
	}

	var rep struct {
		Parameters struct {
			Baseline struct {
				Zone string `json:"zone"`
			} `json:"baseline"`
		} `json:"parameters"`
		Baseline struct {
			Timeline []struct {
				Start string `json:"start"`
				Flows int    `json:"flows"`
			} `json:"timeline"`
		} `json:"baseline"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "query", "report", "--store", store, "--tz", "+05:30", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	tl := rep.Baseline.Timeline
	if rep.Parameters.Baseline.Zone != "+05:30" || len(tl) != 96 || tl[0].Start != "2026-03-27T11:30:00Z" || tl[0].Flows != 1 || tl[95].Flows != 1 {
		t.Errorf("report --tz +05:30: zone %q, %d hours from %+v", rep.Parameters.Baseline.Zone, len(tl), tl[:min(len(tl), 1)])
	}
	rep.Parameters.Baseline.Zone = ""
	if err := json.Unmarshal([]byte(mustRun(t, "query", "report", "--store", store, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if tl := rep.Baseline.Timeline; rep.Parameters.Baseline.Zone != "" || len(tl) != 96 || tl[0].Start != "2026-03-27T12:00:00Z" {
		t.Errorf("report in UTC: zone %q, %d hours", rep.Parameters.Baseline.Zone, len(tl))
	}
}
