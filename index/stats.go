package index

import (
	"cmp"
	"slices"
	"time"
)

// StoreStats summarises the visible contents of a store.
type StoreStats struct {
	Flows       int64
	Partitions  int
	Segments    int
	MinStart    int64
	MaxEnd      int64
	DataBytes   uint64            // block values
	IndexBytes  [numFields]uint64 // postings by Field
	HeaderBytes uint64            // manifests (block headers)
}

// IndexTotal is the bytes of all postings.
func (st StoreStats) IndexTotal() uint64 {
	var n uint64
	for _, b := range st.IndexBytes {
		n += b
	}
	return n
}

// Stats reads every manifest of the complete sources.
func (s *Store) Stats() (StoreStats, error) {
	var st StoreStats
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	complete, err := s.completeSources(txn)
	if err != nil {
		return st, err
	}
	parts := map[int64]bool{}
	err = s.forPartitions(txn, Everything(), &ScanStats{}, nil, func(segs []*Manifest) (bool, error) {
		for _, m := range segs {
			if !complete[m.Owner] {
				continue
			}
			if st.Segments == 0 || m.MinStart < st.MinStart {
				st.MinStart = m.MinStart
			}
			st.MaxEnd = max(st.MaxEnd, m.MaxEnd)
			st.Segments++
			parts[m.Partition] = true
			st.Flows += int64(m.Rows)
			st.DataBytes += m.DataBytes
			st.HeaderBytes += uint64(len(m.Blocks)) * blockHeaderSize
			for f, b := range m.Postings {
				st.IndexBytes[f] += uint64(b)
			}
		}
		return true, nil
	})
	st.Partitions = len(parts)
	return st, err
}

// FieldName names an indexed field for reports.
func FieldName(f Field) string {
	switch f {
	case FieldSrcAddr:
		return "src_ip"
	case FieldDstAddr:
		return "dst_ip"
	case FieldSrcPort:
		return "src_port"
	case FieldDstPort:
		return "dst_port"
	case FieldProto:
		return "protocol"
	}
	return "?"
}

// IndexedFields lists the fields with postings.
var IndexedFields = []Field{FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProto}

// FormatTime writes unix ns as RFC 3339 UTC.
func FormatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// StartSpans returns, for each segment of a complete source with rows
// starting in [from, to), the span of those starts: its manifest's
// earliest and latest start, clipped to the range. Both ends are starts of
// real rows, and a segment lies within one partition, so at the default
// width (an hour) the spans tell exactly which days have rows, whatever
// filter a query then applies (the exfiltration history rule's days).
func (s *Store) StartSpans(from, to int64) ([][2]int64, error) {
	if to <= from {
		return nil, nil
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	complete, err := s.completeSources(txn)
	if err != nil {
		return nil, err
	}
	var spans [][2]int64
	err = s.forPartitions(txn, Query{From: from, To: to, Starting: true}, &ScanStats{}, nil, func(segs []*Manifest) (bool, error) {
		for _, m := range segs {
			if complete[m.Owner] && m.Rows > 0 && m.MinStart < to && m.MaxStart >= from {
				spans = append(spans, [2]int64{max(m.MinStart, from), min(m.MaxStart, to-1)})
			}
		}
		return true, nil
	})
	return spans, err
}

// Silent returns how much of [from, to) lies in silences, stretches of
// more than gap in which no flow of a complete source starts or lasts,
// the range's lead and tail included. It reads the segments' manifests
// alone (their earliest start and latest end), whatever filter a query
// then applies, so every query of one range agrees on it.
func (s *Store) Silent(from, to, gap int64) (int64, error) {
	if to <= from {
		return 0, nil
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	complete, err := s.completeSources(txn)
	if err != nil {
		return 0, err
	}
	var spans [][2]int64
	err = s.forPartitions(txn, Query{From: from, To: to}, &ScanStats{}, nil, func(segs []*Manifest) (bool, error) {
		for _, m := range segs {
			if complete[m.Owner] && m.MinStart < to && m.MaxEnd >= from {
				spans = append(spans, [2]int64{max(m.MinStart, from), min(m.MaxEnd, to)})
			}
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	slices.SortFunc(spans, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var silent int64
	at := from
	for _, sp := range spans {
		if d := sp[0] - at; d > gap {
			silent += d
		}
		at = max(at, sp[1])
	}
	if d := to - at; d > gap {
		silent += d
	}
	return silent, nil
}
