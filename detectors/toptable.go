package detectors

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
)

// countTable is an open-addressing hash table (linear probing) from a
// fixed-size key to Counts, for the groups of Top. Its slots are 8 bytes:
// the high 32 bits of the key's hash (a tag, which also gives the home
// slot, so growing reads no key) and the index + 1 of the group in a dense
// array of keys and counts (0: empty). The slots stay small enough to sit
// in the cache next to a block of records; the tag rules out nearly every
// other key without reading it; the groups counted most, seen first, share
// the front of the dense array; and nothing holds a pointer for the garbage
// collector to scan. The load stays at most 1/2. (A table holds fewer
// than 2^31 groups: 100 GB of them.) The caller hashes the key
// (topHash32 ...), so the probe loop makes no indirect call.
type countTable[K comparable] struct {
	slots  []uint64
	shift  uint8 // 64 - log2(len(slots)), at most 32
	groups []countGroup[K]
	hash   func(K) uint64
}

type countGroup[K comparable] struct {
	c Counts
	k K
}

// minTableSlots is a new table's size: 8 KB, and a few hundred groups
// never grow it.
const minTableSlots = 1 << 10

// at returns the counts of k, whose hash is h, adding an empty group (to be
// counted by the caller) when k is new.
func (t *countTable[K]) at(k K, h uint64) *Counts {
	mask := len(t.slots) - 1
	tag := h &^ 0xffffffff
	for i := int(h >> t.shift); mask >= 0; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			break
		}
		if s&^0xffffffff == tag {
			if g := &t.groups[uint32(s)-1]; g.k == k {
				return &g.c
			}
		}
	}
	return t.insert(k, h)
}

// topHome4 returns the group of k (hash h) in t when the key's home slot holds
// it, else nil: at's first step, small enough for the compiler to inline
// (at is not), for the IPv4 keys of Top.
func topHome4(t *countTable[uint32], k uint32, h uint64) *countGroup[uint32] {
	if i := h >> t.shift; i < uint64(len(t.slots)) {
		if s := t.slots[i]; s&^0xffffffff == h&^0xffffffff && s != 0 {
			if g := &t.groups[uint32(s)-1]; g.k == k {
				return g
			}
		}
	}
	return nil
}

// insert adds the group k, which is not in the table.
func (t *countTable[K]) insert(k K, h uint64) *Counts {
	if 2*(len(t.groups)+1) > len(t.slots) {
		t.grow(len(t.groups) + 1)
	}
	t.groups = append(t.groups, countGroup[K]{k: k})
	t.place(h&^0xffffffff | uint64(len(t.groups)))
	return &t.groups[len(t.groups)-1].c
}

// place puts slot value s on its probe.
func (t *countTable[K]) place(s uint64) {
	mask := len(t.slots) - 1
	i := int(s >> t.shift)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// grow makes room in the slots for n groups at most half full (the groups
// grow as append makes them).
func (t *countTable[K]) grow(n int) {
	size := max(minTableSlots, 1<<bits.Len(uint(2*n-1)))
	if size <= len(t.slots) {
		return
	}
	old := t.slots
	t.slots = make([]uint64, size)
	t.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	for _, s := range old {
		if s != 0 {
			t.place(s)
		}
	}
}

// merge adds the groups of o to t.
func (t *countTable[K]) merge(o *countTable[K]) {
	if len(o.groups) == 0 {
		return
	}
	t.grow(len(t.groups) + len(o.groups))
	for j := range o.groups {
		g := &o.groups[j]
		t.at(g.k, t.hash(g.k)).merge(&g.c)
	}
}

// each calls f for every group.
func (t *countTable[K]) each(f func(K, *Counts)) {
	for j := range t.groups {
		f(t.groups[j].k, &t.groups[j].c)
	}
}

// The hashes mix a random seed (per process) into the key, so that crafted
// evidence cannot aim many keys at one run of slots; the tables' contents,
// and so every result, do not depend on it.
var topHashSeed = rand.Uint64() | 1

const (
	topMulA = 0x9e3779b97f4a7c15
	topMulB = 0xbf58476d1ce4e5b9
)

func topMix(x uint64) uint64 {
	x = (x ^ topHashSeed) * topMulA
	x ^= x >> 29
	return x * topMulB
}

func topHash32(k uint32) uint64 { return topMix(uint64(k)) }

func topHash64(k uint64) uint64 { return topMix(k) }

// addr6 is an IPv6 address without a zone, as two big-endian halves.
type addr6 struct{ hi, lo uint64 }

func topHash128(k addr6) uint64 { return topMix(k.hi ^ topMix(k.lo)) }

// pair6 is a pair of IPv6 addresses without zones.
type pair6 struct{ src, dst addr6 }

func topHashPair6(k pair6) uint64 { return topMix(topHash128(k.src) ^ k.dst.hi ^ topMix(k.dst.lo)) }

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func v4addr(k uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], k)
	return netip.AddrFrom4(b)
}

func v6key(a netip.Addr) addr6 {
	b := a.As16()
	return addr6{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func v6addr(k addr6) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	return netip.AddrFrom16(b)
}

// isPlain6 reports whether a is an IPv6 address without a zone (IPv4-mapped
// ones included: they stay apart from the IPv4 table).
func isPlain6(a netip.Addr) bool { return a.Is6() && a.Zone() == "" }
