package netflow

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// scratch holds the raw values of one record that need the whole record
// (times, sampling) before they mean anything. Only values whose bit is set
// in has are valid, so resetting a record costs one store.
type scratch struct {
	has     uint64 // 1 << kind
	v       [numKinds]uint64
	section []byte // kIPSection or kLinkSection (has says which); valid while the record is finished
}

func (s *scratch) get(k kind) (uint64, bool) { return s.v[k], s.has&(1<<k) != 0 }

// walkRecord finds the fields of one record of template t (which has
// variable-length fields) at the front of b, appending the decoded ones
// with their offsets in b to ops. It returns ops, the record's length, or
// ok=false when b ends inside the record.
func walkRecord(t *Template, b []byte, ops []fieldOp) ([]fieldOp, int, bool) {
	off := 0
	for _, o := range t.ops {
		n := int(o.len)
		if o.len == varLen {
			if off >= len(b) {
				return ops, 0, false
			}
			n = int(b[off])
			off++
			if n == 255 {
				if len(b)-off < 2 {
					return ops, 0, false
				}
				n = int(binary.BigEndian.Uint16(b[off:]))
				off += 2
			}
		}
		if n > len(b)-off {
			return ops, 0, false
		}
		if o.kind != kSkip {
			ops = append(ops, fieldOp{kind: o.kind, off: uint32(off), end: uint32(off + n)})
		}
		off += n
	}
	return ops, off, true
}

// applyFields stores the fields ops locates in b. Widths were checked when
// the template was compiled: addresses are exactly 4 or 16 bytes, integers
// 1..8.
func applyFields(ops []fieldOp, b []byte, rec *flow.Record, sc *scratch) {
	for _, o := range ops {
		v := b[o.off:o.end]
		switch o.kind {
		case kSrc4:
			setAddr(&rec.SrcAddr, addr4(v))
		case kDst4:
			setAddr(&rec.DstAddr, addr4(v))
		case kSrc6:
			setAddr(&rec.SrcAddr, addr6(v))
		case kDst6:
			setAddr(&rec.DstAddr, addr6(v))
		case kSrcPort:
			setPort(&rec.SrcPort, v)
		case kDstPort:
			setPort(&rec.DstPort, v)
		case kProto:
			rec.Proto = uint8(beUint(v))
		case kTCPFlags:
			rec.TCPFlags = uint8(beUint(v))
		case kBytes:
			rec.Bytes = beUint(v)
		case kPackets:
			rec.Packets = beUint(v)
		case kRevBytes:
			rec.RevBytes = beUint(v)
		case kRevPackets:
			rec.RevPackets = beUint(v)
		case kInIf:
			rec.InIf = uint32(beUint(v))
		case kOutIf:
			rec.OutIf = uint32(beUint(v))
		case kSrcAS:
			rec.SrcAS = uint32(beUint(v))
		case kDstAS:
			rec.DstAS = uint32(beUint(v))
		case kNextHop4:
			setAddr(&rec.NextHop, addr4(v))
		case kStartUptime, kEndUptime, kStartMs, kEndMs:
			sc.v[o.kind] = beUint(v)
			sc.has |= 1 << o.kind
		default:
			applyMore(o.kind, v, rec, sc)
		}
	}
}

// applyMore stores the fields that applyFields leaves to it: rarer record
// fields, and the values that go through scratch.
func applyMore(k kind, v []byte, rec *flow.Record, sc *scratch) {
	switch k {
	case kNextHop6:
		setAddr(&rec.NextHop, addr6(v))
	case kVLAN:
		rec.VLAN = uint16(beUint(v))
	case kDir:
		switch beUint(v) {
		case 0:
			rec.Dir = flow.DirIngress
		case 1:
			rec.Dir = flow.DirEgress
		}
	case kNATSrc4:
		setAddr(&rec.NATSrcAddr, addr4(v))
	case kNATDst4:
		setAddr(&rec.NATDstAddr, addr4(v))
	case kNATSrc6:
		setAddr(&rec.NATSrcAddr, addr6(v))
	case kNATDst6:
		setAddr(&rec.NATDstAddr, addr6(v))
	case kNATSrcPort:
		rec.NATSrcPort = uint16(beUint(v))
	case kNATDstPort:
		rec.NATDstPort = uint16(beUint(v))
	case kIPSection, kLinkSection:
		sc.section = v
		sc.has |= 1 << k
	case kICMPTypeCode, kICMPType, kICMPCode:
		// IPv4's element and IPv6's: the one of the other family is zero.
		if x := beUint(v); x != 0 || sc.has&(1<<k) == 0 {
			sc.v[k] = x
			sc.has |= 1 << k
		}
	default:
		// times, counters and ICMP go through scratch: their meaning
		// depends on the decoder's options and on other fields.
		sc.v[k] = beUint(v)
		sc.has |= 1 << k
	}
}

// setPort stores a port from the general, UDP or TCP element: a template
// may carry several, the ones that do not apply to the record left at
// zero, so a non-zero port wins.
func setPort(dst *uint16, v []byte) {
	if p := uint16(beUint(v)); p != 0 {
		*dst = p
	}
}

// setAddr stores an address unless it would hide a better one: templates
// that carry both IPv4 and IPv6 fields fill the unused family with zeros,
// so a non-zero address wins over an unspecified one, and an unspecified
// IPv4 address over an unspecified IPv6 one.
func setAddr(dst *netip.Addr, a netip.Addr) {
	if !dst.IsValid() || !a.IsUnspecified() || (a.Is4() && dst.Is6() && dst.IsUnspecified()) {
		*dst = a
	}
}

// pktCtx is what a data set needs from its export packet.
type pktCtx struct {
	version    uint16
	dk         DomainKey
	exportNs   int64  // header unix time, ns
	sysUptime  uint32 // v5/v9 header, ms
	v5Sampling uint32
	ds         *domainState // options state of the domain, nil if none yet
}

// Sampling sources counted in PacketInfo.SamplingFrom.
const (
	SampledNone    = iota // no sampling information: interval 1
	SampledRecord         // the data record carried its own interval
	SampledOptions        // options data of the exporter and domain
	SampledHeader         // the v5 header's sampling interval field
	numSamplingSources
)

// finishFlow turns the scratch values into record fields.
func (d *Decoder) finishFlow(ctx *pktCtx, rec *flow.Record, sc *scratch, info *PacketInfo) {
	rec.Exporter = ctx.dk.Exporter.Addr
	rec.ObsDomain = ctx.dk.Domain
	d.finishCounters(rec, sc)
	finishICMP(rec, sc)
	if sc.has&(1<<kIPSection|1<<kLinkSection) != 0 {
		fromSection(rec, sc.section, sc.has&(1<<kLinkSection) != 0)
	}
	finishTimes(ctx, rec, sc, info)
	if sc.has&(1<<kFwEvent) != 0 {
		info.FirewallEvents[min(sc.v[kFwEvent], FirewallOther)]++
	}
	rate, from := recordSampling(sc), SampledRecord
	if rate == 0 && ctx.ds != nil {
		id, hasID := sc.get(kSamplerID)
		rate, from = ctx.ds.interval(id, hasID, rec.InIf, rec.OutIf), SampledOptions
	}
	if rate == 0 && ctx.v5Sampling != 0 {
		rate, from = ctx.v5Sampling, SampledHeader
	}
	if rate == 0 {
		rate, from = 1, SampledNone
	}
	rec.SamplingInterval = rate
	info.SamplingFrom[from]++
}

func (d *Decoder) finishCounters(rec *flow.Record, sc *scratch) {
	if sc.has&(1<<kPostBytes|1<<kPostPackets) == 0 {
		return
	}
	b, hasB := sc.get(kPostBytes)
	p, hasP := sc.get(kPostPackets)
	if !d.OutBytesReverse {
		rec.PostBytes, rec.PostPackets = b, p
		return
	}
	if hasB && rec.RevBytes == 0 {
		rec.RevBytes = b
	}
	if hasP && rec.RevPackets == 0 {
		rec.RevPackets = p
	}
}

// finishICMP sets ICMP type and code from the ICMP elements, or, for ICMP
// flows without them, from the destination port (type<<8 | code, the
// convention of v5 and most v9 exporters).
func finishICMP(rec *flow.Record, sc *scratch) {
	const icmpKinds = 1<<kICMPTypeCode | 1<<kICMPType | 1<<kICMPCode
	if sc.has&icmpKinds == 0 {
		if flow.IsICMP(rec.Proto) {
			rec.ICMPFromPort()
		}
		return
	}
	if tc, ok := sc.get(kICMPTypeCode); ok {
		rec.ICMPType, rec.ICMPCode = uint8(tc>>8), uint8(tc)
	}
	if t, ok := sc.get(kICMPType); ok {
		rec.ICMPType = uint8(t)
	}
	if c, ok := sc.get(kICMPCode); ok {
		rec.ICMPCode = uint8(c)
	}
}

// recordSampling returns the sampling interval a record states about
// itself (or an options record about its sampler), 0 if none.
func recordSampling(sc *scratch) uint32 {
	const samplingKinds = 1<<kSamplingInterval | 1<<kSamplingPktInterval | 1<<kSamplingSize
	if sc.has&samplingKinds == 0 {
		return 0
	}
	if v, ok := sc.get(kSamplingInterval); ok && v > 0 {
		return clampU32(v)
	}
	if i, ok := sc.get(kSamplingPktInterval); ok && i > 0 {
		s, _ := sc.get(kSamplingSpace)
		return clampU32((i + s) / i)
	}
	if n, ok := sc.get(kSamplingSize); ok && n > 0 {
		if pop, ok := sc.get(kSamplingPopulation); ok && pop >= n {
			return clampU32(pop / n)
		}
	}
	return 0
}

func clampU32(v uint64) uint32 {
	if v > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(v)
}

// applyOptions stores what an options data record says about its domain.
func (d *Decoder) applyOptions(ctx *pktCtx, sc *scratch, info *PacketInfo) {
	rate := recordSampling(sc)
	id, hasID := sc.get(kSamplerID)
	if ifx, scoped := sc.get(kScopeIf); scoped && !hasID && ifx != 0 {
		id, hasID = ifSampler|ifx&(ifSampler-1), true // the sampling of one interface
	}
	initMs, hasInit := sc.get(kSysInitMs)
	_, statesRate := sc.get(kSamplingInterval)
	if rate == 0 && statesRate {
		info.Skipped[ErrBadOptions]++
	}
	if rate == 0 && !hasInit {
		return
	}
	s := ctx.ds
	if s == nil || optionsChange(s, rate, id, hasID, int64(initMs), hasInit) {
		if s = d.Templates.domainForUpdate(ctx.dk); s == nil {
			info.Skipped[ErrTooManyTemplates]++ // no room for a new domain (MaxBytes)
			return
		}
		ctx.ds = s
	}
	if hasInit {
		s.sysInitMs, s.hasInit = int64(initMs), true
	}
	switch {
	case rate != 0 && hasID:
		if !d.Templates.setSampler(s, id, rate) {
			info.Skipped[ErrTooManyTemplates]++
		}
	case rate != 0:
		s.defInterval = rate
	}
}

func optionsChange(s *domainState, rate uint32, id uint64, hasID bool, initMs int64, hasInit bool) bool {
	if hasInit && (!s.hasInit || s.sysInitMs != initMs) {
		return true
	}
	if rate == 0 {
		return false
	}
	if !hasID {
		return s.defInterval != rate
	}
	v := s.sampler(id)
	return v == 0 || v != rate
}
