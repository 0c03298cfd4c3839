package pcap

import "net/netip"

// IPFIX over TCP (RFC 7011 section 10.4): an exporter writes its messages
// back to back on one connection, and each message says its length, so
// the stream can be cut into messages again. A connection becomes a stream
// when a segment's payload starts with a plausible IPFIX message header;
// its messages are then returned by Next as if each had come in a
// datagram of its own. Segments are put back in sequence order; one that
// repeats bytes already seen (a retransmission) adds only what is new, and
// one captured late but sent before the segment the stream was picked up
// at gives its whole messages on its own.
// When a gap never fills, or the bytes stop looking like IPFIX, the
// stream waits for a segment that starts with a message header again.
// NetFlow v9 has no message length and is not read from TCP.

const (
	ipfixHeaderLen = 16
	maxAhead       = 1 << 20  // bytes held beyond a gap, per stream
	maxAheadSegs   = 512      // and segments (each arrival rescans them)
	maxAheadAll    = 16 << 20 // and in all streams together
	maxStreams     = 1024     // streams followed at once; more TCP connections are other traffic
	tcpFIN         = 0x01
	tcpRST         = 0x04
)

type streamKey struct{ src, dst netip.AddrPort }

type tcpStream struct {
	start  uint32    // sequence number the stream was picked up at
	next   uint32    // sequence number of the next byte expected
	buf    []byte    // bytes in order, not yet cut into messages
	ahead  []segment // segments beyond a gap, in arrival order
	held   int       // their bytes
	synced bool      // buf starts at a message boundary
}

type segment struct {
	seq  uint32
	data []byte
}

// plausibleIPFIX reports whether b starts with an IPFIX message header:
// version 10, a length of at least a header and a set header, and a first
// set id that is a template, options template or data set.
func plausibleIPFIX(b []byte) bool {
	if len(b) < ipfixHeaderLen+4 || be.Uint16(b) != 10 || be.Uint16(b[2:]) < ipfixHeaderLen+4 {
		return false
	}
	id := be.Uint16(b[ipfixHeaderLen:])
	return id == 2 || id == 3 || id >= 256
}

// tcp takes b, a whole IP payload of protocol TCP: a segment of an IPFIX
// stream is added to it (counted in Stats.TCPSegments) and the messages it
// completes are queued for Next; other TCP is counted as other traffic.
func (r *Reader) tcp(p *packet, src, dst netip.Addr, b []byte) bool {
	if len(b) < 20 {
		r.st.proto[6]++
		return false
	}
	hlen := int(b[12]>>4) * 4 // data offset: the header with its options
	if hlen < 20 || hlen > len(b) {
		r.st.proto[6]++
		return false
	}
	sport, dport := be.Uint16(b[0:2]), be.Uint16(b[2:4])
	seq, flags, payload := be.Uint32(b[4:8]), b[13], b[hlen:]
	key := streamKey{netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)}
	s := r.streams[key]
	if s == nil {
		if !plausibleIPFIX(payload) || !r.wanted(sport, dport) || len(r.streams) >= maxStreams {
			r.st.proto[6]++
			return false
		}
		if r.streams == nil {
			r.streams = make(map[streamKey]*tcpStream)
		}
		s = &tcpStream{start: seq, next: seq}
		r.streams[key] = s
	}
	r.st.tcpSegments++
	if s.synced && len(payload) > 0 && int32(seq+uint32(len(payload))-s.start) <= 0 && plausibleIPFIX(payload) {
		// Captured after the segment the stream was picked up at, though
		// sent before it: its whole messages are read on their own.
		r.cutAlone(key, p, payload)
		return false
	}
	s.add(r, seq, payload)
	r.cut(s, key, p)
	if flags&(tcpFIN|tcpRST) != 0 {
		r.closeStream(key, s)
	}
	return false
}

// add puts payload (at sequence number seq) in order.
func (s *tcpStream) add(r *Reader, seq uint32, payload []byte) {
	if len(payload) == 0 {
		return
	}
	if !s.synced && len(s.buf) == 0 {
		// Following a stream, or starting again after losing it: only a
		// segment that starts a message can start it.
		if !plausibleIPFIX(payload) {
			return
		}
		s.start, s.next, s.synced = seq, seq, true // nothing is held: lose emptied it
	}
	switch d := int32(seq - s.next); {
	case d > 0: // beyond a gap: hold it, unless too much is held already
		if s.held+len(payload) > maxAhead || r.held+len(payload) > maxAheadAll || len(s.ahead) >= maxAheadSegs {
			r.st.notes[nStreamGap]++
			s.lose(r)
			s.add(r, seq, payload)
			return
		}
		s.ahead = append(s.ahead, segment{seq, append([]byte(nil), payload...)})
		s.held += len(payload)
		r.held += len(payload)
		return
	case int(-d) >= len(payload): // all seen before
		return
	default:
		s.buf = append(s.buf, payload[-d:]...)
		s.next = seq + uint32(len(payload))
	}
	for i := 0; i < len(s.ahead); { // the gap may have filled
		a := s.ahead[i]
		if d := int32(a.seq - s.next); d <= 0 {
			if int(-d) < len(a.data) {
				s.buf = append(s.buf, a.data[-d:]...)
				s.next = a.seq + uint32(len(a.data))
			}
			s.held -= len(a.data)
			r.held -= len(a.data)
			s.ahead = append(s.ahead[:i], s.ahead[i+1:]...)
			i = 0
			continue
		}
		i++
	}
}

// lose gives up the stream's bytes: it starts again at the next segment
// that starts a message.
func (s *tcpStream) lose(r *Reader) {
	r.held -= s.held
	s.buf, s.ahead, s.held, s.synced = s.buf[:0], s.ahead[:0], 0, false
}

// cut queues the whole messages at the start of s.buf as datagrams of the
// packet p that completed them.
func (r *Reader) cut(s *tcpStream, key streamKey, p *packet) {
	if !s.synced {
		return
	}
	n, ok := r.messages(key, p, s.buf)
	if !ok {
		r.st.notes[nStreamLost]++
		s.lose(r)
		return
	}
	s.buf = append(s.buf[:0], s.buf[n:]...)
}

// cutAlone queues the whole messages of one segment read apart from its
// stream; a message it does not finish is noted.
func (r *Reader) cutAlone(key streamKey, p *packet, b []byte) {
	if n, ok := r.messages(key, p, b); !ok || n < len(b) {
		r.st.notes[nStreamCut]++
	}
}

// messages queues the whole messages at the front of b and returns the
// bytes they took; ok is false when b stops looking like IPFIX.
func (r *Reader) messages(key streamKey, p *packet, b []byte) (int, bool) {
	off := 0
	for len(b)-off >= 4 {
		n := int(be.Uint16(b[off+2:]))
		if be.Uint16(b[off:]) != 10 || n < ipfixHeaderLen {
			return off, false
		}
		if len(b)-off < n {
			break
		}
		r.queue = append(r.queue, Datagram{Number: p.number, Time: p.time, Src: key.src, Dst: key.dst,
			Payload: append([]byte(nil), b[off:off+n]...), Interface: p.iface})
		r.st.tcpMessages++
		off += n
	}
	return off, true
}

// closeStream ends a stream at its FIN or RST; bytes of a message it did
// not finish are noted.
func (r *Reader) closeStream(key streamKey, s *tcpStream) {
	if len(s.buf) > 0 || len(s.ahead) > 0 {
		r.st.notes[nStreamCut]++
	}
	r.held -= s.held
	delete(r.streams, key)
}

// flushStreams ends every stream at the end of the capture.
func (r *Reader) flushStreams() {
	for key, s := range r.streams {
		r.closeStream(key, s)
	}
}
