package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
)

// captureDecoder turns a capture of NetFlow/IPFIX export packets into
// flow records: capture reader, export-packet recognition, decoders with
// the store's templates, parked data sets, duplicate export packets and
// per-exporter statistics.
type captureDecoder struct {
	st   *index.Store
	name string
	rd   datagrams
	dec  *netflow.Decoder
	port uint16
	self uint32 // this file's source id (set when the writer exists)
	// emitSelf hands records of this file to sink; future is the latest
	// start accepted (a day after the ingest began).
	emitSelf func(*flow.Record)
	future   int64

	sink    func(r *flow.Record, source uint32) error // the store writer
	sinkErr error
	err     error

	rejects  map[string]int
	kept     [netflow.NumReasons]uint64 // records kept after a repair, by reason (netflow.Reason.Kept)
	early    earlyTimes                 // flows kept although dated before 1990
	examples func(string)
	exports  uint64 // export packets decoded
	other    uint64 // UDP datagrams that are not export packets
	// lookalikes are those of other that began like an export packet but
	// were not sound, from a source not known to export (exporting).
	lookalikes uint64
	proven     map[netip.AddrPort]bool           // sources that sent a sound export packet (exporting)
	sflow      uint64                            // sFlow v5 datagrams among the exports
	dups       uint64                            // export packets already decoded (in the store or earlier in the file)
	fw         [netflow.NumFirewallEvents]uint64 // flow records by firewall event (NSEL)

	// parked holds the data sets still waiting for their template, by
	// template, in the order they came; parked.go bounds them.
	parked      map[netflow.TemplateKey][]*parked
	parkedN     int // sets in parked
	parkedB     int // their bytes, parkedOverhead counted for each
	loadedN     int // of them, those earlier files left (loadParked)
	loadedB     int // and their bytes, counted so
	readyN      int // of those, the ones whose template was known (parkAs)
	readyB      int
	perKey      map[netflow.TemplateKey]*[3]int // sets in parked by template and parkOrigin
	stored      int                             // waiting sets the store holds of earlier files (loadParked counted them, less those decoded)
	storedB     int                             // their bytes, counted as parkAs counts them
	storedKey   map[netflow.TemplateKey]int     // and their number by template
	storeFull   bool                            // loadParked stopped before the store's last set
	unkept      int                             // this file's waiting sets the store had no room for
	parkedSeq   uint32                          // numbers this file's parked sets (their store keys)
	parkedReady []netflow.TemplateKey           // templates known when their waiting sets were loaded
	refused     int                             // this file's sets rejected for want of room to wait
	retried     int                             // parked sets retryParked looked at
	resolved    [][]byte                        // store keys of parked sets decoded in this run (deleted at commit)
	// earlierSets and earlierRecords count the parked sets of earlier
	// files that this file's templates decoded, and their flow records.
	earlierSets, earlierRecords int

	exporters *exporterTable
	dedup     *dedup
}

// datagrams is where export packets come from: the UDP datagrams (and
// IPFIX-over-TCP messages) of a capture, or the messages of an IPFIX File.
type datagrams interface {
	Next() (*pcap.Datagram, bool)
	Err() error
	Stats() pcap.Stats
}

type domainKey struct {
	addr    netip.Addr
	port    uint16
	domain  uint32
	version uint16
	other   string // exporterStats.Other
}

// exporterStats are kept per exporter, port, domain and version.
type exporterStats struct {
	Address           string   `json:"address"`
	Port              uint16   `json:"port"`
	ObservationDomain uint32   `json:"observation_domain"`
	Versions          []uint16 `json:"versions"`
	Packets           uint64   `json:"packets"`
	Flows             uint64   `json:"flows"`
	SequenceGaps      uint64   `json:"sequence_gaps"`
	LostPackets       uint64   `json:"lost"`
	Duplicates        uint64   `json:"duplicates"`
	ClockSkewSeconds  float64  `json:"clock_skew_seconds"`
	// HeaderSampling is the v5 header's sampling interval, or the largest
	// of an sFlow agent's sampling rates (0: none).
	HeaderSampling uint32 `json:"header_sampling,omitempty"`
	// Other marks a row counting many domains or exporters together
	// (exporterTable): "domains" or "exporters".
	Other string `json:"other,omitempty"`

	skewSum  float64
	skewN    uint64
	nextSeq  uint32
	prevSeq  uint32
	haveNext bool
}

func newCaptureDecoder(st *index.Store, r io.Reader, format pcap.Format, name string, opt Options) (*captureDecoder, error) {
	rd, err := pcap.NewReader(r, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if opt.Port != 0 {
		rd.FilterPorts(opt.Port)
	}
	return newExportDecoder(st, rd, name, opt)
}

// newExportDecoder decodes the export packets rd yields.
func newExportDecoder(st *index.Store, rd datagrams, name string, opt Options) (*captureDecoder, error) {
	cache, err := loadTemplates(st)
	if err != nil {
		return nil, err
	}
	d := &captureDecoder{st: st, name: name, rd: rd, dec: netflow.NewDecoder(cache), port: opt.Port,
		rejects: map[string]int{}, exporters: newExporterTable(), dedup: newDedup(st)}
	d.dec.OutBytesReverse = opt.OutBytesReverse
	d.future = nowOf(opt).Add(24 * time.Hour).UnixNano()
	return d, d.loadParked()
}

func (d *captureDecoder) Err() error              { return d.err }
func (d *captureDecoder) Rejects() map[string]int { return d.rejects }
func (d *captureDecoder) Assumed() int            { return 0 }

// run decodes every export packet of the capture, handing each record and
// the source it belongs to (a parked set from an earlier file keeps that
// file's id) to sink, which stores it.
func (d *captureDecoder) run(sink func(r *flow.Record, source uint32) error) error {
	d.sink = sink
	// Sets earlier files left for templates the store knows now (a later
	// file brought one without changing it) are decoded first: no template
	// learned here would look at them.
	if len(d.parkedReady) > 0 {
		d.retryParked()
	}
	for d.sinkErr == nil {
		dg, ok := d.rd.Next()
		if !ok {
			d.finishReader()
			break
		}
		d.packet(dg)
	}
	return d.sinkErr
}

func (d *captureDecoder) finishReader() {
	if err := d.rd.Err(); err != nil && d.err == nil {
		d.err = err
	}
	st := d.rd.Stats()
	for reason, n := range st.Skipped {
		d.rejects["capture: "+reason] += int(n)
	}
}

func (d *captureDecoder) example(text string) {
	if d.examples != nil {
		d.examples(text)
	}
}

// packet decodes one UDP datagram if it is an export packet.
func (d *captureDecoder) packet(dg *pcap.Datagram) {
	version, ok := netflow.Sniff(dg.Payload)
	decode := d.dec.Decode
	if !ok && netflow.SniffSFlow(dg.Payload) {
		version, ok, decode = netflow.VersionSFlow5, true, d.dec.DecodeSFlow
	}
	if !ok {
		d.other++
		return
	}
	if version != netflow.VersionSFlow5 && !d.exporting(dg, version) {
		d.other++
		d.lookalikes++
		return
	}
	exp := netflow.Exporter{Addr: dg.Src.Addr(), Port: dg.Src.Port()}
	if agent, ok := netflow.SFlowAgent(dg.Payload); ok && version == netflow.VersionSFlow5 {
		// The agent is the exporter its flows name: info's exporters table
		// lists it, not the address that relayed its datagrams.
		exp.Addr = agent
	}
	p := netflow.Packet{Exporter: exp, CaptureTime: dg.Time, Payload: dg.Payload, Number: dg.Number}
	dup, id, keyed := d.dedup.seen(exp, version, dg.Payload)
	if dup {
		domain, _, _ := headerIDs(version, dg.Payload)
		d.stats(exp, domain, version).Duplicates++
		d.dups++
		return
	}
	d.exports++
	if version == netflow.VersionSFlow5 {
		d.sflow++
	}
	info, err := decode(p, d.emitSelf)
	es := d.stats(exp, info.Domain, version)
	es.account(info, dg.Time)
	d.countDecoded(&info)
	if info.SampleRate > 1 {
		es.HeaderSampling = max(es.HeaderSampling, info.SampleRate)
	}
	if version == 5 && len(dg.Payload) >= 24 {
		if iv := uint32(binary.BigEndian.Uint16(dg.Payload[22:]) & 0x3fff); iv > 1 {
			es.HeaderSampling = iv
		}
	}
	if err != nil {
		var de *netflow.DecodeError
		if errors.As(err, &de) && !errors.Is(err, netflow.ErrUnknownTemplate) {
			// Counted in info.Skipped above; keep the example with its place.
			d.example(fmt.Sprintf("packet %d offset %d: %v", dg.Number, de.Offset, err))
		}
	}
	if keyed {
		d.dedup.record(&id)
	}
	for _, ps := range info.Unknown {
		d.parkOrRefuse(ps, ps.Bytes(dg.Payload))
	}
	if info.TemplatesLearned > 0 {
		d.retryParked()
	}
}

// exporting tells whether a datagram that begins like an export packet is
// taken for one: when it is sent to a collector's usual port (or the port
// asked for), comes from a source that sent a sound export packet before,
// or is sound itself (netflow.Sound). A damaged export packet from a known
// exporter or to a collector's port is decoded and its damage reported;
// one whose header or first set is damaged, from an unknown source to
// another port, is counted as other traffic, as is the QUIC or game
// traffic that begins like an export packet by chance.
func (d *captureDecoder) exporting(dg *pcap.Datagram, version uint16) bool {
	if d.proven[dg.Src] || (d.port != 0 && (dg.Dst.Port() == d.port || dg.Src.Port() == d.port)) || pcap.CollectorPort(dg.Dst.Port()) {
		return true
	}
	if !netflow.Sound(dg.Payload, version) {
		return false
	}
	if d.proven == nil {
		d.proven = map[netip.AddrPort]bool{}
	}
	d.proven[dg.Src] = true
	return true
}

// countDecoded adds what a decoded packet (or parked set) skipped, by
// reason, what it kept after a repair, and its firewall events.
func (d *captureDecoder) countDecoded(info *netflow.PacketInfo) {
	for r := netflow.Reason(1); int(r) < netflow.NumReasons; r++ {
		switch n := info.Skipped[r]; {
		case n == 0 || r == netflow.ErrUnknownTemplate: // parked, counted apart
		case r.Kept():
			d.kept[r] += uint64(n)
		default:
			d.rejects[r.Error()] += int(n)
		}
	}
	for e, n := range info.FirewallEvents {
		d.fw[e] += uint64(n)
	}
}

// firewallNote describes the firewall events of the capture's records, if
// any: a connection can be in the store as several records.
func (d *captureDecoder) firewallNote(extra map[string]any) string {
	counts := map[string]uint64{}
	var parts []string
	for e, n := range d.fw {
		if n > 0 && e != netflow.FirewallIgnore { // 0: the element is there, no event
			counts[netflow.FirewallEventNames[e]] = n
			parts = append(parts, fmt.Sprintf("%d %s", n, netflow.FirewallEventNames[e]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	extra["firewall_events"] = counts
	return "firewall events (NSEL): " + strings.Join(parts, ", ") +
		"; each is a record of its own: a connection's created, update and deleted records are one connection to the detectors, and denied attempts are kept as flows without bytes"
}

// keptNotes describes the records kept after a repair: where their times
// came from, or what of them was passed over.
func (d *captureDecoder) keptNotes(extra map[string]any) []string {
	var notes []string
	counts := map[string]uint64{}
	for r, n := range d.kept {
		if n == 0 {
			continue
		}
		reason := netflow.Reason(r)
		counts[reason.String()] = n
		switch reason {
		case netflow.ErrTimeFromExport:
			notes = append(notes, fmt.Sprintf("%d flow records carry no time of their own (or only times since the exporter's start, which it did not send): each is placed at its export packet's time", n))
		case netflow.ErrTimeInverted:
			notes = append(notes, fmt.Sprintf("%d flow records end before they start: each is kept with its end set to its start", n))
		case netflow.ErrExtendedRecord:
			notes = append(notes, fmt.Sprintf("%d sFlow extended records (switch, router or gateway data) are cut short: passed over, their samples kept", n))
		default:
			notes = append(notes, fmt.Sprintf("%d flow records kept: %s", n, reason))
		}
	}
	if len(counts) > 0 {
		extra["kept_after_repair"] = counts
	}
	return notes
}

func (d *captureDecoder) emit(source uint32) func(*flow.Record) {
	return func(r *flow.Record) {
		if !r.SrcAddr.IsValid() && !r.DstAddr.IsValid() {
			// An event or statistics record, or a packet section flowcase
			// cannot read (netflow.fromSection): not a flow.
			d.rejects[reasonNoAddresses]++
			return
		}
		if reason := implausibleTime(r, d.future); reason != "" {
			d.rejects[reason]++
			return
		}
		if r.Start < flow.MinPlausible {
			d.early.add(r)
		}
		if d.sinkErr == nil {
			d.sinkErr = d.sink(r, source)
		}
	}
}

// reasonNoAddresses rejects a data record without source and destination.
const reasonNoAddresses = "record without addresses"

// implausibleTime rejects flows whose times cannot be right: before the
// epoch, or more than a day after the ingest began. A time between the
// epoch and 1990 is an exporter's clock that was never set (an embedded
// probe without a real-time clock, a lab capture replayed with 1970 packet
// times): such flows are real and their spacing is right, so they are kept
// and counted (earlyTimes) instead.
func implausibleTime(r *flow.Record, future int64) string {
	switch {
	case r.Start < 0:
		return "time before 1970"
	case r.Start > future:
		return "time in the future"
	}
	return ""
}

// earlyTimes counts the flows dated before 1990, their exporters and span.
type earlyTimes struct {
	n           uint64
	first, last int64
	exporters   []netip.Addr // the first few
}

func (e *earlyTimes) add(r *flow.Record) {
	if e.n == 0 || r.Start < e.first {
		e.first = r.Start
	}
	e.last = max(e.last, r.Start)
	e.n++
	if len(e.exporters) < 3 && !slices.Contains(e.exporters, r.Exporter) {
		e.exporters = append(e.exporters, r.Exporter)
	}
}

// note tells the user about the flows kept with early times.
func (e *earlyTimes) note() string {
	span := time.Unix(0, e.first).UTC().Format(time.RFC3339) + " to " + time.Unix(0, e.last).UTC().Format(time.RFC3339)
	var names []string
	for _, a := range e.exporters {
		if a.IsValid() {
			names = append(names, a.String())
		}
	}
	if len(names) == 0 {
		// Flows metered from the packets: their times are the capture's.
		return fmt.Sprintf("%d flows are dated before 1990 (%s): the clock of the machine that captured the packets was not set; they are kept at those times", e.n, span)
	}
	return fmt.Sprintf("%d flows are dated before 1990 (%s; exporter %s): the exporter's clock was not set; they are kept at those times",
		e.n, span, strings.Join(names, ", "))
}

func (d *captureDecoder) stats(exp netflow.Exporter, domain uint32, version uint16) *exporterStats {
	return d.exporters.get(exp.Addr, exp.Port, domain, version)
}

// account adds one decoded export packet: flows, sequence gaps (v5 and v7
// count flows, v9 packets, IPFIX data records; v1 has no sequence) and
// clock skew.
func (es *exporterStats) account(info netflow.PacketInfo, captured int64) {
	es.Packets++
	es.Flows += uint64(info.Records)
	if info.ExportTime != 0 && captured != 0 {
		es.skewSum += float64(captured-info.ExportTime) / 1e9
		es.skewN++
		es.ClockSkewSeconds = float64(int64(es.skewSum/float64(es.skewN)*1000)) / 1000
	}
	if es.Other != "" {
		return // many domains' sequences: no gaps to tell
	}
	// IPFIX: RFC 7011 counts the data records sent before the message;
	// some exporters (softflowd 1.1.0) count the flow records up to and
	// including it, the other reading of section 3.1 (erratum 4396). Both
	// are continuous.
	inclusive := info.Version == 10 && info.Sequence-uint32(info.Records) == es.prevSeq
	if es.haveNext && info.Sequence != es.nextSeq && !inclusive {
		if gap := info.Sequence - es.nextSeq; gap < 1<<20 {
			es.SequenceGaps++
			es.LostPackets += uint64(gap)
		}
	}
	step := uint32(1)
	switch info.Version {
	case 5, 7:
		step = uint32(info.HeaderCount)
	case 10:
		step = uint32(info.Records + info.OptionsRecords)
	}
	// IPFIX counts data records; those of sets waiting for their template
	// are unknown yet, so the next sequence number is too. v1 has none.
	es.nextSeq, es.haveNext = info.Sequence+step, info.Version != 1 && (info.Version != 10 || len(info.Unknown) == 0)
	es.prevSeq = info.Sequence
}

// payloadHash identifies an export packet's bytes (xxHash64).
func payloadHash(b []byte) uint64 { return xxhash.Sum64(b) }

func (d *captureDecoder) setSelf(id uint32) {
	d.self = id
	d.emitSelf = d.emit(id)
	d.dedup.self = id
}

// Next is unused: captures go through next, which keeps each record's source.
func (d *captureDecoder) Next(*flow.Record) bool { return false }

// finish records what the capture leaves behind: templates and parked
// sets (written with the source's completion), exporter statistics, and
// notes for the user.
func (d *captureDecoder) finish(res *index.SourceResult, extra map[string]any, fr *FileResult) error {
	if err := d.dedup.flush(); err != nil {
		return fmt.Errorf("cannot record export packets: %w", err)
	}
	tpl, err := d.dec.Templates.MarshalBinary()
	if err != nil {
		return fmt.Errorf("cannot save templates: %w", err)
	}
	waits, put := d.finishParked()
	// Parked sets go in ahead of the commit, in batches (they can exceed a
	// transaction): until the source completes, they are stale and ignored.
	if err := d.writeAux(put); err != nil {
		return fmt.Errorf("cannot park data sets: %w", err)
	}
	res.Aux = map[string][]byte{string(index.AuxKey(auxTemplates, nil)): tpl}
	res.AuxDelete = d.resolved
	exps := d.exporters.list()
	st := d.rd.Stats()
	extra["exporters"] = exps
	extra["waiting"] = waits[:min(len(waits), maxWaitingListed)]
	wt := totalWaiting(waits)
	fr.Parked += wt.Sets
	if len(waits) > maxWaitingListed {
		extra["waiting_total"] = wt
	}
	extra["export_packets"] = d.exports
	extra["other_udp"] = d.other
	if d.sflow > 0 {
		extra["sflow_datagrams"] = d.sflow
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d sFlow v5 datagrams: each sampled packet is a flow of one packet at the datagram's capture time, its counters raw and its sampling rate kept (scaled figures multiply by it)", d.sflow))
	}
	if note := d.firewallNote(extra); note != "" {
		fr.Notes = append(fr.Notes, note)
	}
	extra["capture"] = st
	extra["duplicate_packets"] = d.dups
	fr.Notes = append(fr.Notes, d.keptNotes(extra)...)
	if d.early.n > 0 {
		extra["flows_before_1990"] = d.early.n
		fr.Notes = append(fr.Notes, d.early.note())
	}
	if d.dups > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d export packets already in the store skipped (duplicates)", d.dups))
	}
	if st.Decapsulated > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d export packets read inside the tunnel or overlay that carried them (GRE, VXLAN, ERSPAN)", st.Decapsulated))
	}
	if st.TCPMessages > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d IPFIX messages read from TCP streams (%d segments)", st.TCPMessages, st.TCPSegments))
	}
	for _, n := range []string{pcap.NoteStreamGap, pcap.NoteStreamLost, pcap.NoteStreamCut, pcap.NoteConcatenated} {
		if st.Notes[n] > 0 {
			fr.Notes = append(fr.Notes, fmt.Sprintf("%s: %d times", n, st.Notes[n]))
		}
	}
	if d.lookalikes > 0 {
		extra["lookalike_datagrams"] = d.lookalikes
		if d.exports > 0 {
			fr.Notes = append(fr.Notes, fmt.Sprintf("%d UDP datagrams began like export packets but were not sound (header or first set), from sources that sent none, to ports other than a collector's: counted as other traffic", d.lookalikes))
		}
	}
	if d.exports == 0 && d.dups == 0 {
		other := d.other
		for _, n := range st.Other {
			other += n
		}
		msg := fmt.Sprintf("no NetFlow/IPFIX/sFlow exports found: %d packets of other traffic", other)
		var skipped uint64
		for _, n := range st.Skipped {
			skipped += n
		}
		if skipped > 0 {
			msg += fmt.Sprintf(", %d packets skipped as damaged", skipped)
		}
		if traffic := d.other + st.Other["tcp"] + st.Other["icmp"] + st.Other["icmpv6"]; traffic > 0 && traffic*2 >= other {
			msg += " (a capture of the traffic itself, not of flow exports? ingest it again with --meter to make flows from its packets)"
		}
		fr.Notes = append(fr.Notes, msg)
	}
	fr.Notes = append(fr.Notes, d.exporters.notes()...)
	if n := d.rejects[netflow.ErrTooManyTemplates.Error()]; n > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d templates (or options records of new domains) refused: the store's template cache is full (%d templates, or %d MiB of their fields); their data sets are not decoded",
			n, netflow.DefaultMaxTemplates, netflow.DefaultMaxBytes>>20))
	}
	if n := d.dec.Templates.Dropped(); n > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d templates and domains the store held beyond the template cache's limit (%d MiB) were left out", n, netflow.DefaultMaxBytes>>20))
	}
	fr.Notes = append(fr.Notes, waitingNotes(waits, wt)...)
	if note := d.refusedNote(); note != "" {
		fr.Notes = append(fr.Notes, note)
	}
	if d.unkept > 0 {
		fr.Rejected[netflow.ErrUnknownTemplate.Error()] += int64(d.unkept) // the source's record shares the map
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d of its data sets whose templates never came are rejected as %q: the store keeps at most %d waiting (%d for one template, %d MiB), earlier files' first",
			d.unkept, netflow.ErrUnknownTemplate.Error(), maxParkedSets, maxParkedPerKey, maxParkedBytes>>20))
	}
	if d.earlierSets > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d data sets that earlier files left waiting were decoded, their templates known now: %d flows, counted to those files",
			d.earlierSets, d.earlierRecords))
	}
	return nil
}

func sortExporters(es []*exporterStats) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		if a.ObservationDomain != b.ObservationDomain {
			return a.ObservationDomain < b.ObservationDomain
		}
		if a.Other != b.Other {
			return a.Other < b.Other
		}
		if len(a.Versions) == 0 || len(b.Versions) == 0 {
			return len(a.Versions) < len(b.Versions)
		}
		return a.Versions[0] < b.Versions[0]
	})
}
