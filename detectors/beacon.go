package detectors

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
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
	// (default DefaultBeaconThreshold, chosen by measurement: see doc.go).
	Threshold float64
	// MaxIntervals caps the connection start times kept per candidate: the
	// statistics use the first MaxIntervals intervals and sizes (default
	// 4096, 8 bytes each: at most 32 KiB per (source, destination, port));
	// the count, span and mean interval stay exact.
	MaxIntervals int
	// MinInterval: a median interval below it is a burst, not a beacon
	// (default 1s).
	MinInterval time.Duration
	// From and To are the range (unix ns) whose coverage is measured;
	// without them, the span from the first to the last record seen.
	From, To int64
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
)

// DefaultBeaconExclude is NTP (udp/123): clients poll their servers at a
// fixed interval by design.
func DefaultBeaconExclude() []Service { return []Service{{flow.ProtoUDP, 123}} }

func (c BeaconConfig) withDefaults() BeaconConfig {
	if c.MinConnections <= 0 {
		c.MinConnections = DefaultBeaconMinConnections
	}
	c.MinConnections = max(c.MinConnections, 3)
	if c.Threshold <= 0 {
		c.Threshold = DefaultBeaconThreshold
	}
	if c.MaxIntervals <= 0 {
		c.MaxIntervals = DefaultBeaconMaxIntervals
	}
	if c.MinInterval <= 0 {
		c.MinInterval = DefaultBeaconMinInterval
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
	MeanInterval float64 `json:"mean_interval"`
	JitterRatio  float64 `json:"jitter_ratio"`
	Severity     string  `json:"severity"`
	Indicator    string  `json:"indicator"`
	Proto        string  `json:"proto"`
	// Interval statistics, in seconds.
	MedianInterval float64 `json:"median_interval"`
	MADInterval    float64 `json:"mad_interval"`
	BowleySkew     float64 `json:"bowley_skew"`
	// Size statistics over bytes per connection (both directions, raw).
	MedianBytes float64 `json:"median_bytes"`
	MADBytes    float64 `json:"mad_bytes"`
	SizeBowley  float64 `json:"size_bowley_skew"`
	// Coverage is (count-1)·median interval / window length, at most 1:
	// the share of the window the connections cover.
	Coverage           float64     `json:"coverage"`
	Score              float64     `json:"score"`
	Parts              BeaconParts `json:"parts"`
	IntervalsEvaluated int         `json:"intervals_evaluated"`
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
	// Skew is 1 - |Bowley skew of the intervals|.
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

type beaconState struct {
	key   tripleKey
	count uint64
	size0 uint32      // bytes of the first connection
	obs   []beaconObs // from the second connection on, at most MaxIntervals
	ev    evAcc       // first and last start, records, bytes, origins
}

// beaconObs is one connection after the first: the milliseconds since the
// previous start, and its bytes.
type beaconObs struct{ ival, size uint32 }

// Beacon detects beaconing. Feed it records in start order with Add, then
// read Findings.
type Beacon struct {
	cfg     BeaconConfig
	tr      *tracker
	sync    func() // brings every record's connections in
	triples map[tripleKey]int32
	slab    []beaconState
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
	return &Beacon{cfg: cfg.withDefaults(), triples: make(map[tripleKey]int32)}
}

// Add feeds one record; records must come in non-decreasing Start order.
func (b *Beacon) Add(r *flow.Record) { b.tr.add(r) }

func (b *Beacon) addConn(c *conn) {
	if c.icmpErr || c.src == 0 || c.dst == 0 {
		return
	}
	k := tripleKey{pair(c.src, c.dst), c.dport, c.proto}
	i, ok := b.triples[k]
	if !ok {
		i = int32(len(b.slab))
		b.triples[k] = i
		b.slab = append(b.slab, beaconState{key: k})
	}
	s := &b.slab[i]
	size := uint32(min(c.fwdBytes+c.revBytes, math.MaxUint32))
	s.count++
	switch {
	case s.count == 1:
		s.size0 = size
	case len(s.obs) < b.cfg.MaxIntervals:
		if s.obs == nil {
			s.obs = make([]beaconObs, 0, 8)
		}
		s.obs = append(s.obs, beaconObs{uint32(min((c.start-s.ev.lastStart)/1e6, math.MaxUint32)), size})
	}
	s.ev.addConn(c)
}

func (b *Beacon) excluded(k tripleKey) bool {
	for _, e := range b.cfg.Exclude {
		if e.Proto == k.proto && e.Port == k.port {
			return true
		}
	}
	return false
}

// window is the time span whose coverage is measured.
func (b *Beacon) window() int64 {
	if b.cfg.To > b.cfg.From && b.cfg.From != 0 {
		return b.cfg.To - b.cfg.From
	}
	return b.tr.clock - b.tr.first
}

// Findings returns the candidates that score at or above Threshold, by
// score descending, then source, destination, port, protocol.
func (b *Beacon) Findings() []BeaconFinding {
	out := b.Candidates()
	out = slices.DeleteFunc(out, func(f BeaconFinding) bool { return f.Score < b.cfg.Threshold })
	return out
}

// Candidates returns every (source, destination, port) with enough
// connections, scored, whatever its score (for calibration and for
// investigators who want to look below the threshold), in Findings' order.
func (b *Beacon) Candidates() []BeaconFinding {
	b.sync()
	var out []BeaconFinding
	var sc scratch
	win := b.window()
	for i := range b.slab {
		s := &b.slab[i]
		if s.count < uint64(b.cfg.MinConnections) || b.excluded(s.key) {
			continue
		}
		if f, ok := b.finding(s, win, &sc); ok {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b BeaconFinding) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), a.Source.Compare(b.Source),
			a.Destination.Compare(b.Destination), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	return out
}

type scratch struct{ x, y, abs []float64 }

func (b *Beacon) finding(s *beaconState, win int64, sc *scratch) (BeaconFinding, bool) {
	sc.x, sc.y = sc.x[:0], append(sc.y[:0], float64(s.size0))
	for _, o := range s.obs {
		sc.x = append(sc.x, float64(o.ival)/1e3)
		sc.y = append(sc.y, float64(o.size))
	}
	var iv robust
	iv, sc.abs = describe(sc.x, sc.abs)
	if iv.Median*1e9 < float64(b.cfg.MinInterval) {
		return BeaconFinding{}, false
	}
	var sz robust
	sz, sc.abs = describe(sc.y, sc.abs)
	src, dst := unpair(s.key.pair)
	f := BeaconFinding{
		Source: b.tr.addrs.addr(src), Destination: b.tr.addrs.addr(dst), Port: s.key.port, Proto: flow.ProtoName(s.key.proto),
		ConnectionCount: s.count, Severity: "critical", Indicator: IndicatorBeacon,
		MeanInterval:   round(float64(s.ev.lastStart-s.ev.first) / 1e9 / float64(s.count-1)),
		MedianInterval: round(iv.Median), MADInterval: round(iv.MAD), BowleySkew: round(iv.Bowley),
		JitterRatio: round(iv.MAD / iv.Median),
		MedianBytes: round(sz.Median), MADBytes: round(sz.MAD), SizeBowley: round(sz.Bowley),
		IntervalsEvaluated: len(s.obs),
	}
	if win > 0 {
		f.Coverage = round(clamp01(float64(s.count-1) * iv.Median * 1e9 / float64(win)))
	}
	f.Parts = beaconParts(iv, sz, f.Coverage, len(s.obs))
	f.Score = round(f.Parts.score())
	f.Evidence = s.ev.evidence(pairFilter(f.Source, f.Destination)+" and port "+
		strconv.Itoa(int(s.key.port))+" and proto "+protoWord(s.key.proto), b.tr.origs)
	return f, true
}

func beaconParts(iv, sz robust, coverage float64, n int) BeaconParts {
	p := BeaconParts{
		Interval: 1 - clamp01((iv.MAD/iv.Median+BeaconSmallSample/math.Sqrt(float64(n)))/BeaconJitterScale),
		Skew:     1 - math.Abs(iv.Bowley),
		Coverage: 0,
	}
	if coverage > 0 {
		p.Coverage = round(clamp01(1 + math.Log10(coverage)/BeaconCoverageDecades))
	}
	sizeMAD := 0.0
	if sz.Median > 0 {
		sizeMAD = clamp01(sz.MAD / sz.Median / BeaconSizeScale)
	} else if sz.MAD > 0 {
		sizeMAD = 1
	}
	p.Size = round(0.5*(1-math.Abs(sz.Bowley)) + 0.5*(1-sizeMAD))
	p.Interval, p.Skew = round(p.Interval), round(p.Skew)
	return p
}
