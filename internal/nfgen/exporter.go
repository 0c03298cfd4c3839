package nfgen

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/flowcase/flowcase/internal/flow"
)

// Exporter is one exporting process: its UDP source, protocol version,
// observation domain, clock and templates. Each packet it makes advances
// its sequence number. An Exporter is not safe for concurrent use.
type Exporter struct {
	Addr    netip.AddrPort // UDP source of its packets (IPv4 or IPv6)
	Version uint16         // 5, 9 or 10 (IPFIX)
	// Domain is the v9 source id, the IPFIX observation domain id, or
	// for v5 engine_type<<8 | engine_id.
	Domain uint32
	// Boot is when the device's sysUptime was 0 (unix ns): v5/v9 times
	// are milliseconds since Boot modulo 2^32, so a Boot more than 49.7
	// days before the export time makes the uptime wrap. IPFIX
	// flowStart/EndSysUpTime count from Boot too (send Boot in
	// milliseconds as systemInitTimeMilliseconds options data).
	Boot int64
	// Sampling is the v5 header's sampling interval (14 bits), 0 for none.
	Sampling uint16
	// PerPacket is how many data records AppendData and Stream put in a
	// packet (default 30, as most exporters; v5 holds at most 30).
	PerPacket int
	// SoftflowdCount makes the v9 header count the flow data records only,
	// as softflowd 1.1.0 does, instead of every template, options and data
	// record (RFC 3954).
	SoftflowdCount bool
	// SoftflowdSequence makes the IPFIX header sequence count the flow
	// data records up to and including the message, options records left
	// out, as softflowd 1.1.0 does, instead of every data record sent
	// before it (RFC 7011 section 10.3.2).
	SoftflowdSequence bool
	// Sequence is the next packet's sequence number: v9 counts packets, v5
	// flow records and IPFIX data records (options records included) sent
	// before the packet. Set it to start elsewhere than 0.
	Sequence uint32

	templates map[uint16]*compiled
}

// Define makes a template known to the exporter (replacing one with the
// same id) without sending it: data encoded with it before a packet
// carries it is data before its template.
func (e *Exporter) Define(ts ...Template) error {
	if e.Version != 9 && e.Version != 10 {
		return fmt.Errorf("cannot define templates for v%d: %w", e.Version, ErrVersion)
	}
	for _, t := range ts {
		c, err := compile(e.Version, t)
		if err != nil {
			return err
		}
		if e.templates == nil {
			e.templates = map[uint16]*compiled{}
		}
		e.templates[t.ID] = c
	}
	return nil
}

// Forget drops templates from the exporter (Withdraw does it too).
func (e *Exporter) Forget(ids ...uint16) {
	for _, id := range ids {
		delete(e.templates, id)
	}
}

// Defined returns the ids of the defined templates, in order.
func (e *Exporter) Defined() []uint16 {
	ids := make([]uint16, 0, len(e.templates))
	for id := range e.templates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (e *Exporter) template(id uint16) (*compiled, error) {
	if t := e.templates[id]; t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("cannot use template %d of %s domain %d: %w", id, e.Addr, e.Domain, ErrUnknownTemplate)
}

func (e *Exporter) perPacket() int {
	n := e.PerPacket
	if n <= 0 {
		n = 30
	}
	if e.Version == 5 {
		n = min(n, v5MaxRecords)
	}
	return n
}

// AppendData appends to dst the packets that carry recs with template id
// (ignored for v5), PerPacket records each, all exported at now (unix ns).
func (e *Exporter) AppendData(dst [][]byte, now int64, id uint16, recs []flow.Record) ([][]byte, error) {
	n := e.perPacket()
	for len(recs) > 0 {
		k := min(n, len(recs))
		b, err := e.Begin(now).Data(id, recs[:k]...).Bytes()
		if err != nil {
			return dst, err
		}
		dst = append(dst, b)
		recs = recs[k:]
	}
	return dst, nil
}

// Expect returns the record a decoder must make of r encoded with
// template id (ignored for v5): the fields the template carries, the rest
// zero, and the exporter's address and domain. ICMP type and code come
// from the destination port (type<<8 | code) when the template has no
// ICMP element. SamplingInterval is r's (at least 1) unless the v5 header
// states one: for v9 and IPFIX, set r's to what the exporter's options
// data say when the template does not carry the interval.
func (e *Exporter) Expect(id uint16, r flow.Record) (flow.Record, error) {
	if e.Version == 5 {
		return e.expectV5(r)
	}
	t, err := e.template(id)
	if err != nil {
		return flow.Record{}, err
	}
	if t.options() {
		return flow.Record{}, fmt.Errorf("cannot expect a flow from options template %d: %w", id, ErrTemplate)
	}
	x, err := project(t, &r)
	if err != nil {
		return flow.Record{}, err
	}
	x.Exporter = e.Addr.Addr().Unmap()
	x.ObsDomain = e.Domain
	return x, nil
}

// Datagrams wraps payloads as datagrams from src to dst, the i-th at
// capture time t plus i microseconds.
func Datagrams(src, dst netip.AddrPort, t int64, payloads ...[]byte) []Datagram {
	out := make([]Datagram, len(payloads))
	for i, p := range payloads {
		out[i] = Datagram{Src: src, Dst: dst, Time: t + int64(i)*1000, Payload: p}
	}
	return out
}
