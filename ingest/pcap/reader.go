package pcap

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Datagram is one UDP datagram found in a capture.
type Datagram struct {
	Number    uint64         // 1-based packet number in the file (tshark's frame.number); for a reassembled datagram, the packet that completed it
	Time      int64          // capture time of that packet, unix nanoseconds (0 for a pcapng simple packet block)
	Src, Dst  netip.AddrPort // IPv4 addresses are plain 4-byte addresses, never 4-in-6
	Payload   []byte         // the UDP payload; valid until the next call to Next
	Interface int            // pcapng interface index within its section; 0 for pcap
}

// Reader reads the UDP datagrams of a pcap or pcapng capture, and the IPFIX messages of TCP
// streams in it. It is not safe for concurrent use.
type Reader struct {
	src    packetSource
	format Format
	gzip   bool
	ports  []uint16
	frag   reassembler
	dg     Datagram
	hd     Headers // NextHeaders' packet
	l4     []byte  // its transport header and payload, as captured
	// partial marks hd as a first fragment with more to follow: its
	// transport payload is not whole (overlay does not open it).
	partial bool
	// IPFIX over TCP (tcp.go): the streams followed, and messages cut from
	// them that Next has not returned yet.
	streams map[streamKey]*tcpStream
	held    int // bytes held beyond gaps in all streams
	queue   []Datagram
	queued  int
	st      counters
	done    bool
	err     error
	tunnels int // tunnels the packet being decoded is inside (decode.go)
}

// packet is one captured packet; data is valid until the source's next call.
type packet struct {
	data    []byte
	time    int64 // unix ns
	origLen int   // length on the wire
	link    uint16
	iface   int
	number  uint64 // 1-based, in the file
}

type packetSource interface {
	next() (packet, error)
}

// NewReader reads the capture header of r and returns a Reader for its packets. f is
// FormatAuto to tell the format from the magic, or the format the caller expects. A gzip
// stream (first bytes 1f 8b) is decompressed. Errors: ErrNotCapture (wrapped, saying what was
// found instead: no capture magic, an unsupported version, a file header or first pcapng block
// cut short or damaged), or an error reading r.
func NewReader(r io.Reader, f Format) (*Reader, error) {
	src := newPeekReader(r)
	head, err := src.Peek(12)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("cannot read the capture: %w", err)
	}
	rd := &Reader{}
	if len(head) >= 2 && binary.BigEndian.Uint16(head) == gzipMagic {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip stream: %v", ErrNotCapture, err)
		}
		src = newPeekReader(zr)
		if head, err = src.Peek(12); err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: gzip stream: %v", ErrNotCapture, err)
		}
		rd.gzip = true
	}
	sniffed := Sniff(head)
	if sniffed == FormatAuto {
		return nil, notCapture(head, rd.gzip)
	}
	if f != FormatAuto && f != sniffed {
		return nil, fmt.Errorf("%w: want %s, the file is %s", ErrNotCapture, f, sniffed)
	}
	rd.format = sniffed
	rd.frag.init(&rd.st)
	if sniffed == FormatPcap {
		rd.src, err = newPcapFile(src, &rd.st)
	} else {
		rd.src, err = newNgFile(src, &rd.st)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func notCapture(head []byte, gz bool) error {
	in := ""
	if gz {
		in = " inside gzip"
	}
	switch {
	case len(head) == 0:
		return fmt.Errorf("%w: empty input%s", ErrNotCapture, in)
	case len(head) >= 4 && binary.BigEndian.Uint32(head) == magicModified:
		return fmt.Errorf("%w: modified (Kuznetzov) pcap%s is not supported", ErrNotCapture, in)
	case len(head) >= 4 && binary.BigEndian.Uint32(head) == magicNgBlock:
		return fmt.Errorf("%w: pcapng section header%s with byte-order magic % x", ErrNotCapture, in, head[8:])
	}
	return fmt.Errorf("%w: starts with % x%s", ErrNotCapture, head, in)
}

// FilterPorts makes Next return only datagrams whose source or destination port is one of
// ports (none: every datagram, the default). The others are counted in Stats.Filtered.
func (r *Reader) FilterPorts(ports ...uint16) {
	r.ports = append(r.ports[:0], ports...)
}

// Format is the format of the capture (after gzip, if it was compressed).
func (r *Reader) Format() Format { return r.format }

// Compressed reports whether the capture was a gzip stream.
func (r *Reader) Compressed() bool { return r.gzip }

// Next returns the next UDP datagram (or IPFIX message read from a TCP stream), or false at
// the end of the capture or when it cannot be followed any further (then Err says why). The
// Datagram and its Payload are reused by the next call.
func (r *Reader) Next() (*Datagram, bool) {
	r.frag.release()
	for {
		if r.queued < len(r.queue) {
			r.dg = r.queue[r.queued]
			r.queue[r.queued] = Datagram{}
			r.queued++
			return &r.dg, true
		}
		r.queue, r.queued = r.queue[:0], 0
		if r.done {
			return nil, false
		}
		p, err := r.src.next()
		if err != nil {
			r.end(err)
			continue
		}
		r.st.packets++
		if r.decode(&p) {
			r.st.datagrams++
			return &r.dg, true
		}
	}
}

// end records why reading stopped and gives up on the fragments still waiting.
func (r *Reader) end(err error) {
	r.done = true
	r.frag.flush()
	r.flushStreams()
	var fe *FileError
	switch {
	case errors.Is(err, io.EOF):
	case errors.As(err, &fe):
		if fe.Reason != ReasonTruncated {
			r.err = fe
		}
	default:
		r.err = err
	}
}

// Err returns the error that stopped Next early, a *FileError: the capture cannot be followed
// past a damaged record, or the stream failed (ReasonRead). It is nil at a normal end, and
// also when the file merely ends inside its last packet (see Stats.Skipped).
func (r *Reader) Err() error { return r.err }

// Stats returns what happened to the packets read so far; see Stats for when it adds up.
func (r *Reader) Stats() Stats { return r.st.stats() }
