package netflow

import (
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSection reads flow keys from packet sections of the kinds exporters
// send: Ethernet frames with VLAN tags, MPLS labels and pseudowires, IPv6
// with extension headers, bare IP headers, cut anywhere.
func TestSection(t *testing.T) {
	const (
		eth    = "020000000011" + "020000000007"
		ipv4   = "450003c5000040003e11a133" + "c6336405" + "c6336406" // UDP, 965 bytes, 198.51.100.5 > .6
		udp    = "01bb" + "2710" + "03b10000"                         // 443 > 10000
		ipv4TC = "452005d4a04d40003e062547" + "c6336401" + "c6336402" // TCP, 1492 bytes, 198.51.100.1 > .2
		tcp    = "01bb" + "d883" + "a9f36c6a" + "14abe21c" + "5010"   // 443 > 55427, flags ACK
		ipv6   = "6000000000203c40" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002"
	)
	tests := []struct {
		name   string
		sec    string
		link   bool
		want   flow.Record
		noKeys bool
	}{
		{"Ethernet, 802.1Q, IPv4, UDP", eth + "8100" + "03e8" + "0800" + ipv4 + udp, true,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.5"), DstAddr: netip.MustParseAddr("198.51.100.6"), Proto: 17, SrcPort: 443, DstPort: 10000, Bytes: 965, Packets: 1}, false},
		// record 4 of akvorado's ethernet-over-mpls-with-control-word: two labels, a control
		// word, the customer's Ethernet frame, IPv4 and TCP (tshark 4.0 misses the control word)
		{"MPLS pseudowire with control word", "020000000003020000000004" + "8847" + "493ec2ff" + "000113ff" + "00000000" +
			"000000000200" + "000000050200" + "0800" + ipv4TC + tcp, true,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.1"), DstAddr: netip.MustParseAddr("198.51.100.2"), Proto: 6, SrcPort: 443, DstPort: 55427, TCPFlags: 0x10, Bytes: 1492, Packets: 1}, false},
		{"MPLS, IPv4 right after the labels", eth + "8847" + "000111ff" + ipv4 + udp, true,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.5"), DstAddr: netip.MustParseAddr("198.51.100.6"), Proto: 17, SrcPort: 443, DstPort: 10000, Bytes: 965, Packets: 1}, false},
		// IPv6, a destination options header, then ICMPv6 echo request
		{"IPv6 extension header, ICMPv6", eth + "86dd" + ipv6 + "3a00000000000000" + "8000", true,
			flow.Record{SrcAddr: netip.MustParseAddr("2001:db8::1"), DstAddr: netip.MustParseAddr("2001:db8::2"), Proto: 58, ICMPType: 128, Bytes: 72, Packets: 1}, false},
		// an IPv4-mapped source (SIIT translators send them) is stored as the IPv4 address,
		// as from every other IPv6 field
		{"IPv6 with an IPv4-mapped source", "6000000000083a40" + "00000000000000000000ffffc6336405" + "20010db8000000000000000000000002" + "8000", false,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.5"), DstAddr: netip.MustParseAddr("2001:db8::2"), Proto: 58, ICMPType: 128, Bytes: 48, Packets: 1}, false},
		{"IP header section (no link layer)", ipv4 + udp, false,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.5"), DstAddr: netip.MustParseAddr("198.51.100.6"), Proto: 17, SrcPort: 443, DstPort: 10000, Bytes: 965, Packets: 1}, false},
		{"cut inside the UDP header: no ports", ipv4 + "01bb", false,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.5"), DstAddr: netip.MustParseAddr("198.51.100.6"), Proto: 17, Bytes: 965, Packets: 1}, false},
		{"a later IPv4 fragment: no ports", "450003c50000" + "0010" + "3e11a133" + "c6336405" + "c6336406" + udp, false,
			flow.Record{SrcAddr: netip.MustParseAddr("198.51.100.5"), DstAddr: netip.MustParseAddr("198.51.100.6"), Proto: 17, Bytes: 965, Packets: 1}, false},
		{"cut inside the IPv4 header", eth + "0800" + ipv4[:30], true, flow.Record{}, true},
		{"ARP", eth + "0806" + "0001080006040001", true, flow.Record{}, true},
		{"MPLS without a bottom of stack", eth + "8847" + "000110ff", true, flow.Record{}, true},
	}
	for _, tt := range tests {
		var got flow.Record
		fromSection(&got, mustHex(t, tt.sec), tt.link)
		if got != tt.want {
			t.Errorf("%s: got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
	// A record with addresses keeps its own keys, whatever its section says.
	r := flow.Record{SrcAddr: netip.MustParseAddr("192.0.2.1"), DstAddr: netip.MustParseAddr("192.0.2.2"), Proto: 6}
	want := r
	fromSection(&r, mustHex(t, ipv4TC+tcp), false)
	if r != want {
		t.Errorf("a record with keys: got %+v, want it unchanged", r)
	}
}
