package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
)

// TestCompactDropsMergedData: after a compaction the store lists the same
// rows from fewer segments, and the merged segments' blocks and postings
// are gone from the LSM tree in every version, tombstones included (a
// key-by-key delete would leave them, and their values in the value log,
// until Badger happened to compact those tables).
func TestCompactDropsMergedData(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	s := openTemp(t, dir)
	for i := range 12 {
		recs := randRecords(rng, 400)
		ingest(t, s, fmt.Sprintf("small-%d", i), recs)
	}
	all := Query{From: t0 - int64(4*24*3600e9), To: t0 + int64(8*24*3600e9)}
	before := collect(t, s, all)
	sortRecords(before)
	segsBefore := liveSegments(t, s)
	st, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	segsAfter := liveSegments(t, s)
	if st.Partitions == 0 || st.SegmentsBefore <= st.SegmentsAfter || len(segsAfter) >= len(segsBefore) {
		t.Fatalf("compaction: %+v, %d live segments before, %d after", st, len(segsBefore), len(segsAfter))
	}
	if st.Rows == 0 || st.Rows > int64(len(before)) {
		t.Fatalf("compaction rewrote %d rows of %d", st.Rows, len(before))
	}
	check := func(s *Store) {
		t.Helper()
		after := collect(t, s, all)
		sortRecords(after)
		if len(after) != len(before) || !slices.EqualFunc(after, before, func(a, b flow.Record) bool { return cmpRecord(a, b) == 0 }) {
			t.Fatalf("%d rows after compaction, %d before (or other rows)", len(after), len(before))
		}
		keys, dead := 0, 0
		err := s.db.View(func(txn *badger.Txn) error {
			for _, ns := range []byte{nsBlock, nsPostings} {
				it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{ns}, AllVersions: true})
				for it.Rewind(); it.Valid(); it.Next() {
					keys++
					k := it.Item().Key()
					if seg := binary.BigEndian.Uint64(k[1:9]); !segsAfter[seg] || it.Item().IsDeletedOrExpired() {
						dead++
					}
				}
				it.Close()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if keys == 0 || dead != 0 {
			t.Fatalf("%d block and postings keys (all versions), %d of them of merged segments or deleted", keys, dead)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

// liveSegments returns the ids of the segments queries see.
func liveSegments(t *testing.T, s *Store) map[uint64]bool {
	t.Helper()
	parts, err := s.livePartitions()
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for _, segs := range parts {
		for _, m := range segs {
			out[m.Segment] = true
		}
	}
	return out
}

// TestSegmentPrefixes: a group of 256 segment ids with no segment left is
// dropped under one prefix per namespace, which covers exactly its ids; a
// group that still holds a segment gets a prefix per dead segment.
func TestSegmentPrefixes(t *testing.T) {
	var dead []uint64
	for id := uint64(1); id < 300; id++ {
		if id != 260 {
			dead = append(dead, id)
		}
	}
	got := segmentPrefixes(dead, map[uint64]bool{1: true}) // 260 is alive
	if len(got) != 2+2*(299-256) {
		t.Fatalf("%d prefixes, want %d", len(got), 2+2*(299-256))
	}
	covers := func(ns byte, seg uint64) bool {
		k := blockKey(seg, 3)
		if ns == nsPostings {
			k = segPrefix(nsPostings, seg)
		}
		for _, p := range got {
			if bytes.HasPrefix(k, p) {
				return true
			}
		}
		return false
	}
	for _, ns := range []byte{nsBlock, nsPostings} {
		for _, seg := range dead {
			if !covers(ns, seg) {
				t.Fatalf("dead segment %d (namespace %#x) not covered", seg, ns)
			}
		}
		for _, seg := range []uint64{260, 300, 511, 512, 1 << 40} {
			if covers(ns, seg) {
				t.Fatalf("segment %d (namespace %#x) covered", seg, ns)
			}
		}
	}
}

// TestScanStopsEarly: a scan stopped by its callback, serial or parallel,
// ordered (a merge over a partition's segments) or not, hands over exactly
// the rows asked for and leaves nothing open (an open block iterator would
// fail its transaction's Discard).
func TestScanStopsEarly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := openTemp(t, t.TempDir())
	defer s.Close()
	for i := range 2 {
		recs := randRecords(rng, 6000)
		ingest(t, s, fmt.Sprintf("part-%d", i), recs)
	}
	for _, ordered := range []bool{false, true} {
		for _, parallel := range []int{1, 2} {
			for _, k := range []int{1, 37, 5000} {
				q := Everything()
				q.Ordered, q.Parallel = ordered, parallel
				n := 0
				if _, err := s.Scan(q, func(*flow.Record) bool { n++; return n < k }); err != nil {
					t.Fatal(err)
				}
				if n != k {
					t.Fatalf("ordered %v, parallel %d: %d rows handed over, want %d", ordered, parallel, n, k)
				}
			}
		}
	}
	if n := len(collect(t, s, Everything())); n != 12000 {
		t.Fatalf("%d rows after the stopped scans, want 12000", n)
	}
}
