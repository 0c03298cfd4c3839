package netflow

// Element ids (IANA IPFIX information elements; NetFlow v9 shares the ids
// below 128 and a few above). Only the ones the decoder maps are named.
const (
	ieOctetDelta          = 1
	iePacketDelta         = 2
	ieProtocol            = 4
	ieTCPFlags            = 6
	ieSrcPort             = 7
	ieSrcIPv4             = 8
	ieInIf                = 10
	ieDstPort             = 11
	ieDstIPv4             = 12
	ieOutIf               = 14
	ieNextHopIPv4         = 15
	ieSrcAS               = 16
	ieDstAS               = 17
	ieBGPNextHopIPv4      = 18
	ieEndSysUpTime        = 21 // v9 LAST_SWITCHED
	ieStartSysUpTime      = 22 // v9 FIRST_SWITCHED
	iePostOctetDelta      = 23 // v9 OUT_BYTES
	iePostPacketDelta     = 24 // v9 OUT_PKTS
	ieSrcIPv6             = 27
	ieDstIPv6             = 28
	ieICMPTypeCodeIPv4    = 32
	ieSamplingInterval    = 34
	ieSamplerID           = 48 // v9 FLOW_SAMPLER_ID
	ieSamplerRandom       = 50 // v9 FLOW_SAMPLER_RANDOM_INTERVAL
	ieVLAN                = 58
	iePostVLAN            = 59
	ieDirection           = 61
	ieNextHopIPv6         = 62
	ieBGPNextHopIPv6      = 63
	ieOctetTotal          = 85
	iePacketTotal         = 86
	ieICMPTypeCodeIPv6    = 139
	ieStartSeconds        = 150
	ieEndSeconds          = 151
	ieStartMillis         = 152
	ieEndMillis           = 153
	ieStartMicros         = 154
	ieEndMicros           = 155
	ieStartNanos          = 156
	ieEndNanos            = 157
	ieStartDeltaMicros    = 158
	ieEndDeltaMicros      = 159
	ieSystemInitMillis    = 160
	ieDurationMillis      = 161
	ieDurationMicros      = 162
	iePostOctetTotal      = 171
	iePostPacketTotal     = 172
	ieICMPTypeIPv4        = 176
	ieICMPCodeIPv4        = 177
	ieICMPTypeIPv6        = 178
	ieICMPCodeIPv6        = 179
	ieUDPSrcPort          = 180
	ieUDPDstPort          = 181
	ieTCPSrcPort          = 182
	ieTCPDstPort          = 183
	iePostNATSrcIPv4      = 225
	iePostNATDstIPv4      = 226
	iePostNAPTSrcPort     = 227
	iePostNAPTDstPort     = 228
	ieInitiatorOctets     = 231
	ieResponderOctets     = 232
	ieDot1qVLAN           = 243
	ieInPhysIf            = 252
	ieOutPhysIf           = 253
	iePostNATSrcIPv6      = 281
	iePostNATDstIPv6      = 282
	ieInitiatorPackets    = 298
	ieResponderPackets    = 299
	ieSelectorID          = 302
	ieSamplingPktInterval = 305
	ieSamplingPktSpace    = 306
	ieSamplingSize        = 309
	ieSamplingPopulation  = 310
	ieIPHeaderSection     = 313 // ipHeaderPacketSection: a packet from its IP header on (PSAMP)
	ieDataLinkSection     = 315 // dataLinkFrameSection: a frame from its link-layer header on
	ieObsSeconds          = 322 // observationTimeSeconds
	ieObsMillis           = 323
	ieObsMicros           = 324
	ieObsNanos            = 325

	// Cisco NSEL (ASA firewalls, NetFlow v9). 233 is also IANA's
	// firewallEvent; the 40000 range is v9 only (IPFIX ids that high are
	// enterprise elements).
	ieFirewallEvent   = 233
	ieNSELEvent84     = 40005 // NF_F_FW_EVENT of ASA 8.4
	ieNSELXlateSrc4   = 40001 // NF_F_XLATE_SRC_ADDR_84
	ieNSELXlateDst4   = 40002
	ieNSELXlateSrcPrt = 40003
	ieNSELXlateDstPrt = 40004
)

// PENReverse is the private enterprise number of RFC 5103 reverse
// information elements: the element ids of the forward elements, carried
// with this enterprise number, describe the reverse direction.
const PENReverse = 29305

// kind is what the decoder does with a field's bytes. Templates are
// compiled to a list of kinds once, so decoding a record is one switch per
// field.
type kind uint8

const (
	kSkip kind = iota
	kSrc4
	kDst4
	kSrc6
	kDst6
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
	kICMPTypeCode
	kICMPType
	kICMPCode
	kInIf
	kOutIf
	kSrcAS
	kDstAS
	kNextHop4
	kNextHop6
	kVLAN
	kDir
	kNATSrc4
	kNATDst4
	kNATSrc6
	kNATDst6
	kNATSrcPort
	kNATDstPort
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
	kSamplerID
	kSamplingInterval
	kSamplingPktInterval
	kSamplingSpace
	kSamplingSize
	kSamplingPopulation
	kSysInitMs
	kIPSection
	kLinkSection
	kObsSec // observationTime elements: when the metering process saw the packet or event
	kObsMs
	kObsUs
	kObsNs
	kFwEvent
	kScopeIf // an options record's interface scope: its sampling is the interface's

	numKinds
)

// slot groups kinds that fill the same record field; within a slot the
// lowest rank wins, and among equal ranks the first field of the template
// (tshark's choice for duplicated elements, TRUTH.md finding 5).
type slot uint8

const (
	sNone slot = iota
	sSrc4
	sDst4
	sSrc6
	sDst6
	sSrcPort
	sDstPort
	sSrcPortUDP
	sDstPortUDP
	sSrcPortTCP
	sDstPortTCP
	sProto
	sTCPFlags
	sBytes
	sPackets
	sRevBytes
	sRevPackets
	sPostBytes
	sPostPackets
	sICMPTypeCode4
	sICMPTypeCode6
	sICMPType // IPv4's; each family's elements fill slots of their own
	sICMPCode
	sICMPType6
	sICMPCode6
	sInIf
	sOutIf
	sSrcAS
	sDstAS
	sNextHop4
	sNextHop6
	sVLAN
	sDir
	sNATSrc4
	sNATDst4
	sNATSrc6
	sNATDst6
	sNATSrcPort
	sNATDstPort
	sStartUptime
	sEndUptime
	sStartSec
	sEndSec
	sStartMs
	sEndMs
	sStartUs
	sEndUs
	sStartNs
	sEndNs
	sStartDeltaUs
	sEndDeltaUs
	sDurMs
	sDurUs
	sSamplerID
	sSamplingInterval
	sSamplingPktInterval
	sSamplingSpace
	sSamplingSize
	sSamplingPopulation
	sSysInitMs
	sSection
	sObs
	sFwEvent
	sScopeIf

	numSlots
)

// width says which field lengths a kind accepts.
type width uint8

const (
	wInt   width = iota // 1..8 bytes, big-endian (reduced-size encoding)
	wIPv4               // exactly 4
	wIPv6               // exactly 16
	wBytes              // any length, variable included
)

type element struct {
	kind  kind
	slot  slot
	rank  uint8
	width width
}

// lookupElement maps an element (enterprise number, id) to what the
// decoder does with it. Unknown elements and unknown enterprises are
// skipped by their length.
func lookupElement(pen uint32, id uint16) element {
	switch pen {
	case 0:
		return forwardElement(id)
	case PENReverse:
		return reverseElement(id)
	}
	return element{}
}

func reverseElement(id uint16) element {
	switch id {
	case ieOctetDelta:
		return element{kRevBytes, sRevBytes, 0, wInt}
	case iePacketDelta:
		return element{kRevPackets, sRevPackets, 0, wInt}
	case ieOctetTotal:
		return element{kRevBytes, sRevBytes, 1, wInt}
	case iePacketTotal:
		return element{kRevPackets, sRevPackets, 1, wInt}
	}
	return element{}
}

func forwardElement(id uint16) element {
	if e, ok := flowElement(id); ok {
		return e
	}
	return timeOrSamplingElement(id)
}

func flowElement(id uint16) (element, bool) {
	switch id {
	case ieSrcIPv4:
		return element{kSrc4, sSrc4, 0, wIPv4}, true
	case ieDstIPv4:
		return element{kDst4, sDst4, 0, wIPv4}, true
	case ieSrcIPv6:
		return element{kSrc6, sSrc6, 0, wIPv6}, true
	case ieDstIPv6:
		return element{kDst6, sDst6, 0, wIPv6}, true
	// The general port elements and the UDP and TCP ones fill slots of their
	// own: a template may carry all of them, the ones that do not apply to
	// the record's protocol left at zero (applyFields: a non-zero port wins).
	case ieSrcPort:
		return element{kSrcPort, sSrcPort, 0, wInt}, true
	case ieUDPSrcPort:
		return element{kSrcPort, sSrcPortUDP, 0, wInt}, true
	case ieTCPSrcPort:
		return element{kSrcPort, sSrcPortTCP, 0, wInt}, true
	case ieDstPort:
		return element{kDstPort, sDstPort, 0, wInt}, true
	case ieUDPDstPort:
		return element{kDstPort, sDstPortUDP, 0, wInt}, true
	case ieTCPDstPort:
		return element{kDstPort, sDstPortTCP, 0, wInt}, true
	case ieProtocol:
		return element{kProto, sProto, 0, wInt}, true
	case ieTCPFlags:
		return element{kTCPFlags, sTCPFlags, 0, wInt}, true
	case ieOctetDelta:
		return element{kBytes, sBytes, 0, wInt}, true
	case ieOctetTotal:
		return element{kBytes, sBytes, 1, wInt}, true
	case ieInitiatorOctets:
		return element{kBytes, sBytes, 2, wInt}, true
	case iePacketDelta:
		return element{kPackets, sPackets, 0, wInt}, true
	case iePacketTotal:
		return element{kPackets, sPackets, 1, wInt}, true
	case ieInitiatorPackets:
		return element{kPackets, sPackets, 2, wInt}, true
	case ieResponderOctets:
		return element{kRevBytes, sRevBytes, 2, wInt}, true
	case ieResponderPackets:
		return element{kRevPackets, sRevPackets, 2, wInt}, true
	case iePostOctetDelta:
		return element{kPostBytes, sPostBytes, 0, wInt}, true
	case iePostOctetTotal:
		return element{kPostBytes, sPostBytes, 1, wInt}, true
	case iePostPacketDelta:
		return element{kPostPackets, sPostPackets, 0, wInt}, true
	case iePostPacketTotal:
		return element{kPostPackets, sPostPackets, 1, wInt}, true
	}
	return interfaceElement(id)
}

func interfaceElement(id uint16) (element, bool) {
	switch id {
	case ieICMPTypeCodeIPv4:
		return element{kICMPTypeCode, sICMPTypeCode4, 0, wInt}, true
	case ieICMPTypeCodeIPv6:
		return element{kICMPTypeCode, sICMPTypeCode6, 0, wInt}, true
	// IPv4's and IPv6's ICMP elements both fill the record's type and code:
	// a template may carry both families', the other's left at zero
	// (applyMore: a non-zero value wins).
	case ieICMPTypeIPv4:
		return element{kICMPType, sICMPType, 0, wInt}, true
	case ieICMPTypeIPv6:
		return element{kICMPType, sICMPType6, 0, wInt}, true
	case ieICMPCodeIPv4:
		return element{kICMPCode, sICMPCode, 0, wInt}, true
	case ieICMPCodeIPv6:
		return element{kICMPCode, sICMPCode6, 0, wInt}, true
	case ieInIf:
		return element{kInIf, sInIf, 0, wInt}, true
	case ieInPhysIf:
		return element{kInIf, sInIf, 1, wInt}, true
	case ieOutIf:
		return element{kOutIf, sOutIf, 0, wInt}, true
	case ieOutPhysIf:
		return element{kOutIf, sOutIf, 1, wInt}, true
	case ieSrcAS:
		return element{kSrcAS, sSrcAS, 0, wInt}, true
	case ieDstAS:
		return element{kDstAS, sDstAS, 0, wInt}, true
	case ieNextHopIPv4:
		return element{kNextHop4, sNextHop4, 0, wIPv4}, true
	case ieBGPNextHopIPv4:
		return element{kNextHop4, sNextHop4, 1, wIPv4}, true
	case ieNextHopIPv6:
		return element{kNextHop6, sNextHop6, 0, wIPv6}, true
	case ieBGPNextHopIPv6:
		return element{kNextHop6, sNextHop6, 1, wIPv6}, true
	case ieVLAN:
		return element{kVLAN, sVLAN, 0, wInt}, true
	case ieDot1qVLAN:
		return element{kVLAN, sVLAN, 1, wInt}, true
	case iePostVLAN:
		return element{kVLAN, sVLAN, 2, wInt}, true
	case ieDirection:
		return element{kDir, sDir, 0, wInt}, true
	case iePostNATSrcIPv4:
		return element{kNATSrc4, sNATSrc4, 0, wIPv4}, true
	case iePostNATDstIPv4:
		return element{kNATDst4, sNATDst4, 0, wIPv4}, true
	case iePostNATSrcIPv6:
		return element{kNATSrc6, sNATSrc6, 0, wIPv6}, true
	case iePostNATDstIPv6:
		return element{kNATDst6, sNATDst6, 0, wIPv6}, true
	case iePostNAPTSrcPort:
		return element{kNATSrcPort, sNATSrcPort, 0, wInt}, true
	case iePostNAPTDstPort:
		return element{kNATDstPort, sNATDstPort, 0, wInt}, true
	case ieNSELXlateSrc4:
		return element{kNATSrc4, sNATSrc4, 1, wIPv4}, true
	case ieNSELXlateDst4:
		return element{kNATDst4, sNATDst4, 1, wIPv4}, true
	case ieNSELXlateSrcPrt:
		return element{kNATSrcPort, sNATSrcPort, 1, wInt}, true
	case ieNSELXlateDstPrt:
		return element{kNATDstPort, sNATDstPort, 1, wInt}, true
	}
	return element{}, false
}

func timeOrSamplingElement(id uint16) element {
	switch id {
	case ieStartSysUpTime:
		return element{kStartUptime, sStartUptime, 0, wInt}
	case ieEndSysUpTime:
		return element{kEndUptime, sEndUptime, 0, wInt}
	case ieStartSeconds:
		return element{kStartSec, sStartSec, 0, wInt}
	case ieEndSeconds:
		return element{kEndSec, sEndSec, 0, wInt}
	case ieStartMillis:
		return element{kStartMs, sStartMs, 0, wInt}
	case ieEndMillis:
		return element{kEndMs, sEndMs, 0, wInt}
	case ieStartMicros:
		return element{kStartUs, sStartUs, 0, wInt}
	case ieEndMicros:
		return element{kEndUs, sEndUs, 0, wInt}
	case ieStartNanos:
		return element{kStartNs, sStartNs, 0, wInt}
	case ieEndNanos:
		return element{kEndNs, sEndNs, 0, wInt}
	case ieStartDeltaMicros:
		return element{kStartDeltaUs, sStartDeltaUs, 0, wInt}
	case ieEndDeltaMicros:
		return element{kEndDeltaUs, sEndDeltaUs, 0, wInt}
	case ieDurationMillis:
		return element{kDurMs, sDurMs, 0, wInt}
	case ieDurationMicros:
		return element{kDurUs, sDurUs, 0, wInt}
	case ieSamplerID:
		return element{kSamplerID, sSamplerID, 0, wInt}
	case ieSelectorID:
		return element{kSamplerID, sSamplerID, 1, wInt}
	case ieSamplingInterval:
		return element{kSamplingInterval, sSamplingInterval, 0, wInt}
	case ieSamplerRandom:
		return element{kSamplingInterval, sSamplingInterval, 1, wInt}
	case ieSamplingPktInterval:
		return element{kSamplingPktInterval, sSamplingPktInterval, 0, wInt}
	case ieSamplingPktSpace:
		return element{kSamplingSpace, sSamplingSpace, 0, wInt}
	case ieSamplingSize:
		return element{kSamplingSize, sSamplingSize, 0, wInt}
	case ieSamplingPopulation:
		return element{kSamplingPopulation, sSamplingPopulation, 0, wInt}
	case ieSystemInitMillis:
		return element{kSysInitMs, sSysInitMs, 0, wInt}
	// The time a packet or event was observed (finishTimes): a packet
	// report's (PSAMP, RFC 5476) start and end, or an NSEL event's time,
	// which ends a flow that has a start and no end.
	case ieObsMillis:
		return element{kObsMs, sObs, 0, wInt}
	case ieObsMicros:
		return element{kObsUs, sObs, 1, wInt}
	case ieObsNanos:
		return element{kObsNs, sObs, 2, wInt}
	case ieObsSeconds:
		return element{kObsSec, sObs, 3, wInt}
	case ieFirewallEvent:
		return element{kFwEvent, sFwEvent, 0, wInt}
	case ieNSELEvent84:
		return element{kFwEvent, sFwEvent, 1, wInt}
	// Packet sections: the flow keys a record lacks are read from them.
	case ieIPHeaderSection:
		return element{kIPSection, sSection, 1, wBytes}
	case ieDataLinkSection:
		return element{kLinkSection, sSection, 0, wBytes}
	}
	return element{}
}

// widthOK reports whether a field of length n (varLen for variable) can
// carry the element.
func (e element) widthOK(n uint16) bool {
	switch e.width {
	case wIPv4:
		return n == 4
	case wIPv6:
		return n == 16
	case wBytes:
		return true
	}
	return n >= 1 && n <= 8
}
