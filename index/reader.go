package index

import (
	"bytes"
	"container/heap"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
)

// Query says which rows a Scan reads: a time range, the indexed part of a
// filter and the columns to decode. The caller checks the full filter on
// each row it is handed.
type Query struct {
	// From and To bound a half-open range [From, To) in unix ns. By default
	// a row is in range when it overlaps it (Start < To and End >= From);
	// with Starting, when From <= Start < To.
	From, To int64
	Starting bool
	Match    *Match  // nil: every row
	Columns  Columns // 0: every column (ask for ColTime to read times)
	// Ordered delivers rows in non-decreasing Start order (a merge across
	// the segments of a partition); otherwise segment by segment.
	Ordered bool
	// Parallel decodes up to this many partitions at once, ahead of the
	// callback, which still sees the rows in the same order as a serial
	// scan (partition by partition).
	Parallel int
	// Filter, when set, is checked on each candidate row after decoding
	// only the time columns and FilterColumns; the other columns are then
	// decoded for the rows it accepts alone. It must be safe for
	// concurrent use when Parallel > 1.
	Filter        func(*flow.Record) bool
	FilterColumns Columns
	// MatchExact says that Filter accepts exactly the rows Match selects.
	// The postings answer some values by block (their coarse section), so
	// Filter is still checked in the segments where Match's candidates are
	// a superset, and skipped in the others.
	MatchExact bool
}

// Everything is the widest range.
func Everything() Query { return Query{From: math.MinInt64, To: math.MaxInt64} }

// ScanStats says what a scan read.
type ScanStats struct {
	Partitions     int    // partitions whose manifests were read
	Segments       int    // segments in range
	SegmentsPruned int    // segments skipped on their manifest's times
	Blocks         int    // blocks of the segments in range
	BlocksRead     int    // blocks decoded
	RowsDecoded    int64  // rows in decoded blocks
	RowsEmitted    int64  // rows handed to the callback
	SegmentsLate   int    // segments before the range counted from their manifests' late ends (Count)
	ManifestDigest string // SHA-256 over the manifests read (segment, source, rows)
}

// Scan hands every row in range whose indexed columns match q.Match to fn,
// until fn returns false. The record is reused after fn returns.
func (s *Store) Scan(q Query, fn func(*flow.Record) bool) (ScanStats, error) {
	var st ScanStats
	if q.Columns == 0 {
		q.Columns = AllColumns
	}
	if q.Ordered {
		q.Columns |= ColTime // the merge orders on start times
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	parts, digest, err := s.plan(txn, q, &st)
	if err == nil {
		if q.Parallel > 1 && len(parts) > 1 {
			err = s.scanParallel(q, parts, &st, fn)
		} else {
			for _, segs := range parts {
				var ok bool
				if ok, err = s.scanPartition(txn, q, segs, &st, fn); !ok || err != nil {
					break
				}
			}
		}
	}
	st.ManifestDigest = digest
	return st, err
}

// plan returns the segments in range of complete sources, partition by
// partition in time order, and the digest of their manifests.
func (s *Store) plan(txn *badger.Txn, q Query, st *ScanStats) ([][]*Manifest, string, error) {
	complete, err := s.completeSources(txn)
	if err != nil {
		return nil, "", err
	}
	digest := sha256.New()
	var parts [][]*Manifest
	// Manifests of incomplete sources, or whose times are out of range, are
	// skipped before they are decoded.
	skip := func(owner uint32, minStart, maxStart, maxEnd int64) bool {
		if !complete[owner] {
			return true
		}
		if !overlaps(q, minStart, maxStart, maxEnd) {
			st.SegmentsPruned++
			return true
		}
		return false
	}
	err = s.forPartitions(txn, q, st, skip, func(segs []*Manifest) (bool, error) {
		st.Partitions++
		var live []*Manifest
		for _, m := range segs {
			if !complete[m.Owner] {
				continue
			}
			if !overlaps(q, m.MinStart, m.MaxStart, m.MaxEnd) {
				st.SegmentsPruned++
				continue
			}
			var b [16]byte
			binary.BigEndian.PutUint64(b[:], m.Segment)
			binary.BigEndian.PutUint32(b[8:], m.Source)
			binary.BigEndian.PutUint32(b[12:], m.Rows)
			digest.Write(b[:])
			live = append(live, m)
		}
		st.Segments += len(live)
		if len(live) > 0 {
			parts = append(parts, live)
		}
		return true, nil
	})
	return parts, hex.EncodeToString(digest.Sum(nil)), err
}

// overlaps tells whether rows with these start/end bounds can be in range.
func overlaps(q Query, minStart, maxStart, maxEnd int64) bool {
	if minStart >= q.To {
		return false
	}
	if q.Starting {
		return maxStart >= q.From
	}
	return maxEnd >= q.From
}

// forPartitions calls fn with the manifests of each partition that can hold
// rows in range, in time order, until fn returns false.
//
// When skip is set, it sees each manifest's owner and times (read in place,
// at fixed offsets) first, and a manifest it returns true for is not
// decoded nor handed to fn.
func (s *Store) forPartitions(txn *badger.Txn, q Query, st *ScanStats, skip func(owner uint32, minStart, maxStart, maxEnd int64) bool, fn func([]*Manifest) (bool, error)) error {
	from := q.From
	if !q.Starting {
		// A flow that overlaps the range may have started up to the longest
		// duration before it.
		if from > math.MinInt64+s.meta.MaxDuration {
			from -= s.meta.MaxDuration
		} else {
			from = math.MinInt64
		}
	}
	lo := s.partitionOf(max(from, math.MinInt64+s.meta.PartitionWidth))
	// Values are read as needed: a one-hour query reads a few small manifests,
	// and prefetching goroutines cost more than they save there.
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsManifest}})
	defer it.Close()
	var cur []*Manifest
	curPart := int64(0)
	flush := func() (bool, error) {
		if len(cur) == 0 {
			return true, nil
		}
		ok, err := fn(cur)
		cur = nil
		return ok, err
	}
	for it.Seek(manifestPrefix(lo)); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != 17 {
			return fmt.Errorf("cannot read manifest key %x: %w", k, ErrCorrupt)
		}
		part := decodeTime(binary.BigEndian.Uint64(k[1:]))
		if part >= q.To {
			break
		}
		if part != curPart {
			if ok, err := flush(); !ok || err != nil {
				return err
			}
			curPart = part
		}
		var m *Manifest
		err := it.Item().Value(func(v []byte) (err error) {
			if skip != nil && len(v) >= manifestTimesEnd && (v[0] == manifestV1 || v[0] == manifestVersion) {
				owner := binary.BigEndian.Uint32(v[manifestOwnerAt:])
				t := v[manifestTimesAt:]
				if skip(owner, int64(binary.BigEndian.Uint64(t)), int64(binary.BigEndian.Uint64(t[8:])), int64(binary.BigEndian.Uint64(t[16:]))) {
					return nil
				}
			}
			m, err = UnmarshalManifest(v)
			return err
		})
		if err != nil {
			return err
		}
		if m != nil {
			cur = append(cur, m)
		}
	}
	_, err := flush()
	return err
}

func (s *Store) scanPartition(txn *badger.Txn, q Query, segs []*Manifest, st *ScanStats, fn func(*flow.Record) bool) (bool, error) {
	cursors := make([]*cursor, 0, len(segs))
	// Every cursor is released, also when fn stops the scan early: an
	// iterator left open would fail the transaction's Discard.
	defer func() {
		for _, c := range cursors {
			c.release()
		}
	}()
	for _, m := range segs {
		c, err := newCursor(txn, q, m, st)
		if err != nil {
			return false, err
		}
		if c != nil {
			cursors = append(cursors, c)
		}
	}
	if !q.Ordered || len(cursors) == 1 {
		for _, c := range cursors {
			for {
				r, err := c.next()
				if err != nil || r == nil {
					if err != nil {
						return false, err
					}
					break
				}
				st.RowsEmitted++
				if !fn(r) {
					return false, nil
				}
			}
		}
		return true, nil
	}
	return mergeCursors(cursors, st, fn)
}

// cursor walks the candidate rows of one segment.
type cursor struct {
	txn   *badger.Txn
	q     Query
	m     *Manifest
	st    *ScanStats
	cand  *roaring.Bitmap // nil: every row is a candidate
	block int
	rows  []flow.Record
	pos   int
	sel   []uint16      // candidate rows of the block
	keep  []uint16      // rows kept after the filter
	dec   *blockDecoder // from getDecoder at the first block; returned when the cursor ends
	head  *flow.Record
	// it walks the segment's block keys: one iterator per segment, moved
	// forward from block to block, costs less than a Get per block.
	it *badger.Iterator
}

func newCursor(txn *badger.Txn, q Query, m *Manifest, st *ScanStats) (*cursor, error) {
	st.Blocks += len(m.Blocks)
	c := &cursor{txn: txn, q: q, m: m, st: st, block: -1}
	exact := true
	if q.Match != nil && q.Match.Op != MatchAll {
		ev := &segEval{txn: txn, m: m}
		bm, all, ex, err := ev.evalExact(q.Match)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", m.Segment, err)
		}
		if !all {
			if bm.IsEmpty() {
				return nil, nil
			}
			c.cand = bm
		}
		exact = ex
	}
	if exact && q.MatchExact {
		// The candidates are the filter's rows: no row to check.
		c.q.Filter, c.q.FilterColumns = nil, 0
	}
	return c, nil
}

// next returns the next row in range that is a candidate, or nil at the end.
func (c *cursor) next() (*flow.Record, error) {
	for c.pos >= len(c.rows) {
		if !c.nextBlock() {
			c.release()
			return nil, nil
		}
		if err := c.load(); err != nil {
			return nil, err
		}
	}
	c.pos++
	return &c.rows[c.pos-1], nil
}

// decoders keeps a few block decoders (and their buffers) across cursors
// and scans. Unlike a sync.Pool it survives collections: a scan of many
// small segments would otherwise allocate a decoder, and its rows, per
// segment, and the garbage would bring the collections that empty the pool.
var decoders = make(chan *blockDecoder, 16)

func getDecoder() *blockDecoder {
	select {
	case d := <-decoders:
		return d
	default:
		return new(blockDecoder)
	}
}

// release returns the cursor's decoder and closes its iterator; a
// released cursor may be released again.
func (c *cursor) release() {
	if c.it != nil {
		c.it.Close()
		c.it = nil
	}
	if c.dec != nil {
		select {
		case decoders <- c.dec:
		default:
		}
		c.dec, c.rows = nil, nil
	}
}

// nextBlock moves to the next block that can hold a candidate in range.
func (c *cursor) nextBlock() bool {
	for c.block++; c.block < len(c.m.Blocks); c.block++ {
		h := &c.m.Blocks[c.block]
		if h.MinStart >= c.q.To {
			c.block = len(c.m.Blocks)
			return false
		}
		if !overlapsBlock(c.q, h) {
			continue
		}
		if c.cand != nil && !c.cand.IntersectsWithInterval(uint64(h.FirstRow), uint64(h.FirstRow)+uint64(h.Rows)) {
			continue
		}
		return true
	}
	return false
}

// insideRange reports whether every row of block h is in q's range (for
// overlap and start selection alike: every row starts inside it).
func insideRange(q *Query, h *BlockHeader) bool { return h.MinStart >= q.From && h.MaxStart < q.To }

func overlapsBlock(q Query, h *BlockHeader) bool {
	if q.Starting {
		return h.MaxStart >= q.From
	}
	return h.MaxEnd >= q.From
}

// load decodes the rows of the current block that are candidates, in
// range and accepted by the filter. Only candidate rows are decoded when
// the postings name some of the block's rows; with a filter, its columns
// are decoded first and the rest only for the rows it accepts.
func (c *cursor) load() error {
	h := &c.m.Blocks[c.block]
	key := blockKey(c.m.Segment, uint32(c.block))
	// Blocks are read in increasing order: the iterator steps forward,
	// over the keys of the blocks skipped.
	if c.it == nil {
		c.it = c.txn.NewIterator(badger.IteratorOptions{Prefix: segPrefix(nsBlock, c.m.Segment)})
		c.it.Seek(key)
	}
	for c.it.Valid() && bytes.Compare(c.it.Item().Key(), key) < 0 {
		c.it.Next()
	}
	if !c.it.Valid() || !bytes.Equal(c.it.Item().Key(), key) {
		return fmt.Errorf("cannot read block %d of segment %d: %w", c.block, c.m.Segment, badger.ErrKeyNotFound)
	}
	item := c.it.Item()
	// The value is decoded in place (Badger's memory, valid during the
	// call): nothing decoded keeps a reference to it.
	return item.Value(func(val []byte) error { return c.decodeBlock(h, val) })
}

// decodeBlock is load's work on the block's value.
func (c *cursor) decodeBlock(h *BlockHeader, val []byte) error {
	if c.dec == nil {
		c.dec = getDecoder()
	}
	d := c.dec
	if err := d.open(val); err != nil {
		return fmt.Errorf("segment %d block %d: %w", c.m.Segment, c.block, err)
	}
	if d.n != int(h.Rows) {
		return fmt.Errorf("segment %d block %d: got %d rows, manifest says %d: %w", c.m.Segment, c.block, d.n, h.Rows, ErrCorrupt)
	}
	var sel []uint16 // nil: every row
	if c.cand != nil {
		sel = c.candidates(h)
	}
	// A block wholly inside the range needs no time check: its time
	// columns are decoded only when asked for.
	inside := insideRange(&c.q, h)
	first := c.q.Columns
	if c.q.Filter != nil {
		first = c.q.FilterColumns
	}
	if !inside {
		first |= ColTime
	}
	need := d.n
	if sel != nil {
		need = len(sel)
	}
	rows := d.resetRows(need, first|c.q.Columns)
	if err := d.fill(first, sel); err != nil {
		return fmt.Errorf("segment %d block %d: %w", c.m.Segment, c.block, err)
	}
	c.st.BlocksRead++
	c.st.RowsDecoded += int64(len(rows))
	// Keep the rows in range that the filter accepts, moving them to the
	// front; keep names their block rows for the second pass.
	rest := c.q.Columns &^ first
	keep := c.keep[:0]
	k := 0
	for j := range rows {
		r := &rows[j]
		if !inside && !inRange(&c.q, r) {
			continue
		}
		if c.q.Filter != nil && !c.q.Filter(r) {
			continue
		}
		if k != j {
			rows[k] = *r
		}
		k++
		if rest == 0 {
			continue
		}
		if sel != nil {
			keep = append(keep, sel[j])
		} else {
			keep = append(keep, uint16(j))
		}
	}
	c.keep = keep
	rows = rows[:k]
	if rest != 0 && k > 0 {
		if k == d.n {
			keep = nil // every row: the sequential decoders
		}
		if err := d.fill(rest, keep); err != nil {
			return fmt.Errorf("segment %d block %d: %w", c.m.Segment, c.block, err)
		}
	}
	c.rows, c.pos = rows, 0
	return nil
}

// inRange tells whether r is in the query's time range.
func inRange(q *Query, r *flow.Record) bool {
	if q.Starting {
		return q.From <= r.Start && r.Start < q.To
	}
	return r.Start < q.To && r.End >= q.From
}

// candidates returns the block rows of h that the postings selected, or
// nil when they are all of its rows.
func (c *cursor) candidates(h *BlockHeader) []uint16 {
	sel := c.sel[:0]
	it := c.cand.Iterator()
	it.AdvanceIfNeeded(h.FirstRow)
	end := h.FirstRow + h.Rows
	for it.HasNext() {
		r := it.Next()
		if r >= end {
			break
		}
		sel = append(sel, uint16(r-h.FirstRow))
	}
	c.sel = sel
	if len(sel) == int(h.Rows) {
		return nil
	}
	return sel
}

// countCandidates returns the number of candidate rows in block h.
func (c *cursor) countCandidates(h *BlockHeader) uint64 {
	lo, hi := h.FirstRow, h.FirstRow+h.Rows
	n := c.cand.Rank(hi - 1)
	if lo > 0 {
		n -= c.cand.Rank(lo - 1)
	}
	return n
}

// cursorHeap orders cursors by their head row's start, then segment id.
type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	a, b := h[i].head, h[j].head
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	return h[i].m.Segment < h[j].m.Segment
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func mergeCursors(cursors []*cursor, st *ScanStats, fn func(*flow.Record) bool) (bool, error) {
	h := make(cursorHeap, 0, len(cursors))
	for _, c := range cursors {
		r, err := c.next()
		if err != nil {
			return false, err
		}
		if r != nil {
			c.head = r
			h = append(h, c)
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		c := h[0]
		st.RowsEmitted++
		if !fn(c.head) {
			return false, nil
		}
		r, err := c.next()
		if err != nil {
			return false, err
		}
		if r == nil {
			heap.Pop(&h)
			continue
		}
		c.head = r
		heap.Fix(&h, 0)
	}
	return true, nil
}

// Count returns how many rows Scan would hand over for q. Blocks wholly
// inside the range whose rows are all candidates, with no filter, are
// counted from their headers without being read, and segments wholly
// before it from their manifests' late ends: counting an hour of a busy
// store reads at most the block at its end.
func (s *Store) Count(q Query) (int64, ScanStats, error) {
	var st ScanStats
	q.Columns = ColTime | q.FilterColumns
	q.Ordered = false
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	parts, digest, err := s.plan(txn, q, &st)
	st.ManifestDigest = digest
	if err != nil {
		return 0, st, err
	}
	var n int64
	for _, segs := range parts {
		for _, m := range segs {
			// A segment wholly before the range (the partition before an
			// hour) is counted from its manifest's late ends.
			if q.Match == nil && q.Filter == nil && !q.Starting {
				if late, ok := m.CountLate(q.From); ok {
					st.Blocks += len(m.Blocks)
					st.SegmentsLate++
					n += int64(late)
					continue
				}
			}
			c, err := newCursor(txn, q, m, &st)
			if err != nil {
				return n, st, err
			}
			if c == nil {
				continue
			}
			for c.nextBlock() {
				h := &c.m.Blocks[c.block]
				// A block wholly in the range, with no row check left, is
				// counted from its header or its candidates.
				if c.q.Filter == nil && insideRange(&q, h) {
					if c.cand == nil {
						n += int64(h.Rows)
					} else {
						n += int64(c.countCandidates(h))
					}
					continue
				}
				if err := c.load(); err != nil {
					c.release()
					return n, st, err
				}
				n += int64(len(c.rows))
			}
			c.release()
		}
	}
	st.RowsEmitted = n
	return n, st, nil
}
