package nfgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// appendRecord appends one data record of template t.
func (p *Packet) appendRecord(b []byte, t *compiled, r *flow.Record) ([]byte, error) {
	for i, f := range t.Fields {
		k := t.kinds[i]
		var err error
		switch {
		case f.Length == VarLen:
			b = appendVar(b, f)
		case k.addrLen() != 0:
			b, err = appendAddr(b, t, k, r)
		default:
			var v uint64
			if v, err = p.value(k, f, r); err == nil {
				b, err = appendField(b, f, v)
			}
		}
		if err != nil {
			return b, fmt.Errorf("field %d (id %d): %w", i, f.ID, err)
		}
	}
	return b, nil
}

// appendField appends v big-endian in f.Length bytes (reduced-size
// encoding below 8, zero-extended above); a value that does not fit is an
// error.
func appendField(b []byte, f Field, v uint64) ([]byte, error) {
	n := int(f.Length)
	if f.Length == VarLen {
		return appendVar(b, f), nil
	}
	if n < 8 && v>>(8*n) != 0 {
		return b, fmt.Errorf("%w: %d in %d bytes", ErrValue, v, n)
	}
	for i := n - 1; i >= 0; i-- {
		if i >= 8 {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(v>>(8*i)))
	}
	return b, nil
}

// appendVar appends a variable-length field: its length (1 byte, or 255
// and 2 bytes) and Size filler bytes.
func appendVar(b []byte, f Field) []byte {
	if f.Size >= 255 || f.Long {
		b = append(b, 255)
		b = binary.BigEndian.AppendUint16(b, uint16(f.Size))
	} else {
		b = append(b, byte(f.Size))
	}
	for i := 0; i < f.Size; i++ {
		b = append(b, 'a'+byte(i%26))
	}
	return b
}

// appendAddr appends an address field. An invalid address, or one of the
// other family when the template also has a field of that family (a
// dual-stack template), is written as zeros.
func appendAddr(b []byte, t *compiled, k kind, r *flow.Record) ([]byte, error) {
	a, other := addrOf(k, r), otherFamily(k)
	switch {
	case k.addrLen() == 4 && a.Is4():
		v := a.As4()
		return append(b, v[:]...), nil
	case k.addrLen() == 16 && a.Is6():
		v := a.As16()
		return append(b, v[:]...), nil
	case a.IsValid() && !t.has[other]:
		return b, fmt.Errorf("%w: address %s in a %d-byte field", ErrValue, a, k.addrLen())
	}
	return append(b, make([]byte, k.addrLen())...), nil
}

func addrOf(k kind, r *flow.Record) netip.Addr {
	switch k {
	case kSrc4, kSrc6:
		return r.SrcAddr
	case kDst4, kDst6:
		return r.DstAddr
	case kNextHop4, kNextHop6:
		return r.NextHop
	case kNATSrc4, kNATSrc6:
		return r.NATSrcAddr
	}
	return r.NATDstAddr
}

// otherFamily returns the kind of the same address in the other family.
func otherFamily(k kind) kind {
	switch k {
	case kSrc4:
		return kSrc6
	case kSrc6:
		return kSrc4
	case kDst4:
		return kDst6
	case kDst6:
		return kDst4
	case kNextHop4:
		return kNextHop6
	case kNextHop6:
		return kNextHop4
	case kNATSrc4:
		return kNATSrc6
	case kNATSrc6:
		return kNATSrc4
	case kNATDst4:
		return kNATDst6
	}
	return kNATDst4
}

// value returns the integer a (non-address) field carries for r.
func (p *Packet) value(k kind, f Field, r *flow.Record) (uint64, error) {
	switch k {
	case kFiller:
		return f.Value, nil
	case kSrcPort:
		return uint64(r.SrcPort), nil
	case kDstPort:
		return uint64(r.DstPort), nil
	case kProto:
		return uint64(r.Proto), nil
	case kTCPFlags:
		return uint64(r.TCPFlags), nil
	case kBytes:
		return r.Bytes, nil
	case kPackets:
		return r.Packets, nil
	case kRevBytes:
		return r.RevBytes, nil
	case kRevPackets:
		return r.RevPackets, nil
	case kPostBytes:
		return r.PostBytes, nil
	case kPostPackets:
		return r.PostPackets, nil
	}
	return p.moreValue(k, r)
}

func (p *Packet) moreValue(k kind, r *flow.Record) (uint64, error) {
	switch k {
	case kInIf:
		return uint64(r.InIf), nil
	case kOutIf:
		return uint64(r.OutIf), nil
	case kSrcAS:
		return uint64(r.SrcAS), nil
	case kDstAS:
		return uint64(r.DstAS), nil
	case kVLAN:
		return uint64(r.VLAN), nil
	case kDir:
		return dirValue(r.Dir), nil
	case kICMPTypeCode:
		return uint64(r.ICMPType)<<8 | uint64(r.ICMPCode), nil
	case kICMPType:
		return uint64(r.ICMPType), nil
	case kICMPCode:
		return uint64(r.ICMPCode), nil
	case kNATSrcPort:
		return uint64(r.NATSrcPort), nil
	case kNATDstPort:
		return uint64(r.NATDstPort), nil
	case kSampling:
		return uint64(r.SamplingInterval), nil
	}
	return p.timeValue(k, r)
}

// dirValue is flowDirection: 0 ingress, 1 egress; 255 (no direction a
// decoder knows) for DirUnknown.
func dirValue(d flow.Direction) uint64 {
	switch d {
	case flow.DirIngress:
		return 0
	case flow.DirEgress:
		return 1
	}
	return 255
}

// timeValue encodes a start, end or duration element exactly, or fails.
func (p *Packet) timeValue(k kind, r *flow.Record) (uint64, error) {
	t := r.Start
	if k.isEnd() {
		t = r.End
	}
	switch k {
	case kStartUptime, kEndUptime:
		ms, err := exact(t, 1e6)
		if err != nil {
			return 0, err
		}
		if p.e.Version == 10 {
			return exactNonNeg(ms - p.clk.bootMs)
		}
		return uint64(uint32(ms - p.clk.bootMs)), nil
	case kStartSec, kEndSec:
		return exactU(t, 1e9)
	case kStartMs, kEndMs:
		return exactU(t, 1e6)
	case kStartUs, kEndUs:
		if _, err := exactU(t, 1e3); err != nil {
			return 0, err
		}
		return ntp(t)
	case kStartNs, kEndNs:
		return ntp(t)
	case kStartDeltaUs, kEndDeltaUs:
		return exactU(p.clk.exportNs-t, 1e3)
	case kDurMs:
		return exactU(r.End-r.Start, 1e6)
	case kDurUs:
		return exactU(r.End-r.Start, 1e3)
	}
	return 0, fmt.Errorf("BUG: nfgen: kind %d has no value", k)
}

// exact returns t/unit when unit divides t.
func exact(t, unit int64) (int64, error) {
	if t%unit != 0 {
		return 0, fmt.Errorf("%w: %d ns is not a multiple of %d ns", ErrValue, t, unit)
	}
	return t / unit, nil
}

func exactU(t, unit int64) (uint64, error) {
	v, err := exact(t, unit)
	if err != nil {
		return 0, err
	}
	return exactNonNeg(v)
}

func exactNonNeg(v int64) (uint64, error) {
	if v < 0 {
		return 0, fmt.Errorf("%w: negative %d", ErrValue, v)
	}
	return uint64(v), nil
}

// ntpEpochOffset is 1970-01-01 in seconds since 1900-01-01.
const ntpEpochOffset = 2208988800

// ntp encodes unix ns as an NTP timestamp whose fraction decodes back to
// the same nanosecond (rounded up, so floor(frac*1e9/2^32) == ns). Times
// after February 2036 wrap into NTP era 1, as RFC 7011 expects.
func ntp(t int64) (uint64, error) {
	if t < 0 {
		return 0, fmt.Errorf("%w: negative time %d", ErrValue, t)
	}
	secs := uint64(t/1e9+ntpEpochOffset) & 0xffffffff
	ns := uint64(t % 1e9)
	frac := (ns<<32 + 1e9 - 1) / 1e9
	return secs<<32 | frac, nil
}
