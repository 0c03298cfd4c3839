package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompactManySegmentsKilled: a partition of 53,000 one-row segments
// (more than one Badger transaction can replace: `flowcase compact` had
// failed with "Txn is too big to fit into one request") is compacted in
// batches; a compaction killed at its second batch keeps the first batch
// merged and the rest as it was, every flow once, and a compaction run
// again merges the partition into one segment.
func TestCompactManySegmentsKilled(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	const n = 53000
	f := writeNDJSON(t, dir, "many.ndjson", n, 60)
	mustRun(t, "ingest", "--store", store, "--quiet", "--no-compact", "--partition", "1d", "--segment-rows", "1", f)
	before := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
	if got := len(sortedLines(before)); got != n {
		t.Fatalf("%d flows ingested, want %d", got, n)
	}
	segs := func() string {
		out := mustRun(t, "info", "--store", store, "--format", "json")
		i := strings.Index(out, `"segments":`)
		return strings.TrimSpace(out[i+11 : i+11+strings.Index(out[i+11:], ",")])
	}
	if s := segs(); s != "53000" {
		t.Fatalf("%s segments ingested, want 53000", s)
	}
	cmd := exec.Command(os.Args[0], "compact", "--store", store)
	cmd.Env = append(os.Environ(), "FLOWCASE_TEST_MAIN=1", "FLOWCASE_TEST_CRASH=before-complete:2")
	if err := cmd.Run(); !killedBySIGKILL(err) {
		t.Fatalf("compact: got %v, want killed at its second batch", err)
	}
	mustRun(t, "recover", "--store", store)
	if got := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson"); got != before {
		t.Fatalf("a compaction killed between batches changed the flows: %d lines, want %d", len(sortedLines(got)), n)
	}
	if s := segs(); s != "48905" { // the first batch of 4096 merged into one
		t.Fatalf("%s segments after the killed compaction, want 48905", s)
	}
	_, errs, code := flowcase(t, "compact", "--store", store)
	if code != 0 || !strings.Contains(errs, "compacted 1 partitions: 48905 segments into 1, 53000 flows rewritten") {
		t.Fatalf("compact: exit %d\n%s", code, errs)
	}
	if got := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson"); got != before {
		t.Fatalf("compaction changed the flows: %d lines, want %d", len(sortedLines(got)), n)
	}
	if s := segs(); s != "1" {
		t.Fatalf("%s segments after compaction, want 1", s)
	}
}
