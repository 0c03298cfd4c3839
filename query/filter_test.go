package query

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

var ip = netip.MustParseAddr

// web is a TCP flow from 10.0.0.5:40000 to 192.168.1.10:443 with a reply.
func web() *flow.Record {
	return &flow.Record{
		SrcAddr: ip("10.0.0.5"), DstAddr: ip("192.168.1.10"),
		SrcPort: 40000, DstPort: 443, Proto: flow.ProtoTCP,
		TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN,
		Bytes:    6_000_000, Packets: 4000, RevBytes: 5_000_000, RevPackets: 3000,
		InIf: 3, OutIf: 7, SrcAS: 64512, DstAS: 15169, VLAN: 100,
		Exporter: ip("172.16.0.1"),
	}
}

// dns is a UDP flow between IPv6 hosts, without reply counters.
func dns() *flow.Record {
	return &flow.Record{
		SrcAddr: ip("2001:db8::53"), DstAddr: ip("2001:db8:1::1"),
		SrcPort: 53, DstPort: 5353, Proto: flow.ProtoUDP,
		Bytes: 1000, Packets: 1,
		Exporter: ip("2001:db8::fe"),
	}
}

// mapped has a v4-mapped IPv6 source, as a careless decoder could make.
func mapped() *flow.Record {
	return &flow.Record{SrcAddr: ip("::ffff:10.0.0.5"), DstAddr: ip("10.0.0.6"), Proto: flow.ProtoICMP}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter string
		rec    *flow.Record
		want   bool
	}{
		{"", web(), true},
		{"   ", dns(), true},
		{"any", web(), true},
		{"not any", web(), false},
		// Addresses.
		{"ip 10.0.0.5", web(), true},
		{"host 192.168.1.10", web(), true},
		{"ip 10.0.0.6", web(), false},
		{"src ip 10.0.0.5", web(), true},
		{"dst ip 10.0.0.5", web(), false},
		{"dst host 192.168.1.10", web(), true},
		{"ip 2001:db8::53", dns(), true},
		{"src ip 2001:DB8:0::53", dns(), true},
		{"dst ip 2001:db8::53", dns(), false},
		{"ip ::ffff:10.0.0.5", web(), true}, // a mapped filter address is IPv4
		{"ip 10.0.0.5", mapped(), false},    // a mapped record address is not
		{"ip 10.0.0.6", mapped(), true},
		// Prefixes.
		{"net 10.0.0.0/8", web(), true},
		{"src net 10.1.2.3/8", web(), true},
		{"dst net 10.0.0.0/8", web(), false},
		{"net 192.168.1.0/24", web(), true},
		{"net 192.168.2.0/24", web(), false},
		{"net 10.0.0.0 255.0.0.0", web(), true},
		{"net 10.0.0.0 255.255.255.0", web(), true},
		{"net 10.0.1.0 255.255.255.0", web(), false},
		{"net 0.0.0.0/0", web(), true},
		{"net 0.0.0.0/0", dns(), false},
		{"net ::/0", dns(), true},
		{"net 2001:db8::/32", dns(), true},
		{"dst net 2001:db8:1::/48", dns(), true},
		{"src net 2001:db8:1::/48", dns(), false},
		{"net ::ffff:10.0.0.0/104", web(), true},
		// Ports.
		{"port 443", web(), true},
		{"port 40000", web(), true},
		{"src port 443", web(), false},
		{"dst port 443", web(), true},
		{"port > 1023", web(), true},
		{"dst port > 1023", web(), false},
		{"dst port >= 443", web(), true},
		{"dst port <= 443", web(), true},
		{"dst port < 443", web(), false},
		{"dst port = 443", web(), true},
		{"dst port == 443", web(), true},
		{"dst port != 443", web(), false},
		{"port != 443", web(), true}, // the source port is not 443
		{"port > 65535", web(), false},
		{"port < 0", web(), false},
		{"portrange 400-500", web(), true},
		{"src portrange 400-500", web(), false},
		{"dst portrange 443-443", web(), true},
		// Protocols.
		{"proto tcp", web(), true},
		{"proto TCP", web(), true},
		{"proto 6", web(), true},
		{"tcp", web(), true},
		{"udp", web(), false},
		{"udp", dns(), true},
		{"icmp", mapped(), true},
		{"proto icmp6", dns(), false},
		{"proto udp", dns(), true},
		// Counters: forward plus reverse, nfdump suffixes.
		{"bytes > 10M", web(), true},
		{"bytes > 11M", web(), false},
		{"bytes = 11000k", web(), true},
		{"bytes 11M", web(), true},
		{"bytes >= 11000000", web(), true},
		{"bytes != 11m", web(), false},
		{"bytes < 1K", dns(), false},
		{"bytes <= 1k", dns(), true},
		{"bytes > 1g", web(), false},
		{"packets > 5000", web(), true},
		{"packets = 7k", web(), true},
		{"packets < 2", dns(), true},
		// TCP flags: all the given ones set.
		{"flags S", web(), true},
		{"flags SA", web(), true},
		{"flags as", web(), true},
		{"flags FSPA", web(), true},
		{"flags R", web(), false},
		{"flags SR", web(), false},
		{"flags S and not flags A", web(), false},
		{"flags S", dns(), false},
		// Other fields.
		{"exporter 172.16.0.1", web(), true},
		{"exporter 172.16.0.2", web(), false},
		{"exporter 2001:db8::fe", dns(), true},
		{"as 15169", web(), true},
		{"src as 15169", web(), false},
		{"dst as 15169", web(), true},
		{"src as > 64000", web(), true},
		{"vlan 100", web(), true},
		{"vlan != 100", web(), false},
		{"if 7", web(), true},
		{"in if 7", web(), false},
		{"out if 7", web(), true},
		{"in if < 4", web(), true},
		// Operators and precedence: not > and > or.
		{"src ip 10.0.0.5 and dst port 443", web(), true},
		{"src ip 10.0.0.5 && dst port 80", web(), false},
		{"src ip 10.0.0.9 or dst port 443", web(), true},
		{"src ip 10.0.0.9 || dst port 80", web(), false},
		{"not port 443", web(), false},
		{"!port 80", web(), true},
		{"! ! port 443", web(), true},
		{"udp or tcp and port 80", web(), false},   // udp or (tcp and port 80)
		{"(udp or tcp) and port 443", web(), true}, // parentheses
		{"port 80 or port 443 and tcp", web(), true},
		{"not tcp and port 443", web(), false},
		{"not (tcp and port 80)", web(), true},
		{"NOT TCP OR PORT 443", web(), true},
		{"(((port 443)))", web(), true},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		if got := f.Match(tt.rec); got != tt.want {
			t.Errorf("ParseFilter(%q).Match(%v -> %v): got %v, want %v", tt.filter, tt.rec.SrcAddr, tt.rec.DstAddr, got, tt.want)
		}
	}
}

func TestFilterNil(t *testing.T) {
	var f *Filter
	if !f.Match(web()) {
		t.Errorf("nil filter: got false, want true")
	}
	if got := f.String(); got != "" {
		t.Errorf("nil filter String: got %q, want \"\"", got)
	}
	if got := f.IndexMatch(); got.Op != index.MatchAll {
		t.Errorf("nil filter IndexMatch: got %s, want all", fmtMatch(got))
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{" \t\n", ""},
		{"any", "any"},
		{"SRC HOST 10.0.0.1", "src ip 10.0.0.1"},
		{"ip 2001:DB8:0:0::1", "ip 2001:db8::1"},
		{"ip ::ffff:1.2.3.4", "ip 1.2.3.4"},
		{"dst net 10.1.2.3/8", "dst net 10.0.0.0/8"},
		{"net 10.9.0.0 255.255.0.0", "net 10.9.0.0/16"},
		{"net 2001:db8::1/32", "net 2001:db8::/32"},
		{"net ::ffff:10.0.0.0/104", "net 10.0.0.0/8"},
		{"net 172.16/12", "net 172.16.0.0/12"},
		{"inet6", "net ::/0"},
		{"INET or ipv4", "net 0.0.0.0/0 or net 0.0.0.0/0"},
		{"port=80", "port 80"},
		{"port == 80", "port 80"},
		{"src port>1023", "src port > 1023"},
		{"dst port <= 1023", "dst port <= 1023"},
		{"port != 0080", "port != 80"},
		{"portrange 1-1023", "portrange 1-1023"},
		{"tcp", "proto tcp"},
		{"ICMP6", "proto icmp6"},
		{"proto 17", "proto udp"},
		{"proto ipv6-icmp", "proto icmp6"},
		{"proto 253", "proto 253"},
		{"bytes>10000000", "bytes > 10M"},
		{"bytes 1500", "bytes = 1500"},
		{"bytes >= 1000k", "bytes >= 1M"},
		{"packets < 2000", "packets < 2k"},
		{"bytes > 5G", "bytes > 5G"},
		{"bytes < 0", "bytes < 0"},
		{"flags sa", "flags AS"},
		{"flags FSRPAUEC", "flags CEUAPRSF"},
		{"flags SSS", "flags S"},
		{"exporter ::ffff:172.16.0.1", "exporter 172.16.0.1"},
		{"as 64512", "as 64512"},
		{"src as >= 64512", "src as >= 64512"},
		{"vlan 10", "vlan 10"},
		{"in if 3 or out if 4 or if 5", "in if 3 or out if 4 or if 5"},
		{"port 80 && tcp || !udp", "port 80 and proto tcp or not proto udp"},
		{"(port 80 or port 443) and tcp", "(port 80 or port 443) and proto tcp"},
		{"port 80 or (port 443 and tcp)", "port 80 or port 443 and proto tcp"},
		{"(port 80 or port 443) or (port 8080 or port 8443)", "port 80 or port 443 or port 8080 or port 8443"},
		{"(tcp and port 80) and (ip 10.0.0.1)", "proto tcp and port 80 and ip 10.0.0.1"},
		{"not (port 80 or port 443)", "not (port 80 or port 443)"},
		{"not (port 80 and tcp)", "not (port 80 and proto tcp)"},
		{"not not port 80", "not not port 80"},
		{"((not (port 80)))", "not port 80"},
		{"not (not port 80 or tcp) and udp", "not (not port 80 or proto tcp) and proto udp"},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		got := f.String()
		if got != tt.want {
			t.Errorf("ParseFilter(%q).String(): got %q, want %q", tt.in, got, tt.want)
		}
		g, err := ParseFilter(got)
		if err != nil {
			t.Errorf("ParseFilter(%q) of the canonical form of %q: %v", got, tt.in, err)
			continue
		}
		if again := g.String(); again != got {
			t.Errorf("round trip of %q: got %q, want %q", tt.in, again, got)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"src ip foo", `filter: column 8: expected an address after "src ip", got "foo"`},
		{"src ip", `filter: column 7: expected an address after "src ip", got end of filter`},
		{"ip 10.0.0.0/8", `filter: column 4: expected an address (use net for a prefix) after "ip", got "10.0.0.0/8"`},
		{"net 10.1.2.3.4/8", `filter: column 5: expected a prefix like 10.0.0.0/8 or 2001:db8::/32 after "net", got "10.1.2.3.4/8"`},
		{"net 10/33", `filter: column 5: expected a prefix like 10.0.0.0/8 or 2001:db8::/32 after "net", got "10/33"`},
		{"net 2001:db8/32", `filter: column 5: expected a prefix like 10.0.0.0/8 or 2001:db8::/32 after "net", got "2001:db8/32"`},
		{"ip fe80::1%eth0", `filter: column 4: expected an address after "ip", got "fe80::1%eth0"`},
		{"host 10.0.0.1 port 80", `filter: column 15: expected "and", "or" or end of filter, got "port"`},
		{"src ip 10.0.0.1 dst port 80", `filter: column 17: expected "and", "or" or end of filter, got "dst"`},
		{"(port 80 tcp)", `filter: column 10: expected "and", "or" or ")", got "tcp"`},
		{"(port 80", `filter: column 9: expected "and", "or" or ")", got end of filter`},
		{"port 80)", `filter: column 8: expected "and", "or" or end of filter, got ")"`},
		{"()", `filter: column 2: expected a filter term, got ")"`},
		{"port 80 and", `filter: column 12: expected a filter term, got end of filter`},
		{"port 80 or or tcp", `filter: column 12: expected a filter term (ip, net, port, proto, bytes, packets, flags, ...), got "or"`},
		{"not", `filter: column 4: expected a filter term, got end of filter`},
		{"foo", `filter: column 1: expected a filter term (ip, net, port, proto, bytes, packets, flags, ...), got "foo"`},
		{"src 10.0.0.1", `filter: column 5: expected ip, host, net, port, portrange or as after "src", got "10.0.0.1"`},
		{"dst proto tcp", `filter: column 5: expected ip, host, net, port, portrange or as after "dst", got "proto"`},
		{"port 70000", `filter: column 6: expected a number (0-65535) after "port", got "70000"`},
		{"src port > http", `filter: column 12: expected a number (0-65535) after "src port >", got "http"`},
		{"port -1", `filter: column 6: expected a number (0-65535) after "port", got "-1"`},
		{"portrange 1024", `filter: column 11: expected a port range like 1024-65535 after "portrange", got "1024"`},
		{"portrange 90-80", `filter: column 11: port range 90-80 is empty (90 > 80)`},
		{"net 10.0.0.0", `filter: column 5: expected a prefix like 10.0.0.0/8 or 2001:db8::/32 after "net" (or an IPv4 address and netmask), got "10.0.0.0"`},
		{"net 10.0.0.0/33", `filter: column 5: expected a prefix like 10.0.0.0/8 or 2001:db8::/32 after "net", got "10.0.0.0/33"`},
		{"net 2001:db8::", `filter: column 5: expected a prefix like 10.0.0.0/8 or 2001:db8::/32 after "net", got "2001:db8::"`},
		{"net 10.0.0.0 255.0.255.0", `filter: column 14: netmask 255.0.255.0 is not contiguous`},
		{"proto foo", `filter: column 7: expected a protocol name or number (0-255) after "proto", got "foo"`},
		{"proto 256", `filter: column 7: expected a protocol name or number (0-255) after "proto", got "256"`},
		{"bytes > 10X", `filter: column 9: expected a number (with an optional k, M or G suffix) after "bytes >", got "10X"`},
		{"bytes > 20000000000G", `filter: column 9: expected a number (with an optional k, M or G suffix) after "bytes >", got "20000000000G"`},
		{"packets >", `filter: column 10: expected a number (with an optional k, M or G suffix) after "packets >", got end of filter`},
		{"bytes > k", `filter: column 9: expected a number (with an optional k, M or G suffix) after "bytes >", got "k"`},
		{"flags SX", `filter: column 7: expected TCP flag letters (C E U A P R S F) after "flags", got "SX"`},
		{"flags", `filter: column 6: expected TCP flag letters (C E U A P R S F) after "flags", got end of filter`},
		{"in port 80", `filter: column 4: expected "if" after "in", got "port"`},
		{"vlan > 65536", `filter: column 8: expected a number (0-65535) after "vlan >", got "65536"`},
		{"port 80 & tcp", `filter: column 9: unexpected "&" (use "&&" or "and")`},
		{"port 80 | tcp", `filter: column 9: unexpected "|" (use "||" or "or")`},
		{"ip ünïcode", `filter: column 4: expected an address after "ip", got "ünïcode"`},
		{"port 80 and ü", `filter: column 13: expected a filter term (ip, net, port, proto, bytes, packets, flags, ...), got "ü"`},
		{"port\u00a080 foo", `filter: column 9: expected "and", "or" or end of filter, got "foo"`}, // columns count characters
		{strings.Repeat("(", 101) + "any" + strings.Repeat(")", 101), `filter: column 101: filter nested too deeply (more than 100 levels)`},
		{strings.Repeat("not ", 101) + "any", `filter: column 401: filter nested too deeply (more than 100 levels)`},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if err == nil {
			t.Errorf("ParseFilter(%q): got %q, want error %q", tt.in, f, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseFilter(%q):\n got error %q\nwant       %q", tt.in, err, tt.want)
		}
		var fe *FilterError
		if !errors.As(err, &fe) || fe.Column < 1 {
			t.Errorf("ParseFilter(%q): got error %T, want *FilterError with a column", tt.in, err)
		}
	}
}

// fmtMatch writes an index tree compactly: and(...), or(...), not(...),
// src_addr[lo-hi], dst_port[lo-hi], all, none.
func fmtMatch(m *index.Match) string {
	names := map[index.Field]string{
		index.FieldSrcAddr: "src_addr", index.FieldDstAddr: "dst_addr",
		index.FieldSrcPort: "src_port", index.FieldDstPort: "dst_port", index.FieldProto: "proto",
	}
	switch m.Op {
	case index.MatchAll:
		return "all"
	case index.MatchNone:
		return "none"
	case index.MatchAddrRange:
		if m.AddrLo == m.AddrHi {
			return fmt.Sprintf("%s[%s]", names[m.Field], m.AddrLo)
		}
		return fmt.Sprintf("%s[%s-%s]", names[m.Field], m.AddrLo, m.AddrHi)
	case index.MatchNumRange:
		if m.Lo == m.Hi {
			return fmt.Sprintf("%s[%d]", names[m.Field], m.Lo)
		}
		return fmt.Sprintf("%s[%d-%d]", names[m.Field], m.Lo, m.Hi)
	}
	subs := make([]string, len(m.Sub))
	for i, s := range m.Sub {
		subs[i] = fmtMatch(s)
	}
	op := map[index.MatchOp]string{index.MatchAnd: "and", index.MatchOr: "or", index.MatchNot: "not"}[m.Op]
	return op + "(" + strings.Join(subs, ", ") + ")"
}

func TestIndexMatch(t *testing.T) {
	tests := []struct{ filter, want string }{
		{"", "all"},
		{"any", "all"},
		{"not any", "none"},
		{"src ip 10.0.0.1", "src_addr[10.0.0.1]"},
		{"dst host 2001:db8::1", "dst_addr[2001:db8::1]"},
		{"ip 10.0.0.1", "or(src_addr[10.0.0.1], dst_addr[10.0.0.1])"},
		{"ip ::ffff:10.0.0.1", "or(src_addr[10.0.0.1], dst_addr[10.0.0.1])"},
		{"src net 10.1.2.3/8", "src_addr[10.0.0.0-10.255.255.255]"},
		{"dst net 192.168.1.0/23", "dst_addr[192.168.0.0-192.168.1.255]"},
		{"src net 10.0.0.1/32", "src_addr[10.0.0.1]"},
		{"src net 0.0.0.0/0", "src_addr[0.0.0.0-255.255.255.255]"},
		{"dst net 2001:db8::/32", "dst_addr[2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]"},
		{"src net 2001:db8:0:1::/63", "src_addr[2001:db8::-2001:db8:0:1:ffff:ffff:ffff:ffff]"},
		{"net ::/0", "or(src_addr[::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff], dst_addr[::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff])"},
		{"dst port 443", "dst_port[443]"},
		{"port 53", "or(src_port[53], dst_port[53])"},
		{"src port > 1023", "src_port[1024-65535]"},
		{"src port >= 1024", "src_port[1024-65535]"},
		{"dst port < 1024", "dst_port[0-1023]"},
		{"dst port <= 1023", "dst_port[0-1023]"},
		{"dst port != 80", "not(dst_port[80])"},
		{"port != 80", "or(not(src_port[80]), not(dst_port[80]))"},
		{"dst port > 65535", "none"},
		{"dst port < 0", "none"},
		{"dst port >= 0", "all"},
		{"not dst port >= 0", "none"},
		{"port > 65535 or tcp", "proto[6]"},
		{"src portrange 1-1023", "src_port[1-1023]"},
		{"proto udp", "proto[17]"},
		{"icmp", "proto[1]"},
		// Unindexed terms.
		{"bytes > 10M", "all"},
		{"packets < 3 or flags S or exporter 10.0.0.1 or as 1 or vlan 2 or if 3", "all"},
		{"not bytes > 10M", "all"},
		// And, or, not.
		{"src ip 10.0.0.1 and dst port 443", "and(src_addr[10.0.0.1], dst_port[443])"},
		{"src ip 10.0.0.1 or dst port 443", "or(src_addr[10.0.0.1], dst_port[443])"},
		{"tcp and port 80", "and(proto[6], or(src_port[80], dst_port[80]))"},
		{"tcp and bytes > 1M", "proto[6]"},
		{"tcp or bytes > 1M", "all"},
		{"tcp and (port 80 or port 443)", "and(proto[6], or(src_port[80], dst_port[80], src_port[443], dst_port[443]))"},
		{"(tcp and dst port 80) and src net 10.0.0.0/8", "and(proto[6], dst_port[80], src_addr[10.0.0.0-10.255.255.255])"},
		{"not tcp", "not(proto[6])"},
		{"not not tcp", "proto[6]"},
		{"not (tcp and dst port 80)", "not(and(proto[6], dst_port[80]))"},
		{"not (tcp and bytes > 1M)", "all"},
		{"not (tcp or bytes > 1M)", "not(proto[6])"}, // De Morgan keeps the exact part
		{"not (not tcp and bytes > 1M)", "all"},
		{"not (not tcp or bytes > 1M)", "proto[6]"},
		{"udp and dst port 53 and not bytes > 512", "and(proto[17], dst_port[53])"},
		{"flags S and not flags A", "all"},
		{"tcp and flags S and not flags A and dst port < 1024", "and(proto[6], dst_port[0-1023])"},
		{"any and tcp", "proto[6]"},
		{"any or tcp", "all"},
		{"not any or tcp", "proto[6]"},
		{"not any and bytes > 1", "none"},
		{"dst port < 0 and bytes > 1", "none"},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		m := f.IndexMatch()
		if got := fmtMatch(m); got != tt.want {
			t.Errorf("ParseFilter(%q).IndexMatch():\n got %s\nwant %s", tt.filter, got, tt.want)
		}
		if err := checkTree(m, true); err != nil {
			t.Errorf("ParseFilter(%q).IndexMatch() = %s: %v", tt.filter, fmtMatch(m), err)
		}
	}
}

// checkTree checks that an index tree is well formed and simplified.
func checkTree(m *index.Match, root bool) error {
	switch m.Op {
	case index.MatchAll, index.MatchNone:
		if !root {
			return fmt.Errorf("%s inside a tree", fmtMatch(m))
		}
	case index.MatchAnd, index.MatchOr:
		if len(m.Sub) < 2 {
			return fmt.Errorf("%s with %d subs", fmtMatch(m), len(m.Sub))
		}
		for _, s := range m.Sub {
			if s.Op == m.Op {
				return fmt.Errorf("%s not flattened", fmtMatch(m))
			}
		}
	case index.MatchNot:
		if len(m.Sub) != 1 || m.Sub[0].Op == index.MatchNot {
			return fmt.Errorf("%s: want one sub, not a not", fmtMatch(m))
		}
	case index.MatchAddrRange:
		lo, hi := m.AddrLo, m.AddrHi
		if !lo.IsValid() || lo.BitLen() != hi.BitLen() || lo.Compare(hi) > 0 || lo.Is4In6() || lo.Zone() != "" {
			return fmt.Errorf("bad address range %s", fmtMatch(m))
		}
		if m.Field != index.FieldSrcAddr && m.Field != index.FieldDstAddr {
			return fmt.Errorf("address range on field %d", m.Field)
		}
		return nil
	case index.MatchNumRange:
		max := map[index.Field]uint32{index.FieldSrcPort: 65535, index.FieldDstPort: 65535, index.FieldProto: 255}[m.Field]
		if m.Lo > m.Hi || m.Hi > max {
			return fmt.Errorf("bad number range %s", fmtMatch(m))
		}
		return nil
	default:
		return fmt.Errorf("unknown op %d", m.Op)
	}
	for _, s := range m.Sub {
		if err := checkTree(s, false); err != nil {
			return err
		}
	}
	return nil
}

func TestFilterMatchAllocs(t *testing.T) {
	f, err := ParseFilter("(src net 10.0.0.0/8 or ip 2001:db8::1) and not dst port 80 and tcp and bytes > 1M and flags S and exporter 172.16.0.1 and vlan 100")
	if err != nil {
		t.Fatal(err)
	}
	r := web()
	allocs := testing.AllocsPerRun(100, func() { f.Match(r) })
	if allocs != 0 {
		t.Errorf("Match: got %v allocations per call, want 0", allocs)
	}
}

// TestNATTerms: post-NAT addresses and ports are filterable.
func TestNATTerms(t *testing.T) {
	r := &flow.Record{SrcAddr: netip.MustParseAddr("10.0.0.5"), DstAddr: netip.MustParseAddr("198.51.100.9"),
		NATSrcAddr: netip.MustParseAddr("203.0.113.5"), NATSrcPort: 40001, NATDstPort: 443}
	cases := []struct {
		filter string
		want   bool
		canon  string
	}{
		{"src nat ip 203.0.113.5", true, "src nat ip 203.0.113.5"},
		{"nat ip 203.0.113.5", true, "nat ip 203.0.113.5"},
		{"dst nat ip 203.0.113.5", false, "dst nat ip 203.0.113.5"},
		{"src nat net 203.0.113.0/24 and src ip 10.0.0.5", true, "src nat net 203.0.113.0/24 and src ip 10.0.0.5"},
		{"src nat port 40001", true, "src nat port 40001"},
		{"nat port > 1000 and not dst nat port 80", true, "nat port > 1000 and not dst nat port 80"},
		{"dst nat port 80", false, "dst nat port 80"},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		if got := f.Match(r); got != c.want {
			t.Errorf("%q: got %v, want %v", c.filter, got, c.want)
		}
		if f.String() != c.canon {
			t.Errorf("%q: canonical %q, want %q", c.filter, f.String(), c.canon)
		}
		if m := f.IndexMatch(); c.want && !evalIndex(m, r) {
			t.Errorf("%q: index match drops a matching row", c.filter)
		}
	}
	if _, err := ParseFilter("src nat foo 1"); err == nil || !strings.Contains(err.Error(), "ip, net or port") {
		t.Errorf("bad nat term: got %v", err)
	}
}

// TestNfdumpTerms: nfdump's lists (ip/net/port in [ ... ]), duration
// (milliseconds, or with a unit), bpp/pps/bps, icmp-type and icmp-code
// (ICMP flows only), next ip and router ip.
func TestNfdumpTerms(t *testing.T) {
	w := web() // 11 MB in 7,000 packets
	w.Start, w.End = 1.7e18, 1.7e18+2_500_000_000
	w.NextHop = ip("10.0.0.254")
	ping := &flow.Record{SrcAddr: ip("10.0.0.5"), DstAddr: ip("10.0.0.6"), Proto: flow.ProtoICMP, ICMPType: 8, Bytes: 84, Packets: 1,
		Start: 1.7e18, End: 1.7e18}
	ping6 := &flow.Record{SrcAddr: ip("2001:db8::1"), DstAddr: ip("2001:db8::2"), Proto: flow.ProtoICMPv6, ICMPType: 1, ICMPCode: 4}
	for _, tt := range []struct {
		filter string
		rec    *flow.Record
		want   bool
	}{
		{"inet", w, true},
		{"ipv4", ping6, false},
		{"inet6", ping6, true},
		{"ipv6 and not inet", ping6, true},
		{"inet6", w, false},
		{"net 192.168/16", w, true},
		{"src net 10/8", w, true},
		{"dst net 10/8", w, false},
		{"net 10.0.0/24 and net 192.168.1/24", w, true},
		{"ip in [ 10.0.0.9 192.168.1.10 ]", w, true},
		{"ip in [10.0.0.9, 10.0.0.8]", w, false},
		{"src ip in [192.168.1.10]", w, false},
		{"dst host in [ 192.168.1.10, 2001:db8::1 ]", w, true},
		{"net in [ 172.16.0.0/12 192.168.0.0/16 ]", w, true},
		{"dst port in [ 22 443 3389 ]", w, true},
		{"port in [22 3389] or proto udp", w, false},
		{"not ip in [10.0.0.5]", w, false},
		{"duration 2500", w, true},
		{"duration > 2s", w, true},
		{"duration >= 2.6s", w, false},
		{"duration < 1m and duration > 2499ms", w, true},
		{"bpp > 1500", w, true}, // 11,000,000 / 7,000 = 1571
		{"bpp > 1571", w, false},
		{"pps = 2800", w, true}, // 7,000 packets in 2.5 s
		{"bps > 35M", w, true},  // 88 Mbit in 2.5 s = 35.2 Mbit/s
		{"bps > 36M", w, false},
		{"pps > 0", ping, false}, // no duration: no rate
		{"bpp 84", ping, true},
		{"icmp-type 8", ping, true},
		{"icmp-type 8 and icmp-code 0", ping, true},
		{"icmp-type != 8", ping, false},
		{"icmp-type != 8", w, false}, // not an ICMP flow
		{"icmp-type 0", w, false},
		{"icmp-type 1 and icmp-code 4", ping6, true},
		{"icmp-type < 3", ping6, true},
		{"next ip 10.0.0.254", w, true},
		{"next ip 10.0.0.254", ping, false},
		{"router ip 172.16.0.1", w, true},
	} {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		if got := f.Match(tt.rec); got != tt.want {
			t.Errorf("%q on %+v: got %v, want %v", tt.filter, tt.rec, got, tt.want)
		}
		again, err := ParseFilter(f.String())
		if err != nil || again.String() != f.String() || again.Match(tt.rec) != tt.want {
			t.Errorf("%q: the canonical form %q does not read back the same (%v)", tt.filter, f.String(), err)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"ip in [ 10.0.0.1,10.0.0.2 ]", "ip in [ 10.0.0.1 10.0.0.2 ]"},
		{"dst net in [10.1.2.3/8 ::ffff:192.168.0.0/112]", "dst net in [ 10.0.0.0/8 192.168.0.0/16 ]"},
		{"src port in [80]", "src port 80"},
		{"duration > 1.5s", "duration > 1500"},
		{"duration 90000", "duration = 90000"},
		{"bpp < 100", "bpp < 100"},
		{"bps > 1000000", "bps > 1M"},
		{"icmp-type 3", "icmp-type 3"},
		{"router ip 10.0.0.1", "exporter 10.0.0.1"},
	} {
		if f, err := ParseFilter(tt.in); err != nil || f.String() != tt.want {
			t.Errorf("ParseFilter(%q): %v, %v; want %q", tt.in, f, err, tt.want)
		}
	}
	// A short list is an "or" of indexed terms: the index answers it
	// exactly. A long one is checked row by row against a set.
	f, _ := ParseFilter("src ip in [ 10.0.0.1 10.0.0.2 ]")
	if got := fmtMatch(f.IndexMatch()); got != "or(src_addr[10.0.0.1], src_addr[10.0.0.2])" {
		t.Errorf("index of a list: %s", got)
	}
	var long, longNets, longPorts strings.Builder
	for i := range maxIndexedList + 1 {
		fmt.Fprintf(&long, " 10.9.%d.%d", i/256, i%256)
		fmt.Fprintf(&longNets, " 10.%d.%d.0/24", 100+i/256, i%256)
		fmt.Fprintf(&longPorts, " %d", 1000+i)
	}
	for _, tt := range []struct {
		filter string
		rec    *flow.Record
		want   bool
	}{
		{"ip in [" + long.String() + " 192.168.1.10 ]", w, true},
		{"src ip in [" + long.String() + " 192.168.1.10 ]", w, false},
		{"ip in [" + long.String() + " 2001:db8::53 ]", dns(), true},
		{"net in [" + longNets.String() + " 192.168.0.0/16 ]", w, true},
		{"net in [" + longNets.String() + " 2001:db8::/32 ]", w, false},
		{"net in [" + longNets.String() + " 2001:db8::/32 ]", dns(), true},
		{"dst port in [" + longPorts.String() + " 443 ]", w, true},
		{"src port in [" + longPorts.String() + " 443 ]", w, false},
		{"not port in [" + longPorts.String() + " ]", w, true},
	} {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(tt.rec); got != tt.want {
			t.Errorf("%.40s...: got %v, want %v", tt.filter, got, tt.want)
		}
		if got := fmtMatch(f.IndexMatch()); got != "all" {
			t.Errorf("%.40s...: index %s, want all (checked row by row)", tt.filter, got)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"ip in [ ]", `filter: column 9: expected a list item or "]" in "ip in [ ...]", got "]"`},
		{"ip in [ 10.0.0.1", `filter: column 17: expected a list item or "]" in "ip in [ ...]", got end of filter`},
		{"port in [ 80 x ]", `filter: column 14: expected a number (0-65535) after "port in [", got "x"`},
		{"duration > 1.5ns", `filter: column 12: expected a duration (milliseconds, or with a unit: 500ms, 1.5s, 2m, 1h) after "duration >", got "1.5ns"`},
		{"next hop 10.0.0.1", `filter: column 6: expected "ip" after "next", got "hop"`},
		{"icmp-type 256", `filter: column 11: expected a number (0-255) after "icmp-type", got "256"`},
	} {
		if _, err := ParseFilter(tt.in); err == nil || err.Error() != tt.want {
			t.Errorf("ParseFilter(%q): %v, want %s", tt.in, err, tt.want)
		}
	}
}
