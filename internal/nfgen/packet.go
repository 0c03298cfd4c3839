package nfgen

import (
	"encoding/binary"
	"fmt"

	"github.com/flowcase/flowcase/internal/flow"
)

// Header and set layout.
const (
	v9HeaderLen    = 20
	ipfixHeaderLen = 16
	v5HeaderLen    = 24
	v5RecordLen    = 48
	v5MaxRecords   = 30
	setHeaderLen   = 4
	// maxPayload is the largest UDP payload over IPv4 (and the IPFIX
	// message length limit).
	maxPayload = 65535 - 20 - 8
)

// Set ids.
const (
	v9TemplateSet    = 0
	v9OptionsSet     = 1
	ipfixTemplateSet = 2
	ipfixOptionsSet  = 3
)

// Packet is an export packet being built: Begin, then sets in order, then
// Bytes. The first error sticks and is returned by Bytes.
type Packet struct {
	e     *Exporter
	clk   clock
	b     []byte
	flows int // flow data records
	opts  int // options data records
	tmpls int // template records (withdrawals included)
	err   error
}

// clock is the export time as the packet's header states it.
type clock struct {
	exportNs  int64  // header time as a decoder reads it (v9/IPFIX: whole seconds; v5: milliseconds)
	bootMs    int64  // Exporter.Boot in ms
	sysUptime uint32 // v5/v9 header uptime, ms
}

// Begin starts a packet exported at now (unix ns).
func (e *Exporter) Begin(now int64) *Packet {
	return e.begin(now, nil)
}

func (e *Exporter) begin(now int64, buf []byte) *Packet {
	p := &Packet{e: e, b: buf[:0]}
	p.clk.bootMs = floorDiv(e.Boot, 1e6)
	switch e.Version {
	case 5:
		p.clk.exportNs = floorDiv(now, 1e6) * 1e6
		p.b = append(p.b, make([]byte, v5HeaderLen)...)
	case 9:
		p.clk.exportNs = floorDiv(now, 1e9) * 1e9
		p.b = append(p.b, make([]byte, v9HeaderLen)...)
	case 10:
		p.clk.exportNs = floorDiv(now, 1e9) * 1e9
		p.b = append(p.b, make([]byte, ipfixHeaderLen)...)
	default:
		p.err = fmt.Errorf("cannot make a v%d packet: %w", e.Version, ErrVersion)
	}
	p.clk.sysUptime = uint32(p.clk.exportNs/1e6 - p.clk.bootMs)
	if now < 0 || now/1e9 > 1<<32-1 {
		p.fail(fmt.Errorf("cannot export at %d: %w: want 1970 to 2106", now, ErrValue))
	}
	return p
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (p *Packet) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Templates adds the defined templates ids (every defined one when none
// is given) in a template set, options templates in an options template
// set; consecutive templates of one kind share a set.
func (p *Packet) Templates(ids ...uint16) *Packet {
	if p.err != nil {
		return p
	}
	if p.e.Version == 5 {
		p.fail(fmt.Errorf("cannot send templates in v5: %w", ErrVersion))
		return p
	}
	if len(ids) == 0 {
		ids = p.e.Defined()
	}
	start, kind := -1, false
	for _, id := range ids {
		t, err := p.e.template(id)
		if err != nil {
			p.fail(err)
			return p
		}
		if start < 0 || kind != t.options() {
			p.endSet(start, p.e.Version == 9)
			start, kind = p.beginSet(p.templateSetID(t.options())), t.options()
		}
		p.appendTemplate(t)
	}
	p.endSet(start, p.e.Version == 9)
	return p
}

func (p *Packet) templateSetID(options bool) uint16 {
	switch {
	case p.e.Version == 9 && options:
		return v9OptionsSet
	case p.e.Version == 9:
		return v9TemplateSet
	case options:
		return ipfixOptionsSet
	}
	return ipfixTemplateSet
}

// beginSet appends a set header (its length is filled by endSet).
func (p *Packet) beginSet(id uint16) int {
	start := len(p.b)
	p.b = binary.BigEndian.AppendUint16(p.b, id)
	p.b = append(p.b, 0, 0)
	return start
}

// endSet pads the set to 4 bytes (v9 FlowSets, when pad) and writes its
// length; start < 0 means no set is open.
func (p *Packet) endSet(start int, pad bool) {
	if start < 0 {
		return
	}
	for pad && (len(p.b)-start)%4 != 0 {
		p.b = append(p.b, 0)
	}
	n := len(p.b) - start
	if n > 65535 {
		p.fail(fmt.Errorf("cannot end set: %w: %d bytes", ErrTooLarge, n))
		return
	}
	binary.BigEndian.PutUint16(p.b[start+2:], uint16(n))
}

func (p *Packet) appendTemplate(t *compiled) {
	be := binary.BigEndian
	p.tmpls++
	p.b = be.AppendUint16(p.b, t.ID)
	switch {
	case p.e.Version == 9 && t.options():
		p.b = be.AppendUint16(p.b, uint16(4*t.Scope))
		p.b = be.AppendUint16(p.b, uint16(4*(len(t.Fields)-t.Scope)))
	case t.options():
		p.b = be.AppendUint16(p.b, uint16(len(t.Fields)))
		p.b = be.AppendUint16(p.b, uint16(t.Scope))
	default:
		p.b = be.AppendUint16(p.b, uint16(len(t.Fields)))
	}
	for _, f := range t.Fields {
		if f.PEN != 0 {
			p.b = be.AppendUint16(p.b, f.ID|0x8000)
			p.b = be.AppendUint16(p.b, f.Length)
			p.b = be.AppendUint32(p.b, f.PEN)
			continue
		}
		p.b = be.AppendUint16(p.b, f.ID)
		p.b = be.AppendUint16(p.b, f.Length)
	}
}

// Withdraw adds IPFIX template withdrawals for ids (RFC 7011 section
// 8.1): in an options template set for a defined options template, else
// in a template set. The exporter forgets them. Id 2 (3) withdraws every
// (options) template of the domain: WithdrawAll.
func (p *Packet) Withdraw(ids ...uint16) *Packet {
	if p.err != nil {
		return p
	}
	if p.e.Version != 10 {
		p.fail(fmt.Errorf("cannot withdraw templates in v%d: %w", p.e.Version, ErrVersion))
		return p
	}
	for _, id := range ids {
		options := id == ipfixOptionsSet
		if t := p.e.templates[id]; t != nil {
			options = t.options()
		}
		start := p.beginSet(p.templateSetID(options))
		p.b = binary.BigEndian.AppendUint16(p.b, id)
		p.b = append(p.b, 0, 0)
		p.tmpls++
		p.endSet(start, false)
		p.e.Forget(id)
	}
	return p
}

// WithdrawAll withdraws every data template (options: every options
// template) of the exporter's domain, and forgets them.
func (p *Packet) WithdrawAll(options bool) *Packet {
	id := uint16(ipfixTemplateSet)
	if options {
		id = ipfixOptionsSet
	}
	p.Withdraw(id)
	if p.err == nil {
		for _, x := range p.e.Defined() {
			if p.e.templates[x].options() == options {
				p.e.Forget(x)
			}
		}
	}
	return p
}

// Data adds a data set of template id holding recs (v5: the records,
// id ignored).
func (p *Packet) Data(id uint16, recs ...flow.Record) *Packet {
	if p.err != nil {
		return p
	}
	if p.e.Version == 5 {
		p.v5Records(recs)
		return p
	}
	t, err := p.e.template(id)
	if err != nil {
		p.fail(err)
		return p
	}
	if t.options() {
		p.fail(fmt.Errorf("cannot send flows with options template %d: %w", id, ErrTemplate))
		return p
	}
	start := p.beginSet(id)
	for i := range recs {
		if p.b, err = p.appendRecord(p.b, t, &recs[i]); err != nil {
			p.fail(fmt.Errorf("record %d: %w", i, err))
			return p
		}
	}
	p.flows += len(recs)
	p.endSet(start, p.e.Version == 9)
	return p
}

// Options adds an options data set of options template id: one record
// per values slice, holding a value per field in template order (a nil or
// short slice takes the remaining fields' Field.Value).
func (p *Packet) Options(id uint16, values ...[]uint64) *Packet {
	if p.err != nil {
		return p
	}
	t, err := p.e.template(id)
	if err != nil {
		p.fail(err)
		return p
	}
	if !t.options() {
		p.fail(fmt.Errorf("cannot send options data with template %d: %w", id, ErrTemplate))
		return p
	}
	start := p.beginSet(id)
	for i, vals := range values {
		for j, f := range t.Fields {
			v := f.Value
			if j < len(vals) {
				v = vals[j]
			}
			if p.b, err = appendField(p.b, f, v); err != nil {
				p.fail(fmt.Errorf("options record %d field %d: %w", i, f.ID, err))
				return p
			}
		}
	}
	p.opts += len(values)
	p.endSet(start, p.e.Version == 9)
	return p
}

// Bytes finishes the header (count or length, sequence) and returns the
// packet; the exporter's sequence number moves on.
func (p *Packet) Bytes() ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	if len(p.b) > maxPayload {
		return nil, fmt.Errorf("cannot finish packet: %w: %d bytes, want at most %d", ErrTooLarge, len(p.b), maxPayload)
	}
	e, be := p.e, binary.BigEndian
	switch e.Version {
	case 5:
		if p.flows == 0 {
			return nil, fmt.Errorf("cannot finish v5 packet: %w: no records", ErrValue)
		}
		p.v5Header()
		e.Sequence += uint32(p.flows)
	case 9:
		count := p.flows + p.opts + p.tmpls
		if e.SoftflowdCount {
			count = p.flows
		}
		be.PutUint16(p.b[0:], 9)
		be.PutUint16(p.b[2:], uint16(count))
		be.PutUint32(p.b[4:], p.clk.sysUptime)
		be.PutUint32(p.b[8:], uint32(p.clk.exportNs/1e9))
		be.PutUint32(p.b[12:], e.Sequence)
		be.PutUint32(p.b[16:], e.Domain)
		e.Sequence++
	case 10:
		seq, next := e.Sequence, e.Sequence+uint32(p.flows+p.opts)
		if e.SoftflowdSequence {
			seq, next = e.Sequence+uint32(p.flows), e.Sequence+uint32(p.flows)
		}
		be.PutUint16(p.b[0:], 10)
		be.PutUint16(p.b[2:], uint16(len(p.b)))
		be.PutUint32(p.b[4:], uint32(p.clk.exportNs/1e9))
		be.PutUint32(p.b[8:], seq)
		be.PutUint32(p.b[12:], e.Domain)
		e.Sequence = next
	}
	return p.b, nil
}
