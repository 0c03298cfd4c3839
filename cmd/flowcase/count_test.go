package main

import (
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
