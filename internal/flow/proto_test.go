package flow

import "testing"

// TestParseProto: names (any case, IANA's keywords), numbers, and names
// written back.
func TestParseProto(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint8
		ok   bool
	}{
		{"tcp", 6, true}, {"UDP", 17, true}, {"IPv6-ICMP", 58, true}, {"icmpv6", 58, true}, {"gre", 47, true},
		{"ospf", 89, true}, {"eigrp", 88, true}, {"l2tp", 115, true}, {"udplite", 136, true}, {" 253 ", 253, true},
		{"unas", 0, false}, {"256", 0, false}, {"", 0, false},
	} {
		if got, ok := ParseProto(c.in); got != c.want || ok != c.ok {
			t.Errorf("ParseProto(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if ProtoName(88) != "88" || ProtoName(6) != "tcp" || ProtoName(58) != "icmp6" {
		t.Errorf("ProtoName: %s %s %s", ProtoName(88), ProtoName(6), ProtoName(58))
	}
}
