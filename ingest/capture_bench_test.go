package ingest

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// BenchmarkIngestV9Capture measures a whole ingest (Run) of a NetFlow v9
// capture into a new store: 500k flows of internal/gen background traffic
// (10% IPv6) over 6 hours, exported by nfgen as one exporter sends them
// (30 records a packet, IPv4 and IPv6 templates resent every 20 packets).
// The capture is written once, outside the timing; each iteration ingests
// it into a fresh store. DESIGN.md's goal is >= 2M flows/s.
func BenchmarkIngestV9Capture(b *testing.B) {
	const flows = 500_000
	path := filepath.Join(b.TempDir(), "v9.pcap")
	writeV9Capture(b, path, flows)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st, err := index.Open(b.TempDir(), index.Options{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		begin := time.Now()
		sum, err := Run(st, []string{path}, Options{Version: "bench"})
		elapsed += time.Since(begin)
		b.StopTimer()
		if err != nil || sum.Failed() || sum.Flows != flows {
			b.Fatalf("got %d flows, error %v (failed %v), want %d", sum.Flows, err, sum.Failed(), flows)
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(flows)*float64(b.N)/elapsed.Seconds(), "flows/s")
	b.ReportMetric(float64(info.Size())/flows, "capture-B/flow")
}

// writeV9Capture streams n generated flows through an nfgen v9 exporter
// into a capture at path.
func writeV9Capture(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cw, err := nfgen.NewCaptureWriter(f)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:2055"), Version: 9, Domain: 1, Boot: start.Add(-72 * time.Hour).UnixNano()}
	if err := e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()}, nfgen.Template{ID: 257, Fields: nfgen.IPv6Fields()}); err != nil {
		b.Fatal(err)
	}
	s := &nfgen.Stream{Exporter: e, Writer: cw, Collector: netip.MustParseAddrPort("192.0.2.250:2055"), Template: 256, Template6: 257, TemplateEvery: 20}
	gen.Generate(gen.Config{Flows: n, Start: start, Span: 6 * time.Hour, Seed: 1, IPv6Share: 0.1}, func(r *flow.Record) {
		if err == nil {
			err = s.Add(r)
		}
	})
	if err == nil {
		err = s.Flush()
	}
	if err != nil || s.Flows() != n {
		b.Fatalf("wrote %d of %d flows: %v", s.Flows(), n, err)
	}
}
