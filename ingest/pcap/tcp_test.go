package pcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// tcpPacket is an IPv4 packet carrying one TCP segment (no options).
func tcpPacket(src, dst netip.AddrPort, seq uint32, flags uint8, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	be.PutUint16(h[0:], src.Port())
	be.PutUint16(h[2:], dst.Port())
	be.PutUint32(h[4:], seq)
	h[12], h[13] = 5<<4, flags
	return ipv4Packet(src.Addr(), dst.Addr(), 6, 1, 0x4000, append(h, payload...))
}

// ipfixMessage is an IPFIX message of n bytes (at least 20) whose first set is a data set;
// its export time says which message it is.
func ipfixMessage(n int, id uint32) []byte {
	m := make([]byte, n)
	be.PutUint16(m[0:], 10)
	be.PutUint16(m[2:], uint16(n))
	be.PutUint32(m[4:], id)
	be.PutUint16(m[16:], 256)
	be.PutUint16(m[18:], uint16(n-16))
	return m
}

func TestIPFIXOverTCP(t *testing.T) {
	exp := netip.MustParseAddrPort("192.0.2.1:40000")
	col := netip.MustParseAddrPort("192.0.2.9:4739")
	m1, m2, m3 := ipfixMessage(100, 1), ipfixMessage(300, 2), ipfixMessage(60, 3)
	stream := append(append(append([]byte(nil), m1...), m2...), m3...) // 460 bytes at seq 1000
	seg := func(from, to int) []byte { return tcpPacket(exp, col, 1000+uint32(from), 0x18, stream[from:to]) }
	syn := tcpPacket(exp, col, 999, 0x02, nil)
	ack := tcpPacket(col, exp, 5000, 0x10, nil)
	fin := func(at int) []byte { return tcpPacket(exp, col, 1000+uint32(at), 0x11, nil) }
	tests := []struct {
		name     string
		pkts     [][]byte
		want     []uint32 // the messages returned, by id
		segments uint64
		note     string
	}{
		{"one message a segment", [][]byte{syn, seg(0, 100), ack, seg(100, 400), seg(400, 460), fin(460)}, []uint32{1, 2, 3}, 4, ""},
		{"messages split and joined", [][]byte{seg(0, 50), seg(50, 150), seg(150, 460)}, []uint32{1, 2, 3}, 3, ""},
		{"out of order", [][]byte{seg(0, 100), seg(250, 460), seg(100, 250)}, []uint32{1, 2, 3}, 3, ""},
		{"retransmitted and overlapping", [][]byte{seg(0, 150), seg(0, 150), seg(100, 420), seg(400, 460)}, []uint32{1, 2, 3}, 4, ""},
		{"gap never filled", [][]byte{seg(0, 100), seg(150, 460), fin(460)}, []uint32{1}, 3, NoteStreamCut},
		{"reset mid-message", [][]byte{seg(0, 150), tcpPacket(exp, col, 1150, 0x04, nil)}, []uint32{1}, 2, NoteStreamCut},
		{"joined mid-stream at a message", [][]byte{seg(30, 100), seg(100, 400), seg(400, 460)}, []uint32{2, 3}, 2, ""},
		{"sent first, captured last", [][]byte{seg(100, 460), seg(0, 100)}, []uint32{2, 3, 1}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []rec
			for i, p := range tt.pkts {
				recs = append(recs, rec{ts: int64(i+1) * 1e9, data: p})
			}
			res := readAll(t, pcapBytes(binary.LittleEndian, false, linkRaw, 65535, recs...))
			if res.err != nil {
				t.Fatal(res.err)
			}
			var got []uint32
			for _, d := range res.dgs {
				if d.Src != exp || d.Dst != col || !bytes.Equal(d.Payload, map[uint32][]byte{1: m1, 2: m2, 3: m3}[be.Uint32(d.Payload[4:])]) {
					t.Errorf("datagram %v -> %v, %d bytes: not one of the messages", d.Src, d.Dst, len(d.Payload))
				}
				got = append(got, be.Uint32(d.Payload[4:]))
			}
			if !equalU32(got, tt.want) || res.st.TCPSegments != tt.segments || res.st.TCPMessages != uint64(len(tt.want)) {
				t.Errorf("got messages %v, %d segments, %d messages counted; want %v, %d", got, res.st.TCPSegments, res.st.TCPMessages, tt.want, tt.segments)
			}
			if (tt.note == "") != (len(res.st.Notes) == 0) || (tt.note != "" && res.st.Notes[tt.note] != 1) {
				t.Errorf("got notes %v, want %q", res.st.Notes, tt.note)
			}
		})
	}
}

// TCP that does not start like IPFIX, and NetFlow v9 (no message length), stay other traffic.
func TestTCPNotIPFIX(t *testing.T) {
	a, b := netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.9:443")
	v9 := make([]byte, 40)
	be.PutUint16(v9, 9)
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkRaw, 65535,
		rec{ts: 1e9, data: tcpPacket(a, b, 1, 0x18, []byte("GET / HTTP/1.1\r\n\r\n"))},
		rec{ts: 2e9, data: tcpPacket(a, b, 100, 0x18, v9)},
		rec{ts: 3e9, data: tcpPacket(a, b, 140, 0x18, ipfixMessage(10+10, 1)[:18])}))
	if len(res.dgs) != 0 || res.st.TCPSegments != 0 || res.st.Other["tcp"] != 3 {
		t.Errorf("got %d datagrams, %d stream segments, other %v; want none, 0, 3 tcp", len(res.dgs), res.st.TCPSegments, res.st.Other)
	}
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A stream of many tiny segments beyond a gap that never fills holds at
// most maxAheadSegs of them, then starts again at a message header.
func TestTCPGapBounded(t *testing.T) {
	exp, col := netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.9:4739")
	m := ipfixMessage(100, 1)
	recs := []rec{{ts: 1e9, data: tcpPacket(exp, col, 1, 0x18, m)}}
	for i := range maxAheadSegs + 10 {
		recs = append(recs, rec{ts: 2e9, data: tcpPacket(exp, col, 200+uint32(i), 0x18, []byte{0})})
	}
	recs = append(recs, rec{ts: 3e9, data: tcpPacket(exp, col, 5000, 0x18, ipfixMessage(40, 2))})
	res := readAll(t, pcapBytes(binary.LittleEndian, false, linkRaw, 65535, recs...))
	var got []uint32
	for _, d := range res.dgs {
		got = append(got, be.Uint32(d.Payload[4:]))
	}
	if !equalU32(got, []uint32{1, 2}) || res.st.Notes[NoteStreamGap] == 0 {
		t.Errorf("got messages %v, notes %v; want [1 2] and a gap note", got, res.st.Notes)
	}
}
