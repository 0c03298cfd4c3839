package detectors

import "math/bits"

// Helpers for the per-key state of the detectors at high cardinality
// (millions of pairs and triples, most seen once): a hash index whose keys
// live in the caller's dense arrays, and arrays that grow by fixed chunks.

// mix hashes two words (the wyhash mixer): good high and low bits for
// sequential and structured inputs such as address ids.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^0xa0761d6478bd642f, b^0xe7037ed1a0b428db)
	return hi ^ lo
}

// refIndex maps keys to 32-bit references (nonzero, chosen by the caller:
// an index into one of its arrays) by open addressing with linear probing
// over 8-byte slots: the high 32 bits of a slot are the high 32 bits of the
// key's hash, which also give its home slot (so growing needs no key), the
// low 32 bits the reference (0: empty). The tag rules out nearly every
// other key without touching it; the keys themselves live in the caller's
// arrays, read only for tag matches. A key's reference may change (set),
// and a key may be removed (del). The load stays at most 3/4 (and above 3/8
// once grown): 11 to 21 bytes per key.
type refIndex struct {
	slots []uint64
	n     int
	shift uint // 64 - log2(len(slots)), at least 32
}

const refIndexMin = 1 << 10

func (x *refIndex) init() {
	x.slots = make([]uint64, refIndexMin)
	x.shift = uint(64 - bits.TrailingZeros(refIndexMin))
	x.n = 0
}

// home is the slot where a hash's probe starts.
func (x *refIndex) home(h uint64) int { return int(h >> x.shift) }

// find returns the reference of the key with hash h for which eq holds,
// and its slot, or, when there is none, false and the slot where it goes
// (for insert).
func (x *refIndex) find(h uint64, eq func(ref uint32) bool) (uint32, int, bool) {
	mask := len(x.slots) - 1
	tag := h &^ 0xffffffff
	for i := x.home(h); ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0, i, false
		}
		if s&^0xffffffff == tag && eq(uint32(s)) {
			return uint32(s), i, true
		}
	}
}

// guess returns the reference of the first slot on h's probe whose tag is
// h's (0: none): the key's, nearly always. It is for prefetching.
func (x *refIndex) guess(h uint64) uint32 {
	mask := len(x.slots) - 1
	for i := x.home(h); x.slots[i] != 0; i = (i + 1) & mask {
		if s := x.slots[i]; s&^0xffffffff == h&^0xffffffff {
			return uint32(s)
		}
	}
	return 0
}

// set changes the reference in slot i (as returned by find).
func (x *refIndex) set(i int, ref uint32) { x.slots[i] = x.slots[i]&^0xffffffff | uint64(ref) }

// insert puts ref (hash h) in slot i as returned by find.
func (x *refIndex) insert(i int, h uint64, ref uint32) {
	x.slots[i] = h&^0xffffffff | uint64(ref)
	x.n++
	if 4*x.n > 3*len(x.slots) {
		x.grow()
	}
}

// del empties slot i, shifting later slots of its probe run back (their
// homes come from their tags).
func (x *refIndex) del(i int) {
	mask := len(x.slots) - 1
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		h := x.home(x.slots[j])
		// Move j to i when its home is not within (i, j] cyclically.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = 0
	x.n--
}

func (x *refIndex) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	x.shift--
	mask := len(x.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := x.home(s)
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}

// chunked is an array that grows by chunks of chunkLen elements, so
// growing never copies more than the first chunk (which starts small and
// doubles up to chunkLen, for the detectors that see few keys): a pointer
// to an element is valid until the next add.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits
)

func (c *chunked[T]) len() int { return c.n }

// at returns element i.
func (c *chunked[T]) at(i uint32) *T { return &c.chunks[i>>chunkBits][i&(chunkLen-1)] }

// add appends v and returns its index.
func (c *chunked[T]) add(v T) uint32 {
	i := c.n
	switch {
	case i < chunkLen:
		if len(c.chunks) == 0 {
			c.chunks = append(c.chunks, make([]T, 0, 64))
		}
		c.chunks[0] = append(c.chunks[0], v)
	case i&(chunkLen-1) == 0:
		c.chunks = append(c.chunks, make([]T, chunkLen))
		fallthrough
	default:
		c.chunks[i>>chunkBits][i&(chunkLen-1)] = v
	}
	c.n++
	return uint32(i)
}

// each calls f for every element, in index order.
func (c *chunked[T]) each(f func(i uint32, v *T)) {
	for k, ch := range c.chunks {
		n := min(len(ch), c.n-k*chunkLen)
		for j := range ch[:n] {
			f(uint32(k*chunkLen+j), &ch[j])
		}
	}
}
