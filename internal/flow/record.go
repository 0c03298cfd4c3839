// Package flow defines the flow record that every part of flowcase passes
// around: decoders produce it, the case store keeps it, queries and
// detectors consume it. It imports nothing of the project.
package flow

import (
	"net/netip"
)

// Direction is the exporter's view of the flow (IPFIX flowDirection, v9
// DIRECTION): 0 when the evidence does not say.
type Direction uint8

const (
	DirUnknown Direction = 0
	DirIngress Direction = 1
	DirEgress  Direction = 2
)

// Record is one flow. Forward means src->dst (the side that the exporter
// saw as source), reverse means dst->src, present only in biflow evidence.
//
// Counters are raw, as exported; SamplingInterval (>= 1) says by how much
// to multiply them for an estimate of the real traffic.
type Record struct {
	Start int64 // unix nanoseconds, first packet
	End   int64 // unix nanoseconds, last packet (>= Start)

	SrcAddr netip.Addr
	DstAddr netip.Addr
	SrcPort uint16
	DstPort uint16
	Proto   uint8
	// TCPFlags is the OR of the TCP flags of all packets (both directions
	// when the evidence merges them).
	TCPFlags uint8

	Bytes      uint64 // forward bytes (JSON bytes_in)
	Packets    uint64 // forward packets (JSON packets)
	RevBytes   uint64 // reverse bytes (JSON bytes_out)
	RevPackets uint64 // reverse packets (JSON packets_out)
	// PostBytes/PostPackets are the forward counters after a middlebox
	// (NetFlow OUT_BYTES/OUT_PKTS, IPFIX postOctetDeltaCount and
	// postPacketDeltaCount, elements 23/24).
	PostBytes   uint64
	PostPackets uint64

	ICMPType uint8
	ICMPCode uint8
	InIf     uint32
	OutIf    uint32
	SrcAS    uint32
	DstAS    uint32
	NextHop  netip.Addr
	VLAN     uint16
	Dir      Direction

	// Post-NAT addresses and ports (IPFIX 225-228); invalid/zero when absent.
	NATSrcAddr netip.Addr
	NATDstAddr netip.Addr
	NATSrcPort uint16
	NATDstPort uint16

	Exporter         netip.Addr // export packet's source address; invalid for JSON
	ObsDomain        uint32     // v9 source id / IPFIX observation domain id
	SamplingInterval uint32     // 1 when unknown or unsampled

	SourceID uint32 // the ingested file this record came from (store-assigned)
}

// Duration returns End-Start in nanoseconds.
func (r *Record) Duration() int64 { return r.End - r.Start }

// TotalBytes is forward plus reverse bytes, the figure that "bytes" means in
// filters and statistics.
func (r *Record) TotalBytes() uint64 { return r.Bytes + r.RevBytes }

// TotalPackets is forward plus reverse packets.
func (r *Record) TotalPackets() uint64 { return r.Packets + r.RevPackets }

// Sampling returns the sampling interval, never less than 1.
func (r *Record) Sampling() uint64 {
	if r.SamplingInterval <= 1 {
		return 1
	}
	return uint64(r.SamplingInterval)
}

// TCP flag bits.
const (
	FIN uint8 = 0x01
	SYN uint8 = 0x02
	RST uint8 = 0x04
	PSH uint8 = 0x08
	ACK uint8 = 0x10
	URG uint8 = 0x20
	ECE uint8 = 0x40
	CWR uint8 = 0x80
)

// IP protocol numbers used across the project.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)
