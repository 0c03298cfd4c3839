package nfgen

// Information element ids (IANA IPFIX registry; NetFlow v9 shares the ids
// below 128 and a few above).
const (
	OctetDeltaCount                  = 1
	PacketDeltaCount                 = 2
	ProtocolIdentifier               = 4
	IPClassOfService                 = 5
	TCPControlBits                   = 6
	SourceTransportPort              = 7
	SourceIPv4Address                = 8
	SourceIPv4PrefixLength           = 9
	IngressInterface                 = 10
	DestinationTransportPort         = 11
	DestinationIPv4Address           = 12
	DestinationIPv4PrefixLength      = 13
	EgressInterface                  = 14
	IPNextHopIPv4Address             = 15
	BGPSourceASNumber                = 16
	BGPDestinationASNumber           = 17
	BGPNextHopIPv4Address            = 18
	FlowEndSysUpTime                 = 21 // v9 LAST_SWITCHED
	FlowStartSysUpTime               = 22 // v9 FIRST_SWITCHED
	PostOctetDeltaCount              = 23 // v9 OUT_BYTES
	PostPacketDeltaCount             = 24 // v9 OUT_PKTS
	SourceIPv6Address                = 27
	DestinationIPv6Address           = 28
	ICMPTypeCodeIPv4                 = 32
	SamplingInterval                 = 34
	SamplingAlgorithm                = 35
	SamplerID                        = 48 // v9 FLOW_SAMPLER_ID
	SamplerMode                      = 49 // v9 FLOW_SAMPLER_MODE
	SamplerRandomInterval            = 50 // v9 FLOW_SAMPLER_RANDOM_INTERVAL
	VLANID                           = 58
	PostVLANID                       = 59
	IPVersion                        = 60
	FlowDirection                    = 61
	IPNextHopIPv6Address             = 62
	BGPNextHopIPv6Address            = 63
	InterfaceName                    = 82 // string (variable length in IPFIX)
	OctetTotalCount                  = 85
	PacketTotalCount                 = 86
	ApplicationName                  = 96 // string
	ICMPTypeCodeIPv6                 = 139
	MeteringProcessID                = 143
	ObservationDomainID              = 149
	FlowStartSeconds                 = 150
	FlowEndSeconds                   = 151
	FlowStartMilliseconds            = 152
	FlowEndMilliseconds              = 153
	FlowStartMicroseconds            = 154
	FlowEndMicroseconds              = 155
	FlowStartNanoseconds             = 156
	FlowEndNanoseconds               = 157
	FlowStartDeltaMicroseconds       = 158
	FlowEndDeltaMicroseconds         = 159
	SystemInitTimeMilliseconds       = 160
	FlowDurationMilliseconds         = 161
	FlowDurationMicroseconds         = 162
	PostOctetTotalCount              = 171
	PostPacketTotalCount             = 172
	ICMPTypeIPv4                     = 176
	ICMPCodeIPv4                     = 177
	ICMPTypeIPv6                     = 178
	ICMPCodeIPv6                     = 179
	UDPSourcePort                    = 180
	UDPDestinationPort               = 181
	TCPSourcePort                    = 182
	TCPDestinationPort               = 183
	PaddingOctets                    = 210
	PostNATSourceIPv4Address         = 225
	PostNATDestinationIPv4Address    = 226
	PostNAPTSourceTransportPort      = 227
	PostNAPTDestinationTransportPort = 228
	InitiatorOctets                  = 231
	ResponderOctets                  = 232
	Dot1qVLANID                      = 243
	IngressPhysicalInterface         = 252
	EgressPhysicalInterface          = 253
	PostNATSourceIPv6Address         = 281
	PostNATDestinationIPv6Address    = 282
	InitiatorPackets                 = 298
	ResponderPackets                 = 299
	SelectorID                       = 302
	SamplingPacketInterval           = 305
	SamplingPacketSpace              = 306
)

// NetFlow v9 options template scope field types (RFC 3954 section 6.1);
// IPFIX scopes are ordinary elements (ObservationDomainID, SelectorID...).
const (
	ScopeSystem    = 1
	ScopeInterface = 2
	ScopeLineCard  = 3
	ScopeCache     = 4
	ScopeTemplate  = 5
)

// PENReverse is the private enterprise number of RFC 5103 reverse
// elements: a forward element id with this number describes the reverse
// direction (OctetDeltaCount -> reverse bytes).
const PENReverse = 29305

// VarLen is the IPFIX field length that means "variable length".
const VarLen = 65535

// kind is the record field (or time) an element carries.
type kind uint8

const (
	kFiller kind = iota // not from the record: Field.Value, or filler bytes
	kSrc4
	kDst4
	kSrc6
	kDst6
	kNextHop4
	kNextHop6
	kNATSrc4
	kNATDst4
	kNATSrc6
	kNATDst6
	kSrcPort
	kDstPort
	kProto
	kTCPFlags
	kBytes
	kPackets
	kRevBytes
	kRevPackets
	kPostBytes
	kPostPackets
	kInIf
	kOutIf
	kSrcAS
	kDstAS
	kVLAN
	kDir
	kICMPTypeCode
	kICMPType
	kICMPCode
	kNATSrcPort
	kNATDstPort
	kSampling
	kStartUptime
	kEndUptime
	kStartSec
	kEndSec
	kStartMs
	kEndMs
	kStartUs
	kEndUs
	kStartNs
	kEndNs
	kStartDeltaUs
	kEndDeltaUs
	kDurMs
	kDurUs

	numKinds
)

// kindOf returns what a field carries: the decoder's mapping
// (ingest/netflow fields.go) seen from the encoder's side.
func kindOf(pen uint32, id uint16) kind {
	switch pen {
	case 0:
	case PENReverse:
		switch id {
		case OctetDeltaCount, OctetTotalCount:
			return kRevBytes
		case PacketDeltaCount, PacketTotalCount:
			return kRevPackets
		}
		return kFiller
	default:
		return kFiller
	}
	if k, ok := flowKinds[id]; ok {
		return k
	}
	return timeKinds[id]
}

var flowKinds = map[uint16]kind{
	SourceIPv4Address: kSrc4, DestinationIPv4Address: kDst4,
	SourceIPv6Address: kSrc6, DestinationIPv6Address: kDst6,
	IPNextHopIPv4Address: kNextHop4, BGPNextHopIPv4Address: kNextHop4,
	IPNextHopIPv6Address: kNextHop6, BGPNextHopIPv6Address: kNextHop6,
	PostNATSourceIPv4Address: kNATSrc4, PostNATDestinationIPv4Address: kNATDst4,
	PostNATSourceIPv6Address: kNATSrc6, PostNATDestinationIPv6Address: kNATDst6,
	SourceTransportPort: kSrcPort, UDPSourcePort: kSrcPort, TCPSourcePort: kSrcPort,
	DestinationTransportPort: kDstPort, UDPDestinationPort: kDstPort, TCPDestinationPort: kDstPort,
	ProtocolIdentifier: kProto, TCPControlBits: kTCPFlags,
	OctetDeltaCount: kBytes, OctetTotalCount: kBytes, InitiatorOctets: kBytes,
	PacketDeltaCount: kPackets, PacketTotalCount: kPackets, InitiatorPackets: kPackets,
	ResponderOctets: kRevBytes, ResponderPackets: kRevPackets,
	PostOctetDeltaCount: kPostBytes, PostOctetTotalCount: kPostBytes,
	PostPacketDeltaCount: kPostPackets, PostPacketTotalCount: kPostPackets,
	IngressInterface: kInIf, IngressPhysicalInterface: kInIf,
	EgressInterface: kOutIf, EgressPhysicalInterface: kOutIf,
	BGPSourceASNumber: kSrcAS, BGPDestinationASNumber: kDstAS,
	VLANID: kVLAN, Dot1qVLANID: kVLAN, PostVLANID: kVLAN,
	FlowDirection:    kDir,
	ICMPTypeCodeIPv4: kICMPTypeCode, ICMPTypeCodeIPv6: kICMPTypeCode,
	ICMPTypeIPv4: kICMPType, ICMPTypeIPv6: kICMPType,
	ICMPCodeIPv4: kICMPCode, ICMPCodeIPv6: kICMPCode,
	PostNAPTSourceTransportPort: kNATSrcPort, PostNAPTDestinationTransportPort: kNATDstPort,
	SamplingInterval: kSampling, SamplerRandomInterval: kSampling,
}

var timeKinds = map[uint16]kind{
	FlowStartSysUpTime: kStartUptime, FlowEndSysUpTime: kEndUptime,
	FlowStartSeconds: kStartSec, FlowEndSeconds: kEndSec,
	FlowStartMilliseconds: kStartMs, FlowEndMilliseconds: kEndMs,
	FlowStartMicroseconds: kStartUs, FlowEndMicroseconds: kEndUs,
	FlowStartNanoseconds: kStartNs, FlowEndNanoseconds: kEndNs,
	FlowStartDeltaMicroseconds: kStartDeltaUs, FlowEndDeltaMicroseconds: kEndDeltaUs,
	FlowDurationMilliseconds: kDurMs, FlowDurationMicroseconds: kDurUs,
}

// addrLen returns the width of an address kind, 0 for other kinds.
func (k kind) addrLen() int {
	switch k {
	case kSrc4, kDst4, kNextHop4, kNATSrc4, kNATDst4:
		return 4
	case kSrc6, kDst6, kNextHop6, kNATSrc6, kNATDst6:
		return 16
	}
	return 0
}

func (k kind) isStart() bool {
	switch k {
	case kStartUptime, kStartSec, kStartMs, kStartUs, kStartNs, kStartDeltaUs:
		return true
	}
	return false
}

func (k kind) isEnd() bool {
	switch k {
	case kEndUptime, kEndSec, kEndMs, kEndUs, kEndNs, kEndDeltaUs:
		return true
	}
	return false
}

func (k kind) isDuration() bool { return k == kDurMs || k == kDurUs }
