package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
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
// row list is whichever is smaller: delta-varints (rare values, the common
// case for ephemeral ports and one-off addresses) or a roaring bitmap.
// docs/format/postings.md has the byte layout.
const (
	postingsVersion = 2
	postingsGroup   = 32
)

const (
	listDeltas  = 0
	listRoaring = 1
)

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
	width   int              // 0 addresses, 1 or 2 bytes for numbers
	index4  map[uint32]int32 // IPv4 addresses (the map's fast path)
	index   map[pkey]int32   // IPv6 addresses
	keys    []pkey
	num     []int32 // value -> list index + 1 (numbers)
	numKeys []uint32
	lists   [][]uint32
	nlists  int
}

func newPostingsBuilder(width int) *postingsBuilder {
	b := &postingsBuilder{width: width}
	if width == 0 {
		b.index = make(map[pkey]int32, 64)
		b.index4 = make(map[uint32]int32, 1024)
	} else {
		b.num = make([]int32, 1<<(8*width))
	}
	return b
}

func (b *postingsBuilder) reset() {
	clear(b.index)
	clear(b.index4)
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
		if i, ok = b.index4[n]; !ok {
			i = b.newList()
			b.index4[n] = i
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

// build encodes the postings.
func (b *postingsBuilder) build() []byte {
	out := []byte{postingsVersion, byte(b.width)}
	if b.width != 0 {
		slices.Sort(b.numKeys)
		es := make([]entry, len(b.numKeys))
		for i, v := range b.numKeys {
			es[i] = entry{num: v, list: b.lists[b.num[v]-1]}
		}
		out = binary.AppendUvarint(out, uint64(len(es)))
		return appendPart(out, es, b.width)
	}
	var v4, v6 []entry
	for i, k := range b.keys {
		e := entry{list: b.lists[i]}
		if k.v4 {
			e.num = binary.BigEndian.Uint32(k.b[:4])
			v4 = append(v4, e)
		} else {
			e.v6 = k.b
			v6 = append(v6, e)
		}
	}
	slices.SortFunc(v4, func(x, y entry) int { return int(int64(x.num) - int64(y.num)) })
	slices.SortFunc(v6, func(x, y entry) int { return bytes.Compare(x.v6[:], y.v6[:]) })
	out = binary.AppendUvarint(out, uint64(len(v4)))
	out = binary.AppendUvarint(out, uint64(len(v6)))
	out = appendPart(out, v4, 4)
	return appendPart(out, v6, 16)
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
}

type part struct {
	n     int // entries
	width int // value width in the group table: 1, 2, 4 or 16
	table []byte
	body  []byte
}

func (p *part) groups() int { return (p.n + postingsGroup - 1) / postingsGroup }

func parsePostings(v []byte) (*postings, error) {
	if len(v) < 2 || v[0] != postingsVersion {
		return nil, fmt.Errorf("cannot decode postings: header %x: %w", v[:min(len(v), 2)], ErrCorrupt)
	}
	p := &postings{width: int(v[1])}
	rest := v[2:]
	var counts [2]uint64
	nparts, widths := 1, [2]int{p.width, 0}
	switch p.width {
	case 0:
		nparts, widths = 2, [2]int{4, 16}
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
	for i := range nparts {
		pt := part{n: int(counts[i]), width: widths[i]}
		tl := pt.groups() * (pt.width + 4)
		if len(rest) < tl+4 {
			return nil, fmt.Errorf("cannot decode postings group table: %w", ErrCorrupt)
		}
		pt.table, rest = rest[:tl], rest[tl:]
		bl := int(binary.BigEndian.Uint32(rest))
		if bl > len(rest)-4 {
			return nil, fmt.Errorf("cannot decode postings entries: %d bytes of %d: %w", bl, len(rest)-4, ErrCorrupt)
		}
		pt.body, rest = rest[4:4+bl], rest[4+bl:]
		p.parts[i] = pt
	}
	return p, nil
}

// groupFirst returns group g's first value as a comparable key.
func (pt *part) groupFirst(g int) ([]byte, int) {
	o := g * (pt.width + 4)
	return pt.table[o : o+pt.width], int(binary.BigEndian.Uint32(pt.table[o+pt.width:]))
}

// collect ORs into bm the lists of entries whose value is in [lo, hi]
// (big-endian, pt.width bytes each).
func (pt *part) collect(bm *roaring.Bitmap, lo, hi []byte) error {
	// The last group whose first value <= lo holds lo, if anything does.
	g := sort.Search(pt.groups(), func(i int) bool {
		f, _ := pt.groupFirst(i)
		return bytes.Compare(f, lo) > 0
	}) - 1
	g = max(g, 0)
	var val [16]byte
	for ; g < pt.groups(); g++ {
		first, off := pt.groupFirst(g)
		if bytes.Compare(first, hi) > 0 {
			return nil
		}
		if off > len(pt.body) {
			return fmt.Errorf("cannot decode postings group offset %d: %w", off, ErrCorrupt)
		}
		b := pt.body[off:]
		copy(val[:], first)
		cur := beUint(first)
		for i := g * postingsGroup; i < min((g+1)*postingsGroup, pt.n); i++ {
			var v []byte
			if pt.width == 16 {
				if len(b) < 16 {
					return fmt.Errorf("cannot decode postings value: %w", ErrCorrupt)
				}
				v, b = b[:16], b[16:]
			} else {
				d, k := binary.Uvarint(b)
				if k <= 0 {
					return fmt.Errorf("cannot decode postings value: %w", ErrCorrupt)
				}
				b = b[k:]
				cur += d
				putBE(val[:pt.width], cur)
				v = val[:pt.width]
			}
			l, k := binary.Uvarint(b)
			if k <= 0 || l>>1 > uint64(len(b)-k) {
				return fmt.Errorf("cannot decode postings list: %w", ErrCorrupt)
			}
			list := b[k : k+int(l>>1)]
			b = b[k+int(l>>1):]
			if bytes.Compare(v, hi) > 0 {
				return nil
			}
			if bytes.Compare(v, lo) < 0 {
				continue
			}
			if err := unionList(bm, byte(l&1), list); err != nil {
				return err
			}
		}
	}
	return nil
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

// numRange ORs the rows of values in [lo, hi] into bm.
func (p *postings) numRange(bm *roaring.Bitmap, lo, hi uint32) error {
	w := p.width
	l, h := make([]byte, w), make([]byte, w)
	putBE(l, uint64(lo))
	putBE(h, uint64(hi))
	return p.parts[0].collect(bm, l, h)
}

// addrRange ORs the rows of addresses in [lo, hi] (same family) into bm.
func (p *postings) addrRange(bm *roaring.Bitmap, lo, hi netip.Addr) error {
	if lo.Is4() {
		l, h := lo.As4(), hi.As4()
		return p.parts[0].collect(bm, l[:], h[:])
	}
	l, h := lo.As16(), hi.As16()
	return p.parts[1].collect(bm, l[:], h[:])
}

func unionList(bm *roaring.Bitmap, kind byte, l []byte) error {
	if kind == listRoaring {
		x := roaring.New()
		if _, err := x.FromBuffer(l); err != nil {
			return fmt.Errorf("cannot decode roaring list: %v: %w", err, ErrCorrupt)
		}
		bm.Or(x)
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
