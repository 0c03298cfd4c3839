package netflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

func collect(t *testing.T, d *Decoder, payload []byte) ([]flow.Record, PacketInfo, error) {
	t.Helper()
	var out []flow.Record
	info, err := d.Decode(Packet{Exporter: testExporter, Payload: payload}, func(r *flow.Record) {
		out = append(out, *r)
	})
	return out, info, err
}

const testSecs = 1_700_000_000

func TestV5(t *testing.T) {
	p := (&pkt{}).u16(5).u16(2).u32(100_000).u32(testSecs).u32(500_000_000).u32(99).u8(1).u8(2).u16(0x4000 | 100)
	rec := func(src, dst string, sport, dport uint16, proto uint8, first, last uint32) {
		p.addr(src).addr(dst).addr("10.9.9.9").u16(5).u16(6).u32(3).u32(300).u32(first).u32(last).
			u16(sport).u16(dport).u8(0).u8(0x1b).u8(proto).u8(0).u16(64500).u16(64501).u8(24).u8(16).u16(0)
	}
	rec("10.0.0.1", "10.0.0.2", 1234, 443, 6, 90_000, 99_000)
	rec("10.0.0.3", "10.0.0.4", 0, 0x0303, 1, 95_000, 95_000)
	d := NewDecoder(nil)
	recs, info, err := collect(t, d, p.b)
	if err != nil || len(recs) != 2 {
		t.Fatalf("got %d records, %v; want 2, nil", len(recs), err)
	}
	export := int64(testSecs)*1e9 + 500_000_000
	r := recs[0]
	want := flow.Record{
		Start: export - 10_000*1e6, End: export - 1_000*1e6,
		SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"),
		SrcPort: 1234, DstPort: 443, Proto: 6, TCPFlags: 0x1b, Bytes: 300, Packets: 3,
		InIf: 5, OutIf: 6, SrcAS: 64500, DstAS: 64501, NextHop: netip.MustParseAddr("10.9.9.9"),
		Exporter: testExporter.Addr, ObsDomain: 1<<8 | 2, SamplingInterval: 100,
	}
	if r != want {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if recs[1].ICMPType != 3 || recs[1].ICMPCode != 3 {
		t.Errorf("got ICMP %d/%d, want 3/3", recs[1].ICMPType, recs[1].ICMPCode)
	}
	if info.Sequence != 99 || info.ExportTime != export || info.Domain != 0x102 || info.SamplingFrom[SampledHeader] != 2 {
		t.Errorf("got info %+v", info)
	}
	// A count that claims more records than present: the records present,
	// a warning, no error.
	lie := bytes.Clone(p.b)
	lie[3] = 3
	recs, info, err = collect(t, d, lie)
	if err != nil || len(recs) != 2 || info.Warnings&WarnCountMismatch == 0 {
		t.Errorf("count lie: got %d records, %v, warnings %v", len(recs), err, info.Warnings)
	}
	lie[3] = 31
	if _, _, err = collect(t, d, lie); !errors.Is(err, ErrHeader) {
		t.Errorf("count 31: got %v, want ErrHeader", err)
	}
}

func TestV9TemplateAndData(t *testing.T) {
	d := NewDecoder(nil)
	recs, info, err := collect(t, d, v9Packet(500_000, testSecs))
	if err != nil || len(recs) != 2 {
		t.Fatalf("got %d records, %v", len(recs), err)
	}
	export := int64(testSecs) * 1e9
	r := recs[1]
	if r.SrcAddr != netip.MustParseAddr("10.0.0.2") || r.SrcPort != 80 || r.Bytes != 2000 || r.Packets != 20 ||
		r.Start != export-4_000*1e6 || r.End != export-500*1e6 || r.InIf != 3 || r.OutIf != 4 || r.ObsDomain != 42 ||
		r.TCPFlags != 0x12 || r.SamplingInterval != 1 || r.Exporter != testExporter.Addr {
		t.Errorf("got %+v", r)
	}
	if info.Warnings != 0 || info.TemplatesLearned != 1 || info.TemplateRecords != 1 || info.Sequence != 7 {
		t.Errorf("got info %+v", info)
	}
	// softflowd's count leaves the template out: a warning, same records.
	p := v9Packet(500_000, testSecs)
	p[3] = 2
	recs, info, err = collect(t, NewDecoder(nil), p)
	if err != nil || len(recs) != 2 || info.Warnings != WarnCountMismatch {
		t.Errorf("got %d records, %v, warnings %v", len(recs), err, info.Warnings)
	}
	// Resending the same template changes nothing in the cache.
	if _, info, _ = collect(t, d, v9Packet(500_000, testSecs)); info.TemplatesLearned != 0 {
		t.Errorf("resent template: got %d learned, want 0", info.TemplatesLearned)
	}
}

func TestV9UptimeWrap(t *testing.T) {
	// The uptime counter wrapped: header uptime 1,000 ms, the flow started
	// 3,000 ms before the wrap and ended just after it.
	const uptime = 1000
	p := v9Header(2, uptime, testSecs, 1, 0)
	p.set(0, func(p *pkt) { p.u16(256).u16(uint16(len(v9FlowTemplate) / 2)).fields(v9FlowTemplate...) })
	p.set(256, func(p *pkt) {
		v9FlowRecord(p, "10.0.0.1", "10.0.0.2", 1, 2, 1, 1, 1<<32-3000, 200)
		// A last-switched slightly after the header uptime (jitter).
		v9FlowRecord(p, "10.0.0.1", "10.0.0.2", 1, 2, 1, 1, 900, uptime+20)
	})
	recs, _, err := collect(t, NewDecoder(nil), p.b)
	if err != nil || len(recs) != 2 {
		t.Fatalf("got %d records, %v", len(recs), err)
	}
	export := int64(testSecs) * 1e9
	for i, c := range []struct{ start, end int64 }{
		{export - 4000*1e6, export - 800*1e6},
		{export - 100*1e6, export + 20*1e6},
	} {
		if recs[i].Start != c.start || recs[i].End != c.end {
			t.Errorf("record %d: got %d..%d, want %d..%d", i, recs[i].Start-export, recs[i].End-export, c.start-export, c.end-export)
		}
	}
}

// ipfixTemplateSet256 has: src/dst IPv4, enterprise element (PEN 9, 4
// bytes), a variable-length enterprise element, reverse octets/packets
// (PEN 29305), forward octets (3 bytes, reduced size), packets,
// flowStartMicroseconds/flowEndMicroseconds (NTP), a variable-length IANA
// element (interfaceName 82).
func ipfixTemplateSet256(p *pkt) {
	p.set(2, func(p *pkt) {
		p.u16(256).u16(9)
		p.fields(ieSrcIPv4, 4, ieDstIPv4, 4)
		p.fields(0x8000|100, 4).u32(9)
		p.fields(0x8000|101, varLen).u32(9)
		p.fields(0x8000|ieOctetDelta, 8).u32(PENReverse)
		p.fields(0x8000|iePacketDelta, 4).u32(PENReverse)
		p.fields(ieOctetDelta, 3, iePacketDelta, 4)
		p.fields(82, varLen)
	})
}

func ntp(unixNs int64) uint64 {
	secs := uint64(unixNs/1e9) + ntpEpochOffset
	frac := uint64(unixNs%1e9) << 32 / 1e9
	return secs<<32 | frac
}

func TestIPFIXEnterpriseVarLenReverse(t *testing.T) {
	start := int64(testSecs)*1e9 + 250_000_000
	p := ipfixHeader(testSecs, 10, 5)
	ipfixTemplateSet256(p)
	// Add start/end microseconds in a second template (257) to keep 256
	// focused on the record layout.
	p.set(2, func(p *pkt) {
		p.u16(257).u16(3).fields(ieSrcIPv4, 4, ieStartMicros, 8, ieEndMicros, 8)
	})
	p.set(256, func(p *pkt) {
		p.addr("192.0.2.10").addr("198.51.100.20").u32(0xdeadbeef)
		p.u8(3).raw('a', 'b', 'c')                        // short variable length
		p.u64(7777).u32(77).raw(0x01, 0x00, 0x00).u32(12) // reverse, then 65536 bytes fwd
		p.u8(255).u16(300).raw(make([]byte, 300)...)      // long variable length
	})
	p.set(257, func(p *pkt) { p.addr("192.0.2.11").u64(ntp(start)).u64(ntp(start + 1_500_000_000)) })
	recs, info, err := collect(t, NewDecoder(nil), p.done())
	if err != nil || len(recs) != 2 {
		t.Fatalf("got %d records, %v, info %+v", len(recs), err, info)
	}
	r := recs[0]
	if r.Bytes != 65536 || r.Packets != 12 || r.RevBytes != 7777 || r.RevPackets != 77 ||
		r.DstAddr != netip.MustParseAddr("198.51.100.20") || r.ObsDomain != 5 {
		t.Errorf("got %+v", r)
	}
	// Microsecond NTP fractions are exact to the microsecond.
	if d := recs[1].Start - start; d < -1000 || d > 1000 || recs[1].End-recs[1].Start != 1_500_000_000 {
		t.Errorf("got start %+d ns off, duration %d", d, recs[1].End-recs[1].Start)
	}
}

func TestIPFIXWithdrawal(t *testing.T) {
	d := NewDecoder(nil)
	p := ipfixHeader(testSecs, 0, 1)
	p.set(2, func(p *pkt) { p.u16(300).u16(1).fields(ieOctetDelta, 4) })
	p.set(2, func(p *pkt) { p.u16(301).u16(1).fields(iePacketDelta, 4) })
	if _, info, err := collect(t, d, p.done()); err != nil || info.TemplatesLearned != 2 {
		t.Fatalf("got %v, %+v", err, info)
	}
	// Withdraw 300 alone, then data for 300 is unknown.
	p = ipfixHeader(testSecs, 0, 1)
	p.set(2, func(p *pkt) { p.u16(300).u16(0) })
	p.set(300, func(p *pkt) { p.u32(5) })
	_, info, err := collect(t, d, p.done())
	if err != nil || info.TemplatesWithdrawn != 1 || len(info.Unknown) != 1 || info.Skipped[ErrUnknownTemplate] != 1 {
		t.Errorf("withdraw one: got %v, %+v", err, info)
	}
	// Withdraw all (template id 2) removes 301.
	p = ipfixHeader(testSecs, 0, 1)
	p.set(2, func(p *pkt) { p.u16(2).u16(0) })
	if _, info, _ = collect(t, d, p.done()); info.TemplatesWithdrawn != 1 || d.Templates.Len() != 0 {
		t.Errorf("withdraw all: got %+v, %d templates left", info, d.Templates.Len())
	}
	if keys, _ := d.Templates.TakeDirty(); len(keys) != 2 {
		t.Errorf("got dirty %v, want 300 and 301", keys)
	}
	// Zeros that pad a template set to 8 bytes (4 or more of them: as long
	// as a withdrawal) are padding, not a bad template.
	p = ipfixHeader(testSecs, 0, 1)
	p.set(2, func(p *pkt) { p.u16(302).u16(1).fields(ieOctetDelta, 4).u32(0) })
	p.set(3, func(p *pkt) { p.u16(303).u16(2).u16(1).fields(149, 4, ieSamplingInterval, 4).raw(0, 0, 0, 0, 0, 0) })
	if _, info, err = collect(t, d, p.done()); err != nil || info.TemplatesLearned != 2 || info.Skipped != [NumReasons]uint32{} {
		t.Errorf("padded template sets: got %v, %+v", err, info)
	}
}

func TestParkedThenTemplate(t *testing.T) {
	d := NewDecoder(nil)
	// Data for template 256 arrives first (v9, domain 42).
	data := v9Header(2, 500_000, testSecs, 1, 42)
	data.set(256, func(p *pkt) {
		v9FlowRecord(p, "10.0.0.1", "10.0.0.2", 1, 2, 100, 1, 499_000, 499_500)
		v9FlowRecord(p, "10.0.0.3", "10.0.0.4", 3, 4, 200, 2, 499_000, 499_500)
	})
	recs, info, err := collect(t, d, data.b)
	if err != nil || len(recs) != 0 || len(info.Unknown) != 1 {
		t.Fatalf("got %d records, %v, unknown %v", len(recs), err, info.Unknown)
	}
	ps := info.Unknown[0]
	set := bytes.Clone(ps.Bytes(data.b))
	if ps.Key.ID != 256 || ps.Key.Domain != 42 || ps.Offset != v9HeaderLen || ps.SysUptime != 500_000 {
		t.Errorf("got parked %+v", ps)
	}
	if _, err := d.DecodeParked(ps, set, nil); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("before template: got %v, want ErrUnknownTemplate", err)
	}
	// The template arrives in a later packet, with a different uptime.
	tpl := v9Header(1, 900_000, testSecs+400, 2, 42)
	tpl.set(0, func(p *pkt) { p.u16(256).u16(uint16(len(v9FlowTemplate) / 2)).fields(v9FlowTemplate...) })
	collect(t, d, tpl.b)
	var got []flow.Record
	info, err = d.DecodeParked(ps, set, func(r *flow.Record) { got = append(got, *r) })
	if err != nil || len(got) != 2 || info.Records != 2 {
		t.Fatalf("after template: got %d records, %v", len(got), err)
	}
	// Times use the parked packet's header, not the template packet's.
	if want := int64(testSecs)*1e9 - 1000*1e6; got[1].Start != want || got[1].Bytes != 200 {
		t.Errorf("got %+v, want start %d", got[1], want)
	}
}

func TestDomainsDoNotMix(t *testing.T) {
	d := NewDecoder(nil)
	for _, c := range []struct {
		domain uint32
		fields []uint16
	}{
		{1, []uint16{ieSrcIPv4, 4, ieOctetDelta, 4}},
		{2, []uint16{ieOctetDelta, 8, ieSrcIPv4, 4}},
	} {
		p := ipfixHeader(testSecs, 0, c.domain)
		p.set(2, func(p *pkt) { p.u16(256).u16(2).fields(c.fields...) })
		collect(t, d, p.done())
	}
	p1 := ipfixHeader(testSecs, 0, 1)
	p1.set(256, func(p *pkt) { p.addr("10.1.1.1").u32(111) })
	p2 := ipfixHeader(testSecs, 0, 2)
	p2.set(256, func(p *pkt) { p.u64(222).addr("10.2.2.2") })
	// Another exporter port with the same domain and id knows nothing.
	other := Packet{Exporter: Exporter{testExporter.Addr, 9999}, Payload: bytes.Clone(p1.done())}
	for _, c := range []struct {
		payload []byte
		src     string
		bytes   uint64
	}{{p1.done(), "10.1.1.1", 111}, {p2.done(), "10.2.2.2", 222}} {
		recs, _, err := collect(t, d, c.payload)
		if err != nil || len(recs) != 1 || recs[0].SrcAddr.String() != c.src || recs[0].Bytes != c.bytes {
			t.Errorf("got %v %v, want %s %d", recs, err, c.src, c.bytes)
		}
	}
	if info, _ := d.Decode(other, nil); len(info.Unknown) != 1 {
		t.Errorf("other port: got %+v, want the set parked", info)
	}
}

func TestTemplateRejects(t *testing.T) {
	many := make([]uint16, 0, 2*(MaxTemplateFields+1))
	for i := 0; i <= MaxTemplateFields; i++ {
		many = append(many, ieOctetDelta, 1)
	}
	cases := []struct {
		name   string
		body   func(p *pkt)
		reason Reason
	}{
		{"zero fields v9", func(p *pkt) { p.u16(256).u16(0) }, ErrBadTemplate},
		{"reserved id", func(p *pkt) { p.u16(255).u16(1).fields(1, 4) }, ErrBadTemplate},
		{"every field of length 0", func(p *pkt) { p.u16(256).u16(2).fields(1, 0, 2, 0) }, ErrFieldLength},
		{"too many fields", func(p *pkt) { p.u16(256).u16(uint16(len(many) / 2)).fields(many...) }, ErrTooManyFields},
		{"record too long", func(p *pkt) { p.u16(256).u16(2).fields(1, 40000, 2, 40000) }, ErrFieldLength},
		{"count beyond set", func(p *pkt) { p.u16(256).u16(50).fields(1, 4) }, ErrBadTemplate},
	}
	for _, c := range cases {
		p := v9Header(1, 0, testSecs, 0, 0)
		p.set(0, c.body)
		d := NewDecoder(nil)
		_, info, err := collect(t, d, p.b)
		if err != nil || info.Skipped[c.reason] != 1 || d.Templates.Len() != 0 {
			t.Errorf("%s: got %v, skipped %v, %d templates; want %v", c.name, err, info.Skipped, d.Templates.Len(), c.reason)
		}
	}
}

func TestSetLengthErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		length uint16
	}{{"zero", 0}, {"short", 2}, {"overrun", 65535}} {
		p := v9Packet(500_000, testSecs)
		bad := append(p, 1, 44, 0, 0) // a third FlowSet, id 300
		bad[len(bad)-2], bad[len(bad)-1] = byte(c.length>>8), byte(c.length)
		recs, _, err := collect(t, NewDecoder(nil), bad)
		var de *DecodeError
		if len(recs) != 2 || !errors.As(err, &de) || de.Reason != ErrSetLength || de.Offset != len(p) || de.SetID != 300 {
			t.Errorf("%s: got %d records, %v; want 2 and ErrSetLength at %d", c.name, len(recs), err, len(p))
		}
	}
}

// Options data scoped to an interface gives the sampling of the flows
// through it (v9 scope type 2, IPFIX ingressInterface), not of the whole
// exporter; a flow on an interface without one is not sampled.
func TestInterfaceSampling(t *testing.T) {
	d := NewDecoder(nil)
	p := v9Header(5, 500_000, testSecs, 1, 42)
	p.set(1, func(p *pkt) { // options template 300: scope Interface (4 bytes); interval, algorithm
		p.u16(300).u16(4).u16(8).fields(2, 4, ieSamplingInterval, 4, 35, 1)
	})
	p.set(300, func(p *pkt) { p.u32(1).u32(100).u8(2).u32(2).u32(1000).u8(2).raw(0, 0) })
	p.set(0, func(p *pkt) { p.u16(256).u16(3).fields(ieSrcIPv4, 4, ieInIf, 2, ieOutIf, 2) })
	p.set(256, func(p *pkt) {
		p.addr("10.0.0.1").u16(1).u16(7)
		p.addr("10.0.0.2").u16(2).u16(7)
		p.addr("10.0.0.3").u16(3).u16(1) // egress sampling: its output interface's
		p.addr("10.0.0.4").u16(3).u16(4)
	})
	recs, info, err := collect(t, d, p.b)
	if err != nil || len(recs) != 4 || info.OptionsRecords != 2 {
		t.Fatalf("got %d records, %v, %+v", len(recs), err, info)
	}
	for i, want := range []uint32{100, 1000, 100, 1} {
		if recs[i].SamplingInterval != want {
			t.Errorf("%s on interfaces %d > %d: sampling %d, want %d", recs[i].SrcAddr, recs[i].InIf, recs[i].OutIf, recs[i].SamplingInterval, want)
		}
	}
	// IPFIX: the scope is ingressInterface; the state survives the cache's
	// serialisation.
	p2 := ipfixHeader(testSecs, 0, 3)
	p2.set(3, func(p *pkt) {
		p.u16(400).u16(3).u16(1).fields(ieInIf, 4, ieSamplingPktInterval, 4, ieSamplingPktSpace, 4)
	})
	p2.set(400, func(p *pkt) { p.u32(5).u32(1).u32(63) }) // 1 packet in 64
	p2.set(2, func(p *pkt) { p.u16(256).u16(2).fields(ieSrcIPv4, 4, ieInIf, 4) })
	if _, _, err := collect(t, d, p2.done()); err != nil {
		t.Fatal(err)
	}
	blob, err := d.Templates.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d2 := NewDecoder(nil)
	if err := d2.Templates.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	p3 := ipfixHeader(testSecs, 1, 3)
	p3.set(256, func(p *pkt) { p.addr("10.0.0.5").u32(5).addr("10.0.0.6").u32(6) })
	recs, _, err = collect(t, d2, p3.done())
	if err != nil || len(recs) != 2 || recs[0].SamplingInterval != 64 || recs[1].SamplingInterval != 1 {
		t.Errorf("IPFIX ingressInterface scope: got %+v, %v; want sampling 64 on interface 5, 1 on 6", recs, err)
	}
	// A router of 300 interfaces: each keeps its sampling (the 256th and
	// later were dropped with the samplers, and their flows unsampled).
	p4 := v9Header(1, 500_000, testSecs, 2, 42)
	p4.set(300, func(p *pkt) {
		for ifx := range uint32(300) {
			p.u32(ifx + 1).u32(1000).u8(2)
		}
	})
	p4.set(256, func(p *pkt) { p.addr("10.0.0.9").u16(300).u16(7) })
	recs, _, err = collect(t, d, p4.b)
	if err != nil || len(recs) != 1 || recs[0].SamplingInterval != 1000 {
		t.Errorf("interface 300 of 300: got %+v, %v; want sampling 1000", recs, err)
	}
}

func TestOptionsSamplingAndSystemInit(t *testing.T) {
	d := NewDecoder(nil)
	const initMs = 1_600_000_000_000
	// Options template: scope observationDomainId (149), selectorId (302),
	// samplingPacketInterval (305) + samplingPacketSpace (306), and
	// systemInitTimeMilliseconds (160).
	p := ipfixHeader(testSecs, 0, 3)
	p.set(3, func(p *pkt) {
		p.u16(400).u16(5).u16(1).fields(149, 4, ieSelectorID, 2, ieSamplingPktInterval, 4, ieSamplingPktSpace, 4, ieSystemInitMillis, 8)
	})
	p.set(400, func(p *pkt) { p.u32(3).u16(7).u32(1).u32(99).u64(initMs) })
	p.set(2, func(p *pkt) {
		p.u16(256).u16(4).fields(ieSelectorID, 1, ieOctetDelta, 4, ieStartSysUpTime, 4, ieEndSysUpTime, 4)
	})
	p.set(256, func(p *pkt) { p.u8(7).u32(10).u32(1000).u32(2500) })
	recs, info, err := collect(t, d, p.done())
	if err != nil || len(recs) != 1 || info.OptionsRecords != 1 {
		t.Fatalf("got %d records, %v, %+v", len(recs), err, info)
	}
	r := recs[0]
	if r.SamplingInterval != 100 || r.Start != (initMs+1000)*1e6 || r.End != (initMs+2500)*1e6 || info.SamplingFrom[SampledOptions] != 1 {
		t.Errorf("got interval %d start %d end %d, from %v", r.SamplingInterval, r.Start, r.End, info.SamplingFrom)
	}
	if _, changed := d.Templates.TakeDirty(); !changed {
		t.Error("options state change not reported")
	}
	ds := d.Templates.Domains()
	if len(ds) != 1 || !ds[0].HasSystemInit || ds[0].Samplers[0] != (SamplerInterval{7, 100}) {
		t.Errorf("got domains %+v", ds)
	}
}

func TestIPFIXUptimeWithoutSystemInit(t *testing.T) {
	p := ipfixHeader(testSecs, 0, 3)
	p.set(2, func(p *pkt) {
		p.u16(256).u16(3).fields(ieSrcIPv4, 4, ieStartSysUpTime, 4, ieEndSysUpTime, 4)
		p.u16(257).u16(2).fields(ieStartSysUpTime, 4, ieEndSysUpTime, 4) // not a flow: no address
	})
	p.set(256, func(p *pkt) { p.addr("10.0.0.1").u32(1000).u32(3000) })
	p.set(257, func(p *pkt) { p.u32(1000).u32(3000) })
	recs, info, _ := collect(t, NewDecoder(nil), p.done())
	export := int64(testSecs) * 1e9
	// Only the flow's times count as placed at the export time.
	if len(recs) != 2 || recs[0].End != export || recs[0].Start != export-2000*1e6 || info.Skipped[ErrTimeFromExport] != 1 {
		t.Errorf("got %+v, %v", recs, info.Skipped)
	}
}

// MikroTik's IPFIX records carry systemInitTimeMilliseconds themselves,
// beside their sysUpTime-relative times; it comes before options data's.
func TestIPFIXRecordSystemInit(t *testing.T) {
	const initMs = 1_767_224_600_000 // 2025-12-31T23:43:20Z
	p := ipfixHeader(testSecs, 0, 3)
	p.set(2, func(p *pkt) {
		p.u16(256).u16(4).fields(ieSrcIPv4, 4, ieStartSysUpTime, 4, ieEndSysUpTime, 4, ieSystemInitMillis, 8)
	})
	p.set(256, func(p *pkt) { p.addr("10.0.0.1").u32(900_000).u32(910_000).u64(initMs) })
	recs, info, err := collect(t, NewDecoder(nil), p.done())
	if err != nil || len(recs) != 1 || info.Skipped[ErrTimeFromExport] != 0 {
		t.Fatalf("got %+v, %v, %v", recs, err, info.Skipped)
	}
	start, end := int64(initMs+900_000)*1e6, int64(initMs+910_000)*1e6
	if r := recs[0]; r.Start != start || r.End != end {
		t.Errorf("got [%d, %d], want [%d, %d]", r.Start, r.End, start, end)
	}
}

func TestOutBytesAndDuplicates(t *testing.T) {
	p := v9Header(2, 500_000, testSecs, 0, 0)
	// Duplicate L4_SRC_PORT: the first occurrence wins (tshark).
	p.set(0, func(p *pkt) {
		p.u16(256).u16(5).fields(ieSrcPort, 2, iePostOctetDelta, 4, iePostPacketDelta, 4, ieSrcPort, 2, ieOctetDelta, 3)
	})
	p.set(256, func(p *pkt) { p.u16(1111).u32(900).u32(9).u16(2222).raw(0, 1, 0) })
	for _, rev := range []bool{false, true} {
		d := NewDecoder(nil)
		d.OutBytesReverse = rev
		recs, _, err := collect(t, d, p.b)
		if err != nil || len(recs) != 1 {
			t.Fatalf("got %v, %v", recs, err)
		}
		r := recs[0]
		want := [4]uint64{900, 9, 0, 0}
		if rev {
			want = [4]uint64{0, 0, 900, 9}
		}
		if got := [4]uint64{r.PostBytes, r.PostPackets, r.RevBytes, r.RevPackets}; got != want || r.SrcPort != 1111 || r.Bytes != 256 {
			t.Errorf("reverse=%v: got post/rev %v port %d bytes %d, want %v 1111 256", rev, got, r.SrcPort, r.Bytes, want)
		}
	}
}

func TestCacheRoundTrip(t *testing.T) {
	d := NewDecoder(nil)
	collect(t, d, v9Packet(500_000, testSecs))
	p := ipfixHeader(testSecs, 0, 3)
	ipfixTemplateSet256(p)
	p.set(3, func(p *pkt) { p.u16(400).u16(2).u16(1).fields(149, 4, ieSamplingInterval, 4) })
	p.set(400, func(p *pkt) { p.u32(3).u32(64) })
	collect(t, d, p.done())
	b, err := d.Templates.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := NewTemplateCache()
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := c.MarshalBinary()
	if !bytes.Equal(b, b2) || c.Len() != 3 {
		t.Errorf("round trip differs (%d templates)", c.Len())
	}
	// The restored cache decodes data and knows the sampling interval.
	data := ipfixHeader(testSecs, 0, 3)
	data.set(256, func(p *pkt) {
		p.addr("192.0.2.10").addr("198.51.100.20").u32(1).u8(0).u64(1).u32(1).raw(0, 0, 5).u32(1).u8(0)
	})
	recs, _, err := collect(t, NewDecoder(c), data.done())
	if err != nil || len(recs) != 1 || recs[0].Bytes != 5 || recs[0].SamplingInterval != 64 {
		t.Errorf("got %+v, %v", recs, err)
	}
	for i := range b {
		if err := NewTemplateCache().UnmarshalBinary(b[:i]); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
}

func TestSniff(t *testing.T) {
	v5 := make([]byte, 24+48)
	v5[1], v5[3] = 5, 1
	ipfix := ipfixHeader(testSecs, 0, 1)
	ipfixTemplateSet256(ipfix)
	ipfixB := ipfix.done()
	cases := []struct {
		name    string
		payload []byte
		version uint16
		ok      bool
	}{
		{"v5", v5, 5, true},
		{"v5 count 0", append([]byte{0, 5, 0, 0}, v5[4:]...), 5, false},
		{"v5 short", v5[:60], 5, false},
		{"v9", v9Packet(1, 1), 9, true},
		{"v9 reserved first set", append(v9Header(0, 0, 0, 0, 0).b, 0, 7, 0, 4), 9, false},
		{"ipfix", ipfixB, 10, true},
		{"ipfix snapped", ipfixB[:40], 10, true},
		{"ipfix trailing", append(bytes.Clone(ipfixB), 0), 10, false},
		{"dns", []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0}, 0, false},
		{"empty", nil, 0, false},
	}
	for _, c := range cases {
		v, ok := Sniff(c.payload)
		if ok != c.ok || (ok && v != c.version) {
			t.Errorf("%s: got %d %v, want %d %v", c.name, v, ok, c.version, c.ok)
		}
	}
}

// Zeros after the last set are padding, however many (PAN-OS sends a
// data FlowSet in a large zero-filled packet); other bytes after it are
// still reported.
func TestZeroPaddingAfterSets(t *testing.T) {
	p := append(v9Packet(500_000, testSecs), make([]byte, 300)...)
	recs, info, err := collect(t, NewDecoder(nil), p)
	if err != nil || len(recs) != 2 || info.Warnings != 0 || info.Skipped != [NumReasons]uint32{} {
		t.Errorf("zero padding: got %d records, %v, warnings %v, skipped %v", len(recs), err, info.Warnings, info.Skipped)
	}
	p[len(p)-1] = 1
	recs, info, err = collect(t, NewDecoder(nil), p)
	if !errors.Is(err, ErrSetLength) || len(recs) != 2 || info.Skipped[ErrSetLength] != 1 {
		t.Errorf("non-zero tail: got %d records, %v, skipped %v", len(recs), err, info.Skipped)
	}
}

// Fields of length 0 carry nothing: the template is kept and its records
// decode without them (an exporter's templates seen by other collectors).
func TestZeroLengthFields(t *testing.T) {
	tpl := []uint16{ieSrcIPv4, 4, ieDstIPv4, 4, 9, 0, ieSrcPort, 2, ieDstPort, 2, ieProtocol, 1,
		ieOctetDelta, 4, iePacketDelta, 0, ieStartSysUpTime, 4, ieEndSysUpTime, 4}
	p := v9Header(2, 500_000, testSecs, 1, 0)
	p.set(0, func(p *pkt) { p.u16(300).u16(uint16(len(tpl) / 2)).fields(tpl...) })
	p.set(300, func(p *pkt) {
		p.addr("192.168.1.95").addr("239.255.255.250").u16(0).u16(0).u8(2).u32(32).u32(499_000).u32(499_000)
	})
	d := NewDecoder(nil)
	recs, info, err := collect(t, d, p.b)
	if err != nil || len(recs) != 1 || d.Templates.Len() != 1 || info.Skipped != [NumReasons]uint32{} {
		t.Fatalf("got %d records, %v, %d templates, skipped %v", len(recs), err, d.Templates.Len(), info.Skipped)
	}
	r := recs[0]
	if r.SrcAddr != netip.MustParseAddr("192.168.1.95") || r.Proto != 2 || r.Bytes != 32 || r.Packets != 0 ||
		r.Start != int64(testSecs)*1e9-1_000*1e6 {
		t.Errorf("got %+v", r)
	}
}

// An IPv4-mapped address in an IPv6 field is the IPv4 host (filters read
// ::ffff:10.0.0.1 as 10.0.0.1); other IPv6 addresses stay as they are.
func TestMappedIPv4InIPv6Fields(t *testing.T) {
	tpl := []uint16{ieSrcIPv6, 16, ieDstIPv6, 16, ieProtocol, 1, ieOctetDelta, 4}
	p := v9Header(2, 500_000, testSecs, 1, 0)
	p.set(0, func(p *pkt) { p.u16(301).u16(uint16(len(tpl) / 2)).fields(tpl...) })
	p.set(301, func(p *pkt) { p.addr("::ffff:10.1.2.3").addr("2001:db8::7").u8(17).u32(99) })
	recs, _, err := collect(t, NewDecoder(nil), p.b)
	if err != nil || len(recs) != 1 {
		t.Fatalf("got %d records, %v", len(recs), err)
	}
	if r := recs[0]; r.SrcAddr != netip.MustParseAddr("10.1.2.3") || r.DstAddr != netip.MustParseAddr("2001:db8::7") {
		t.Errorf("got %v -> %v", r.SrcAddr, r.DstAddr)
	}
}

// Sound goes beyond Sniff's header bytes: the first set (and IPFIX's
// length) must hold, the record count of v5 must fit. Damage after the
// first set is Decode's to report. The QUIC packet is nDPI's
// http_ipv6.pcap packet 42, which Sniff takes for IPFIX.
func TestSound(t *testing.T) {
	v5 := make([]byte, 24+2*48)
	v5[1], v5[3] = 5, 2
	v5lie := bytes.Clone(v5)
	v5lie[3] = 3 // count 3, two records present (a lying count, as in the hostile captures)
	ipfix := ipfixHeader(testSecs, 0, 1)
	ipfixTemplateSet256(ipfix)
	ipfixB := ipfix.done()
	v9 := v9Packet(1, 1)
	v9Overrun := bytes.Clone(v9)
	binary.BigEndian.PutUint16(v9Overrun[v9HeaderLen+2:], uint16(len(v9)))
	v9Second := append(bytes.Clone(v9), 1, 0, 0, 0) // a damaged set after a sound one
	quic := []byte{0x00, 0x0a, 0x0a, 0xe3, 0x08, 0x84, 0xe0, 0xe3, 0x91, 0x27, 0x74, 0xf1, 0x00, 0xb1, 0x8d,
		0xd4, 0x41, 0x72, 0x0a, 0xf3, 0xfd, 0x95, 0xfd, 0x00, 0x46, 0x84, 0xfc, 0xbf, 0xbd}
	cases := []struct {
		name         string
		payload      []byte
		sniff, sound bool
	}{
		{"v5", v5, true, true},
		{"v5 count lies", v5lie, true, true},
		{"v5 trailing bytes", append(bytes.Clone(v5), 0, 0), true, false},
		{"v9", v9, true, true},
		{"v9 first set overruns", v9Overrun, true, false},
		{"v9 damage after the first set", v9Second, true, true},
		{"ipfix", ipfixB, true, true},
		{"ipfix snapped", ipfixB[:40], true, false},
		{"quic", quic, true, false},
	}
	for _, c := range cases {
		v, ok := Sniff(c.payload)
		if ok != c.sniff {
			t.Errorf("%s: Sniff %v, want %v", c.name, ok, c.sniff)
		}
		if got := Sound(c.payload, v); got != c.sound {
			t.Errorf("%s: Sound %v, want %v", c.name, got, c.sound)
		}
	}
}

// A template may carry the IPv4 and IPv6 ICMP elements, or the general,
// UDP and TCP port elements, all at once; the ones that do not apply to a
// record are zero and must not hide the ones that do (tshark shows each
// element's own value).
func TestAlternativeElements(t *testing.T) {
	p := ipfixHeader(testSecs, 0, 3)
	p.set(2, func(p *pkt) {
		p.u16(256).u16(4).fields(ieSrcIPv4, 4, ieProtocol, 1, ieICMPTypeCodeIPv4, 2, ieICMPTypeCodeIPv6, 2)
		p.u16(257).u16(6).fields(ieSrcIPv6, 16, ieProtocol, 1, ieICMPTypeIPv4, 1, ieICMPCodeIPv4, 1, ieICMPTypeIPv6, 1, ieICMPCodeIPv6, 1)
		p.u16(258).u16(6).fields(ieSrcIPv4, 4, ieProtocol, 1, ieUDPSrcPort, 2, ieUDPDstPort, 2, ieTCPSrcPort, 2, ieTCPDstPort, 2)
	})
	p.set(256, func(p *pkt) {
		p.addr("10.0.0.1").u8(1).u16(0x0303).u16(0)  // IPv4 port unreachable
		p.addr("10.0.0.2").u8(58).u16(0).u16(0x8000) // ICMPv6 echo request
		p.addr("10.0.0.3").u8(1).u16(0).u16(0)       // IPv4 echo reply: type 0
	})
	p.set(257, func(p *pkt) {
		p.addr("2001:db8::1").u8(58).u8(0).u8(0).u8(1).u8(4) // ICMPv6 destination unreachable, code 4
		p.addr("2001:db8::2").u8(1).u8(11).u8(0).u8(0).u8(0) // IPv4's time exceeded
	})
	p.set(258, func(p *pkt) {
		p.addr("10.0.0.4").u8(6).u16(0).u16(0).u16(40000).u16(443)
		p.addr("10.0.0.5").u8(17).u16(5353).u16(53).u16(0).u16(0)
	})
	recs, _, err := collect(t, NewDecoder(nil), p.done())
	if err != nil || len(recs) != 7 {
		t.Fatalf("got %d records, %v", len(recs), err)
	}
	type icmp struct{ typ, code uint8 }
	for i, want := range []icmp{{3, 3}, {128, 0}, {0, 0}, {1, 4}, {11, 0}} {
		if got := (icmp{recs[i].ICMPType, recs[i].ICMPCode}); got != want {
			t.Errorf("record %d (%s): ICMP %v, want %v", i, recs[i].SrcAddr, got, want)
		}
	}
	for i, want := range [][2]uint16{{40000, 443}, {5353, 53}} {
		if r := recs[5+i]; r.SrcPort != want[0] || r.DstPort != want[1] {
			t.Errorf("record %d (%s): ports %d > %d, want %v", 5+i, r.SrcAddr, r.SrcPort, r.DstPort, want)
		}
	}
}
