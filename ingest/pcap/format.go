package pcap

import "encoding/binary"

// Format is a capture file format.
type Format uint8

const (
	// FormatAuto asks NewReader to tell the format from the first bytes. Sniff returns it
	// for bytes that are not the start of a capture.
	FormatAuto Format = iota
	FormatPcap
	FormatPcapng
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapng:
		return "pcapng"
	}
	return "auto"
}

// File magics, as the first four bytes read big-endian.
const (
	magicMicroBE  = 0xA1B2C3D4 // pcap, microseconds, big-endian writer
	magicMicroLE  = 0xD4C3B2A1 // pcap, microseconds, little-endian writer
	magicNanoBE   = 0xA1B23C4D // pcap, nanoseconds, big-endian writer
	magicNanoLE   = 0x4D3CB2A1 // pcap, nanoseconds, little-endian writer
	magicModified = 0xA1B2CD34 // Kuznetzov's modified pcap (24-byte records): not supported
	magicNgBlock  = 0x0A0D0D0A // pcapng Section Header Block type, a palindrome
	magicNgOrder  = 0x1A2B3C4D // pcapng byte-order magic, read in the section's order
	gzipMagic     = 0x1F8B
)

// Sniff tells a capture's format from its first bytes (at least 4; 12 to check a pcapng
// byte-order magic). It returns FormatAuto when head is not the start of a pcap or pcapng
// file. It does not look inside gzip: see NewReader.
func Sniff(head []byte) Format {
	if len(head) < 4 {
		return FormatAuto
	}
	switch binary.BigEndian.Uint32(head) {
	case magicMicroBE, magicMicroLE, magicNanoBE, magicNanoLE:
		return FormatPcap
	case magicNgBlock:
		if len(head) >= 12 {
			bom := binary.BigEndian.Uint32(head[8:12])
			if bom != magicNgOrder && bom != 0x4D3C2B1A {
				return FormatAuto
			}
		}
		return FormatPcapng
	}
	return FormatAuto
}
