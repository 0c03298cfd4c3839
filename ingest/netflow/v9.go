package netflow

import (
	"encoding/binary"

	"github.com/flowcase/flowcase/internal/flow"
)

const (
	v9HeaderLen      = 20
	setHeaderLen     = 4
	v9TemplateSet    = 0
	v9OptionsSet     = 1
	minDataSetID     = 256
	ipfixTemplateSet = 2
	ipfixOptionsSet  = 3
)

// decodeV9 decodes a NetFlow v9 packet (RFC 3954). FlowSets are walked by
// their length fields; the header count is only compared (softflowd leaves
// template records out of it).
func (d *Decoder) decodeV9(p Packet, info *PacketInfo, emit func(*flow.Record)) error {
	b := p.Payload
	if len(b) < v9HeaderLen {
		return &DecodeError{Version: 9, Reason: ErrTruncated, Got: len(b), Want: v9HeaderLen}
	}
	info.Version = 9
	info.HeaderCount = int(binary.BigEndian.Uint16(b[2:]))
	info.SysUptime = binary.BigEndian.Uint32(b[4:])
	info.ExportTime = int64(binary.BigEndian.Uint32(b[8:])) * 1e9
	info.Sequence = binary.BigEndian.Uint32(b[12:])
	info.Domain = binary.BigEndian.Uint32(b[16:])
	dk := DomainKey{exporterKey(p.Exporter), info.Domain}
	ctx := pktCtx{version: 9, dk: dk, exportNs: info.ExportTime, sysUptime: info.SysUptime,
		ds: d.Templates.domain(dk)}
	err := d.walkSets(&ctx, &p, b, v9HeaderLen, info, emit)
	found := info.TemplateRecords + info.Records + info.OptionsRecords
	if err == nil && len(d.parked) == 0 && found != info.HeaderCount {
		info.Warnings |= WarnCountMismatch
	}
	return err
}

// walkSets walks the sets of a v9 packet or IPFIX message from off to the
// end of b. A set with an impossible length stops the walk. Zeros after the
// last set are padding, however many (Palo Alto's PAN-OS sends one data
// FlowSet in a large zero-filled packet); other bytes too few for a set
// header are a warning.
func (d *Decoder) walkSets(ctx *pktCtx, p *Packet, b []byte, off int, info *PacketInfo, emit func(*flow.Record)) error {
	for off < len(b) {
		if b[off] == 0 && allZero(b[off:]) {
			return nil
		}
		if len(b)-off < setHeaderLen {
			info.Warnings |= WarnTrailingBytes
			return nil
		}
		id := binary.BigEndian.Uint16(b[off:])
		length := int(binary.BigEndian.Uint16(b[off+2:]))
		if length < setHeaderLen || length > len(b)-off {
			return d.setLengthError(ctx, info, off, id, length, len(b)-off)
		}
		body := b[off+setHeaderLen : off+length]
		switch {
		case id >= minDataSetID:
			if t := d.Templates.Get(TemplateKey{ctx.dk.Exporter, ctx.dk.Domain, id, ctx.version}); t != nil {
				d.decodeData(ctx, t, body, info, emit)
			} else {
				d.park(ctx, p, info, id, off, length)
			}
		case ctx.version == 9 && (id == v9TemplateSet || id == v9OptionsSet):
			d.v9Templates(ctx, body, id == v9OptionsSet, info)
		case ctx.version == 10 && (id == ipfixTemplateSet || id == ipfixOptionsSet):
			d.ipfixTemplates(ctx, body, id == ipfixOptionsSet, info)
		default:
			info.Skipped[ErrReservedSet]++
		}
		off += length
	}
	return nil
}

func (d *Decoder) setLengthError(ctx *pktCtx, info *PacketInfo, off int, id uint16, length, avail int) error {
	reason, want := ErrSetLength, avail
	switch {
	case length < setHeaderLen:
		want = setHeaderLen
	case info.Warnings&WarnTruncated != 0:
		reason = ErrTruncated
	}
	info.Skipped[reason]++
	return &DecodeError{Version: ctx.version, Offset: off, SetID: id, Reason: reason, Got: length, Want: want}
}

// v9Templates reads a template FlowSet (id 0) or an options template
// FlowSet (id 1). A malformed template stops the FlowSet (its length is
// not trustworthy), templates before it are kept.
func (d *Decoder) v9Templates(ctx *pktCtx, body []byte, options bool, info *PacketInfo) {
	r := newReader(body)
	for r.left() >= setHeaderLen {
		rest := body[r.off:]
		id := r.u16()
		if id == 0 && allZero(rest) {
			return // padding
		}
		var scope int
		var ok bool
		if options {
			scope, ok = d.v9OptionsFields(&r)
		} else {
			ok = d.v9Fields(&r, int(r.u16()))
		}
		if !ok || id < minDataSetID {
			info.Skipped[ErrBadTemplate]++
			return
		}
		d.learn(ctx, info, id, options, scope)
	}
}

// v9Fields reads n (type, length) field specifiers into d.fields.
func (d *Decoder) v9Fields(r *reader, n int) bool {
	d.fields = d.fields[:0]
	if n == 0 || n*4 > r.left() {
		return false
	}
	for i := 0; i < n; i++ {
		d.fields = append(d.fields, Field{ID: r.u16(), Length: r.u16()})
	}
	return !r.failed()
}

// v9OptionsFields reads an options template after its id: scope and
// option lengths in bytes, then the scope and option field specifiers.
func (d *Decoder) v9OptionsFields(r *reader) (int, bool) {
	scopeLen, optLen := int(r.u16()), int(r.u16())
	if r.failed() || scopeLen%4 != 0 || optLen%4 != 0 {
		return 0, false
	}
	return scopeLen / 4, d.v9Fields(r, (scopeLen+optLen)/4)
}

// learn stores the template in d.fields and counts the outcome.
func (d *Decoder) learn(ctx *pktCtx, info *PacketInfo, id uint16, options bool, scope int) {
	info.TemplateRecords++
	key := TemplateKey{ctx.dk.Exporter, ctx.dk.Domain, id, ctx.version}
	changed, reason := d.Templates.learn(key, options, scope, d.fields)
	switch {
	case reason != reasonNone:
		info.Skipped[reason]++
	case changed:
		info.TemplatesLearned++
	}
}
