package index

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
)

// FormatCompaction marks the sources that record compactions; they hold
// no evidence of their own and `info` lists them apart.
const FormatCompaction = "compaction"

// CompactStats says what a compaction did.
type CompactStats struct {
	Partitions     int   // partitions rewritten
	SegmentsBefore int   // their segments before
	SegmentsAfter  int   // and after
	Rows           int64 // rows rewritten
}

// compactNeeded reports whether a partition's segments are worth merging:
// more than one, and at least minSmall of them less than half full.
func compactNeeded(segs []*Manifest, segRows, minSmall int) bool {
	small := 0
	for _, m := range segs {
		if int(m.Rows) < segRows/2 {
			small++
		}
	}
	return len(segs) > 1 && small >= minSmall
}

// AutoCompactSmall is how many small segments a partition must have for
// CompactMany, which ingest runs after its files: many small files (5- or
// 10-minute rotations leave 6 to 12 per hour) are merged, while a file
// added to a busy store, which leaves a partition two or three segments,
// does not make ingest rewrite it.
const AutoCompactSmall = 4

// CompactMany is Compact for the partitions with at least AutoCompactSmall
// small segments.
func (s *Store) CompactMany() (CompactStats, error) { return s.compact(AutoCompactSmall) }

// Compact merges the segments of every partition that has many small ones
// (as hundreds of 5-minute files leave behind) into as few full segments
// as possible. Each partition is rewritten atomically: the new segments
// belong to a pending compaction source, and the transaction that
// completes it also deletes the old segments' manifests. A killed
// compaction leaves the old segments in place and the new ones are
// removed by the next read-write open; nothing is lost or doubled.
func (s *Store) Compact() (CompactStats, error) { return s.compact(2) }

func (s *Store) compact(minSmall int) (st CompactStats, err error) {
	if s.readOnly {
		return st, ErrReadOnly
	}
	parts, err := s.livePartitions()
	if err != nil {
		return st, err
	}
	// The merged segments' data goes at the end, also after an error: it
	// is invisible from the moment each partition's compaction commits.
	var dead []*Manifest
	defer func() {
		if len(dead) > 0 {
			if derr := s.dropSegments(dead); err == nil {
				err = derr
			}
		}
	}()
	batch := s.compactBatch()
	for _, segs := range parts {
		if !compactNeeded(segs, s.segRows, minSmall) {
			continue
		}
		part, before := segs[0].Partition, len(segs)
		var total, small int64 // rows of the partition, and of its small segments
		for _, m := range segs {
			total += int64(m.Rows)
			if int(m.Rows) < s.segRows/2 {
				small += int64(m.Rows)
			}
		}
		// More segments than one transaction can replace: their small
		// ones are merged batch by batch (each batch a compaction of its
		// own, as atomic as a partition's), until the partition's segments
		// fit in one.
		batched := false
		for len(segs) > batch {
			merged, err := s.compactBatches(segs, batch)
			dead = append(dead, merged...) // their data goes at the end, also after an error
			if err != nil {
				return st, fmt.Errorf("cannot compact partition %d: %w", part, err)
			}
			if len(merged) == 0 {
				break
			}
			batched = true
			if segs, err = s.livePartition(part); err != nil {
				return st, fmt.Errorf("cannot compact partition %d: %w", part, err)
			}
		}
		if len(segs) > batch {
			// Only full segments are left beyond one transaction: merging
			// them would gain nothing.
			if batched {
				st.Partitions++
				st.SegmentsBefore += before
				st.SegmentsAfter += len(segs)
				st.Rows += small
			}
			continue
		}
		st.Partitions++
		st.SegmentsBefore += before
		n, _, err := s.compactPartition(segs)
		if err != nil {
			return st, fmt.Errorf("cannot compact partition %d: %w", part, err)
		}
		dead = append(dead, segs...)
		st.SegmentsAfter += n
		st.Rows += total
	}
	return st, nil
}

// maxCompactBatch is the most segments one compaction merges. The
// transaction that completes a compaction deletes two keys (manifest and
// locator) per segment it replaces, and Badger refuses a transaction of
// more than MaxBatchCount entries (104,857 with 64 MB memtables, so some
// 52,000 segments): a partition of 60,000 one-flow files could never be
// compacted ("Txn is too big to fit into one request"). A batch also bounds the merge's open
// iterators (one per segment).
var maxCompactBatch = 4096

// compactBatch is the most segments one compaction transaction may
// replace in this store: maxCompactBatch, within a quarter of Badger's
// MaxBatchCount (two deletes per segment, and the few keys that complete
// the source).
func (s *Store) compactBatch() int {
	return max(2, min(maxCompactBatch, int(s.db.MaxBatchCount()/4)))
}

// compactBatches merges the small segments of a partition, batch segments
// at a time, each batch an atomic compaction of its own (a killed run
// leaves every batch merged or not, nothing lost or doubled). It returns
// the segments it replaced.
func (s *Store) compactBatches(segs []*Manifest, batch int) ([]*Manifest, error) {
	var small, merged []*Manifest
	for _, m := range segs {
		if int(m.Rows) < s.segRows/2 {
			small = append(small, m)
		}
	}
	for i := 0; i+1 < len(small); i += batch {
		b := small[i:min(i+batch, len(small))]
		if _, _, err := s.compactPartition(b); err != nil {
			return merged, err
		}
		merged = append(merged, b...)
	}
	return merged, nil
}

// livePartition returns the visible segments of one partition.
func (s *Store) livePartition(part int64) ([]*Manifest, error) {
	parts, err := s.livePartitionsIn(Query{From: part, To: part + s.meta.PartitionWidth, Starting: true})
	if err != nil {
		return nil, err
	}
	for _, segs := range parts {
		if segs[0].Partition == part {
			return segs, nil
		}
	}
	return nil, nil
}

// dropSegments removes the blocks and postings of segments whose
// manifests are gone, and gives their space back. Deleting key by key
// would leave the values in Badger's value log and the tombstones in its
// LSM tree (to be stepped over by every manifest scan) until Badger's own
// compactions get to them, which a store written once and then only read
// never sees. Badger's DropPrefix flushes the memtable, rewrites the
// tables holding the prefixes without them and counts their values as
// garbage; the value log files that are then mostly garbage are
// rewritten. Every step is crash-safe in Badger: a run killed here leaves
// orphans, which the next read-write open removes (cleanup).
func (s *Store) dropSegments(segs []*Manifest) error {
	// Badger checks every key it rewrites against every prefix: a run of
	// merged segments is dropped under one shorter prefix per 256 ids when
	// no segment of those ids is left (none has a locator).
	occupied := map[uint64]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsSegment}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); len(k) == 9 {
				occupied[binary.BigEndian.Uint64(k[1:])>>8] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	dead := make([]uint64, len(segs))
	for i, m := range segs {
		dead[i] = m.Segment
	}
	if err := s.db.DropPrefix(segmentPrefixes(dead, occupied)...); err != nil {
		return fmt.Errorf("cannot remove the data of %d merged segments: %w", len(segs), err)
	}
	for s.db.RunValueLogGC(0.3) == nil {
	}
	return nil
}

// segmentPrefixes returns the prefixes of the blocks and postings of the
// dead segments: for a group of 256 ids (id>>8) that is not occupied, one
// prefix per namespace covering the whole group, else one per segment.
func segmentPrefixes(dead []uint64, occupied map[uint64]bool) [][]byte {
	var out [][]byte
	grouped := map[uint64]bool{}
	for _, seg := range dead {
		g := seg >> 8
		switch {
		case grouped[g]:
		case !occupied[g]:
			grouped[g] = true
			out = append(out, segPrefix(nsBlock, g<<8)[:8], segPrefix(nsPostings, g<<8)[:8])
		default:
			out = append(out, segPrefix(nsBlock, seg), segPrefix(nsPostings, seg))
		}
	}
	return out
}

// livePartitions returns the visible segments, grouped by partition.
func (s *Store) livePartitions() ([][]*Manifest, error) { return s.livePartitionsIn(Everything()) }

// livePartitionsIn returns the visible segments of the partitions q
// reaches, grouped by partition.
func (s *Store) livePartitionsIn(q Query) ([][]*Manifest, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	complete, err := s.completeSources(txn)
	if err != nil {
		return nil, err
	}
	var out [][]*Manifest
	err = s.forPartitions(txn, q, &ScanStats{}, nil, func(segs []*Manifest) (bool, error) {
		var live []*Manifest
		for _, m := range segs {
			if complete[m.Owner] {
				live = append(live, m)
			}
		}
		if len(live) > 0 {
			out = append(out, live)
		}
		return true, nil
	})
	return out, err
}

func (s *Store) compactPartition(segs []*Manifest) (int, int64, error) {
	part := segs[0].Partition
	h := sha256.New()
	fmt.Fprintf(h, "compaction of partition %d:", part)
	var old [][]byte
	for _, m := range segs {
		binary.Write(h, binary.BigEndian, m.Segment)
		old = append(old, manifestKey(part, m.Segment), segmentKey(m.Segment))
	}
	var sha [32]byte
	copy(sha[:], h.Sum(nil))
	w, err := s.BeginSource(SourceInfo{SHA256: sha, Format: FormatCompaction,
		Path: fmt.Sprintf("(compaction of partition %s, %d segments)", FormatTime(part), len(segs))})
	if err != nil {
		return 0, 0, err
	}
	w.mixed = true
	q := Query{From: part, To: part + s.meta.PartitionWidth, Starting: true, Ordered: true}
	var addErr error
	_, err = s.scanSegments(q, segs, func(r *flow.Record) bool {
		addErr = w.AddFor(r, r.SourceID)
		return addErr == nil
	})
	if err == nil {
		err = addErr
	}
	if err != nil {
		w.Abort()
		return 0, 0, err
	}
	src, err := w.Commit(SourceResult{AuxDelete: old})
	if err != nil {
		w.Abort()
		return 0, 0, err
	}
	// The old segments are invisible now; their blocks and postings are
	// orphans, removed by the caller (dropSegments) or, after a kill, by
	// the next read-write open.
	return src.Segments, src.Flows, nil
}

// scanSegments reads the rows of exactly these segments (one partition).
func (s *Store) scanSegments(q Query, segs []*Manifest, fn func(*flow.Record) bool) (bool, error) {
	q.Columns = AllColumns
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	var st ScanStats
	return s.scanPartition(txn, q, segs, &st, fn)
}
