package query

import (
	"math"
	"net/netip"
	"slices"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

// opcode is the operation of a compiled filter node.
type opcode uint8

const (
	opAll   opcode = iota // true
	opAnd                 // every kid
	opOr                  // any kid
	opNot                 // not kids[0]
	opAddr                // address field == addr
	opNet                 // pfx contains address field
	opNum                 // lo <= numeric field <= hi, inverted by neg
	opFlags               // TCPFlags has every bit of lo
	opSet                 // the field's value is in set (a list)
)

// field selects the record field a compiled leaf reads.
type field uint8

const (
	fieldNone field = iota
	fieldSrcAddr
	fieldDstAddr
	fieldExporter
	fieldSrcPort
	fieldDstPort
	fieldProto
	fieldBytes
	fieldPackets
	fieldSrcAS
	fieldDstAS
	fieldVLAN
	fieldInIf
	fieldOutIf
	fieldNATSrcAddr
	fieldNATDstAddr
	fieldNATSrcPort
	fieldNATDstPort
	fieldNextHop
	fieldDuration // milliseconds
	fieldBPP      // bytes per packet
	fieldPPS      // packets per second
	fieldBPS      // bits per second
	fieldICMPType
	fieldICMPCode
)

// node is the compiled form of a filter, evaluated by Match. A leaf with
// f2 != fieldNone holds when its test holds on f1 or on f2 (a term without
// direction).
type node struct {
	op     opcode
	neg    bool
	f1, f2 field
	lo, hi uint64
	addr   netip.Addr
	pfx    netip.Prefix
	set    *valueSet
	kids   []node
}

// valueSet is a list's items, for the row-by-row check of a list too long
// for the index: addresses, prefixes by length, or ports.
type valueSet struct {
	addrs map[netip.Addr]struct{}
	nets  map[netip.Prefix]struct{} // masked
	lens  []int                     // the prefix lengths in nets
	ports []uint64                  // a bit per port
}

func newValueSet(items []term) *valueSet {
	vs := &valueSet{}
	for _, it := range items {
		switch it.kind {
		case termAddr:
			if vs.addrs == nil {
				vs.addrs = map[netip.Addr]struct{}{}
			}
			vs.addrs[it.addr] = struct{}{}
		case termNet:
			if vs.nets == nil {
				vs.nets = map[netip.Prefix]struct{}{}
			}
			vs.nets[it.pfx] = struct{}{}
			if b := it.pfx.Bits(); !slices.Contains(vs.lens, b) {
				vs.lens = append(vs.lens, b)
			}
		case termPort:
			if vs.ports == nil {
				vs.ports = make([]uint64, 1<<16/64)
			}
			vs.ports[it.n/64] |= 1 << (it.n % 64)
		}
	}
	return vs
}

func (vs *valueSet) hasAddr(a netip.Addr) bool {
	if _, ok := vs.addrs[a]; ok {
		return true
	}
	for _, b := range vs.lens {
		if b > a.BitLen() {
			continue
		}
		if p, err := a.Prefix(b); err == nil {
			if _, ok := vs.nets[p]; ok {
				return true
			}
		}
	}
	return false
}

func (vs *valueSet) hasPort(p uint64) bool { return vs.ports != nil && vs.ports[p/64]&(1<<(p%64)) != 0 }

func (n *node) match(r *flow.Record) bool {
	switch n.op {
	case opAll:
		return true
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].match(r) {
				return false
			}
		}
		return true
	case opOr:
		for i := range n.kids {
			if n.kids[i].match(r) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].match(r)
	case opFlags:
		return uint64(r.TCPFlags)&n.lo == n.lo
	}
	return n.leaf(r, n.f1) || (n.f2 != fieldNone && n.leaf(r, n.f2))
}

// leaf evaluates an address, prefix or numeric test on field f.
func (n *node) leaf(r *flow.Record, f field) bool {
	switch n.op {
	case opAddr:
		return addrField(r, f) == n.addr
	case opNet:
		return n.pfx.Contains(addrField(r, f))
	case opSet:
		if n.set.ports != nil {
			return n.set.hasPort(numField(r, f))
		}
		return n.set.hasAddr(addrField(r, f))
	}
	v := numField(r, f)
	return (n.lo <= v && v <= n.hi) != n.neg
}

func addrField(r *flow.Record, f field) netip.Addr {
	switch f {
	case fieldSrcAddr:
		return r.SrcAddr
	case fieldDstAddr:
		return r.DstAddr
	case fieldNATSrcAddr:
		return r.NATSrcAddr
	case fieldNATDstAddr:
		return r.NATDstAddr
	case fieldNextHop:
		return r.NextHop
	}
	return r.Exporter
}

func numField(r *flow.Record, f field) uint64 {
	switch f {
	case fieldSrcPort:
		return uint64(r.SrcPort)
	case fieldDstPort:
		return uint64(r.DstPort)
	case fieldProto:
		return uint64(r.Proto)
	case fieldBytes:
		return r.Bytes + r.RevBytes
	case fieldPackets:
		return r.Packets + r.RevPackets
	case fieldSrcAS:
		return uint64(r.SrcAS)
	case fieldDstAS:
		return uint64(r.DstAS)
	case fieldVLAN:
		return uint64(r.VLAN)
	case fieldInIf:
		return uint64(r.InIf)
	case fieldOutIf:
		return uint64(r.OutIf)
	case fieldNATSrcPort:
		return uint64(r.NATSrcPort)
	case fieldNATDstPort:
		return uint64(r.NATDstPort)
	case fieldDuration:
		return uint64(r.End-r.Start) / 1e6
	case fieldICMPType:
		return uint64(r.ICMPType)
	case fieldICMPCode:
		return uint64(r.ICMPCode)
	}
	return rate(r, f)
}

// rate returns bytes per packet, or packets or bits per second over the
// flow's duration, both directions together; 0 without packets or without
// duration, as nfdump computes them.
func rate(r *flow.Record, f field) uint64 {
	bytes, packets := float64(r.Bytes)+float64(r.RevBytes), float64(r.Packets)+float64(r.RevPackets)
	secs := float64(r.End-r.Start) / 1e9
	var v float64
	switch {
	case f == fieldBPP && packets > 0:
		v = bytes / packets
	case f == fieldPPS && secs > 0:
		v = packets / secs
	case f == fieldBPS && secs > 0:
		v = 8 * bytes / secs
	}
	return uint64(min(v, math.MaxUint64))
}

// fieldColumns are the block columns each field is decoded from.
var fieldColumns = [...]index.Columns{
	fieldSrcAddr:    index.ColSrcAddr,
	fieldDstAddr:    index.ColDstAddr,
	fieldExporter:   index.ColExporter,
	fieldSrcPort:    index.ColSrcPort,
	fieldDstPort:    index.ColDstPort,
	fieldProto:      index.ColProto,
	fieldBytes:      index.ColBytes,
	fieldPackets:    index.ColPackets,
	fieldSrcAS:      index.ColSrcAS,
	fieldDstAS:      index.ColDstAS,
	fieldVLAN:       index.ColVLAN,
	fieldInIf:       index.ColInIf,
	fieldOutIf:      index.ColOutIf,
	fieldNATSrcAddr: index.ColNATSrc,
	fieldNATDstAddr: index.ColNATDst,
	fieldNATSrcPort: index.ColNATSrc,
	fieldNATDstPort: index.ColNATDst,
	fieldNextHop:    index.ColNextHop,
	fieldDuration:   index.ColTime,
	fieldBPP:        index.ColBytes | index.ColPackets,
	fieldPPS:        index.ColPackets | index.ColTime,
	fieldBPS:        index.ColBytes | index.ColTime,
	fieldICMPType:   index.ColICMP,
	fieldICMPCode:   index.ColICMP,
}

// columns returns the block columns n reads.
func (n *node) columns() index.Columns {
	var c index.Columns
	switch n.op {
	case opAll:
	case opAnd, opOr, opNot:
		for i := range n.kids {
			c |= n.kids[i].columns()
		}
	case opFlags:
		c = index.ColFlags
	default:
		c = fieldColumns[n.f1] | fieldColumns[n.f2]
	}
	return c
}

// compile turns a parsed filter into nodes.
func compile(e *expr) node {
	switch e.kind {
	case exprAnd, exprOr, exprNot:
		n := node{op: map[exprKind]opcode{exprAnd: opAnd, exprOr: opOr, exprNot: opNot}[e.kind]}
		n.kids = make([]node, len(e.kids))
		for i, k := range e.kids {
			n.kids[i] = compile(k)
		}
		return n
	}
	return compileTerm(&e.term)
}

// termFields maps a term kind and direction to the fields it reads.
var termFields = map[termKind][2]field{
	termAddr:      {fieldSrcAddr, fieldDstAddr},
	termNet:       {fieldSrcAddr, fieldDstAddr},
	termPort:      {fieldSrcPort, fieldDstPort},
	termPortRange: {fieldSrcPort, fieldDstPort},
	termAS:        {fieldSrcAS, fieldDstAS},
	termIf:        {fieldInIf, fieldOutIf},
	termExporter:  {fieldExporter},
	termProto:     {fieldProto},
	termBytes:     {fieldBytes},
	termPackets:   {fieldPackets},
	termVLAN:      {fieldVLAN},
	termNATAddr:   {fieldNATSrcAddr, fieldNATDstAddr},
	termNATNet:    {fieldNATSrcAddr, fieldNATDstAddr},
	termNATPort:   {fieldNATSrcPort, fieldNATDstPort},
	termNextHop:   {fieldNextHop},
	termDuration:  {fieldDuration},
	termBPP:       {fieldBPP},
	termPPS:       {fieldPPS},
	termBPS:       {fieldBPS},
	termICMPType:  {fieldICMPType},
	termICMPCode:  {fieldICMPCode},
}

func compileTerm(t *term) node {
	if t.kind == termList {
		n := compileTerm(&term{kind: t.list[0].kind, dir: t.dir})
		n.op, n.set = opSet, newValueSet(t.list)
		return n
	}
	fs := termFields[t.kind]
	n := node{f1: fs[0], f2: fs[1]}
	switch t.dir {
	case dirSrc, dirIn:
		n.f2 = fieldNone
	case dirDst, dirOut:
		n.f1, n.f2 = fs[1], fieldNone
	}
	switch t.kind {
	case termAny:
		n.op = opAll
	case termFlags:
		n.op, n.lo = opFlags, t.n
	case termAddr, termExporter, termNATAddr, termNextHop:
		n.op, n.addr = opAddr, t.addr
	case termNet, termNATNet:
		n.op, n.pfx = opNet, t.pfx
	default:
		n.op = opNum
		n.lo, n.hi, n.neg = t.bounds()
	}
	if t.kind == termICMPType || t.kind == termICMPCode {
		// Only ICMP flows have a type and code: "icmp-type != 8" is not
		// true of a TCP flow.
		icmp := node{op: opOr, kids: []node{
			{op: opNum, f1: fieldProto, lo: uint64(flow.ProtoICMP), hi: uint64(flow.ProtoICMP)},
			{op: opNum, f1: fieldProto, lo: uint64(flow.ProtoICMPv6), hi: uint64(flow.ProtoICMPv6)}}}
		return node{op: opAnd, kids: []node{icmp, n}}
	}
	return n
}

// bounds returns the values a numeric term accepts: [lo, hi] (empty when
// lo > hi), or everything but it when neg.
func (t *term) bounds() (lo, hi uint64, neg bool) {
	max := numericMax[t.kind]
	switch t.kind {
	case termProto:
		return t.n, t.n, false
	case termPortRange:
		return t.n, t.n2, false
	}
	switch t.op {
	case cmpNE:
		return t.n, t.n, true
	case cmpLT:
		if t.n == 0 {
			return 1, 0, false
		}
		return 0, t.n - 1, false
	case cmpLE:
		return 0, t.n, false
	case cmpGT:
		if t.n >= max {
			return 1, 0, false
		}
		return t.n + 1, max, false
	case cmpGE:
		return t.n, max, false
	}
	return t.n, t.n, false
}
