package detectors

import (
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// ConnConfig says how flow records are joined into connections before
// attempts are counted. The zero value means the defaults.
//
// A record belongs to an open connection with the same 5-tuple (either
// direction) when it starts no later than Gap after the connection's last
// record ended; for a TCP connection that is established (an ACK was seen)
// and not yet closed (no FIN or RST), records without SYN continue it for up
// to Idle, so a long session exported in pieces by an active or inactive
// timeout stays one connection. A SYN from the opener after the previous
// records ended starts a new connection on a reused port.
type ConnConfig struct {
	Gap  time.Duration // default 10s
	Idle time.Duration // default 15m
	// ReplyWait is how long after a connection's start the detectors get
	// it, so the replies and split records that start within it are merged
	// first (its failure is judged then). Default 10s; at most Gap.
	ReplyWait time.Duration
}

// Connection defaults.
const (
	DefaultConnGap       = 10 * time.Second
	DefaultConnIdle      = 15 * time.Minute
	DefaultConnReplyWait = 10 * time.Second
)

func (c ConnConfig) withDefaults() ConnConfig {
	if c.Gap <= 0 {
		c.Gap = DefaultConnGap
	}
	if c.Idle <= 0 {
		c.Idle = DefaultConnIdle
	}
	if c.ReplyWait <= 0 {
		c.ReplyWait = DefaultConnReplyWait
	}
	c.ReplyWait = min(c.ReplyWait, c.Gap)
	c.Idle = max(c.Idle, c.Gap)
	return c
}

// ckey is a 5-tuple of address ids in canonical order (lower id and port
// first), so both directions of a connection find the same entry. ICMP has
// no ports: loPort is 0 and hiPort says whether the messages are errors (1)
// or requests and replies (0).
type ckey struct {
	lo, hi         uint32
	loPort, hiPort uint16
	proto          uint8
}

// conn is a connection as the detectors see it: oriented from the side
// that opened it (src) to the side that answered (dst).
type conn struct {
	key                   ckey
	src, dst              uint32 // address ids
	sport, dport          uint16
	proto                 uint8
	icmpType              uint8
	icmpErr               bool
	openerLo              bool // the opener is key.lo
	start, lastStart, end int64
	// Raw counters from the opener's point of view (fwd = opener->responder).
	fwdBytes, revBytes uint64
	fwdPkts, revPkts   uint64
	scaled             uint64 // fwd+rev bytes times each record's sampling interval
	// fwdFlags are the TCP flags of records in the opener's direction (both
	// directions for biflow records), revFlags those of reply records.
	fwdFlags, revFlags uint8
	biflow             bool
	sampled            bool // a record of it was sampled (interval above 1)
	records            uint32
	origin             [2]uint32 // origin ids of its records (the first two distinct)
	nOrigin            uint8
	used, emitted      bool
	detached           bool   // replaced in the table by a newer connection
	exfilPair          uint32 // the reference of its records' Exfil pair (0: not yet known)
	exfilMatched       uint64 // min(fwdBytes, revBytes) already counted by Exfil (two-way bytes)
	// undecided: its first two records, one each way, started at the same
	// time and neither flags nor ports tell who opened it (portsUndecided):
	// the first in the stream was taken as the opener's.
	undecided bool
}

func (c *conn) flags() uint8 { return c.fwdFlags | c.revFlags }

func (c *conn) established() bool { return c.flags()&flow.ACK != 0 }

func (c *conn) closed() bool { return c.flags()&(flow.FIN|flow.RST) != 0 }

// failed reports whether the attempt failed or went unanswered: for TCP,
// the opener never acknowledged (SYN without ACK), the other side answered
// only with resets, one or two bare ACKs went unanswered, no packet carried
// an ACK at all, or the connection was reset before any data was pushed;
// for other
// protocols (and TCP records without flags), nothing came back: no packet
// and no byte (firewalls such as Cisco's ASA count bytes only).
func (c *conn) failed() bool {
	f := c.flags()
	if c.proto != flow.ProtoTCP || f == 0 {
		return c.revPkts == 0 && c.revBytes == 0
	}
	if !c.biflow && c.fwdFlags&flow.SYN != 0 && c.fwdFlags&flow.ACK == 0 {
		return true
	}
	if !c.biflow && c.revFlags&flow.RST != 0 && c.revFlags&(flow.SYN|flow.PSH|flow.FIN) == 0 {
		return true // the answer was only a reset: refused, whatever the probe carried (FIN, Xmas)
	}
	if !c.biflow && !c.sampled && c.revPkts == 0 && c.revBytes == 0 && f == flow.ACK && c.fwdPkts <= 2 {
		// A bare ACK or two that nothing answered: an ACK ping or scan
		// (nmap -PA, -sA). Not when sampled: one sampled packet of a
		// session is as often a bare ACK with its answer unsampled.
		return true
	}
	return f&flow.ACK == 0 || (f&flow.RST != 0 && f&flow.PSH == 0)
}

// merge adds a record; fromOpener says whether r's source is the opener.
func (c *conn) merge(r *flow.Record, fromOpener bool, orig uint32) {
	samp := r.Sampling()
	c.sampled = c.sampled || samp > 1
	c.lastStart = max(c.lastStart, r.Start)
	c.end = max(c.end, r.End)
	c.records++
	c.scaled = addSat(c.scaled, mulSat(addSat(r.Bytes, r.RevBytes), samp))
	if fromOpener {
		c.fwdBytes = addSat(c.fwdBytes, r.Bytes)
		c.revBytes = addSat(c.revBytes, r.RevBytes)
		c.fwdPkts += r.Packets
		c.revPkts += r.RevPackets
		c.fwdFlags |= r.TCPFlags
	} else {
		c.fwdBytes = addSat(c.fwdBytes, r.RevBytes)
		c.revBytes = addSat(c.revBytes, r.Bytes)
		c.fwdPkts += r.RevPackets
		c.revPkts += r.Packets
		c.revFlags |= r.TCPFlags
	}
	if r.RevPackets > 0 || r.RevBytes > 0 {
		c.biflow = true
	}
	switch {
	case c.nOrigin == 0:
		c.origin[0], c.nOrigin = orig, 1
	case c.nOrigin == 1 && orig != c.origin[0]:
		c.origin[1], c.nOrigin = orig, 2
	}
}

// init makes c a new connection from its first record, whose view v has
// the address and origin ids.
func (c *conn) init(k ckey, r *flow.Record, v *recView, srcLo, srcOpened bool) {
	*c = conn{key: k, proto: r.Proto, start: r.Start, lastStart: r.Start, end: r.End, used: true}
	c.openerLo = srcLo == srcOpened
	if srcOpened {
		c.src, c.dst, c.sport, c.dport = v.src, v.dst, r.SrcPort, r.DstPort
	} else {
		c.src, c.dst, c.sport, c.dport = v.dst, v.src, r.DstPort, r.SrcPort
	}
	if flow.IsICMP(r.Proto) {
		t, _ := icmpTypeCode(r)
		c.icmpType, c.icmpErr = t, classifyICMP(r.Proto, t) == icmpError
		c.sport, c.dport = 0, 0
	}
	c.merge(r, srcOpened, v.orig)
}

// canon returns the canonical key of r (address ids s and d) and whether
// r's source is key.lo.
func canon(r *flow.Record, s, d uint32) (ckey, bool) {
	if flow.IsICMP(r.Proto) {
		t, _ := icmpTypeCode(r)
		var class uint16
		if classifyICMP(r.Proto, t) == icmpError {
			class = 1
		}
		if s <= d {
			return ckey{s, d, 0, class, r.Proto}, true
		}
		return ckey{d, s, 0, class, r.Proto}, false
	}
	if s < d || (s == d && r.SrcPort <= r.DstPort) {
		return ckey{s, d, r.SrcPort, r.DstPort, r.Proto}, true
	}
	return ckey{d, s, r.DstPort, r.SrcPort, r.Proto}, false
}

// srcOpens guesses, from one record alone, whether its source opened the
// connection. It is used only when no earlier record of the connection is
// known. In order: a TCP SYN without ACK is the opener's; a lone SYN+ACK or
// RST+ACK without data is a server's answer (not both: SYN, ACK and RST
// together are also a client's connect and reset); an ICMP reply or error answers
// the other side; otherwise ports decide: a service port talking to a
// non-service port is a server replying, and between two unknown ports a
// low port talking to an ephemeral one is too.
func srcOpens(r *flow.Record) bool {
	switch {
	case r.Proto == flow.ProtoTCP:
		if v, ok := tcpOpener(r); ok {
			return v
		}
	case flow.IsICMP(r.Proto):
		t, _ := icmpTypeCode(r)
		return classifyICMP(r.Proto, t) == icmpRequest
	}
	sSvc, dSvc := isService(r.SrcPort), isService(r.DstPort)
	switch {
	case sSvc != dSvc:
		return dSvc
	case sSvc:
		return true
	}
	return !(r.SrcPort < ephemeralFrom && r.DstPort >= ephemeralFrom)
}

// portsUndecided reports whether nothing in r tells who opened its
// connection but the order of its records: no TCP flags that decide, and
// ports alike both ways (both service ports, or neither, on the same side
// of ephemeralFrom), so srcOpens says "the source" of r and of its answer.
func portsUndecided(r *flow.Record) bool {
	if flow.IsICMP(r.Proto) {
		return false
	}
	if r.Proto == flow.ProtoTCP {
		if _, known := tcpOpener(r); known {
			return false
		}
	}
	sSvc, dSvc := isService(r.SrcPort), isService(r.DstPort)
	return sSvc == dSvc && (sSvc || (r.SrcPort >= ephemeralFrom) == (r.DstPort >= ephemeralFrom))
}

func tcpOpener(r *flow.Record) (srcOpened, known bool) {
	f := r.TCPFlags
	if f&flow.SYN != 0 && f&flow.ACK == 0 {
		return true, true
	}
	if r.RevPackets > 0 || r.RevBytes > 0 || f&(flow.PSH|flow.FIN) != 0 || r.Packets > 3 {
		return false, false
	}
	if f&flow.ACK != 0 && (f&flow.SYN != 0) != (f&flow.RST != 0) {
		return false, true // SYN+ACK or RST+ACK alone: the answer of a server
	}
	// SYN, ACK and RST together are as often a client's connect-and-reset
	// (a connect scan of an open port: SYN, ACK, RST) as a server's
	// SYN+ACK later reset: the ports decide.
	return false, false
}

// connSink receives connections ReplyWait after they start, in start order.
// The pointer is valid only during the call.
type connSink interface{ addConn(c *conn) }

// recView is what the tracker tells about one record: its address and
// origin ids, whether its source opened the connection and whether it
// started one.
type recView struct {
	src, dst, orig   uint32
	srcOpened, isNew bool
	tied             bool  // this record made its connection undecided
	conn             *conn // valid until the next record
}

// SilenceGap is the longest stretch without a single record that is still
// observed time: longer ones are a sensor that was off or evidence of
// another period, and beacons' coverage is not measured over them.
const SilenceGap = int64(7 * 24 * time.Hour)

// tracker joins records into connections and hands them to its sinks. Its
// memory is the connections active within the last Gap (Idle for open TCP
// sessions), not the number of records.
type tracker struct {
	tabs
	gap, idle, wait int64
	table           connTable // key -> index into conns
	conns           []conn
	free            []uint32
	pend            fifo  // indices of connections not yet emitted, in start order
	first, clock    int64 // start of the first record, latest start
	seen            bool
	silent          int64 // time in gaps of more than SilenceGap between records
	nextSweep       int64
	sinceSweep      int // records since the last sweep
	sinks           []connSink
}

func newTracker(cfg ConnConfig) *tracker {
	cfg = cfg.withDefaults()
	return &tracker{
		gap: int64(cfg.Gap), idle: int64(cfg.Idle), wait: int64(cfg.ReplyWait),
		table: newConnTable(), tabs: newTabs(),
	}
}

// add joins r into its connection and says what it found.
func (t *tracker) add(r *flow.Record) recView {
	return t.addIDs(r, t.addrs.id(r.SrcAddr), t.addrs.id(r.DstAddr))
}

// addIDs is add for a record whose addresses have ids src and dst.
func (t *tracker) addIDs(r *flow.Record, src, dst uint32) recView {
	if !t.seen {
		t.seen, t.first, t.clock = true, r.Start, r.Start
	} else if r.Start-t.clock > SilenceGap {
		t.silent += r.Start - t.clock
	}
	t.clock = max(t.clock, r.Start)
	v := recView{src: src, dst: dst, orig: t.origs.id(r)}
	k, srcLo := canon(r, v.src, v.dst)
	slot, found := t.table.find(k)
	if found {
		c := &t.conns[t.table.slots[slot].val]
		if t.continues(c, r, srcLo) {
			v.srcOpened, v.conn = c.openerLo == srcLo, c
			if !v.srcOpened && c.records == 1 && r.Start == c.start && portsUndecided(r) {
				// The ports are alike both ways, so the first record's
				// opener was as much a guess.
				c.undecided, v.tied = true, true
			}
			c.merge(r, v.srcOpened, v.orig)
			t.tick()
			return v
		}
		c.detached = true
	}
	i := t.alloc()
	t.conns[i].init(k, r, &v, srcLo, srcOpens(r))
	t.table.put(slot, k, i, found)
	t.pend.push(i)
	t.tick()
	v.srcOpened, v.isNew, v.conn = t.conns[i].openerLo == srcLo, true, &t.conns[i]
	return v
}

func (t *tracker) limit(c *conn) int64 {
	if c.proto == flow.ProtoTCP && c.established() && !c.closed() {
		return t.idle
	}
	return t.gap
}

// continues reports whether r belongs to c. ICMP error messages are never
// joined: each one reports on another packet.
func (t *tracker) continues(c *conn, r *flow.Record, srcLo bool) bool {
	if r.Start > c.end+t.limit(c) || c.icmpErr {
		return false
	}
	fromOpener := c.openerLo == srcLo
	reopen := fromOpener && r.Proto == flow.ProtoTCP && r.TCPFlags&flow.SYN != 0 &&
		r.Start > c.end && (c.established() || c.closed())
	return !reopen
}

func (t *tracker) alloc() uint32 {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		return i
	}
	t.conns = append(t.conns, conn{})
	return uint32(len(t.conns) - 1)
}

// tick emits the connections that are due and, once per Gap of stream
// time (and no more often than every len(conns)/4 records, so a sweep costs
// at most four slots per record), frees those that can no longer grow.
func (t *tracker) tick() {
	for t.pend.len() > 0 {
		c := &t.conns[t.pend.peek()]
		if c.start+t.wait > t.clock {
			break
		}
		t.pend.pop()
		t.emit(c)
	}
	t.sinceSweep++
	if t.clock >= t.nextSweep && t.sinceSweep >= len(t.conns)/4 {
		t.sweep()
		t.nextSweep, t.sinceSweep = t.clock+t.gap, 0
	}
}

func (t *tracker) emit(c *conn) {
	c.emitted = true
	for _, s := range t.sinks {
		s.addConn(c)
	}
}

func (t *tracker) sweep() {
	for i := range t.conns {
		c := &t.conns[i]
		if !c.used || !c.emitted {
			continue
		}
		if c.detached || c.end+t.limit(c) < t.clock {
			if !c.detached {
				t.table.delValue(uint32(i))
			}
			c.used = false
			t.free = append(t.free, uint32(i))
		}
	}
}

// flush emits every pending connection; call it after the last record.
func (t *tracker) flush() {
	for t.pend.len() > 0 {
		t.emit(&t.conns[t.pend.pop()])
	}
}

// fifo is a queue of indices that reuses its buffer.
type fifo struct {
	buf  []uint32
	head int
}

func (q *fifo) len() int      { return len(q.buf) - q.head }
func (q *fifo) peek() uint32  { return q.buf[q.head] }
func (q *fifo) push(v uint32) { q.buf = append(q.buf, v) }

func (q *fifo) pop() uint32 {
	v := q.buf[q.head]
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		q.buf, q.head = q.buf[:n], 0
	}
	return v
}
