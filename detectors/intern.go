package detectors

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
)

// addrTab interns addresses: every distinct address gets a dense uint32 id,
// so the detectors' maps hash small integer keys and their state holds no
// pointers. Id 0 is the invalid (zero) address. A direct-mapped cache in
// front of the map answers the hosts that recur without hashing them.
type addrTab struct {
	ids   map[netip.Addr]uint32
	addrs []netip.Addr
	cache [1 << 12]addrSlot
}

type addrSlot struct {
	a  netip.Addr
	id uint32
}

func newAddrTab() *addrTab {
	t := &addrTab{ids: map[netip.Addr]uint32{{}: 0}, addrs: []netip.Addr{{}}}
	return t
}

func (t *addrTab) id(a netip.Addr) uint32 {
	s := &t.cache[addrSlotOf(a)]
	if s.a == a {
		return s.id
	}
	id, ok := t.ids[a]
	if !ok {
		id = uint32(len(t.addrs))
		t.addrs = append(t.addrs, a)
		t.ids[a] = id
	}
	s.a, s.id = a, id
	return id
}

func addrSlotOf(a netip.Addr) uint32 {
	b := a.As16()
	x := binary.LittleEndian.Uint64(b[8:]) ^ binary.LittleEndian.Uint64(b[:8])
	return uint32((x * 0x9E3779B97F4A7C15) >> 52)
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
