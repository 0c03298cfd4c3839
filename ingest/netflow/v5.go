package netflow

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// NetFlow v5 layout.
const (
	v5HeaderLen  = 24
	v5RecordLen  = 48
	v5MaxRecords = 30
)

// decodeV5 decodes a NetFlow v5 packet: a 24-byte header and count 48-byte
// records. The observation domain is engine_type<<8 | engine_id. A count
// larger than the records present decodes the records present and warns.
func (d *Decoder) decodeV5(p Packet, info *PacketInfo, emit func(*flow.Record)) error {
	b := p.Payload
	if len(b) < v5HeaderLen {
		return &DecodeError{Version: 5, Reason: ErrTruncated, Got: len(b), Want: v5HeaderLen}
	}
	count := int(binary.BigEndian.Uint16(b[2:]))
	info.Version, info.HeaderCount = 5, count
	info.SysUptime = binary.BigEndian.Uint32(b[4:])
	info.ExportTime = int64(binary.BigEndian.Uint32(b[8:]))*1e9 + int64(binary.BigEndian.Uint32(b[12:]))
	info.Sequence = binary.BigEndian.Uint32(b[16:])
	info.Domain = uint32(b[20])<<8 | uint32(b[21])
	if count == 0 || count > v5MaxRecords {
		return &DecodeError{Version: 5, Offset: 2, Reason: ErrHeader, Got: count, Want: v5MaxRecords}
	}
	ctx := pktCtx{version: 5, dk: DomainKey{exporterKey(p.Exporter), info.Domain},
		exportNs: info.ExportTime, sysUptime: info.SysUptime,
		v5Sampling: uint32(binary.BigEndian.Uint16(b[22:]) & 0x3fff)}
	n := min(count, (len(b)-v5HeaderLen)/v5RecordLen)
	if n < count {
		info.Warnings |= WarnCountMismatch
		info.Skipped[ErrTruncated]++
	} else if len(b) > v5HeaderLen+count*v5RecordLen {
		info.Warnings |= WarnTrailingBytes
	}
	for i := 0; i < n; i++ {
		off := v5HeaderLen + i*v5RecordLen
		if d.v5Record(&ctx, b[off:off+v5RecordLen], &d.rec) {
			info.Skipped[ErrTimeInverted]++
		}
		info.Records++
		info.SamplingFrom[d.v5SamplingSource(&ctx)]++
		emit(&d.rec)
	}
	return nil
}

func (d *Decoder) v5SamplingSource(ctx *pktCtx) int {
	if ctx.v5Sampling > 0 {
		return SampledHeader
	}
	return SampledNone
}

// v5Record decodes one 48-byte record; it reports whether the record's
// last-switched time preceded its first (End was set to Start).
func (d *Decoder) v5Record(ctx *pktCtx, b []byte, rec *flow.Record) (inverted bool) {
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
		TCPFlags:         b[37],
		Proto:            b[38],
		SrcAS:            uint32(be.Uint16(b[40:])),
		DstAS:            uint32(be.Uint16(b[42:])),
		Exporter:         ctx.dk.Exporter.Addr,
		ObsDomain:        ctx.dk.Domain,
		SamplingInterval: max(ctx.v5Sampling, 1),
	}
	if rec.Proto == flow.ProtoICMP || rec.Proto == flow.ProtoICMPv6 {
		rec.ICMPType, rec.ICMPCode = uint8(rec.DstPort>>8), uint8(rec.DstPort)
	}
	if rec.End < rec.Start {
		rec.End = rec.Start
		return true
	}
	return false
}
