package pcap

import "net/netip"

// Reassembly limits (see the package documentation).
const (
	fragMaxSets    = 256
	fragMaxBytes   = 4 << 20
	fragMaxPieces  = 64
	fragTimeout    = 30e9 // capture-time nanoseconds a datagram may take to complete
	fragSweepEvery = 1e9
	fragMaxPayload = 65535 // largest reassembled IP payload
	fragKeepSpare  = 8     // buffers kept for reuse
)

// fragKey identifies the fragments of one datagram (RFC 791: source, destination, protocol,
// identification; RFC 8200: source, destination, identification).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // 17 for IPv4 (only UDP is reassembled); 0 for IPv6
}

type span struct{ lo, hi int }

// fragSet collects the fragments of one datagram.
type fragSet struct {
	key    fragKey
	buf    []byte // len(buf) == cap(buf); bytes [lo, hi) of each span are filled
	spans  []span
	total  int // payload length, known once the last fragment (no "more") arrived; else -1
	got    int // bytes received (spans never overlap)
	pieces uint64
	nh     uint8 // IPv6: next header of the fragment at offset 0
	first  int64 // capture time of the first fragment to arrive
	seq    uint64
}

// reassembler holds incomplete datagrams within the limits above. Fragments that do not
// make a datagram are counted in the Reader's Skipped; whole datagrams are counted by the
// caller.
type reassembler struct {
	st        *counters
	sets      map[fragKey]*fragSet
	bytes     int
	seq       uint64
	now       int64
	nextSweep int64
	spareBufs [][]byte
	spareSets []*fragSet
	held      []byte // buffer of the datagram last handed out
}

func (f *reassembler) init(st *counters) {
	f.st = st
	f.sets = make(map[fragKey]*fragSet)
}

// add files one fragment: off and data are its offset and bytes within the datagram's payload,
// more its "more fragments" flag, nh (IPv6) the next header in its fragment header, t its
// capture time. When the datagram is complete it returns the payload (valid until release),
// how many packets it took and the first fragment's next header.
func (f *reassembler) add(key fragKey, off int, data []byte, more bool, nh uint8, t int64) ([]byte, uint64, uint8, bool) {
	hi := off + len(data)
	if len(data) == 0 || hi > fragMaxPayload || (more && len(data)%8 != 0) {
		f.st.skip(rFragBad, 1)
		return nil, 0, 0, false
	}
	f.tick(t)
	s := f.sets[key]
	if s == nil {
		s = f.open(key, t)
	}
	if !f.fits(s, off, hi, more) {
		return nil, 0, 0, false
	}
	f.grow(s, hi)
	copy(s.buf[off:hi], data)
	s.spans = append(s.spans, span{off, hi})
	s.got += len(data)
	s.pieces++
	if off == 0 {
		s.nh = nh
	}
	if !more {
		s.total = hi
	}
	if s.total < 0 || s.got != s.total {
		f.limitBytes(s)
		return nil, 0, 0, false
	}
	f.forget(s)
	f.held = s.buf
	payload, pieces, first := s.buf[:s.total], s.pieces, s.nh
	f.recycleSet(s)
	return payload, pieces, first, true
}

// fits checks a new fragment [off, hi) against what s already has; when it does not fit it
// drops what it must and counts the fragment.
func (f *reassembler) fits(s *fragSet, off, hi int, more bool) bool {
	for _, sp := range s.spans {
		if sp.lo == off && sp.hi == hi {
			f.st.skip(rFragDuplicate, 1)
			return false
		}
		if off < sp.hi && sp.lo < hi {
			f.drop(s, rFragOverlap, 1)
			return false
		}
	}
	switch {
	case !more && s.total >= 0: // a second last fragment
		f.drop(s, rFragBad, 1)
		return false
	case !more && len(s.spans) > 0 && s.spans[len(s.spans)-1].hi > hi && f.beyond(s, hi):
		f.drop(s, rFragBad, 1)
		return false
	case more && s.total >= 0 && hi > s.total:
		f.drop(s, rFragBad, 1)
		return false
	case len(s.spans) >= fragMaxPieces:
		f.drop(s, rFragBad, 1)
		return false
	}
	return true
}

// beyond reports whether s holds bytes past end.
func (f *reassembler) beyond(s *fragSet, end int) bool {
	for _, sp := range s.spans {
		if sp.hi > end {
			return true
		}
	}
	return false
}

func (f *reassembler) open(key fragKey, t int64) *fragSet {
	if len(f.sets) >= fragMaxSets {
		f.drop(f.oldest(nil), rFragIncomplete, 0)
	}
	var s *fragSet
	if n := len(f.spareSets); n > 0 {
		s, f.spareSets = f.spareSets[n-1], f.spareSets[:n-1]
	} else {
		s = new(fragSet)
	}
	f.seq++
	*s = fragSet{key: key, spans: s.spans[:0], total: -1, first: t, seq: f.seq}
	f.sets[key] = s
	return s
}

// grow makes s.buf hold at least hi bytes, counting the memory.
func (f *reassembler) grow(s *fragSet, hi int) {
	if len(s.buf) >= hi {
		return
	}
	size := max(2*len(s.buf), hi, 2048)
	size = min(size, fragMaxPayload)
	nb := f.buffer(size)
	copy(nb, s.buf)
	f.bytes += len(nb) - len(s.buf)
	f.recycleBuf(s.buf)
	s.buf = nb
}

func (f *reassembler) buffer(size int) []byte {
	for i, b := range f.spareBufs {
		if cap(b) >= size {
			last := len(f.spareBufs) - 1
			f.spareBufs[i], f.spareBufs = f.spareBufs[last], f.spareBufs[:last]
			return b[:cap(b)]
		}
	}
	return make([]byte, size)
}

func (f *reassembler) recycleBuf(b []byte) {
	if cap(b) > 0 && len(f.spareBufs) < fragKeepSpare {
		f.spareBufs = append(f.spareBufs, b)
	}
}

func (f *reassembler) recycleSet(s *fragSet) {
	s.buf = nil
	f.spareSets = append(f.spareSets, s)
}

// limitBytes drops the oldest other datagrams while the buffered bytes exceed the limit.
func (f *reassembler) limitBytes(keep *fragSet) {
	for f.bytes > fragMaxBytes {
		s := f.oldest(keep)
		if s == nil {
			return
		}
		f.drop(s, rFragIncomplete, 0)
	}
}

func (f *reassembler) oldest(except *fragSet) *fragSet {
	var o *fragSet
	for _, s := range f.sets {
		if s != except && (o == nil || s.seq < o.seq) {
			o = s
		}
	}
	return o
}

// tick advances the reassembler's clock (the newest capture time seen) and, about once a
// second of it, drops datagrams that waited longer than fragTimeout.
func (f *reassembler) tick(t int64) {
	if t > f.now {
		f.now = t
	}
	if f.now < f.nextSweep {
		return
	}
	f.nextSweep = f.now + fragSweepEvery
	for _, s := range f.sets {
		if f.now-s.first > fragTimeout {
			f.drop(s, rFragIncomplete, 0)
		}
	}
}

// drop gives up on s, counting its fragments and extra more packets under why.
func (f *reassembler) drop(s *fragSet, why reason, extra uint64) {
	f.st.skip(why, s.pieces+extra)
	f.forget(s)
	f.recycleBuf(s.buf)
	f.recycleSet(s)
}

func (f *reassembler) forget(s *fragSet) {
	delete(f.sets, s.key)
	f.bytes -= len(s.buf)
}

// release takes back the buffer of the datagram last handed out.
func (f *reassembler) release() {
	if f.held != nil {
		f.recycleBuf(f.held)
		f.held = nil
	}
}

// flush gives up on every incomplete datagram (end of the capture).
func (f *reassembler) flush() {
	for _, s := range f.sets {
		f.drop(s, rFragIncomplete, 0)
	}
}
