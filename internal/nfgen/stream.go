package nfgen

import (
	"fmt"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// Stream exports records as they come into a capture, holding only one
// packet's worth: for captures of millions of flows. Each packet carries
// PerPacket records (the exporter's), is exported at the end of its
// latest flow rounded up to the next whole second, and is captured Delay
// later. Templates (v9/IPFIX: every defined one) ride in front of the
// first packet's data and again every TemplateEvery packets, as
// exporters resend them.
type Stream struct {
	Exporter      *Exporter
	Writer        *CaptureWriter
	Collector     netip.AddrPort
	Template      uint16 // data template id (v9/IPFIX)
	Template6     uint16 // data template for IPv6 flows (0: Template for every flow)
	TemplateEvery int    // resend templates every N packets; 0: only in the first
	Delay         int64  // capture time after export time, ns (0: 1 ms)

	recs    []flow.Record // for Template
	recs6   []flow.Record // for Template6
	buf     []byte
	packets int
	flows   int
}

// Add queues a copy of r and writes a packet when PerPacket records wait.
func (s *Stream) Add(r *flow.Record) error {
	if s.Template6 != 0 && r.SrcAddr.Is6() {
		s.recs6 = append(s.recs6, *r)
	} else {
		s.recs = append(s.recs, *r)
	}
	if len(s.recs)+len(s.recs6) < s.Exporter.perPacket() {
		return nil
	}
	return s.emit()
}

// Flush writes the records still waiting and flushes the capture writer.
func (s *Stream) Flush() error {
	if len(s.recs)+len(s.recs6) > 0 {
		if err := s.emit(); err != nil {
			return err
		}
	}
	return s.Writer.Flush()
}

// Packets and Flows say what the stream has written.
func (s *Stream) Packets() int { return s.packets }
func (s *Stream) Flows() int   { return s.flows }

func (s *Stream) emit() error {
	e := s.Exporter
	var last int64
	for _, rs := range [2][]flow.Record{s.recs, s.recs6} {
		for i := range rs {
			last = max(last, rs[i].End, rs[i].Start)
		}
	}
	now := (floorDiv(last, 1e9) + 1) * 1e9
	p := e.begin(now, s.buf)
	if e.Version != 5 && (s.packets == 0 || (s.TemplateEvery > 0 && s.packets%s.TemplateEvery == 0)) {
		p.Templates()
	}
	if len(s.recs) > 0 {
		p.Data(s.Template, s.recs...)
	}
	if len(s.recs6) > 0 {
		p.Data(s.Template6, s.recs6...)
	}
	b, err := p.Bytes()
	if err != nil {
		return fmt.Errorf("cannot export packet %d: %w", s.packets+1, err)
	}
	s.buf = b
	delay := s.Delay
	if delay == 0 {
		delay = 1e6
	}
	if err := s.Writer.Write(Datagram{Src: e.Addr, Dst: s.Collector, Time: now + delay, Payload: b}); err != nil {
		return err
	}
	s.packets++
	s.flows += len(s.recs) + len(s.recs6)
	s.recs, s.recs6 = s.recs[:0], s.recs6[:0]
	return nil
}
