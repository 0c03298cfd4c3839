package nfgen_test

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// The checks here are the encoder's own: its packets decode, with the
// project's decoder, to exactly what Expect says, and its captures read
// back, with the project's capture reader, to the datagrams written. The
// end-to-end cases (store, parked sets, duplicates) are in ingest.

var (
	t0        = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	collector = netip.MustParseAddrPort("192.0.2.250:2055")
)

func sampleRecords(n int, v6 bool) []flow.Record {
	out := make([]flow.Record, n)
	for i := range out {
		r := flow.Record{
			Start: t0 + int64(i)*1_501_000_000, End: t0 + int64(i)*1_501_000_000 + 2_345_000_000,
			SrcAddr: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), DstAddr: netip.MustParseAddr("198.51.100.7"),
			NextHop: netip.MustParseAddr("192.0.2.1"),
			SrcPort: uint16(40000 + i), DstPort: 443, Proto: flow.ProtoTCP, TCPFlags: flow.SYN | flow.ACK,
			Bytes: uint64(1000 + i), Packets: uint64(3 + i%7), InIf: 3, OutIf: 7, SrcAS: 64500, DstAS: 64501,
			SamplingInterval: 1,
		}
		if v6 {
			r.SrcAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
			r.DstAddr, r.NextHop = netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("fe80::1")
		}
		out[i] = r
	}
	return out
}

// decodeAll decodes payloads from exporter e in order.
func decodeAll(t *testing.T, e *nfgen.Exporter, payloads [][]byte) ([]flow.Record, []netflow.PacketInfo) {
	t.Helper()
	d := netflow.NewDecoder(nil)
	var got []flow.Record
	var infos []netflow.PacketInfo
	for i, p := range payloads {
		if v, ok := netflow.Sniff(p); !ok || v != e.Version {
			t.Fatalf("packet %d: Sniff got %d %v, want %d true", i, v, ok, e.Version)
		}
		info, err := d.Decode(netflow.Packet{Exporter: netflow.Exporter{Addr: e.Addr.Addr(), Port: e.Addr.Port()}, Payload: p},
			func(r *flow.Record) { got = append(got, *r) })
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		infos = append(infos, info)
	}
	return got, infos
}

func checkRecords(t *testing.T, e *nfgen.Exporter, id uint16, sent, got []flow.Record) {
	t.Helper()
	if len(got) != len(sent) {
		t.Fatalf("got %d records, want %d", len(got), len(sent))
	}
	for i := range sent {
		want, err := e.Expect(id, sent[i])
		if err != nil {
			t.Fatal(err)
		}
		if got[i] != want {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
}

func TestRoundTripVersions(t *testing.T) {
	for _, c := range []struct {
		name    string
		version uint16
		fields  []nfgen.Field
		v6      bool
	}{
		{"v5", 5, nil, false},
		{"v9 IPv4", 9, nfgen.IPv4Fields(), false},
		{"v9 IPv6", 9, nfgen.IPv6Fields(), true},
		{"v9 compact", 9, nfgen.CompactFields(), false},
		{"IPFIX milliseconds", 10, []nfgen.Field{
			{ID: nfgen.SourceIPv4Address, Length: 4}, {ID: nfgen.DestinationIPv4Address, Length: 4},
			{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowEndMilliseconds, Length: 8},
			{ID: nfgen.OctetDeltaCount, Length: 8}, {ID: nfgen.PacketDeltaCount, Length: 8},
			{ID: nfgen.SourceTransportPort, Length: 2}, {ID: nfgen.DestinationTransportPort, Length: 2},
			{ID: nfgen.ProtocolIdentifier, Length: 1},
		}, false},
		{"IPFIX nanoseconds IPv6", 10, []nfgen.Field{
			{ID: nfgen.SourceIPv6Address, Length: 16}, {ID: nfgen.DestinationIPv6Address, Length: 16},
			{ID: nfgen.FlowStartNanoseconds, Length: 8}, {ID: nfgen.FlowDurationMicroseconds, Length: 4},
			{ID: nfgen.OctetTotalCount, Length: 4}, {ID: nfgen.PacketTotalCount, Length: 2},
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Version: c.version, Domain: 3, Boot: t0 - 3*24*int64(time.Hour)}
			if c.version != 5 {
				if err := e.Define(nfgen.Template{ID: 300, Fields: c.fields}); err != nil {
					t.Fatal(err)
				}
			}
			recs := sampleRecords(75, c.v6)
			var pkts [][]byte
			if c.version != 5 {
				tpl, err := e.Begin(t0).Templates().Bytes()
				if err != nil {
					t.Fatal(err)
				}
				pkts = append(pkts, tpl)
			}
			pkts, err := e.AppendData(pkts, t0+10*int64(time.Second), 300, recs)
			if err != nil {
				t.Fatal(err)
			}
			got, infos := decodeAll(t, e, pkts)
			checkRecords(t, e, 300, recs, got)
			for i, info := range infos {
				if info.Warnings != 0 {
					t.Errorf("packet %d: got warnings %v, want none", i, info.Warnings)
				}
			}
		})
	}
}

func TestSequenceNumbers(t *testing.T) {
	for _, c := range []struct {
		version uint16   // 11: IPFIX with SoftflowdSequence
		want    []uint32 // sequence of the template packet (none for v5), then the data packets
	}{
		{5, []uint32{0, 30, 60}},
		{9, []uint32{0, 1, 2, 3}},
		{10, []uint32{0, 0, 30, 60}},
		{11, []uint32{0, 30, 60, 70}}, // IPFIX, softflowd's sequence numbers
	} {
		e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Version: min(c.version, 10), Boot: t0 - int64(time.Hour), SoftflowdSequence: c.version == 11}
		var pkts [][]byte
		if e.Version != 5 {
			e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()})
			tpl, _ := e.Begin(t0).Templates().Bytes()
			pkts = append(pkts, tpl)
		}
		pkts, err := e.AppendData(pkts, t0+int64(time.Minute), 256, sampleRecords(70, false))
		if err != nil {
			t.Fatal(err)
		}
		_, infos := decodeAll(t, e, pkts)
		for i, info := range infos {
			if i >= len(c.want) || info.Sequence != c.want[i] {
				t.Errorf("case v%d packet %d: got sequence %d, want %v", c.version, i, info.Sequence, c.want)
			}
		}
	}
}

func TestSoftflowdCount(t *testing.T) {
	for _, sf := range []bool{false, true} {
		e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Version: 9, Boot: t0 - int64(time.Hour), SoftflowdCount: sf}
		e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()},
			nfgen.Template{ID: 257, Scope: 1, Fields: []nfgen.Field{{ID: nfgen.ScopeSystem, Length: 4}, {ID: nfgen.SamplingInterval, Length: 4, Value: 1}}})
		p, err := e.Begin(t0).Templates().Options(257, nil).Data(256, sampleRecords(5, false)...).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		_, infos := decodeAll(t, e, [][]byte{p})
		want, warn := 8, netflow.Warning(0) // 2 templates + 1 options + 5 flows
		if sf {
			want, warn = 5, netflow.WarnCountMismatch
		}
		if infos[0].HeaderCount != want || infos[0].Warnings != warn || infos[0].Records != 5 {
			t.Errorf("softflowd %v: got count %d warnings %v records %d, want %d %v 5", sf, infos[0].HeaderCount, infos[0].Warnings, infos[0].Records, want, warn)
		}
	}
}

func TestExactOrError(t *testing.T) {
	e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Version: 10}
	e.Define(nfgen.Template{ID: 256, Fields: []nfgen.Field{{ID: nfgen.FlowStartSeconds, Length: 4}, {ID: nfgen.OctetDeltaCount, Length: 2}, {ID: nfgen.SourceIPv4Address, Length: 4}}})
	for _, r := range []flow.Record{
		{Start: t0 + 1e6},                          // milliseconds in a seconds field
		{Start: t0, Bytes: 70000},                  // bytes beyond 2 octets
		{Start: t0, SrcAddr: netip.IPv6Loopback()}, // IPv6 in an IPv4-only template
	} {
		if _, err := e.Begin(t0).Data(256, r).Bytes(); !errors.Is(err, nfgen.ErrValue) {
			t.Errorf("record %+v: got %v, want ErrValue", r, err)
		}
	}
	v5 := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Version: 5}
	if _, err := v5.Begin(t0).Templates().Bytes(); !errors.Is(err, nfgen.ErrVersion) {
		t.Errorf("v5 templates: got %v, want ErrVersion", err)
	}
	if err := (&nfgen.Exporter{Version: 9}).Define(nfgen.Template{ID: 256, Fields: []nfgen.Field{{ID: 1, Length: 4, PEN: 9}}}); !errors.Is(err, nfgen.ErrTemplate) {
		t.Errorf("v9 enterprise field: got %v, want ErrTemplate", err)
	}
}

// TestCaptureReadBack writes IPv4 and IPv6 datagrams and reads them back
// with the project's capture reader.
func TestCaptureReadBack(t *testing.T) {
	dgs := []nfgen.Datagram{
		{Src: netip.MustParseAddrPort("192.0.2.1:4000"), Dst: collector, Time: t0 + 123, Payload: []byte("hello")},
		{Src: netip.MustParseAddrPort("[2001:db8::1]:4000"), Dst: netip.MustParseAddrPort("[2001:db8::250]:4739"), Time: t0 + 456, Payload: bytes.Repeat([]byte{7}, 1401)},
		{Src: netip.MustParseAddrPort("192.0.2.1:4000"), Dst: collector, Time: t0 + 789, Payload: nil},
	}
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := nfgen.WriteFile(path, dgs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcap.NewReader(f, pcap.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	var i int
	for dg, ok := rd.Next(); ok; dg, ok = rd.Next() {
		w := dgs[i]
		if dg.Src != w.Src || dg.Dst != w.Dst || dg.Time != w.Time || !bytes.Equal(dg.Payload, w.Payload) {
			t.Errorf("datagram %d: got %v -> %v at %d, %d bytes; want %v -> %v at %d, %d bytes", i, dg.Src, dg.Dst, dg.Time, len(dg.Payload), w.Src, w.Dst, w.Time, len(w.Payload))
		}
		i++
	}
	if err := rd.Err(); err != nil || i != len(dgs) {
		t.Errorf("got %d datagrams, err %v; want %d, nil", i, err, len(dgs))
	}
	if st := rd.Stats(); len(st.Skipped) != 0 {
		t.Errorf("got skipped %v, want none", st.Skipped)
	}
}

// TestDeterministic: the same calls make the same capture.
func TestDeterministic(t *testing.T) {
	make := func() []byte {
		var buf bytes.Buffer
		cw, _ := nfgen.NewCaptureWriter(&buf)
		e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("[2001:db8::1]:4000"), Version: 9, Boot: t0 - int64(time.Hour)}
		e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv6Fields()})
		s := &nfgen.Stream{Exporter: e, Writer: cw, Collector: netip.MustParseAddrPort("[2001:db8::250]:2055"), Template: 256, TemplateEvery: 3}
		for _, r := range sampleRecords(200, true) {
			if err := s.Add(&r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := make(), make()
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("got captures of %d and %d bytes that differ, want equal", len(a), len(b))
	}
}

// BenchmarkStreamV9 measures writing a v9 capture with Stream (30
// records a packet), as the benchmark command does, into memory.
func BenchmarkStreamV9(b *testing.B) {
	recs := sampleRecords(3000, false)
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		cw, _ := nfgen.NewCaptureWriter(&buf)
		e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:2055"), Version: 9, Boot: t0 - int64(time.Hour)}
		e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()})
		s := &nfgen.Stream{Exporter: e, Writer: cw, Collector: collector, Template: 256, TemplateEvery: 20}
		for i := range recs {
			if err := s.Add(&recs[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}
