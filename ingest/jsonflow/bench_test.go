package jsonflow

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

const benchRecords = 10000

// benchLines makes distinct NDJSON lines of about 250 bytes, typical of a
// JSON flow export: RFC 3339 times, IPv4 addresses (or IPv6), numbers.
func benchLines(v6 bool) []byte {
	var sb strings.Builder
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	src, dst := "10.%d.%d.%d", "192.168.%d.%d"
	if v6 {
		src, dst = "2001:db8:%x:%x::%x", "2001:db8:ffff::%x:%x"
	}
	for i := range benchRecords {
		t := t0.Add(time.Duration(i) * 37 * time.Millisecond)
		fmt.Fprintf(&sb, `{"start":%q,"end":%q,"src_ip":"`+src+`","dst_ip":"`+dst+`",`+
			`"src_port":%d,"dst_port":%d,"protocol":6,"bytes_in":%d,"bytes_out":%d,"packets":%d,`+
			`"packets_out":%d,"tcp_flags":27,"in_if":3,"out_if":4}`+"\n",
			t.Format(time.RFC3339Nano), t.Add(1234*time.Millisecond).Format(time.RFC3339Nano),
			i%7, i%251, i%13+1, i%200, i%97+1, 1024+i%60000, []int{443, 80, 53, 22}[i%4],
			i*131%1000000, i*17%100000, i%100+1, i%50+1)
	}
	return []byte(sb.String())
}

// benchArray writes the same records as one JSON array.
func benchArray() []byte {
	lines := strings.TrimSuffix(string(benchLines(false)), "\n")
	return []byte("[" + strings.ReplaceAll(lines, "\n", ",\n") + "]")
}

// cycle reads its data over and over, so a benchmark can run any number
// of records through one Reader.
type cycle struct {
	data []byte
	pos  int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.pos:])
	c.pos = (c.pos + n) % len(c.data)
	return n, nil
}

// BenchmarkNDJSON decodes typical NDJSON lines; one op is one record.
func BenchmarkNDJSON(b *testing.B) { benchReader(b, &cycle{data: benchLines(false)}) }

// BenchmarkNDJSONIPv6 is BenchmarkNDJSON with IPv6 addresses.
func BenchmarkNDJSONIPv6(b *testing.B) { benchReader(b, &cycle{data: benchLines(true)}) }

// BenchmarkArray decodes the same records as one (endless) JSON array.
func BenchmarkArray(b *testing.B) {
	// The array never ends: after the last element comes the first one
	// again, as if the array went on.
	data := benchArray()
	body := append(data[1:len(data)-1:len(data)-1], ',')
	benchReader(b, io.MultiReader(strings.NewReader("["), &cycle{data: body}))
}

func benchReader(b *testing.B, in io.Reader) {
	r := NewReader(in, Options{Now: testNow})
	var rec flow.Record
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !r.Next(&rec) {
			b.Fatalf("Next: %v, rejects %v", r.Err(), r.Rejects())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	if r.Rejected() != 0 {
		b.Fatalf("rejects: %v", r.Rejects())
	}
}

// TestDecodeAllocs: a good record costs no allocation, whatever the forms
// of its values (nested values aside: they are checked by encoding/json).
func TestDecodeAllocs(t *testing.T) {
	v4 := strings.ReplaceAll(allFieldsV4, "\n", "")
	lines := [][]byte{
		[]byte(v4[:strings.Index(v4, `,"unknown"`)] + "}"),
		[]byte(strings.ReplaceAll(allFieldsV6, "\n", "")),
		[]byte(`{"src\u005fip":"10.0.0.\u0031","dst_ip":"10.0.0.2","ts":"2024-05-06 07:08:09.5+02:00","x":true,"y":false,"z":null,"protocol":"ICMPv6","tcp_flags":"0x12","flow_direction":"Ingress"}`),
	}
	d := decoder{latest: testNow.Add(24 * time.Hour).UnixNano()}
	var rec flow.Record
	for _, line := range lines {
		if reason, detail := d.decode(line, &rec); reason != "" {
			t.Fatalf("%s: %s (%s)", line, reason, detail)
		}
		if n := testing.AllocsPerRun(100, func() { d.decode(line, &rec) }); n != 0 {
			t.Errorf("%s: %v allocations per record, want 0", line, n)
		}
	}
}

// TestLogLineAllocs: log lines are read in place, as JSON is: an ASA
// teardown allocates at most once (forgetting its connection), other ASA
// lines never (most of an ASA log is messages that are not flows, their
// names kept), nor FortiGate's key=value, CEF or LEEF lines.
func TestLogLineAllocs(t *testing.T) {
	asa := (*Reader).asaLineRecord
	kv := (*Reader).kvLineRecord
	for _, c := range []struct {
		line string
		read func(*Reader, []byte, *flow.Record, int64) bool
		max  float64
	}{
		{`May 01 2023 12:01:45: %ASA-6-302014: Teardown TCP connection 3204 for outside:93.184.216.34/443 to inside:10.0.0.5/51234 duration 0:01:05 bytes 12345 TCP FINs`, asa, 1},
		{`May 01 2023 12:00:41: %ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.5/51234 to outside:203.0.113.5/51234`, asa, 0},
		{`May 01 2023 12:02:00: %ASA-4-106023: Deny tcp src outside:198.51.100.66/40000 dst inside:10.0.0.5/3389 by access-group "outside_in" [0x0, 0x0]`, asa, 0},
		{`date=2018-03-01 time=09:00:10 devname="FG100D" logid="0000000013" type="traffic" subtype="forward" srcip=10.1.100.12 srcport=51000 dstip=198.51.100.7 dstport=53 proto=17 duration=10 sentbyte=60 rcvdbyte=120 tz="+0100"`, kv, 0},
		{`CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Drop|drop|Medium|act=Drop rt=1682942460000 src=198.51.100.66 spt=40000 dst=10.1.2.3 dpt=3389 proto=6`, kv, 0},
		{"LEEF:1.0|IBM|QRadar|1.0|Flow|src=10.0.0.1\tdst=10.0.0.2\tsrcPort=1\tdstPort=2\tproto=6\tsrcBytes=10\tdevTime=1682942460000", kv, 0},
	} {
		d := NewReader(strings.NewReader(c.line+"\n"), Options{InputTZ: time.UTC})
		var rec flow.Record
		if d.Next(&rec); d.Err() != nil || len(d.Rejects()) != 0 {
			t.Fatalf("%.50s: %v, rejects %v", c.line, d.Err(), d.Rejects())
		}
		b := []byte(c.line)
		if n := testing.AllocsPerRun(100, func() { c.read(d, b, &rec, 0) }); n > c.max {
			t.Errorf("%.50s: %v allocations a line, want at most %v", c.line, n, c.max)
		}
	}
}
