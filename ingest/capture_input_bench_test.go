package ingest

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
)

// BenchmarkCaptureInputV9 measures the input side of a capture ingest
// alone: capture reader, duplicate detection, v9 decoding and the emit
// path, with a sink that only checks the records (no store writer). Same
// capture as BenchmarkIngestV9Capture, 200k flows.
func BenchmarkCaptureInputV9(b *testing.B) {
	const flows = 200_000
	path := filepath.Join(b.TempDir(), "v9.pcap")
	writeV9Capture(b, path, flows)
	st, err := index.Open(b.TempDir(), index.Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		d, err := newCaptureDecoder(st, bufio.NewReaderSize(f, 1<<20), pcap.FormatPcap, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		d.setSelf(1)
		var n int
		var bytes uint64
		if err := d.run(func(r *flow.Record, source uint32) error {
			n++
			bytes += r.Bytes
			return nil
		}); err != nil || n != flows {
			b.Fatalf("got %d flows, %v", n, err)
		}
		if d.dedup.batch != nil {
			d.dedup.batch.Cancel()
		}
		f.Close()
	}
	b.ReportMetric(float64(flows)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/(float64(flows)*float64(b.N)), "ns/flow")
}
