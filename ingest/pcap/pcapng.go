package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// pcapng block types.
const (
	ngSHB = 0x0A0D0D0A // section header
	ngIDB = 1          // interface description
	ngPB  = 2          // packet (obsolete)
	ngSPB = 3          // simple packet
	ngEPB = 6          // enhanced packet
)

// ngFile reads pcapng blocks. Block framing (leading and trailing lengths) is checked on
// every block; a packet block whose contents are wrong but whose framing holds is counted
// and skipped, so the rest of the file is still read. Blocks other than section headers,
// interface descriptions and packets are passed over without being buffered.
type ngFile struct {
	file
	order   binary.ByteOrder
	ifaces  []ngIface // of the current section
	started bool
}

type ngIface struct {
	link    uint16
	snaplen uint32
	binary  bool  // if_tsresol is a power of 2
	exp     uint8 // its exponent
	offset  int64 // if_tsoffset, nanoseconds
}

func newNgFile(src *peekReader, st *counters) (*ngFile, error) {
	f := &ngFile{file: file{src: src, st: st}}
	if err := f.firstSection(); err != nil {
		if errors.Is(err, ErrNotCapture) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: pcapng section header: %v", ErrNotCapture, err)
	}
	return f, nil
}

func (f *ngFile) firstSection() error {
	typ, length, err := f.blockHeader()
	if err != nil {
		return err
	}
	if length > maxBlock {
		return f.hugeHeader(typ, length)
	}
	b, err := f.wholeBlock(typ, length)
	if err != nil {
		return err
	}
	f.pending = int(length)
	return f.sectionHeader(b)
}

func (f *ngFile) next() (packet, error) {
	for {
		if err := f.advance(); err != nil {
			return packet{}, f.ioError(err)
		}
		typ, length, err := f.blockHeader()
		if err != nil {
			return packet{}, err
		}
		packetBlock := typ == ngEPB || typ == ngSPB || typ == ngPB
		switch {
		case typ != ngSHB && typ != ngIDB && !packetBlock:
			if err = f.skipBlock(typ, length); err != nil {
				return packet{}, err
			}
			continue
		case packetBlock && length > maxBlock:
			if err = f.skipHugePacket(typ, length); err != nil {
				return packet{}, err
			}
			continue
		case length > maxBlock: // a section header or interface description
			if err = f.hugeHeader(typ, length); err != nil {
				return packet{}, err
			}
			continue
		}
		b, err := f.wholeBlock(typ, length)
		if err != nil {
			return packet{}, err
		}
		f.pending = int(length)
		switch typ {
		case ngSHB:
			err = f.sectionHeader(b)
		case ngIDB:
			err = f.interfaceDescription(b)
		default:
			if p, ok := f.packet(typ, b); ok {
				return p, nil
			}
		}
		if err != nil {
			return packet{}, err
		}
	}
}

// blockHeader reads a block's type and length (setting the byte order at a section header).
func (f *ngFile) blockHeader() (typ, length uint32, err error) {
	h, short, err := f.peek(12)
	if err != nil {
		return 0, 0, err
	}
	if short {
		if len(h) == 0 {
			return 0, 0, io.EOF
		}
		return 0, 0, f.truncated(h, "block header cut short: %d of 12 bytes", len(h))
	}
	typ = binary.LittleEndian.Uint32(h) // a section header reads the same both ways
	if typ == ngSHB {
		switch binary.BigEndian.Uint32(h[8:12]) {
		case magicNgOrder:
			f.order = binary.BigEndian
		case 0x4D3C2B1A:
			f.order = binary.LittleEndian
		default:
			return 0, 0, f.fileError(rBadBlock, false, "byte-order magic %08x", binary.BigEndian.Uint32(h[8:12]))
		}
	} else if !f.started {
		return 0, 0, fmt.Errorf("%w: first pcapng block is type %#x, want a section header", ErrNotCapture, typ)
	}
	typ, length = f.order.Uint32(h), f.order.Uint32(h[4:8])
	if length < 12 || length%4 != 0 {
		return 0, 0, f.fileError(rBadBlock, false, "block type %#x length %d", typ, length)
	}
	return typ, length, nil
}

// wholeBlock returns the block's bytes, its trailing length checked.
func (f *ngFile) wholeBlock(typ, length uint32) ([]byte, error) {
	if length > maxBlock {
		return nil, f.fileError(rBadBlock, false, "block type %#x length %d, limit %d", typ, length, maxBlock)
	}
	b, short, err := f.peek(int(length))
	if err != nil {
		return nil, err
	}
	if short {
		return nil, f.truncated(b, "block of %d bytes, %d present", length, len(b))
	}
	if tail := f.order.Uint32(b[length-4:]); tail != length {
		return nil, f.fileError(rBadBlock, false, "block type %#x length %d, trailing length %d", typ, length, tail)
	}
	return b, nil
}

// skipBlock passes over a block without buffering it, checking its trailing length.
func (f *ngFile) skipBlock(typ, length uint32) error {
	h, _, _ := f.peek(4)
	if n, err := f.src.Discard(int(length) - 4); err != nil {
		if err != io.EOF {
			return f.ioError(err)
		}
		return f.truncated(h, "block of %d bytes, %d present", length, n)
	}
	t, short, err := f.peek(4)
	if err != nil {
		return err
	}
	if short {
		return f.truncated(h, "block of %d bytes, %d present", length, int(length)-4+len(t))
	}
	if tail := f.order.Uint32(t); tail != length {
		return f.fileError(rBadBlock, false, "block type %#x length %d, trailing length %d", typ, length, tail)
	}
	f.pending = 4
	f.off += int64(length) - 4
	return nil
}

// hugeHeader reads a section header or interface description whose
// options run past maxBlock (a megabyte comment): its fixed part and the
// options within the first maxBlock bytes, the rest passed over and noted,
// where the whole capture had been refused.
func (f *ngFile) hugeHeader(typ, length uint32) error {
	head, short, err := f.peek(maxBlock)
	if err != nil {
		return err
	}
	if short {
		return f.truncated(head, "block of %d bytes, %d present", length, len(head))
	}
	b := append(bytes.Clone(head), 0, 0, 0, 0) // a trailing length, as a whole block ends
	if typ == ngSHB {
		f.st.notes[nBadOption]++ // its options are not read
		err = f.sectionHeader(b)
	} else {
		err = f.interfaceDescription(b) // notes the option the limit cut
	}
	if err != nil {
		return err
	}
	return f.skipBlock(typ, length)
}

// skipHugePacket passes over a packet block too large to read whole.
func (f *ngFile) skipHugePacket(typ, length uint32) error {
	why := rBadBlock
	if b, short, _ := f.peek(28); !short {
		caplen := f.order.Uint32(b[20:24])
		if typ == ngSPB {
			caplen = f.order.Uint32(b[8:12]) // the original length
		}
		if caplen > maxCaplen {
			why = rCaplenHuge
		}
	}
	if err := f.skipBlock(typ, length); err != nil {
		return err
	}
	f.skipPacket(why)
	return nil
}

func (f *ngFile) skipPacket(why reason) {
	f.packets++
	f.st.packets++
	f.st.skip(why, 1)
}

// truncated reports a block cut short by the end of the file; a packet block is counted.
func (f *ngFile) truncated(h []byte, format string, args ...any) error {
	packet := true
	if len(h) >= 4 {
		t := binary.LittleEndian.Uint32(h)
		if f.order != nil {
			t = f.order.Uint32(h)
		}
		packet = t == ngEPB || t == ngSPB || t == ngPB
	}
	if !packet {
		f.st.notes[nTruncatedBlock]++
	}
	return f.fileError(rTruncated, packet, format, args...)
}

func (f *ngFile) sectionHeader(b []byte) error {
	if len(b) < 28 {
		return f.fileError(rBadBlock, false, "section header of %d bytes, want 28 or more", len(b))
	}
	major, minor := f.order.Uint16(b[12:14]), f.order.Uint16(b[14:16])
	if major != 1 {
		if !f.started {
			return fmt.Errorf("%w: pcapng version %d.%d, want 1.x", ErrNotCapture, major, minor)
		}
		return f.fileError(rBadBlock, false, "section version %d.%d, want 1.x", major, minor)
	}
	f.ifaces = f.ifaces[:0]
	f.started = true
	return nil
}

func (f *ngFile) interfaceDescription(b []byte) error {
	if len(b) < 20 {
		return f.fileError(rBadBlock, false, "interface description of %d bytes, want 20 or more", len(b))
	}
	if len(f.ifaces) >= maxIfaces {
		return f.fileError(rBadBlock, false, "more than %d interfaces in a section", maxIfaces)
	}
	ifc := ngIface{link: f.order.Uint16(b[8:10]), snaplen: f.order.Uint32(b[12:16]), exp: 6}
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, n := f.order.Uint16(opts), int(f.order.Uint16(opts[2:4]))
		if code == 0 {
			break
		}
		if 4+n > len(opts) {
			f.st.notes[nBadOption]++
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			ifc.binary, ifc.exp = v[0]&0x80 != 0, v[0]&0x7F
		case code == 14 && n >= 8: // if_tsoffset, seconds
			ifc.offset = int64(f.order.Uint64(v)) * 1e9
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	f.ifaces = append(f.ifaces, ifc)
	return nil
}

// nanos converts a timestamp in the interface's units to unix nanoseconds. Absurd values
// wrap; they never panic.
func (ifc *ngIface) nanos(ts uint64) int64 {
	var ns uint64
	switch e := uint(ifc.exp); {
	case ifc.binary: // ts / 2^e seconds: (ts * 1e9) >> e, in 128 bits
		hi, lo := bits.Mul64(ts, 1e9)
		switch {
		case e == 0:
			ns = lo
		case e < 64:
			ns = hi<<(64-e) | lo>>e
		case e < 128:
			ns = hi >> (e - 64)
		}
	case e <= 9:
		ns = ts * pow10[9-e]
	case e-9 < uint(len(pow10)):
		ns = ts / pow10[e-9]
	}
	return int64(ns) + ifc.offset
}

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// packet returns the packet in an EPB, PB or SPB; a block whose contents are wrong is
// counted and skipped.
func (f *ngFile) packet(typ uint32, b []byte) (packet, bool) {
	var (
		p   packet
		why reason
		ok  bool
	)
	if typ == ngSPB {
		p, why, ok = f.simple(b)
	} else {
		p, why, ok = f.enhanced(typ, b)
	}
	if !ok {
		f.skipPacket(why)
		return packet{}, false
	}
	f.packets++
	p.number = f.packets
	return p, true
}

// enhanced reads an EPB, or an obsolete PB (the same but for a 16-bit interface id).
func (f *ngFile) enhanced(typ uint32, b []byte) (packet, reason, bool) {
	if len(b) < 32 {
		return packet{}, rBadBlock, false
	}
	id := f.order.Uint32(b[8:12])
	if typ == ngPB {
		id = uint32(f.order.Uint16(b[8:10]))
	}
	caplen, orig := f.order.Uint32(b[20:24]), f.order.Uint32(b[24:28])
	switch {
	case id >= uint32(len(f.ifaces)):
		return packet{}, rBadBlock, false
	case caplen > maxCaplen:
		return packet{}, rCaplenHuge, false
	case 32+int(caplen) > len(b):
		return packet{}, rBadBlock, false
	}
	ifc := &f.ifaces[id]
	f.note(ifc, caplen, orig)
	ts := uint64(f.order.Uint32(b[12:16]))<<32 | uint64(f.order.Uint32(b[16:20]))
	return packet{data: b[28 : 28+caplen], time: ifc.nanos(ts), origLen: int(orig), link: ifc.link, iface: int(id)}, 0, true
}

// simple reads an SPB: interface 0, no timestamp, captured length implied by the original
// length and the interface's snap length.
func (f *ngFile) simple(b []byte) (packet, reason, bool) {
	if len(b) < 16 || len(f.ifaces) == 0 {
		return packet{}, rBadBlock, false
	}
	ifc, orig := &f.ifaces[0], f.order.Uint32(b[8:12])
	caplen := orig
	if ifc.snaplen != 0 && caplen > ifc.snaplen {
		caplen = ifc.snaplen
	}
	switch {
	case caplen > maxCaplen:
		return packet{}, rCaplenHuge, false
	case 16+int(caplen) > len(b):
		return packet{}, rBadBlock, false
	}
	f.note(ifc, caplen, orig)
	return packet{data: b[12 : 12+caplen], origLen: int(orig), link: ifc.link}, 0, true
}

func (f *ngFile) note(ifc *ngIface, caplen, orig uint32) {
	if ifc.snaplen != 0 && caplen > ifc.snaplen {
		f.st.notes[nCaplenOverSnaplen]++
	}
	if caplen > orig {
		f.st.notes[nCaplenOverOrig]++
	}
}
