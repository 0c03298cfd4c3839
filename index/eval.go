package index

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/dgraph-io/badger/v4"
)

// segEval turns a Match tree into the candidate rows of one segment.
type segEval struct {
	txn   *badger.Txn
	m     *Manifest
	cache map[Field]*postings
}

// eval returns the rows matching m, or all=true when every row does.
func (e *segEval) eval(m *Match) (bm *roaring.Bitmap, all bool, err error) {
	switch m.Op {
	case MatchAll:
		return nil, true, nil
	case MatchNone:
		return roaring.New(), false, nil
	case MatchAnd:
		return e.and(m.Sub)
	case MatchOr:
		return e.or(m.Sub)
	case MatchNot:
		if len(m.Sub) != 1 {
			return nil, false, fmt.Errorf("BUG: MatchNot with %d subs", len(m.Sub))
		}
		b, a, err := e.eval(m.Sub[0])
		if err != nil {
			return nil, false, err
		}
		if a {
			return roaring.New(), false, nil
		}
		b.Flip(0, uint64(e.m.Rows))
		return b, false, nil
	case MatchAddrRange, MatchNumRange:
		b, err := e.leaf(m)
		return b, false, err
	}
	return nil, false, fmt.Errorf("BUG: unknown match op %d", m.Op)
}

func (e *segEval) and(subs []*Match) (*roaring.Bitmap, bool, error) {
	var acc *roaring.Bitmap
	for _, s := range subs {
		b, a, err := e.eval(s)
		if err != nil {
			return nil, false, err
		}
		if a {
			continue
		}
		if acc == nil {
			acc = b
		} else {
			acc.And(b)
		}
		if acc.IsEmpty() {
			return acc, false, nil
		}
	}
	return acc, acc == nil, nil
}

func (e *segEval) or(subs []*Match) (*roaring.Bitmap, bool, error) {
	acc := roaring.New()
	for _, s := range subs {
		b, a, err := e.eval(s)
		if err != nil {
			return nil, false, err
		}
		if a {
			return nil, true, nil
		}
		acc.Or(b)
	}
	return acc, false, nil
}

func (e *segEval) postings(f Field) (*postings, error) {
	if p, ok := e.cache[f]; ok {
		return p, nil
	}
	item, err := e.txn.Get(postingsKey(e.m.Segment, f))
	if err != nil {
		return nil, fmt.Errorf("cannot read postings of field %d: %w", f, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	p, err := parsePostings(v)
	if err != nil {
		return nil, err
	}
	e.cache[f] = p
	return p, nil
}

func (e *segEval) leaf(m *Match) (*roaring.Bitmap, error) {
	p, err := e.postings(m.Field)
	if err != nil {
		return nil, err
	}
	bm := roaring.New()
	switch {
	case m.Op == MatchAddrRange && p.width == 0:
		if !m.AddrLo.IsValid() || !m.AddrHi.IsValid() || m.AddrLo.BitLen() != m.AddrHi.BitLen() || m.AddrHi.Less(m.AddrLo) {
			return bm, nil
		}
		return bm, p.addrRange(bm, m.AddrLo, m.AddrHi)
	case m.Op == MatchNumRange && p.width != 0:
		lim := uint32(1)<<(8*p.width) - 1
		if m.Lo > lim || m.Lo > m.Hi {
			return bm, nil
		}
		return bm, p.numRange(bm, m.Lo, min(m.Hi, lim))
	}
	return nil, fmt.Errorf("BUG: match op %d on field %d", m.Op, m.Field)
}
