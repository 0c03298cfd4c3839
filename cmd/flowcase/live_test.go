package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/flowcase/flowcase/internal/truthcsv"
)

// TestReportOnNmapScans runs the report over real scans: nmap's SYN scan
// of 1,000 ports, a SYN sweep of port 80 over 254 addresses, a connect
// scan of 100 ports (one open) and a UDP scan of 100 ports answered by
// ICMP port unreachable, exported by softflowd as NetFlow v9 and recorded
// on loopback (testdata/softflowd/make.sh). What each finding must say is
// counted from tshark's decoding of the same capture, not from flowcase.
func TestReportOnNmapScans(t *testing.T) {
	const capture = "../../testdata/softflowd/softflowd_v9_nmap.pcap"
	truth := nmapTruth(t, capture+".csv")
	store := filepath.Join(t.TempDir(), "s.db")
	rep := reportOf(t, store, capture)
	if rep.TotalFlows != truth.flows || len(rep.Exfil) != 0 || len(rep.Beacons) != 0 {
		t.Errorf("got %d flows, %d exfiltration and %d beacon findings; want %d, none, none",
			rep.TotalFlows, len(rep.Exfil), len(rep.Beacons), truth.flows)
	}
	type scan struct {
		target, proto          string
		ports, attempts, unrea int
	}
	want := []scan{
		{"127.0.0.2", "tcp", truth.ports["127.0.0.2/6"], truth.ports["127.0.0.2/6"], 0},
		{"127.0.0.3", "tcp", truth.ports["127.0.0.3/6"], truth.ports["127.0.0.3/6"], 0},
		{"127.0.0.4", "udp", truth.ports["127.0.0.4/17"], truth.ports["127.0.0.4/17"], truth.unreachable["127.0.0.4"]},
	}
	var got []scan
	sweeps := 0
	for _, s := range rep.PortScans {
		if s.Source != "127.0.0.1" {
			t.Errorf("finding from %s, want only 127.0.0.1's", s.Source)
		}
		if s.Target == "" { // a sweep
			sweeps++
			if s.Port != 80 || s.UniqueTargets != truth.sweep || s.Attempts != truth.sweep || s.FailedAttempts != truth.sweep {
				t.Errorf("sweep: got port %d, %d targets, %d attempts (%d failed); want 80, %d, all failed",
					s.Port, s.UniqueTargets, s.Attempts, s.FailedAttempts, truth.sweep)
			}
			continue
		}
		if len(s.Protocols) != 1 || s.FailedAttempts != s.Attempts {
			t.Errorf("scan of %s: protocols %v, %d of %d attempts failed; want one protocol, all failed", s.Target, s.Protocols, s.FailedAttempts, s.Attempts)
		}
		got = append(got, scan{s.Target, s.Protocols[0], s.UniquePorts, s.Attempts, s.ICMPUnreachable})
	}
	if sweeps != 1 || len(got) != len(want) {
		t.Fatalf("got %d sweeps and vertical scans %+v; want 1 sweep and %+v", sweeps, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("vertical scan %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// The figures the fixture was made to hold (make.sh), as tshark counts them.
	if w := (scan{"127.0.0.2", "tcp", 1000, 1000, 0}); want[0] != w || truth.sweep != 256 || want[1].ports != 100 || want[2].ports != 100 {
		t.Errorf("tshark's counts: %+v, sweep %d; want nmap's 1000, 100 and 100 ports and 256 targets on port 80", want, truth.sweep)
	}
}

// nmapFacts are counted from tshark's rows of the nmap capture: flows;
// distinct destination ports from 127.0.0.1 per "target/proto"; distinct
// targets of 127.0.0.1 on tcp/80; ICMP unreachable packets per sender.
type nmapFacts struct {
	flows, sweep int
	ports        map[string]int
	unreachable  map[string]int
}

func nmapTruth(t *testing.T, path string) nmapFacts {
	t.Helper()
	facts := nmapFacts{ports: map[string]int{}, unreachable: map[string]int{}}
	ports, targets := map[string]bool{}, map[string]bool{}
	for _, r := range truthFlows(t, path) {
		facts.flows++
		src, dst, port, proto := r["src_ip"], r["dst_ip"], r["dst_port"], r["proto"]
		if proto == "1" && r["icmp_type_code"] == strconv.Itoa(3<<8|3) {
			n, _ := strconv.Atoi(r["packets"])
			facts.unreachable[src] += n
		}
		if src != "127.0.0.1" || proto == "1" {
			continue
		}
		if k := dst + "/" + proto + "/" + port; !ports[k] {
			ports[k] = true
			facts.ports[dst+"/"+proto]++
		}
		if port == "80" && proto == "6" && !targets[dst] {
			targets[dst] = true
			facts.sweep++
		}
	}
	return facts
}

// TestReportOnRealBeacon runs the report over real periodic connections:
// 25 to 127.0.0.5:8080 every 1.5 s with up to 10% jitter and steady sizes,
// beside a decoy of 25 to 127.0.0.6:8080 at exponential intervals with
// varied sizes (testdata/softflowd/beacon.py), exported by softflowd as
// IPFIX and recorded on loopback. The beacon's count and intervals are
// taken from tshark's decoding of the same capture.
func TestReportOnRealBeacon(t *testing.T) {
	const capture = "../../testdata/softflowd/softflowd_ipfix_beacon.pcap"
	starts := map[string][]float64{} // connection start times (s) per destination, one per client port
	for _, r := range truthFlows(t, capture+".csv") {
		if r["src_ip"] == "127.0.0.1" && r["dst_port"] == "8080" {
			s, err := strconv.ParseFloat(r["first_epoch"], 64)
			if err != nil {
				t.Fatal(err)
			}
			starts[r["dst_ip"]] = append(starts[r["dst_ip"]], s)
		}
	}
	beacon := starts["127.0.0.5"]
	if len(beacon) != 25 || len(starts["127.0.0.6"]) != 25 {
		t.Fatalf("tshark: %d beacon and %d decoy connections, want 25 each (beacon.py)", len(beacon), len(starts["127.0.0.6"]))
	}
	slices.Sort(beacon)
	intervals := make([]float64, len(beacon)-1)
	for i := range intervals {
		intervals[i] = beacon[i+1] - beacon[i]
	}
	slices.Sort(intervals)
	median := (intervals[11] + intervals[12]) / 2
	mean := (beacon[24] - beacon[0]) / 24

	store := filepath.Join(t.TempDir(), "s.db")
	rep := reportOf(t, store, capture)
	if len(rep.Beacons) != 1 || len(rep.PortScans) != 0 {
		t.Fatalf("got %d beacons and %d scan findings, want the one beacon and no scan: %+v", len(rep.Beacons), len(rep.PortScans), rep.Beacons)
	}
	b := rep.Beacons[0]
	if b.Source != "127.0.0.1" || b.Destination != "127.0.0.5" || b.Port != 8080 || b.ConnectionCount != 25 {
		t.Errorf("got %s -> %s:%d, %d connections; want 127.0.0.1 -> 127.0.0.5:8080, 25", b.Source, b.Destination, b.Port, b.ConnectionCount)
	}
	// The report rounds to 0.1 ms; tshark gives softflowd's milliseconds.
	if math.Abs(b.MeanInterval-mean) > 1e-4 || math.Abs(b.MedianInterval-median) > 1e-4 {
		t.Errorf("got mean interval %v, median %v; want %.4f, %.4f", b.MeanInterval, b.MedianInterval, mean, median)
	}
	if b.JitterRatio <= 0 || b.JitterRatio > 0.1 {
		t.Errorf("got jitter ratio %v, want the 10%% uniform jitter's MAD/median (about 0.05)", b.JitterRatio)
	}
}

// TestReportOnRealExfil runs the report over real bulk transfers on
// loopback (testdata/softflowd/exfil.py, NetFlow v9 from softflowd), with
// 127.0.0.0/24 internal: 127.0.0.1 uploads 120 MB to 127.0.1.9 (an
// exfiltration), downloads 150 MB from 127.0.1.10 (inbound: no finding)
// and exchanges 110 MB out and 100 MB in with 127.0.1.11 (two-way, listed
// apart and not an alert). Bytes come from tshark's decoding.
func TestReportOnRealExfil(t *testing.T) {
	const capture = "../../testdata/softflowd/softflowd_v9_exfil.pcap"
	bytes := map[[2]string]uint64{} // (src, dst) -> bytes, one record per direction
	for _, r := range truthFlows(t, capture+".csv") {
		n, err := strconv.ParseUint(r["bytes"], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		bytes[[2]string{r["src_ip"], r["dst_ip"]}] += n
	}
	store := filepath.Join(t.TempDir(), "s.db")
	mustRun(t, "ingest", "--quiet", "--store", store, capture)
	var rep reportJSON
	out := mustRun(t, "query", "report", "--store", store, "--internal", "127.0.0.0/24", "--format", "json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	type finding struct {
		dst, kind string
		out, in   uint64
	}
	want := []finding{
		{"127.0.1.9", "exfiltration", bytes[[2]string{"127.0.0.1", "127.0.1.9"}], bytes[[2]string{"127.0.1.9", "127.0.0.1"}]},
		{"127.0.1.11", "two-way", bytes[[2]string{"127.0.0.1", "127.0.1.11"}], bytes[[2]string{"127.0.1.11", "127.0.0.1"}]},
	}
	var got []finding
	for _, e := range rep.Exfil {
		if e.Source != "127.0.0.1" || e.Opener != "source" {
			t.Errorf("finding %s -> %s opened by %s, want 127.0.0.1's, opened by it", e.Source, e.Destination, e.Opener)
		}
		got = append(got, finding{e.Destination, e.Kind, e.TotalBytes, e.InBytes})
	}
	if !slices.Equal(got, want) || rep.Summary.ExfilAlerts != 1 || rep.Summary.TwoWay != 1 {
		t.Errorf("got %+v, %d alerts, %d two-way; want %+v, 1, 1", got, rep.Summary.ExfilAlerts, rep.Summary.TwoWay, want)
	}
	if want[0].out < 120_000_000 || want[1].in < 100_000_000 {
		t.Errorf("tshark's bytes %+v, want exfil.py's 120 MB up and 100 MB back", want)
	}
}

// truthFlows reads the flow rows of a fixture's truth CSV (truth.py).
func truthFlows(t *testing.T, path string) []map[string]string {
	t.Helper()
	rows, err := truthcsv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return truthcsv.Flows(rows)
}
