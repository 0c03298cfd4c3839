// Package netflow decodes NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX
// (RFC 7011/7012, RFC 5103 biflows) export packets, the UDP payloads a
// collector receives, into flow.Record values; also the older fixed
// layouts of v1 and v7 (v5's records without AS numbers and engine, and
// with a router shortcut).
//
// Decoding is pure: bytes and explicit template state in, records out, no
// I/O. Template state lives in a TemplateCache keyed by exporter address,
// UDP source port, observation domain (v9 source id) and template id, so
// exporters and domains never mix; the cache can be serialised and
// restored, so evidence decoded on another day still finds its templates.
// Data sets whose template is not known yet are returned (ParkedSet) for
// the caller to keep and decode later with DecodeParked.
//
// Conventions, each checked against tshark on real captures:
//   - ObsDomain is the v9 source id, the IPFIX observation domain id,
//     engine_type<<8 | engine_id for v5, and 0 for v1 and v7.
//   - v1/v5/v7/v9 sysUpTime-relative times: header unix time minus
//     (sysUptime - t) ms, modulo 2^32 across the uptime wrap, read as signed
//     only when t lies at most an hour ahead of sysUptime (uptimeToUnixNs).
//     IPFIX flowStart/EndSysUpTime need systemInitTimeMilliseconds from
//     options data; without it, End is the export time and Start keeps the
//     duration (counted as ErrTimeFromExport).
//   - An element repeated in one template: the first occurrence wins (as
//     tshark). A template with both IPv4 and IPv6 address fields: the
//     non-zero one wins.
//   - A record without addresses but with a packet section (PSAMP,
//     sampled headers: IE 315 dataLinkFrameSection, IE 313
//     ipHeaderPacketSection) takes the keys of the section's outermost IP
//     header, one packet of its length (fromSection), and its
//     observationTime as start and end.
//   - A record with a start but no end or duration ends at its
//     observationTime when that is later (Cisco NSEL: a connection's
//     creation and its event, the teardown of a deleted one). Firewall
//     events (IE 233; 40005 of ASA 8.4) are counted in
//     PacketInfo.FirewallEvents; ASA 8.4's translated addresses and ports
//     (40001-40004) are the post-NAT ones.
//   - Sampling: an interval in the record itself, else the exporter's
//     options data for the record's sampler id (FLOW_SAMPLER_ID 48 /
//     selectorId 302) or for the domain, else the v5 header; 1 otherwise.
//     Counters stay raw; PacketInfo.SamplingFrom says where intervals came
//     from.
package netflow

import (
	"github.com/flowcase/flowcase/internal/flow"
)

// Packet is one export packet as the capture reader found it.
type Packet struct {
	Exporter    Exporter
	CaptureTime int64  // unix ns, when the collector's capture saw it
	Payload     []byte // the UDP payload
	Number      uint64 // packet number in its file, for messages
}

// Warning flags anomalies that do not stop decoding.
type Warning uint32

const (
	// WarnCountMismatch: the v5/v9 header count differs from the records
	// found (softflowd's v9 count leaves template records out; a v5 count
	// claiming more records than the datagram holds).
	WarnCountMismatch Warning = 1 << iota
	// WarnTrailingBytes: bytes after the last record (v5), the last set
	// (v9), or beyond the IPFIX message length.
	WarnTrailingBytes
	// WarnTruncated: the IPFIX message length claims more bytes than the
	// payload holds (a snapped capture); sets present were decoded.
	WarnTruncated
)

func (w Warning) String() string {
	s := ""
	for _, x := range []struct {
		w Warning
		s string
	}{{WarnCountMismatch, "count-mismatch"}, {WarnTrailingBytes, "trailing-bytes"}, {WarnTruncated, "truncated"}} {
		if w&x.w != 0 {
			if s != "" {
				s += ","
			}
			s += x.s
		}
	}
	return s
}

// PacketInfo describes a decoded export packet.
type PacketInfo struct {
	Version     uint16
	Domain      uint32 // v9 source id, IPFIX observation domain, v5 engine type<<8 | engine id
	Sequence    uint32 // v5: flows, v9: packets, IPFIX: data records sent before this message
	ExportTime  int64  // export header time, unix ns (v9/IPFIX: whole seconds)
	SysUptime   uint32 // v5/v9 header uptime, ms
	HeaderCount int    // v5/v9 header count (-1 for IPFIX)
	SampleRate  uint32 // sFlow: the largest sampling rate of the datagram's flow samples

	Records            int // flow records emitted
	OptionsRecords     int // options data records (not flows)
	TemplateRecords    int // template and options template records read
	TemplatesLearned   int // templates new or changed in the cache
	TemplatesWithdrawn int

	Warnings Warning
	// Skipped counts skipped parts by reason (index with a Reason).
	Skipped [NumReasons]uint32
	// SamplingFrom counts flow records by where their sampling interval
	// came from (SampledNone, SampledRecord, SampledOptions, SampledHeader).
	SamplingFrom [numSamplingSources]uint32
	// FirewallEvents counts flow records by their firewall event (IE 233,
	// Cisco NSEL), when they carry one.
	FirewallEvents [NumFirewallEvents]uint32
	// Unknown lists the data sets whose template was not known. The slice
	// is reused by the next Decode call: copy what you keep.
	Unknown []ParkedSet
}

// Firewall events (IANA firewallEvent, IE 233, the values of Cisco's NSEL):
// a firewall reports a connection when it is created, updated and deleted,
// and an attempt it denied, each as a record of its own.
const (
	FirewallIgnore  = iota // 0: no event
	FirewallCreated        // the connection was created (no bytes yet)
	FirewallDeleted        // torn down: the record holds its counters
	FirewallDenied         // refused by a rule (no bytes)
	FirewallAlert
	FirewallUpdate // counters since the last report of a connection still open
	FirewallOther  // values above 5
	NumFirewallEvents
)

// FirewallEventNames are the events' names in ingest reports.
var FirewallEventNames = [NumFirewallEvents]string{"none", "created", "deleted", "denied", "alert", "update", "other"}

// ParkedSet is a data set that arrived before its template, with the
// export header context needed to decode it later with DecodeParked.
type ParkedSet struct {
	Key         TemplateKey
	Offset      int // of the set (its 4-byte header included) in Packet.Payload
	Length      int // of the set, header included
	ExportTime  int64
	SysUptime   uint32 // v9 header uptime, ms
	Sequence    uint32
	CaptureTime int64
	Number      uint64
}

// Bytes returns the set's bytes within the packet payload it came from.
func (ps *ParkedSet) Bytes(payload []byte) []byte {
	if ps.Offset < 0 || ps.Length < 0 || ps.Offset > len(payload) || ps.Length > len(payload)-ps.Offset {
		return nil
	}
	return payload[ps.Offset : ps.Offset+ps.Length]
}

// Decoder decodes export packets with the templates of its cache. It is not
// safe for concurrent use. The *flow.Record passed to emit is reused for
// every record: copy it to keep it.
type Decoder struct {
	Templates *TemplateCache
	// OutBytesReverse maps OUT_BYTES/OUT_PKTS (postOctetDeltaCount and
	// postPacketDeltaCount, elements 23/24) to RevBytes/RevPackets instead
	// of PostBytes/PostPackets, for exporters that use them for the
	// reverse direction.
	OutBytesReverse bool

	rec    flow.Record
	sc     scratch
	fields []Field
	parked []ParkedSet
	ops    []fieldOp // fields of a variable-length record
}

// NewDecoder returns a decoder using cache (a new empty one if nil).
func NewDecoder(cache *TemplateCache) *Decoder {
	if cache == nil {
		cache = NewTemplateCache()
	}
	return &Decoder{Templates: cache}
}

// Decode decodes one export packet, calling emit for every flow record.
// Records emitted before an error are valid. An error is a *DecodeError.
func (d *Decoder) Decode(p Packet, emit func(*flow.Record)) (PacketInfo, error) {
	if d.Templates == nil {
		d.Templates = NewTemplateCache()
	}
	if emit == nil {
		emit = func(*flow.Record) {}
	}
	d.parked = d.parked[:0]
	var info PacketInfo
	var err error
	r := newReader(p.Payload)
	switch v := r.u16(); v {
	case 1, 5, 7:
		l, _ := fixedLayoutOf(v)
		err = d.decodeFixedVersion(l, p, &info, emit)
	case 9:
		err = d.decodeV9(p, &info, emit)
	case 10:
		err = d.decodeIPFIX(p, &info, emit)
	default:
		reason := ErrVersion
		if r.failed() {
			reason = ErrTruncated
		}
		err = &DecodeError{Version: v, Reason: reason, Got: int(v)}
	}
	info.Unknown = d.parked
	if de, ok := err.(*DecodeError); ok {
		de.Packet = p.Number
	}
	return info, err
}

// DecodeParked decodes a data set returned in PacketInfo.Unknown, now that
// its template may be known; set is ps.Bytes(payload) (or a copy of it).
// It returns ErrUnknownTemplate (in a *DecodeError) while the template is
// still missing.
func (d *Decoder) DecodeParked(ps ParkedSet, set []byte, emit func(*flow.Record)) (PacketInfo, error) {
	if d.Templates == nil {
		d.Templates = NewTemplateCache()
	}
	if emit == nil {
		emit = func(*flow.Record) {}
	}
	info := PacketInfo{Version: ps.Key.Version, Domain: ps.Key.Domain, Sequence: ps.Sequence,
		ExportTime: ps.ExportTime, SysUptime: ps.SysUptime, HeaderCount: -1}
	de := &DecodeError{Version: ps.Key.Version, Offset: ps.Offset, SetID: ps.Key.ID, Packet: ps.Number}
	t := d.Templates.Get(ps.Key)
	switch {
	case len(set) < 4 || len(set) != ps.Length:
		de.Reason, de.Got, de.Want = ErrSetLength, len(set), ps.Length
		info.Skipped[ErrSetLength]++
		return info, de
	case t == nil:
		de.Reason = ErrUnknownTemplate
		return info, de
	}
	ctx := pktCtx{version: ps.Key.Version, dk: ps.Key.DomainKey(), exportNs: ps.ExportTime,
		sysUptime: ps.SysUptime, ds: d.Templates.domain(ps.Key.DomainKey())}
	d.decodeData(&ctx, t, set[4:], &info, emit)
	return info, nil
}

// decodeData decodes the records of a data set body (after its header).
// Trailing bytes shorter than a record are padding when zero, otherwise
// counted as ErrRecordTruncated.
func (d *Decoder) decodeData(ctx *pktCtx, t *Template, body []byte, info *PacketInfo, emit func(*flow.Record)) {
	if t.fixedLen > 0 {
		d.decodeFixed(ctx, t, body, info, emit)
		return
	}
	for len(body) > 0 {
		if len(body) < t.minLen {
			d.tail(body, info)
			return
		}
		d.rec = flow.Record{}
		d.sc.has = 0
		ops, n, ok := walkRecord(t, body, d.ops[:0])
		d.ops = ops
		if !ok {
			d.tail(body, info)
			return
		}
		applyFields(ops, body, &d.rec, &d.sc)
		body = body[n:]
		d.record(ctx, t, info, emit)
	}
}

// record finishes the record just decoded into d.rec: options feed the
// exporter's state, flows are completed and emitted.
func (d *Decoder) record(ctx *pktCtx, t *Template, info *PacketInfo, emit func(*flow.Record)) {
	if t.Options {
		info.OptionsRecords++
		d.applyOptions(ctx, &d.sc, info)
		return
	}
	d.finishFlow(ctx, &d.rec, &d.sc, info)
	info.Records++
	emit(&d.rec)
}

// decodeFixed is decodeData for templates without variable-length
// fields: every record is t.fixedLen bytes and only the decoded fields are
// visited.
func (d *Decoder) decodeFixed(ctx *pktCtx, t *Template, body []byte, info *PacketInfo, emit func(*flow.Record)) {
	n := t.fixedLen
	for len(body) >= n {
		d.rec = flow.Record{}
		d.sc.has = 0
		applyFields(t.fixed, body[:n], &d.rec, &d.sc)
		body = body[n:]
		d.record(ctx, t, info, emit)
	}
	if len(body) > 0 {
		d.tail(body, info)
	}
}

func (d *Decoder) tail(b []byte, info *PacketInfo) {
	if !allZero(b) {
		info.Skipped[ErrRecordTruncated]++
	}
}

// park records a data set whose template is unknown.
func (d *Decoder) park(ctx *pktCtx, p *Packet, info *PacketInfo, id uint16, off, length int) {
	info.Skipped[ErrUnknownTemplate]++
	d.parked = append(d.parked, ParkedSet{
		Key:    TemplateKey{Exporter: ctx.dk.Exporter, Domain: ctx.dk.Domain, ID: id, Version: ctx.version},
		Offset: off, Length: length, ExportTime: ctx.exportNs, SysUptime: ctx.sysUptime,
		Sequence: info.Sequence, CaptureTime: p.CaptureTime, Number: p.Number,
	})
}

// exporterKey normalises an exporter address (IPv4-mapped IPv6 to IPv4) so
// the same exporter seen by two capture readers keys the same templates.
func exporterKey(e Exporter) Exporter {
	e.Addr = e.Addr.Unmap()
	return e
}
