package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const t0 = int64(1714989600123456000) // 2024-05-06T10:00:00.123456Z

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Format
	}{
		{"pcap micro BE", []byte{0xA1, 0xB2, 0xC3, 0xD4}, FormatPcap},
		{"pcap micro LE", []byte{0xD4, 0xC3, 0xB2, 0xA1}, FormatPcap},
		{"pcap nano BE", []byte{0xA1, 0xB2, 0x3C, 0x4D}, FormatPcap},
		{"pcap nano LE", []byte{0x4D, 0x3C, 0xB2, 0xA1}, FormatPcap},
		{"pcapng LE", []byte{0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A}, FormatPcapng},
		{"pcapng BE", []byte{0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 28, 0x1A, 0x2B, 0x3C, 0x4D}, FormatPcapng},
		{"pcapng bad byte-order magic", []byte{0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 28, 1, 2, 3, 4}, FormatAuto},
		{"pcapng type only", []byte{0x0A, 0x0D, 0x0D, 0x0A}, FormatPcapng},
		{"modified pcap", []byte{0xA1, 0xB2, 0xCD, 0x34}, FormatAuto},
		{"gzip", []byte{0x1F, 0x8B, 8, 0}, FormatAuto},
		{"json", []byte(`{"a":1}`), FormatAuto},
		{"short", []byte{0xA1, 0xB2}, FormatAuto},
		{"empty", nil, FormatAuto},
	}
	for _, tt := range tests {
		if got := Sniff(tt.head); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNotCapture(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty input"},
		{"json", []byte(`{"flows":[]}`), "starts with 7b 22 66"},
		{"gzip of text", gzipped([]byte("hello, world")), "inside gzip"},
		{"broken gzip", []byte{0x1F, 0x8B, 1, 2}, "gzip stream"},
		{"modified pcap", []byte{0xA1, 0xB2, 0xCD, 0x34, 0, 2, 0, 4}, "Kuznetzov"},
		{"pcap header cut", pcapBytes(binary.LittleEndian, false, 1, 65535)[:20], "cut short: 20 of 24"},
		{"pcap version 3", func() []byte { b := pcapBytes(binary.BigEndian, false, 1, 65535); b[5] = 3; return b }(), "version 3.4"},
		{"pcapng version 2", func() []byte {
			b := pcapngBytes(binary.LittleEndian, nil)
			b[12] = 2
			return b
		}(), "pcapng version 2.0"},
	}
	for _, tt := range tests {
		_, err := NewReader(bytes.NewReader(tt.in), FormatAuto)
		if !errors.Is(err, ErrNotCapture) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrNotCapture with %q", tt.name, err, tt.want)
		}
	}
	pcap := pcapBytes(binary.LittleEndian, false, 1, 65535)
	if _, err := NewReader(bytes.NewReader(pcap), FormatPcapng); !errors.Is(err, ErrNotCapture) {
		t.Errorf("pcap read as pcapng: got %v, want ErrNotCapture", err)
	}
}

// TestLinkTypes reads one IPv4 and one IPv6 datagram through every link layer.
func TestLinkTypes(t *testing.T) {
	p4, p6 := ipUDP(v4a, v4b, []byte("four")), ipUDP(v6a, v6b, []byte("six"))
	tests := []struct {
		name   string
		link   uint32
		frames [2][]byte
	}{
		{"ethernet", linkEthernet, [2][]byte{ethernet(p4), ethernet(p6)}},
		{"802.1Q", linkEthernet, [2][]byte{ethernet(p4, 0x8100), ethernet(p6, 0x8100)}},
		{"QinQ 802.1ad", linkEthernet, [2][]byte{ethernet(p4, 0x88A8, 0x8100), ethernet(p6, 0x88A8, 0x8100)}},
		{"QinQ 0x9100", linkEthernet, [2][]byte{ethernet(p4, 0x9100, 0x8100), ethernet(p6, 0x9200, 0x8100, 0x8100)}},
		{"MPLS, two labels", linkEthernet, [2][]byte{mplsFrame(p4, 0x8100), mplsFrame(p6)}},
		{"PPPoE session", linkEthernet, [2][]byte{pppoeFrame(p4), pppoeFrame(p6, 0x8100)}},
		{"SLL", linkSLL, [2][]byte{sll(p4), sll(p6)}},
		{"SLL2", linkSLL2, [2][]byte{sll2(p4), sll2(p6)}},
		{"raw 101", linkRaw, [2][]byte{p4, p6}},
		{"raw 12", linkRaw12, [2][]byte{p4, p6}},
		{"raw 14", linkRaw14, [2][]byte{p4, p6}},
		{"IPv4 228", linkIPv4, [2][]byte{p4, p4}},
		{"IPv6 229", linkIPv6, [2][]byte{p6, p6}},
		{"null LE, AF_INET6 24", linkNull, [2][]byte{nullLink(binary.LittleEndian, 2, p4), nullLink(binary.LittleEndian, 24, p6)}},
		{"null BE, AF_INET6 28", linkNull, [2][]byte{nullLink(binary.BigEndian, 2, p4), nullLink(binary.BigEndian, 28, p6)}},
		{"null LE, AF_INET6 30", linkNull, [2][]byte{nullLink(binary.LittleEndian, 2, p4), nullLink(binary.LittleEndian, 30, p6)}},
		{"loop", linkLoop, [2][]byte{nullLink(binary.BigEndian, 2, p4), nullLink(binary.BigEndian, 24, p6)}},
	}
	for _, tt := range tests {
		res := readAll(t, pcapBytes(binary.LittleEndian, false, tt.link, 65535,
			rec{ts: t0, data: tt.frames[0]}, rec{ts: t0 + 1000, data: tt.frames[1]}))
		if res.err != nil || len(res.dgs) != 2 {
			t.Errorf("%s: got %d datagrams, err %v (stats %+v), want 2", tt.name, len(res.dgs), res.err, res.st)
			continue
		}
		for i, d := range res.dgs {
			wantSrc, wantDst, wantPayload := v4a, v4b, "four"
			if bytes.HasSuffix(tt.frames[i], p6) {
				wantSrc, wantDst, wantPayload = v6a, v6b, "six"
			}
			if d.Src != wantSrc || d.Dst != wantDst || string(d.Payload) != wantPayload || d.Number != uint64(i+1) {
				t.Errorf("%s: datagram %d: got #%d %v -> %v %q, want #%d %v -> %v %q", tt.name, i, d.Number, d.Src, d.Dst, d.Payload, i+1, wantSrc, wantDst, wantPayload)
			}
		}
	}
}

// mplsFrame is an Ethernet frame (after the given tags) carrying ip under two MPLS labels.
func mplsFrame(ip []byte, tags ...uint16) []byte {
	b := etherHeader(etherMPLS, tags...)
	b = append(b, 0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40) // label 16, then label 32 at the bottom
	return append(b, ip...)
}

// pppoeFrame is an Ethernet frame (after the given tags) carrying ip in a PPPoE session.
func pppoeFrame(ip []byte, tags ...uint16) []byte {
	b := etherHeader(etherPPPoE, tags...)
	proto := uint16(0x0021)
	if ip[0]>>4 == 6 {
		proto = 0x0057
	}
	b = append(b, 0x11, 0x00, 0x12, 0x34)
	b = be.AppendUint16(b, uint16(2+len(ip)))
	b = be.AppendUint16(b, proto)
	return append(b, ip...)
}

// etherHeader is an Ethernet header (after the given tags) of ethertype t.
func etherHeader(t uint16, tags ...uint16) []byte {
	b := ethernet([]byte{0x45}, tags...)
	return be.AppendUint16(b[:len(b)-3], t)
}

// MPLS over a pseudowire, PPP's own protocols and damaged stacks are counted.
func TestMPLSAndPPPoEOther(t *testing.T) {
	p4 := ipUDP(v4a, v4b, []byte("four"))
	pw := mplsFrame(append([]byte{0, 0, 0, 0}, ethernet(p4)...)) // control word, then Ethernet
	lcp := pppoeFrame(p4)
	be.PutUint16(lcp[14+6:], 0xC021)
	deep := etherHeader(etherMPLS)
	for range 20 {
		deep = append(deep, 0, 1, 0, 64) // never the bottom of the stack
	}
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 65535,
		rec{ts: t0, data: pw}, rec{ts: t0 + 1, data: lcp}, rec{ts: t0 + 2, data: deep}, rec{ts: t0 + 3, data: mplsFrame(p4)}))
	if len(res.dgs) != 1 || res.st.Other["mpls"] != 1 || res.st.Other["pppoe"] != 1 || res.st.Skipped[ReasonBadLink] != 1 {
		t.Errorf("got %d datagrams, other %v, skipped %v; want 1, one mpls and one pppoe, one bad link-layer header",
			len(res.dgs), res.st.Other, res.st.Skipped)
	}
}

func TestUnsupportedLinkType(t *testing.T) {
	res := readAll(t, pcapBytes(binary.LittleEndian, false, 147, 65535, rec{ts: t0, data: ipUDP(v4a, v4b, nil)}))
	if len(res.dgs) != 0 || res.st.Skipped["unsupported link type 147"] != 1 {
		t.Errorf("got %d datagrams, skipped %v; want 0 and one unsupported link type 147", len(res.dgs), res.st.Skipped)
	}
}

func TestPcapVariants(t *testing.T) {
	frame := ethernet(ipUDP(v4a, v4b, []byte("x")))
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			for _, gz := range []bool{false, true} {
				name := fmt.Sprintf("%v nano=%v gzip=%v", order, nano, gz)
				ts := t0 + 789
				want := ts
				if !nano {
					want = ts - ts%1000
				}
				b := pcapBytes(order, nano, linkEthernet, 65535, rec{ts: ts, data: frame})
				if gz {
					b = gzipped(b)
				}
				r, err := NewReader(bytes.NewReader(b), FormatPcap)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				res := drain(t, r)
				if len(res.dgs) != 1 || res.dgs[0].Time != want || r.Compressed() != gz || r.Format() != FormatPcap {
					t.Errorf("%s: got %d datagrams %+v, compressed %v; want time %d", name, len(res.dgs), res.dgs, r.Compressed(), want)
				}
			}
		}
	}
}

// TestPcapngInterfaces reads a pcapng with three interfaces of different link types and
// timestamp resolutions, blocks pcapgo-style readers stumble on, and a second, big-endian
// section.
func TestPcapngInterfaces(t *testing.T) {
	w := &ngWriter{order: binary.LittleEndian}
	w.section()
	w.iface(ngIfaceSpec{link: linkEthernet, snaplen: 65535})                      // microseconds
	w.iface(ngIfaceSpec{link: linkSLL2, snaplen: 262144, tsresol: 9})             // nanoseconds
	w.iface(ngIfaceSpec{link: linkRaw, tsresol: 0x80 | 20, tsoffset: 1714989600}) // 2^-20 s, offset
	w.packet(0, uint64(t0/1000), ethernet(ipUDP(v4a, v4b, []byte("eth"))), 0)     // #1
	w.block(5, make([]byte, 16))                                                  // interface statistics
	w.packet(1, uint64(t0), sll2(ipUDP(v6a, v6b, []byte("sll2"))), 0)             // #2
	w.block(0x40000BAD, []byte("custom block, copied"))                           // custom
	w.packet(2, 3<<20|1<<19, ipUDP(v4b, v4a, []byte("raw")), 0)                   // #3: 3.5 s after the offset
	w.block(4, make([]byte, 8))                                                   // name resolution
	w.simplePacket(ethernet(ipUDP(v4a, v4b, []byte("simple"))))                   // #4, interface 0, no time
	be := &ngWriter{order: binary.BigEndian}
	be.section()
	be.iface(ngIfaceSpec{link: linkSLL, tsresol: 3})                           // milliseconds
	be.packet(0, uint64(t0/1e6), sll(ipUDP(v6b, v6a, []byte("section 2"))), 0) // #5
	res := readAll(t, append(w.b, be.b...))
	want := []struct {
		payload string
		iface   int
		time    int64
	}{
		{"eth", 0, t0 - t0%1000},
		{"sll2", 1, t0},
		{"raw", 2, 1714989603500000000},
		{"simple", 0, 0},
		{"section 2", 0, t0 - t0%1e6},
	}
	if res.err != nil || len(res.dgs) != len(want) {
		t.Fatalf("got %d datagrams, err %v, stats %+v; want %d", len(res.dgs), res.err, res.st, len(want))
	}
	for i, w := range want {
		d := res.dgs[i]
		if string(d.Payload) != w.payload || d.Interface != w.iface || d.Time != w.time || d.Number != uint64(i+1) {
			t.Errorf("datagram %d: got #%d %q iface %d time %d, want #%d %q iface %d time %d", i, d.Number, d.Payload, d.Interface, d.Time, i+1, w.payload, w.iface, w.time)
		}
	}
}

func TestOtherTraffic(t *testing.T) {
	a, b := v4a.Addr(), v4b.Addr()
	arp := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)
	llc := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, 40}, make([]byte, 40)...)
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 65535,
		rec{data: ethernet(ipv4Packet(a, b, 6, 1, 0, make([]byte, 20)))},
		rec{data: ethernet(ipv4Packet(a, b, 1, 1, 0, make([]byte, 8)))},
		rec{data: ethernet(ipv4Packet(a, b, 6, 2, 0x2000, make([]byte, 24)))}, // TCP fragment
		rec{data: ethernet(ipv6Packet(v6a.Addr(), v6b.Addr(), 58, make([]byte, 8)))},
		rec{data: ethernet(ipv6Packet(v6a.Addr(), v6b.Addr(), 59, nil))},
		rec{data: ethernet(ipv4Packet(a, b, 250, 1, 0, nil))},
		rec{data: arp},
		rec{data: llc},
		rec{data: ethernet(ipUDP(v4a, v4b, []byte("udp")))},
	))
	want := map[string]uint64{"tcp": 2, "icmp": 1, "icmpv6": 1, "ipv6 no next header": 1, "ip proto 250": 1, "arp": 1, "llc": 1}
	if fmt.Sprint(res.st.Other) != fmt.Sprint(want) || res.st.Datagrams != 1 {
		t.Errorf("got other %v, %d datagrams; want %v, 1", res.st.Other, res.st.Datagrams, want)
	}
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	u := udpSegment(v6a.Port(), v6b.Port(), []byte("behind headers"))
	hop := append([]byte{60, 0}, make([]byte, 6)...)  // hop-by-hop -> destination options
	dst := append([]byte{43, 1}, make([]byte, 14)...) // destination options (16 bytes) -> routing
	rt := append([]byte{51, 0}, make([]byte, 6)...)   // routing -> AH
	ah := append([]byte{44, 1}, make([]byte, 10)...)  // AH (12 bytes) -> fragment
	frag := []byte{17, 0, 0, 0, 0, 0, 0, 7}           // atomic fragment -> UDP
	chain := bytes.Join([][]byte{hop, dst, rt, ah, frag, u}, nil)
	bad := append([]byte{17, 200}, make([]byte, 6)...) // claims 1608 bytes
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkRaw, 65535,
		rec{data: ipv6Packet(v6a.Addr(), v6b.Addr(), 0, chain)},
		rec{data: ipv6Packet(v6a.Addr(), v6b.Addr(), 60, append(bad, u...))},
	))
	if len(res.dgs) != 1 || string(res.dgs[0].Payload) != "behind headers" || res.st.Skipped[ReasonBadIPv6] != 1 {
		t.Errorf("got %d datagrams %v, skipped %v; want 1 and one bad IPv6 header", len(res.dgs), res.dgs, res.st.Skipped)
	}
}

func TestFilterPorts(t *testing.T) {
	b := pcapBytes(binary.LittleEndian, false, linkRaw, 65535,
		rec{data: ipUDP(v4a, v4b, nil)}, rec{data: ipUDP(v6a, v6b, nil)}, rec{data: ipUDP(v4b, v4a, nil)})
	r, _ := NewReader(bytes.NewReader(b), FormatAuto)
	r.FilterPorts(2055, 9995)
	res := drain(t, r)
	if len(res.dgs) != 2 || res.st.Filtered != 1 || res.dgs[1].Number != 3 {
		t.Errorf("got %d datagrams, %d filtered; want 2 (#1, #3) and 1", len(res.dgs), res.st.Filtered)
	}
}

// TestSnapLength tells packets cut by the snap length from malformed ones.
func TestSnapLength(t *testing.T) {
	full := ethernet(ipUDP(v4a, v4b, make([]byte, 100)))
	lying := ethernet(ipUDP(v4a, v4b, make([]byte, 100)))
	be.PutUint16(lying[14+2:], 400) // IPv4 total length beyond the packet
	udpLie := ethernet(ipUDP(v4a, v4b, make([]byte, 100)))
	be.PutUint16(udpLie[14+20+4:], 400) // UDP length beyond the IPv4 payload
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 96,
		rec{data: full[:96], orig: len(full)},
		rec{data: full[:30], orig: len(full)},
		rec{data: lying},
		rec{data: udpLie},
		rec{data: full[:10]},
	))
	want := map[string]uint64{ReasonSnapCut: 2, ReasonBadIPv4: 1, ReasonBadUDP: 1, ReasonBadLink: 1}
	if fmt.Sprint(res.st.Skipped) != fmt.Sprint(want) || len(res.dgs) != 0 {
		t.Errorf("got skipped %v, %d datagrams; want %v, 0", res.st.Skipped, len(res.dgs), want)
	}
	if res.st.Notes[NoteCaplenOverSnaplen] != 2 {
		t.Errorf("got notes %v, want 2 caplen larger than snaplen", res.st.Notes)
	}
}

// TestSnapLengthOtherTraffic: in a capture with a short snap length, the
// packets it cut that could not have been exports (web traffic, DNS, ICMP)
// are other traffic, not damage; those that could (UDP to a collector's
// port or beginning like a NetFlow/IPFIX/sFlow packet on any port, an
// IPFIX stream's segment, IPv6 alike) stay "cut by snaplen". All ten were
// counted as damage.
func TestSnapLengthOtherTraffic(t *testing.T) {
	web, dns := netip.MustParseAddrPort("192.0.2.1:443"), netip.MustParseAddrPort("192.0.2.53:53")
	client := netip.MustParseAddrPort("198.51.100.7:51000")
	v9 := make([]byte, 600)
	be.PutUint16(v9, 9)
	sflow := make([]byte, 600)
	be.PutUint32(sflow, 5)
	icmp := ipv4Packet(web.Addr(), client.Addr(), 1, 1, 0, make([]byte, 600))
	v6a, v6b := netip.MustParseAddrPort("[2001:db8::1]:443"), netip.MustParseAddrPort("[2001:db8::2]:51000")
	ipfix := ipfixMessage(600, 1)
	frames := [][]byte{
		ethernet(tcpPacket(web, client, 1, 0x18, make([]byte, 1400))), // other
		ethernet(ipUDP(dns, client, make([]byte, 600))),               // other
		ethernet(icmp), // other
		ethernet(ipUDP(v6a, v6b, make([]byte, 600))),                                      // other
		ethernet(tcpPacket(client, netip.AddrPortFrom(web.Addr(), 4739), 1, 0x18, ipfix)), // an IPFIX stream's
		ethernet(ipUDP(client, v4b, make([]byte, 600))),                                   // to 2055
		ethernet(ipUDP(client, dns, v9)),                                                  // begins as v9
		ethernet(ipUDP(client, dns, sflow)),                                               // begins as sFlow
		ethernet(ipUDP(v6b, netip.AddrPortFrom(v6a.Addr(), 4739), make([]byte, 600))),     // to 4739
		ethernet(ipUDP(client, netip.AddrPortFrom(web.Addr(), 4789), make([]byte, 600))),  // VXLAN: may carry exports
		ethernet(ipUDP(client, dns, make([]byte, 600)))[:14+20+4],                         // UDP header cut: cannot tell
	}
	var recs []rec
	for _, f := range frames {
		recs = append(recs, rec{data: f[:min(len(f), 128)], orig: len(f)})
	}
	recs[len(recs)-1].orig = 14 + 20 + 8 + 600
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 128, recs...))
	if res.st.Skipped[ReasonSnapCut] != 7 || len(res.st.Skipped) != 1 {
		t.Errorf("skipped %v, want 7 cut by snaplen", res.st.Skipped)
	}
	if want := map[string]uint64{"tcp": 1, "udp": 2, "icmp": 1}; fmt.Sprint(res.st.Other) != fmt.Sprint(want) {
		t.Errorf("other %v, want %v", res.st.Other, want)
	}
}

// TestEthernetPadding: a short frame padded to 60 bytes (and an FCS) keeps only the IP bytes.
func TestEthernetPadding(t *testing.T) {
	f := append(ethernet(ipUDP(v4a, v4b, []byte("ab"))), make([]byte, 20)...)
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, rec{data: f}))
	if len(res.dgs) != 1 || string(res.dgs[0].Payload) != "ab" {
		t.Errorf("got %v, want one datagram \"ab\"", res.dgs)
	}
}

func TestHostilePcap(t *testing.T) {
	frame := ethernet(ipUDP(v4a, v4b, []byte("payload")))
	good := pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, rec{data: frame}, rec{data: frame}, rec{data: frame})
	second := 24 + 16 + len(frame) // offset of record 2
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[second+8:], 0xFFFFFFF0)
	big := bytes.Clone(good) // caplen 200000: under 256 KiB, over the snap length
	binary.LittleEndian.PutUint32(big[second+8:], 200000)
	orig := bytes.Clone(good) // caplen larger than the original length
	binary.LittleEndian.PutUint32(orig[second+12:], 10)
	noSnap := bytes.Clone(good)
	binary.LittleEndian.PutUint32(noSnap[16:], 0)
	tests := []struct {
		name      string
		in        []byte
		datagrams int
		skipped   map[string]uint64
		notes     map[string]uint64
		err       *FileError
	}{
		{"whole", good, 3, nil, nil, nil},
		{"no snap length", noSnap, 3, nil, nil, nil},
		{"last record cut in its data", good[:len(good)-3], 2, map[string]uint64{ReasonTruncated: 1}, nil, nil},
		{"last record cut in its header", good[:second+16+len(frame)+9], 2, map[string]uint64{ReasonTruncated: 1}, nil, nil},
		{"huge caplen", huge, 1, map[string]uint64{ReasonCaplenHuge: 1}, nil, &FileError{Packet: 2, Offset: int64(second), Reason: ReasonCaplenHuge}},
		{"caplen over snaplen swallows the rest", big, 1, map[string]uint64{ReasonTruncated: 1}, nil, nil},
		{"caplen over original length", orig, 3, nil, map[string]uint64{NoteCaplenOverOrig: 1}, nil},
	}
	for _, tt := range tests {
		res := readAll(t, tt.in)
		if len(res.dgs) != tt.datagrams || fmt.Sprint(res.st.Skipped) != fmt.Sprint(orEmpty(tt.skipped)) ||
			fmt.Sprint(res.st.Notes) != fmt.Sprint(orEmpty(tt.notes)) {
			t.Errorf("%s: got %d datagrams, skipped %v, notes %v; want %d, %v, %v", tt.name, len(res.dgs), res.st.Skipped, res.st.Notes, tt.datagrams, tt.skipped, tt.notes)
		}
		fe := fileError(res.err)
		switch {
		case tt.err == nil && res.err != nil:
			t.Errorf("%s: got error %v, want none", tt.name, res.err)
		case tt.err != nil && (fe == nil || fe.Packet != tt.err.Packet || fe.Offset != tt.err.Offset || fe.Reason != tt.err.Reason):
			t.Errorf("%s: got error %v, want packet %d at offset %d: %s", tt.name, res.err, tt.err.Packet, tt.err.Offset, tt.err.Reason)
		}
	}
}

func orEmpty(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}

func TestHostilePcapng(t *testing.T) {
	frame := ethernet(ipUDP(v4a, v4b, []byte("payload")))
	build := func(mid func(w *ngWriter)) []byte {
		w := &ngWriter{order: binary.LittleEndian}
		w.section()
		w.iface(ngIfaceSpec{link: linkEthernet})
		w.packet(0, 1, frame, len(frame))
		if mid != nil {
			mid(w)
		}
		w.packet(0, 2, frame, len(frame))
		return w.b
	}
	good := build(nil)
	epb := func(iface, caplen uint32, data []byte) []byte {
		w := &ngWriter{order: binary.LittleEndian}
		body := binary.LittleEndian.AppendUint32(nil, iface)
		body = append(body, make([]byte, 8)...)
		body = binary.LittleEndian.AppendUint32(body, caplen)
		body = binary.LittleEndian.AppendUint32(body, caplen)
		w.block(ngEPB, append(body, data...))
		return w.b
	}
	raw := func(b []byte) func(w *ngWriter) { return func(w *ngWriter) { w.b = append(w.b, b...) } }
	tail := bytes.Clone(good)
	binary.LittleEndian.PutUint32(tail[len(tail)-4:], 999)
	short := bytes.Clone(good)
	last := len(good) - int(binary.LittleEndian.Uint32(good[len(good)-4:])) // offset of the last EPB
	binary.LittleEndian.PutUint32(short[last+4:], 8)
	w := &ngWriter{order: binary.LittleEndian}
	w.section()
	w.iface(ngIfaceSpec{link: linkEthernet})
	w.packet(0, 1, frame, len(frame))
	w.block(5, make([]byte, 40)) // interface statistics, to be cut
	cutStats := w.b[:len(w.b)-10]
	tests := []struct {
		name      string
		in        []byte
		datagrams int
		skipped   map[string]uint64
		fatal     string
	}{
		{"whole", good, 2, nil, ""},
		{"undeclared interface", build(raw(epb(7, uint32(len(frame)), frame))), 2, map[string]uint64{ReasonBadBlock: 1}, ""},
		{"caplen overruns block", build(raw(epb(0, 500, frame))), 2, map[string]uint64{ReasonBadBlock: 1}, ""},
		{"caplen over 256 KiB", build(raw(epb(0, 0xFFFFFFF0, frame))), 2, map[string]uint64{ReasonCaplenHuge: 1}, ""},
		{"packet block over the limit", build(raw(epb(0, 300000, make([]byte, 300000+64<<10)))), 2, map[string]uint64{ReasonCaplenHuge: 1}, ""},
		{"huge skipped block", build(func(w *ngWriter) { w.block(0xBAD, make([]byte, 3<<20)) }), 2, nil, ""},
		{"tsresol 2^-127", build(func(w *ngWriter) { w.iface(ngIfaceSpec{link: linkRaw, tsresol: 0xFF}) }), 2, nil, ""},
		{"tsresol 10^-127", build(func(w *ngWriter) { w.iface(ngIfaceSpec{link: linkRaw, tsresol: 0x7F}) }), 2, nil, ""},
		{"trailing length wrong", tail, 1, nil, "trailing length 999"},
		{"block length 8", short, 1, nil, "length 8"},
		{"cut in the last block", good[:len(good)-10], 1, map[string]uint64{ReasonTruncated: 1}, ""},
		{"cut in a statistics block", cutStats, 1, nil, ""},
	}
	for _, tt := range tests {
		res := readAll(t, tt.in)
		if len(res.dgs) != tt.datagrams || fmt.Sprint(res.st.Skipped) != fmt.Sprint(orEmpty(tt.skipped)) {
			t.Errorf("%s: got %d datagrams, skipped %v, err %v; want %d, %v", tt.name, len(res.dgs), res.st.Skipped, res.err, tt.datagrams, tt.skipped)
		}
		if (tt.fatal == "") != (res.err == nil) || (res.err != nil && !strings.Contains(res.err.Error(), tt.fatal)) {
			t.Errorf("%s: got error %v, want %q", tt.name, res.err, tt.fatal)
		}
		if tt.name == "cut in a statistics block" && res.st.Notes[NoteTruncatedBlock] != 1 {
			t.Errorf("%s: got notes %v, want one truncated non-packet block", tt.name, res.st.Notes)
		}
		if n := len(res.dgs); n > 0 && res.dgs[n-1].Number != uint64(n+int(res.st.Skipped[ReasonBadBlock]+res.st.Skipped[ReasonCaplenHuge])) {
			t.Errorf("%s: last datagram is #%d, want numbering to count skipped packets", tt.name, res.dgs[n-1].Number)
		}
	}
}

// TestNoHugeAllocation: a lying caplen or snap length must not make the reader allocate it.
func TestNoHugeAllocation(t *testing.T) {
	frame := ethernet(ipUDP(v4a, v4b, []byte("payload")))
	b := pcapBytes(binary.LittleEndian, false, linkEthernet, 0xFFFFFFFF, rec{data: frame}, rec{data: frame})
	binary.LittleEndian.PutUint32(b[24+16+len(frame)+8:], 0x7FFFFFFF)
	if d := allocated(func() { readAllQuiet(b) }); d > 2*maxBlock {
		t.Errorf("reading a 2-packet file with caplen 0x7FFFFFFF allocated %d bytes", d)
	}
}

// allocated returns the bytes f allocated on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func readAllQuiet(b []byte) {
	r, err := NewReader(bytes.NewReader(b), FormatAuto)
	if err != nil {
		return
	}
	for _, ok := r.Next(); ok; _, ok = r.Next() {
	}
}

func TestPcapngHeaderDamaged(t *testing.T) {
	good := pcapngBytes(binary.LittleEndian, []ngIfaceSpec{{link: linkEthernet}})
	tail := bytes.Clone(good)
	binary.LittleEndian.PutUint32(tail[24:], 1) // SHB trailing length, after no options
	for name, in := range map[string][]byte{"cut": good[:10], "trailing length": tail} {
		if _, err := NewReader(bytes.NewReader(in), FormatAuto); !errors.Is(err, ErrNotCapture) {
			t.Errorf("%s: got %v, want ErrNotCapture", name, err)
		}
	}
}

// TestGzipDamage: a .pcap.gz cut short reads like a cut pcap; a corrupt one stops with a read
// error naming where.
func TestGzipDamage(t *testing.T) {
	var recs []rec
	for i := range 200 {
		recs = append(recs, rec{ts: t0, data: ethernet(ipUDP(v4a, v4b, []byte(fmt.Sprintf("datagram %d", i))))})
	}
	z := gzipped(pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, recs...))
	cut := readAll(t, z[:len(z)/2])
	if cut.err != nil || len(cut.dgs) == 0 || len(cut.dgs) >= 200 {
		t.Errorf("cut: got %d datagrams, err %v; want some, no error", len(cut.dgs), cut.err)
	}
	bad := bytes.Clone(z)
	for i := len(z) / 2; i < len(z)/2+16; i++ {
		bad[i] ^= 0x5A
	}
	res := readAll(t, bad) // garbage out of flate, or a flate error: either way a FileError
	if fe := fileError(res.err); fe == nil || len(res.dgs) >= 200 {
		t.Errorf("corrupt: got %d datagrams, err %v; want fewer than 200 and a *FileError", len(res.dgs), res.err)
	}
	failing := io.MultiReader(bytes.NewReader(z[:len(z)/2]), iotest.ErrReader(errors.New("disk on fire")))
	r, err := NewReader(failing, FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	res = drain(t, r)
	if fe := fileError(res.err); fe == nil || fe.Reason != ReasonRead || !strings.Contains(res.err.Error(), "disk on fire") {
		t.Errorf("failing reader: got %d datagrams, err %v; want a read error", len(res.dgs), res.err)
	}
}

// TestConcatenatedPcap: captures joined with cat (a little-endian
// microsecond Ethernet capture, then a big-endian nanosecond raw-IP one, a
// header with no records between them) are read whole, each part in its
// own byte order, time unit and link type, and the joins are noted.
func TestConcatenatedPcap(t *testing.T) {
	t1 := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC).UnixNano()
	t2 := t1 + 60e9 + 789
	a := pcapBytes(binary.LittleEndian, false, 1, 65535,
		rec{ts: t1, data: ethernet(ipUDP(v4a, v4b, []byte("one")))},
		rec{ts: t1 + 1e6, data: ethernet(ipUDP(v4a, v4b, []byte("two")))})
	empty := pcapBytes(binary.LittleEndian, false, 1, 65535)
	b := pcapBytes(binary.BigEndian, true, 101, 65535, rec{ts: t2, data: ipUDP(v6a, v6b, []byte("three"))})
	res := readAll(t, slices.Concat(a, empty, b))
	if res.err != nil || len(res.dgs) != 3 {
		t.Fatalf("got %d datagrams, %v; want 3", len(res.dgs), res.err)
	}
	for i, want := range []struct {
		payload string
		time    int64
		src     netip.AddrPort
		number  uint64
	}{{"one", t1, v4a, 1}, {"two", t1 + 1e6, v4a, 2}, {"three", t2, v6a, 3}} {
		d := res.dgs[i]
		if string(d.Payload) != want.payload || d.Time != want.time || d.Src != want.src || d.Number != want.number {
			t.Errorf("datagram %d: %q at %d from %v, packet %d; want %q at %d from %v, packet %d",
				i, d.Payload, d.Time, d.Src, d.Number, want.payload, want.time, want.src, want.number)
		}
	}
	if n := res.st.Notes[NoteConcatenated]; n != 2 || res.st.Packets != 3 {
		t.Errorf("notes %v, %d packets; want 2 joins, 3 packets", res.st.Notes, res.st.Packets)
	}
}

// TestPcapngHugeHeaders: a section header or interface description whose
// options run past the block limit (a 1 MB comment) is read for its fixed
// part and the options that fit (the interface's nanosecond resolution
// before the comment holds), the rest passed over and noted; the capture
// had been refused whole, the section header's case as "not a capture".
func TestPcapngHugeHeaders(t *testing.T) {
	w := &ngWriter{order: binary.LittleEndian}
	comment := bytes.Repeat([]byte("x"), 60000)
	shb := w.order.AppendUint32(nil, magicNgOrder)
	shb = w.order.AppendUint16(shb, 1)
	shb = w.order.AppendUint16(shb, 0)
	shb = w.order.AppendUint64(shb, ^uint64(0))
	for range 20 { // 1.2 MB of opt_comment
		shb = w.option(shb, 1, comment)
	}
	w.block(ngSHB, append(shb, 0, 0, 0, 0))
	idb := w.order.AppendUint16(nil, linkEthernet)
	idb = append(idb, 0, 0)
	idb = w.order.AppendUint32(idb, 65535)
	idb = w.option(idb, 9, []byte{9}) // if_tsresol: nanoseconds
	for range 20 {
		idb = w.option(idb, 1, comment)
	}
	w.block(ngIDB, append(idb, 0, 0, 0, 0))
	frame := ethernet(ipUDP(v4a, v4b, []byte("payload")))
	for i := range 10 {
		w.packet(0, uint64(1_700_000_000_000_000_000+i), frame, len(frame))
	}
	res := readAll(t, w.b)
	if res.err != nil || len(res.dgs) != 10 || res.st.Notes[NoteBadOption] != 2 {
		t.Fatalf("got %d datagrams, err %v, notes %v; want 10, none, 2 cut options", len(res.dgs), res.err, res.st.Notes)
	}
	if got := res.dgs[3].Time; got != 1_700_000_000_000_000_003 {
		t.Errorf("fourth packet at %d ns, want the nanosecond resolution kept", got)
	}
}
