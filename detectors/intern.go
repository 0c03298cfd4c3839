package detectors

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// addrTab interns addresses: every distinct address gets a dense uint32 id,
// so the detectors' tables hold small integer keys and their state holds no
// pointers. Id 0 is the invalid (zero) address. IPv4 addresses and IPv6
// addresses without a zone are found in open-addressing tables keyed by
// their bits (no hashing of netip.Addr, 8 bytes a slot for IPv4); zoned
// addresses, rare, in a map.
type addrTab struct {
	v4    []uint64 // address<<32 | id (ids of IPv4 addresses are at least 1; 0: empty)
	n4    int
	v6    []addr6Slot
	n6    int
	zoned map[netip.Addr]uint32
	addrs []netip.Addr
}

type addr6Slot struct {
	hi, lo uint64
	id     uint32 // 0: empty
}

const addrTabMin = 1 << 8

func newAddrTab() *addrTab {
	return &addrTab{v4: make([]uint64, addrTabMin), v6: make([]addr6Slot, addrTabMin),
		zoned: map[netip.Addr]uint32{}, addrs: []netip.Addr{{}}}
}

func (t *addrTab) id(a netip.Addr) uint32 {
	if a.Is4() {
		b := a.As4()
		return t.id4(a, uint64(binary.BigEndian.Uint32(b[:])))
	}
	if a.Is6() && a.Zone() == "" {
		b := a.As16()
		return t.id6(a, binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
	}
	if !a.IsValid() {
		return 0
	}
	id, ok := t.zoned[a]
	if !ok {
		id = t.newID(a)
		t.zoned[a] = id
	}
	return id
}

// peek loads the home slot of a (a hint: see Suite.flushRecords), so
// that a loop of peeks has many cache misses in flight at once.
func (t *addrTab) peek(a netip.Addr) uint64 {
	if a.Is4() {
		b := a.As4()
		return t.v4[home4(uint64(binary.BigEndian.Uint32(b[:])), len(t.v4))]
	}
	if a.Is6() {
		b := a.As16()
		return uint64(t.v6[home6(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), len(t.v6))].id)
	}
	return 0
}

func (t *addrTab) newID(a netip.Addr) uint32 {
	t.addrs = append(t.addrs, a)
	return uint32(len(t.addrs) - 1)
}

func home4(k uint64, n int) int {
	return int((k * 0x9E3779B97F4A7C15) >> (64 - bits.TrailingZeros(uint(n))))
}

func (t *addrTab) id4(a netip.Addr, k uint64) uint32 {
	mask := len(t.v4) - 1
	i := home4(k, len(t.v4))
	for {
		s := t.v4[i]
		if s == 0 {
			break
		}
		if s>>32 == k {
			return uint32(s)
		}
		i = (i + 1) & mask
	}
	id := t.newID(a)
	t.v4[i] = k<<32 | uint64(id)
	t.n4++
	if 2*t.n4 > len(t.v4) {
		old := t.v4
		t.v4 = make([]uint64, 2*len(old))
		mask = len(t.v4) - 1
		for _, s := range old {
			if s != 0 {
				j := home4(s>>32, len(t.v4))
				for t.v4[j] != 0 {
					j = (j + 1) & mask
				}
				t.v4[j] = s
			}
		}
	}
	return id
}

func home6(hi, lo uint64, n int) int {
	return int(mix(hi, lo) >> (64 - bits.TrailingZeros(uint(n))))
}

func (t *addrTab) id6(a netip.Addr, hi, lo uint64) uint32 {
	mask := len(t.v6) - 1
	i := home6(hi, lo, len(t.v6))
	for {
		s := &t.v6[i]
		if s.id == 0 {
			break
		}
		if s.hi == hi && s.lo == lo {
			return s.id
		}
		i = (i + 1) & mask
	}
	id := t.newID(a)
	t.v6[i] = addr6Slot{hi, lo, id}
	t.n6++
	if 2*t.n6 > len(t.v6) {
		old := t.v6
		t.v6 = make([]addr6Slot, 2*len(old))
		mask = len(t.v6) - 1
		for _, s := range old {
			if s.id != 0 {
				j := home6(s.hi, s.lo, len(t.v6))
				for t.v6[j].id != 0 {
					j = (j + 1) & mask
				}
				t.v6[j] = s
			}
		}
	}
	return id
}

func (t *addrTab) addr(id uint32) netip.Addr { return t.addrs[id] }

// origin is where records came from: the ingested file, the exporter and
// the sampling interval.
type origin struct {
	src  uint32
	samp uint32
	exp  netip.Addr
}

// origTab interns origins; consecutive records nearly always share one, so
// a one-entry cache answers most of them.
type origTab struct {
	ids  map[origin]uint32
	list []origin
	last origin
	lid  uint32
}

func newOrigTab() *origTab { return &origTab{ids: make(map[origin]uint32)} }

func (t *origTab) id(r *flow.Record) uint32 {
	o := origin{r.SourceID, uint32(r.Sampling()), r.Exporter}
	if o == t.last && len(t.list) > 0 {
		return t.lid
	}
	id, ok := t.ids[o]
	if !ok {
		id = uint32(len(t.list))
		t.list = append(t.list, o)
		t.ids[o] = id
	}
	t.last, t.lid = o, id
	return id
}

// tabs are the intern tables a detector resolves its ids with.
type tabs struct {
	addrs *addrTab
	origs *origTab
}

func newTabs() tabs { return tabs{newAddrTab(), newOrigTab()} }

// pair packs two address ids.
func pair(a, b uint32) uint64 { return uint64(a)<<32 | uint64(b) }

func unpair(p uint64) (uint32, uint32) { return uint32(p >> 32), uint32(p) }
