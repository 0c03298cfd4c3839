package gen

import (
	"net/netip"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// Session is one connection as an exporter reports it: a record of the
// client's packets and one of the server's, the server's 1 ms later
// (unidirectional evidence, NetFlow v5/v9), or one record with both
// directions (Biflow, as IPFIX biflows and many JSON exports give it). An
// active timeout cuts it into records of Split each (0: one record per
// direction); the byte counts are shared equally between the pieces. TCP
// flags: SYN on the first piece, FIN on the last, ACK and PSH on all.
type Session struct {
	Proto                  uint8
	Client, Server         netip.Addr
	ClientPort, ServerPort uint16
	Start, Dur             int64  // unix ns; duration in ns
	Up, Down               uint64 // bytes client->server and server->client, whole session
	Split                  int64  // active timeout in ns; 0: not split
	Biflow                 bool   // one record per piece with both directions
	NoAnswer               bool   // the server's records are missing (unanswered, or seen by no exporter)
	AnswerOnly             bool   // only the server's records (asymmetric routing)
	Sampling               uint32 // 1:N packet sampling: the counters are the sampled ones (0 means 1)
}

// packets a byte count takes, roughly (full-size segments and the
// handshake).
func pk(b uint64) uint64 { return b/1200 + 2 }

// Emit calls emit for each record of the session, in start order (the
// record is reused after emit returns).
func (s *Session) Emit(emit func(*flow.Record)) {
	n := int64(1)
	if s.Split > 0 && s.Dur > s.Split {
		n = (s.Dur + s.Split - 1) / s.Split
	}
	samp := max(s.Sampling, 1)
	up, down := s.Up/uint64(n), s.Down/uint64(n)
	var r flow.Record
	for i := range n {
		st := s.Start + i*max(s.Split, 0)
		en := s.Start + s.Dur
		if n > 1 {
			en = min(s.Start+(i+1)*s.Split, s.Start+s.Dur)
		}
		fl := uint8(flow.ACK | flow.PSH)
		if i == 0 {
			fl |= flow.SYN
		}
		if i == n-1 {
			fl |= flow.FIN
		}
		if s.Proto != flow.ProtoTCP {
			fl = 0
		}
		if s.Biflow {
			r = flow.Record{Start: st, End: en, SrcAddr: s.Client, DstAddr: s.Server, SrcPort: s.ClientPort, DstPort: s.ServerPort,
				Proto: s.Proto, TCPFlags: fl, Bytes: up, Packets: pk(up), RevBytes: down, RevPackets: pk(down), SamplingInterval: samp}
			emit(&r)
			continue
		}
		if !s.AnswerOnly {
			r = flow.Record{Start: st, End: en, SrcAddr: s.Client, DstAddr: s.Server, SrcPort: s.ClientPort, DstPort: s.ServerPort,
				Proto: s.Proto, TCPFlags: fl, Bytes: up, Packets: pk(up), SamplingInterval: samp}
			emit(&r)
		}
		if !s.NoAnswer {
			r = flow.Record{Start: st + int64(time.Millisecond), End: max(en, st+int64(time.Millisecond)), SrcAddr: s.Server, DstAddr: s.Client,
				SrcPort: s.ServerPort, DstPort: s.ClientPort, Proto: s.Proto, TCPFlags: fl, Bytes: down, Packets: pk(down), SamplingInterval: samp}
			emit(&r)
		}
	}
}

// Append appends the session's records to dst.
func (s *Session) Append(dst []flow.Record) []flow.Record {
	s.Emit(func(r *flow.Record) { dst = append(dst, *r) })
	return dst
}

// Probe outcomes: what a TCP SYN probe gets back.
type probeOutcome uint8

const (
	closed   probeOutcome = iota // RST+ACK
	open                         // SYN+ACK, then the prober's RST (a half-open scan)
	filtered                     // nothing
)

// probe emits a TCP SYN probe and the target's answer, 0.3 ms later: the
// same millisecond, as an exporter at the edge sees a host of its network
// answer.
func probe(emit func(*flow.Record), src netip.Addr, sp uint16, dst netip.Addr, dp uint16, t int64, o probeOutcome) {
	fl, pkts := flow.SYN, uint64(1)
	if o == open {
		fl, pkts = flow.SYN|flow.RST, 2
	}
	r := flow.Record{Start: t, End: t, SrcAddr: src, DstAddr: dst, SrcPort: sp, DstPort: dp, Proto: flow.ProtoTCP,
		TCPFlags: fl, Bytes: 44 * pkts, Packets: pkts}
	emit(&r)
	a := t + 300*int64(time.Microsecond)
	switch o {
	case closed:
		r = flow.Record{Start: a, End: a, SrcAddr: dst, DstAddr: src, SrcPort: dp, DstPort: sp,
			Proto: flow.ProtoTCP, TCPFlags: flow.RST | flow.ACK, Bytes: 40, Packets: 1}
		emit(&r)
	case open:
		r = flow.Record{Start: a, End: a, SrcAddr: dst, DstAddr: src, SrcPort: dp, DstPort: sp,
			Proto: flow.ProtoTCP, TCPFlags: flow.SYN | flow.ACK, Bytes: 44, Packets: 1}
		emit(&r)
	}
}

// icmp emits one ICMP (or ICMPv6) message; the destination port holds
// type<<8|code, as NetFlow exporters give it.
func icmp(emit func(*flow.Record), src, dst netip.Addr, t int64, typ, code uint8) {
	proto := flow.ProtoICMP
	if src.Is6() {
		proto = flow.ProtoICMPv6
	}
	r := flow.Record{Start: t, End: t, SrcAddr: src, DstAddr: dst, Proto: proto, ICMPType: typ, ICMPCode: code,
		DstPort: uint16(typ)<<8 | uint16(code), Bytes: 84, Packets: 1}
	emit(&r)
}
