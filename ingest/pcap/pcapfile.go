package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
)

const (
	maxCaplen = 256 << 10          // largest packet accepted (Wireshark's limit too)
	maxBlock  = maxCaplen + 64<<10 // largest record or pcapng block read whole
	maxIfaces = 4096               // interfaces per pcapng section
)

// file is what the pcap and pcapng readers share: the buffered stream, where in it the
// unit (record or block) being read starts, and how many packets came before it.
type file struct {
	src     *peekReader
	st      *counters
	off     int64 // stream offset of the current unit
	pending int   // bytes of the previous unit still to be discarded
	packets uint64
}

// advance discards the unit returned last: its bytes stay valid until now.
func (f *file) advance() error {
	if f.pending == 0 {
		return nil
	}
	n, err := f.src.Discard(f.pending)
	f.off += int64(n)
	f.pending = 0
	return err
}

// fileError makes the error for the unit at f.off; a packet unit is also counted.
func (f *file) fileError(r reason, packet bool, format string, args ...any) *FileError {
	if packet {
		f.st.packets++
		f.st.skip(r, 1)
	}
	return &FileError{Packet: f.packets + 1, Offset: f.off, Reason: reasonNames[r], Detail: fmt.Sprintf(format, args...)}
}

// ioError wraps a read error that is not the end of the stream.
func (f *file) ioError(err error) error {
	return &FileError{Packet: f.packets + 1, Offset: f.off, Reason: ReasonRead, Detail: err.Error(), Err: err}
}

// peek returns the next n bytes without consuming them; short is set when the stream ends
// first (then b holds what there is).
func (f *file) peek(n int) (b []byte, short bool, err error) {
	b, err = f.src.Peek(n)
	if len(b) == n {
		return b, false, nil
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return b, true, nil
	}
	return b, true, f.ioError(err)
}

// pcapFile reads pcap records: a 24-byte file header, then records of a 16-byte header and
// caplen bytes. Every caplen is checked before anything is read or allocated.
type pcapFile struct {
	file
	order   binary.ByteOrder
	nano    bool
	snaplen uint32 // as written in the file header; 0 means none
	link    uint16
}

func newPcapFile(src *peekReader, st *counters) (*pcapFile, error) {
	f := &pcapFile{file: file{src: src, st: st}}
	h, short, err := f.peek(24)
	if err != nil {
		return nil, err
	}
	if short {
		return nil, fmt.Errorf("%w: pcap file header cut short: %d of 24 bytes", ErrNotCapture, len(h))
	}
	if !f.header(h) {
		order := binary.ByteOrder(binary.LittleEndian)
		if m := binary.BigEndian.Uint32(h); m == magicMicroBE || m == magicNanoBE {
			order = binary.BigEndian
		}
		return nil, fmt.Errorf("%w: pcap version %d.%d, want 2.x", ErrNotCapture, order.Uint16(h[4:6]), order.Uint16(h[6:8]))
	}
	return f, nil
}

// header takes h, 24 bytes, as the file header when it is one (a pcap magic
// number and version 2.x): byte order, time unit, snap length and link type,
// and the 24 bytes to discard.
func (f *pcapFile) header(h []byte) bool {
	var order binary.ByteOrder
	nano := false
	switch binary.BigEndian.Uint32(h) {
	case magicMicroBE:
		order = binary.BigEndian
	case magicNanoBE:
		order, nano = binary.BigEndian, true
	case magicMicroLE:
		order = binary.LittleEndian
	case magicNanoLE:
		order, nano = binary.LittleEndian, true
	default:
		return false
	}
	if order.Uint16(h[4:6]) != 2 {
		return false
	}
	f.order, f.nano = order, nano
	f.snaplen = f.order.Uint32(h[16:20])
	f.link = uint16(f.order.Uint32(h[20:24])) // upper bits: FCS length, reserved
	f.pending = 24
	return true
}

func (f *pcapFile) next() (packet, error) {
	if err := f.advance(); err != nil {
		return packet{}, f.ioError(err)
	}
	h, short, err := f.peek(24)
	for err == nil && !short && f.header(h) {
		// Another capture's file header: captures joined with cat. Its
		// records follow, in its own byte order, time unit and link type.
		f.st.notes[nConcatenated]++
		if err := f.advance(); err != nil {
			return packet{}, f.ioError(err)
		}
		h, short, err = f.peek(24)
	}
	if err != nil {
		return packet{}, err
	}
	if short && len(h) < 16 {
		if len(h) == 0 {
			return packet{}, io.EOF
		}
		return packet{}, f.fileError(rTruncated, true, "record header cut short: %d of 16 bytes", len(h))
	}
	caplen, orig := f.order.Uint32(h[8:12]), f.order.Uint32(h[12:16])
	if caplen > maxCaplen {
		return packet{}, f.fileError(rCaplenHuge, true, "caplen %d, limit %d (snaplen %d, original length %d)", caplen, maxCaplen, f.snaplen, orig)
	}
	n := 16 + int(caplen)
	rec, short, err := f.peek(n)
	if err != nil {
		return packet{}, err
	}
	if short {
		return packet{}, f.fileError(rTruncated, true, "record of %d bytes, %d present", n, len(rec))
	}
	if f.snaplen != 0 && caplen > f.snaplen { // read anyway, as libpcap and Wireshark do
		f.st.notes[nCaplenOverSnaplen]++
	}
	if caplen > orig {
		f.st.notes[nCaplenOverOrig]++
	}
	f.pending = n
	f.packets++
	sec, frac := int64(f.order.Uint32(rec[0:4])), int64(f.order.Uint32(rec[4:8]))
	if !f.nano {
		frac *= 1000
	}
	return packet{data: rec[16:n], time: sec*1e9 + frac, origLen: int(orig), link: f.link, number: f.packets}, nil
}
