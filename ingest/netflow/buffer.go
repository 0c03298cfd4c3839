package netflow

import (
	"encoding/binary"
	"net/netip"
)

// reader reads big-endian values from a byte slice. It checks the length
// before every read, keeps the first error and refuses every read after it
// (returning zeros), so a decoder can read a header in a row and check
// once.
type reader struct {
	b   []byte
	off int
	err bool
}

func newReader(b []byte) reader { return reader{b: b} }

// need reports whether n more bytes are present; if not it records the
// error and the reader refuses later reads.
func (r *reader) need(n int) bool {
	if r.err || n < 0 || n > len(r.b)-r.off {
		r.err = true
		return false
	}
	return true
}

func (r *reader) failed() bool { return r.err }
func (r *reader) left() int {
	if r.err {
		return 0
	}
	return len(r.b) - r.off
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

// bytes returns the next n bytes without copying.
func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

// beUint reads a big-endian unsigned integer of any width 1..8 (reduced
// size encoding, RFC 7011 section 6.2). Wider values keep their low 8
// bytes; callers check widths at template compile time.
func beUint(b []byte) uint64 {
	if len(b) > 8 {
		b = b[len(b)-8:]
	}
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	case 8:
		return binary.BigEndian.Uint64(b)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// addr4 and addr6 build addresses from exactly 4 or 16 bytes.
func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }

// addr6 reads an IPv6 address field; an IPv4-mapped one (::ffff:a.b.c.d,
// which some exporters put in IPv6 fields) is the IPv4 address, as filters
// read it.
func addr6(b []byte) netip.Addr { return netip.AddrFrom16([16]byte(b)).Unmap() }

// allZero reports whether b holds only zero bytes (set padding).
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
