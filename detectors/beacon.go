package detectors

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// BeaconConfig configures beaconing detection. The zero value means the
// defaults.
type BeaconConfig struct {
	// MinConnections per (source, destination, destination port, protocol)
	// (--min-connections, default 10).
	MinConnections int
	// Threshold is the score at or above which a candidate is a finding
	// (0: DefaultBeaconThreshold, chosen by measurement: see doc.go; a
	// negative threshold reports every candidate).
	Threshold float64
	// MaxIntervals caps the connection start times kept per candidate: the
	// statistics use the first MaxIntervals intervals and sizes (default
	// 4096, 2 to 10 bytes each as varints: at most 40 KiB per (source,
	// destination, port)); the count, span and mean interval stay exact.
	MaxIntervals int
	// MinInterval: a median interval below it is a burst, not a beacon
	// (default 1s).
	MinInterval time.Duration
	// BeatGap: connections that start within it of the one before belong
	// to one beat, scored besides the connections (see Findings; default
	// 5s); when those beats do not qualify, the beats at 2/5 of it are.
	BeatGap time.Duration
	// MaxMedianBytes: a candidate whose connections (or beats) carry more
	// than this at the median is a scheduled transfer (a nightly backup, a
	// sync), not a beacon's check-in (default 10,000,000).
	MaxMedianBytes uint64
	// From and To are the range (unix ns) whose coverage is measured;
	// without them, the span from the first to the last record seen.
	From, To int64
	// Observed, when set, is the range less its silences, stretches of
	// more than SilenceGap without a single flow in the case, whatever the
	// filter (From and To less index.Store.Silent). Without it, the
	// silences are those of the records the detector sees, so a filter
	// narrowing them to one host would measure that host's beacons over
	// its own active time alone.
	Observed int64
	// Exclude lists services that are periodic by design and never
	// reported. nil means DefaultBeaconExclude (NTP); an empty slice
	// excludes nothing.
	Exclude []Service
	// Conn joins records into connections (standalone use only).
	Conn ConnConfig
}

// Service is a destination port of a protocol.
type Service struct {
	Proto uint8  `json:"proto"`
	Port  uint16 `json:"port"`
}

// Beacon defaults. DefaultBeaconThreshold was chosen by measurement on
// generated data (doc.go, TestBeaconCalibration).
const (
	DefaultBeaconMinConnections = 10
	DefaultBeaconThreshold      = 0.3
	DefaultBeaconMaxIntervals   = 4096
	DefaultBeaconMinInterval    = time.Second
	DefaultBeaconBeatGap        = 5 * time.Second
	DefaultBeaconMaxMedianBytes = 10_000_000
)

// DefaultBeaconExclude is NTP (udp/123): clients poll their servers at a
// fixed interval by design.
func DefaultBeaconExclude() []Service { return []Service{{flow.ProtoUDP, 123}} }

func (c BeaconConfig) withDefaults() BeaconConfig {
	if c.MinConnections <= 0 {
		c.MinConnections = DefaultBeaconMinConnections
	}
	c.MinConnections = max(c.MinConnections, 3)
	if c.Threshold == 0 { // a negative threshold reports every candidate
		c.Threshold = DefaultBeaconThreshold
	}
	if c.MaxIntervals <= 0 {
		c.MaxIntervals = DefaultBeaconMaxIntervals
	}
	if c.MinInterval <= 0 {
		c.MinInterval = DefaultBeaconMinInterval
	}
	if c.BeatGap <= 0 {
		c.BeatGap = DefaultBeaconBeatGap
	}
	if c.MaxMedianBytes == 0 {
		c.MaxMedianBytes = DefaultBeaconMaxMedianBytes
	}
	if c.Exclude == nil {
		c.Exclude = DefaultBeaconExclude()
	}
	c.Conn = c.Conn.withDefaults()
	return c
}

// BeaconFinding is a (source, destination, port) whose connections start
// at regular intervals. source, destination, port, connection_count,
// mean_interval (seconds), jitter_ratio, severity and indicator are the
// seed's keys; jitter_ratio is now the robust MAD/median of the intervals
// (the seed's std/mean is dominated by a single long pause).
type BeaconFinding struct {
	Source          netip.Addr `json:"source"`
	Destination     netip.Addr `json:"destination"`
	Port            uint16     `json:"port"`
	ConnectionCount uint64     `json:"connection_count"`
	// MeanInterval is (last start - first start)/(count-1), in seconds.
	MeanInterval SeedFloat `json:"mean_interval"`
	JitterRatio  SeedFloat `json:"jitter_ratio"`
	Severity     string    `json:"severity"`
	Indicator    string    `json:"indicator"`
	Proto        string    `json:"proto"`
	// Interval statistics, in seconds.
	MedianInterval float64 `json:"median_interval"`
	MADInterval    float64 `json:"mad_interval"`
	BowleySkew     float64 `json:"bowley_skew"`
	// Size statistics over bytes per connection (both directions, raw).
	MedianBytes float64 `json:"median_bytes"`
	MADBytes    float64 `json:"mad_bytes"`
	SizeBowley  float64 `json:"size_bowley_skew"`
	// Coverage is (count-1)·median interval / window length, at most 1:
	// the share of the window the connections cover. The window is the
	// range's observed time (at most a week for 50 intervals or more), or
	// for a candidate still running at the range's end, the time from its
	// first connection to the end, at least three days.
	Coverage           float64     `json:"coverage"`
	Score              float64     `json:"score"`
	Parts              BeaconParts `json:"parts"`
	IntervalsEvaluated int         `json:"intervals_evaluated"`
	// Beats is the number of beats the statistics are of, when they are of
	// beats (connections within BeatGap of the one before joined: see
	// Findings) rather than of connections; then the intervals are between
	// beats and the sizes those of beats.
	Beats uint64 `json:"beats,omitempty"`
	Evidence
}

// BeaconParts are the parts of the score, each in [0,1].
type BeaconParts struct {
	// Interval is 1 - min(1, (jitter_ratio + BeaconSmallSample/sqrt(n))
	// / BeaconJitterScale) over n intervals: 1 for intervals that do not
	// vary, 0 once the MAD reaches half the median. The small-sample term
	// (about one standard error of the ratio for random starts) keeps a
	// pair with a dozen connections at random times from looking regular
	// by chance.
	Interval float64 `json:"interval"`
	// Skew is 1 - |Bowley skew of the intervals| (bowley_skew), the skew
	// taken as 0 when a quartile is the median.
	Skew float64 `json:"skew"`
	// Size is the mean of 1 - |Bowley skew of the sizes| and
	// 1 - min(1, (MAD/median of the sizes)/BeaconSizeScale).
	Size float64 `json:"size"`
	// Coverage is 1 + log10(coverage)/BeaconCoverageDecades, within
	// [0,1]: 1 when the connections cover the whole window, 0.33 at a
	// tenth, 0 at 1/31.6 of it (5.3 hours of a week).
	Coverage float64 `json:"coverage"`
}

// Score constants, chosen by measurement (doc.go, TestBeaconCalibration).
// The score is Interval · sqrt(Coverage) · (1/2 + Skew/4 + Size/4):
// regular intervals and a lasting presence are both necessary (random
// intervals score 0 on Interval, short scripted bursts 0 on Coverage),
// skew and size regularity add confidence.
const (
	BeaconJitterScale     = 0.5
	BeaconSmallSample     = 0.5
	BeaconSizeScale       = 0.5
	BeaconCoverageDecades = 1.5
)

func (p BeaconParts) score() float64 {
	return p.Interval * math.Sqrt(p.Coverage) * (0.5 + 0.25*p.Skew + 0.25*p.Size)
}

type tripleKey struct {
	pair  uint64 // source and destination address ids
	port  uint16
	proto uint8
}

// A triple's state has two tiers. Most triples of a large capture are seen
// once (a client reaching a site once in a week), and a candidate needs at
// least three connections, so a triple's first connection is kept in a
// compact beaconFirst (40 bytes, plus 11 to 21 in the index); the second
// makes it a full beaconState (80 bytes, plus its observations as varints:
// about 4.7 bytes each on generated data), to which the index then points,
// and the first is reused. A first connection that does not fit the
// compact form (two origins, a size or time span beyond 32 bits) gets a
// full state at once. A full state is narrow while every connection came
// from one origin (its scaled bytes are then its raw bytes times that
// origin's sampling interval) and its counts fit 32 bits; otherwise its
// counts, scaled bytes and further origins move to a beaconWide (32 bytes)
// beside it. No state holds a pointer: the collector never scans them.

// beaconFirst is a triple's first connection (recs 0: unused).
type beaconFirst struct {
	src, dst uint32
	port     uint16
	proto    uint8
	recs     uint8  // records of the first connection
	orig     uint32 // their origin
	raw      uint32 // bytes of the first connection (both ways, raw)
	dLast    uint32 // ns from its start to its last record's start
	start    int64
	end      int64
}

// References in the index: a first connection's index plus 1, or a full
// state's index with fullRef set.
const fullRef = 1 << 31

type beaconState struct {
	src, dst uint32
	size0    uint32 // bytes of the first connection
	tail     uint32 // the last chunk of observation bytes, index plus 1; 0: none yet
	port     uint16
	proto    uint8
	evFlags  uint8 // evHas, evHasOrigin
	fill     uint8 // bytes written in the tail chunk, or in inline while there is none
	inline   [obsInline]byte
	// Evidence: connections and records (narrow), first and last start,
	// last end, raw bytes (both ways), the first origin.
	count, flows              uint32
	first, lastStart, lastEnd int64
	raw                       uint64
	orig0                     uint32
	wide                      uint32 // its beaconWide, index plus 1; 0: narrow
}

// beaconWide is the rest of a state whose connections came from more than
// one origin (or none), or whose counts outgrew 32 bits.
type beaconWide struct {
	count, flows uint64 // connections, records
	scaled       uint64 // bytes times each record's sampling interval
	more         uint32 // the origins beyond orig0, in origins (index plus 1)
	past         uint32 // its beaconPast, index plus 1; 0: within MaxIntervals
}

// beaconPast counts the beats of a state past MaxIntervals, whose
// observations are no longer kept: the beats' count and span must stay
// exact, as the connections' do, or a beacon of two connections per
// check-in would be covered for its first 4,096 connections alone. A state
// gets one (and a beaconWide) when it reaches the cap: few do.
type beaconPast struct {
	beats    uint64 // beats that began past the cap
	lastBeat int64  // the start of the last of them
	fine     uint64 // beats at the fine gap (see finding) that began past the cap
	lastFine int64  // the start of the last of them
}

// conns returns the number of connections of s.
func (b *Beacon) conns(s *beaconState) uint64 {
	if s.wide != 0 {
		return b.wide.at(s.wide - 1).count
	}
	return uint64(s.count)
}

// add counts a connection of s: its first and last record start, its end,
// records, raw and scaled bytes, and origins.
func (b *Beacon) add(s *beaconState, first, lastStart, lastEnd int64, recs, raw, scaled uint64, origs []uint32) {
	if s.wide == 0 && !b.narrow(s, recs, raw, scaled, origs) {
		b.widen(s)
	}
	if s.evFlags&evHas == 0 {
		s.evFlags |= evHas
		s.first, s.lastStart, s.lastEnd = first, lastStart, lastEnd
	} else {
		s.first = min(s.first, first)
		s.lastStart = max(s.lastStart, lastStart)
		s.lastEnd = max(s.lastEnd, lastEnd)
	}
	s.raw += raw
	if s.wide == 0 {
		s.evFlags |= evHasOrigin
		s.orig0 = origs[0]
		s.count++
		s.flows += uint32(recs)
		return
	}
	w := b.wide.at(s.wide - 1)
	w.count++
	w.flows += recs
	w.scaled += scaled
	for _, o := range origs {
		noteOrigin(o, &s.orig0, &w.more, &b.origins, &s.evFlags)
	}
}

// widen moves the counts of s to a beaconWide, if they are not there yet,
// and returns it.
func (b *Beacon) widen(s *beaconState) *beaconWide {
	if s.wide == 0 {
		w := beaconWide{count: uint64(s.count), flows: uint64(s.flows)}
		if s.evFlags&evHasOrigin != 0 {
			w.scaled = s.raw * uint64(b.sampOf[s.orig0])
		}
		s.wide = b.wide.add(w) + 1
	}
	return b.wide.at(s.wide - 1)
}

// pastCap returns the beats of s past MaxIntervals, if any.
func (b *Beacon) pastCap(s *beaconState) beaconPast {
	if s.wide == 0 {
		return beaconPast{}
	}
	if w := b.wide.at(s.wide - 1); w.past != 0 {
		return *b.past.at(w.past - 1)
	}
	return beaconPast{}
}

// narrow reports whether s stays narrow with a connection of recs
// records, raw and scaled bytes from origins origs.
func (b *Beacon) narrow(s *beaconState, recs, raw, scaled uint64, origs []uint32) bool {
	if len(origs) != 1 || s.evFlags&evHasOrigin != 0 && origs[0] != s.orig0 ||
		s.count == math.MaxUint32 || uint64(s.flows)+recs > math.MaxUint32 {
		return false
	}
	return b.learnSamp(origs[0], scaled, raw)
}

// ev returns the evidence of s.
func (b *Beacon) ev(s *beaconState) evAcc {
	a := evAcc{first: s.first, lastStart: s.lastStart, lastEnd: s.lastEnd, raw: s.raw,
		has: s.evFlags&evHas != 0, hasOrigin: s.evFlags&evHasOrigin != 0, orig0: s.orig0}
	if s.wide == 0 {
		a.flows, a.scaled = uint64(s.flows), s.raw*uint64(b.sampOf[s.orig0])
		return a
	}
	w := b.wide.at(s.wide - 1)
	a.flows, a.scaled = w.flows, w.scaled
	if w.more != 0 {
		a.more = b.origins[w.more-1]
	}
	return a
}

// beaconObs is one connection after the first: the milliseconds since the
// previous start, and its bytes. A triple keeps at most MaxIntervals.
//
// A state keeps its observations losslessly compressed, as a stream of
// unsigned varints (interval, then size, per observation): its first
// obsInline bytes inline, the rest in obsChunks of obsChunkLen bytes
// linked backwards from the state's tail (only the tail is appended to;
// the chain is walked once, when the candidate is scored). Intervals and
// sizes of generated traffic take 4.6 to 4.7 bytes per observation this
// way, 5.4 with the chunks' slack, against 9.1 as fixed 8-byte pairs in
// blocks of seven.
type beaconObs struct{ ival, size uint32 }

const (
	obsInline   = 11
	obsChunkLen = 28
)

// obsChunk holds observation bytes beyond a state's inline ones.
type obsChunk struct {
	b    [obsChunkLen]byte
	prev uint32 // the previous chunk, index plus 1; 0: the first
}

func (s *beaconState) key() tripleKey { return tripleKey{pair(s.src, s.dst), s.port, s.proto} }

// Beacon detects beaconing. Feed it records in start order with Add, then
// read Findings.
type Beacon struct {
	cfg       BeaconConfig
	tr        *tracker
	sync      func() // brings every record's connections in
	index     refIndex
	first     chunked[beaconFirst]
	freeFirst []uint32 // first connections reused after promotion
	full      chunked[beaconState]
	chunks    chunked[obsChunk]
	wide      chunked[beaconWide]
	past      chunked[beaconPast]
	gap       uint32 // BeatGap in ms, as observations measure intervals
	fine      uint32 // the fine gap (beatFineShare of BeatGap), in ms
	origins   originLists
	// sampOf is the sampling interval of each origin id, learnt from the
	// connections (a compact first connection keeps its origin only).
	sampOf []uint32
	// hashes is addConns' scratch; touched keeps its loads alive.
	hashes  []uint64
	touched uint64
	// workers score the candidates of Findings on that many goroutines (a
	// Suite's choice; 0 or 1: the caller's). The findings are the same.
	workers int
}

// NewBeacon returns a beaconing detector.
func NewBeacon(cfg BeaconConfig) *Beacon {
	b := newBeacon(cfg)
	b.tr = newTracker(b.cfg.Conn)
	b.tr.sinks = append(b.tr.sinks, b)
	b.sync = b.tr.flush
	return b
}

func newBeacon(cfg BeaconConfig) *Beacon {
	b := &Beacon{cfg: cfg.withDefaults()}
	b.gap = uint32(min(b.cfg.BeatGap.Milliseconds(), math.MaxUint32))
	b.fine = uint32(uint64(b.gap) * beatFineShare / 5)
	b.index.init()
	return b
}

// Add feeds one record; records must come in non-decreasing Start order.
func (b *Beacon) Add(r *flow.Record) { b.tr.add(r) }

func (b *Beacon) addConn(c *conn) {
	if c.icmpErr || c.src == 0 || c.dst == 0 {
		return
	}
	b.addConnHash(c, tripleHash(c))
}

func tripleHash(c *conn) uint64 {
	return mix(uint64(c.src)<<32|uint64(c.dst), uint64(c.dport)<<8|uint64(c.proto))
}

// addConns adds a batch of connections, first touching the index slot of
// each so their cache misses overlap.
func (b *Beacon) addConns(cs []conn) {
	b.hashes = b.hashes[:0]
	for i := range cs {
		b.hashes = append(b.hashes, tripleHash(&cs[i]))
	}
	// Loops of independent loads, so many are in flight at once: the index
	// slots, then the states they (likely) point to.
	var sum uint64
	slots, shift := b.index.slots, b.index.shift
	for _, h := range b.hashes {
		sum += slots[h>>shift]
	}
	for _, h := range b.hashes {
		// A state spans two or three cache lines: load its first and last
		// words, so the misses of all its lines overlap too.
		switch ref := b.index.guess(h); {
		case ref&fullRef != 0:
			s := b.full.at(ref &^ fullRef)
			sum += uint64(s.src) + uint64(s.wide)
		case ref != 0:
			f := b.first.at(ref - 1)
			sum += uint64(f.src) + uint64(f.end)
		}
	}
	b.touched += sum
	for i := range cs {
		if c := &cs[i]; !c.icmpErr && c.src != 0 && c.dst != 0 {
			b.addConnHash(c, b.hashes[i])
		}
	}
}

func (b *Beacon) addConnHash(c *conn, h uint64) {
	ref, slot, ok := b.index.find(h, func(ref uint32) bool {
		if ref&fullRef != 0 {
			s := b.full.at(ref &^ fullRef)
			return s.src == c.src && s.dst == c.dst && s.port == c.dport && s.proto == c.proto
		}
		f := b.first.at(ref - 1)
		return f.src == c.src && f.dst == c.dst && f.port == c.dport && f.proto == c.proto
	})
	if !ok {
		b.index.insert(slot, h, b.addFirst(c))
		return
	}
	if ref&fullRef == 0 {
		ref = b.promote(ref - 1)
		b.index.set(slot, ref)
	}
	s := b.full.at(ref &^ fullRef)
	size := uint32(min(c.fwdBytes+c.revBytes, math.MaxUint32))
	// A connection that starts before the last record of the ones before
	// it (a parallel connection) follows them at once: 0, not a negative
	// interval wrapped to 49 days.
	ival := uint32(min(max(c.start-s.lastStart, 0)/1e6, math.MaxUint32))
	if b.conns(s)-1 < uint64(b.cfg.MaxIntervals) {
		b.putObs(s, beaconObs{ival, size})
	} else if ival >= b.fine {
		// Past the cap, only the beats are counted (see beaconPast).
		w := b.widen(s)
		if w.past == 0 {
			w.past = b.past.add(beaconPast{}) + 1
		}
		p := b.past.at(w.past - 1)
		p.fine++
		p.lastFine = c.start
		if ival >= b.gap {
			p.beats++
			p.lastBeat = c.start
		}
	}
	b.addConn1(s, c)
}

// addConn1 counts connection c of s.
func (b *Beacon) addConn1(s *beaconState, c *conn) {
	b.add(s, c.start, c.lastStart, c.end, uint64(c.records), c.fwdBytes+c.revBytes, c.scaled, c.origin[:c.nOrigin])
}

// putObs appends an observation to s.
func (b *Beacon) putObs(s *beaconState, o beaconObs) {
	var buf [2 * binary.MaxVarintLen32]byte
	n := binary.PutUvarint(buf[:], uint64(o.ival))
	n += binary.PutUvarint(buf[n:], uint64(o.size))
	p := buf[:n]
	if s.tail == 0 {
		k := copy(s.inline[s.fill:], p)
		s.fill += uint8(k)
		p = p[k:]
	}
	for len(p) > 0 {
		if s.tail == 0 || s.fill == obsChunkLen {
			s.tail = b.chunks.add(obsChunk{prev: s.tail}) + 1
			s.fill = 0
		}
		k := copy(b.chunks.at(s.tail - 1).b[s.fill:], p)
		s.fill += uint8(k)
		p = p[k:]
	}
}

// obsOf appends the observations of s, in order, to dst, with sc's
// scratch.
func (b *Beacon) obsOf(s *beaconState, sc *scratch, dst []beaconObs) []beaconObs {
	n := int(min(b.conns(s)-1, uint64(b.cfg.MaxIntervals)))
	if n <= 0 {
		return dst
	}
	// The bytes in order: inline, then the chunks from the first.
	sc.chain = sc.chain[:0]
	for c := s.tail; c != 0; c = b.chunks.at(c - 1).prev {
		sc.chain = append(sc.chain, c)
	}
	buf := sc.buf[:0]
	if len(sc.chain) == 0 {
		buf = append(buf, s.inline[:s.fill]...)
	} else {
		buf = append(buf, s.inline[:]...)
		for i := len(sc.chain) - 1; i > 0; i-- {
			buf = append(buf, b.chunks.at(sc.chain[i] - 1).b[:]...)
		}
		buf = append(buf, b.chunks.at(sc.chain[0] - 1).b[:s.fill]...)
	}
	sc.buf = buf
	for range n {
		ival, k := binary.Uvarint(buf)
		size, k2 := binary.Uvarint(buf[k:])
		buf = buf[k+k2:]
		dst = append(dst, beaconObs{uint32(ival), uint32(size)})
	}
	return dst
}

// addFirst adds a triple's first connection, compact when it fits, and
// returns its reference.
func (b *Beacon) addFirst(c *conn) uint32 {
	raw := c.fwdBytes + c.revBytes
	dLast := c.lastStart - c.start
	if c.nOrigin == 1 && c.records > 0 && c.records <= math.MaxUint8 && raw <= math.MaxUint32 &&
		dLast >= 0 && dLast <= math.MaxUint32 && b.learnSamp(c.origin[0], c.scaled, raw) {
		f := beaconFirst{src: c.src, dst: c.dst, port: c.dport, proto: c.proto, recs: uint8(c.records), orig: c.origin[0],
			raw: uint32(raw), dLast: uint32(dLast), start: c.start, end: c.end}
		if n := len(b.freeFirst); n > 0 {
			i := b.freeFirst[n-1]
			b.freeFirst = b.freeFirst[:n-1]
			*b.first.at(i) = f
			return i + 1
		}
		return b.first.add(f) + 1
	}
	i := b.full.add(beaconState{src: c.src, dst: c.dst, port: c.dport, proto: c.proto,
		size0: uint32(min(raw, math.MaxUint32))})
	b.addConn1(b.full.at(i), c)
	return i | fullRef
}

// learnSamp checks that scaled bytes are raw bytes times one sampling
// interval, the one of origin o, and remembers it.
func (b *Beacon) learnSamp(o uint32, scaled, raw uint64) bool {
	if int(o) >= len(b.sampOf) {
		b.sampOf = append(b.sampOf, make([]uint32, int(o)+1-len(b.sampOf))...)
	}
	if samp := b.sampOf[o]; samp != 0 {
		// Known: no division (the same answer; where raw·samp wraps, so
		// did the connection's own sum).
		return scaled == raw*uint64(samp)
	}
	if raw == 0 {
		return scaled == 0
	}
	if scaled < raw || scaled%raw != 0 || scaled/raw > math.MaxUint32 {
		return false
	}
	b.sampOf[o] = uint32(scaled / raw)
	return true
}

// promote turns the compact first connection i into a full state, frees
// it and returns the full state's reference.
func (b *Beacon) promote(i uint32) uint32 {
	f := b.first.at(i)
	s := beaconState{src: f.src, dst: f.dst, port: f.port, proto: f.proto, size0: f.raw}
	o := [1]uint32{f.orig}
	b.add(&s, f.start, f.start+int64(f.dLast), f.end, uint64(f.recs), uint64(f.raw), uint64(f.raw)*uint64(b.sampOf[f.orig]), o[:])
	*f = beaconFirst{}
	b.freeFirst = append(b.freeFirst, i)
	return b.full.add(s) | fullRef
}

// slab calls yield with every triple's key and connection count.
func (b *Beacon) slab(yield func(int, tripleCount) bool) {
	b.sync()
	n := 0
	for i := range b.first.len() {
		if f := b.first.at(uint32(i)); f.recs != 0 {
			if !yield(n, tripleCount{key: tripleKey{pair(f.src, f.dst), f.port, f.proto}, count: 1}) {
				return
			}
			n++
		}
	}
	for i := range b.full.len() {
		s := b.full.at(uint32(i))
		if !yield(n, tripleCount{key: s.key(), count: b.conns(s)}) {
			return
		}
		n++
	}
}

type tripleCount struct {
	key   tripleKey
	count uint64
}

func (b *Beacon) excluded(port uint16, proto uint8) bool {
	for _, e := range b.cfg.Exclude {
		if e.Proto == proto && e.Port == port {
			return true
		}
	}
	return false
}

// rangeEnd is the end of the range, or the last record's start without
// one.
func (b *Beacon) rangeEnd() int64 {
	if b.cfg.To > b.cfg.From && b.cfg.From != 0 {
		return b.cfg.To
	}
	return b.tr.clock
}

// window is the time span whose coverage is measured: the range (the
// records' span without one), less its silences, the stretches of more
// than SilenceGap without a single record. A stray flow a year before the
// case, or a --from a month ahead of the evidence, would otherwise measure
// every beacon against time nobody observed.
func (b *Beacon) window() int64 {
	from, to := b.tr.first, b.tr.clock
	if b.cfg.To > b.cfg.From && b.cfg.From != 0 {
		from, to = b.cfg.From, b.cfg.To
	}
	w := to - from
	if b.cfg.Observed > 0 {
		return b.cfg.Observed
	}
	if !b.tr.seen {
		return w
	}
	w -= b.tr.silent
	if lead := b.tr.first - from; lead > SilenceGap {
		w -= lead
	}
	if tail := to - b.tr.clock; tail > SilenceGap {
		w -= tail
	}
	return max(w, 0)
}

// Findings returns the candidates that score at or above Threshold, by
// score descending, then source, destination, port, protocol.
func (b *Beacon) Findings() []BeaconFinding { return b.candidates(b.cfg.Threshold) }

// Candidates returns every (source, destination, port) with enough
// connections, scored, whatever its score (for calibration and for
// investigators who want to look below the threshold), in Findings' order.
func (b *Beacon) Candidates() []BeaconFinding { return b.candidates(math.Inf(-1)) }

// candidates returns the candidates whose score is not below floor.
func (b *Beacon) candidates(floor float64) []BeaconFinding {
	b.sync()
	win, end := b.window(), b.rangeEnd()
	// Each worker scores a contiguous range of states; the parts are joined
	// in state order, then sorted (a total order), so the result does not
	// depend on the number of workers.
	n := b.full.len()
	w := max(1, min(b.workers, n/chunkLen))
	parts := make([][]BeaconFinding, w)
	score := func(k int) {
		var sc scratch
		var out []BeaconFinding
		for i := k * n / w; i < (k+1)*n/w; i++ {
			s := b.full.at(uint32(i))
			if b.conns(s) < uint64(b.cfg.MinConnections) || b.excluded(s.port, s.proto) {
				continue
			}
			if f, ok := b.finding(s, win, end, &sc, floor); ok {
				out = append(out, f)
			}
		}
		parts[k] = out
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func() { defer wg.Done(); score(k) }()
	}
	score(0)
	wg.Wait()
	out := slices.Concat(parts...)
	slices.SortFunc(out, func(a, b BeaconFinding) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), a.Source.Compare(b.Source),
			a.Destination.Compare(b.Destination), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	return out
}

type scratch struct {
	x, y, abs []float64
	bx, by    []float64 // beats: intervals and sizes
	bc        []float64 // connections per beat
	obs       []beaconObs
	buf       []byte
	chain     []uint32
}

// finding scores a candidate; it returns false when the median interval is
// below MinInterval or the score below floor (then without its evidence).
//
// A candidate is scored on its connections, and, when some of them start
// within BeatGap of the one before, also on its beats: runs of connections
// each within BeatGap of the last, as malware that opens two or three
// connections per check-in (a GET and a POST) makes them. The beats must
// hold regular numbers of connections (regularBeats), their intervals are
// between the beats' first starts and their sizes the sum of their
// connections'. The better score is the finding's; Beats says when it is
// the beats'.
//
// Check-ins less than BeatGap apart run into one beat: a beacon every 5 s
// of two connections a second apart was a single beat of a day's
// connections, and irregular on connections (1 s, then 3 to 4 s), so it
// scored 0. When the beats at BeatGap do not qualify (too few, or
// irregular numbers of connections), the beats at the fine gap, 2/5 of
// BeatGap (2 s at the default), are scored instead: it scores 0.8568
// (TestBeaconShortPeriodBeats). Only as a fallback: where the beats at
// BeatGap qualify, they are the check-ins.
func (b *Beacon) finding(s *beaconState, win, end int64, sc *scratch, floor float64) (BeaconFinding, bool) {
	count := b.conns(s)
	sc.obs = b.obsOf(s, sc, sc.obs[:0])
	sc.x = sc.x[:0]
	for _, o := range sc.obs {
		sc.x = append(sc.x, float64(o.ival)/1e3)
	}
	sizes := func() []float64 {
		sc.y = append(sc.y[:0], float64(s.size0))
		for _, o := range sc.obs {
			sc.y = append(sc.y, float64(o.size))
		}
		return sc.y
	}
	life := lifetime{since: end - s.first, idle: end - s.lastStart}
	f, ok := b.score(sc.x, sizes, count, win, life, sc, floor)
	if ok {
		f.MeanInterval = SeedFloat(round(float64(s.lastStart-s.first) / 1e9 / float64(count-1)))
	}
	past := b.pastCap(s)
	g, gok, qualified := b.beatFinding(s, sc, b.gap, past.beats, past.lastBeat, win, life, floor)
	if !qualified {
		g, gok, _ = b.beatFinding(s, sc, b.fine, past.fine, past.lastFine, win, life, floor)
	}
	if gok && (!ok || g.Score > f.Score) {
		f, ok = g, true
	}
	if !ok {
		return BeaconFinding{}, false
	}
	f.Source, f.Destination, f.Port, f.Proto = b.tr.addrs.addr(s.src), b.tr.addrs.addr(s.dst), s.port, flow.ProtoName(s.proto)
	f.ConnectionCount, f.Severity, f.Indicator = count, "critical", IndicatorBeacon
	ev := b.ev(s)
	f.Evidence = ev.evidence(pairFilter(f.Source, f.Destination)+" and port "+
		strconv.Itoa(int(s.port))+" and proto "+protoWord(s.proto), b.tr.origs)
	return f, true
}

// beatFineShare is the fine gap's share of BeatGap, in fifths (see
// finding).
const beatFineShare = 2

// beatFinding scores the beats of s at gap, with pastBeats of them past
// MaxIntervals, the last at lastBeat. qualified says whether there are
// beats to score: some connections joined, at least MinConnections beats,
// regular numbers of connections in them.
func (b *Beacon) beatFinding(s *beaconState, sc *scratch, gap uint32, pastBeats uint64, lastBeat int64, win int64, life lifetime, floor float64) (f BeaconFinding, ok, qualified bool) {
	joined := 0
	for _, o := range sc.obs {
		if o.ival < gap {
			joined++
		}
	}
	// The beats are counted in full; their statistics are of those within
	// the observations, as the connections' are.
	beats := uint64(len(sc.obs)+1-joined) + pastBeats
	if joined == 0 || beats < uint64(b.cfg.MinConnections) || !sc.regularBeats(gap) {
		return BeaconFinding{}, false, false
	}
	bx, by := sc.beats(s.size0, gap)
	f, ok = b.score(bx, func() []float64 { return by }, beats, win, life, sc, floor)
	if !ok {
		return BeaconFinding{}, false, true
	}
	var span float64
	if pastBeats > 0 {
		span = float64(lastBeat-s.first) / 1e9
	} else {
		for _, x := range sc.bx {
			span += x
		}
	}
	f.MeanInterval = SeedFloat(round(span / float64(beats-1)))
	f.Beats = beats
	return f, true, true
}

// regularBeats reports whether the beats of sc.obs hold several
// connections each, in regular numbers: a median of at least two and a MAD
// of at most a quarter of it, as a program that opens the same connections
// at every check-in makes them (a person's page views open a few or many;
// where most beats are one connection, the connections are the series).
func (sc *scratch) regularBeats(gap uint32) bool {
	sc.bc = append(sc.bc[:0], 1)
	for _, o := range sc.obs {
		if o.ival < gap {
			sc.bc[len(sc.bc)-1]++
		} else {
			sc.bc = append(sc.bc, 1)
		}
	}
	var med, mad float64
	med, mad, sc.abs = medianMAD(sc.bc, sc.abs)
	return med >= 2 && mad <= med/4
}

// beats groups the observations in sc.obs into beats (see finding) and
// returns their intervals in seconds and their sizes, in sc.bx and sc.by.
func (sc *scratch) beats(size0 uint32, gap uint32) ([]float64, []float64) {
	sc.bx, sc.by = sc.bx[:0], append(sc.by[:0], float64(size0))
	var since uint64 // ms since the beat's first start
	for _, o := range sc.obs {
		since += uint64(o.ival)
		if o.ival < gap {
			sc.by[len(sc.by)-1] += float64(o.size)
			continue
		}
		sc.bx = append(sc.bx, float64(since)/1e3)
		sc.by = append(sc.by, float64(o.size))
		since = 0
	}
	return sc.bx, sc.by
}

// A candidate of coverageCapIntervals intervals or more is covered against
// at most coverageCap of the range: the coverage part was calibrated on
// weeks, and in a report of months a regular beacon that ran for a day
// (a 30 s beacon of 2,873 connections: 0.52 in a week) would otherwise
// score as a burst (0.28 in three weeks). Short bursts stay at 0 against a
// week; sparse candidates, whose few intervals are weak evidence of
// regularity, are still covered against the whole range (a person's ten
// visits to a site over 17 days, 0.40 against 21 days, would reach full
// coverage against a week).
const (
	coverageCap          = 7 * 24 * time.Hour
	coverageCapIntervals = 50
)

// A candidate still running at the range's end, its last connection
// within liveIdle median intervals (or liveSlack) of it, is covered against
// the time from its first connection to the end, at least liveFloor,
// rather than against the whole range: an implant installed a few hours
// before the evidence was collected has been observed for all its life,
// and investigators query weeks. Against a week, a 60 s beacon live the
// last six hours (360 connections, perfectly regular) scored 0.1754, as
// short scripted bursts do; it now scores 0.5009 (TestBeaconLiveAtEnd).
// The floor keeps those bursts out: 60 to 120 regular connections within
// two hours at the range's end cover less than 1/31.6 of three days and
// stay at 0 on Coverage (a floor of two days let a two-hour burst of 120
// reach 0.2527, of 2.5 days 0.1029). A perfectly regular beacon every
// minute still running at the end needs 3.3 hours to reach the default
// threshold (7.5 hours when it stopped within the range). The leniency
// takes liveMinIntervals intervals or more: the few intervals of a sparse
// pair in the last days are weak evidence of regularity (at 10, sparse
// random pairs of the last days reached 0.164; at 20, 0.157; 0.137 without
// the leniency). The slack allows for the range's end being the case's
// last record's end, which an active timeout can put many minutes after
// the last start. Calibration: TestBeaconCalibrationClasses (doc.go).
//
// A candidate that stopped just after the range's start is not treated
// alike: it stopped within the evidence (an implant removed, or a job
// that ran its course), which says it is not a lasting presence, and the
// range's start is an investigator's choice that a wider query moves,
// while the end is mostly the evidence's own, its collection.
const (
	liveIdle         = 3
	liveSlack        = time.Hour
	liveFloor        = 72 * time.Hour
	liveMinIntervals = 20
)

// lifetime places a candidate in the range: the time from its first
// connection and from its last to the range's end.
type lifetime struct{ since, idle int64 }

// score scores one series of a candidate: x the intervals between its
// events (seconds; reordered), sizes their bytes, events how many there
// are. It fills the statistics, parts and score, not the names nor the
// evidence.
func (b *Beacon) score(x []float64, sizes func() []float64, events uint64, win int64, life lifetime, sc *scratch, floor float64) (BeaconFinding, bool) {
	nObs := len(x)
	// The median and MAD decide most candidates; the quartiles (a sort)
	// only those that pass.
	var iv robust
	iv.Median, iv.MAD, sc.abs = medianMAD(x, sc.abs)
	if iv.Median*1e9 < float64(b.cfg.MinInterval) {
		return BeaconFinding{}, false
	}
	var coverage float64
	if nObs >= coverageCapIntervals {
		win = min(win, int64(coverageCap))
	}
	if nObs >= liveMinIntervals && float64(life.idle) <= max(liveIdle*iv.Median*1e9, float64(liveSlack)) {
		win = min(win, max(life.since, int64(liveFloor)))
	}
	if win > 0 {
		coverage = round(clamp01(float64(events-1) * iv.Median * 1e9 / float64(win)))
	}
	// The score is at most the interval part times the root of the
	// coverage part (the third factor is at most 1): below floor, the sizes
	// need no look.
	if round(intervalPart(iv, nObs)*math.Sqrt(coveragePart(coverage))) < floor {
		return BeaconFinding{}, false
	}
	iv, sc.abs = describe(x, sc.abs)
	// Bowley's skew of intervals whose first or third quartile is their
	// median is that of their rounding (a beacon every 60.25 s in whole
	// seconds: 60 s, and one in four 61 s, skew 1), not of their shape:
	// it is taken as 0, as RITA takes it (TestBeaconWholeSecondTimes).
	if iv.Q1 == iv.Median || iv.Q3 == iv.Median {
		iv.Bowley = 0
	}
	var sz robust
	sz, sc.abs = describe(sizes(), sc.abs)
	if sz.Median > float64(b.cfg.MaxMedianBytes) {
		return BeaconFinding{}, false // a scheduled transfer, not a check-in
	}
	f := BeaconFinding{
		MedianInterval: round(iv.Median), MADInterval: round(iv.MAD), BowleySkew: round(iv.Bowley),
		JitterRatio: SeedFloat(round(iv.MAD / iv.Median)),
		MedianBytes: round(sz.Median), MADBytes: round(sz.MAD), SizeBowley: round(sz.Bowley),
		IntervalsEvaluated: nObs,
	}
	f.Coverage = coverage
	f.Parts = beaconParts(iv, sz, f.Coverage, nObs)
	f.Score = round(f.Parts.score())
	return f, f.Score >= floor
}

func beaconParts(iv, sz robust, coverage float64, n int) BeaconParts {
	p := BeaconParts{
		Interval: intervalPart(iv, n),
		Skew:     round(1 - math.Abs(iv.Bowley)),
		Coverage: coveragePart(coverage),
	}
	sizeMAD := 0.0
	if sz.Median > 0 {
		sizeMAD = clamp01(sz.MAD / sz.Median / BeaconSizeScale)
	} else if sz.MAD > 0 {
		sizeMAD = 1
	}
	p.Size = round(0.5*(1-math.Abs(sz.Bowley)) + 0.5*(1-sizeMAD))
	return p
}

// intervalPart is BeaconParts.Interval of intervals iv (n of them).
func intervalPart(iv robust, n int) float64 {
	return round(1 - clamp01((iv.MAD/iv.Median+BeaconSmallSample/math.Sqrt(float64(n)))/BeaconJitterScale))
}

// coveragePart is BeaconParts.Coverage of a coverage.
func coveragePart(coverage float64) float64 {
	if coverage > 0 {
		return round(clamp01(1 + math.Log10(coverage)/BeaconCoverageDecades))
	}
	return 0
}
