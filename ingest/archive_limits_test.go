package ingest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/index"
)

// tarMember is one member of a test tar.
type tarMember struct {
	name string
	data []byte
}

// writeTarGz writes the members as a tar.gz and returns its path.
func writeTarGz(t *testing.T, dir, name string, members []tarMember) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// oneFlow is an NDJSON file of one flow, told apart by i.
func oneFlow(i int) []byte {
	return fmt.Appendf(nil, `{"src_ip":"10.1.%d.%d","dst_ip":"203.0.113.10","src_port":1,"dst_port":443,"protocol":6,"bytes_in":%d,"start":"2026-03-02T00:00:00Z"}`+"\n",
		i>>8&255, i&255, i)
}

// TestArchiveManyMembers: an archive's members that are not evidence (or
// already in the store) are listed by name up to ten per reason and the
// rest counted in one result, and every member's name is bounded: 1,000
// members named by PAX headers of 2 kB had made 1,000 results, and of
// 500 kB, 1.9 GB of memory and one line of 500 MB.
func TestArchiveManyMembers(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("dir/", 500) // 2,000 bytes
	var members []tarMember
	for i := range 1000 {
		members = append(members, tarMember{fmt.Sprintf("%s%09d.bin", long, i), []byte("x")})
	}
	for i := range 15 {
		members = append(members, tarMember{fmt.Sprintf("%sflows-%02d.ndjson", long, i), oneFlow(i)})
	}
	arch := writeTarGz(t, dir, "many.tar.gz", members)
	st := capStore(t)
	sum := capIngest(t, st, arch)
	var listed, read int
	var more []string
	for _, f := range sum.Files {
		if len(f.Path) > len(arch)+2+maxMemberName {
			t.Fatalf("a result's name of %d bytes: %.300s...", len(f.Path), f.Path)
		}
		n, reason := MoreMembers(f)
		switch {
		case n > 0:
			more = append(more, fmt.Sprintf("%d %s", n, reason))
		case f.Skipped == SkippedFormat:
			listed++
		case f.Flows == 1:
			read++
		}
	}
	if listed != maxMemberExamples || read != 15 || len(more) != 1 || more[0] != "990 "+SkippedFormat || sum.Flows != 15 || len(sum.Files) != 26 {
		t.Fatalf("%d results: %d listed as not evidence, counted %v, %d read with %d flows; want 10, 990, 15 with 15",
			len(sum.Files), listed, more, read, sum.Flows)
	}
	// Its first 140 bytes and last 80, its length and a hash of it.
	full := long + "flows-14.ndjson"
	sum14 := sha256.Sum256([]byte(full))
	want := arch + "!/" + long[:140] + fmt.Sprintf("…(2015 bytes, %x)…", sum14[:4]) + long[len(long)-65:] + "flows-14.ndjson"
	if last := sum.Files[24].Path; last != want {
		t.Errorf("the last member is registered as %q, want %q", last, want)
	}

	// Again: the 15 are duplicates, ten listed, five counted.
	sum = capIngest(t, st, arch)
	dups := 0
	more = nil
	for _, f := range sum.Files {
		if n, reason := MoreMembers(f); n > 0 {
			more = append(more, fmt.Sprintf("%d %s %v", n, reason, f.Duplicate))
		} else if f.Duplicate {
			dups++
		}
	}
	if dups != 10 || len(more) != 2 || more[1] != "5 already in the store true" || sum.Flows != 0 || len(sum.Files) != 22 {
		t.Errorf("ingested again: %d results, %d duplicates listed, counted %v; want 10 listed and 5 counted", len(sum.Files), dups, more)
	}
}

// TestArchiveMemberNoRoom: a member is unpacked only while the file
// system keeps the store's reserve free: a small archive that unpacks to
// more stops there, that member fails with an error naming it, how much
// was unpacked and why, and is not read (a run with room reads it whole,
// once); the members around it are read. It had been unpacked whole: 1 GB
// of a 31 KB tar.zst filled the disk, and the store then refused to commit.
func TestArchiveMemberNoRoom(t *testing.T) {
	dir := t.TempDir()
	big := append(append(oneFlow(2), oneFlow(3)...), make([]byte, 32<<20)...)
	arch := writeTarGz(t, dir, "bomb.tar.gz", []tarMember{{"a.ndjson", oneFlow(1)}, {"big.ndjson", big}, {"after.ndjson", oneFlow(4)}})
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// A file system with 8 MB above the reserve: what spool writes in
	// TMPDIR takes it.
	var most int64
	spoolFree = func(string) (uint64, bool) {
		var used int64
		filepath.WalkDir(tmp, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					used += fi.Size()
				}
			}
			return nil
		})
		most = max(most, used)
		return uint64(tmpReserve + 8<<20 - used), true
	}
	defer func() { spoolFree = index.FreeBytes }()
	st := capStore(t)
	sum, err := Run(st, []string{arch}, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var failed *FileResult
	for i, f := range sum.Files {
		if f.Err != nil {
			failed = &sum.Files[i]
		}
	}
	if sum.Flows != 2 || len(sum.Files) != 3 || failed == nil || failed.Path != arch+"!/big.ndjson" || failed.Flows != 0 {
		t.Fatalf("%d flows, results %+v; want 2 flows, big.ndjson failed", sum.Flows, sum.Files)
	}
	msg := failed.Err.Error()
	if !errors.Is(failed.Err, index.ErrDiskFull) || !strings.Contains(msg, arch+"!/big.ndjson") || !strings.Contains(msg, "stopped after 8 MB") {
		t.Errorf("error %q; want ErrDiskFull, naming the member and how much was unpacked", msg)
	}
	if most > 8<<20 {
		t.Errorf("%d bytes spooled at most: past the reserve", most)
	}
	if len(capRows(t, st)) != 2 {
		t.Errorf("%d flows in the store, want 2", len(capRows(t, st)))
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestMemberNamesApart: two long member names alike at both ends (they
// differ in the middle) are shortened to different names; they had been
// registered under one.
func TestMemberNamesApart(t *testing.T) {
	a := strings.Repeat("a/", 100) + "x" + strings.Repeat("b/", 100) + "flows.ndjson"
	b := strings.Repeat("a/", 100) + "y" + strings.Repeat("b/", 100) + "flows.ndjson"
	if ma, mb := memberName(a), memberName(b); ma == mb || len(ma) > maxMemberName || !strings.HasSuffix(ma, "flows.ndjson") {
		t.Errorf("%q and %q; want two names of at most %d bytes, ending as the files", ma, mb, maxMemberName)
	}
}

// TestSpoolSmallOnSmallDisk: in a $TMPDIR of 100 MB free, small members
// are read (a reserve of 768 MB, the store's own and more, had refused a
// 1.5 KB member on a 700 MB file system of its own).
func TestSpoolSmallOnSmallDisk(t *testing.T) {
	dir := t.TempDir()
	arch := writeTarGz(t, dir, "small.tar.gz", []tarMember{{"a.ndjson", oneFlow(1)}, {"b.ndjson", oneFlow(2)}})
	t.Setenv("TMPDIR", t.TempDir())
	spoolFree = func(string) (uint64, bool) { return 100 << 20, true }
	defer func() { spoolFree = index.FreeBytes }()
	st := capStore(t)
	if sum := capIngest(t, st, arch); sum.Flows != 2 {
		t.Errorf("%d flows, want 2", sum.Flows)
	}
}
