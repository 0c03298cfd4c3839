package netflow

import (
	"encoding/binary"
	"net/netip"
)

// Builders for hand-made export packets (tests and fuzz seeds).

type pkt struct{ b []byte }

func (p *pkt) u8(v uint8) *pkt   { p.b = append(p.b, v); return p }
func (p *pkt) u16(v uint16) *pkt { p.b = binary.BigEndian.AppendUint16(p.b, v); return p }
func (p *pkt) u32(v uint32) *pkt { p.b = binary.BigEndian.AppendUint32(p.b, v); return p }
func (p *pkt) u64(v uint64) *pkt { p.b = binary.BigEndian.AppendUint64(p.b, v); return p }
func (p *pkt) raw(b ...byte) *pkt {
	p.b = append(p.b, b...)
	return p
}
func (p *pkt) addr(s string) *pkt { return p.raw(netip.MustParseAddr(s).AsSlice()...) }

// set appends a set/FlowSet with its header; body builds the content.
func (p *pkt) set(id uint16, body func(*pkt)) *pkt {
	start := len(p.b)
	p.u16(id).u16(0)
	body(p)
	binary.BigEndian.PutUint16(p.b[start+2:], uint16(len(p.b)-start))
	return p
}

func v9Header(count uint16, uptime, secs, seq, source uint32) *pkt {
	return (&pkt{}).u16(9).u16(count).u32(uptime).u32(secs).u32(seq).u32(source)
}

func ipfixHeader(secs, seq, domain uint32) *pkt {
	return (&pkt{}).u16(10).u16(0).u32(secs).u32(seq).u32(domain)
}

// done fixes the IPFIX message length.
func (p *pkt) done() []byte {
	if binary.BigEndian.Uint16(p.b) == 10 {
		binary.BigEndian.PutUint16(p.b[2:], uint16(len(p.b)))
	}
	return p.b
}

// fields appends (id, length) pairs; an id above 0x7fff... is written as
// given, PENs are appended by the caller.
func (p *pkt) fields(f ...uint16) *pkt {
	for _, v := range f {
		p.u16(v)
	}
	return p
}

var testExporter = Exporter{Addr: netip.MustParseAddr("192.0.2.1"), Port: 2055}

// v9Flow is the template used by the v9 tests: src, dst, ports, proto,
// flags, bytes, packets, first, last, in/out if.
var v9FlowTemplate = []uint16{
	ieSrcIPv4, 4, ieDstIPv4, 4, ieSrcPort, 2, ieDstPort, 2, ieProtocol, 1, ieTCPFlags, 1,
	ieOctetDelta, 4, iePacketDelta, 4, ieStartSysUpTime, 4, ieEndSysUpTime, 4, ieInIf, 2, ieOutIf, 2,
}

func v9FlowRecord(p *pkt, src, dst string, sport, dport uint16, bytes, pkts, first, last uint32) {
	p.addr(src).addr(dst).u16(sport).u16(dport).u8(6).u8(0x12).u32(bytes).u32(pkts).u32(first).u32(last).u16(3).u16(4)
}

// v9Packet builds a v9 packet with a template FlowSet (id 256) and a data
// FlowSet of two records.
func v9Packet(uptime, secs uint32) []byte {
	p := v9Header(3, uptime, secs, 7, 42)
	p.set(0, func(p *pkt) { p.u16(256).u16(uint16(len(v9FlowTemplate) / 2)).fields(v9FlowTemplate...) })
	p.set(256, func(p *pkt) {
		v9FlowRecord(p, "10.0.0.1", "10.0.0.2", 1234, 80, 1000, 10, uptime-5000, uptime-1000)
		v9FlowRecord(p, "10.0.0.2", "10.0.0.1", 80, 1234, 2000, 20, uptime-4000, uptime-500)
	})
	return p.b
}
