package flow

import (
	"strconv"
	"strings"
)

var protoNames = map[uint8]string{
	1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
	50: "esp", 51: "ah", 58: "icmp6", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp",
}

var protoNumbers = func() map[string]uint8 {
	m := make(map[string]uint8, len(protoNames)+2)
	for n, s := range protoNames {
		m[s] = n
	}
	m["ipv6-icmp"] = 58
	m["icmpv6"] = 58
	// IANA's other keywords, read in evidence (UNSW-NB15, firewall logs)
	// but not written: ProtoName keeps the short list above.
	for name, n := range map[string]uint8{
		"hopopt": 0, "ggp": 3, "ipv4": 4, "ipencap": 4, "st": 5, "egp": 8, "igp": 9, "pup": 12, "xns-idp": 22,
		"rdp": 27, "dccp": 33, "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "ipv6-nonxt": 59,
		"ipv6-opts": 60, "eigrp": 88, "ospfigp": 89, "etherip": 97, "encap": 98, "ipcomp": 108, "l2tp": 115,
		"isis": 124, "mobility-header": 135, "udplite": 136, "mpls-in-ip": 137, "manet": 138, "hip": 139,
		"shim6": 140, "wesp": 141, "rohc": 142, "ethernet": 143,
	} {
		m[name] = n
	}
	return m
}()

// ProtoName returns the lower-case IANA keyword of an IP protocol number, or
// the number itself when it has none that flowcase knows.
func ProtoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// ParseProto accepts a protocol name (tcp, udp, icmp, ...; any case) or a
// decimal number 0-255.
func ParseProto(s string) (uint8, bool) {
	if p, ok := protoNumbers[strings.ToLower(strings.TrimSpace(s))]; ok {
		return p, true
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 8)
	if err != nil {
		return 0, false
	}
	return uint8(n), true
}

// Echo request types of ICMP (RFC 792) and ICMPv6 (RFC 4443).
const (
	ICMPEchoRequest   = 8
	ICMPv6EchoRequest = 128
)

// IsICMP reports whether p is ICMP or ICMPv6.
func IsICMP(p uint8) bool { return p == ProtoICMP || p == ProtoICMPv6 }

// ICMPFromPort sets an ICMP record's type and code from its destination
// port, where NetFlow v5 (and exporters and collectors that follow it)
// carry them as type<<8 | code.
func (r *Record) ICMPFromPort() {
	r.ICMPType, r.ICMPCode = uint8(r.DstPort>>8), uint8(r.DstPort)
}
