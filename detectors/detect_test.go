package detectors

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

var (
	weekSuiteOnce sync.Once
	weekSuite     *Suite
)

// runWeek runs a Suite over the standard test week, once per test binary.
func runWeek() (*Suite, truth) {
	recs, tr := testWeek()
	weekSuiteOnce.Do(func() {
		weekSuite = NewSuite(SuiteConfig{}.WithRange(t0, t0+7*24*hr))
		for i := range recs {
			weekSuite.Add(&recs[i])
		}
	})
	return weekSuite, tr
}

// prf logs and returns precision and recall.
func prf(t *testing.T, what string, tp, fp, fn int) (float64, float64) {
	t.Helper()
	p, r := 1.0, 1.0
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	t.Logf("%s: precision %.3f recall %.3f (tp %d, fp %d, fn %d)", what, p, r, tp, fp, fn)
	return p, r
}

func TestWeekScans(t *testing.T) {
	s, tr := runWeek()
	got := s.Scan.Findings()
	matched := make([]bool, len(got))
	tp := 0
	for _, w := range tr.scans {
		i := slices.IndexFunc(got, func(f ScanFinding) bool {
			return f.Source == w.src && f.Target == w.dst && f.FirstSeenNS == w.first
		})
		if i < 0 {
			t.Errorf("scan %v -> %v at %s not found", w.src, w.dst, FormatTime(w.first))
			continue
		}
		matched[i], tp = true, tp+1
		f := got[i]
		if f.UniquePorts != w.ports || f.Attempts != w.attempts || f.FailedAttempts != w.failed || f.LastSeenNS != w.last {
			t.Errorf("scan %v -> %v: got ports %d attempts %d failed %d last %s, want %d %d %d %s",
				w.src, w.dst, f.UniquePorts, f.Attempts, f.FailedAttempts, f.LastSeen, w.ports, w.attempts, w.failed, FormatTime(w.last))
		}
	}
	fp := 0
	for i, f := range got {
		if !matched[i] {
			fp++
			t.Errorf("unexpected scan %v -> %v ports %d at %s", f.Source, f.Target, f.UniquePorts, f.FirstSeen)
		}
	}
	if p, r := prf(t, "vertical scans", tp, fp, len(tr.scans)-tp); p < 1 || r < 1 {
		t.Errorf("scans: precision %.3f recall %.3f, want 1 and 1", p, r)
	}
}

func TestScanEvidence(t *testing.T) {
	s, _ := runWeek()
	f := s.Scan.Findings()[0] // S1, 10.1.0.66 -> 10.0.0.20
	if f.Source != ip4(10, 1, 0, 66) {
		t.Fatalf("first scan from %v, want 10.1.0.66", f.Source)
	}
	wantSample := make([]uint16, 20)
	for i := range wantSample {
		wantSample[i] = uint16(i + 1)
	}
	if !slices.Equal(f.PortsSample, wantSample) {
		t.Errorf("ports_sample %v, want %v", f.PortsSample, wantSample)
	}
	if f.FailedShare != 1 || f.Score != 1 || f.Severity != "high" || f.Indicator != IndicatorScan {
		t.Errorf("got share %v score %v severity %q indicator %q", f.FailedShare, f.Score, f.Severity, f.Indicator)
	}
	// 1024 probes and 1024 answers.
	if f.Flows != 2048 || !slices.Equal(f.Protocols, []string{"tcp"}) || !slices.Equal(f.SourceIDs, []uint32{1}) {
		t.Errorf("got flows %d protocols %v sources %v, want 2048 [tcp] [1]", f.Flows, f.Protocols, f.SourceIDs)
	}
	want := "flowcase query flows --starting --from 2024-03-05T10:00:00Z --to 2024-03-05T10:01:59.691000001Z --filter 'ip 10.1.0.66 and ip 10.0.0.20 and proto tcp'"
	if f.Query != want {
		t.Errorf("query\n got %s\nwant %s", f.Query, want)
	}
	udp := s.Scan.Findings()[2] // S3: 27 unanswered, 27 unreachable
	if udp.ICMPUnreachable != 27 || udp.FailedShare != 0.9 {
		t.Errorf("udp scan: unreachable %d share %v, want 27 and 0.9", udp.ICMPUnreachable, udp.FailedShare)
	}
}

func TestWeekSweeps(t *testing.T) {
	s, tr := runWeek()
	got := s.Sweep.Findings()
	tp := 0
	matched := make([]bool, len(got))
	for _, w := range tr.sweeps {
		i := slices.IndexFunc(got, func(f SweepFinding) bool { return f.Source == w.src })
		if i < 0 {
			t.Errorf("sweep from %v not found", w.src)
			continue
		}
		matched[i], tp = true, tp+1
		f := got[i]
		var ports []uint16
		for _, p := range f.Ports {
			ports = append(ports, p.Port)
		}
		slices.Sort(ports)
		if f.UniqueTargets != w.targets || !slices.Equal(ports, w.ports) || f.FirstSeenNS != w.first || f.LastSeenNS != w.last {
			t.Errorf("sweep %v: got targets %d ports %v span %s..%s, want %d %v %s..%s", w.src, f.UniqueTargets, ports,
				f.FirstSeen, f.LastSeen, w.targets, w.ports, FormatTime(w.first), FormatTime(w.last))
		}
		if f.TotalPortsProbed != w.targets*len(w.ports) {
			t.Errorf("sweep %v: total_ports_probed %d, want %d", w.src, f.TotalPortsProbed, w.targets*len(w.ports))
		}
	}
	fp := 0
	for i, f := range got {
		if !matched[i] {
			fp++
			t.Errorf("unexpected sweep from %v: %d targets on %v, failed %.2f", f.Source, f.UniqueTargets, f.Ports, f.FailedShare)
		}
	}
	prf(t, "sweeps", tp, fp, len(tr.sweeps)-tp)
}

func TestWeekExfil(t *testing.T) {
	s, tr := runWeek()
	got := s.Exfil.Findings()
	var gotPairs, wantPairs []string
	for _, f := range got {
		gotPairs = append(gotPairs, fmt.Sprintf("%s %v->%v", f.Kind, f.Source, f.Destination))
	}
	for _, w := range tr.exfil {
		wantPairs = append(wantPairs, fmt.Sprintf("%s %v->%v", w.kind, w.src, w.dst))
	}
	slices.Sort(gotPairs)
	slices.Sort(wantPairs)
	if !slices.Equal(gotPairs, wantPairs) {
		t.Errorf("exfil findings\n got %v\nwant %v", gotPairs, wantPairs)
	}
	tp := 0
	for _, f := range got {
		if f.Kind == KindExfiltration {
			tp++
		}
	}
	prf(t, "exfiltration", tp, 0, 3-tp)
	for _, f := range got {
		if f.Source == ip4(10, 1, 0, 56) {
			if f.TotalBytes != 200_000_000 || f.RawOutBytes != 2_000_000 || !slices.Equal(f.SamplingIntervals, []uint32{100}) {
				t.Errorf("sampled pair: total %d raw %d sampling %v, want 200000000 2000000 [100]", f.TotalBytes, f.RawOutBytes, f.SamplingIntervals)
			}
		}
		if f.Kind == KindServerResponse && (f.Opener != "destination" || f.OpenedByDestination != 40 || f.Severity != "info") {
			t.Errorf("server response: opener %q opened %d severity %q, want destination 40 info", f.Opener, f.OpenedByDestination, f.Severity)
		}
		if f.History == nil || f.History.Status != "insufficient history" {
			t.Errorf("%v: history %+v, want insufficient history", f.Source, f.History)
		}
	}
}

func TestWeekBeacons(t *testing.T) {
	s, tr := runWeek()
	got := s.Beacon.Findings()
	type key struct {
		src, dst netip.Addr
		port     uint16
	}
	want := map[key]uint64{}
	for _, b := range tr.beacons {
		want[key{b.src, b.dst, b.port}] = b.count
	}
	tp, fp := 0, 0
	for _, f := range got {
		n, ok := want[key{f.Source, f.Destination, f.Port}]
		if !ok {
			fp++
			t.Errorf("unexpected beacon %v -> %v:%d score %v parts %+v", f.Source, f.Destination, f.Port, f.Score, f.Parts)
			continue
		}
		tp++
		if f.ConnectionCount != n {
			t.Errorf("beacon %v -> %v:%d: %d connections, want %d", f.Source, f.Destination, f.Port, f.ConnectionCount, n)
		}
	}
	prf(t, "beacons", tp, fp, len(want)-tp)
	if tp != len(want) {
		t.Errorf("found %d of %d beacons", tp, len(want))
	}
}

// The long sessions of the test week are one connection each.
func TestLongSessionsAreOneConnection(t *testing.T) {
	s, _ := runWeek()
	for _, src := range []netip.Addr{ip4(10, 1, 0, 46), ip4(10, 1, 0, 48), ip4(10, 1, 0, 45)} {
		n := 0
		for _, st := range s.Beacon.slab {
			if a, _ := unpair(st.key.pair); s.tr.addrs.addr(a) == src {
				n++
				if st.count != 1 {
					t.Errorf("%v -> port %d: %d connections, want 1", src, st.key.port, st.count)
				}
			}
		}
		if n != 1 {
			t.Errorf("%v: %d destinations, want 1", src, n)
		}
	}
}

// A range that excludes an event does not report it; one that contains it
// does.
func TestRangeExcludesEvent(t *testing.T) {
	recs, _ := testWeek()
	run := func(from, to int64) *Suite {
		s := NewSuite(SuiteConfig{}.WithRange(from, to))
		for i := range recs {
			if recs[i].Start >= from && recs[i].Start < to {
				s.Add(&recs[i])
			}
		}
		return s
	}
	day1 := run(t0+24*hr, t0+48*hr) // holds S1 (10:00) and W1 (14:00)
	if f := day1.Scan.Findings(); len(f) != 1 || f[0].Source != ip4(10, 1, 0, 66) {
		t.Errorf("day 1 scans: %d, want only 10.1.0.66", len(f))
	}
	if f := day1.Sweep.Findings(); len(f) != 1 || f[0].Source != ip4(10, 1, 0, 88) {
		t.Errorf("day 1 sweeps: %d, want only 10.1.0.88", len(f))
	}
	before := run(t0+24*hr, t0+24*hr+10*hr) // until 10:00, S1 starts at 10:00
	if f := before.Scan.Findings(); len(f) != 0 {
		t.Errorf("scans before 10:00 on day 1: %d, want 0", len(f))
	}
	if f := before.Sweep.Findings(); len(f) != 0 {
		t.Errorf("sweeps before 10:00 on day 1: %d, want 0", len(f))
	}
}

func TestWarnings(t *testing.T) {
	s, _ := runWeek()
	w := strings.Join(s.Exfil.Warnings(), "\n")
	if strings.Contains(w, "no flow has an internal endpoint") || strings.Contains(w, "IPv6 flows") {
		t.Errorf("unexpected warnings: %s", w)
	}
	if !strings.Contains(w, "insufficient history (0 of 14 days") {
		t.Errorf("warnings %q lack insufficient history", w)
	}
	outside := NewExfil(ExfilConfig{})
	v6only := NewExfil(ExfilConfig{Internal: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, r := range []flow.Record{
		{Start: 1, SrcAddr: ip4(198, 51, 100, 1), DstAddr: ip4(203, 0, 113, 1), Proto: 6},
		{Start: 2, SrcAddr: netip.MustParseAddr("2001:db8::1"), DstAddr: netip.MustParseAddr("2001:db8::2"), Proto: 6},
	} {
		outside.Add(&r)
		v6only.Add(&r)
	}
	if w := outside.Warnings(); len(w) < 2 || !strings.Contains(w[0], "outside NAT") || !strings.Contains(w[1], "IPv6") {
		t.Errorf("outside capture warnings: %q", w)
	}
	if w := v6only.Warnings(); !strings.Contains(strings.Join(w, "\n"), "IPv6 flows are present") {
		t.Errorf("v4-only internal networks: %q", w)
	}
}
