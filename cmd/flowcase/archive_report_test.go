package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestReportManyMembers: the summary of an archive of 1,000 members
// that are not evidence, named by 300-byte paths, names ten of them (each
// shortened to about 256 bytes) and counts the rest; it had named every
// one on one line (500 MB for 1,000 names of 500 kB).
func TestIngestReportManyMembers(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	long := strings.Repeat("d/", 150)
	for i := range 1000 {
		add(fmt.Sprintf("%s%06d.bin", long, i), []byte("x"))
	}
	add("flows.ndjson", []byte(`{"src_ip":"10.0.0.1","dst_ip":"203.0.113.10","src_port":1,"dst_port":443,"protocol":6,"bytes_in":9,"start":"2026-03-02T00:00:00Z"}`+"\n"))
	tw.Close()
	zw.Close()
	arch := filepath.Join(dir, "many.tar.gz")
	if err := os.WriteFile(arch, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := flowcase(t, "ingest", "--store", filepath.Join(dir, "s.db"), "--quiet", arch)
	if code != 0 {
		t.Fatalf("ingest: exit %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "skipped 1000 files not recognised as evidence: "+arch+"!/d/d/") || !strings.Contains(errs, " and 990 more\n") ||
		!strings.Contains(errs, "ingested 1 flows from 1 files") || !strings.HasSuffix(errs, ", 0 rejected, 1000 skipped\n") {
		t.Fatalf("summary:\n%.3000s", errs)
	}
	if strings.Count(errs, "!/d/d/") != 10 || len(errs) > 10*(len(arch)+270)+300 {
		t.Errorf("summary of %d bytes naming %d members; want 10 names of at most about 256 bytes:\n%.3000s", len(errs), strings.Count(errs, "!/d/d/"), errs)
	}
}
