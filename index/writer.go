package index

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
)

// Writer limits. A segment holds at most MaxSegmentRows rows; the writer
// keeps at most MaxBufferedRows rows in memory across partitions before it
// flushes the fullest partition, so memory stays bounded whatever the
// input's size or time order.
const (
	MaxSegmentRows  = 1 << 18
	MaxBufferedRows = 1 << 18
)

// SourceInfo registers an evidence file.
type SourceInfo struct {
	SHA256 [32]byte
	// Key indexes the source for SourceByHash: SHA256 when zero. A file read
	// another way than by its format (a traffic capture metered into flows)
	// is registered under a key derived from its hash, so that each way
	// reads the same bytes once.
	Key     [32]byte
	Path    string
	Size    int64
	Format  string
	Version string
}

// SourceResult is what a finished ingest records with its source. The
// auxiliary writes and deletes and the flow counts added to earlier
// sources happen in the transaction that marks the source complete, so
// they take effect exactly when its rows become visible.
type SourceResult struct {
	Rejected    map[string]int64
	AssumedTime int64
	Extra       []byte // JSON, kept verbatim
	Aux         map[string][]byte
	AuxDelete   [][]byte
	AddFlows    map[uint32]int64 // rows added to earlier sources (AddFor)
	// ContentKey, when set, also indexes the source for SourceByHash: the
	// SHA-256 of a compressed file's content, which is the hash of the
	// same evidence uncompressed (or compressed another way).
	ContentKey [32]byte
}

// Writer ingests the rows of one source. Segments are encoded and written
// by a background goroutine while the caller decodes the next rows.
type Writer struct {
	s        *Store
	src      Source
	parts    map[bufKey]*partBuf
	buffered int

	res SourceResult
	// mixed keeps each row's own source id and lets a segment hold rows
	// of several sources (compaction).
	mixed    bool
	jobs     chan flushJob
	wg       sync.WaitGroup
	mu       sync.Mutex
	flushErr error
	stopped  bool
	err      error

	flows                         int64            // rows added, of every source
	late                          map[uint32]int64 // rows added for earlier sources
	segments                      int
	minStart, maxEnd, maxDuration int64
}

// bufKey names a segment-to-be: rows of one source in one partition.
type bufKey struct {
	source    uint32
	partition int64
}

type flushJob struct {
	key   bufKey
	rows  *partBuf
	final *Source // set on the last job: its manifest txn marks the source complete
}

// chunkRows is the size of the chunks rows are buffered in: a partition's
// buffer grows by chunks, never by copying what it holds. Its first chunks
// are smaller (firstChunkRows, doubling up to chunkRows), so that evidence
// out of time order, which leaves a few rows in each of thousands of
// partitions before the buffers are flushed, does not take a full chunk
// (135 KB) for each: a million flows at random times over a year held
// 8,761 partitions' chunks, 1.2 GB.
const (
	chunkRows      = 512
	firstChunkRows = 8
)

type chunk [chunkRows]flow.Record

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

// partBuf holds the buffered rows of one partition: chunks of 8, 16, ...
// rows up to chunkRows, then chunks of chunkRows from chunkPool.
type partBuf struct {
	chunks [][]flow.Record
	n      int
}

func (b *partBuf) add(r *flow.Record) *flow.Record {
	k := len(b.chunks) - 1
	if k < 0 || len(b.chunks[k]) == cap(b.chunks[k]) {
		size := firstChunkRows
		if k >= 0 {
			size = min(2*cap(b.chunks[k]), chunkRows)
		}
		if size == chunkRows {
			b.chunks = append(b.chunks, chunkPool.Get().(*chunk)[:0])
		} else {
			b.chunks = append(b.chunks, make([]flow.Record, 0, size))
		}
		k++
	}
	b.chunks[k] = append(b.chunks[k], *r)
	b.n++
	return &b.chunks[k][len(b.chunks[k])-1]
}

// sorted returns pointers to the rows in start order (stable).
func (b *partBuf) sorted() []*flow.Record {
	out := make([]*flow.Record, 0, b.n)
	for _, c := range b.chunks {
		for i := range c {
			out = append(out, &c[i])
		}
	}
	if !slices.IsSortedFunc(out, cmpStart) {
		slices.SortStableFunc(out, cmpStart)
	}
	return out
}

func cmpStart(a, b *flow.Record) int { return cmp.Compare(a.Start, b.Start) }

func (b *partBuf) release() {
	for _, c := range b.chunks {
		if cap(c) == chunkRows {
			chunkPool.Put((*chunk)(c[:chunkRows]))
		}
	}
	b.chunks = nil
}

// BeginSource registers a source as pending and returns its writer. The
// caller checks SourceByHash first: the same bytes are never ingested twice.
func (s *Store) BeginSource(info SourceInfo) (*Writer, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	w := &Writer{
		s:        s,
		parts:    map[bufKey]*partBuf{},
		jobs:     make(chan flushJob, flushers()),
		minStart: 1<<63 - 1,
		maxEnd:   -1 << 63,
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		id, err := nextID(txn, metaNextSource)
		if err != nil {
			return err
		}
		w.src = Source{
			ID: uint32(id), SHA256: HashHex(info.SHA256), Path: info.Path, Size: info.Size,
			Format: info.Format, IngestedAt: s.now().UTC(), Version: info.Version, Status: StatusPending,
		}
		if err := putSource(txn, &w.src); err != nil {
			return err
		}
		key := info.Key
		if key == ([32]byte{}) {
			key = info.SHA256
		}
		return txn.Set(sourceByKey(key), binary.BigEndian.AppendUint32(nil, w.src.ID))
	})
	if err != nil {
		return nil, fmt.Errorf("cannot register source %s: %w", info.Path, err)
	}
	for range flushers() {
		w.wg.Add(1)
		go w.flusher()
	}
	return w, nil
}

// SourceID is the id every row of this source carries.
func (w *Writer) SourceID() uint32 { return w.src.ID }

// Add buffers one record (copied; SourceID is set to the writer's).
func (w *Writer) Add(r *flow.Record) error { return w.AddFor(r, w.src.ID) }

// AddFor buffers a record that belongs to another, earlier source (NetFlow
// data decoded late): it goes into segments of that source which become
// visible when this writer's source completes.
func (w *Writer) AddFor(r *flow.Record, source uint32) error {
	if w.err != nil {
		return w.err
	}
	k := bufKey{source: source, partition: w.s.partitionOf(r.Start)}
	if w.mixed {
		k.source = 0
	}
	buf, ok := w.parts[k]
	if !ok {
		buf = &partBuf{}
		w.parts[k] = buf
	}
	if row := buf.add(r); !w.mixed {
		row.SourceID = source
	}
	w.buffered++
	w.flows++
	if source != w.src.ID && !w.mixed {
		if w.late == nil {
			w.late = map[uint32]int64{}
		}
		w.late[source]++
	}
	w.minStart = min(w.minStart, r.Start)
	w.maxEnd = max(w.maxEnd, r.End)
	w.maxDuration = max(w.maxDuration, r.End-r.Start)
	switch {
	case buf.n >= w.s.segRows:
		return w.flushPartition(k, nil)
	case w.buffered >= MaxBufferedRows:
		return w.flushOthers(k)
	}
	return nil
}

// flushOthers makes room when the buffers are full: it flushes every
// partition but cur, the one being written, in key order; cur alone when
// it is the only one. With evidence in time order, the partitions left
// behind are finished hours whose tails would otherwise stay buffered,
// hour after hour, and shrink the room of the current one: a 600k-flow
// hour was being written as seven segments of 85k rows instead of two
// full ones and a tail.
func (w *Writer) flushOthers(cur bufKey) error {
	keys := make([]bufKey, 0, len(w.parts))
	for k := range w.parts {
		if k != cur {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return w.flushPartition(cur, nil)
	}
	slices.SortFunc(keys, func(a, b bufKey) int {
		if keyLess(a, b) {
			return -1
		}
		if keyLess(b, a) {
			return 1
		}
		return 0
	})
	for _, k := range keys {
		if err := w.flushPartition(k, nil); err != nil {
			return err
		}
	}
	return nil
}

func keyLess(a, b bufKey) bool {
	if a.partition != b.partition {
		return a.partition < b.partition
	}
	return a.source < b.source
}

func (w *Writer) flushPartition(k bufKey, final *Source) error {
	buf := w.parts[k]
	delete(w.parts, k)
	w.buffered -= buf.n
	if err := w.failed(); err != nil {
		w.err = err
		return err
	}
	w.jobs <- flushJob{key: k, rows: buf, final: final}
	w.segments++
	return nil
}

// Commit writes what is buffered and marks the source complete, in the
// transaction that writes its last manifest. It returns the source as
// recorded.
func (w *Writer) Commit(res SourceResult) (*Source, error) {
	if w.err != nil {
		return nil, w.err
	}
	final := w.src
	final.Status = StatusComplete
	final.Flows = w.flows
	for id, n := range w.late {
		final.Flows -= n
		if res.AddFlows == nil {
			res.AddFlows = map[uint32]int64{}
		}
		res.AddFlows[id] += n
	}
	final.Rejected = res.Rejected
	final.AssumedTime = res.AssumedTime
	final.Extra = res.Extra
	keys := make([]bufKey, 0, len(w.parts))
	for k := range w.parts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b bufKey) int {
		if keyLess(a, b) {
			return -1
		}
		return 1
	})
	w.res = res
	// Every segment but the last goes to the flushers; the last is written
	// here, after all others, in the transaction that completes the source.
	var last *flushJob
	for i, k := range keys {
		if i == len(keys)-1 {
			buf := w.parts[k]
			delete(w.parts, k)
			last = &flushJob{key: k, rows: buf, final: &final}
			break
		}
		if err := w.flushPartition(k, nil); err != nil {
			return nil, err
		}
	}
	if err := w.stop(); err != nil {
		w.err = err
		return nil, err
	}
	final.Segments = w.segments
	if last != nil {
		final.Segments++
		crashPoint(CrashBeforeLast)
		err := newSegmentWriter(w.s).write(w, *last)
		last.rows.release()
		w.s.forgetSources()
		if err != nil {
			w.err = err
			return nil, err
		}
		return &final, nil
	}
	crashPoint(CrashBeforeComplete)
	err := w.s.db.Update(func(txn *badger.Txn) error { return w.complete(txn, &final) })
	w.s.forgetSources()
	if err != nil {
		return nil, err
	}
	return &final, nil
}

// Abort stops the writer and removes what it wrote (the source with it).
func (w *Writer) Abort() error {
	w.stop()
	_, err := w.s.cleanup()
	return err
}

// flushers is how many segments are encoded at once: one per core.
func flushers() int { return max(1, min(runtime.GOMAXPROCS(0), 8)) }

func (w *Writer) complete(txn *badger.Txn, src *Source) error {
	w.s.forgetSources()
	if err := putSource(txn, src); err != nil {
		return err
	}
	if k := w.res.ContentKey; k != ([32]byte{}) {
		if err := txn.Set(sourceByKey(k), binary.BigEndian.AppendUint32(nil, src.ID)); err != nil {
			return err
		}
	}
	if err := w.applyResult(txn); err != nil {
		return err
	}
	if w.flows == 0 {
		return nil
	}
	m := &w.s.meta
	if m.MaxEnd == 0 && m.MinStart == 0 {
		m.MinStart, m.MaxEnd = w.minStart, w.maxEnd
	}
	m.MinStart = min(m.MinStart, w.minStart)
	m.MaxEnd = max(m.MaxEnd, w.maxEnd)
	m.MaxDuration = max(m.MaxDuration, w.maxDuration)
	return putBounds(txn, m)
}

// flusher encodes and writes segments until the job channel closes. Several
// run at once, one per core; the first error stops the writer.
func (w *Writer) flusher() {
	defer w.wg.Done()
	sw := newSegmentWriter(w.s)
	for job := range w.jobs {
		if w.failed() == nil {
			if err := sw.write(w, job); err != nil {
				w.fail(err)
			}
		}
		job.rows.release()
	}
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.flushErr == nil {
		w.flushErr = err
	}
	w.mu.Unlock()
}

func (w *Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushErr
}

// stop closes the job channel and waits for the flushers.
func (w *Writer) stop() error {
	if !w.stopped {
		w.stopped = true
		close(w.jobs)
		w.wg.Wait()
	}
	return w.failed()
}

// segmentWriter encodes and writes segments, reusing its buffers.
type segmentWriter struct {
	s     *Store
	enc   *blockEncoder
	pb    [numFields]*postingsBuilder
	block []byte
	order []int32
}

func newSegmentWriter(s *Store) *segmentWriter {
	sw := &segmentWriter{s: s, enc: newBlockEncoder()}
	widths := [numFields]int{FieldSrcAddr: 0, FieldDstAddr: 0, FieldSrcPort: 2, FieldDstPort: 2, FieldProto: 1}
	for f := FieldSrcAddr; f <= FieldProto; f++ {
		sw.pb[f] = newPostingsBuilder(widths[f])
	}
	return sw
}

func (sw *segmentWriter) write(w *Writer, job flushJob) error {
	if err := roomToWrite(sw.s.dir); err != nil {
		return err
	}
	rows := job.rows.sorted()
	seg, err := sw.allocate(job.key.partition, w.src.ID)
	if err != nil {
		return err
	}
	m := &Manifest{Segment: seg, Partition: job.key.partition, Source: job.key.source, Owner: w.src.ID, Rows: uint32(len(rows)),
		MinStart: rows[0].Start, MaxStart: rows[len(rows)-1].Start, MaxEnd: rows[0].End}
	wb := sw.s.db.NewWriteBatch()
	defer wb.Cancel()
	for i := 0; i < len(rows); i += BlockRows {
		if i > 0 {
			crashPoint(CrashBetweenBlocks)
		}
		blk := rows[i:min(i+BlockRows, len(rows))]
		sw.block = sw.enc.encode(sw.block[:0], blk)
		h := blockHeaderOf(blk, uint32(i), uint32(len(sw.block)))
		m.Blocks = append(m.Blocks, h)
		m.MaxEnd = max(m.MaxEnd, h.MaxEnd)
		m.DataBytes += uint64(len(sw.block))
		if err := wb.Set(blockKey(seg, uint32(len(m.Blocks)-1)), slices.Clone(sw.block)); err != nil {
			return fmt.Errorf("cannot write block: %w", err)
		}
	}
	m.setLateEnds(rows)
	if err := sw.writePostings(wb, m, rows); err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("cannot write segment %d: %w", seg, err)
	}
	crashPoint(CrashBeforeManifest)
	return sw.s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(manifestKey(job.key.partition, seg), m.Marshal(nil)); err != nil {
			return err
		}
		if job.final == nil {
			return nil
		}
		crashPoint(CrashBeforeComplete)
		return w.complete(txn, job.final)
	})
}

// allocate takes a segment id from the persisted counter and writes the
// segment's locator, before any of its blocks, so a killed ingest leaves
// nothing that the next read-write open cannot find and remove.
func (sw *segmentWriter) allocate(partition int64, owner uint32) (uint64, error) {
	var seg uint64
	sw.s.idMu.Lock() // flushers run at once; the counter's transactions must not conflict
	defer sw.s.idMu.Unlock()
	err := sw.s.db.Update(func(txn *badger.Txn) error {
		var err error
		if seg, err = nextID(txn, metaNextSegment); err != nil {
			return err
		}
		loc := binary.BigEndian.AppendUint64(nil, encodeTime(partition))
		loc = binary.BigEndian.AppendUint32(loc, owner)
		return txn.Set(segmentKey(seg), loc)
	})
	if err != nil {
		return 0, fmt.Errorf("cannot allocate segment: %w", err)
	}
	return seg, nil
}

func (sw *segmentWriter) writePostings(wb *badger.WriteBatch, m *Manifest, rows []*flow.Record) error {
	for f := FieldSrcAddr; f <= FieldProto; f++ {
		sw.pb[f].reset()
	}
	sw.addPostings(rows)
	for f := FieldSrcAddr; f <= FieldProto; f++ {
		v := sw.pb[f].build()
		m.Postings[f] = uint32(len(v))
		if err := wb.Set(postingsKey(m.Segment, f), v); err != nil {
			return fmt.Errorf("cannot write postings: %w", err)
		}
	}
	return nil
}

// addPostings adds the indexed fields of the segment's rows to the
// postings builders.
func (sw *segmentWriter) addPostings(rows []*flow.Record) {
	for i := range rows {
		r := rows[i]
		row := uint32(i)
		// An absent address has no entry: no address range holds it.
		if r.SrcAddr.IsValid() {
			sw.pb[FieldSrcAddr].addAddr(r.SrcAddr, row)
		}
		if r.DstAddr.IsValid() {
			sw.pb[FieldDstAddr].addAddr(r.DstAddr, row)
		}
		sw.pb[FieldSrcPort].addNum(uint32(r.SrcPort), row)
		sw.pb[FieldDstPort].addNum(uint32(r.DstPort), row)
		sw.pb[FieldProto].addNum(uint32(r.Proto), row)
	}
}

func blockHeaderOf(rows []*flow.Record, first, size uint32) BlockHeader {
	h := BlockHeader{FirstRow: first, Rows: uint32(len(rows)), Size: size,
		MinStart: rows[0].Start, MaxStart: rows[len(rows)-1].Start,
		MinEnd: rows[0].End, MaxEnd: rows[0].End,
		MinSrc: rows[0].SrcAddr, MaxSrc: rows[0].SrcAddr, MinDst: rows[0].DstAddr, MaxDst: rows[0].DstAddr,
		MinSrcPort: rows[0].SrcPort, MaxSrcPort: rows[0].SrcPort, MinDstPort: rows[0].DstPort, MaxDstPort: rows[0].DstPort,
		MinProto: rows[0].Proto, MaxProto: rows[0].Proto}
	for _, r := range rows {
		h.MinEnd, h.MaxEnd = min(h.MinEnd, r.End), max(h.MaxEnd, r.End)
		h.MinSrc, h.MaxSrc = minAddr(h.MinSrc, r.SrcAddr), maxAddr(h.MaxSrc, r.SrcAddr)
		h.MinDst, h.MaxDst = minAddr(h.MinDst, r.DstAddr), maxAddr(h.MaxDst, r.DstAddr)
		h.MinSrcPort, h.MaxSrcPort = min(h.MinSrcPort, r.SrcPort), max(h.MaxSrcPort, r.SrcPort)
		h.MinDstPort, h.MaxDstPort = min(h.MinDstPort, r.DstPort), max(h.MaxDstPort, r.DstPort)
		h.MinProto, h.MaxProto = min(h.MinProto, r.Proto), max(h.MaxProto, r.Proto)
	}
	return h
}

func minAddr(a, b netip.Addr) netip.Addr {
	if b.Compare(a) < 0 {
		return b
	}
	return a
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if b.Compare(a) > 0 {
		return b
	}
	return a
}

func (w *Writer) applyResult(txn *badger.Txn) error {
	for k, v := range w.res.Aux {
		if err := txn.Set([]byte(k), v); err != nil {
			return err
		}
	}
	for _, k := range w.res.AuxDelete {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	for id, n := range w.res.AddFlows {
		src, err := getSource(txn, id)
		if err != nil || src == nil {
			return fmt.Errorf("cannot add flows to source %d: %v", id, err)
		}
		src.Flows += n
		if err := putSource(txn, src); err != nil {
			return err
		}
	}
	return nil
}
