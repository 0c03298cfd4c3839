package ingest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestEvidenceAccessTimeKept: ingesting a file (hashed, then read) leaves
// its access time as it was. Its access time is set before its
// modification time, which a relatime mount would otherwise update on the
// first read.
func TestEvidenceAccessTimeKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.ndjson")
	line := `{"timestamp":"2026-03-02T10:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.9","src_port":40000,"dst_port":443,"protocol":"tcp","bytes_in":100}` + "\n"
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	atime, mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	if err := os.Chtimes(path, atime, mtime); err != nil {
		t.Fatal(err)
	}
	st := capStore(t)
	if res := capIngest(t, st, path).Files[0]; res.Flows != 1 {
		t.Fatalf("%d flows, want 1 (%v)", res.Flows, res.Err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := fi.Sys().(*syscall.Stat_t)
	if got := time.Unix(sys.Atim.Sec, sys.Atim.Nsec).UTC(); !got.Equal(atime) || !fi.ModTime().Equal(mtime) {
		t.Errorf("access time %v, modification time %v; want %v and %v", got, fi.ModTime().UTC(), atime, mtime)
	}
}
