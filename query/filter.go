// Package query answers questions over a case store: time expressions and
// ranges, the filter language, the planner, statistics.
package query

import (
	"fmt"
	"unicode/utf8"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

// Filter is a parsed filter expression (see ParseFilter). A nil *Filter
// matches every flow. A Filter is immutable and safe for concurrent use.
type Filter struct {
	ast  *expr // nil for the empty filter
	prog node  // ast compiled for Match
}

// FilterError is a syntax error in a filter, at a 1-based column (counted
// in characters).
type FilterError struct {
	Column int
	Msg    string // what was expected and what was found
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter: column %d: %s", e.Column, e.Msg)
}

// syntaxErr returns a *FilterError at byte offset pos of src.
func syntaxErr(src string, pos int, format string, args ...any) error {
	return &FilterError{
		Column: utf8.RuneCountInString(src[:pos]) + 1,
		Msg:    fmt.Sprintf(format, args...),
	}
}

// ParseFilter parses an nfdump-like filter expression. An empty (or
// all-space) filter matches every flow. The grammar, keywords in any case:
//
//	filter  = or
//	or      = and { ("or" | "||") and }
//	and     = unary { ("and" | "&&") unary }
//	unary   = ("not" | "!") unary | "(" or ")" | term
//	term    = [src|dst] (ip|host) ADDR
//	        | [src|dst] net (PREFIX | IPV4 NETMASK)
//	        | [src|dst] port [OP] N          (0-65535)
//	        | [src|dst] portrange N-N
//	        | [src|dst] as [OP] N
//	        | [in|out] if [OP] N
//	        | vlan [OP] N
//	        | proto (NAME|N) | tcp | udp | icmp | icmp6
//	        | (bytes|packets) [OP] N[k|M|G]  (forward plus reverse; k=1e3, M=1e6, G=1e9)
//	        | flags LETTERS                  (C E U A P R S F: all of them set)
//	        | exporter ADDR | router ip ADDR
//	        | next ip ADDR                   (next hop)
//	        | [src|dst] (ip|host|net|port) in "[" ITEM { [","] ITEM } "]"
//	                                         (nfdump's lists: an "or" of the items' terms)
//	        | duration [OP] (MS | N UNIT)    (milliseconds, or 1.5s, 2m, 1h)
//	        | (bpp|pps|bps) [OP] N[k|M|G]    (bytes per packet, packets and bits per second)
//	        | (icmp-type|icmp-code) [OP] N   (ICMP and ICMPv6 flows only)
//	        | any
//	OP      = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="   (none means "=")
//
// A term without src/dst (in/out) matches either side. Addresses are IPv4
// or IPv6; a v4-mapped IPv6 address or prefix is taken as IPv4, and a
// prefix with host bits set is masked.
func ParseFilter(s string) (*Filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tokEOF {
		return &Filter{prog: node{op: opAll}}, nil
	}
	p := &parser{src: s, toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.expected(t, `"and", "or" or end of filter`)
	}
	markExact(e)
	return &Filter{ast: e, prog: compile(e)}, nil
}

// Match reports whether r satisfies the filter. It does not allocate.
func (f *Filter) Match(r *flow.Record) bool {
	if f == nil {
		return true
	}
	return f.prog.match(r)
}

// String returns the canonical form of the filter, which ParseFilter parses
// to an equal filter: keywords in lower case, host as ip, tcp as proto tcp,
// masked prefixes, counters with k/M/G, parentheses only where needed. The
// empty filter is "".
func (f *Filter) String() string {
	if f == nil || f.ast == nil {
		return ""
	}
	return f.ast.String()
}

// IndexMatch returns the indexed part of the filter: a tree that selects a
// superset of the rows Match accepts (exactly those rows when the filter
// has only indexed terms). Each call returns a new tree.
func (f *Filter) IndexMatch() *index.Match {
	if f == nil || f.ast == nil {
		return &index.Match{Op: index.MatchAll}
	}
	return buildMatch(f.ast, false)
}
