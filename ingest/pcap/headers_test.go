package pcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

// readHeaders reads every packet with NextHeaders and checks the accounting.
func readHeaders(tb testing.TB, b []byte) ([]Headers, Stats, error) {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(b), FormatAuto)
	if err != nil {
		return nil, Stats{}, err
	}
	var out []Headers
	for h, ok := r.NextHeaders(); ok; h, ok = r.NextHeaders() {
		out = append(out, *h)
	}
	st := r.Stats()
	sum := st.Metered
	for _, n := range st.Other {
		sum += n
	}
	for _, n := range st.Skipped {
		sum += n
	}
	if sum != st.Packets || st.Datagrams != 0 {
		tb.Errorf("accounting: %d packets, %d metered, %d datagrams, %+v", st.Packets, st.Metered, st.Datagrams, st)
	}
	return out, st, r.Err()
}

func TestHeaders(t *testing.T) {
	a4, b4 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.0.2.9")
	a6, b6 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	tcp := func(sport, dport uint16, flags uint8, payload int) []byte {
		h := make([]byte, 20+payload)
		be.PutUint16(h[0:], sport)
		be.PutUint16(h[2:], dport)
		h[12], h[13] = 5<<4, flags
		return h
	}
	icmp := []byte{3, 3, 0, 0, 0, 0, 0, 0}
	tso := ipv4Packet(a4, b4, 6, 7, 0x4000, tcp(40000, 443, 0x18, 1000))
	be.PutUint16(tso[2:], 0) // total length left to the offloading NIC
	// IPv6: hop-by-hop, then a first fragment carrying UDP, then a later fragment.
	hbh := append([]byte{44, 0, 0, 0, 0, 0, 0, 0}, []byte{17, 0, 0, 1, 0, 0, 0, 9}...) // hop-by-hop -> fragment (offset 0, more)
	first6 := ipv6Packet(a6, b6, 0, append(hbh, udpSegment(5353, 53, make([]byte, 20))...))
	later6 := ipv6Packet(a6, b6, 44, append([]byte{17, 0, 0, 32, 0, 0, 0, 9}, make([]byte, 24)...)) // offset 4*8
	syn := ethernet(ipv4Packet(a4, b4, 6, 1, 0x4000, tcp(40000, 80, 0x02, 0)), 0x8100)
	cases := []struct {
		name string
		rec  rec
		want Headers
	}{
		{"tcp over a VLAN", rec{ts: 1e9, data: syn},
			Headers{Src: a4, Dst: b4, Proto: 6, SrcPort: 40000, DstPort: 80, TCPFlags: 0x02, Length: 40}},
		{"cut by the snap length after the TCP flags", rec{ts: 2e9, data: ethernet(ipv4Packet(a4, b4, 6, 2, 0x4000, tcp(40000, 443, 0x18, 1400)))[:14+20+14], orig: 14 + 1440},
			Headers{Src: a4, Dst: b4, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x18, Length: 1440}},
		// The ports without the flags (a tiny first fragment, RFC 1858, is
		// read the same way): its flow is known, its flags are not.
		{"cut inside the TCP header after the ports", rec{ts: 3e9, data: ethernet(ipv4Packet(a4, b4, 6, 3, 0x4000, tcp(40000, 443, 0x18, 1400)))[:14+20+8], orig: 14 + 1440},
			Headers{Src: a4, Dst: b4, Proto: 6, SrcPort: 40000, DstPort: 443, Length: 1440}},
		{"cut inside the TCP ports", rec{ts: 3e9, data: ethernet(ipv4Packet(a4, b4, 6, 3, 0x4000, tcp(40000, 443, 0x18, 1400)))[:14+20+3], orig: 14 + 1440},
			Headers{Src: a4, Dst: b4, Proto: 6, Length: 1440, Cut: true}},
		{"segmentation offload: total length 0", rec{ts: 4e9, data: ethernet(tso)},
			Headers{Src: a4, Dst: b4, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x18, Length: 1040}},
		// A crafted original length of 2^31: no IP packet is larger than
		// Linux's largest offloaded one (it added 2 GiB to a flow).
		{"total length 0, original length 2 GiB", rec{ts: 4e9, data: ethernet(tso), orig: 1 << 31},
			Headers{Src: a4, Dst: b4, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x18, Length: maxOffload}},
		{"icmp", rec{ts: 5e9, data: ethernet(ipv4Packet(b4, a4, 1, 4, 0, icmp))},
			Headers{Src: b4, Dst: a4, Proto: 1, ICMPType: 3, ICMPCode: 3, Length: 28}},
		{"later IPv4 fragment", rec{ts: 6e9, data: ethernet(ipv4Packet(a4, b4, 17, 5, 0x0010, make([]byte, 100)))},
			Headers{Src: a4, Dst: b4, Proto: 17, Length: 120, Fragment: true}},
		{"first IPv6 fragment behind hop-by-hop", rec{ts: 7e9, data: ethernet(first6)},
			Headers{Src: a6, Dst: b6, Proto: 17, SrcPort: 5353, DstPort: 53, Length: 40 + 16 + 28}},
		{"later IPv6 fragment", rec{ts: 8e9, data: ethernet(later6)},
			Headers{Src: a6, Dst: b6, Proto: 17, Length: 40 + 32, Fragment: true}},
		{"padded frame", rec{ts: 9e9, data: append(ethernet(ipv4Packet(a4, b4, 17, 6, 0, udpSegment(1, 2, nil))), 0, 0, 0, 0, 0, 0)},
			Headers{Src: a4, Dst: b4, Proto: 17, SrcPort: 1, DstPort: 2, Length: 28}},
		{"gre: no ports", rec{ts: 10e9, data: ethernet(ipv4Packet(a4, b4, 47, 7, 0, make([]byte, 8)))},
			Headers{Src: a4, Dst: b4, Proto: 47, Length: 28}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st, err := readHeaders(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, c.rec))
			if err != nil || len(got) != 1 {
				t.Fatalf("%d packets, err %v, stats %+v", len(got), err, st)
			}
			c.want.Number, c.want.Time = 1, c.rec.ts
			if got[0] != c.want {
				t.Errorf("got  %+v\nwant %+v", got[0], c.want)
			}
		})
	}
}

// Packets that are not IP, or whose IP headers lie, are counted and never
// metered.
func TestHeadersRejects(t *testing.T) {
	a4, b4 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.0.2.9")
	short := ipv4Packet(a4, b4, 17, 1, 0, udpSegment(1, 2, make([]byte, 40)))
	arp := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 6}, make([]byte, 28)...)
	badVersion := ipv4Packet(a4, b4, 17, 1, 0, nil)
	badVersion[0] = 0x55
	recs := []rec{
		{ts: 1e9, data: ethernet(short)[:14+40]}, // shorter on the wire than its total length, not cut
		{ts: 2e9, data: arp},
		{ts: 3e9, data: ethernet(badVersion)},
		{ts: 4e9, data: ethernet(ipv4Packet(a4, b4, 17, 1, 0, udpSegment(1, 2, nil)))},
	}
	got, st, err := readHeaders(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, recs...))
	if err != nil || len(got) != 1 || got[0].Number != 4 {
		t.Fatalf("got %+v, err %v; want packet 4 alone", got, err)
	}
	if st.Skipped[ReasonBadIPv4] != 2 || st.Other["arp"] != 1 {
		t.Errorf("stats %+v; want 2 bad IPv4 and 1 arp", st)
	}
}

// FuzzHeaders: no input may make NextHeaders panic, loop, return a packet
// without addresses or with ports it cannot have, or lose count of one.
func FuzzHeaders(f *testing.F) {
	for _, b := range handBuiltSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, st, err := readHeaders(t, b)
		if err != nil && fileError(err) == nil {
			if _, nerr := NewReader(bytes.NewReader(b), FormatAuto); nerr == nil {
				t.Fatalf("NextHeaders: %v, not a *FileError", err)
			}
		}
		var last uint64
		for _, h := range hs {
			if h.Number <= last || !h.Src.IsValid() || !h.Dst.IsValid() || h.Length == 0 ||
				((h.Fragment || h.Cut) && (h.SrcPort != 0 || h.DstPort != 0 || h.TCPFlags != 0)) {
				t.Fatalf("packet %s after #%d (%+v)", fmt.Sprintf("%+v", h), last, st)
			}
			last = h.Number
		}
	})
}

// Overlays carrying whole frames (VXLAN, GRE bridging, ERSPAN II and III)
// are opened: the headers are the inner packet's. A routed GRE tunnel is
// the tunnel.
func TestHeadersOverlays(t *testing.T) {
	outerA, outerB := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	inA, inB := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	tcp := make([]byte, 20)
	be.PutUint16(tcp[0:], 40000)
	be.PutUint16(tcp[2:], 443)
	tcp[12], tcp[13] = 5<<4, 0x02
	inner := ethernet(ipv4Packet(inA, inB, 6, 9, 0x4000, tcp), 0x8100)
	vxlan := append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, inner...)
	gre := func(flags byte, proto uint16, extra int, hdr []byte) []byte {
		b := []byte{flags, 0}
		b = be.AppendUint16(b, proto)
		b = append(b, make([]byte, extra)...)
		b = append(b, hdr...)
		return append(b, inner...)
	}
	erspan3 := make([]byte, 12)
	erspan3o := make([]byte, 20)
	erspan3o[11] = 1 // an 8-byte subheader follows
	want := Headers{Src: inA, Dst: inB, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x02, Length: 40}
	cases := []struct {
		name  string
		ip    []byte
		inner bool
	}{
		{"VXLAN", ipv4Packet(outerA, outerB, 17, 1, 0, udpSegment(51000, 4789, vxlan)), true},
		{"VXLAN on Linux's port, over IPv6", ipv6Packet(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), 17, udpSegment(51000, 8472, vxlan)), true},
		{"GRE bridging with a key", ipv4Packet(outerA, outerB, 47, 2, 0, gre(0x20, greTEB, 4, nil)), true},
		{"ERSPAN II", ipv4Packet(outerA, outerB, 47, 3, 0, gre(0x10, greERSPAN2, 4, make([]byte, 8))), true},
		{"ERSPAN III", ipv4Packet(outerA, outerB, 47, 4, 0, gre(0x10, greERSPAN3, 4, erspan3)), true},
		{"ERSPAN III with its subheader", ipv4Packet(outerA, outerB, 47, 5, 0, gre(0x10, greERSPAN3, 4, erspan3o)), true},
		{"GRE carrying IP: the tunnel", ipv4Packet(outerA, outerB, 47, 6, 0, append([]byte{0, 0, 0x08, 0}, ipv4Packet(inA, inB, 6, 9, 0x4000, tcp)...)), false},
		{"UDP 4789 that is not VXLAN", ipv4Packet(outerA, outerB, 17, 7, 0, udpSegment(51000, 4789, make([]byte, 40))), false},
		// A first fragment (more to follow) holds part of the frame: the
		// outer packet is metered (its inner header was rejected as bad).
		{"VXLAN in a first fragment", ipv4Packet(outerA, outerB, 17, 8, 0x2000, udpSegment(51000, 4789, vxlan)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st, err := readHeaders(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, rec{ts: 1e9, data: ethernet(c.ip)}))
			if err != nil || len(got) != 1 {
				t.Fatalf("%d packets, err %v, stats %+v", len(got), err, st)
			}
			g := got[0]
			g.Number, g.Time = 0, 0
			if c.inner && (g != want || st.Decapsulated != 1) {
				t.Errorf("got %+v (decapsulated %d), want %+v", g, st.Decapsulated, want)
			}
			if !c.inner && (g.Src == inA || st.Decapsulated != 0) {
				t.Errorf("got %+v (decapsulated %d), want the outer packet", g, st.Decapsulated)
			}
		})
	}
}
