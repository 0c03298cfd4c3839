package gen

import (
	"math"
	"math/rand/v2"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// background is the office network's everyday traffic: clients in
// 10.1.20.0-10.1.35.255 and fd00:0:0:1::/64 browsing sites in
// 198.18.0.0/17 and 2001:db8:0:2::/64 (HTTPS, HTTP, SSH, SMTP, IMAPS, RDP)
// directly or through the proxy, querying the internal resolver, polling
// the internal NTP server and using the file server. Slots at evenly
// spread times (by record) are visits: bursts of connections from one
// client to one destination. File-server connections give the client's
// and the server's records (or the server's only, as asymmetric routing
// shows them), the others one biflow record each. A few busy hosts make
// most of the traffic.
type background struct {
	cfg   Config
	rng   *rand.Rand
	start int64
	step  float64
	n     int   // records made
	next  int64 // start of the next slot; MaxInt64 when done
	r     flow.Record

	clients, v6c, servers, v6s []netip.Addr

	decoys                []*bgDecoy
	smb, proxy, dns, ntpd *bgDecoy
}

// bgDecoy keeps the truth of a decoy made of background slots.
type bgDecoy struct {
	ev    Event
	hosts map[netip.Addr]struct{}
	ports map[uint16]struct{}
}

func (d *bgDecoy) conn(t int64, src, dst netip.Addr, port uint16) {
	countConn(&d.ev, d.hosts, d.ports, t, src, dst, port, false)
}

func (d *bgDecoy) event() Event { return finish(d.ev, d.hosts, d.ports) }

func newBackground(cfg Config) *background {
	b := &background{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		start: cfg.Start.UnixNano(), step: float64(cfg.Span.Nanoseconds()) / float64(max(cfg.Flows, 1))}
	hosts := min(max(cfg.Flows/200, 20), 4000)
	for i := range hosts {
		b.clients = append(b.clients, netip.AddrFrom4([4]byte{10, 1, byte(20 + i/250), byte(1 + i%250)}))
		b.v6c = append(b.v6c, netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 1, 14: byte(i >> 8), 15: byte(i)}))
	}
	for i := range min(max(cfg.Flows/50, 50), 20000) {
		b.servers = append(b.servers, netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}))
		b.v6s = append(b.v6s, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, 14: byte(i >> 8), 15: byte(i)}))
	}
	mk := func(id, kind, what string, src, dst netip.Addr) *bgDecoy {
		d := &bgDecoy{ev: Event{ID: id, Kind: kind, Decoy: true, What: what, Src: src, Dst: dst},
			hosts: map[netip.Addr]struct{}{}, ports: map[uint16]struct{}{}}
		b.decoys = append(b.decoys, d)
		return d
	}
	b.smb = mk("D1", DecoyBusyServer, "the file server answering many clients on 445 (background); 1 in 10 answers exported without its request",
		netip.Addr{}, FileServer)
	b.smb.ev.Proto = flow.ProtoTCP
	b.proxy = mk("D2", DecoyWebProxy, "the web proxy reaching many sites on 443 for the clients that connect to it on 3128 (background)",
		Proxy, netip.Addr{})
	b.proxy.ev.Proto = flow.ProtoTCP
	b.dns = mk("D3", DecoyDNS, "clients querying the internal resolver (background)", netip.Addr{}, Resolver)
	b.dns.ev.Proto = flow.ProtoUDP
	b.ntpd = mk("D4", DecoyNTP, "clients polling the internal NTP server (background)", netip.Addr{}, NTPServer)
	b.ntpd.ev.Proto = flow.ProtoUDP
	b.advance()
	return b
}

// advance computes the next slot's start.
func (b *background) advance() {
	if b.n >= b.cfg.Flows {
		b.next = math.MaxInt64
		return
	}
	b.next = msFloor(b.start + int64((float64(b.n)+b.rng.Float64()*0.9)*b.step))
}

// pick returns an index skewed towards the start (a few busy hosts).
func (b *background) pick(size int) int {
	x := b.rng.Float64()
	return int(float64(size) * x * x * x)
}

func (b *background) eph() uint16 { return uint16(32768 + b.rng.IntN(28000)) }

type service struct {
	port  uint16
	share float64
}

var webServices = []service{{443, 0.72}, {80, 0.12}, {8080, 0.04}, {22, 0.03}, {25, 0.04}, {993, 0.03}, {3389, 0.02}}

// Shares of the IPv4 slot kinds.
const (
	shareWeb      = 0.55
	shareDNS      = 0.16
	shareProxyIn  = 0.05
	shareProxyOut = 0.10
	shareSMB      = 0.08 // the rest: NTP
)

// slot makes the next slot: a visit of one client to one destination, a
// burst of connections (the parallel connections of a page load, the
// queries of a lookup, the connections of a file copy), as people's
// traffic comes. The first record goes out at once, the others wait in
// the merger. A slot makes at most the records that remain to make.
func (b *background) slot(m *merger) {
	t, rng, r := b.next, b.rng, &b.r
	room := b.cfg.Flows - b.n
	made := 0
	put := func(r *flow.Record) {
		if r.Start == t && made == 0 {
			m.out(r)
		} else {
			m.push(r)
		}
		made++
	}
	// burst returns the number of a visit's connections: 1 and a
	// geometric number more (mean more), at most 12 and what remains.
	burst := func(more float64) int {
		k := 1
		for k < 12 && rng.Float64() < more/(1+more) {
			k++
		}
		return min(k, room)
	}
	// next is the start of a visit's next connection: gaps exponential
	// with mean gap.
	var gap int64
	next := func(tt int64) int64 { return tt + int64(rng.ExpFloat64()*float64(gap)) }
	if rng.Float64() < b.cfg.IPv6Share {
		c, s, port := b.v6c[b.pick(len(b.v6c))], b.v6s[b.pick(len(b.v6s))], b.service()
		gap = 1500 * ms
		k := burst(1.5)
		for i, tt := 0, t; i < k; i, tt = i+1, next(tt) {
			b.web(r, tt, c, s, port)
			put(r)
		}
		b.n += made
		b.advance()
		return
	}
	c := b.clients[b.pick(len(b.clients))]
	switch x := rng.Float64(); {
	case x < shareWeb:
		s, port := b.servers[b.pick(len(b.servers))], b.service()
		gap = 1500 * ms
		k := burst(1.5)
		for i, tt := 0, t; i < k; i, tt = i+1, next(tt) {
			b.web(r, tt, c, s, port)
			put(r)
		}
	case x < shareWeb+shareDNS:
		gap = 200 * ms
		k := burst(1)
		for i, tt := 0, t; i < k; i, tt = i+1, next(tt) {
			*r = flow.Record{Start: tt, End: tt + int64(1+rng.IntN(50))*ms, SrcAddr: c, DstAddr: Resolver, SrcPort: b.eph(), DstPort: 53,
				Proto: flow.ProtoUDP, Bytes: uint64(60 + rng.IntN(30)), Packets: 1, RevBytes: uint64(100 + rng.IntN(300)), RevPackets: 1, SamplingInterval: 1}
			b.dns.conn(tt, c, Resolver, 53)
			countRec(&b.dns.ev, r, c)
			put(r)
		}
	case x < shareWeb+shareDNS+shareProxyIn:
		gap = 1500 * ms
		k := burst(1.5)
		for i, tt := 0, t; i < k; i, tt = i+1, next(tt) {
			b.web(r, tt, c, Proxy, 3128)
			put(r)
		}
	case x < shareWeb+shareDNS+shareProxyIn+shareProxyOut:
		s := b.servers[b.pick(len(b.servers))]
		gap = 1500 * ms
		k := burst(1.5)
		for i, tt := 0, t; i < k; i, tt = i+1, next(tt) {
			b.web(r, tt, Proxy, s, 443)
			b.proxy.conn(tt, Proxy, s, 443)
			countRec(&b.proxy.ev, r, Proxy)
			put(r)
		}
	case x < shareWeb+shareDNS+shareProxyIn+shareProxyOut+shareSMB:
		gap = 3 * sec
		k := burst(1.5)
		for i, tt := 0, t; i < k && made < room; i, tt = i+1, next(tt) {
			s := Session{Proto: flow.ProtoTCP, Client: c, Server: FileServer, ClientPort: b.eph(), ServerPort: 445, Start: tt,
				Dur: int64(200+rng.IntN(3000)) * ms, Up: uint64(2000 + rng.IntN(5000)), Down: uint64(20000 + rng.IntN(200000))}
			s.AnswerOnly = rng.IntN(10) == 0 || room-made < 2
			b.smb.conn(tt, c, FileServer, 445)
			s.Emit(func(r *flow.Record) {
				countRec(&b.smb.ev, r, c)
				put(r)
			})
		}
	default:
		*r = flow.Record{Start: t, End: t + int64(1+rng.IntN(20))*ms, SrcAddr: c, DstAddr: NTPServer, SrcPort: 123, DstPort: 123,
			Proto: flow.ProtoUDP, Bytes: 76, Packets: 1, RevBytes: 76, RevPackets: 1, SamplingInterval: 1}
		b.ntpd.conn(t, c, NTPServer, 123)
		countRec(&b.ntpd.ev, r, c)
		put(r)
	}
	b.n += made
	b.advance()
}

func (b *background) service() uint16 {
	x := b.rng.Float64()
	for _, s := range webServices {
		if x < s.share {
			return s.port
		}
		x -= s.share
	}
	return webServices[0].port
}

// web makes one TCP biflow record; a few attempts go unanswered.
func (b *background) web(r *flow.Record, t int64, c, s netip.Addr, port uint16) {
	rng := b.rng
	*r = flow.Record{Start: t, SrcAddr: c, DstAddr: s, SrcPort: b.eph(), DstPort: port, Proto: flow.ProtoTCP, SamplingInterval: 1}
	if rng.IntN(64) == 0 {
		r.Packets = uint64(1 + rng.IntN(3))
		r.Bytes = 60 * r.Packets
		r.End = t + int64(rng.IntN(3000))*ms
		r.TCPFlags = flow.SYN
		return
	}
	r.Packets = 1 + uint64(rng.ExpFloat64()*8)
	r.RevPackets = r.Packets + uint64(rng.ExpFloat64()*12)
	r.Bytes = r.Packets * uint64(60+rng.IntN(500))
	r.RevBytes = r.RevPackets * uint64(100+rng.IntN(1300))
	r.End = t + int64(rng.ExpFloat64()*4000)*ms
	r.TCPFlags = flow.SYN | flow.ACK | flow.PSH | flow.FIN
}
