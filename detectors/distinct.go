package detectors

import (
	"math"
	"math/bits"

	"github.com/flowcase/flowcase/internal/flow"
)

// distinct is the sliding-window engine behind scans and sweeps: per state
// key PK (a pair, or a source and port) it counts distinct keys K (ports,
// or destinations) attempted within the window. When at least need distinct
// keys are live and the live attempts' failed share is at least minFailed,
// the state qualifies and its attempts join an episode: on entering
// qualification, the not yet absorbed attempts of every live key; while
// qualified, each new attempt. A qualifying attempt more than window after
// the episode's last attempt closes it and opens a new one, so adjacent
// qualifying windows merge into one episode.
//
// States live in an open-addressing table of 72- or 80-byte slots (ports
// or address ids as keys), at most half full. Most states of a large
// capture never hold two distinct keys at once (a client reaching one site,
// or one resolver, now and then), and such a state cannot qualify when need
// is 2 or more, so while its window holds at most one key, all its attempts
// with the same origin, it stays in its slot (a light state): its one
// window entry, its protocols and its origin. A second live key, another
// origin, an ICMP unreachable or a count beyond 32 bits makes it a full
// dstate, which the slot then points to, built as the same attempts would
// have left it.
//
// Once per window of stream time, at an attempt at t, the states idle
// since t-window are dropped (their episodes closed): lazily, a state
// whose last attempt is at or before the latest such cut is treated as
// dropped when it is next looked up, and purged when the table fills up,
// so no sweep walks the table.
type distinct[PK ~uint64, K windowKey] struct {
	need      int
	window    int64
	minFailed float64
	tab       []dslot[K] // by PK (never 0); pk 0: empty
	n         int
	shift     uint // 64 - log2(len(tab))
	full      []dstate[K]
	free      []uint32 // indices of unused full states
	nextSweep int64
	deadCut   int64    // states whose last attempt is at or before it are dropped
	touched   uint64   // keeps touch's loads alive
	pks       []uint64 // touch's scratch
	// closed receives every episode that can no longer grow.
	closed func(pk PK, ep *episode[K])
}

// dslot is a state's key, its last attempt and either its light state or
// the index of its full state. A light state's window entry is key with
// att attempts (fail failed) since it became live, none absorbed: pending
// since first, ending by end, with flows records and raw and scaled bytes.
type dslot[K windowKey] struct {
	pk     uint64
	lastT  int64
	first  int64
	end    int64
	raw    uint64
	scaled uint64
	att    uint32
	fail   uint32
	flows  uint32
	full   uint32 // index of the full state plus 1; 0: light
	orig   uint32 // the origin of every attempt (light)
	key    K
	protos uint8
}

type dstate[K windowKey] struct {
	win       window[K]
	ep        *episode[K]
	qualified bool
	protos    uint8 // protoBit of every attempt since the state was made
	recent    []recentOrigin
	unreach   uint64 // ICMP unreachables not yet in an episode
	unreachAt int64
	unreachEv span // their records
}

// span is the evidence of records without their origins (noted apart).
type span struct {
	first, lastStart, lastEnd int64
	flows, raw, scaled        uint64
}

func (s *span) addConn(c *conn) {
	if s.flows == 0 {
		*s = span{first: c.start, lastStart: c.lastStart, lastEnd: c.end}
	}
	s.first, s.lastStart, s.lastEnd = min(s.first, c.start), max(s.lastStart, c.lastStart), max(s.lastEnd, c.end)
	s.flows += uint64(c.records)
	s.raw += c.fwdBytes + c.revBytes
	s.scaled += c.scaled
}

// recentOrigin is an origin id with the last time an attempt came with it.
type recentOrigin struct {
	id   uint32
	last int64
}

// episode is a run of qualifying windows of one state key.
type episode[K windowKey] struct {
	keys             map[K]struct{}
	attempts, failed uint64
	unreach          uint64
	protos           uint8
	ev               evAcc
	// unreachEv is the evidence of the unreachables, apart from ev, whose
	// last start is the last attempt's (episodes merge on it).
	unreachEv evAcc
}

const distinctMin = 1 << 8

func newDistinct[PK ~uint64, K windowKey](need int, window int64, minFailed float64, closed func(PK, *episode[K])) *distinct[PK, K] {
	d := &distinct[PK, K]{need: need, window: window, minFailed: minFailed, closed: closed, deadCut: math.MinInt64}
	d.tab, d.shift = make([]dslot[K], distinctMin), uint(64-bits.TrailingZeros(distinctMin))
	return d
}

// touch loads the home slots of the state keys pks (see batchSink) in a
// loop of independent loads, so many are in flight at once.
func (d *distinct[PK, K]) touch(pks []uint64) {
	var sum uint64
	for i, pk := range pks {
		pks[i] = uint64(d.home(pk))
	}
	for _, h := range pks {
		sl := &d.tab[h]
		sum += sl.pk + uint64(sl.protos) // a slot's first and last words: it may span two cache lines
	}
	d.touched += sum
}

func (d *distinct[PK, K]) home(pk uint64) int { return int(mix(pk, 0x2d358dccaa6c78a5) >> d.shift) }

// find returns the slot of pk and whether it holds pk; when it does not,
// the slot is where pk goes.
func (d *distinct[PK, K]) find(pk uint64) (int, bool) {
	mask := len(d.tab) - 1
	for i := d.home(pk); ; i = (i + 1) & mask {
		s := &d.tab[i]
		if s.pk == pk {
			return i, true
		}
		if s.pk == 0 {
			return i, false
		}
	}
}

// del empties slot i, shifting later entries of its probe run back.
func (d *distinct[PK, K]) del(i int) {
	mask := len(d.tab) - 1
	for j := (i + 1) & mask; d.tab[j].pk != 0; j = (j + 1) & mask {
		h := d.home(d.tab[j].pk)
		// Move j to i when its home is not within (i, j] cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			d.tab[i] = d.tab[j]
			i = j
		}
	}
	d.tab[i] = dslot[K]{}
	d.n--
}

// dead reports whether the state in s has been dropped.
func (d *distinct[PK, K]) dead(s *dslot[K]) bool { return s.lastT <= d.deadCut }

// drop closes a dropped state's episode and frees its full state.
func (d *distinct[PK, K]) drop(s *dslot[K]) {
	if s.full == 0 {
		return
	}
	st := &d.full[s.full-1]
	if st.ep != nil {
		d.closed(PK(s.pk), st.ep)
	}
	st.win.reset()
	*st = dstate[K]{win: st.win, recent: st.recent[:0]}
	d.free = append(d.free, s.full-1)
	s.full = 0
}

// reserve makes room for one more state: when the load would pass 1/2,
// the dropped states are purged in place and, if the live ones still load
// it beyond 1/4, the table doubles.
func (d *distinct[PK, K]) reserve() {
	if 2*(d.n+1) <= len(d.tab) {
		return
	}
	for i := 0; i < len(d.tab); {
		if s := &d.tab[i]; s.pk != 0 && d.dead(s) {
			d.drop(s)
			d.del(i) // moves a later entry of the run to i, if any: look at i again
			continue
		}
		i++
	}
	if 4*(d.n+1) <= len(d.tab) {
		return
	}
	old := d.tab
	d.tab = make([]dslot[K], 2*len(old))
	d.shift--
	for i := range old {
		if s := &old[i]; s.pk != 0 {
			j, _ := d.find(s.pk)
			d.tab[j] = *s
		}
	}
}

func protoBit(p uint8) uint8 {
	switch p {
	case flow.ProtoTCP:
		return 1
	case flow.ProtoUDP:
		return 2
	case 132:
		return 4
	case flow.ProtoICMP, flow.ProtoICMPv6:
		return 8
	}
	return 16
}

// attempt counts connection c as an attempt of pk on key.
func (d *distinct[PK, K]) attempt(pk PK, key K, c *conn) {
	t := c.start
	d.sweepIdle(t)
	d.reserve()
	i, found := d.find(uint64(pk))
	sl := &d.tab[i]
	if found && d.dead(sl) {
		d.drop(sl)
		*sl = dslot[K]{}
		found = false
		d.n--
	}
	switch {
	case !found:
		d.n++
		if d.need >= 2 && c.nOrigin == 1 {
			*sl = dslot[K]{pk: uint64(pk), lastT: math.MinInt64, orig: c.origin[0]}
			d.light(sl, key, c)
			return
		}
		*sl = dslot[K]{pk: uint64(pk), full: d.newState() + 1}
	case sl.full == 0:
		if d.lightAttempt(sl, key, c) {
			return
		}
		d.promote(sl)
	}
	sl.lastT = t
	st := &d.full[sl.full-1]
	st.protos |= protoBit(c.proto)
	st.note(c)
	st.win.expire(t - d.window)
	e := st.win.touch(key, t, c.end, c.failed(), uint64(c.records), c.fwdBytes+c.revBytes, c.scaled)
	if !d.qualifies(&st.win) {
		st.qualified = false
		return
	}
	if st.ep != nil && t-st.ep.ev.lastStart > d.window {
		d.closed(pk, st.ep)
		st.ep = nil
	}
	switch {
	case st.ep == nil || !st.qualified:
		d.absorbAll(st, t)
	default:
		st.ep.absorb(e)
		st.ep.ev.connOrigin(c)
		st.ep.protos |= st.protos
	}
	st.qualified = true
}

// lightAttempt counts c on a light state if it stays light (its window then
// holds one key, so it does not qualify), and reports whether it did.
func (d *distinct[PK, K]) lightAttempt(sl *dslot[K], key K, c *conn) bool {
	if c.nOrigin != 1 || c.origin[0] != sl.orig {
		return false
	}
	if sl.lastT > c.start-d.window { // the key is live
		if sl.key != key || sl.flows > math.MaxUint32-c.records || sl.att == math.MaxUint32 {
			return false
		}
	}
	d.light(sl, key, c)
	return true
}

// light counts c on a light state whose key is key or has expired (as
// window.expire and window.touch would).
func (d *distinct[PK, K]) light(sl *dslot[K], key K, c *conn) {
	t := c.start
	if sl.lastT <= t-d.window {
		sl.key, sl.att, sl.fail, sl.flows, sl.first, sl.end, sl.raw, sl.scaled = key, 0, 0, 0, t, 0, 0, 0
	}
	sl.lastT = t
	sl.end = max(sl.end, c.end)
	sl.att++
	if c.failed() {
		sl.fail++
	}
	sl.flows += c.records
	sl.raw += c.fwdBytes + c.revBytes
	sl.scaled += c.scaled
	sl.protos |= protoBit(c.proto)
}

// promote gives a light state its full state, as its attempts would have
// left it.
func (d *distinct[PK, K]) promote(sl *dslot[K]) {
	i := d.newState()
	st := &d.full[i]
	st.protos = sl.protos
	st.noteOrigin(sl.orig, sl.lastT)
	w := &st.win
	w.q = append(w.q, went[K]{key: sl.key, last: sl.lastT, attempts: sl.att, failed: sl.fail, pAtt: sl.att, pFail: sl.fail,
		pFirst: sl.first, pEnd: sl.end, pRaw: sl.raw, pScaled: sl.scaled, pFlows: uint64(sl.flows)})
	w.live, w.attempts, w.failed = 1, uint64(sl.att), uint64(sl.fail)
	sl.full = i + 1
}

func (d *distinct[PK, K]) qualifies(w *window[K]) bool {
	return w.live >= d.need && float64(w.failed) >= d.minFailed*float64(w.attempts)
}

// absorbAll opens the episode if needed and takes in every live key's
// pending attempts and the origins seen since the earliest of them.
func (d *distinct[PK, K]) absorbAll(st *dstate[K], t int64) {
	first := t
	if st.ep == nil {
		st.ep = &episode[K]{keys: make(map[K]struct{})}
		if u := &st.unreachEv; st.unreach > 0 && t-st.unreachAt <= d.window {
			st.ep.unreach += st.unreach
			st.ep.unreachEv.addSpan(u.first, u.lastStart, u.lastEnd, u.flows, u.raw, u.scaled)
			first = u.first
		}
		st.unreach, st.unreachEv = 0, span{}
	}
	ep := st.ep
	st.win.each(func(e *went[K]) {
		if e.pAtt > 0 {
			first = min(first, e.pFirst)
		}
		ep.absorb(e)
	})
	for _, o := range st.recent {
		if o.last >= first {
			ep.ev.origin(o.id)
		}
	}
	ep.protos |= st.protos
}

func (ep *episode[K]) absorb(e *went[K]) {
	ep.keys[e.key] = struct{}{}
	if e.pAtt == 0 {
		return
	}
	ep.attempts += uint64(e.pAtt)
	ep.failed += uint64(e.pFail)
	ep.ev.addSpan(e.pFirst, e.last, e.pEnd, e.pFlows, e.pRaw, e.pScaled)
	e.pAtt, e.pFail, e.pFlows, e.pRaw, e.pScaled, e.pEnd = 0, 0, 0, 0, 0, 0
}

// note remembers the origins of c with the time of this attempt.
func (st *dstate[K]) note(c *conn) {
	for i := range c.nOrigin {
		st.noteOrigin(c.origin[i], c.start)
	}
}

func (st *dstate[K]) noteOrigin(id uint32, t int64) {
	for i := range st.recent {
		if st.recent[i].id == id {
			st.recent[i].last = t
			return
		}
	}
	st.recent = append(st.recent, recentOrigin{id, t})
}

// unreachable counts n ICMP unreachable messages that pk's target sent
// back, in the records of c. A pair without a live state gets one holding the
// messages alone: they may come ahead of the attempt they answer, within
// one timestamp (exporters of whole seconds, or the probe and the answer
// seen by two exporters), and the count must not depend on that order.
func (d *distinct[PK, K]) unreachable(pk PK, c *conn, n uint64) {
	t := c.start
	d.reserve()
	i, ok := d.find(uint64(pk))
	sl := &d.tab[i]
	if ok && d.dead(sl) {
		d.drop(sl)
		*sl = dslot[K]{}
		d.n--
		ok = false
	}
	if !ok {
		d.n++
		*sl = dslot[K]{pk: uint64(pk), lastT: t, full: d.newState() + 1}
	}
	if sl.full == 0 {
		d.promote(sl)
	}
	st := &d.full[sl.full-1]
	if st.ep != nil && t-st.ep.ev.lastStart <= d.window {
		st.ep.unreach += n
		st.ep.unreachEv.addConn(c)
		return
	}
	if t-st.unreachAt > d.window {
		st.unreach, st.unreachEv = 0, span{}
	}
	st.unreach += n
	st.unreachAt = t
	st.unreachEv.addConn(c)
	st.note(c)
}

// newState returns the index of an unused full state.
func (d *distinct[PK, K]) newState() uint32 {
	if n := len(d.free); n > 0 {
		i := d.free[n-1]
		d.free = d.free[:n-1]
		return i
	}
	d.full = append(d.full, dstate[K]{})
	return uint32(len(d.full) - 1)
}

// sweepIdle, once per window of stream time, drops the states that have
// been idle for a whole window (lazily: see distinct): their windows are
// empty, so dropping them changes no result, and memory stays bounded by
// the keys active within the window.
func (d *distinct[PK, K]) sweepIdle(t int64) {
	if t < d.nextSweep {
		return
	}
	d.nextSweep = t + d.window
	d.deadCut = t - d.window
}

// open calls f for every episode still open.
func (d *distinct[PK, K]) open(f func(pk PK, ep *episode[K])) {
	for i := range d.tab {
		if s := &d.tab[i]; s.pk != 0 && s.full != 0 && d.full[s.full-1].ep != nil {
			f(PK(s.pk), d.full[s.full-1].ep)
		}
	}
}
