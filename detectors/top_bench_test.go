package detectors

import (
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// BenchmarkTopBlocks is Top as a store scan drives it: the records arrive
// in a reused buffer of one block (4096 rows, about 1.1 MB, written just
// before, as the block decoder does), through the function AddFunc returns.
// The copy into the buffer is part of the figures (see BenchmarkTopCopy).
func BenchmarkTopBlocks(b *testing.B) {
	for _, by := range []TopKey{BySrcIP, ByDstIP, ByPair, ByDstPort} {
		b.Run(by.String(), func(b *testing.B) {
			benchBlocks(b, func() func(*flow.Record) bool { return NewTop(TopConfig{By: by}).AddFunc() })
		})
	}
}

// BenchmarkTopCopy is BenchmarkTopBlocks's floor: the copies alone.
func BenchmarkTopCopy(b *testing.B) {
	benchBlocks(b, func() func(*flow.Record) bool { return func(*flow.Record) bool { return true } })
}

func benchBlocks(b *testing.B, mk func() func(*flow.Record) bool) {
	recs := benchRecords(b)
	buf := make([]flow.Record, 4096)
	b.ReportAllocs()
	var cpu int64
	b.ResetTimer()
	for range b.N {
		c0 := cpuTime()
		add := mk()
		for i := 0; i < len(recs); i += len(buf) {
			n := copy(buf, recs[i:])
			for j := range buf[:n] {
				add(&buf[j])
			}
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(cpu)/float64(len(recs))/float64(b.N), "cpu-ns/flow")
}
