package pcap

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// Builders for hand-made packets and capture files. Checksums are left zero: the reader
// does not check them (captures taken on the sending host often carry offloaded ones).

func ipv4Packet(src, dst netip.Addr, proto uint8, id, flagsOff uint16, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	be.PutUint16(h[2:], uint16(20+len(payload)))
	be.PutUint16(h[4:], id)
	be.PutUint16(h[6:], flagsOff)
	copy(h[12:], src.AsSlice())
	copy(h[16:], dst.AsSlice())
	return append(h, payload...)
}

func ipv6Packet(src, dst netip.Addr, nh uint8, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0], h[6], h[7] = 0x60, nh, 64
	be.PutUint16(h[4:], uint16(len(payload)))
	copy(h[8:], src.AsSlice())
	copy(h[24:], dst.AsSlice())
	return append(h, payload...)
}

func udpSegment(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	be.PutUint16(h[0:], sport)
	be.PutUint16(h[2:], dport)
	be.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

// ipUDP is a whole IPv4 or IPv6 packet carrying one UDP datagram.
func ipUDP(src, dst netip.AddrPort, payload []byte) []byte {
	u := udpSegment(src.Port(), dst.Port(), payload)
	if src.Addr().Is4() {
		return ipv4Packet(src.Addr(), dst.Addr(), 17, 1, 0x4000, u)
	}
	return ipv6Packet(src.Addr(), dst.Addr(), 17, u)
}

func etherType(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return etherIPv6
	}
	return etherIPv4
}

// ethernet frames ip, after the given VLAN tag protocol ids (each tag gets VLAN id 100+i).
func ethernet(ip []byte, tags ...uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for i, t := range tags {
		b = be.AppendUint16(b, t)
		b = be.AppendUint16(b, uint16(100+i))
	}
	b = be.AppendUint16(b, etherType(ip))
	return append(b, ip...)
}

func sll(ip []byte) []byte {
	b := make([]byte, 16)
	be.PutUint16(b[2:], 772) // ARPHRD_LOOPBACK
	be.PutUint16(b[4:], 6)
	be.PutUint16(b[14:], etherType(ip))
	return append(b, ip...)
}

func sll2(ip []byte) []byte {
	b := make([]byte, 20)
	be.PutUint16(b[0:], etherType(ip))
	be.PutUint32(b[4:], 1) // ifindex
	be.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[11] = 6
	return append(b, ip...)
}

// byteOrder is what binary.BigEndian and binary.LittleEndian both are.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func nullLink(order byteOrder, family uint32, ip []byte) []byte {
	return append(order.AppendUint32(nil, family), ip...)
}

// rec is one packet record of a hand-built capture.
type rec struct {
	ts    int64 // unix ns
	data  []byte
	orig  int // length on the wire; 0: len(data)
	iface int // pcapng interface
}

func (r rec) origLen() int {
	if r.orig == 0 {
		return len(r.data)
	}
	return r.orig
}

// pcapBytes writes a pcap file.
func pcapBytes(order byteOrder, nano bool, link, snaplen uint32, recs ...rec) []byte {
	magic := uint32(magicMicroBE)
	if nano {
		magic = magicNanoBE
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = order.AppendUint32(b, snaplen)
	b = order.AppendUint32(b, link)
	for _, r := range recs {
		frac := r.ts % 1e9
		if !nano {
			frac /= 1000
		}
		b = order.AppendUint32(b, uint32(r.ts/1e9))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(r.data)))
		b = order.AppendUint32(b, uint32(r.origLen()))
		b = append(b, r.data...)
	}
	return b
}

// ngIfaceSpec describes a pcapng interface; tsresol 0 leaves the option out (microseconds).
type ngIfaceSpec struct {
	link     uint16
	snaplen  uint32
	tsresol  byte
	tsoffset int64
}

// ngWriter builds pcapng files block by block.
type ngWriter struct {
	order byteOrder
	b     []byte
}

func (w *ngWriter) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	w.b = w.order.AppendUint32(w.b, typ)
	w.b = w.order.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = w.order.AppendUint32(w.b, n)
}

func (w *ngWriter) section() {
	body := w.order.AppendUint32(nil, magicNgOrder)
	body = w.order.AppendUint16(body, 1)
	body = w.order.AppendUint16(body, 0)
	body = w.order.AppendUint64(body, ^uint64(0))
	w.block(ngSHB, body)
}

func (w *ngWriter) option(b []byte, code uint16, v []byte) []byte {
	b = w.order.AppendUint16(b, code)
	b = w.order.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (w *ngWriter) iface(s ngIfaceSpec) {
	body := w.order.AppendUint16(nil, s.link)
	body = append(body, 0, 0)
	body = w.order.AppendUint32(body, s.snaplen)
	body = w.option(body, 2, []byte("test0")) // if_name
	if s.tsresol != 0 {
		body = w.option(body, 9, []byte{s.tsresol})
	}
	if s.tsoffset != 0 {
		body = w.option(body, 14, w.order.AppendUint64(nil, uint64(s.tsoffset)))
	}
	body = append(body, 0, 0, 0, 0) // end of options
	w.block(ngIDB, body)
}

// packet writes an EPB; ts is in the interface's units.
func (w *ngWriter) packet(iface uint32, ts uint64, data []byte, orig int) {
	body := w.order.AppendUint32(nil, iface)
	body = w.order.AppendUint32(body, uint32(ts>>32))
	body = w.order.AppendUint32(body, uint32(ts))
	body = w.order.AppendUint32(body, uint32(len(data)))
	body = w.order.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = w.option(body, 1, []byte("a comment")) // opt_comment
	w.block(ngEPB, body)
}

func (w *ngWriter) simplePacket(data []byte) {
	w.block(ngSPB, append(w.order.AppendUint32(nil, uint32(len(data))), data...))
}

// pcapngBytes writes one section with the given interfaces and EPBs (ts in microseconds
// for interfaces without tsresol; rec.ts is used as is, in the interface's units).
func pcapngBytes(order byteOrder, ifaces []ngIfaceSpec, recs ...rec) []byte {
	w := &ngWriter{order: order}
	w.section()
	for _, s := range ifaces {
		w.iface(s)
	}
	for _, r := range recs {
		w.packet(uint32(r.iface), uint64(r.ts), r.data, r.origLen())
	}
	return w.b
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// result is everything a Reader made of a file, payloads copied.
type result struct {
	dgs []Datagram
	st  Stats
	err error
}

func readAll(tb testing.TB, b []byte) result {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(b), FormatAuto)
	if err != nil {
		return result{err: err}
	}
	return drain(tb, r)
}

func drain(tb testing.TB, r *Reader) result {
	tb.Helper()
	var res result
	for d, ok := r.Next(); ok; d, ok = r.Next() {
		c := *d
		c.Payload = append([]byte(nil), d.Payload...)
		res.dgs = append(res.dgs, c)
	}
	res.st, res.err = r.Stats(), r.Err()
	checkAccounting(tb, res.st)
	return res
}

// checkAccounting checks that every packet was counted exactly once.
func checkAccounting(tb testing.TB, s Stats) {
	tb.Helper()
	sum := s.Datagrams + s.Filtered - s.Reassembled + s.Fragments + s.TCPSegments
	for _, n := range s.Other {
		sum += n
	}
	for _, n := range s.Skipped {
		sum += n
	}
	if sum != s.Packets {
		tb.Errorf("accounting: %d packets, but datagrams+filtered-reassembled+fragments+other+skipped = %d (%+v)", s.Packets, sum, s)
	}
}

func fileError(err error) *FileError {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

var (
	v4a = netip.MustParseAddrPort("192.0.2.1:40000")
	v4b = netip.MustParseAddrPort("198.51.100.7:2055")
	v6a = netip.MustParseAddrPort("[2001:db8::1]:40001")
	v6b = netip.MustParseAddrPort("[2001:db8::2]:4739")
)
