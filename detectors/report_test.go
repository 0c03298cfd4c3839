package detectors

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/gen"
)

func weekReport(t *testing.T, serial bool) *Report {
	t.Helper()
	d := testWeek()
	s := NewSuite(SuiteConfig{Serial: serial}.WithRange(t0, t0+7*24*hr))
	for i := range d.recs {
		s.Add(&d.recs[i])
	}
	return s.Report(ReportMeta{Timestamp: "2024-03-11T00:00:00.000000", Version: "test", StoreID: "store-1",
		ManifestDigest: "sha256:00", From: t0, To: t0 + 7*24*hr, Filter: "any"})
}

func keysOf(t *testing.T, v any, where string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: %T, want an object", where, v)
	}
	return m
}

func requireKeys(t *testing.T, m map[string]any, where string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing", where, k)
		}
	}
}

// The report keeps the seed's keys, each with the seed's JSON type.
func TestReportSeedKeys(t *testing.T) {
	b, err := json.Marshal(weekReport(t, false))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	requireKeys(t, top, "report", "timestamp", "total_flows", "baseline", "port_scans", "exfiltration_candidates",
		"beaconing_patterns", "summary", "version", "store", "range", "filter", "parameters")
	base := keysOf(t, top["baseline"], "baseline")
	requireKeys(t, base, "baseline", "total_flows", "total_bytes", "protocol_distribution", "top_ports")
	if tp := keysOf(t, base["top_ports"], "top_ports"); tp["443"] == nil {
		t.Errorf("top_ports %v lacks 443", tp)
	}
	requireKeys(t, keysOf(t, base["protocol_distribution"], "protocol_distribution"), "protocol_distribution", "6", "17")
	requireKeys(t, keysOf(t, top["summary"], "summary"), "summary", "scan_alerts", "exfil_alerts", "beacon_alerts")
	var scans, sweeps int
	for _, e := range top["port_scans"].([]any) {
		m := keysOf(t, e, "port_scans entry")
		common := []string{"source", "severity", "indicator", "first_seen", "last_seen", "score", "query"}
		switch m["indicator"] {
		case "Port scan detected":
			scans++
			requireKeys(t, m, "vertical scan", append(common, "target", "unique_ports", "ports_sample")...)
			if ps, ok := m["ports_sample"].([]any); !ok || len(ps) == 0 {
				t.Errorf("ports_sample %v, want a list of numbers", m["ports_sample"])
			} else if _, ok := ps[0].(float64); !ok {
				t.Errorf("ports_sample[0] is %T, want a number", ps[0])
			}
		case "Network sweep detected":
			sweeps++
			requireKeys(t, m, "sweep", append(common, "unique_targets", "total_ports_probed", "port")...)
		default:
			t.Errorf("port_scans entry with indicator %v", m["indicator"])
		}
	}
	tr := testWeek().truth
	nScans, nSweeps := len(tr.Planted(gen.KindScan)), len(tr.Planted(gen.KindSweep))
	nExfil, nBeacons := len(tr.Planted(gen.KindExfil)), len(tr.Planted(gen.KindBeacon))
	if scans != nScans || sweeps != nSweeps {
		t.Errorf("port_scans: %d scans and %d sweeps, want %d and %d", scans, sweeps, nScans, nSweeps)
	}
	for _, e := range top["exfiltration_candidates"].([]any) {
		requireKeys(t, keysOf(t, e, "exfil"), "exfiltration candidate", "source", "destination", "total_bytes", "total_mb",
			"severity", "indicator", "first_seen", "last_seen", "score", "query")
	}
	for _, e := range top["beaconing_patterns"].([]any) {
		requireKeys(t, keysOf(t, e, "beacon"), "beaconing pattern", "source", "destination", "port", "connection_count",
			"mean_interval", "jitter_ratio", "severity", "indicator", "first_seen", "last_seen", "score", "query")
	}
	sum := top["summary"].(map[string]any)
	if sum["scan_alerts"] != float64(nScans+nSweeps) || sum["exfil_alerts"] != float64(nExfil) || sum["beacon_alerts"] != float64(nBeacons) {
		t.Errorf("summary %v, want %d scan, %d exfil, %d beacon alerts", sum, nScans+nSweeps, nExfil, nBeacons)
	}
}

// Runs over the same records give byte-identical JSON, serial or not.
func TestReportDeterministic(t *testing.T) {
	a, err := json.Marshal(weekReport(t, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, serial := range []bool{false, true} {
		b, _ := json.Marshal(weekReport(t, serial))
		if !bytes.Equal(a, b) {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			t.Fatalf("serial %v: reports differ at byte %d: %q vs %q", serial, i, a[max(0, i-80):min(len(a), i+80)], b[max(0, i-80):min(len(b), i+80)])
		}
	}
}

func TestReportNotes(t *testing.T) {
	r := BuildReport(ReportInput{Meta: ReportMeta{BeaconsNotEvaluated: "records have no timestamps"},
		Beacons: []BeaconFinding{{}}})
	if len(r.BeaconingPatterns) != 0 || r.Summary.BeaconAlerts != 0 || !slices.Contains(r.Notes, "beaconing not evaluated: records have no timestamps") {
		t.Errorf("got patterns %d alerts %d notes %q", len(r.BeaconingPatterns), r.Summary.BeaconAlerts, r.Notes)
	}
	if len(r.Timestamp) != len("2006-01-02T15:04:05.000000") {
		t.Errorf("timestamp %q is not in the seed's format", r.Timestamp)
	}
	r.MapSources(func(id uint32) string { return "sha" })
	b, _ := json.Marshal(r)
	for _, k := range []string{`"port_scans":[]`, `"exfiltration_candidates":[]`, `"beaconing_patterns":[]`, `"warnings":[]`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

func TestMapSources(t *testing.T) {
	r := weekReport(t, true)
	r.MapSources(func(id uint32) string { return []string{"", "aa", "bb"}[id] })
	n := 0
	for _, e := range r.PortScans {
		if e.Scan != nil && e.Scan.Source == gen.ScanSource { // on day 2, in the first file
			n++
			if !slices.Equal(e.Scan.Sources, []string{"aa"}) {
				t.Errorf("scan: sources %v, want [aa]", e.Scan.Sources)
			}
		}
	}
	for _, f := range r.BeaconingPatterns {
		if f.Source == gen.BeaconSource {
			n++
			if !slices.Equal(f.Sources, []string{"aa", "bb"}) {
				t.Errorf("week-long beacon: sources %v, want [aa bb]", f.Sources)
			}
		}
	}
	if n != 2 {
		t.Errorf("found %d of the scan from %v and the beacon from %v", n, gen.ScanSource, gen.BeaconSource)
	}
}
