package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader: no input may make the reader panic, loop, allocate beyond its limits, return a
// datagram out of order or outside its packet, or lose count of a packet.
//
// Seed corpus (besides testdata/fuzz/FuzzReader, kept from earlier runs):
//   - the softflowd fixtures, real exports recorded by tcpdump and dumpcap: pcap over
//     Ethernet, over Linux SLL2 (tcpdump -i any), pcapng with two interfaces of two link
//     types and nanosecond if_tsresol, interface statistics blocks;
//   - hand-built files: every link type, VLAN stacks, MPLS and PPPoE, VXLAN and ERSPAN, IPv6 extension headers, IPv4 and IPv6
//     fragments out of order, a nanosecond big-endian pcap, a gzip-compressed pcap, a pcapng
//     with three interfaces, a simple packet block and a second big-endian section, and the
//     lies of TestHostilePcap (a huge caplen, a cut last record).
func FuzzReader(f *testing.F) {
	for _, name := range []string{"softflowd_v9_small.pcap", "softflowd_v5.pcap", "softflowd_v9_any.pcap",
		"softflowd_ipfix.pcapng", "softflowd_v9_lo+any.pcapng"} {
		b, err := os.ReadFile(filepath.Join(fixturesDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range handBuiltSeeds() {
		f.Add(b)
	}
	// IPFIX over TCP: two messages, the second in two segments out of order.
	exp, col := netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.9:4739")
	m := append(ipfixMessage(40, 1), ipfixMessage(60, 2)...)
	f.Add(pcapBytes(binary.LittleEndian, false, linkRaw, 65535,
		rec{ts: 1e9, data: tcpPacket(exp, col, 7, 0x18, m[:40])}, rec{ts: 2e9, data: tcpPacket(exp, col, 77, 0x18, m[70:])},
		rec{ts: 3e9, data: tcpPacket(exp, col, 47, 0x18, m[40:70])}, rec{ts: 4e9, data: tcpPacket(exp, col, 107, 0x11, nil)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var res result
		mem := allocated(func() { res = fuzzRead(t, b) })
		if mem > 16<<20 {
			t.Errorf("%d input bytes made the reader allocate %d bytes", len(b), mem)
		}
		checkAccounting(t, res.st)
	})
}

func fuzzRead(t *testing.T, b []byte) result {
	r, err := NewReader(bytes.NewReader(b), FormatAuto)
	if err != nil {
		if !errors.Is(err, ErrNotCapture) && fileError(err) == nil {
			t.Fatalf("NewReader: got %v, want ErrNotCapture or a *FileError", err)
		}
		return result{}
	}
	var last uint64
	for d, ok := r.Next(); ok; d, ok = r.Next() {
		// Messages of one TCP segment share its number; a UDP payload is at most 65535-8 bytes,
		// an IPFIX message read from TCP at most 65535.
		if d.Number < last || len(d.Payload) > 65535 || !d.Src.IsValid() || !d.Dst.IsValid() {
			t.Fatalf("datagram #%d after #%d: %v -> %v, %d bytes", d.Number, last, d.Src, d.Dst, len(d.Payload))
		}
		last = d.Number
	}
	st := r.Stats()
	if st.Datagrams > st.Packets || (r.Err() != nil && fileError(r.Err()) == nil) {
		t.Fatalf("%d datagrams of %d packets, err %v", st.Datagrams, st.Packets, r.Err())
	}
	return result{st: st, err: r.Err()}
}

// handBuiltSeeds are small files covering every decoder path.
func handBuiltSeeds() [][]byte {
	le, bige := binary.LittleEndian, binary.BigEndian
	p4, p6 := ipUDP(v4a, v4b, []byte("v4")), ipUDP(v6a, v6b, []byte("v6"))
	frag4 := fragments4(v4a, v4b, 9, make([]byte, 40), 16)
	frag6 := fragments6(v6a, v6b, 9, make([]byte, 40), 24)
	seeds := [][]byte{
		pcapBytes(le, false, linkEthernet, 65535, rec{data: ethernet(p4, 0x88A8, 0x8100)}, rec{data: ethernet(p6, 0x9100)}),
		pcapBytes(bige, true, linkSLL, 65535, rec{ts: t0, data: sll(p4)}, rec{ts: t0, data: sll(p6)}),
		pcapBytes(le, false, linkSLL2, 262144, rec{data: sll2(p4)}, rec{data: sll2(p6)}),
		pcapBytes(le, false, linkNull, 65535, rec{data: nullLink(le, 2, p4)}, rec{data: nullLink(le, 30, p6)}),
		pcapBytes(bige, false, linkLoop, 65535, rec{data: nullLink(bige, 2, p4)}, rec{data: nullLink(bige, 24, p6)}),
		pcapBytes(le, false, linkRaw, 96, rec{data: p4}, rec{data: p6[:50], orig: len(p6)}),
		pcapBytes(le, false, linkIPv6, 65535, rec{data: ipv6Packet(v6a.Addr(), v6b.Addr(), 0,
			append([]byte{17, 0, 0, 0, 0, 0, 0, 0}, udpSegment(1, 2, []byte("hop"))...))}),
		pcapBytes(le, false, linkRaw, 65535, recs(t0, frag4[2], frag4[0], frag4[1], frag6[1], frag6[0])...),
		gzipped(pcapBytes(le, false, linkIPv4, 65535, rec{data: p4})),
		pcapBytes(le, false, linkEthernet, 65535, rec{data: mplsFrame(p4, 0x8100)}, rec{data: pppoeFrame(p6)}),
		// Overlays: a frame inside VXLAN, and inside ERSPAN II over GRE.
		pcapBytes(le, false, linkRaw, 65535,
			rec{data: ipv4Packet(v4a.Addr(), v4b.Addr(), 17, 1, 0, udpSegment(1, vxlanPort, append([]byte{8, 0, 0, 0, 0, 0, 1, 0}, ethernet(p4)...)))},
			rec{data: ipv4Packet(v4a.Addr(), v4b.Addr(), 47, 2, 0, append([]byte{0x10, 0, 0x88, 0xBE, 0, 0, 0, 1, 0x10, 0, 0, 1, 0, 0, 0, 0}, ethernet(p6)...))}),
	}
	w := &ngWriter{order: le}
	w.section()
	w.iface(ngIfaceSpec{link: linkEthernet, snaplen: 65535})
	w.iface(ngIfaceSpec{link: linkSLL2, tsresol: 9})
	w.iface(ngIfaceSpec{link: linkRaw, tsresol: 0x80 | 20, tsoffset: 1714989600})
	w.packet(0, 1, ethernet(p4), 0)
	w.block(5, make([]byte, 16))
	w.packet(1, 2, sll2(p6), 0)
	w.packet(2, 3, p4, 0)
	w.simplePacket(ethernet(p6))
	w2 := &ngWriter{order: bige}
	w2.section()
	w2.iface(ngIfaceSpec{link: linkNull, tsresol: 3})
	w2.packet(0, 4, nullLink(bige, 28, p6), 0)
	seeds = append(seeds, append(w.b, w2.b...))
	huge := pcapBytes(le, false, linkRaw, 65535, rec{data: p4}, rec{data: p4})
	le.PutUint32(huge[24+16+len(p4)+8:], 0xFFFFFFF0)
	seeds = append(seeds, huge, huge[:len(huge)-5])
	return seeds
}
