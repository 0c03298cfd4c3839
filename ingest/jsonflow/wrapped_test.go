package jsonflow

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestWrappedArrays: flows wrapped in a document, as API exports and
// Elasticsearch's search results give them, are read as an array's
// elements, however long the array (it is streamed); the rest of the
// document is not read. A document that is itself a flow record, or whose
// array holds no flow records, stays NDJSON.
func TestWrappedArrays(t *testing.T) {
	rec := func(i int) string {
		return fmt.Sprintf(`{"src_ip":"10.0.0.%d","dst_ip":"192.0.2.9","ts":%d,"dst_port":443}`, 1+i%250, 1700000000+i)
	}
	recs := func(n int, wrap func(string) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = wrap(rec(i))
		}
		return strings.Join(parts, ",\n")
	}
	plain := func(s string) string { return s }
	for _, c := range []struct {
		name, in, path string
		flows          int
	}{
		{"flows", `{"flows":[` + recs(3, plain) + `]}`, "flows", 3},
		{"data then meta", `{"data": [` + recs(4, plain) + `], "meta": {"count": 4, "next": [{"x": 1}]}}`, "data", 4},
		{"elasticsearch hits", `{"took":5,"timed_out":false,"_shards":{"total":1},"hits":{"total":{"value":3},"max_score":1.0,"hits":[` +
			recs(3, func(r string) string { return `{"_index":"flows","_id":"x","_score":1.0,"_source":` + r + `}` }) + `]}}`, "hits.hits", 3},
		{"long, streamed", "{\n  \"records\": [\n" + recs(30000, plain) + "\n  ]\n}\n", "records", 30000},
	} {
		res := readOK(t, c.in, Options{})
		if len(res.recs) != c.flows || len(res.rejects) != 0 || res.r.Wrapped() != c.path || res.r.Format() != FormatArray {
			t.Errorf("%s: %d flows, rejects %v, wrapped %q, format %v; want %d from %q", c.name, len(res.recs), res.rejects,
				res.r.Wrapped(), res.r.Format(), c.flows, c.path)
		}
	}
	for _, c := range []struct {
		name, in string
		flows    int
	}{
		{"a record with an array of objects", `{"src_ip":"10.0.0.1","dst_ip":"192.0.2.9","ts":1700000000,"tags":[{"k":"v"}]}` + "\n" + rec(1) + "\n", 2},
		{"an array of other objects", `{"events":[{"kind":"login","user":"a"}]}` + "\n", 0},
	} {
		res := readOK(t, c.in, Options{})
		if len(res.recs) != c.flows || res.r.Wrapped() != "" || res.r.Format() != FormatNDJSON {
			t.Errorf("%s: %d flows, wrapped %q, format %v; want %d as NDJSON", c.name, len(res.recs), res.r.Wrapped(), res.r.Format(), c.flows)
		}
	}
}

// TestCSVQuotes: quoted CSV values may hold the separator and "" for a
// quote (RFC 4180), as Kibana's CSV exports quote its dates ("Mar 2, 2026 @
// 10:00:00.000", read as its month-name form) and numbers with thousands
// separators ("1,234"); a last value may be quoted or empty.
func TestCSVQuotes(t *testing.T) {
	in := `"@timestamp","source.ip","destination.ip","source.port","destination.port","network.transport","source.bytes","destination.bytes","event.original"` + "\n" +
		`"Mar 2, 2026 @ 10:00:00.000","10.0.0.1","192.0.2.9",40000,443,tcp,"1,234,567",567,"a ""quoted"", word"` + "\n" +
		`"Mar 2, 2026 @ 10:00:01.500",10.0.0.2,192.0.2.9,"40001",443,"tcp",100,"200",` + "\n"
	got, d := readRecords(in, Options{InputTZ: time.UTC})
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	if d.Err() != nil || d.Rejected() != 0 || len(got) != 2 {
		t.Fatalf("got %d records, rejects %v, %v", len(got), d.Rejects(), d.Err())
	}
	if r := got[0]; r.Start != t0 || r.SrcAddr != addr("10.0.0.1") || r.SrcPort != 40000 || r.Bytes != 1234567 || r.RevBytes != 567 {
		t.Errorf("first: %+v", r)
	}
	if r := got[1]; r.Start != t0+1500e6 || r.SrcPort != 40001 || r.RevBytes != 200 || r.Proto != 6 {
		t.Errorf("second: %+v", r)
	}
	for _, c := range []struct{ in, v, rest string }{
		{`"a,b",c`, "a,b", "c"}, {`"a""b"`, `a"b`, ""}, {`"1,234",x`, "1234", "x"}, {`"12,34",x`, "12,34", "x"}, {`"open`, "open", ""},
	} {
		v, rest, _ := quotedField([]byte(c.in), ',')
		if string(v) != c.v || string(rest) != c.rest {
			t.Errorf("quotedField(%q) = %q, %q; want %q, %q", c.in, v, rest, c.v, c.rest)
		}
	}
}

// TestSplunkCIM: a CSV exported from Splunk's Network Traffic model (CIM)
// names the time _time and the protocol transport, and counts bytes_in and
// packets_in from the destination (the reverse of the seed's JSON, whose
// bytes_in is the source's): a record with _time is read the CIM's way. One
// with a total alone keeps it forward.
func TestSplunkCIM(t *testing.T) {
	in := `"_time","src_ip","dest_ip","src_port","dest_port","transport","bytes_in","bytes_out","packets_in","packets_out","action"` + "\n" +
		`"2026-03-02T10:00:00.000+01:00","10.0.0.1","192.0.2.9","40000","443","tcp","1200","5400","10","9","allowed"` + "\n"
	got, d := readRecords(in, Options{InputTZ: time.UTC})
	want := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	if d.Rejected() != 0 || len(got) != 1 || got[0].Start != want || got[0].Proto != 6 || got[0].DstPort != 443 ||
		got[0].Bytes != 5400 || got[0].RevBytes != 1200 || got[0].Packets != 9 || got[0].RevPackets != 10 {
		t.Errorf("got %+v, rejects %v", got, d.Rejects())
	}
	res := readOK(t, `{"_time":"2024-03-02T10:00:00Z","src_ip":"10.0.0.1","dest_ip":"192.0.2.9","bytes":7000}`+"\n"+
		`{"timestamp":"2024-03-02T10:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.9","bytes_in":1200,"bytes_out":5400}`, Options{})
	if len(res.recs) != 2 || res.recs[0].Bytes != 7000 || res.recs[0].RevBytes != 0 || res.recs[1].Bytes != 1200 || res.recs[1].RevBytes != 5400 {
		t.Errorf("total alone, and the seed's names: %+v, rejects %+v", res.recs, res.rejects)
	}
}

// TestOCSF: OCSF's Network Activity records (AWS Security Lake's VPC Flow
// Logs: totals alone, one direction a record; tools that split them:
// bytes_out is the source's) read with their times in epoch milliseconds.
func TestOCSF(t *testing.T) {
	in := `{"class_uid":4001,"time":1709373600000,"start_time":1709373590000,"end_time":1709373600000,` +
		`"src_endpoint":{"ip":"10.0.0.5","port":49152},"dst_endpoint":{"ip":"198.51.100.7","port":443},` +
		`"connection_info":{"protocol_num":6,"tcp_flags":3},"traffic":{"bytes":6336,"packets":16},"disposition":"Allowed"}` + "\n" +
		`{"class_uid":4001,"time":1709373601000,"src_endpoint":{"ip":"10.0.0.6","port":50000},"dst_endpoint":{"ip":"198.51.100.7","port":22},` +
		`"connection_info":{"protocol_name":"tcp"},"traffic":{"bytes":9000,"bytes_in":1000,"bytes_out":8000,"packets":30,"packets_in":10,"packets_out":20}}` + "\n"
	res := readOK(t, in, Options{})
	start := time.Date(2024, 3, 2, 9, 59, 50, 0, time.UTC).UnixNano()
	if len(res.recs) != 2 || len(res.rejects) != 0 {
		t.Fatalf("got %d records, rejects %v", len(res.recs), res.rejects)
	}
	if r := res.recs[0]; r.Start != start || r.End != start+10e9 || r.SrcPort != 49152 || r.DstPort != 443 || r.Proto != 6 ||
		r.TCPFlags != 3 || r.Bytes != 6336 || r.Packets != 16 || r.RevBytes != 0 {
		t.Errorf("VPC flow log: %+v", r)
	}
	if r := res.recs[1]; r.Bytes != 8000 || r.RevBytes != 1000 || r.Packets != 20 || r.RevPackets != 10 || r.Proto != 6 {
		t.Errorf("split counters: %+v", r)
	}
}

// TestCSVPreamble: a CSV export that begins with a title, a date and a
// blank line before its header is read from the header on; lines are
// counted from the file's start.
func TestCSVPreamble(t *testing.T) {
	in := "Firewall traffic report\r\nGenerated 2024-03-02 10:00 by admin\r\n\r\n" +
		"src_ip,dst_ip,dst_port,protocol,bytes_in,timestamp\r\n" +
		"10.0.0.1,192.0.2.9,443,tcp,100,2024-03-02T09:00:00Z\r\n10.0.0.2,bad,443,tcp,100,2024-03-02T09:00:01Z\r\n"
	if f := Sniff([]byte(in)); f != FormatCSV {
		t.Fatalf("Sniff: %v, want csv", f)
	}
	res := readOK(t, in, Options{})
	if len(res.recs) != 1 || len(res.rejects) != 1 || res.rejects[0].Where != "line 6" || res.r.Format() != FormatCSV {
		t.Errorf("got %d records, rejects %+v, format %v; want 1 and a reject at line 6", len(res.recs), res.rejects, res.r.Format())
	}
	// Nine lines of preamble are too many: not a CSV this reader knows.
	long := strings.Repeat("title\n", 9) + "src_ip,dst_ip\n10.0.0.1,10.0.0.2\n"
	if f := Sniff([]byte(long)); f == FormatCSV {
		t.Errorf("nine lines before the header: Sniff says csv")
	}
}

// TestTimeOfDayColumn: a column named time holding a time of day does not
// override a full timestamp in the same record (OCSF's time is an epoch).
func TestTimeOfDayColumn(t *testing.T) {
	in := "timestamp,time,src_ip,dst_ip\n2024-03-02T09:00:00Z,09:00:00,10.0.0.1,10.0.0.2\n"
	res := readOK(t, in, Options{})
	if len(res.recs) != 1 || res.recs[0].Start != time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("got %+v, rejects %v", res.recs, res.rejects)
	}
}

// TestCSVQuotedLineBreaks: a quoted value may hold line breaks (RFC 4180,
// as a Kibana export's event.original or a firewall's rule comment does):
// the record goes on on the next line, and the lines after it keep their
// numbers. A quote that does not close as RFC 4180 closes it (followed by
// the separator or the line's end) within MaxRecord joins nothing: its line
// is read alone, as every line after it, so that a line cut inside a quoted
// value (syslog's truncation) is never joined with the next record into a
// flow of neither, and a stray quote loses no record after it. A quote
// inside an unquoted value, or after a space, is a character.
func TestCSVQuotedLineBreaks(t *testing.T) {
	head := `"@timestamp","source.ip","destination.ip","destination.port","source.bytes","event.original"` + "\n"
	in := head +
		`"2026-03-02T10:00:00Z","10.0.0.1","192.0.2.9",443,100,"line one` + "\n" + `line ""two""` + "\r\n" + `three"` + "\n" +
		`2026-03-02T10:00:01Z,10.0.0.2,192.0.2.9,443,200,a 5" screen` + "\n" +
		`2026-03-02T10:00:02Z,10.0.0.3,192.0.2.9,443,300,"x"` + "\n" +
		`2026-03-02T10:00:03Z,10.0.0.4,192.0.2.9,443,400, "not a quote` + "\n" +
		`2026-03-02T10:00:04Z,10.0.0.5,192.0.2.9,443,500,""` + "\n"
	got, d := readRecords(in, Options{})
	if d.Err() != nil || d.Rejected() != 0 || len(got) != 5 {
		t.Fatalf("got %d records, rejects %v, %v; want 5", len(got), d.Rejects(), d.Err())
	}
	for i, want := range []uint64{100, 200, 300, 400, 500} {
		if got[i].Bytes != want || got[i].SrcAddr != addr(fmt.Sprintf("10.0.0.%d", i+1)) {
			t.Errorf("record %d: %+v", i, got[i])
		}
	}

	// A line cut inside a quoted value, then whole records: the cut line
	// alone is rejected (no time), the records after it stand as they are.
	cut := "src_ip,dst_ip,comment,src_port,dst_port,protocol,bytes,packets,start\n" +
		"10.0.0.1,10.0.0.2,\"trunc\n" +
		"10.0.0.3,10.0.0.4,\"ok\",1111,2222,6,999,7,2026-03-02T00:00:05Z\n" +
		"10.0.0.5,10.0.0.6,\"ok\",3333,4444,6,5,1,2026-03-02T00:00:06Z\n"
	got, d = readRecords(cut, Options{})
	if len(got) != 2 || d.Rejected() != 1 || got[0].SrcAddr != addr("10.0.0.3") || got[0].Bytes != 999 || got[0].SrcPort != 1111 || got[1].SrcAddr != addr("10.0.0.5") {
		t.Errorf("cut line: %d records %+v, rejects %v; want 10.0.0.3's and 10.0.0.5's, one reject", len(got), got, d.Rejects())
	}

	// A quote never closed, or not within MaxRecord: nothing is joined.
	open := head + `2026-03-02T10:00:00Z,10.0.0.1,192.0.2.9,443,100,"never closed` + "\n"
	for i := range 4 {
		open += fmt.Sprintf("2026-03-02T10:00:0%dZ,10.0.1.%d,192.0.2.9,443,7,x\n", i+1, i+1)
	}
	got, d = readRecords(open, Options{})
	if len(got) != 5 || d.Rejected() != 0 {
		t.Errorf("unclosed quote: %d records, rejects %v; want all 5", len(got), d.Rejects())
	}
	long := head + `2026-03-02T10:00:00Z,10.0.0.1,192.0.2.9,443,100,"` + strings.Repeat("many lines\n", 200) + `end"` + "\n" +
		`2026-03-02T10:00:01Z,10.0.0.2,192.0.2.9,443,200,ok` + "\n"
	r := newReader(strings.NewReader(long), Options{}, 1024)
	var recs []flow.Record
	var rec flow.Record
	for r.Next(&rec) {
		recs = append(recs, rec)
	}
	if len(recs) != 2 || recs[1].Bytes != 200 || r.Rejects()[ReasonMissingAddr] != 200 {
		t.Errorf("quote past MaxRecord: %d records, rejects %v; want the two records and its 200 other lines rejected", len(recs), r.Rejects())
	}
}

// TestCSVQuoteLookAheadWindow: a quote whose closing line the look-ahead
// window cuts (the record would run past MaxRecord) joins nothing: the
// record after it keeps its bytes (it was joined with part of that line,
// bytes 999999 read as 99, and the line's rest read as one more line).
func TestCSVQuoteLookAheadWindow(t *testing.T) {
	head := "src_ip,dst_ip,comment,start,src_port,dst_port,protocol,packets,bytes\n"
	second := "10.0.0.3,10.0.0.4," + strings.Repeat("x", 150) + "\",2026-03-02T00:00:05Z,1111,2222,6,7,999999\n"
	in := head + "10.0.0.1,10.0.0.2,\"abc\n" + second + "10.0.0.5,10.0.0.6,ok,2026-03-02T00:00:06Z,3,4,6,1,5\n"
	for _, max := range []int{len("10.0.0.1,10.0.0.2,\"abc\n") + len(second) - 3, 1 << 20} {
		r := newReader(strings.NewReader(in), Options{}, max)
		var recs []flow.Record
		var rec flow.Record
		for r.Next(&rec) {
			recs = append(recs, rec)
		}
		joined := max == 1<<20
		switch {
		case joined && (len(recs) != 2 || recs[0].SrcAddr != addr("10.0.0.1") || recs[0].Bytes != 999999):
			t.Errorf("window of %d: %+v, rejects %v; want the two lines joined, bytes 999999", max, recs, r.Rejects())
		case !joined && (len(recs) != 2 || recs[0].SrcAddr != addr("10.0.0.3") || recs[0].Bytes != 999999 || r.Rejected() != 1):
			t.Errorf("window of %d: %+v, rejects %v; want the cut line rejected alone, 10.0.0.3's bytes 999999", max, recs, r.Rejects())
		}
	}
}

// TestCSVQuoteAfterCutLine: a line cut inside a quoted value, then a record
// whose quoted value breaks the line: the record stands, its lines joined
// (a look-ahead that went bad had made every line within its window be
// read alone, up to 1 MiB: the record was rejected as two lines, 10.0.0.3
// and its 700 bytes lost).
func TestCSVQuoteAfterCutLine(t *testing.T) {
	in := "src_ip,dst_ip,comment,start,src_port,dst_port,protocol,packets,bytes\n" +
		"10.0.0.1,10.0.0.2,\"cut here\n" +
		"10.0.0.3,10.0.0.4,\"multi\n" +
		"line\",2026-03-02T00:00:05Z,1111,2222,6,7,700\n" +
		"10.0.0.5,10.0.0.6,ok,2026-03-02T00:00:06Z,3,4,6,1,5\n"
	got, d := readRecords(in, Options{})
	if len(got) != 2 || d.Rejected() != 1 || d.Rejects()[ReasonNoTime] != 1 {
		t.Fatalf("got %d records %+v, rejects %v; want 2, the cut line rejected (no time)", len(got), got, d.Rejects())
	}
	if r := got[0]; r.SrcAddr != addr("10.0.0.3") || r.DstAddr != addr("10.0.0.4") || r.SrcPort != 1111 || r.DstPort != 2222 || r.Packets != 7 || r.Bytes != 700 {
		t.Errorf("first record: %+v, want 10.0.0.3:1111 -> 10.0.0.4:2222, 7 packets, 700 bytes", r)
	}
	if r := got[1]; r.SrcAddr != addr("10.0.0.5") || r.Bytes != 5 {
		t.Errorf("second record: %+v, want 10.0.0.5's, 5 bytes", r)
	}
}

// chunkReader reads at most 4096 bytes at a time, as a file or a pipe may,
// and counts its reads.
type chunkReader struct {
	r     io.Reader
	reads int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p[:min(len(p), 4096)])
}

// TestCSVQuotedLineBreaksReads: records whose quoted values break the line
// are read in the buffer's reads, not one read for each: a look-ahead
// peeked its whole window (MaxRecord) every time, and so moved the
// buffer's megabyte to its start and read the few bytes freed, for every
// record (10,000 reads here; 100,000 such records took 1.1 s to ingest,
// 0.13 s on one line each; now 0.13 s).
func TestCSVQuotedLineBreaksReads(t *testing.T) {
	var b strings.Builder
	b.WriteString("src_ip,dst_ip,comment,start,src_port,dst_port,protocol,packets,bytes\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "10.0.%d.%d,10.9.9.9,\"GET / HTTP/1.1\nHost: a\n\",2026-03-02T00:00:05Z,%d,80,6,1,%d\n", i>>8, i&255, 1000+i, i)
	}
	in := b.String()
	cr := &chunkReader{r: strings.NewReader(in)}
	d := NewReader(cr, Options{})
	var rec flow.Record
	n := 0
	for d.Next(&rec) {
		if rec.Bytes != uint64(n) || rec.SrcPort != uint16(1000+n) {
			t.Fatalf("record %d: %+v", n, rec)
		}
		n++
	}
	// Each read fills up to 4096 bytes, but for one short of the
	// buffer's end each time it comes to it; one more finds the end.
	if most := (len(in)+4095)/4096 + len(in)/MaxRecord + 2; n != 10000 || d.Rejected() != 0 || cr.reads > most {
		t.Errorf("%d records, rejects %v, %d reads of %d bytes; want 10000, none, at most %d reads", n, d.Rejects(), cr.reads, len(in), most)
	}
}

// TestCSVQuotedLineBreaksAtMaxRecord: a record whose quoted value breaks
// the line is read up to MaxRecord bytes, its last line break not counted,
// as a line of one record is (one of MaxRecord bytes with CRLF is read, and
// one whose lines came to MaxRecord bytes, or one less with CRLF, was
// rejected line by line).
func TestCSVQuotedLineBreaksAtMaxRecord(t *testing.T) {
	const limit = 300
	head := "src_ip,dst_ip,comment,start,src_port,dst_port,protocol,packets,bytes"
	for _, eol := range []string{"\n", "\r\n"} {
		for _, size := range []int{limit - 1, limit, limit + 1} {
			for _, breaks := range []bool{false, true} {
				pre, post := "10.0.0.2,10.0.0.3,\"", "\",2026-03-02T00:00:05Z,1111,2222,6,7,700"
				fill := []byte(strings.Repeat("y", size-len(pre)-len(post)))
				if breaks {
					for i := 40; i+len(eol) < len(fill); i += 50 {
						copy(fill[i:], eol)
					}
				}
				in := head + eol + "10.0.0.1,10.0.0.9,x,2026-03-02T00:00:04Z,1,2,6,1,5" + eol + pre + string(fill) + post + eol +
					"10.0.0.4,10.0.0.9,x,2026-03-02T00:00:06Z,3,4,6,1,9" + eol
				r := newReader(strings.NewReader(in), Options{}, limit)
				var got []uint64
				var rec flow.Record
				for r.Next(&rec) {
					got = append(got, rec.Bytes)
				}
				want := []uint64{5, 700, 9}
				if size > limit {
					want = []uint64{5, 9}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%q, %d bytes, line breaks %v: bytes %v, rejects %v; want %v", eol, size, breaks, got, r.Rejects(), want)
				}
			}
		}
	}
}
