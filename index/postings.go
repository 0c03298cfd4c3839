package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// Postings of one field of one segment: a sorted dictionary of the values
// present and, per value, the rows holding it. The dictionary is cut into
// groups of postingsGroup entries; a small table of each group's first
// value and offset is binary-searched, then one group is read in order.
// Inside a group, numbers and IPv4 addresses are delta-varints and each
// row list is whichever is smaller: delta-varints or a roaring bitmap.
//
// Version 3 adds a coarse section: values held by fewer rows of the
// segment than the field's threshold (ephemeral ports, one-off addresses)
// get no entry of their own; they are grouped into buckets of consecutive
// values (value >> shift), and each bucket lists the units (runs of
// coarseUnit rows, the writer's blocks) holding any of its values. A
// lookup of such a value yields the rows of those units: a superset of the
// matching rows, which the caller re-checks row by row (see segEval for
// how exactness is tracked through AND, OR and NOT). Version 2 values (no
// coarse section) are still read. docs/format/postings.md has the byte
// layout.
const (
	postingsVersion   = 3
	postingsVersionV2 = 2
	postingsGroup     = 32
	// coarseUnit is the rows of a coarse unit: the writer's block size, so
	// that a unit is a block and a rare value prunes to whole blocks.
	coarseUnit = BlockRows
)

const (
	listDeltas  = 0
	listRoaring = 1
)

// Encodings of the unit sets of a coarse section.
const (
	setBitset = 0 // ceil(units/8) bytes, bit u (LSB first) = unit u
	setList   = 1 // uvarint count, then uvarint unit deltas (the first from 0)
)

// coarseRule says which values of a field go to the coarse section: those
// held by fewer than minRows rows, in buckets of 1<<shift consecutive
// values (IPv6: of the address's top 64 bits). minRows 0 turns the coarse
// section off. Chosen by measurement (docs/format/postings.md).
type coarseRule struct {
	minRows int
	shift   uint8
}

// coarseRules holds the rules by family: ports, protocol, IPv4, IPv6. A
// variable so that tests and measurements can change it.
var coarseRules = struct{ port, proto, v4, v6 coarseRule }{
	// Ports: pairs of values; a rare port's lookup reads 1.5x the blocks
	// that hold it (5M generated flows, 30k-row segments).
	port: coarseRule{minRows: 8, shift: 1},
	// IPv4: no coarse section. One bucket per address (minRows 8) saved
	// ~1 B/flow but made a rare address's candidates whole blocks: in a
	// store of many small files, where most addresses are rare in each
	// segment, one address over the week took 1.64x the time it takes on
	// the same flows from one file, against 1.0x with exact lists (5M
	// generated flows, in process). Addresses are what investigators look up
	// most; the index stays within its budget (6.7 B/flow).
	v4: coarseRule{},
	// Protocols are few; IPv6 buckets over the top 64 bits would merge
	// every address of a /64 (7.5x the blocks in the measurement): both
	// stay exact.
}

// pkey is an address key for the builder's map.
type pkey struct {
	b  [16]byte
	v4 bool
}

func addrKey(a netip.Addr) pkey {
	if a.Is4() {
		var k pkey
		v := a.As4()
		copy(k.b[:4], v[:])
		k.v4 = true
		return k
	}
	return pkey{b: a.As16()}
}

// postingsBuilder collects (value, row) pairs for one field of a segment:
// addresses through a map, ports and protocols through a table indexed by
// value.
type postingsBuilder struct {
	width   int            // 0 addresses, 1 or 2 bytes for numbers
	index4  *u32Table      // IPv4 addresses
	index   map[pkey]int32 // IPv6 addresses
	keys    []pkey
	num     []int32 // value -> list index + 1 (numbers)
	numKeys []uint32
	lists   [][]uint32
	nlists  int
	// build scratch
	es, cs, es6, cs6 []entry
	bk               []bucket
	units            []uint32
	body             []byte
	sk               []uint64 // IPv4 key << 32 | list, to sort
}

func newPostingsBuilder(width int) *postingsBuilder {
	b := &postingsBuilder{width: width}
	if width == 0 {
		b.index = make(map[pkey]int32, 64)
		b.index4 = newU32Table(12)
	} else {
		b.num = make([]int32, 1<<(8*width))
	}
	return b
}

func (b *postingsBuilder) reset() {
	clear(b.index)
	if b.index4 != nil {
		b.index4.reset()
	}
	b.keys = b.keys[:0]
	for _, v := range b.numKeys {
		b.num[v] = 0
	}
	b.numKeys = b.numKeys[:0]
	for i := range b.nlists {
		b.lists[i] = b.lists[i][:0]
	}
	b.nlists = 0
}

func (b *postingsBuilder) newList() int32 {
	if b.nlists == len(b.lists) {
		b.lists = append(b.lists, nil)
	}
	b.nlists++
	return int32(b.nlists - 1)
}

func (b *postingsBuilder) addAddr(a netip.Addr, row uint32) {
	var i int32
	var ok bool
	if a.Is4() {
		v := a.As4()
		n := binary.BigEndian.Uint32(v[:])
		if i, ok = b.index4.get(n); !ok {
			i = b.newList()
			b.index4.put(n, i)
			b.keys = append(b.keys, addrKey(a))
		}
	} else {
		k := addrKey(a)
		if i, ok = b.index[k]; !ok {
			i = b.newList()
			b.index[k] = i
			b.keys = append(b.keys, k)
		}
	}
	b.lists[i] = append(b.lists[i], row)
}

func (b *postingsBuilder) addNum(v uint32, row uint32) {
	i := b.num[v] - 1
	if i < 0 {
		i = b.newList()
		b.num[v] = i + 1
		b.numKeys = append(b.numKeys, v)
	}
	b.lists[i] = append(b.lists[i], row)
}

// entry is one dictionary value with its list, during build.
type entry struct {
	num  uint32 // numbers and IPv4
	v6   [16]byte
	list []uint32
}

// bucket is one coarse bucket during build: its key and its units in
// postingsBuilder.units[lo:hi].
type bucket struct {
	key    uint64
	lo, hi int
}

// build encodes the postings: the exact parts, then the coarse section.
func (b *postingsBuilder) build() []byte {
	out := []byte{postingsVersion, byte(b.width)}
	b.es, b.cs, b.es6, b.cs6 = b.es[:0], b.cs[:0], b.es6[:0], b.cs6[:0]
	b.bk, b.units = b.bk[:0], b.units[:0]
	if b.width != 0 {
		if len(b.numKeys) > len(b.num)/16 {
			// Many values (ephemeral ports): the value table is in order.
			b.numKeys = b.numKeys[:0]
			for v, i := range b.num {
				if i != 0 {
					b.numKeys = append(b.numKeys, uint32(v))
				}
			}
		} else {
			slices.Sort(b.numKeys)
		}
		rule := coarseRules.port
		if b.width == 1 {
			rule = coarseRules.proto
		}
		for _, v := range b.numKeys {
			e := entry{num: v, list: b.lists[b.num[v]-1]}
			if len(e.list) < rule.minRows {
				b.cs = append(b.cs, e)
			} else {
				b.es = append(b.es, e)
			}
		}
		out = binary.AppendUvarint(out, uint64(len(b.es)))
		out = appendPart(out, b.es, b.width)
		n := b.buckets(b.cs, func(e *entry) uint64 { return uint64(e.num >> rule.shift) })
		return b.appendCoarse(out, []coarseFamily{{rule.shift, b.width, n}})
	}
	// IPv4 keys sort as integers (key and list index in one uint64), so
	// their entries are made in order.
	b.sk = b.sk[:0]
	for i, k := range b.keys {
		if k.v4 {
			b.sk = append(b.sk, uint64(binary.BigEndian.Uint32(k.b[:4]))<<32|uint64(i))
		}
	}
	slices.Sort(b.sk)
	for _, x := range b.sk {
		e := entry{num: uint32(x >> 32), list: b.lists[uint32(x)]}
		if len(e.list) < coarseRules.v4.minRows {
			b.cs = append(b.cs, e)
		} else {
			b.es = append(b.es, e)
		}
	}
	for i, k := range b.keys {
		e := entry{list: b.lists[i]}
		if !k.v4 {
			e.v6 = k.b
			if len(e.list) < coarseRules.v6.minRows {
				b.cs6 = append(b.cs6, e)
			} else {
				b.es6 = append(b.es6, e)
			}
		}
	}
	byV6 := func(x, y entry) int { return bytes.Compare(x.v6[:], y.v6[:]) }
	slices.SortFunc(b.es6, byV6)
	slices.SortFunc(b.cs6, byV6)
	out = binary.AppendUvarint(out, uint64(len(b.es)))
	out = binary.AppendUvarint(out, uint64(len(b.es6)))
	out = appendPart(out, b.es, 4)
	out = appendPart(out, b.es6, 16)
	s4, s6 := coarseRules.v4.shift, coarseRules.v6.shift
	n4 := b.buckets(b.cs, func(e *entry) uint64 { return uint64(e.num) >> s4 })
	n6 := b.buckets(b.cs6, func(e *entry) uint64 { return binary.BigEndian.Uint64(e.v6[:8]) >> s6 })
	return b.appendCoarse(out, []coarseFamily{{s4, 4, n4}, {s6, 8, n6}})
}

// buckets appends to b.bk the buckets of es (sorted by key), with the
// sorted distinct units of each in b.units, and returns how many.
func (b *postingsBuilder) buckets(es []entry, key func(*entry) uint64) int {
	start := len(b.bk)
	closeLast := func() {
		if len(b.bk) > start {
			l := &b.bk[len(b.bk)-1]
			u := b.units[l.lo:]
			slices.Sort(u)
			u = slices.Compact(u)
			b.units = b.units[:l.lo+len(u)]
			l.hi = len(b.units)
		}
	}
	for i := range es {
		k := key(&es[i])
		if len(b.bk) == start || b.bk[len(b.bk)-1].key != k {
			closeLast()
			b.bk = append(b.bk, bucket{key: k, lo: len(b.units)})
		}
		last := uint32(1<<32 - 1)
		for _, r := range es[i].list {
			if u := r / coarseUnit; u != last {
				b.units = append(b.units, u)
				last = u
			}
		}
	}
	closeLast()
	return len(b.bk) - start
}

// coarseFamily is one part of the coarse section during build: its shift,
// the width of its bucket keys and how many buckets of b.bk it takes.
type coarseFamily struct {
	shift uint8
	width int
	n     int
}

// appendCoarse writes the coarse section: uvarint unit rows, uvarint
// units, the set encoding, then per family its shift, bucket count and
// part (group table of first keys, u32 entries length, entries of uvarint
// key delta and unit set).
func (b *postingsBuilder) appendCoarse(out []byte, fams []coarseFamily) []byte {
	units := 0
	if len(b.units) > 0 {
		units = int(slices.Max(b.units)) + 1
	}
	// Pick the smaller set encoding over the whole section.
	bitset, list := len(b.bk)*((units+7)/8), 0
	for _, k := range b.bk {
		list += uvarintLen(uint64(k.hi - k.lo))
		prev := uint32(0)
		for _, u := range b.units[k.lo:k.hi] {
			list += uvarintLen(uint64(u - prev))
			prev = u
		}
	}
	kind := byte(setBitset)
	if list < bitset {
		kind = setList
	}
	out = binary.AppendUvarint(out, coarseUnit)
	out = binary.AppendUvarint(out, uint64(units))
	out = append(out, kind)
	bk := b.bk
	for _, f := range fams {
		out = append(out, f.shift)
		out = binary.AppendUvarint(out, uint64(f.n))
		var table []byte
		body := b.body[:0]
		for g := 0; g < f.n; g += postingsGroup {
			table = appendKey(table, bk[g].key, f.width)
			table = binary.BigEndian.AppendUint32(table, uint32(len(body)))
			prev := bk[g].key
			for i := g; i < min(g+postingsGroup, f.n); i++ {
				body = binary.AppendUvarint(body, bk[i].key-prev)
				prev = bk[i].key
				body = appendSet(body, kind, units, b.units[bk[i].lo:bk[i].hi])
			}
		}
		out = append(out, table...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
		out = append(out, body...)
		b.body = body
		bk = bk[f.n:]
	}
	return out
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func appendKey(dst []byte, k uint64, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, byte(k>>(8*i)))
	}
	return dst
}

// appendSet writes the sorted distinct units us in encoding kind.
func appendSet(dst []byte, kind byte, units int, us []uint32) []byte {
	if kind == setList {
		dst = binary.AppendUvarint(dst, uint64(len(us)))
		prev := uint32(0)
		for _, u := range us {
			dst = binary.AppendUvarint(dst, uint64(u-prev))
			prev = u
		}
		return dst
	}
	n := len(dst)
	dst = append(dst, make([]byte, (units+7)/8)...)
	for _, u := range us {
		dst[n+int(u/8)] |= 1 << (u % 8)
	}
	return dst
}

// appendPart writes one sorted part: the group table (first value, u32
// offset of the group in the entries area), a u32 entries length, then
// the entries.
func appendPart(out []byte, es []entry, width int) []byte {
	var table, body []byte
	for g := 0; g < len(es); g += postingsGroup {
		table = appendValue(table, &es[g], width)
		table = binary.BigEndian.AppendUint32(table, uint32(len(body)))
		prev := es[g].num
		for i := g; i < min(g+postingsGroup, len(es)); i++ {
			if width == 16 {
				body = append(body, es[i].v6[:]...)
			} else {
				body = binary.AppendUvarint(body, uint64(es[i].num-prev))
				prev = es[i].num
			}
			body = appendList(body, es[i].list)
		}
	}
	out = append(out, table...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func appendValue(dst []byte, e *entry, width int) []byte {
	switch width {
	case 1:
		return append(dst, byte(e.num))
	case 2:
		return binary.BigEndian.AppendUint16(dst, uint16(e.num))
	case 4:
		return binary.BigEndian.AppendUint32(dst, e.num)
	}
	return append(dst, e.v6[:]...)
}

// appendList writes uvarint(length<<1 | kind) and the list.
func appendList(dst []byte, rows []uint32) []byte {
	var deltas [256]byte
	d := deltas[:0]
	prev := uint32(0)
	for _, r := range rows {
		d = binary.AppendUvarint(d, uint64(r-prev))
		prev = r
	}
	// Roaring pays only for long lists (runs, dense containers); building
	// one to compare is costly, so short lists stay delta-varints.
	if len(rows) > 64 {
		bm := roaring.BitmapOf(rows...)
		bm.RunOptimize()
		if int(bm.GetSerializedSizeInBytes()) < len(d) {
			enc, _ := bm.ToBytes()
			dst = binary.AppendUvarint(dst, uint64(len(enc))<<1|listRoaring)
			return append(dst, enc...)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(d))<<1|listDeltas)
	return append(dst, d...)
}

// postings is a view over a postings value (no copy).
type postings struct {
	width int
	parts [2]part // numbers: parts[0]; addresses: IPv4, IPv6
	// The coarse section (version 3): buckets by family, like parts.
	coarse [2]part
	shift  [2]uint8
	unit   uint32 // rows per unit
	units  int    // units the sets may name
	set    byte   // setBitset or setList
}

type part struct {
	n      int // entries
	width  int // value width in the group table: 1, 2, 4, 8 or 16
	table  []byte
	body   []byte
	coarse bool // entries hold unit sets, not row lists
	set    byte // set encoding of a coarse part
	setLen int  // bytes of a bitset
}

func (p *part) groups() int { return (p.n + postingsGroup - 1) / postingsGroup }

func parsePostings(v []byte) (*postings, error) {
	if len(v) < 2 || (v[0] != postingsVersion && v[0] != postingsVersionV2) {
		return nil, fmt.Errorf("cannot decode postings: header %x: %w", v[:min(len(v), 2)], ErrCorrupt)
	}
	p := &postings{width: int(v[1])}
	rest := v[2:]
	var counts [2]uint64
	nparts, widths, cwidths := 1, [2]int{p.width, 0}, [2]int{p.width, 0}
	switch p.width {
	case 0:
		nparts, widths, cwidths = 2, [2]int{4, 16}, [2]int{4, 8}
	case 1, 2:
	default:
		return nil, fmt.Errorf("cannot decode postings: width %d: %w", p.width, ErrCorrupt)
	}
	for i := range nparts {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(v)) {
			return nil, fmt.Errorf("cannot decode postings count: %w", ErrCorrupt)
		}
		counts[i], rest = n, rest[k:]
	}
	var err error
	for i := range nparts {
		if p.parts[i], rest, err = parsePart(rest, int(counts[i]), widths[i]); err != nil {
			return nil, err
		}
	}
	if v[0] == postingsVersionV2 {
		return p, nil
	}
	unit, k := binary.Uvarint(rest)
	if k <= 0 || unit == 0 || unit > 1<<31 {
		return nil, fmt.Errorf("cannot decode postings unit rows: %w", ErrCorrupt)
	}
	rest = rest[k:]
	units, k := binary.Uvarint(rest)
	if k <= 0 || units > (1<<32)/unit+1 || len(rest) < k+1 {
		return nil, fmt.Errorf("cannot decode postings units: %w", ErrCorrupt)
	}
	p.unit, p.units, p.set = uint32(unit), int(units), rest[k]
	rest = rest[k+1:]
	if p.set != setBitset && p.set != setList {
		return nil, fmt.Errorf("cannot decode postings set encoding %d: %w", p.set, ErrCorrupt)
	}
	for i := range nparts {
		if len(rest) < 1 {
			return nil, fmt.Errorf("cannot decode postings coarse shift: %w", ErrCorrupt)
		}
		p.shift[i] = rest[0]
		if int(p.shift[i]) >= 8*cwidths[i] {
			return nil, fmt.Errorf("cannot decode postings coarse shift %d: %w", p.shift[i], ErrCorrupt)
		}
		n, k := binary.Uvarint(rest[1:])
		if k <= 0 || n > uint64(len(v)) {
			return nil, fmt.Errorf("cannot decode postings coarse count: %w", ErrCorrupt)
		}
		rest = rest[1+k:]
		if p.coarse[i], rest, err = parsePart(rest, int(n), cwidths[i]); err != nil {
			return nil, err
		}
		p.coarse[i].coarse, p.coarse[i].set, p.coarse[i].setLen = true, p.set, (p.units+7)/8
	}
	return p, nil
}

// parsePart reads a group table, the entries length and the entries.
func parsePart(rest []byte, n, width int) (part, []byte, error) {
	pt := part{n: n, width: width}
	tl := pt.groups() * (pt.width + 4)
	if len(rest) < tl+4 {
		return pt, nil, fmt.Errorf("cannot decode postings group table: %w", ErrCorrupt)
	}
	pt.table, rest = rest[:tl], rest[tl:]
	bl := int(binary.BigEndian.Uint32(rest))
	if bl > len(rest)-4 {
		return pt, nil, fmt.Errorf("cannot decode postings entries: %d bytes of %d: %w", bl, len(rest)-4, ErrCorrupt)
	}
	pt.body, rest = rest[4:4+bl], rest[4+bl:]
	return pt, rest, nil
}

// groupFirst returns group g's first value as a comparable key.
func (pt *part) groupFirst(g int) ([]byte, int) {
	o := g * (pt.width + 4)
	return pt.table[o : o+pt.width], int(binary.BigEndian.Uint32(pt.table[o+pt.width:]))
}

// collect calls fn with the list (or unit set) of each entry whose value
// is in [lo, hi] (big-endian, pt.width bytes each) and returns how many
// entries it found.
func (pt *part) collect(lo, hi []byte, fn func(kind byte, list []byte) error) (int, error) {
	// The last group whose first value <= lo holds lo, if anything does.
	g := sort.Search(pt.groups(), func(i int) bool {
		f, _ := pt.groupFirst(i)
		return bytes.Compare(f, lo) > 0
	}) - 1
	g = max(g, 0)
	found := 0
	var val [16]byte
	for ; g < pt.groups(); g++ {
		first, off := pt.groupFirst(g)
		if bytes.Compare(first, hi) > 0 {
			return found, nil
		}
		if off > len(pt.body) {
			return found, fmt.Errorf("cannot decode postings group offset %d: %w", off, ErrCorrupt)
		}
		b := pt.body[off:]
		copy(val[:], first)
		cur := beUint(first)
		for i := g * postingsGroup; i < min((g+1)*postingsGroup, pt.n); i++ {
			var v []byte
			if pt.width == 16 {
				if len(b) < 16 {
					return found, fmt.Errorf("cannot decode postings value: %w", ErrCorrupt)
				}
				v, b = b[:16], b[16:]
			} else {
				d, k := binary.Uvarint(b)
				if k <= 0 {
					return found, fmt.Errorf("cannot decode postings value: %w", ErrCorrupt)
				}
				b = b[k:]
				cur += d
				putBE(val[:pt.width], cur)
				v = val[:pt.width]
			}
			var list []byte
			var kind byte
			var err error
			if pt.coarse {
				list, b, err = pt.splitSet(b)
				kind = pt.set
			} else {
				l, k := binary.Uvarint(b)
				if k <= 0 || l>>1 > uint64(len(b)-k) {
					return found, fmt.Errorf("cannot decode postings list: %w", ErrCorrupt)
				}
				list, kind = b[k:k+int(l>>1)], byte(l&1)
				b = b[k+int(l>>1):]
			}
			if err != nil {
				return found, err
			}
			if bytes.Compare(v, hi) > 0 {
				return found, nil
			}
			if bytes.Compare(v, lo) < 0 {
				continue
			}
			found++
			if err := fn(kind, list); err != nil {
				return found, err
			}
		}
	}
	return found, nil
}

// splitSet returns the unit set at the start of b and the rest of b.
func (pt *part) splitSet(b []byte) ([]byte, []byte, error) {
	if pt.set == setBitset {
		if len(b) < pt.setLen {
			return nil, nil, fmt.Errorf("cannot decode postings unit set: %w", ErrCorrupt)
		}
		return b[:pt.setLen], b[pt.setLen:], nil
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("cannot decode postings unit list: %w", ErrCorrupt)
	}
	o := k
	for range n {
		_, k := binary.Uvarint(b[o:])
		if k <= 0 {
			return nil, nil, fmt.Errorf("cannot decode postings unit list: %w", ErrCorrupt)
		}
		o += k
	}
	return b[:o], b[o:], nil
}

func beUint(b []byte) uint64 {
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return x
}

func putBE(b []byte, x uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(x)
		x >>= 8
	}
}

// numRange ORs into bm the rows of values in [lo, hi] of a segment of
// rows rows. exact is false when coarse buckets added rows that may not
// hold such a value.
func (p *postings) numRange(bm *roaring.Bitmap, lo, hi, rows uint32) (exact bool, err error) {
	w := p.width
	l, h := make([]byte, w), make([]byte, w)
	putBE(l, uint64(lo))
	putBE(h, uint64(hi))
	n, err := p.parts[0].collect(l, h, rowLists(bm))
	if err != nil || (lo == hi && n > 0) {
		return true, err
	}
	s := p.shift[0]
	return p.coarseRange(bm, 0, uint64(lo>>s), uint64(hi>>s), rows)
}

// addrRange ORs into bm the rows of addresses in [lo, hi] (same family),
// like numRange.
func (p *postings) addrRange(bm *roaring.Bitmap, lo, hi netip.Addr, rows uint32) (exact bool, err error) {
	fam := 0
	var l, h []byte
	var klo, khi uint64
	if lo.Is4() {
		l4, h4 := lo.As4(), hi.As4()
		l, h = l4[:], h4[:]
		s := p.shift[0]
		klo, khi = uint64(binary.BigEndian.Uint32(l))>>s, uint64(binary.BigEndian.Uint32(h))>>s
	} else {
		fam = 1
		l16, h16 := lo.As16(), hi.As16()
		l, h = l16[:], h16[:]
		s := p.shift[1]
		klo, khi = binary.BigEndian.Uint64(l)>>s, binary.BigEndian.Uint64(h)>>s
	}
	n, err := p.parts[fam].collect(l, h, rowLists(bm))
	if err != nil || (lo == hi && n > 0) {
		return true, err
	}
	return p.coarseRange(bm, fam, klo, khi, rows)
}

func rowLists(bm *roaring.Bitmap) func(byte, []byte) error {
	return func(kind byte, list []byte) error { return unionList(bm, kind, list) }
}

// coarseRange ORs into bm the rows of the units of buckets [klo, khi] of
// family fam, and tells whether none did (the result is then exact).
func (p *postings) coarseRange(bm *roaring.Bitmap, fam int, klo, khi uint64, rows uint32) (bool, error) {
	pt := &p.coarse[fam]
	if pt.n == 0 {
		return true, nil
	}
	l, h := make([]byte, pt.width), make([]byte, pt.width)
	putBE(l, klo)
	putBE(h, khi)
	var one [1]uint64
	set := one[:]
	if p.units > 64 {
		set = make([]uint64, (p.units+63)/64)
	}
	n, err := pt.collect(l, h, func(kind byte, s []byte) error {
		return unionSet(set, p.units, kind, s)
	})
	if err != nil || n == 0 {
		return true, err
	}
	for i, w := range set {
		for w != 0 {
			u := uint64(i*64 + bits.TrailingZeros64(w))
			w &= w - 1
			start, end := u*uint64(p.unit), min((u+1)*uint64(p.unit), uint64(rows))
			if start < end {
				bm.AddRange(start, end)
			}
		}
	}
	return false, nil
}

// unionSet ORs a unit set into the bitset set.
func unionSet(set []uint64, units int, kind byte, s []byte) error {
	if kind == setBitset {
		for i, c := range s {
			set[i/8] |= uint64(c) << (8 * (i % 8))
		}
		if units%8 != 0 && len(s) > 0 && s[len(s)-1]>>(units%8) != 0 {
			return fmt.Errorf("cannot decode postings unit set: unit past %d: %w", units, ErrCorrupt)
		}
		return nil
	}
	n, k := binary.Uvarint(s)
	s = s[k:]
	u := uint64(0)
	for i := range n {
		d, k := binary.Uvarint(s)
		s = s[k:]
		u += d
		if u >= uint64(units) || (i > 0 && d == 0) {
			return fmt.Errorf("cannot decode postings unit list: unit %d of %d: %w", u, units, ErrCorrupt)
		}
		set[u/64] |= 1 << (u % 64)
	}
	return nil
}

func unionList(bm *roaring.Bitmap, kind byte, l []byte) error {
	if kind == listRoaring {
		x := roaring.New()
		if _, err := x.FromBuffer(l); err != nil {
			return fmt.Errorf("cannot decode roaring list: %v: %w", err, ErrCorrupt)
		}
		// x reads l in place; bm may be kept after l is gone, so it
		// takes copies of x's containers.
		bm.Or(x.Clone())
		return nil
	}
	row := uint64(0)
	for len(l) > 0 {
		d, k := binary.Uvarint(l)
		if k <= 0 {
			return fmt.Errorf("cannot decode delta list: %w", ErrCorrupt)
		}
		l = l[k:]
		row += d
		if row > 1<<32-1 {
			return fmt.Errorf("cannot decode delta list: row %d: %w", row, ErrCorrupt)
		}
		bm.Add(uint32(row))
	}
	return nil
}
