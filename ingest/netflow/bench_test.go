package netflow

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// benchDecode decodes payload b.N times with a decoder whose cache already
// holds the templates (from warm), and reports flows/s.
func benchDecode(b *testing.B, warm, payload []byte) {
	d := NewDecoder(nil)
	d.Decode(Packet{Exporter: testExporter, Payload: warm}, nil)
	benchLoop(b, d.Decode, payload)
}

// benchLoop times decode of payload b.N times and reports flows/s and the
// payload's bytes per flow.
func benchLoop(b *testing.B, decode func(Packet, func(*flow.Record)) (PacketInfo, error), payload []byte) {
	var sink uint64
	emit := func(r *flow.Record) { sink += r.Bytes }
	info, err := decode(Packet{Exporter: testExporter, Payload: payload}, emit)
	if err != nil || info.Records == 0 {
		b.Fatalf("got %d records, %v", info.Records, err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		decode(Packet{Exporter: testExporter, Payload: payload}, emit)
	}
	b.ReportMetric(float64(b.N*info.Records)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(len(payload))/float64(info.Records), "B/flow")
}

// BenchmarkDecodeV9: 30 records of the 12-field softflowd-like template.
func BenchmarkDecodeV9(b *testing.B) {
	tpl := v9Header(1, 500_000, testSecs, 1, 0)
	tpl.set(0, func(p *pkt) { p.u16(256).u16(uint16(len(v9FlowTemplate) / 2)).fields(v9FlowTemplate...) })
	data := v9Header(30, 500_000, testSecs, 2, 0)
	data.set(256, func(p *pkt) {
		for i := 0; i < 30; i++ {
			v9FlowRecord(p, "10.0.0.1", "10.0.0.2", uint16(1000+i), 443, 1500, 3, 490_000, 499_000)
		}
	})
	benchDecode(b, tpl.b, data.b)
}

// BenchmarkDecodeIPFIX: 20 biflow records with IPv6 addresses, ports,
// protocol, flags, forward and reverse (PEN 29305) counters, millisecond
// times, interfaces and an unknown enterprise element.
func BenchmarkDecodeIPFIX(b *testing.B) {
	tpl := ipfixHeader(testSecs, 0, 1)
	tpl.set(2, func(p *pkt) {
		p.u16(256).u16(14).fields(ieSrcIPv6, 16, ieDstIPv6, 16, ieSrcPort, 2, ieDstPort, 2, ieProtocol, 1, ieTCPFlags, 2,
			ieOctetDelta, 8, iePacketDelta, 8, ieStartMillis, 8, ieEndMillis, 8, ieInIf, 4, ieOutIf, 4)
		p.fields(0x8000|ieOctetDelta, 8).u32(PENReverse)
		p.fields(0x8000|777, 4).u32(9)
	})
	data := ipfixHeader(testSecs, 0, 1)
	data.set(256, func(p *pkt) {
		for i := 0; i < 20; i++ {
			p.addr("2001:db8::1").addr("2001:db8::2").u16(uint16(1000 + i)).u16(443).u8(6).u16(0x1b)
			p.u64(1500).u64(3).u64(testSecs*1000 - 9000).u64(testSecs*1000 - 1000).u32(1).u32(2).u64(900).u32(0)
		}
	})
	benchDecode(b, tpl.done(), data.done())
}

// BenchmarkDecodeCapture decodes every export packet of real softflowd
// captures (937 flows each), templates warm, as an ingest would.
func BenchmarkDecodeCapture(b *testing.B) {
	dir := capturesDir(b)
	for _, name := range []string{"sfd__ndpi__gnutella__v9", "sfd__ndpi__gnutella__v10", "sfd__ndpi__gnutella__v5"} {
		b.Run(name, func(b *testing.B) {
			pkts, err := readUDP(filepath.Join(dir, "generated/softflowd", name+".pcap"))
			if err != nil {
				b.Fatal(err)
			}
			d := NewDecoder(nil)
			flows := 0
			for _, p := range pkts {
				info, _ := d.Decode(p.Packet, nil)
				flows += info.Records
			}
			emit := func(*flow.Record) {}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, p := range pkts {
					d.Decode(p.Packet, emit)
				}
			}
			b.ReportMetric(float64(b.N*flows)/b.Elapsed().Seconds(), "flows/s")
		})
	}
}

// BenchmarkDecodeSFlow: pmacctd sfprobe's first datagram of
// testdata/sflow/sflow_traffic.pcap (8 flow samples, each an extended
// switch record and up to 128 bytes of the sampled Ethernet frame).
func BenchmarkDecodeSFlow(b *testing.B) {
	seeds, err := filepath.Glob("../../testdata/sflow/sflow_traffic.pcap")
	if err != nil || len(seeds) != 1 {
		b.Fatal("no fixture")
	}
	benchLoop(b, NewDecoder(nil).DecodeSFlow, firstSFlowDatagram(b, seeds[0]))
}

// firstSFlowDatagram returns the UDP payload of the first packet of a
// little-endian Ethernet/IPv4 pcap.
func firstSFlowDatagram(b *testing.B, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	incl := int(data[32]) | int(data[33])<<8 | int(data[34])<<16 | int(data[35])<<24
	return data[24+16+14+20+8 : 24+16+incl]
}
