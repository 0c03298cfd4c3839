// Package index is the case store: time-partitioned segments of
// column-encoded blocks with roaring-bitmap postings, kept in Badger. It is
// the only package that imports Badger and roaring. The byte layouts are in
// docs/format/.
package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/y"
)

// DefaultPartitionWidth is the partition width of a new store unless the
// first ingest says otherwise.
const DefaultPartitionWidth = time.Hour

// Options say how to open a store.
type Options struct {
	ReadOnly bool
	// Create makes a new store when the directory holds none. Without it,
	// opening a path with no store fails with ErrNoStore.
	Create bool
	// PartitionWidth is used when the store is created. When non-zero on an
	// existing store it must equal the stored width (ErrPartitionWidth).
	PartitionWidth time.Duration
	// Now stands in for the wall clock (tests); zero means time.Now.
	Now func() time.Time
	// SegmentRows caps the rows of a segment (default MaxSegmentRows);
	// smaller segments exercise more of the write path in tests.
	SegmentRows int
	// DiscardUnlisted lets a read-write open proceed when the MANIFEST is
	// cut short beside table files it does not list, which Badger then
	// deletes (guardTables; flowcase recover --discard-unlisted).
	DiscardUnlisted bool
}

// Store is an open case store.
type Store struct {
	db       *badger.DB
	unlock   func() // releases the directory lock (lockDir)
	dir      string
	readOnly bool
	meta     Meta
	now      func() time.Time
	segRows  int
	idMu     sync.Mutex // serialises segment id allocation
	// complete caches the ids of complete sources (completeSources).
	completeMu sync.Mutex
	complete   map[uint32]bool
	// Cleaned says what the read-write open removed (pending sources'
	// segments and orphan keys).
	Cleaned CleanupStats
}

// Exists reports whether dir holds a Badger database.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "MANIFEST"))
	return err == nil
}

// Open opens (or, with Options.Create, creates) the store in dir. A
// read-write open first removes what a killed ingest left unfinished.
func Open(dir string, opt Options) (*Store, error) {
	if !Exists(dir) {
		if !opt.Create || opt.ReadOnly {
			return nil, fmt.Errorf("%w at %s (create one with `flowcase ingest`)", ErrNoStore, dir)
		}
		if err := newStoreDir(dir); err != nil {
			return nil, err
		}
	}
	unlock := func() {}
	if Exists(dir) {
		var err error
		if unlock, err = lockDir(dir, opt.ReadOnly); err != nil {
			return nil, err
		}
		if err := guardTables(dir, opt.ReadOnly, opt.DiscardUnlisted && !opt.ReadOnly); err != nil {
			unlock()
			return nil, err
		}
	}
	if !opt.ReadOnly {
		if err := roomToWrite(dir); err != nil {
			unlock()
			return nil, err
		}
	}
	s := &Store{dir: dir, readOnly: opt.ReadOnly, now: opt.Now, segRows: MaxSegmentRows, unlock: unlock}
	if opt.SegmentRows > 0 && opt.SegmentRows < MaxSegmentRows {
		s.segRows = opt.SegmentRows
	}
	if s.now == nil {
		s.now = time.Now
	}
	if !opt.ReadOnly {
		// Badger locks the directory itself, exclusively for a writer: a
		// second lock of this process's would refuse it. (A shared one, a
		// reader's, is held on with Badger's.)
		unlock()
		s.unlock = func() {}
	}
	db, err := badger.Open(badgerOptions(dir, opt.ReadOnly))
	if err != nil {
		s.unlock()
		return nil, explainOpenError(dir, opt.ReadOnly, err)
	}
	s.db = db
	if err := s.loadOrInit(opt); err != nil {
		s.Close()
		return nil, err
	}
	if !opt.ReadOnly {
		if s.Cleaned, err = s.cleanup(); err != nil {
			s.Close()
			return nil, fmt.Errorf("cannot clean up unfinished ingest: %w", err)
		}
	}
	return s, nil
}

// newStoreDir checks that a store may be created at dir: a new or empty
// directory. A store is never created among other files, such as the
// evidence folder given as --store by mistake: it would write its files
// beside the evidence.
func newStoreDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot create store: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is a file; give a new or empty directory for the case store", ErrNotStoreDir, dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot create store: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("cannot create store: %w", err)
	}
	if len(names) > 0 {
		return fmt.Errorf("%w: %s holds other files (%s, ...) and no case store; give a new or empty directory, none is created among them",
			ErrNotStoreDir, dir, names[0])
	}
	return nil
}

func badgerOptions(dir string, readOnly bool) badger.Options {
	return badger.DefaultOptions(dir).
		WithReadOnly(readOnly).
		// Blocks are compressed by flowcase; Badger must not do it again.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		// Keep blocks and postings in the value log, keys in the LSM tree.
		WithValueThreshold(1 << 10).
		WithNumVersionsToKeep(1).
		// Bound what Badger maps and buffers: value log files are mapped
		// while written, memtables hold only keys and value pointers.
		WithValueLogFileSize(128 << 20).
		WithNumMemtables(2).
		WithLoggingLevel(badger.WARNING).
		WithMetricsEnabled(false).
		// Damage must be an error, never fewer or altered rows: every value
		// (block, postings) read is checked against its checksum in the
		// value log, and every table file's blocks when it is opened.
		WithVerifyValueChecksum(true).
		WithChecksumVerificationMode(options.OnTableRead)
}

// inUse says who holds the store: a writer (with its pid, which Badger
// keeps in LOCK) or readers.
func inUse(dir string, writer bool) error {
	if !writer {
		return fmt.Errorf("%w by a reader (a query): writes wait for none; run again when it ends (%s)", ErrInUse, dir)
	}
	pid := "unknown"
	if b, err := os.ReadFile(filepath.Join(dir, "LOCK")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		pid = string(bytes.TrimSpace(b))
	}
	return fmt.Errorf("%w by a writer (ingest, compact or recover), pid %s (%s)", ErrInUse, pid, dir)
}

func explainOpenError(dir string, readOnly bool, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"):
		// A writer leaves its pid in LOCK; readers (queries) share the
		// lock without one.
		b, rerr := os.ReadFile(filepath.Join(dir, "LOCK"))
		return inUse(dir, rerr == nil && len(bytes.TrimSpace(b)) > 0)
	case readOnly && (errors.Is(err, fs.ErrPermission) || strings.Contains(msg, "permission denied")):
		return fmt.Errorf("cannot read store %s: %w", dir, err)
	case !readOnly && (errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) || strings.Contains(msg, "read-only file system") ||
		strings.Contains(msg, "permission denied")):
		return fmt.Errorf("%w: %s is on read-only media or not writable by this user (%v); queries read it as it is, "+
			"and to ingest or recover, copy it to writable storage", ErrReadOnly, dir, err)
	case errors.Is(err, badger.ErrTruncateNeeded), strings.Contains(msg, "truncate required"), strings.Contains(msg, "read-only"),
		strings.Contains(msg, "ReadOnly"), strings.Contains(msg, "read only"):
		return fmt.Errorf("%w: run `flowcase recover --store %s` (%v)", ErrNotClean, dir, err)
	}
	if errors.Is(err, y.ErrChecksumMismatch) || strings.Contains(msg, "checksum") {
		return fmt.Errorf("%w: %s: %v; nothing was opened", ErrDamaged, dir, err)
	}
	return fmt.Errorf("cannot open store %s: %w", dir, err)
}

func (s *Store) loadOrInit(opt Options) error {
	var m Meta
	var found bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		m, found, err = loadMeta(txn)
		return err
	})
	if err != nil {
		return err
	}
	if !found {
		if opt.ReadOnly {
			return fmt.Errorf("%w at %s (no metadata)", ErrNoStore, s.dir)
		}
		if empty, err := s.empty(); err != nil || !empty {
			return cmp.Or(err, fmt.Errorf("%w: %s holds a Badger database without flowcase's metadata (another program's?); it is left as it is",
				ErrNotStoreDir, s.dir))
		}
		width := opt.PartitionWidth
		if width == 0 {
			width = DefaultPartitionWidth
		}
		if width < time.Minute || width > 31*24*time.Hour {
			return fmt.Errorf("cannot create store: partition width %s outside 1m..31d", width)
		}
		if err := s.db.Update(func(txn *badger.Txn) error {
			return initMeta(txn, int64(width), s.now().UnixNano())
		}); err != nil {
			return fmt.Errorf("cannot create store: %w", err)
		}
		return s.loadOrInit(Options{ReadOnly: opt.ReadOnly})
	}
	if opt.PartitionWidth != 0 && int64(opt.PartitionWidth) != m.PartitionWidth {
		return fmt.Errorf("%w: store has %s, asked for %s", ErrPartitionWidth,
			time.Duration(m.PartitionWidth), opt.PartitionWidth)
	}
	if m.Format < FormatVersion && !opt.ReadOnly {
		if m.Format < formatStatusKeys {
			if err := s.writeStatusKeys(); err != nil {
				return fmt.Errorf("cannot write source status keys: %w", err)
			}
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			return txn.Set(metaKey(metaFormat), binary.BigEndian.AppendUint32(nil, FormatVersion))
		})
		if err != nil {
			return fmt.Errorf("cannot mark store format %d: %w", FormatVersion, err)
		}
		m.Format = FormatVersion
	}
	s.meta = m
	return nil
}

// empty reports whether the database holds no key at all (a store whose
// creation stopped before its metadata was written).
func (s *Store) empty() (bool, error) {
	empty := true
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	return empty, err
}

// Meta returns the store metadata as of the open (or the last commit).
func (s *Store) Meta() Meta { return s.meta }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close flushes and closes the store.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	s.unlock()
	return err
}

// partitionOf returns the start of the partition holding time t.
func (s *Store) partitionOf(t int64) int64 {
	w := s.meta.PartitionWidth
	p := t / w * w
	if t < 0 && t%w != 0 {
		p -= w
	}
	return p
}

// DiskUsage returns the bytes of the files in the store's directory.
func (s *Store) DiskUsage() int64 {
	var n int64
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}
