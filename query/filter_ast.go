package query

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowcase/flowcase/internal/flow"
)

// exprKind is the kind of a node of the parsed filter.
type exprKind uint8

const (
	exprTerm exprKind = iota
	exprAnd
	exprOr
	exprNot
)

// expr is a node of the parsed filter. And and Or nodes have two or more
// kids and are flattened (an And has no And kid, an Or no Or kid); a Not has
// one.
type expr struct {
	kind  exprKind
	kids  []*expr
	term  term
	exact bool // the index answers this sub-filter exactly (see filter_index.go)
}

// termKind is the kind of a primary.
type termKind uint8

const (
	termAny       termKind = iota
	termAddr               // [src|dst] ip|host ADDR
	termNet                // [src|dst] net PREFIX
	termPort               // [src|dst] port [OP] N
	termPortRange          // [src|dst] portrange A-B
	termProto              // proto NAME|N, tcp, udp, icmp, icmp6
	termBytes              // bytes [OP] N
	termPackets            // packets [OP] N
	termFlags              // flags LETTERS
	termExporter           // exporter ADDR
	termAS                 // [src|dst] as [OP] N
	termVLAN               // vlan [OP] N
	termIf                 // [in|out] if [OP] N
	termNATAddr            // [src|dst] nat ip ADDR (post-NAT address)
	termNATNet             // [src|dst] nat net PREFIX
	termNATPort            // [src|dst] nat port [OP] N
	termNextHop            // next ip ADDR
	termDuration           // duration [OP] MS
	termBPP                // bpp [OP] N: bytes per packet
	termPPS                // pps [OP] N: packets per second
	termBPS                // bps [OP] N: bits per second
	termICMPType           // icmp-type [OP] N (ICMP and ICMPv6 flows only)
	termICMPCode           // icmp-code [OP] N
	termList               // [src|dst] ip|net|port in [ ... ]: any of term.list
)

// maxIndexedList is the longest list the index answers, with a postings
// lookup per item, side and segment; a longer one (an indicator list of
// thousands) is checked row by row against a set, which then costs less.
// On the 5M-flow week (169 segments), `query count` of 1,000 addresses took
// 0.83 s through the index and 0.33 s row by row, 10,000 addresses 6.8 s
// and 0.40 s: the lookups cost about 0.7 ms an item there, so the two meet
// near 450 items.
const maxIndexedList = 256

// counter reports whether the term compares a quantity, written with its
// operator always and read with k/M/G suffixes.
func (k termKind) counter() bool {
	switch k {
	case termBytes, termPackets, termBPP, termPPS, termBPS:
		return true
	}
	return false
}

// indexed reports whether the index has postings for the term.
func (k termKind) indexed() bool {
	switch k {
	case termAny, termAddr, termNet, termPort, termPortRange, termProto:
		return true
	}
	return false
}

// direction qualifies a term: src/dst for addresses, ports and AS numbers,
// in/out for interfaces. dirBoth means either side.
type direction uint8

const (
	dirBoth direction = iota
	dirSrc
	dirDst
	dirIn
	dirOut
)

var dirWords = [...]string{dirBoth: "", dirSrc: "src ", dirDst: "dst ", dirIn: "in ", dirOut: "out "}

// cmpOp is a comparison of a numeric term.
type cmpOp uint8

const (
	cmpEQ cmpOp = iota
	cmpNE
	cmpLT
	cmpLE
	cmpGT
	cmpGE
)

var cmpWords = [...]string{cmpEQ: "=", cmpNE: "!=", cmpLT: "<", cmpLE: "<=", cmpGT: ">", cmpGE: ">="}

// term is a primary of the filter language.
type term struct {
	kind  termKind
	dir   direction
	op    cmpOp
	n, n2 uint64       // the number; portrange: n-n2; flags: the mask
	addr  netip.Addr   // ip, exporter (unmapped)
	pfx   netip.Prefix // net (masked, unmapped)
	list  []term       // termList: the items, each a termAddr, termNet or termPort of dir
}

// indexed reports whether the index answers the term exactly.
func (t *term) indexed() bool {
	if t.kind == termList {
		return len(t.list) <= maxIndexedList
	}
	return t.kind.indexed()
}

// flagLetters in canonical order, from the high bit to the low one.
const flagLetters = "CEUAPRSF"

// String returns the canonical form of the filter expression.
func (e *expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *expr) write(b *strings.Builder) {
	switch e.kind {
	case exprTerm:
		e.term.write(b)
	case exprNot:
		b.WriteString("not ")
		writeKid(b, e.kids[0], e.kids[0].kind == exprAnd || e.kids[0].kind == exprOr)
	case exprAnd, exprOr:
		sep := " and "
		if e.kind == exprOr {
			sep = " or "
		}
		for i, k := range e.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			writeKid(b, k, k.kind == exprOr || k.kind == e.kind)
		}
	}
}

func writeKid(b *strings.Builder, k *expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	k.write(b)
	if paren {
		b.WriteByte(')')
	}
}

func (t *term) write(b *strings.Builder) {
	b.WriteString(dirWords[t.dir])
	switch t.kind {
	case termAny:
		b.WriteString("any")
	case termAddr:
		b.WriteString("ip ")
		b.WriteString(t.addr.String())
	case termExporter:
		b.WriteString("exporter ")
		b.WriteString(t.addr.String())
	case termNextHop:
		b.WriteString("next ip ")
		b.WriteString(t.addr.String())
	case termList:
		b.WriteString(map[termKind]string{termAddr: "ip", termNet: "net", termPort: "port"}[t.list[0].kind])
		b.WriteString(" in [")
		for _, it := range t.list {
			b.WriteByte(' ')
			switch it.kind {
			case termAddr:
				b.WriteString(it.addr.String())
			case termNet:
				b.WriteString(it.pfx.String())
			default:
				b.WriteString(strconv.FormatUint(it.n, 10))
			}
		}
		b.WriteString(" ]")
	case termNATAddr:
		b.WriteString("nat ip ")
		b.WriteString(t.addr.String())
	case termNATNet:
		b.WriteString("nat net ")
		b.WriteString(t.pfx.String())
	case termNet:
		b.WriteString("net ")
		b.WriteString(t.pfx.String())
	case termPortRange:
		b.WriteString("portrange ")
		b.WriteString(strconv.FormatUint(t.n, 10) + "-" + strconv.FormatUint(t.n2, 10))
	case termProto:
		b.WriteString("proto ")
		b.WriteString(flow.ProtoName(uint8(t.n)))
	case termFlags:
		b.WriteString("flags ")
		for i := 0; i < 8; i++ {
			if t.n&(0x80>>i) != 0 {
				b.WriteByte(flagLetters[i])
			}
		}
	default:
		t.writeNumeric(b)
	}
}

// numericWords names the terms written as "WORD [OP] N".
var numericWords = map[termKind]string{
	termPort: "port", termBytes: "bytes", termPackets: "packets",
	termAS: "as", termVLAN: "vlan", termIf: "if", termNATPort: "nat port",
	termBPP: "bpp", termPPS: "pps", termBPS: "bps", termDuration: "duration", termICMPType: "icmp-type", termICMPCode: "icmp-code",
}

// writeNumeric writes "port 80", "port > 1023", "bytes = 10M": equality is
// implied for identifiers (port, as, vlan, if) and spelt out for counters.
func (t *term) writeNumeric(b *strings.Builder) {
	b.WriteString(numericWords[t.kind])
	b.WriteByte(' ')
	counter := t.kind.counter()
	if t.op != cmpEQ || counter || t.kind == termDuration {
		b.WriteString(cmpWords[t.op])
		b.WriteByte(' ')
	}
	if counter {
		b.WriteString(formatCount(t.n))
		return
	}
	b.WriteString(strconv.FormatUint(t.n, 10))
}

// formatCount writes a counter with the largest exact k/M/G suffix.
func formatCount(n uint64) string {
	switch {
	case n == 0:
		return "0"
	case n%1e9 == 0:
		return strconv.FormatUint(n/1e9, 10) + "G"
	case n%1e6 == 0:
		return strconv.FormatUint(n/1e6, 10) + "M"
	case n%1e3 == 0:
		return strconv.FormatUint(n/1e3, 10) + "k"
	}
	return strconv.FormatUint(n, 10)
}
