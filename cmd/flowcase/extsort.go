package main

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"

	"github.com/flowcase/flowcase/internal/flow"
)

// recordSorter sorts every flow of a scan by compareSorted (then by scan
// order), in bounded memory: runs of runLen records are
// sorted in memory and spilled to a temporary file, and the runs are merged
// at the end. `query flows --sort bytes --limit 0` over a case of hundreds
// of millions of flows holds runLen records (and a buffer per run), not
// the case.
type recordSorter struct {
	key    func(*flow.Record) uint64
	runLen int
	dir    string // temporary files' directory ("": the system's)
	buf    []flow.Record
	spill  *os.File // the runs, one after the other
	runs   []sortRun
	enc    []byte
}

// sortRun is a run's place in the spill file.
type sortRun struct {
	off int64
	n   int
}

// sortRunLen is how many records a run holds in memory (about 70 MB).
const sortRunLen = 256 << 10

func newRecordSorter(key func(*flow.Record) uint64, dir string) *recordSorter {
	return &recordSorter{key: key, runLen: sortRunLen, dir: dir}
}

// add takes a record (copied), in scan order.
func (s *recordSorter) add(r *flow.Record) error {
	s.buf = append(s.buf, *r)
	if len(s.buf) < s.runLen {
		return nil
	}
	return s.flush()
}

// order sorts a run by compareSorted; the stable sort keeps scan order
// among records that are equal in every field it compares.
func (s *recordSorter) order(rows []flow.Record) {
	slices.SortStableFunc(rows, func(a, b flow.Record) int { return compareSorted(s.key, &a, &b) })
}

// flush sorts the buffered records and writes them as a run.
func (s *recordSorter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	if s.spill == nil {
		f, err := os.CreateTemp(s.dir, "flowcase-sort-*")
		if err != nil {
			return fmt.Errorf("cannot sort: %w", err)
		}
		os.Remove(f.Name()) // unlinked: gone when closed, even if the process dies
		s.spill = f
	}
	off, err := s.spill.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("cannot sort: %w", err)
	}
	s.order(s.buf)
	w := bufio.NewWriterSize(s.spill, 1<<20)
	for i := range s.buf {
		s.enc = appendSortRecord(s.enc[:0], &s.buf[i])
		if _, err := w.Write(s.enc); err != nil {
			return fmt.Errorf("cannot sort (spill to %s): %w", s.spill.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cannot sort (spill to %s): %w", s.spill.Name(), err)
	}
	s.runs = append(s.runs, sortRun{off, len(s.buf)})
	s.buf = s.buf[:0]
	return nil
}

// each calls f with every record in order, then releases the spill file.
func (s *recordSorter) each(f func(*flow.Record)) error {
	if s.spill == nil { // one run, never spilled
		s.order(s.buf)
		for i := range s.buf {
			f(&s.buf[i])
		}
		return nil
	}
	defer s.spill.Close()
	if err := s.flush(); err != nil {
		return err
	}
	s.buf = nil
	m := &runMerge{key: s.key}
	for i, r := range s.runs {
		rd := bufio.NewReaderSize(io.NewSectionReader(s.spill, r.off, int64(r.n)*sortRecordLen), 64<<10)
		h := &runHead{run: i, left: r.n, rd: rd}
		if ok, err := h.next(); err != nil {
			return err
		} else if ok {
			m.heads = append(m.heads, h)
		}
	}
	heap.Init(m)
	for len(m.heads) > 0 {
		h := m.heads[0]
		f(&h.rec)
		ok, err := h.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
	}
	return nil
}

// runHead is the next record of a run being merged.
type runHead struct {
	run  int
	left int
	rd   *bufio.Reader
	rec  flow.Record
	b    [sortRecordLen]byte
}

func (h *runHead) next() (bool, error) {
	if h.left == 0 {
		return false, nil
	}
	if _, err := io.ReadFull(h.rd, h.b[:]); err != nil {
		return false, fmt.Errorf("cannot sort (read back a run): %w", err)
	}
	readSortRecord(h.b[:], &h.rec)
	h.left--
	return true, nil
}

// runMerge is a heap of run heads: the first is the next record out. Among
// equal records the earlier run comes first, so the merge keeps scan order
// as each run's stable sort did.
type runMerge struct {
	key   func(*flow.Record) uint64
	heads []*runHead
}

func (m *runMerge) Len() int { return len(m.heads) }
func (m *runMerge) Less(i, j int) bool {
	a, b := m.heads[i], m.heads[j]
	return cmp.Or(compareSorted(m.key, &a.rec, &b.rec), cmp.Compare(a.run, b.run)) < 0
}
func (m *runMerge) Swap(i, j int) { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *runMerge) Push(x any)    { m.heads = append(m.heads, x.(*runHead)) }
func (m *runMerge) Pop() any {
	h := m.heads[len(m.heads)-1]
	m.heads = m.heads[:len(m.heads)-1]
	return h
}

// sortRecordLen is the size of a record in a spill file: every field of
// flow.Record, fixed width (TestSortRecordRoundTrip sets each).
const sortRecordLen = 8*2 + flow.Addr17Len*6 + 2*2 + 1 + 1 + 8*6 + 1 + 1 + 4*4 + 2 + 1 + 2*2 + 4*3

func appendSortRecord(b []byte, r *flow.Record) []byte {
	be := binary.BigEndian
	b = be.AppendUint64(b, uint64(r.Start))
	b = be.AppendUint64(b, uint64(r.End))
	for _, a := range [...]*netip.Addr{&r.SrcAddr, &r.DstAddr, &r.NextHop, &r.NATSrcAddr, &r.NATDstAddr, &r.Exporter} {
		b = flow.AppendAddr17(b, *a)
	}
	b = be.AppendUint16(b, r.SrcPort)
	b = be.AppendUint16(b, r.DstPort)
	b = append(b, r.Proto, r.TCPFlags)
	for _, v := range [...]uint64{r.Bytes, r.Packets, r.RevBytes, r.RevPackets, r.PostBytes, r.PostPackets} {
		b = be.AppendUint64(b, v)
	}
	b = append(b, r.ICMPType, r.ICMPCode)
	for _, v := range [...]uint32{r.InIf, r.OutIf, r.SrcAS, r.DstAS} {
		b = be.AppendUint32(b, v)
	}
	b = be.AppendUint16(b, r.VLAN)
	b = append(b, byte(r.Dir))
	b = be.AppendUint16(b, r.NATSrcPort)
	b = be.AppendUint16(b, r.NATDstPort)
	for _, v := range [...]uint32{r.ObsDomain, r.SamplingInterval, r.SourceID} {
		b = be.AppendUint32(b, v)
	}
	return b
}

func readSortRecord(b []byte, r *flow.Record) {
	be := binary.BigEndian
	r.Start, r.End = int64(be.Uint64(b)), int64(be.Uint64(b[8:]))
	b = b[16:]
	for _, a := range [...]*netip.Addr{&r.SrcAddr, &r.DstAddr, &r.NextHop, &r.NATSrcAddr, &r.NATDstAddr, &r.Exporter} {
		*a = flow.ReadAddr17(b)
		b = b[flow.Addr17Len:]
	}
	r.SrcPort, r.DstPort = be.Uint16(b), be.Uint16(b[2:])
	r.Proto, r.TCPFlags = b[4], b[5]
	b = b[6:]
	for _, v := range [...]*uint64{&r.Bytes, &r.Packets, &r.RevBytes, &r.RevPackets, &r.PostBytes, &r.PostPackets} {
		*v = be.Uint64(b)
		b = b[8:]
	}
	r.ICMPType, r.ICMPCode = b[0], b[1]
	b = b[2:]
	for _, v := range [...]*uint32{&r.InIf, &r.OutIf, &r.SrcAS, &r.DstAS} {
		*v = be.Uint32(b)
		b = b[4:]
	}
	r.VLAN, r.Dir = be.Uint16(b), flow.Direction(b[2])
	r.NATSrcPort, r.NATDstPort = be.Uint16(b[3:]), be.Uint16(b[5:])
	b = b[7:]
	for _, v := range [...]*uint32{&r.ObsDomain, &r.SamplingInterval, &r.SourceID} {
		*v = be.Uint32(b)
		b = b[4:]
	}
}
