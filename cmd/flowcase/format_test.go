package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/index"
)

// TestOldStoreTakesNewEvidence: ingesting into a store of an older format
// marks it with the current format first, then the old values (format 1:
// codec 1 blocks, postings v2; format 2: codec 2 blocks; format 3: manifests
// without late ends; format 4: no source status keys) and the new ones read
// side by side, filters and all.
func TestOldStoreTakesNewEvidence(t *testing.T) {
	for _, v := range []string{"store-v1", "store-v2", "store-v3", "store-v4"} {
		t.Run(v, func(t *testing.T) { oldStoreTakesNewEvidence(t, filepath.Join("../../testdata", v)) })
	}
}

func oldStoreTakesNewEvidence(t *testing.T, frozenDir string) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	if err := os.CopyFS(store, os.DirFS(filepath.Join(frozenDir, "store"))); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(frozenDir, "flows.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	more := writeNDJSON(t, dir, "more.ndjson", 700, 77)
	mustRun(t, "ingest", "--quiet", "--store", store, more)
	s, err := index.Open(store, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Meta().Format; f != index.FormatVersion {
		t.Errorf("format %d after ingest, want %d", f, index.FormatVersion)
	}
	s.Close()
	all := sortedLines(mustRun(t, "query", "flows", "--store", store, "--format", "ndjson"))
	if len(all) != len(sortedLines(string(old)))+700 {
		t.Fatalf("%d flows, want %d old + 700 new", len(all), len(sortedLines(string(old))))
	}
	for _, line := range sortedLines(string(old)) {
		if _, ok := slices.BinarySearch(all, line); !ok {
			t.Fatalf("old flow lost: %s", line)
		}
	}
	// Counts answer what listings do, from old manifests (counted from
	// their blocks) and new ones (segments before the range counted from
	// their late ends) alike.
	for _, rng := range [][2]string{{"2026-03-02T01:00:00Z", "2026-03-02T02:00:00Z"}, {"2026-03-02T00:32:00Z", "2026-03-02T03:00:00Z"},
		{"2026-03-02T03:00:10Z", "2026-03-02T03:02:20Z"}, {"2026-03-02T05:59:50Z", "2026-03-02T07:00:00Z"}} {
		listed := len(sortedLines(mustRun(t, "query", "flows", "--store", store, "--format", "ndjson", "--from", rng[0], "--to", rng[1])))
		counted := strings.TrimSpace(mustRun(t, "query", "count", "--store", store, "--from", rng[0], "--to", rng[1]))
		if counted != strconv.Itoa(listed) || listed == 0 {
			t.Errorf("%v: count %s, %d flows listed", rng, counted, listed)
		}
	}
	// A filter answers from both kinds of blocks and postings exactly what
	// it answers on each kind alone: the frozen store untouched, and a new
	// store of the new evidence only.
	frozen := filepath.Join(dir, "frozen")
	if err := os.CopyFS(frozen, os.DirFS(filepath.Join(frozenDir, "store"))); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh")
	mustRun(t, "ingest", "--quiet", "--store", fresh, more)
	for _, f := range []string{"proto udp", "not port 53", "net 10.0.0.0/8 and portrange 1024-65535", "src port 40000", "host 10.1.0.10"} {
		q := func(st string) []string {
			return sortedLines(mustRun(t, "query", "flows", "--store", st, "--format", "ndjson", "--filter", f))
		}
		got := q(store)
		want := append(q(frozen), q(fresh)...)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("filter %q: %d flows, want %d", f, len(got), len(want))
		}
		if len(got) == 0 || len(got) == len(all) {
			t.Errorf("filter %q selects %d of %d flows: not a useful check", f, len(got), len(all))
		}
	}
}
