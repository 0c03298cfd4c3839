package index

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/klauspost/compress/zstd"
)

// BlockRows is the most rows a block holds.
const BlockRows = 4096

// Column ids inside a block, in the order they are stored. A block keeps
// each column apart, so a query that needs a few columns decodes only those
// (all are decompressed together). docs/format/block.md has the encodings.
const (
	colStart       = iota // i64 first start, then uvarint deltas (rows sorted by start)
	colDuration           // uvarint end-start
	colAddrDict           // the block's address dictionary
	colSrcAddr            // uvarint dictionary index (0: none)
	colDstAddr            // uvarint dictionary index
	colSrcPort            // u16 big-endian
	colDstPort            // u16 big-endian
	colProto              // u8
	colTCPFlags           // u8
	colBytes              // uvarint
	colPackets            // uvarint
	colRevBytes           // uvarint
	colRevPackets         // uvarint
	colPostBytes          // uvarint
	colPostPackets        // uvarint
	colICMPType           // u8
	colICMPCode           // u8
	colInIf               // uvarint
	colOutIf              // uvarint
	colSrcAS              // uvarint
	colDstAS              // uvarint
	colNextHop            // uvarint dictionary index
	colVLAN               // uvarint
	colDir                // u8
	colNATSrcAddr         // uvarint dictionary index
	colNATDstAddr         // uvarint dictionary index
	colNATSrcPort         // uvarint
	colNATDstPort         // uvarint
	colExporter           // uvarint dictionary index
	colObsDomain          // uvarint
	colSampling           // uvarint
	colSource             // uvarint
	numColumns
)

// Columns is a set of block columns to decode (bit i = column i).
type Columns uint64

// AllColumns decodes every field of a record.
const AllColumns Columns = 1<<numColumns - 1

// Column groups the query layer asks for by name.
const (
	ColTime     Columns = 1<<colStart | 1<<colDuration
	ColAddrs    Columns = 1<<colAddrDict | 1<<colSrcAddr | 1<<colDstAddr
	ColPorts    Columns = 1<<colSrcPort | 1<<colDstPort
	ColProto    Columns = 1 << colProto
	ColFlags    Columns = 1 << colTCPFlags
	ColCounters Columns = 1<<colBytes | 1<<colPackets | 1<<colRevBytes | 1<<colRevPackets
	ColExporter Columns = 1<<colAddrDict | 1<<colExporter | 1<<colObsDomain
	ColICMP     Columns = 1<<colICMPType | 1<<colICMPCode
	ColSampling Columns = 1 << colSampling
	ColSource   Columns = 1 << colSource
	ColSrcAddr  Columns = 1<<colAddrDict | 1<<colSrcAddr
	ColDstAddr  Columns = 1<<colAddrDict | 1<<colDstAddr
	ColSrcPort  Columns = 1 << colSrcPort
	ColDstPort  Columns = 1 << colDstPort
	ColBytes    Columns = 1<<colBytes | 1<<colRevBytes
	ColPackets  Columns = 1<<colPackets | 1<<colRevPackets
	ColSrcAS    Columns = 1 << colSrcAS
	ColDstAS    Columns = 1 << colDstAS
	ColVLAN     Columns = 1 << colVLAN
	ColInIf     Columns = 1 << colInIf
	ColOutIf    Columns = 1 << colOutIf
	ColNATSrc   Columns = 1<<colAddrDict | 1<<colNATSrcAddr | 1<<colNATSrcPort
	ColNATDst   Columns = 1<<colAddrDict | 1<<colNATDstAddr | 1<<colNATDstPort
	ColNextHop  Columns = 1<<colAddrDict | 1<<colNextHop
)

// Codec bytes: how a block's column payload is compressed.
const (
	codecNone    byte = 0 // the column area stored as is
	codecZstd    byte = 1 // the column area as one zstd frame (written by format 1)
	codecColumns byte = 2 // each column compressed apart (format 2)
	codecPacked  byte = 3 // as 2, with a sorted fixed-width address dictionary and packed small-alphabet columns (format 3)
)

// zdec decompresses blocks; DecodeAll is safe for concurrent use.
var zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))

// newZstdEncoder returns an encoder for one goroutine's blocks (a shared
// encoder would serialize the segment flushers on its single slot).
func newZstdEncoder() *zstd.Encoder {
	z, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
	return z
}

// blockEncoder turns sorted rows into a block value, reusing its buffers.
type blockEncoder struct {
	codec  byte // codecPacked; tests set codecColumns to write format 2 blocks
	cols   [numColumns][]byte
	dict4  *u32Table // IPv4 addresses
	dict   map[netip.Addr]uint64
	n      uint64 // dictionary entries
	z      *zstd.Encoder
	packed [numColumns][]byte // each column as stored

	// The address columns' first-use dictionary indexes, rewritten once
	// the dictionary is sorted (finishAddrs).
	ids   [numColumns][]uint32
	v4    []uint64     // address<<32 | first-use index
	v6    []dictEntry6 // IPv6 entries
	remap []uint32     // first-use index -> sorted index

	// packFixed's distinct-value table: stamp[v] == gen marks v seen in
	// the column at hand; code[v] is its palette code.
	stamp   [1 << 16]uint32
	code    [1 << 16]uint16
	gen     uint32
	pal     []uint16
	pk      []byte
	scratch []byte
	runs    []byte
}

func newBlockEncoder() *blockEncoder {
	return &blockEncoder{codec: codecPacked, dict: make(map[netip.Addr]uint64, 64), dict4: newU32Table(11), z: newZstdEncoder()}
}

// encode appends the block value of rows (sorted by Start, at most
// BlockRows) to dst.
func (e *blockEncoder) encode(dst []byte, rows []*flow.Record) []byte {
	for i := range e.cols {
		e.cols[i] = e.cols[i][:0]
	}
	for i := range e.ids {
		e.ids[i] = e.ids[i][:0]
	}
	clear(e.dict)
	e.dict4.reset()
	e.n, e.v4, e.v6 = 0, e.v4[:0], e.v6[:0]
	e.encodeTimes(rows)
	for _, r := range rows {
		e.encodeRow(r)
	}
	e.finishAddrs()
	dst = append(dst, e.codec)
	dst = binary.AppendUvarint(dst, uint64(len(rows)))
	e.pk = e.pk[:0]
	for i, c := range e.cols {
		e.packed[i] = e.packed[i][:0]
		if allZero(c) {
			dst = binary.AppendUvarint(dst, 0)
			continue
		}
		if e.codec == codecPacked {
			if i == colAddrDict || isAddrColumn(i) || fixedWidth(i) != 0 {
				// Kept addressable by row: never compressed.
				if w := fixedWidth(i); w != 0 {
					start := len(e.pk)
					e.pk = e.packFixed(e.pk, c, w)
					c = e.pk[start:]
				}
				e.packed[i] = append(e.packed[i], c...)
				dst = binary.AppendUvarint(dst, uint64(len(c)))
				dst = binary.AppendUvarint(dst, uint64(len(c)))
				continue
			}
			// A varint column: its group table first.
			start := len(e.pk)
			if i == colStart {
				_, k := binary.Uvarint(c[8:]) // after the first start: the time unit
				e.pk = append(e.pk, c[:8+k]...)
				e.pk = appendGroups(e.pk, c[8+k:], len(rows), true)
			} else {
				e.pk = appendGroups(append(e.pk, varintGroups), c, len(rows), false)
				var ok bool
				if e.runs, ok = appendRuns(e.runs[:0], c, len(rows), len(e.pk)-start); ok {
					e.pk = append(e.pk[:start], e.runs...)
				}
			}
			c = e.pk[start:]
		}
		if len(c) >= minCompress {
			e.packed[i] = e.z.EncodeAll(c, e.packed[i])
		}
		if len(e.packed[i]) == 0 || (e.codec == codecPacked && len(e.packed[i]) > len(c)-len(c)/8) || len(e.packed[i]) >= len(c) {
			e.packed[i] = append(e.packed[i][:0], c...) // stored as is
		}
		dst = binary.AppendUvarint(dst, uint64(len(c)))
		dst = binary.AppendUvarint(dst, uint64(len(e.packed[i])))
	}
	for _, p := range e.packed {
		dst = append(dst, p...)
	}
	return dst
}

// minCompress is the shortest column worth a zstd frame. Codec 3 keeps a
// column as it is unless the frame saves an eighth of it: decompressing
// costs more than reading the bytes saved.
const minCompress = 32

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// encodeTimes writes start deltas and durations in the block's time unit:
// the largest power of ten (up to a second) dividing every start and
// duration, so millisecond evidence costs millisecond-sized varints.
func (e *blockEncoder) encodeTimes(rows []*flow.Record) {
	if len(rows) == 0 {
		return
	}
	unit := timeUnit(rows)
	c := binary.BigEndian.AppendUint64(e.cols[colStart], uint64(rows[0].Start))
	c = binary.AppendUvarint(c, uint64(unit))
	prev := rows[0].Start
	for _, r := range rows {
		c = binary.AppendUvarint(c, uint64((r.Start-prev)/unit))
		prev = r.Start
		e.cols[colDuration] = binary.AppendUvarint(e.cols[colDuration], uint64((r.End-r.Start)/unit))
	}
	e.cols[colStart] = c
}

func timeUnit(rows []*flow.Record) int64 {
	unit := int64(1e9)
	for _, r := range rows {
		for unit > 1 && (r.Start%unit != 0 || (r.End-r.Start)%unit != 0) {
			unit /= 10
		}
	}
	return unit
}

func (e *blockEncoder) addr(col int, a netip.Addr) {
	e.ids[col] = append(e.ids[col], uint32(e.addrIndex(a)))
}

// addrIndex returns a's 1-based index in the block dictionary, adding it; 0
// stands for no address.
func (e *blockEncoder) addrIndex(a netip.Addr) uint64 {
	if !a.IsValid() {
		return 0
	}
	d := e.cols[colAddrDict]
	if a.Is4() {
		b := a.As4()
		n := binary.BigEndian.Uint32(b[:])
		if i, ok := e.dict4.get(n); ok {
			return uint64(i)
		}
		e.n++
		e.dict4.put(n, int32(e.n))
		if e.codec == codecPacked {
			e.v4 = append(e.v4, uint64(n)<<32|e.n)
		} else {
			e.cols[colAddrDict] = append(append(d, 4), b[:]...)
		}
		return e.n
	}
	if i, ok := e.dict[a]; ok {
		return i
	}
	e.n++
	e.dict[a] = e.n
	b := a.As16()
	if e.codec == codecPacked {
		e.v6 = append(e.v6, dictEntry6{b, uint32(e.n)})
	} else {
		e.cols[colAddrDict] = append(append(d, 6), b[:]...)
	}
	return e.n
}

func (e *blockEncoder) uv(col int, x uint64) {
	e.cols[col] = binary.AppendUvarint(e.cols[col], x)
}

func (e *blockEncoder) encodeRow(r *flow.Record) {
	e.addr(colSrcAddr, r.SrcAddr)
	e.addr(colDstAddr, r.DstAddr)
	e.cols[colSrcPort] = binary.BigEndian.AppendUint16(e.cols[colSrcPort], r.SrcPort)
	e.cols[colDstPort] = binary.BigEndian.AppendUint16(e.cols[colDstPort], r.DstPort)
	e.cols[colProto] = append(e.cols[colProto], r.Proto)
	e.cols[colTCPFlags] = append(e.cols[colTCPFlags], r.TCPFlags)
	e.uv(colBytes, r.Bytes)
	e.uv(colPackets, r.Packets)
	e.uv(colRevBytes, r.RevBytes)
	e.uv(colRevPackets, r.RevPackets)
	e.uv(colPostBytes, r.PostBytes)
	e.uv(colPostPackets, r.PostPackets)
	e.cols[colICMPType] = append(e.cols[colICMPType], r.ICMPType)
	e.cols[colICMPCode] = append(e.cols[colICMPCode], r.ICMPCode)
	e.uv(colInIf, uint64(r.InIf))
	e.uv(colOutIf, uint64(r.OutIf))
	e.uv(colSrcAS, uint64(r.SrcAS))
	e.uv(colDstAS, uint64(r.DstAS))
	e.addr(colNextHop, r.NextHop)
	e.uv(colVLAN, uint64(r.VLAN))
	e.cols[colDir] = append(e.cols[colDir], byte(r.Dir))
	e.addr(colNATSrcAddr, r.NATSrcAddr)
	e.addr(colNATDstAddr, r.NATDstAddr)
	e.uv(colNATSrcPort, uint64(r.NATSrcPort))
	e.uv(colNATDstPort, uint64(r.NATDstPort))
	e.addr(colExporter, r.Exporter)
	e.uv(colObsDomain, uint64(r.ObsDomain))
	e.uv(colSampling, uint64(r.SamplingInterval))
	e.uv(colSource, uint64(r.SourceID))
}

// blockDecoder decodes block values into rows, reusing its buffers. open
// reads a block's column directory; fill then decodes the columns asked
// for, decompressing each column the first time it is read, for every row
// or for selected rows only.
type blockDecoder struct {
	codec    byte               // of the open block
	n        int                // rows of the open block
	unit     int64              // time unit of the open block
	stored   [numColumns][]byte // each column as stored in the value
	size     [numColumns]int    // each column's length in plain
	plain    [numColumns][]byte // each column in plain, once read
	ready    Columns            // columns whose plain bytes are in plain
	bufs     [numColumns][]byte // decompression buffers
	raw      []byte             // codec 0 and 1: the whole column area in plain
	dict     []netip.Addr       // codecs 0 to 2: the address dictionary
	dict4    []uint32           // codec 3: the IPv4 entries
	dict6    [][16]byte         // codec 3: the IPv6 entries
	ndict    int                // dictionary entries
	n4       int                // codec 3: IPv4 entries
	n6       int                // codec 3: IPv6 entries
	whole4   bool               // codec 3: dict4 holds every IPv4 entry; else each is found in gd
	gd       groups             // codec 3: the IPv4 entries' group table
	gv       groups             // codec 3: the group table of the varint column at hand
	dictBad  bool               // codec 3: an IPv4 entry could not be decoded
	palBuf   []uint64           // a packed column's palette
	constBuf []byte             // a varint column of runs, expanded
	runs     []run              // its runs
	starts   []int64            // all start times of the block
	rows     []flow.Record
	vals     []uint64 // one varint column
	dirty    Columns  // columns that may be non-zero in rows[:cap(rows)]
}

// resetRows makes d.rows n records whose fields outside the columns in
// want are zero, for the open block. Rows are cleared only when an earlier
// block wrote a column that this one will not rewrite (not asked, or all
// zero here): a scan asks the same columns block after block, and each
// fill rewrites them.
func (d *blockDecoder) resetRows(n int, want Columns) []flow.Record {
	if d.dirty&^(expand(want)&d.present()) != 0 {
		clear(d.rows[:cap(d.rows)])
		d.dirty = 0
	}
	if cap(d.rows) < n {
		d.rows = make([]flow.Record, n)
	}
	d.rows = d.rows[:n]
	return d.rows
}

// present returns the columns of the open block that are not all zero.
func (d *blockDecoder) present() Columns {
	var p Columns
	for i, n := range d.size {
		if n != 0 {
			p |= 1 << i
		}
	}
	return p
}

// expand adds to want the columns decoding it reads too.
func expand(want Columns) Columns {
	if want&addrColumns != 0 {
		want |= 1 << colAddrDict
	}
	if want&ColTime != 0 {
		want |= ColTime // ends are stored as durations after the starts
	}
	return want
}

// open reads a block value's header and column directory. val must stay
// unchanged until the next open.
func (d *blockDecoder) open(val []byte) error {
	if len(val) < 1 {
		// Badger hands over an empty value, and only logs why, when it
		// cannot read one from the value log (a checksum mismatch).
		return fmt.Errorf("cannot decode block: empty value (unreadable in the value log: damaged?): %w", ErrCorrupt)
	}
	codec := val[0]
	rows, n := binary.Uvarint(val[1:])
	if n <= 0 || rows > BlockRows {
		return fmt.Errorf("cannot decode block: row count %d: %w", rows, ErrCorrupt)
	}
	d.n, d.ready, d.codec = int(rows), 0, codec
	d.ndict, d.dict, d.dict4, d.dict6, d.n4, d.dictBad = 0, d.dict[:0], d.dict4[:0], d.dict6[:0], 0, false
	rest := val[1+n:]
	if codec == codecColumns || codec == codecPacked {
		return d.openColumns(rest)
	}
	rawLen, m := binary.Uvarint(rest)
	if m <= 0 || rawLen > 64<<20 {
		return fmt.Errorf("cannot decode block: raw length %d: %w", rawLen, ErrCorrupt)
	}
	payload := rest[m:]
	switch codec {
	case codecNone:
		d.raw = append(d.raw[:0], payload...)
	case codecZstd:
		var err error
		d.raw, err = zdec.DecodeAll(payload, d.raw[:0])
		if err != nil {
			return fmt.Errorf("cannot decompress block: %v: %w", err, ErrCorrupt)
		}
	default:
		return fmt.Errorf("cannot decode block: codec %d: %w", codec, ErrCorrupt)
	}
	if uint64(len(d.raw)) != rawLen {
		return fmt.Errorf("cannot decode block: got %d raw bytes, want %d: %w", len(d.raw), rawLen, ErrCorrupt)
	}
	raw := d.raw
	var lens [numColumns]uint64
	for i := range lens {
		l, n := binary.Uvarint(raw)
		if n <= 0 {
			return fmt.Errorf("cannot decode block column directory: %w", ErrCorrupt)
		}
		lens[i] = l
		raw = raw[n:]
	}
	for i := range lens {
		if lens[i] > uint64(len(raw)) {
			return fmt.Errorf("cannot decode block column %d: length %d beyond %d bytes: %w", i, lens[i], len(raw), ErrCorrupt)
		}
		d.plain[i], d.size[i] = raw[:lens[i]], int(lens[i])
		raw = raw[lens[i]:]
	}
	d.ready = AllColumns
	return nil
}

// openColumns reads the directory of a codec 2 block: per column its
// length in plain and as stored (equal: stored as is; 0: all zero).
func (d *blockDecoder) openColumns(b []byte) error {
	var stored [numColumns]int
	for i := range stored {
		size, n := binary.Uvarint(b)
		if n <= 0 || size > 1<<20 {
			return fmt.Errorf("cannot decode block column directory: column %d: %w", i, ErrCorrupt)
		}
		b = b[n:]
		d.size[i] = int(size)
		if size == 0 {
			continue
		}
		st, n := binary.Uvarint(b)
		if n <= 0 || st > size {
			return fmt.Errorf("cannot decode block column directory: column %d stored in %d bytes of %d: %w", i, st, size, ErrCorrupt)
		}
		b = b[n:]
		stored[i] = int(st)
	}
	for i, st := range stored {
		if st > len(b) {
			return fmt.Errorf("cannot decode block column %d: length %d beyond %d bytes: %w", i, st, len(b), ErrCorrupt)
		}
		d.stored[i] = b[:st]
		b = b[st:]
		if d.size[i] == st {
			d.plain[i] = d.stored[i]
			d.ready |= 1 << i
		}
	}
	return nil
}

// column returns column i in plain, decompressing it on first use.
func (d *blockDecoder) column(i int) ([]byte, error) {
	if d.ready&(1<<i) != 0 {
		return d.plain[i], nil
	}
	if d.size[i] == 0 {
		d.ready |= 1 << i
		d.plain[i] = nil
		return nil, nil
	}
	if cap(d.bufs[i]) < d.size[i] {
		d.bufs[i] = make([]byte, 0, d.size[i])
	}
	p, err := zdec.DecodeAll(d.stored[i], d.bufs[i][:0])
	if err != nil {
		return nil, fmt.Errorf("cannot decompress block column %d: %v: %w", i, err, ErrCorrupt)
	}
	if len(p) != d.size[i] {
		return nil, fmt.Errorf("cannot decode block column %d: got %d bytes, want %d: %w", i, len(p), d.size[i], ErrCorrupt)
	}
	d.bufs[i], d.plain[i] = p, p
	d.ready |= 1 << i
	return p, nil
}

// addrColumns read the block's address dictionary.
const addrColumns Columns = 1<<colSrcAddr | 1<<colDstAddr | 1<<colNextHop | 1<<colNATSrcAddr | 1<<colNATDstAddr | 1<<colExporter

// fill decodes the columns in want into d.rows: row j of d.rows is block
// row sel[j], or row j when sel is nil (then d.rows holds every row).
// Columns already decoded into d.rows may be asked again; they are
// rewritten with the same values.
func (d *blockDecoder) fill(want Columns, sel []uint16) error {
	want = expand(want)
	d.dirty |= want & d.present()
	for i := 0; i < numColumns; i++ {
		if want&(1<<i) == 0 || d.size[i] == 0 {
			continue
		}
		b, err := d.column(i)
		if err != nil {
			return err
		}
		if sel == nil {
			err = d.decodeColumn(i, b)
		} else {
			err = d.decodeSelected(i, b, sel)
		}
		if err != nil {
			return fmt.Errorf("cannot decode block column %d: %w", i, err)
		}
	}
	return nil
}

// colReader reads one column's values with bounds checks; the first error
// sticks and later reads return zero.
type colReader struct {
	b   []byte
	err error
}

func (c *colReader) uvarint() uint64 {
	x, n := binary.Uvarint(c.b)
	if n <= 0 {
		c.fail()
		return 0
	}
	c.b = c.b[n:]
	return x
}

func (c *colReader) fail() {
	if c.err == nil {
		c.err = ErrCorrupt
	}
	c.b = nil
}

func (d *blockDecoder) decodeDict(b []byte, whole bool) error {
	if d.codec == codecPacked {
		return d.openDict(b, whole)
	}
	defer func() { d.ndict = len(d.dict) }()
	d.dict = d.dict[:0]
	for len(b) > 0 {
		switch {
		case b[0] == 4 && len(b) >= 5:
			d.dict = append(d.dict, netip.AddrFrom4([4]byte(b[1:5])))
			b = b[5:]
		case b[0] == 6 && len(b) >= 17:
			d.dict = append(d.dict, netip.AddrFrom16([16]byte(b[1:17])))
			b = b[17:]
		default:
			return ErrCorrupt
		}
	}
	return nil
}

// decodeFixedColumn decodes a fixed-width column of any codec for every
// row, or for the rows in sel.
func (d *blockDecoder) decodeFixedColumn(col int, b []byte, sel []uint16) error {
	if d.codec == codecPacked {
		return d.decodePacked(col, b, sel)
	}
	return d.decodeFixed(col, b, sel)
}

func (d *blockDecoder) decodeColumn(col int, b []byte) error {
	if fixedWidth(col) != 0 {
		return d.decodeFixedColumn(col, b, nil)
	}
	if d.codec == codecPacked {
		switch {
		case isAddrColumn(col):
			return d.decodeIndexes(col, b, nil)
		case col != colStart && col != colAddrDict:
			var err error
			if b, err = d.varintData(b); err != nil {
				return err
			}
		}
	}
	rows := d.rows
	c := &colReader{b: b}
	switch col {
	case colStart:
		if err := d.decodeStarts(b); err != nil {
			return err
		}
		if len(d.starts) != len(rows) {
			return ErrCorrupt
		}
		for i, t := range d.starts {
			rows[i].Start, rows[i].End = t, t
		}
	case colDuration:
		if v := d.uvarints(c, len(rows)); v != nil {
			for i := range rows {
				rows[i].End = rows[i].Start + int64(v[i])*d.unit
			}
		}
	case colAddrDict:
		return d.decodeDict(b, true)
	default:
		if isAddrColumn(col) {
			v := d.uvarints(c, len(rows))
			if v == nil {
				return ErrCorrupt
			}
			return d.setAddrs(col, v)
		}
		d.decodeRare(col, c)
	}
	return c.err
}

// decodeRare decodes the varint columns that are often all zero; each
// case loops over the rows itself, so the per-row work is one read and one
// store.
func (d *blockDecoder) decodeRare(col int, c *colReader) {
	rows := d.rows
	// All the column's values first, in one tight loop.
	v := d.uvarints(c, len(rows))
	if v == nil {
		return
	}
	switch col {
	case colBytes:
		for i := range rows {
			rows[i].Bytes = v[i]
		}
	case colPackets:
		for i := range rows {
			rows[i].Packets = v[i]
		}
	case colRevBytes:
		for i := range rows {
			rows[i].RevBytes = v[i]
		}
	case colRevPackets:
		for i := range rows {
			rows[i].RevPackets = v[i]
		}
	case colPostBytes:
		for i := range rows {
			rows[i].PostBytes = v[i]
		}
	case colPostPackets:
		for i := range rows {
			rows[i].PostPackets = v[i]
		}
	case colInIf:
		for i := range rows {
			rows[i].InIf = uint32(v[i])
		}
	case colOutIf:
		for i := range rows {
			rows[i].OutIf = uint32(v[i])
		}
	case colSrcAS:
		for i := range rows {
			rows[i].SrcAS = uint32(v[i])
		}
	case colDstAS:
		for i := range rows {
			rows[i].DstAS = uint32(v[i])
		}
	case colVLAN:
		for i := range rows {
			rows[i].VLAN = uint16(v[i])
		}
	case colNATSrcPort:
		for i := range rows {
			rows[i].NATSrcPort = uint16(v[i])
		}
	case colNATDstPort:
		for i := range rows {
			rows[i].NATDstPort = uint16(v[i])
		}
	case colObsDomain:
		for i := range rows {
			rows[i].ObsDomain = uint32(v[i])
		}
	case colSampling:
		for i := range rows {
			rows[i].SamplingInterval = uint32(v[i])
		}
	case colSource:
		for i := range rows {
			rows[i].SourceID = uint32(v[i])
		}
	}
}

// uvarints decodes n varints from c into d.vals; nil (and c failed) when
// c holds fewer.
func (d *blockDecoder) uvarints(c *colReader, n int) []uint64 {
	if cap(d.vals) < n {
		d.vals = make([]uint64, n)
	}
	v, b := d.vals[:n], c.b
	for k := range v {
		if len(b) >= 8 {
			// Varints of up to three bytes from one little-endian load.
			w := binary.LittleEndian.Uint64(b)
			switch {
			case w&0x80 == 0:
				v[k], b = w&0x7f, b[1:]
				continue
			case w&0x8000 == 0:
				v[k], b = w&0x7f|w>>1&(0x7f<<7), b[2:]
				continue
			case w&0x800000 == 0:
				v[k], b = w&0x7f|w>>1&(0x7f<<7)|w>>2&(0x7f<<14), b[3:]
				continue
			}
		}
		x, m := binary.Uvarint(b)
		if m <= 0 {
			c.fail()
			return nil
		}
		v[k], b = x, b[m:]
	}
	c.b = b
	return v
}

// decodeSelected decodes column col of the rows in sel (block row numbers,
// increasing) into d.rows[0:len(sel)]. Fixed-width columns are indexed
// directly; varint columns skip the rows between selected ones eight bytes
// at a time.
func (d *blockDecoder) decodeSelected(col int, b []byte, sel []uint16) error {
	rows := d.rows[:len(sel)]
	if len(sel) > 0 && int(sel[len(sel)-1]) >= d.n {
		return fmt.Errorf("selected row %d of %d: %w", sel[len(sel)-1], d.n, ErrCorrupt)
	}
	if fixedWidth(col) != 0 {
		return d.decodeFixedColumn(col, b, sel)
	}
	if d.codec == codecPacked {
		switch {
		case isAddrColumn(col):
			return d.decodeIndexes(col, b, sel)
		case col == colStart:
			return d.selectStarts(b, sel)
		case col != colAddrDict:
			return d.selectVarints(col, b, sel)
		}
	}
	switch col {
	case colStart:
		if err := d.decodeStarts(b); err != nil {
			return err
		}
		for j, s := range sel {
			rows[j].Start, rows[j].End = d.starts[s], d.starts[s]
		}
		return nil
	case colAddrDict:
		return d.decodeDict(b, false)
	}
	pos := 0 // the row whose varint b starts at
	for j, s := range sel {
		if k := int(s) - pos; k > 0 {
			if b = skipUvarints(b, k); b == nil {
				return ErrCorrupt
			}
		}
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return ErrCorrupt
		}
		b, pos = b[n:], int(s)+1
		if err := d.setUvarint(&rows[j], col, x); err != nil {
			return err
		}
	}
	return nil
}

// decodeStarts decodes every start time of the block into d.starts (the
// deltas make each depend on all before it) and sets d.unit.
func (d *blockDecoder) decodeStarts(b []byte) error {
	if len(b) < 8 {
		return ErrCorrupt
	}
	t := int64(binary.BigEndian.Uint64(b))
	c := &colReader{b: b[8:]}
	d.unit = int64(c.uvarint())
	if d.unit < 1 || d.unit > 1e9 {
		return ErrCorrupt
	}
	if d.codec == codecPacked {
		b, err := skipGroups(c.b, d.n, true)
		if err != nil {
			return err
		}
		c.b = b
	}
	d.starts = d.starts[:0]
	if v := d.uvarints(c, d.n); v != nil {
		for _, x := range v {
			t += int64(x) * d.unit
			d.starts = append(d.starts, t)
		}
	}
	return c.err
}

// skipUvarints returns b after its first k varints, or nil when b holds
// fewer. A varint ends at each byte with the high bit clear; whole words
// with fewer ends than needed are skipped after one population count, and
// the word holding the k-th end is left at that end's bit.
func skipUvarints(b []byte, k int) []byte {
	if k <= 0 {
		return b
	}
	for len(b) >= 8 {
		m := ^binary.LittleEndian.Uint64(b) & 0x8080808080808080 // ends
		t := bits.OnesCount64(m)
		if t >= k {
			return b[kthBit(m, k)>>3+1:]
		}
		k -= t
		b = b[8:]
	}
	for i, c := range b {
		if c < 0x80 {
			if k--; k == 0 {
				return b[i+1:]
			}
		}
	}
	return nil
}

// kthBit returns the index of the k-th lowest set bit of m (1 <= k <=
// the bits set).
func kthBit(m uint64, k int) int {
	for ; k > 1; k-- {
		m &= m - 1
	}
	return bits.TrailingZeros64(m)
}

// setUvarint stores the value of a varint column in r.
func (d *blockDecoder) setUvarint(r *flow.Record, col int, x uint64) error {
	switch col {
	case colSrcAddr, colDstAddr, colNextHop, colNATSrcAddr, colNATDstAddr, colExporter:
		if x > uint64(d.ndict) {
			return ErrCorrupt
		}
		var a netip.Addr
		if x > 0 {
			if a = d.entry(x); d.dictBad {
				return ErrCorrupt
			}
		}
		switch col {
		case colSrcAddr:
			r.SrcAddr = a
		case colDstAddr:
			r.DstAddr = a
		case colNextHop:
			r.NextHop = a
		case colNATSrcAddr:
			r.NATSrcAddr = a
		case colNATDstAddr:
			r.NATDstAddr = a
		default:
			r.Exporter = a
		}
	case colDuration:
		r.End = r.Start + int64(x)*d.unit
	case colBytes:
		r.Bytes = x
	case colPackets:
		r.Packets = x
	case colRevBytes:
		r.RevBytes = x
	case colRevPackets:
		r.RevPackets = x
	case colPostBytes:
		r.PostBytes = x
	case colPostPackets:
		r.PostPackets = x
	case colInIf:
		r.InIf = uint32(x)
	case colOutIf:
		r.OutIf = uint32(x)
	case colSrcAS:
		r.SrcAS = uint32(x)
	case colDstAS:
		r.DstAS = uint32(x)
	case colVLAN:
		r.VLAN = uint16(x)
	case colNATSrcPort:
		r.NATSrcPort = uint16(x)
	case colNATDstPort:
		r.NATDstPort = uint16(x)
	case colObsDomain:
		r.ObsDomain = uint32(x)
	case colSampling:
		r.SamplingInterval = uint32(x)
	case colSource:
		r.SourceID = uint32(x)
	default:
		return fmt.Errorf("column %d is not a varint column: %w", col, ErrCorrupt)
	}
	return nil
}
