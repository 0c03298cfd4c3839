package detectors

import "math/bits"

// connTable maps connection keys to slab indices: open addressing with
// linear probing and backward-shift deletion. Unlike a Go map, a miss
// tells where to insert, so a new connection costs one probe sequence
// instead of two hash computations. The load stays at most one half. at
// gives the slot of each value (a connection's index), so the tracker
// deletes a connection without looking its key up again.
type connTable struct {
	slots []ctSlot
	at    []int32 // value -> its slot (stale for values no longer stored)
	n     int
	shift uint // 64 - log2(len(slots))
}

type ctSlot struct {
	key  ckey
	val  uint32
	used bool
}

const connTableMin = 1 << 10

func newConnTable() connTable {
	return connTable{slots: make([]ctSlot, connTableMin), shift: 64 - 10}
}

func (t *connTable) home(k ckey) int {
	h := (uint64(k.lo)<<32 | uint64(k.hi)) * 0x9E3779B97F4A7C15
	h ^= (uint64(k.loPort)<<24 | uint64(k.hiPort)<<8 | uint64(k.proto)) * 0xC2B2AE3D27D4EB4F
	h ^= h >> 29
	return int((h * 0x94D049BB133111EB) >> t.shift)
}

// find returns the slot of k and whether it holds k; when it does not, the
// slot is where k goes.
func (t *connTable) find(k ckey) (int, bool) {
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			return i, false
		}
		if s.key == k {
			return i, true
		}
	}
}

// put stores k -> v in slot i, as returned by find for k.
func (t *connTable) put(i int, k ckey, v uint32, found bool) {
	t.slots[i] = ctSlot{k, v, true}
	for int(v) >= len(t.at) {
		t.at = append(t.at, 0)
	}
	t.at[v] = int32(i)
	if found {
		return
	}
	t.n++
	if 2*t.n > len(t.slots) {
		t.grow()
	}
}

func (t *connTable) grow() {
	old := t.slots
	t.slots = make([]ctSlot, 2*len(old))
	t.shift = uint(64 - bits.TrailingZeros(uint(len(t.slots))))
	for _, s := range old {
		if s.used {
			i, _ := t.find(s.key)
			t.slots[i] = s
			t.at[s.val] = int32(i)
		}
	}
}

// del removes k.
func (t *connTable) del(k ckey) {
	if i, ok := t.find(k); ok {
		t.delAt(i)
	}
}

// delValue removes the entry of value v, which must be stored.
func (t *connTable) delValue(v uint32) { t.delAt(int(t.at[v])) }

// delAt empties slot i, shifting later entries of its probe run back so no
// lookup stops early.
func (t *connTable) delAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].used; j = (j + 1) & mask {
		h := t.home(t.slots[j].key)
		// Move j to i when its home is not within (i, j] cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			t.at[t.slots[i].val] = int32(i)
			i = j
		}
	}
	t.slots[i] = ctSlot{}
	t.n--
}
