package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/index"
)

// TestArchives: every member of a zip (Info-ZIP) or a tar compressed with
// zstd (GNU tar) is a file of its own, named ARCHIVE!/MEMBER, archives
// inside archives included; a member already in the store, however it
// came, is a duplicate; a member that is not evidence is skipped.
func TestArchives(t *testing.T) {
	const dir = "../testdata/archive/"
	st := capStore(t)
	sum := capIngest(t, st, dir+"evidence.zip")
	abs, _ := filepath.Abs(dir + "evidence.zip")
	type row struct {
		path, format string
		flows        int64
		skipped      bool
	}
	var got []row
	for _, f := range sum.Files {
		got = append(got, row{strings.TrimPrefix(f.Path, abs), f.Format, f.Flows, f.Skipped != ""})
	}
	want := []row{
		{"!/case/flows.ndjson.xz", "ndjson+xz", 300, false},
		{"!/case/exports/softflowd_v9.pcap", "pcap", 119, false},
		{"!/case/notes.txt", "", 0, true},
		{"!/case/inner.tar.gz!/softflowd_v5.pcap", "pcap", 101, false},
	}
	if !slices.Equal(got, want) || sum.Flows != 520 || len(capRows(t, st)) != 520 {
		t.Fatalf("zip: %+v (%d flows)\nwant %+v (520)", got, sum.Flows, want)
	}
	// The same members in another archive, and one of them as a file.
	again := capIngest(t, st, dir+"evidence.tar.zst", "../testdata/softflowd/softflowd_v9.pcap")
	dups := 0
	for _, f := range again.Files {
		if f.Duplicate {
			dups++
		}
	}
	if again.Flows != 0 || dups != 4 || len(capRows(t, st)) != 520 {
		t.Errorf("tar.zst and the file again: %d flows, %d duplicates, %d in the store; want 0, 4, 520", again.Flows, dups, len(capRows(t, st)))
	}
	// A compressed zip (evidence.zip.gz) is unpacked first: its members are
	// the same, so duplicates.
	z, err := os.ReadFile(dir + "evidence.zip")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(z)
	zw.Close()
	zgz := filepath.Join(t.TempDir(), "evidence.zip.gz")
	if err := os.WriteFile(zgz, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	gzSum := capIngest(t, st, zgz)
	dups = 0
	for _, f := range gzSum.Files {
		if f.Duplicate {
			dups++
		}
	}
	if dups != 3 || len(gzSum.Files) != 4 {
		t.Errorf("evidence.zip.gz: %+v; want its 4 members, 3 of them duplicates and the notes skipped", gzSum.Files)
	}
}

// A damaged archive keeps the members (and the part of a member) read
// before the damage, and names the archive and what went wrong; archives
// nested too deep are skipped, saying so.
func TestArchivesDamaged(t *testing.T) {
	const dir = "../testdata/archive/"
	// The tar inside evidence.tar.zst, cut in its last quarter.
	var read int64
	br, _, c, err := openContent(dir+"evidence.tar.zst", &read)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(br)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cut := filepath.Join(tmp, "cut.tar")
	if err := os.WriteFile(cut, b[:len(b)*3/4], 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(capStore(t), []string{cut}, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var failed bool
	for _, f := range sum.Files {
		failed = failed || (f.Err != nil && strings.Contains(f.Err.Error(), cut))
	}
	if sum.Flows == 0 || sum.Flows >= 520 || !failed {
		t.Errorf("cut tar.zst: %d flows, files %+v; want some of 520 and an error naming the archive", sum.Flows, sum.Files)
	}

	// A zip member whose data was changed: its deflate stream or its CRC
	// fails, what was unpacked before is read, and the error names the
	// member.
	z, err := os.ReadFile(dir + "evidence.zip")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var at int64
	for _, f := range zr.File {
		if f.Name == "case/exports/softflowd_v9.pcap" {
			off, _ := f.DataOffset()
			at = off + int64(f.CompressedSize64)/2
		}
	}
	bad := slices.Clone(z)
	bad[at] ^= 0xFF // inside the member's compressed data
	badZip := filepath.Join(tmp, "bad.zip")
	if err := os.WriteFile(badZip, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, err = Run(capStore(t), []string{badZip}, Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	var member *FileResult
	for i := range sum.Files {
		if strings.HasSuffix(sum.Files[i].Path, "!/case/exports/softflowd_v9.pcap") {
			member = &sum.Files[i]
		}
	}
	if member == nil || member.Err == nil || !strings.Contains(member.Err.Error(), "cannot unpack") || sum.Flows < 400 {
		t.Errorf("damaged zip member: %+v (%d flows in all); want an error about its unpacking and the other members' flows", member, sum.Flows)
	}

	// Zips inside zips, five deep: the innermost is not opened.
	inner := []byte("not read")
	for range 5 {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("nested.zip")
		w.Write(inner)
		zw.Close()
		inner = buf.Bytes()
	}
	deep := filepath.Join(tmp, "deep.zip")
	if err := os.WriteFile(deep, inner, 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, err = Run(capStore(t), []string{deep}, Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 1 || !strings.Contains(sum.Files[0].Skipped, "nested more than 4 deep") {
		t.Errorf("nested zips: %+v", sum.Files)
	}
}

// A member that cannot start evidence (here 256 MiB of zeros, 255 KiB in
// the zip) is skipped from its first bytes, without being unpacked; the
// evidence beside it is read.
func TestArchiveBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("zeros.bin")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 256 {
		w.Write(zeros)
	}
	pcap, err := os.ReadFile("../testdata/softflowd/softflowd_v9.pcap")
	if err != nil {
		t.Fatal(err)
	}
	w, _ = zw.Create("softflowd_v9.pcap")
	w.Write(pcap)
	zw.Close()
	path := filepath.Join(t.TempDir(), "bomb.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	sum := capIngest(t, capStore(t), path)
	if len(sum.Files) != 2 || sum.Files[0].Skipped != SkippedFormat || sum.Files[0].Size != 0 || sum.Files[1].Flows != 119 {
		t.Errorf("files %+v; want the zeros skipped unread and 119 flows", sum.Files)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// The case store may lie among the evidence (ingest --store /evidence/case.db
// /evidence): its own files are not walked.
func TestStoreAmongEvidence(t *testing.T) {
	dir := t.TempDir()
	pcap, err := os.ReadFile("../testdata/softflowd/softflowd_v9.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "exports.pcap"), pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(filepath.Join(dir, "case.db"), index.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for run := range 2 {
		sum := capIngest(t, st, dir)
		if len(sum.Files) != 1 || !strings.HasSuffix(sum.Files[0].Path, "exports.pcap") || sum.Files[0].Duplicate != (run == 1) {
			t.Errorf("run %d: files %+v; want exports.pcap alone", run, sum.Files)
		}
	}
}
