package jsonflow

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// testNow is the Now of every test Reader: times after 2025-01-02 are in
// the future.
var testNow = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// result is everything a Reader produced from one input.
type result struct {
	recs    []flow.Record
	rejects []Reject
	r       *Reader
}

func read(t *testing.T, in string, opt Options) result {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = testNow
	}
	var res result
	res.r = NewReader(strings.NewReader(in), opt)
	res.r.OnReject = func(j Reject) { res.rejects = append(res.rejects, j) }
	var rec flow.Record
	for res.r.Next(&rec) {
		res.recs = append(res.recs, rec)
	}
	return res
}

// readOK reads input that must decode without a fatal error.
func readOK(t *testing.T, in string, opt Options) result {
	t.Helper()
	res := read(t, in, opt)
	if err := res.r.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
	return res
}

func utc(y int, m time.Month, d, h, mi, s, nsec int) int64 {
	return time.Date(y, m, d, h, mi, s, nsec, time.UTC).UnixNano()
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

const allFieldsV4 = `{"start":"2024-05-06T07:08:09.123456789Z","end":"2024-05-06T07:08:19.5Z",
"src_ip":"10.1.2.3","dst_ip":"203.0.113.9","src_port":51000,"dst_port":443,"protocol":"tcp",
"bytes_in":1000,"bytes_out":"2000","packets":10,"packets_out":20,"tcp_flags":"...AP.SF",
"icmp_type":3,"icmp_code":1,"in_if":3,"out_if":4,"src_as":64500,"dst_as":4200000000,
"next_hop":"10.1.2.254","vlan":100,"exporter":"192.0.2.1","observation_domain":7,
"sampling_interval":100,"post_bytes":900,"post_packets":9,"flow_direction":"egress",
"nat_src_ip":"198.51.100.7","nat_dst_ip":"203.0.113.10","nat_src_port":40000,"nat_dst_port":8443,
"source":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
"unknown":{"nested":[1,{"a":"b"}]},"other":true}`

var wantAllFieldsV4 = flow.Record{
	Start: utc(2024, 5, 6, 7, 8, 9, 123456789), End: utc(2024, 5, 6, 7, 8, 19, 500000000),
	SrcAddr: addr("10.1.2.3"), DstAddr: addr("203.0.113.9"), SrcPort: 51000, DstPort: 443,
	Proto: flow.ProtoTCP, TCPFlags: flow.ACK | flow.PSH | flow.SYN | flow.FIN,
	Bytes: 1000, RevBytes: 2000, Packets: 10, RevPackets: 20, PostBytes: 900, PostPackets: 9,
	ICMPType: 3, ICMPCode: 1, InIf: 3, OutIf: 4, SrcAS: 64500, DstAS: 4200000000,
	NextHop: addr("10.1.2.254"), VLAN: 100, Dir: flow.DirEgress,
	NATSrcAddr: addr("198.51.100.7"), NATDstAddr: addr("203.0.113.10"), NATSrcPort: 40000, NATDstPort: 8443,
	Exporter: addr("192.0.2.1"), ObsDomain: 7, SamplingInterval: 100,
}

const allFieldsV6 = `{"first_seen":1714979289.25,"last_seen":"1714979290250",
"src_ip":"2001:db8::1","dst_ip":"2001:DB8:0:0:0:0:0:2","src_port":"546","dst_port":547,"protocol":"UDP",
"bytes_in":"18446744073709551615","bytes_out":0,"packets":1.5e3,"packets_out":"7",
"tcp_flags":0,"icmp_type":"128","icmp_code":0,"in_if":1,"out_if":2,"src_as":1,"dst_as":2,
"next_hop":"fe80::1","vlan":4094,"exporter":"2001:db8::ff","observation_domain":"4294967295",
"sampling_interval":0,"post_bytes":1,"post_packets":2,"flow_direction":1,
"nat_src_ip":"2001:db8:1::1","nat_dst_ip":"::ffff:192.0.2.7","nat_src_port":1,"nat_dst_port":65535}`

var wantAllFieldsV6 = flow.Record{
	Start: utc(2024, 5, 6, 7, 8, 9, 250000000), End: utc(2024, 5, 6, 7, 8, 10, 250000000),
	SrcAddr: addr("2001:db8::1"), DstAddr: addr("2001:db8::2"), SrcPort: 546, DstPort: 547,
	Proto: flow.ProtoUDP, Bytes: 18446744073709551615, Packets: 1500, RevPackets: 7,
	ICMPType: 128, InIf: 1, OutIf: 2, SrcAS: 1, DstAS: 2, NextHop: addr("fe80::1"), VLAN: 4094,
	Exporter: addr("2001:db8::ff"), ObsDomain: 4294967295, SamplingInterval: 1,
	PostBytes: 1, PostPackets: 2, Dir: flow.DirIngress,
	NATSrcAddr: addr("2001:db8:1::1"), NATDstAddr: addr("192.0.2.7"), NATSrcPort: 1, NATDstPort: 65535,
}

func TestAllFields(t *testing.T) {
	oneLine := func(s string) string { return strings.ReplaceAll(s, "\n", "") }
	tests := []struct {
		name string
		in   string
		want flow.Record
	}{
		{"ipv4 ndjson", oneLine(allFieldsV4) + "\n", wantAllFieldsV4},
		{"ipv4 array", "[" + allFieldsV4 + "]", wantAllFieldsV4},
		{"ipv6 ndjson", oneLine(allFieldsV6), wantAllFieldsV6},
		{"ipv6 array", "[\n" + allFieldsV6 + "\n]\n", wantAllFieldsV6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readOK(t, tt.in, Options{})
			if len(res.recs) != 1 || len(res.rejects) != 0 {
				t.Fatalf("got %d records, rejects %v; want 1 record", len(res.recs), res.rejects)
			}
			if got := res.recs[0]; got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestSeedFormat reads the seed script's --flow-file format: a JSON array
// of objects without times (so AssumeTime) whose duration is in seconds.
func TestSeedFormat(t *testing.T) {
	in := `[
  {"src_ip": "10.0.0.5", "dst_ip": "10.0.0.9", "src_port": 51514, "dst_port": 22, "protocol": 6,
   "bytes_in": 4242, "bytes_out": 1717, "packets": 12, "duration": 2.5, "tcp_flags": 2},
  {"src_ip": "10.0.0.5", "dst_ip": "8.8.8.8", "src_port": 5353, "dst_port": 53, "protocol": 17,
   "bytes_in": 80, "bytes_out": 0, "packets": 1, "duration": 0, "tcp_flags": 0}
]`
	assume := utc(2024, 1, 1, 0, 0, 0, 0)
	res := readOK(t, in, Options{AssumeTime: assume})
	want := []flow.Record{
		{Start: assume, End: assume + 2500000000, SrcAddr: addr("10.0.0.5"), DstAddr: addr("10.0.0.9"),
			SrcPort: 51514, DstPort: 22, Proto: 6, Bytes: 4242, RevBytes: 1717, Packets: 12,
			TCPFlags: flow.SYN, SamplingInterval: 1},
		{Start: assume, End: assume, SrcAddr: addr("10.0.0.5"), DstAddr: addr("8.8.8.8"),
			SrcPort: 5353, DstPort: 53, Proto: 17, Bytes: 80, Packets: 1, SamplingInterval: 1},
	}
	if len(res.recs) != len(want) {
		t.Fatalf("got %d records (rejects %v), want %d", len(res.recs), res.rejects, len(want))
	}
	for i := range want {
		if res.recs[i] != want[i] {
			t.Errorf("record %d:\ngot  %+v\nwant %+v", i, res.recs[i], want[i])
		}
	}
	if got := res.r.Assumed(); got != 2 {
		t.Errorf("Assumed() = %d, want 2", got)
	}
	if got := res.r.Format(); got != FormatArray {
		t.Errorf("Format() = %v, want %v", got, FormatArray)
	}
	if got, want := res.r.Offset(), int64(len(in)); got != want {
		t.Errorf("Offset() = %d, want %d", got, want)
	}
}

func TestAssumeTime(t *testing.T) {
	assume := utc(2024, 1, 1, 0, 0, 0, 0)
	in := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","duration":"1.000000001"}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","start":null}
`
	res := readOK(t, in, Options{AssumeTime: assume})
	if len(res.recs) != 3 {
		t.Fatalf("got %d records (rejects %v), want 3", len(res.recs), res.rejects)
	}
	wantStart := []int64{assume, 1700000000e9, assume}
	wantEnd := []int64{assume + 1000000001, 1700000000e9, assume}
	for i, rec := range res.recs {
		if rec.Start != wantStart[i] || rec.End != wantEnd[i] {
			t.Errorf("record %d: got start %d end %d, want %d %d", i, rec.Start, rec.End, wantStart[i], wantEnd[i])
		}
	}
	if got := res.r.Assumed(); got != 2 {
		t.Errorf("Assumed() = %d, want 2", got)
	}
	// Without AssumeTime the same records are rejected.
	res = readOK(t, in, Options{})
	if got := res.r.Rejects()[ReasonNoTime]; got != 2 || len(res.recs) != 1 {
		t.Errorf("without AssumeTime: %d records, %d %q; want 1 and 2", len(res.recs), got, ReasonNoTime)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		want Format
	}{
		{"[{}]", FormatArray},
		{"\xEF\xBB\xBF  \r\n\t[", FormatArray},
		{"{\"src_ip\":", FormatNDJSON},
		{"\n\n  {", FormatNDJSON},
		{"\xEF\xBB\xBF{", FormatNDJSON},
		{"", FormatUnknown},
		{"   \n", FormatUnknown},
		{"\xEF\xBB\xBF", FormatUnknown},
		{"\x1f\x8b\x08", FormatUnknown}, // gzip
		{"d4c3b2a1", FormatUnknown},
		{"\"string\"", FormatUnknown},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

// TestBothFormats reads the same records as NDJSON (with blank lines, CRLF
// and a BOM) and as an array, sniffed and named.
func TestBothFormats(t *testing.T) {
	objs := []string{
		`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_in":1}`,
		`{"src_ip":"10.0.0.3","dst_ip":"10.0.0.4","ts":1700000001,"bytes_in":2}`,
		`{"src_ip":"10.0.0.5","dst_ip":"10.0.0.6","ts":1700000002,"bytes_in":3}`,
	}
	ndjson := "\xEF\xBB\xBF\n" + objs[0] + "\r\n\r\n  " + objs[1] + "\n\n" + objs[2]
	array := "\xEF\xBB\xBF [ " + strings.Join(objs, " ,\n ") + " ] \n"
	tests := []struct {
		name   string
		in     string
		format Format
		want   Format
	}{
		{"ndjson sniffed", ndjson, FormatUnknown, FormatNDJSON},
		{"ndjson named", ndjson, FormatNDJSON, FormatNDJSON},
		{"array sniffed", array, FormatUnknown, FormatArray},
		{"array named", array, FormatArray, FormatArray},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readOK(t, tt.in, Options{Format: tt.format})
			if len(res.recs) != 3 || len(res.rejects) != 0 {
				t.Fatalf("got %d records, rejects %v; want 3", len(res.recs), res.rejects)
			}
			for i, rec := range res.recs {
				if rec.Bytes != uint64(i+1) || rec.Start != int64(1700000000+i)*1e9 {
					t.Errorf("record %d: got bytes %d start %d", i, rec.Bytes, rec.Start)
				}
			}
			if got := res.r.Format(); got != tt.want {
				t.Errorf("Format() = %v, want %v", got, tt.want)
			}
			if got := res.r.Offset(); got != int64(len(tt.in)) {
				t.Errorf("Offset() = %d, want %d", got, len(tt.in))
			}
		})
	}
}

func TestWrongFormat(t *testing.T) {
	tests := []struct {
		in     string
		format Format
	}{
		{`[{"src_ip":"10.0.0.1"}]`, FormatNDJSON},
		{`{"src_ip":"10.0.0.1"}`, FormatArray},
	}
	for _, tt := range tests {
		res := read(t, tt.in, Options{Format: tt.format})
		if err := res.r.Err(); !errors.Is(err, ErrWrongFormat) {
			t.Errorf("Format %v on %q: Err() = %v, want ErrWrongFormat", tt.format, tt.in, err)
		}
	}
}

func TestNotJSON(t *testing.T) {
	tests := []struct {
		in      string
		wantMsg string
	}{
		// CSV whose header names no addresses (src_ip,dst_ip would be CSV).
		{"src,dst\n10.0.0.1,10.0.0.2\n", `not JSON: first byte 's' at offset 0 is neither '[' nor '{'`},
		{"\xEF\xBB\xBF\n  \x1f\x8b", `not JSON: first byte 0x1f at offset 6 is neither '[' nor '{'`},
		{"\xd4\xc3\xb2\xa1\x02\x00", `not JSON: first byte 0xd4 at offset 0 is neither '[' nor '{'`},
		{"\"a string\"", `not JSON: first byte '"' at offset 0 is neither '[' nor '{'`},
	}
	for _, tt := range tests {
		res := read(t, tt.in, Options{})
		err := res.r.Err()
		if !errors.Is(err, ErrNotJSON) || err.Error() != tt.wantMsg {
			t.Errorf("Err() = %v, want %s", err, tt.wantMsg)
		}
		if len(res.recs) != 0 || res.r.Next(&flow.Record{}) {
			t.Errorf("records from a non-JSON input")
		}
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range []string{"", "  \n\n", "\xEF\xBB\xBF", "[]", "[ ]\n"} {
		res := readOK(t, in, Options{})
		if len(res.recs) != 0 || len(res.rejects) != 0 {
			t.Errorf("%q: got %d records, %d rejects; want none", in, len(res.recs), len(res.rejects))
		}
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
