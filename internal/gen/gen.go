// Package gen makes synthetic flow evidence, deterministic for a seed:
// background traffic of a small office network over days and, with
// Config.Planted, a scenario of planted events that each detector should
// find (vertical scans, sweeps, exfiltration, beacons with jitter) and
// decoys that none should (a busy internal server with many clients, a
// web proxy on 443, an internal backup, a large inbound download, browsing
// and polling at random intervals, DNS to an internal resolver, NTP, a
// video call, an SSH session exported every 60 s by an active timeout, an
// internal web server answering an external client, a client reaching 21
// services hours apart), with its ground truth (Truth).
//
// Records stream out in non-decreasing start order with millisecond times,
// as NetFlow exporters give them; memory stays bounded whatever the number
// of flows or the span (only records of connections in progress are held).
// The scenario is laid out over the span (events at fractions of it, some
// at times of day); it is meant for spans of a day or more.
package gen

import (
	"hash/fnv"
	"iter"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// Config describes a dataset.
type Config struct {
	Flows     int       // background records (the scenario comes on top)
	Start     time.Time // first flow
	Span      time.Duration
	Seed      uint64
	IPv6Share float64 // share of background flows over IPv6
	Planted   bool    // add the scenario: planted events and decoys
}

// Addresses of the scenario's main actors, for tests, benchmarks and the
// README; Truth has them all.
var (
	ScanSource    = netip.MustParseAddr("10.1.0.66") // S1, a SYN scan of ports 1-1024
	ScanTarget    = netip.MustParseAddr("10.0.0.20")
	SweepSource   = netip.MustParseAddr("10.1.9.9") // W1, 200 hosts on 445
	SweepPort     = uint16(445)
	ExfilSource   = netip.MustParseAddr("10.1.3.7") // E1, 300 MB out
	ExfilDest     = netip.MustParseAddr("198.51.100.23")
	BeaconSource  = netip.MustParseAddr("10.1.4.4") // B2, all along the span
	BeaconDest    = netip.MustParseAddr("203.0.113.200")
	BeaconPort    = uint16(8443)
	BeaconPeriod  = 300 * time.Second
	RandomClient  = netip.MustParseAddr("10.1.6.6") // decoy: random intervals to one server
	LongSessionIP = netip.MustParseAddr("10.1.7.7") // decoy: one SSH session of 8 hours

	Proxy      = netip.MustParseAddr("10.0.0.3")
	FileServer = netip.MustParseAddr("10.0.0.10")
	Resolver   = netip.MustParseAddr("10.0.0.53")
	NTPServer  = netip.MustParseAddr("10.0.0.123")
)

const (
	us  = int64(time.Microsecond)
	ms  = int64(time.Millisecond)
	sec = int64(time.Second)
	mn  = int64(time.Minute)
	hr  = int64(time.Hour)
	day = 24 * hr
)

// msFloor truncates unix ns to the millisecond.
func msFloor(t int64) int64 {
	if m := t % ms; m < 0 {
		return t - m - ms
	} else {
		return t - m
	}
}

// Generate calls emit for every flow, in non-decreasing start order (the
// record is reused after emit returns), and returns the ground truth.
// With Planted false, it emits exactly cfg.Flows records.
func Generate(cfg Config, emit func(*flow.Record)) *Truth {
	tr, _ := generate(cfg, emit)
	return tr
}

// generate is Generate, also returning the merger (for its high-water mark).
func generate(cfg Config, emit func(*flow.Record)) (*Truth, *merger) {
	if cfg.Span <= 0 {
		cfg.Span = 24 * time.Hour
	}
	m := &merger{emit: emit}
	bg := newBackground(cfg)
	var procs []*proc
	if cfg.Planted {
		procs = scenario(cfg, m)
	}
	for _, p := range procs {
		p.start()
	}
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	minProc := func() (int64, int) {
		t, at := int64(math.MaxInt64), -1
		for i, p := range procs {
			if p.at < t {
				t, at = p.at, i
			}
		}
		return t, at
	}
	tp, pi := minProc()
	for {
		tb := bg.next
		lim := min(tb, tp)
		m.flush(lim)
		if lim == math.MaxInt64 {
			break
		}
		if tb <= tp {
			bg.slot(m)
			continue
		}
		procs[pi].step()
		tp, pi = minProc()
	}
	tr := &Truth{Config: cfg, Flows: m.flows}
	for _, p := range procs {
		if !p.ev.Decoy {
			tr.add(p.event())
		}
	}
	for _, d := range bg.decoys {
		tr.add(d.event())
	}
	for _, p := range procs {
		if p.ev.Decoy {
			tr.add(p.event())
		}
	}
	return tr, m
}

func (t *Truth) add(e Event) {
	if e.Connections > 0 {
		t.Events = append(t.Events, e)
	}
}

// merger orders records: scenario records wait in a heap until nothing
// can come before them.
type merger struct {
	emit  func(*flow.Record)
	slab  []flow.Record
	seq   []uint64
	free  []int32
	heap  []int32
	n     uint64
	clock int64 // every later record starts at or after it
	flows int
}

func (m *merger) less(a, b int32) bool {
	if sa, sb := m.slab[a].Start, m.slab[b].Start; sa != sb {
		return sa < sb
	}
	return m.seq[a] < m.seq[b]
}

// push queues a record, its times truncated to the millisecond.
func (m *merger) push(r *flow.Record) {
	var i int32
	if k := len(m.free); k > 0 {
		i, m.free = m.free[k-1], m.free[:k-1]
	} else {
		i = int32(len(m.slab))
		m.slab = append(m.slab, flow.Record{})
		m.seq = append(m.seq, 0)
	}
	x := &m.slab[i]
	*x = *r
	x.Start, x.End = msFloor(x.Start), msFloor(x.End)
	x.End = max(x.End, x.Start)
	if x.SamplingInterval == 0 {
		x.SamplingInterval = 1
	}
	if x.Start < m.clock {
		panic("gen: a record goes back in time")
	}
	m.seq[i] = m.n
	m.n++
	h := append(m.heap, i)
	for j := len(h) - 1; j > 0; {
		p := (j - 1) / 2
		if !m.less(h[j], h[p]) {
			break
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
	m.heap = h
}

// flush emits the queued records that start at or before lim.
func (m *merger) flush(lim int64) {
	m.clock = max(m.clock, lim)
	for len(m.heap) > 0 && m.slab[m.heap[0]].Start <= lim {
		h := m.heap
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for j := 0; ; {
			c := 2*j + 1
			if c >= len(h) {
				break
			}
			if c+1 < len(h) && m.less(h[c+1], h[c]) {
				c++
			}
			if !m.less(h[c], h[j]) {
				break
			}
			h[j], h[c] = h[c], h[j]
			j = c
		}
		m.heap = h
		m.out(&m.slab[top])
		m.free = append(m.free, top)
	}
}

// out emits a record now.
func (m *merger) out(r *flow.Record) {
	m.flows++
	m.emit(r)
}

// proc runs one scenario event as a coroutine: its body waits for a time
// (wait), then queues records that start at or after it.
type proc struct {
	m     *merger
	cfg   Config
	rng   *rand.Rand
	ev    Event
	body  func(*proc)
	at    int64 // the time the body waits for; MaxInt64 when done
	next  func() (int64, bool)
	stop  func()
	yield func(int64) bool
	hosts map[netip.Addr]struct{}
	ports map[uint16]struct{}
}

func newProc(cfg Config, m *merger, ev Event, body func(*proc)) *proc {
	h := fnv.New64a()
	h.Write([]byte(ev.ID))
	return &proc{m: m, cfg: cfg, ev: ev, body: body, rng: rand.New(rand.NewPCG(cfg.Seed, h.Sum64())),
		hosts: map[netip.Addr]struct{}{}, ports: map[uint16]struct{}{}}
}

func (p *proc) start() {
	p.next, p.stop = iter.Pull(iter.Seq[int64](func(yield func(int64) bool) {
		p.yield = yield
		p.body(p)
	}))
	p.step()
}

func (p *proc) step() {
	t, ok := p.next()
	if !ok {
		t = math.MaxInt64
	}
	p.at = t
}

// wait suspends the body until every record before t is out; it reports
// false when the body must return.
func (p *proc) wait(t int64) bool { return p.yield(msFloor(t)) }

// when is the start plus a fraction of the span, to the minute.
func (p *proc) when(f float64) int64 {
	return p.cfg.Start.UnixNano() + int64(f*float64(p.cfg.Span))/mn*mn
}

func (p *proc) end() int64 { return p.cfg.Start.UnixNano() + int64(p.cfg.Span) }

func (p *proc) eph() uint16 { return uint16(49152 + p.rng.IntN(16000)) }

// conn counts a connection that src opened towards dst:port at t.
func (p *proc) conn(t int64, src, dst netip.Addr, port uint16, failed bool) {
	countConn(&p.ev, p.hosts, p.ports, msFloor(t), src, dst, port, failed)
}

func countConn(e *Event, hosts map[netip.Addr]struct{}, ports map[uint16]struct{}, t int64, src, dst netip.Addr, port uint16, failed bool) {
	if e.Connections == 0 || t < e.First {
		e.First = t
	}
	e.Last = max(e.Last, t)
	e.Connections++
	if failed {
		e.Failed++
	}
	switch {
	case !e.Dst.IsValid():
		hosts[dst] = struct{}{}
	case !e.Src.IsValid():
		hosts[src] = struct{}{}
	}
	ports[port] = struct{}{}
}

// rec queues a record of a connection that opener opened.
func (p *proc) rec(r *flow.Record, opener netip.Addr) {
	countRec(&p.ev, r, opener)
	p.m.push(r)
}

func countRec(e *Event, r *flow.Record, opener netip.Addr) {
	e.Flows++
	s := r.Sampling()
	if r.SrcAddr == opener {
		e.OutBytes += r.Bytes * s
		e.InBytes += r.RevBytes * s
	} else {
		e.InBytes += r.Bytes * s
		e.OutBytes += r.RevBytes * s
	}
	if r.SamplingInterval > 1 {
		e.Sampling = r.SamplingInterval
	}
}

func (p *proc) session(s Session) {
	p.conn(s.Start, s.Client, s.Server, s.ServerPort, false)
	s.Emit(func(r *flow.Record) { p.rec(r, s.Client) })
}

func (p *proc) probe(src netip.Addr, sp uint16, dst netip.Addr, dp uint16, t int64, o probeOutcome) {
	p.conn(t, src, dst, dp, true)
	probe(func(r *flow.Record) { p.rec(r, src) }, src, sp, dst, dp, t, o)
}

// event returns the truth of the event, once it has run.
func (p *proc) event() Event { return finish(p.ev, p.hosts, p.ports) }

func finish(e Event, hosts map[netip.Addr]struct{}, ports map[uint16]struct{}) Event {
	if len(hosts) > 0 {
		e.Hosts = len(hosts)
	}
	e.Ports = e.Ports[:0:0]
	for p := range ports {
		e.Ports = append(e.Ports, p)
	}
	slices.Sort(e.Ports)
	return e
}
