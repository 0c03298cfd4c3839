package index

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/flowcase/flowcase/internal/flow"
)

// coarseRecords makes n rows in one hour (one segment): common ports and
// addresses, which get exact entries, and rare ones (ephemeral ports,
// one-off addresses), which go to the coarse section.
func coarseRecords(rng *rand.Rand, n int) []flow.Record {
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		r.Start = t0 + int64(i)*int64(time.Millisecond)
		r.End = r.Start
		r.SrcAddr = netip.AddrFrom4([4]byte{10, 1, byte(rng.IntN(4)), byte(rng.IntN(8))})
		r.DstAddr = netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(3))})
		if rng.IntN(3) == 0 {
			r.DstAddr = netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
		if rng.IntN(20) == 0 {
			r.SrcAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(200))})
		}
		r.SrcPort = uint16(32768 + rng.IntN(28000))
		r.DstPort = []uint16{22, 53, 443, uint16(1024 + rng.IntN(60000))}[rng.IntN(4)]
		r.Proto = []uint8{6, 17, 1, 47}[rng.IntN(4)]
	}
	return recs
}

// naiveRows is the exact row set of m over rows in segment order.
func naiveRows(m *Match, rows []flow.Record) *roaring.Bitmap {
	bm := roaring.New()
	for i := range rows {
		if naive(m, &rows[i]) {
			bm.Add(uint32(i))
		}
	}
	return bm
}

// segmentOf returns the evaluator of the store's only segment and its
// rows in row order.
func segmentOf(t *testing.T, s *Store) (*segEval, []flow.Record, func()) {
	t.Helper()
	txn := s.db.NewTransaction(false)
	var st ScanStats
	var ms []*Manifest
	err := s.forPartitions(txn, Everything(), &st, nil, func(segs []*Manifest) (bool, error) {
		ms = append(ms, segs...)
		return true, nil
	})
	if err != nil || len(ms) != 1 {
		t.Fatalf("got %d segments (%v), want 1", len(ms), err)
	}
	rows := collect(t, s, Everything()) // one segment, unordered: row order
	if len(rows) != int(ms[0].Rows) {
		t.Fatalf("got %d rows, manifest says %d", len(rows), ms[0].Rows)
	}
	return &segEval{txn: txn, m: ms[0]}, rows, txn.Discard
}

// postingsCopy parses a copy of the postings of field f, to inspect.
func (e *segEval) postingsCopy(f Field) (*postings, error) {
	item, err := e.txn.Get(postingsKey(e.m.Segment, f))
	if err != nil {
		return nil, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	return parsePostings(v)
}

// checkEval: the candidates hold every matching row, and equal them when
// the evaluator says they are exact. It returns the verdict.
func checkEval(t *testing.T, e *segEval, rows []flow.Record, m *Match, what string) (cand *roaring.Bitmap, exact bool) {
	t.Helper()
	bm, all, exact, err := e.evalExact(m)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if all {
		bm = roaring.New()
		bm.AddRange(0, uint64(len(rows)))
	}
	want := naiveRows(m, rows)
	if !roaring.AndNot(want, bm).IsEmpty() {
		t.Fatalf("%s: candidates miss %d matching rows", what, roaring.AndNot(want, bm).GetCardinality())
	}
	if exact && !bm.Equals(want) {
		t.Fatalf("%s: said exact, got %d rows, want %d", what, bm.GetCardinality(), want.GetCardinality())
	}
	return bm, exact
}

func port(f Field, p uint32) *Match { return &Match{Op: MatchNumRange, Field: f, Lo: p, Hi: p} }
func not(m *Match) *Match           { return &Match{Op: MatchNot, Sub: []*Match{m}} }

// TestCoarseLookups: common values are exact, rare ones are supersets of
// whole blocks, absent ones exact and empty, and NOT prunes only over
// exact sets.
func TestCoarseLookups(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	recs := coarseRecords(rng, 3*BlockRows+1000) // 4 blocks
	s := openTemp(t, t.TempDir())
	defer s.Close()
	ingest(t, s, "a", recs)
	e, rows, done := segmentOf(t, s)
	defer done()

	p, err := e.postingsCopy(FieldSrcPort)
	if err != nil {
		t.Fatal(err)
	}
	if p.coarse[0].n == 0 || p.units != 4 || p.unit != BlockRows || p.shift[0] != coarseRules.port.shift {
		t.Fatalf("src port coarse section: %d buckets, %d units of %d rows, shift %d", p.coarse[0].n, p.units, p.unit, p.shift[0])
	}
	// A rare source port: in one row, so in the coarse section.
	counts := map[uint16]int{}
	for _, r := range rows {
		counts[r.SrcPort]++
	}
	var rare uint16
	var rareRow int
	for i, r := range rows {
		if counts[r.SrcPort] == 1 {
			rare, rareRow = r.SrcPort, i
			break
		}
	}
	bm, exact := checkEval(t, e, rows, port(FieldSrcPort, uint32(rare)), "rare src port")
	if exact {
		t.Fatal("rare src port: got exact, want a superset from the coarse section")
	}
	// The candidates are whole blocks, the one holding the row among them.
	blk := uint32(rareRow / BlockRows)
	if !bm.Contains(uint32(rareRow)) || bm.GetCardinality()%BlockRows != 0 && !bm.Contains(uint32(len(rows)-1)) {
		t.Fatalf("rare src port: %d candidates, want whole blocks holding row %d", bm.GetCardinality(), rareRow)
	}
	if !bm.Contains(blk*BlockRows) || bm.GetCardinality() >= uint64(len(rows)) {
		t.Fatalf("rare src port: %d candidates of %d rows, want the blocks of its bucket", bm.GetCardinality(), len(rows))
	}
	// Common destination ports are exact; so is their negation.
	for _, q := range []struct {
		m     *Match
		what  string
		exact bool
		all   bool
	}{
		{port(FieldDstPort, 443), "dst port 443", true, false},
		{not(port(FieldDstPort, 443)), "not dst port 443", true, false},
		{not(port(FieldSrcPort, uint32(rare))), "not src port rare", false, true},
		{&Match{Op: MatchOr, Sub: []*Match{port(FieldSrcPort, uint32(rare)), port(FieldDstPort, uint32(rare))}}, "port rare", false, false},
		{not(&Match{Op: MatchOr, Sub: []*Match{port(FieldSrcPort, uint32(rare)), port(FieldDstPort, uint32(rare))}}), "not port rare", false, true},
		{port(FieldSrcPort, 100), "src port 100 (absent, no bucket)", true, false},
		{not(port(FieldSrcPort, 100)), "not src port 100", true, true},
		{&Match{Op: MatchNumRange, Field: FieldSrcPort, Lo: 40000, Hi: 40100}, "src portrange 40000-40100 (buckets in every block)", false, true},
		{&Match{Op: MatchNumRange, Field: FieldSrcPort, Lo: 0, Hi: 1000}, "src portrange 0-1000", true, false},
		{&Match{Op: MatchAnd, Sub: []*Match{port(FieldSrcPort, uint32(rare)), port(FieldDstPort, 9)}}, "rare and absent", true, false},
		{&Match{Op: MatchAddrRange, Field: FieldSrcAddr, AddrLo: rows[0].SrcAddr, AddrHi: rows[0].SrcAddr}, "common src host", true, false},
	} {
		bm, all, exact, err := e.evalExact(q.m)
		if err != nil {
			t.Fatal(err)
		}
		if exact != q.exact || (all || bm.GetCardinality() == uint64(len(rows))) != q.all {
			t.Errorf("%s: got exact %v all %v (%d rows), want exact %v all %v", q.what, exact, all, bm.GetCardinality(), q.exact, q.all)
		}
		checkEval(t, e, rows, q.m, q.what)
	}
	// A rare destination address (one-off 198.51.x.y) has its own exact
	// list: addresses have no coarse section (coarseRules.v4).
	for i, r := range rows {
		if r.DstAddr.As4()[0] != 198 {
			continue
		}
		n := 0
		for _, x := range rows {
			if x.DstAddr == r.DstAddr {
				n++
			}
		}
		if n != 1 {
			continue
		}
		m := &Match{Op: MatchAddrRange, Field: FieldDstAddr, AddrLo: r.DstAddr, AddrHi: r.DstAddr}
		bm, exact := checkEval(t, e, rows, m, "rare dst host")
		if !exact || bm.GetCardinality() != 1 || !bm.Contains(uint32(i)) {
			t.Fatalf("rare dst host %s: got %d rows exact %v, want row %d alone", r.DstAddr, bm.GetCardinality(), exact, i)
		}
		break
	}
}

// TestCoarseEvalProperty: for random match trees over a segment whose
// postings use the coarse section, the candidates always hold every
// matching row, and equal them whenever the evaluator says exact.
func TestCoarseEvalProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	recs := coarseRecords(rng, 5*BlockRows+123)
	s := openTemp(t, t.TempDir())
	defer s.Close()
	ingest(t, s, "a", recs)
	e, rows, done := segmentOf(t, s)
	defer done()
	leaf := func() *Match {
		r := rows[rng.IntN(len(rows))]
		switch rng.IntN(7) {
		case 0:
			return port(FieldSrcPort, uint32(r.SrcPort)+uint32(rng.IntN(3)))
		case 1:
			return port(FieldDstPort, uint32(r.DstPort))
		case 2:
			lo := uint32(rng.IntN(65536))
			return &Match{Op: MatchNumRange, Field: []Field{FieldSrcPort, FieldDstPort}[rng.IntN(2)], Lo: lo, Hi: lo + uint32(rng.IntN(200))}
		case 3:
			return &Match{Op: MatchAddrRange, Field: FieldDstAddr, AddrLo: r.DstAddr, AddrHi: r.DstAddr}
		case 4:
			p, _ := r.SrcAddr.Prefix(r.SrcAddr.BitLen() - rng.IntN(9))
			return &Match{Op: MatchAddrRange, Field: FieldSrcAddr, AddrLo: p.Masked().Addr(), AddrHi: lastAddr(p)}
		case 5:
			return port(FieldProto, uint32(r.Proto))
		}
		return &Match{Op: []MatchOp{MatchAll, MatchNone}[rng.IntN(2)]}
	}
	var tree func(d int) *Match
	tree = func(d int) *Match {
		if d == 0 || rng.IntN(3) == 0 {
			return leaf()
		}
		op := []MatchOp{MatchAnd, MatchOr, MatchNot}[rng.IntN(3)]
		m := &Match{Op: op}
		for range map[bool]int{true: 1, false: 1 + rng.IntN(3)}[op == MatchNot] {
			m.Sub = append(m.Sub, tree(d-1))
		}
		return m
	}
	var exact, inexact int
	for i := range 2000 {
		m := tree(4)
		if _, ex := checkEval(t, e, rows, m, "tree "+string(rune('0'+i%10))); ex {
			exact++
		} else {
			inexact++
		}
	}
	if exact < 200 || inexact < 200 {
		t.Fatalf("got %d exact and %d inexact trees, want both kinds often", exact, inexact)
	}
	t.Logf("%d exact, %d inexact trees", exact, inexact)
}
