package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestReportOnMeteredScans: real nmap scans of loopback (make.sh scans:
// FIN, NULL, Xmas and ACK scans, an IPv6 SYN scan, a sweep of four ports
// over 80 addresses), recorded with tcpdump. The capture itself, metered by
// flowcase, and softflowd's NetFlow v9 export of it give the same flows and
// the same findings, with every attempt failed.
func TestReportOnMeteredScans(t *testing.T) {
	const dir = "../../testdata/softflowd/"
	metered := reportOf(t, filepath.Join(t.TempDir(), "s.db"), "--meter", dir+"traffic_scans.pcap.gz")
	exported := reportOf(t, filepath.Join(t.TempDir(), "s.db"), dir+"softflowd_v9_scans.pcap")
	type finding struct {
		target                    string
		port, ports, targets      int
		attempts, failed, protoNo int
	}
	list := func(rep reportJSON) []finding {
		var out []finding
		for _, s := range rep.PortScans {
			if s.Source != "127.0.0.1" && s.Source != "::1" {
				t.Errorf("finding from %s", s.Source)
			}
			out = append(out, finding{s.Target, s.Port, s.UniquePorts, s.UniqueTargets, s.Attempts, s.FailedAttempts, len(s.Protocols)})
		}
		return out
	}
	got, want := list(metered), list(exported)
	if fmt.Sprint(got) != fmt.Sprint(want) || metered.TotalFlows != exported.TotalFlows || metered.Baseline.TotalBytes != exported.Baseline.TotalBytes {
		t.Errorf("metered: %d flows, %d bytes, %+v\nsoftflowd: %d flows, %d bytes, %+v", metered.TotalFlows, metered.Baseline.TotalBytes, got,
			exported.TotalFlows, exported.Baseline.TotalBytes, want)
	}
	// What the scans were (make.sh): 127.0.0.7 ports 1-200 (FIN) and 200-400
	// (Xmas), 127.0.0.8 1-200 (NULL) and 1-150 (ACK), ::1 8000-8600, and
	// ports 22, 80, 443 and 3389 of 127.0.3.1-80 (plus the two hosts above,
	// whose port 22 or 80 the vertical scans touched).
	wantScans := []finding{{"127.0.0.7", 0, 400, 0, 401, 401, 1}, {"127.0.0.8", 0, 200, 0, 350, 350, 1},
		{"::1", 0, 601, 0, 601, 601, 1}, {"", 22, 0, 82, 0, 0, 0}}
	if len(got) != len(wantScans) {
		t.Fatalf("findings %+v, want %+v", got, wantScans)
	}
	for i, w := range wantScans {
		if g := got[i]; g.target != w.target || g.ports != w.ports || g.targets != w.targets || g.port != w.port ||
			(w.attempts != 0 && (g.attempts != w.attempts || g.failed != w.failed)) {
			t.Errorf("finding %d: %+v, want %+v", i, g, w)
		}
	}
	if metered.TotalFlows != 3342 || len(metered.Exfil) != 0 || len(metered.Beacons) != 0 {
		t.Errorf("metered: %d flows, %d exfiltration and %d beacon findings; want 3342 (softflowd's records), none, none",
			metered.TotalFlows, len(metered.Exfil), len(metered.Beacons))
	}
}

// --meter takes every packet: --port (which selects export packets) with it
// is a usage error, and so is a duration that is not one.
func TestMeterFlags(t *testing.T) {
	store := filepath.Join(t.TempDir(), "s.db")
	const capture = "../../testdata/softflowd/traffic.pcap.gz"
	for _, args := range [][]string{
		{"--meter", "--port", "53"},
		{"--meter", "--meter-idle", "soon"},
		{"--meter", "--meter-active", "0s"},
	} {
		if _, stderr, code := flowcase(t, append(append([]string{"ingest", "--quiet", "--store", store}, args...), capture)...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, exitUsage)
		}
	}
	if _, _, code := flowcase(t, "ingest", "--quiet", "--store", store, "--meter", "--meter-idle", "9s", capture); code != 0 {
		t.Errorf("--meter-idle 9s: exit %d", code)
	}
}

// TestReportOnSFlowScans: an sFlow agent sampling every packet of the same
// scans (pmacctd's sfprobe, testdata/sflow) gives the same findings as the
// metered capture: each sampled packet is a flow of one packet, and the
// detectors join a probe and its answer as they join an exporter's records.
func TestReportOnSFlowScans(t *testing.T) {
	rep := reportOf(t, filepath.Join(t.TempDir(), "s.db"), "../../testdata/sflow/sflow_scans.pcap.gz")
	type finding struct {
		source, target string
		port, n        int
	}
	var got []finding
	for _, s := range rep.PortScans {
		if s.FailedAttempts != s.Attempts {
			t.Errorf("%s -> %s: %d of %d attempts failed, want all", s.Source, s.Target, s.FailedAttempts, s.Attempts)
		}
		got = append(got, finding{s.Source, s.Target, s.Port, s.UniquePorts + s.UniqueTargets})
	}
	want := []finding{{"127.0.0.1", "127.0.0.7", 0, 400}, {"127.0.0.1", "127.0.0.8", 0, 200}, {"::1", "::1", 0, 601}, {"127.0.0.1", "", 22, 82}}
	if fmt.Sprint(got) != fmt.Sprint(want) || rep.TotalFlows != 3337 || len(rep.Exfil) != 0 || len(rep.Beacons) != 0 {
		t.Errorf("got %d flows, scans %+v, %d exfiltration, %d beacons; want 3337 (the samples), %+v, none, none",
			rep.TotalFlows, got, len(rep.Exfil), len(rep.Beacons), want)
	}
}
