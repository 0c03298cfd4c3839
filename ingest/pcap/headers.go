package pcap

import (
	"encoding/binary"
	"net/netip"
)

// Headers is what a flow meter needs of one IP packet of a traffic capture: its addresses,
// transport ports and flags, and its length on the wire as its IP header gives it, so that a
// capture cut by a small snap length (tcpdump -s 96) still counts every byte.
type Headers struct {
	Number    uint64 // 1-based packet number in the file
	Time      int64  // capture time, unix nanoseconds
	Interface int    // pcapng interface index within its section; 0 for pcap
	Src, Dst  netip.Addr
	Proto     uint8 // transport protocol (after IPv6 extension headers)
	// SrcPort and DstPort are the transport ports of TCP, UDP, UDP-Lite, SCTP and DCCP; 0 for
	// other protocols, for a fragment that is not the first, and when the capture cut them off.
	SrcPort, DstPort   uint16
	TCPFlags           uint8
	ICMPType, ICMPCode uint8 // ICMP and ICMPv6
	// Length is the IP packet's length: IPv4 total length, or 40 plus the IPv6 payload length.
	// A length of 0 (written by segmentation offload on the capturing host) is taken from the
	// packet as captured.
	Length uint32
	// Fragment marks a fragment other than the first: it carries no transport header.
	Fragment bool
	// Cut marks a packet whose transport header the snap length cut short before its ports:
	// its ports and flags are unknown (0). A TCP header cut after its ports keeps them, its
	// flags unknown.
	Cut bool
}

// NextHeaders returns the headers of the next IP packet of the capture, for metering the
// traffic into flows, or false at the end (then Err says why, if it ended early). Packets that
// are not IP are counted in Stats.Other, damaged ones in Stats.Skipped; fragments are not
// reassembled (a meter counts each one, as exporters do). The Headers are reused by the next
// call. Do not mix NextHeaders and Next on one Reader.
func (r *Reader) NextHeaders() (*Headers, bool) {
	for !r.done {
		p, err := r.src.next()
		if err != nil {
			r.end(err)
			continue
		}
		r.st.packets++
		if r.headers(&p) {
			r.st.metered++
			return &r.hd, true
		}
	}
	return nil, false
}

// headers fills r.hd from one packet; it reports whether the packet is IP.
func (r *Reader) headers(p *packet) bool {
	etype, b, ok := r.ip(p)
	if !ok {
		return false
	}
	// The bytes of the IP packet on the wire: the original length less the link header.
	cut, wire := len(p.data) < p.origLen, p.origLen-(len(p.data)-len(b))
	r.hd, r.l4, r.partial = Headers{Number: p.number, Time: p.time, Interface: p.iface}, nil, false
	if !r.ipHeaders(etype, b, cut, wire) {
		return false
	}
	frame := r.overlay()
	if frame == nil {
		return true
	}
	// A frame carried whole by an overlay or a mirroring session: what
	// was sent is inside it.
	r.hd = Headers{Number: p.number, Time: p.time, Interface: p.iface}
	if len(frame) < 14 {
		return r.bad(rBadLink, cut)
	}
	etype, b, ok = r.etherType(p, be.Uint16(frame[12:14]), frame[14:])
	if !ok {
		return false
	}
	if etype != etherIPv4 && etype != etherIPv6 {
		r.st.otherEther(etype)
		return false
	}
	if !r.ipHeaders(etype, b, cut, len(b)) {
		return false
	}
	r.st.decapsulated++
	return true
}

func (r *Reader) ipHeaders(etype uint16, b []byte, cut bool, wire int) bool {
	if etype == etherIPv4 {
		return r.ipv4Headers(b, cut, wire)
	}
	return r.ipv6Headers(b, cut, wire)
}

// Overlays that carry whole Ethernet frames, which a meter opens: VXLAN
// (RFC 7348, UDP port 4789, and 8472, Linux's default), GRE's transparent
// Ethernet bridging (0x6558) and Cisco's ERSPAN types II and III (GRE
// 0x88BE and 0x22EB), as traffic mirroring sends them (AWS VPC Traffic
// Mirroring uses VXLAN). Routed tunnels (GRE or IP carrying IP) are metered
// as the tunnel, as routers meter them.
const (
	vxlanPort      = 4789
	vxlanLinuxPort = 8472
	greTEB         = 0x6558
	greERSPAN2     = 0x88BE
	greERSPAN3     = 0x22EB
)

// overlay returns the Ethernet frame the packet in r.hd carries (its
// transport payload is r.l4), or nil.
func (r *Reader) overlay() []byte {
	if r.hd.Fragment || r.hd.Cut || r.partial {
		return nil // a fragment's frame is not whole: metered as the overlay's packet
	}
	return overlayFrame(r.hd.Proto, r.hd.DstPort, r.l4)
}

// overlayFrame returns the Ethernet frame that a packet of protocol proto
// (UDP to port dport: VXLAN; GRE: bridging or ERSPAN) carries in its
// transport bytes b, or nil.
func overlayFrame(proto uint8, dport uint16, b []byte) []byte {
	switch {
	case proto == 17 && (dport == vxlanPort || dport == vxlanLinuxPort):
		// UDP header, then flags (I set, the rest 0), 3 reserved bytes,
		// the 24-bit network id and a reserved byte.
		if len(b) < 8+8+14 || b[8] != 0x08 || b[9]|b[10]|b[11]|b[15] != 0 {
			return nil
		}
		return b[16:]
	case proto == 47:
		typ, n, ok := greHeader(b)
		if !ok {
			return nil
		}
		switch typ {
		case greTEB:
		case greERSPAN2:
			n += 8
		case greERSPAN3:
			if len(b) >= n+12 && b[n+11]&1 != 0 { // a platform-specific subheader follows
				n += 8
			}
			n += 12
		default:
			return nil
		}
		if len(b) < n+14 {
			return nil
		}
		return b[n:]
	}
	return nil
}

// greHeader returns a GRE packet's protocol type and header length.
func greHeader(b []byte) (uint16, int, bool) {
	if len(b) < 4 || b[1]&7 != 0 || b[0]&0x40 != 0 { // version 0, no source routing
		return 0, 0, false
	}
	n := 4
	for _, bit := range []byte{0x80, 0x20, 0x10} { // checksum, key, sequence number
		if b[0]&bit != 0 {
			n += 4
		}
	}
	return be.Uint16(b[2:4]), n, len(b) >= n
}

func (r *Reader) ipv4Headers(b []byte, cut bool, wire int) bool {
	h := &r.hd
	if len(b) < 20 {
		return r.bad(rBadIPv4, cut)
	}
	ihl := int(b[0]&0x0F) * 4
	total := int(be.Uint16(b[2:4]))
	if b[0]>>4 != 4 || ihl < 20 || (total != 0 && total < ihl) {
		r.st.skip(rBadIPv4, 1)
		return false
	}
	if len(b) < ihl {
		return r.bad(rBadIPv4, cut)
	}
	if total == 0 { // segmentation offload: the stack had not filled it in yet
		total = max(min(wire, maxOffload), ihl)
	}
	if len(b) > total {
		b = b[:total] // link-layer padding
	} else if len(b) < total && !cut {
		r.st.skip(rBadIPv4, 1) // shorter on the wire than its header says
		return false
	}
	h.Src, h.Dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	h.Proto, h.Length = b[9], uint32(total)
	if be.Uint16(b[6:8])&0x1FFF != 0 {
		h.Fragment = true
		return true
	}
	r.partial = b[6]&0x20 != 0 // more fragments follow this first one
	r.transport(b[ihl:])
	return true
}

// maxOffload bounds the length of a packet whose IP header gives none
// (segmentation offload, an IPv6 jumbogram), taken from the capture's
// original length: Linux's largest offloaded packets (BIG TCP) are 512 KiB,
// and a crafted original length of 4 GiB must not add 4 GiB to a flow.
const maxOffload = 512 << 10

func (r *Reader) ipv6Headers(b []byte, cut bool, wire int) bool {
	h := &r.hd
	if len(b) < 40 {
		return r.bad(rBadIPv6, cut)
	}
	if b[0]>>4 != 6 {
		r.st.skip(rBadIPv6, 1)
		return false
	}
	total := 40 + int(be.Uint16(b[4:6]))
	if total == 40 && b[6] != 59 { // a jumbogram, or segmentation offload: as captured
		total = max(min(wire, maxOffload), 40)
	}
	if len(b) > total {
		b = b[:total]
	} else if len(b) < total && !cut {
		r.st.skip(rBadIPv6, 1)
		return false
	}
	h.Src, h.Dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	h.Length = uint32(total)
	nh, b := b[6], b[40:]
	for hops := 0; ; hops++ {
		switch nh {
		case 0, 43, 60, 135, 139, 140, 51: // hop-by-hop, routing, destination, mobility, HIP, shim6, AH
		case 44: // fragment: a later one carries no transport header
			if len(b) >= 8 && be.Uint16(b[2:4])&^7 != 0 {
				h.Proto, h.Fragment = b[0], true
				return true
			}
			r.partial = len(b) >= 8 && b[3]&1 != 0 // a first fragment, more to follow
		default:
			h.Proto = nh
			r.transport(b)
			return true
		}
		hl := extHeaderLen(nh, b)
		if hl == 0 || hl > len(b) || hops == 16 {
			if !cut || hops == 16 {
				r.st.skip(rBadIPv6, 1)
				return false
			}
			h.Proto, h.Cut = nh, true // the chain runs past the snap length
			return true
		}
		nh, b = b[0], b[hl:]
	}
}

// transport reads ports, TCP flags and ICMP type and code from b, the start of the transport
// header (as much of it as was captured).
func (r *Reader) transport(b []byte) {
	h := &r.hd
	r.l4 = b
	switch h.Proto {
	case 6: // TCP
		if len(b) < 4 {
			h.Cut = true
			return
		}
		if len(b) >= 14 { // the ports without the flags: a tiny first fragment (RFC 1858)
			h.TCPFlags = b[13]
		}
	case 17, 33, 132, 136: // UDP, DCCP, SCTP, UDP-Lite
		if len(b) < 4 {
			h.Cut = true
			return
		}
	case 1, 58: // ICMP, ICMPv6
		if len(b) < 2 {
			h.Cut = true
			return
		}
		h.ICMPType, h.ICMPCode = b[0], b[1]
		return
	default:
		return
	}
	h.SrcPort, h.DstPort = binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
}
