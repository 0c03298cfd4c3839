package index

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/dgraph-io/badger/v4"
)

// segEval turns a Match tree into the candidate rows of one segment.
//
// Candidates may be a superset of the matching rows: the coarse section of
// the postings answers a rare value with the rows of the blocks holding
// its bucket, and the caller checks the full filter on every row it is
// handed. Each node therefore says whether its rows are exact. AND and OR
// of supersets are supersets (exact when every part is); an empty set is
// exact whatever made it; NOT of an exact set is its complement, exact;
// NOT of a superset cannot prune at all (the complement of a superset is a
// subset), so it yields every row, inexact.
type segEval struct {
	txn *badger.Txn
	m   *Manifest
}

// evalExact returns the candidate rows of m (a superset of its rows), or
// all=true when every row is one, and whether the candidates are exactly
// the rows m matches.
func (e *segEval) evalExact(m *Match) (bm *roaring.Bitmap, all, exact bool, err error) {
	switch m.Op {
	case MatchAll:
		return nil, true, true, nil
	case MatchNone:
		return roaring.New(), false, true, nil
	case MatchAnd:
		return e.and(m.Sub)
	case MatchOr:
		return e.or(m.Sub)
	case MatchNot:
		if len(m.Sub) != 1 {
			return nil, false, false, fmt.Errorf("BUG: MatchNot with %d subs", len(m.Sub))
		}
		b, a, ex, err := e.evalExact(m.Sub[0])
		switch {
		case err != nil:
			return nil, false, false, err
		case !ex:
			return nil, true, false, nil
		case a:
			return roaring.New(), false, true, nil
		}
		b.Flip(0, uint64(e.m.Rows))
		return b, false, true, nil
	case MatchAddrRange, MatchNumRange:
		b, ex, err := e.leaf(m)
		return b, false, ex, err
	}
	return nil, false, false, fmt.Errorf("BUG: unknown match op %d", m.Op)
}

func (e *segEval) and(subs []*Match) (*roaring.Bitmap, bool, bool, error) {
	var acc *roaring.Bitmap
	exact := true
	for _, s := range subs {
		b, a, ex, err := e.evalExact(s)
		if err != nil {
			return nil, false, false, err
		}
		exact = exact && ex
		if a {
			continue
		}
		if acc == nil {
			acc = b
		} else {
			acc.And(b)
		}
		if acc.IsEmpty() {
			// No candidate: no row matches, exactly.
			return acc, false, true, nil
		}
	}
	return acc, acc == nil, exact, nil
}

func (e *segEval) or(subs []*Match) (*roaring.Bitmap, bool, bool, error) {
	acc := roaring.New()
	exact := true
	for _, s := range subs {
		b, a, ex, err := e.evalExact(s)
		if err != nil {
			return nil, false, false, err
		}
		if a {
			// Every row is a candidate; exactly so when this part is exact.
			return nil, true, ex, nil
		}
		exact = exact && ex
		acc.Or(b)
	}
	return acc, false, exact || acc.IsEmpty(), nil
}

// leaf returns the candidate rows of a range term and whether they are
// exact. The postings are read in place (Badger's memory, valid during the
// call; the bitmap built owns its memory): a segment's postings of an
// address field are tens of kilobytes, of which a lookup reads a group.
func (e *segEval) leaf(m *Match) (bm *roaring.Bitmap, exact bool, err error) {
	item, err := e.txn.Get(postingsKey(e.m.Segment, m.Field))
	if err != nil {
		return nil, false, fmt.Errorf("cannot read postings of field %d: %w", m.Field, err)
	}
	err = item.Value(func(v []byte) error {
		p, err := parsePostings(v)
		if err != nil {
			return err
		}
		bm, exact, err = e.leafOf(p, m)
		return err
	})
	return bm, exact, err
}

func (e *segEval) leafOf(p *postings, m *Match) (*roaring.Bitmap, bool, error) {
	bm := roaring.New()
	switch {
	case m.Op == MatchAddrRange && p.width == 0:
		if !m.AddrLo.IsValid() || !m.AddrHi.IsValid() || m.AddrLo.BitLen() != m.AddrHi.BitLen() || m.AddrHi.Less(m.AddrLo) {
			return bm, true, nil
		}
		ex, err := p.addrRange(bm, m.AddrLo, m.AddrHi, e.m.Rows)
		return bm, ex, err
	case m.Op == MatchNumRange && p.width != 0:
		lim := uint32(1)<<(8*p.width) - 1
		if m.Lo > lim || m.Lo > m.Hi {
			return bm, true, nil
		}
		ex, err := p.numRange(bm, m.Lo, min(m.Hi, lim), e.m.Rows)
		return bm, ex, err
	}
	return nil, false, fmt.Errorf("BUG: match op %d on field %d", m.Op, m.Field)
}
