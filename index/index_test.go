package index

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano()

func randAddr(rng *rand.Rand) netip.Addr {
	if rng.IntN(4) == 0 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(40))})
	}
	return netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(3)), byte(rng.IntN(60))})
}

// randRecord makes a record with every field set, over a week.
// randRecords returns n records of randRecord.
func randRecords(rng *rand.Rand, n int) []flow.Record {
	recs := make([]flow.Record, n)
	for i := range recs {
		recs[i] = randRecord(rng)
	}
	return recs
}

func randRecord(rng *rand.Rand) flow.Record {
	start := t0 + rng.Int64N(int64(7*24*time.Hour))
	r := flow.Record{
		Start: start, End: start + rng.Int64N(int64(10*time.Minute)),
		SrcAddr: randAddr(rng), DstAddr: randAddr(rng),
		SrcPort: uint16(rng.IntN(70000)), DstPort: []uint16{22, 53, 80, 443, 8080, uint16(rng.IntN(65536))}[rng.IntN(6)],
		Proto: []uint8{6, 17, 1}[rng.IntN(3)], TCPFlags: uint8(rng.IntN(256)),
		Bytes: rng.Uint64N(1 << 40), Packets: rng.Uint64N(1000), RevBytes: rng.Uint64N(1 << 20), RevPackets: rng.Uint64N(100),
		PostBytes: rng.Uint64N(5), PostPackets: rng.Uint64N(3), ICMPType: uint8(rng.IntN(3)), ICMPCode: uint8(rng.IntN(2)),
		InIf: rng.Uint32N(10), OutIf: rng.Uint32(), SrcAS: rng.Uint32N(65000), DstAS: rng.Uint32(),
		NextHop: randAddr(rng), VLAN: uint16(rng.IntN(4095)), Dir: flow.Direction(rng.IntN(3)),
		NATSrcAddr: randAddr(rng), NATSrcPort: uint16(rng.IntN(65536)), NATDstPort: uint16(rng.IntN(2)),
		Exporter: randAddr(rng), ObsDomain: rng.Uint32N(4), SamplingInterval: 1 + rng.Uint32N(2),
	}
	if rng.IntN(50) == 0 {
		r.End = r.Start + int64(3*24*time.Hour) // a very long flow
	}
	return r
}

func openTemp(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ingest(t testing.TB, s *Store, name string, recs []flow.Record) *Source {
	t.Helper()
	w, err := s.BeginSource(SourceInfo{SHA256: sha256.Sum256([]byte(name)), Path: name, Format: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Add(&recs[i]); err != nil {
			t.Fatal(err)
		}
		recs[i].SourceID = w.SourceID()
	}
	src, err := w.Commit(SourceResult{Rejected: map[string]int64{"bad": 2}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func collect(t testing.TB, s *Store, q Query) []flow.Record {
	t.Helper()
	var out []flow.Record
	if _, err := s.Scan(q, func(r *flow.Record) bool { out = append(out, *r); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func cmpRecord(a, b flow.Record) int {
	if c := a.Start - b.Start; c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	return slices.Compare([]string{fmt.Sprint(a)}, []string{fmt.Sprint(b)})
}

func sortRecords(r []flow.Record) { slices.SortFunc(r, cmpRecord) }

func TestRoundTripEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := randRecords(rng, 20000)
	dir := t.TempDir()
	s := openTemp(t, dir)
	src := ingest(t, s, "a", recs)
	if src.Flows != int64(len(recs)) || src.Status != StatusComplete {
		t.Fatalf("source: got flows %d status %s, want %d complete", src.Flows, src.Status, len(recs))
	}
	s.Close()
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := collect(t, s, Everything())
	want := slices.Clone(recs)
	sortRecords(got)
	sortRecords(want)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Flows != int64(len(recs)) || st.Partitions < 160 {
		t.Errorf("stats: got %d flows in %d partitions, want %d flows in >= 160", st.Flows, st.Partitions, len(recs))
	}
}

// naive evaluates a Match tree on one record, the way postings should.
func naive(m *Match, r *flow.Record) bool {
	switch m.Op {
	case MatchAll:
		return true
	case MatchNone:
		return false
	case MatchAnd:
		for _, s := range m.Sub {
			if !naive(s, r) {
				return false
			}
		}
		return true
	case MatchOr:
		for _, s := range m.Sub {
			if naive(s, r) {
				return true
			}
		}
		return false
	case MatchNot:
		return !naive(m.Sub[0], r)
	case MatchAddrRange:
		a := r.SrcAddr
		if m.Field == FieldDstAddr {
			a = r.DstAddr
		}
		return a.BitLen() == m.AddrLo.BitLen() && a.Compare(m.AddrLo) >= 0 && a.Compare(m.AddrHi) <= 0
	case MatchNumRange:
		var v uint32
		switch m.Field {
		case FieldSrcPort:
			v = uint32(r.SrcPort)
		case FieldDstPort:
			v = uint32(r.DstPort)
		case FieldProto:
			v = uint32(r.Proto)
		}
		return v >= m.Lo && v <= m.Hi
	}
	panic("op")
}

func randMatch(rng *rand.Rand, depth int) *Match {
	if depth > 0 && rng.IntN(3) == 0 {
		op := []MatchOp{MatchAnd, MatchOr, MatchNot}[rng.IntN(3)]
		m := &Match{Op: op}
		n := 1
		if op != MatchNot {
			n = 1 + rng.IntN(3)
		}
		for range n {
			m.Sub = append(m.Sub, randMatch(rng, depth-1))
		}
		return m
	}
	switch rng.IntN(6) {
	case 0:
		a := randAddr(rng)
		return &Match{Op: MatchAddrRange, Field: FieldSrcAddr, AddrLo: a, AddrHi: a}
	case 1:
		p, _ := randAddr(rng).Prefix(rng.IntN(8) + 24)
		if p.Addr().Is6() {
			p, _ = p.Addr().Prefix(120)
		}
		return &Match{Op: MatchAddrRange, Field: FieldDstAddr, AddrLo: p.Masked().Addr(), AddrHi: lastAddr(p)}
	case 2:
		p := uint32([]uint16{22, 53, 80, 443}[rng.IntN(4)])
		return &Match{Op: MatchNumRange, Field: FieldDstPort, Lo: p, Hi: p}
	case 3:
		lo := rng.Uint32N(70000)
		return &Match{Op: MatchNumRange, Field: FieldSrcPort, Lo: lo, Hi: lo + rng.Uint32N(5000)}
	case 4:
		p := uint32([]uint8{6, 17, 1, 47}[rng.IntN(4)])
		return &Match{Op: MatchNumRange, Field: FieldProto, Lo: p, Hi: p}
	}
	return &Match{Op: []MatchOp{MatchAll, MatchNone}[rng.IntN(2)]}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestPlanMatchesNaive: for random match trees and ranges, a planned scan
// returns every row a naive pass over the same records returns, and
// exactly those once its rows are re-checked.
func TestPlanMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := randRecords(rng, 30000)
	s := openTemp(t, t.TempDir())
	defer s.Close()
	// Three sources, so partitions hold several overlapping segments.
	ingest(t, s, "a", recs[:10000])
	ingest(t, s, "b", recs[10000:20000])
	ingest(t, s, "c", recs[20000:])
	nonEmpty, total, extra := 0, 0, 0
	defer func() {
		t.Logf("%d of 300 queries non-empty, %d rows in all, %d candidates re-checked away", nonEmpty, total, extra)
	}()
	for i := range 300 {
		q := Query{From: t0 + rng.Int64N(int64(7*24*time.Hour)), Starting: rng.IntN(2) == 0, Ordered: rng.IntN(2) == 0}
		q.To = q.From + rng.Int64N(int64(48*time.Hour))
		if i%10 == 0 {
			q.From, q.To = Everything().From, Everything().To
		}
		q.Match = randMatch(rng, 3)
		var want []flow.Record
		for _, r := range recs {
			in := r.Start < q.To && r.End >= q.From
			if q.Starting {
				in = r.Start >= q.From && r.Start < q.To
			}
			if in && naive(q.Match, &r) {
				want = append(want, r)
			}
		}
		got := collect(t, s, q)
		// A parallel scan hands over exactly the same rows in the same order.
		pq := q
		pq.Parallel = 1 + rng.IntN(4)
		if par := collect(t, s, pq); !slices.Equal(par, got) {
			t.Fatalf("query %d: parallel scan (%d) differs from serial: %d rows vs %d", i, pq.Parallel, len(par), len(got))
		}
		if len(got) > 0 {
			nonEmpty++
			total += len(got)
		}
		if q.Ordered && !slices.IsSortedFunc(got, func(a, b flow.Record) int { return int(a.Start>>1 - b.Start>>1) }) {
			t.Fatalf("query %d: ordered scan not in start order", i)
		}
		// Postings may hand over a superset (coarse buckets); the caller
		// re-checks each row, as query.Scan does.
		cands := len(got)
		got = slices.DeleteFunc(got, func(r flow.Record) bool { return !naive(q.Match, &r) })
		extra += cands - len(got)
		sortRecords(got)
		sortRecords(want)
		if len(got) != len(want) {
			t.Fatalf("query %d (%+v): got %d rows, want %d", i, q, len(got), len(want))
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("query %d row %d differs", i, k)
			}
		}
	}
}

// TestParallelScanStops: a callback that stops early stops a parallel scan.
func TestParallelScanStops(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	recs := randRecords(rng, 20000)
	s := openTemp(t, t.TempDir())
	defer s.Close()
	ingest(t, s, "a", recs)
	for _, limit := range []int{1, 1000, 5000} {
		q := Everything()
		q.Parallel, q.Ordered = 2, true
		n := 0
		if _, err := s.Scan(q, func(*flow.Record) bool { n++; return n < limit }); err != nil {
			t.Fatal(err)
		}
		if n != limit {
			t.Fatalf("got %d rows, want the scan to stop at %d", n, limit)
		}
	}
}

func TestPartitionWidthFixed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Create: true, PartitionWidth: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir, Options{Create: true, PartitionWidth: time.Hour}); err == nil {
		t.Fatal("got no error reopening with another partition width")
	}
	s, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := time.Duration(s.Meta().PartitionWidth); got != 15*time.Minute {
		t.Fatalf("got width %s, want 15m", got)
	}
}

func TestNoStore(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{ReadOnly: true}); err == nil {
		t.Fatal("got no error opening an empty directory read-only")
	}
}

func TestPendingSourceRemovedOnOpen(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	s := openTemp(t, dir)
	kept := make([]flow.Record, 5000)
	for i := range kept {
		kept[i] = randRecord(rng)
	}
	ingest(t, s, "kept", kept)
	// A second source that never commits: its segments are flushed
	// (MaxSegmentRows forces some) but it stays pending.
	w, err := s.BeginSource(SourceInfo{SHA256: sha256.Sum256([]byte("lost")), Path: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	r := randRecord(rng)
	for range MaxSegmentRows + 10 {
		if err := w.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	w.stop()
	s.Close()
	s = openTemp(t, dir)
	defer s.Close()
	if s.Cleaned.PendingSources != 1 || s.Cleaned.Segments != 1 {
		t.Fatalf("cleanup: got %+v, want 1 pending source and 1 segment", s.Cleaned)
	}
	if got := len(collect(t, s, Everything())); got != len(kept) {
		t.Fatalf("got %d rows, want %d", got, len(kept))
	}
	if _, ok, _ := s.SourceByHash(sha256.Sum256([]byte("lost"))); ok {
		t.Fatal("pending source still registered")
	}
}

// TestParallelScanDamagedBlock: a damaged block in the middle of the
// store stops an ordered parallel scan with the serial scan's error, after
// the same rows, and leaves no worker behind (the scan returns).
func TestParallelScanDamagedBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	recs := randRecords(rng, 20000)
	s := openTemp(t, t.TempDir())
	defer s.Close()
	ingest(t, s, "a", recs)
	// The first block of the partition in the middle of the week.
	var parts [][]*Manifest
	txn := s.db.NewTransaction(false)
	parts, _, err := s.plan(txn, Everything(), &ScanStats{})
	txn.Discard()
	if err != nil || len(parts) < 100 {
		t.Fatalf("got %d partitions (%v), want a week of hours", len(parts), err)
	}
	seg := parts[len(parts)/2][0].Segment
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(blockKey(seg, 0), []byte{0xff, 0x01, 0x02})
	}); err != nil {
		t.Fatal(err)
	}
	scan := func(parallel int) (int, error) {
		q := Everything()
		q.Ordered, q.Parallel = true, parallel
		n := 0
		_, err := s.Scan(q, func(*flow.Record) bool { n++; return true })
		return n, err
	}
	serialRows, serialErr := scan(0)
	if serialErr == nil || !strings.Contains(serialErr.Error(), fmt.Sprintf("segment %d block 0", seg)) {
		t.Fatalf("serial scan: got error %v, want one naming segment %d block 0", serialErr, seg)
	}
	if serialRows == 0 || serialRows >= len(recs) {
		t.Fatalf("serial scan handed over %d rows before the damaged block, want some of %d", serialRows, len(recs))
	}
	for _, parallel := range []int{1, 2, 4} {
		rows, err := scan(parallel)
		if err == nil || err.Error() != serialErr.Error() || rows != serialRows {
			t.Errorf("parallel %d: %d rows, error %v; want %d rows, error %v", parallel, rows, err, serialRows, serialErr)
		}
	}
}

// TestCreateOnlyInNewOrEmptyDir: a store is created in a new or empty
// directory (or one whose creation stopped before its metadata), never over
// a file, among other files (an evidence folder given as --store) or in
// another program's Badger database; nothing is written there.
func TestCreateOnlyInNewOrEmptyDir(t *testing.T) {
	base := t.TempDir()
	open := func(dir string) error {
		st, err := Open(dir, Options{Create: true})
		if err == nil {
			st.Close()
		}
		return err
	}
	if err := open(filepath.Join(base, "new", "case.db")); err != nil {
		t.Errorf("new directory: %v", err)
	}
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := open(empty); err != nil {
		t.Errorf("empty directory: %v", err)
	}
	file := filepath.Join(base, "flows.json")
	if err := os.WriteFile(file, []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	evidence := filepath.Join(base, "evidence")
	if err := os.Mkdir(evidence, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evidence, "capture.pcap"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(base, "foreign")
	db, err := badger.Open(badger.DefaultOptions(foreign).WithLoggingLevel(badger.WARNING))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("theirs"), []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	unfinished := filepath.Join(base, "unfinished") // Badger's files, no key yet
	db, err = badger.Open(badger.DefaultOptions(unfinished).WithLoggingLevel(badger.WARNING))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := open(unfinished); err != nil {
		t.Errorf("store whose creation stopped: %v", err)
	}
	for _, c := range []struct{ dir, want string }{
		{file, "is a file"},
		{evidence, "holds other files (capture.pcap, ...) and no case store"},
		{foreign, "holds a Badger database without flowcase's metadata"},
	} {
		err := open(c.dir)
		if !errors.Is(err, ErrNotStoreDir) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrNotStoreDir saying %q", filepath.Base(c.dir), err, c.want)
		}
	}
	if names, _ := os.ReadDir(evidence); len(names) != 1 {
		t.Errorf("evidence folder holds %d entries after the refusal, want its one file", len(names))
	}
	if b, _ := os.ReadFile(file); string(b) != "[]" {
		t.Errorf("the file was changed: %q", b)
	}
	db, err = badger.Open(badger.DefaultOptions(foreign).WithLoggingLevel(badger.WARNING).WithReadOnly(true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := 0
	db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys++
		}
		return nil
	})
	if keys != 1 {
		t.Errorf("the foreign database holds %d keys after the refusal, want its 1", keys)
	}
}

// TestPartBufChunks: a partition's buffer starts with a chunk of 8 rows and
// doubles up to chunks of 512, so that evidence out of time order, leaving
// a few rows in each of thousands of partitions, does not hold 512 rows'
// room in each (a million flows over ten years of hours: 4.4 GB peak, now
// 0.9 GB); the rows come back whole and in start order.
func TestPartBufChunks(t *testing.T) {
	var small partBuf
	for i := range 3 {
		small.add(&flow.Record{Start: int64(3 - i)})
	}
	if len(small.chunks) != 1 || cap(small.chunks[0]) != firstChunkRows {
		t.Errorf("3 rows: %d chunks, the first of %d rows; want one of %d", len(small.chunks), cap(small.chunks[0]), firstChunkRows)
	}
	var b partBuf
	for i := range 2000 {
		b.add(&flow.Record{Start: int64((i * 7919) % 2000), SrcPort: uint16(i)})
	}
	var caps []int
	for _, c := range b.chunks {
		caps = append(caps, cap(c))
	}
	if want := []int{8, 16, 32, 64, 128, 256, 512, 512, 512}; !slices.Equal(caps, want) {
		t.Errorf("chunk sizes %v, want %v", caps, want)
	}
	rows := b.sorted()
	if len(rows) != 2000 || b.n != 2000 {
		t.Fatalf("%d rows sorted, n %d; want 2000", len(rows), b.n)
	}
	for i, r := range rows {
		if r.Start != int64(i) {
			t.Fatalf("row %d starts at %d", i, r.Start)
		}
	}
	b.release()
}
