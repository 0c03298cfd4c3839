package flow

import "net/netip"

// Addr17Len is the size of an address in its fixed-width stored form.
const Addr17Len = 17

// AppendAddr17 writes an address in 17 bytes: a family byte (0 none,
// 4 IPv4, 6 IPv6) and 16 bytes, IPv4 in the first four. The store's block
// headers and the ingest layer's keys use it.
func AppendAddr17(dst []byte, a netip.Addr) []byte {
	var b [Addr17Len]byte
	switch {
	case a.Is4():
		b[0] = 4
		v := a.As4()
		copy(b[1:], v[:])
	case a.Is6():
		b[0] = 6
		v := a.As16()
		copy(b[1:], v[:])
	}
	return append(dst, b[:]...)
}

// ReadAddr17 reads what AppendAddr17 wrote; b must hold 17 bytes.
func ReadAddr17(b []byte) netip.Addr {
	switch b[0] {
	case 4:
		return netip.AddrFrom4([4]byte(b[1:5]))
	case 6:
		return netip.AddrFrom16([16]byte(b[1:17]))
	}
	return netip.Addr{}
}
