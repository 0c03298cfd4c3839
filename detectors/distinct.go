package detectors

import "github.com/flowcase/flowcase/internal/flow"

// distinct is the sliding-window engine behind scans and sweeps: per state
// key PK (a pair, or a source and port) it counts distinct keys K (ports,
// or destinations) attempted within the window. When at least need distinct
// keys are live and the live attempts' failed share is at least minFailed,
// the state qualifies and its attempts join an episode: on entering
// qualification, the not yet absorbed attempts of every live key; while
// qualified, each new attempt. A qualifying attempt more than window after
// the episode's last attempt closes it and opens a new one, so adjacent
// qualifying windows merge into one episode.
type distinct[PK comparable, K comparable] struct {
	need      int
	window    int64
	minFailed float64
	states    map[PK]*dstate[K]
	pool      []*dstate[K]
	nextSweep int64
	// closed receives every episode that can no longer grow.
	closed func(pk PK, ep *episode[K])
}

type dstate[K comparable] struct {
	win       window[K]
	ep        *episode[K]
	qualified bool
	lastT     int64
	protos    uint8 // protoBit of every attempt since the state was made
	recent    []recentOrigin
	unreach   uint64 // ICMP unreachables not yet in an episode
	unreachAt int64
}

// recentOrigin is an origin id with the last time an attempt came with it.
type recentOrigin struct {
	id   uint32
	last int64
}

// episode is a run of qualifying windows of one state key.
type episode[K comparable] struct {
	keys             map[K]struct{}
	attempts, failed uint64
	unreach          uint64
	protos           uint8
	ev               evAcc
}

func newDistinct[PK comparable, K comparable](need int, window int64, minFailed float64, closed func(PK, *episode[K])) *distinct[PK, K] {
	return &distinct[PK, K]{need: need, window: window, minFailed: minFailed,
		states: make(map[PK]*dstate[K]), closed: closed}
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
	st := d.states[pk]
	if st == nil {
		st = d.newState()
		d.states[pk] = st
	}
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

func (d *distinct[PK, K]) qualifies(w *window[K]) bool {
	return w.live >= d.need && float64(w.failed) >= d.minFailed*float64(w.attempts)
}

// absorbAll opens the episode if needed and takes in every live key's
// pending attempts and the origins seen since the earliest of them.
func (d *distinct[PK, K]) absorbAll(st *dstate[K], t int64) {
	if st.ep == nil {
		st.ep = &episode[K]{keys: make(map[K]struct{})}
		if st.unreach > 0 && t-st.unreachAt <= d.window {
			st.ep.unreach += st.unreach
		}
		st.unreach = 0
	}
	ep := st.ep
	first := t
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
// back, from t on.
func (d *distinct[PK, K]) unreachable(pk PK, t int64, n uint64) {
	st := d.states[pk]
	if st == nil {
		return
	}
	if st.ep != nil && t-st.ep.ev.lastStart <= d.window {
		st.ep.unreach += n
		return
	}
	if t-st.unreachAt > d.window {
		st.unreach = 0
	}
	st.unreach += n
	st.unreachAt = t
}

func (d *distinct[PK, K]) newState() *dstate[K] {
	if n := len(d.pool); n > 0 {
		st := d.pool[n-1]
		d.pool = d.pool[:n-1]
		return st
	}
	return &dstate[K]{}
}

// sweepIdle, once per window of stream time, closes the episodes and drops
// the states that have been idle for a whole window: their windows are
// empty, so dropping them changes no result, and memory stays bounded by
// the keys active within the window.
func (d *distinct[PK, K]) sweepIdle(t int64) {
	if t < d.nextSweep {
		return
	}
	d.nextSweep = t + d.window
	for pk, st := range d.states {
		if st.lastT > t-d.window {
			continue
		}
		if st.ep != nil {
			d.closed(pk, st.ep)
		}
		delete(d.states, pk)
		st.win.reset()
		*st = dstate[K]{win: st.win, recent: st.recent[:0]}
		d.pool = append(d.pool, st)
	}
}

// open calls f for every episode still open.
func (d *distinct[PK, K]) open(f func(pk PK, ep *episode[K])) {
	for pk, st := range d.states {
		if st.ep != nil {
			f(pk, st.ep)
		}
	}
}
