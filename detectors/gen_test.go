package detectors

import (
	"cmp"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// The generator writes a week of flows of a small office network with
// planted events (scans, sweeps, exfiltration, beacons with jitter) and
// decoys (a busy internal server, a web proxy, an internal backup, a large
// download, browsing at random intervals, DNS to an internal resolver, NTP,
// a video call, an SSH session exported every 60 s by an active timeout,
// random-interval pollers, a client reaching 20 services over a week, an
// internal web server serving an external client), together with the
// ground truth. Records are unidirectional (client and server records)
// unless said otherwise, from two exporters and two source files (the
// first 3.5 days and the rest), in start order.

var t0 = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC).UnixNano() // a Monday

const (
	sec = int64(time.Second)
	mn  = int64(time.Minute)
	hr  = int64(time.Hour)
)

func ip4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

type truthScan struct {
	src, dst    netip.Addr
	ports       int
	attempts    uint64
	failed      uint64
	first, last int64
}

type truthSweep struct {
	src     netip.Addr
	ports   []uint16
	targets int
	first   int64
	last    int64
}

type truthPair struct {
	src, dst netip.Addr
	kind     string
}

type truthBeacon struct {
	src, dst netip.Addr
	port     uint16
	count    uint64
}

type truth struct {
	scans   []truthScan
	sweeps  []truthSweep
	exfil   []truthPair // every finding expected, with its kind
	beacons []truthBeacon
}

type gen struct {
	rng   *rand.Rand
	recs  []flow.Record
	tr    truth
	days  int
	sites []netip.Addr
	zipf  *rand.Zipf
}

var (
	exporterA = ip4(10, 255, 0, 1)
	exporterB = ip4(10, 255, 0, 2)
	proxy     = ip4(10, 0, 0, 3)
	resolver  = ip4(10, 0, 0, 53)
	fileSrv   = ip4(10, 0, 0, 10)
	ntpSrv    = ip4(10, 0, 0, 123)
)

func newGen(seed uint64, days int) *gen {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x5eed)), days: days}
	for i := range 2000 {
		g.sites = append(g.sites, ip4(151, 101, byte(i/250), byte(1+i%250)))
	}
	g.zipf = rand.NewZipf(g.rng, 1.2, 4, uint64(len(g.sites)-1))
	return g
}

// emit appends a record, filling exporter, sampling and source file.
func (g *gen) emit(r flow.Record) {
	if !r.Exporter.IsValid() {
		r.Exporter = exporterA
		if r.SrcAddr.Is4() && r.SrcAddr.As4()[2]%2 == 1 {
			r.Exporter = exporterB
		}
	}
	if r.SamplingInterval == 0 {
		r.SamplingInterval = 1
	}
	r.SourceID = 1
	if r.Start-t0 >= 84*hr {
		r.SourceID = 2
	}
	r.End = max(r.End, r.Start)
	g.recs = append(g.recs, r)
}

func (g *gen) eph() uint16 { return uint16(49152 + g.rng.IntN(16000)) }

func pk(b uint64) uint64 { return b/1200 + 2 }

// session is a TCP or UDP connection: the client's and the server's
// records, split every split ns (0: not split) as an active timeout would.
type session struct {
	proto            uint8
	c, s             netip.Addr
	cp, sp           uint16
	start, dur       int64
	up, down         uint64
	split            int64
	biflow, noServer bool
	samp             uint32
}

func (g *gen) session(x session) {
	n := int64(1)
	if x.split > 0 && x.dur > x.split {
		n = (x.dur + x.split - 1) / x.split
	}
	for i := range n {
		st := x.start + i*max(x.split, 0)
		en := min(x.start+(i+1)*x.split, x.start+x.dur)
		if n == 1 {
			en = x.start + x.dur
		}
		fl := uint8(flow.ACK | flow.PSH)
		if i == 0 {
			fl |= flow.SYN
		}
		if i == n-1 {
			fl |= flow.FIN
		}
		if x.proto != flow.ProtoTCP {
			fl = 0
		}
		up, down := x.up/uint64(n), x.down/uint64(n)
		if x.biflow {
			g.emit(flow.Record{Start: st, End: en, SrcAddr: x.c, DstAddr: x.s, SrcPort: x.cp, DstPort: x.sp, Proto: x.proto,
				TCPFlags: fl, Bytes: up, Packets: pk(up), RevBytes: down, RevPackets: pk(down), SamplingInterval: x.samp})
			continue
		}
		g.emit(flow.Record{Start: st, End: en, SrcAddr: x.c, DstAddr: x.s, SrcPort: x.cp, DstPort: x.sp, Proto: x.proto,
			TCPFlags: fl, Bytes: up, Packets: pk(up), SamplingInterval: x.samp})
		if !x.noServer {
			g.emit(flow.Record{Start: st + sec/1000, End: en, SrcAddr: x.s, DstAddr: x.c, SrcPort: x.sp, DstPort: x.cp,
				Proto: x.proto, TCPFlags: fl, Bytes: down, Packets: pk(down), SamplingInterval: x.samp})
		}
	}
}

func (g *gen) tcp(c netip.Addr, s netip.Addr, sp uint16, start, dur int64, up, down uint64) {
	g.session(session{proto: flow.ProtoTCP, c: c, s: s, cp: g.eph(), sp: sp, start: start, dur: dur, up: up, down: down})
}

func (g *gen) udp(c netip.Addr, cp uint16, s netip.Addr, sp uint16, start int64, up, down uint64) {
	g.session(session{proto: flow.ProtoUDP, c: c, s: s, cp: cp, sp: sp, start: start, dur: sec / 100, up: up, down: down, noServer: down == 0})
}

type probeOutcome int

const (
	closed probeOutcome = iota
	open
	filtered
)

// probe is a TCP SYN probe and the target's answer: RST+ACK (closed),
// SYN+ACK then the prober's RST (open, half-open scan), nothing (filtered).
func (g *gen) probe(src netip.Addr, sp uint16, dst netip.Addr, dp uint16, t int64, o probeOutcome) {
	fl, pkts := flow.SYN, uint64(1)
	if o == open {
		fl, pkts = flow.SYN|flow.RST, 2
	}
	g.emit(flow.Record{Start: t, End: t, SrcAddr: src, DstAddr: dst, SrcPort: sp, DstPort: dp, Proto: flow.ProtoTCP,
		TCPFlags: fl, Bytes: 44 * pkts, Packets: pkts})
	switch o {
	case closed:
		g.emit(flow.Record{Start: t + 300_000, End: t + 300_000, SrcAddr: dst, DstAddr: src, SrcPort: dp, DstPort: sp,
			Proto: flow.ProtoTCP, TCPFlags: flow.RST | flow.ACK, Bytes: 40, Packets: 1})
	case open:
		g.emit(flow.Record{Start: t + 300_000, End: t + 300_000, SrcAddr: dst, DstAddr: src, SrcPort: dp, DstPort: sp,
			Proto: flow.ProtoTCP, TCPFlags: flow.SYN | flow.ACK, Bytes: 44, Packets: 1})
	}
}

func (g *gen) icmp(src, dst netip.Addr, t int64, typ, code uint8) {
	g.emit(flow.Record{Start: t, End: t, SrcAddr: src, DstAddr: dst, Proto: flow.ProtoICMP, ICMPType: typ, ICMPCode: code,
		DstPort: uint16(typ)<<8 | uint16(code), Bytes: 84, Packets: 1})
}

// workday reports whether day d is Monday to Friday.
func workday(d int) bool { return d%7 < 5 }

// background: browsing (direct or through the proxy) with DNS lookups,
// bursts of file-server access, NTP to the internal server.
func (g *gen) background(clients int) {
	for i := range clients {
		c := ip4(10, 1, byte(1+i/200), byte(1+i%200))
		for d := range g.days {
			if workday(d) {
				g.browse(c, i%2 == 1, t0+int64(d)*24*hr+8*hr, t0+int64(d)*24*hr+18*hr)
				if i%4 == 0 {
					g.fileBursts(c, t0+int64(d)*24*hr)
				}
			}
		}
		if i%8 == 0 {
			for t := t0 + int64(g.rng.IntN(1024))*sec; t < t0+int64(g.days)*24*hr; t += 1024 * sec {
				g.udp(c, 123, ntpSrv, 123, t, 76, 76)
			}
		}
	}
}

func (g *gen) browse(c netip.Addr, viaProxy bool, from, to int64) {
	for t := from + int64(g.rng.ExpFloat64()*90*float64(sec)); t < to; t += int64(g.rng.ExpFloat64() * 90 * float64(sec)) {
		site := g.sites[g.zipf.Uint64()]
		up := uint64(600 + g.rng.IntN(2500))
		down := uint64(math.Exp(10 + 1.5*g.rng.NormFloat64()))
		dur := int64(200+g.rng.IntN(20000)) * int64(time.Millisecond)
		if viaProxy {
			g.tcp(c, proxy, 3128, t, dur, up, down)
			g.tcp(proxy, site, 443, t+2*int64(time.Millisecond), dur, up, down)
			continue
		}
		g.udp(c, g.eph(), resolver, 53, t-20*int64(time.Millisecond), 70, 150)
		g.tcp(c, site, 443, t, dur, up, down)
	}
}

// fileBursts: three bursts a day of 25 SMB connections within 10 minutes;
// one in ten of the server's answers is exported without the client's
// request (asymmetric routing), so only the ports tell who opened.
func (g *gen) fileBursts(c netip.Addr, day int64) {
	for _, h := range []int64{9, 13, 16} {
		t := day + h*hr + int64(g.rng.IntN(30))*mn
		for range 25 {
			t += int64(g.rng.IntN(24)) * sec
			x := session{proto: flow.ProtoTCP, c: c, s: fileSrv, cp: g.eph(), sp: 445, start: t, dur: 2 * sec,
				up: uint64(2000 + g.rng.IntN(5000)), down: uint64(20000 + g.rng.IntN(200000))}
			if g.rng.IntN(10) == 0 {
				g.emit(flow.Record{Start: t + 1000, End: t + x.dur, SrcAddr: fileSrv, DstAddr: c, SrcPort: 445, DstPort: x.cp,
					Proto: flow.ProtoTCP, TCPFlags: flow.ACK | flow.PSH | flow.FIN, Bytes: x.down, Packets: pk(x.down)})
				continue
			}
			g.session(x)
		}
	}
}

func (g *gen) at(d int, h, m int64) int64 { return t0 + int64(d)*24*hr + h*hr + m*mn }

// decoys: things that look like an event to a careless detector.
func (g *gen) decoys() {
	// An internal->internal backup, nightly, 500 MB.
	for d := range g.days {
		g.tcp(ip4(10, 1, 0, 30), ip4(10, 0, 0, 50), 22, g.at(d, 2, 0), 20*mn, 500_000_000, 2_000_000)
	}
	// A large inbound download (the client opened it).
	g.tcp(ip4(10, 1, 0, 31), ip4(151, 101, 200, 1), 443, g.at(1, 11, 0), 15*mn, 3_000_000, 2_000_000_000)
	// An external client downloading 400 MB from the internal web server.
	for t, i := g.at(2, 10, 0), 0; i < 40; i++ {
		t += int64(g.rng.ExpFloat64() * 5 * float64(mn))
		g.tcp(ip4(192, 0, 2, 44), fileSrv, 443, t, 30*sec, 50_000, 10_000_000)
	}
	// A video call: one UDP 5-tuple for an hour, exported every 60 s.
	g.session(session{proto: flow.ProtoUDP, c: ip4(10, 1, 0, 45), s: ip4(203, 0, 113, 99), cp: 50000, sp: 3478,
		start: g.at(3, 14, 0), dur: hr, up: 600_000_000, down: 600_000_000, split: mn})
	// An SSH session of 8 hours, exported every 60 s by an active timeout.
	g.session(session{proto: flow.ProtoTCP, c: ip4(10, 1, 0, 46), s: ip4(198, 51, 100, 46), cp: 51022, sp: 22,
		start: g.at(1, 9, 0), dur: 8 * hr, up: 5_000_000, down: 20_000_000, split: mn})
	// The same, as biflow records.
	g.session(session{proto: flow.ProtoTCP, c: ip4(10, 1, 0, 48), s: ip4(198, 51, 100, 48), cp: 51023, sp: 22,
		start: g.at(2, 9, 0), dur: 8 * hr, up: 5_000_000, down: 20_000_000, split: mn, biflow: true})
	// NTP to an external server every 1024 s (periodic by design).
	for t := g.at(0, 0, 3); t < t0+int64(g.days)*24*hr; t += 1024 * sec {
		g.udp(ip4(10, 1, 0, 49), 123, ip4(162, 159, 200, 1), 123, t, 76, 76)
	}
	// Random-interval pollers with constant sizes: uniform 10-600 s, and
	// exponential with a 5 minute mean, all week.
	for t := g.at(0, 0, 0); t < t0+int64(g.days)*24*hr; t += int64(10+g.rng.IntN(590)) * sec {
		g.tcp(ip4(10, 1, 0, 40), ip4(198, 51, 100, 40), 443, t, sec, 900, 4000)
	}
	for t := g.at(0, 0, 0); t < t0+int64(g.days)*24*hr; t += int64(g.rng.ExpFloat64() * 300 * float64(sec)) {
		g.tcp(ip4(10, 1, 0, 41), ip4(198, 51, 100, 41), 443, t, sec, 900, 4000)
	}
	// A client reaching 20 services of one server over the week (3 a day).
	for i := range 21 {
		g.tcp(ip4(10, 1, 0, 47), ip4(10, 0, 0, 60), uint16(8000+i), g.at(i/3, 9+int64(i%3)*3, 0), sec, 500, 5000)
	}
}

// plant adds the events and their truth.
func (g *gen) plant() {
	g.plantScans()
	g.plantSweeps()
	g.plantExfil()
	g.plantBeacons()
}

func (g *gen) plantScans() {
	// S1: SYN scan of ports 1-1024 in two minutes; 22, 80, 443 open.
	src, dst := ip4(10, 1, 0, 66), ip4(10, 0, 0, 20)
	start := g.at(1, 10, 0)
	for p := range 1024 {
		o := closed
		if p+1 == 22 || p+1 == 80 || p+1 == 443 {
			o = open
		}
		g.probe(src, 40001, dst, uint16(p+1), start+int64(p)*117*int64(time.Millisecond), o)
	}
	g.tr.scans = append(g.tr.scans, truthScan{src, dst, 1024, 1024, 1024, start, start + 1023*117*int64(time.Millisecond)})
	// S2: from outside, 100 random ports over 45 minutes, all filtered.
	src, dst = ip4(203, 0, 113, 50), ip4(10, 0, 0, 30)
	start = g.at(2, 3, 0)
	ports := g.rng.Perm(10000)[:100]
	for i, p := range ports {
		g.probe(src, uint16(50000+i), dst, uint16(p+1), start+int64(i)*27*sec, filtered)
	}
	g.tr.scans = append(g.tr.scans, truthScan{src, dst, 100, 100, 100, start, start + 99*27*sec})
	g.plantUDPScan()
	// S4: 60 ports in 30 minutes, a 50 minute pause, 60 more: one finding.
	src, dst = ip4(10, 1, 0, 78), ip4(10, 0, 0, 41)
	start = g.at(3, 20, 0)
	for i := range 120 {
		t := start + int64(i)*30*sec
		if i >= 60 {
			t += 50 * mn
		}
		g.probe(src, 40078, dst, uint16(1000+i), t, closed)
	}
	g.tr.scans = append(g.tr.scans, truthScan{src, dst, 120, 120, 120, start, start + 119*30*sec + 50*mn})
	// S5: two bursts of 30 ports three hours apart: two findings.
	src, dst = ip4(10, 1, 0, 79), ip4(10, 0, 0, 42)
	for b := range 2 {
		start = g.at(4, 1+3*int64(b), 0)
		for i := range 30 {
			g.probe(src, 40079, dst, uint16(100+b*100+i), start+int64(i)*sec, closed)
		}
		g.tr.scans = append(g.tr.scans, truthScan{src, dst, 30, 30, 30, start, start + 29*sec})
	}
}

// plantUDPScan: S3, 30 UDP ports; 3 answer, 27 send ICMP port unreachable.
func (g *gen) plantUDPScan() {
	src, dst := ip4(10, 1, 0, 77), ip4(10, 0, 0, 40)
	start := g.at(2, 15, 0)
	for i := range 30 {
		t := start + int64(i)*2*sec
		p := uint16(500 + i)
		if i == 3 || i == 13 || i == 23 {
			g.udp(src, 41000, dst, p, t, 60, 80)
			continue
		}
		g.udp(src, 41000, dst, p, t, 60, 0)
		g.icmp(dst, src, t+int64(time.Millisecond), 3, 3)
	}
	g.tr.scans = append(g.tr.scans, truthScan{src, dst, 30, 30, 27, start, start + 29*2*sec})
}

func (g *gen) plantSweeps() {
	// W1: 200 hosts on tcp/445 in 10 minutes; 20 answer and talk.
	src := ip4(10, 1, 0, 88)
	start := g.at(1, 14, 0)
	for i := range 200 {
		t := start + int64(i)*3*sec
		dst := ip4(10, 2, 0, byte(1+i))
		if i%10 == 0 {
			g.session(session{proto: flow.ProtoTCP, c: src, s: dst, cp: uint16(42000 + i), sp: 445, start: t, dur: sec, up: 3000, down: 5000})
			continue
		}
		g.probe(src, uint16(42000+i), dst, 445, t, filtered)
	}
	g.tr.sweeps = append(g.tr.sweeps, truthSweep{src, []uint16{445}, 200, start, start + 199*3*sec})
	// W2: 80 hosts on 22 and 3389, all closed.
	src = ip4(10, 1, 0, 99)
	start = g.at(3, 9, 0)
	for i := range 80 {
		t := start + int64(i)*5*sec
		g.probe(src, 43000, ip4(10, 3, 0, byte(1+i)), 22, t, closed)
		g.probe(src, 43001, ip4(10, 3, 0, byte(1+i)), 3389, t+sec, closed)
	}
	g.tr.sweeps = append(g.tr.sweeps, truthSweep{src, []uint16{22, 3389}, 80, start, start + 79*5*sec + sec})
	// W3: a ping sweep from outside of 100 hosts, 30 answer.
	src = ip4(198, 51, 100, 23)
	start = g.at(5, 2, 0)
	for i := range 100 {
		t := start + int64(i)*sec
		dst := ip4(10, 4, 0, byte(1+i))
		g.icmp(src, dst, t, 8, 0)
		if i%10 < 3 {
			g.icmp(dst, src, t+int64(time.Millisecond), 0, 0)
		}
	}
	g.tr.sweeps = append(g.tr.sweeps, truthSweep{src, []uint16{0}, 100, start, start + 99*sec})
}

func (g *gen) plantExfil() {
	// E1: 300 MB to an external host over two hours, 60 uploads.
	src, dst := ip4(10, 1, 0, 55), ip4(203, 0, 113, 200)
	for t, i := g.at(4, 22, 0), 0; i < 60; i++ {
		t += int64(g.rng.ExpFloat64() * 2 * float64(mn))
		g.tcp(src, dst, 443, t, 90*sec, 5_000_000, 40_000)
	}
	g.tr.exfil = append(g.tr.exfil, truthPair{src, dst, KindExfiltration})
	// E2: sampled 1:100, 2 MB raw, 200 MB estimated.
	src, dst = ip4(10, 1, 0, 56), ip4(198, 51, 100, 77)
	for t, i := g.at(5, 1, 0), 0; i < 20; i++ {
		t += int64(g.rng.ExpFloat64() * float64(mn))
		g.session(session{proto: flow.ProtoTCP, c: src, s: dst, cp: g.eph(), sp: 22, start: t,
			dur: 50 * sec, up: 100_000, down: 2_000, samp: 100})
	}
	g.tr.exfil = append(g.tr.exfil, truthPair{src, dst, KindExfiltration})
	// E3: IPv6, a ULA host to a global address, biflow records, 150 MB.
	src, dst = netip.MustParseAddr("fd00:1::55"), netip.MustParseAddr("2001:db8:77::1")
	for t, i := g.at(6, 3, 0), 0; i < 30; i++ {
		t += int64(g.rng.ExpFloat64() * float64(mn))
		g.session(session{proto: flow.ProtoTCP, c: src, s: dst, cp: g.eph(), sp: 443, start: t,
			dur: 40 * sec, up: 5_000_000, down: 30_000, biflow: true})
	}
	g.tr.exfil = append(g.tr.exfil, truthPair{src, dst, KindExfiltration})
	// Listed, not alerts: the web server's answers and the video call.
	g.tr.exfil = append(g.tr.exfil, truthPair{ip4(10, 0, 0, 10), ip4(192, 0, 2, 44), KindServerResponse},
		truthPair{ip4(10, 1, 0, 45), ip4(203, 0, 113, 99), KindTwoWay})
}

// beaconSpec: connections every period with a jitter function, on active
// hours, with sizes that mostly repeat.
type beaconSpec struct {
	src, dst netip.Addr
	port     uint16
	proto    uint8
	period   int64
	jitter   func(r *rand.Rand) float64 // factor on the period
	from, to int64
	office   bool // only 08:00-18:00 on workdays
}

func (g *gen) beacon(b beaconSpec) uint64 {
	n := uint64(0)
	for t := b.from; t < b.to; t += int64(float64(b.period) * b.jitter(g.rng)) {
		if b.office {
			d, h := int((t-t0)/(24*hr)), (t-t0)%(24*hr)/hr
			if !workday(d) || h < 8 || h >= 18 {
				continue
			}
		}
		down := uint64(310 + g.rng.IntN(20))
		if g.rng.IntN(20) == 0 {
			down = uint64(5000 + g.rng.IntN(50000)) // tasking
		}
		if b.proto == flow.ProtoUDP {
			g.udp(b.src, g.eph(), b.dst, b.port, t, 90, down)
		} else {
			g.tcp(b.src, b.dst, b.port, t, 300*int64(time.Millisecond), 420, down)
		}
		n++
	}
	return n
}

func uniformJitter(j float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return 1 - j + 2*j*r.Float64() }
}

// csJitter is Cobalt Strike's: the sleep shortened by up to j.
func csJitter(j float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return 1 - j*r.Float64() }
}

func (g *gen) plantBeacons() {
	week := t0 + int64(g.days)*24*hr
	specs := []beaconSpec{
		{ip4(10, 1, 0, 120), ip4(203, 0, 113, 10), 443, flow.ProtoTCP, mn, uniformJitter(0.1), g.at(0, 0, 0), g.at(3, 0, 0), false},
		{ip4(10, 1, 0, 121), ip4(198, 51, 100, 12), 8443, flow.ProtoTCP, 5 * mn, csJitter(0.3), g.at(0, 0, 0), week, false},
		{ip4(10, 1, 0, 122), ip4(203, 0, 113, 13), 80, flow.ProtoTCP, hr, uniformJitter(0), g.at(0, 0, 7), week, false},
		{ip4(10, 1, 0, 123), ip4(198, 51, 100, 14), 443, flow.ProtoTCP, 15 * mn, csJitter(0.2), g.at(0, 0, 0), week, true},
		{ip4(10, 1, 0, 124), ip4(203, 0, 113, 15), 53, flow.ProtoUDP, 30 * sec, uniformJitter(0.15), g.at(2, 12, 0), g.at(3, 12, 0), false},
		{ip4(10, 1, 0, 125), ip4(10, 0, 0, 70), 445, flow.ProtoTCP, 2 * mn, uniformJitter(0.05), g.at(4, 0, 0), g.at(6, 0, 0), false},
	}
	for _, b := range specs {
		n := g.beacon(b)
		g.tr.beacons = append(g.tr.beacons, truthBeacon{b.src, b.dst, b.port, n})
	}
}

// sorted returns the records in start order (stable: a request stays
// before its answer).
func (g *gen) sorted() []flow.Record {
	slices.SortStableFunc(g.recs, func(a, b flow.Record) int { return cmp.Compare(a.Start, b.Start) })
	return g.recs
}

// generate makes the standard test week.
func generate(seed uint64, clients int) ([]flow.Record, truth) {
	g := newGen(seed, 7)
	g.background(clients)
	g.decoys()
	g.plant()
	return g.sorted(), g.tr
}

var (
	weekOnce  sync.Once
	weekRecs  []flow.Record
	weekTruth truth
)

// testWeek is the standard test week, made once per test binary.
func testWeek() ([]flow.Record, truth) {
	weekOnce.Do(func() { weekRecs, weekTruth = generate(1, 40) })
	return weekRecs, weekTruth
}
