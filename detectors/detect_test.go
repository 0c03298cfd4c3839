package detectors

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// The standard test week is the project generator's (internal/gen): a week
// of an office network with its scenario of planted events (scans,
// sweeps, exfiltration, beacons with jitter) and decoys (a busy file
// server, a web proxy, DNS to an internal resolver, NTP, a nightly
// backup, a 2 GB download, an internal web server serving an external
// client, a video call and an SSH session exported every 60 s, pollers
// and browsing at random intervals, a client reaching 21 services), with
// its ground truth. The records are split in two evidence files (source
// ids 1 and 2: the first and the second half of the week) and two
// exporters, as a case would have them.
var weekConfig = gen.Config{Flows: 250_000, Start: time.Unix(0, t0).UTC(), Span: 7 * 24 * time.Hour, Seed: 1,
	IPv6Share: 0.1, Planted: true}

var (
	exporterA = ip4(10, 255, 0, 1)
	exporterB = ip4(10, 255, 0, 2)
)

// dataset is generated (or read) records with their truth.
type dataset struct {
	recs     []flow.Record
	truth    *gen.Truth
	from, to int64 // the span
}

// generated runs the project generator; records get source ids (halves of
// the span) and exporters (by the source address).
func generated(cfg gen.Config) *dataset {
	d := &dataset{from: cfg.Start.UnixNano(), to: cfg.Start.Add(cfg.Span).UnixNano()}
	d.truth = gen.Generate(cfg, func(r *flow.Record) { d.recs = append(d.recs, *r) })
	d.label()
	return d
}

func (d *dataset) label() {
	half := d.from + (d.to-d.from)/2
	for i := range d.recs {
		r := &d.recs[i]
		r.SourceID, r.Exporter = 1, exporterA
		if r.Start >= half {
			r.SourceID = 2
		}
		if b := r.SrcAddr.AsSlice(); b[len(b)-1]%2 == 1 {
			r.Exporter = exporterB
		}
	}
}

// suite runs a Suite over the records that start in [from, to).
func (d *dataset) suite(from, to int64) *Suite {
	s := NewSuite(SuiteConfig{}.WithRange(from, to))
	lo := sort.Search(len(d.recs), func(i int) bool { return d.recs[i].Start >= from })
	for i := lo; i < len(d.recs) && d.recs[i].Start < to; i++ {
		s.Add(&d.recs[i])
	}
	return s
}

var (
	weekOnce      sync.Once
	weekData      *dataset
	weekSuiteOnce sync.Once
	weekSuite     *Suite
)

// testWeek is the standard test week, made once per test binary.
func testWeek() *dataset {
	weekOnce.Do(func() { weekData = generated(weekConfig) })
	return weekData
}

// runWeek runs a Suite over the standard test week, once per test binary.
func runWeek() (*Suite, *gen.Truth) {
	d := testWeek()
	weekSuiteOnce.Do(func() { weekSuite = d.suite(d.from, d.to) })
	return weekSuite, d.truth
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

func requirePerfect(t *testing.T, what string, tp, fp, fn int) {
	t.Helper()
	if p, r := prf(t, what, tp, fp, fn); p < 1 || r < 1 {
		t.Errorf("%s: precision %.3f recall %.3f, want 1 and 1", what, p, r)
	}
}

// checkScans: every planted vertical scan is one finding with its source,
// target, ports, attempts, failures and span; nothing else is.
func checkScans(t *testing.T, got []ScanFinding, tr *gen.Truth) {
	t.Helper()
	want := tr.Planted(gen.KindScan)
	matched := make([]bool, len(got))
	tp := 0
	for _, w := range want {
		i := slices.IndexFunc(got, func(f ScanFinding) bool {
			return f.Source == w.Src && f.Target == w.Dst && f.FirstSeenNS == w.First
		})
		if i < 0 {
			t.Errorf("scan %s %v -> %v at %s not found", w.ID, w.Src, w.Dst, FormatTime(w.First))
			continue
		}
		matched[i], tp = true, tp+1
		f := got[i]
		if f.UniquePorts != len(w.Ports) || f.Attempts != uint64(w.Connections) || f.FailedAttempts != uint64(w.Failed) ||
			f.LastSeenNS != w.Last || !slices.Equal(f.Protocols, []string{flow.ProtoName(w.Proto)}) {
			t.Errorf("scan %s %v -> %v: got ports %d attempts %d failed %d last %s protocols %v, want %d %d %d %s [%s]",
				w.ID, w.Src, w.Dst, f.UniquePorts, f.Attempts, f.FailedAttempts, f.LastSeen, f.Protocols,
				len(w.Ports), w.Connections, w.Failed, FormatTime(w.Last), flow.ProtoName(w.Proto))
		}
		if !slices.Equal(f.PortsSample, w.Ports[:min(len(w.Ports), 20)]) {
			t.Errorf("scan %s: ports_sample %v, want the lowest of %v", w.ID, f.PortsSample, w.Ports)
		}
	}
	fp := 0
	for i, f := range got {
		if !matched[i] {
			fp++
			t.Errorf("unexpected scan %v -> %v ports %d at %s%s", f.Source, f.Target, f.UniquePorts, f.FirstSeen, decoyOf(tr, f.Source, f.Target))
		}
	}
	requirePerfect(t, "vertical scans", tp, fp, len(want)-tp)
}

// checkSweeps: every planted sweep is one finding with its source, ports,
// targets and span; nothing else is.
func checkSweeps(t *testing.T, got []SweepFinding, tr *gen.Truth) {
	t.Helper()
	want := tr.Planted(gen.KindSweep)
	matched := make([]bool, len(got))
	tp := 0
	for _, w := range want {
		i := slices.IndexFunc(got, func(f SweepFinding) bool { return f.Source == w.Src })
		if i < 0 {
			t.Errorf("sweep %s from %v not found", w.ID, w.Src)
			continue
		}
		matched[i], tp = true, tp+1
		f := got[i]
		var ports []uint16
		for _, p := range f.Ports {
			ports = append(ports, p.Port)
		}
		slices.Sort(ports)
		if f.UniqueTargets != w.Hosts || !slices.Equal(ports, w.Ports) || f.FirstSeenNS != w.First || f.LastSeenNS != w.Last ||
			f.Attempts != uint64(w.Connections) || f.FailedAttempts != uint64(w.Failed) {
			t.Errorf("sweep %s %v: got targets %d ports %v attempts %d failed %d span %s..%s, want %d %v %d %d %s..%s", w.ID, w.Src,
				f.UniqueTargets, ports, f.Attempts, f.FailedAttempts, f.FirstSeen, f.LastSeen, w.Hosts, w.Ports, w.Connections, w.Failed,
				FormatTime(w.First), FormatTime(w.Last))
		}
		if f.TotalPortsProbed != w.Hosts*len(w.Ports) {
			t.Errorf("sweep %s: total_ports_probed %d, want %d", w.ID, f.TotalPortsProbed, w.Hosts*len(w.Ports))
		}
	}
	fp := 0
	for i, f := range got {
		if !matched[i] {
			fp++
			t.Errorf("unexpected sweep from %v: %d targets on %v, failed %.2f%s", f.Source, f.UniqueTargets, f.Ports, f.FailedShare,
				decoyOf(tr, f.Source, netip.Addr{}))
		}
	}
	requirePerfect(t, "sweeps", tp, fp, len(want)-tp)
}

// listedDecoys are the decoys the exfiltration detector lists, with the
// kind it must give them (listed, never alerts).
var listedDecoys = map[string]string{gen.DecoyWebServer: KindServerResponse, gen.DecoyVideoCall: KindTwoWay}

// checkExfil: every planted exfiltration is an alert with its pair and
// volume; the internal web server's answers and the video call are listed
// as server-response and two-way; nothing else is.
func checkExfil(t *testing.T, got []ExfilFinding, tr *gen.Truth) {
	t.Helper()
	var gotPairs, wantPairs []string
	for _, f := range got {
		gotPairs = append(gotPairs, fmt.Sprintf("%s %v->%v", f.Kind, f.Source, f.Destination))
	}
	for _, w := range tr.Planted(gen.KindExfil) {
		wantPairs = append(wantPairs, fmt.Sprintf("%s %v->%v", KindExfiltration, w.Src, w.Dst))
	}
	for _, d := range tr.Decoys() {
		if kind, ok := listedDecoys[d.Kind]; ok {
			src, dst := d.Src, d.Dst
			if kind == KindServerResponse { // the internal side is the finding's source
				src, dst = dst, src
			}
			wantPairs = append(wantPairs, fmt.Sprintf("%s %v->%v", kind, src, dst))
		}
	}
	slices.Sort(gotPairs)
	slices.Sort(wantPairs)
	if !slices.Equal(gotPairs, wantPairs) {
		t.Errorf("exfil findings\n got %v\nwant %v", gotPairs, wantPairs)
	}
	tp, fp := 0, 0
	for _, f := range got {
		if f.Kind != KindExfiltration {
			continue
		}
		i := slices.IndexFunc(tr.Planted(gen.KindExfil), func(e gen.Event) bool { return e.Src == f.Source && e.Dst == f.Destination })
		if i < 0 {
			fp++
			continue
		}
		tp++
		w := tr.Planted(gen.KindExfil)[i]
		samp := uint64(max(w.Sampling, 1))
		if f.TotalBytes != w.OutBytes || f.RawOutBytes != w.OutBytes/samp || f.OpenedBySource != uint64(w.Connections) ||
			f.FirstSeenNS != w.First || f.LastSeenNS < w.Last {
			t.Errorf("exfil %s %v -> %v: total %d raw %d opened %d first %s, want %d %d %d %s", w.ID, w.Src, w.Dst, f.TotalBytes,
				f.RawOutBytes, f.OpenedBySource, f.FirstSeen, w.OutBytes, w.OutBytes/samp, w.Connections, FormatTime(w.First))
		}
		if w.Sampling > 1 && !slices.Equal(f.SamplingIntervals, []uint32{w.Sampling}) {
			t.Errorf("exfil %s: sampling %v, want [%d]", w.ID, f.SamplingIntervals, w.Sampling)
		}
	}
	for _, f := range got {
		if f.Kind != KindServerResponse {
			continue
		}
		for _, d := range tr.Decoys(gen.DecoyWebServer) {
			if f.Source == d.Dst && (f.Opener != "destination" || f.OpenedByDestination != uint64(d.Connections) || f.Severity != "info") {
				t.Errorf("server response: opener %q opened %d severity %q, want destination %d info", f.Opener,
					f.OpenedByDestination, f.Severity, d.Connections)
			}
		}
	}
	requirePerfect(t, "exfiltration", tp, fp, len(tr.Planted(gen.KindExfil))-tp)
}

// checkBeacons: every planted beacon is a finding with its pair, port and
// connection count; nothing else is.
func checkBeacons(t *testing.T, got []BeaconFinding, tr *gen.Truth) {
	t.Helper()
	type key struct {
		src, dst netip.Addr
		port     uint16
	}
	want := map[key]gen.Event{}
	for _, b := range tr.Planted(gen.KindBeacon) {
		want[key{b.Src, b.Dst, b.Ports[0]}] = b
	}
	tp, fp := 0, 0
	found := map[string]bool{}
	for _, f := range got {
		w, ok := want[key{f.Source, f.Destination, f.Port}]
		if !ok {
			fp++
			t.Errorf("unexpected beacon %v -> %v:%d score %v parts %+v%s", f.Source, f.Destination, f.Port, f.Score, f.Parts,
				decoyOf(tr, f.Source, f.Destination))
			continue
		}
		tp++
		found[w.ID] = true
		t.Logf("beacon %s %v -> %v:%d: score %.3f, %d connections, median interval %.0f s", w.ID, f.Source, f.Destination, f.Port,
			f.Score, f.ConnectionCount, f.MedianInterval)
		// last_seen is the last record's start: the server's answer to the
		// last connection comes 1 ms after it.
		if f.ConnectionCount != uint64(w.Connections) || f.FirstSeenNS != w.First || f.LastSeenNS < w.Last || f.LastSeenNS > w.Last+int64(time.Millisecond) {
			t.Errorf("beacon %s %v -> %v:%d: %d connections %s..%s, want %d %s..%s", w.ID, f.Source, f.Destination, f.Port,
				f.ConnectionCount, f.FirstSeen, f.LastSeen, w.Connections, FormatTime(w.First), FormatTime(w.Last))
		}
	}
	for _, w := range want {
		if !found[w.ID] {
			t.Errorf("beacon %s %v -> %v:%d not found", w.ID, w.Src, w.Dst, w.Ports[0])
		}
	}
	requirePerfect(t, "beacons", tp, fp, len(want)-tp)
}

// decoyOf names the decoy a false positive comes from, if any.
func decoyOf(tr *gen.Truth, src, dst netip.Addr) string {
	for _, d := range tr.Decoys() {
		if (d.Src == src || !d.Src.IsValid()) && (d.Dst == dst || !d.Dst.IsValid() || !dst.IsValid()) {
			return fmt.Sprintf(" (decoy %s, %s)", d.ID, d.Kind)
		}
	}
	return ""
}

func TestWeekScans(t *testing.T) {
	s, tr := runWeek()
	checkScans(t, s.Scan.Findings(), tr)
}

func TestScanEvidence(t *testing.T) {
	s, tr := runWeek()
	s1, _ := tr.Event("S1")
	i := slices.IndexFunc(s.Scan.Findings(), func(f ScanFinding) bool { return f.Source == gen.ScanSource })
	if i < 0 {
		t.Fatalf("no scan from %v", gen.ScanSource)
	}
	f := s.Scan.Findings()[i]
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
	// 1024 probes and 1024 answers, in the first half of the week.
	if f.Flows != uint64(s1.Flows) || f.Flows != 2048 || !slices.Equal(f.Protocols, []string{"tcp"}) || !slices.Equal(f.SourceIDs, []uint32{1}) {
		t.Errorf("got flows %d protocols %v sources %v, want 2048 [tcp] [1]", f.Flows, f.Protocols, f.SourceIDs)
	}
	want := FlowsQuery(s1.First, s1.Last, "ip 10.1.0.66 and ip 10.0.0.20 and proto tcp")
	if f.Query != want || !strings.HasPrefix(want, "flowcase query flows --starting --from 2024-03-05T09:36:00Z --to 2024-03-05T09:37:59.691000001Z") {
		t.Errorf("query\n got %s\nwant %s", f.Query, want)
	}
	s3, _ := tr.Event("S3")
	i = slices.IndexFunc(s.Scan.Findings(), func(f ScanFinding) bool { return f.Source == s3.Src })
	if i < 0 {
		t.Fatalf("no scan from %v", s3.Src)
	}
	if udp := s.Scan.Findings()[i]; udp.ICMPUnreachable != 27 || udp.FailedShare != 0.9 {
		t.Errorf("udp scan: unreachable %d share %v, want 27 and 0.9", udp.ICMPUnreachable, udp.FailedShare)
	}
}

func TestWeekSweeps(t *testing.T) {
	s, tr := runWeek()
	checkSweeps(t, s.Sweep.Findings(), tr)
}

func TestWeekExfil(t *testing.T) {
	s, tr := runWeek()
	got := s.Exfil.Findings()
	checkExfil(t, got, tr)
	for _, f := range got {
		if f.History == nil || f.History.Status != "insufficient history" {
			t.Errorf("%v: history %+v, want insufficient history", f.Source, f.History)
		}
	}
}

func TestWeekBeacons(t *testing.T) {
	s, tr := runWeek()
	checkBeacons(t, s.Beacon.Findings(), tr)
}

// Findings skips a candidate's sizes when its interval and coverage
// parts alone keep it below the threshold: the findings must be exactly
// the candidates that score at or above it, in the same order.
func TestBeaconFindingsAreCandidatesAboveThreshold(t *testing.T) {
	s, _ := runWeek()
	var want []BeaconFinding
	all := s.Beacon.Candidates()
	for _, f := range all {
		if f.Score >= s.Beacon.cfg.Threshold {
			want = append(want, f)
		}
	}
	got := s.Beacon.Findings()
	if len(want) == 0 || len(want) == len(all) {
		t.Fatalf("%d of %d candidates above the threshold: the test needs both kinds", len(want), len(all))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings (%d) differ from the candidates above the threshold (%d)", len(got), len(want))
	}
}

// The long sessions of the test week are one connection each.
func TestLongSessionsAreOneConnection(t *testing.T) {
	s, tr := runWeek()
	long := tr.Decoys(gen.DecoySSH, gen.DecoyVideoCall, gen.DecoyDownload, gen.DecoyBackup)
	if len(long) < 4 {
		t.Fatalf("%d long-session decoys, want 4 kinds", len(long))
	}
	for _, d := range long {
		n := uint64(0)
		for _, st := range s.Beacon.slab {
			if a, _ := unpair(st.key.pair); s.tr.addrs.addr(a) == d.Src {
				n += st.count
			}
		}
		if n != uint64(d.Connections) {
			t.Errorf("%s %v: %d connections, want %d", d.ID, d.Src, n, d.Connections)
		}
	}
}

// A range that excludes an event does not report it; one that contains it
// does. The ranges are next to the event: the six hours before its first
// connection, the six hours after its last, and the event with an hour on
// each side.
func TestRangeExcludesEvent(t *testing.T) {
	d := testWeek()
	for _, e := range d.truth.Planted() {
		// A finding of the event has its pair and overlaps its span (S5a
		// and S5b are one pair, three hours apart).
		overlaps := func(ev Evidence) bool { return ev.FirstSeenNS <= e.Last && ev.LastSeenNS >= e.First }
		found := func(s *Suite) bool {
			switch e.Kind {
			case gen.KindScan:
				return slices.ContainsFunc(s.Scan.Findings(), func(f ScanFinding) bool {
					return f.Source == e.Src && f.Target == e.Dst && overlaps(f.Evidence)
				})
			case gen.KindSweep:
				return slices.ContainsFunc(s.Sweep.Findings(), func(f SweepFinding) bool { return f.Source == e.Src && overlaps(f.Evidence) })
			case gen.KindExfil:
				return slices.ContainsFunc(s.Exfil.Findings(), func(f ExfilFinding) bool {
					return f.Source == e.Src && f.Destination == e.Dst && overlaps(f.Evidence)
				})
			case gen.KindBeacon:
				return slices.ContainsFunc(s.Beacon.Findings(), func(f BeaconFinding) bool {
					return f.Source == e.Src && f.Destination == e.Dst && f.Port == e.Ports[0] && overlaps(f.Evidence)
				})
			}
			t.Fatalf("%s: kind %q", e.ID, e.Kind)
			return false
		}
		from, to := max(d.from, e.First-hr), min(d.to, e.Last+hr+1)
		if !found(d.suite(from, to)) {
			t.Errorf("%s (%s): not found in %s..%s, which contains it", e.ID, e.Kind, FormatTime(from), FormatTime(to))
		}
		if e.First > d.from {
			if from := max(d.from, e.First-6*hr); found(d.suite(from, e.First)) {
				t.Errorf("%s (%s): found in %s..%s, before it", e.ID, e.Kind, FormatTime(from), FormatTime(e.First))
			}
		}
		if e.Last+1 < d.to {
			if to := min(d.to, e.Last+6*hr); found(d.suite(e.Last+1, to)) {
				t.Errorf("%s (%s): found in %s..%s, after it", e.ID, e.Kind, FormatTime(e.Last+1), FormatTime(to))
			}
		}
	}
}

func TestWarnings(t *testing.T) {
	s, _ := runWeek()
	w := strings.Join(s.Exfil.Warnings(), "\n")
	if strings.Contains(w, "no flow has an internal endpoint") || strings.Contains(w, "IPv6 flows") {
		t.Errorf("unexpected warnings: %s", w)
	}
	if !strings.Contains(w, "insufficient history (6 of 14 days") { // the week's last day has six before it
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
