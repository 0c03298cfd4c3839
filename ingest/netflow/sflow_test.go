package netflow

import (
	"net/netip"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestSFlowRecords: the flow record formats other than a sampled header
// (pmacctd's sfprobe sends only headers: testdata/sflow), each in a
// hand-built datagram: decoded keys of an IPv4 and an IPv6 packet, VLANs,
// next hop and AS numbers, the interfaces of a compact and an expanded
// sample, and counter samples, which are not flows.
func TestSFlowRecords(t *testing.T) {
	v4 := sfSample(sfFlowSample, 10, sfRecord(sfSampledIPv4, u32s(60, 6, 0x0A000001, 0x0A000002, 1234, 80, 0x12, 0)),
		sfRecord(sfExtendedSwitch, u32s(0, 0, 12, 0)), sfRecord(sfExtendedRouter, u32s(1, 0xC0000201, 24, 24)),
		sfRecord(sfExtendedGW, u32s(1, 0xC0000202, 65000, 64512, 64513, 1, 2, 2, 64514, 64515, 0, 100)))
	v6 := sfSample(sfFlowSampleExpanded, 512, sfRecord(sfSampledIPv6,
		append(append(u32s(1280, 58), netip.MustParseAddr("2001:db8::1").AsSlice()...), append(netip.MustParseAddr("2001:db8::2").AsSlice(), u32s(128, 0, 0, 0)...)...)))
	counters := sfRecord(sfCounterSample, u32s(1, 3, 0))
	other := sfRecord(7<<12|1, u32s(1, 2, 3)) // another enterprise's sample
	var got []flow.Record
	info, err := new(Decoder).DecodeSFlow(Packet{Exporter: testExporter, Payload: sflowDatagram(v4, counters, v6, other), CaptureTime: 1.7e18},
		func(r *flow.Record) { got = append(got, *r) })
	if err != nil || info.Records != 2 || info.OptionsRecords != 1 || info.Sequence != 1 || info.Domain != 0 || len(got) != 2 {
		t.Fatalf("info %+v, err %v, %d records", info, err, len(got))
	}
	agent := netip.MustParseAddr("192.0.2.1")
	want := []flow.Record{
		{Start: 1.7e18, End: 1.7e18, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), SrcPort: 1234, DstPort: 80,
			Proto: 6, TCPFlags: 0x12, Bytes: 60, Packets: 1, InIf: 3, OutIf: 4, VLAN: 12, NextHop: agent, SrcAS: 64512, DstAS: 64515,
			Exporter: agent, SamplingInterval: 10},
		{Start: 1.7e18, End: 1.7e18, SrcAddr: netip.MustParseAddr("2001:db8::1"), DstAddr: netip.MustParseAddr("2001:db8::2"),
			Proto: 58, ICMPType: 128, Bytes: 1280, Packets: 1, InIf: 3, OutIf: 4, Exporter: agent, SamplingInterval: 512},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// An agent address of 0.0.0.0 is the datagram's source; the ids read
	// for duplicate detection are the sub-agent and sequence.
	d := sflowDatagram(v4)
	copy(d[8:12], []byte{0, 0, 0, 0})
	copy(d[12:20], u32s(9, 77))
	got = got[:0]
	if _, err := new(Decoder).DecodeSFlow(Packet{Exporter: testExporter, Payload: d, CaptureTime: 1.7e18}, func(r *flow.Record) { got = append(got, *r) }); err != nil ||
		len(got) != 1 || got[0].Exporter != testExporter.Addr || got[0].ObsDomain != 9 {
		t.Errorf("unspecified agent: %+v, %v", got, err)
	}
	if sub, seq, ok := SFlowIDs(d); sub != 9 || seq != 77 || !ok || !SniffSFlow(d) {
		t.Errorf("SFlowIDs: %d %d %v", sub, seq, ok)
	}
	// A datagram cut inside a sample's own header says how much of it is
	// there (4 of its 8 bytes), not a negative number of bytes left.
	cut := sflowDatagram(v4)[:28+4] // the header (28 bytes with an IPv4 agent), then half a sample's
	if _, err := new(Decoder).DecodeSFlow(Packet{Exporter: testExporter, Payload: cut, Number: 3}, func(*flow.Record) {}); err == nil ||
		err.Error() != "cannot decode sFlow v5 datagram 3 at offset 28: truncated: got 4, want 8" {
		t.Errorf("cut sample header: %v", err)
	}
	// A cut extended record (a gateway record whose AS path claims more
	// numbers than it holds) is passed over: the sample is kept with the
	// other records' fields, and the cut one counted.
	cutGW := sfSample(sfFlowSample, 10, sfRecord(sfSampledIPv4, u32s(60, 6, 0x0A000001, 0x0A000002, 1234, 80, 0x12, 0)),
		sfRecord(sfExtendedGW, u32s(1, 0xC0000202, 65000, 64512, 64513, 1, 2, 9, 64514)),
		sfRecord(sfExtendedSwitch, u32s(0, 0, 12, 0)))
	got = got[:0]
	info, err = new(Decoder).DecodeSFlow(Packet{Exporter: testExporter, Payload: sflowDatagram(cutGW), CaptureTime: 1.7e18},
		func(r *flow.Record) { got = append(got, *r) })
	if err != nil || info.Records != 1 || info.Skipped[ErrExtendedRecord] != 1 || info.Skipped[ErrRecordTruncated] != 0 || len(got) != 1 {
		t.Fatalf("cut gateway record: info %+v, err %v, %d records", info, err, len(got))
	}
	if r := got[0]; r.SrcPort != 1234 || r.VLAN != 12 || r.NextHop.IsValid() || r.SrcAS != 0 || r.DstAS != 0 {
		t.Errorf("cut gateway record: %+v; want the sample with its VLAN and no gateway fields", r)
	}
	// Not sFlow: NetFlow v5's header, and an unknown agent address type.
	if SniffSFlow(u32s(5<<16|1, 0, 0, 0, 0, 0, 0)) || SniffSFlow(u32s(5, 3, 0, 0, 0, 0, 0)) {
		t.Error("sniffed NetFlow v5 or a bad address type as sFlow")
	}
}
