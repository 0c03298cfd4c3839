package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestExportsInTunnels: export packets mirrored to the capture inside a
// tunnel or an overlay (VXLAN, ERSPAN II, GRE bridging over IPv6, a routed
// GRE tunnel carrying the IP packet) decode as the bare packets do.
func TestExportsInTunnels(t *testing.T) {
	data, err := os.ReadFile("../testdata/softflowd/softflowd_v9.pcap")
	if err != nil {
		t.Fatal(err)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	outer4 := func(proto byte, payload []byte) []byte {
		ip := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2}
		be.PutUint16(ip[2:], uint16(20+len(payload)))
		return append(append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}, ip...), payload...)
	}
	outer6 := func(next byte, payload []byte) []byte {
		ip := append([]byte{0x60, 0, 0, 0, 0, 0, next, 64}, append(netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr("2001:db8::2").AsSlice()...)...)
		be.PutUint16(ip[4:], uint16(len(payload)))
		return append(append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xDD}, ip...), payload...)
	}
	tunnelled := bytes.Clone(data[:24])
	n := 0
	for off := 24; off+16 <= len(data); n++ {
		hdr, size := data[off:off+16], int(le.Uint32(data[off+8:]))
		frame := data[off+16 : off+16+size]
		var pkt []byte
		switch n % 4 {
		case 0: // VXLAN
			vx := append([]byte{8, 0, 0, 0, 0, 0x10, 0x92, 0}, frame...)
			udp := be.AppendUint16(be.AppendUint16(nil, 50000), 4789)
			udp = append(be.AppendUint16(be.AppendUint16(udp, uint16(8+len(vx))), 0), vx...)
			pkt = outer4(17, udp)
		case 1: // ERSPAN II
			pkt = outer4(47, append([]byte{0x10, 0, 0x88, 0xBE, 0, 0, 0, byte(n), 0x10, 0, 0, 7, 0, 0, 0, 0}, frame...))
		case 2: // GRE bridging over IPv6, with a key
			pkt = outer6(47, append([]byte{0x20, 0, 0x65, 0x58, 0, 0, 0, 42}, frame...))
		case 3: // a routed GRE tunnel: the IP packet without its Ethernet header
			pkt = outer4(47, append([]byte{0, 0, 0x08, 0x00}, frame[14:]...))
		}
		rec := bytes.Clone(hdr)
		le.PutUint32(rec[8:], uint32(len(pkt)))
		le.PutUint32(rec[12:], uint32(len(pkt)))
		tunnelled = append(append(tunnelled, rec...), pkt...)
		off += 16 + size
	}
	path := filepath.Join(t.TempDir(), "tunnelled.pcap")
	if err := os.WriteFile(path, tunnelled, 0o644); err != nil {
		t.Fatal(err)
	}
	plain, tunnels := capStore(t), capStore(t)
	capIngest(t, plain, "../testdata/softflowd/softflowd_v9.pcap")
	res := capIngest(t, tunnels, path).Files[0]
	want, got := withSource(capRows(t, plain), 0), withSource(capRows(t, tunnels), 0)
	if len(want) != 119 || !slices.Equal(got, want) {
		t.Errorf("%d flows through the tunnels, %d bare; want the same 119", len(got), len(want))
	}
	note := fmt.Sprintf("%d export packets read inside the tunnel or overlay that carried them (GRE, VXLAN, ERSPAN)", n)
	if !slices.Contains(res.Notes, note) {
		t.Errorf("notes %q, want %q", res.Notes, note)
	}
}
