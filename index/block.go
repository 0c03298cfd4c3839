package index

import (
	"encoding/binary"
	"fmt"
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
	ColSampling Columns = 1 << colSampling
	ColSource   Columns = 1 << colSource
)

// Codec bytes: how a block's column payload is compressed.
const (
	codecNone byte = 0
	codecZstd byte = 1
)

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
)

// blockEncoder turns sorted rows into a block value, reusing its buffers.
type blockEncoder struct {
	cols  [numColumns][]byte
	dict4 map[uint32]uint64 // IPv4 addresses (the map's fast path)
	dict  map[netip.Addr]uint64
	n     uint64 // dictionary entries
	raw   []byte
}

func newBlockEncoder() *blockEncoder {
	return &blockEncoder{dict: make(map[netip.Addr]uint64, 64), dict4: make(map[uint32]uint64, 1024)}
}

// encode appends the block value of rows (sorted by Start, at most
// BlockRows) to dst.
func (e *blockEncoder) encode(dst []byte, rows []*flow.Record) []byte {
	for i := range e.cols {
		e.cols[i] = e.cols[i][:0]
	}
	clear(e.dict)
	clear(e.dict4)
	e.n = 0
	e.encodeTimes(rows)
	for _, r := range rows {
		e.encodeRow(r)
	}
	e.raw = e.raw[:0]
	for i := range e.cols {
		if allZero(e.cols[i]) {
			e.raw = binary.AppendUvarint(e.raw, 0)
			continue
		}
		e.raw = binary.AppendUvarint(e.raw, uint64(len(e.cols[i])))
	}
	for i := range e.cols {
		if !allZero(e.cols[i]) {
			e.raw = append(e.raw, e.cols[i]...)
		}
	}
	dst = append(dst, codecZstd)
	dst = binary.AppendUvarint(dst, uint64(len(rows)))
	dst = binary.AppendUvarint(dst, uint64(len(e.raw)))
	return zenc.EncodeAll(e.raw, dst)
}

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
	e.cols[col] = binary.AppendUvarint(e.cols[col], e.addrIndex(a))
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
		if i, ok := e.dict4[n]; ok {
			return i
		}
		e.n++
		e.dict4[n] = e.n
		e.cols[colAddrDict] = append(append(d, 4), b[:]...)
		return e.n
	}
	if i, ok := e.dict[a]; ok {
		return i
	}
	e.n++
	e.dict[a] = e.n
	b := a.As16()
	e.cols[colAddrDict] = append(append(d, 6), b[:]...)
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

// blockDecoder decodes block values into rows, reusing its buffers.
type blockDecoder struct {
	unit int64 // time unit of the block being decoded
	raw  []byte
	dict []netip.Addr
	rows []flow.Record
}

// decode fills d.rows from a block value, decoding only the columns in
// want (the others stay zero).
func (d *blockDecoder) decode(val []byte, want Columns) ([]flow.Record, error) {
	if len(val) < 1 {
		return nil, fmt.Errorf("cannot decode block: empty value: %w", ErrCorrupt)
	}
	codec := val[0]
	rows, n := binary.Uvarint(val[1:])
	if n <= 0 || rows > BlockRows {
		return nil, fmt.Errorf("cannot decode block: row count %d: %w", rows, ErrCorrupt)
	}
	rawLen, m := binary.Uvarint(val[1+n:])
	if m <= 0 || rawLen > 64<<20 {
		return nil, fmt.Errorf("cannot decode block: raw length %d: %w", rawLen, ErrCorrupt)
	}
	payload := val[1+n+m:]
	switch codec {
	case codecNone:
		d.raw = append(d.raw[:0], payload...)
	case codecZstd:
		var err error
		d.raw, err = zdec.DecodeAll(payload, d.raw[:0])
		if err != nil {
			return nil, fmt.Errorf("cannot decompress block: %v: %w", err, ErrCorrupt)
		}
	default:
		return nil, fmt.Errorf("cannot decode block: codec %d: %w", codec, ErrCorrupt)
	}
	if uint64(len(d.raw)) != rawLen {
		return nil, fmt.Errorf("cannot decode block: got %d raw bytes, want %d: %w", len(d.raw), rawLen, ErrCorrupt)
	}
	if cap(d.rows) < int(rows) {
		d.rows = make([]flow.Record, rows)
	}
	d.rows = d.rows[:rows]
	clear(d.rows)
	return d.rows, d.decodeColumns(d.raw, want)
}

func (d *blockDecoder) decodeColumns(raw []byte, want Columns) error {
	var lens [numColumns]uint64
	for i := range lens {
		l, n := binary.Uvarint(raw)
		if n <= 0 {
			return fmt.Errorf("cannot decode block column directory: %w", ErrCorrupt)
		}
		lens[i] = l
		raw = raw[n:]
	}
	if want&(1<<colSrcAddr|1<<colDstAddr|1<<colNextHop|1<<colNATSrcAddr|1<<colNATDstAddr|1<<colExporter) != 0 {
		want |= 1 << colAddrDict
	}
	if want&(1<<colDuration) != 0 {
		want |= 1 << colStart
	}
	var cols [numColumns][]byte
	for i := range lens {
		if lens[i] > uint64(len(raw)) {
			return fmt.Errorf("cannot decode block column %d: length %d beyond %d bytes: %w", i, lens[i], len(raw), ErrCorrupt)
		}
		cols[i] = raw[:lens[i]]
		raw = raw[lens[i]:]
	}
	for i := 0; i < numColumns; i++ {
		if want&(1<<i) == 0 || lens[i] == 0 {
			continue
		}
		if err := d.decodeColumn(i, cols[i]); err != nil {
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

func (c *colReader) u8() uint8 {
	if len(c.b) < 1 {
		c.fail()
		return 0
	}
	x := c.b[0]
	c.b = c.b[1:]
	return x
}

func (c *colReader) u16() uint16 {
	if len(c.b) < 2 {
		c.fail()
		return 0
	}
	x := binary.BigEndian.Uint16(c.b)
	c.b = c.b[2:]
	return x
}

func (c *colReader) fail() {
	if c.err == nil {
		c.err = ErrCorrupt
	}
	c.b = nil
}

func (d *blockDecoder) addr(c *colReader) netip.Addr {
	i := c.uvarint()
	if i == 0 {
		return netip.Addr{}
	}
	if i > uint64(len(d.dict)) {
		c.fail()
		return netip.Addr{}
	}
	return d.dict[i-1]
}

func (d *blockDecoder) decodeDict(b []byte) error {
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

func (d *blockDecoder) decodeColumn(col int, b []byte) error {
	rows := d.rows
	c := &colReader{b: b}
	switch col {
	case colStart:
		if len(b) < 8 {
			return ErrCorrupt
		}
		t := int64(binary.BigEndian.Uint64(b))
		c.b = b[8:]
		d.unit = int64(c.uvarint())
		if d.unit < 1 || d.unit > 1e9 {
			return ErrCorrupt
		}
		for i := range rows {
			t += int64(c.uvarint()) * d.unit
			rows[i].Start, rows[i].End = t, t
		}
	case colDuration:
		for i := range rows {
			rows[i].End = rows[i].Start + int64(c.uvarint())*d.unit
		}
	case colAddrDict:
		return d.decodeDict(b)
	case colSrcAddr:
		for i := range rows {
			rows[i].SrcAddr = d.addr(c)
		}
	case colDstAddr:
		for i := range rows {
			rows[i].DstAddr = d.addr(c)
		}
	case colSrcPort:
		for i := range rows {
			rows[i].SrcPort = c.u16()
		}
	case colDstPort:
		for i := range rows {
			rows[i].DstPort = c.u16()
		}
	case colProto:
		for i := range rows {
			rows[i].Proto = c.u8()
		}
	case colTCPFlags:
		for i := range rows {
			rows[i].TCPFlags = c.u8()
		}
	default:
		d.decodeRare(col, c)
	}
	return c.err
}

// decodeRare decodes the columns that are often all zero; each case loops
// over the rows itself, so the per-row work is one read and one store.
func (d *blockDecoder) decodeRare(col int, c *colReader) {
	rows := d.rows
	switch col {
	case colBytes:
		for i := range rows {
			rows[i].Bytes = c.uvarint()
		}
	case colPackets:
		for i := range rows {
			rows[i].Packets = c.uvarint()
		}
	case colRevBytes:
		for i := range rows {
			rows[i].RevBytes = c.uvarint()
		}
	case colRevPackets:
		for i := range rows {
			rows[i].RevPackets = c.uvarint()
		}
	case colPostBytes:
		for i := range rows {
			rows[i].PostBytes = c.uvarint()
		}
	case colPostPackets:
		for i := range rows {
			rows[i].PostPackets = c.uvarint()
		}
	case colICMPType:
		for i := range rows {
			rows[i].ICMPType = c.u8()
		}
	case colICMPCode:
		for i := range rows {
			rows[i].ICMPCode = c.u8()
		}
	case colInIf:
		for i := range rows {
			rows[i].InIf = uint32(c.uvarint())
		}
	case colOutIf:
		for i := range rows {
			rows[i].OutIf = uint32(c.uvarint())
		}
	case colSrcAS:
		for i := range rows {
			rows[i].SrcAS = uint32(c.uvarint())
		}
	case colDstAS:
		for i := range rows {
			rows[i].DstAS = uint32(c.uvarint())
		}
	case colNextHop:
		for i := range rows {
			rows[i].NextHop = d.addr(c)
		}
	case colVLAN:
		for i := range rows {
			rows[i].VLAN = uint16(c.uvarint())
		}
	case colDir:
		for i := range rows {
			rows[i].Dir = flow.Direction(c.u8())
		}
	case colNATSrcAddr:
		for i := range rows {
			rows[i].NATSrcAddr = d.addr(c)
		}
	case colNATDstAddr:
		for i := range rows {
			rows[i].NATDstAddr = d.addr(c)
		}
	case colNATSrcPort:
		for i := range rows {
			rows[i].NATSrcPort = uint16(c.uvarint())
		}
	case colNATDstPort:
		for i := range rows {
			rows[i].NATDstPort = uint16(c.uvarint())
		}
	case colExporter:
		for i := range rows {
			rows[i].Exporter = d.addr(c)
		}
	case colObsDomain:
		for i := range rows {
			rows[i].ObsDomain = uint32(c.uvarint())
		}
	case colSampling:
		for i := range rows {
			rows[i].SamplingInterval = uint32(c.uvarint())
		}
	case colSource:
		for i := range rows {
			rows[i].SourceID = uint32(c.uvarint())
		}
	}
}
