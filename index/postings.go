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
// present and, per value, the rows holding it. A value's row list is kept
// as whichever is smaller: delta-varints (rare values, the common case for
// ephemeral ports and one-off addresses) or a serialized roaring bitmap.
// Lookups binary-search the dictionary and read only the lists in range.
// docs/format/postings.md has the byte layout.
//
//	u8  version (1)
//	u8  value width: 1, 2 (numbers) or 0 (addresses: IPv4 then IPv6 parts)
//	uvarint n4 (or n), uvarint n6 (addresses only)
//	values: n4 x 4 bytes, then n6 x 16 bytes, ascending (numbers: n x width, big-endian)
//	offsets: (n+1) x u32 big-endian, into the lists area
//	lists: per value, u8 kind (0 varint deltas: uvarint count, deltas; 1 roaring)
const postingsVersion = 1

const (
	listDeltas  byte = 0
	listRoaring byte = 1
)

// postingsBuilder collects (value, row) pairs for one field of a segment.
type postingsBuilder struct {
	index map[pkey]int32
	keys  []pkey
	lists [][]uint32
	buf   []byte
}

func newPostingsBuilder() *postingsBuilder {
	return &postingsBuilder{index: make(map[pkey]int32, 1024)}
}

func (b *postingsBuilder) reset() {
	clear(b.index)
	b.keys = b.keys[:0]
	for i := range b.lists {
		b.lists[i] = b.lists[i][:0]
	}
}

// add records that row holds key (an address's 16-byte key with its family
// in byte 0 for sorting, or a number).
func (b *postingsBuilder) add(key pkey, row uint32) {
	i, ok := b.index[key]
	if !ok {
		i = int32(len(b.keys))
		b.index[key] = i
		b.keys = append(b.keys, key)
		if int(i) == len(b.lists) {
			b.lists = append(b.lists, nil)
		}
	}
	b.lists[i] = append(b.lists[i], row)
}

// pkey is a postings value: an address (IPv4 in the first 4 bytes, v4 set)
// or a number (big-endian in the first 4 bytes).
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

func numKey(x uint32) pkey {
	var k pkey
	binary.BigEndian.PutUint32(k.b[:4], x)
	return k
}

// build encodes the postings; width is 0 for addresses, else 1 or 2.
func (b *postingsBuilder) build(width int) []byte {
	order := make([]int32, len(b.keys))
	for i := range order {
		order[i] = int32(i)
	}
	isV4 := func(k pkey) bool { return width == 0 && k.v4 }
	slices.SortFunc(order, func(x, y int32) int {
		kx, ky := b.keys[x], b.keys[y]
		if kx.v4 != ky.v4 {
			if kx.v4 {
				return -1
			}
			return 1
		}
		return bytes.Compare(kx.b[:], ky.b[:])
	})
	out := []byte{postingsVersion, byte(width)}
	if width == 0 {
		n4 := sort.Search(len(order), func(i int) bool { return !isV4(b.keys[order[i]]) })
		out = binary.AppendUvarint(out, uint64(n4))
		out = binary.AppendUvarint(out, uint64(len(order)-n4))
		for i, o := range order {
			if i < n4 {
				out = append(out, b.keys[o].b[:4]...)
			} else {
				out = append(out, b.keys[o].b[:]...)
			}
		}
	} else {
		out = binary.AppendUvarint(out, uint64(len(order)))
		for _, o := range order {
			out = append(out, b.keys[o].b[4-width:4]...)
		}
	}
	lists := b.buf[:0]
	offsets := make([]byte, 0, 4*(len(order)+1))
	for _, o := range order {
		offsets = binary.BigEndian.AppendUint32(offsets, uint32(len(lists)))
		lists = appendList(lists, b.lists[o])
	}
	offsets = binary.BigEndian.AppendUint32(offsets, uint32(len(lists)))
	b.buf = lists
	out = append(out, offsets...)
	return append(out, lists...)
}

func appendList(dst []byte, rows []uint32) []byte {
	deltas := make([]byte, 0, 2*len(rows)+4)
	deltas = binary.AppendUvarint(deltas, uint64(len(rows)))
	prev := uint32(0)
	for _, r := range rows {
		deltas = binary.AppendUvarint(deltas, uint64(r-prev))
		prev = r
	}
	if len(rows) > 8 {
		bm := roaring.BitmapOf(rows...)
		bm.RunOptimize()
		if int(bm.GetSerializedSizeInBytes()) < len(deltas) {
			enc, _ := bm.ToBytes()
			return append(append(dst, listRoaring), enc...)
		}
	}
	return append(append(dst, listDeltas), deltas...)
}

// postings is a decoded view over a postings value (no copy).
type postings struct {
	width   int
	n4, n   int // n4: IPv4 entries (addresses); n: all entries
	values  []byte
	offsets []byte
	lists   []byte
}

func parsePostings(v []byte) (*postings, error) {
	bad := func(what string) (*postings, error) {
		return nil, fmt.Errorf("cannot decode postings: %s: %w", what, ErrCorrupt)
	}
	if len(v) < 2 || v[0] != postingsVersion {
		return bad("header")
	}
	p := &postings{width: int(v[1])}
	rest := v[2:]
	n1, k := binary.Uvarint(rest)
	if k <= 0 || n1 > uint64(len(v)) {
		return bad("count")
	}
	rest = rest[k:]
	valBytes := n1 * uint64(p.width)
	p.n = int(n1)
	if p.width == 0 {
		n6, k := binary.Uvarint(rest)
		if k <= 0 || n6 > uint64(len(v)) {
			return bad("count")
		}
		rest = rest[k:]
		p.n4, p.n = int(n1), int(n1+n6)
		valBytes = 4*n1 + 16*n6
	} else if p.width != 1 && p.width != 2 {
		return bad("width")
	}
	offBytes := 4 * uint64(p.n+1)
	if valBytes+offBytes > uint64(len(rest)) {
		return bad("length")
	}
	p.values, rest = rest[:valBytes], rest[valBytes:]
	p.offsets, p.lists = rest[:offBytes], rest[offBytes:]
	return p, nil
}

// numRange returns the entry range [i, j) holding values in [lo, hi].
func (p *postings) numRange(lo, hi uint32) (int, int) {
	at := func(i int) uint32 {
		if p.width == 1 {
			return uint32(p.values[i])
		}
		return uint32(binary.BigEndian.Uint16(p.values[2*i:]))
	}
	i := sort.Search(p.n, func(k int) bool { return at(k) >= lo })
	j := sort.Search(p.n, func(k int) bool { return at(k) > hi })
	return i, j
}

// addrRange returns the entry range [i, j) holding addresses in [lo, hi]
// (same family).
func (p *postings) addrRange(lo, hi netip.Addr) (int, int) {
	if lo.Is4() {
		at := func(k int) netip.Addr { return netip.AddrFrom4([4]byte(p.values[4*k:])) }
		i := sort.Search(p.n4, func(k int) bool { return at(k).Compare(lo) >= 0 })
		j := sort.Search(p.n4, func(k int) bool { return at(k).Compare(hi) > 0 })
		return i, j
	}
	base := 4 * p.n4
	at := func(k int) netip.Addr { return netip.AddrFrom16([16]byte(p.values[base+16*k:])) }
	i := sort.Search(p.n-p.n4, func(k int) bool { return at(k).Compare(lo) >= 0 })
	j := sort.Search(p.n-p.n4, func(k int) bool { return at(k).Compare(hi) > 0 })
	return p.n4 + i, p.n4 + j
}

// union ORs the row lists of entries [i, j) into bm.
func (p *postings) union(bm *roaring.Bitmap, i, j int) error {
	for k := i; k < j; k++ {
		lo := binary.BigEndian.Uint32(p.offsets[4*k:])
		hi := binary.BigEndian.Uint32(p.offsets[4*k+4:])
		if lo > hi || int(hi) > len(p.lists) || lo == hi {
			return fmt.Errorf("cannot decode postings list %d: %w", k, ErrCorrupt)
		}
		if err := unionList(bm, p.lists[lo:hi]); err != nil {
			return err
		}
	}
	return nil
}

func unionList(bm *roaring.Bitmap, l []byte) error {
	switch l[0] {
	case listRoaring:
		x := roaring.New()
		if _, err := x.FromBuffer(l[1:]); err != nil {
			return fmt.Errorf("cannot decode roaring list: %v: %w", err, ErrCorrupt)
		}
		bm.Or(x)
		return nil
	case listDeltas:
		b := l[1:]
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return fmt.Errorf("cannot decode delta list: %w", ErrCorrupt)
		}
		b = b[k:]
		row := uint64(0)
		for ; n > 0; n-- {
			d, k := binary.Uvarint(b)
			if k <= 0 {
				return fmt.Errorf("cannot decode delta list: %w", ErrCorrupt)
			}
			b = b[k:]
			row += d
			bm.Add(uint32(row))
		}
		return nil
	}
	return fmt.Errorf("cannot decode postings list kind %d: %w", l[0], ErrCorrupt)
}
