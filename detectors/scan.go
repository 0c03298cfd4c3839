package detectors

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// ScanConfig configures vertical port-scan detection. The zero value means
// the defaults.
type ScanConfig struct {
	// Ports is the number of distinct destination ports of one destination
	// that one source must touch within Window (--ports, default 20 as the
	// seed).
	Ports int
	// Window is the sliding window (--window, default 1h).
	Window time.Duration
	// MinFailed is the share of failed attempts a window needs as well
	// (default 0: every window with enough ports; the share is evidence).
	MinFailed float64
	// SampleSize is the length of ports_sample (default 20 as the seed).
	SampleSize int
	// Conn joins records into connections (standalone use only; a Suite
	// uses its own).
	Conn ConnConfig
}

// Scan defaults.
const (
	DefaultScanPorts  = 20
	DefaultWindow     = time.Hour
	DefaultSampleSize = 20
)

func (c ScanConfig) withDefaults() ScanConfig {
	if c.Ports <= 0 {
		c.Ports = DefaultScanPorts
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

// ScanFinding is a vertical port scan: one source touching many ports of
// one destination. The first six fields are the seed's keys.
type ScanFinding struct {
	Source      netip.Addr `json:"source"`
	Target      netip.Addr `json:"target"`
	UniquePorts int        `json:"unique_ports"`
	PortsSample []uint16   `json:"ports_sample"` // the lowest SampleSize ports, sorted
	Severity    string     `json:"severity"`
	Indicator   string     `json:"indicator"`
	// Kind is "scan", or "traceroute" for UDP probes to traceroute's ports
	// alone (33434-33534, every hop's probes to a port of their own):
	// listed, severity info, not an alert.
	Kind      string   `json:"kind"`
	Protocols []string `json:"protocols"`
	// Attempts are connections opened by Source towards Target in the
	// qualifying windows; FailedAttempts those that failed (SYN without
	// ACK, reset before data, no answer); ICMPUnreachable the unreachable
	// messages Target sent back, whose records the evidence counts too.
	Attempts        uint64  `json:"attempts"`
	FailedAttempts  uint64  `json:"failed_attempts"`
	ICMPUnreachable uint64  `json:"icmp_unreachable"`
	FailedShare     float64 `json:"failed_share"` // failed (or, when none was seen to fail, unreachable) / attempts, at most 1
	// Score is 0.6·FailedShare + 0.4·min(1, (UniquePorts-Ports)/(4·Ports)).
	Score float64 `json:"score"`
	Evidence
}

// Kinds of vertical scan findings, and traceroute's destination ports:
// Unix traceroute and mtr send each probe (three per hop, 30 hops) to the
// next port from 33434.
const (
	KindScan            = "scan"
	KindTraceroute      = "traceroute"
	IndicatorTraceroute = "Traceroute (UDP probes to ports 33434-33534)"
)

var traceroutePorts = [2]uint16{33434, 33534}

// Seed-compatible indicators and severities.
const (
	IndicatorScan   = "Port scan detected"
	IndicatorSweep  = "Network sweep detected"
	IndicatorExfil  = "High-volume data transfer (potential exfiltration)"
	IndicatorBeacon = "Periodic beaconing (potential C2)"
)

// Scan detects vertical port scans. Feed it records in start order with
// Add, then read Findings.
type Scan struct {
	cfg    ScanConfig
	tr     *tracker
	sync   func()                    // brings every record's connections in (tracker flush, pipe drain)
	d      *distinct[uint64, uint16] // by pair of address ids
	closed []scanEpisode             // episodes that can no longer grow
}

type scanEpisode struct {
	pair uint64
	ep   *episode[uint16]
}

// NewScan returns a vertical-scan detector.
func NewScan(cfg ScanConfig) *Scan {
	s := newScan(cfg)
	s.tr = newTracker(s.cfg.Conn)
	s.tr.sinks = append(s.tr.sinks, s)
	s.sync = s.tr.flush
	return s
}

func newScan(cfg ScanConfig) *Scan {
	s := &Scan{cfg: cfg.withDefaults()}
	s.d = newDistinct(s.cfg.Ports, int64(s.cfg.Window), s.cfg.MinFailed, func(pk uint64, ep *episode[uint16]) {
		s.closed = append(s.closed, scanEpisode{pk, ep})
	})
	return s
}

// Add feeds one record; records must come in non-decreasing Start order.
func (s *Scan) Add(r *flow.Record) { s.tr.add(r) }

func (s *Scan) addConn(c *conn) {
	if c.src == 0 || c.dst == 0 {
		return
	}
	if c.icmpErr {
		if isUnreachable(c.proto, c.icmpType) {
			// At least one message per record: some exporters count bytes only.
			s.d.unreachable(pair(c.src, c.dst), c, max(c.fwdPkts+c.revPkts, uint64(c.records)))
		}
		return
	}
	if hasPorts(c.proto) {
		s.d.attempt(pair(c.src, c.dst), c.dport, c)
	}
}

// addConns adds a batch of connections, first touching the state slot of
// each so their cache misses overlap.
func (s *Scan) addConns(cs []conn) {
	pks := s.d.pks[:0]
	for i := range cs {
		pks = append(pks, pair(cs[i].src, cs[i].dst))
	}
	s.d.touch(pks)
	s.d.pks = pks
	for i := range cs {
		s.addConn(&cs[i])
	}
}

// Findings returns the scans found so far, ordered by first seen, source,
// target. It may be called again after more records.
func (s *Scan) Findings() []ScanFinding {
	s.sync()
	var out []ScanFinding
	for _, c := range s.closed {
		out = append(out, s.finding(c.pair, c.ep))
	}
	s.d.open(func(pk uint64, ep *episode[uint16]) { out = append(out, s.finding(pk, ep)) })
	slices.SortFunc(out, func(a, b ScanFinding) int {
		return cmp.Or(cmp.Compare(a.FirstSeenNS, b.FirstSeenNS), a.Source.Compare(b.Source), a.Target.Compare(b.Target))
	})
	return out
}

func (s *Scan) finding(pk uint64, ep *episode[uint16]) ScanFinding {
	ports := sortedKeys(ep.keys, cmp.Compare[uint16])
	src, dst := unpair(pk)
	f := ScanFinding{
		Source: s.tr.addrs.addr(src), Target: s.tr.addrs.addr(dst), UniquePorts: len(ports),
		PortsSample: ports[:min(len(ports), s.cfg.SampleSize)],
		Severity:    "high", Indicator: IndicatorScan,
		Protocols: protoNames(ep.protos),
		Attempts:  ep.attempts, FailedAttempts: ep.failed, ICMPUnreachable: ep.unreach,
	}
	f.FailedShare = round(share(failedOrUnreachable(ep.failed, ep.unreach), ep.attempts))
	f.Score = round(0.6*f.FailedShare + 0.4*excess(len(ports), s.cfg.Ports))
	f.Kind = KindScan
	if ep.protos == 2 && ports[0] >= traceroutePorts[0] && ports[len(ports)-1] <= traceroutePorts[1] { // UDP alone
		f.Kind, f.Severity, f.Indicator = KindTraceroute, "info", IndicatorTraceroute
	}
	ev := ep.ev
	ev.more = slices.Clone(ev.more) // merge must not append into the episode's
	ev.merge(&ep.unreachEv)
	f.Evidence = ev.evidence(pairFilter(f.Source, f.Target)+scanProtoFilter(protoNumbers(ep.protos), ep.unreach > 0, f.Target), s.tr.origs)
	return f
}

// scanProtoFilter selects the protocol of a scan's probes and, when
// unreachables came back, ICMP's: a UDP scan's command listed its probes
// but not the port unreachables its failures rest on.
func scanProtoFilter(protos []uint8, unreach bool, target netip.Addr) string {
	if !unreach || len(protos) != 1 {
		return protoFilter(protos)
	}
	icmp := uint8(flow.ProtoICMP)
	if target.Is6() && !target.Is4In6() {
		icmp = flow.ProtoICMPv6
	}
	return " and (proto " + protoWord(protos[0]) + " or proto " + protoWord(icmp) + ")"
}

// failedOrUnreachable is the attempts that failed: those seen failing, or,
// when none could be seen to (sampled or one-way records), as many as ICMP
// unreachables came back. Unreachables answer retransmitted probes too
// (nmap -sU: 110 for 100 ports, 2 of them open), so they are no count of
// failed attempts beside one.
func failedOrUnreachable(failed, unreach uint64) uint64 {
	if failed > 0 {
		return failed
	}
	return unreach
}

// share is a/b at most 1, and 0 when b is 0.
func share(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return min(1, float64(a)/float64(b))
}

// excess scores how far n goes beyond the threshold need: 0 at need, 1 at
// five times need.
func excess(n, need int) float64 { return clamp01(float64(n-need) / float64(4*need)) }

func sortedKeys[K comparable](m map[K]struct{}, f func(a, b K) int) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, f)
	return out
}

var protoBits = []struct {
	bit   uint8
	proto uint8
	name  string
}{{1, flow.ProtoTCP, "tcp"}, {2, flow.ProtoUDP, "udp"}, {4, 132, "sctp"}, {8, flow.ProtoICMP, "icmp"}, {16, 0, "other"}}

func protoNames(mask uint8) []string {
	out := []string{}
	for _, p := range protoBits {
		if mask&p.bit != 0 {
			out = append(out, p.name)
		}
	}
	return out
}

// protoNumbers returns the protocol numbers of a mask; "other" makes it
// unknowable, so it returns nil then.
func protoNumbers(mask uint8) []uint8 {
	var out []uint8
	for _, p := range protoBits {
		if mask&p.bit != 0 {
			if p.bit == 16 {
				return nil
			}
			out = append(out, p.proto)
		}
	}
	return out
}
