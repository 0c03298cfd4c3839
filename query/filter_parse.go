package query

import (
	"errors"
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// maxDepth bounds the nesting of parentheses and negations.
const maxDepth = 100

// parser is a recursive-descent parser over the tokens of one filter:
//
//	or    = and { ("or" | "||") and }
//	and   = unary { ("and" | "&&") unary }
//	unary = ("not" | "!") unary | "(" or ")" | term
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

// peekAt returns the token k after the current one (the last, tokEOF, past
// the end).
func (p *parser) peekAt(k int) token { return p.toks[min(p.i+k, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// errAt returns a syntax error at token t.
func (p *parser) errAt(t token, format string, args ...any) error {
	return syntaxErr(p.src, t.pos, format, args...)
}

// expected returns `expected WHAT, got "tok"` at token t.
func (p *parser) expected(t token, what string) error {
	return p.errAt(t, "expected %s, got %s", what, describe(t))
}

func describe(t token) string {
	if t.kind == tokEOF {
		return "end of filter"
	}
	return strconv.Quote(t.text)
}

func (p *parser) parseOr() (*expr, error) {
	return p.parseList(exprOr, p.parseAnd, func(t token) bool { return t.kind == tokOr || t.is("or") })
}

func (p *parser) parseAnd() (*expr, error) {
	return p.parseList(exprAnd, p.parseUnary, func(t token) bool { return t.kind == tokAnd || t.is("and") })
}

// parseList parses operands joined by an operator, flattening nested lists
// of the same kind.
func (p *parser) parseList(kind exprKind, operand func() (*expr, error), isOp func(token) bool) (*expr, error) {
	var kids []*expr
	for {
		x, err := operand()
		if err != nil {
			return nil, err
		}
		if x.kind == kind {
			kids = append(kids, x.kids...)
		} else {
			kids = append(kids, x)
		}
		if !isOp(p.peek()) {
			break
		}
		p.next()
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &expr{kind: kind, kids: kids}, nil
}

func (p *parser) parseUnary() (*expr, error) {
	t := p.peek()
	switch {
	case t.kind == tokNot || t.is("not"):
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.parseUnary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &expr{kind: exprNot, kids: []*expr{x}}, nil
	case t.kind == tokLParen:
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		x, err := p.parseOr()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.expected(c, `"and", "or" or ")"`)
		}
		return x, nil
	case t.kind == tokWord:
		if x, ok, err := p.parseInList(); ok {
			return x, err
		}
		tm, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return &expr{kind: exprTerm, term: tm}, nil
	}
	return nil, p.expected(t, "a filter term")
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(t, "filter nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

// numericKeywords are the terms "WORD [OP] N" without a direction.
var numericKeywords = map[string]termKind{
	"vlan": termVLAN, "if": termIf, "bytes": termBytes, "packets": termPackets,
	"bpp": termBPP, "pps": termPPS, "bps": termBPS, "icmp-type": termICMPType, "icmp-code": termICMPCode,
}

// parseTerm parses a primary; the current token is a word.
func (p *parser) parseTerm() (term, error) {
	t := p.next()
	kw := strings.ToLower(t.text)
	switch kw {
	case "any":
		return term{kind: termAny}, nil
	case "inet", "ipv4", "inet6", "ipv6":
		// nfdump's address families: an address of the family on either
		// side (both sides of a flow share one).
		pfx := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if strings.HasSuffix(kw, "6") {
			pfx = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		return term{kind: termNet, pfx: pfx}, nil
	case "src", "dst":
		return p.parseDirected(t, map[string]direction{"src": dirSrc, "dst": dirDst}[kw])
	case "in", "out":
		w := p.next()
		if !w.is("if") {
			return term{}, p.expected(w, `"if" after `+strconv.Quote(t.text))
		}
		return p.parseNumeric(termIf, map[string]direction{"in": dirIn, "out": dirOut}[kw], t.text+" "+w.text)
	case "tcp", "udp", "icmp", "icmp6":
		n, _ := flow.ParseProto(kw)
		return term{kind: termProto, n: uint64(n)}, nil
	case "proto":
		return p.parseProto(t)
	case "flags":
		return p.parseFlags(t)
	case "exporter":
		a, err := p.parseAddr(t.text)
		return term{kind: termExporter, addr: a}, err
	case "duration":
		return p.parseDuration(t.text)
	case "next", "router": // nfdump: next ip ADDR (next hop), router ip ADDR (exporter)
		w := p.next()
		if !w.is("ip") {
			return term{}, p.expected(w, `"ip" after `+strconv.Quote(t.text))
		}
		a, err := p.parseAddr(t.text + " " + w.text)
		kind := termNextHop
		if kw == "router" {
			kind = termExporter
		}
		return term{kind: kind, addr: a}, err
	}
	if kind, ok := numericKeywords[kw]; ok {
		return p.parseNumeric(kind, dirBoth, t.text)
	}
	if tm, ok, err := p.parseDirectable(t, dirBoth, t.text); ok {
		return tm, err
	}
	return term{}, p.expected(t, "a filter term (ip, net, port, proto, bytes, packets, flags, ...)")
}

// maxListItems bounds a list: an indicator list longer than this belongs in
// several queries (each item is a postings lookup).
const maxListItems = 100_000

// parseInList parses nfdump's lists, "[src|dst] (ip|host|net|port) in [ V
// V ... ]" (commas between items allowed), into a termList (a single item
// is its own term); ok is false when the next tokens do not start one.
func (p *parser) parseInList() (*expr, bool, error) {
	dir, k := dirBoth, 0
	if d := p.peek(); d.is("src") || d.is("dst") {
		dir, k = map[bool]direction{true: dirSrc, false: dirDst}[d.is("src")], 1
	}
	kw := p.peekAt(k)
	if !(kw.is("ip") || kw.is("host") || kw.is("net") || kw.is("port")) || !p.peekAt(k+1).is("in") || p.peekAt(k+2).kind != tokLBracket {
		return nil, false, nil
	}
	for range k + 3 {
		p.next()
	}
	ctx := strings.TrimSpace(dirWords[dir]+kw.text) + " in ["
	var items []term
	for {
		t := p.peek()
		switch {
		case t.kind == tokComma:
			p.next()
			continue
		case t.kind == tokRBracket && len(items) > 0:
			p.next()
			if len(items) == 1 {
				return &expr{kind: exprTerm, term: items[0]}, true, nil
			}
			return &expr{kind: exprTerm, term: term{kind: termList, dir: dir, list: items}}, true, nil
		case t.kind != tokWord:
			return nil, true, p.expected(t, "a list item or \"]\" in "+strconv.Quote(ctx+" ...]"))
		case len(items) == maxListItems:
			return nil, true, p.errAt(t, "a list of more than %d items", maxListItems)
		}
		tm, _, err := p.parseDirectable(kw, dir, ctx)
		if err != nil {
			return nil, true, err
		}
		if tm.kind == termPort && tm.op != cmpEQ {
			return nil, true, p.errAt(t, "a list holds values, not comparisons")
		}
		items = append(items, tm)
	}
}

// parseDuration parses "[OP] N[unit]" after "duration": N in milliseconds
// as nfdump reads it, or with a unit (ms, s, m, h: 1.5s, 2m).
func (p *parser) parseDuration(ctx string) (term, error) {
	tm := term{kind: termDuration}
	if c := p.peek(); c.kind == tokCmp {
		p.next()
		tm.op = parseCmp(c.text)
		ctx += " " + c.text
	}
	t := p.next()
	if t.kind == tokWord {
		if allDigits(t.text) {
			if n, err := strconv.ParseUint(t.text, 10, 64); err == nil {
				tm.n = n
				return tm, nil
			}
		} else if d, err := time.ParseDuration(t.text); err == nil && d >= 0 && d%time.Millisecond == 0 {
			tm.n = uint64(d / time.Millisecond)
			return tm, nil
		}
	}
	return term{}, p.expected(t, "a duration (milliseconds, or with a unit: 500ms, 1.5s, 2m, 1h) after "+strconv.Quote(ctx))
}

// parseDirected parses what follows "src" or "dst".
func (p *parser) parseDirected(dirTok token, dir direction) (term, error) {
	t := p.next()
	if t.kind == tokWord {
		if tm, ok, err := p.parseDirectable(t, dir, dirTok.text+" "+t.text); ok {
			return tm, err
		}
	}
	return term{}, p.expected(t, "ip, host, net, port, portrange or as after "+strconv.Quote(dirTok.text))
}

// parseDirectable parses the terms that take src/dst, whose keyword t was
// just read; ok is false when t is not one of them. ctx is the text so far,
// for error messages.
func (p *parser) parseDirectable(t token, dir direction, ctx string) (tm term, ok bool, err error) {
	switch strings.ToLower(t.text) {
	case "ip", "host":
		a, err := p.parseAddr(ctx)
		return term{kind: termAddr, dir: dir, addr: a}, true, err
	case "net":
		pfx, err := p.parseNet(ctx)
		return term{kind: termNet, dir: dir, pfx: pfx}, true, err
	case "port":
		tm, err := p.parseNumeric(termPort, dir, ctx)
		return tm, true, err
	case "portrange":
		tm, err := p.parsePortRange(dir, ctx)
		return tm, true, err
	case "as":
		tm, err := p.parseNumeric(termAS, dir, ctx)
		return tm, true, err
	case "nat":
		tm, err := p.parseNAT(dir, ctx+" nat")
		return tm, true, err
	}
	return term{}, false, nil
}

// parseAddr parses an IPv4 or IPv6 address; a v4-mapped IPv6 address
// becomes IPv4.
func (p *parser) parseAddr(ctx string) (netip.Addr, error) {
	t := p.next()
	what := "an address after " + strconv.Quote(ctx)
	if t.kind != tokWord {
		return netip.Addr{}, p.expected(t, what)
	}
	a, err := netip.ParseAddr(t.text)
	if err != nil || a.Zone() != "" {
		if strings.Contains(t.text, "/") {
			what = "an address (use net for a prefix) after " + strconv.Quote(ctx)
		}
		return netip.Addr{}, p.expected(t, what)
	}
	return a.Unmap(), nil
}

// parseNet parses PREFIX or, for IPv4, ADDR NETMASK. The prefix is masked
// and a v4-mapped IPv6 prefix becomes IPv4.
func (p *parser) parseNet(ctx string) (netip.Prefix, error) {
	t := p.next()
	what := "a prefix like 10.0.0.0/8 or 2001:db8::/32 after " + strconv.Quote(ctx)
	if t.kind != tokWord {
		return netip.Prefix{}, p.expected(t, what)
	}
	if !strings.Contains(t.text, "/") {
		return p.parseNetmask(t, what)
	}
	pfx, err := netip.ParsePrefix(t.text)
	if err != nil {
		if pfx, err = shortPrefix(t.text); err != nil {
			return netip.Prefix{}, p.expected(t, what)
		}
	}
	if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
		pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
	}
	return pfx.Masked(), nil
}

var errNotShortPrefix = errors.New("not a short IPv4 prefix")

// shortPrefix parses nfdump's IPv4 prefixes with their zero octets left
// out: 10/8, 172.16/12, 192.168.1/24.
func shortPrefix(s string) (netip.Prefix, error) {
	a, bits, ok := strings.Cut(s, "/")
	if n := strings.Count(a, "."); !ok || n > 2 || strings.ContainsAny(a, ":") {
		return netip.Prefix{}, errNotShortPrefix
	}
	return netip.ParsePrefix(a + strings.Repeat(".0", 3-strings.Count(a, ".")) + "/" + bits)
}

// parseNetmask parses "ADDR NETMASK" (IPv4 only); t is the address.
func (p *parser) parseNetmask(t token, what string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(t.text)
	if err != nil || !a.Unmap().Is4() {
		return netip.Prefix{}, p.expected(t, what)
	}
	m := p.peek()
	mask, err := netip.ParseAddr(m.text)
	if m.kind != tokWord || err != nil || !mask.Is4() {
		return netip.Prefix{}, p.expected(t, what+" (or an IPv4 address and netmask)")
	}
	p.next()
	b := mask.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := bits.LeadingZeros32(^v)
	if ones < 32 && v<<ones != 0 {
		return netip.Prefix{}, p.errAt(m, "netmask %s is not contiguous", m.text)
	}
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), nil
}

// numericMax is the largest value of each numeric term's field.
var numericMax = map[termKind]uint64{
	termPort: math.MaxUint16, termVLAN: math.MaxUint16, termAS: math.MaxUint32,
	termIf: math.MaxUint32, termBytes: math.MaxUint64, termPackets: math.MaxUint64,
	termProto: math.MaxUint8, termPortRange: math.MaxUint16, termNATPort: math.MaxUint16,
	termBPP: math.MaxUint64, termPPS: math.MaxUint64, termBPS: math.MaxUint64, termDuration: math.MaxUint64,
	termICMPType: math.MaxUint8, termICMPCode: math.MaxUint8,
}

// parseNumeric parses "[OP] N" after the keyword of a numeric term.
func (p *parser) parseNumeric(kind termKind, dir direction, ctx string) (term, error) {
	tm := term{kind: kind, dir: dir}
	if c := p.peek(); c.kind == tokCmp {
		p.next()
		tm.op = parseCmp(c.text)
		ctx += " " + c.text
	}
	t := p.next()
	counter := kind.counter()
	n, ok := parseNumber(t, counter, numericMax[kind])
	if !ok {
		what := "a number (0-" + strconv.FormatUint(numericMax[kind], 10) + ")"
		if counter {
			what = "a number (with an optional k, M or G suffix)"
		}
		return term{}, p.expected(t, what+" after "+strconv.Quote(ctx))
	}
	tm.n = n
	return tm, nil
}

func parseCmp(s string) cmpOp {
	for op, w := range cmpWords {
		if w == s {
			return cmpOp(op)
		}
	}
	return cmpEQ
}

// parseNumber parses decimal digits, with a k/M/G (1000-multiple) suffix
// when suffix is set, up to max.
func parseNumber(t token, suffix bool, max uint64) (uint64, bool) {
	if t.kind != tokWord {
		return 0, false
	}
	s, mult := t.text, uint64(1)
	if suffix && len(s) > 1 {
		switch s[len(s)-1] {
		case 'k', 'K':
			mult = 1e3
		case 'm', 'M':
			mult = 1e6
		case 'g', 'G':
			mult = 1e9
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	if !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max/mult {
		return 0, false
	}
	return n * mult, true
}

// parsePortRange parses "A-B" after portrange.
func (p *parser) parsePortRange(dir direction, ctx string) (term, error) {
	t := p.next()
	lo, hi, ok := strings.Cut(t.text, "-")
	a, okA := parseNumber(token{kind: t.kind, text: lo}, false, math.MaxUint16)
	b, okB := parseNumber(token{kind: t.kind, text: hi}, false, math.MaxUint16)
	if !ok || !okA || !okB {
		return term{}, p.expected(t, "a port range like 1024-65535 after "+strconv.Quote(ctx))
	}
	if a > b {
		return term{}, p.errAt(t, "port range %s is empty (%d > %d)", t.text, a, b)
	}
	return term{kind: termPortRange, dir: dir, n: a, n2: b}, nil
}

func (p *parser) parseProto(kw token) (term, error) {
	t := p.next()
	if t.kind == tokWord {
		if n, ok := flow.ParseProto(t.text); ok {
			return term{kind: termProto, n: uint64(n)}, nil
		}
	}
	return term{}, p.expected(t, "a protocol name or number (0-255) after "+strconv.Quote(kw.text))
}

// parseFlags parses TCP flag letters (any case, any order).
func (p *parser) parseFlags(kw token) (term, error) {
	t := p.next()
	var mask uint64
	for i := 0; t.kind == tokWord && i < len(t.text); i++ {
		j := strings.IndexByte(flagLetters, upper(t.text[i]))
		if j < 0 {
			mask = 0
			break
		}
		mask |= 0x80 >> j
	}
	if mask == 0 {
		return term{}, p.expected(t, "TCP flag letters (C E U A P R S F) after "+strconv.Quote(kw.text))
	}
	return term{kind: termFlags, n: mask}, nil
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// parseNAT parses what follows "[src|dst] nat": the post-NAT address,
// prefix or port (IPFIX 225-228, 281-282).
func (p *parser) parseNAT(dir direction, ctx string) (term, error) {
	t := p.next()
	switch strings.ToLower(t.text) {
	case "ip", "host":
		a, err := p.parseAddr(ctx + " " + t.text)
		return term{kind: termNATAddr, dir: dir, addr: a}, err
	case "net":
		pfx, err := p.parseNet(ctx + " " + t.text)
		return term{kind: termNATNet, dir: dir, pfx: pfx}, err
	case "port":
		return p.parseNumeric(termNATPort, dir, ctx+" "+t.text)
	}
	return term{}, p.expected(t, "ip, net or port after "+strconv.Quote(ctx))
}
