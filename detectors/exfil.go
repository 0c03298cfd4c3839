package detectors

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// ExfilConfig configures exfiltration detection. The zero value means the
// defaults.
type ExfilConfig struct {
	// Internal decides inside and outside (--internal, default
	// DefaultInternal()).
	Internal []netip.Prefix
	// Bytes is the outbound volume (scaled estimate) of one internal host to
	// one external host over the range that makes a finding (--bytes,
	// default 100,000,000 as the seed).
	Bytes uint64
	// History is how far back before each day the history rule looks
	// (--history, default 14 days), in whole days: before the range, the
	// records fed with AddHistory; in it, its own earlier days.
	History time.Duration
	// MinOutInRatio: a pair whose outbound bytes are less than this many
	// times its inbound bytes is a two-way exchange (a call, a VPN, a
	// sync), listed as KindTwoWay rather than exfiltration (default 1.5).
	MinOutInRatio float64
	// MinHistoryDays: with fewer days of history in the store the rule
	// says "insufficient history" (default 7).
	MinHistoryDays int
	// MADFactor: a day is anomalous above median + MADFactor·MAD of the
	// host's previous days (default 6).
	MADFactor float64
	// HistoryMinBytes is a floor under the history rule: a day below it is
	// never anomalous, so a host whose history is all zeros (MAD 0) is not
	// flagged for a few kilobytes (default 10,000,000).
	HistoryMinBytes uint64
	// From and To are the range (unix ns). From anchors the days of the
	// history rule: day k of the range is [From+k·24h, From+(k+1)·24h) and
	// history day i is the i-th 24 h before From. Without From the history
	// rule is not evaluated.
	From, To int64
	// Starts are spans [first, last] of record starts in the store (unix
	// ns; the command line reads them from its segment manifests): a day of
	// the history rule has records when a span reaches into it, whatever
	// the records fed. A filter narrows the records, not the days: a host
	// that sent nothing on a day the store has records sent 0 that day,
	// filtered or not. The days with a record fed count too.
	Starts [][2]int64
	// Conn joins records into connections (standalone use only).
	Conn ConnConfig
}

// Exfiltration defaults.
const (
	DefaultExfilBytes      = 100_000_000
	DefaultMinOutInRatio   = 1.5
	DefaultHistory         = 14 * 24 * time.Hour
	DefaultMinHistoryDays  = 7
	DefaultMADFactor       = 6
	DefaultHistoryMinBytes = 10_000_000
)

const day = int64(24 * time.Hour)

func (c ExfilConfig) withDefaults() ExfilConfig {
	if len(c.Internal) == 0 {
		c.Internal = DefaultInternal()
	}
	if c.Bytes == 0 {
		c.Bytes = DefaultExfilBytes
	}
	if c.MinOutInRatio <= 0 {
		c.MinOutInRatio = DefaultMinOutInRatio
	}
	if c.History <= 0 {
		c.History = DefaultHistory
	}
	c.History = max(c.History.Truncate(24*time.Hour), 24*time.Hour)
	if c.MinHistoryDays <= 0 {
		c.MinHistoryDays = DefaultMinHistoryDays
	}
	if c.MADFactor <= 0 {
		c.MADFactor = DefaultMADFactor
	}
	if c.HistoryMinBytes == 0 {
		c.HistoryMinBytes = DefaultHistoryMinBytes
	}
	c.Conn = c.Conn.withDefaults()
	return c
}

// Kinds of exfiltration findings.
const (
	// KindExfiltration: an internal host sent at least Bytes to one external
	// host, mostly on connections it opened.
	KindExfiltration = "exfiltration"
	// KindServerResponse: the same volume, but mostly answers on
	// connections the external host opened (an internal server serving
	// external clients); not exfiltration.
	KindServerResponse = "server-response"
	// KindTwoWay: the same volume, mostly on connections the internal host
	// opened, but with about as much coming back (out/in below
	// MinOutInRatio); not exfiltration.
	KindTwoWay = "two-way"
	// KindVolumeAnomaly: a host's outbound volume on one day of the range
	// above median + MADFactor·MAD of its own history.
	KindVolumeAnomaly = "volume-anomaly"
)

// Indicators of the newer kinds.
const (
	IndicatorServerResponse = "High-volume server response to external clients (not exfiltration)"
	IndicatorVolumeAnomaly  = "Daily outbound volume above the host's own history"
	IndicatorTwoWay         = "High-volume two-way exchange (call, VPN, sync), not exfiltration"
)

// ExfilFinding is outbound volume from an internal host (Source) to an
// external one (Destination; absent for volume anomalies). Bytes are
// "outbound": forward bytes of internal->external records plus reverse
// bytes of external->internal records. source, destination, total_bytes,
// total_mb, severity and indicator are the seed's keys.
type ExfilFinding struct {
	Source      netip.Addr `json:"source"`
	Destination netip.Addr `json:"destination,omitzero"`
	// TotalBytes is the scaled outbound estimate compared to the threshold.
	TotalBytes  uint64    `json:"total_bytes"`
	TotalMB     SeedFloat `json:"total_mb"`
	Severity    string    `json:"severity"`
	Indicator   string    `json:"indicator"`
	Kind        string    `json:"kind"`
	RawOutBytes uint64    `json:"raw_out_bytes"`
	InBytes     uint64    `json:"in_bytes"` // scaled
	RawInBytes  uint64    `json:"raw_in_bytes"`
	// OutInRatio is TotalBytes / max(InBytes, 1).
	OutInRatio float64 `json:"out_in_ratio"`
	// Who opened the connections, and how much of the outbound volume went
	// over connections Source opened.
	OpenedBySource      uint64 `json:"connections_opened_by_source"`
	OpenedByDestination uint64 `json:"connections_opened_by_destination"`
	OutOnSourceOpened   uint64 `json:"out_bytes_on_source_opened"`
	Opener              string `json:"opener"` // source, destination or both
	// Score is clamp(0.5 + 0.5·log10(TotalBytes/threshold)), times the
	// share of outbound bytes on connections Source opened (exfiltration and
	// server-response findings).
	Score   float64       `json:"score"`
	History *HistoryCheck `json:"history,omitempty"`
	Evidence
}

// HistoryCheck is the history rule applied to the finding's host.
type HistoryCheck struct {
	// Status is "above", "within", "insufficient history" or
	// "not evaluated" (no range start).
	Status string `json:"status"`
	// Days of history the store had (days with any record), of HistoryDays.
	Days        int     `json:"days"`
	HistoryDays int     `json:"history_days"`
	Median      float64 `json:"median_bytes"`
	MAD         float64 `json:"mad_bytes"`
	Threshold   float64 `json:"threshold_bytes"` // max(median + factor·MAD, HistoryMinBytes)
	// DayBytes is the host's largest daily outbound volume in the range (the
	// anomalous day's, for a volume anomaly), DayStart when that day began.
	DayBytes   uint64 `json:"day_bytes"`
	DayStartNS int64  `json:"day_start_ns"`
	DayStart   string `json:"day_start"`
}

// A pair's state has two tiers, as the beacon's: most pairs of a large
// capture have one record, so a pair's first record is kept in a compact
// exfilFirst (40 bytes, plus 11 to 21 in the index); its second record
// makes it a full exfilPair (80 bytes, no pointer), to which the index
// then points, and the first is reused. A full pair is narrow while all its
// records share one origin (so one sampling interval: its scaled bytes are
// its raw bytes times that interval) and its connection counts fit 32
// bits; otherwise its scaled bytes, counts and further origins move to an
// exfilWide (48 bytes) beside it. A record whose byte counts do not
// fit 32 bits gets a full state at once. References in the index and in
// connections are as the beacon's (fullRef).

// exfilFirst is a pair's first record (host 0: unused).
type exfilFirst struct {
	host, peer uint32
	orig       uint32 // the record's origin
	out, in    uint32 // raw outbound and inbound bytes
	flags      uint8
	start, end int64
}

const (
	exfilHostOpened = 1 << iota // the host opened the record's connection
	exfilNewConn                // the record started its connection
)

// exfilPair is a pair's full state. Its evidence is the records' span,
// count and origins; its raw bytes are rawOut+rawIn.
type exfilPair struct {
	host, peer       uint32 // address ids
	orig0            uint32 // the first record's origin
	wide             uint32 // its exfilWide, index plus 1; 0: narrow
	rawOut, rawIn    uint64
	rawOutHostOpened uint64 // raw outbound on connections the host opened (narrow)
	byHost, byPeer   uint32 // connections opened (narrow)
	first, last      int64  // earliest and latest record start
	lastEnd          int64
	flows            uint64
}

// exfilWide is the rest of a pair whose records came from more than one
// origin, or opened more than 2³²-1 connections.
type exfilWide struct {
	out, in        uint64 // scaled
	outHostOpened  uint64 // scaled outbound on connections the host opened
	byHost, byPeer uint64 // connections opened
	more           uint32 // the origins beyond orig0, in origins (index plus 1)
}

// totals returns a pair's scaled bytes, connection counts and further
// origins, computed for a narrow pair.
func (e *Exfil) totals(p *exfilPair) exfilWide {
	if p.wide != 0 {
		return *e.wide.at(p.wide - 1)
	}
	samp := uint64(e.tr.origs.list[p.orig0].samp)
	return exfilWide{out: mulSat(p.rawOut, samp), in: mulSat(p.rawIn, samp), outHostOpened: mulSat(p.rawOutHostOpened, samp),
		byHost: uint64(p.byHost), byPeer: uint64(p.byPeer)}
}

// ev is the pair's evidence (w its totals).
func (p *exfilPair) ev(w *exfilWide, ol originLists) evAcc {
	e := evAcc{first: p.first, lastStart: p.last, lastEnd: p.lastEnd, flows: p.flows, raw: addSat(p.rawOut, p.rawIn),
		scaled: addSat(w.out, w.in), has: true, hasOrigin: true, orig0: p.orig0}
	if w.more != 0 {
		e.more = ol[w.more-1]
	}
	return e
}

// record counts one record of the pair: start, end, origin, raw outbound
// and inbound bytes, sampling interval, whether the host opened its
// connection and whether it started it.
func (e *Exfil) record(p *exfilPair, start, end int64, orig uint32, out, in, samp uint64, hostOpened, isNew bool) {
	if p.flows == 0 {
		p.first, p.last, p.lastEnd, p.orig0 = start, start, end, orig
	} else {
		p.first = min(p.first, start)
		p.last = max(p.last, start)
		p.lastEnd = max(p.lastEnd, end)
	}
	if p.wide == 0 && (orig != p.orig0 || isNew && max(p.byHost, p.byPeer) == math.MaxUint32) {
		p.wide = e.wide.add(e.totals(p)) + 1
	}
	p.flows++
	p.rawOut = addSat(p.rawOut, out)
	p.rawIn = addSat(p.rawIn, in)
	if p.wide == 0 {
		if hostOpened {
			p.rawOutHostOpened = addSat(p.rawOutHostOpened, out)
			if isNew {
				p.byHost++
			}
		} else if isNew {
			p.byPeer++
		}
		return
	}
	w := e.wide.at(p.wide - 1)
	w.out = addSat(w.out, mulSat(out, samp))
	w.in = addSat(w.in, mulSat(in, samp))
	if hostOpened {
		w.outHostOpened = addSat(w.outHostOpened, mulSat(out, samp))
		if isNew {
			w.byHost++
		}
	} else if isNew {
		w.byPeer++
	}
	if orig != p.orig0 {
		fl := uint8(evHas | evHasOrigin)
		noteOrigin(orig, &p.orig0, &w.more, &e.origins, &fl)
	}
}

type exfilHost struct {
	addr uint32
	hist []uint64  // outbound per history day; 0 is the day just before From
	days []hostDay // outbound of the range days with records, by day
}

// hostDay is a host's outbound on range day k (days since the anchor). A
// host keeps only its days with records: a range of decades (flows dated
// 1970 by an exporter whose clock was never set, beside this year's) must
// not cost every host an entry per day between.
type hostDay struct {
	k      int64
	out    uint64 // outbound, scaled
	opened uint64 // of it, over connections the host opened
	// matched is what came back over the host's external connections as
	// much as went out (each connection's lesser direction), scaled.
	matched uint64
	ev      evAcc
}

// Exfil detects direction-aware exfiltration. Feed history (the records of
// the History before From) with AddHistory, then the range with Add, both
// in start order; then read Findings and Warnings.
type Exfil struct {
	cfg       ExfilConfig
	nets      nets
	tr        *tracker // shared inside a Suite, which feeds add directly
	index     refIndex
	first     chunked[exfilFirst]
	freeFirst []uint32 // first records reused after promotion
	full      chunked[exfilPair]
	wide      chunked[exfilWide]
	origins   originLists
	hostOf    []int32 // address id -> hslab index + 1 (0: none)
	hslab     []exfilHost
	inside    []uint8 // address id -> 0 not yet known, 1 external, 2 internal

	histSeen                          []bool
	histDays                          int
	rangeSeen                         []int64 // range days with any record, ascending
	flows                             uint64
	anchor                            int64
	sawInternal, sawV6, sawV6Internal bool

	sync    func() // brings every record in (a Suite's batch); nil standalone
	touched uint64 // keeps touch's loads alive
}

// NewExfil returns an exfiltration detector.
func NewExfil(cfg ExfilConfig) *Exfil {
	e := newExfil(cfg)
	e.tr = newTracker(e.cfg.Conn)
	return e
}

func newExfil(cfg ExfilConfig) *Exfil {
	cfg = cfg.withDefaults()
	n := int(cfg.History / (24 * time.Hour))
	e := &Exfil{cfg: cfg, nets: newNets(cfg.Internal), histSeen: make([]bool, n), histDays: n, anchor: cfg.From}
	e.index.init()
	if cfg.From != 0 {
		for _, sp := range cfg.Starts {
			e.noteStarts(sp[0], sp[1])
		}
	}
	return e
}

// noteStarts notes the history and range days that records starting in
// [lo, hi] fall on (ExfilConfig.Starts).
func (e *Exfil) noteStarts(lo, hi int64) {
	from := e.cfg.From
	if a, b := max(lo, from-int64(e.histDays)*day), min(hi, from-1); a <= b {
		for i := (from - 1 - b) / day; i <= (from-1-a)/day && i < int64(e.histDays); i++ {
			e.histSeen[i] = true
		}
	}
	a, b := max(lo, from), hi
	if e.cfg.To > from {
		b = min(b, e.cfg.To-1)
	}
	for k := e.dayOf(a); a <= b && k <= e.dayOf(b); k++ {
		e.noteDay(k)
	}
}

// Add feeds one record of the range; records must come in non-decreasing
// Start order.
func (e *Exfil) Add(r *flow.Record) { e.add(r, e.tr.add(r)) }

// side returns the internal host, the external peer (address ids),
// outbound and inbound raw bytes and whether the host is r's source; ok is
// false unless exactly one side is internal.
func side(r *flow.Record, s, d uint32, sIn, dIn bool) (host, peer uint32, out, in uint64, hostIsSrc, ok bool) {
	switch {
	case sIn && !dIn:
		return s, d, r.Bytes, r.RevBytes, true, true
	case dIn && !sIn:
		return d, s, r.RevBytes, r.Bytes, false, true
	}
	return 0, 0, 0, 0, false, false
}

// internal reports whether the address with id a (of address addr) is
// internal, remembering the answer per id.
func (e *Exfil) internal(a uint32, addr netip.Addr) bool {
	if int(a) >= len(e.inside) {
		e.inside = append(e.inside, make([]uint8, int(a)+1-len(e.inside))...)
	}
	if e.inside[a] == 0 {
		e.inside[a] = 1
		if e.nets.contains(addr) {
			e.inside[a] = 2
		}
	}
	return e.inside[a] == 2
}

func (e *Exfil) add(r *flow.Record, v recView) {
	e.flows++
	if e.anchor == 0 {
		e.anchor = r.Start
	}
	if k := e.dayOf(r.Start); len(e.rangeSeen) == 0 || e.rangeSeen[len(e.rangeSeen)-1] != k {
		e.noteDay(k)
	}
	sIn, dIn := e.internal(v.src, r.SrcAddr), e.internal(v.dst, r.DstAddr)
	e.noteFamilies(r, sIn, dIn)
	host, peer, out, in, hostIsSrc, ok := side(r, v.src, v.dst, sIn, dIn)
	if !ok {
		return
	}
	samp := r.Sampling()
	hostOpened := hostIsSrc == v.srcOpened
	if c := v.conn; c != nil && c.undecided {
		// Who opened it is unknown (its two directions started at the
		// same time, with ports and flags alike): the order of two records
		// of one timestamp must not turn an upload into an answer, so the
		// host counts as the opener, for its first record too.
		if v.tied && !hostOpened {
			e.reopen(c, host, peer, r.Bytes)
		}
		hostOpened = true
	}
	// What came back over the same connection as much as went out: a
	// two-way exchange's, not a download's from another peer the same day.
	var matched uint64
	if c := v.conn; c != nil {
		if m := min(c.fwdBytes, c.revBytes); m > c.exfilMatched {
			matched, c.exfilMatched = mulSat(m-c.exfilMatched, samp), m
		}
	}
	ref, slot, found := e.pairOf(v.conn, host, peer)
	if !found {
		if out <= math.MaxUint32 && in <= math.MaxUint32 {
			f := exfilFirst{host: host, peer: peer, orig: v.orig, out: uint32(out), in: uint32(in), start: r.Start, end: r.End}
			if hostOpened {
				f.flags |= exfilHostOpened
			}
			if v.isNew {
				f.flags |= exfilNewConn
			}
			ref = e.addFirst(f)
		} else {
			ref = e.full.add(exfilPair{host: host, peer: peer}) | fullRef
		}
		e.index.insert(slot, pairHash(host, peer), ref)
		if v.conn != nil {
			v.conn.exfilPair = ref
		}
		if ref&fullRef == 0 {
			e.addDay(e.host(host), r, v.orig, mulSat(out, samp), matched, hostOpened)
			return
		}
	} else if ref&fullRef == 0 {
		if slot < 0 {
			slot = e.slotOf(host, peer)
		}
		ref = e.promote(ref - 1)
		e.index.set(slot, ref)
		if v.conn != nil {
			v.conn.exfilPair = ref
		}
	}
	e.record(e.full.at(ref&^fullRef), r.Start, r.End, v.orig, out, in, samp, hostOpened, v.isNew)
	e.addDay(e.host(host), r, v.orig, mulSat(out, samp), matched, hostOpened)
}

// reopen counts the first record of connection c, already counted as
// opened by peer, as opened by host (c's responder, which sent rev bytes
// of c, the last of them in this record's bytes).
func (e *Exfil) reopen(c *conn, host, peer uint32, last uint64) {
	ref, _, found := e.pairOf(c, host, peer)
	if !found {
		return
	}
	out := c.revBytes - min(c.revBytes, last) // the first record's outbound, raw
	o := &e.tr.origs.list[c.origin[0]]
	samp := uint64(max(o.samp, 1))
	if ref&fullRef == 0 {
		e.first.at(ref - 1).flags |= exfilHostOpened
	} else if p := e.full.at(ref &^ fullRef); p.wide == 0 {
		p.rawOutHostOpened = addSat(p.rawOutHostOpened, out)
		p.byHost++
		p.byPeer -= min(p.byPeer, 1)
	} else {
		w := e.wide.at(p.wide - 1)
		w.outHostOpened = addSat(w.outHostOpened, mulSat(out, samp))
		w.byHost++
		w.byPeer -= min(w.byPeer, 1)
	}
	if hi := e.hostOf[host]; hi > 0 {
		d := e.hslab[hi-1].day(e.dayOf(c.start))
		d.opened = min(addSat(d.opened, mulSat(out, samp)), d.out)
	}
}

func (e *Exfil) addFirst(f exfilFirst) uint32 {
	if n := len(e.freeFirst); n > 0 {
		i := e.freeFirst[n-1]
		e.freeFirst = e.freeFirst[:n-1]
		*e.first.at(i) = f
		return i + 1
	}
	return e.first.add(f) + 1
}

// promote turns the first record i into a full state, frees it and
// returns the full state's reference.
func (e *Exfil) promote(i uint32) uint32 {
	f := e.first.at(i)
	p := e.pairState(f)
	*f = exfilFirst{}
	e.freeFirst = append(e.freeFirst, i)
	return e.full.add(p) | fullRef
}

// pairState is the full state of a pair whose only record is f.
func (e *Exfil) pairState(f *exfilFirst) exfilPair {
	p := exfilPair{host: f.host, peer: f.peer}
	e.record(&p, f.start, f.end, f.orig, uint64(f.out), uint64(f.in), uint64(e.tr.origs.list[f.orig].samp),
		f.flags&exfilHostOpened != 0, f.flags&exfilNewConn != 0)
	return p
}

// plan returns the hash and host of the pair of r (addresses with ids s
// and d), host 0 when it has none (see Suite.Add).
func (e *Exfil) plan(r *flow.Record, s, d uint32) (uint64, uint32) {
	host, peer, _, _, _, ok := side(r, s, d, e.internal(s, r.SrcAddr), e.internal(d, r.DstAddr))
	if !ok {
		return 0, 0
	}
	return pairHash(host, peer), host
}

// prefetch touches the state a batch of records will need, in loops of
// independent loads so that many cache misses are in flight at once:
// first the index slots of their pairs, then the states those slots
// (likely) point to and the hosts' days.
func (e *Exfil) prefetch(ids []recIDs, recs []flow.Record) {
	var sum uint64
	slots, shift := e.index.slots, e.index.shift
	for i := range recs {
		if ids[i].host != 0 {
			sum += slots[ids[i].hash>>shift]
		}
	}
	for i := range recs {
		if ids[i].host == 0 {
			continue
		}
		// A state spans two or three cache lines: load its first and last
		// words, so the misses of all its lines overlap too.
		switch ref := e.index.guess(ids[i].hash); {
		case ref&fullRef != 0:
			p := e.full.at(ref &^ fullRef)
			sum += uint64(p.host) + p.flows
		case ref != 0:
			f := e.first.at(ref - 1)
			sum += uint64(f.host) + uint64(f.end)
		}
		if host := ids[i].host; int(host) < len(e.hostOf) && e.hostOf[host] > 0 && e.anchor != 0 && recs[i].Start > e.anchor {
			if h := &e.hslab[e.hostOf[host]-1]; len(h.days) > 0 {
				sum += h.days[len(h.days)-1].out // the day records in start order update
			}
		}
	}
	e.touched += sum
}

func (e *Exfil) doSync() {
	if e.sync != nil {
		e.sync()
	}
}

func is6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }

func (e *Exfil) noteFamilies(r *flow.Record, sIn, dIn bool) {
	e.sawInternal = e.sawInternal || sIn || dIn
	if s6, d6 := is6(r.SrcAddr), is6(r.DstAddr); s6 || d6 {
		e.sawV6 = true
		e.sawV6Internal = e.sawV6Internal || s6 && sIn || d6 && dIn
	}
}

func pairHash(host, peer uint32) uint64 {
	return mix(uint64(host)<<32|uint64(peer), 0x5851f42d4c957f2d)
}

// pairOf returns the reference of (host, peer), remembered in the record's
// connection so its further records skip the index (slot is then -1), and
// whether the pair is known; when it is not, slot is where it goes.
func (e *Exfil) pairOf(c *conn, host, peer uint32) (uint32, int, bool) {
	if c != nil && c.exfilPair != 0 && e.holds(c.exfilPair, host, peer) {
		return c.exfilPair, -1, true
	}
	ref, slot, ok := e.index.find(pairHash(host, peer), func(ref uint32) bool { return e.holds(ref, host, peer) })
	if ok && c != nil {
		c.exfilPair = ref
	}
	return ref, slot, ok
}

// holds reports whether ref is the state of (host, peer): a connection's
// reference may be stale, its first record promoted and reused.
func (e *Exfil) holds(ref, host, peer uint32) bool {
	if ref&fullRef != 0 {
		p := e.full.at(ref &^ fullRef)
		return p.host == host && p.peer == peer
	}
	f := e.first.at(ref - 1)
	return f.host == host && f.peer == peer
}

// slotOf returns the index slot of a known pair.
func (e *Exfil) slotOf(host, peer uint32) int {
	_, slot, _ := e.index.find(pairHash(host, peer), func(ref uint32) bool { return e.holds(ref, host, peer) })
	return slot
}

func (e *Exfil) host(a uint32) int32 {
	if int(a) >= len(e.hostOf) {
		e.hostOf = append(e.hostOf, make([]int32, int(a)+1-len(e.hostOf))...)
	}
	if e.hostOf[a] == 0 {
		e.hslab = append(e.hslab, exfilHost{addr: a})
		e.hostOf[a] = int32(len(e.hslab))
	}
	return e.hostOf[a] - 1
}

// dayOf is the range day of a start time: days since the anchor, 0 for
// flows that began before it.
func (e *Exfil) dayOf(start int64) int64 {
	if start <= e.anchor {
		return 0
	}
	return (start - e.anchor) / day
}

// noteDay records that range day k has records (in order; out of order
// in its place).
func (e *Exfil) noteDay(k int64) {
	i, found := slices.BinarySearch(e.rangeSeen, k)
	if !found {
		e.rangeSeen = slices.Insert(e.rangeSeen, i, k)
	}
}

func (e *Exfil) addDay(hi int32, r *flow.Record, orig uint32, out, matched uint64, hostOpened bool) {
	h := &e.hslab[hi]
	d := h.day(e.dayOf(r.Start))
	d.out = addSat(d.out, out)
	d.matched = addSat(d.matched, matched)
	if hostOpened {
		d.opened = addSat(d.opened, out)
	}
	// Every record the finding's query lists (the host's flows with
	// external peers), those it only received by too: the evidence's
	// count is the query's.
	raw := addSat(r.Bytes, r.RevBytes)
	d.ev.add(r.Start, r.End, orig, raw, mulSat(raw, r.Sampling()))
}

// day returns the host's entry for range day k, added if new: at the end
// for records in start order, else in its place.
func (h *exfilHost) day(k int64) *hostDay {
	n := len(h.days)
	if n > 0 && h.days[n-1].k == k {
		return &h.days[n-1]
	}
	i := n
	if n > 0 && h.days[n-1].k > k {
		i, _ = slices.BinarySearchFunc(h.days, k, func(d hostDay, k int64) int { return cmp.Compare(d.k, k) })
		if i < n && h.days[i].k == k {
			return &h.days[i]
		}
	}
	h.days = slices.Insert(h.days, i, hostDay{k: k})
	return &h.days[i]
}

// AddHistory feeds one record of the History before From (in start order,
// before the range's records). Records outside that span are ignored, as
// are all when From is 0.
func (e *Exfil) AddHistory(r *flow.Record) {
	if e.cfg.From == 0 || r.Start >= e.cfg.From {
		return
	}
	i := int((e.cfg.From - r.Start - 1) / day)
	if i >= e.histDays {
		return
	}
	e.histSeen[i] = true
	s, d := e.tr.addrs.id(r.SrcAddr), e.tr.addrs.id(r.DstAddr)
	host, _, out, _, _, ok := side(r, s, d, e.internal(s, r.SrcAddr), e.internal(d, r.DstAddr))
	if !ok || out == 0 {
		return
	}
	h := &e.hslab[e.host(host)]
	if h.hist == nil {
		h.hist = make([]uint64, e.histDays)
	}
	h.hist[i] = addSat(h.hist[i], mulSat(out, r.Sampling()))
}

// Warnings says what limits the findings: no internal endpoint at all, IPv6
// without an internal IPv6 network, too little history.
func (e *Exfil) Warnings() []string {
	e.doSync()
	var w []string
	nets := strings.Join(e.nets.strings(), ",")
	if e.flows > 0 && !e.sawInternal {
		w = append(w, fmt.Sprintf("exfil: no flow has an internal endpoint (internal networks %s): the capture may have been taken outside NAT; set --internal", nets))
	}
	if e.sawV6 && !e.sawV6Internal {
		w = append(w, fmt.Sprintf("exfil: IPv6 flows are present but none has an internal IPv6 endpoint (internal networks %s): add the site's IPv6 prefixes to --internal", nets))
	}
	if st, days := e.historyStatus(); st != "" {
		w = append(w, fmt.Sprintf("exfil: history rule not applied: %s (%d of %d days, need %d)", st, days, e.histDays, e.cfg.MinHistoryDays))
	}
	return w
}

// historyStatus returns "" when the history rule can be applied, with the
// number of days of history.
func (e *Exfil) historyStatus() (string, int) {
	n := e.seenBefore(0)
	for _, k := range e.rangeSeen {
		n = max(n, e.seenBefore(k))
	}
	switch {
	case e.cfg.From == 0:
		return "not evaluated", n
	case n < e.cfg.MinHistoryDays:
		return "insufficient history", n
	}
	return "", n
}

// The history of range day k is the History before it: the days before
// the range (histSeen, fed by AddHistory) and the range's own earlier days,
// those on which the store has any record, each with the host's outbound
// (0 when it sent nothing). Day 0's is the days before the range alone, so
// a report of one day is judged as before; a report of a month judges each
// day against the fortnight before it.

// seenBefore counts the days with records in range day k's history.
func (e *Exfil) seenBefore(k int64) int {
	n := 0
	for j := int64(1); j <= int64(e.histDays); j++ {
		if d := k - j; d >= 0 {
			if _, ok := slices.BinarySearch(e.rangeSeen, d); ok {
				n++
			}
		} else if e.histSeen[-d-1] {
			n++
		}
	}
	return n
}

// history returns the host's outbound on each day with records in range
// day k's history.
func (e *Exfil) history(h *exfilHost, k int64, vals []float64) []float64 {
	vals = vals[:0]
	for j := int64(1); j <= int64(e.histDays); j++ {
		d := k - j
		if d < 0 {
			if i := -d - 1; e.histSeen[i] {
				v := 0.0
				if h.hist != nil {
					v = float64(h.hist[i])
				}
				vals = append(vals, v)
			}
			continue
		}
		if _, ok := slices.BinarySearch(e.rangeSeen, d); !ok {
			continue
		}
		v := 0.0
		if i, ok := slices.BinarySearchFunc(h.days, d, func(x hostDay, d int64) int { return cmp.Compare(x.k, d) }); ok {
			v = float64(h.days[i].out)
		}
		vals = append(vals, v)
	}
	return vals
}

// judge applies the history rule to the host's outbound on range day k:
// the statistics of its history and whether out is above them.
func (e *Exfil) judge(h *exfilHost, k int64, out uint64, scratch []float64) (HistoryCheck, []float64) {
	hc := HistoryCheck{HistoryDays: e.histDays, DayBytes: out, DayStartNS: e.anchor + k*day}
	hc.DayStart = FormatTime(hc.DayStartNS)
	vals := e.history(h, k, nil)
	hc.Days = len(vals)
	if hc.Days < e.cfg.MinHistoryDays {
		hc.Status = "insufficient history"
		return hc, scratch
	}
	var d robust
	d, scratch = describe(vals, scratch)
	hc.Median, hc.MAD = d.Median, d.MAD
	hc.Threshold = max(d.Median+e.cfg.MADFactor*d.MAD, float64(e.cfg.HistoryMinBytes))
	hc.Status = "within"
	if float64(out) > hc.Threshold {
		hc.Status = "above"
	}
	return hc, scratch
}

// check applies the history rule to a host's largest range day (the first
// of equal ones), for its pair findings.
func (e *Exfil) check(h *exfilHost, scratch []float64) (HistoryCheck, []float64) {
	best := -1
	for i, d := range h.days {
		if best < 0 || d.out > h.days[best].out {
			best = i
		}
	}
	if st, n := e.historyStatus(); st == "not evaluated" || best < 0 {
		hc := HistoryCheck{Status: cmp.Or(st, "insufficient history"), Days: n, HistoryDays: e.histDays}
		if best >= 0 {
			hc.DayBytes, hc.DayStartNS = h.days[best].out, e.anchor+h.days[best].k*day
			hc.DayStart = FormatTime(hc.DayStartNS)
		}
		return hc, scratch
	}
	return e.judge(h, h.days[best].k, h.days[best].out, scratch)
}

// Findings returns pairs at or above Bytes (exfiltration or
// server-response) and daily volume anomalies, by total_bytes descending,
// then source, destination, first seen.
func (e *Exfil) Findings() []ExfilFinding {
	e.doSync()
	checks := make(map[int32]HistoryCheck)
	var scratch []float64
	histFor := func(hi int32) HistoryCheck {
		hc, ok := checks[hi]
		if !ok {
			hc, scratch = e.check(&e.hslab[hi], scratch)
			checks[hi] = hc
		}
		return hc
	}
	var out []ExfilFinding
	e.first.each(func(_ uint32, f *exfilFirst) {
		if f.host != 0 && uint64(f.out)*uint64(e.tr.origs.list[f.orig].samp) >= e.cfg.Bytes {
			p := e.pairState(f)
			out = append(out, e.pairFinding(&p, histFor(e.hostOf[p.host]-1)))
		}
	})
	e.full.each(func(_ uint32, p *exfilPair) {
		if p.wide != 0 && e.wide.at(p.wide-1).out >= e.cfg.Bytes ||
			p.wide == 0 && mulSat(p.rawOut, uint64(e.tr.origs.list[p.orig0].samp)) >= e.cfg.Bytes {
			out = append(out, e.pairFinding(p, histFor(e.hostOf[p.host]-1)))
		}
	})
	if st, _ := e.historyStatus(); st == "" {
		for hi := range e.hslab {
			var found []ExfilFinding
			found, scratch = e.anomalies(&e.hslab[hi], scratch)
			out = append(out, found...)
		}
	}
	slices.SortFunc(out, func(a, b ExfilFinding) int {
		return cmp.Or(cmp.Compare(b.TotalBytes, a.TotalBytes), a.Source.Compare(b.Source),
			a.Destination.Compare(b.Destination), cmp.Compare(a.FirstSeenNS, b.FirstSeenNS))
	})
	return out
}

func (e *Exfil) pairFinding(p *exfilPair, hc HistoryCheck) ExfilFinding {
	w := e.totals(p)
	f := ExfilFinding{
		Source: e.tr.addrs.addr(p.host), Destination: e.tr.addrs.addr(p.peer), TotalBytes: w.out, TotalMB: SeedFloat(mb(w.out)),
		Kind: KindExfiltration, Severity: "critical", Indicator: IndicatorExfil,
		RawOutBytes: p.rawOut, InBytes: w.in, RawInBytes: p.rawIn,
		OutInRatio:     round(float64(w.out) / float64(max(w.in, 1))),
		OpenedBySource: w.byHost, OpenedByDestination: w.byPeer, OutOnSourceOpened: w.outHostOpened,
		Opener: opener(w.byHost, w.byPeer), History: &hc,
	}
	hostShare := share(w.outHostOpened, w.out)
	switch {
	case hostShare < 0.5:
		f.Kind, f.Severity, f.Indicator = KindServerResponse, "info", IndicatorServerResponse
	case float64(w.out) < e.cfg.MinOutInRatio*float64(w.in):
		f.Kind, f.Severity, f.Indicator = KindTwoWay, "info", IndicatorTwoWay
	}
	f.Score = round(volumeScore(w.out, float64(e.cfg.Bytes)) * hostShare)
	ev := p.ev(&w, e.origins)
	f.Evidence = ev.evidence(pairFilter(f.Source, f.Destination), e.tr.origs)
	return f
}

// anomalies returns the range days of h above the history rule's
// threshold, each judged against its own history, whose outbound went
// mostly over connections h opened and was not matched by as much coming
// back.
func (e *Exfil) anomalies(h *exfilHost, scratch []float64) ([]ExfilFinding, []float64) {
	var out []ExfilFinding
	for _, d := range h.days {
		if d.out <= e.cfg.HistoryMinBytes {
			continue // never above the floor: no need to look at its history
		}
		if d.out-d.opened > d.opened || float64(d.out) < e.cfg.MinOutInRatio*float64(d.matched) {
			// Mostly answers to external clients (a server's day), or as
			// much came back over the same connections (a call): as a
			// pair of such a day would be server-response or two-way, not
			// an alert. A download from another peer the same day does
			// not count: it hid an upload spread over many peers.
			continue
		}
		var dc HistoryCheck
		dc, scratch = e.judge(h, d.k, d.out, scratch)
		if dc.Status != "above" {
			continue
		}
		addr := e.tr.addrs.addr(h.addr)
		filter := e.outboundFilter(addr)
		ev := d.ev.evidence(filter, e.tr.origs)
		// The day's records are counted by start: up to the last start,
		// not the last end, or an upload running past midnight brings the
		// next day's flows into the query.
		ev.Query, ev.QueryTo = FlowsQuery(d.ev.first, d.ev.lastStart, filter), d.ev.lastStart+1
		out = append(out, ExfilFinding{
			Source: addr, TotalBytes: d.out, TotalMB: SeedFloat(mb(d.out)),
			Kind: KindVolumeAnomaly, Severity: "high", Indicator: IndicatorVolumeAnomaly,
			Opener: "", Score: round(volumeScore(d.out, dc.Threshold)), History: &dc,
			Evidence: ev,
		})
	}
	return out, scratch
}

// outboundFilter lists a host's flows with an external peer.
func (e *Exfil) outboundFilter(h netip.Addr) string {
	var src, dst []string
	for _, n := range e.nets.strings() {
		src = append(src, "src net "+n)
		dst = append(dst, "dst net "+n)
	}
	return fmt.Sprintf("(src ip %s and not (%s)) or (dst ip %s and not (%s))",
		h, strings.Join(dst, " or "), h, strings.Join(src, " or "))
}

func opener(byHost, byPeer uint64) string {
	switch {
	case byHost > 0 && byPeer > 0:
		return "both"
	case byPeer > 0:
		return "destination"
	}
	return "source"
}

func mb(b uint64) float64 { return math.Round(float64(b)/100_000) / 10 }

// volumeScore is 0.5 at the threshold and 1 at ten times it.
func volumeScore(v uint64, threshold float64) float64 {
	if threshold <= 0 {
		return 1
	}
	return clamp01(0.5 + 0.5*math.Log10(float64(v)/threshold))
}
