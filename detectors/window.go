package detectors

// window holds the distinct keys (ports of a pair, or destinations of a
// source and port) attempted within a sliding time window, with attempt and
// failure counts. Entries sit in a queue ordered by their last attempt, so
// expiry pops from the front; a refreshed entry is copied to the back and its
// old slot marked dead. Up to windowIndexAt live keys are found by a linear
// scan, beyond that through a map. Memory is bounded by the distinct keys in
// the window, never by the number of attempts.
type window[K comparable] struct {
	q    []went[K]
	head int
	idx  map[K]int32 // position in q of each live key, once live > windowIndexAt
	live int
	// Sums over the live entries.
	attempts, failed uint64
}

const windowIndexAt = 16

// went is one key of a window. p* fields count the attempts not yet absorbed
// into an episode.
type went[K comparable] struct {
	key              K
	last             int64
	attempts, failed uint32
	dead             bool
	pAtt, pFail      uint32
	pFirst, pEnd     int64
	pRaw, pScaled    uint64
	pFlows           uint64
}

// expire drops the keys whose last attempt is at or before cut.
func (w *window[K]) expire(cut int64) {
	for w.head < len(w.q) {
		e := &w.q[w.head]
		if !e.dead {
			if e.last > cut {
				break
			}
			w.live--
			w.attempts -= uint64(e.attempts)
			w.failed -= uint64(e.failed)
			if w.idx != nil {
				delete(w.idx, e.key)
			}
		}
		w.head++
	}
	w.compact()
}

// touch records an attempt on key at t and returns its entry (valid until
// the next call).
func (w *window[K]) touch(key K, t, end int64, failed bool, flows, raw, scaled uint64) *went[K] {
	var e went[K]
	if pos := w.find(key); pos >= 0 {
		e = w.q[pos]
		w.q[pos].dead = true
	} else {
		e = went[K]{key: key}
		w.live++
	}
	if e.pAtt == 0 {
		e.pFirst = t
	}
	f := uint32(0)
	if failed {
		f = 1
	}
	e.last = t
	e.pEnd = max(e.pEnd, end)
	e.attempts++
	e.failed += f
	e.pAtt++
	e.pFail += f
	e.pFlows += flows
	e.pRaw += raw
	e.pScaled += scaled
	w.attempts++
	w.failed += uint64(f)
	w.q = append(w.q, e)
	switch {
	case w.idx != nil:
		w.idx[key] = int32(len(w.q) - 1)
	case w.live > windowIndexAt:
		w.buildIndex()
	}
	return &w.q[len(w.q)-1]
}

func (w *window[K]) find(key K) int {
	if w.idx != nil {
		if p, ok := w.idx[key]; ok {
			return int(p)
		}
		return -1
	}
	for i := len(w.q) - 1; i >= w.head; i-- {
		if e := &w.q[i]; !e.dead && e.key == key {
			return i
		}
	}
	return -1
}

func (w *window[K]) buildIndex() {
	if w.idx == nil {
		w.idx = make(map[K]int32, 2*w.live)
	}
	for i := w.head; i < len(w.q); i++ {
		if !w.q[i].dead {
			w.idx[w.q[i].key] = int32(i)
		}
	}
}

// compact moves the live entries to the front once dead ones dominate.
func (w *window[K]) compact() {
	if w.head == len(w.q) {
		w.q, w.head = w.q[:0], 0
		return
	}
	if len(w.q) < 64 || (len(w.q)-w.live)*2 < len(w.q) {
		return
	}
	n := 0
	for i := w.head; i < len(w.q); i++ {
		if !w.q[i].dead {
			w.q[n] = w.q[i]
			n++
		}
	}
	w.q, w.head = w.q[:n], 0
	if w.idx != nil {
		w.buildIndex()
	}
}

// each calls f for every live entry.
func (w *window[K]) each(f func(e *went[K])) {
	for i := w.head; i < len(w.q); i++ {
		if !w.q[i].dead {
			f(&w.q[i])
		}
	}
}

func (w *window[K]) reset() { *w = window[K]{q: w.q[:0]} }
