package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestQueryCount: `query count` gives the number of flows `query flows`
// lists, for ranges and filters.
func TestQueryCount(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	mustRun(t, "ingest", "--quiet", "--store", store, writeNDJSON(t, dir, "a.ndjson", 3000, 5))
	for _, args := range [][]string{
		nil,
		{"--from", "2026-03-02T01:00:00Z", "--to", "2026-03-02T02:30:00Z"},
		{"--from", "2026-03-02T01:00:00Z", "--to", "2026-03-02T02:30:00Z", "--starting"},
		{"--filter", "proto udp and not port 53"},
		{"--from", "2026-03-02T03:00:00Z", "--filter", "net 10.1.0.0/16"},
	} {
		listed := len(sortedLines(mustRun(t, append([]string{"query", "flows", "--store", store, "--format", "ndjson", "--limit", "0"}, args...)...)))
		out := strings.TrimSpace(mustRun(t, append([]string{"query", "count", "--store", store}, args...)...))
		n, err := strconv.Atoi(out)
		if err != nil || n != listed {
			t.Errorf("%v: count %q, listed %d", args, out, listed)
		}
		if listed == 0 || listed == 3000 && args != nil {
			t.Errorf("%v: %d flows listed: not a useful check", args, listed)
		}
	}
}

// TestIngestCompactsManySmallFiles: ingest merges the small segments many
// small files leave, and the flows are those of an ingest that does not;
// a second small file into a store does not make ingest rewrite it.
func TestIngestCompactsManySmallFiles(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 24 {
		files = append(files, writeNDJSON(t, dir, fmt.Sprintf("f%02d.ndjson", i), 200, uint64(300+i)))
	}
	segments := func(store string) int {
		out := mustRun(t, "info", "--store", store, "--format", "json")
		var info struct {
			Segments int `json:"segments"`
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatal(err)
		}
		return info.Segments
	}
	plain, auto := filepath.Join(dir, "plain.db"), filepath.Join(dir, "auto.db")
	mustRun(t, append([]string{"ingest", "--quiet", "--no-compact", "--store", plain}, files...)...)
	_, errs, code := flowcase(t, append([]string{"ingest", "--quiet", "--store", auto}, files...)...)
	if code != 0 || !strings.Contains(errs, "compacted ") {
		t.Fatalf("ingest: exit %d, no compaction reported:\n%s", code, errs)
	}
	if a, p := segments(auto), segments(plain); a >= p {
		t.Fatalf("auto-compacted store has %d segments, the other %d", a, p)
	}
	want := mustRun(t, "query", "flows", "--store", plain, "--format", "ndjson")
	if got := mustRun(t, "query", "flows", "--store", auto, "--format", "ndjson"); got != want {
		t.Fatalf("auto-compacted store lists other flows: %d lines vs %d", len(sortedLines(got)), len(sortedLines(want)))
	}
	// One more small file: two small segments in its partitions, no rewrite.
	one := filepath.Join(dir, "one.db")
	mustRun(t, "ingest", "--quiet", "--store", one, files[0])
	_, errs, _ = flowcase(t, "ingest", "--quiet", "--store", one, files[1])
	if strings.Contains(errs, "compacted ") {
		t.Fatalf("a second file made ingest compact:\n%s", errs)
	}
}
