package netflow

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// fixedLayout is a NetFlow version whose records have a fixed layout: v1,
// v5 and v7. Their records share the first 40 bytes but for the TCP flags
// (v1 has them at 40, after the protocol and ToS); v5 and v7 add AS
// numbers and masks, v7 a router shortcut after them.
type fixedLayout struct {
	version            uint16
	header, record     int
	max                int  // records a packet may hold
	flagsAt            int  // offset of the TCP flags in a record
	hasAS              bool // AS numbers at 40 and 42
	hasSeq             bool // the header's flow sequence at 16 (flows sent before this packet)
	hasEngine, hasSamp bool // v5's engine type and id at 20-21, sampling at 22-23
}

var (
	layoutV1 = fixedLayout{version: 1, header: 16, record: 48, max: 24, flagsAt: 40}
	layoutV5 = fixedLayout{version: 5, header: v5HeaderLen, record: v5RecordLen, max: v5MaxRecords, flagsAt: 37,
		hasAS: true, hasSeq: true, hasEngine: true, hasSamp: true}
	layoutV7 = fixedLayout{version: 7, header: 24, record: 52, max: 28, flagsAt: 37, hasAS: true, hasSeq: true}
)

// NetFlow v5 layout.
const (
	v5HeaderLen  = 24
	v5RecordLen  = 48
	v5MaxRecords = 30
)

func fixedLayoutOf(version uint16) (fixedLayout, bool) {
	switch version {
	case 1:
		return layoutV1, true
	case 5:
		return layoutV5, true
	case 7:
		return layoutV7, true
	}
	return fixedLayout{}, false
}

// decodeFixedVersion decodes a NetFlow v1, v5 or v7 packet: a header and count
// records of a fixed length. The observation domain is engine_type<<8 |
// engine_id for v5, 0 otherwise. A count larger than the records present
// decodes the records present and warns.
func (d *Decoder) decodeFixedVersion(l fixedLayout, p Packet, info *PacketInfo, emit func(*flow.Record)) error {
	b := p.Payload
	if len(b) < l.header {
		return &DecodeError{Version: l.version, Reason: ErrTruncated, Got: len(b), Want: l.header}
	}
	be := binary.BigEndian
	count := int(be.Uint16(b[2:]))
	info.Version, info.HeaderCount = l.version, count
	info.SysUptime = be.Uint32(b[4:])
	info.ExportTime = int64(be.Uint32(b[8:]))*1e9 + int64(be.Uint32(b[12:]))
	if l.hasSeq {
		info.Sequence = be.Uint32(b[16:])
	}
	if l.hasEngine {
		info.Domain = uint32(b[20])<<8 | uint32(b[21])
	}
	if count == 0 || count > l.max {
		return &DecodeError{Version: l.version, Offset: 2, Reason: ErrHeader, Got: count, Want: l.max}
	}
	ctx := pktCtx{version: l.version, dk: DomainKey{exporterKey(p.Exporter), info.Domain},
		exportNs: info.ExportTime, sysUptime: info.SysUptime}
	if l.hasSamp {
		ctx.v5Sampling = uint32(be.Uint16(b[22:]) & 0x3fff)
	}
	n := min(count, (len(b)-l.header)/l.record)
	if n < count {
		info.Warnings |= WarnCountMismatch
		info.Skipped[ErrTruncated]++
	} else if len(b) > l.header+count*l.record {
		info.Warnings |= WarnTrailingBytes
	}
	from := SampledNone
	if ctx.v5Sampling > 0 {
		from = SampledHeader
	}
	for i := 0; i < n; i++ {
		off := l.header + i*l.record
		if fixedRecord(l, &ctx, b[off:off+l.record], &d.rec) {
			info.Skipped[ErrTimeInverted]++
		}
		info.Records++
		info.SamplingFrom[from]++
		emit(&d.rec)
	}
	return nil
}

// fixedRecord decodes one record; it reports whether the record's
// last-switched time preceded its first (End was set to Start).
func fixedRecord(l fixedLayout, ctx *pktCtx, b []byte, rec *flow.Record) (inverted bool) {
	be := binary.BigEndian
	*rec = flow.Record{
		SrcAddr:          netip.AddrFrom4([4]byte(b[0:4])),
		DstAddr:          netip.AddrFrom4([4]byte(b[4:8])),
		NextHop:          netip.AddrFrom4([4]byte(b[8:12])),
		InIf:             uint32(be.Uint16(b[12:])),
		OutIf:            uint32(be.Uint16(b[14:])),
		Packets:          uint64(be.Uint32(b[16:])),
		Bytes:            uint64(be.Uint32(b[20:])),
		Start:            uptimeToUnixNs(ctx.exportNs, ctx.sysUptime, be.Uint32(b[24:])),
		End:              uptimeToUnixNs(ctx.exportNs, ctx.sysUptime, be.Uint32(b[28:])),
		SrcPort:          be.Uint16(b[32:]),
		DstPort:          be.Uint16(b[34:]),
		TCPFlags:         b[l.flagsAt],
		Proto:            b[38],
		Exporter:         ctx.dk.Exporter.Addr,
		ObsDomain:        ctx.dk.Domain,
		SamplingInterval: max(ctx.v5Sampling, 1),
	}
	if l.hasAS {
		rec.SrcAS, rec.DstAS = uint32(be.Uint16(b[40:])), uint32(be.Uint16(b[42:]))
	}
	if flow.IsICMP(rec.Proto) {
		rec.ICMPFromPort()
	}
	if rec.End < rec.Start {
		rec.End = rec.Start
		return true
	}
	return false
}
