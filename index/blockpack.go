package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/flowcase/flowcase/internal/flow"
)

// Codec 3 keeps the columns a selective query reads most (the address
// dictionary, the address indexes and the small-alphabet fixed-width
// columns) uncompressed and addressable by row, and gives varint columns a
// group table every 64 rows (or stores them as runs), so a few candidate
// rows of a block are decoded without decompressing or decoding whole
// columns. docs/format/block.md has the layouts.

// fixedWidth returns the byte width of a fixed-width column (0: a varint
// column or the dictionary).
func fixedWidth(col int) int {
	switch col {
	case colSrcPort, colDstPort:
		return 2
	case colProto, colTCPFlags, colICMPType, colICMPCode, colDir:
		return 1
	}
	return 0
}

// Packed column modes (codec 3, first byte of a fixed-width column).
const (
	packPlain   byte = 0 // the values, width bytes each
	packPalette byte = 1 // uvarint k, k sorted values, then a code of bitLen(k-1) bits per row
)

// dictEntry6 is an IPv6 dictionary entry being sorted, with its first-use
// index. (IPv4 entries are sorted as uint64: the address in the high half,
// the index in the low half.)
type dictEntry6 struct {
	a   [16]byte
	idx uint32
}

// finishAddrs writes the address dictionary and the address columns from
// the first-use indexes gathered while encoding rows. Codec 3 sorts the
// dictionary (IPv4 ascending as delta varints, then IPv6 ascending, each
// after the bytes it shares with the one before) and renumbers the address
// columns to match; codec 2 keeps first-use order.
func (e *blockEncoder) finishAddrs() {
	remap := e.remap[:0]
	if e.codec != codecPacked {
		for i := range e.n + 1 {
			remap = append(remap, uint32(i))
		}
	} else {
		remap = slices.Grow(remap, int(e.n)+1)[:e.n+1] // every entry set below
		remap[0] = 0                                   // no address
		slices.Sort(e.v4)
		slices.SortFunc(e.v6, func(a, b dictEntry6) int {
			if c := cmp.Compare(binary.BigEndian.Uint64(a.a[:8]), binary.BigEndian.Uint64(b.a[:8])); c != 0 {
				return c
			}
			return cmp.Compare(binary.BigEndian.Uint64(a.a[8:]), binary.BigEndian.Uint64(b.a[8:]))
		})
		d := binary.AppendUvarint(e.cols[colAddrDict][:0], uint64(len(e.v4)))
		d = binary.AppendUvarint(d, uint64(len(e.v6)))
		next, prev := uint32(1), uint32(0)
		deltas := e.scratch[:0]
		for _, k := range e.v4 {
			a := uint32(k >> 32)
			deltas = binary.AppendUvarint(deltas, uint64(a-prev))
			prev = a
			remap[uint32(k)] = next
			next++
		}
		e.scratch = deltas
		d = appendGroups(d, deltas, len(e.v4), true)
		var last [16]byte
		for i, k := range e.v6 {
			shared := 0
			if i > 0 {
				for shared < 15 && k.a[shared] == last[shared] {
					shared++
				}
			}
			d = append(append(d, byte(shared)), k.a[shared:]...)
			last = k.a
			remap[k.idx] = next
			next++
		}
		if e.n == 0 {
			d = d[:0] // no addresses: the column is absent
		}
		e.cols[colAddrDict] = d
	}
	e.remap = remap
	w := bits.Len64(e.n)
	for col := range e.ids {
		ids := e.ids[col]
		if len(ids) == 0 {
			continue
		}
		c := e.cols[col][:0]
		if e.codec != codecPacked {
			for _, id := range ids {
				c = binary.AppendUvarint(c, uint64(id))
			}
			e.cols[col] = c
			continue
		}
		if !slices.ContainsFunc(ids, func(id uint32) bool { return id != 0 }) {
			e.cols[col] = c // absent
			continue
		}
		// Codec 3: a byte w, then each row's index in w bits.
		c = append(c, byte(w))
		var bp bitPacker
		for _, id := range ids {
			c = bp.put(c, uint64(remap[id]), w)
		}
		e.cols[col] = bp.flush(c)
	}
}

// packFixed returns the codec 3 form of a fixed-width column: a palette of
// its distinct values and a bit-packed code per row when that is smaller,
// else the values as they are after a mode byte.
func (e *blockEncoder) packFixed(dst, plain []byte, width int) []byte {
	n := len(plain) / width
	e.gen++
	if e.gen == 0 { // wrapped: forget every stamp
		clear(e.stamp[:])
		e.gen = 1
	}
	// Past kmax distinct values a palette cannot be smaller: stop looking.
	kmax := paletteMax(n, width)
	pal := e.pal[:0]
	for i := range n {
		v := uint32(plain[i])
		if width == 2 {
			v = uint32(binary.BigEndian.Uint16(plain[2*i:]))
		}
		if e.stamp[v] != e.gen {
			e.stamp[v] = e.gen
			if pal = append(pal, uint16(v)); len(pal) > kmax {
				e.pal = pal
				return append(append(dst, packPlain), plain...)
			}
		}
	}
	slices.Sort(pal)
	e.pal = pal
	k := len(pal)
	w := bits.Len(uint(k - 1))
	if paletteSize(n, width, k) >= 1+len(plain) {
		return append(append(dst, packPlain), plain...)
	}
	for i, v := range pal {
		e.code[v] = uint16(i)
	}
	dst = append(dst, packPalette)
	dst = binary.AppendUvarint(dst, uint64(k))
	for _, v := range pal {
		if width == 2 {
			dst = binary.BigEndian.AppendUint16(dst, v)
		} else {
			dst = append(dst, byte(v))
		}
	}
	if w == 0 {
		return dst
	}
	var bp bitPacker
	for i := range n {
		v := uint32(plain[i])
		if width == 2 {
			v = uint32(binary.BigEndian.Uint16(plain[2*i:]))
		}
		dst = bp.put(dst, uint64(e.code[v]), w)
	}
	return bp.flush(dst)
}

// bitPacker appends codes of w bits (at most 16) to a byte string, from
// the least significant bit of each byte on.
type bitPacker struct {
	acc uint64
	nb  int
}

func (p *bitPacker) put(dst []byte, v uint64, w int) []byte {
	p.acc |= v << p.nb
	p.nb += w
	for p.nb >= 8 {
		dst = append(dst, byte(p.acc))
		p.acc >>= 8
		p.nb -= 8
	}
	return dst
}

// flush appends the last, partial byte.
func (p *bitPacker) flush(dst []byte) []byte {
	if p.nb > 0 {
		dst = append(dst, byte(p.acc))
		p.acc, p.nb = 0, 0
	}
	return dst
}

// paletteSize is the length of a palette column of n rows of width bytes
// with k distinct values.
func paletteSize(n, width, k int) int {
	return 1 + uvarintLen(uint64(k)) + k*width + (n*bits.Len(uint(k-1))+7)/8
}

// paletteMax returns the most distinct values a palette column of n rows
// of width bytes may have and still be smaller than the plain column
// (paletteSize grows with k: a binary search).
func paletteMax(n, width int) int {
	plain := 1 + n*width
	lo, hi := 0, n // paletteSize(lo) < plain, or lo == 0
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if paletteSize(n, width, mid) < plain {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// packedCol is a parsed codec 3 fixed-width or address column.
type packedCol struct {
	width int
	plain []byte // packPlain: the values
	pal   []byte // packPalette: the values, by code, width bytes each
	k     uint64 // the palette's length
	ident bool   // an address column: the codes are the values
	w     uint   // bits per code
	codes []byte
}

// parseIndexes reads a codec 3 address column of n rows: a byte w (at most
// 16), then each row's dictionary index in w bits.
func parseIndexes(b []byte, n int) (packedCol, error) {
	if len(b) < 1 || b[0] > 16 || len(b)-1 != (n*int(b[0])+7)/8 {
		return packedCol{}, ErrCorrupt
	}
	return packedCol{ident: true, w: uint(b[0]), codes: b[1:]}, nil
}

// parsePacked reads the header of a codec 3 fixed-width column of n rows.
// The palette is read in place: a query that reads a few rows of a block
// does not decode a palette of thousands of ports.
func (d *blockDecoder) parsePacked(b []byte, width, n int) (packedCol, error) {
	p := packedCol{width: width}
	if len(b) < 1 {
		return p, ErrCorrupt
	}
	switch b[0] {
	case packPlain:
		if len(b)-1 != n*width {
			return p, ErrCorrupt
		}
		p.plain = b[1:]
		return p, nil
	case packPalette:
	default:
		return p, ErrCorrupt
	}
	k, m := binary.Uvarint(b[1:])
	if m <= 0 || k == 0 || k > 1<<(8*width) {
		return p, ErrCorrupt
	}
	b = b[1+m:]
	if uint64(len(b)) < k*uint64(width) {
		return p, ErrCorrupt
	}
	p.pal, p.k, p.w = b[:int(k)*width], k, uint(bits.Len64(k-1))
	p.codes = b[int(k)*width:]
	if len(p.codes) != (n*int(p.w)+7)/8 {
		return p, ErrCorrupt
	}
	return p, nil
}

// at returns row i's value (i below the column's row count).
func (p *packedCol) at(i int) (uint64, bool) {
	if p.ident {
		return p.code(i), true
	}
	if p.pal == nil {
		if p.width == 2 {
			return uint64(binary.BigEndian.Uint16(p.plain[2*i:])), true
		}
		return uint64(p.plain[i]), true
	}
	c := p.code(i)
	if c >= p.k {
		return 0, false
	}
	return p.palValue(c), true
}

// palValue returns the palette's value of code c (below k).
func (p *packedCol) palValue(c uint64) uint64 {
	if p.width == 2 {
		return uint64(binary.BigEndian.Uint16(p.pal[2*c:]))
	}
	return uint64(p.pal[c])
}

// code returns row i's code (w bits, at most 16).
func (p *packedCol) code(i int) uint64 {
	if p.w == 0 {
		return 0
	}
	off := uint(i) * p.w
	j := int(off >> 3)
	x := uint32(p.codes[j])
	if j+1 < len(p.codes) {
		x |= uint32(p.codes[j+1]) << 8
	}
	if j+2 < len(p.codes) {
		x |= uint32(p.codes[j+2]) << 16
	}
	return uint64(x>>(off&7)) & (1<<p.w - 1)
}

// all decodes every row's value into out (len n); a palette is decoded
// first into *pal, which keeps the buffer for the next column.
func (p *packedCol) all(out []uint64, pal *[]uint64) bool {
	if !p.ident && p.pal == nil { // plain values
		if p.width == 2 {
			for i := range out {
				out[i] = uint64(binary.BigEndian.Uint16(p.plain[2*i:]))
			}
		} else {
			for i := range out {
				out[i] = uint64(p.plain[i])
			}
		}
		return true
	}
	if p.w == 0 { // every row has code 0
		var v uint64
		if !p.ident {
			v = p.palValue(0)
		}
		for i := range out {
			out[i] = v
		}
		return true
	}
	var values []uint64
	if !p.ident {
		values = (*pal)[:0]
		for c := range p.k {
			values = append(values, p.palValue(c))
		}
		*pal = values
	}
	codes, w := p.codes, p.w
	mask := uint64(1)<<w - 1
	var acc uint64
	var nb uint
	for i := range out {
		if nb < w {
			if len(codes) >= 8 {
				// Refill with the whole bytes that fit above the nb
				// buffered bits. The next byte's low bits may land in
				// acc too; the next refill ORs the same bits there.
				acc |= binary.LittleEndian.Uint64(codes) << nb
				take := (63 - nb) >> 3
				codes = codes[take:]
				nb += take << 3
			} else {
				for nb < w && len(codes) > 0 {
					acc |= uint64(codes[0]) << nb
					codes = codes[1:]
					nb += 8
				}
			}
		}
		c := acc & mask
		acc >>= w
		nb -= w
		if p.ident {
			out[i] = c
			continue
		}
		if c >= uint64(len(values)) {
			return false
		}
		out[i] = values[c]
	}
	return true
}

// setFixed stores the value of a fixed-width column in r.
func setFixed(r *flow.Record, col int, v uint64) {
	switch col {
	case colSrcPort:
		r.SrcPort = uint16(v)
	case colDstPort:
		r.DstPort = uint16(v)
	case colProto:
		r.Proto = uint8(v)
	case colTCPFlags:
		r.TCPFlags = uint8(v)
	case colICMPType:
		r.ICMPType = uint8(v)
	case colICMPCode:
		r.ICMPCode = uint8(v)
	case colDir:
		r.Dir = flow.Direction(v)
	}
}

// decodePacked decodes a codec 3 fixed-width column for every row, or for
// the rows in sel.
func (d *blockDecoder) decodePacked(col int, b []byte, sel []uint16) error {
	p, err := d.parsePacked(b, fixedWidth(col), d.n)
	if err != nil {
		return err
	}
	return d.fillFixed(col, &p, sel)
}

// decodeFixed decodes a fixed-width column of codecs 0 to 2 (the values,
// width bytes each) for every row, or for the rows in sel.
func (d *blockDecoder) decodeFixed(col int, b []byte, sel []uint16) error {
	w := fixedWidth(col)
	if len(b) < d.n*w {
		return ErrCorrupt
	}
	return d.fillFixed(col, &packedCol{width: w, plain: b[:d.n*w]}, sel)
}

// fillFixed sets column col of d.rows from p: every row, or the rows in
// sel.
func (d *blockDecoder) fillFixed(col int, p *packedCol, sel []uint16) error {
	if sel != nil {
		rows := d.rows[:len(sel)]
		for j, s := range sel {
			v, ok := p.at(int(s))
			if !ok {
				return ErrCorrupt
			}
			setFixed(&rows[j], col, v)
		}
		return nil
	}
	if cap(d.vals) < d.n {
		d.vals = make([]uint64, d.n)
	}
	v := d.vals[:d.n]
	if !p.all(v, &d.palBuf) {
		return ErrCorrupt
	}
	rows := d.rows
	switch col {
	case colSrcPort:
		for i := range rows {
			rows[i].SrcPort = uint16(v[i])
		}
	case colDstPort:
		for i := range rows {
			rows[i].DstPort = uint16(v[i])
		}
	case colProto:
		for i := range rows {
			rows[i].Proto = uint8(v[i])
		}
	case colTCPFlags:
		for i := range rows {
			rows[i].TCPFlags = uint8(v[i])
		}
	default:
		for i := range rows {
			setFixed(&rows[i], col, v[i])
		}
	}
	return nil
}

// openDict decodes a codec 3 dictionary: uvarint n4, uvarint n6, the n4
// IPv4 addresses as ascending delta varints, then the n6 IPv6 addresses,
// each as a byte s (bytes shared with the previous one, at most 15) and
// its 16-s other bytes.
//
// With whole, every IPv4 entry is decoded; else an entry is found when
// asked for, from its group's sum and the deltas before it in the group.
func (d *blockDecoder) openDict(b []byte, whole bool) error {
	n4, m := binary.Uvarint(b)
	if m <= 0 || n4 > uint64(len(b)) {
		return ErrCorrupt
	}
	b = b[m:]
	n6, m := binary.Uvarint(b)
	if m <= 0 || n6 > uint64(len(b)) {
		return ErrCorrupt
	}
	b = b[m:]
	d.dict4, d.dict6 = d.dict4[:0], d.dict6[:0]
	d.n4, d.n6, d.whole4 = int(n4), int(n6), whole
	d.ndict = int(n4 + n6)
	if err := d.gd.parse(b, int(n4), true); err != nil {
		return err
	}
	if !whole {
		return nil // entries are found when asked for (entry)
	}
	b = d.gd.data
	var a uint32
	for range n4 {
		if len(b) > 0 && b[0] < 0x80 {
			a += uint32(b[0])
			b = b[1:]
		} else {
			x, m := binary.Uvarint(b)
			if m <= 0 {
				return ErrCorrupt
			}
			a += uint32(x)
			b = b[m:]
		}
		d.dict4 = append(d.dict4, a)
	}
	return d.openDict6(b)
}

// openDict6 decodes the IPv6 entries of a codec 3 dictionary, b being the
// bytes after its IPv4 entries.
func (d *blockDecoder) openDict6(b []byte) error {
	var last [16]byte
	for i := range d.n6 {
		if len(b) < 1 {
			return ErrCorrupt
		}
		s := int(b[0])
		if s > 15 || (i == 0 && s != 0) || len(b) < 1+16-s {
			return ErrCorrupt
		}
		copy(last[s:], b[1:1+16-s])
		b = b[1+16-s:]
		d.dict6 = append(d.dict6, last)
	}
	if len(b) != 0 {
		return ErrCorrupt
	}
	return nil
}

// entry6 returns IPv6 entry i (0-based), decoding the IPv6 entries on
// first use when the dictionary was opened for a few rows.
func (d *blockDecoder) entry6(i uint64) (netip.Addr, bool) {
	if len(d.dict6) != d.n6 {
		b := d.gd.data
		if d.n4 > 0 {
			last := (d.n4 - 1) / groupRows
			off, _, ok := d.gd.start(last)
			if !ok {
				return netip.Addr{}, false
			}
			if b = skipUvarints(b[off:], d.n4-last*groupRows); b == nil {
				return netip.Addr{}, false
			}
		}
		if d.openDict6(b) != nil {
			d.dict6 = d.dict6[:0]
			return netip.Addr{}, false
		}
	}
	return netip.AddrFrom16(d.dict6[i]), true
}

// entry returns dictionary entry x (1-based, at most d.ndict). A damaged
// group of IPv4 entries gives the zero Addr and sets d.dictBad.
func (d *blockDecoder) entry(x uint64) netip.Addr {
	if d.codec != codecPacked {
		return d.dict[x-1]
	}
	if x > uint64(d.n4) {
		a, ok := d.entry6(x - uint64(d.n4) - 1)
		d.dictBad = d.dictBad || !ok
		return a
	}
	var a uint32
	if d.whole4 {
		a = d.dict4[x-1]
	} else {
		_, sum, ok := d.gd.at(int(x - 1))
		if !ok {
			d.dictBad = true
			return netip.Addr{}
		}
		a = uint32(sum)
	}
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// sumUvarints returns the sum of the first k varints of b and b after
// them, or nil when b holds fewer. The varints of one- and two-byte values
// (deltas of starts and of a block's sorted addresses, mostly) are added
// a word at a time: a byte's low seven bits count once, or 128 times in the
// second byte of a varint. A longer varint is decoded alone.
func sumUvarints(b []byte, k int) (uint64, []byte) {
	const hi, lo = 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	var s uint64
	for k > 0 {
		if len(b) >= 8 {
			w := binary.LittleEndian.Uint64(b)
			if ends := ^w & hi; ends != 0 {
				// The word up to its last end, or its k-th: whole varints.
				last := 63 - bits.LeadingZeros64(ends)
				t := bits.OnesCount64(ends)
				if t > k {
					last, t = kthBit(ends, k), k
				}
				keep := ^uint64(0) >> (63 - last)
				cont := w & hi & keep
				if cont&(cont<<8) == 0 { // no varint of three bytes or more
					v := w & lo & keep
					second := (cont << 1) * 0xff // 0xff on each second byte
					s += byteSum(v) + 127*byteSum(v&second)
					b, k = b[(last+1)>>3:], k-t
					continue
				}
			}
		}
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, nil
		}
		s += x
		b, k = b[n:], k-1
	}
	return s, b
}

// byteSum adds the bytes of v, each at most 0x7f.
func byteSum(v uint64) uint64 {
	x := v&0x00ff00ff00ff00ff + v>>8&0x00ff00ff00ff00ff
	return x * 0x0001000100010001 >> 48
}

// selectStarts sets the start (and provisional end) of the rows in sel
// from a codec 3 start column: each from its group's sum and the deltas
// before it in the group.
func (d *blockDecoder) selectStarts(b []byte, sel []uint16) error {
	if len(b) < 8 {
		return ErrCorrupt
	}
	t := int64(binary.BigEndian.Uint64(b))
	unit, n := binary.Uvarint(b[8:])
	if n <= 0 || unit < 1 || unit > 1e9 {
		return ErrCorrupt
	}
	d.unit = int64(unit)
	g := &d.gv
	if err := g.parse(b[8+n:], d.n, true); err != nil {
		return err
	}
	rows := d.rows[:len(sel)]
	for j, s := range sel {
		_, sum, ok := g.at(int(s))
		if !ok {
			return ErrCorrupt
		}
		rows[j].Start = t + int64(sum)*d.unit
		rows[j].End = rows[j].Start
	}
	return nil
}

// isAddrColumn reports whether col holds dictionary indexes.
func isAddrColumn(col int) bool { return addrColumns&(1<<col) != 0 }

// decodeIndexes decodes a codec 3 address column for every row, or for
// the rows in sel.
func (d *blockDecoder) decodeIndexes(col int, b []byte, sel []uint16) error {
	p, err := parseIndexes(b, d.n)
	if err != nil {
		return err
	}
	if sel != nil {
		rows := d.rows[:len(sel)]
		for j, s := range sel {
			if err := d.setUvarint(&rows[j], col, p.code(int(s))); err != nil {
				return err
			}
		}
		return nil
	}
	if cap(d.vals) < d.n {
		d.vals = make([]uint64, d.n)
	}
	v := d.vals[:d.n]
	p.all(v, nil)
	return d.setAddrs(col, v)
}

// setAddrs sets address column col of every row from its dictionary
// indexes v (0: none), in any codec.
func (d *blockDecoder) setAddrs(col int, v []uint64) error {
	n := uint64(d.ndict)
	for _, x := range v {
		if x > n {
			return ErrCorrupt
		}
	}
	rows := d.rows
	var a netip.Addr
	switch col {
	case colSrcAddr:
		for i, x := range v {
			a = netip.Addr{}
			if x != 0 {
				a = d.entry(x)
			}
			rows[i].SrcAddr = a
		}
	case colDstAddr:
		for i, x := range v {
			a = netip.Addr{}
			if x != 0 {
				a = d.entry(x)
			}
			rows[i].DstAddr = a
		}
	default:
		for i, x := range v {
			if err := d.setUvarint(&rows[i], col, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// Codec 3 varint columns (all but the start) begin with a mode byte.
const (
	varintGroups byte = 0 // a group table, then one varint per row
	varintRuns   byte = 1 // uvarint r, then r runs: uvarint value, uvarint rows
)

// maxRuns is the most runs a varint column is stored as: a selected row's
// value is found by walking its runs.
const maxRuns = 64

// appendRuns appends the runs form of c, n varints, when it has at most
// maxRuns runs and is smaller than the group form (groupLen bytes), and
// reports whether it did. A column of one value (the source, the sampling
// interval of one exporter) is one run; a compacted partition's source
// column is a few.
func appendRuns(dst, c []byte, n, groupLen int) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, varintRuns, 0) // the run count, patched below (< 128)
	r := 0
	for b := c; len(b) > 0; {
		_, k := binary.Uvarint(b)
		if k <= 0 {
			return dst[:start], false
		}
		v, l := b[:k], 1
		for b = b[k:]; len(b) >= k && bytes.Equal(b[:k], v); b = b[k:] { // v's bytes: one whole varint
			l++
		}
		if r++; r > maxRuns {
			return dst[:start], false
		}
		dst = binary.AppendUvarint(append(dst, v...), uint64(l))
	}
	dst[start+1] = byte(r)
	if len(dst)-start >= groupLen {
		return dst[:start], false
	}
	return dst, true
}

// groupRows is how many varints a codec 3 group table entry covers: a
// selected row is reached by skipping at most groupRows-1 varints after
// its group's start.
const groupRows = 64

// appendGroups appends to dst the group table of data, n varints, then
// data. The table has an entry for each group but the first: the byte
// offset in data of the group's first varint (u16 little-endian) and, when
// summed, the sum of the varints before it (sw bytes little-endian, sw a
// byte at the front of a summed table: 4 when every sum fits, else 8). A
// varint is then reached from its group's entry without reading others.
func appendGroups(dst, data []byte, n int, summed bool) []byte {
	m := (n - 1) / groupRows
	if m <= 0 {
		if summed {
			dst = append(dst, 4)
		}
		return append(dst, data...)
	}
	if summed {
		// The largest sum in the table is the last entry's.
		total, rest := sumUvarints(data, m*groupRows)
		if rest == nil {
			panic("index: group table of a short varint column") // the encoder wrote data
		}
		sw := byte(4)
		if total > 1<<32-1 {
			sw = 8
		}
		dst = append(dst, sw)
	}
	sw := 0
	if summed {
		sw = int(dst[len(dst)-1])
	}
	b := data
	var total uint64
	for range m {
		sum, rest := sumUvarints(b, groupRows)
		if rest == nil {
			panic("index: group table of a short varint column")
		}
		total += sum
		b = rest
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(data)-len(b)))
		switch sw {
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(total))
		case 8:
			dst = binary.LittleEndian.AppendUint64(dst, total)
		}
	}
	return append(dst, data...)
}

// groupsLen returns the length of the group table at the front of b, n
// varints.
func groupsLen(b []byte, n int, summed bool) (int, error) {
	m := max((n-1)/groupRows, 0)
	if !summed {
		if len(b) < 2*m {
			return 0, ErrCorrupt
		}
		return 2 * m, nil
	}
	if len(b) < 1 || (b[0] != 4 && b[0] != 8) || len(b) < 1+(2+int(b[0]))*m {
		return 0, ErrCorrupt
	}
	return 1 + (2+int(b[0]))*m, nil
}

// groups is a codec 3 group table over its varints.
type groups struct {
	data  []byte
	table []byte // entries of groups 1 on
	sw    int    // bytes of a sum in an entry (0: not summed)
}

// parse finds the group table at the front of b (n varints).
func (g *groups) parse(b []byte, n int, summed bool) error {
	l, err := groupsLen(b, n, summed)
	if err != nil {
		return err
	}
	g.sw = 0
	if summed {
		g.sw = int(b[0])
		b = b[1:]
		l--
	}
	g.table, g.data = b[:l], b[l:]
	return nil
}

// start returns the byte offset in data of group gi's first varint and the
// sum of the varints before it.
func (g *groups) start(gi int) (int, uint64, bool) {
	if gi == 0 {
		return 0, 0, true
	}
	e := g.table[(gi-1)*(2+g.sw):]
	off := int(binary.LittleEndian.Uint16(e))
	if off > len(g.data) {
		return 0, 0, false
	}
	switch g.sw {
	case 4:
		return off, uint64(binary.LittleEndian.Uint32(e[2:])), true
	case 8:
		return off, binary.LittleEndian.Uint64(e[2:]), true
	}
	return off, 0, true
}

// varintData returns the varints of a codec 3 varint column (after its
// mode byte and group table) for decoding every row; a column of runs is
// expanded into d.constBuf.
func (d *blockDecoder) varintData(b []byte) ([]byte, error) {
	if len(b) < 1 {
		return nil, ErrCorrupt
	}
	switch b[0] {
	case varintGroups:
		return skipGroups(b[1:], d.n, false)
	case varintRuns:
		runs, err := d.parseRuns(b[1:])
		if err != nil {
			return nil, err
		}
		c := d.constBuf[:0]
		for _, r := range runs {
			for range r.rows {
				c = binary.AppendUvarint(c, r.v)
			}
		}
		d.constBuf = c
		return c, nil
	}
	return nil, ErrCorrupt
}

// run is rows consecutive rows of one value.
type run struct {
	v    uint64
	rows int
}

// parseRuns reads the runs of a codec 3 varint column (after its mode
// byte) into d.runs; their rows must add up to the block's.
func (d *blockDecoder) parseRuns(b []byte) ([]run, error) {
	r, k := binary.Uvarint(b)
	if k <= 0 || r == 0 || r > maxRuns {
		return nil, ErrCorrupt
	}
	b = b[k:]
	runs, total := d.runs[:0], 0
	for range r {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, ErrCorrupt
		}
		l, m := binary.Uvarint(b[k:])
		if m <= 0 || l == 0 || l > uint64(d.n-total) {
			return nil, ErrCorrupt
		}
		b = b[k+m:]
		runs = append(runs, run{v, int(l)})
		total += int(l)
	}
	d.runs = runs
	if total != d.n || len(b) != 0 {
		return nil, ErrCorrupt
	}
	return runs, nil
}

// skipGroups returns b after its group table (codec 3 varint columns
// decoded whole).
func skipGroups(b []byte, n int, summed bool) ([]byte, error) {
	l, err := groupsLen(b, n, summed)
	if err != nil {
		return nil, err
	}
	return b[l:], nil
}

// at returns varint i and, for summed tables, the sum of varints 0..i.
func (g *groups) at(i int) (x, sum uint64, ok bool) {
	gi := i / groupRows
	off, base, ok := g.start(gi)
	if !ok {
		return 0, 0, false
	}
	b := g.data[off:]
	var s uint64
	if k := i - gi*groupRows; k > 0 {
		if g.sw != 0 {
			s, b = sumUvarints(b, k)
		} else {
			b = skipUvarints(b, k)
		}
		if b == nil {
			return 0, 0, false
		}
	}
	x, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, false
	}
	return x, base + s + x, true
}

// selectVarints decodes a codec 3 varint column for the rows in sel.
func (d *blockDecoder) selectVarints(col int, b []byte, sel []uint16) error {
	rows := d.rows[:len(sel)]
	if len(b) < 1 || b[0] > varintRuns {
		return ErrCorrupt
	}
	if b[0] == varintRuns {
		runs, err := d.parseRuns(b[1:])
		if err != nil {
			return err
		}
		ri, end := 0, runs[0].rows // the run holding the row, and its end
		for j, s := range sel {
			for int(s) >= end {
				ri++
				end += runs[ri].rows
			}
			if err := d.setUvarint(&rows[j], col, runs[ri].v); err != nil {
				return err
			}
		}
		return nil
	}
	g := &d.gv
	if err := g.parse(b[1:], d.n, false); err != nil {
		return err
	}
	for j, s := range sel {
		x, _, ok := g.at(int(s))
		if !ok {
			return ErrCorrupt
		}
		if err := d.setUvarint(&rows[j], col, x); err != nil {
			return err
		}
	}
	return nil
}
