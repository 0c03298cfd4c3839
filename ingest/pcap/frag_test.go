package pcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
)

// fragments4 cuts an IPv4 UDP datagram into fragments of at most size payload bytes (a
// multiple of 8), returning the IP packets in order.
func fragments4(src, dst netip.AddrPort, id uint16, payload []byte, size int) [][]byte {
	u := udpSegment(src.Port(), dst.Port(), payload)
	var out [][]byte
	for off := 0; off < len(u); off += size {
		end := min(off+size, len(u))
		ff := uint16(off / 8)
		if end < len(u) {
			ff |= 0x2000
		}
		out = append(out, ipv4Packet(src.Addr(), dst.Addr(), 17, id, ff, u[off:end]))
	}
	return out
}

// fragments6 does the same for IPv6, with a destination options header before the fragment
// header and one inside the fragmentable part.
func fragments6(src, dst netip.AddrPort, id uint32, payload []byte, size int) [][]byte {
	inner := append([]byte{17, 0}, make([]byte, 6)...) // destination options -> UDP
	part := append(inner, udpSegment(src.Port(), dst.Port(), payload)...)
	var out [][]byte
	for off := 0; off < len(part); off += size {
		end := min(off+size, len(part))
		fo := uint16(off)
		if end < len(part) {
			fo |= 1
		}
		fh := binary.BigEndian.AppendUint16([]byte{60, 0}, fo)
		fh = binary.BigEndian.AppendUint32(fh, id)
		outer := append([]byte{44, 0}, make([]byte, 6)...) // destination options -> fragment
		out = append(out, ipv6Packet(src.Addr(), dst.Addr(), 60, bytes.Join([][]byte{outer, fh, part[off:end]}, nil)))
	}
	return out
}

func recs(ts int64, packets ...[]byte) []rec {
	out := make([]rec, len(packets))
	for i, p := range packets {
		out[i] = rec{ts: ts + int64(i)*1e6, data: p}
	}
	return out
}

func pick(p [][]byte, idx ...int) [][]byte {
	out := make([][]byte, len(idx))
	for i, j := range idx {
		out[i] = p[j]
	}
	return out
}

func TestFragments(t *testing.T) {
	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	f4 := fragments4(v4a, v4b, 77, payload, 1480)              // 3 fragments
	g4 := fragments4(v4a, v4b, 78, payload[:2000], 1480)       // 2 fragments, another id
	f6 := fragments6(v6a, v6b, 0xABCDEF, payload, 1232)        // 3 fragments
	unaligned := fragments4(v4a, v4b, 79, payload[:100], 1480) // one packet, made a bad first fragment:
	unaligned[0] = ipv4Packet(v4a.Addr(), v4b.Addr(), 17, 79, 0x2000, udpSegment(1, 2, make([]byte, 13)))
	overlap := ipv4Packet(v4a.Addr(), v4b.Addr(), 17, 77, 0x2000|100, make([]byte, 800)) // bytes 800..1600
	beyond := ipv4Packet(v4a.Addr(), v4b.Addr(), 17, 80, 8189, make([]byte, 100))
	tests := []struct {
		name      string
		packets   [][]byte
		datagrams []uint64 // packet numbers
		skipped   map[string]uint64
	}{
		{"in order", f4, []uint64{3}, nil},
		{"out of order", pick(f4, 2, 0, 1), []uint64{3}, nil},
		{"missing one", pick(f4, 0, 2), nil, map[string]uint64{ReasonFragIncomplete: 2}},
		{"duplicate", pick(f4, 0, 1, 1, 2), []uint64{4}, map[string]uint64{ReasonFragDuplicate: 1}},
		{"overlap drops the datagram", [][]byte{f4[0], overlap, f4[1], f4[2]}, nil,
			map[string]uint64{ReasonFragOverlap: 2, ReasonFragIncomplete: 2}},
		{"interleaved", [][]byte{f4[0], g4[1], f4[2], g4[0], f4[1]}, []uint64{4, 5}, nil},
		{"unaligned", unaligned, nil, map[string]uint64{ReasonFragBad: 1}},
		{"beyond 64 KiB", [][]byte{beyond}, nil, map[string]uint64{ReasonFragBad: 1}},
		{"two last fragments", [][]byte{f4[2], f4[0], ipv4Packet(v4a.Addr(), v4b.Addr(), 17, 77, 200, make([]byte, 8))}, nil,
			map[string]uint64{ReasonFragBad: 3}},
		{"IPv6 in order", f6, []uint64{3}, nil},
		{"IPv6 out of order", pick(f6, 1, 2, 0), []uint64{3}, nil},
		{"IPv6 missing one", pick(f6, 1, 2), nil, map[string]uint64{ReasonFragIncomplete: 2}},
	}
	for _, tt := range tests {
		res := readAll(t, pcapBytes(binary.LittleEndian, false, linkRaw, 65535, recs(t0, tt.packets...)...))
		var nums []uint64
		for _, d := range res.dgs {
			nums = append(nums, d.Number)
			want := payload[:min(len(d.Payload), len(payload))] // 3000 bytes, or g4's 2000
			if len(d.Payload)%1000 != 0 || !bytes.Equal(d.Payload, want) {
				t.Errorf("%s: datagram #%d: payload of %d bytes differs from the %d sent", tt.name, d.Number, len(d.Payload), len(want))
			}
		}
		if fmt.Sprint(nums) != fmt.Sprint(tt.datagrams) || fmt.Sprint(res.st.Skipped) != fmt.Sprint(orEmpty(tt.skipped)) {
			t.Errorf("%s: got datagrams %v, skipped %v; want %v, %v", tt.name, nums, res.st.Skipped, tt.datagrams, tt.skipped)
		}
		if len(tt.datagrams) > 0 && res.st.Reassembled != uint64(len(tt.datagrams)) {
			t.Errorf("%s: got %d reassembled, want %d", tt.name, res.st.Reassembled, len(tt.datagrams))
		}
	}
}

// TestFragmentTimeout: a datagram whose fragments are more than 30 s of capture time apart is
// given up.
func TestFragmentTimeout(t *testing.T) {
	f := fragments4(v4a, v4b, 5, make([]byte, 2000), 1480)
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkRaw, 65535,
		rec{ts: t0, data: f[0]},
		rec{ts: t0 + 31e9, data: ipUDP(v4a, v4b, nil)},
		rec{ts: t0 + 32e9, data: f[1]},
	))
	if len(res.dgs) != 1 || res.st.Skipped[ReasonFragIncomplete] != 2 {
		t.Errorf("got %d datagrams, skipped %v; want 1 and 2 never completed", len(res.dgs), res.st.Skipped)
	}
}

// TestFragmentLimits: many incomplete datagrams never hold more than the limits.
func TestFragmentLimits(t *testing.T) {
	var packets [][]byte
	for id := range 2000 {
		f := fragments4(v4a, v4b, uint16(id), make([]byte, 60000), 8000)
		packets = append(packets, f[0], f[3]) // never complete; buffers grow to 32000 bytes
	}
	b := pcapBytes(binary.LittleEndian, false, linkRaw, 65535, recs(t0, packets...)...)
	r, err := NewReader(bytes.NewReader(b), FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	peakSets, peakBytes := 0, 0
	for range packets {
		r.Next()
		peakSets, peakBytes = max(peakSets, len(r.frag.sets)), max(peakBytes, r.frag.bytes)
		if r.done {
			break
		}
	}
	st := r.Stats()
	checkAccounting(t, st)
	if peakSets > fragMaxSets || peakBytes > fragMaxBytes || st.Skipped[ReasonFragIncomplete] != 4000 {
		t.Errorf("peak %d sets, %d bytes; skipped %v: want at most %d sets, %d bytes, 4000 never completed",
			peakSets, peakBytes, st.Skipped, fragMaxSets, fragMaxBytes)
	}
}
