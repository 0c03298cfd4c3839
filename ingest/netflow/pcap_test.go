package netflow

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"testing"

	"github.com/flowcase/flowcase/internal/truthcsv"
)

// This file holds a minimal capture walk for the tests only (the real
// capture reader is ingest/pcap): pcap -> Ethernet/SLL/raw IP -> IPv4/IPv6
// -> UDP payload. It is enough for the shared real captures, which are
// Ethernet, unfragmented UDP, classic pcap.
//
// It reads pcap itself instead of using gopacket's pcapgo: pcapgo imports
// golang.org/x/net/bpf, whose module has no go.sum entry in this module, and
// this package may not change go.mod/go.sum.

// Link types (tcpdump.org/linktypes.html).
const (
	linkEthernet = 1
	linkRaw      = 101
	linkLinuxSLL = 113
)

// pcapReader reads classic pcap files (either byte order, micro- or
// nanosecond timestamps).
type pcapReader struct {
	r        io.Reader
	order    binary.ByteOrder
	nanos    bool
	snaplen  uint32
	linkType uint32
	hdr      [16]byte
}

func newPcapReader(r io.Reader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	p := &pcapReader{r: r}
	switch binary.LittleEndian.Uint32(h[:]) {
	case 0xa1b2c3d4:
		p.order = binary.LittleEndian
	case 0xa1b23c4d:
		p.order, p.nanos = binary.LittleEndian, true
	case 0xd4c3b2a1:
		p.order = binary.BigEndian
	case 0x4d3cb2a1:
		p.order, p.nanos = binary.BigEndian, true
	default:
		return nil, errors.New("not a pcap file")
	}
	p.snaplen = p.order.Uint32(h[16:])
	p.linkType = p.order.Uint32(h[20:]) & 0x0fffffff
	return p, nil
}

// next returns the next frame and its time (unix ns). A record claiming
// more than max(snaplen, 256 KiB) bytes is refused without allocating it.
func (p *pcapReader) next() ([]byte, int64, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		return nil, 0, err
	}
	sec, frac := int64(p.order.Uint32(p.hdr[0:])), int64(p.order.Uint32(p.hdr[4:]))
	incl := p.order.Uint32(p.hdr[8:])
	if incl > max(p.snaplen, 256<<10) {
		return nil, 0, fmt.Errorf("pcap record length %d exceeds snaplen %d", incl, p.snaplen)
	}
	data := make([]byte, incl)
	if _, err := io.ReadFull(p.r, data); err != nil {
		return nil, 0, fmt.Errorf("pcap record cut short: %w", err)
	}
	if !p.nanos {
		frac *= 1000
	}
	return data, sec*1e9 + frac, nil
}

// capturesDir returns the shared real captures, or skips the test.
func capturesDir(t testing.TB) string { return truthcsv.CapturesDir(t) }

// udpPacket is one UDP datagram of a capture.
type udpPacket struct {
	Packet
	DstPort   uint16
	Truncated bool // captured payload shorter than the UDP length says
}

// readUDP returns the UDP datagrams of a pcap file, in order, with
// Packet.Number = frame number (1-based, counting every frame). It stops at
// the first read error and returns it with the packets read so far.
func readUDP(path string) ([]udpPacket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := newPcapReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	var out []udpPacket
	for frame := uint64(1); ; frame++ {
		data, ts, err := r.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("frame %d: %w", frame, err)
		}
		p, ok := parseFrame(r.linkType, data)
		if !ok {
			continue
		}
		p.Number = frame
		p.CaptureTime = ts
		out = append(out, p)
	}
}

func parseFrame(lt uint32, b []byte) (udpPacket, bool) {
	var etype uint16
	switch lt {
	case linkEthernet:
		if len(b) < 14 {
			return udpPacket{}, false
		}
		etype, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for (etype == 0x8100 || etype == 0x88a8) && len(b) >= 4 {
			etype, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case linkLinuxSLL:
		if len(b) < 16 {
			return udpPacket{}, false
		}
		etype, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case linkRaw, 12, 14:
		if len(b) == 0 {
			return udpPacket{}, false
		}
		etype = 0x0800
		if b[0]>>4 == 6 {
			etype = 0x86dd
		}
	default:
		return udpPacket{}, false
	}
	switch etype {
	case 0x0800:
		return parseIPv4(b)
	case 0x86dd:
		return parseIPv6(b)
	}
	return udpPacket{}, false
}

func parseIPv4(b []byte) (udpPacket, bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return udpPacket{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	frag := binary.BigEndian.Uint16(b[6:])
	if ihl < 20 || len(b) < ihl || b[9] != 17 || frag&0x3fff != 0 {
		return udpPacket{}, false
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	return parseUDP(src, b[ihl:])
}

func parseIPv6(b []byte) (udpPacket, bool) {
	if len(b) < 40 || b[0]>>4 != 6 || b[6] != 17 {
		return udpPacket{}, false
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	return parseUDP(src, b[40:])
}

func parseUDP(src netip.Addr, b []byte) (udpPacket, bool) {
	if len(b) < 8 {
		return udpPacket{}, false
	}
	var p udpPacket
	p.Exporter = Exporter{Addr: src, Port: binary.BigEndian.Uint16(b)}
	p.DstPort = binary.BigEndian.Uint16(b[2:])
	ulen := int(binary.BigEndian.Uint16(b[4:]))
	if ulen < 8 {
		return udpPacket{}, false
	}
	end := ulen
	if end > len(b) {
		end, p.Truncated = len(b), true
	}
	p.Payload = b[8:end]
	return p, true
}
