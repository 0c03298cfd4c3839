package index

import (
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
