package detectors

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/jsonout"
)

// TopKey is what Top groups by (--by).
type TopKey uint8

// Keys of Top.
const (
	BySrcIP TopKey = iota
	ByDstIP
	ByDstPort
	BySrcPort
	ByProto
	ByPair
	ByExporter
	BySrcNet // the source address's network: IPv4 /Mask4, IPv6 /Mask6
	ByDstNet
)

var topKeyNames = []string{"srcip", "dstip", "dstport", "srcport", "proto", "pair", "exporter", "srcnet", "dstnet"}

func (k TopKey) String() string {
	if int(k) < len(topKeyNames) {
		return topKeyNames[k]
	}
	return "TopKey(" + strconv.Itoa(int(k)) + ")"
}

// ParseTopKey parses srcip, dstip, dstport, srcport, proto, pair, exporter,
// srcnet or dstnet.
func ParseTopKey(s string) (TopKey, error) {
	if i := slices.Index(topKeyNames, s); i >= 0 {
		return TopKey(i), nil
	}
	return 0, fmt.Errorf("cannot use %q as --by (want one of %v): %w", s, topKeyNames, ErrUnknownKey)
}

// TopOrder is what Top ranks by (--order).
type TopOrder uint8

// Orders of Top.
const (
	OrderBytes TopOrder = iota
	OrderFlows
	OrderPackets
)

var topOrderNames = []string{"bytes", "flows", "packets"}

func (o TopOrder) String() string {
	if int(o) < len(topOrderNames) {
		return topOrderNames[o]
	}
	return "TopOrder(" + strconv.Itoa(int(o)) + ")"
}

// ParseTopOrder parses bytes, flows or packets.
func ParseTopOrder(s string) (TopOrder, error) {
	if i := slices.Index(topOrderNames, s); i >= 0 {
		return TopOrder(i), nil
	}
	return 0, fmt.Errorf("cannot use %q as --order (want one of %v): %w", s, topOrderNames, ErrUnknownOrder)
}

// TopConfig configures Top. The zero value ranks source addresses by bytes,
// 20 of them.
type TopConfig struct {
	By    TopKey
	Order TopOrder
	N     int // default 20
	// Mask4 and Mask6 are the prefix lengths of srcnet and dstnet (default
	// 24 and 64; 0 is the default too).
	Mask4, Mask6 int
}

// DefaultTopN is the default number of Top entries; DefaultTopMask4 and
// DefaultTopMask6 the networks of srcnet and dstnet.
const (
	DefaultTopN     = 20
	DefaultTopMask4 = 24
	DefaultTopMask6 = 64
)

// Counts are the totals of a group of records. Bytes and Packets count both
// directions (bytes_in + bytes_out); the plain figures are scaled by each
// record's sampling interval, the Raw ones are as exported.
type Counts struct {
	Flows      uint64 `json:"flows"`
	Bytes      uint64 `json:"bytes"`
	Packets    uint64 `json:"packets"`
	RawBytes   uint64 `json:"raw_bytes"`
	RawPackets uint64 `json:"raw_packets"`
}

func (c *Counts) add(r *flow.Record) {
	s := r.Sampling()
	b, p := r.TotalBytes(), r.TotalPackets()
	c.Flows++
	c.RawBytes += b
	c.RawPackets += p
	c.Bytes += b * s
	c.Packets += p * s
}

func (c *Counts) merge(o *Counts) {
	c.Flows += o.Flows
	c.Bytes += o.Bytes
	c.Packets += o.Packets
	c.RawBytes += o.RawBytes
	c.RawPackets += o.RawPackets
}

func (c *Counts) metric(o TopOrder) uint64 {
	switch o {
	case OrderFlows:
		return c.Flows
	case OrderPackets:
		return c.Packets
	}
	return c.Bytes
}

// TopEntry is one group of Top. Key is its text (an address, a port, a
// protocol name, "src -> dst"); the typed fields hold its parts.
type TopEntry struct {
	Key   string     `json:"key"`
	Addr  netip.Addr `json:"addr,omitzero"`
	Peer  netip.Addr `json:"peer,omitzero"` // the destination of a pair
	Port  uint16     `json:"port,omitempty"`
	Proto uint8      `json:"proto,omitempty"`
	Counts
	// numeric says the key is a port (1) or a protocol (2), whose 0 is a
	// value to show, not an absent one (ICMP and fragments have port 0).
	numeric uint8
}

// MarshalJSON writes the entry, with its port or protocol even when 0, its
// members in the struct's order (CSV columns follow them).
func (e TopEntry) MarshalJSON() ([]byte, error) {
	type plain TopEntry
	switch e.numeric {
	case 1:
		return jsonout.Marshal(struct {
			Key  string `json:"key"`
			Port uint16 `json:"port"`
			Counts
		}{e.Key, e.Port, e.Counts})
	case 2:
		return jsonout.Marshal(struct {
			Key   string `json:"key"`
			Proto uint8  `json:"proto"`
			Counts
		}{e.Key, e.Proto, e.Counts})
	}
	return jsonout.Marshal(plain(e))
}

// TopResult is the outcome of Top.
type TopResult struct {
	By       string     `json:"by"`
	Order    string     `json:"order"`
	N        int        `json:"n"`
	Distinct int        `json:"distinct"` // groups seen
	Total    Counts     `json:"total"`
	Entries  []TopEntry `json:"entries"`
}

type addrPair struct{ src, dst netip.Addr }

// Top ranks groups of records (nfdump's -s statistics). Memory is one
// counter per distinct key. Addresses are counted in open-addressing tables
// by their kind: IPv4 (and pairs of them) as integers, IPv6 without a zone
// as two halves; the records without the address, and the rare rest, apart.
type Top struct {
	cfg   TopConfig
	total Counts // only the records Add cannot group (an unknown key); see Result

	v4    countTable[uint32]     // srcip, dstip, exporter: IPv4
	v6    countTable[addr6]      // ...: IPv6 without a zone
	none  Counts                 // ...: no address ("unknown"); Flows 0 when none seen
	addrs map[netip.Addr]*Counts // ...: the other addresses (zoned IPv6)

	p4    countTable[uint64]   // pairs of IPv4 addresses (source in the high half)
	p6    countTable[pair6]    // pairs of IPv6 addresses without zones
	pairs map[addrPair]*Counts // the other pairs (mixed, missing, zoned)

	nums []Counts // ports (65536) or protocols (256), by number

	add func(*flow.Record) bool // Add's, made by AddFunc
}

// NewTop returns a Top statistic.
func NewTop(cfg TopConfig) *Top {
	if cfg.N <= 0 {
		cfg.N = DefaultTopN
	}
	if cfg.Mask4 <= 0 || cfg.Mask4 > 32 {
		cfg.Mask4 = DefaultTopMask4
	}
	if cfg.Mask6 <= 0 || cfg.Mask6 > 128 {
		cfg.Mask6 = DefaultTopMask6
	}
	t := &Top{cfg: cfg}
	t.v4.hash, t.v6.hash, t.p4.hash, t.p6.hash = topHash32, topHash128, topHash64, topHashPair6
	switch cfg.By {
	case ByDstPort, BySrcPort:
		t.nums = make([]Counts, 1<<16)
	case ByProto:
		t.nums = make([]Counts, 1<<8)
	case ByPair:
		t.pairs = make(map[addrPair]*Counts)
	default:
		t.addrs = make(map[netip.Addr]*Counts)
	}
	return t
}

// Merge adds the counts of o, a Top with the same configuration (one per
// goroutine of a parallel scan), to t.
func (t *Top) Merge(o *Top) {
	t.total.merge(&o.total)
	t.v4.merge(&o.v4)
	t.v6.merge(&o.v6)
	t.p4.merge(&o.p4)
	t.p6.merge(&o.p6)
	if o.none.Flows > 0 {
		t.none.merge(&o.none)
	}
	for a, c := range o.addrs {
		t.other(a).merge(c)
	}
	for k, c := range o.pairs {
		t.otherPair(k).merge(c)
	}
	for i := range o.nums {
		if o.nums[i].Flows > 0 {
			t.nums[i].merge(&o.nums[i])
		}
	}
}

// Add counts one record.
func (t *Top) Add(r *flow.Record) {
	if t.add == nil {
		t.add = t.AddFunc()
	}
	t.add(r)
}

// AddFunc returns a function that counts one record as Add does, with the
// choice of key made once: what a scan calls for every record. It always
// returns true (go on).
func (t *Top) AddFunc() func(*flow.Record) bool {
	switch by := t.cfg.By; by {
	case BySrcIP, ByDstIP, ByExporter:
		// The IPv4 keys found in their home slot, nearly all, take the
		// path written out here, without a call.
		return func(r *flow.Record) bool {
			a := r.SrcAddr
			switch by {
			case ByDstIP:
				a = r.DstAddr
			case ByExporter:
				a = r.Exporter
			}
			if !a.Is4() {
				t.addNot4(a, r)
				return true
			}
			k := v4key(a)
			h := topHash32(k)
			if g := topHome4(&t.v4, k, h); g != nil {
				g.c.add(r)
			} else {
				t.v4.at(k, h).add(r)
			}
			return true
		}
	case BySrcNet, ByDstNet:
		m4 := ^uint32(0) << (32 - t.cfg.Mask4)
		return func(r *flow.Record) bool {
			a := r.SrcAddr
			if by == ByDstNet {
				a = r.DstAddr
			}
			if !a.Is4() {
				if a.Is6() {
					a = netip.PrefixFrom(a.WithZone(""), t.cfg.Mask6).Masked().Addr()
				}
				t.addNot4(a, r)
				return true
			}
			k := v4key(a) & m4
			t.v4.at(k, topHash32(k)).add(r)
			return true
		}
	case ByDstPort:
		return func(r *flow.Record) bool { t.nums[r.DstPort].add(r); return true }
	case BySrcPort:
		return func(r *flow.Record) bool { t.nums[r.SrcPort].add(r); return true }
	case ByProto:
		return func(r *flow.Record) bool { t.nums[r.Proto].add(r); return true }
	case ByPair:
		return func(r *flow.Record) bool { t.addPair(r); return true }
	}
	return func(r *flow.Record) bool { t.total.add(r); return true }
}

// addNot4 counts r under its address a, which is not IPv4.
func (t *Top) addNot4(a netip.Addr, r *flow.Record) {
	if isPlain6(a) {
		k := v6key(a)
		t.v6.at(k, topHash128(k)).add(r)
		return
	}
	t.other(a).add(r)
}

// addPair counts r under its pair of addresses.
func (t *Top) addPair(r *flow.Record) {
	src, dst := r.SrcAddr, r.DstAddr
	if src.Is4() && dst.Is4() {
		k := uint64(v4key(src))<<32 | uint64(v4key(dst))
		t.p4.at(k, topHash64(k)).add(r)
		return
	}
	if isPlain6(src) && isPlain6(dst) {
		k := pair6{v6key(src), v6key(dst)}
		t.p6.at(k, topHashPair6(k)).add(r)
		return
	}
	t.otherPair(addrPair{src, dst}).add(r)
}

// other returns the counts of an address that is neither IPv4 nor IPv6
// without a zone: none ("unknown"), or a zoned IPv6 one.
func (t *Top) other(a netip.Addr) *Counts {
	if !a.IsValid() {
		return &t.none
	}
	c := t.addrs[a]
	if c == nil {
		c = new(Counts)
		t.addrs[a] = c
	}
	return c
}

func (t *Top) otherPair(k addrPair) *Counts {
	c := t.pairs[k]
	if c == nil {
		c = new(Counts)
		t.pairs[k] = c
	}
	return c
}

// Result returns the N largest groups by the order, ties broken by key.
// Total is the sum of the groups (every record is in one), and only the N
// entries kept get their text.
func (t *Top) Result() TopResult {
	res := TopResult{By: t.cfg.By.String(), Order: t.cfg.Order.String(), N: t.cfg.N, Total: t.total}
	sel := newTopSelect(t.cfg.Order, t.cfg.N, t.groups())
	t.each(func(e *TopEntry) {
		res.Total.merge(&e.Counts)
		res.Distinct++
		sel.offer(e)
	})
	res.Entries = sel.sorted()
	for i := range res.Entries {
		res.Entries[i].Key = t.keyText(&res.Entries[i])
	}
	return res
}

// groups returns the number of groups.
func (t *Top) groups() int {
	n := len(t.v4.groups) + len(t.v6.groups) + len(t.addrs) + len(t.p4.groups) + len(t.p6.groups) + len(t.pairs)
	if t.none.Flows > 0 {
		n++
	}
	for i := range t.nums {
		if t.nums[i].Flows > 0 {
			n++
		}
	}
	return n
}

// each calls f with every group, its Key left empty.
func (t *Top) each(f func(*TopEntry)) {
	var e TopEntry
	t.v4.each(func(k uint32, c *Counts) { e = TopEntry{Addr: v4addr(k), Counts: *c}; f(&e) })
	t.v6.each(func(k addr6, c *Counts) { e = TopEntry{Addr: v6addr(k), Counts: *c}; f(&e) })
	if t.none.Flows > 0 {
		e = TopEntry{Counts: t.none}
		f(&e)
	}
	for a, c := range t.addrs {
		e = TopEntry{Addr: a, Counts: *c}
		f(&e)
	}
	t.p4.each(func(k uint64, c *Counts) {
		e = TopEntry{Addr: v4addr(uint32(k >> 32)), Peer: v4addr(uint32(k)), Counts: *c}
		f(&e)
	})
	t.p6.each(func(k pair6, c *Counts) { e = TopEntry{Addr: v6addr(k.src), Peer: v6addr(k.dst), Counts: *c}; f(&e) })
	for k, c := range t.pairs {
		e = TopEntry{Addr: k.src, Peer: k.dst, Counts: *c}
		f(&e)
	}
	for n := range t.nums {
		if c := &t.nums[n]; c.Flows > 0 {
			e = t.numEntry(n, *c)
			f(&e)
		}
	}
}

func (t *Top) keyText(e *TopEntry) string {
	switch t.cfg.By {
	case ByPair:
		return e.Addr.String() + " -> " + e.Peer.String()
	case ByDstPort, BySrcPort:
		return strconv.Itoa(int(e.Port))
	case ByProto:
		return flow.ProtoName(e.Proto)
	}
	if !e.Addr.IsValid() {
		return "unknown"
	}
	if by := t.cfg.By; by == BySrcNet || by == ByDstNet {
		bits := t.cfg.Mask6
		if e.Addr.Is4() {
			bits = t.cfg.Mask4
		}
		return netip.PrefixFrom(e.Addr, bits).String()
	}
	return e.Addr.String()
}

func (t *Top) numEntry(n int, c Counts) TopEntry {
	if t.cfg.By == ByProto {
		return TopEntry{Proto: uint8(n), Counts: c, numeric: 2}
	}
	return TopEntry{Port: uint16(n), Counts: c, numeric: 1}
}

// topBefore reports whether a ranks before b: the larger metric first, then
// the smaller key (address, peer, port, protocol). Keys differ between
// groups, so this is a total order and the selection does not depend on the
// order the groups come in.
func topBefore(a, b *TopEntry, o TopOrder) bool {
	if ma, mb := a.metric(o), b.metric(o); ma != mb {
		return ma > mb
	}
	return cmp.Or(a.Addr.Compare(b.Addr), a.Peer.Compare(b.Peer), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto)) < 0
}

// topSelect keeps the n first entries offered, by topBefore: a heap whose
// root is the last kept one, so most entries cost one comparison of
// metrics; or, when all the entries are to be kept, a plain list.
type topSelect struct {
	order TopOrder
	n     int
	all   bool
	heap  []TopEntry
}

// newTopSelect returns a selection of the n first of the groups entries to
// be offered.
func newTopSelect(order TopOrder, n, groups int) *topSelect {
	return &topSelect{order: order, n: n, all: n >= groups, heap: make([]TopEntry, 0, min(n, groups))}
}

func (s *topSelect) offer(e *TopEntry) {
	if s.all {
		s.heap = append(s.heap, *e)
		return
	}
	if len(s.heap) < s.n {
		s.heap = append(s.heap, *e)
		s.up(len(s.heap) - 1)
		return
	}
	if !topBefore(e, &s.heap[0], s.order) {
		return
	}
	s.heap[0] = *e
	s.down(0)
}

// after is the heap's order: the root ranks after every other entry.
func (s *topSelect) after(i, j int) bool { return topBefore(&s.heap[j], &s.heap[i], s.order) }

func (s *topSelect) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.after(i, p) {
			return
		}
		s.heap[i], s.heap[p] = s.heap[p], s.heap[i]
		i = p
	}
}

func (s *topSelect) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(s.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(s.heap) && s.after(r, l) {
			m = r
		}
		if !s.after(m, i) {
			return
		}
		s.heap[i], s.heap[m] = s.heap[m], s.heap[i]
		i = m
	}
}

// sorted returns the kept entries, first first (never nil).
func (s *topSelect) sorted() []TopEntry {
	slices.SortFunc(s.heap, func(a, b TopEntry) int {
		if topBefore(&a, &b, s.order) {
			return -1
		}
		return 1
	})
	return s.heap
}
