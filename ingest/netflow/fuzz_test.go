package netflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// The fuzz targets take two export packets: the first usually carries
// templates (and options), the second data. Each is decoded in turn and
// then again, so data sets also meet the templates learned after them.
// Seeds: hand-built packets below, and real packets extracted from the
// shared captures in testdata/fuzz/<target>/seed-* (TestWriteFuzzSeeds,
// run with FLOWCASE_WRITE_SEEDS=1, says which frames).

// checkDecode decodes a then b then both again with one decoder and checks
// the invariants every input must keep.
func checkDecode(t *testing.T, a, b []byte) {
	d := NewDecoder(nil)
	var parked []ParkedSet
	var sets [][]byte
	for _, payload := range [][]byte{a, b, a, b} {
		if v, ok := Sniff(payload); Sound(payload, v) && !ok {
			t.Fatalf("Sound without Sniff: version %d", v)
		}
		n := 0
		info, err := d.Decode(Packet{Exporter: testExporter, Payload: payload}, func(r *flow.Record) {
			n++
			checkRecord(t, r)
		})
		if n != info.Records {
			t.Fatalf("emitted %d records, info says %d", n, info.Records)
		}
		if err != nil && info.Version != 0 {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
		}
		for _, ps := range info.Unknown {
			set := ps.Bytes(payload)
			if set == nil || len(set) < setHeaderLen {
				t.Fatalf("parked set %+v outside payload of %d bytes", ps, len(payload))
			}
			parked, sets = append(parked, ps), append(sets, set)
		}
	}
	for i, ps := range parked {
		d.DecodeParked(ps, sets[i], func(r *flow.Record) { checkRecord(t, r) })
	}
	checkCacheRoundTrip(t, d.Templates)
}

func checkRecord(t *testing.T, r *flow.Record) {
	if r.End < r.Start {
		t.Fatalf("end %d before start %d", r.End, r.Start)
	}
	if r.SamplingInterval < 1 {
		t.Fatalf("sampling interval %d", r.SamplingInterval)
	}
}

func checkCacheRoundTrip(t *testing.T, c *TemplateCache) {
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	n := NewTemplateCache()
	if err := n.UnmarshalBinary(b); err != nil {
		t.Fatalf("cannot read back own cache: %v", err)
	}
	if b2, _ := n.MarshalBinary(); !bytes.Equal(b, b2) {
		t.Fatal("cache round trip differs")
	}
}

// FuzzV5 covers the fixed-layout versions: the first byte of a picks v5
// (0 mod 3), v1 (1) or v7 (2), and is then set to 0.
func FuzzV5(f *testing.F) {
	p := (&pkt{}).u16(5).u16(1).u32(100).u32(testSecs).u32(0).u32(1).u8(0).u8(0).u16(0)
	p.raw(make([]byte, 48)...)
	f.Add(p.b, []byte{})
	v1 := (&pkt{}).u16(1<<8 | 1).u16(1).u32(100).u32(testSecs).u32(0)
	v1.raw(make([]byte, 48)...)
	f.Add(v1.b, []byte{})
	v7 := (&pkt{}).u16(2<<8 | 7).u16(1).u32(100).u32(testSecs).u32(0).u32(1).u32(0)
	v7.raw(make([]byte, 52)...)
	f.Add(v7.b, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) >= 2 {
			a = bytes.Clone(a)
			a[0], a[1] = 0, []byte{5, 1, 7}[a[0]%3] // keep the fuzzer on v5, v1 and v7
		}
		checkDecode(t, a, b)
	})
}

func FuzzV9(f *testing.F) {
	f.Add(v9Packet(500_000, testSecs), []byte{})
	tpl := v9Header(1, 900_000, testSecs, 2, 42)
	tpl.set(0, func(p *pkt) { p.u16(256).u16(uint16(len(v9FlowTemplate) / 2)).fields(v9FlowTemplate...) })
	data := v9Header(1, 1000, testSecs, 1, 42)
	data.set(256, func(p *pkt) { v9FlowRecord(p, "10.0.0.1", "10.0.0.2", 1, 2, 100, 1, 1<<32-10, 500) })
	f.Add(data.b, tpl.b)
	// A firewall's NSEL records (creation and event times, firewall event).
	asa := nselRec{id: 1, src: "192.168.1.10", dst: "203.0.113.5", sport: 50000, dport: 443, proto: 6, event: 2,
		createMs: uint64(testSecs-60) * 1000, evMs: uint64(testSecs-5) * 1000, fwd: 1200, rev: 48000,
		xsrc: "198.51.100.1", xdst: "203.0.113.5", xsport: 7000, xdport: 443}
	f.Add(nselPacket(263, nselTemplate, asa.put), []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) { checkDecode(t, a, b) })
}

func FuzzIPFIX(f *testing.F) {
	p := ipfixHeader(testSecs, 0, 5)
	ipfixTemplateSet256(p)
	p.set(3, func(p *pkt) { p.u16(400).u16(2).u16(1).fields(149, 4, ieSamplingInterval, 4) })
	p.set(400, func(p *pkt) { p.u32(5).u32(64) })
	data := ipfixHeader(testSecs, 0, 5)
	data.set(256, func(p *pkt) {
		p.addr("192.0.2.10").addr("198.51.100.20").u32(1).u8(2).raw(1, 2).u64(1).u32(1).raw(0, 0, 5).u32(1).u8(255).u16(1).u8(0)
	})
	data.set(2, func(p *pkt) { p.u16(2).u16(0) })
	f.Add(p.done(), data.done())
	// A packet report: observation time and a variable-length data-link
	// section (Ethernet, 802.1Q, MPLS, IPv4, UDP), no flow keys.
	ps := ipfixHeader(testSecs, 0, 6)
	ps.set(2, func(p *pkt) { p.u16(300).u16(2).fields(ieObsMillis, 8, ieDataLinkSection, varLen) })
	frame := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0, 0, 10, 0x88, 0x47, 0, 1, 17, 255,
		0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2, 0x13, 0x88, 0, 53, 0, 20, 0, 0}
	ps.set(300, func(p *pkt) { p.u64(uint64(testSecs) * 1000).u8(uint8(len(frame))).raw(frame...) })
	f.Add(ps.done(), []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) { checkDecode(t, a, b) })
}

// FuzzTemplateCache feeds arbitrary bytes to UnmarshalBinary: it must not
// panic, and what it accepts must marshal back to an equal cache.
func FuzzTemplateCache(f *testing.F) {
	d := NewDecoder(nil)
	d.Decode(Packet{Exporter: testExporter, Payload: v9Packet(1, 1)}, nil)
	b, _ := d.Templates.MarshalBinary()
	f.Add(b)
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewTemplateCache()
		if c.UnmarshalBinary(data) == nil {
			checkCacheRoundTrip(t, c)
		}
	})
}

// TestWriteFuzzSeeds writes real export packets from the shared captures
// as seed corpus entries (pairs: template packet, data packet).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("FLOWCASE_WRITE_SEEDS") == "" {
		t.Skip("set FLOWCASE_WRITE_SEEDS=1 to rewrite testdata/fuzz seed-* files")
	}
	dir := capturesDir(t)
	seeds := []struct {
		target, name, capture string
		a, b                  int // 1-based index among the capture's UDP packets; 0 = empty
	}{
		{"FuzzV5", "akvorado_nfv5", "public/netflow/akvorado__nfv5.pcap", 1, 0},
		{"FuzzV5", "softflowd_smtp_v5", "generated/softflowd/sfd__ndpi__smtp__v5.pcap", 1, 0},
		{"FuzzV9", "softflowd_ftp_v9", "generated/softflowd/sfd__ndpi__ftp__v9.pcap", 1, 0},
		{"FuzzV9", "akvorado_data_before_template", "public/netflow/akvorado__data+templates.pcap", 1, 0},
		{"FuzzV9", "akvorado_sampling_options", "public/netflow_derived/akvorado__multiplesamplingrates__all.pcap", 2, 3},
		{"FuzzV9", "akvorado_sampling_data", "public/netflow_derived/akvorado__multiplesamplingrates__all.pcap", 1, 4},
		{"FuzzV9", "pmacct101", "public/netflow/pmacct__101_traffic-00.pcap", 1, 2},
		{"FuzzV9", "akvorado_icmp", "public/netflow_derived/akvorado__icmp__template+data.pcap", 1, 2},
		{"FuzzIPFIX", "softflowd_ftp_v10", "generated/softflowd/sfd__ndpi__ftp__v10.pcap", 1, 0},
		{"FuzzIPFIX", "ipfixprobe_biflow", "public/netflow_derived/akvorado__ipfixprobe__templates+data.pcap", 1, 2},
		{"FuzzIPFIX", "pmacct100", "public/netflow/pmacct__100_traffic-00.pcap", 1, 3},
		{"FuzzIPFIX", "physicalinterfaces", "public/netflow/akvorado__physicalinterfaces.pcap", 1, 0},
		{"FuzzIPFIX", "juniper_cpid_varlen", "public/netflow_derived/akvorado__juniper-cpid__template+data.pcap", 1, 2},
		{"FuzzIPFIX", "snapped", "hostile/h7_snaplen96__pmacct100_ipfix.pcap", 1, 3},
	}
	for _, s := range seeds {
		pkts, _ := readUDP(filepath.Join(dir, s.capture))
		pick := func(i int) []byte {
			if i == 0 || i > len(pkts) {
				return nil
			}
			return pkts[i-1].Payload
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n[]byte(%s)\n", strconv.Quote(string(pick(s.a))), strconv.Quote(string(pick(s.b))))
		out := filepath.Join("testdata", "fuzz", s.target, "seed-"+s.name)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzSFlow decodes sFlow v5 datagrams: never a panic, as many records as
// PacketInfo says, each a plausible one-packet record, and an error only
// as a *DecodeError. Seeds: the first datagrams of the sFlow fixtures
// (testdata/sflow: an IPv4 and an IPv6 sample among them) and hand-built
// ones with each flow record format.
func FuzzSFlow(f *testing.F) {
	for _, name := range []string{"sflow_traffic.pcap", "sflow_scans_sampled.pcap"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/sflow", name))
		if err != nil {
			f.Fatal(err)
		}
		// pcap, Ethernet, IPv4, UDP: the first three datagrams.
		off := 24
		for range 3 {
			incl := int(b[off+8]) | int(b[off+9])<<8 | int(b[off+10])<<16 | int(b[off+11])<<24
			f.Add(b[off+16+14+20+8 : off+16+incl])
			off += 16 + incl
		}
	}
	f.Add(sflowDatagram(sfSample(sfFlowSample, 10, sfRecord(sfSampledIPv4, u32s(60, 6, 0x0A000001, 0x0A000002, 1234, 80, 2, 0)),
		sfRecord(sfExtendedSwitch, u32s(12, 0, 12, 0)), sfRecord(sfExtendedRouter, u32s(1, 0xC0000201, 24, 24)),
		sfRecord(sfExtendedGW, u32s(1, 0xC0000201, 65000, 64512, 64513, 1, 2, 2, 64514, 64515, 0, 100)))))
	f.Add(sflowDatagram(sfSample(sfFlowSampleExpanded, 512, sfRecord(sfSampledIPv6, append(u32s(1280, 58), make([]byte, 32+16)...)))))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		info, err := new(Decoder).DecodeSFlow(Packet{Exporter: testExporter, Payload: b, CaptureTime: 1.7e18}, func(r *flow.Record) {
			n++
			checkRecord(t, r)
			if r.Start != 1.7e18 || r.End != r.Start || (r.SrcAddr.IsValid() && r.Packets != 1) {
				t.Fatalf("record %+v: want one packet at the capture time", r)
			}
		})
		if n != info.Records {
			t.Fatalf("emitted %d records, info says %d", n, info.Records)
		}
		if _, ok := err.(*DecodeError); err != nil && !ok {
			t.Fatalf("error %T is not a *DecodeError", err)
		}
		// Every sample is at most one of: a record, a counter sample, a
		// skipped one; none is counted twice.
		counted := uint32(info.Records + info.OptionsRecords)
		for r, k := range info.Skipped {
			if !Reason(r).Kept() { // cut extended records are parts of kept samples
				counted += k
			}
		}
		if samples, ok := sfSampleCount(b); ok && counted > samples {
			t.Fatalf("%d records, %d counter samples and skipped %v: more than the datagram's %d samples", info.Records, info.OptionsRecords, info.Skipped, samples)
		}
	})
}

// sfSampleCount reads the number of samples an sFlow v5 datagram's header
// gives.
func sfSampleCount(b []byte) (uint32, bool) {
	if len(b) < 8 {
		return 0, false
	}
	at := map[uint32]int{0: 8, 1: 12, 2: 24}[binary.BigEndian.Uint32(b[4:])]
	if at == 0 || len(b) < at+16 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b[at+12:]), true
}

// u32s writes XDR unsigned integers.
func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return b
}

// sfRecord is a flow record: format, length, body.
func sfRecord(format uint32, body []byte) []byte {
	return append(u32s(format, uint32(len(body))), body...)
}

// sfSample is a flow sample (compact or expanded) of rate with records.
func sfSample(format, rate uint32, records ...[]byte) []byte {
	var body []byte
	if format == sfFlowSampleExpanded {
		body = u32s(1, 0, 3, rate, rate*5, 0, 0, 3, 0, 4, uint32(len(records)))
	} else {
		body = u32s(1, 3, rate, rate*5, 0, 3, 4, uint32(len(records)))
	}
	for _, r := range records {
		body = append(body, r...)
	}
	return sfRecord(format, body)
}

// sflowDatagram is an IPv4 agent's datagram (192.0.2.1, sub-agent 0,
// sequence 1) of samples.
func sflowDatagram(samples ...[]byte) []byte {
	b := u32s(5, 1, 0xC0000201, 0, 1, 1000, uint32(len(samples)))
	for _, s := range samples {
		b = append(b, s...)
	}
	return b
}
