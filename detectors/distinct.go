package detectors

import (
	"math"

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
// States are found through a refIndex by their key (8-byte slots, at
// most 3/4 full: 11 to 21 bytes a state), which the entries it points to
// hold; the entries live in chunked arrays, which grow without copying.
// Most states of a large capture never hold two distinct keys at once (a
// client reaching one site, or one resolver, now and then; each target of
// zmap), and such a state cannot qualify when need is 2 or more, so while
// its window holds at most one key, all its attempts with the same origin,
// it is a 72-byte light entry: its one window entry, its protocols and its
// origin. A second live key, another origin, an ICMP unreachable or a
// count beyond 32 bits makes it a full dstate, which replaces it in the
// index (the light entry is freed for reuse), built as the same attempts
// would have left it. The light states used to live in an open-addressing
// table of 72-byte slots, at most half full and doubling: 144 to 288 bytes
// each (zmap of a /8, 2^24 pairs: 2^25 slots, 2.25 GB, now 1.4 GB with the
// index; one pair more would have made it 2^26 slots).
//
// Once per window of stream time, at an attempt at t, the states idle
// since t-window are dropped (their episodes closed): lazily, a state
// whose last attempt is at or before the latest such cut is treated as
// dropped when it is next looked up, and purged (removed from the index,
// its entry freed for reuse) when the index fills up, so no sweep walks
// the index otherwise.
type distinct[PK ~uint64, K windowKey] struct {
	need      int
	window    int64
	minFailed float64
	// index holds, by the hash of a state key (never 0), a light entry's
	// index plus 1, or a full state's index with fullRef set.
	index     refIndex
	light     chunked[dlight[K]]
	freeLight []uint32 // light entries unused
	full      chunked[dstate[K]]
	free      []uint32 // full states unused
	nextSweep int64
	deadCut   int64    // states whose last attempt is at or before it are dropped
	touched   uint64   // keeps touch's loads alive
	pks       []uint64 // touch's scratch
	// closed receives every episode that can no longer grow.
	closed func(pk PK, ep *episode[K])
}

// dlight is a light state: its key, its last attempt and its window's one
// entry, key with att attempts (fail failed) since it became live, none
// absorbed: pending since first, ending by end, with flows records and raw
// and scaled bytes, all from origin orig.
type dlight[K windowKey] struct {
	pk     uint64
	lastT  int64
	first  int64
	end    int64
	raw    uint64
	scaled uint64
	att    uint32
	fail   uint32
	flows  uint32
	orig   uint32
	key    K
	protos uint8
}

type dstate[K windowKey] struct {
	pk        uint64
	lastT     int64 // the last attempt
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

func newDistinct[PK ~uint64, K windowKey](need int, window int64, minFailed float64, closed func(PK, *episode[K])) *distinct[PK, K] {
	d := &distinct[PK, K]{need: need, window: window, minFailed: minFailed, closed: closed, deadCut: math.MinInt64}
	d.index.init()
	return d
}

func distinctHash(pk uint64) uint64 { return mix(pk, 0x2d358dccaa6c78a5) }

// touch loads the index slots of the state keys pks (see batchSink) in a
// loop of independent loads, so many are in flight at once. Loading the
// entries they point to as well, as Beacon does, made the scan of the
// 5M-flow week slower (59.6 cpu-ns a connection against 47.5).
func (d *distinct[PK, K]) touch(pks []uint64) {
	var sum uint64
	for i, pk := range pks {
		pks[i] = distinctHash(pk)
	}
	slots, shift := d.index.slots, d.index.shift
	for _, h := range pks {
		sum += slots[h>>shift]
	}
	d.touched += sum
}

// find returns the reference of pk's state and its index slot, or false and
// the slot where it goes. (refIndex.find with the comparison inlined.)
func (d *distinct[PK, K]) find(pk uint64) (uint32, int, bool) {
	x := &d.index
	h := distinctHash(pk)
	mask := len(x.slots) - 1
	tag := h &^ 0xffffffff
	for i := x.home(h); ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0, i, false
		}
		if s&^0xffffffff == tag && d.keyOf(uint32(s)) == pk {
			return uint32(s), i, true
		}
	}
}

func (d *distinct[PK, K]) keyOf(ref uint32) uint64 {
	if ref&fullRef != 0 {
		return d.full.at(ref &^ fullRef).pk
	}
	return d.light.at(ref - 1).pk
}

// unindex removes state ref, of key pk, from the index.
func (d *distinct[PK, K]) unindex(pk uint64, ref uint32) {
	x := &d.index
	mask := len(x.slots) - 1
	i := x.home(distinctHash(pk))
	for uint32(x.slots[i]) != ref {
		i = (i + 1) & mask
	}
	x.del(i)
}

// dead reports whether the state ref has been dropped.
func (d *distinct[PK, K]) dead(ref uint32) bool {
	if ref&fullRef != 0 {
		return d.full.at(ref&^fullRef).lastT <= d.deadCut
	}
	return d.light.at(ref-1).lastT <= d.deadCut
}

// drop closes a dropped state's episode and frees its entry.
func (d *distinct[PK, K]) drop(ref uint32) {
	if ref&fullRef == 0 {
		*d.light.at(ref - 1) = dlight[K]{}
		d.freeLight = append(d.freeLight, ref-1)
		return
	}
	i := ref &^ fullRef
	st := d.full.at(i)
	if st.ep != nil {
		d.closed(PK(st.pk), st.ep)
	}
	st.win.reset()
	*st = dstate[K]{win: st.win, recent: st.recent[:0]}
	d.free = append(d.free, i)
}

// reserve makes room for one more state: when the load would pass 3/4,
// the dropped states are purged and, if the live ones still load the index
// beyond 1/4, it doubles, so that at least 3/8 of its slots fill between
// two purges (the index is small beside the entries). The purge walks
// the entries, in order, rather than the index, which points to them in no
// order: at the /8 of TestZmapScale, a walk of the index would read 16.7M
// entries at random.
func (d *distinct[PK, K]) reserve() {
	x := &d.index
	if 4*(x.n+1) <= 3*len(x.slots) {
		return
	}
	d.light.each(func(i uint32, l *dlight[K]) {
		if l.pk != 0 && l.lastT <= d.deadCut { // pk 0: a free entry
			d.unindex(l.pk, i+1)
			d.drop(i + 1)
		}
	})
	d.full.each(func(i uint32, st *dstate[K]) {
		if st.pk != 0 && st.lastT <= d.deadCut {
			d.unindex(st.pk, i|fullRef)
			d.drop(i | fullRef)
		}
	})
	if 4*(x.n+1) > len(x.slots) {
		x.grow()
	}
}

// put makes slot (as find returned it) refer to ref: a new key when isNew,
// else a dropped state's slot, reused.
func (d *distinct[PK, K]) put(slot int, pk uint64, ref uint32, isNew bool) {
	if isNew {
		d.index.insert(slot, distinctHash(pk), ref)
	} else {
		d.index.set(slot, ref)
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
	ref, slot, found := d.find(uint64(pk))
	isNew := !found
	if found && d.dead(ref) {
		d.drop(ref)
		found = false
	}
	switch {
	case !found:
		if d.need >= 2 && c.nOrigin == 1 {
			i := d.newLight(dlight[K]{pk: uint64(pk), lastT: math.MinInt64, orig: c.origin[0]})
			d.put(slot, uint64(pk), i+1, isNew)
			d.lightCount(d.light.at(i), key, c)
			return
		}
		ref = d.newState(uint64(pk)) | fullRef
		d.put(slot, uint64(pk), ref, isNew)
	case ref&fullRef == 0:
		if d.lightAttempt(d.light.at(ref-1), key, c) {
			return
		}
		ref = d.promote(ref - 1)
		d.index.set(slot, ref)
	}
	st := d.full.at(ref &^ fullRef)
	st.lastT = t
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
func (d *distinct[PK, K]) lightAttempt(sl *dlight[K], key K, c *conn) bool {
	if c.nOrigin != 1 || c.origin[0] != sl.orig {
		return false
	}
	if sl.lastT > c.start-d.window { // the key is live
		if sl.key != key || sl.flows > math.MaxUint32-c.records || sl.att == math.MaxUint32 {
			return false
		}
	}
	d.lightCount(sl, key, c)
	return true
}

// lightCount counts c on a light state whose key is key or has expired (as
// window.expire and window.touch would).
func (d *distinct[PK, K]) lightCount(sl *dlight[K], key K, c *conn) {
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

// promote replaces light entry i by a full state, as its attempts would
// have left it, frees the entry and returns the full state's reference.
func (d *distinct[PK, K]) promote(i uint32) uint32 {
	sl := *d.light.at(i)
	*d.light.at(i) = dlight[K]{}
	d.freeLight = append(d.freeLight, i)
	j := d.newState(sl.pk)
	st := d.full.at(j)
	st.lastT = sl.lastT
	st.protos = sl.protos
	st.noteOrigin(sl.orig, sl.lastT)
	w := &st.win
	w.q = append(w.q, went[K]{key: sl.key, last: sl.lastT, attempts: sl.att, failed: sl.fail, pAtt: sl.att, pFail: sl.fail,
		pFirst: sl.first, pEnd: sl.end, pRaw: sl.raw, pScaled: sl.scaled, pFlows: uint64(sl.flows)})
	w.live, w.attempts, w.failed = 1, uint64(sl.att), uint64(sl.fail)
	return j | fullRef
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
	ref, slot, ok := d.find(uint64(pk))
	isNew := !ok
	if ok && d.dead(ref) {
		d.drop(ref)
		ok = false
	}
	if !ok {
		ref = d.newState(uint64(pk)) | fullRef
		d.full.at(ref &^ fullRef).lastT = t
		d.put(slot, uint64(pk), ref, isNew)
	}
	if ref&fullRef == 0 {
		ref = d.promote(ref - 1)
		d.index.set(slot, ref)
	}
	st := d.full.at(ref &^ fullRef)
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

// newLight stores a light entry and returns its index.
func (d *distinct[PK, K]) newLight(l dlight[K]) uint32 {
	if n := len(d.freeLight); n > 0 {
		i := d.freeLight[n-1]
		d.freeLight = d.freeLight[:n-1]
		*d.light.at(i) = l
		return i
	}
	return d.light.add(l)
}

// newState returns the index of an unused full state, given key pk.
func (d *distinct[PK, K]) newState(pk uint64) uint32 {
	var i uint32
	if n := len(d.free); n > 0 {
		i = d.free[n-1]
		d.free = d.free[:n-1]
	} else {
		i = d.full.add(dstate[K]{})
	}
	d.full.at(i).pk = pk
	return i
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
	d.full.each(func(_ uint32, st *dstate[K]) {
		if st.ep != nil {
			f(PK(st.pk), st.ep)
		}
	})
}
