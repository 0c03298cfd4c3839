package netflow

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// sFlow v5 (sflow.org, "sFlow Version 5", 2004): a switch or router samples
// one packet in N and sends what it saw of it (the first bytes of the frame,
// or its decoded keys) in XDR datagrams, with no flow state and no
// timestamps. Each sampled packet becomes a one-packet flow at the time
// the datagram was captured, with the sampler's N as its sampling
// interval, as sFlow collectors (nfdump's sfcapd, goflow2) turn them into
// flows. Counter samples (interface statistics) are not flows.

// VersionSFlow5 stands for sFlow v5 where the export version is recorded
// (exporter statistics, the store's duplicate-packet keys): 'S' and 5, so
// that it is never taken for NetFlow v5.
const VersionSFlow5 uint16 = 0x5305

// sFlow v5 structure formats (enterprise 0).
const (
	sfFlowSample         = 1
	sfCounterSample      = 2
	sfFlowSampleExpanded = 3
	sfCounterExpanded    = 4

	sfRawHeader      = 1    // sampled_header: the first bytes of the packet
	sfSampledIPv4    = 3    // sampled_ipv4: its decoded keys
	sfSampledIPv6    = 4    // sampled_ipv6
	sfExtendedSwitch = 1001 // VLANs
	sfExtendedRouter = 1002 // next hop
	sfExtendedGW     = 1003 // AS numbers

	sfHeaderEthernet = 1  // ETHERNET-ISO88023
	sfHeaderIPv4     = 11 // the header starts at the IPv4 header
	sfHeaderIPv6     = 12

	sfMaxSamples = 1 << 13 // more samples than a 64 KiB datagram can hold (8 bytes each at least)
)

// SniffSFlow reports whether b starts like an sFlow v5 datagram: version 5
// as 32 bits (a NetFlow v5 header has a record count after its 16-bit
// version), then an agent address type of 1 (IPv4) or 2 (IPv6).
func SniffSFlow(b []byte) bool {
	if len(b) < 28 {
		return false
	}
	t := binary.BigEndian.Uint32(b[4:])
	return binary.BigEndian.Uint32(b) == 5 && (t == 1 || t == 2)
}

// SFlowIDs returns an sFlow v5 datagram's sub-agent id and sequence number.
func SFlowIDs(b []byte) (subAgent, seq uint32, ok bool) {
	r := newReader(b)
	r.u32()
	if _, ok := sfAddress(&r); !ok {
		return 0, 0, false
	}
	subAgent, seq = r.u32(), r.u32()
	return subAgent, seq, !r.failed()
}

// SFlowAgent returns an sFlow v5 datagram's agent address: its flows'
// exporter, which may differ from the address that sent the datagram (a
// relay, NAT); ok is false when it is unspecified (0.0.0.0: the sender is
// the agent) or cannot be read.
func SFlowAgent(b []byte) (netip.Addr, bool) {
	r := newReader(b)
	r.u32()
	a, ok := sfAddress(&r)
	return a, ok && a.IsValid() && !a.IsUnspecified()
}

// DecodeSFlow decodes one sFlow v5 datagram, emitting a record for every
// flow sample that says which packet was sampled. A sample that cannot be
// read is skipped (counted by reason in PacketInfo.Skipped) and the next
// one read by its length; the datagram's header must be whole.
//
// Each record: the sampled packet's outermost IP header gives addresses,
// protocol, ports, TCP flags or ICMP type and code, and its length as the
// bytes of one packet (fromSection; or the sampled_ipv4/ipv6 record's
// keys); Start and End are p.CaptureTime; SamplingInterval the sample's
// rate; InIf and OutIf its ifIndex values (0 when not a single
// interface); VLAN, next hop and AS numbers from the extended records.
// Exporter is the agent address (the datagram's source when the agent is
// 0.0.0.0 or ::) and ObsDomain the sub-agent id. A sample whose packet
// holds no IP header gives a record without addresses, which the caller
// counts as such.
//
// A Decoder holds no sFlow state (sFlow has no templates); it lends its
// record, so decoding allocates nothing.
func (d *Decoder) DecodeSFlow(p Packet, emit func(*flow.Record)) (PacketInfo, error) {
	info := PacketInfo{Version: VersionSFlow5, HeaderCount: -1}
	r := newReader(p.Payload)
	if v := r.u32(); v != 5 {
		return info, &DecodeError{Version: VersionSFlow5, Reason: ErrVersion, Got: int(v), Packet: p.Number}
	}
	agent, ok := sfAddress(&r)
	if !ok && !r.failed() {
		return info, &DecodeError{Version: VersionSFlow5, Offset: 4, Reason: ErrHeader, Packet: p.Number}
	}
	info.Domain, info.Sequence = r.u32(), r.u32()
	info.SysUptime = r.u32()
	n := r.u32()
	switch {
	case r.failed():
		return info, &DecodeError{Version: VersionSFlow5, Reason: ErrTruncated, Got: len(p.Payload), Packet: p.Number}
	case n > sfMaxSamples:
		return info, &DecodeError{Version: VersionSFlow5, Offset: r.off - 4, Reason: ErrHeader, Got: int(n), Want: sfMaxSamples, Packet: p.Number}
	}
	if !agent.IsValid() || agent.IsUnspecified() {
		agent = p.Exporter.Addr
	}
	rec := &d.rec
	for range n {
		at := r.off
		format, length := r.u32(), r.u32()
		body := r.bytes(int(length))
		if r.failed() {
			info.Skipped[ErrTruncated]++
			err := &DecodeError{Version: VersionSFlow5, Offset: at, Reason: ErrTruncated, Got: int(length), Want: len(p.Payload) - at - 8, Packet: p.Number}
			if err.Want < 0 { // the sample's own 8-byte header is cut
				err.Got, err.Want = len(p.Payload)-at, 8
			}
			return info, err
		}
		switch format {
		case sfFlowSample, sfFlowSampleExpanded:
			*rec = flow.Record{Start: p.CaptureTime, End: p.CaptureTime, Exporter: agent, ObsDomain: info.Domain}
			reason, cut := sfFlow(body, format == sfFlowSampleExpanded, rec)
			info.Skipped[ErrExtendedRecord] += cut
			if reason != reasonNone {
				info.Skipped[reason]++
				continue
			}
			info.Records++
			info.SamplingFrom[SampledRecord]++
			info.SampleRate = max(info.SampleRate, rec.SamplingInterval)
			emit(rec)
		case sfCounterSample, sfCounterExpanded:
			info.OptionsRecords++
		default: // another enterprise's or a later format: skipped by its length
		}
	}
	if r.left() > 0 {
		info.Warnings |= WarnTrailingBytes
	}
	return info, nil
}

// sfAddress reads an sFlow address: a type (1 IPv4, 2 IPv6, 0 unknown)
// and the address. ok is false for another type or a short read.
func sfAddress(r *reader) (netip.Addr, bool) {
	switch r.u32() {
	case 0:
		return netip.Addr{}, !r.failed()
	case 1:
		if b := r.bytes(4); b != nil {
			return addr4(b), true
		}
	case 2:
		if b := r.bytes(16); b != nil {
			return addr6(b), true
		}
	}
	return netip.Addr{}, false
}

// sfFlow reads a flow sample (expanded: 32-bit source id and interface
// formats apart) into rec. An extended record shorter than its structure
// is passed over (counted in cut): the sample's length still says where
// the next record starts, and the packet's own fields are whole.
func sfFlow(b []byte, expanded bool, rec *flow.Record) (reason Reason, cut uint32) {
	r := newReader(b)
	r.u32() // the sample's sequence number
	if expanded {
		r.u32() // source id type
	}
	r.u32() // source id (index)
	rate := r.u32()
	r.u32() // sample pool
	r.u32() // drops
	if expanded {
		inFormat, in := r.u32(), r.u32()
		outFormat, out := r.u32(), r.u32()
		rec.InIf, rec.OutIf = sfIfIndex(inFormat, in), sfIfIndex(outFormat, out)
	} else {
		in, out := r.u32(), r.u32()
		rec.InIf, rec.OutIf = sfIfIndex(in>>30, in&0x3FFFFFFF), sfIfIndex(out>>30, out&0x3FFFFFFF)
	}
	n := r.u32() // each record needs 8 bytes at least: a short read ends the loop
	if r.failed() {
		return ErrRecordTruncated, 0
	}
	rec.SamplingInterval = max(rate, 1)
	for range n {
		format, length := r.u32(), r.u32()
		body := r.bytes(int(length))
		if r.failed() {
			return ErrRecordTruncated, cut
		}
		if !sfFlowRecord(format, body, rec) {
			if !sfExtended(format) {
				return ErrRecordTruncated, cut
			}
			cut++
		}
	}
	return reasonNone, cut
}

// sfExtended reports whether a flow record format is extended data (of
// the switch, router or gateway), not the sampled packet itself.
func sfExtended(format uint32) bool {
	return format == sfExtendedSwitch || format == sfExtendedRouter || format == sfExtendedGW
}

// sfIfIndex is an interface value of format 0 (a single ifIndex; the
// value 0x3FFFFFFF is unknown); other formats (discarded, several
// interfaces) are 0.
func sfIfIndex(format, value uint32) uint32 {
	if format != 0 || value == 0x3FFFFFFF {
		return 0
	}
	return value
}

// sfFlowRecord applies one flow record of a sample to rec; false when the
// record is shorter than its structure (rec is then left as it was).
func sfFlowRecord(format uint32, b []byte, rec *flow.Record) bool {
	r := newReader(b)
	switch format {
	case sfRawHeader:
		proto := r.u32()
		r.u32() // frame length (with the link layer: the IP header's is used)
		r.u32() // bytes stripped
		hlen := r.u32()
		header := r.bytes(int(hlen))
		if r.failed() {
			return false
		}
		switch proto {
		case sfHeaderEthernet:
			fromSection(rec, header, true)
		case sfHeaderIPv4, sfHeaderIPv6:
			fromSection(rec, header, false)
		}
	case sfSampledIPv4, sfSampledIPv6:
		length, proto := r.u32(), r.u32()
		var src, dst netip.Addr
		if format == sfSampledIPv4 {
			s, d := r.bytes(4), r.bytes(4)
			if r.failed() {
				return false
			}
			src, dst = addr4(s), addr4(d)
		} else {
			s, d := r.bytes(16), r.bytes(16)
			if r.failed() {
				return false
			}
			src, dst = addr6(s), addr6(d)
		}
		sport, dport, flags := r.u32(), r.u32(), r.u32()
		if r.failed() {
			return false
		}
		if rec.SrcAddr.IsValid() || rec.DstAddr.IsValid() {
			return true // the raw header came first
		}
		rec.SrcAddr, rec.DstAddr, rec.Proto = src, dst, uint8(proto)
		rec.Bytes, rec.Packets = uint64(length), 1
		if flow.IsICMP(rec.Proto) {
			rec.ICMPType, rec.ICMPCode = uint8(sport), uint8(dport) // as sFlow's reference agent writes them
		} else {
			rec.SrcPort, rec.DstPort = uint16(sport), uint16(dport)
		}
		if rec.Proto == flow.ProtoTCP {
			rec.TCPFlags = uint8(flags)
		}
	case sfExtendedSwitch:
		srcVLAN := r.u32()
		r.u32() // source priority
		dstVLAN := r.u32()
		if r.failed() {
			return false
		}
		if v := cmp.Or(srcVLAN, dstVLAN); v <= 0xFFF {
			rec.VLAN = uint16(v)
		}
	case sfExtendedRouter:
		hop, ok := sfAddress(&r)
		if !ok {
			return false
		}
		rec.NextHop = hop
	case sfExtendedGW:
		hop, ok := sfAddress(&r)
		r.u32() // the router's own AS
		srcAS := r.u32()
		r.u32() // the source's peer AS
		segments := r.u32()
		if !ok || r.failed() {
			return false
		}
		dstAS := rec.DstAS
		for range segments { // 8 bytes each at least: a short read ends the loop
			r.u32() // segment type: set or sequence
			n := r.u32()
			if n > uint32(r.left()/4) { // more AS numbers than bytes left (and no overflow of n*4 on 32 bits)
				return false
			}
			path := r.bytes(int(n) * 4)
			if r.failed() {
				return false
			}
			if len(path) > 0 {
				dstAS = binary.BigEndian.Uint32(path[len(path)-4:]) // the path's last AS: the destination's
			}
		}
		// Applied only when the whole record was read: a cut one is ignored.
		rec.NextHop, rec.SrcAS, rec.DstAS = cmp.Or(rec.NextHop, hop), srcAS, dstAS
	}
	return true
}
