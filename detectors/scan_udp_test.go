package detectors

import (
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestScanUDPRetransmits: nmap -sU over 100 ports, 2 of them open (they
// answer), the other 98 answered by ICMP port unreachables, 110 in all
// for nmap's retransmissions: 98 of 100 attempts failed, not all of them
// (the unreachables had been taken as failed attempts when more).
func TestScanUDPRetransmits(t *testing.T) {
	scanner, target := ip4(10, 0, 0, 30), ip4(10, 0, 0, 3)
	var recs []flow.Record
	at := t0
	for p := range uint16(100) {
		r := flow.Record{Start: at, End: at, SrcAddr: scanner, DstAddr: target, SrcPort: 40000, DstPort: 1000 + p, Proto: flow.ProtoUDP, Bytes: 28, Packets: 1}
		if p < 2 {
			r.RevBytes, r.RevPackets = 60, 1
		}
		recs = append(recs, r)
		at += 10 * int64(1e6)
	}
	for i := range 110 {
		recs = append(recs, flow.Record{Start: t0 + int64(i)*9*int64(1e6), SrcAddr: target, DstAddr: scanner, Proto: flow.ProtoICMP, ICMPType: 3, ICMPCode: 3, Bytes: 56, Packets: 1})
	}
	sortByStart(recs)
	s := NewScan(ScanConfig{})
	for i := range recs {
		s.Add(&recs[i])
	}
	got := s.Findings()
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(got), got)
	}
	if f := got[0]; f.Attempts != 100 || f.FailedAttempts != 98 || f.ICMPUnreachable != 110 || f.FailedShare != 0.98 {
		t.Errorf("attempts %d failed %d unreachable %d share %v; want 100, 98, 110, 0.98", f.Attempts, f.FailedAttempts, f.ICMPUnreachable, f.FailedShare)
	}
	// The evidence and the command take in the unreachables (they listed
	// the 100 probes alone).
	if f := got[0]; f.Flows != 210 || f.RawBytes != 100*28+2*60+110*56 || f.LastSeen != "2024-03-04T00:00:00.99Z" ||
		!strings.HasSuffix(f.Query, "--to 2024-03-04T00:00:00.990000001Z --filter 'ip 10.0.0.30 and ip 10.0.0.3 and (proto udp or proto icmp)'") {
		t.Errorf("flows %d raw bytes %d last seen %s query %s; want 210 flows, 9080 bytes, the probes and the unreachables", f.Flows, f.RawBytes, f.LastSeen, f.Query)
	}
}

// TestSelfScanQuery: a host scanning itself (a scan of 127.0.0.1 from
// 127.0.0.1) gets a command for its own flows, not for every flow of the
// address ("ip A and ip A").
func TestSelfScanQuery(t *testing.T) {
	a := ip4(127, 0, 0, 1)
	var recs []flow.Record
	for p := range uint16(40) {
		at := t0 + int64(p)*int64(1e8)
		recs = append(recs, flow.Record{Start: at, End: at, SrcAddr: a, DstAddr: a, SrcPort: 50000, DstPort: 1 + p, Proto: flow.ProtoTCP, TCPFlags: flow.SYN, Bytes: 44, Packets: 1,
			RevBytes: 40, RevPackets: 1})
	}
	s := NewScan(ScanConfig{})
	for i := range recs {
		s.Add(&recs[i])
	}
	got := s.Findings()
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	if q := got[0].Query; !strings.Contains(q, "'src ip 127.0.0.1 and dst ip 127.0.0.1 and proto tcp'") {
		t.Errorf("query %s; want the flows from 127.0.0.1 to itself", q)
	}
}

// TestScanUnreachableAheadOfProbe: a UDP scan of 30 ports, one a second,
// exported in whole seconds, each ICMP port unreachable in the same second
// as its probe and, as records of one timestamp may come in any order
// (or from two exporters), ahead of it. The first unreachable came before
// the pair had any state and was lost (29); the count must not depend on
// the order within a timestamp.
func TestScanUnreachableAheadOfProbe(t *testing.T) {
	scanner, target := ip4(203, 0, 113, 61), ip4(10, 31, 0, 1)
	var recs []flow.Record
	for p := range uint16(30) {
		at := t0 + int64(p)*sec
		recs = append(recs,
			flow.Record{Start: at, End: at, SrcAddr: target, DstAddr: scanner, Proto: flow.ProtoICMP, ICMPType: 3, ICMPCode: 3, Bytes: 56, Packets: 1},
			flow.Record{Start: at, End: at, SrcAddr: scanner, DstAddr: target, SrcPort: 45001, DstPort: 1 + p, Proto: flow.ProtoUDP, Bytes: 28, Packets: 1})
	}
	for _, order := range []string{"unreachable first", "probe first"} {
		s := NewScan(ScanConfig{})
		for i := range recs {
			s.Add(&recs[i])
		}
		got := s.Findings()
		if len(got) != 1 {
			t.Fatalf("%s: %d findings, want 1", order, len(got))
		}
		if f := got[0]; f.Attempts != 30 || f.FailedAttempts != 30 || f.ICMPUnreachable != 30 {
			t.Errorf("%s: attempts %d failed %d unreachable %d; want 30, 30, 30", order, f.Attempts, f.FailedAttempts, f.ICMPUnreachable)
		}
		for i := 0; i < len(recs); i += 2 {
			recs[i], recs[i+1] = recs[i+1], recs[i]
		}
	}
}
