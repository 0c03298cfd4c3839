package netflow

import (
	"encoding/binary"

	"github.com/flowcase/flowcase/internal/flow"
)

const ipfixHeaderLen = 16

// decodeIPFIX decodes an IPFIX message (RFC 7011). A message length beyond
// the payload (a snapped capture) decodes the sets present and stops with
// ErrTruncated at the first cut set.
func (d *Decoder) decodeIPFIX(p Packet, info *PacketInfo, emit func(*flow.Record)) error {
	b := p.Payload
	if len(b) < ipfixHeaderLen {
		return &DecodeError{Version: 10, Reason: ErrTruncated, Got: len(b), Want: ipfixHeaderLen}
	}
	length := int(binary.BigEndian.Uint16(b[2:]))
	info.Version, info.HeaderCount = 10, -1
	info.ExportTime = int64(binary.BigEndian.Uint32(b[4:])) * 1e9
	info.Sequence = binary.BigEndian.Uint32(b[8:])
	info.Domain = binary.BigEndian.Uint32(b[12:])
	switch {
	case length < ipfixHeaderLen:
		return &DecodeError{Version: 10, Offset: 2, Reason: ErrHeader, Got: length, Want: ipfixHeaderLen}
	case length > len(b):
		info.Warnings |= WarnTruncated
	case length < len(b):
		info.Warnings |= WarnTrailingBytes
		b = b[:length]
	}
	dk := DomainKey{exporterKey(p.Exporter), info.Domain}
	ctx := pktCtx{version: 10, dk: dk, exportNs: info.ExportTime, ds: d.Templates.domain(dk)}
	return d.walkSets(&ctx, &p, b, ipfixHeaderLen, info, emit)
}

// ipfixTemplates reads a template set (2) or options template set (3),
// including withdrawals (field count 0; template id 2 or 3 withdraws all
// templates of that kind in the domain).
func (d *Decoder) ipfixTemplates(ctx *pktCtx, body []byte, options bool, info *PacketInfo) {
	r := newReader(body)
	for r.left() >= setHeaderLen {
		rest := body[r.off:]
		id, n := r.u16(), int(r.u16())
		switch {
		case id == 0 && allZero(rest):
			return // padding (zeros: not a withdrawal of template 0, which cannot be)
		case n == 0:
			d.withdraw(ctx, info, id, options)
			continue
		case id < minDataSetID:
			info.Skipped[ErrBadTemplate]++
			return
		}
		scope := 0
		if options {
			scope = int(r.u16())
		}
		if !d.ipfixFields(&r, n) || (options && (scope == 0 || scope > n)) {
			info.Skipped[ErrBadTemplate]++
			return
		}
		d.learn(ctx, info, id, options, scope)
	}
}

// ipfixFields reads n field specifiers (enterprise bit: a 4-byte PEN
// follows) into d.fields; each takes at least 4 bytes, so n is bounded by
// the bytes present before anything is stored.
func (d *Decoder) ipfixFields(r *reader, n int) bool {
	d.fields = d.fields[:0]
	if n*4 > r.left() {
		return false
	}
	for i := 0; i < n && !r.failed(); i++ {
		f := Field{ID: r.u16(), Length: r.u16()}
		if f.ID&0x8000 != 0 {
			f.ID &= 0x7fff
			f.PEN = r.u32()
		}
		d.fields = append(d.fields, f)
	}
	return !r.failed()
}

func (d *Decoder) withdraw(ctx *pktCtx, info *PacketInfo, id uint16, options bool) {
	info.TemplateRecords++
	switch {
	case id == ipfixTemplateSet && !options, id == ipfixOptionsSet && options:
		info.TemplatesWithdrawn += d.Templates.withdrawAll(ctx.dk, 10, options)
	case id >= minDataSetID:
		if d.Templates.withdraw(TemplateKey{ctx.dk.Exporter, ctx.dk.Domain, id, 10}) {
			info.TemplatesWithdrawn++
		}
	default:
		info.Skipped[ErrBadTemplate]++
	}
}
