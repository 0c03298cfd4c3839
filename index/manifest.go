package index

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/flowcase/flowcase/internal/flow"
)

// BlockHeader describes one block of a segment: where its rows sit and the
// min/max of start, end and each indexed column. The headers of a segment
// are kept together in its manifest, so the planner prunes blocks without
// reading them.
type BlockHeader struct {
	FirstRow           uint32 // segment row number of the block's first row
	Rows               uint32
	Size               uint32 // bytes of the block value
	MinStart, MaxStart int64
	MinEnd, MaxEnd     int64
	MinSrc, MaxSrc     netip.Addr
	MinDst, MaxDst     netip.Addr
	MinSrcPort         uint16
	MaxSrcPort         uint16
	MinDstPort         uint16
	MaxDstPort         uint16
	MinProto, MaxProto uint8
}

// Manifest describes a segment; writing it makes the segment visible.
type Manifest struct {
	Segment   uint64
	Partition int64  // partition start, unix ns
	Source    uint32 // the source of the rows
	// Owner is the source whose ingest wrote the segment: it is visible once
	// the owner is complete. Owner differs from Source only for rows of an
	// earlier source decoded late (NetFlow data parked until its template
	// arrived in a later ingest).
	Owner     uint32
	Rows      uint32
	MinStart  int64
	MaxStart  int64
	MaxEnd    int64
	DataBytes uint64            // block values
	Postings  [numFields]uint32 // postings value bytes by Field
	Blocks    []BlockHeader
	// LateEnds are the ends, ascending, of the rows that end after
	// MaxStart: for a range starting after MaxStart, the segment's rows in
	// range are exactly those whose end is in LateEnds and >= its start,
	// so counting them needs no block (the hour after a partition). Set
	// only when LateKnown: manifests of version 1, and segments with more
	// than MaxLateEnds such rows, do not record them.
	LateEnds  []int64
	LateKnown bool
}

// MaxLateEnds bounds the late ends a manifest records: a manifest is read
// by every query over its partition, and a segment whose rows mostly
// outlast it (a router's long active timeout) is counted from its blocks.
const MaxLateEnds = 1024

// lateUnknown in place of the count of late ends: not recorded.
const lateUnknown = 1<<32 - 1

const numFields = 6 // Field values are 1..5

// Manifest versions: 1 (store formats 1 to 3) ends after the block
// headers; 2 (format 4 on) adds the late ends.
const (
	manifestV1      = 1
	manifestVersion = 2
)

// setLateEnds records the late ends of rows (a segment's rows).
func (m *Manifest) setLateEnds(rows []*flow.Record) {
	m.LateEnds, m.LateKnown = nil, true
	for _, r := range rows {
		if r.End > m.MaxStart {
			if len(m.LateEnds) == MaxLateEnds {
				m.LateEnds, m.LateKnown = nil, false
				return
			}
			m.LateEnds = append(m.LateEnds, r.End)
		}
	}
	slices.Sort(m.LateEnds)
}

// CountLate returns how many of the segment's rows overlap a range that
// starts at from, after MaxStart; ok is false when the manifest does not
// know (see LateEnds).
func (m *Manifest) CountLate(from int64) (n int, ok bool) {
	if !m.LateKnown || from <= m.MaxStart {
		return 0, false
	}
	i, _ := slices.BinarySearch(m.LateEnds, from)
	return len(m.LateEnds) - i, true
}

// Marshal appends the manifest's encoding to dst (docs/format/manifest.md).
func (m *Manifest) Marshal(dst []byte) []byte {
	dst = append(dst, manifestVersion)
	dst = binary.BigEndian.AppendUint64(dst, m.Segment)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Partition))
	dst = binary.BigEndian.AppendUint32(dst, m.Source)
	dst = binary.BigEndian.AppendUint32(dst, m.Owner)
	dst = binary.BigEndian.AppendUint32(dst, m.Rows)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.MinStart))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.MaxStart))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.MaxEnd))
	dst = binary.BigEndian.AppendUint64(dst, m.DataBytes)
	for _, p := range m.Postings {
		dst = binary.BigEndian.AppendUint32(dst, p)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.Blocks)))
	for i := range m.Blocks {
		dst = m.Blocks[i].marshal(dst)
	}
	if !m.LateKnown {
		return binary.BigEndian.AppendUint32(dst, lateUnknown)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(m.LateEnds)))
	prev := m.MaxStart
	for _, e := range m.LateEnds {
		dst = binary.AppendUvarint(dst, uint64(e-prev))
		prev = e
	}
	return dst
}

func (h *BlockHeader) marshal(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, h.FirstRow)
	dst = binary.BigEndian.AppendUint32(dst, h.Rows)
	dst = binary.BigEndian.AppendUint32(dst, h.Size)
	for _, t := range [...]int64{h.MinStart, h.MaxStart, h.MinEnd, h.MaxEnd} {
		dst = binary.BigEndian.AppendUint64(dst, uint64(t))
	}
	for _, a := range [...]netip.Addr{h.MinSrc, h.MaxSrc, h.MinDst, h.MaxDst} {
		dst = flow.AppendAddr17(dst, a)
	}
	for _, p := range [...]uint16{h.MinSrcPort, h.MaxSrcPort, h.MinDstPort, h.MaxDstPort} {
		dst = binary.BigEndian.AppendUint16(dst, p)
	}
	return append(dst, h.MinProto, h.MaxProto)
}

// blockHeaderSize is the encoded size of a BlockHeader.
const blockHeaderSize = 12 + 32 + 4*17 + 8 + 2

// Offsets of the owner and of the times (min start, max start, max end)
// in a manifest value, read in place to skip manifests out of range.
const (
	manifestOwnerAt  = 1 + 8 + 8 + 4
	manifestTimesAt  = manifestOwnerAt + 4 + 4
	manifestTimesEnd = manifestTimesAt + 3*8
)

// UnmarshalManifest decodes a manifest value.
func UnmarshalManifest(b []byte) (*Manifest, error) {
	const fixed = 1 + 8 + 8 + 4 + 4 + 4 + 8*4 + 4*numFields + 4
	if len(b) < fixed || (b[0] != manifestV1 && b[0] != manifestVersion) {
		return nil, fmt.Errorf("cannot decode manifest: %d bytes, version %v: %w", len(b), firstByte(b), ErrCorrupt)
	}
	m := &Manifest{}
	p := b[1:]
	u64 := func() uint64 { x := binary.BigEndian.Uint64(p); p = p[8:]; return x }
	u32 := func() uint32 { x := binary.BigEndian.Uint32(p); p = p[4:]; return x }
	m.Segment = u64()
	m.Partition = int64(u64())
	m.Source = u32()
	m.Owner = u32()
	m.Rows = u32()
	m.MinStart, m.MaxStart, m.MaxEnd = int64(u64()), int64(u64()), int64(u64())
	m.DataBytes = u64()
	for i := range m.Postings {
		m.Postings[i] = u32()
	}
	n := u32()
	size := uint64(n) * blockHeaderSize
	if b[0] == manifestV1 && size != uint64(len(p)) || b[0] != manifestV1 && size+4 > uint64(len(p)) {
		return nil, fmt.Errorf("cannot decode manifest of segment %d: %d blocks in %d bytes: %w", m.Segment, n, len(p), ErrCorrupt)
	}
	m.Blocks = make([]BlockHeader, n)
	next := uint32(0) // the row the next block must start at
	for i := range m.Blocks {
		h := unmarshalBlockHeader(p[:blockHeaderSize])
		p = p[blockHeaderSize:]
		// Blocks hold consecutive rows of the segment: a count taken from
		// the headers alone (Store.Count) must add up to the segment's rows.
		if h.FirstRow != next || h.Rows == 0 || h.Rows > BlockRows || h.Rows > m.Rows-next {
			return nil, fmt.Errorf("cannot decode manifest of segment %d: block %d holds rows %d+%d after row %d of %d: %w",
				m.Segment, i, h.FirstRow, h.Rows, next, m.Rows, ErrCorrupt)
		}
		next += h.Rows
		m.Blocks[i] = h
	}
	if next != m.Rows {
		return nil, fmt.Errorf("cannot decode manifest of segment %d: blocks hold %d of its %d rows: %w", m.Segment, next, m.Rows, ErrCorrupt)
	}
	if b[0] == manifestV1 {
		return m, nil
	}
	if err := m.unmarshalLateEnds(p); err != nil {
		return nil, fmt.Errorf("cannot decode manifest of segment %d: late ends: %w", m.Segment, err)
	}
	return m, nil
}

// unmarshalLateEnds reads the late ends section (version 2), which must
// end the value. The ends must ascend after MaxStart and lie within
// MaxEnd.
func (m *Manifest) unmarshalLateEnds(p []byte) error {
	n := binary.BigEndian.Uint32(p)
	p = p[4:]
	if n == lateUnknown {
		if len(p) != 0 {
			return ErrCorrupt
		}
		return nil
	}
	if n > MaxLateEnds || n > m.Rows || int(n) > len(p) || n > 0 && m.MaxEnd <= m.MaxStart {
		return ErrCorrupt
	}
	ends := make([]int64, n)
	prev := m.MaxStart
	for i := range ends {
		// The first end is after MaxStart; the next ones may repeat it.
		d, k := binary.Uvarint(p)
		if k <= 0 || i == 0 && d == 0 || d > uint64(m.MaxEnd)-uint64(prev) {
			return ErrCorrupt
		}
		prev += int64(d)
		ends[i], p = prev, p[k:]
	}
	if len(p) != 0 {
		return ErrCorrupt
	}
	m.LateEnds, m.LateKnown = ends, true
	return nil
}

func firstByte(b []byte) any {
	if len(b) == 0 {
		return "none"
	}
	return b[0]
}

func unmarshalBlockHeader(p []byte) BlockHeader {
	var h BlockHeader
	h.FirstRow = binary.BigEndian.Uint32(p)
	h.Rows = binary.BigEndian.Uint32(p[4:])
	h.Size = binary.BigEndian.Uint32(p[8:])
	p = p[12:]
	ts := [4]*int64{&h.MinStart, &h.MaxStart, &h.MinEnd, &h.MaxEnd}
	for _, t := range ts {
		*t = int64(binary.BigEndian.Uint64(p))
		p = p[8:]
	}
	as := [4]*netip.Addr{&h.MinSrc, &h.MaxSrc, &h.MinDst, &h.MaxDst}
	for _, a := range as {
		*a = flow.ReadAddr17(p)
		p = p[17:]
	}
	ps := [4]*uint16{&h.MinSrcPort, &h.MaxSrcPort, &h.MinDstPort, &h.MaxDstPort}
	for _, x := range ps {
		*x = binary.BigEndian.Uint16(p)
		p = p[2:]
	}
	h.MinProto, h.MaxProto = p[0], p[1]
	return h
}
