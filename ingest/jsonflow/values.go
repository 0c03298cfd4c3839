package jsonflow

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/flowcase/flowcase/internal/flow"
)

// parseAddr reads an IPv4 or IPv6 address without a zone, in place (no
// allocation), by the rules of netip.ParseAddr.
func parseAddr(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			return parseIPv4(b)
		case ':':
			return parseIPv6(b)
		}
	}
	return netip.Addr{}, false
}

// zeroDuration is the duration of a log line that gives none (a denied
// session's), shared so that no line allocates it.
var zeroDuration = value{kind: kindNumber, raw: []byte("0")}

// lenientAddr reads the address forms that logs write besides the plain
// ones: with blanks around it, in brackets ([2001:db8::1]) and with an IPv6
// zone (fe80::1%eth0: the zone is dropped, the store keeps addresses
// only). Zero-padded IPv4 fields (010.0.0.1) stay refused: octal to some
// parsers, decimal to others.
func lenientAddr(b []byte) (netip.Addr, bool) {
	b = bytes.TrimSpace(b)
	if len(b) > 2 && b[0] == '[' && b[len(b)-1] == ']' {
		b = b[1 : len(b)-1]
	}
	if i := bytes.IndexByte(b, '%'); i > 0 && bytes.IndexByte(b[:i], ':') >= 0 {
		b = b[:i]
	}
	return parseAddr(b)
}

// parseIPv4 reads dotted decimal by the rules of netip.ParseAddr: four
// fields of 0-255, no leading zeros.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var f [4]byte
	pos, val, digits := 0, 0, 0
	for i, c := range b {
		switch {
		case isDigit(c):
			if digits == 1 && val == 0 {
				return netip.Addr{}, false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && pos < 3 && i < len(b)-1:
			f[pos] = byte(val)
			pos, val, digits = pos+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if pos != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	f[3] = byte(val)
	return netip.AddrFrom4(f), true
}

// parseIPv6 reads an IPv6 address by the rules of netip.ParseAddr (with
// an embedded IPv4 tail allowed), but no zone.
func parseIPv6(b []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // where the "::" is, in bytes
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis, b = 0, b[2:]
	}
	i := 0
	for i < 16 && len(b) > 0 {
		acc, n := hexField(b)
		switch {
		case n == 0 || n > 4:
			return netip.Addr{}, false
		case n < len(b) && b[n] == '.':
			if (ellipsis < 0 && i != 12) || i+4 > 16 {
				return netip.Addr{}, false
			}
			v4, ok := parseIPv4(b)
			if !ok {
				return netip.Addr{}, false
			}
			a := v4.As4()
			copy(ip[i:], a[:])
			i, b = i+4, nil
			continue
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i, b = i+2, b[n:]
		if len(b) == 0 {
			break
		}
		if b[0] != ':' || len(b) == 1 {
			return netip.Addr{}, false
		}
		b = b[1:]
		if b[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis, b = i, b[1:]
		}
	}
	return expandIPv6(ip, i, ellipsis, len(b) == 0)
}

// hexField reads up to five hex digits (five is an error for the caller).
func hexField(b []byte) (acc, n int) {
	for n < len(b) && n < 5 {
		v := hexVal(b[n])
		if v < 0 {
			break
		}
		acc = acc<<4 | v
		n++
	}
	return acc, n
}

// expandIPv6 moves the groups after the "::" to the end; ip holds i bytes.
func expandIPv6(ip [16]byte, i, ellipsis int, done bool) (netip.Addr, bool) {
	switch {
	case !done:
		return netip.Addr{}, false
	case i < 16 && ellipsis < 0:
		return netip.Addr{}, false // too short
	case i == 16 && ellipsis >= 0:
		return netip.Addr{}, false // "::" must stand for at least one group
	case i < 16:
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	}
	return netip.AddrFrom16(ip), true
}

// parseProto reads a protocol number (0-255) or name. The common names
// are matched in place; the rest go through flow.ParseProto.
func parseProto(b []byte) (uint8, bool) {
	b = trimSpace(b)
	if n, st := parseUint(b, 255); st == numOK {
		return uint8(n), true
	}
	var low [9]byte
	if len(b) <= len(low) {
		for i, c := range b {
			low[i] = lower(c)
		}
		switch string(low[:len(b)]) {
		case "tcp":
			return flow.ProtoTCP, true
		case "udp":
			return flow.ProtoUDP, true
		case "icmp":
			return flow.ProtoICMP, true
		case "icmp6", "icmpv6", "ipv6-icmp":
			return flow.ProtoICMPv6, true
		case "rtp", "rtcp", "udt": // Argus names the UDP flows it recognised
			return flow.ProtoUDP, true
		}
	}
	return flow.ParseProto(string(b))
}

// argusProtos are Argus's names for IP protocols that differ from IANA's
// keywords (shortened, older, or its own: "ipip" is 94, IP-in-IP 4 being
// "ipnip"), as UNSW-NB15 and CTU-13's files write them; evidence of
// Argus's only, not the filter language's ("proto ip" there is no
// protocol 0).
var argusProtos = map[string]uint8{
	"ip": 0, "ipnip": 4, "st2": 5, "bbn-rcc": 10, "nvp": 11, "dcn": 19, "sep": 33, "mhrp": 48,
	"ipip": 94, "aes-sp3-d": 96, "pri-enc": 99, "ipx-n-ip": 111, "zero": 114, "sccopmce": 128,
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// maxFlags is the largest tcp_flags number accepted: IPFIX tcpControlBits
// is 16 bits wide; the bits above CWR (NS, reserved) are dropped.
const maxFlags = 0xFFFF

// parseFlagsText reads TCP flags written as a string: decimal, 0x hex, or
// flag letters (CEUAPRSF, any case, in any order, '.' for an unset flag,
// as nfdump prints them: "...AP.SF"). An empty string is no flags.
func parseFlagsText(b []byte) (uint8, bool) {
	b = trimSpace(b)
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		return parseHexFlags(b[2:])
	}
	if len(b) > 0 && isDigit(b[0]) {
		n, st := parseUint(b, maxFlags)
		return uint8(n), st == numOK
	}
	var f uint8
	for _, c := range b {
		bit, ok := flagBit(c)
		if !ok {
			return parseFlagWords(b)
		}
		f |= bit
	}
	return f, true
}

// flagWords are the TCP flags' names, as some tools list them ("SYN,ACK",
// "syn|ack", "FIN PSH ACK").
var flagWords = map[string]uint8{
	"fin": flow.FIN, "syn": flow.SYN, "rst": flow.RST, "psh": flow.PSH, "push": flow.PSH,
	"ack": flow.ACK, "urg": flow.URG, "ece": flow.ECE, "cwr": flow.CWR, "ns": 0,
}

func parseFlagWords(b []byte) (uint8, bool) {
	var f uint8
	n := 0
	for _, w := range bytes.FieldsFunc(b, func(r rune) bool { return r == ',' || r == '|' || r == ' ' || r == ';' || r == '+' }) {
		bit, ok := flagWords[strings.ToLower(string(w))]
		if !ok {
			return 0, false
		}
		f |= bit
		n++
	}
	return f, n > 0
}

func parseHexFlags(b []byte) (uint8, bool) {
	if len(b) > 4 {
		return 0, false
	}
	n, st := parseHex(b, maxFlags)
	return uint8(n), st == numOK
}

func flagBit(c byte) (uint8, bool) {
	switch c {
	case 'C', 'c':
		return flow.CWR, true
	case 'E', 'e':
		return flow.ECE, true
	case 'U', 'u':
		return flow.URG, true
	case 'A', 'a':
		return flow.ACK, true
	case 'P', 'p':
		return flow.PSH, true
	case 'R', 'r':
		return flow.RST, true
	case 'S', 's':
		return flow.SYN, true
	case 'F', 'f':
		return flow.FIN, true
	case '.':
		return 0, true
	}
	return 0, false
}

// parseDirectionText reads "ingress", "egress", "unknown" (any case) or a
// number 0-2 as a flow.Direction.
func parseDirectionText(b []byte) (flow.Direction, bool) {
	b = trimSpace(b)
	switch {
	case bytes.EqualFold(b, []byte("ingress")):
		return flow.DirIngress, true
	case bytes.EqualFold(b, []byte("egress")):
		return flow.DirEgress, true
	case bytes.EqualFold(b, []byte("unknown")):
		return flow.DirUnknown, true
	}
	n, st := parseUint(b, uint64(flow.DirEgress))
	return flow.Direction(n), st == numOK
}

// historyFlags reads a Zeek connection history ("ShADadFf": upper case the
// originator's packets, lower case the responder's) as the TCP flags of
// both directions: S a SYN, H a SYN+ACK, A an ACK, D data (PSH), F a FIN,
// R a RST; the other letters (retransmissions, gaps, bad checksums, ^ for
// a flipped direction) carry no flag.
func historyFlags(b []byte) uint8 {
	var f uint8
	for _, c := range b {
		switch lower(c) {
		case 's':
			f |= flow.SYN
		case 'h':
			f |= flow.SYN | flow.ACK
		case 'a':
			f |= flow.ACK
		case 'd':
			f |= flow.PSH
		case 'f':
			f |= flow.FIN
		case 'r':
			f |= flow.RST
		}
	}
	return f
}

// argusStateFlags reads an Argus TCP state ("FSPA_FSPA": the source's
// flags, '_', the destination's) as the TCP flags of both directions;
// other states ("CON", "INT", "ECO", ...) carry none.
func argusStateFlags(b []byte) uint8 {
	if bytes.IndexByte(b, '_') < 0 {
		return 0
	}
	var f uint8
	for _, c := range b {
		if c == '_' {
			continue
		}
		bit, ok := flagBit(c) // the letters nfdump writes too
		if !ok || c == '.' {
			return 0
		}
		f |= bit
	}
	return f
}
