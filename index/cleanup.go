package index

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// CleanupStats says what a read-write open removed.
type CleanupStats struct {
	PendingSources int // sources a killed ingest left pending
	Segments       int // their segments, and segments without a manifest
	OrphanKeys     int // blocks and postings of no known segment
}

// Any reports whether anything was removed.
func (c CleanupStats) Any() bool { return c.PendingSources+c.Segments+c.OrphanKeys > 0 }

type segLoc struct {
	partition int64
	owner     uint32 // the source whose ingest wrote the segment
}

// cleanup removes what a killed ingest left: pending sources and their
// segments, segments whose manifest was never written, and blocks or
// postings that belong to no segment. Complete sources are never touched.
func (s *Store) cleanup() (CleanupStats, error) {
	var st CleanupStats
	var del [][]byte
	s.forgetSources()
	defer s.forgetSources()
	err := s.db.View(func(txn *badger.Txn) error {
		complete, err := s.completeSources(txn)
		if err != nil {
			return err
		}
		pending, err := pendingSourceKeys(txn, complete)
		if err != nil {
			return err
		}
		st.PendingSources = len(pending) / 2
		del = append(del, pending...)
		locs, err := segmentLocators(txn)
		if err != nil {
			return err
		}
		keep := map[uint64]bool{}
		for seg, loc := range locs {
			_, hasManifest, err := getValue(txn, manifestKey(loc.partition, seg))
			if err != nil {
				return err
			}
			if complete[loc.owner] && hasManifest {
				keep[seg] = true
				continue
			}
			st.Segments++
			del = append(del, segmentKey(seg))
			if hasManifest {
				del = append(del, manifestKey(loc.partition, seg))
			}
		}
		orphans := orphanKeys(txn, keep)
		st.OrphanKeys = len(orphans)
		del = append(del, orphans...)
		return nil
	})
	if err != nil || len(del) == 0 {
		return st, err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range del {
		if err := wb.Delete(k); err != nil {
			return st, err
		}
	}
	if err := wb.Flush(); err != nil {
		return st, fmt.Errorf("cannot delete unfinished ingest: %w", err)
	}
	return st, nil
}

// pendingSourceKeys returns the keys (source, status and hash index) of every
// source that is not complete.
func pendingSourceKeys(txn *badger.Txn, complete map[uint32]bool) ([][]byte, error) {
	var out [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsSourceBy}, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, err
		}
		if len(v) != 4 {
			return nil, fmt.Errorf("cannot read source index: %w", ErrCorrupt)
		}
		id := binary.BigEndian.Uint32(v)
		if !complete[id] {
			out = append(out, it.Item().KeyCopy(nil), sourceKey(id), statusKey(id))
		}
	}
	return out, nil
}

func segmentLocators(txn *badger.Txn) (map[uint64]segLoc, error) {
	out := map[uint64]segLoc{}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsSegment}, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, err
		}
		if len(k) != 9 || len(v) != 12 {
			return nil, fmt.Errorf("cannot read segment locator %x: %w", k, ErrCorrupt)
		}
		out[binary.BigEndian.Uint64(k[1:])] = segLoc{
			partition: decodeTime(binary.BigEndian.Uint64(v)),
			owner:     binary.BigEndian.Uint32(v[8:]),
		}
	}
	return out, nil
}

// orphanKeys lists block and postings keys whose segment is not kept.
func orphanKeys(txn *badger.Txn, keep map[uint64]bool) [][]byte {
	var out [][]byte
	for _, ns := range []byte{nsBlock, nsPostings} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{ns}})
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) < 9 || !keep[binary.BigEndian.Uint64(k[1:])] {
				out = append(out, it.Item().KeyCopy(nil))
			}
		}
		it.Close()
	}
	return out
}
