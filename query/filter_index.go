package query

import (
	"net/netip"

	"github.com/flowcase/flowcase/index"
)

// markExact sets expr.exact: a sub-filter is exact when it has only indexed
// terms, so that its index tree selects exactly the rows it matches. (This
// is conservative: a tree simplified to MatchNone is exact whatever it
// dropped, but is not marked so.)
func markExact(e *expr) bool {
	if e.kind == exprTerm {
		e.exact = e.term.indexed()
		return e.exact
	}
	e.exact = true
	for _, k := range e.kids {
		if !markExact(k) {
			e.exact = false
		}
	}
	return e.exact
}

// buildMatch returns the index tree of e, or of "not e" when neg. An
// unindexed term becomes MatchAll; the tree of "not X" is MatchNot only when
// X is exact. Otherwise the negation is pushed inwards (De Morgan), which
// keeps the exact parts: not (port 80 or bytes > 1k) gives not port 80.
func buildMatch(e *expr, neg bool) *index.Match {
	if neg && e.exact {
		return matchNot(buildMatch(e, false))
	}
	switch e.kind {
	case exprNot:
		return buildMatch(e.kids[0], !neg)
	case exprAnd, exprOr:
		subs := make([]*index.Match, len(e.kids))
		for i, k := range e.kids {
			subs[i] = buildMatch(k, neg)
		}
		if (e.kind == exprAnd) != neg { // not (a or b) = not a and not b
			return matchAnd(subs)
		}
		return matchOr(subs)
	}
	if neg { // an unindexed term
		return matchAll()
	}
	return termMatch(&e.term)
}

func matchAll() *index.Match  { return &index.Match{Op: index.MatchAll} }
func matchNone() *index.Match { return &index.Match{Op: index.MatchNone} }

// matchAnd simplifies: a MatchNone child makes MatchNone, MatchAll children
// are dropped, And children are flattened.
func matchAnd(subs []*index.Match) *index.Match {
	var out []*index.Match
	for _, s := range subs {
		switch s.Op {
		case index.MatchNone:
			return s
		case index.MatchAll:
		case index.MatchAnd:
			out = append(out, s.Sub...)
		default:
			out = append(out, s)
		}
	}
	return list(index.MatchAnd, out, index.MatchAll)
}

// matchOr simplifies: a MatchAll child makes MatchAll, MatchNone children
// are dropped, Or children are flattened.
func matchOr(subs []*index.Match) *index.Match {
	var out []*index.Match
	for _, s := range subs {
		switch s.Op {
		case index.MatchAll:
			return s
		case index.MatchNone:
		case index.MatchOr:
			out = append(out, s.Sub...)
		default:
			out = append(out, s)
		}
	}
	return list(index.MatchOr, out, index.MatchNone)
}

// list returns op over subs, the only sub, or a node of op empty when
// there is none.
func list(op index.MatchOp, subs []*index.Match, empty index.MatchOp) *index.Match {
	switch len(subs) {
	case 0:
		return &index.Match{Op: empty}
	case 1:
		return subs[0]
	}
	return &index.Match{Op: op, Sub: subs}
}

// matchNot negates an exact tree.
func matchNot(m *index.Match) *index.Match {
	switch m.Op {
	case index.MatchAll:
		return matchNone()
	case index.MatchNone:
		return matchAll()
	case index.MatchNot:
		return m.Sub[0]
	}
	return &index.Match{Op: index.MatchNot, Sub: []*index.Match{m}}
}

// termMatch returns the index tree of a term; MatchAll for an unindexed
// one.
func termMatch(t *term) *index.Match {
	src, dst := t.dir != dirDst, t.dir != dirSrc
	switch t.kind {
	case termAny:
		return matchAll()
	case termAddr:
		return sides(src, dst, index.FieldSrcAddr, index.FieldDstAddr, func(f index.Field) *index.Match {
			return addrRange(f, t.addr, t.addr)
		})
	case termNet:
		return sides(src, dst, index.FieldSrcAddr, index.FieldDstAddr, func(f index.Field) *index.Match {
			return addrRange(f, t.pfx.Addr(), lastAddr(t.pfx))
		})
	case termPort, termPortRange:
		return sides(src, dst, index.FieldSrcPort, index.FieldDstPort, func(f index.Field) *index.Match {
			return numMatch(f, t)
		})
	case termProto:
		return numMatch(index.FieldProto, t)
	case termList:
		if !t.indexed() {
			return matchAll()
		}
		subs := make([]*index.Match, len(t.list))
		for i := range t.list {
			subs[i] = termMatch(&t.list[i])
		}
		return matchOr(subs)
	}
	return matchAll()
}

// sides returns leaf(srcField), leaf(dstField) or the Or of both.
func sides(src, dst bool, srcField, dstField index.Field, leaf func(index.Field) *index.Match) *index.Match {
	switch {
	case src && dst:
		return matchOr([]*index.Match{leaf(srcField), leaf(dstField)})
	case src:
		return leaf(srcField)
	}
	return leaf(dstField)
}

func addrRange(f index.Field, lo, hi netip.Addr) *index.Match {
	return &index.Match{Op: index.MatchAddrRange, Field: f, AddrLo: lo, AddrHi: hi}
}

// numMatch returns the tree of a numeric term on field f: a range, its
// complement (!=) as MatchNot, MatchNone for an empty range and MatchAll
// for the whole domain.
func numMatch(f index.Field, t *term) *index.Match {
	lo, hi, neg := t.bounds()
	var m *index.Match
	switch {
	case lo > hi:
		m = matchNone()
	case lo == 0 && hi == numericMax[t.kind]:
		m = matchAll()
	default:
		m = &index.Match{Op: index.MatchNumRange, Field: f, Lo: uint32(lo), Hi: uint32(hi)}
	}
	if neg {
		return matchNot(m)
	}
	return m
}

// lastAddr returns the last address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		setHostBits(b[:], p.Bits())
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	setHostBits(b[:], p.Bits())
	return netip.AddrFrom16(b)
}

func setHostBits(b []byte, bits int) {
	for i := range b {
		switch {
		case bits >= 8*(i+1):
		case bits <= 8*i:
			b[i] = 0xff
		default:
			b[i] |= 0xff >> (bits - 8*i)
		}
	}
}
