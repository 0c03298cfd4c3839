package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
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
	mustRun(t, "ingest", "--quiet", "--store", store, capture)
	var rep struct {
		TotalFlows int `json:"total_flows"`
		PortScans  []struct {
			Source          string   `json:"source"`
			Target          string   `json:"target"`
			UniquePorts     int      `json:"unique_ports"`
			UniqueTargets   int      `json:"unique_targets"`
			Port            int      `json:"port"`
			Protocols       []string `json:"protocols"`
			Attempts        int      `json:"attempts"`
			FailedAttempts  int      `json:"failed_attempts"`
			ICMPUnreachable int      `json:"icmp_unreachable"`
		} `json:"port_scans"`
		Exfil   []json.RawMessage `json:"exfiltration_candidates"`
		Beacons []json.RawMessage `json:"beaconing_patterns"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "query", "report", "--store", store, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
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
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %d rows, %v", path, len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	facts := nmapFacts{ports: map[string]int{}, unreachable: map[string]int{}}
	ports, targets := map[string]bool{}, map[string]bool{}
	for _, r := range rows[1:] {
		if r[col["kind"]] != "flow" {
			continue
		}
		facts.flows++
		src, dst, port, proto := r[col["src_ip"]], r[col["dst_ip"]], r[col["dst_port"]], r[col["proto"]]
		if proto == "1" && r[col["icmp_type_code"]] == strconv.Itoa(3<<8|3) {
			n, _ := strconv.Atoi(r[col["packets"]])
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
