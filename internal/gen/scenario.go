package gen

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

func ip4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

var (
	webServer = ip4(10, 0, 0, 80)
	v6Net5    = func(lo uint16) netip.Addr { // fd00:0:0:5::lo, the scenario's internal IPv6 hosts
		return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 5, 14: byte(lo >> 8), 15: byte(lo)})
	}
)

// scenario returns the planted events and the decoys, each a coroutine
// with its own random source (so that each is the same whatever the
// others do).
func scenario(cfg Config, m *merger) []*proc {
	var ps []*proc
	add := func(ev Event, body func(*proc)) { ps = append(ps, newProc(cfg, m, ev, body)) }
	planted := func(id, kind, what string, src, dst netip.Addr, proto uint8, body func(*proc)) {
		add(Event{ID: id, Kind: kind, What: what, Src: src, Dst: dst, Proto: proto}, body)
	}
	tcp, udp := flow.ProtoTCP, flow.ProtoUDP

	// Vertical scans.
	planted("S1", KindScan, "SYN scan of ports 1-1024 in two minutes; 22, 80 and 443 answer SYN+ACK, the rest RST",
		ScanSource, ScanTarget, tcp, func(p *proc) {
			t0 := p.when(0.20)
			for i := range 1024 {
				t, o := t0+int64(i)*117*ms, closed
				if port := i + 1; port == 22 || port == 80 || port == 443 {
					o = open
				}
				if !p.wait(t) {
					return
				}
				p.probe(ScanSource, 40001, ScanTarget, uint16(i+1), t, o)
			}
		})
	planted("S2", KindScan, "slow scan from outside: 100 random ports below 10000, one every 27 s, all filtered",
		ip4(203, 0, 113, 50), ip4(10, 0, 0, 30), tcp, func(p *proc) {
			t0 := p.when(0.30)
			for i, port := range p.rng.Perm(10000)[:100] {
				t := t0 + int64(i)*27*sec
				if !p.wait(t) {
					return
				}
				p.probe(p.ev.Src, uint16(50000+i), p.ev.Dst, uint16(port+1), t, filtered)
			}
		})
	planted("S3", KindScan, "UDP scan of ports 500-529, one every 2 s; 3 answer, 27 draw ICMP port unreachable",
		ip4(10, 1, 0, 77), ip4(10, 0, 0, 40), udp, func(p *proc) {
			t0 := p.when(0.36)
			for i := range 30 {
				t := t0 + int64(i)*2*sec
				if !p.wait(t) {
					return
				}
				s := Session{Proto: udp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: 41000, ServerPort: uint16(500 + i),
					Start: t, Dur: 10 * ms, Up: 60, Down: 80}
				if i%10 == 3 {
					p.session(s)
					continue
				}
				s.Down, s.NoAnswer = 0, true
				p.conn(t, s.Client, s.Server, s.ServerPort, true)
				s.Emit(func(r *flow.Record) { p.rec(r, s.Client) })
				icmp(func(r *flow.Record) { p.rec(r, s.Client) }, p.ev.Dst, p.ev.Src, t+300*us, 3, 3)
			}
		})
	planted("S4", KindScan, "60 ports in 30 minutes, a 50-minute pause, 60 more: one scan",
		ip4(10, 1, 0, 78), ip4(10, 0, 0, 41), tcp, func(p *proc) {
			t0 := p.when(0.52)
			for i := range 120 {
				t := t0 + int64(i)*30*sec
				if i >= 60 {
					t += 50 * mn
				}
				if !p.wait(t) {
					return
				}
				p.probe(p.ev.Src, 40078, p.ev.Dst, uint16(1000+i), t, closed)
			}
		})
	for b, id := range []string{"S5a", "S5b"} {
		planted(id, KindScan, "30 ports in 30 s; the same source scans the same host again 3 hours later: two scans",
			ip4(10, 1, 0, 79), ip4(10, 0, 0, 42), tcp, func(p *proc) {
				t0 := p.when(0.60) + int64(b)*3*hr
				for i := range 30 {
					t := t0 + int64(i)*sec
					if !p.wait(t) {
						return
					}
					p.probe(p.ev.Src, 40079, p.ev.Dst, uint16(100+b*100+i), t, closed)
				}
			})
	}
	planted("S6", KindScan, "IPv6 scan from outside: 50 random ports below 1024 in a minute, answered by RST",
		netip.MustParseAddr("2001:db8:bad::66"), v6Net5(0x20), tcp, func(p *proc) {
			t0 := p.when(0.46)
			for i, port := range p.rng.Perm(1023)[:50] {
				t := t0 + int64(i)*1200*ms
				if !p.wait(t) {
					return
				}
				p.probe(p.ev.Src, uint16(52000+i), p.ev.Dst, uint16(port+1), t, closed)
			}
		})

	// Sweeps.
	planted("W1", KindSweep, "200 hosts of 10.2.0.0/24 on 445 in 10 minutes; 20 answer and talk, 180 filtered",
		SweepSource, netip.Addr{}, tcp, func(p *proc) {
			t0 := p.when(0.25)
			for i := range 200 {
				t := t0 + int64(i)*3*sec
				dst := ip4(10, 2, 0, byte(1+i))
				if !p.wait(t) {
					return
				}
				if i%10 == 0 {
					p.session(Session{Proto: tcp, Client: SweepSource, Server: dst, ClientPort: uint16(42000 + i), ServerPort: SweepPort,
						Start: t, Dur: sec, Up: 3000, Down: 5000})
					continue
				}
				p.probe(SweepSource, uint16(42000+i), dst, SweepPort, t, filtered)
			}
		})
	planted("W2", KindSweep, "80 hosts of 10.3.0.0/24 on 22 and 3389, one every 5 s, all refused (RST)",
		ip4(10, 1, 0, 99), netip.Addr{}, tcp, func(p *proc) {
			t0 := p.when(0.42)
			for i := range 80 {
				t := t0 + int64(i)*5*sec
				dst := ip4(10, 3, 0, byte(1+i))
				if !p.wait(t) {
					return
				}
				p.probe(p.ev.Src, 43000, dst, 22, t, closed)
				p.probe(p.ev.Src, 43001, dst, 3389, t+sec, closed)
			}
		})
	planted("W3", KindSweep, "ping sweep from outside of 100 hosts of 10.4.0.0/24, one a second; 30 answer",
		ip4(198, 51, 100, 33), netip.Addr{}, flow.ProtoICMP, func(p *proc) {
			t0 := p.when(0.70)
			for i := range 100 {
				t := t0 + int64(i)*sec
				dst := ip4(10, 4, 0, byte(1+i))
				if !p.wait(t) {
					return
				}
				p.conn(t, p.ev.Src, dst, 0, i%10 >= 3)
				emit := func(r *flow.Record) { p.rec(r, p.ev.Src) }
				icmp(emit, p.ev.Src, dst, t, 8, 0)
				if i%10 < 3 {
					icmp(emit, dst, p.ev.Src, t+300*us, 0, 0)
				}
			}
		})

	// Exfiltration.
	planted("E1", KindExfil, "60 uploads of 5 MB over about two hours (300 MB out, 2.4 MB back)",
		ExfilSource, ExfilDest, tcp, func(p *proc) {
			t := p.when(0.80)
			for range 60 {
				t += int64(p.rng.ExpFloat64() * 2 * float64(mn))
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: tcp, Client: ExfilSource, Server: ExfilDest, ClientPort: p.eph(), ServerPort: 443,
					Start: t, Dur: 90 * sec, Up: 5_000_000, Down: 40_000})
			}
		})
	planted("E2", KindExfil, "sampled 1:100: 20 sessions of 100 kB as exported, 200 MB estimated",
		ip4(10, 1, 0, 56), ip4(198, 51, 100, 77), tcp, func(p *proc) {
			t := p.when(0.84)
			for range 20 {
				t += int64(p.rng.ExpFloat64() * float64(mn))
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: tcp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: p.eph(), ServerPort: 22,
					Start: t, Dur: 50 * sec, Up: 100_000, Down: 2_000, Sampling: 100})
			}
		})
	planted("E3", KindExfil, "IPv6, biflow records: 30 uploads of 5 MB (150 MB out)",
		v6Net5(0x55), netip.MustParseAddr("2001:db8:77::1"), tcp, func(p *proc) {
			t := p.when(0.88)
			for range 30 {
				t += int64(p.rng.ExpFloat64() * float64(mn))
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: tcp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: p.eph(), ServerPort: 443,
					Start: t, Dur: 40 * sec, Up: 5_000_000, Down: 30_000, Biflow: true})
			}
		})

	// Beacons.
	span := int64(cfg.Span)
	start := cfg.Start.UnixNano()
	beacons := []beaconSpec{
		{"B1", ip4(10, 1, 0, 120), ip4(203, 0, 113, 10), 443, tcp, mn, uniform(0.1), "±10 %", 0, min(3*day, span/4), false, true},
		{"B2", BeaconSource, BeaconDest, BeaconPort, tcp, int64(BeaconPeriod), shortened(0.3), "Cobalt Strike style, up to 30 % shorter",
			int64(BeaconPeriod) / 3, span, false, false},
		{"B3", ip4(10, 1, 0, 122), ip4(203, 0, 113, 13), 80, tcp, hr, uniform(0), "none", 7 * mn, span, false, false},
		{"B4", ip4(10, 1, 0, 123), ip4(198, 51, 100, 14), 443, tcp, 15 * mn, shortened(0.2), "Cobalt Strike style, up to 20 % shorter; office hours only",
			0, span, true, false},
		{"B5", ip4(10, 1, 0, 124), ip4(203, 0, 113, 15), 53, udp, 30 * sec, uniform(0.15), "±15 %", -30, min(day, span/8), false, true},
		{"B6", ip4(10, 1, 0, 125), ip4(10, 0, 0, 70), 445, tcp, 2 * mn, uniform(0.05), "±5 % (internal, lateral)", -55, min(2*day, span*3/10), false, false},
		{"B7", v6Net5(0x124), netip.MustParseAddr("2001:db8:c2::1"), 443, tcp, 10 * mn, uniform(0.2), "±20 %", 0, span, false, true},
	}
	for _, b := range beacons {
		what := "a beacon every " + every(b.period) + ", jitter " + b.jitterText
		if b.office {
			what += ", 08:00-18:00 on workdays"
		}
		from := b.from
		if from < 0 { // a fraction of the span, in hundredths
			from = -from * span / 100 / mn * mn
		}
		from, to := start+from, min(start+from+b.dur, start+span)
		add(Event{ID: b.id, Kind: KindBeacon, What: what, Src: b.src, Dst: b.dst, Proto: b.proto,
			Period: time.Duration(b.period), Jitter: b.jitterText}, func(p *proc) { p.beacon(b, from, to) })
	}

	// Decoys made by the scenario (D1-D4 are the background's).
	decoy := func(id, kind, what string, src, dst netip.Addr, proto uint8, body func(*proc)) {
		add(Event{ID: id, Kind: kind, Decoy: true, What: what, Src: src, Dst: dst, Proto: proto}, body)
	}
	decoy("D5", DecoyBusyServer, "3 clients opening 25 connections to the file server within 10 minutes, at 9, 13 and 16 h on workdays; 1 in 10 answers exported without its request",
		netip.Addr{}, FileServer, tcp, func(p *proc) {
			type visit struct {
				t      int64
				client netip.Addr
			}
			for d := dayOf(start); d < start+span; d += day {
				if !workday(d) {
					continue
				}
				var vs []visit
				for _, h := range []int64{9, 13, 16} {
					for c := range 3 {
						client := ip4(10, 1, 0, byte(91+c))
						t := d + h*hr + int64(c)*7*mn + int64(p.rng.IntN(20))*mn
						for range 25 {
							t += int64(p.rng.IntN(24)) * sec
							if t >= start && t < start+span {
								vs = append(vs, visit{t, client})
							}
						}
					}
				}
				slices.SortStableFunc(vs, func(a, b visit) int { return cmp.Compare(a.t, b.t) })
				for _, v := range vs {
					if !p.wait(v.t) {
						return
					}
					p.session(Session{Proto: tcp, Client: v.client, Server: FileServer, ClientPort: p.eph(), ServerPort: 445,
						Start: v.t, Dur: 2 * sec, Up: uint64(2000 + p.rng.IntN(5000)), Down: uint64(20000 + p.rng.IntN(200000)),
						AnswerOnly: p.rng.IntN(10) == 0})
				}
			}
		})
	decoy("D6", DecoyBackup, "nightly backup at 02:00: 500 MB to an internal server in 20 minutes",
		ip4(10, 1, 0, 30), ip4(10, 0, 0, 50), tcp, func(p *proc) {
			for d := dayOf(start); d < start+span; d += day {
				t := d + 2*hr
				if t < start || t+20*mn > start+span {
					continue
				}
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: tcp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: p.eph(), ServerPort: 22,
					Start: t, Dur: 20 * mn, Up: 500_000_000, Down: 2_000_000})
			}
		})
	decoy("D7", DecoyDownload, "a 2 GB download in 15 minutes, cut every 60 s by an active timeout",
		ip4(10, 1, 0, 31), ip4(198, 18, 200, 1), tcp, func(p *proc) {
			t := p.when(0.15)
			if p.wait(t) {
				p.session(Session{Proto: tcp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: p.eph(), ServerPort: 443,
					Start: t, Dur: 15 * mn, Up: 3_000_000, Down: 2_000_000_000, Split: mn})
			}
		})
	decoy("D8", DecoyWebServer, "an external client downloading 40 files of 10 MB from the internal web server (a server response, not exfiltration)",
		ip4(192, 0, 2, 44), webServer, tcp, func(p *proc) {
			t := p.when(0.33)
			for range 40 {
				t += int64(p.rng.ExpFloat64() * 5 * float64(mn))
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: tcp, Client: p.ev.Src, Server: webServer, ClientPort: p.eph(), ServerPort: 443,
					Start: t, Dur: 30 * sec, Up: 50_000, Down: 10_000_000})
			}
		})
	decoy("D9", DecoyVideoCall, "a one-hour video call, 600 MB each way, cut every 60 s by an active timeout (two-way)",
		ip4(10, 1, 0, 45), ip4(203, 0, 113, 99), udp, func(p *proc) {
			t := p.when(0.48)
			if p.wait(t) {
				p.session(Session{Proto: udp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: 50000, ServerPort: 3478,
					Start: t, Dur: hr, Up: 600_000_000, Down: 600_000_000, Split: mn})
			}
		})
	decoy("D10", DecoySSH, "an SSH session of 8 hours, exported every 60 s by an active timeout",
		LongSessionIP, ip4(198, 51, 100, 60), tcp, func(p *proc) {
			t := p.when(0.10)
			if p.wait(t) {
				p.session(Session{Proto: tcp, Client: LongSessionIP, Server: p.ev.Dst, ClientPort: 51515, ServerPort: 22,
					Start: t, Dur: 8 * hr, Up: 5_000_000, Down: 20_000_000, Split: mn})
			}
		})
	decoy("D11", DecoyNTP, "NTP to an external server every 1024 s",
		ip4(10, 1, 0, 49), ip4(162, 159, 200, 1), udp, func(p *proc) {
			for t := start + 3*mn; t < start+span; t += 1024 * sec {
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: udp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: 123, ServerPort: 123,
					Start: t, Dur: 10 * ms, Up: 76, Down: 76, Biflow: true})
			}
		})
	decoy("D12", DecoyPoller, "polling one server at exponential intervals (mean 5 minutes) with constant sizes",
		RandomClient, ip4(198, 51, 100, 50), tcp, func(p *proc) {
			p.poll(func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * float64(5*mn)) })
		})
	decoy("D13", DecoyPoller, "polling one server at uniform intervals of 10-600 s with constant sizes",
		ip4(10, 1, 0, 40), ip4(198, 51, 100, 40), tcp, func(p *proc) {
			p.poll(func(r *rand.Rand) int64 { return int64(10+r.IntN(590)) * sec })
		})
	decoy("D14", DecoyBrowsing, "a person browsing at random intervals (mean 5 minutes) on workdays 08:00-18:00, each visit after a DNS query to the internal resolver",
		ip4(10, 1, 0, 42), netip.Addr{}, tcp, func(p *proc) {
			client := p.ev.Src
			for t := start + int64(p.rng.ExpFloat64()*float64(5*mn)); t < start+span; t += int64(p.rng.ExpFloat64() * float64(5*mn)) {
				if !officeHours(t) {
					continue
				}
				if !p.wait(t) {
					return
				}
				site := ip4(198, 18, byte(p.rng.IntN(4)), byte(1+p.rng.IntN(40)))
				p.session(Session{Proto: udp, Client: client, Server: Resolver, ClientPort: p.eph(), ServerPort: 53,
					Start: t, Dur: 5 * ms, Up: 70, Down: 150, Biflow: true})
				p.session(Session{Proto: tcp, Client: client, Server: site, ClientPort: p.eph(), ServerPort: 443,
					Start: t + 30*ms, Dur: int64(200+p.rng.IntN(20000)) * ms, Up: uint64(600 + p.rng.IntN(2500)),
					Down: uint64(5000 + p.rng.IntN(500000)), Biflow: true})
			}
		})
	decoy("D15", DecoyServices, "a client reaching 21 services (ports 8000-8020) of one server, spread over the span (hours apart)",
		ip4(10, 1, 0, 47), ip4(10, 0, 0, 60), tcp, func(p *proc) {
			for i := range 21 {
				t := start + int64(i)*span/21 + 30*mn
				if !p.wait(t) {
					return
				}
				p.session(Session{Proto: tcp, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: p.eph(), ServerPort: uint16(8000 + i),
					Start: t, Dur: sec, Up: 500, Down: 5000})
			}
		})
	return ps
}

// beaconSpec: connections every period times a jitter factor, from..to
// (offsets from the start until the scenario resolves them).
type beaconSpec struct {
	id         string
	src, dst   netip.Addr
	port       uint16
	proto      uint8
	period     int64
	jitter     func(r *rand.Rand) float64
	jitterText string
	from, dur  int64 // from < 0: a fraction of the span, in hundredths
	office     bool  // 08:00-18:00 on workdays only
	biflow     bool
}

func (p *proc) beacon(b beaconSpec, from, to int64) {
	for t := from; t < to; t += int64(float64(b.period) * b.jitter(p.rng)) {
		if b.office && !officeHours(t) {
			continue
		}
		if !p.wait(t) {
			return
		}
		down := uint64(310 + p.rng.IntN(20))
		if p.rng.IntN(20) == 0 {
			down = uint64(5000 + p.rng.IntN(50000)) // tasking
		}
		s := Session{Proto: b.proto, Client: b.src, Server: b.dst, ClientPort: p.eph(), ServerPort: b.port, Start: t,
			Dur: 300 * ms, Up: 420, Down: down, Biflow: b.biflow}
		if b.proto == flow.ProtoUDP {
			s.Dur, s.Up = 10*ms, 90
		}
		p.session(s)
	}
}

// poll: connections with constant sizes at random gaps, all along.
func (p *proc) poll(gap func(*rand.Rand) int64) {
	start, end := p.cfg.Start.UnixNano(), p.end()
	for t := start + gap(p.rng); t < end; t += gap(p.rng) + ms {
		if !p.wait(t) {
			return
		}
		p.session(Session{Proto: flow.ProtoTCP, Client: p.ev.Src, Server: p.ev.Dst, ClientPort: p.eph(), ServerPort: 443,
			Start: t, Dur: sec, Up: 900, Down: 4000, Biflow: true})
	}
}

// uniform jitter: the period times 1±j.
func uniform(j float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return 1 - j + 2*j*r.Float64() }
}

// shortened jitter, as Cobalt Strike's: the sleep shortened by up to j.
func shortened(j float64) func(*rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return 1 - j*r.Float64() }
}

// every says a period the way people do: 30 s, 5 min, 1 h.
func every(d int64) string {
	switch {
	case d >= hr && d%hr == 0:
		return strconv.FormatInt(d/hr, 10) + " h"
	case d >= mn && d%mn == 0:
		return strconv.FormatInt(d/mn, 10) + " min"
	}
	return strconv.FormatInt(d/sec, 10) + " s"
}

// dayOf is the start of t's UTC day.
func dayOf(t int64) int64 { return t - ((t%day)+day)%day }

func workday(t int64) bool {
	wd := time.Unix(0, t).UTC().Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// officeHours: 08:00-18:00 UTC on Monday to Friday.
func officeHours(t int64) bool {
	h := (t - dayOf(t)) / hr
	return workday(t) && h >= 8 && h < 18
}
