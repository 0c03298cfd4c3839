package detectors

import "math/bits"

// window holds the distinct keys (ports of a pair, or destinations of a
// source and port) attempted within a sliding time window, with attempt and
// failure counts. Entries sit in a queue ordered by their last attempt, so
// expiry pops from the front; a refreshed entry is copied to the back and its
// old slot marked dead (the entry already at the back is updated in place). Up to windowIndexAt live keys are found by a linear
// scan, beyond that through an index. Memory is bounded by the distinct keys
// in the window, never by the number of attempts.
type window[K windowKey] struct {
	q       []went[K]
	head    int
	idx     keyIndex // position in q of each live key, once live > windowIndexAt
	indexed bool
	live    int
	// Sums over the live entries.
	attempts, failed uint64
}

const windowIndexAt = 16

// went is one key of a window. p* fields count the attempts not yet absorbed
// into an episode. The 8-byte fields come first, so an entry is 72 bytes
// with either key (80 with the key first): zmap of a /8 puts 16.7M in one
// sweep's window.
type went[K windowKey] struct {
	last             int64
	pFirst, pEnd     int64
	pRaw, pScaled    uint64
	pFlows           uint64
	key              K
	attempts, failed uint32
	pAtt, pFail      uint32
	dead             bool
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
			if w.indexed {
				w.idx.del(uint64(e.key))
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
	pos := w.find(key)
	if pos >= 0 && pos == len(w.q)-1 {
		// Already the latest entry: it stays at the back, updated in place.
		return w.q[pos].count(t, end, failed, flows, raw, scaled, &w.attempts, &w.failed)
	}
	if pos >= 0 {
		e = w.q[pos]
		w.q[pos].dead = true
	} else {
		e = went[K]{key: key}
		w.live++
	}
	w.q = append(w.q, e)
	w.q[len(w.q)-1].count(t, end, failed, flows, raw, scaled, &w.attempts, &w.failed)
	switch {
	case w.indexed:
		w.idx.set(uint64(key), len(w.q)-1)
	case w.live > windowIndexAt:
		w.buildIndex()
	}
	return &w.q[len(w.q)-1]
}

// count records an attempt at t on e, and in the window's sums, and
// returns e.
func (e *went[K]) count(t, end int64, failed bool, flows, raw, scaled uint64, attempts, fails *uint64) *went[K] {
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
	*attempts++
	*fails += uint64(f)
	return e
}

func (w *window[K]) find(key K) int {
	if w.indexed {
		return w.idx.get(uint64(key))
	}
	for i := len(w.q) - 1; i >= w.head; i-- {
		if e := &w.q[i]; !e.dead && e.key == key {
			return i
		}
	}
	return -1
}

func (w *window[K]) buildIndex() {
	w.idx.reset(w.live)
	w.indexed = true
	for i := w.head; i < len(w.q); i++ {
		if !w.q[i].dead {
			w.idx.set(uint64(w.q[i].key), i)
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
	if w.indexed {
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

// reset empties w, keeping its buffers unless the index grew large (an
// index is cleared when it is built again).
func (w *window[K]) reset() {
	slots := w.idx.slots
	if len(slots) > 4*keyIndexMin {
		slots = nil
	}
	*w = window[K]{q: w.q[:0], idx: keyIndex{slots: slots}}
}

// windowKey is what a window counts: ports or address ids.
type windowKey interface{ ~uint16 | ~uint32 }

// keyIndex maps keys (at most 32 bits) to positions (below 2^31): open
// addressing with linear probing over slots holding key<<32 | position+1
// (0: empty), backward-shift deletion, load at most 1/2.
type keyIndex struct {
	slots []uint64
	n     int
	shift uint
}

const keyIndexMin = 64

// reset empties the index, sized for n keys (keeping its slots when they
// are not much larger than needed).
func (x *keyIndex) reset(n int) {
	size := keyIndexMin
	for size < 4*n {
		size *= 2
	}
	if len(x.slots) >= size && len(x.slots) <= 4*size {
		clear(x.slots)
	} else {
		x.slots = make([]uint64, size)
	}
	x.shift = uint(64 - bits.TrailingZeros(uint(len(x.slots))))
	x.n = 0
}

func (x *keyIndex) home(k uint64) int { return int((k * 0x9E3779B97F4A7C15) >> x.shift) }

// get returns the position of k, or -1.
func (x *keyIndex) get(k uint64) int {
	mask := len(x.slots) - 1
	for i := x.home(k); ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if s>>32 == k {
			return int(uint32(s)) - 1
		}
	}
}

// set maps k to pos.
func (x *keyIndex) set(k uint64, pos int) {
	mask := len(x.slots) - 1
	i := x.home(k)
	for ; x.slots[i] != 0; i = (i + 1) & mask {
		if x.slots[i]>>32 == k {
			x.slots[i] = k<<32 | uint64(pos+1)
			return
		}
	}
	x.slots[i] = k<<32 | uint64(pos+1)
	x.n++
	if 2*x.n > len(x.slots) {
		old := x.slots
		x.slots = make([]uint64, 2*len(old))
		x.shift--
		mask = len(x.slots) - 1
		for _, s := range old {
			if s != 0 {
				j := x.home(s >> 32)
				for x.slots[j] != 0 {
					j = (j + 1) & mask
				}
				x.slots[j] = s
			}
		}
	}
}

// del removes k, shifting later entries of its probe run back.
func (x *keyIndex) del(k uint64) {
	mask := len(x.slots) - 1
	i := x.home(k)
	for ; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return
		}
		if s>>32 == k {
			break
		}
	}
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		h := x.home(x.slots[j] >> 32)
		// Move j to i when its home is not within (i, j] cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = 0
	x.n--
}
