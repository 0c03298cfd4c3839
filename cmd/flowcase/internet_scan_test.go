package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/detectors"
)

// ndjsonProbe writes one flow of the generator's NDJSON, starting and
// ending at at.
func ndjsonProbe(b *strings.Builder, at time.Time, src, dst string, sport, dport, proto, flags, bytes int, icmp ...int) {
	fmt.Fprintf(b, `{"src_ip":%q,"dst_ip":%q,"src_port":%d,"dst_port":%d,"protocol":%d,"bytes_in":%d,"bytes_out":0,"packets":1,"packets_out":0,"tcp_flags":%d,`,
		src, dst, sport, dport, proto, bytes, flags)
	if len(icmp) == 2 {
		fmt.Fprintf(b, `"icmp_type":%d,"icmp_code":%d,`, icmp[0], icmp[1])
	}
	ts := at.UTC().Format(time.RFC3339Nano)
	fmt.Fprintf(b, `"start":%q,"end":%q}`+"\n", ts, ts)
}

// TestScanSweepMix: one source SYN-probes ports 1-25 of 50 hosts, host
// after host, through a real store. Each host is a vertical scan of 25
// ports (50 findings) and the 25 ports of the 50 hosts are one sweep
// (one finding, not one per port), whose command names the ports as a
// portrange; every finding's command lists exactly the flows it counts,
// a report restricted to one host (--filter 'host ...') gives that host's
// finding as the whole report does, and a range starting halfway
// through a host's scan counts the probes within it.
func TestScanSweepMix(t *testing.T) {
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for h := range 50 {
		for p := range 25 {
			ndjsonProbe(&b, base.Add(time.Duration(h*25+p)*100*time.Millisecond), "203.0.113.70", fmt.Sprintf("10.40.0.%d", h), 61000, 1+p, 6, 0x02, 40)
		}
	}
	dir := t.TempDir()
	ev := filepath.Join(dir, "mix.ndjson")
	if err := os.WriteFile(ev, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s.db")
	mustRun(t, "ingest", "--quiet", "--store", store, ev)
	report := func(args ...string) reportJSON {
		var rep reportJSON
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"query", "report", "--store", store, "--format", "json"}, args...)...)), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := report()
	if len(rep.PortScans) != 51 {
		t.Fatalf("%d findings, want 50 scans and a sweep", len(rep.PortScans))
	}
	for i, p := range rep.PortScans[:50] {
		if p.Indicator != "Port scan detected" || p.Target != fmt.Sprintf("10.40.0.%d", i) || p.UniquePorts != 25 || p.Attempts != 25 || p.FailedAttempts != 25 || p.Flows != 25 {
			t.Errorf("finding %d: %+v; want a scan of 10.40.0.%d: 25 ports, attempts, failed and flows", i, p, i)
		}
	}
	sw := rep.PortScans[50]
	if sw.Indicator != "Network sweep detected" || sw.UniqueTargets != 50 || sw.Port != 1 || sw.Attempts != 1250 || sw.FailedAttempts != 1250 || sw.Flows != 1250 ||
		!strings.HasSuffix(sw.Query, "--filter 'ip 203.0.113.70 and portrange 1-25 and proto tcp'") {
		t.Errorf("sweep %+v; want 50 targets, port 1, 1250 attempts, failed and flows, the ports as portrange 1-25", sw)
	}
	checkFindingQueries(t, rep)
	if table := mustRun(t, "query", "sweeps", "--store", store); !strings.Contains(table, "\n203.0.113.70  1-25/tcp  50       100%    0.50   2026-03-02T10:00:00Z") {
		t.Errorf("sweeps table:\n%s\nwant the sweep's ports as 1-25/tcp", table)
	}

	one := report("--filter", "host 10.40.0.7")
	if len(one.PortScans) != 1 || one.PortScans[0].Target != "10.40.0.7" || one.PortScans[0].UniquePorts != 25 || one.PortScans[0].Flows != 25 {
		t.Errorf("--filter 'host 10.40.0.7': %+v; want its scan of 25 ports", one.PortScans)
	}
	// Host 10 is probed from 10:00:25 to 10:00:27.4; from 10:00:26, 15
	// ports are in the range: below --ports 20, and found with --ports 15.
	cut := report("--from", "2026-03-02T10:00:26Z", "--to", "2026-03-02T10:00:27.5Z")
	if len(cut.PortScans) != 0 {
		t.Errorf("a range with 15 ports of one host reports %+v", cut.PortScans)
	}
	cut = report("--from", "2026-03-02T10:00:26Z", "--to", "2026-03-02T10:00:27.5Z", "--ports", "15")
	if len(cut.PortScans) != 1 || cut.PortScans[0].Target != "10.40.0.10" || cut.PortScans[0].UniquePorts != 15 || cut.PortScans[0].Flows != 15 {
		t.Errorf("a range with 15 ports of one host, --ports 15: %+v; want its scan of 15 ports", cut.PortScans)
	}
	checkFindingQueries(t, cut)
}

// TestUDPScanUnreachablesQuery: a UDP scan of 200 ports of one host, each
// probe answered by an ICMP port unreachable (separate records), through
// a real store: the finding counts the 200 unreachables, and its command
// lists the 400 flows it rests on (the probes alone before).
func TestUDPScanUnreachablesQuery(t *testing.T) {
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for p := range 200 {
		at := base.Add(time.Duration(p) * 50 * time.Millisecond)
		ndjsonProbe(&b, at, "203.0.113.61", "10.31.0.1", 45001, 1+p, 17, 0, 28)
		ndjsonProbe(&b, at.Add(time.Millisecond), "10.31.0.1", "203.0.113.61", 0, 0, 1, 0, 56, 3, 3)
	}
	// Its DNS traffic with a resolver meanwhile: another pair.
	ndjsonProbe(&b, base.Add(time.Second), "10.31.0.1", "10.31.0.53", 53000, 53, 17, 0, 60)
	dir := t.TempDir()
	ev := filepath.Join(dir, "udp.ndjson")
	if err := os.WriteFile(ev, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s.db")
	mustRun(t, "ingest", "--quiet", "--store", store, ev)
	var rep reportJSON
	if err := json.Unmarshal([]byte(mustRun(t, "query", "scans", "--store", store, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.PortScans) != 1 {
		t.Fatalf("%d findings, want 1", len(rep.PortScans))
	}
	if p := rep.PortScans[0]; p.UniquePorts != 200 || p.Attempts != 200 || p.FailedAttempts != 200 || p.ICMPUnreachable != 200 || p.Flows != 400 {
		t.Errorf("%+v; want 200 ports, attempts, failed attempts and unreachables, 400 flows", p)
	}
	checkFindingQueries(t, rep)
}

// TestSweptPorts: a sweep's row lists up to ten ports as they rank; more
// go in port order as ranges, at most ten terms (a masscan of every port
// made a row of 644 kB).
func TestSweptPorts(t *testing.T) {
	run := func(proto string, from, to, step int) []detectors.SweptPort {
		var ps []detectors.SweptPort
		for p := from; p <= to; p += step {
			ps = append(ps, detectors.SweptPort{Port: uint16(p), Proto: proto, Targets: 256})
		}
		return ps
	}
	for _, c := range []struct {
		ps   []detectors.SweptPort
		want string
	}{
		{[]detectors.SweptPort{{Port: 445, Proto: "tcp", Targets: 200}}, "445/tcp"},
		{[]detectors.SweptPort{{Port: 3389, Proto: "tcp", Targets: 90}, {Port: 22, Proto: "tcp", Targets: 80}, {Port: 0, Proto: "icmp", Targets: 60}}, "3389/tcp,22/tcp,echo/icmp"},
		{run("tcp", 1, 65535, 1), "1-65535/tcp"},
		{append(append(append(run("tcp", 3001, 3001, 1), run("udp", 161, 161, 1)...), run("tcp", 1, 1000, 1)...),
			detectors.SweptPort{Port: 8080, Proto: "tcp", Targets: 50}, detectors.SweptPort{Port: 3000, Proto: "tcp", Targets: 50}, detectors.SweptPort{Proto: "icmp", Targets: 50}),
			"echo/icmp,1-1000/tcp,3000/tcp,3001/tcp,8080/tcp,161/udp"},
		{run("tcp", 2, 60, 2), "2/tcp,4/tcp,6/tcp,8/tcp,10/tcp,12/tcp,14/tcp,16/tcp,18/tcp,20/tcp,... +20 ports"},
	} {
		if got := sweptPorts(c.ps); got != c.want {
			t.Errorf("%d ports: %q, want %q", len(c.ps), got, c.want)
		}
	}
}
