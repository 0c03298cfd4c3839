package ingest

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestCompressedEvidence: evidence compressed with bzip2, xz or zstd (by
// Debian's tools: testdata/compressed/make.sh) reads as the same records as
// the uncompressed or gzip evidence, and says how it was compressed.
func TestCompressedEvidence(t *testing.T) {
	const dir = "../testdata/compressed/"
	for _, c := range []struct {
		plain string // the same evidence, gzip or not
		n     int64
	}{{"../testdata/sample/flows.ndjson.gz", 300}, {"../testdata/softflowd/softflowd_v9.pcap", 119}} {
		base := filepath.Base(strings.TrimSuffix(c.plain, ".gz"))
		format := map[string]string{"flows.ndjson": "ndjson", "softflowd_v9.pcap": "pcap"}[base]
		var want []flow.Record
		for _, ext := range []string{"bz2", "xz", "zst"} {
			st := capStore(t)
			res := capIngest(t, st, dir+base+"."+ext).Files[0]
			wantFormat := format + "+" + map[string]string{"bz2": "bzip2", "xz": "xz", "zst": "zstd"}[ext]
			if res.Format != wantFormat || res.Flows != c.n || len(res.Rejected) != 0 {
				t.Errorf("%s.%s: format %q, %d flows, rejected %v; want %s, %d, none", base, ext, res.Format, res.Flows, res.Rejected, wantFormat, c.n)
			}
			got := withSource(capRows(t, st), 0)
			if want == nil {
				want = plainRecords(t, c.plain, c.n)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s.%s: the records differ from %s's", base, ext, c.plain)
			}
		}
	}
}

// plainRecords ingests the first n records of path (all of a capture) into
// a new store and returns them, without their source.
func plainRecords(t *testing.T, path string, n int64) []flow.Record {
	st := capStore(t)
	if strings.HasSuffix(path, ".ndjson.gz") {
		b := readGzipLines(t, path, int(n))
		path = filepath.Join(t.TempDir(), "flows.ndjson")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	capIngest(t, st, path)
	return withSource(capRows(t, st), 0)
}

// A compressed file cut short or damaged keeps the records decoded before
// the damage (none here: these small files are one compressed block each)
// and reports the file and what went wrong, also when nothing could be
// read to tell its format by.
func TestCompressedDamaged(t *testing.T) {
	const dir = "../testdata/compressed/"
	for _, ext := range []string{"bz2", "xz", "zst"} {
		b, err := os.ReadFile(dir + "flows.ndjson." + ext)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "cut.ndjson."+ext)
		if err := os.WriteFile(path, b[:len(b)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
		sum, err := Run(capStore(t), []string{path}, Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		res := sum.Files[0]
		if res.Err == nil || !strings.Contains(res.Err.Error(), path) || res.Flows >= 300 {
			t.Errorf("%s cut: %d flows, error %v; want fewer than 300 and an error naming the file", ext, res.Flows, res.Err)
		}
		// A byte changed inside the compressed data: each format's checks
		// (bzip2's block CRC, xz's and zstd's checksums) catch it.
		bad := slices.Clone(b)
		bad[len(bad)/2] ^= 0xFF
		path = filepath.Join(t.TempDir(), "bad.ndjson."+ext)
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if sum, err = Run(capStore(t), []string{path}, Options{Version: "test"}); err != nil {
			t.Fatal(err)
		}
		if res := sum.Files[0]; res.Flows >= 300 || res.Err == nil || !strings.Contains(res.Err.Error(), path) {
			t.Errorf("%s damaged: %d flows, error %v; want fewer than 300 and an error naming the file", ext, res.Flows, res.Err)
		}
	}
}

// readGzipLines returns the first n lines of a gzip file.
func readGzipLines(t *testing.T, path string, n int) []byte {
	var read int64
	br, _, c, err := openContent(path, &read)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []byte
	for range n {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line...)
	}
	return out
}

// A file whose every record was rejected (here: local times, no
// --input-tz) left nothing in the store, so it can be ingested again with
// the option it lacked; once it gave flows, it is a duplicate.
func TestReingestRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asa.log")
	line := "May 01 2023 12:02:00: %ASA-4-106023: Deny tcp src outside:198.51.100.66/40000 dst inside:10.0.0.5/3389 by access-group \"outside_in\" [0x0, 0x0]\n"
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	st := capStore(t)
	first := capIngest(t, st, path).Files[0]
	second := ingestWith(t, st, Options{Version: "test", InputTZ: time.UTC}, path).Files[0]
	third := ingestWith(t, st, Options{Version: "test", InputTZ: time.UTC}, path).Files[0]
	if first.Flows != 0 || first.Rejected["time without zone"] != 1 || second.Duplicate || second.Flows != 1 || !third.Duplicate ||
		len(capRows(t, st)) != 1 {
		t.Errorf("first %d flows (rejected %v), second %d (duplicate %v), third duplicate %v, %d in the store; want 0 (1 without zone), 1, true, 1",
			first.Flows, first.Rejected, second.Flows, second.Duplicate, third.Duplicate, len(capRows(t, st)))
	}
}

// TestXZDictionary: the dictionary an xz stream's block header asks for is
// read before its decoder allocates it. xz -9's 64 MiB (the bundled files)
// is read; a header asking for 4 GiB is refused, naming the file, before a
// byte of it is allocated; the decoder was given a 128 MiB floor, which it
// allocated for every xz file, and no ceiling.
func TestXZDictionary(t *testing.T) {
	b, err := os.ReadFile("../testdata/compressed/flows.ndjson.xz")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := xzDict(b); d != 64<<20 || err != nil {
		t.Fatalf("xz -9 file: dictionary %d, %v; want 64 MiB", d, err)
	}
	for code, want := range map[byte]uint64{0: 4 << 10, 1: 6 << 10, 22: 8 << 20, 39: 3 << 30, 40: 1<<32 - 1} {
		h := slices.Clone(b)
		h[16] = code // the LZMA2 filter's property byte
		if d, err := xzDict(h); d != want || err != nil {
			t.Errorf("code %d: dictionary %d, %v; want %d", code, d, err, want)
		}
	}
	h := slices.Clone(b)
	h[16] = 41
	if _, err := xzDict(h); err == nil {
		t.Error("code 41: no error")
	}
	if d, err := xzDict(b[:14]); d != 0 || err != nil {
		t.Errorf("cut header: %d, %v; want 0 and no error (the decoder's to judge)", d, err)
	}
	h = slices.Clone(b)
	h[16] = 40
	path := filepath.Join(t.TempDir(), "huge.ndjson.xz")
	if err := os.WriteFile(path, h, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(capStore(t), []string{path}, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res := sum.Files[0]; res.Err == nil || !strings.Contains(res.Err.Error(), path) || !strings.Contains(res.Err.Error(), "xz dictionary of 4095 MiB") {
		t.Errorf("4 GiB dictionary: error %v; want one naming the file and the dictionary", res.Err)
	}
}

// FuzzXZDict: any header is read without a panic, and a size is only ever
// one LZMA2 can name.
func FuzzXZDict(f *testing.F) {
	if b, err := os.ReadFile("../testdata/compressed/softflowd_v9.pcap.xz"); err == nil {
		f.Add(b[:64])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := xzDict(b)
		if err == nil && d != 0 && d != 1<<32-1 && (d < 4<<10 || d > 3<<30) {
			t.Fatalf("dictionary %d", d)
		}
	})
}

// TestCompressedSameContent: evidence in the store already is not ingested
// again from a compressed copy, nor from the plain file after a compressed
// one, nor compressed another way (its content's hash is registered too),
// in one run or a later one; each copy came in whole, every record twice.
func TestCompressedSameContent(t *testing.T) {
	const dir = "../testdata/compressed/"
	var read int64
	br, _, c, err := openContent(dir+"flows.ndjson.xz", &read)
	if err != nil {
		t.Fatal(err)
	}
	plainBytes, err := io.ReadAll(br)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "flows.ndjson")
	if err := os.WriteFile(plain, plainBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]string{
		{plain, dir + "flows.ndjson.xz", dir + "flows.ndjson.zst"},
		{dir + "flows.ndjson.bz2", plain, dir + "flows.ndjson.xz"},
	} {
		st := capStore(t)
		sum, err := Run(st, order[:2], Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		later, err := Run(st, order[2:], Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		files := append(sum.Files, later.Files...)
		if files[0].Flows != 300 || files[0].Duplicate {
			t.Errorf("%s first: %d flows, duplicate %v; want 300", files[0].Path, files[0].Flows, files[0].Duplicate)
		}
		for _, f := range files[1:] {
			if !f.Duplicate || f.Flows != 0 || !strings.Contains(f.Skipped, "as source 1 ") {
				t.Errorf("%s after %s: %d flows, duplicate %v, %q; want a duplicate of source 1", f.Path, files[0].Path, f.Flows, f.Duplicate, f.Skipped)
			}
		}
		if n := len(capRows(t, st)); n != 300 {
			t.Errorf("%v: %d rows in the store, want 300", order, n)
		}
	}
}
