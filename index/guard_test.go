package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/flowcase/flowcase/internal/flow"
	"google.golang.org/protobuf/proto"
)

// guardedStore builds a closed store of n random records and returns its
// directory and table files.
func guardedStore(t testing.TB, n int) (string, []uint64) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "case.db")
	s := openTemp(t, dir)
	ingest(t, s, "a", randRecords(rand.New(rand.NewPCG(7, 7)), n))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ids, err := tableIDs(dir)
	if err != nil || len(ids) == 0 {
		t.Fatalf("table files %v, %v; want some", ids, err)
	}
	return dir, ids
}

func countAll(t *testing.T, dir string) int {
	t.Helper()
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return len(collect(t, s, Everything()))
}

// A MANIFEST cut short beside the table files it no longer lists: no open
// (read-only or read-write) lets Badger delete them, and the store is whole
// again once the MANIFEST is put back. Badger deleted them, and a read-write
// open then made an empty new store in their place.
func TestGuardCutManifest(t *testing.T) {
	dir, ids := guardedStore(t, 3000)
	manifest := filepath.Join(dir, "MANIFEST")
	orig, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{10, 8} { // inside the first change set; just the magic
		if err := os.WriteFile(manifest, orig[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opt := range []Options{{ReadOnly: true}, {}, {Create: true}} {
			if s, err := Open(dir, opt); !errors.Is(err, ErrDamaged) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("cut at %d, %+v: got %v, want ErrDamaged", cut, opt, err)
			}
		}
		if got, _ := tableIDs(dir); len(got) != len(ids) {
			t.Fatalf("cut at %d: table files %v after the opens, want %v", cut, got, ids)
		}
	}
	if err := os.WriteFile(manifest, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := countAll(t, dir); n != 3000 {
		t.Errorf("MANIFEST put back: %d rows, want 3000", n)
	}
}

// A table file newer than every table the MANIFEST created is the leftover
// of a flush cut short: a read-only open refuses (Badger would delete it),
// a read-write one (flowcase recover) lets Badger remove it. A table file
// the MANIFEST lists but that is gone is damage.
func TestGuardLeftoverAndMissingTables(t *testing.T) {
	dir, ids := guardedStore(t, 3000)
	last := ids[len(ids)-1]
	src := filepath.Join(dir, table.IDToFilename(last))
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, table.IDToFilename(last+5))
	if err := os.WriteFile(leftover, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrNotClean) {
		t.Fatalf("read-only open beside a leftover table: %v, want ErrNotClean", err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("read-write open beside a leftover table: %v", err)
	}
	s.Close()
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover table still there after the read-write open: %v", err)
	}
	if n := countAll(t, dir); n != 3000 {
		t.Errorf("after recovery: %d rows, want 3000", n)
	}

	if err := os.Rename(src, src+".aside"); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []Options{{ReadOnly: true}, {DiscardUnlisted: true}} {
		if _, err := Open(dir, opt); !errors.Is(err, ErrDamaged) {
			t.Errorf("%+v with a listed table gone: %v, want ErrDamaged", opt, err)
		}
	}
}

// Damaged files are errors that name the damage, never a panic, fewer rows
// or altered ones: a table file cut short (Badger panicked reading its
// footer), a table block overwritten (Badger read it as found), a value
// (a column block) with a byte changed (read as found: a flow's times
// changed).
func TestDamagedFiles(t *testing.T) {
	damage := func(t *testing.T, path string, f func(b []byte) []byte) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("table cut short", func(t *testing.T) {
		dir, ids := guardedStore(t, 3000)
		damage(t, filepath.Join(dir, table.IDToFilename(ids[0])), func(b []byte) []byte { return b[:len(b)*2/3] })
		for _, opt := range []Options{{ReadOnly: true}, {}} {
			if _, err := Open(dir, opt); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), table.IDToFilename(ids[0])) {
				t.Errorf("%+v: %v, want ErrDamaged naming the table file", opt, err)
			}
		}
	})
	t.Run("table block overwritten", func(t *testing.T) {
		dir, ids := guardedStore(t, 3000)
		damage(t, filepath.Join(dir, table.IDToFilename(ids[0])), func(b []byte) []byte { clear(b[16:80]); return b })
		if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrDamaged) {
			t.Errorf("got %v, want ErrDamaged", err)
		}
	})
	t.Run("value byte changed", func(t *testing.T) {
		dir, _ := guardedStore(t, 3000)
		vlogs, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
		var biggest string
		var size int64
		for _, v := range vlogs {
			if fi, err := os.Stat(v); err == nil && fi.Size() > size {
				biggest, size = v, fi.Size()
			}
		}
		orig, err := os.ReadFile(biggest)
		if err != nil {
			t.Fatal(err)
		}
		// Bytes all over the value log, one at a time: a block's own
		// decoding catches some changes, the checksums every one.
		for k := 1; k < 16; k++ {
			at := 20 + (len(orig)-20)*k/16
			damage(t, biggest, func(b []byte) []byte { b[at] ^= 0x40; return b })
			s, err := Open(dir, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			_, err = s.Scan(Everything(), func(*flow.Record) bool { n++; return true })
			s.Close()
			if err == nil {
				t.Errorf("byte %d of %d changed: scanned %d rows without an error, want a checksum error", at, len(orig), n)
			}
			if err := os.WriteFile(biggest, orig, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Writes stop with ErrDiskFull before the free space runs out (Badger died
// of SIGBUS on a full disk): a read-write open refuses, a read-only one
// works, and an ingest that runs short between segments stops with the
// error, its source left pending for the next open to remove, the sources
// before it whole.
func TestDiskFull(t *testing.T) {
	dir, _ := guardedStore(t, 3000)
	var free uint64 = MinFreeBytes - 1
	freeSpace = func(string) (uint64, bool) { return free, true }
	defer func() { freeSpace = freeBytes }()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("read-write open on a full disk: %v, want ErrDiskFull", err)
	}
	if n := countAll(t, dir); n != 3000 {
		t.Fatalf("read-only open on a full disk: %d rows, want 3000", n)
	}

	free = 1 << 40
	s, err := Open(dir, Options{SegmentRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.BeginSource(SourceInfo{Path: "b", Format: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var addErr error
	for i, r := range randRecords(rand.New(rand.NewPCG(8, 8)), 20000) {
		if i == 5000 {
			free = MinFreeBytes / 2
		}
		if addErr = w.Add(&r); addErr != nil {
			break
		}
	}
	if addErr == nil {
		_, addErr = w.Commit(SourceResult{})
	}
	if !errors.Is(addErr, ErrDiskFull) {
		t.Fatalf("ingest running short of space: %v, want ErrDiskFull", addErr)
	}
	s.Close()
	free = 1 << 40
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if s.Cleaned.PendingSources != 1 {
		t.Errorf("reopened: cleaned %+v, want the pending source", s.Cleaned)
	}
	s.Close()
	if n := countAll(t, dir); n != 3000 {
		t.Errorf("after the full disk: %d rows, want the first source's 3000", n)
	}
}

// FuzzGuard: a MANIFEST or table file of any bytes is read without a panic
// (readManifest, checkTable), and a MANIFEST read as cut short or damaged
// is never taken as listing tables it does not hold.
func FuzzGuard(f *testing.F) {
	dir, ids := guardedStore(f, 300)
	manifest, _ := os.ReadFile(filepath.Join(dir, "MANIFEST"))
	tbl, _ := os.ReadFile(filepath.Join(dir, table.IDToFilename(ids[0])))
	f.Add(manifest, tbl[max(len(tbl)-256, 0):])
	f.Add(manifest[:10], []byte{0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, m, tb []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "MANIFEST"), m, 0o644); err != nil {
			t.Fatal(err)
		}
		mv, err := readManifest(filepath.Join(d, "MANIFEST"))
		if err == nil && mv.cut >= mv.size {
			t.Fatalf("cut at %d of %d bytes", mv.cut, mv.size)
		}
		for id := range mv.live {
			if !mv.seen[id] || id > mv.maxCreated {
				t.Fatalf("table %d listed but not seen created (max %d)", id, mv.maxCreated)
			}
		}
		p := filepath.Join(d, "000001.sst")
		if err := os.WriteFile(p, tb, 0o644); err != nil {
			t.Fatal(err)
		}
		checkTable(p)
		guardTables(d, true, false)
	})
}

// appendChangeSet adds a change set to a MANIFEST, as Badger writes one.
func appendChangeSet(t *testing.T, path string, changes ...*pb.ManifestChange) {
	t.Helper()
	body, err := proto.Marshal(&pb.ManifestChangeSet{Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, body...)); err != nil {
		t.Fatal(err)
	}
}

// A crash while a compaction writes its output (ids taken first) and a
// flush that took a later id has been recorded: the compaction's table is
// unlisted below the highest id created, and its keys are the tables' it
// merged. Badger removes it and keeps every row; the guard had refused the
// store as damaged.
func TestGuardCrashDuringCompaction(t *testing.T) {
	dir, ids := guardedStore(t, 3000)
	last := ids[len(ids)-1]
	b, err := os.ReadFile(filepath.Join(dir, table.IDToFilename(last)))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{last + 2, last + 1} { // the flush's table, then the compaction's
		if err := os.WriteFile(filepath.Join(dir, table.IDToFilename(id)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	appendChangeSet(t, filepath.Join(dir, "MANIFEST"), &pb.ManifestChange{Id: last + 2, Op: pb.ManifestChange_CREATE})
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrNotClean) {
		t.Fatalf("read-only open: %v, want ErrNotClean", err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("read-write open: %v, want the leftover removed", err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, table.IDToFilename(last+1))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the compaction's leftover is still there: %v", err)
	}
	if n := countAll(t, dir); n != 3000 {
		t.Errorf("%d rows, want 3000", n)
	}
}

// A MANIFEST that lost its last change set whole (cut where one begins):
// the table it listed holds the newest keys and no write-ahead log holds
// them. Every open refuses (recover had let Badger delete it: 6000 rows
// became 3000); put back, the store is whole.
func TestGuardManifestCutAtChangeSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case.db")
	for i := range 2 {
		s := openTemp(t, dir)
		ingest(t, s, fmt.Sprint(i), randRecords(rand.New(rand.NewPCG(uint64(i), 7)), 3000))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(dir, "MANIFEST")
	orig, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	last := 8
	for off := 8; off+8 <= len(orig); off += 8 + int(binary.BigEndian.Uint32(orig[off:])) {
		last = off
	}
	if err := os.WriteFile(manifest, orig[:last], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []Options{{ReadOnly: true}, {}} {
		if _, err := Open(dir, opt); !errors.Is(err, ErrDamaged) {
			t.Fatalf("%+v: %v, want ErrDamaged", opt, err)
		}
	}
	if err := os.WriteFile(manifest, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := countAll(t, dir); n != 6000 {
		t.Errorf("MANIFEST put back: %d rows, want 6000", n)
	}
}

// The open guard reads Badger's files only under the directory's lock: a
// reader beside a writer is told the store is in use, as a writer beside
// readers is (queries during an ingest read its tables mid-write and some
// called the store damaged).
func TestGuardUnderLock(t *testing.T) {
	dir, _ := guardedStore(t, 300)
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "by a writer") {
		t.Errorf("a reader beside a writer: %v, want in use by a writer", err)
	}
	w.Close()
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "by a reader") {
		t.Errorf("a writer beside a reader: %v, want in use by a reader", err)
	}
	if r2, err := Open(dir, Options{ReadOnly: true}); err != nil {
		t.Errorf("a second reader: %v", err)
	} else {
		r2.Close()
	}
}

// A store a killed writer left (its write-ahead log in use beside the
// tables) whose MANIFEST is then cut: the log in use does not hold the
// tables' keys, and recover had let Badger delete them (all of them when
// the MANIFEST was cut to its header).
func TestGuardCutManifestAfterCrash(t *testing.T) {
	for _, cutAt := range []string{"last change set", "header"} {
		dir := filepath.Join(t.TempDir(), "case.db")
		for i := range 2 {
			s := openTemp(t, dir)
			ingest(t, s, fmt.Sprint(i), randRecords(rand.New(rand.NewPCG(uint64(i), 7)), 3000))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
		// The log of the memtable in use, as a killed writer leaves it.
		if err := os.WriteFile(filepath.Join(dir, "00001.mem"), make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		manifest := filepath.Join(dir, "MANIFEST")
		orig, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		cut := 8
		if cutAt == "last change set" {
			for off := 8; off+8 <= len(orig); off += 8 + int(binary.BigEndian.Uint32(orig[off:])) {
				cut = off
			}
		}
		if err := os.WriteFile(manifest, orig[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrDamaged) {
			t.Errorf("cut at the %s: %v, want ErrDamaged", cutAt, err)
		}
		if ids, _ := tableIDs(dir); len(ids) < 2 {
			t.Errorf("cut at the %s: tables %v left, want both", cutAt, ids)
		}
	}
}

// copyDir copies the regular files of src into a new directory dst (an
// open store's files as a kill would leave them: its write-ahead logs are
// memory-mapped, so the copy holds what was written).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A writer killed while Close flushes its memtable: the flush's table is
// written, the MANIFEST does not list it yet, and the memtable's
// write-ahead log, which holds the same keys, is the only one (Close makes
// no new memtable; nor does a store's first flush). The guard had counted
// logs, found no more than the one it took for the log in use, and called
// the table lost: `flowcase recover` refused a whole store (a random kill
// of the ingest tests, 5 of 312). The log's oldest version tells: it is
// not newer than the table's keys. Recover removes the table and every
// row is kept, from the log.
func TestGuardFlushAtClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case.db")
	s := openTemp(t, dir)
	ingest(t, s, "a", randRecords(rand.New(rand.NewPCG(1, 7)), 2000))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := tableIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	firstManifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, s, "b", randRecords(rand.New(rand.NewPCG(2, 7)), 3000))
	killed := filepath.Join(t.TempDir(), "killed.db")
	copyDir(t, dir, killed) // its memtable not flushed yet
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := tableIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var flushed []uint64
	for _, id := range after {
		if !slices.Contains(before, id) {
			flushed = append(flushed, id)
			b, err := os.ReadFile(filepath.Join(dir, table.IDToFilename(id)))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(killed, table.IDToFilename(id)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs, _ := filepath.Glob(filepath.Join(killed, "*.mem"))
	if len(flushed) != 1 || len(logs) != 1 {
		t.Fatalf("Close flushed tables %v beside logs %v; want one of each", flushed, logs)
	}
	if _, err := Open(killed, Options{ReadOnly: true}); !errors.Is(err, ErrNotClean) {
		t.Fatalf("read-only open: %v, want ErrNotClean (a leftover)", err)
	}
	w, err := Open(killed, Options{})
	if err != nil {
		t.Fatalf("recover: %v, want the leftover removed", err)
	}
	w.Close()
	if n := countAll(t, killed); n != 5000 {
		t.Errorf("%d rows after recover, want 5000", n)
	}

	// The same table beside a log of newer keys only: a later writer's log
	// in use, and a MANIFEST that lost the change set listing the table
	// (cut where it began). Its keys are nowhere else: every open refuses.
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, s, "c", randRecords(rand.New(rand.NewPCG(3, 7)), 100))
	inUse := filepath.Join(t.TempDir(), "inuse.db")
	copyDir(t, dir, inUse)
	s.Close()
	if err := os.WriteFile(filepath.Join(inUse, "MANIFEST"), firstManifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(inUse, Options{}); !errors.Is(err, ErrDamaged) {
		t.Errorf("a table beside newer logs only: %v, want ErrDamaged", err)
	}
}

// FuzzWALFirstVersion: any write-ahead log is read without a panic, and a
// version is reported only for a whole entry (header, key of at least 8
// bytes, checksum) after the log's 20-byte header.
func FuzzWALFirstVersion(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "case.db")
	s, err := Open(dir, Options{Create: true})
	if err != nil {
		f.Fatal(err)
	}
	ingest(f, s, "a", randRecords(rand.New(rand.NewPCG(9, 7)), 50))
	logs, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		f.Add(b[:min(len(b), 4096)])
	}
	s.Close()
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "00001.mem")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok := walFirstVersion(p); ok && len(b) < 20+5+8+4 {
			t.Fatalf("a version read from %d bytes", len(b))
		}
	})
}

// A writer killed while Badger deleted a flushed memtable's write-ahead
// log, after emptying it and before removing it: the empty .mem made every
// open fail (read-only: "truncate ...: invalid argument", a query's answer
// after random kills of an ingest; read-write: "while opening memtables
// ... Create a new file", so `flowcase recover` too, 2 of 408 kills). An
// empty value log file, as a deletion of one cut short leaves it, failed
// read-only opens too. A read-only open asks for recover; recover removes
// them and every row is there.
func TestGuardEmptyLog(t *testing.T) {
	dir, _ := guardedStore(t, 2000)
	for _, name := range []string{"00007.mem", "000009.vlog"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrNotClean) || !strings.Contains(err.Error(), "00007.mem, 000009.vlog") {
		t.Fatalf("read-only open: %v, want ErrNotClean naming 00007.mem and 000009.vlog", err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("read-write open: %v", err)
	}
	s.Close()
	for _, name := range []string{"00007.mem", "000009.vlog"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the empty %s is still there: %v", name, err)
		}
	}
	if n := countAll(t, dir); n != 2000 {
		t.Errorf("%d rows, want 2000", n)
	}
}
