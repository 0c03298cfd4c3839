package ingest

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// BenchmarkMeteredIngest measures a whole metered ingest into a store on
// disk: a capture of 1M UDP packets (a tenth IPv6), 100k conversations of
// ten packets, five each way, interleaved over 10 s.
func BenchmarkMeteredIngest(b *testing.B) {
	const packets, convs = 1_000_000, 100_000
	path := filepath.Join(b.TempDir(), "traffic.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := nfgen.NewCaptureWriter(f)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 200)
	for i := range packets {
		c := i % convs
		a := netip.AddrFrom4([4]byte{10, 1, byte(c >> 8), byte(c)})
		z := netip.AddrFrom4([4]byte{198, 51, 100, byte(c % 97)})
		if c%10 == 0 {
			a, z = netip.AddrFrom16([16]byte{0x20, 0x01, 0xd, 0xb8, 15: byte(c)}), netip.MustParseAddr("2001:db8:ffff::1")
		}
		src, dst := netip.AddrPortFrom(a, uint16(30000+c%20000)), netip.AddrPortFrom(z, 443)
		if i/convs%2 == 1 {
			src, dst = dst, src
		}
		if err := w.Write(nfgen.Datagram{Src: src, Dst: dst, Time: 1.7e18 + int64(i)*10_000, Payload: payload}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for range b.N {
		st, err := index.Open(b.TempDir(), index.Options{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := Run(st, []string{path}, Options{Meter: true})
		if err != nil || sum.Failed() || sum.Flows != 2*convs {
			b.Fatalf("%d flows (want %d), %v %+v", sum.Flows, 2*convs, err, sum.Files)
		}
		st.Close()
	}
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
