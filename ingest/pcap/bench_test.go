package pcap

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkReader reads captures of 10,000 NetFlow-sized datagrams (1400-byte payloads), from
// memory and, last, from a file.
func BenchmarkReader(b *testing.B) {
	const n = 10000
	payload := make([]byte, 1400)
	eth, sl, frag := make([]rec, n), make([]rec, n), make([]rec, 0, 2*n)
	for i := range n {
		eth[i] = rec{ts: t0 + int64(i)*1e5, data: ethernet(ipUDP(v4a, v4b, payload), 0x8100)}
		sl[i] = rec{ts: t0 + int64(i)*1e5, data: sll2(ipUDP(v6a, v6b, payload))}
		for _, f := range fragments4(v4a, v4b, uint16(i), payload, 720) {
			frag = append(frag, rec{ts: t0 + int64(i)*1e5, data: f})
		}
	}
	w := &ngWriter{order: binary.LittleEndian}
	w.section()
	w.iface(ngIfaceSpec{link: linkSLL2, tsresol: 9})
	for _, r := range sl {
		w.packet(0, uint64(r.ts), r.data, len(r.data))
	}
	cases := []struct {
		name string
		file []byte
	}{
		{"pcap-ethernet-vlan-ipv4", pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, eth...)},
		{"pcapng-sll2-ipv6", w.b},
		{"pcap-raw-ipv4-2-fragments", pcapBytes(binary.LittleEndian, true, linkRaw, 65535, frag...)},
		{"pcap.gz-ethernet-vlan-ipv4", gzipped(pcapBytes(binary.LittleEndian, false, linkEthernet, 65535, eth...))},
	}
	path := filepath.Join(b.TempDir(), "eth.pcap")
	if err := os.WriteFile(path, cases[0].file, 0o644); err != nil {
		b.Fatal(err)
	}
	cases = append(cases, struct {
		name string
		file []byte
	}{"file-pcap-ethernet-vlan-ipv4", cases[0].file})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.file)))
			var got int
			for b.Loop() {
				var in io.Reader = bytes.NewReader(c.file)
				if strings.HasPrefix(c.name, "file-") {
					f, err := os.Open(path)
					if err != nil {
						b.Fatal(err)
					}
					in = f
				}
				got += countDatagrams(b, in)
				if f, ok := in.(*os.File); ok {
					f.Close()
				}
			}
			if got != n*b.N {
				b.Fatalf("got %d datagrams, want %d", got, n*b.N)
			}
			b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "datagrams/s")
		})
	}
}

func countDatagrams(b *testing.B, in io.Reader) int {
	r, err := NewReader(in, FormatAuto)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, ok := r.Next(); ok; _, ok = r.Next() {
		n++
	}
	return n
}
