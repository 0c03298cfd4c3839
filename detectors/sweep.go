package detectors

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// SweepConfig configures network-sweep detection. The zero value means the
// defaults.
type SweepConfig struct {
	// Hosts is the number of distinct destinations one source must touch on
	// one port within Window (--hosts, default 50 as the seed).
	Hosts int
	// MinFailed is the share of the window's attempts that must have failed
	// or gone unanswered (--min-failed, default 0.5). A negative value
	// requires none.
	MinFailed float64
	// Window is the sliding window (--window, default 1h).
	Window time.Duration
	// SampleSize is the length of targets_sample (default 20).
	SampleSize int
	// Conn joins records into connections (standalone use only).
	Conn ConnConfig
}

// Sweep defaults.
const (
	DefaultSweepHosts     = 50
	DefaultSweepMinFailed = 0.5
)

func (c SweepConfig) withDefaults() SweepConfig {
	if c.Hosts <= 0 {
		c.Hosts = DefaultSweepHosts
	}
	if c.MinFailed == 0 {
		c.MinFailed = DefaultSweepMinFailed
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.SampleSize <= 0 {
		c.SampleSize = DefaultSampleSize
	}
	c.Conn = c.Conn.withDefaults()
	return c
}

// SweepFinding is a network sweep: one source touching many destinations on
// the same port(s). Sweeps of one source on several ports whose spans
// overlap or lie within a window of each other are one finding. source,
// unique_targets, total_ports_probed, severity and indicator are the
// seed's keys; port is the port that reached the most targets.
type SweepFinding struct {
	Source        netip.Addr `json:"source"`
	UniqueTargets int        `json:"unique_targets"`
	// TotalPortsProbed sums, over the targets, the distinct swept ports
	// each was probed on (the seed's figure).
	TotalPortsProbed int          `json:"total_ports_probed"`
	Port             uint16       `json:"port"`
	Severity         string       `json:"severity"`
	Indicator        string       `json:"indicator"`
	Ports            []SweptPort  `json:"ports"`
	TargetsSample    []netip.Addr `json:"targets_sample"` // the lowest SampleSize targets
	Attempts         uint64       `json:"attempts"`
	FailedAttempts   uint64       `json:"failed_attempts"`
	FailedShare      float64      `json:"failed_share"`
	// Score is 0.5·FailedShare + 0.5·min(1, (UniqueTargets-Hosts)/(4·Hosts)).
	Score float64 `json:"score"`
	Evidence
}

// SweptPort is one port of a sweep with the targets probed on it.
type SweptPort struct {
	Port    uint16 `json:"port"` // 0 for ICMP echo
	Proto   string `json:"proto"`
	Targets int    `json:"targets"`
}

// sweepKey packs a source address id, a protocol and a port.
type sweepKey uint64

func mkSweepKey(src uint32, proto uint8, port uint16) sweepKey {
	return sweepKey(uint64(src)<<32 | uint64(proto)<<16 | uint64(port))
}

func (k sweepKey) src() uint32  { return uint32(k >> 32) }
func (k sweepKey) proto() uint8 { return uint8(k >> 16) }
func (k sweepKey) port() uint16 { return uint16(k) }

// sweepPart is one closed episode of one port, kept until Findings merges
// the parts of a source.
type sweepPart struct {
	key              sweepKey
	targets          []uint32 // address ids, sorted
	attempts, failed uint64
	ev               evAcc
}

// Sweep detects network sweeps. Feed it records in start order with Add,
// then read Findings.
type Sweep struct {
	cfg   SweepConfig
	tr    *tracker
	sync  func()                      // brings every record's connections in
	d     *distinct[sweepKey, uint32] // destinations by address id
	parts []sweepPart
}

// NewSweep returns a sweep detector.
func NewSweep(cfg SweepConfig) *Sweep {
	s := newSweep(cfg)
	s.tr = newTracker(s.cfg.Conn)
	s.tr.sinks = append(s.tr.sinks, s)
	s.sync = s.tr.flush
	return s
}

func newSweep(cfg SweepConfig) *Sweep {
	s := &Sweep{cfg: cfg.withDefaults()}
	s.d = newDistinct(s.cfg.Hosts, int64(s.cfg.Window), max(s.cfg.MinFailed, 0), func(k sweepKey, ep *episode[uint32]) {
		s.parts = append(s.parts, partOf(k, ep))
	})
	return s
}

// Add feeds one record; records must come in non-decreasing Start order.
func (s *Sweep) Add(r *flow.Record) { s.tr.add(r) }

func (s *Sweep) addConn(c *conn) {
	if c.src == 0 || c.dst == 0 {
		return
	}
	switch {
	case hasPorts(c.proto):
		s.d.attempt(mkSweepKey(c.src, c.proto, c.dport), c.dst, c)
	case flow.IsICMP(c.proto) && !c.icmpErr && classifyICMP(c.proto, c.icmpType) == icmpRequest:
		s.d.attempt(mkSweepKey(c.src, c.proto, 0), c.dst, c)
	}
}

// addConns adds a batch of connections, first touching the state slot of
// each so their cache misses overlap.
func (s *Sweep) addConns(cs []conn) {
	pks := s.d.pks[:0]
	for i := range cs {
		c := &cs[i]
		port := c.dport
		if !hasPorts(c.proto) {
			port = 0
		}
		pks = append(pks, uint64(mkSweepKey(c.src, c.proto, port)))
	}
	s.d.touch(pks)
	s.d.pks = pks
	for i := range cs {
		s.addConn(&cs[i])
	}
}

func partOf(k sweepKey, ep *episode[uint32]) sweepPart {
	return sweepPart{key: k, targets: sortedKeys(ep.keys, cmp.Compare[uint32]),
		attempts: ep.attempts, failed: ep.failed, ev: ep.ev}
}

// Findings returns the sweeps found so far, ordered by first seen and
// source. It may be called again after more records.
func (s *Sweep) Findings() []SweepFinding {
	s.sync()
	parts := slices.Clone(s.parts)
	s.d.open(func(k sweepKey, ep *episode[uint32]) { parts = append(parts, partOf(k, ep)) })
	slices.SortFunc(parts, func(a, b sweepPart) int {
		return cmp.Or(cmp.Compare(a.key.src(), b.key.src()), cmp.Compare(a.ev.first, b.ev.first), cmp.Compare(a.key, b.key))
	})
	var out []SweepFinding
	for i := 0; i < len(parts); {
		j := i + 1
		last := parts[i].ev.lastStart
		for j < len(parts) && parts[j].key.src() == parts[i].key.src() && parts[j].ev.first <= last+int64(s.cfg.Window) {
			last = max(last, parts[j].ev.lastStart)
			j++
		}
		out = append(out, s.finding(parts[i:j]))
		i = j
	}
	slices.SortFunc(out, func(a, b SweepFinding) int {
		return cmp.Or(cmp.Compare(a.FirstSeenNS, b.FirstSeenNS), a.Source.Compare(b.Source))
	})
	return out
}

// finding merges the parts of one source.
func (s *Sweep) finding(parts []sweepPart) SweepFinding {
	addrs := s.tr.addrs
	f := SweepFinding{Source: addrs.addr(parts[0].key.src()), Severity: "critical", Indicator: IndicatorSweep}
	var ev evAcc
	perPort := map[sweepKey]int{} // (proto, port) -> targets
	for _, p := range parts {
		f.Attempts += p.attempts
		f.FailedAttempts += p.failed
		ev.merge(&p.ev)
		perPort[mkSweepKey(0, p.key.proto(), p.key.port())] += len(p.targets)
	}
	for k, n := range perPort {
		f.Ports = append(f.Ports, SweptPort{k.port(), flow.ProtoName(k.proto()), n})
		f.TotalPortsProbed += n
	}
	slices.SortFunc(f.Ports, func(a, b SweptPort) int {
		return cmp.Or(cmp.Compare(b.Targets, a.Targets), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	f.Port = f.Ports[0].Port
	ids := targetIDs(parts)
	f.UniqueTargets = len(ids)
	f.TargetsSample = lowestAddrs(addrs, ids, s.cfg.SampleSize)
	f.FailedShare = round(share(f.FailedAttempts, f.Attempts))
	f.Score = round(0.5*f.FailedShare + 0.5*excess(f.UniqueTargets, s.cfg.Hosts))
	f.Evidence = ev.evidence(sweepFilter(f.Source, parts), s.tr.origs)
	return f
}

// targetIDs returns the distinct targets of parts, as address ids (one
// per address), without a set of netip.Addr: a zmap sweep of a /8 has
// 16.7M, and Findings took 49 s with such a set, 24 s without (4.2M
// targets: 8.5 s, 2.4 s).
func targetIDs(parts []sweepPart) []uint32 {
	if len(parts) == 1 {
		return parts[0].targets
	}
	n := 0
	for _, p := range parts {
		n += len(p.targets)
	}
	ids := make([]uint32, 0, n)
	for _, p := range parts {
		ids = append(ids, p.targets...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// lowestAddrs returns the n lowest addresses of ids, sorted.
func lowestAddrs(addrs *addrTab, ids []uint32, n int) []netip.Addr {
	out := make([]netip.Addr, 0, min(n, len(ids)))
	for _, id := range ids {
		a := addrs.addr(id)
		if len(out) == n {
			if a.Compare(out[n-1]) >= 0 {
				continue
			}
			out = out[:n-1]
		}
		i, _ := slices.BinarySearchFunc(out, a, netip.Addr.Compare)
		out = slices.Insert(out, i, a)
	}
	return out
}

func sweepFilter(src netip.Addr, parts []sweepPart) string {
	var ports []uint16
	protos := map[uint8]bool{}
	icmp := uint8(0)
	for _, p := range parts {
		if flow.IsICMP(p.key.proto()) {
			icmp = p.key.proto()
			continue
		}
		protos[p.key.proto()] = true
		if !slices.Contains(ports, p.key.port()) {
			ports = append(ports, p.key.port())
		}
	}
	slices.Sort(ports)
	f := "ip " + src.String()
	switch {
	case icmp != 0 && len(ports) == 0:
		return f + " and proto " + protoWord(icmp)
	case icmp != 0:
		return fmt.Sprintf("%s and (%s or proto %s)", f, portsFilter(ports), protoWord(icmp))
	}
	f += " and " + portsFilter(ports)
	if len(protos) == 1 {
		for p := range protos {
			f += " and proto " + protoWord(p)
		}
	}
	return f
}
