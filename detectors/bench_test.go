package detectors

import (
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// Benchmarks run each detector over about a million generated flows (the
// project generator's week: a million background flows and the scenario)
// per iteration, from a fresh detector to its
// findings, and report flows/s, allocated bytes per flow and the detector's
// live heap after the run (heapMB, the records excluded), and the CPU time
// per flow (cpu-ns/flow, steadier than flows/s when the machine is shared).
//
//	go test -run '^$' -bench . -benchtime 3x ./detectors

var (
	benchOnce sync.Once
	benchRecs []flow.Record
)

func benchRecords(b *testing.B) []flow.Record {
	benchOnce.Do(func() {
		cfg := weekConfig
		cfg.Flows, cfg.Seed = 1_000_000, 11
		benchRecs = generated(cfg).recs
	})
	return benchRecs
}

type adder interface{ Add(*flow.Record) }

func benchRun(b *testing.B, mk func() adder, finish func(adder)) {
	recs := benchRecords(b)
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	base := ms0.HeapAlloc // the records themselves
	var live uint64
	var cpu int64
	b.ResetTimer()
	for range b.N {
		c0 := cpuTime()
		d := mk()
		for i := range recs {
			d.Add(&recs[i])
		}
		finish(d)
		cpu += cpuTime() - c0
		if live == 0 {
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			live = ms.HeapAlloc - min(base, ms.HeapAlloc)
			runtime.KeepAlive(d)
			b.StartTimer()
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	n := float64(len(recs)) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(cpu)/n, "cpu-ns/flow")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/n, "B/flow")
	b.ReportMetric(float64(live)/1e6, "heapMB")
	b.ReportMetric(float64(len(recs)), "flows")
}

// cpuTime is the process's user and system CPU time in nanoseconds: on a
// shared machine it measures the work better than the wall clock (it
// includes the GC's background work).
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkTracker(b *testing.B) {
	benchRun(b, func() adder { return trackerAdder{newTracker(ConnConfig{})} }, func(a adder) { a.(trackerAdder).flush() })
}

type trackerAdder struct{ *tracker }

func (t trackerAdder) Add(r *flow.Record) { t.add(r) }

func BenchmarkScan(b *testing.B) {
	benchRun(b, func() adder { return NewScan(ScanConfig{}) }, func(a adder) { a.(*Scan).Findings() })
}

func BenchmarkSweep(b *testing.B) {
	benchRun(b, func() adder { return NewSweep(SweepConfig{}) }, func(a adder) { a.(*Sweep).Findings() })
}

func BenchmarkExfil(b *testing.B) {
	benchRun(b, func() adder { return NewExfil(ExfilConfig{From: t0}) }, func(a adder) { a.(*Exfil).Findings() })
}

func BenchmarkBeacon(b *testing.B) {
	benchRun(b, func() adder { return NewBeacon(BeaconConfig{}) }, func(a adder) { a.(*Beacon).Findings() })
}

func BenchmarkBaseline(b *testing.B) {
	benchRun(b, func() adder { return NewBaseline(BaselineConfig{}) }, func(a adder) { a.(*Baseline).Summary() })
}

func BenchmarkTopSrcIP(b *testing.B) {
	benchRun(b, func() adder { return NewTop(TopConfig{}) }, func(a adder) { a.(*Top).Result() })
}

func BenchmarkTopDstPort(b *testing.B) {
	benchRun(b, func() adder { return NewTop(TopConfig{By: ByDstPort}) }, func(a adder) { a.(*Top).Result() })
}

func BenchmarkTimeline(b *testing.B) {
	benchRun(b, func() adder { return NewTimeline(TimelineConfig{}) }, func(a adder) { a.(*Timeline).Buckets() })
}

// BenchmarkReport is the whole report: every detector and the baseline
// over one stream, joined into connections once.
func BenchmarkReport(b *testing.B) {
	benchRun(b, func() adder { return NewSuite(SuiteConfig{}.WithRange(t0, t0+7*24*hr)) },
		func(a adder) { a.(*Suite).Report(ReportMeta{Timestamp: "x"}) })
}

// BenchmarkReportSerial is BenchmarkReport on one goroutine.
func BenchmarkReportSerial(b *testing.B) {
	benchRun(b, func() adder { return NewSuite(SuiteConfig{Serial: true}.WithRange(t0, t0+7*24*hr)) },
		func(a adder) { a.(*Suite).Report(ReportMeta{Timestamp: "x"}) })
}
