package nfgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// v5Records appends NetFlow v5 records (at most 30 in a packet).
func (p *Packet) v5Records(recs []flow.Record) {
	if p.flows+len(recs) > v5MaxRecords {
		p.fail(fmt.Errorf("cannot add %d v5 records to %d: %w: at most %d", len(recs), p.flows, ErrTooLarge, v5MaxRecords))
		return
	}
	for i := range recs {
		var err error
		if p.b, err = v5Record(p.b, &p.clk, &recs[i]); err != nil {
			p.fail(fmt.Errorf("v5 record %d: %w", i, err))
			return
		}
	}
	p.flows += len(recs)
}

// v5Record appends one 48-byte record; every value must fit its field.
func v5Record(b []byte, clk *clock, r *flow.Record) ([]byte, error) {
	be := binary.BigEndian
	for _, a := range []netip.Addr{r.SrcAddr, r.DstAddr, r.NextHop} {
		if a.IsValid() && !a.Is4() {
			return b, fmt.Errorf("%w: v5 address %s", ErrValue, a)
		}
	}
	switch {
	case r.InIf > 0xffff || r.OutIf > 0xffff || r.SrcAS > 0xffff || r.DstAS > 0xffff:
		return b, fmt.Errorf("%w: v5 interfaces %d/%d, AS %d/%d above 65535", ErrValue, r.InIf, r.OutIf, r.SrcAS, r.DstAS)
	case r.Bytes > 0xffffffff || r.Packets > 0xffffffff:
		return b, fmt.Errorf("%w: v5 counters %d bytes %d packets above 2^32-1", ErrValue, r.Bytes, r.Packets)
	}
	first, err1 := exact(r.Start, 1e6)
	last, err2 := exact(r.End, 1e6)
	if err1 != nil || err2 != nil {
		return b, fmt.Errorf("v5 times: %w", ErrValue)
	}
	b = append(b, addr4(r.SrcAddr)...)
	b = append(b, addr4(r.DstAddr)...)
	b = append(b, addr4(r.NextHop)...)
	b = be.AppendUint16(b, uint16(r.InIf))
	b = be.AppendUint16(b, uint16(r.OutIf))
	b = be.AppendUint32(b, uint32(r.Packets))
	b = be.AppendUint32(b, uint32(r.Bytes))
	b = be.AppendUint32(b, uint32(first-clk.bootMs))
	b = be.AppendUint32(b, uint32(last-clk.bootMs))
	b = be.AppendUint16(b, r.SrcPort)
	b = be.AppendUint16(b, r.DstPort)
	b = append(b, 0, r.TCPFlags, r.Proto, 0) // pad1, flags, protocol, tos
	b = be.AppendUint16(b, uint16(r.SrcAS))
	b = be.AppendUint16(b, uint16(r.DstAS))
	return append(b, 0, 0, 0, 0), nil // masks, pad2
}

func addr4(a netip.Addr) []byte {
	if !a.Is4() {
		return []byte{0, 0, 0, 0}
	}
	v := a.As4()
	return v[:]
}

// v5Header fills the 24-byte header.
func (p *Packet) v5Header() {
	be, e := binary.BigEndian, p.e
	be.PutUint16(p.b[0:], 5)
	be.PutUint16(p.b[2:], uint16(p.flows))
	be.PutUint32(p.b[4:], p.clk.sysUptime)
	be.PutUint32(p.b[8:], uint32(p.clk.exportNs/1e9))
	be.PutUint32(p.b[12:], uint32(p.clk.exportNs%1e9))
	be.PutUint32(p.b[16:], e.Sequence)
	p.b[20], p.b[21] = byte(e.Domain>>8), byte(e.Domain)
	var sampling uint16
	if e.Sampling&0x3fff != 0 {
		sampling = 1<<14 | e.Sampling&0x3fff // mode 1: packet interval
	}
	be.PutUint16(p.b[22:], sampling)
}
