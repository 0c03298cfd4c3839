package nfgen

import (
	"fmt"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// project returns the fields of r that template t carries (Expect).
func project(t *compiled, r *flow.Record) (flow.Record, error) {
	h := &t.has
	var x flow.Record
	var err error
	pick := func(dst *netip.Addr, a netip.Addr, k4, k6 kind) {
		if v, e := pickAddr(a, h[k4], h[k6]); e != nil && err == nil {
			err = e
		} else {
			*dst = v
		}
	}
	pick(&x.SrcAddr, r.SrcAddr, kSrc4, kSrc6)
	pick(&x.DstAddr, r.DstAddr, kDst4, kDst6)
	pick(&x.NextHop, r.NextHop, kNextHop4, kNextHop6)
	pick(&x.NATSrcAddr, r.NATSrcAddr, kNATSrc4, kNATSrc6)
	pick(&x.NATDstAddr, r.NATDstAddr, kNATDst4, kNATDst6)
	if err != nil {
		return x, err
	}
	copyIf(h[kSrcPort], &x.SrcPort, r.SrcPort)
	copyIf(h[kDstPort], &x.DstPort, r.DstPort)
	copyIf(h[kProto], &x.Proto, r.Proto)
	copyIf(h[kTCPFlags], &x.TCPFlags, r.TCPFlags)
	copyIf(h[kBytes], &x.Bytes, r.Bytes)
	copyIf(h[kPackets], &x.Packets, r.Packets)
	copyIf(h[kRevBytes], &x.RevBytes, r.RevBytes)
	copyIf(h[kRevPackets], &x.RevPackets, r.RevPackets)
	copyIf(h[kPostBytes], &x.PostBytes, r.PostBytes)
	copyIf(h[kPostPackets], &x.PostPackets, r.PostPackets)
	copyIf(h[kInIf], &x.InIf, r.InIf)
	copyIf(h[kOutIf], &x.OutIf, r.OutIf)
	copyIf(h[kSrcAS], &x.SrcAS, r.SrcAS)
	copyIf(h[kDstAS], &x.DstAS, r.DstAS)
	copyIf(h[kVLAN], &x.VLAN, r.VLAN)
	copyIf(h[kNATSrcPort], &x.NATSrcPort, r.NATSrcPort)
	copyIf(h[kNATDstPort], &x.NATDstPort, r.NATDstPort)
	if h[kDir] && (r.Dir == flow.DirIngress || r.Dir == flow.DirEgress) {
		x.Dir = r.Dir
	}
	projectICMP(h, r, &x)
	if err := projectTimes(h, r, &x); err != nil {
		return x, err
	}
	x.SamplingInterval = max(r.SamplingInterval, 1)
	return x, nil
}

func copyIf[T any](has bool, dst *T, v T) {
	if has {
		*dst = v
	}
}

// pickAddr is the address a decoder finds: the record's when a field of
// its family is there; for an invalid one the zero address a zero field
// decodes to (IPv4 when the template has both families).
func pickAddr(a netip.Addr, has4, has6 bool) (netip.Addr, error) {
	switch {
	case !has4 && !has6:
		return netip.Addr{}, nil
	case a.Is4() && has4, a.Is6() && has6:
		return a, nil
	case a.IsValid():
		return netip.Addr{}, fmt.Errorf("%w: address %s has no field of its family", ErrValue, a)
	case has4:
		return netip.IPv4Unspecified(), nil
	}
	return netip.IPv6Unspecified(), nil
}

// projectICMP: ICMP elements when the template has them, else for ICMP
// flows the destination port as type<<8 | code.
func projectICMP(h *[numKinds]bool, r, x *flow.Record) {
	if !h[kICMPTypeCode] && !h[kICMPType] && !h[kICMPCode] {
		if flow.IsICMP(x.Proto) {
			x.ICMPFromPort()
		}
		return
	}
	if h[kICMPTypeCode] {
		x.ICMPType, x.ICMPCode = r.ICMPType, r.ICMPCode
	}
	copyIf(h[kICMPType], &x.ICMPType, r.ICMPType)
	copyIf(h[kICMPCode], &x.ICMPCode, r.ICMPCode)
}

func projectTimes(h *[numKinds]bool, r, x *flow.Record) error {
	var start, end, dur bool
	for k := range kind(numKinds) {
		start = start || (h[k] && k.isStart())
		end = end || (h[k] && k.isEnd())
		dur = dur || (h[k] && k.isDuration())
	}
	switch {
	case start && (end || dur), end && dur:
		x.Start, x.End = r.Start, r.End
	case start:
		x.Start, x.End = r.Start, r.Start
	case end:
		x.Start, x.End = r.End, r.End
	default:
		return fmt.Errorf("cannot expect times: %w: the template carries none", ErrTemplate)
	}
	x.End = max(x.End, x.Start)
	return nil
}

// expectV5 is what a v5 record of r decodes to.
func (e *Exporter) expectV5(r flow.Record) (flow.Record, error) {
	x := flow.Record{
		Start: r.Start, End: max(r.End, r.Start),
		SrcAddr: r.SrcAddr, DstAddr: r.DstAddr, NextHop: r.NextHop,
		SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Proto, TCPFlags: r.TCPFlags,
		Bytes: r.Bytes, Packets: r.Packets, InIf: r.InIf, OutIf: r.OutIf,
		SrcAS: r.SrcAS, DstAS: r.DstAS,
		Exporter: e.Addr.Addr().Unmap(), ObsDomain: e.Domain & 0xffff,
		SamplingInterval: max(uint32(e.Sampling&0x3fff), 1),
	}
	if !x.NextHop.IsValid() {
		x.NextHop = netip.IPv4Unspecified()
	}
	for _, a := range []*netip.Addr{&x.SrcAddr, &x.DstAddr} {
		if !a.IsValid() {
			*a = netip.IPv4Unspecified()
		}
	}
	if flow.IsICMP(x.Proto) {
		x.ICMPFromPort()
	}
	_, err := v5Record(nil, &clock{}, &r)
	return x, err
}
