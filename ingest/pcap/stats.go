package pcap

import "fmt"

// Reasons a packet is skipped (the keys of Stats.Skipped). Link types without a decoder are
// counted as "unsupported link type N".
const (
	ReasonTruncated       = "truncated packet"         // the file ends inside the packet's record
	ReasonCaplenHuge      = "caplen over 256 KiB"      // pcap: fatal, the next record cannot be found; pcapng: skipped
	ReasonBadBlock        = "bad pcapng block"         // packet block naming no interface or overrunning itself; fatal when lengths disagree
	ReasonSnapCut         = "cut by snaplen"           // captured bytes end inside the IP/UDP packet
	ReasonBadLink         = "bad link-layer header"    // shorter than its link-layer header
	ReasonBadIPv4         = "bad IPv4 header"          // version, header or total length wrong
	ReasonBadIPv6         = "bad IPv6 header"          // version, payload length or extension chain wrong
	ReasonBadUDP          = "bad UDP header"           // UDP length below 8 or beyond the IP payload
	ReasonFragIncomplete  = "fragment never completed" // expired, evicted, or still missing at the end
	ReasonFragOverlap     = "overlapping fragment"     // its whole datagram is dropped
	ReasonFragDuplicate   = "duplicate fragment"       // same offset and length again; ignored
	ReasonFragBad         = "bad fragment"             // beyond 64 KiB, unaligned, or inconsistent end
	reasonUnsupportedLink = "unsupported link type %d"
)

// Notes: oddities that did not stop a packet (the keys of Stats.Notes).
const (
	NoteCaplenOverSnaplen = "caplen larger than snaplen"            // read anyway, as Wireshark and libpcap do
	NoteCaplenOverOrig    = "caplen larger than original length"    // read anyway
	NoteTruncatedBlock    = "truncated non-packet block at the end" // pcapng
	NoteBadOption         = "malformed pcapng option"               // the rest of that block's options ignored
	NoteStreamGap         = "IPFIX over TCP: gap never filled"      // bytes missing from the capture; the stream restarts at a message
	NoteStreamLost        = "IPFIX over TCP: not a message header"  // the stream lost its framing and restarts at a message
	NoteStreamCut         = "IPFIX over TCP: stream ended mid-message"
	NoteConcatenated      = "pcap file header inside the file (captures joined with cat): read on" // pcap
)

type reason uint8

const (
	rTruncated reason = iota
	rCaplenHuge
	rBadBlock
	rSnapCut
	rBadLink
	rBadIPv4
	rBadIPv6
	rBadUDP
	rFragIncomplete
	rFragOverlap
	rFragDuplicate
	rFragBad
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonTruncated, ReasonCaplenHuge, ReasonBadBlock, ReasonSnapCut, ReasonBadLink, ReasonBadIPv4,
	ReasonBadIPv6, ReasonBadUDP, ReasonFragIncomplete, ReasonFragOverlap, ReasonFragDuplicate, ReasonFragBad,
}

type note uint8

const (
	nCaplenOverSnaplen note = iota
	nCaplenOverOrig
	nTruncatedBlock
	nBadOption
	nStreamGap
	nStreamLost
	nStreamCut
	nConcatenated
	numNotes
)

var noteNames = [numNotes]string{NoteCaplenOverSnaplen, NoteCaplenOverOrig, NoteTruncatedBlock, NoteBadOption,
	NoteStreamGap, NoteStreamLost, NoteStreamCut, NoteConcatenated}

// Stats counts what a Reader did with every packet. Once Next has returned false, every packet
// is accounted for exactly once:
//
//	Packets == Datagrams + Filtered - Reassembled + Fragments + TCPSegments + sum(Other) + sum(Skipped)
//
// and, for a Reader read with NextHeaders, Packets == Metered + sum(Other) + sum(Skipped).
type Stats struct {
	Packets     uint64 // packet records read, a damaged one included
	Datagrams   uint64 // UDP datagrams returned by Next
	TCPSegments uint64 // TCP packets of IPFIX streams (tcp.go)
	TCPMessages uint64 // IPFIX messages cut from those streams and returned by Next
	Metered     uint64 // IP packets returned by NextHeaders
	// Decapsulated counts the packets NextHeaders read inside an overlay
	// (VXLAN, GRE bridging, ERSPAN); each is one packet, metered or not.
	Decapsulated uint64
	Filtered     uint64            // UDP datagrams left out by FilterPorts
	Reassembled  uint64            // datagrams (returned or filtered) put together from fragments
	Fragments    uint64            // packets that went into those reassembled datagrams
	Other        map[string]uint64 // packets other than UDP over IP, by kind: "tcp", "icmp", "arp", ...
	Skipped      map[string]uint64 // packets dropped, by reason (the Reason constants)
	Notes        map[string]uint64 // oddities that did not stop a packet (the Note constants)
}

// counters are Stats without maps, updated per packet.
type counters struct {
	packets, datagrams, filtered, reassembled, fragments uint64
	tcpSegments, tcpMessages                             uint64
	metered, decapsulated                                uint64
	skipped                                              [numReasons]uint64
	notes                                                [numNotes]uint64
	proto                                                [256]uint64 // IP packets that are not UDP, by protocol
	etherType                                            map[uint16]uint64
	family                                               map[uint32]uint64 // null/loop link: not IP
	linkType                                             map[uint16]uint64 // unsupported link types
	llc, rawNotIP, noNextHeader                          uint64
}

func (c *counters) skip(r reason, n uint64) { c.skipped[r] += n }

func (c *counters) otherEther(t uint16) {
	if c.etherType == nil {
		c.etherType = make(map[uint16]uint64)
	}
	c.etherType[t]++
}

func (c *counters) otherFamily(f uint32) {
	if c.family == nil {
		c.family = make(map[uint32]uint64)
	}
	c.family[f]++
}

func (c *counters) unsupportedLink(t uint16) {
	if c.linkType == nil {
		c.linkType = make(map[uint16]uint64)
	}
	c.linkType[t]++
}

func (c *counters) stats() Stats {
	s := Stats{
		Packets: c.packets, Datagrams: c.datagrams, Filtered: c.filtered,
		Reassembled: c.reassembled, Fragments: c.fragments, TCPSegments: c.tcpSegments, TCPMessages: c.tcpMessages, Metered: c.metered, Decapsulated: c.decapsulated,
		Other: map[string]uint64{}, Skipped: map[string]uint64{}, Notes: map[string]uint64{},
	}
	for r, n := range c.skipped {
		if n > 0 {
			s.Skipped[reasonNames[r]] = n
		}
	}
	for t, n := range c.linkType {
		s.Skipped[fmt.Sprintf(reasonUnsupportedLink, t)] = n
	}
	for k, n := range c.notes {
		if n > 0 {
			s.Notes[noteNames[k]] = n
		}
	}
	for p, n := range c.proto {
		if n > 0 {
			s.Other[protoName(uint8(p))] += n
		}
	}
	for t, n := range c.etherType {
		s.Other[etherTypeName(t)] += n
	}
	for f, n := range c.family {
		s.Other[fmt.Sprintf("loopback family %d", f)] += n
	}
	add := func(k string, n uint64) {
		if n > 0 {
			s.Other[k] += n
		}
	}
	add("llc", c.llc)
	add("raw non-IP", c.rawNotIP)
	add("ipv6 no next header", c.noNextHeader)
	return s
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 2:
		return "igmp"
	case 6:
		return "tcp"
	case 17: // UDP cut by the snap length that could not be an export
		return "udp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "icmpv6"
	case 89:
		return "ospf"
	case 103:
		return "pim"
	case 112:
		return "vrrp"
	case 132:
		return "sctp"
	}
	return fmt.Sprintf("ip proto %d", p)
}

func etherTypeName(t uint16) string {
	switch t {
	case 0x0806:
		return "arp"
	case 0x8035:
		return "rarp"
	case 0x8847, 0x8848:
		return "mpls"
	case 0x8863, 0x8864:
		return "pppoe"
	case 0x888E:
		return "eapol"
	case 0x88CC:
		return "lldp"
	}
	return fmt.Sprintf("ethertype 0x%04x", t)
}
