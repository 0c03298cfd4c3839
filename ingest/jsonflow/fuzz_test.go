package jsonflow

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// FuzzReader: no input panics the Reader; every record it returns is
// valid; and the scanner agrees with encoding/json on what is JSON and
// what the addresses are.
func FuzzReader(f *testing.F) {
	// Good records in both formats, as the seed and exporters write them.
	f.Add([]byte(`[{"src_ip":"10.0.0.5","dst_ip":"10.0.0.9","src_port":51514,"dst_port":22,"protocol":6,"bytes_in":4242,"bytes_out":1717,"packets":12,"duration":2.5,"tcp_flags":2}]`))
	f.Add([]byte(allFieldsV4))
	f.Add([]byte(strings.ReplaceAll(allFieldsV6, "\n", "") + "\n" + good1 + "\n"))
	f.Add([]byte("\xEF\xBB\xBF\r\n" + good1 + "\r\n\r\n" + good2))
	// Time forms: RFC 3339 with zone and fraction, zone-less, epoch units.
	f.Add([]byte(`{"src_ip":"::1","dst_ip":"::2","start":"2024-05-06 07:08:09.5+02:00","end":"2024-05-06T07:08:09.75+02:00"}`))
	f.Add([]byte(`{"src_ip":"1.2.3.4","dst_ip":"5.6.7.8","first_seen":"2024-05-06T07:08:09","last_seen":1714979289999}`))
	f.Add([]byte(`{"src_ip":"1.2.3.4","dst_ip":"5.6.7.8","timestamp":"1.7e18","duration":"-1"}`))
	// Escapes, nested values, bad values.
	f.Add([]byte(`{"src\u005fip":"1.2.3.\u0034","dst_ip":"5.6.7.8","ts":1700000000,"x":{"a":["\ud83d\ude00",[{}]]}}`))
	f.Add([]byte(`{"src_ip":"1.2.3.4","dst_ip":"fe80::1%eth0","ts":1700000000,"src_port":65536,"tcp_flags":"...AP.SF"}`))
	// Nested objects read under dotted names (the Elastic Common Schema).
	f.Add([]byte(`{"source":{"ip":"10.0.0.1","port":1234,"bytes":10},"destination":{"ip":"10.0.0.2","port":443},"event":{"start":"2024-05-06T07:08:09Z"},"network":{"transport":"tcp"},"a":{"b":{"c":{"d":{}}}}}`))
	f.Add([]byte(`{"source.ip":"10.0.0.1","destination.ip":"10.0.0.2","@timestamp":1700000000,"netflow":{"ipv4_src_addr":"10.0.0.3","in_bytes":"x"}}`))
	// Flows wrapped in a document: an API's, Elasticsearch's search results.
	f.Add([]byte(`{"flows":[{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000},{"src_ip":"10.0.0.3"}],"next":null}`))
	f.Add([]byte(`{"took":1,"hits":{"total":{"value":1},"hits":[{"_index":"f","_source":{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000}}]}}`))
	// Argus's CSV (CTU-13's binetflow).
	f.Add([]byte("StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label\n" +
		"2011/08/10 09:46:53.049895,0.000326,tcp,217.163.21.35,80,  <?>,147.32.86.194,2063,FA_A,0,,2,120,60,flow=Background\n" +
		"2011/08/10 09:46:54.000000,0.000000,icmp,147.32.84.165,0x0008,   ->,147.32.84.1,0x7c41,ECO,0,,1,98,98,flow=From-Botnet\n"))
	// CICFlowMeter's CSV (CIC-IDS2017's names, with spaces).
	f.Add([]byte("Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Total Fwd Packets, SYN Flag Count, Flow Bytes/s\n" +
		"x,172.16.0.1,33898,192.168.10.50,22,6,7/7/2017 3:30,56,1,1,Infinity\n"))
	// Zeek's conn.log as JSON.
	f.Add([]byte(`{"ts":1591367999.430166,"uid":"C5","id.orig_h":"192.168.4.76","id.orig_p":46378,"id.resp_h":"31.3.245.133","id.resp_p":80,"proto":"tcp","duration":0.254,"conn_state":"SF","history":"ShADadFf^","orig_pkts":6,"orig_ip_bytes":397,"resp_pkts":4,"resp_ip_bytes":511}`))
	// Zeek's TSV log: a header, records, a header again with a comma.
	f.Add([]byte("#separator \\x09\n#unset_field\t-\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\thistory\n" +
		"1591367999.4\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\t-\n1591367999.5\t10.0.0.1\t40000\t10.0.0.2\t443\ttcp\tShADadFf\n" +
		"#separator \\x2c\n#fields,ts,id.orig_h,id.resp_h\n1.5,::1,::2\n"))
	// CSV under a header of field names, with nfdump's closing summary.
	f.Add([]byte("ts,te,sa,da,sp,dp,pr,flg,ibyt\n2024-05-06 10:01:00,2024-05-06 10:01:02,10.1.0.66,\"192.0.2.50\",50123,443,TCP,...AP.SF,540\n" +
		"ts,te,sa,da,sp,dp,pr,flg,ibyt\n1714989660,,::1,::2,,,,,\nSummary\nflows,bytes\n1,540\n"))
	// nProbe's '|' dump (both address columns) and an NF-* dataset's CSV.
	f.Add([]byte("# IN_BYTES|PROTOCOL|IPV4_SRC_ADDR|IPV6_SRC_ADDR|IPV4_DST_ADDR|IPV6_DST_ADDR|ICMP_TYPE|FLOW_START_MILLISECONDS|FLOW_DURATION_MILLISECONDS\n" +
		"52|1|0.0.0.0|2001:db8::1|0.0.0.0|2001:db8::2|2048|1660934932096|250\n1|6|10.0.0.1|::|10.0.0.2|::|0|1660934932096|x\n"))
	f.Add([]byte("IPV4_SRC_ADDR,L4_SRC_PORT,IPV4_DST_ADDR,L4_DST_PORT,PROTOCOL,TCP_FLAGS,CLIENT_TCP_FLAGS,SERVER_TCP_FLAGS,FLOW_START_MILLISECONDS,Label\n" +
		"10.0.0.1,40000,10.0.0.2,445,6,0,2,20,1424242200000,1\n"))
	// Suricata's eve.json: a flow event, an alert (not a flow), a netflow event.
	f.Add([]byte(`{"timestamp":"2019-03-14T12:59:55.5+0000","event_type":"flow","src_ip":"192.168.1.10","src_port":51234,"dest_ip":"93.184.216.34","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":12,"bytes_toserver":1850,"bytes_toclient":6032,"start":"2019-03-14T12:58:40.1012+0000","end":"2019-03-14T12:58:45.9877+0000"},"tcp":{"tcp_flags":"1b"}}` + "\n" +
		`{"event_type":"alert","src_ip":"192.168.1.10","dest_ip":"93.184.216.34","alert":{"signature":"x"}}` + "\n" +
		`{"event_type":"netflow","src_ip":"::1","dest_ip":"::2","proto":"IPv6-ICMP","netflow":{"pkts":1,"bytes":74,"start":"2019-03-14T12:59:50Z","end":"2019-03-14T12:59:50Z"},"tcp":{"tcp_flags":"zz"}}` + "\n"))
	// AWS VPC Flow Logs: a header of names separated by spaces, "-" for no value.
	f.Add([]byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n" +
		"2 123456789010 eni-2 - - - - - - - 1431280876 1431280934 - NODATA\n"))
	// FortiGate's key=value traffic logs, behind a syslog header or not.
	f.Add([]byte(`<189>May 10 11:37:47 FGT60E date=2019-05-10 time=11:37:47 type="traffic" eventtime=1557513467369913239 srcip=10.1.100.11 srcport=58012 dstip=23.59.154.35 dstport=80 proto=6 duration=116 sentbyte=1188 rcvdbyte=1224` + "\n" +
		`date=2019-05-10 time=11:38:01 type="utm" srcip=10.1.100.11 dstip=23.59.154.35 virus="EICAR` + "\n" +
		`date=2018-03-01 time=09:00:10 type="traffic" srcip=::1 dstip=::2 proto=17 tz="+0100" duration=x` + "\n"))
	// Juniper SRX's structured-data session logs.
	f.Add([]byte(`<14>1 2023-05-01T12:00:05.623+02:00 srx1 RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 source-address="10.0.0.5" source-port="51234" destination-address="93.184.216.34" destination-port="443" protocol-id="6" bytes-from-client="1850" elapsed-time="5"]` + "\n" +
		`<14>1 x srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636 source-address="::1" destination-address="::2"]` + "\n"))
	// CEF: escaped pipes and equals signs, values with spaces, month-name times.
	f.Add([]byte(`<14>May  1 12:00:40 fw01 CEF:0|Palo\|Alto|PAN-OS|10.1|end|TRAFFIC|1|rt=May 01 2023 12:00:40 GMT src=10.1.2.3 dst=203.0.113.10 cs1=allow web spt=51234 dpt=443 proto=TCP in=1234 out=6656 start=May 01 2023 12:00:10 GMT msg=a\=b` + "\n" +
		`CEF:0|x|y|z|1|drop|5|rt=1682942460000 src=::1 dst=::2 spt=99999` + "\n"))
	// Cisco ASA syslog: built, teardown, deny, ICMP, IPv6, an unknown message.
	f.Add([]byte("May 01 2023 12:00:40: %ASA-6-302013: Built outbound TCP connection 3204 for outside:93.184.216.34/443 (93.184.216.34/443) to inside:10.0.0.5/51234 (203.0.113.5/51234)\n" +
		"May 01 2023 12:01:45: %ASA-6-302014: Teardown TCP connection 3204 for outside:93.184.216.34/443 to inside:10.0.0.5/51234 duration 0:01:05 bytes 12345 TCP FINs\n" +
		"<166>1 2023-05-01T12:02:00Z fw01 - - - %ASA-4-106023: Deny tcp src outside:2001:db8::66/40000 dst inside:10.0.0.5/3389 by access-group \"x\"\n" +
		"%FTD-6-302021: Teardown ICMP connection for faddr 8.8.4.4/0 gaddr 1.2.3.4/1 laddr 10.0.0.5/1 type 8 code 0 duration 9:99:99 bytes x\n" +
		"%ASA-6-710003: TCP access denied by ACL from 1.2.3.4\n%ASA-2-106001: Inbound TCP connection denied from  to \n"))
	// LEEF 1.0 (tabs) and 2.0 (a named delimiter).
	f.Add([]byte("LEEF:1.0|V|P|1|e|devTime=May 01 2023 12:00:40 GMT\tsrc=10.1.2.3\tdst=203.0.113.10\tsrcBytes=1\n" +
		"LEEF:2.0|V|P|1|e|x5E|devTime=1682942460000^src=::1^dst=::2^dstPort=99999\nLEEF:2.0|V|P|1|e|\n"))
	// Squid's native access.log.
	f.Add([]byte("1683000000.123    456 10.0.0.5 TCP_TUNNEL/200 6656 CONNECT example.com:443 - HIER_DIRECT/93.184.216.34 -\n" +
		"1683000061.000      0 10.0.0.6 TCP_DENIED/403 3900 GET http://bad.example/ - HIER_NONE/- text/html\n" +
		"1683000062.5 99999999999999999999 ::1 X/1 x POST https://[::2]:99999/ - HIER_DIRECT/::2 -\n"))
	// JSON behind syslog headers.
	f.Add([]byte(`<14>May  1 12:00:40 sensor1 suricata[1234]: {"event_type":"flow","src_ip":"10.0.0.5","dest_ip":"93.184.216.34","flow":{"start":"2023-05-01T12:00:40Z"}}` + "\n" +
		`2023-05-01T12:01:00Z sensor2 zeek: {"ts":1682942460.5,"id.orig_h":"::1","id.resp_h":"::2"` + "\nx {}\n"))
	// UNSW-NB15's full records (no header).
	f.Add([]byte("175.45.176.1,0x000b,149.171.126.16,445,tcp,INT,0,200,0,254,0,0,0,-,0,0,2,0,0,0,0,0,100,0,0,0,0,0,1421927415,1421927416,0.5,0,0,0,0,0,0,0,0,0,1,1,1,1,1,1,1,Reconnaissance,1\n" +
		"59.166.0.0,0x2020zz,149.171.126.6,53,unas,CON,x,132,164,31,29,0,0,dns,5,6,2,2,0,0,0,0,66,82,0,0,0,0,1421927414,1421927414,0,0,0,0,0,0,0,0,0,0,3,7,1,3,1,1,1,,0\n"))
	// Windows Firewall's pfirewall.log (W3C extended log format).
	f.Add([]byte("#Version: 1.5\r\n#Software: Microsoft Windows Firewall\r\n#Time Format: UTC\r\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags path\r\n\r\n" +
		"2023-05-01 12:00:05 DROP TCP 198.51.100.66 10.0.0.5 40000 3389 52 S RECEIVE\r\n2023-05-01 x ALLOW ICMP ::1 ::2 - - 0 - SEND\r\n"))
	// Broken arrays: missing brace, wrong closer, unterminated string,
	// trailing data, a cut end.
	f.Add([]byte("[" + good1 + `,{"src_ip":"1.2.3.4",` + "\n" + good2 + "]"))
	f.Add([]byte("[" + good1 + `,{"x":[1,},` + good2 + "]"))
	f.Add([]byte("[" + good1 + `,{"src_ip":"1.2.3.4,` + good2 + "]"))
	f.Add([]byte("[" + good1 + "] x"))
	f.Add([]byte("[" + good1 + "," + good2[:20]))
	// Not JSON at all.
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Records of at most 64 bytes (and the smallest buffer) explore
		// the too long paths and the buffer's edges.
		checkReader(t, data, Options{Now: testNow}, 64)
		checkReader(t, data, Options{Now: testNow, AssumeTime: 1700000000e9, InputTZ: time.UTC}, 4096)
		checkObject(t, data)
	})
}

// checkReader reads data and checks every record and the counters.
func checkReader(t *testing.T, data []byte, opt Options, maxRecord int) {
	r := newReader(bytes.NewReader(data), opt, maxRecord)
	rejected := 0
	r.OnReject = func(j Reject) {
		rejected++
		if j.Reason == "" || j.Where == "" || j.Offset < 0 || j.Offset > int64(len(data)) {
			t.Fatalf("bad reject %+v", j)
		}
	}
	var rec flow.Record
	n := 0
	for r.Next(&rec) {
		n++
		checkRecord(t, &rec, opt)
	}
	if r.Next(&rec) {
		t.Fatalf("Next returned true after the end")
	}
	total := 0
	for _, c := range r.Rejects() {
		total += c
	}
	if n != r.Accepted() || rejected != r.Rejected() || total != rejected || r.Assumed() > n {
		t.Fatalf("counts: %d records, Accepted %d, %d rejects, Rejected %d, Rejects %v, Assumed %d",
			n, r.Accepted(), rejected, r.Rejected(), r.Rejects(), r.Assumed())
	}
	if off := r.Offset(); off < 0 || off > int64(len(data)) || (r.Err() == nil && off != int64(len(data))) {
		t.Fatalf("Offset() = %d of %d bytes, Err() = %v", off, len(data), r.Err())
	}
	checkArray(t, data, r)
}

// checkArray: a valid JSON array is followed to its end, one record or
// reject per element, as encoding/json splits it.
func checkArray(t *testing.T, data []byte, r *Reader) {
	var elems []json.RawMessage
	if Sniff(data) != FormatArray || json.Unmarshal(data, &elems) != nil {
		return
	}
	if r.Err() != nil || r.Accepted()+r.Rejected() != len(elems) {
		t.Fatalf("valid array of %d elements: %d records, %d rejects, Err() = %v",
			len(elems), r.Accepted(), r.Rejected(), r.Err())
	}
}

func checkRecord(t *testing.T, rec *flow.Record, opt Options) {
	latest := opt.Now.Add(24 * time.Hour).UnixNano()
	switch {
	case !rec.SrcAddr.IsValid() || !rec.DstAddr.IsValid():
		t.Fatalf("record without addresses: %+v", rec)
	case rec.SrcAddr.Zone() != "" || rec.DstAddr.Zone() != "":
		t.Fatalf("address with a zone: %+v", rec)
	case rec.Start > rec.End:
		t.Fatalf("start %d after end %d", rec.Start, rec.End)
	case rec.Start < minTime*1e9 || rec.End > latest:
		t.Fatalf("time out of range: %d..%d", rec.Start, rec.End)
	case rec.SamplingInterval < 1:
		t.Fatalf("sampling interval %d", rec.SamplingInterval)
	}
}

// checkObject decodes data as one object and compares with encoding/json:
// the scanner must call malformed exactly what json.Valid rejects, and an
// accepted record's addresses must be what encoding/json reads.
func checkObject(t *testing.T, data []byte) {
	d := decoder{latest: testNow.Add(24 * time.Hour).UnixNano(), assume: 1700000000e9}
	var rec flow.Record
	reason, detail := d.decode(data, &rec)
	if valid := json.Valid(data); valid == (reason == ReasonMalformed) {
		t.Fatalf("json.Valid = %v, decode says %q (%s)", valid, reason, detail)
	}
	if reason != "" {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode accepted what encoding/json cannot read: %v", err)
	}
	for key, got := range map[string]netip.Addr{"src_ip": rec.SrcAddr, "dst_ip": rec.DstAddr} {
		s, ok := m[key].(string)
		if !ok || otherNames(m, key) {
			continue // null last: the decoder keeps an earlier value; or another name set it
		}
		// IPv4-mapped IPv6 addresses are read as the IPv4 address.
		if want, err := lenientOracle(s); err != nil || want.Unmap() != got {
			t.Fatalf("%s: got %v, encoding/json and netip read %q as %v %v", key, got, s, want, err)
		}
	}
}

// lenientOracle is what lenientAddr must read, by netip: the string with
// blanks around it trimmed, brackets and an IPv6 zone removed.
func lenientOracle(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a, nil
	}
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if i := strings.IndexByte(s, '%'); i > 0 && strings.Contains(s[:i], ":") {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err == nil && a.Zone() != "" {
		return netip.Addr{}, strconv.ErrSyntax
	}
	return a, err
}

// otherNames reports whether m has another name for field key (an alias,
// or an object whose members may hold one).
func otherNames(m map[string]any, key string) bool {
	for k, v := range m {
		if _, nested := v.(map[string]any); nested || k != key && fields[k] != nil && fields[key] != nil && fields[k].name == fields[key].name {
			return true
		}
	}
	return false
}

// FuzzParseTime: no time string panics the parser; accepted times are in
// range; RFC 3339 agrees with time.Parse, integer epochs with plain
// arithmetic.
func FuzzParseTime(f *testing.F) {
	// RFC 3339: zones, fractions, the space form, a leap second.
	f.Add("2024-05-06T07:08:09Z")
	f.Add("2024-05-06T07:08:09.123456789+02:00")
	f.Add("2024-05-06 07:08:09.5-0530")
	f.Add("2016-12-31T23:59:60Z")
	f.Add("2024-02-29T23:59:59.9999999999z")
	// Zone-less (needs InputTZ) and bad dates; Argus's slashes.
	f.Add("2024-05-06T07:08:09")
	f.Add("2011/08/10 09:46:53.047277")
	// CICFlowMeter's day-first dates, with and without seconds and AM/PM.
	f.Add("7/7/2017 3:30")
	f.Add("14/02/2018 08:31:01.5 PM")
	f.Add("2023-02-29T00:00:00Z")
	f.Add("2024-05-06T07:08:09+24:00")
	// Epochs in each unit, fractions, exponents, out of range.
	f.Add("1700000000")
	f.Add("1700000000.5")
	f.Add("1700000000123")
	f.Add("1700000000123456")
	f.Add("1700000000123456789")
	f.Add("1.7e9")
	f.Add("-1e400")
	f.Add("99999999999")
	f.Fuzz(func(t *testing.T, s string) {
		latest := testNow.Add(24 * time.Hour).UnixNano()
		for _, tz := range []*time.Location{nil, time.UTC, time.FixedZone("", -7*3600)} {
			for _, str := range []bool{true, false} {
				ns, reason := parseTime([]byte(s), str, tz, latest)
				if reason == "" && (ns < minTime*1e9 || ns > latest) {
					t.Fatalf("parseTime(%q) = %d, out of range", s, ns)
				}
			}
		}
		ns, reason := parseTime([]byte(s), true, nil, latest)
		checkRFC3339(t, s, ns, reason, latest)
		// A date with slashes reads as the same date with dashes.
		if len(s) > 7 && s[4] == '/' && s[7] == '/' {
			dashed := s[:4] + "-" + s[5:7] + "-" + s[8:]
			for _, tz := range []*time.Location{nil, time.UTC} {
				a, ra := parseTime([]byte(s), true, tz, latest)
				b, rb := parseTime([]byte(dashed), true, tz, latest)
				if a != b || ra != rb {
					t.Fatalf("parseTime(%q) = %d %q, but %q = %d %q", s, a, ra, dashed, b, rb)
				}
			}
		}
		checkEpoch(t, s, ns, reason, latest)
	})
}

// checkRFC3339 compares with time.Parse on the strings both must read the
// same: two-digit fields at their places, 'T', '.' fractions, Z or +hh:mm,
// no leap second. (time.Parse also takes an offset of 24 hours or of 60
// minutes and a one-digit hour, which RFC 3339 does not.)
func checkRFC3339(t *testing.T, s string, ns int64, reason string, latest int64) {
	want, err := time.Parse(time.RFC3339Nano, s)
	canonical := len(s) >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
		!strings.ContainsAny(s, ", tz") && s[17:19] != "60" &&
		(strings.HasSuffix(s, "Z") || (len(s) > 6 && s[len(s)-3] == ':' && s[len(s)-5:len(s)-3] < "24" && s[len(s)-2:] < "60"))
	if !canonical {
		return
	}
	if err != nil {
		if reason == "" {
			t.Fatalf("parseTime(%q) = %d, time.Parse fails: %v", s, ns, err)
		}
		return
	}
	w := want.UnixNano()
	inRange := want.Unix() >= minTime && want.Year() < 2200 && w <= latest
	if inRange && (reason != "" || ns != w) {
		t.Fatalf("parseTime(%q) = %d %q, time.Parse: %d", s, ns, reason, w)
	}
	if !inRange && reason == "" {
		t.Fatalf("parseTime(%q) = %d, want a range reject (time.Parse: %v)", s, ns, want)
	}
}

// checkEpoch compares integer epochs with plain arithmetic.
func checkEpoch(t *testing.T, s string, ns int64, reason string, latest int64) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strings.HasPrefix(s, "+") || (len(s) > 1 && s[0] == '0') || strings.HasPrefix(s, "-0") {
		return
	}
	abs := v
	if abs < 0 {
		abs = -abs // MinInt64 stays negative, and is too old anyway
	}
	var mult int64 = 1
	switch {
	case abs < 1e11:
		mult = 1e9
	case abs < 1e14:
		mult = 1e6
	case abs < 1e17:
		mult = 1e3
	}
	if v > math.MaxInt64/mult || v < math.MinInt64/mult {
		return // overflow: covered by the range check
	}
	w := v * mult
	inRange := w >= minTime*1e9 && w <= latest
	if (inRange && (reason != "" || ns != w)) || (!inRange && reason == "") {
		t.Fatalf("parseTime(%q) = %d %q, want %d (in range %v)", s, ns, reason, w, inRange)
	}
}

// FuzzParseAddr: the in-place address reader agrees with netip.ParseAddr
// (which it replaces to avoid an allocation per address), zones aside.
func FuzzParseAddr(f *testing.F) {
	f.Add("10.0.0.1")        // IPv4
	f.Add("010.0.0.1")       // a leading zero: refused
	f.Add("2001:db8::1")     // IPv6 with "::"
	f.Add("1:2:3:4:5:6:7:8") // all eight groups
	f.Add("::ffff:1.2.3.4")  // an IPv4 tail
	f.Add("1:2:3:4:5:6:7::") // "::" for one group at the end
	f.Add("fe80::1%eth0")    // a zone: refused
	f.Add("1.2.3.4:80")      // an address and port: refused
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseAddr([]byte(s))
		want, err := netip.ParseAddr(s)
		if err == nil && want.Zone() != "" {
			err, want = strconv.ErrSyntax, netip.Addr{}
		}
		if ok != (err == nil) || got != want {
			t.Fatalf("parseAddr(%q) = %v %v, netip: %v %v", s, got, ok, want, err)
		}
	})
}
