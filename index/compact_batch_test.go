package index

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// manySmallSegments writes n one-row segments into one partition, from
// sources sources (written with one row per segment, then reopened with
// the default segment size, so that every one of them is small).
func manySmallSegments(t *testing.T, dir string, n, sources int) []flow.Record {
	t.Helper()
	s, err := Open(dir, Options{Create: true, SegmentRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	var all []flow.Record
	for src := range sources {
		w, err := s.BeginSource(SourceInfo{SHA256: sha256.Sum256([]byte(fmt.Sprint(src))), Path: fmt.Sprintf("src-%d", src), Format: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for i := src; i < n; i += sources {
			r := flow.Record{Start: t0 + int64(i)*1000, End: t0 + int64(i)*1000 + 5, SrcPort: uint16(i), DstPort: 443, Proto: 6, Bytes: uint64(i)}
			if err := w.Add(&r); err != nil {
				t.Fatal(err)
			}
			r.SourceID = w.SourceID()
			all = append(all, r)
		}
		if _, err := w.Commit(SourceResult{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sortRecords(all)
	return all
}

// TestCompactManySegments: a partition of more segments than one Badger
// transaction can replace (two deletes each: 53,000 segments make 106,000
// deletes, over Badger's 104,857 entries) is compacted in batches, each
// atomic, then into one segment; every row is kept once, with its source.
// It had failed with "Txn is too big to fit into one request", forever.
func TestCompactManySegments(t *testing.T) {
	const n = 53000
	dir := t.TempDir()
	want := manySmallSegments(t, dir, n, 3)
	s := openTemp(t, dir)
	defer s.Close()
	if got := len(liveSegments(t, s)); got != n {
		t.Fatalf("%d live segments before, want %d", got, n)
	}
	st, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if st != (CompactStats{Partitions: 1, SegmentsBefore: n, SegmentsAfter: 1, Rows: n}) {
		t.Errorf("compaction: %+v, want 1 partition, %d segments into 1, %d rows", st, n, n)
	}
	if got := len(liveSegments(t, s)); got != 1 {
		t.Errorf("%d live segments after, want 1", got)
	}
	got := collect(t, s, Everything())
	sortRecords(got)
	if !slices.EqualFunc(got, want, func(a, b flow.Record) bool { return cmpRecord(a, b) == 0 && a.SourceID == b.SourceID }) {
		t.Fatalf("%d rows after compaction, want the %d written (with their sources)", len(got), len(want))
	}
	srcs, err := s.Sources()
	if err != nil {
		t.Fatal(err)
	}
	var flows []int64
	for _, src := range srcs {
		if src.Format != FormatCompaction {
			flows = append(flows, src.Flows)
		}
	}
	if !slices.Equal(flows, []int64{17667, 17667, 17666}) {
		t.Errorf("the sources' flows after compaction: %v, want 17667, 17667, 17666", flows)
	}
}

// TestCompactBatchesStop: when more segments than a batch are left and
// too few of them are small to merge, the batches stop (they had looped
// forever on full segments) and the partition keeps every row once.
func TestCompactBatchesStop(t *testing.T) {
	defer func(b int) { maxCompactBatch = b }(maxCompactBatch)
	maxCompactBatch = 4
	dir := t.TempDir()
	want := manySmallSegments(t, dir, 30, 2)
	s, err := Open(dir, Options{SegmentRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Six full segments of ten rows beside the 30 one-row ones.
	for i := range 6 {
		recs := make([]flow.Record, 10)
		for j := range recs {
			k := int64(100 + i*10 + j)
			recs[j] = flow.Record{Start: t0 + k*1000, End: t0 + k*1000, SrcPort: uint16(k), Proto: 17}
		}
		ingest(t, s, fmt.Sprintf("full-%d", i), recs)
		want = append(want, recs...)
	}
	sortRecords(want)
	st, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	segs := len(liveSegments(t, s))
	// 30 one-row segments in batches of 4: 7 of 4 rows and 1 of 2; those 8
	// in batches of 4 again: 10+6 and 10+4 rows. The six full ones stay.
	if st != (CompactStats{Partitions: 1, SegmentsBefore: 36, SegmentsAfter: 10, Rows: 30}) || segs != 10 {
		t.Errorf("compaction: %+v, %d live segments; want 36 segments into 10, 30 rows", st, segs)
	}
	got := collect(t, s, Everything())
	sortRecords(got)
	if !slices.EqualFunc(got, want, func(a, b flow.Record) bool { return cmpRecord(a, b) == 0 && a.SourceID == b.SourceID }) {
		t.Fatalf("%d rows after compaction, want the %d written", len(got), len(want))
	}
}
