// Package gen makes synthetic flow evidence: background traffic of a small
// network with, optionally, planted events that each detector should find
// (a vertical port scan, a network sweep, an exfiltration, a C2 beacon)
// and decoys that none should (random-interval clients, long sessions,
// busy servers answering clients). The output is deterministic for a seed.
package gen

import (
	"cmp"

	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// Config describes a dataset.
type Config struct {
	Flows     int       // background flows (planted events come on top)
	Start     time.Time // first flow
	Span      time.Duration
	Seed      uint64
	IPv6Share float64 // share of background flows over IPv6
	Planted   bool    // add the planted events and decoys
}

// The planted events, for tests and the README.
var (
	ScanSource    = netip.MustParseAddr("203.0.113.66")
	ScanTarget    = netip.MustParseAddr("10.1.5.20")
	SweepSource   = netip.MustParseAddr("10.1.9.9")
	SweepPort     = uint16(445)
	ExfilSource   = netip.MustParseAddr("10.1.3.7")
	ExfilDest     = netip.MustParseAddr("198.51.100.23")
	BeaconSource  = netip.MustParseAddr("10.1.4.4")
	BeaconDest    = netip.MustParseAddr("203.0.113.200")
	BeaconPort    = uint16(8443)
	BeaconPeriod  = 300 * time.Second
	RandomClient  = netip.MustParseAddr("10.1.6.6") // decoy: random intervals to one server
	LongSessionIP = netip.MustParseAddr("10.1.7.7") // decoy: one long SSH session
)

// Generate calls emit for every flow, in non-decreasing start order. The
// record is reused after emit returns.
func Generate(cfg Config, emit func(*flow.Record)) {
	if cfg.Span <= 0 {
		cfg.Span = 24 * time.Hour
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	var planted []flow.Record
	if cfg.Planted {
		planted = plant(cfg, rng)
	}
	net := newNetwork(cfg, rng)
	start := cfg.Start.UnixNano()
	step := float64(cfg.Span.Nanoseconds()) / float64(max(cfg.Flows, 1))
	var r flow.Record
	p := 0
	for i := range cfg.Flows {
		// Millisecond times, as NetFlow and most exporters give them.
		t := start + int64(float64(i)*step+rng.Float64()*step*0.9)/1e6*1e6
		for p < len(planted) && planted[p].Start <= t {
			emit(&planted[p])
			p++
		}
		net.background(&r, t)
		emit(&r)
	}
	for ; p < len(planted); p++ {
		emit(&planted[p])
	}
}

type network struct {
	cfg     Config
	rng     *rand.Rand
	clients []netip.Addr
	servers []netip.Addr
	v6c     []netip.Addr
	v6s     []netip.Addr
}

func newNetwork(cfg Config, rng *rand.Rand) *network {
	n := &network{cfg: cfg, rng: rng}
	hosts := min(max(cfg.Flows/200, 20), 4000)
	for i := range hosts {
		n.clients = append(n.clients, netip.AddrFrom4([4]byte{10, 1, byte(20 + i/250), byte(1 + i%250)}))
		n.v6c = append(n.v6c, netip.AddrFrom16([16]byte{0xfd, 0, 0, 1, 14: byte(i >> 8), 15: byte(i)}))
	}
	for i := range min(max(cfg.Flows/50, 50), 20000) {
		n.servers = append(n.servers, netip.AddrFrom4([4]byte{198, 18 + byte(i>>16&1), byte(i >> 8), byte(i)}))
		n.v6s = append(n.v6s, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 14: byte(i >> 8), 15: byte(i)}))
	}
	return n
}

// pick returns an index skewed towards the start (a few busy hosts).
func (n *network) pick(size int) int {
	x := n.rng.Float64()
	return int(float64(size) * x * x * x)
}

type service struct {
	port  uint16
	proto uint8
	share float64
}

var services = []service{
	{443, flow.ProtoTCP, 0.50}, {80, flow.ProtoTCP, 0.12}, {53, flow.ProtoUDP, 0.20}, {22, flow.ProtoTCP, 0.03},
	{25, flow.ProtoTCP, 0.03}, {123, flow.ProtoUDP, 0.05}, {3389, flow.ProtoTCP, 0.02}, {8080, flow.ProtoTCP, 0.05},
}

func (n *network) background(r *flow.Record, t int64) {
	*r = flow.Record{Start: t, SamplingInterval: 1}
	x, svc := n.rng.Float64(), services[0]
	for _, s := range services {
		if x < s.share {
			svc = s
			break
		}
		x -= s.share
	}
	if n.rng.Float64() < n.cfg.IPv6Share {
		r.SrcAddr, r.DstAddr = n.v6c[n.pick(len(n.v6c))], n.v6s[n.pick(len(n.v6s))]
	} else {
		r.SrcAddr, r.DstAddr = n.clients[n.pick(len(n.clients))], n.servers[n.pick(len(n.servers))]
	}
	r.SrcPort, r.DstPort, r.Proto = uint16(32768+n.rng.IntN(28000)), svc.port, svc.proto
	r.Packets = 1 + uint64(n.rng.ExpFloat64()*8)
	r.RevPackets = r.Packets + uint64(n.rng.ExpFloat64()*12)
	r.Bytes = r.Packets * uint64(60+n.rng.IntN(500))
	r.RevBytes = r.RevPackets * uint64(100+n.rng.IntN(1300))
	r.End = t + int64(n.rng.ExpFloat64()*4000)*int64(time.Millisecond)
	if svc.proto == flow.ProtoTCP {
		r.TCPFlags = flow.SYN | flow.ACK | flow.PSH | flow.FIN
	}
}

func plant(cfg Config, rng *rand.Rand) []flow.Record {
	var out []flow.Record
	start := cfg.Start.UnixNano()
	at := func(frac float64) int64 { return start + int64(frac*float64(cfg.Span.Nanoseconds())) }
	add := func(r flow.Record) {
		r.SamplingInterval = 1
		// Millisecond times, as NetFlow and most exporters give them.
		r.Start -= r.Start % int64(time.Millisecond)
		r.End -= r.End % int64(time.Millisecond)
		if r.End < r.Start {
			r.End = r.Start
		}
		out = append(out, r)
	}
	// A vertical scan: 1000 ports of one host in three minutes, answered by RST.
	t := at(0.30)
	for p := 1; p <= 1000; p++ {
		s := t + int64(p)*int64(180*time.Millisecond)
		add(flow.Record{Start: s, End: s + int64(time.Millisecond), SrcAddr: ScanSource, DstAddr: ScanTarget,
			SrcPort: 40000 + uint16(p%7), DstPort: uint16(p), Proto: flow.ProtoTCP, TCPFlags: flow.SYN | flow.RST,
			Bytes: 44, Packets: 1, RevBytes: 40, RevPackets: 1})
	}
	// A network sweep: 254 hosts on port 445 in ten minutes, unanswered.
	t = at(0.55)
	for h := 1; h <= 254; h++ {
		s := t + int64(h)*int64(2*time.Second+time.Duration(rng.IntN(300))*time.Millisecond)
		add(flow.Record{Start: s, End: s, SrcAddr: SweepSource, DstAddr: netip.AddrFrom4([4]byte{10, 1, 200, byte(h)}),
			SrcPort: uint16(50000 + h), DstPort: SweepPort, Proto: flow.ProtoTCP, TCPFlags: flow.SYN, Bytes: 52, Packets: 1})
	}
	// Exfiltration: 600 MB to one outside host over four hours, little coming back.
	t = at(0.65)
	for i := range 40 {
		s := t + int64(i)*int64(6*time.Minute)
		add(flow.Record{Start: s, End: s + int64(5*time.Minute), SrcAddr: ExfilSource, DstAddr: ExfilDest,
			SrcPort: uint16(45000 + i), DstPort: 443, Proto: flow.ProtoTCP, TCPFlags: 0x1b,
			Bytes: 15_000_000, Packets: 10400, RevBytes: 420_000, RevPackets: 5200})
	}
	// A beacon every five minutes with a few seconds of jitter, all along.
	for s := start + int64(BeaconPeriod)/3; s < start+cfg.Span.Nanoseconds(); s += int64(BeaconPeriod) + int64((rng.Float64()-0.5)*6e9) {
		add(flow.Record{Start: s, End: s + int64(300*time.Millisecond), SrcAddr: BeaconSource, DstAddr: BeaconDest,
			SrcPort: uint16(49152 + rng.IntN(16000)), DstPort: BeaconPort, Proto: flow.ProtoTCP, TCPFlags: 0x1b,
			Bytes: uint64(180 + rng.IntN(20)), Packets: 3, RevBytes: uint64(240 + rng.IntN(30)), RevPackets: 3})
	}
	// Decoy: a client polling one server at random (exponential) intervals.
	for s := start; s < start+cfg.Span.Nanoseconds(); s += int64(rng.ExpFloat64() * float64(BeaconPeriod)) {
		add(flow.Record{Start: s, End: s + int64(time.Second), SrcAddr: RandomClient, DstAddr: netip.MustParseAddr("198.51.100.50"),
			SrcPort: uint16(49152 + rng.IntN(16000)), DstPort: 443, Proto: flow.ProtoTCP, TCPFlags: 0x1b,
			Bytes: uint64(500 + rng.IntN(5000)), Packets: 6, RevBytes: uint64(2000 + rng.IntN(50000)), RevPackets: 8})
	}
	// Decoy: one long interactive SSH session, split by the exporter's active timeout.
	for s := at(0.1); s < at(0.1)+int64(6*time.Hour) && s < start+cfg.Span.Nanoseconds(); s += int64(30 * time.Minute) {
		add(flow.Record{Start: s, End: s + int64(30*time.Minute) - 1, SrcAddr: LongSessionIP, DstAddr: netip.MustParseAddr("198.51.100.60"),
			SrcPort: 51515, DstPort: 22, Proto: flow.ProtoTCP, TCPFlags: flow.ACK | flow.PSH,
			Bytes: uint64(20000 + rng.IntN(5000)), Packets: 300, RevBytes: uint64(90000 + rng.IntN(20000)), RevPackets: 320})
	}
	slices.SortStableFunc(out, func(a, b flow.Record) int { return cmp.Compare(a.Start, b.Start) })
	return out
}
