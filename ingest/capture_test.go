package ingest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// End-to-end tests of NetFlow/IPFIX captures: evidence made by nfgen is
// ingested with Run into a real store, and every row read back is compared,
// field by field, with what the encoder says a decoder must make of the
// records it encoded (nfgen.Exporter.Expect), including the source id.

const (
	capMs  = int64(time.Millisecond)
	capSec = int64(time.Second)
	capMin = int64(time.Minute)
	capDay = 24 * int64(time.Hour)
)

var (
	capBase  = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	capColl4 = netip.MustParseAddrPort("192.0.2.250:2055")
	capColl6 = netip.MustParseAddrPort("[2001:db8::250]:4739")
)

// capFlows returns n distinct flows from start on (millisecond times) that
// set every field some template can carry; every 10th is ICMP (echo
// request or port unreachable, type<<8|code in the destination port, as
// v5 and v9 exporters do). Values fit v5 fields.
func capFlows(n int, start int64, v6 bool) []flow.Record {
	out := make([]flow.Record, n)
	for i := range out {
		t := start + int64(i)*1237*capMs
		r := flow.Record{
			Start: t, End: t + int64(i%17)*311*capMs,
			SrcPort: uint16(33000 + i), DstPort: []uint16{443, 53, 80, 22}[i%4], Proto: flow.ProtoTCP,
			TCPFlags: flow.SYN | flow.ACK | flow.FIN, Bytes: uint64(40 + i*1001), Packets: uint64(1 + i%23),
			RevBytes: uint64(60 + i*7), RevPackets: uint64(1 + i%5), PostBytes: uint64(39 + i), PostPackets: uint64(2 + i%3),
			InIf: uint32(1 + i%5), OutIf: uint32(10 + i%3), SrcAS: uint32(64496 + i%10), DstAS: uint32(65000 + i%7),
			VLAN: uint16(100 + i%4), Dir: flow.Direction(1 + i%2), NATSrcPort: uint16(1024 + i), NATDstPort: 8443,
			SamplingInterval: 1,
		}
		if r.DstPort == 53 {
			r.Proto, r.TCPFlags = flow.ProtoUDP, 0
		}
		b := [4]byte{10, 1, byte(i >> 8), byte(i)}
		r.SrcAddr, r.DstAddr = netip.AddrFrom4(b), netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 13)})
		r.NextHop, r.NATSrcAddr, r.NATDstAddr = netip.MustParseAddr("192.0.2.254"), netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), netip.MustParseAddr("203.0.113.250")
		if v6 {
			r.SrcAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 1, 14: byte(i >> 8), 15: byte(i)})
			r.DstAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 2, 15: byte(i % 13)})
			r.NextHop, r.NATSrcAddr, r.NATDstAddr = netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8:ff::1"), netip.MustParseAddr("2001:db8:ff::2")
		}
		if i%10 == 9 {
			r.Proto, r.TCPFlags, r.SrcPort, r.ICMPType, r.ICMPCode = flow.ProtoICMP, 0, 0, 8, 0
			if i%20 == 19 {
				r.ICMPType, r.ICMPCode = 3, 3
			}
			if v6 {
				r.Proto, r.ICMPType, r.ICMPCode = flow.ProtoICMPv6, 128, 0
			}
			r.DstPort = uint16(r.ICMPType)<<8 | uint16(r.ICMPCode)
		}
		out[i] = r
	}
	return out
}

// sampled returns a copy of recs with the sampling interval the decoder
// must find (from options data) stated in each.
func sampled(recs []flow.Record, interval uint32) []flow.Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].SamplingInterval = interval
	}
	return out
}

// capBuild is a capture being built and the rows it must give.
type capBuild struct {
	t    *testing.T
	dgs  []nfgen.Datagram
	want []flow.Record
}

// send adds export packets of e, captured at `at` (plus a microsecond per
// packet), sent to a collector of e's address family.
func (c *capBuild) send(e *nfgen.Exporter, at int64, pkts ...[]byte) {
	coll := capColl4
	if e.Addr.Addr().Is6() {
		coll = capColl6
	}
	c.dgs = append(c.dgs, nfgen.Datagrams(e.Addr, coll, at, pkts...)...)
}

// pkt finishes a packet or stops the test.
func (c *capBuild) pkt(p *nfgen.Packet) []byte {
	c.t.Helper()
	b, err := p.Bytes()
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// expect adds the rows that recs, encoded by e with template id, must
// give. Call it while the template is the one the records are encoded with.
func (c *capBuild) expect(e *nfgen.Exporter, id uint16, recs []flow.Record) []flow.Record {
	c.t.Helper()
	for _, r := range recs {
		x, err := e.Expect(id, r)
		if err != nil {
			c.t.Fatal(err)
		}
		c.want = append(c.want, x)
	}
	return recs
}

// data encodes recs in packets of e exported at now and expects their rows.
func (c *capBuild) data(e *nfgen.Exporter, now int64, id uint16, recs []flow.Record) [][]byte {
	c.t.Helper()
	pkts, err := e.AppendData(nil, now, id, c.expect(e, id, recs))
	if err != nil {
		c.t.Fatal(err)
	}
	return pkts
}

func (c *capBuild) write(name string) string {
	c.t.Helper()
	path := filepath.Join(c.t.TempDir(), name)
	if err := nfgen.WriteFile(path, c.dgs); err != nil {
		c.t.Fatal(err)
	}
	return path
}

func define(t *testing.T, e *nfgen.Exporter, ts ...nfgen.Template) {
	t.Helper()
	if err := e.Define(ts...); err != nil {
		t.Fatal(err)
	}
}

func capStore(t testing.TB) *index.Store {
	t.Helper()
	st, err := index.Open(t.TempDir(), index.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// capIngest runs an ingest of paths and fails on any file error.
func capIngest(t testing.TB, st *index.Store, paths ...string) *Summary {
	t.Helper()
	return ingestWith(t, st, Options{Version: "test"}, paths...)
}

// ingestWith runs an ingest of paths with opt and fails on any file error.
func ingestWith(t testing.TB, st *index.Store, opt Options, paths ...string) *Summary {
	t.Helper()
	sum, err := Run(st, paths, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sum.Files {
		if f.Err != nil {
			t.Fatalf("%s: %v", f.Path, f.Err)
		}
	}
	return sum
}

func capRows(t *testing.T, st *index.Store) []flow.Record {
	t.Helper()
	var out []flow.Record
	if _, err := st.Scan(index.Everything(), func(r *flow.Record) bool {
		out = append(out, *r)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func withSource(recs []flow.Record, id uint32) []flow.Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].SourceID = id
	}
	return out
}

// compareRows compares rows as multisets (the store returns them in time
// order, not in packet order), every field included; it names the fields
// of each unexpected row that differ from the closest expected one.
func compareRows(t *testing.T, got, want []flow.Record) {
	t.Helper()
	count := map[flow.Record]int{}
	for _, w := range want {
		count[w]++
	}
	var extra []flow.Record
	for _, g := range got {
		if count[g] > 0 {
			count[g]--
		} else {
			extra = append(extra, g)
		}
	}
	var missing []flow.Record
	for _, w := range want {
		if count[w] > 0 {
			count[w]--
			missing = append(missing, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d", len(got), len(want))
	}
	for i, g := range extra {
		if i == 5 {
			t.Errorf("... %d more unexpected rows", len(extra)-5)
			break
		}
		t.Errorf("unexpected row %s", describeDiff(g, missing))
	}
	if len(extra) == 0 {
		for i, w := range missing {
			if i == 5 {
				t.Errorf("... %d more missing rows", len(missing)-5)
				break
			}
			t.Errorf("missing row %+v", w)
		}
	}
}

// describeDiff shows g against the expected row differing in the fewest
// fields.
func describeDiff(g flow.Record, cands []flow.Record) string {
	best, bestN := "", 1<<30
	gv := reflect.ValueOf(g)
	for _, w := range cands {
		wv := reflect.ValueOf(w)
		var d []string
		for i := 0; i < gv.NumField(); i++ {
			if !gv.Field(i).Equal(wv.Field(i)) {
				d = append(d, fmt.Sprintf("%s got %v want %v", gv.Type().Field(i).Name, gv.Field(i), wv.Field(i)))
			}
		}
		if len(d) < bestN {
			best, bestN = strings.Join(d, ", "), len(d)
		}
	}
	return fmt.Sprintf("%+v: %s", g, best)
}

// captureExtra is what a capture source keeps in Source.Extra.
type captureExtra struct {
	Exporters        []exporterStats `json:"exporters"`
	Waiting          []waiting       `json:"waiting"`
	ExportPackets    uint64          `json:"export_packets"`
	DuplicatePackets uint64          `json:"duplicate_packets"`
	FlowsBefore1990  uint64          `json:"flows_before_1990"`
	OtherUDP         uint64          `json:"other_udp"`
	Lookalikes       uint64          `json:"lookalike_datagrams"`
}

// capSource returns the store's source of an ingested file and its extra.
func capSource(t *testing.T, st *index.Store, res FileResult) (*index.Source, captureExtra) {
	t.Helper()
	srcs, err := st.Sources()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.SHA256 == res.SHA256 {
			var x captureExtra
			if err := json.Unmarshal(s.Extra, &x); err != nil {
				t.Fatalf("%s extra: %v", res.Path, err)
			}
			return s, x
		}
	}
	t.Fatalf("no source for %s", res.Path)
	return nil, captureExtra{}
}

func exporterOf(t *testing.T, x captureExtra, addr string, domain uint32, version uint16) exporterStats {
	t.Helper()
	for _, e := range x.Exporters {
		if e.Address == addr && e.ObservationDomain == domain && slices.Contains(e.Versions, version) {
			return e
		}
	}
	t.Fatalf("no exporter statistics for %s domain %d v%d in %+v", addr, domain, version, x.Exporters)
	return exporterStats{}
}

// ingestOne ingests one built capture into a new store and checks its
// rows, its source's flow count, and that nothing was rejected or left
// waiting.
func ingestOne(t *testing.T, c *capBuild) (*index.Store, FileResult) {
	t.Helper()
	st := capStore(t)
	res := capIngest(t, st, c.write("case.pcap")).Files[0]
	src, x := capSource(t, st, res)
	compareRows(t, capRows(t, st), withSource(c.want, src.ID))
	if src.Flows != int64(len(c.want)) || res.Flows != int64(len(c.want)) {
		t.Errorf("got source flows %d (result %d), want %d", src.Flows, res.Flows, len(c.want))
	}
	if len(res.Rejected) != 0 || len(x.Waiting) != 0 || len(res.Notes) != 0 {
		t.Errorf("got rejected %v, waiting %v, notes %q; want none", res.Rejected, x.Waiting, res.Notes)
	}
	return st, res
}

var (
	exp4  = netip.MustParseAddrPort("192.0.2.1:2055")
	exp4b = netip.MustParseAddrPort("192.0.2.2:2055")
	exp6  = netip.MustParseAddrPort("[2001:db8::1]:4739")
)

// TestCaptureCases ingests one capture per case and compares every row.
func TestCaptureCases(t *testing.T) {
	cases := []struct {
		name  string
		build func(t *testing.T, c *capBuild)
	}{
		{"v5 sampled, engine 1/2", buildV5},
		{"v9 IPv4 and IPv6 flows", buildV9Families},
		{"v9 from an IPv6 exporter", buildV9IPv6Exporter},
		{"IPFIX from an IPv6 exporter, every time element", buildIPFIXTimes},
		{"v9 sysUptime wrap", func(t *testing.T, c *capBuild) { buildUptimeWrap(t, c, 9) }},
		{"v5 sysUptime wrap", func(t *testing.T, c *capBuild) { buildUptimeWrap(t, c, 5) }},
		{"IPFIX enterprise, variable-length and dual-stack fields", buildIPFIXEnterprise},
		{"IPFIX RFC 5103 reverse counters", buildIPFIXBiflow},
		{"v9 options sampling", buildV9Sampling},
		{"IPFIX options sampling", buildIPFIXSampling},
		{"IPFIX template withdrawal and reuse", buildIPFIXWithdrawal},
		{"v9 template id reused with other fields", buildV9Reuse},
		{"two exporters, ports and domains reuse template 256 (v9)", func(t *testing.T, c *capBuild) { buildSharedID(t, c, 9) }},
		{"two exporters, ports and domains reuse template 256 (IPFIX)", func(t *testing.T, c *capBuild) { buildSharedID(t, c, 10) }},
		{"v9 header count without templates (softflowd)", buildSoftflowdCount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &capBuild{t: t}
			tc.build(t, c)
			ingestOne(t, c)
		})
	}
}

func buildV5(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 5, Domain: 1<<8 | 2, Boot: capBase - 7*capDay, Sampling: 100}
	now := capBase + 10*capMin
	c.send(e, now, c.data(e, now, 0, capFlows(75, capBase, false))...)
}

func buildV9Families(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 5, Boot: capBase - 3*capDay}
	define(t, e, nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()}, nfgen.Template{ID: 257, Fields: nfgen.IPv6Fields()})
	now := capBase + 5*capMin
	v4, v6 := capFlows(70, capBase, false), capFlows(45, capBase, true)
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(256, c.expect(e, 256, v4[:10])...).Data(257, c.expect(e, 257, v6[:10])...)))
	c.send(e, now, c.data(e, now, 256, v4[10:])...)
	c.send(e, now, c.data(e, now, 257, v6[10:])...)
}

func buildV9IPv6Exporter(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("[2001:db8::9]:9995"), Version: 9, Domain: 7, Boot: capBase - capDay}
	define(t, e, nfgen.Template{ID: 1024, Fields: nfgen.IPv6Fields()}, nfgen.Template{ID: 1025, Fields: nfgen.CompactFields()})
	now := capBase + 5*capMin
	c.send(e, now, c.pkt(e.Begin(now).Templates()))
	c.send(e, now, c.data(e, now, 1024, capFlows(64, capBase, true))...)
	c.send(e, now, c.data(e, now, 1025, capFlows(31, capBase, false))...)
}

// buildIPFIXTimes uses every time element the decoder knows, each in its
// own template, with records as fine as the element allows.
func buildIPFIXTimes(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp6, Version: 10, Domain: 3, Boot: capBase - 10*capDay + 125*capMs}
	base := []nfgen.Field{
		{ID: nfgen.SourceIPv6Address, Length: 16}, {ID: nfgen.DestinationIPv6Address, Length: 16},
		{ID: nfgen.SourceTransportPort, Length: 2}, {ID: nfgen.DestinationTransportPort, Length: 2},
		{ID: nfgen.ProtocolIdentifier, Length: 1}, {ID: nfgen.OctetDeltaCount, Length: 8}, {ID: nfgen.PacketDeltaCount, Length: 4},
	}
	times := []struct {
		id     uint16
		fields []nfgen.Field
		unit   int64 // record times are multiples of unit, plus a sub-unit offset below
		offset int64
	}{
		{300, []nfgen.Field{{ID: nfgen.FlowStartSeconds, Length: 4}, {ID: nfgen.FlowEndSeconds, Length: 4}}, capSec, 0},
		{301, []nfgen.Field{{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowDurationMilliseconds, Length: 4}}, capMs, 0},
		{302, []nfgen.Field{{ID: nfgen.FlowStartMicroseconds, Length: 8}, {ID: nfgen.FlowEndMicroseconds, Length: 8}}, capMs, 123_000},
		{303, []nfgen.Field{{ID: nfgen.FlowStartNanoseconds, Length: 8}, {ID: nfgen.FlowEndNanoseconds, Length: 8}}, capMs, 456_789},
		{304, []nfgen.Field{{ID: nfgen.FlowStartDeltaMicroseconds, Length: 4}, {ID: nfgen.FlowEndDeltaMicroseconds, Length: 4}}, capMs, 7_000},
		{305, []nfgen.Field{{ID: nfgen.FlowEndMilliseconds, Length: 8}, {ID: nfgen.FlowDurationMicroseconds, Length: 4}}, capMs, 0},
		{306, []nfgen.Field{{ID: nfgen.FlowStartSysUpTime, Length: 4}, {ID: nfgen.FlowEndSysUpTime, Length: 4}}, capMs, 0},
	}
	for _, tm := range times {
		define(t, e, nfgen.Template{ID: tm.id, Fields: append(slices.Clone(base), tm.fields...)})
	}
	define(t, e, nfgen.Template{ID: 310, Scope: 1, Fields: []nfgen.Field{
		{ID: nfgen.ObservationDomainID, Length: 4, Value: 3}, {ID: nfgen.SystemInitTimeMilliseconds, Length: 8}}})
	now := capBase + 10*capMin
	p := e.Begin(now).Templates().Options(310, []uint64{3, uint64(e.Boot / capMs)})
	for i, tm := range times {
		recs := capFlows(12, capBase+int64(i)*capMin, true)
		for j := range recs {
			r := &recs[j]
			r.Start = r.Start/tm.unit*tm.unit + tm.offset
			r.End = max(r.End/tm.unit*tm.unit+tm.offset, r.Start)
		}
		p.Data(tm.id, c.expect(e, tm.id, recs)...)
	}
	c.send(e, now, c.pkt(p))
}

// buildUptimeWrap: the exporter booted 50 days before, so its 32-bit
// millisecond uptime wrapped about 7 hours ago; flows before, across and
// after the wrap, one 3 days old and one ending after the export time
// (an exporter stamping its header before its last flow).
func buildUptimeWrap(t *testing.T, c *capBuild, version uint16) {
	boot := capBase - 50*capDay
	wrap := boot + (1<<32)*capMs
	e := &nfgen.Exporter{Addr: exp4, Version: version, Domain: 1, Boot: boot}
	if version == 9 {
		define(t, e, nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()})
	}
	now := wrap + 40*capMin
	recs := capFlows(40, wrap-20*capMin, false)
	recs[0].Start, recs[0].End = wrap-10*capMin, wrap+5*capMin
	recs[1].Start, recs[1].End = wrap-2*capSec, wrap+capSec
	recs[2].Start, recs[2].End = wrap-1*capMs, wrap
	recs[3].Start, recs[3].End = wrap, wrap+capMs
	recs[4].Start, recs[4].End = now-3*capDay, now-3*capDay+capMin
	recs[5].Start, recs[5].End = now-capSec, now+2*capSec
	if version == 9 {
		c.send(e, now, c.pkt(e.Begin(now).Templates()))
	}
	c.send(e, now, c.data(e, now, 256, recs)...)
}

// buildIPFIXEnterprise: a Cisco fixed-length and an ntop variable-length
// enterprise element, IANA variable-length strings with 1- and 3-byte
// lengths (one empty), RFC 5103 reverse elements the decoder does not map,
// and a dual-stack template (IPv4 and IPv6 fields, the unused family zero)
// for IPv4 and IPv6 flows.
func buildIPFIXEnterprise(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 10, Domain: 77}
	define(t, e, nfgen.Template{ID: 400, Fields: []nfgen.Field{
		{ID: nfgen.SourceIPv4Address, Length: 4}, {ID: nfgen.DestinationIPv4Address, Length: 4},
		{ID: 12235, Length: 4, PEN: 9, Value: 0xdeadbeef},
		{ID: nfgen.SourceIPv6Address, Length: 16}, {ID: nfgen.DestinationIPv6Address, Length: 16},
		{ID: nfgen.ApplicationName, Length: nfgen.VarLen, Size: 5},
		{ID: 118, Length: nfgen.VarLen, PEN: 35632, Size: 300},
		{ID: nfgen.InterfaceName, Length: nfgen.VarLen, Size: 0, Long: true},
		{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowEndMilliseconds, Length: 8},
		{ID: nfgen.OctetDeltaCount, Length: 8}, {ID: nfgen.PacketDeltaCount, Length: 8},
		{ID: nfgen.TCPControlBits, Length: 2, PEN: nfgen.PENReverse, Value: 0x12},
		{ID: nfgen.SourceTransportPort, Length: 2}, {ID: nfgen.DestinationTransportPort, Length: 2},
		{ID: nfgen.ProtocolIdentifier, Length: 1}, {ID: nfgen.TCPControlBits, Length: 2},
		{ID: nfgen.ICMPTypeCodeIPv4, Length: 2}, {ID: nfgen.ICMPTypeCodeIPv6, Length: 2},
		{ID: nfgen.IngressInterface, Length: 4}, {ID: nfgen.EgressInterface, Length: 4},
		{ID: nfgen.BGPSourceASNumber, Length: 4}, {ID: nfgen.BGPDestinationASNumber, Length: 4},
		{ID: nfgen.IPNextHopIPv4Address, Length: 4}, {ID: nfgen.IPNextHopIPv6Address, Length: 16},
		{ID: nfgen.VLANID, Length: 2}, {ID: nfgen.FlowDirection, Length: 1},
		{ID: nfgen.PostOctetDeltaCount, Length: 8}, {ID: nfgen.PostPacketDeltaCount, Length: 8},
		{ID: nfgen.PostNATSourceIPv4Address, Length: 4}, {ID: nfgen.PostNATDestinationIPv4Address, Length: 4},
		{ID: nfgen.PostNATSourceIPv6Address, Length: 16}, {ID: nfgen.PostNATDestinationIPv6Address, Length: 16},
		{ID: nfgen.PostNAPTSourceTransportPort, Length: 2}, {ID: nfgen.PostNAPTDestinationTransportPort, Length: 2},
		{ID: 9999, Length: 16, PEN: 2636, Value: 42},
	}})
	now := capBase + 10*capMin
	recs := append(capFlows(20, capBase, false), capFlows(20, capBase+capMin, true)...)
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(400, c.expect(e, 400, recs[:3])...)))
	c.send(e, now, c.data(e, now, 400, recs[3:])...)
}

// buildIPFIXBiflow: RFC 5103 reverse delta and total counters (PEN
// 29305), and the NSEL initiator/responder counters.
func buildIPFIXBiflow(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp6, Version: 10, Domain: 1}
	key := []nfgen.Field{
		{ID: nfgen.SourceIPv6Address, Length: 16}, {ID: nfgen.DestinationIPv6Address, Length: 16},
		{ID: nfgen.SourceTransportPort, Length: 2}, {ID: nfgen.DestinationTransportPort, Length: 2},
		{ID: nfgen.ProtocolIdentifier, Length: 1},
		{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowEndMilliseconds, Length: 8},
	}
	define(t, e,
		nfgen.Template{ID: 500, Fields: append(slices.Clone(key),
			nfgen.Field{ID: nfgen.OctetDeltaCount, Length: 8}, nfgen.Field{ID: nfgen.PacketDeltaCount, Length: 4},
			nfgen.Field{ID: nfgen.OctetDeltaCount, Length: 8, PEN: nfgen.PENReverse}, nfgen.Field{ID: nfgen.PacketDeltaCount, Length: 4, PEN: nfgen.PENReverse})},
		nfgen.Template{ID: 501, Fields: append(slices.Clone(key),
			nfgen.Field{ID: nfgen.PacketTotalCount, Length: 8, PEN: nfgen.PENReverse}, nfgen.Field{ID: nfgen.OctetTotalCount, Length: 8, PEN: nfgen.PENReverse},
			nfgen.Field{ID: nfgen.OctetTotalCount, Length: 8}, nfgen.Field{ID: nfgen.PacketTotalCount, Length: 8})},
		nfgen.Template{ID: 502, Fields: append(slices.Clone(key),
			nfgen.Field{ID: nfgen.InitiatorOctets, Length: 8}, nfgen.Field{ID: nfgen.ResponderOctets, Length: 8},
			nfgen.Field{ID: nfgen.InitiatorPackets, Length: 8}, nfgen.Field{ID: nfgen.ResponderPackets, Length: 8})},
	)
	now := capBase + 10*capMin
	c.send(e, now, c.pkt(e.Begin(now).Templates()))
	for i, id := range []uint16{500, 501, 502} {
		c.send(e, now, c.data(e, now, id, capFlows(35, capBase+int64(i)*capMin, true))...)
	}
}

// buildV9Sampling: options data give the domain a default interval (100,
// SAMPLING_INTERVAL) and two samplers (FLOW_SAMPLER_ID 5 -> 64 and 6 ->
// 512); records name their sampler, none, or carry their own interval.
func buildV9Sampling(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 2, Boot: capBase - capDay}
	withSampler := func(id uint64) []nfgen.Field {
		return append(nfgen.IPv4Fields(), nfgen.Field{ID: nfgen.SamplerID, Length: 1, Value: id})
	}
	define(t, e,
		nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()},
		nfgen.Template{ID: 257, Fields: withSampler(5)},
		nfgen.Template{ID: 258, Fields: withSampler(6)},
		nfgen.Template{ID: 259, Fields: append(nfgen.IPv4Fields(), nfgen.Field{ID: nfgen.SamplingInterval, Length: 4})},
		nfgen.Template{ID: 260, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ScopeSystem, Length: 4},
			{ID: nfgen.SamplingInterval, Length: 4}, {ID: nfgen.SamplingAlgorithm, Length: 1}}},
		nfgen.Template{ID: 261, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ScopeSystem, Length: 4},
			{ID: nfgen.SamplerID, Length: 1}, {ID: nfgen.SamplerMode, Length: 1}, {ID: nfgen.SamplerRandomInterval, Length: 4}}},
	)
	now := capBase + 10*capMin
	c.send(e, now, c.pkt(e.Begin(now).Templates().Options(260, []uint64{0, 100, 2}).Options(261, []uint64{0, 5, 2, 64}, []uint64{0, 6, 2, 512})))
	c.send(e, now, c.data(e, now, 256, sampled(capFlows(31, capBase, false), 100))...)
	c.send(e, now, c.data(e, now, 257, sampled(capFlows(12, capBase+capMin, false), 64))...)
	c.send(e, now, c.data(e, now, 258, sampled(capFlows(12, capBase+2*capMin, false), 512))...)
	c.send(e, now, c.data(e, now, 259, sampled(capFlows(12, capBase+3*capMin, false), 10))...)
}

// buildIPFIXSampling: options data with samplingPacketInterval and
// samplingPacketSpace (1 in 100) for the domain, and (1 in 1024) for
// selector 7, which some records name.
func buildIPFIXSampling(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp6, Version: 10, Domain: 12}
	ms := []nfgen.Field{
		{ID: nfgen.SourceIPv6Address, Length: 16}, {ID: nfgen.DestinationIPv6Address, Length: 16},
		{ID: nfgen.SourceTransportPort, Length: 2}, {ID: nfgen.DestinationTransportPort, Length: 2}, {ID: nfgen.ProtocolIdentifier, Length: 1},
		{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowEndMilliseconds, Length: 8},
		{ID: nfgen.OctetDeltaCount, Length: 4}, {ID: nfgen.PacketDeltaCount, Length: 4},
	}
	define(t, e,
		nfgen.Template{ID: 256, Fields: ms},
		nfgen.Template{ID: 257, Fields: append(slices.Clone(ms), nfgen.Field{ID: nfgen.SelectorID, Length: 8, Value: 7})},
		nfgen.Template{ID: 258, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ObservationDomainID, Length: 4},
			{ID: nfgen.SamplingPacketInterval, Length: 4}, {ID: nfgen.SamplingPacketSpace, Length: 4}}},
		nfgen.Template{ID: 259, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.SelectorID, Length: 8},
			{ID: nfgen.SamplingPacketInterval, Length: 4}, {ID: nfgen.SamplingPacketSpace, Length: 4}}},
	)
	now := capBase + 10*capMin
	c.send(e, now, c.pkt(e.Begin(now).Templates().Options(258, []uint64{12, 1, 99}).Options(259, []uint64{7, 1, 1023})))
	c.send(e, now, c.data(e, now, 256, sampled(capFlows(40, capBase, true), 100))...)
	c.send(e, now, c.data(e, now, 257, sampled(capFlows(40, capBase+capMin, true), 1024))...)
}

// buildIPFIXWithdrawal: template 256 used, withdrawn, its id reused with
// other fields (data sent before the new template waits for it), then
// every template withdrawn and 256 and 257 defined again.
func buildIPFIXWithdrawal(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 10, Domain: 4}
	l1 := []nfgen.Field{
		{ID: nfgen.SourceIPv4Address, Length: 4}, {ID: nfgen.DestinationIPv4Address, Length: 4},
		{ID: nfgen.FlowStartSeconds, Length: 4}, {ID: nfgen.FlowEndSeconds, Length: 4},
		{ID: nfgen.OctetDeltaCount, Length: 4}, {ID: nfgen.ProtocolIdentifier, Length: 1},
	}
	l2 := []nfgen.Field{
		{ID: nfgen.ProtocolIdentifier, Length: 1}, {ID: nfgen.SourceIPv6Address, Length: 16}, {ID: nfgen.DestinationIPv6Address, Length: 16},
		{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowEndMilliseconds, Length: 8},
		{ID: nfgen.OctetDeltaCount, Length: 8}, {ID: nfgen.PacketDeltaCount, Length: 8},
		{ID: nfgen.SourceTransportPort, Length: 2}, {ID: nfgen.DestinationTransportPort, Length: 2},
	}
	secs := func(recs []flow.Record) []flow.Record {
		for i := range recs {
			recs[i].Start, recs[i].End = recs[i].Start/capSec*capSec, recs[i].End/capSec*capSec
		}
		return recs
	}
	now := capBase + 10*capMin
	define(t, e, nfgen.Template{ID: 256, Fields: l1})
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(256, c.expect(e, 256, secs(capFlows(10, capBase, false)))...)))
	c.send(e, now+capSec, c.pkt(e.Begin(now+capSec).Withdraw(256)))
	define(t, e, nfgen.Template{ID: 256, Fields: l2})
	c.send(e, now+2*capSec, c.data(e, now+2*capSec, 256, capFlows(10, capBase+capMin, true))...) // before its template
	c.send(e, now+3*capSec, c.pkt(e.Begin(now+3*capSec).Templates(256).Data(256, c.expect(e, 256, capFlows(10, capBase+2*capMin, true))...)))
	c.send(e, now+4*capSec, c.pkt(e.Begin(now+4*capSec).WithdrawAll(false)))
	define(t, e, nfgen.Template{ID: 256, Fields: l1}, nfgen.Template{ID: 257, Fields: l2})
	c.send(e, now+5*capSec, c.pkt(e.Begin(now+5*capSec).Templates().
		Data(256, c.expect(e, 256, secs(capFlows(10, capBase+3*capMin, false)))...).
		Data(257, c.expect(e, 257, capFlows(10, capBase+4*capMin, true))...)))
}

// buildV9Reuse: v9 has no withdrawal; a template resent with the same id
// and other fields replaces the old one.
func buildV9Reuse(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 0, Boot: capBase - capDay}
	now := capBase + 10*capMin
	define(t, e, nfgen.Template{ID: 300, Fields: nfgen.IPv4Fields()})
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(300, c.expect(e, 300, capFlows(20, capBase, false))...)))
	define(t, e, nfgen.Template{ID: 300, Fields: nfgen.IPv6Fields()})
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(300, c.expect(e, 300, capFlows(20, capBase+capMin, true))...)))
	define(t, e, nfgen.Template{ID: 300, Fields: nfgen.CompactFields()})
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(300, c.expect(e, 300, capFlows(20, capBase+2*capMin, false))...)))
}

// buildSharedID: two exporters, a second UDP port of the first, and a
// second domain of the first each use template 256 with a layout of
// their own, their packets interleaved. The second exporter's first data
// comes before its template while the first exporter's 256 is known: it
// must wait, not decode with the other layout.
func buildSharedID(t *testing.T, c *capBuild, version uint16) {
	port2 := netip.AddrPortFrom(exp4.Addr(), 2056)
	es := []*nfgen.Exporter{
		{Addr: exp4, Version: version, Domain: 0, Boot: capBase - capDay},
		{Addr: exp4b, Version: version, Domain: 0, Boot: capBase - 2*capDay},
		{Addr: port2, Version: version, Domain: 0, Boot: capBase - 3*capDay},
		{Addr: exp4, Version: version, Domain: 1, Boot: capBase - 4*capDay},
	}
	reversed := nfgen.CompactFields()
	slices.Reverse(reversed)
	layouts := [][]nfgen.Field{nfgen.IPv4Fields(), nfgen.CompactFields(), reversed, nfgen.IPv4Fields()[:11]}
	for i, e := range es {
		if version == 10 {
			layouts[i] = msTimes(layouts[i])
		}
		define(t, e, nfgen.Template{ID: 256, Fields: layouts[i]})
	}
	now := capBase + 10*capMin
	c.send(es[0], now, c.pkt(es[0].Begin(now).Templates()))
	early := c.data(es[1], now, 256, capFlows(30, capBase+capMin, false))
	c.send(es[1], now, early...)
	for _, e := range es[1:] {
		c.send(e, now, c.pkt(e.Begin(now).Templates()))
	}
	for round := range 3 {
		for i, e := range es {
			c.send(e, now, c.data(e, now, 256, capFlows(17, capBase+int64(10*round+i)*capMin, false))...)
		}
	}
}

// msTimes replaces sysUptime times by flowStart/EndMilliseconds (IPFIX
// uptime times need systemInitTimeMilliseconds options data).
func msTimes(fs []nfgen.Field) []nfgen.Field {
	out := slices.Clone(fs)
	for i, f := range out {
		switch f.ID {
		case nfgen.FlowStartSysUpTime:
			out[i] = nfgen.Field{ID: nfgen.FlowStartMilliseconds, Length: 8}
		case nfgen.FlowEndSysUpTime:
			out[i] = nfgen.Field{ID: nfgen.FlowEndMilliseconds, Length: 8}
		}
	}
	return out
}

// buildSoftflowdCount: v9 packets with templates, options and data whose
// header count leaves templates and options records out.
func buildSoftflowdCount(t *testing.T, c *capBuild) {
	e := &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 0, Boot: capBase - capDay, SoftflowdCount: true}
	define(t, e, nfgen.Template{ID: 1024, Fields: nfgen.IPv4Fields()}, nfgen.Template{ID: 1025, Fields: nfgen.IPv6Fields()},
		nfgen.Template{ID: 256, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ScopeInterface, Length: 4},
			{ID: nfgen.SamplingInterval, Length: 4, Value: 1}, {ID: nfgen.SamplingAlgorithm, Length: 1, Value: 1}, {ID: nfgen.InterfaceName, Length: 16}}})
	now := capBase + 10*capMin
	for i := range 3 {
		v4, v6 := capFlows(20, capBase+int64(i)*capMin, false), capFlows(5, capBase+int64(i)*capMin, true)
		c.send(e, now, c.pkt(e.Begin(now).Templates().Options(256, nil).
			Data(1024, c.expect(e, 1024, v4)...).Data(1025, c.expect(e, 1025, v6)...)))
	}
}

// reopen closes the store and opens it again from disk.
func reopen(t *testing.T, st *index.Store) *index.Store {
	t.Helper()
	dir := st.Dir()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// persistExporters are a v9 exporter with sampling options and an IPFIX
// exporter over IPv6 whose times count from systemInitTimeMilliseconds;
// they return their template (and options) packets.
func persistExporters(t *testing.T, c *capBuild, now int64) (v9, ipfix *nfgen.Exporter, tpl [][]byte) {
	v9 = &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 5, Boot: capBase - 2*capDay}
	define(t, v9, nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()},
		nfgen.Template{ID: 257, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ScopeSystem, Length: 4}, {ID: nfgen.SamplingInterval, Length: 4}}})
	ipfix = &nfgen.Exporter{Addr: exp6, Version: 10, Domain: 9, Boot: capBase - 5*capDay}
	define(t, ipfix, nfgen.Template{ID: 256, Fields: nfgen.IPv6Fields()},
		nfgen.Template{ID: 257, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ObservationDomainID, Length: 4, Value: 9},
			{ID: nfgen.SystemInitTimeMilliseconds, Length: 8, Value: uint64(ipfix.Boot / capMs)},
			{ID: nfgen.SamplingPacketInterval, Length: 4, Value: 1}, {ID: nfgen.SamplingPacketSpace, Length: 4, Value: 49}}})
	tpl = [][]byte{c.pkt(v9.Begin(now).Templates().Options(257, []uint64{0, 100})), c.pkt(ipfix.Begin(now).Templates().Options(257, nil))}
	return v9, ipfix, tpl
}

// TestCapturePersistedTemplates: the first capture holds only templates
// and options data, the second, ingested after the store was closed and
// opened again, only data: it decodes with the stored templates, sampling
// intervals and system init time.
func TestCapturePersistedTemplates(t *testing.T) {
	now := capBase + 10*capMin
	c1 := &capBuild{t: t}
	v9, ipfix, tpl := persistExporters(t, c1, now)
	c1.send(v9, now, tpl[0])
	c1.send(ipfix, now, tpl[1])
	c2 := &capBuild{t: t}
	c2.send(v9, now+capSec, c2.data(v9, now+capSec, 256, sampled(capFlows(65, capBase, false), 100))...)
	c2.send(ipfix, now+capSec, c2.data(ipfix, now+capSec, 256, sampled(capFlows(65, capBase, true), 50))...)

	st := capStore(t)
	r1 := capIngest(t, st, c1.write("templates.pcap")).Files[0]
	if r1.Flows != 0 || len(r1.Notes) != 0 {
		t.Errorf("templates only: got %d flows, notes %q; want 0, none", r1.Flows, r1.Notes)
	}
	st = reopen(t, st)
	r2 := capIngest(t, st, c2.write("data.pcap")).Files[0]
	src, x := capSource(t, st, r2)
	compareRows(t, capRows(t, st), withSource(c2.want, src.ID))
	if len(r2.Rejected) != 0 || len(x.Waiting) != 0 {
		t.Errorf("data only: got rejected %v, waiting %v; want none", r2.Rejected, x.Waiting)
	}
}

// TestCaptureDataBeforeTemplate: data sets that arrive before their
// template wait for it, later in the same capture or in a later ingest,
// and their rows keep the source they came from.
func TestCaptureDataBeforeTemplate(t *testing.T) {
	t.Run("same file", func(t *testing.T) {
		now := capBase + 10*capMin
		c := &capBuild{t: t}
		v9, ipfix, tpl := persistExporters(t, c, now)
		c.send(v9, now-capSec, c.data(v9, now-capSec, 256, sampled(capFlows(40, capBase, false), 100))...)
		c.send(ipfix, now-capSec, c.data(ipfix, now-capSec, 256, sampled(capFlows(40, capBase, true), 50))...)
		c.send(v9, now, tpl[0])
		c.send(ipfix, now, tpl[1])
		c.send(v9, now+capSec, c.data(v9, now+capSec, 256, sampled(capFlows(20, capBase+capMin, false), 100))...)
		ingestOne(t, c)
	})
	t.Run("later files", func(t *testing.T) {
		now := capBase + 10*capMin
		first := &capBuild{t: t}
		v9, ipfix, tpl := persistExporters(t, first, now)
		// a third exporter whose flows decode at once
		other := &nfgen.Exporter{Addr: exp4b, Version: 9, Domain: 0, Boot: capBase - capDay}
		define(t, other, nfgen.Template{ID: 256, Fields: nfgen.CompactFields()})
		first.send(other, now, first.pkt(other.Begin(now).Templates()))
		first.send(other, now, first.data(other, now, 256, capFlows(33, capBase, false))...)
		own := len(first.want)
		first.send(v9, now, first.data(v9, now, 256, sampled(capFlows(61, capBase, false), 100))...)
		first.send(ipfix, now, first.data(ipfix, now, 256, sampled(capFlows(32, capBase, true), 50))...)

		unrelated := &capBuild{t: t}
		later := now + capHour(1)
		unrelated.send(other, later, unrelated.data(other, later, 256, capFlows(5, capBase+capHour(1), false))...)

		last := &capBuild{t: t}
		later = now + capHour(2)
		last.send(v9, later, tpl[0])
		last.send(ipfix, later, tpl[1])
		last.send(v9, later, last.data(v9, later, 256, sampled(capFlows(7, capBase+capHour(2), false), 100))...)

		st := capStore(t)
		r1 := capIngest(t, st, first.write("first.pcap")).Files[0]
		src1, x1 := capSource(t, st, r1)
		compareRows(t, capRows(t, st), withSource(first.want[:own], src1.ID))
		wantWaiting := []waiting{
			{Exporter: "192.0.2.1", Port: 2055, ObservationDomain: 5, TemplateID: 256, Sets: 3},
			{Exporter: "2001:db8::1", Port: 4739, ObservationDomain: 9, TemplateID: 256, Sets: 2},
		}
		checkWaiting(t, "first ingest", x1.Waiting, wantWaiting)
		if r1.Flows != int64(own) || len(r1.Notes) != 2 || r1.Parked != 5 {
			t.Errorf("first ingest: got %d flows, notes %q; want %d and 2 notes on waiting data", r1.Flows, r1.Notes, own)
		}

		// A file that brings neither the templates nor waiting data of its
		// own says nothing of the first file's: the run's summary does.
		sum2 := capIngest(t, st, unrelated.write("unrelated.pcap"))
		r2 := sum2.Files[0]
		src2, x2 := capSource(t, st, r2)
		checkWaiting(t, "unrelated ingest", x2.Waiting, nil)
		if len(r2.Notes) != 0 || r2.Parked != 0 {
			t.Errorf("unrelated ingest: notes %q, %d parked; want none", r2.Notes, r2.Parked)
		}
		checkWaiting(t, "unrelated ingest's summary", sum2.Waiting, wantWaiting)
		_, stored, err := Exporters(st)
		if err != nil {
			t.Fatal(err)
		}
		checkWaiting(t, "store after the unrelated ingest", stored, wantWaiting)

		st = reopen(t, st)
		sum3 := capIngest(t, st, last.write("last.pcap"))
		r3 := sum3.Files[0]
		src3, x3 := capSource(t, st, r3)
		wantNote := fmt.Sprintf("5 data sets that earlier files left waiting were decoded, their templates known now: %d flows, counted to those files", len(first.want)-own)
		if !slices.Equal(r3.Notes, []string{wantNote}) || len(sum3.Waiting) != 0 {
			t.Errorf("last ingest: notes %q, waiting after %+v; want [%q], none", r3.Notes, sum3.Waiting, wantNote)
		}
		want := append(withSource(first.want, src1.ID), withSource(unrelated.want, src2.ID)...)
		want = append(want, withSource(last.want, src3.ID)...)
		compareRows(t, capRows(t, st), want)
		checkWaiting(t, "last ingest", x3.Waiting, nil)
		if _, stored, _ = Exporters(st); len(stored) != 0 {
			t.Errorf("store after the last ingest: got waiting %+v, want none", stored)
		}
		srcs, _ := st.Sources()
		for i, w := range []int{len(first.want), len(unrelated.want), len(last.want)} {
			if srcs[i].Flows != int64(w) {
				t.Errorf("source %d (%s): got %d flows, want %d", srcs[i].ID, filepath.Base(srcs[i].Path), srcs[i].Flows, w)
			}
		}
		if r3.Flows != int64(len(last.want)) {
			t.Errorf("last ingest: got %d flows of its own, want %d", r3.Flows, len(last.want))
		}
		// The parked sets are gone: the templates again decode nothing twice.
		again := &capBuild{t: t}
		again.send(v9, later+capMin, again.pkt(v9.Begin(later+capMin).Templates()))
		capIngest(t, st, again.write("again.pcap"))
		compareRows(t, capRows(t, st), want)
	})
}

func capHour(n int) int64 { return int64(n) * int64(time.Hour) }

func checkWaiting(t *testing.T, when string, got, want []waiting) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got waiting %+v, want %+v", when, got, want)
		return
	}
	for i := range got {
		g := got[i]
		g.Bytes = 0
		if g != want[i] || got[i].Bytes == 0 {
			t.Errorf("%s: got waiting %+v, want %+v (and bytes > 0)", when, got[i], want[i])
		}
	}
}

// dupExporter makes n data packets of 30 flows for one exporter of the
// version, led (v9/IPFIX) by a template packet; it returns the packets and
// the rows each gives.
func dupExporter(t *testing.T, version uint16, n int) (*nfgen.Exporter, [][]byte, [][]flow.Record) {
	c := &capBuild{t: t}
	e := &nfgen.Exporter{Addr: exp4, Version: version, Domain: 6, Boot: capBase - capDay}
	now := capBase + capHour(2)
	var pkts [][]byte
	var rows [][]flow.Record
	if version != 5 {
		fields := nfgen.IPv4Fields()
		if version == 10 {
			fields = msTimes(fields)
		}
		define(t, e, nfgen.Template{ID: 256, Fields: fields})
		pkts, rows = append(pkts, c.pkt(e.Begin(now).Templates())), append(rows, nil)
	}
	for i := range n {
		c.want = nil
		pkts = append(pkts, c.data(e, now, 256, capFlows(30, capBase+capHour(i%2)+int64(i)*capMin, false))...)
		rows = append(rows, c.want)
	}
	return e, pkts, rows
}

// TestCaptureDuplicates: export packets already decoded, in the same
// capture (recorded on two interfaces) or in an overlapping one, are
// skipped and counted, never stored twice.
func TestCaptureDuplicates(t *testing.T) {
	t.Run("every packet twice in one capture", func(t *testing.T) {
		e, pkts, rows := dupExporter(t, 9, 6)
		c := &capBuild{t: t, want: slices.Concat(rows...)}
		for _, p := range pkts {
			c.send(e, capBase+capHour(3), p, p)
		}
		st := capStore(t)
		res := capIngest(t, st, c.write("twice.pcap")).Files[0]
		src, x := capSource(t, st, res)
		compareRows(t, capRows(t, st), withSource(c.want, src.ID))
		es := exporterOf(t, x, "192.0.2.1", 6, 9)
		if x.DuplicatePackets != uint64(len(pkts)) || es.Duplicates != uint64(len(pkts)) || es.Packets != uint64(len(pkts)) {
			t.Errorf("got %d duplicate packets, exporter %+v; want %d duplicates and %d packets in domain 6",
				x.DuplicatePackets, es, len(pkts), len(pkts))
		}
		if len(x.Exporters) != 1 {
			t.Errorf("got exporter statistics %+v, want one entry", x.Exporters)
		}
	})
	t.Run("the same capture twice", func(t *testing.T) {
		e, pkts, rows := dupExporter(t, 10, 3)
		c := &capBuild{t: t, want: slices.Concat(rows...)}
		c.send(e, capBase+capHour(3), pkts...)
		st := capStore(t)
		path := c.write("once.pcap")
		capIngest(t, st, path)
		res := capIngest(t, st, path).Files[0]
		if !res.Duplicate || res.Flows != 0 {
			t.Errorf("second ingest: got duplicate %v, %d flows; want true, 0", res.Duplicate, res.Flows)
		}
		compareRows(t, capRows(t, st), withSource(c.want, 1))
		if srcs, _ := st.Sources(); len(srcs) != 1 {
			t.Errorf("got %d sources, want 1", len(srcs))
		}
	})
	for _, version := range []uint16{5, 9, 10} {
		t.Run(fmt.Sprintf("overlapping captures v%d", version), func(t *testing.T) {
			e, pkts, rows := dupExporter(t, version, 10)
			skip := 0
			if version != 5 {
				skip = 1 // the template packet
			}
			a, b := &capBuild{t: t}, &capBuild{t: t}
			a.send(e, capBase+capHour(3), pkts[:skip+7]...)
			b.send(e, capBase+capHour(3)+capSec, pkts[skip+4:]...)
			st := capStore(t)
			sum := capIngest(t, st, a.write("a.pcap"), b.write("b.pcap"))
			srcA, _ := capSource(t, st, sum.Files[0])
			srcB, x := capSource(t, st, sum.Files[1])
			want := append(withSource(slices.Concat(rows[:skip+7]...), srcA.ID), withSource(slices.Concat(rows[skip+7:]...), srcB.ID)...)
			compareRows(t, capRows(t, st), want)
			if x.DuplicatePackets != 3 || exporterOf(t, x, "192.0.2.1", 6, version).Duplicates != 3 {
				t.Errorf("second capture: got %d duplicate packets, statistics %+v; want 3", x.DuplicatePackets, x.Exporters)
			}
			if want := int64(len(slices.Concat(rows[skip+7:]...))); srcB.Flows != want {
				t.Errorf("second capture: got %d flows, want %d", srcB.Flows, want)
			}
		})
	}
	// An IPFIX exporter that sends its templates in a message of their own
	// before each data message: both carry the same sequence number (the
	// data records sent before), so the sequence number alone does not
	// identify a message.
	t.Run("overlapping captures, IPFIX template messages", func(t *testing.T) {
		e, _, _ := dupExporter(t, 10, 0)
		var pkts [][]byte
		var rows [][]flow.Record
		c := &capBuild{t: t}
		for i := range 6 {
			now := capBase + capHour(2) + int64(i)*capSec
			c.want = nil
			pkts = append(pkts, c.pkt(e.Begin(now).Templates()))
			pkts = append(pkts, c.data(e, now, 256, capFlows(30, capBase+int64(i)*capMin, false))...)
			rows = append(rows, c.want)
		}
		a, b := &capBuild{t: t}, &capBuild{t: t}
		a.send(e, capBase+capHour(3), pkts[:8]...) // messages 0-3
		b.send(e, capBase+capHour(3), pkts[4:]...) // messages 2-5
		st := capStore(t)
		sum := capIngest(t, st, a.write("a.pcap"), b.write("b.pcap"))
		srcA, _ := capSource(t, st, sum.Files[0])
		srcB, x := capSource(t, st, sum.Files[1])
		compareRows(t, capRows(t, st), append(withSource(slices.Concat(rows[:4]...), srcA.ID), withSource(slices.Concat(rows[4:]...), srcB.ID)...))
		if x.DuplicatePackets != 4 {
			t.Errorf("second capture: got %d duplicate packets, want 4", x.DuplicatePackets)
		}
	})
}

// TestCaptureExporterStats: per-source statistics and the store-wide
// Exporters summary: packets, flows, sequence gaps and lost units when
// export packets are missing from the capture, duplicates, versions,
// sampling from options data, clock skew.
func TestCaptureExporterStats(t *testing.T) {
	now := capBase + capHour(1)
	skew := 2500 * capMs
	c := &capBuild{t: t}
	// v9, domain 5: options sampling 1 in 100; data packets 3, 4 and 7
	// missing (two gaps, three packets lost); data packet 1 captured twice.
	v9 := &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 5, Boot: capBase - capDay}
	define(t, v9, nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()},
		nfgen.Template{ID: 257, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ScopeSystem, Length: 4}, {ID: nfgen.SamplingInterval, Length: 4, Value: 100}}})
	v9pkts := [][]byte{c.pkt(v9.Begin(now).Templates().Options(257, nil))}
	v9pkts, _ = v9.AppendData(v9pkts, now, 256, sampled(capFlows(300, capBase, false), 100))
	c.send(v9, now+skew, v9pkts[0], v9pkts[1], v9pkts[1], v9pkts[2], v9pkts[5], v9pkts[6], v9pkts[8], v9pkts[9], v9pkts[10])
	// v5, engine 0/3: packet 2 of 4 missing (30 flows lost).
	v5 := &nfgen.Exporter{Addr: exp4b, Version: 5, Domain: 3, Boot: capBase - capDay}
	v5pkts, _ := v5.AppendData(nil, now, 0, capFlows(120, capBase, false))
	c.send(v5, now+skew, v5pkts[0], v5pkts[1], v5pkts[3])
	// IPFIX over IPv6, domain 9: sampling 1 in 50; data message 2 of 5
	// missing (30 records lost).
	ipfix := &nfgen.Exporter{Addr: exp6, Version: 10, Domain: 9}
	define(t, ipfix, nfgen.Template{ID: 256, Fields: msTimes(nfgen.IPv6Fields())},
		nfgen.Template{ID: 257, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ObservationDomainID, Length: 4, Value: 9},
			{ID: nfgen.SamplingPacketInterval, Length: 4, Value: 1}, {ID: nfgen.SamplingPacketSpace, Length: 4, Value: 49}}})
	ipkts := [][]byte{c.pkt(ipfix.Begin(now).Templates().Options(257, nil))}
	ipkts, _ = ipfix.AppendData(ipkts, now, 256, capFlows(150, capBase, true))
	c.send(ipfix, now+skew, ipkts[0], ipkts[1], ipkts[3], ipkts[4], ipkts[5])
	// IPFIX, its first data message before the template: nothing lost.
	early := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.4:4739"), Version: 10, Domain: 1}
	define(t, early, nfgen.Template{ID: 256, Fields: msTimes(nfgen.IPv4Fields())})
	epkts, _ := early.AppendData(nil, now, 256, capFlows(30, capBase, false))
	epkts = append(epkts, c.pkt(early.Begin(now).Templates()))
	epkts, _ = early.AppendData(epkts, now, 256, capFlows(60, capBase+capMin, false))
	c.send(early, now+skew, epkts...)
	// IPFIX with softflowd's sequence numbers (flow records up to and
	// including the message): continuous, then data message 4 of 6 missing.
	sfd := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.6:4739"), Version: 10, Domain: 0, SoftflowdSequence: true}
	define(t, sfd, nfgen.Template{ID: 1024, Fields: msTimes(nfgen.IPv4Fields())},
		nfgen.Template{ID: 256, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.MeteringProcessID, Length: 4}, {ID: nfgen.SystemInitTimeMilliseconds, Length: 8}}})
	spkts := [][]byte{c.pkt(sfd.Begin(now).Templates().Options(256, nil).Data(1024, capFlows(24, capBase, false)...))}
	spkts, _ = sfd.AppendData(spkts, now, 1024, capFlows(150, capBase+capMin, false))
	c.send(sfd, now+skew, spkts[0], spkts[1], spkts[2], spkts[3], spkts[5])
	// one address and port exporting v9 and IPFIX
	both9 := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.5:2055"), Version: 9, Boot: capBase - capDay}
	both10 := &nfgen.Exporter{Addr: both9.Addr, Version: 10}
	define(t, both9, nfgen.Template{ID: 256, Fields: nfgen.CompactFields()})
	define(t, both10, nfgen.Template{ID: 256, Fields: msTimes(nfgen.CompactFields())})
	c.send(both9, now+skew, c.pkt(both9.Begin(now).Templates().Data(256, capFlows(4, capBase, false)...)))
	c.send(both10, now+skew, c.pkt(both10.Begin(now).Templates().Data(256, capFlows(6, capBase, false)...)))

	st := capStore(t)
	res := capIngest(t, st, c.write("stats.pcap")).Files[0]
	_, x := capSource(t, st, res)
	for _, w := range []exporterStats{
		{Address: "192.0.2.1", Port: 2055, ObservationDomain: 5, Versions: []uint16{9}, Packets: 8, Flows: 7 * 30, SequenceGaps: 2, LostPackets: 3, Duplicates: 1, ClockSkewSeconds: 2.5},
		{Address: "192.0.2.2", Port: 2055, ObservationDomain: 3, Versions: []uint16{5}, Packets: 3, Flows: 90, SequenceGaps: 1, LostPackets: 30, ClockSkewSeconds: 2.5},
		{Address: "2001:db8::1", Port: 4739, ObservationDomain: 9, Versions: []uint16{10}, Packets: 5, Flows: 120, SequenceGaps: 1, LostPackets: 30, ClockSkewSeconds: 2.5},
		{Address: "192.0.2.4", Port: 4739, ObservationDomain: 1, Versions: []uint16{10}, Packets: 4, Flows: 60, ClockSkewSeconds: 2.5},
		{Address: "192.0.2.6", Port: 4739, ObservationDomain: 0, Versions: []uint16{10}, Packets: 5, Flows: 24 + 4*30, SequenceGaps: 1, LostPackets: 30, ClockSkewSeconds: 2.5},
		{Address: "192.0.2.5", Port: 2055, ObservationDomain: 0, Versions: []uint16{9}, Packets: 1, Flows: 4, ClockSkewSeconds: 2.5},
		{Address: "192.0.2.5", Port: 2055, ObservationDomain: 0, Versions: []uint16{10}, Packets: 1, Flows: 6, ClockSkewSeconds: 2.5},
	} {
		got := exporterOf(t, x, w.Address, w.ObservationDomain, w.Versions[0])
		got.skewSum, got.skewN, got.nextSeq, got.prevSeq, got.haveNext = 0, 0, 0, 0, false
		if !reflect.DeepEqual(got, w) {
			t.Errorf("got %+v,\nwant %+v", got, w)
		}
	}
	if len(x.Exporters) != 7 {
		t.Errorf("got %d exporter statistics, want 7: %+v", len(x.Exporters), x.Exporters)
	}
	if want := int64(7*30 + 90 + 120 + 30 + 60 + 144 + 10); res.Flows != want {
		t.Errorf("got %d flows, want %d", res.Flows, want)
	}

	infos, _, err := Exporters(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []ExporterInfo{
		{Address: "192.0.2.1", Port: 2055, ObservationDomain: 5, Versions: []uint16{9}, Protocols: []string{"v9"}, Packets: 8, Flows: 210, Templates: 2, SamplingInterval: 100, SequenceGaps: 2, Lost: 3, Duplicates: 1, ClockSkewSeconds: 2.5},
		{Address: "2001:db8::1", Port: 4739, ObservationDomain: 9, Versions: []uint16{10}, Protocols: []string{"ipfix"}, Packets: 5, Flows: 120, Templates: 2, SamplingInterval: 50, SequenceGaps: 1, Lost: 30, ClockSkewSeconds: 2.5},
		{Address: "192.0.2.5", Port: 2055, ObservationDomain: 0, Versions: []uint16{9, 10}, Protocols: []string{"v9", "ipfix"}, Packets: 2, Flows: 10, Templates: 2, SamplingInterval: 1, ClockSkewSeconds: 2.5},
	} {
		var got *ExporterInfo
		for i := range infos {
			if infos[i].Address == w.Address && infos[i].ObservationDomain == w.ObservationDomain {
				got = &infos[i]
			}
		}
		if got == nil || !reflect.DeepEqual(*got, w) {
			t.Errorf("Exporters: got %+v,\nwant %+v", got, w)
		}
	}
}

// TestCaptureClockNotSet: an exporter whose clock was never set exports
// times from 1970 on. Its flows are kept at those times and named in a
// note; only a time before the epoch is rejected.
func TestCaptureClockNotSet(t *testing.T) {
	c := &capBuild{t: t}
	// v5 and v9 exporters booted at the epoch, exporting 20 and 25 minutes
	// later (softflowd on a probe without a real-time clock, or a lab
	// capture replayed with 1970 packet times).
	v5 := &nfgen.Exporter{Addr: exp4, Version: 5, Domain: 1, Boot: 0}
	now := 20 * capMin
	c.send(v5, now, c.data(v5, now, 0, capFlows(40, 60*capSec, false))...)
	v9 := &nfgen.Exporter{Addr: exp4b, Version: 9, Domain: 2, Boot: 0}
	define(t, v9, nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()})
	now = 25 * capMin
	c.send(v9, now, c.pkt(v9.Begin(now).Templates()))
	c.send(v9, now, c.data(v9, now, 256, capFlows(30, 5*capMin, false))...)

	st := capStore(t)
	res := capIngest(t, st, c.write("unset-clock.pcap")).Files[0]
	src, x := capSource(t, st, res)
	compareRows(t, capRows(t, st), withSource(c.want, src.ID))
	if res.Flows != 70 || len(res.Rejected) != 0 {
		t.Errorf("got %d flows, rejected %v; want 70 kept, none rejected", res.Flows, res.Rejected)
	}
	var early []string
	for _, n := range res.Notes {
		if strings.Contains(n, "before 1990") {
			early = append(early, n)
		}
	}
	want := "70 flows are dated before 1990 (1970-01-01T00:01:00Z to 1970-01-01T00:05:35Z; exporter 192.0.2.1, 192.0.2.2): " +
		"the exporter's clock was not set; they are kept at those times"
	if len(early) != 1 || early[0] != want {
		t.Errorf("got notes %q,\nwant %q", res.Notes, want)
	}
	if x.FlowsBefore1990 != 70 {
		t.Errorf("got flows_before_1990 %d in the source, want 70", x.FlowsBefore1990)
	}
	// The store is queried as any other: the first two minutes hold the
	// v5 flows (60 s to 108.243 s), the v9 ones start at 300 s.
	rows, err := st.Scan(index.Query{From: 0, To: 2 * capMin, Starting: true}, func(*flow.Record) bool { return true })
	if err != nil || rows.RowsEmitted != 40 {
		t.Errorf("got %d rows starting in 1970's first two minutes (%v), want 40", rows.RowsEmitted, err)
	}
}
