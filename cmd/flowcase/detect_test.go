package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var sampleOnce struct {
	sync.Once
	dir   string
	store string
}

// sampleStore ingests the bundled sample evidence once for these tests.
func sampleStore(t *testing.T) string {
	t.Helper()
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flowcase-sample-")
		if err != nil {
			t.Fatal(err)
		}
		sampleOnce.dir, sampleOnce.store = dir, filepath.Join(dir, "s.db")
		if _, errs, code := flowcase(t, "ingest", "--quiet", "--store", sampleOnce.store, "../../testdata/sample/flows.ndjson.gz"); code != 0 {
			t.Fatalf("ingest sample: exit %d: %s", code, errs)
		}
	})
	return sampleOnce.store
}

type reportJSON struct {
	Timestamp  string `json:"timestamp"`
	TotalFlows int    `json:"total_flows"`
	Baseline   struct {
		TotalFlows           int               `json:"total_flows"`
		TotalBytes           uint64            `json:"total_bytes"`
		ProtocolDistribution map[string]uint64 `json:"protocol_distribution"`
		TopPorts             map[string]uint64 `json:"top_ports"`
	} `json:"baseline"`
	PortScans []struct {
		Source          string   `json:"source"`
		Target          string   `json:"target"`
		UniquePorts     int      `json:"unique_ports"`
		UniqueTargets   int      `json:"unique_targets"`
		Indicator       string   `json:"indicator"`
		Severity        string   `json:"severity"`
		Port            int      `json:"port"`
		Protocols       []string `json:"protocols"`
		Attempts        int      `json:"attempts"`
		FailedAttempts  int      `json:"failed_attempts"`
		ICMPUnreachable int      `json:"icmp_unreachable"`
		Flows           int      `json:"flows"`
		Query           string   `json:"query"`
		Sources         []string `json:"sources"`
	} `json:"port_scans"`
	Exfil []struct {
		Source      string  `json:"source"`
		Destination string  `json:"destination"`
		TotalBytes  uint64  `json:"total_bytes"`
		TotalMB     float64 `json:"total_mb"`
		InBytes     uint64  `json:"in_bytes"`
		Kind        string  `json:"kind"`
		Opener      string  `json:"opener"`
		Flows       int     `json:"flows"`
		Query       string  `json:"query"`
	} `json:"exfiltration_candidates"`
	Beacons []struct {
		Source          string  `json:"source"`
		Destination     string  `json:"destination"`
		Port            int     `json:"port"`
		ConnectionCount int     `json:"connection_count"`
		MeanInterval    float64 `json:"mean_interval"`
		MedianInterval  float64 `json:"median_interval"`
		JitterRatio     float64 `json:"jitter_ratio"`
		Flows           int     `json:"flows"`
		Query           string  `json:"query"`
	} `json:"beaconing_patterns"`
	Summary struct {
		ScanAlerts   int `json:"scan_alerts"`
		ExfilAlerts  int `json:"exfil_alerts"`
		BeaconAlerts int `json:"beacon_alerts"`
		TwoWay       int `json:"two_way"`
	} `json:"summary"`
}

func TestReportOnSample(t *testing.T) {
	store := sampleStore(t)
	out := mustRun(t, "query", "report", "--store", store, "--format", "json")
	var rep reportJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal([]byte(out), &raw)
	for _, k := range []string{"timestamp", "total_flows", "baseline", "port_scans", "exfiltration_candidates",
		"beaconing_patterns", "summary", "range", "filter", "parameters", "store"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report lacks key %q", k)
		}
	}
	var scans, sweeps int
	for _, p := range rep.PortScans {
		switch p.Indicator {
		case "Port scan detected":
			scans++
		case "Network sweep detected":
			sweeps++
		}
	}
	if scans == 0 || sweeps == 0 || len(rep.Exfil) == 0 || len(rep.Beacons) == 0 {
		t.Fatalf("want at least one finding per detector: %d scans, %d sweeps, %d exfil, %d beacons", scans, sweeps, len(rep.Exfil), len(rep.Beacons))
	}
	if rep.TotalFlows != rep.Baseline.TotalFlows || rep.TotalFlows == 0 {
		t.Errorf("total_flows %d, baseline total_flows %d", rep.TotalFlows, rep.Baseline.TotalFlows)
	}
	// Two runs give byte-identical JSON apart from the timestamp.
	again := mustRun(t, "query", "report", "--format", "json", "--store", store)
	ts := regexp.MustCompile(`"timestamp": "[^"]*"`)
	if ts.ReplaceAllString(out, "") != ts.ReplaceAllString(again, "") {
		t.Fatal("two report runs differ beyond the timestamp")
	}
	// Every finding's query lists exactly the flows it rests on, also in
	// reports over ranges that cut the findings' flows: a day ending at
	// midnight, with a flow of an exfiltration starting at midnight (the
	// query listed it), and a range from 23:30 (overlapping flows that
	// began before it).
	checkFindingQueries(t, rep)
	for _, rng := range [][]string{
		{"--from", "2026-03-02", "--to", "2026-03-03"},
		{"--from", "2026-03-02T23:30:00Z", "--to", "2026-03-03T00:01:00Z"},
		{"--from", "2026-03-02T23:30:00Z", "--to", "2026-03-03T00:01:00Z", "--starting"},
		{"--from", "2026-03-02T12:05:00Z", "--to", "2026-03-03T00:01:00Z"},
	} {
		var part reportJSON
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"query", "report", "--store", store, "--format", "json"}, rng...)...)), &part); err != nil {
			t.Fatal(err)
		}
		if len(part.Exfil) == 0 {
			t.Errorf("%v: no exfiltration finding, want the planted one", rng)
		}
		checkFindingQueries(t, part)
	}
}

// checkFindingQueries runs every finding's query (from another directory:
// it names the store by its absolute path) and checks that it lists the
// flows the finding counts.
func checkFindingQueries(t *testing.T, rep reportJSON) {
	t.Helper()
	check := func(kind, q string, flows int) {
		args := shellSplit(t, q)
		if len(args) < 3 || args[0] != "flowcase" {
			t.Fatalf("%s query not a flowcase command: %q", kind, q)
		}
		if i := slices.Index(args, "--store"); i < 0 || !filepath.IsAbs(args[i+1]) {
			t.Errorf("%s query %q does not name the store by its absolute path", kind, q)
		}
		got := len(sortedLines(mustRun(t, append(args[1:], "--format", "ndjson")...)))
		if got != flows {
			t.Errorf("%s: query %q lists %d flows, finding says %d", kind, q, got, flows)
		}
	}
	for _, p := range rep.PortScans {
		check(p.Indicator, p.Query, p.Flows)
	}
	for _, e := range rep.Exfil {
		check("exfil", e.Query, e.Flows)
	}
	for _, b := range rep.Beacons {
		check("beacon", b.Query, b.Flows)
	}
}

// A finding whose first flow began before the range (a long upload) and
// whose pair has a short flow that ended before it: the finding counts the
// long flow alone, and so does its query (selecting by start from the
// long flow's start, it listed both).
func TestFindingQueryOverlap(t *testing.T) {
	evidence := filepath.Join(t.TempDir(), "ov.ndjson")
	flows := `{"src_ip":"10.1.2.3","dst_ip":"198.51.100.9","src_port":50000,"dst_port":443,"protocol":6,"bytes_in":200000000,"bytes_out":1000,"packets":150000,"start":"2026-03-02T10:00:00Z","end":"2026-03-02T12:00:00Z"}
{"src_ip":"10.1.2.3","dst_ip":"198.51.100.9","src_port":50001,"dst_port":443,"protocol":6,"bytes_in":200000000,"bytes_out":1000,"packets":150000,"start":"2026-03-02T10:30:00Z","end":"2026-03-02T10:31:00Z"}
{"src_ip":"10.1.2.4","dst_ip":"10.1.2.5","src_port":50002,"dst_port":22,"protocol":6,"bytes_in":100,"bytes_out":100,"packets":2,"start":"2026-03-02T11:30:00Z","end":"2026-03-02T11:31:00Z"}
`
	if err := os.WriteFile(evidence, []byte(flows), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "ov.db")
	mustRun(t, "ingest", "--quiet", "--store", store, evidence)
	var rep reportJSON
	if err := json.Unmarshal([]byte(mustRun(t, "query", "exfil", "--store", store, "--from", "2026-03-02T11:00:00Z", "--bytes", "100M", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Exfil) != 1 || rep.Exfil[0].Flows != 1 {
		t.Fatalf("got %+v, want one finding of one flow", rep.Exfil)
	}
	checkFindingQueries(t, rep)
}

// shellSplit splits a command line with single-quoted arguments.
func shellSplit(t *testing.T, s string) []string {
	var out []string
	var cur strings.Builder
	in, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, any = !in, true
		case r == ' ' && !in:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// TestRangeExcludesEvent: a range ending before the scan does not report it;
// one containing it does.
func TestRangeExcludesEvent(t *testing.T) {
	store := sampleStore(t)
	var rep reportJSON
	json.Unmarshal([]byte(mustRun(t, "query", "scans", "--store", store, "--format", "json")), &rep)
	if len(rep.PortScans) == 0 {
		t.Fatal("no scan in the sample")
	}
	q := shellSplit(t, rep.PortScans[0].Query)
	var from, to string
	for i, a := range q {
		switch a {
		case "--from":
			from = q[i+1]
		case "--to":
			to = q[i+1]
		}
	}
	var before, around reportJSON
	json.Unmarshal([]byte(mustRun(t, "query", "scans", "--store", store, "--format", "json", "--to", from)), &before)
	json.Unmarshal([]byte(mustRun(t, "query", "scans", "--store", store, "--format", "json", "--from", from, "--to", to)), &around)
	if len(before.PortScans) != 0 {
		t.Errorf("range before the scan reports %d scans", len(before.PortScans))
	}
	if len(around.PortScans) != 1 || around.PortScans[0].Source != rep.PortScans[0].Source {
		t.Errorf("range around the scan: got %+v", around.PortScans)
	}
}

func TestAnalyzeSeedInterface(t *testing.T) {
	dir := t.TempDir()
	var flows []map[string]any
	flows = append(flows, map[string]any{"src_ip": "10.0.0.5", "dst_ip": "8.8.8.8", "src_port": 5000, "dst_port": 443,
		"protocol": 6, "bytes_in": 200000000, "bytes_out": 1000, "packets": 100, "duration": 3, "tcp_flags": 27})
	for p := 1; p <= 30; p++ {
		flows = append(flows, map[string]any{"src_ip": "203.0.113.9", "dst_ip": "10.0.0.7", "src_port": 40000, "dst_port": p,
			"protocol": 6, "bytes_in": 40, "bytes_out": 0, "packets": 1, "duration": 0, "tcp_flags": 2})
	}
	b, _ := json.Marshal(flows)
	in := filepath.Join(dir, "flows.json")
	os.WriteFile(in, b, 0o644)
	outFile := filepath.Join(dir, "report.json")
	out := mustRun(t, "analyze", "--flow-file", in, "--output", outFile, "--byte-threshold", "100000000", "--scan-threshold", "20")
	if strings.TrimSpace(out) != "NETFLOW REPORT: 31 flows, 2 alerts" {
		t.Fatalf("got %q, want the seed's summary line with 31 flows and 2 alerts", out)
	}
	var rep reportJSON
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(data, &rep)
	if rep.Summary.ScanAlerts != 1 || rep.Summary.ExfilAlerts != 1 || rep.Summary.BeaconAlerts != 0 {
		t.Fatalf("summary: got %+v", rep.Summary)
	}
	if rep.Exfil[0].Source != "10.0.0.5" || rep.Exfil[0].Destination != "8.8.8.8" || rep.Exfil[0].TotalBytes != 200000000 {
		t.Fatalf("exfil: got %+v", rep.Exfil[0])
	}
	if !strings.Contains(string(data), "beaconing not evaluated") {
		t.Error("report does not say beaconing was not evaluated for records without times")
	}
}

// The seed's users' habits: flags by a unique prefix (argparse's), a scan
// threshold of 0 and spaces around it, a record the store cannot keep
// (said on stderr and in the report, exit 3, where it was silently left
// out), top_ports in the seed's order (most flows first) and total_mb
// written as a float.
func TestAnalyzeSeedHabits(t *testing.T) {
	dir := t.TempDir()
	flows := `[{"src_ip":"10.0.0.5","dst_ip":"8.8.8.8","dst_port":8080,"protocol":6,"bytes_in":240000000},
{"src_ip":"10.0.0.5","dst_ip":"8.8.8.8","dst_port":8080,"protocol":6,"bytes_in":1},
{"src_ip":"10.0.0.5","dst_ip":"8.8.8.8","dst_port":53,"protocol":17,"bytes_in":1},
{"src_ip":"10.0.0.5","dst_ip":"8.8.8.8","dst_port":443,"protocol":6,"bytes_in":1},
{"src_ip":"10.0.0.5","dst_ip":"8.8.8.8","dst_port":8080,"protocol":6,"bytes_in":1},
{"src_ip":"10.0.0.5","dst_ip":"8.8.8.8","dst_port":53,"protocol":17,"bytes_in":1},
{"src_ip":"not an address","dst_ip":"8.8.8.8","dst_port":80,"protocol":6,"bytes_in":1}]`
	in := filepath.Join(dir, "flows.json")
	if err := os.WriteFile(in, []byte(flows), 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "r.json")
	stdout, stderr, code := flowcase(t, "analyze", "--flow", in, "--out="+outFile, "--scan-thresh", " 0")
	if code != exitRejected || !strings.Contains(stderr, "rejected 1 bad address") || strings.TrimSpace(stdout) != "NETFLOW REPORT: 6 flows, 2 alerts" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 3, the reject said, 6 flows and 2 alerts (the exfiltration, a scan of 3 ports at threshold 0)", code, stdout, stderr)
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"top_ports":{"8080":3,"53":2,"443":1}`, `"total_mb":240.0`, `1 records of the file were rejected and are not counted (1 bad address)`} {
		if !strings.Contains(compact.String(), want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

// TestFilterFile: an indicator list in a file (with nfdump's '#'
// comments) selects the flows of the listed hosts, together with --filter;
// each finding's command names the file and lists the finding's flows.
func TestFilterFile(t *testing.T) {
	store := sampleStore(t)
	iocs := filepath.Join(t.TempDir(), "iocs.txt")
	if err := os.WriteFile(iocs, []byte("# from the incident report\nip in [\n 203.0.113.200   # C2\n 2001:db8:c2::1\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func(args ...string) string {
		return strings.TrimSpace(mustRun(t, append([]string{"query", "count", "--store", store}, args...)...))
	}
	all := count("--filter", "ip 203.0.113.200 or ip 2001:db8:c2::1")
	if got := count("--filter-file", iocs); got != all || all == "0" {
		t.Errorf("--filter-file: %s flows, the same filter inline %s", got, all)
	}
	if got, want := count("--filter-file", iocs, "--filter", "port 8443"), count("--filter", "ip 203.0.113.200 and port 8443"); got != want {
		t.Errorf("--filter-file and --filter: %s flows, want %s", got, want)
	}
	var rep reportJSON
	if err := json.Unmarshal([]byte(mustRun(t, "query", "beacons", "--store", store, "--filter-file", iocs, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Beacons) != 2 {
		t.Fatalf("%d beacons, want the two to the listed hosts", len(rep.Beacons))
	}
	for _, b := range rep.Beacons {
		args := shellSplit(t, b.Query)
		if !slices.Contains(args, "--filter-file") || !slices.Contains(args, iocs) {
			t.Errorf("finding query %q does not name the file", b.Query)
		}
		if got := len(sortedLines(mustRun(t, append(args[1:], "--format", "ndjson")...))); got != b.Flows {
			t.Errorf("query %q lists %d flows, finding says %d", b.Query, got, b.Flows)
		}
	}
	if _, stderr, code := flowcase(t, "query", "count", "--store", store, "--filter-file", iocs+".missing"); code != exitUsage || !strings.Contains(stderr, "--filter-file") {
		t.Errorf("a missing file: exit %d, %q", code, stderr)
	}
	// A mistake is placed at its line and column in the file (it was a
	// column in the lines joined); a file of comments alone is refused,
	// not read as every flow.
	for text, want := range map[string]string{
		"# IOCs\nip 10.1.0.5 or\n  ip 10.1.0.777 or\nip 10.1.0.8\n": `bad.txt:3:6: expected an address after "ip", got "10.1.0.777"`,
		"# only\n\n# comments\n":                                    "bad.txt: no filter in it",
		"port 22 and\n# trailing comment\n\n":                       "bad.txt:1:12: expected a filter term, got end of filter",
	} {
		bad := filepath.Join(t.TempDir(), "bad.txt")
		if err := os.WriteFile(bad, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := flowcase(t, "query", "count", "--store", store, "--filter-file", bad); code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%q: exit %d, %q; want %q", text, code, stderr, want)
		}
	}
}

// Detector flags of 0 mean what they say, not the default (--min-failed 0
// ran at 0.5, --threshold 0 at 0.3, --bytes 0 at 100M), and impossible
// values are usage errors.
func TestDetectorFlagsZero(t *testing.T) {
	store := sampleStore(t)
	params := func(args ...string) map[string]map[string]any {
		var rep struct {
			Parameters map[string]map[string]any `json:"parameters"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"query", "report", "--store", store, "--format", "json"}, args...)...)), &rep); err != nil {
			t.Fatal(err)
		}
		return rep.Parameters
	}
	p := params("--min-failed", "0", "--threshold", "0", "--bytes", "0")
	if p["sweep"]["min_failed"] != 0.0 || p["beacon"]["threshold"] != 0.0 || p["exfil"]["bytes"] != 1.0 {
		t.Errorf("parameters %v; want min_failed 0, threshold 0, bytes 1", p)
	}
	count := func(args ...string) (sweeps, beacons int) {
		var rep reportJSON
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"query", "report", "--store", store, "--format", "json"}, args...)...)), &rep); err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.PortScans {
			if s.Indicator == "Network sweep detected" {
				sweeps++
			}
		}
		return sweeps, len(rep.Beacons)
	}
	s0, b0 := count()
	s1, b1 := count("--min-failed", "0", "--threshold", "0")
	if s1 < s0 || b1 <= b0 {
		t.Errorf("with 0: %d sweeps, %d beacons; by default %d and %d: want at least as many sweeps and more beacons", s1, b1, s0, b0)
	}
	// Sizes: a unit's B is bytes; anything else after the number is an
	// error (100MB was read as 100 bytes).
	for in, want := range map[string]uint64{"100M": 100e6, "100MB": 100e6, "1.5G": 1.5e9, "1gb": 1e9, "2k": 2000, "500": 500} {
		if got, err := parseCount(in); err != nil || got != want {
			t.Errorf("parseCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"100MiB", "10 MB", "1e3x", "M", ""} {
		if got, err := parseCount(in); err == nil {
			t.Errorf("parseCount(%q) = %d, want an error", in, got)
		}
	}
	for _, bad := range [][]string{{"--min-failed", "1.5"}, {"--threshold", "-0.1"}, {"--ports", "0"}, {"--hosts", "0"}, {"--min-connections", "2"}} {
		if _, errs, code := flowcase(t, append([]string{"query", "report", "--store", store}, bad...)...); code != exitUsage || !strings.Contains(errs, bad[0]) {
			t.Errorf("%v: exit %d %q, want a usage error naming the flag", bad, code, errs)
		}
	}
}

// --tz applies to the detectors' tables as to query flows (they printed
// UTC whatever it said); JSON keeps UTC.
func TestDetectorTablesTZ(t *testing.T) {
	store := sampleStore(t)
	out := mustRun(t, "query", "scans", "--store", store, "--tz", "Asia/Tokyo")
	if !strings.Contains(out, "10.0.0.20       scan  1024   100%    1.00   2026-03-02T18:36:00+09:00") {
		t.Errorf("scans table in Asia/Tokyo:\n%s", out)
	}
	out = mustRun(t, "query", "report", "--store", store, "--tz", "Asia/Tokyo", "--format", "json")
	if !strings.Contains(out, `"first_seen": "2026-03-02T09:36:00Z"`) {
		t.Error("the JSON report's times are not UTC")
	}
}

// TestBeaconFilteredSameScore: a beacon's coverage is measured over the
// case's observed time, the same with a filter as without. A host that
// beaconed for three days, went quiet for 17 (a laptop away) and beaconed
// three more, in a month of other hosts' traffic: narrowed to the host,
// its own quiet fortnight had been left out of the window, and the
// drill-down scored it higher than the report did. Another implanted on
// the last day, still running at the end, is covered from its first
// connection (at least three days), the same in the drill-down as in the
// case: the range's end is the case's, not the filtered records'.
func TestBeaconFilteredSameScore(t *testing.T) {
	const hour = int64(time.Hour)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var b strings.Builder
	line := func(src, dst string, sport, dport int, at int64) {
		ts := time.Unix(0, at).UTC().Format(time.RFC3339)
		end := time.Unix(0, at+int64(time.Second)).UTC().Format(time.RFC3339)
		fmt.Fprintf(&b, `{"src_ip":"%s","dst_ip":"%s","src_port":%d,"dst_port":%d,"protocol":6,"bytes_in":300,"bytes_out":400,"packets":5,"tcp_flags":27,"start":"%s","end":"%s"}`+"\n", src, dst, sport, dport, ts, end)
	}
	for i := range int64(30 * 8) { // every 3 h for 30 days, a new destination each time
		line("10.0.0.50", fmt.Sprintf("198.51.%d.%d", 100+i/250, i%250+1), int(40000+i), 443, t0+i*3*hour)
	}
	for _, days := range [][2]int64{{0, 3}, {20, 23}} {
		for at := t0 + days[0]*24*hour; at < t0+days[1]*24*hour; at += 4 * hour {
			line("10.0.0.9", "203.0.113.5", int(50000+at/hour%10000), 443, at+17*int64(time.Minute))
		}
	}
	for i := range int64(288) { // every 5 min on the last day
		line("10.0.0.7", "203.0.113.6", int(30000+i), 443, t0+29*24*hour+i*5*int64(time.Minute))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "month.ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s")
	mustRun(t, "ingest", "--quiet", "--store", store, path)
	score := func(src string, args ...string) (float64, float64) {
		var out struct {
			Beacons []struct {
				Source   string  `json:"source"`
				Score    float64 `json:"score"`
				Coverage float64 `json:"coverage"`
			} `json:"beaconing_patterns"`
		}
		js := mustRun(t, append([]string{"query", "beacons", "--store", store, "--threshold", "0", "--format", "json"}, args...)...)
		if err := json.Unmarshal([]byte(js), &out); err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Beacons {
			if f.Source == src {
				return f.Score, f.Coverage
			}
		}
		t.Fatalf("%v: no candidate of %s in %s", args, src, js)
		return 0, 0
	}
	all, allCov := score("10.0.0.9")
	one, oneCov := score("10.0.0.9", "--filter", "host 10.0.0.9")
	if all != one || allCov != oneCov {
		t.Errorf("10.0.0.9: score %v (coverage %v) in the case, %v (%v) filtered to it; want the same", all, allCov, one, oneCov)
	}
	// 35 intervals of 4 h (one of 17 days) over 30 observed days.
	if want := 35 * 4.0 / (30 * 24); math.Abs(allCov-want) > 0.01 {
		t.Errorf("coverage %v, want about %.3f", allCov, want)
	}
	all, allCov = score("10.0.0.7")
	one, oneCov = score("10.0.0.7", "--filter", "host 10.0.0.7")
	// 287 intervals of 5 min over three days.
	if all != one || allCov != oneCov || allCov != math.Round(287*5.0/(72*60)*1e4)/1e4 || all < 0.3 {
		t.Errorf("10.0.0.7: score %v (coverage %v) in the case, %v (%v) filtered to it; want the same, coverage %.4f, found",
			all, allCov, one, oneCov, 287*5.0/(72*60))
	}
}

// TestVolumeAnomalyQuery: a volume anomaly counts the host's flows with
// external peers that start on its day; its query listed up to the last
// end, so an upload running past midnight brought in the next day's flows
// (the finding said 1 flow, its query listed 2).
func TestVolumeAnomalyQuery(t *testing.T) {
	day := int64(24 * time.Hour)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var b strings.Builder
	line := func(dst string, sport int, start, end int64, up uint64) {
		fmt.Fprintf(&b, `{"src_ip":"10.1.0.5","dst_ip":"%s","src_port":%d,"dst_port":443,"protocol":6,"bytes_in":%d,"bytes_out":1000,"packets":100,"tcp_flags":27,"start":"%s","end":"%s"}`+"\n",
			dst, sport, up, time.Unix(0, start).UTC().Format(time.RFC3339), time.Unix(0, end).UTC().Format(time.RFC3339))
	}
	for d := range int64(14) { // 20 MB a day for a fortnight
		line("198.51.100.1", 40000+int(d), t0+d*day+12*int64(time.Hour), t0+d*day+12*int64(time.Hour)+int64(time.Minute), 20e6)
	}
	d14 := t0 + 14*day
	line("203.0.113.7", 50000, d14+23*int64(time.Hour), d14+day+40*int64(time.Minute), 60e6) // 23:00 to 00:40
	line("203.0.113.8", 50001, d14+day+10*int64(time.Minute), d14+day+11*int64(time.Minute), 1e6)
	evidence := filepath.Join(t.TempDir(), "va.ndjson")
	if err := os.WriteFile(evidence, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "va.db")
	mustRun(t, "ingest", "--quiet", "--store", store, evidence)
	var rep reportJSON
	if err := json.Unmarshal([]byte(mustRun(t, "query", "exfil", "--store", store, "--from", "2026-03-15", "--to", "2026-03-17", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Exfil) != 1 || rep.Exfil[0].Kind != "volume-anomaly" || rep.Exfil[0].TotalBytes != 60e6 || rep.Exfil[0].Flows != 1 {
		t.Fatalf("got %+v, want one volume anomaly of one flow, 60 MB", rep.Exfil)
	}
	if want := "--starting --from 2026-03-15T23:00:00Z --to 2026-03-15T23:00:00.000000001Z"; !strings.Contains(rep.Exfil[0].Query, want) {
		t.Errorf("query %q, want %q", rep.Exfil[0].Query, want)
	}
	checkFindingQueries(t, rep)
}

// TestExfilFilteredSameHistory: the history rule judges a host's day
// against the days of the store with records, whatever the filter. A host
// seen on 6 of the 14 days before the range (a laptop away the rest) sent
// nothing on the other 8; narrowed to that host with --filter, only its 6
// days were history and the 60 MB day was "insufficient history", not the
// report's volume anomaly.
func TestExfilFilteredSameHistory(t *testing.T) {
	day := int64(24 * time.Hour)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var b strings.Builder
	line := func(src, dst string, sport int, start int64, up uint64) {
		fmt.Fprintf(&b, `{"src_ip":"%s","dst_ip":"%s","src_port":%d,"dst_port":443,"protocol":6,"bytes_in":%d,"bytes_out":1000,"packets":100,"tcp_flags":27,"start":"%s","end":"%s"}`+"\n",
			src, dst, sport, up, time.Unix(0, start).UTC().Format(time.RFC3339), time.Unix(0, start+int64(time.Minute)).UTC().Format(time.RFC3339))
	}
	for d := range int64(15) {
		line("10.0.0.50", "198.51.100.2", 40000+int(d), t0+d*day+9*int64(time.Hour), 1e6) // another host, every day
		if d < 6 {
			line("10.1.0.5", "198.51.100.1", 41000+int(d), t0+d*day+12*int64(time.Hour), 20e6)
		}
	}
	for i := range 3 { // day 14: 60 MB to three sites
		line("10.1.0.5", fmt.Sprintf("203.0.113.%d", i+1), 50000+i, t0+14*day+int64(10+i)*int64(time.Hour), 20e6)
	}
	evidence := filepath.Join(t.TempDir(), "fh.ndjson")
	if err := os.WriteFile(evidence, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "fh.db")
	mustRun(t, "ingest", "--quiet", "--store", store, evidence)
	type finding struct {
		Source     string `json:"source"`
		Kind       string `json:"kind"`
		TotalBytes uint64 `json:"total_bytes"`
		Flows      int    `json:"flows"`
		History    struct {
			Status    string  `json:"status"`
			Days      int     `json:"days"`
			Median    float64 `json:"median_bytes"`
			Threshold float64 `json:"threshold_bytes"`
		} `json:"history"`
	}
	run := func(args ...string) []finding {
		var rep struct {
			Exfil    []finding `json:"exfiltration_candidates"`
			Warnings []string  `json:"warnings"`
		}
		out := mustRun(t, append([]string{"query", "exfil", "--store", store, "--from", "2026-03-15", "--to", "2026-03-16", "--format", "json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		return rep.Exfil
	}
	all, one := run(), run("--filter", "ip 10.1.0.5")
	want := []finding{{Source: "10.1.0.5", Kind: "volume-anomaly", TotalBytes: 60e6, Flows: 3}}
	want[0].History.Status, want[0].History.Days, want[0].History.Threshold = "above", 14, 10e6
	if !slices.Equal(all, want) {
		t.Errorf("unfiltered: got %+v, want %+v", all, want)
	}
	if !slices.Equal(one, want) {
		t.Errorf("--filter 'ip 10.1.0.5': got %+v, want %+v", one, want)
	}
}
