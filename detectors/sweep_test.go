package detectors

import (
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestSweepQueryPortRanges: a masscan of ports 1-1000, 3000, 3001 and
// 8080 of three hosts (Hosts 3). Its command named every port ("port 1
// or port 2 or ..."), which for a sweep of every port was 906 kB, more
// than one argument of a command may be; runs of three or more ports are
// portranges.
func TestSweepQueryPortRanges(t *testing.T) {
	scanner := ip4(203, 0, 113, 70)
	var ports []uint16
	for p := range uint16(1000) {
		ports = append(ports, 1+p)
	}
	ports = append(ports, 3000, 3001, 8080)
	var recs []flow.Record
	at := t0
	for _, p := range ports {
		for h := range byte(3) {
			recs = append(recs, flow.Record{Start: at, End: at, SrcAddr: scanner, DstAddr: ip4(10, 40, 0, h), SrcPort: 61000, DstPort: p, Proto: flow.ProtoTCP, TCPFlags: flow.SYN, Bytes: 40, Packets: 1})
			at += int64(1e6)
		}
	}
	s := NewSweep(SweepConfig{Hosts: 3})
	for i := range recs {
		s.Add(&recs[i])
	}
	got := s.Findings()
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	f := got[0]
	if f.UniqueTargets != 3 || f.TotalPortsProbed != 3009 || len(f.Ports) != 1003 || f.Attempts != 3009 || f.Flows != 3009 {
		t.Errorf("targets %d, ports probed %d, ports %d, attempts %d, flows %d; want 3, 3009, 1003, 3009, 3009",
			f.UniqueTargets, f.TotalPortsProbed, len(f.Ports), f.Attempts, f.Flows)
	}
	want := "--filter 'ip 203.0.113.70 and (portrange 1-1000 or port 3000 or port 3001 or port 8080) and proto tcp'"
	if !strings.HasSuffix(f.Query, want) {
		t.Errorf("query %s; want it to end with %s", f.Query, want)
	}
}
