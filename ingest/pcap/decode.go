package pcap

import (
	"encoding/binary"
	"net/netip"
)

// Link types (LINKTYPE_* values as written in files).
const (
	linkNull     = 0   // BSD loopback: 4-byte address family in the writer's byte order
	linkEthernet = 1   // Ethernet II / 802.3
	linkRaw12    = 12  // DLT_RAW on most systems, as some writers put it in files
	linkRaw14    = 14  // DLT_RAW on OpenBSD
	linkRaw      = 101 // raw IPv4 or IPv6, by the version nibble
	linkLoop     = 108 // OpenBSD loopback: 4-byte address family, big-endian
	linkSLL      = 113 // Linux cooked capture v1
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276 // Linux cooked capture v2 (tcpdump -i any)
)

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86DD
	maxVLANs  = 8 // tags peeled off one frame; more is not a real frame
)

var be = binary.BigEndian

// decode turns one packet into r.dg; it reports whether a datagram is ready. Every packet is
// counted exactly once: as a datagram, filtered, held as a fragment, other, or skipped.
func (r *Reader) decode(p *packet) bool {
	etype, b, ok := r.ip(p)
	if !ok {
		return false
	}
	cut := len(p.data) < p.origLen
	if etype == etherIPv4 {
		return r.ipv4(p, b, cut)
	}
	return r.ipv6(p, b, cut)
}

// ip returns the IP packet in p (and whether it is IPv4 or IPv6, as an ethertype), or false
// when p holds none; packets that are not IP, or whose link-layer headers cannot be gone past,
// are counted.
func (r *Reader) ip(p *packet) (uint16, []byte, bool) {
	etype, b, ok := r.link(p)
	if ok && etype != etherIPv4 && etype != etherIPv6 {
		r.st.otherEther(etype)
		return 0, nil, false
	}
	return etype, b, ok
}

// link strips the link-layer header; it returns the ethertype of what follows (IPv4 or IPv6
// for the families of null/loop/raw links). Packets it cannot go past are counted.
func (r *Reader) link(p *packet) (uint16, []byte, bool) {
	b := p.data
	switch p.link {
	case linkEthernet:
		if len(b) < 14 {
			return r.badLink(p)
		}
		return r.etherType(p, be.Uint16(b[12:14]), b[14:])
	case linkSLL:
		if len(b) < 16 {
			return r.badLink(p)
		}
		return r.etherType(p, be.Uint16(b[14:16]), b[16:])
	case linkSLL2:
		if len(b) < 20 {
			return r.badLink(p)
		}
		return r.etherType(p, be.Uint16(b[0:2]), b[20:])
	case linkNull, linkLoop:
		if len(b) < 4 {
			return r.badLink(p)
		}
		fam := be.Uint32(b)
		if p.link == linkNull && fam > 0xFFFF { // written by a little-endian host
			fam = binary.LittleEndian.Uint32(b)
		}
		return r.family(fam, b[4:])
	case linkRaw, linkRaw12, linkRaw14:
		if len(b) == 0 {
			return r.badLink(p)
		}
		switch b[0] >> 4 {
		case 4:
			return etherIPv4, b, true
		case 6:
			return etherIPv6, b, true
		}
		r.st.rawNotIP++
		return 0, nil, false
	case linkIPv4:
		return etherIPv4, b, true
	case linkIPv6:
		return etherIPv6, b, true
	}
	r.st.unsupportedLink(p.link)
	return 0, nil, false
}

func (r *Reader) badLink(p *packet) (uint16, []byte, bool) {
	if len(p.data) < p.origLen {
		r.st.skip(rSnapCut, 1)
	} else {
		r.st.skip(rBadLink, 1)
	}
	return 0, nil, false
}

// etherType peels VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, and the pre-standard QinQ
// 0x9100/0x9200), MPLS label stacks (IPv4 or IPv6 under the bottom label, by its version) and
// PPPoE session headers (PPP carrying IPv4 or IPv6), as captures on provider links hold them,
// and sorts out 802.3 length fields.
func (r *Reader) etherType(p *packet, t uint16, b []byte) (uint16, []byte, bool) {
	for i := 0; ; i++ {
		switch t {
		case 0x8100, 0x88A8, 0x9100, 0x9200:
			if len(b) < 4 || i == maxVLANs {
				return r.badLink(p)
			}
			t, b = be.Uint16(b[2:4]), b[4:]
			continue
		case etherMPLS, etherMPLSMulticast:
			return r.mpls(p, b)
		case etherPPPoE:
			return r.pppoe(p, b)
		}
		break
	}
	if t <= 1500 { // an 802.3 length (Ethernet) or a Linux cooked 802.2/802.3 protocol
		r.st.llc++
		return 0, nil, false
	}
	return t, b, true
}

const (
	etherMPLS          = 0x8847
	etherMPLSMulticast = 0x8848
	etherPPPoE         = 0x8864 // session stage; discovery (0x8863) carries no IP
	maxLabels          = 16
)

// mpls pops labels down to the bottom of the stack; what follows is IPv4 or IPv6 by its
// version nibble. Anything else (a pseudowire's control word and Ethernet frame) is counted
// as other MPLS traffic.
func (r *Reader) mpls(p *packet, b []byte) (uint16, []byte, bool) {
	for i := 0; ; i++ {
		if len(b) < 4 || i == maxLabels {
			return r.badLink(p)
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if bottom {
			break
		}
	}
	if len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			return etherIPv4, b, true
		case 6:
			return etherIPv6, b, true
		}
	}
	r.st.otherEther(etherMPLS)
	return 0, nil, false
}

// pppoe reads a PPPoE session header (RFC 2516: version and type 0x11, code 0, session id,
// length) and the PPP protocol after it: 0x0021 IPv4, 0x0057 IPv6; other PPP protocols (LCP,
// IPCP, ...) are counted as other PPPoE traffic.
func (r *Reader) pppoe(p *packet, b []byte) (uint16, []byte, bool) {
	if len(b) < 8 || b[0] != 0x11 {
		return r.badLink(p)
	}
	switch be.Uint16(b[6:8]) {
	case 0x0021:
		return etherIPv4, b[8:], true
	case 0x0057:
		return etherIPv6, b[8:], true
	}
	r.st.otherEther(etherPPPoE)
	return 0, nil, false
}

// family maps a null/loop address family to an ethertype: AF_INET is 2 everywhere; AF_INET6
// is 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (Darwin) or 10 (Linux).
func (r *Reader) family(fam uint32, b []byte) (uint16, []byte, bool) {
	switch fam {
	case 2:
		return etherIPv4, b, true
	case 10, 24, 28, 30:
		return etherIPv6, b, true
	}
	r.st.otherFamily(fam)
	return 0, nil, false
}

// ipv4 checks the header, trims link-layer padding, and hands UDP (or its fragments) on.
// Past the length checks here the IP packet is whole, so later checks need no snap flag.
func (r *Reader) ipv4(p *packet, b []byte, cut bool) bool {
	if len(b) < 20 {
		return r.bad(rBadIPv4, cut)
	}
	ihl := int(b[0]&0x0F) * 4
	total := int(be.Uint16(b[2:4]))
	if b[0]>>4 != 4 || ihl < 20 || total < ihl {
		r.st.skip(rBadIPv4, 1)
		return false
	}
	proto := b[9]
	src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	if len(b) < total {
		if cut && len(b) >= ihl {
			return r.cutShort(proto, src, dst, b[ihl:])
		}
		return r.bad(rBadIPv4, cut)
	}
	b = b[:total]
	ff := be.Uint16(b[6:8])
	more, off := ff&0x2000 != 0, int(ff&0x1FFF)*8
	if proto == 6 && !more && off == 0 {
		return r.tcp(p, src, dst, b[ihl:])
	}
	if proto == 47 && !more && off == 0 {
		if ok, opened := r.tunnel(p, b[ihl:]); opened {
			return ok
		}
	}
	if proto != 17 {
		r.st.proto[proto]++
		return false
	}
	if more || off != 0 {
		key := fragKey{src: src, dst: dst, id: uint32(be.Uint16(b[4:6])), proto: 17}
		payload, n, _, ok := r.frag.add(key, off, b[ihl:], more, 0, p.time)
		if !ok {
			return false
		}
		return r.udp(p, src, dst, payload, n)
	}
	return r.udp(p, src, dst, b[ihl:], 1)
}

// cutShort counts an IP packet that the snap length cut short, whose
// protocol is proto and whose captured payload is l4. Only one that could
// have held an export is damage ("cut by snaplen"): UDP that begins like a
// NetFlow, IPFIX or sFlow packet or is to or from a collector's port, a
// segment of an IPFIX stream, a tunnel, an IPv6 extension header. The rest
// is the capture's other traffic, cut as a snap length is meant to cut it
// (tcpdump -s 128 on a collector's link counted every web page as damage).
func (r *Reader) cutShort(proto uint8, src, dst netip.Addr, l4 []byte) bool {
	switch proto {
	case 17:
		if len(l4) >= 8 && !mayBeExport(be.Uint16(l4[0:2]), be.Uint16(l4[2:4]), l4[8:]) {
			r.st.proto[17]++
			return false
		}
	case 6:
		if len(l4) >= 20 {
			sport, dport := be.Uint16(l4[0:2]), be.Uint16(l4[2:4])
			key := streamKey{netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)}
			if hlen := int(l4[12]>>4) * 4; r.streams[key] == nil && (hlen < 20 || hlen > len(l4) || !plausibleIPFIX(l4[hlen:])) {
				r.st.proto[6]++
				return false
			}
		}
	case 47, 0, 43, 44, 60, 51, 135, 139, 140:
	default:
		r.st.proto[proto]++
		return false
	}
	r.st.skip(rSnapCut, 1)
	return false
}

// mayBeExport says whether a UDP datagram of ports sport and dport whose
// payload begins with b may be a flow export: its first bytes are a
// NetFlow v5, v9 or IPFIX version or sFlow's version 5, or either port is
// a collector's or a UDP tunnel's.
func mayBeExport(sport, dport uint16, b []byte) bool {
	for _, p := range [...]uint16{sport, dport} {
		switch {
		case CollectorPort(p), p == 6343: // 6343: sFlow's
			return true
		case p == 4789 || p == 8472 || p == 6081: // VXLAN (IANA's, Linux's), Geneve: a tunnel may carry exports
			return true
		}
	}
	if len(b) < 4 {
		return len(b) < 2 || be.Uint16(b) == 5 || be.Uint16(b) == 9 || be.Uint16(b) == 10 || be.Uint16(b) == 0
	}
	v := be.Uint16(b)
	return v == 5 || v == 9 || v == 10 || be.Uint32(b) == 5
}

// CollectorPort reports whether p is a port NetFlow or IPFIX collectors
// listen on by convention: 2055-2057 (Cisco, nfcapd, softflowd), 2100
// (pmacct's nfacctd), 4739 and 4740 (IANA's IPFIX and IPFIX over DTLS),
// 9995 and 9996 (Cisco, nProbe).
func CollectorPort(p uint16) bool {
	switch p {
	case 2055, 2056, 2057, 2100, 4739, 4740, 9995, 9996:
		return true
	}
	return false
}

// bad counts a packet too short for what its headers say: cut by the snap length when fewer
// bytes were captured than were on the wire, else malformed.
func (r *Reader) bad(why reason, cut bool) bool {
	if cut {
		why = rSnapCut
	}
	r.st.skip(why, 1)
	return false
}

// ipv6 checks the fixed header, trims padding and walks the extension headers.
func (r *Reader) ipv6(p *packet, b []byte, cut bool) bool {
	if len(b) < 40 {
		return r.bad(rBadIPv6, cut)
	}
	plen := int(be.Uint16(b[4:6]))
	if b[0]>>4 != 6 || (plen == 0 && b[6] == 0) { // maybe a jumbogram: never an export packet
		r.st.skip(rBadIPv6, 1)
		return false
	}
	src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	if len(b) < 40+plen {
		if cut {
			return r.cutShort(b[6], src, dst, b[40:])
		}
		return r.bad(rBadIPv6, cut)
	}
	return r.ipv6Next(p, src, dst, b[6], b[40:40+plen], 1)
}

// ipv6Next walks IPv6 extension headers from next-header nh over b, a whole IPv6 payload. n
// is the number of packets b stands for (more than one after reassembly), so that each is
// counted.
func (r *Reader) ipv6Next(p *packet, src, dst netip.Addr, nh uint8, b []byte, n uint64) bool {
	for hops := 0; ; hops++ {
		if hops > 16 {
			r.st.skip(rBadIPv6, n)
			return false
		}
		switch nh {
		case 17:
			return r.udp(p, src, dst, b, n)
		case 6:
			if n != 1 {
				r.st.proto[6] += n
				return false
			}
			return r.tcp(p, src, dst, b)
		case 47:
			if n == 1 {
				if ok, opened := r.tunnel(p, b); opened {
					return ok
				}
			}
			r.st.proto[47] += n
			return false
		case 0, 43, 60, 135, 139, 140, 51:
			hl := extHeaderLen(nh, b)
			if hl == 0 || hl > len(b) {
				r.st.skip(rBadIPv6, n)
				return false
			}
			nh, b = b[0], b[hl:]
		case 44:
			return r.ipv6Fragment(p, src, dst, b, n)
		case 59:
			r.st.noNextHeader += n
			return false
		default:
			r.st.proto[nh] += n
			return false
		}
	}
}

// extHeaderLen returns the length of the IPv6 extension header nh at the
// start of b, from its length byte (0 when b is too short to hold it):
// hop-by-hop, routing, destination options, mobility, HIP and shim6 count
// 8-byte units beyond the first; the authentication header (51) counts
// 4-byte units, minus 2. Fragment headers (44) are 8 bytes.
func extHeaderLen(nh uint8, b []byte) int {
	switch {
	case nh == 44 && len(b) >= 8:
		return 8
	case len(b) < 2 || nh == 44:
		return 0
	case nh == 51:
		return (int(b[1]) + 2) * 4
	}
	return (int(b[1]) + 1) * 8
}

// ipv6Fragment handles a fragment header: an atomic fragment (offset 0, no more) goes on as is;
// others go to the reassembler, and a completed datagram is walked from its first fragment's
// next header.
func (r *Reader) ipv6Fragment(p *packet, src, dst netip.Addr, b []byte, n uint64) bool {
	if len(b) < 8 || n != 1 { // n > 1: a fragment header inside a reassembled datagram
		r.st.skip(rBadIPv6, n)
		return false
	}
	nh, fo := b[0], be.Uint16(b[2:4])
	more, off := fo&1 != 0, int(fo&^7)
	if !more && off == 0 {
		return r.ipv6Next(p, src, dst, nh, b[8:], 1)
	}
	key := fragKey{src: src, dst: dst, id: be.Uint32(b[4:8])}
	payload, frags, nh, ok := r.frag.add(key, off, b[8:], more, nh, p.time)
	if !ok {
		return false
	}
	return r.ipv6Next(p, src, dst, nh, payload, frags)
}

// udp checks the UDP header of b, a whole IP payload, and fills r.dg. n is the number of
// packets b stands for; n > 1 means reassembled from fragments.
func (r *Reader) udp(p *packet, src, dst netip.Addr, b []byte, n uint64) bool {
	if len(b) < 8 {
		r.st.skip(rBadUDP, n)
		return false
	}
	ulen := int(be.Uint16(b[4:6]))
	if ulen < 8 || ulen > len(b) {
		r.st.skip(rBadUDP, n)
		return false
	}
	sport, dport := be.Uint16(b[0:2]), be.Uint16(b[2:4])
	if n > 1 {
		r.st.reassembled++
		r.st.fragments += n
	}
	if frame := overlayFrame(17, dport, b[:ulen]); frame != nil && r.tunnels < maxTunnels {
		return r.inner(p, frame, linkEthernet) // what the frame holds decides, and is counted once
	}
	if !r.wanted(sport, dport) {
		r.st.filtered++
		return false
	}
	r.dg = Datagram{
		Number:    p.number,
		Time:      p.time,
		Src:       netip.AddrPortFrom(src, sport),
		Dst:       netip.AddrPortFrom(dst, dport),
		Payload:   b[8:ulen],
		Interface: p.iface,
	}
	return true
}

// maxTunnels bounds tunnels within tunnels.
const maxTunnels = 2

// tunnel reads the packet a GRE packet (transport bytes b) carries: a whole
// frame (bridging, ERSPAN) or an IP packet (a routed tunnel), so that
// exports mirrored to the capture through a tunnel are found. opened is
// false when b is not such a packet (or tunnels nest too deep); otherwise
// the inner packet decides, and is counted once, as any packet.
func (r *Reader) tunnel(p *packet, b []byte) (ok, opened bool) {
	if r.tunnels >= maxTunnels {
		return false, false
	}
	if frame := overlayFrame(47, 0, b); frame != nil {
		return r.inner(p, frame, linkEthernet), true
	}
	typ, n, valid := greHeader(b)
	if !valid || (typ != etherIPv4 && typ != etherIPv6) {
		return false, false
	}
	return r.inner(p, b[n:], linkRaw), true
}

// inner decodes the frame or packet data an overlay or tunnel of p carries
// (a link-layer of type link), as a packet of its own at p's place.
func (r *Reader) inner(p *packet, data []byte, link uint16) bool {
	q := packet{data: data, time: p.time, origLen: len(data), link: link, iface: p.iface, number: p.number}
	r.tunnels++
	ok := r.decode(&q)
	r.tunnels--
	if ok {
		r.st.decapsulated++
	}
	return ok
}

func (r *Reader) wanted(sport, dport uint16) bool {
	if len(r.ports) == 0 {
		return true
	}
	for _, q := range r.ports {
		if q == sport || q == dport {
			return true
		}
	}
	return false
}
