package nfgen_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/nfgen"
	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// TestCaptureContainerIsPcapgos: the capture writer's pcap container is
// byte for byte what gopacket's pcapgo writes for the same frames
// (nanosecond pcap, Ethernet), times before 1970 included.
func TestCaptureContainerIsPcapgos(t *testing.T) {
	dgs := []nfgen.Datagram{
		{Src: netip.MustParseAddrPort("192.0.2.1:4000"), Dst: collector, Time: t0 + 123, Payload: []byte("hello")},
		{Src: netip.MustParseAddrPort("[2001:db8::1]:4000"), Dst: netip.MustParseAddrPort("[2001:db8::250]:4739"), Time: t0 + 999_999_999, Payload: bytes.Repeat([]byte{7}, 1401)},
		{Src: netip.MustParseAddrPort("192.0.2.1:4000"), Dst: collector, Time: -1_500_000_001, Payload: nil},
		{Src: netip.MustParseAddrPort("192.0.2.1:4000"), Dst: collector, Time: 0, Payload: []byte{1}},
	}
	var got bytes.Buffer
	cw, err := nfgen.NewCaptureWriter(&got)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dgs {
		if err := cw.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	// The same frames through pcapgo: the frames are cut out of our
	// records (16-byte header, then incl_len bytes).
	var want bytes.Buffer
	pw := pcapgo.NewWriterNanos(&want)
	if err := pw.WriteFileHeader(262144, 1); err != nil {
		t.Fatal(err)
	}
	b := got.Bytes()[24:]
	for i, d := range dgs {
		if len(b) < 16 {
			t.Fatalf("record %d missing", i)
		}
		n := int(binary.LittleEndian.Uint32(b[8:]))
		frame := b[16 : 16+n]
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, d.Time), CaptureLength: n, Length: n}
		if err := pw.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
		b = b[16+n:]
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("capture differs from pcapgo's: %d bytes, want %d\n got % x\nwant % x", got.Len(), want.Len(), got.Bytes()[:40], want.Bytes()[:40])
	}
}
