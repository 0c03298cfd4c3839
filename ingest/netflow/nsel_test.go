package netflow

import (
	"net/netip"
	"testing"
)

// The layout of Cisco ASA's NSEL records (NetFlow v9), as public decoders'
// test captures show it: a connection id, the 5-tuple, ICMP type and code,
// interfaces, the firewall event and its extension, the creation time
// (152) and the event time (323), initiator and responder bytes (no packet
// counts, no TCP flags) and the translated addresses and ports.
var nselTemplate = []uint16{
	148, 4, ieSrcIPv4, 4, ieSrcPort, 2, ieDstIPv4, 4, ieDstPort, 2, ieProtocol, 1,
	ieICMPTypeIPv4, 1, ieICMPCodeIPv4, 1, ieInIf, 2, ieOutIf, 2,
	ieFirewallEvent, 1, 33002, 2, ieStartMillis, 8, ieObsMillis, 8,
	ieInitiatorOctets, 4, ieResponderOctets, 4,
	iePostNATSrcIPv4, 4, iePostNATDstIPv4, 4, iePostNAPTSrcPort, 2, iePostNAPTDstPort, 2,
}

type nselRec struct {
	id              uint32
	src, dst        string
	sport, dport    uint16
	proto, icmpType uint8
	event           uint8
	extEvent        uint16
	createMs, evMs  uint64
	fwd, rev        uint32
	xsrc, xdst      string
	xsport, xdport  uint16
}

func (r nselRec) put(p *pkt) {
	p.u32(r.id).addr(r.src).u16(r.sport).addr(r.dst).u16(r.dport).u8(r.proto).u8(r.icmpType).u8(0).
		u16(3).u16(2).u8(r.event).u16(r.extEvent).u64(r.createMs).u64(r.evMs).u32(r.fwd).u32(r.rev).
		addr(r.xsrc).addr(r.xdst).u16(r.xsport).u16(r.xdport)
}

func nselPacket(tplID uint16, tpl []uint16, recs ...func(*pkt)) []byte {
	p := v9Header(uint16(1+len(recs)), 900_000, testSecs, 1, 0)
	p.set(0, func(p *pkt) { p.u16(tplID).u16(uint16(len(tpl) / 2)).fields(tpl...) })
	p.set(tplID, func(p *pkt) {
		for _, r := range recs {
			r(p)
		}
	})
	return p.b
}

// NSEL: a deleted connection runs from its creation to its event time; a
// created one and a denied one are instants; the events are counted; the
// translated addresses are the post-NAT ones.
func TestNSELEvents(t *testing.T) {
	const t0 = uint64(testSecs-60) * 1000
	recs := []nselRec{
		{id: 1, src: "192.168.1.10", dst: "203.0.113.5", sport: 50000, dport: 443, proto: 6, event: FirewallCreated,
			createMs: t0, evMs: t0 + 2, xsrc: "198.51.100.1", xdst: "203.0.113.5", xsport: 7000, xdport: 443},
		{id: 1, src: "192.168.1.10", dst: "203.0.113.5", sport: 50000, dport: 443, proto: 6, event: FirewallDeleted,
			extEvent: 2001, createMs: t0, evMs: t0 + 31_500, fwd: 1_200, rev: 48_000,
			xsrc: "198.51.100.1", xdst: "203.0.113.5", xsport: 7000, xdport: 443},
		{id: 2, src: "203.0.113.9", dst: "192.168.1.20", sport: 40000, dport: 23, proto: 6, event: FirewallDenied,
			extEvent: 1001, createMs: t0 + 5_000, evMs: t0 + 5_000, xsrc: "0.0.0.0", xdst: "0.0.0.0"},
		{id: 3, src: "192.168.1.10", dst: "203.0.113.5", sport: 1, dport: 0, proto: 1, icmpType: 8, event: FirewallDeleted,
			createMs: t0 + 7_000, evMs: t0 + 9_030, fwd: 56, rev: 56, xsrc: "198.51.100.1", xdst: "203.0.113.5"},
		{id: 4, src: "192.168.1.11", dst: "203.0.113.6", sport: 50001, dport: 80, proto: 6, event: 9,
			createMs: t0 + 8_000, evMs: t0 + 1_000, xsrc: "0.0.0.0", xdst: "0.0.0.0"}, // event time before creation: ignored
	}
	var puts []func(*pkt)
	for _, r := range recs {
		puts = append(puts, r.put)
	}
	got, info, err := collect(t, NewDecoder(nil), nselPacket(263, nselTemplate, puts...))
	if err != nil || len(got) != len(recs) {
		t.Fatalf("got %d records, %v", len(got), err)
	}
	for i, r := range recs {
		g := got[i]
		start := int64(r.createMs) * 1e6
		end := max(start, int64(r.evMs)*1e6)
		if g.Start != start || g.End != end || g.Bytes != uint64(r.fwd) || g.RevBytes != uint64(r.rev) ||
			g.Packets != 0 || g.SrcAddr != netip.MustParseAddr(r.src) || g.DstPort != r.dport {
			t.Errorf("record %d: got start %d end %d bytes %d/%d packets %d %v:%d; want %d %d %d/%d",
				i, g.Start, g.End, g.Bytes, g.RevBytes, g.Packets, g.SrcAddr, g.DstPort, start, end, r.fwd, r.rev)
		}
	}
	if g := got[1]; g.NATSrcAddr != netip.MustParseAddr("198.51.100.1") || g.NATSrcPort != 7000 {
		t.Errorf("post-NAT source: got %v:%d", g.NATSrcAddr, g.NATSrcPort)
	}
	if g := got[3]; g.ICMPType != 8 {
		t.Errorf("ICMP type: got %d, want 8", g.ICMPType)
	}
	want := [NumFirewallEvents]uint32{FirewallCreated: 1, FirewallDeleted: 2, FirewallDenied: 1, FirewallOther: 1}
	if info.FirewallEvents != want {
		t.Errorf("events: got %v, want %v", info.FirewallEvents, want)
	}
}

// ASA 8.4 names its event 40005 and its translations 40001-40004
// (NetFlow v9 only: IPFIX ids that high are enterprise elements).
func TestNSEL84(t *testing.T) {
	tpl := []uint16{ieSrcIPv4, 4, ieSrcPort, 2, ieDstIPv4, 4, ieDstPort, 2, ieProtocol, 1,
		ieNSELEvent84, 1, ieStartMillis, 8, ieObsMillis, 8, ieOctetTotal, 4,
		ieNSELXlateSrc4, 4, ieNSELXlateDst4, 4, ieNSELXlateSrcPrt, 2, ieNSELXlateDstPrt, 2}
	const t0 = uint64(testSecs-60) * 1000
	rec := func(p *pkt) {
		p.addr("10.1.1.1").u16(51000).addr("192.0.2.80").u16(80).u8(6).u8(FirewallDeleted).
			u64(t0).u64(t0 + 4_000).u32(9_000).addr("198.51.100.2").addr("192.0.2.80").u16(61000).u16(80)
	}
	got, info, err := collect(t, NewDecoder(nil), nselPacket(256, tpl, rec))
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d records, %v", len(got), err)
	}
	g := got[0]
	if g.End-g.Start != 4_000*1e6 || g.Bytes != 9_000 || g.NATSrcAddr != netip.MustParseAddr("198.51.100.2") ||
		g.NATSrcPort != 61000 || g.NATDstPort != 80 || info.FirewallEvents[FirewallDeleted] != 1 {
		t.Errorf("got %+v, events %v", g, info.FirewallEvents)
	}
}
