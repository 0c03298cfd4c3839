package index

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// FormatVersion is the on-disk format this code writes. It also reads
// every format from oldestFormat on: format 2 added blocks with each column
// compressed apart (codec 2) and postings version 3; format 3 added blocks
// whose columns are addressable by row (codec 3: sorted address
// dictionary, bit-packed indexes and small-alphabet columns, group tables
// on varint columns); format 4 added manifests (version 2) that record
// the ends of the rows that outlast their segment's last start, so a count
// of the range after a partition needs none of its blocks; format 5 added
// a status key per source, so queries list the complete sources without
// reading every source record. The values of older formats stay readable.
// A read-write open of an older store marks it with FormatVersion before
// anything new is written (giving its sources their status keys first), so
// an older flowcase refuses it instead of misreading it.
const FormatVersion = 5

// oldestFormat is the oldest store format this code reads.
const oldestFormat = 1

// Metadata names under nsMeta. All numbers are big-endian.
const (
	metaFormat      = "format"       // u32 FormatVersion
	metaPartition   = "partition"    // i64 partition width, ns
	metaStoreID     = "store_id"     // 16 random bytes
	metaCreated     = "created"      // i64 unix ns
	metaNextSegment = "next_segment" // u64 next segment id to hand out
	metaNextSource  = "next_source"  // u32 next source id to hand out
	metaBounds      = "bounds"       // i64 min start, i64 max end, i64 max duration over complete sources
)

// Meta is the store-wide metadata.
type Meta struct {
	Format         uint32
	PartitionWidth int64 // ns
	StoreID        string
	Created        int64
	// Bounds over all complete sources: the earliest start, the latest end
	// and the longest flow. The planner widens a range's lower edge by
	// MaxDuration to find long flows that started in earlier partitions.
	MinStart, MaxEnd, MaxDuration int64
}

func getU64(txn *badger.Txn, name string) (uint64, bool, error) {
	v, ok, err := getValue(txn, metaKey(name))
	if err != nil || !ok {
		return 0, ok, err
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("cannot read meta %q: got %d bytes, want 8: %w", name, len(v), ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), true, nil
}

func putU64(txn *badger.Txn, name string, x uint64) error {
	return txn.Set(metaKey(name), binary.BigEndian.AppendUint64(nil, x))
}

func getValue(txn *badger.Txn, key []byte) ([]byte, bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err := item.ValueCopy(nil)
	return v, err == nil, err
}

func loadMeta(txn *badger.Txn) (Meta, bool, error) {
	var m Meta
	v, ok, err := getValue(txn, metaKey(metaFormat))
	if err != nil || !ok {
		return m, false, err
	}
	if len(v) != 4 {
		return m, false, fmt.Errorf("cannot read store format: %w", ErrCorrupt)
	}
	m.Format = binary.BigEndian.Uint32(v)
	if m.Format < oldestFormat || m.Format > FormatVersion {
		return m, true, fmt.Errorf("%w: store has format %d, this flowcase reads %d to %d", ErrFormat, m.Format, oldestFormat, FormatVersion)
	}
	w, _, err := getU64(txn, metaPartition)
	if err != nil {
		return m, true, err
	}
	m.PartitionWidth = int64(w)
	id, _, err := getValue(txn, metaKey(metaStoreID))
	if err != nil {
		return m, true, err
	}
	m.StoreID = hex.EncodeToString(id)
	c, _, err := getU64(txn, metaCreated)
	if err != nil {
		return m, true, err
	}
	m.Created = int64(c)
	b, ok, err := getValue(txn, metaKey(metaBounds))
	if err != nil {
		return m, true, err
	}
	if ok && len(b) == 24 {
		m.MinStart = int64(binary.BigEndian.Uint64(b))
		m.MaxEnd = int64(binary.BigEndian.Uint64(b[8:]))
		m.MaxDuration = int64(binary.BigEndian.Uint64(b[16:]))
	}
	if m.PartitionWidth <= 0 {
		return m, true, fmt.Errorf("cannot read partition width %d: %w", m.PartitionWidth, ErrCorrupt)
	}
	return m, true, nil
}

func initMeta(txn *badger.Txn, width, now int64) error {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("cannot make store id: %w", err)
	}
	if err := txn.Set(metaKey(metaFormat), binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
		return err
	}
	if err := txn.Set(metaKey(metaStoreID), id); err != nil {
		return err
	}
	if err := putU64(txn, metaPartition, uint64(width)); err != nil {
		return err
	}
	if err := putU64(txn, metaCreated, uint64(now)); err != nil {
		return err
	}
	if err := putU64(txn, metaNextSegment, 1); err != nil {
		return err
	}
	return putU64(txn, metaNextSource, 1)
}

func putBounds(txn *badger.Txn, m *Meta) error {
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b, uint64(m.MinStart))
	binary.BigEndian.PutUint64(b[8:], uint64(m.MaxEnd))
	binary.BigEndian.PutUint64(b[16:], uint64(m.MaxDuration))
	return txn.Set(metaKey(metaBounds), b)
}

// nextID hands out the next value of a persisted counter and moves the
// counter on in the same transaction, so an id is never handed out twice,
// even when the process dies right after.
func nextID(txn *badger.Txn, name string) (uint64, error) {
	id, ok, err := getU64(txn, name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("cannot find counter %q: %w", name, ErrCorrupt)
	}
	return id, putU64(txn, name, id+1)
}
