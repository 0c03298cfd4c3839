// Package meter turns the packets of a traffic capture into flow records, as a flow exporter
// (softflowd, a router's NetFlow cache) would: one record per direction of a conversation,
// keyed by addresses, transport ports and protocol, ended by an idle timeout, an active
// timeout, or a new TCP connection on the same ports after a FIN or RST.
//
// Records carry what exporters' records carry: first and last packet times, bytes (IP
// lengths, as on the wire) and packets, the TCP flags seen, and the ICMP type and code of the
// flow's first packet. ICMP flows are keyed by addresses only (ports 0), as softflowd keys
// them, and fragments other than the first carry no ports, so they make flows of their own
// with ports 0, as routers export them. The meter keeps no packet and no payload: its memory
// is one entry per flow open at a time, and at most Config.MaxFlows of them.
package meter

import (
	"net/netip"
	"time"

	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
)

// Config sets the meter's timeouts and its table size. The zero value means the defaults.
type Config struct {
	// Idle ends a flow that has seen no packet for this long (default 15 s, the inactive
	// timeout routers default to).
	Idle time.Duration
	// Active ends a flow that has lasted this long; its next packet starts a new record
	// (default 30 min, likewise).
	Active time.Duration
	// MaxFlows is how many flows may be open at once (default 1<<20); beyond it the flow idle
	// the longest is ended early and counted in Stats.Evicted.
	MaxFlows int
}

// Defaults.
const (
	DefaultIdle     = 15 * time.Second
	DefaultActive   = 30 * time.Minute
	DefaultMaxFlows = 1 << 20
)

func (c Config) withDefaults() Config {
	if c.Idle <= 0 {
		c.Idle = DefaultIdle
	}
	if c.Active <= 0 {
		c.Active = DefaultActive
	}
	if c.MaxFlows <= 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	return c
}

// Stats count what the meter did.
type Stats struct {
	Packets   uint64 // packets metered
	Bytes     uint64 // their IP lengths
	Flows     uint64 // records emitted
	Fragments uint64 // non-first fragments (flows with ports 0)
	Cut       uint64 // packets whose transport header the snap length cut (ports 0)
	Idle      uint64 // records ended by the idle timeout (the rest: active timeout, new TCP connection, end of capture, eviction)
	Active    uint64 // records ended by the active timeout
	Restarted uint64 // records ended by a new TCP connection on the same ports
	Evicted   uint64 // records ended early because the table was full
	Reordered uint64 // packets dated before a packet already metered (counted at the later time)
}

// key is a flow's key, addresses as 16 bytes (IPv4 mapped): no pointers,
// so the table hashes and compares it as plain memory.
type key struct {
	src, dst     [16]byte
	sport, dport uint16
	proto        uint8
}

// entry is one open flow; entries form a list in order of their last packet, so the idle
// ones are found at its head.
type entry struct {
	key        key
	start, end int64
	// seen is the meter's clock (the latest packet time so far) at the
	// flow's last packet: the idle list is in its order, which a packet
	// out of time order keeps (ordered by end, each one walked the list).
	seen               int64
	bytes, packets     uint64
	flags              uint8
	icmpType, icmpCode uint8
	closed             bool // a FIN or RST was seen
	prev, next         int32
}

// Meter accumulates flows. It is not safe for concurrent use.
type Meter struct {
	cfg        Config
	idle, act  int64
	emit       func(*flow.Record)
	index      map[key]int32
	ents       []entry
	free       []int32
	head, tail int32
	now        int64
	rec        flow.Record
	st         Stats
}

const none = -1

// New returns a meter that hands every finished record to emit. The record is reused after
// emit returns.
func New(cfg Config, emit func(*flow.Record)) *Meter {
	cfg = cfg.withDefaults()
	return &Meter{cfg: cfg, idle: int64(cfg.Idle), act: int64(cfg.Active), emit: emit,
		index: make(map[key]int32), head: none, tail: none}
}

// Config returns the configuration in force, defaults filled in.
func (m *Meter) Config() Config { return m.cfg }

// Stats returns the counts so far.
func (m *Meter) Stats() Stats { return m.st }

// Open returns the number of flows open now.
func (m *Meter) Open() int { return len(m.index) }

// Add meters one packet. Packets should come in capture order; one dated before the latest
// seen is counted at that latest time for expiry (Stats.Reordered), with its own time in its
// flow.
func (m *Meter) Add(h *pcap.Headers) {
	t := h.Time
	if t < m.now {
		m.st.Reordered++
	} else {
		m.now = t
		m.expire()
	}
	m.st.Packets++
	m.st.Bytes += uint64(h.Length)
	k := key{src: h.Src.As16(), dst: h.Dst.As16(), proto: h.Proto}
	switch {
	case h.Fragment:
		m.st.Fragments++
	case h.Cut:
		m.st.Cut++
	case h.Proto != flow.ProtoICMP && h.Proto != flow.ProtoICMPv6:
		k.sport, k.dport = h.SrcPort, h.DstPort
	}
	i, ok := m.index[k]
	if ok {
		e := &m.ents[i]
		switch {
		case t-e.end > m.idle:
			// Idle for longer than the timeout, though expire has not
			// reached it: a packet out of time order kept it behind a
			// flow that ended later.
			m.st.Idle++
			m.end(i)
			ok = false
		case t-e.start >= m.act:
			m.st.Active++
			m.end(i)
			ok = false
		case e.closed && h.Proto == flow.ProtoTCP && h.TCPFlags&flow.SYN != 0:
			m.st.Restarted++
			m.end(i)
			ok = false
		}
	}
	if !ok {
		if len(m.index) >= m.cfg.MaxFlows {
			m.st.Evicted++
			m.end(m.head)
		}
		i = m.open(k, h)
	} else {
		m.unlink(i)
	}
	e := &m.ents[i]
	e.seen = m.now
	e.start, e.end = min(e.start, t), max(e.end, t)
	e.bytes += uint64(h.Length)
	e.packets++
	e.flags |= h.TCPFlags
	if h.Proto == flow.ProtoTCP && h.TCPFlags&(flow.FIN|flow.RST) != 0 {
		e.closed = true
	}
	m.append(i)
}

// Flush ends every open flow, oldest last packet first (at the end of the capture).
func (m *Meter) Flush() {
	for m.head != none {
		m.end(m.head)
	}
}

// expire ends the flows idle for longer than the idle timeout at m.now.
func (m *Meter) expire() {
	for m.head != none && m.now-m.ents[m.head].seen > m.idle {
		m.st.Idle++
		m.end(m.head)
	}
}

func (m *Meter) open(k key, h *pcap.Headers) int32 {
	var i int32
	if n := len(m.free); n > 0 {
		i, m.free = m.free[n-1], m.free[:n-1]
	} else {
		i = int32(len(m.ents))
		m.ents = append(m.ents, entry{})
	}
	m.ents[i] = entry{key: k, start: h.Time, end: h.Time, icmpType: h.ICMPType, icmpCode: h.ICMPCode, prev: none, next: none}
	m.index[k] = i
	return i
}

// end emits flow i and frees its entry.
func (m *Meter) end(i int32) {
	e := &m.ents[i]
	m.rec = flow.Record{
		Start: e.start, End: e.end,
		SrcAddr: netip.AddrFrom16(e.key.src).Unmap(), DstAddr: netip.AddrFrom16(e.key.dst).Unmap(),
		SrcPort: e.key.sport, DstPort: e.key.dport, Proto: e.key.proto,
		TCPFlags: e.flags, Bytes: e.bytes, Packets: e.packets, ICMPType: e.icmpType, ICMPCode: e.icmpCode,
		SamplingInterval: 1,
	}
	m.unlink(i)
	delete(m.index, e.key)
	*e = entry{}
	m.free = append(m.free, i)
	m.st.Flows++
	m.emit(&m.rec)
}

func (m *Meter) unlink(i int32) {
	e := &m.ents[i]
	if e.prev != none {
		m.ents[e.prev].next = e.next
	} else {
		m.head = e.next
	}
	if e.next != none {
		m.ents[e.next].prev = e.prev
	} else {
		m.tail = e.prev
	}
	e.prev, e.next = none, none
}

func (m *Meter) append(i int32) {
	e := &m.ents[i]
	e.prev, e.next = m.tail, none
	if m.tail != none {
		m.ents[m.tail].next = i
	} else {
		m.head = i
	}
	m.tail = i
}
