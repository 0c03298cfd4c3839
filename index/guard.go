package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// Badger keeps the list of its table files (.sst: the keys of the store,
// and so every row's place in the value log) in its MANIFEST, a log of
// change sets. When it opens a database it deletes every table file the
// MANIFEST does not list, as the leftover of a compaction or flush cut
// short, and it does so even when opened read-only. A MANIFEST cut short or
// damaged would make it delete the store's tables: every flow lost, and a
// read-write open would then take the emptied directory for a new store.
//
// guardTables reads the MANIFEST before Badger does and refuses an open
// that would delete anything but such leftovers.

// manifestView is what the MANIFEST says about the table files.
type manifestView struct {
	live       map[uint64]bool // listed at its end
	seen       map[uint64]bool // created or deleted by any change set
	maxCreated uint64
	size       int64
	cut        int64 // offset of a change set cut short (a torn or truncated tail), -1 if none
}

// readManifest replays a MANIFEST (Badger's format: "Bdgr", two version
// bytes each, then change sets of a u32 length, a u32 CRC-32C and a
// protobuf ManifestChangeSet).
func readManifest(path string) (manifestView, error) {
	mv := manifestView{live: map[uint64]bool{}, seen: map[uint64]bool{}, cut: -1}
	b, err := os.ReadFile(path)
	if err != nil {
		return mv, err
	}
	mv.size = int64(len(b))
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("Bdgr")) {
		return mv, fmt.Errorf("not a Badger MANIFEST (%d bytes, no magic)", len(b))
	}
	for off := 8; off < len(b); {
		if len(b)-off < 8 {
			mv.cut = int64(off)
			break
		}
		n, sum := binary.BigEndian.Uint32(b[off:]), binary.BigEndian.Uint32(b[off+4:])
		if uint64(n) > uint64(len(b)-off-8) {
			mv.cut = int64(off)
			break
		}
		body := b[off+8 : off+8+int(n)]
		if crc32.Checksum(body, y.CastagnoliCrcTable) != sum {
			return mv, fmt.Errorf("change set at byte %d: checksum mismatch", off)
		}
		var cs pb.ManifestChangeSet
		if err := proto.Unmarshal(body, &cs); err != nil {
			return mv, fmt.Errorf("change set at byte %d: %v", off, err)
		}
		for _, c := range cs.Changes {
			mv.seen[c.Id] = true
			switch c.Op {
			case pb.ManifestChange_CREATE:
				mv.live[c.Id] = true
				mv.maxCreated = max(mv.maxCreated, c.Id)
			case pb.ManifestChange_DELETE:
				delete(mv.live, c.Id)
			}
		}
		off += 8 + int(n)
	}
	return mv, nil
}

// tableIDs lists the table files in dir.
func tableIDs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range entries {
		if id, ok := table.ParseFileID(e.Name()); ok && strings.HasSuffix(e.Name(), ".sst") {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// guardTables checks dir's table files against its MANIFEST before Badger
// opens it (under the directory lock: lockDir). A table file the MANIFEST
// does not list is a leftover of a write cut short when the MANIFEST
// deleted it, when it cannot be read (cut while written), when it holds no
// key newer than the listed tables (a compaction's output: its keys are in
// the tables it merged), or when the newer ones are no more than the
// write-ahead logs (.mem) beside the one in use, as a flush cut short
// leaves them, and the MANIFEST is whole and lists tables. A
// read-write open lets Badger remove leftovers, a read-only one must not
// (ErrNotClean). Any other unlisted table holds keys nothing else does:
// the MANIFEST lost the change sets that listed it (ErrDamaged), as when a
// listed table is gone; nothing is opened. discard lets Badger have its
// way (flowcase recover --discard-unlisted).
func guardTables(dir string, readOnly, discard bool) error {
	mv, err := readManifest(filepath.Join(dir, "MANIFEST"))
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot open store %s: %w", dir, err)
	case err != nil:
		return fmt.Errorf("%w: %s: MANIFEST: %v", ErrDamaged, dir, err)
	}
	ids, err := tableIDs(dir)
	if err != nil {
		return fmt.Errorf("cannot open store %s: %w", dir, err)
	}
	// Badger deletes a write-ahead log (or a value log file) by emptying
	// it, then removing it: a kill between the two leaves an empty file.
	// Opened read-only, Badger tries to size it ("truncate ...: invalid
	// argument"); opened for writing, it takes it for a file it failed to
	// create ("while opening memtables ...: Create a new file"; "During
	// db.vlog.open ...") (TestGuardEmptyLog). It holds nothing, nor does
	// one whose creation a kill cut short: a write removes them.
	if empty := emptyLogs(dir); len(empty) > 0 {
		if readOnly {
			return fmt.Errorf("%w: log files %s were emptied by a deletion cut short: run `flowcase recover --store %s`",
				ErrNotClean, names(empty), dir)
		}
		for _, name := range empty {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("cannot open store %s: %w", dir, err)
			}
		}
	}
	var missing []string
	for id := range mv.live {
		if _, ok := slices.BinarySearch(ids, id); !ok {
			missing = append(missing, table.IDToFilename(id))
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s: its MANIFEST lists table files that are not there (%s); nothing was opened",
			ErrDamaged, dir, names(missing))
	}
	var maxListed uint64
	for _, id := range ids {
		if !mv.live[id] {
			continue
		}
		v, err := checkTable(filepath.Join(dir, table.IDToFilename(id)))
		switch {
		case errors.Is(err, fs.ErrPermission):
			return fmt.Errorf("cannot open store %s: %w", dir, err)
		case err != nil:
			return fmt.Errorf("%w: %s: table file %s: %v; nothing was opened", ErrDamaged, dir, table.IDToFilename(id), err)
		}
		maxListed = max(maxListed, v)
	}
	// A flush cut short leaves the table it wrote beside its memtable's
	// write-ahead log (deleted only once the MANIFEST lists the table):
	// a newer unlisted table is such a leftover when a log still holds
	// versions as old as its newest, and the MANIFEST is whole. A table
	// whose change sets the MANIFEST lost was flushed before every log
	// there (a killed writer's store always has the log in use, of newer
	// versions only). Counting logs told them apart only while a flush
	// left a newer memtable's log too: the flush of Close, or of a store's
	// first memtable, leaves none, and a kill then made recover refuse a
	// store that was whole (TestGuardFlushAtClose).
	oldest, read := uint64(0), false // walOldestVersion, read when needed
	var unlisted, lost []string
	for _, id := range ids {
		if mv.live[id] {
			continue
		}
		name := table.IDToFilename(id)
		v, err := checkTable(filepath.Join(dir, name))
		switch {
		case mv.seen[id], err != nil, v <= maxListed && len(mv.live) > 0:
			unlisted = append(unlisted, name)
		default:
			if !read {
				oldest, read = walOldestVersion(dir), true
			}
			if mv.cut < 0 && oldest <= v {
				unlisted = append(unlisted, name)
			} else {
				lost = append(lost, name)
			}
		}
	}
	if discard {
		return nil
	}
	if len(lost) > 0 {
		what := "does not list"
		if mv.cut >= 0 {
			what = fmt.Sprintf("is cut short at byte %d of %d and does not list", mv.cut, mv.size)
		}
		return fmt.Errorf("%w: %s: its MANIFEST %s table files %s, which hold keys no other file holds; "+
			"opening it would let Badger delete them, so nothing was opened. Keep a copy of the directory; if a crash "+
			"cut its MANIFEST during a write, `flowcase recover --discard-unlisted` lets Badger remove them",
			ErrDamaged, dir, what, names(lost))
	}
	if len(unlisted) > 0 && readOnly {
		return fmt.Errorf("%w: table files %s are leftovers of a write cut short: run `flowcase recover --store %s`",
			ErrNotClean, names(unlisted), dir)
	}
	return nil
}

// checkTable checks what Badger reads first from a table file, its
// footer and index (from the end: the checksum's length and checksum, the
// index's length, the index), whose lengths it trusts: a file cut short or
// overwritten there made it panic, out of reach of any error handling.
// The index is checked against its checksum, which covers the offsets of
// the blocks; the blocks' own checksums are Badger's to check. It returns
// the highest version (commit) of the table's keys, from the index.
func checkTable(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	read := func(at, n int64) ([]byte, error) {
		if at < 0 || n < 0 || at+n > size {
			return nil, fmt.Errorf("cut short or overwritten: its footer points outside its %d bytes", size)
		}
		b := make([]byte, n)
		_, err := f.ReadAt(b, at)
		return b, err
	}
	pos := size - 4
	b, err := read(pos, 4)
	if err != nil {
		return 0, err
	}
	n := int64(binary.BigEndian.Uint32(b))
	pos -= n
	b, err = read(pos, n)
	if err != nil {
		return 0, err
	}
	var sum pb.Checksum
	if err := proto.Unmarshal(b, &sum); err != nil {
		return 0, fmt.Errorf("index checksum unreadable: %v", err)
	}
	pos -= 4
	if b, err = read(pos, 4); err != nil {
		return 0, err
	}
	n = int64(binary.BigEndian.Uint32(b))
	pos -= n
	if b, err = read(pos, n); err != nil {
		return 0, err
	}
	if err := y.VerifyChecksum(b, &sum); err != nil {
		return 0, fmt.Errorf("index: %v", err)
	}
	return maxVersion(b)
}

// maxVersion reads the highest key version from a table's index, a
// flatbuffer. Its checksum held, but a hostile file can hold a matching
// checksum over offsets that point anywhere: the flatbuffer reader's
// panic is taken for an unreadable index.
func maxVersion(idx []byte) (v uint64, err error) {
	defer func() {
		if recover() != nil {
			v, err = 0, errors.New("index unreadable")
		}
	}()
	if len(idx) < 8 {
		return 0, errors.New("index too short")
	}
	return fb.GetRootAsTableIndex(idx, 0).MaxVersion(), nil
}

// walOldestVersion returns the oldest version that the write-ahead logs
// (.mem) in dir begin with, or math.MaxUint64 when none holds an entry.
// A log is Badger's: a 20-byte header (key id and IV), then entries of a
// header (meta and user meta bytes, the key's, value's lengths and the
// expiry as uvarints), the key with its version in its last 8 bytes
// (math.MaxUint64 less the version, big-endian), the value and a CRC-32C
// of all three. Only the first entry is read, and kept only when its
// checksum holds.
func walOldestVersion(dir string) uint64 {
	oldest := uint64(math.MaxUint64)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, path := range logs {
		if v, ok := walFirstVersion(path); ok {
			oldest = min(oldest, v)
		}
	}
	return oldest
}

// emptyLogs names the write-ahead logs (.mem) and value log files (.vlog)
// in dir that are empty.
func emptyLogs(dir string) []string {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	vlogs, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	logs = append(logs, vlogs...)
	var empty []string
	for _, l := range logs {
		if fi, err := os.Stat(l); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			empty = append(empty, filepath.Base(l))
		}
	}
	return empty
}

// walMaxEntry bounds the first entry read from a write-ahead log: a
// memtable holds values below the value threshold (1 KiB), the rest go to
// the value log.
const walMaxEntry = 1 << 20

func walFirstVersion(path string) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	const headerSize = 20
	b := make([]byte, 64)
	n, _ := f.ReadAt(b, headerSize)
	b = b[:n]
	if len(b) < 2 {
		return 0, false
	}
	i := 2
	var hdr [3]uint64
	for j := range hdr {
		v, k := binary.Uvarint(b[i:])
		if k <= 0 {
			return 0, false
		}
		hdr[j], i = v, i+k
	}
	klen, vlen := hdr[0], hdr[1]
	if klen < 8 || klen+vlen > walMaxEntry {
		return 0, false
	}
	entry := make([]byte, uint64(i)+klen+vlen+4)
	if _, err := f.ReadAt(entry, headerSize); err != nil {
		return 0, false
	}
	body, sum := entry[:len(entry)-4], binary.BigEndian.Uint32(entry[len(entry)-4:])
	if crc32.Checksum(body, y.CastagnoliCrcTable) != sum {
		return 0, false
	}
	key := body[i : uint64(i)+klen]
	return math.MaxUint64 - binary.BigEndian.Uint64(key[len(key)-8:]), true
}

// MinFreeBytes is the free space a write needs on the store's file system.
// Badger writes its value log and write-ahead logs through memory-mapped
// files, whose pages take disk space only when first written: on a full
// disk the process dies of SIGBUS, out of reach of any error handling. It
// has at most about 320 MB of such pages not yet written (a value log file
// of 128 MB, write-ahead logs of up to three 64 MB memtables), so writes
// stop, with ErrDiskFull, before the free space falls below this.
const MinFreeBytes = 512 << 20

// freeSpace is freeBytes, replaced in tests.
var freeSpace = freeBytes

// roomToWrite checks the free space of the file system holding dir (its
// parent, while it does not exist).
func roomToWrite(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Dir(filepath.Clean(dir))
	}
	free, ok := freeSpace(dir)
	if !ok || free >= MinFreeBytes {
		return nil
	}
	return fmt.Errorf("%w on the file system of %s: %d MB free, a write needs %d MB (Badger writes through memory-mapped "+
		"files, which a full disk would crash); free some space and run again: what was complete is kept, and a file cut "+
		"short is read again", ErrDiskFull, dir, free>>20, MinFreeBytes>>20)
}

// names lists file names, at most four.
func names(fs []string) string {
	if len(fs) > 4 {
		return fmt.Sprintf("%s and %d more", strings.Join(fs[:4], ", "), len(fs)-4)
	}
	return strings.Join(fs, ", ")
}
