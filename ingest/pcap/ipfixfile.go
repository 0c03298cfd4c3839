package pcap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
)

// IPFIXFile reads an IPFIX File (RFC 5655): IPFIX messages one after the
// other, as YAF, ipfixcol2 and libfixbuf's tools write them, with no capture
// around them. Each message is returned as a Datagram, numbered from 1 in
// the file and timed by its export time; a file does not say who exported
// it, so Src and Dst are 0.0.0.0:0.
type IPFIXFile struct {
	r      *bufio.Reader
	dg     Datagram
	buf    []byte
	offset int64
	st     counters
	err    error
	done   bool
}

// ipfixHeader is the length of an IPFIX message header.
const ipfixHeader = 16

// SniffIPFIXFile reports whether head starts like an IPFIX File: an IPFIX
// message header (version 10, a length of at least 16) whose first set is
// a template, options template or data set that fits the message.
func SniffIPFIXFile(head []byte) bool {
	if len(head) < ipfixHeader+4 || binary.BigEndian.Uint16(head) != 10 {
		return false
	}
	length := int(binary.BigEndian.Uint16(head[2:]))
	setID, setLen := binary.BigEndian.Uint16(head[16:]), int(binary.BigEndian.Uint16(head[18:]))
	return length >= ipfixHeader+4 && (setID == 2 || setID == 3 || setID >= 256) && setLen >= 4 && setLen <= length-ipfixHeader
}

// NewIPFIXFile reads the messages of r.
func NewIPFIXFile(r io.Reader) *IPFIXFile {
	return &IPFIXFile{r: bufio.NewReaderSize(r, 1<<16)}
}

var unknownExporter = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)

// Next returns the next message, or false at the end of the file or when
// it cannot be followed further (then Err says why).
func (f *IPFIXFile) Next() (*Datagram, bool) {
	if f.done {
		return nil, false
	}
	var h [ipfixHeader]byte
	n, err := io.ReadFull(f.r, h[:])
	if err == io.EOF {
		f.done = true
		return nil, false
	}
	f.st.packets++
	if err != nil {
		f.stop(rTruncated, fmt.Sprintf("message header cut short: %d of %d bytes", n, ipfixHeader))
		return nil, false
	}
	version, length := binary.BigEndian.Uint16(h[:]), int(binary.BigEndian.Uint16(h[2:]))
	if version != 10 || length < ipfixHeader {
		f.stop(rBadBlock, fmt.Sprintf("not an IPFIX message: version %d, length %d", version, length))
		return nil, false
	}
	if cap(f.buf) < length {
		f.buf = make([]byte, 0, 1<<16)
	}
	f.buf = append(f.buf[:0], h[:]...)[:length]
	if n, err := io.ReadFull(f.r, f.buf[ipfixHeader:]); err != nil {
		f.stop(rTruncated, fmt.Sprintf("message of %d bytes cut short at %d", length, ipfixHeader+n))
		return nil, false
	}
	f.offset += int64(length)
	f.st.datagrams++
	f.dg = Datagram{Number: f.st.packets, Time: int64(binary.BigEndian.Uint32(h[4:])) * 1e9,
		Src: unknownExporter, Dst: unknownExporter, Payload: f.buf}
	return &f.dg, true
}

// stop ends the file at the message that cannot be read, counted as
// skipped. A file that merely ends inside its last message is not an
// error, as for captures (Stats says so).
func (f *IPFIXFile) stop(why reason, detail string) {
	f.st.skip(why, 1)
	if why != rTruncated {
		f.err = &FileError{Packet: f.st.packets, Offset: f.offset, Reason: reasonNames[why], Detail: detail}
	}
	f.done = true
}

// Err returns what stopped Next early: a message cut short or not an IPFIX
// message. It is nil at a normal end.
func (f *IPFIXFile) Err() error { return f.err }

// Stats counts the messages: Packets read, Datagrams returned, Skipped.
func (f *IPFIXFile) Stats() Stats { return f.st.stats() }
