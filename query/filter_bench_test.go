package query

import (
	"math/rand/v2"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// BenchmarkFilterMatch measures Match per record over a batch of varied
// records.
func BenchmarkFilterMatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]flow.Record, 4096)
	for i := range recs {
		recs[i] = *randomRecord(rng)
	}
	for _, bc := range []struct{ name, filter string }{
		{"address", "ip 10.0.0.1"},
		{"net_and_port", "src net 10.0.0.0/8 and dst port 443"},
		{"typical", "tcp and dst port < 1024 and bytes > 1k and not flags R"},
		{"wide", "(ip 10.0.0.1 or ip 10.0.0.2 or net 2001:db8::/32) and (port 80 or port 443 or portrange 8000-8999) and packets > 1 and not (vlan 100 or exporter 192.168.1.1)"},
	} {
		f, err := ParseFilter(bc.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				if f.Match(&recs[i%len(recs)]) {
					n++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
			_ = n
		})
	}
}
