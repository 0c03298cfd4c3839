package nfgen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// Datagram is one UDP datagram of a capture.
type Datagram struct {
	Src, Dst netip.AddrPort // same family: IPv4 or IPv6
	Time     int64          // capture time, unix ns
	Payload  []byte
}

// Capture layout: Ethernet frames, nanosecond pcap.
const (
	linkEthernet = 1
	snapLen      = 262144
	ipv4Len      = 20
	udpLen       = 8
)

// CaptureWriter writes datagrams into a pcap capture (nanosecond
// timestamps, Ethernet link type), building the Ethernet, IPv4 or IPv6 and
// UDP headers itself. The UDP checksum is computed for IPv6 (mandatory
// there) and left 0 over IPv4 (allowed). It buffers: call Flush at the end.
//
// The pcap container (a 24-byte file header, a 16-byte header per packet,
// little-endian) is written here too, byte for byte what gopacket's pcapgo
// writes (a test compares them): importing pcapgo would link gopacket's
// layers into the flowcase binary, whose initialization alone took 2.9 ms
// of every command's start.
type CaptureWriter struct {
	bw    *bufio.Writer
	frame []byte
	rec   [16]byte
	ipID  uint16
	n     int
}

// pcapMagicNanos is the magic number of a pcap file with nanosecond
// timestamps.
const pcapMagicNanos = 0xa1b23c4d

// NewCaptureWriter writes the capture header to w.
func NewCaptureWriter(w io.Writer) (*CaptureWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNanos)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snapLen) // zone and accuracy (8-15) stay 0
	binary.LittleEndian.PutUint32(h[20:], linkEthernet)
	if _, err := bw.Write(h[:]); err != nil {
		return nil, fmt.Errorf("cannot write capture header: %w", err)
	}
	return &CaptureWriter{bw: bw}, nil
}

// Packets returns the number of datagrams written.
func (c *CaptureWriter) Packets() int { return c.n }

// Write writes one datagram as an Ethernet frame.
func (c *CaptureWriter) Write(d Datagram) error {
	src, dst := d.Src.Addr().Unmap(), d.Dst.Addr().Unmap()
	if !src.IsValid() || src.Is4() != dst.Is4() {
		return fmt.Errorf("cannot write datagram %s -> %s: %w", d.Src, d.Dst, ErrAddress)
	}
	if len(d.Payload) > maxPayload {
		return fmt.Errorf("cannot write datagram: %w: %d bytes", ErrTooLarge, len(d.Payload))
	}
	f := c.frame[:0]
	f = append(f, 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01) // dst, src MAC (locally administered)
	if src.Is4() {
		f = binary.BigEndian.AppendUint16(f, 0x0800)
		f = c.ipv4(f, src, dst, len(d.Payload))
	} else {
		f = binary.BigEndian.AppendUint16(f, 0x86DD)
		f = ipv6(f, src, dst, len(d.Payload))
	}
	u := len(f)
	f = binary.BigEndian.AppendUint16(f, d.Src.Port())
	f = binary.BigEndian.AppendUint16(f, d.Dst.Port())
	f = binary.BigEndian.AppendUint16(f, uint16(udpLen+len(d.Payload)))
	f = append(f, 0, 0)
	f = append(f, d.Payload...)
	if src.Is6() {
		binary.BigEndian.PutUint16(f[u+6:], udpChecksum6(src, dst, f[u:]))
	}
	c.frame = f
	sec, ns := d.Time/1e9, d.Time%1e9
	if ns < 0 {
		sec, ns = sec-1, ns+1e9
	}
	binary.LittleEndian.PutUint32(c.rec[0:], uint32(sec))
	binary.LittleEndian.PutUint32(c.rec[4:], uint32(ns))
	binary.LittleEndian.PutUint32(c.rec[8:], uint32(len(f)))
	binary.LittleEndian.PutUint32(c.rec[12:], uint32(len(f)))
	c.bw.Write(c.rec[:])
	if _, err := c.bw.Write(f); err != nil {
		return fmt.Errorf("cannot write packet %d: %w", c.n+1, err)
	}
	c.n++
	return nil
}

func (c *CaptureWriter) ipv4(f []byte, src, dst netip.Addr, payload int) []byte {
	c.ipID++
	h := len(f)
	f = append(f, 0x45, 0)
	f = binary.BigEndian.AppendUint16(f, uint16(ipv4Len+udpLen+payload))
	f = binary.BigEndian.AppendUint16(f, c.ipID)
	f = append(f, 0x40, 0, 64, 17, 0, 0) // DF, TTL 64, UDP, checksum
	s, d := src.As4(), dst.As4()
	f = append(f, s[:]...)
	f = append(f, d[:]...)
	binary.BigEndian.PutUint16(f[h+10:], ^fold(sum16(f[h:h+ipv4Len])))
	return f
}

func ipv6(f []byte, src, dst netip.Addr, payload int) []byte {
	f = append(f, 0x60, 0, 0, 0)
	f = binary.BigEndian.AppendUint16(f, uint16(udpLen+payload))
	f = append(f, 17, 64) // next header UDP, hop limit
	s, d := src.As16(), dst.As16()
	f = append(f, s[:]...)
	return append(f, d[:]...)
}

// udpChecksum6 is the UDP checksum over the IPv6 pseudo-header and udp
// (header with a zero checksum, and payload).
func udpChecksum6(src, dst netip.Addr, udp []byte) uint16 {
	s, d := src.As16(), dst.As16()
	sum := sum16(s[:]) + sum16(d[:]) + uint64(len(udp)) + 17 + sum16(udp)
	c := ^fold(sum)
	if c == 0 {
		c = 0xffff
	}
	return c
}

func sum16(b []byte) uint64 {
	var s uint64
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Flush writes what is buffered to the underlying writer.
func (c *CaptureWriter) Flush() error { return c.bw.Flush() }

// WriteFile writes datagrams into a new capture file at path.
func WriteFile(path string, dgs []Datagram) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw, err := NewCaptureWriter(f)
	for i := 0; err == nil && i < len(dgs); i++ {
		err = cw.Write(dgs[i])
	}
	if err == nil {
		err = cw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
