package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScansTablePerSource: a table lists at most maxScansPerSource
// vertical scans of one source and counts the rest in a line (a masscan
// of 100 ports over a /16 made a table of 131,072 lines); JSON lists them
// all, and other sources are listed as before.
func TestScansTablePerSource(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	probe := func(src, dst string, port int, at time.Time) {
		fmt.Fprintf(&b, `{"src_ip":%q,"dst_ip":%q,"src_port":40000,"dst_port":%d,"protocol":6,"bytes_in":44,"bytes_out":0,"packets":1,"tcp_flags":2,"start":%q,"duration":0}`+"\n",
			src, dst, port, at.Format(time.RFC3339Nano))
	}
	at := t0
	for target := range 25 { // 25 targets x 30 ports from one scanner
		for port := range 30 {
			probe("198.51.100.7", fmt.Sprintf("10.0.1.%d", target+1), 1000+port, at)
			at = at.Add(100 * time.Millisecond)
		}
	}
	for port := range 30 { // and one scan from another
		probe("198.51.100.8", "10.0.2.1", 2000+port, t0.Add(time.Duration(port)*time.Second))
	}
	path := filepath.Join(dir, "scans.ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store")
	mustRun(t, "ingest", "--store", store, path)
	out := mustRun(t, "query", "scans", "--store", store)
	rows := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.HasPrefix(f[0], "198.51.100.") && f[2] == "scan" {
			rows[f[0]]++
		}
	}
	if rows["198.51.100.7"] != maxScansPerSource || rows["198.51.100.8"] != 1 || !strings.Contains(out, "vertical port scans (26)") ||
		!strings.Contains(out, "  198.51.100.7: 5 more vertical scans not listed (150 ports in all;") {
		t.Errorf("rows %v; table:\n%s", rows, out)
	}
	if n := strings.Count(out, "  198.51.100.7 -> "); n != maxScansPerSource {
		t.Errorf("%d commands listed for 198.51.100.7, want %d", n, maxScansPerSource)
	}
	var rep struct {
		PortScans []struct {
			Source string `json:"source"`
		} `json:"port_scans"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "query", "scans", "--store", store, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.PortScans) != 26 {
		t.Errorf("JSON lists %d scans, want 26", len(rep.PortScans))
	}
}
