package jsonflow

import (
	"errors"
	"maps"
	"net/netip"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// readField reads one record with the extra members given (raw JSON) and
// returns it, or the reason it was rejected.
func readField(t *testing.T, members string) (flow.Record, string) {
	t.Helper()
	in := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,` + members + "}"
	res := readOK(t, in, Options{})
	if len(res.rejects) == 1 {
		return flow.Record{}, res.rejects[0].Reason
	}
	if len(res.recs) != 1 {
		t.Fatalf("%s: no record and no reject", members)
	}
	return res.recs[0], ""
}

func TestTCPFlags(t *testing.T) {
	tests := []struct {
		v      string
		want   uint8
		reason string
	}{
		{`27`, 27, ""},
		{`"27"`, 27, ""},
		{`"0x1b"`, 0x1b, ""},
		{`"0X12"`, 0x12, ""},
		{`"SA"`, flow.SYN | flow.ACK, ""},
		{`"as"`, flow.SYN | flow.ACK, ""},
		{`"...AP.SF"`, flow.ACK | flow.PSH | flow.SYN | flow.FIN, ""},
		{`"CEUAPRSF"`, 0xff, ""},
		{`"........"`, 0, ""},
		{`""`, 0, ""},
		{`" R "`, flow.RST, ""},
		{`0x1b`, 0, ReasonMalformed}, // not JSON
		{`256`, 0, ""},               // NS (IPFIX tcpControlBits): dropped
		{`"0x1FF"`, 0xff, ""},
		{`65535`, 0xff, ""},
		{`"SYN"`, flow.SYN, ""},
		{`"SYN,ACK"`, flow.SYN | flow.ACK, ""},
		{`"fin|psh | ack"`, flow.FIN | flow.PSH | flow.ACK, ""},
		// Unreadable: passed over (TestIgnoredFields), the record kept.
		{`65536`, 0, ""},
		{`-1`, 0, ""},
		{`1.5`, 0, ""},
		{`"SYN,BOGUS"`, 0, ""},
		{`"0x"`, 0, ""},
		{`"0x12345"`, 0, ""},
		{`true`, 0, ""},
	}
	for _, tt := range tests {
		rec, reason := readField(t, `"tcp_flags":`+tt.v)
		if rec.TCPFlags != tt.want || reason != tt.reason {
			t.Errorf("tcp_flags %s: got %#x %q, want %#x %q", tt.v, rec.TCPFlags, reason, tt.want, tt.reason)
		}
	}
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		v      string
		want   uint8
		reason string
	}{
		{`6`, 6, ""},
		{`"6"`, 6, ""},
		{`0`, 0, ""},
		{`255`, 255, ""},
		{`"tcp"`, 6, ""},
		{`"TCP"`, 6, ""},
		{`"Udp"`, 17, ""},
		{`"icmp"`, 1, ""},
		{`"ICMPv6"`, 58, ""},
		{`"ipv6-icmp"`, 58, ""},
		{`"gre"`, 47, ""},
		{`"SCTP"`, 132, ""},
		{`" esp "`, 50, ""},
		{`256`, 0, ReasonBadProto},
		{`"256"`, 0, ReasonBadProto},
		{`-6`, 0, ReasonBadProto},
		{`"tcp6"`, 0, ReasonBadProto},
		{`""`, 0, ReasonBadProto},
		{`[6]`, 0, ReasonBadProto},
	}
	for _, tt := range tests {
		rec, reason := readField(t, `"protocol":`+tt.v)
		if rec.Proto != tt.want || reason != tt.reason {
			t.Errorf("protocol %s: got %d %q, want %d %q", tt.v, rec.Proto, reason, tt.want, tt.reason)
		}
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		v      string
		want   flow.Direction
		reason string
	}{
		{`"ingress"`, flow.DirIngress, ""},
		{`"EGRESS"`, flow.DirEgress, ""},
		{`"unknown"`, flow.DirUnknown, ""},
		{`0`, flow.DirUnknown, ""},
		{`1`, flow.DirIngress, ""},
		{`2`, flow.DirEgress, ""},
		{`"2"`, flow.DirEgress, ""},
		// Unreadable: passed over (TestIgnoredFields), the record kept.
		{`3`, 0, ""},
		{`"in"`, 0, ""},
		{`false`, 0, ""},
	}
	for _, tt := range tests {
		rec, reason := readField(t, `"flow_direction":`+tt.v)
		if rec.Dir != tt.want || reason != tt.reason {
			t.Errorf("flow_direction %s: got %d %q, want %d %q", tt.v, rec.Dir, reason, tt.want, tt.reason)
		}
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		v      string
		want   uint64
		reason string
	}{
		{`0`, 0, ""},
		{`-0`, 0, ""},
		{`"007"`, 7, ""},
		{`1e3`, 1000, ""},
		{`1.5E3`, 1500, ""},
		{`"2.50e1"`, 25, ""},
		{`1000e-3`, 1, ""},
		{`18446744073709551615`, 18446744073709551615, ""},
		{`"18446744073709551615"`, 18446744073709551615, ""},
		{`1.8446744073709551615e19`, 18446744073709551615, ""},
		{`18446744073709551615.0`, 18446744073709551615, ""},
		{`18446744073709551616`, 0, ReasonNumberRange},
		{`1.8446744073709551616e19`, 0, ReasonNumberRange},
		{`1e20`, 0, ReasonNumberRange},
		{`1e99999999`, 0, ReasonNumberRange},
		{`-1`, 0, ReasonNumberRange},
		// Fractions (averaged or scaled counters) are rounded down.
		{`0.5`, 0, ""},
		{`1e-1`, 0, ""},
		{`100.7`, 100, ""},
		{`"2.5e2"`, 250, ""},
		{`1.00000000000000000001`, 1, ""},
		{`-0.5`, 0, ReasonNumberRange},
		{`""`, 0, ""}, // the same as absent
		{`"1 2"`, 0, ReasonBadNumber},
		{`"0x10"`, 0, ReasonBadNumber},
		{`"+1"`, 0, ReasonBadNumber},
		{`"NaN"`, 0, ReasonBadNumber},
		{`{}`, 0, ReasonBadNumber},
	}
	for _, tt := range tests {
		rec, reason := readField(t, `"bytes_in":`+tt.v)
		if rec.Bytes != tt.want || reason != tt.reason {
			t.Errorf("bytes_in %s: got %d %q, want %d %q", tt.v, rec.Bytes, reason, tt.want, tt.reason)
		}
	}
}

func TestSamplingInterval(t *testing.T) {
	for v, want := range map[string]uint32{`0`: 1, `1`: 1, `"512"`: 512, `null`: 1, `4294967295`: 4294967295} {
		rec, reason := readField(t, `"sampling_interval":`+v)
		if rec.SamplingInterval != want || reason != "" {
			t.Errorf("sampling_interval %s: got %d %q, want %d", v, rec.SamplingInterval, reason, want)
		}
	}
}

// TestJSONDetails: escapes, nulls, unknown and nested keys, duplicates.
func TestJSONDetails(t *testing.T) {
	tests := []struct {
		name string
		in   string
		src  netip.Addr
		port uint16
	}{
		{"escaped key", `{"src\u005fip":"10.0.0.9","dst_ip":"10.0.0.2","ts":1700000000}`, addr("10.0.0.9"), 0},
		{"escaped value", `{"src_ip":"10.0.0.\u0039","dst_ip":"10.0.0.2","ts":1700000000}`, addr("10.0.0.9"), 0},
		{"escaped ipv6", `{"src_ip":"2001:db8::\u0031","dst_ip":"10.0.0.2","ts":1700000000}`, addr("2001:db8::1"), 0},
		{"escaped number", `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":"\u0031700000000","src_port":"8\u0030"}`, addr("10.0.0.1"), 80},
		{"escapes elsewhere", `{"x":"a\"b\\c\/\b\f\n\r\t\ud83d\ude00\ud800","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000}`, addr("10.0.0.1"), 0},
		{"nulls", `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"src_port":null,"protocol":null,"next_hop":null}`, addr("10.0.0.1"), 0},
		{"unknown nested", `{"meta":{"src_ip":"1.1.1.1","a":[{"b":null}]},"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"tags":["x","y"]}`, addr("10.0.0.1"), 0},
		{"duplicate key: last wins", `{"src_ip":"10.0.0.1","src_ip":"10.0.0.7","dst_ip":"10.0.0.2","ts":1700000000}`, addr("10.0.0.7"), 0},
		{"white space", " {\t\"src_ip\" : \"10.0.0.1\" ,\r\"dst_ip\":\"10.0.0.2\" , \"ts\" : 1700000000 , \"src_port\" : 1 } ", addr("10.0.0.1"), 1},
		{"empty optional address", `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"next_hop":""}`, addr("10.0.0.1"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readOK(t, tt.in, Options{})
			if len(res.recs) != 1 {
				t.Fatalf("got %d records, rejects %+v", len(res.recs), res.rejects)
			}
			if rec := res.recs[0]; rec.SrcAddr != tt.src || rec.SrcPort != tt.port || rec.Start != 1700000000e9 {
				t.Errorf("got src %v port %d start %d, want %v %d", rec.SrcAddr, rec.SrcPort, rec.Start, tt.src, tt.port)
			}
		})
	}
}

// TestResetRecord: Next resets the whole record, so no field of one
// record leaks into the next.
func TestResetRecord(t *testing.T) {
	in := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"src_port":1,"vlan":2,"next_hop":"10.0.0.3","sampling_interval":10}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000}`
	r := NewReader(stringsReader(in), Options{Now: testNow})
	var rec flow.Record
	r.Next(&rec)
	r.Next(&rec)
	want := flow.Record{Start: 1700000000e9, End: 1700000000e9, SrcAddr: addr("10.0.0.1"), DstAddr: addr("10.0.0.2"), SamplingInterval: 1}
	if rec != want {
		t.Errorf("got %+v\nwant %+v", rec, want)
	}
}

// TestParseAddr compares the in-place address reader with netip.
func TestParseAddr(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5",
		"256.1.1.1", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "", "1.2.3.-4", "1.2.3.0x1", "00.1.1.1", "1.2.3.999",
		"::", "::1", "1::", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7::8", "1::2::3", ":1::", "1:::2", "1:", ":",
		"12345::", "ffff::", "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4",
		"1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4", "fe80::1%eth0", "fe80::1%", "%eth0", "1.2.3.4:80", "[::1]"} {
		got, ok := parseAddr([]byte(s))
		want, err := netip.ParseAddr(s)
		if err == nil && want.Zone() != "" {
			want, err = netip.Addr{}, errZone
		}
		if ok != (err == nil) || got != want {
			t.Errorf("parseAddr(%q) = %v %v, netip says %v %v", s, got, ok, want, err)
		}
	}
}

var errZone = errors.New("zone")

// TestLenientAddr: the address forms logs write besides the plain ones are
// read (the JSON number of an IPv4 address too, in TestRecordAddrForms);
// zero-padded IPv4 stays refused.
func TestLenientAddr(t *testing.T) {
	for s, want := range map[string]string{
		" 10.0.0.3 ": "10.0.0.3", "[2001:db8::1]": "2001:db8::1", "fe80::1%eth0": "fe80::1",
		"[fe80::1%25eth0]": "fe80::1", "\t::ffff:10.0.0.1": "::ffff:10.0.0.1",
		"010.0.0.1": "", "10.0.0.1%eth0": "", "[]": "", "%eth0": "", "fe80::1%": "fe80::1",
	} {
		got, ok := lenientAddr([]byte(s))
		if (want == "") == ok || (ok && got != netip.MustParseAddr(want)) {
			t.Errorf("lenientAddr(%q) = %v %v, want %q", s, got, ok, want)
		}
	}
}

// TestRecordAddrForms: an IPv4 address as its JSON number (0 to 2^32-1) and
// the lenient forms make records.
func TestRecordAddrForms(t *testing.T) {
	in := `{"src_ip":167772161,"dst_ip":"[2001:db8::2]","ts":1700000000}` + "\n" +
		`{"src_ip":" 10.0.0.3","dst_ip":"fe80::1%eth0","ts":1700000000}` + "\n"
	res := readOK(t, in, Options{})
	if len(res.recs) != 2 || len(res.rejects) != 0 ||
		res.recs[0].SrcAddr != netip.MustParseAddr("10.0.0.1") || res.recs[0].DstAddr != netip.MustParseAddr("2001:db8::2") ||
		res.recs[1].SrcAddr != netip.MustParseAddr("10.0.0.3") || res.recs[1].DstAddr != netip.MustParseAddr("fe80::1") {
		t.Errorf("got %+v, rejects %v", res.recs, res.rejects)
	}
}

// Values of optional fields that cannot be read are passed over and
// counted, the record kept (the seed ignores the fields it does not use,
// and other tools' columns of these names hold other things); the flow's
// own fields still reject it.
func TestIgnoredFields(t *testing.T) {
	in := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"protocol":6,"bytes_in":100,"packets":"many","vlan":"x","in_if":"eth0","start":1700000000}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"protocol":6,"bytes_in":100,"exporter":"router1","icmp_type":"echo","start":1700000000}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"protocol":6,"bytes_in":100,"sampling_interval":"1:100","start":1700000000}
{"src_ip":"10.0.0.1","dst_ip":"443","dst_port":80,"protocol":6,"bytes_in":100,"start":1700000000}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"protocol":6,"bytes_in":"lots","start":1700000000}
{"src_ip":"167772161","dst_ip":"10.0.0.2","dst_port":"","protocol":6,"bytes_in":100.5,"start":1700000000}
`
	got, d := readRecords(in, Options{})
	// The sampling interval and the addresses are the flow's: rejected (a
	// port in the address column is no address).
	want := map[string]int{"packets": 1, "vlan": 1, "in_if": 1, "exporter": 1, "icmp_type": 1}
	if len(got) != 3 || !maps.Equal(d.Ignored(), want) || d.Rejects()[ReasonBadNumber] != 2 || d.Rejects()[ReasonBadAddr] != 1 {
		t.Fatalf("got %d records, ignored %v, rejects %v; want 3, %v, the bad bytes_in and sampling interval, and the port as address", len(got), d.Ignored(), d.Rejects(), want)
	}
	if r := got[2]; r.SrcAddr != netip.MustParseAddr("10.0.0.1") || r.DstPort != 0 || r.Bytes != 100 {
		t.Errorf("number address, empty port, fractional bytes: got %+v", r)
	}
}

// A record of the seed's names with keys that Suricata and Zeek use too
// ("event_type", "uid") is a flow; Suricata's alert and Zeek's dns.log,
// files.log and dhcp.log records are not (the JSON ones without a uid were
// rejected as without addresses).
func TestOtherToolsKeysInSeedRecords(t *testing.T) {
	in := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"event_type":"alert","uid":"u1","start":1700000000}
{"timestamp":"2023-11-14T22:13:20.000000+0000","event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP"}
{"ts":1700000000,"uid":"CHhAvV","id.orig_h":"10.0.0.1","id.orig_p":5353,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","query":"example.com"}
{"ts":1700000000.8,"fuid":"Fxyz","tx_hosts":["74.125.232.195"],"rx_hosts":["10.0.0.1"],"conn_uids":["CHh"],"source":"HTTP","seen_bytes":1800}
{"ts":1700000000.0,"uids":["Cdh"],"client_addr":"10.0.0.1","server_addr":"10.0.0.254","mac":"00:15:17:2c:e5:2d","assigned_addr":"10.0.0.1"}
`
	got, d := readRecords(in, Options{})
	if len(got) != 1 || got[0].DstPort != 80 || d.NotFlows()["suricata alert event"] != 1 || d.NotFlows()["zeek record without conn_state (not conn.log)"] != 3 {
		t.Errorf("got %d records, not flows %v; want the seed's record, and Suricata's alert and Zeek's dns record passed over", len(got), d.NotFlows())
	}
}
