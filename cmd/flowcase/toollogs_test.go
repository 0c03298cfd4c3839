package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReportOnZeekConnLog: a Zeek conn.log written as JSON is evidence.
// 192.168.4.66 sweeps port 445 of 60 hosts: 40 attempts unanswered (S0,
// history "S") and 20 refused (REJ, "Sr": a reset came back, so only the
// history tells them failed); 192.168.4.76 reaches 60 web servers whose
// connections complete (SF, "ShADadFf"), not a sweep; 192.168.4.99 pings
// 80 hosts that do not answer (ICMP: the type is the originator's port).
// The same records in Zeek's TSV layout give the same findings.
func TestReportOnZeekConnLog(t *testing.T) {
	var b strings.Builder
	ts := 1591368000.0
	for i := range 60 {
		state, hist, rp, rb := "S0", "S", 0, 0
		if i%3 == 2 {
			state, hist, rp, rb = "REJ", "Sr", 1, 40
		}
		fmt.Fprintf(&b, `{"ts":%.6f,"uid":"Cs%d","id.orig_h":"192.168.4.66","id.orig_p":%d,"id.resp_h":"10.0.1.%d","id.resp_p":445,`+
			`"proto":"tcp","conn_state":"%s","missed_bytes":0,"history":"%s","orig_pkts":1,"orig_ip_bytes":60,"resp_pkts":%d,"resp_ip_bytes":%d}`+"\n",
			ts+float64(i)*2.5, i, 50000+i, i+1, state, hist, rp, rb)
		fmt.Fprintf(&b, `{"ts":%.6f,"uid":"Cw%d","id.orig_h":"192.168.4.76","id.orig_p":%d,"id.resp_h":"198.51.100.%d","id.resp_p":443,`+
			`"proto":"tcp","service":"ssl","duration":0.8,"orig_bytes":900,"resp_bytes":5200,"conn_state":"SF","missed_bytes":0,`+
			`"history":"ShADadFf","orig_pkts":9,"orig_ip_bytes":1380,"resp_pkts":8,"resp_ip_bytes":5620}`+"\n",
			ts+float64(i)*2.5+1, i, 40000+i, i+1)
	}
	for i := range 80 {
		fmt.Fprintf(&b, `{"ts":%.6f,"uid":"Cp%d","id.orig_h":"192.168.4.99","id.orig_p":8,"id.resp_h":"10.0.2.%d","id.resp_p":0,`+
			`"proto":"icmp","conn_state":"OTH","missed_bytes":0,"orig_pkts":1,"orig_ip_bytes":84,"resp_pkts":0,"resp_ip_bytes":0}`+"\n",
			ts+600+float64(i)*0.5, i, i+1)
	}
	dir := t.TempDir()
	report := func(name, text string) reportJSON {
		rep := reportOnFile(t, dir, name, text)
		for i := range rep.PortScans {
			rep.PortScans[i].Query, rep.PortScans[i].Sources = "", nil // the store and the file's hash
		}
		rep.Timestamp = ""
		return rep
	}
	rep := report("conn.json", b.String())
	if tsv := report("conn.log", zeekTSV(t, b.String())); !reflect.DeepEqual(tsv, rep) {
		t.Errorf("TSV: got %+v\nJSON gave %+v", tsv, rep)
	}
	if rep.TotalFlows != 200 || len(rep.PortScans) != 2 {
		t.Fatalf("got %d flows and %d scan findings, want 200 and the two sweeps: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	for i, w := range []struct {
		src                 string
		port, targets, fail int
	}{{"192.168.4.66", 445, 60, 60}, {"192.168.4.99", 0, 80, 80}} {
		s := rep.PortScans[i]
		if s.Source != w.src || s.Port != w.port || s.UniqueTargets != w.targets || s.Attempts != w.targets || s.FailedAttempts != w.fail {
			t.Errorf("got %s port %d: %d targets, %d attempts, %d failed; want %s port %d: %d, %d, %d",
				s.Source, s.Port, s.UniqueTargets, s.Attempts, s.FailedAttempts, w.src, w.port, w.targets, w.targets, w.fail)
		}
	}
}

// zeekTSV writes JSON lines of Zeek's conn.log in Zeek's TSV layout.
func zeekTSV(t *testing.T, lines string) string {
	cols := []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
		"orig_bytes", "resp_bytes", "conn_state", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes"}
	var b strings.Builder
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n")
	b.WriteString("#fields\t" + strings.Join(cols, "\t") + "\n")
	for line := range strings.Lines(lines) {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = "-"
			if v, ok := m[c]; ok {
				row[i] = fmt.Sprint(v)
			}
		}
		b.WriteString(strings.Join(row, "\t") + "\n")
	}
	return b.String()
}

// TestReportOnArgusCSV: Argus's CSV (CTU-13's binetflow layout) is
// evidence: 147.32.84.165 sweeps port 445 of 60 hosts, 40 attempts
// unanswered ("S_") and 20 refused ("S_RA": the reply's bytes are in
// TotBytes, only the state tells the attempt failed).
func TestReportOnArgusCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label\n")
	for i := range 60 {
		state, pkts, total := "S_", 1, 62
		if i%3 == 2 {
			state, pkts, total = "S_RA", 2, 122
		}
		fmt.Fprintf(&b, "2011/08/10 10:%02d:%02d.250000,0.000%03d,tcp,147.32.84.165,%d,   ->,147.32.1.%d,445,%s,0,,%d,%d,62,flow=From-Botnet-V42-TCP-Attempt\n",
			i/6, (i%6)*10, i, 1025+i, i+1, state, pkts, total)
	}
	rep := reportOnFile(t, t.TempDir(), "capture20110810.binetflow", b.String(), "--input-tz", "Europe/Prague")
	if rep.TotalFlows != 60 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want 60 and the sweep: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "147.32.84.165" || s.Port != 445 || s.UniqueTargets != 60 || s.FailedAttempts != 60 {
		t.Errorf("got %s port %d: %d targets, %d failed; want 147.32.84.165 port 445: 60, 60", s.Source, s.Port, s.UniqueTargets, s.FailedAttempts)
	}
}

// TestReportOnCICFlowMeter: a port scan in the layout of CIC-IDS2017's
// CICFlowMeter CSV (the dataset's PortScan: 172.16.0.1 probing
// 192.168.10.50): 40 ports, each a SYN answered by a reset (SYN, RST and
// ACK counted over both directions), among ordinary DNS flows. The report
// finds the scan alone, every attempt failed.
func TestReportOnCICFlowMeter(t *testing.T) {
	var b strings.Builder
	b.WriteString("Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets, Flow Bytes/s,FIN Flag Count, SYN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count, Label\n")
	for i := range 40 {
		fmt.Fprintf(&b, "f%d,172.16.0.1,%d,192.168.10.50,%d,6,7/7/2017 1:%02d,%d,1,1,0,0,0,0,1,1,0,1,0,PortScan\n", i, 40000+i, 1000+i*7, i/10, 30+i)
	}
	for i := range 5 {
		fmt.Fprintf(&b, "d%d,192.168.10.5,%d,192.168.10.3,53,17,7/7/2017 1:%02d,2000,1,1,40,120,80000,0,0,0,0,0,0,BENIGN\n", i, 50000+i, i)
	}
	rep := reportOnFile(t, t.TempDir(), "Friday-WorkingHours-Afternoon-PortScan.pcap_ISCX.csv", b.String(), "--input-tz", "America/Halifax")
	if rep.TotalFlows != 45 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want 45 and the scan: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "172.16.0.1" || s.Target != "192.168.10.50" || s.UniquePorts != 40 || s.Attempts != 40 || s.FailedAttempts != 40 {
		t.Errorf("got %s -> %s: %d ports, %d of %d attempts failed; want 172.16.0.1 -> 192.168.10.50: 40, all", s.Source, s.Target, s.UniquePorts, s.FailedAttempts, s.Attempts)
	}
}

// reportOnFile writes text to dir/name, ingests it into a new store
// (with the extra ingest flags) and returns the JSON report of the store.
func reportOnFile(t *testing.T, dir, name, text string, flags ...string) reportJSON {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return reportOf(t, filepath.Join(dir, name+".db"), append(flags, path)...)
}

// reportOf ingests args (flags, then evidence) into store and returns the
// store's JSON report.
func reportOf(t *testing.T, store string, args ...string) reportJSON {
	t.Helper()
	mustRun(t, append([]string{"ingest", "--quiet", "--store", store}, args...)...)
	var rep reportJSON
	if err := json.Unmarshal([]byte(mustRun(t, "query", "report", "--store", store, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestReportOnNProbeCSV: a port scan in an NF-UNSW-NB15-v3 layout (nProbe
// biflows: each probe and its reset in one record, TCP_FLAGS of both sides
// together) is found, every attempt failed.
func TestReportOnNProbeCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("FLOW_START_MILLISECONDS,FLOW_END_MILLISECONDS,IPV4_SRC_ADDR,L4_SRC_PORT,IPV4_DST_ADDR,L4_DST_PORT,PROTOCOL,L7_PROTO,IN_BYTES,IN_PKTS,OUT_BYTES,OUT_PKTS,TCP_FLAGS,CLIENT_TCP_FLAGS,SERVER_TCP_FLAGS,FLOW_DURATION_MILLISECONDS,Label,Attack\n")
	const t0 = 1424242200000
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%d,175.45.176.1,%d,149.171.126.16,%d,6,0.0,44,1,40,1,22,2,20,0,1,Reconnaissance\n", t0+i*50, t0+i*50, 40000+i, 1000+i*7)
	}
	for i := range 5 {
		fmt.Fprintf(&b, "%d,%d,59.166.0.2,%d,149.171.126.3,53,17,5.0,146,2,178,2,0,0,0,3,0,Benign\n", t0+i*1000, t0+i*1000+3, 50000+i)
	}
	rep := reportOnFile(t, t.TempDir(), "NF-UNSW-NB15-v3.csv", b.String())
	if rep.TotalFlows != 45 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want 45 and the scan: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "175.45.176.1" || s.Target != "149.171.126.16" || s.UniquePorts != 40 || s.Attempts != 40 || s.FailedAttempts != 40 {
		t.Errorf("got %s -> %s: %d ports, %d of %d attempts failed; want 175.45.176.1 -> 149.171.126.16: 40, all", s.Source, s.Target, s.UniquePorts, s.FailedAttempts, s.Attempts)
	}
}

// TestReportOnSuricataEVE: a port scan in Suricata's eve.json flow events
// (each probe and its reset one event) among alert events is found, every
// attempt failed; the alerts are passed over and the ingest says so.
func TestReportOnSuricataEVE(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		ts := fmt.Sprintf("2019-03-14T13:00:%02d.500000+0000", i)
		fmt.Fprintf(&b, `{"timestamp":%q,"event_type":"alert","src_ip":"192.168.1.66","src_port":%d,"dest_ip":"192.168.1.20","dest_port":%d,"proto":"TCP","alert":{"signature":"ET SCAN"}}`+"\n", ts, 40000+i, 1000+i)
		fmt.Fprintf(&b, `{"timestamp":%q,"event_type":"flow","src_ip":"192.168.1.66","src_port":%d,"dest_ip":"192.168.1.20","dest_port":%d,"proto":"TCP","flow":{"pkts_toserver":1,"pkts_toclient":1,"bytes_toserver":60,"bytes_toclient":54,"start":%q,"end":%q,"state":"closed"},"tcp":{"tcp_flags":"16","tcp_flags_ts":"02","tcp_flags_tc":"14"}}`+"\n", ts, 40000+i, 1000+i, ts, ts)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "eve.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := flowcase(t, "ingest", "--store", filepath.Join(dir, "s.db"), path)
	if code != 0 || !strings.Contains(stderr+out, "30 records are not flows and were passed over: 30 suricata alert event") {
		t.Errorf("ingest: exit %d, %q", code, stderr+out)
	}
	var rep reportJSON
	if err := json.Unmarshal([]byte(mustRun(t, "query", "report", "--store", filepath.Join(dir, "s.db"), "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.TotalFlows != 30 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want 30 and the scan: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "192.168.1.66" || s.Target != "192.168.1.20" || s.UniquePorts != 30 || s.FailedAttempts != 30 {
		t.Errorf("got %s -> %s: %d ports, %d of %d attempts failed; want 192.168.1.66 -> 192.168.1.20: 30, all", s.Source, s.Target, s.UniquePorts, s.FailedAttempts, s.Attempts)
	}
}

// TestReportOnAzureNSG: a port scan of a VM that its network security
// group denied, in an NSG flow log (each attempt a tuple without
// counters), is found, every attempt failed.
func TestReportOnAzureNSG(t *testing.T) {
	var tuples []string
	for i := range 30 {
		tuples = append(tuples, fmt.Sprintf(`"%d,198.51.100.66,10.5.16.4,%d,%d,T,I,D,B,,,,"`, 1542110400+i, 40000+i, 1000+i))
	}
	doc := `{"records":[{"time":"2018-11-13T12:00:35.3899262Z","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":2,"flows":[` +
		`{"rule":"DefaultRule_DenyAllInBound","flows":[{"mac":"000D3AF87856","flowTuples":[` + strings.Join(tuples, ",") + `]}]}]}}]}`
	rep := reportOnFile(t, t.TempDir(), "PT1H.json", doc)
	if rep.TotalFlows != 30 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want 30 and the scan: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "198.51.100.66" || s.Target != "10.5.16.4" || s.UniquePorts != 30 || s.FailedAttempts != 30 {
		t.Errorf("got %s -> %s: %d ports, %d of %d attempts failed; want 198.51.100.66 -> 10.5.16.4: 30, all", s.Source, s.Target, s.UniquePorts, s.FailedAttempts, s.Attempts)
	}
}

// TestReportOnCiscoASA: a port scan the ASA denied (106023 messages) is
// found, every attempt failed; the ASA's other messages are passed over.
func TestReportOnCiscoASA(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "May 01 2023 12:00:%02d: %%ASA-4-106023: Deny tcp src outside:198.51.100.66/%d dst inside:10.0.0.5/%d by access-group \"outside_in\" [0x0, 0x0]\n", i, 40000+i, 1000+i)
		fmt.Fprintf(&b, "May 01 2023 12:00:%02d: %%ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.9/%d to outside:203.0.113.5/%d\n", i, 50000+i, 50000+i)
	}
	rep := reportOnFile(t, t.TempDir(), "asa.log", b.String(), "--input-tz", "UTC")
	if rep.TotalFlows != 30 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want 30 and the scan: %+v", rep.TotalFlows, len(rep.PortScans), rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "198.51.100.66" || s.Target != "10.0.0.5" || s.UniquePorts != 30 || s.FailedAttempts != 30 {
		t.Errorf("got %s -> %s: %d ports, %d of %d attempts failed; want 198.51.100.66 -> 10.0.0.5: 30, all", s.Source, s.Target, s.UniquePorts, s.FailedAttempts, s.Attempts)
	}
}

// TestReportOnBlockedScans: a port scan that a firewall or a security group
// blocked, as each kind of log records it (an AWS VPC Flow Log's REJECT
// records, FortiGate's deny logs, Windows Firewall's DROP lines), is found
// with every attempt failed: none was answered.
func TestReportOnBlockedScans(t *testing.T) {
	const n = 30
	var vpc, forti, win strings.Builder
	vpc.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	win.WriteString("#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: UTC\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path\n")
	for i := range n {
		fmt.Fprintf(&vpc, "2 123456789010 eni-1 198.51.100.66 172.31.9.12 %d %d 6 1 44 %d %d REJECT OK\n", 40000+i, 1000+i, 1682942400+i, 1682942400+i)
		fmt.Fprintf(&forti, `date=2023-05-01 time=12:00:%02d type="traffic" subtype="forward" eventtime=%d srcip=198.51.100.66 srcport=%d dstip=10.1.100.11 dstport=%d proto=6 action="deny" policyid=0 sentpkt=1`+"\n", i, (1682942400+int64(i))*1e9, 40000+i, 1000+i)
		fmt.Fprintf(&win, "2023-05-01 12:00:%02d DROP TCP 198.51.100.66 10.0.0.5 %d %d 44 S 1 0 1024 - - - RECEIVE\n", i, 40000+i, 1000+i)
	}
	for _, c := range []struct{ name, text, target string }{
		{"vpc.log", vpc.String(), "172.31.9.12"},
		{"forti.log", forti.String(), "10.1.100.11"},
		{"pfirewall.log", win.String(), "10.0.0.5"},
	} {
		rep := reportOnFile(t, t.TempDir(), c.name, c.text)
		if rep.TotalFlows != n || len(rep.PortScans) != 1 {
			t.Errorf("%s: %d flows and %d scan findings, want %d and the scan: %+v", c.name, rep.TotalFlows, len(rep.PortScans), n, rep.PortScans)
			continue
		}
		if s := rep.PortScans[0]; s.Source != "198.51.100.66" || s.Target != c.target || s.UniquePorts != n || s.FailedAttempts != n {
			t.Errorf("%s: %s -> %s: %d ports, %d of %d attempts failed; want 198.51.100.66 -> %s: %d, all", c.name, s.Source, s.Target, s.UniquePorts, s.FailedAttempts, s.Attempts, c.target, n)
		}
	}
}

// TestReportOnVPCPingSweep: a ping sweep in an AWS VPC Flow Log, whose
// ICMP records carry no type (ports 0), is found: the pings are read as
// echo requests from their sender, answered by the hosts that replied.
func TestReportOnVPCPingSweep(t *testing.T) {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	const hosts = 120
	for i := range hosts {
		at := 1682942400 + i
		fmt.Fprintf(&b, "2 123456789010 eni-1 172.31.9.5 172.31.%d.%d 0 0 1 1 84 %d %d ACCEPT OK\n", 10+i/200, 1+i%200, at, at)
		if i%4 == 0 { // a quarter of the hosts answer
			fmt.Fprintf(&b, "2 123456789010 eni-1 172.31.%d.%d 172.31.9.5 0 0 1 1 84 %d %d ACCEPT OK\n", 10+i/200, 1+i%200, at, at)
		}
	}
	rep := reportOnFile(t, t.TempDir(), "vpc.log", b.String())
	if rep.TotalFlows != hosts+hosts/4 || len(rep.PortScans) != 1 {
		t.Fatalf("got %d flows and %d scan findings, want %d and the sweep: %+v", rep.TotalFlows, len(rep.PortScans), hosts+hosts/4, rep.PortScans)
	}
	if s := rep.PortScans[0]; s.Source != "172.31.9.5" || s.UniqueTargets != hosts || s.Attempts != hosts || s.FailedAttempts != hosts-hosts/4 {
		t.Errorf("got %s: %d targets, %d of %d attempts failed; want 172.31.9.5: %d, %d of %d", s.Source, s.UniqueTargets, s.FailedAttempts, s.Attempts, hosts, hosts-hosts/4, hosts)
	}
}

// TestReportOnSquidBeacon: a C2 beacon through a web proxy (a CONNECT to the
// same server every five minutes, a few seconds of jitter, for a day), as
// Squid's access.log records it among other browsing, is found.
func TestReportOnSquidBeacon(t *testing.T) {
	var b strings.Builder
	t0 := 1683000000.0
	for i := range 288 {
		ts := t0 + float64(i)*300 + float64((i*7)%5)
		fmt.Fprintf(&b, "%.3f %6d 10.0.0.5 TCP_TUNNEL/200 %d CONNECT c2.example:443 - HIER_DIRECT/203.0.113.200 -\n", ts, 150, 5200+(i%3)*10)
		if i%4 == 0 {
			fmt.Fprintf(&b, "%.3f %6d 10.0.0.%d TCP_MISS/200 %d GET http://news.example/p%d - HIER_DIRECT/198.51.100.%d text/html\n",
				ts+17+float64(i%13)*11, 80+i%50, 6+i%20, 20000+i*37%9000, i, 10+i%30)
		}
	}
	rep := reportOnFile(t, t.TempDir(), "access.log", b.String())
	var found bool
	for _, bc := range rep.Beacons {
		if bc.Source == "10.0.0.5" && bc.Destination == "203.0.113.200" && bc.Port == 443 {
			found = bc.ConnectionCount == 288
		} else {
			t.Errorf("beacon %s -> %s:%d, want only the C2", bc.Source, bc.Destination, bc.Port)
		}
	}
	if !found {
		t.Errorf("the C2 beacon was not found with its 288 requests: %+v", rep.Beacons)
	}
}
