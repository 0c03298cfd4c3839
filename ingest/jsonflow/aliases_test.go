package jsonflow

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestOtherToolsJSON: nfdump's `-o json` array (pretty-printed, zone-less
// local times, flag letters) and goflow2's NDJSON read as they are.
func TestOtherToolsJSON(t *testing.T) {
	nfdump := `[{
	"type" : "FLOW",
	"sampled" : 0,
	"export_sysid" : 1,
	"t_first" : "2024-05-06T10:00:00.105",
	"t_last" : "2024-05-06T10:00:00.205",
	"proto" : 6,
	"src4_addr" : "10.1.0.10",
	"dst4_addr" : "192.0.2.80",
	"src_port" : 40000,
	"dst_port" : 80,
	"fwd_status" : 0,
	"tcp_flags" : "...AP.SF",
	"src_tos" : 0,
	"in_packets" : 6,
	"in_bytes" : 540,
	"input_snmp" : 3,
	"ip4_router" : "192.0.2.1",
	"label" : "<none>"
},
{
	"type" : "FLOW",
	"t_first" : "2024-05-06T10:00:02.313",
	"t_last" : "2024-05-06T10:00:02.317",
	"proto" : 17,
	"src6_addr" : "2001:db8::10",
	"dst6_addr" : "2001:db8::53",
	"src_port" : 53000,
	"dst_port" : 53,
	"in_packets" : 1,
	"in_bytes" : 63
}]`
	goflow := `{"type":"NETFLOW_V9","time_received_ns":1714989601000000000,"sequence_num":7,"sampling_rate":100,"sampler_address":"192.0.2.1","time_flow_start_ns":1714989600105000000,"time_flow_end_ns":1714989600205000000,"bytes":540,"packets":6,"src_addr":"10.1.0.10","dst_addr":"192.0.2.80","etype":"IPv4","proto":"TCP","src_port":40000,"dst_port":80,"in_if":3,"out_if":4,"src_mac":"00:00:00:00:00:00","src_vlan":0,"tcp_flags":27,"src_as":64500,"dst_as":15169,"next_hop":"10.1.0.254","src_net":"0.0.0.0/0"}`
	t0 := time.Date(2024, 5, 6, 10, 0, 0, 105e6, time.UTC).UnixNano()
	want0 := flow.Record{Start: t0, End: t0 + 100e6, SrcAddr: netip.MustParseAddr("10.1.0.10"), DstAddr: netip.MustParseAddr("192.0.2.80"),
		SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: 0x1b, Bytes: 540, Packets: 6, InIf: 3,
		Exporter: netip.MustParseAddr("192.0.2.1"), SamplingInterval: 1}
	read := func(text string, opt Options) []flow.Record {
		d := NewReader(strings.NewReader(text), opt)
		var out []flow.Record
		var r flow.Record
		for d.Next(&r) {
			out = append(out, r)
		}
		if d.Err() != nil || len(d.Rejects()) > 0 {
			t.Fatalf("err %v, rejects %v", d.Err(), d.Rejects())
		}
		return out
	}
	got := read(nfdump, Options{InputTZ: time.UTC})
	if len(got) != 2 || got[0] != want0 {
		t.Fatalf("nfdump: got %+v\nwant %+v", got, want0)
	}
	if got[1].SrcAddr != netip.MustParseAddr("2001:db8::10") || got[1].Proto != 17 || got[1].End-got[1].Start != 4e6 {
		t.Errorf("nfdump IPv6 record: got %+v", got[1])
	}
	// Without a zone, nfdump's local times are refused.
	d := NewReader(strings.NewReader(nfdump), Options{})
	var r flow.Record
	for d.Next(&r) {
	}
	if d.Rejects()[ReasonNoZone] != 2 {
		t.Errorf("nfdump without --input-tz: got rejects %v, want 2 %q", d.Rejects(), ReasonNoZone)
	}
	g := read(goflow, Options{})
	want1 := want0
	want1.OutIf, want1.SrcAS, want1.DstAS, want1.NextHop, want1.SamplingInterval = 4, 64500, 15169, netip.MustParseAddr("10.1.0.254"), 100
	if len(g) != 1 || g[0] != want1 {
		t.Fatalf("goflow2: got %+v\nwant %+v", g, want1)
	}
}

// TestICMPInDestinationPort: an ICMP record whose type and code are 0 but
// whose destination port is not carries them there, as NetFlow v5 does
// (goflow2 passes the port through); explicit ones win.
func TestICMPInDestinationPort(t *testing.T) {
	for _, c := range []struct {
		line      string
		port      uint16
		typ, code uint8
	}{
		{`{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","proto":"ICMP","dst_port":2048,"icmp_type":0,"icmp_code":0,"time_flow_start_ns":1714989600000000000}`, 2048, 8, 0},
		{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":1,"dst_port":771,"start":"2024-05-06T10:00:00Z"}`, 771, 3, 3},
		{`{"src_ip":"2001:db8::1","dst_ip":"2001:db8::2","protocol":58,"dst_port":33024,"start":"2024-05-06T10:00:00Z"}`, 33024, 129, 0},
		{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":1,"dst_port":2048,"icmp_type":0,"icmp_code":1,"start":"2024-05-06T10:00:00Z"}`, 2048, 0, 1},
		{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":6,"dst_port":2048,"start":"2024-05-06T10:00:00Z"}`, 2048, 0, 0},
	} {
		d := NewReader(strings.NewReader(c.line), Options{Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		var r flow.Record
		if !d.Next(&r) {
			t.Fatalf("%s: no record (%v, %v)", c.line, d.Err(), d.Rejects())
		}
		if r.DstPort != c.port || r.ICMPType != c.typ || r.ICMPCode != c.code {
			t.Errorf("%s: got port %d, type %d, code %d; want %d, %d, %d", c.line, r.DstPort, r.ICMPType, r.ICMPCode, c.port, c.typ, c.code)
		}
	}
}
