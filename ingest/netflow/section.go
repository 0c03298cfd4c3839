package netflow

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// fromSection gives a record without addresses the flow keys of the packet
// section it carries (PSAMP packet reports, sampled-header exports): a
// data-link frame when link is set (Ethernet with 802.1Q/802.1ad tags, MPLS
// labels, an Ethernet pseudowire behind a control word), else an IP header.
// It reads the outermost IP header: addresses, protocol, the packet's
// length as bytes and 1 packet when the record has no counters, then
// ports, TCP flags or ICMP type and code as far as the section holds them.
// Fields the record has are kept; a record with addresses is left alone.
func fromSection(rec *flow.Record, b []byte, link bool) {
	if rec.SrcAddr.IsValid() || rec.DstAddr.IsValid() {
		return
	}
	if link {
		if b = skipLink(b); b == nil {
			return
		}
	}
	ip, ok := parseIPHeader(b)
	if !ok {
		return
	}
	rec.SrcAddr, rec.DstAddr = ip.src, ip.dst
	if rec.Proto == 0 {
		rec.Proto = ip.proto
	}
	if rec.Bytes == 0 && rec.Packets == 0 {
		rec.Bytes, rec.Packets = uint64(ip.length), 1
	}
	l4 := ip.l4
	switch {
	case l4 == nil:
	case flow.IsICMP(rec.Proto):
		if len(l4) >= 2 && rec.ICMPType == 0 && rec.ICMPCode == 0 {
			rec.ICMPType, rec.ICMPCode = l4[0], l4[1]
		}
	case rec.Proto == flow.ProtoTCP || rec.Proto == flow.ProtoUDP || rec.Proto == 132: // SCTP
		if len(l4) >= 4 && rec.SrcPort == 0 && rec.DstPort == 0 {
			rec.SrcPort, rec.DstPort = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		}
		if rec.Proto == flow.ProtoTCP && len(l4) >= 14 && rec.TCPFlags == 0 {
			rec.TCPFlags = l4[13]
		}
	}
}

// skipLink returns what follows the link-layer headers of an Ethernet
// frame, when that is IPv4 or IPv6; nil otherwise.
func skipLink(b []byte) []byte {
	be := binary.BigEndian
	if len(b) < 14 {
		return nil
	}
	et, b := be.Uint16(b[12:]), b[14:]
	for range 16 {
		switch et {
		case 0x0800, 0x86DD:
			return b
		case 0x8100, 0x88A8, 0x9100: // VLAN tags
			if len(b) < 4 {
				return nil
			}
			et, b = be.Uint16(b[2:]), b[4:]
		case 0x8847, 0x8848: // MPLS: labels down to the bottom of the stack
			for {
				if len(b) < 4 {
					return nil
				}
				bottom := b[2]&1 != 0
				b = b[4:]
				if bottom {
					break
				}
			}
			if len(b) == 0 {
				return nil
			}
			switch b[0] >> 4 {
			case 4, 6:
				return b
			case 0: // pseudowire control word, then an Ethernet frame
				if len(b) < 4+14 {
					return nil
				}
				et, b = be.Uint16(b[4+12:]), b[4+14:]
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return nil
}

type ipHeader struct {
	src, dst netip.Addr
	proto    uint8
	length   int    // the packet's length from its header
	l4       []byte // what the section holds of the transport header, nil for a later fragment
}

// parseIPHeader reads an IPv4 or IPv6 header at the front of b; IPv6
// extension headers are walked to the transport protocol.
func parseIPHeader(b []byte) (ipHeader, bool) {
	be := binary.BigEndian
	if len(b) < 1 {
		return ipHeader{}, false
	}
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0x0F) * 4
		if len(b) < 20 || ihl < 20 {
			return ipHeader{}, false
		}
		h := ipHeader{src: netip.AddrFrom4([4]byte(b[12:16])), dst: netip.AddrFrom4([4]byte(b[16:20])),
			proto: b[9], length: int(be.Uint16(b[2:]))}
		if be.Uint16(b[6:])&0x1FFF == 0 && len(b) > ihl {
			h.l4 = b[ihl:]
		}
		return h, true
	case 6:
		if len(b) < 40 {
			return ipHeader{}, false
		}
		h := ipHeader{src: addr6(b[8:24]), dst: addr6(b[24:40]),
			proto: b[6], length: 40 + int(be.Uint16(b[4:]))}
		rest := b[40:]
		for range 8 {
			switch h.proto {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(rest) < 2 || len(rest) < (int(rest[1])+1)*8 {
					return h, true
				}
				h.proto, rest = rest[0], rest[(int(rest[1])+1)*8:]
			case 44: // fragment
				if len(rest) < 8 {
					return h, true
				}
				if be.Uint16(rest[2:])&^7 != 0 {
					h.proto = rest[0]
					return h, true // a later fragment: no transport header
				}
				h.proto, rest = rest[0], rest[8:]
			default:
				if len(rest) > 0 {
					h.l4 = rest
				}
				return h, true
			}
		}
		return h, true
	}
	return ipHeader{}, false
}
