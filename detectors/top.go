package detectors

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/flowcase/flowcase/internal/flow"
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
)

var topKeyNames = []string{"srcip", "dstip", "dstport", "srcport", "proto", "pair", "exporter"}

func (k TopKey) String() string {
	if int(k) < len(topKeyNames) {
		return topKeyNames[k]
	}
	return "TopKey(" + strconv.Itoa(int(k)) + ")"
}

// ParseTopKey parses srcip, dstip, dstport, srcport, proto, pair or exporter.
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
}

// DefaultTopN is the default number of Top entries.
const DefaultTopN = 20

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
// counter per distinct key.
type Top struct {
	cfg    TopConfig
	total  Counts
	addrs4 map[uint32]*Counts     // srcip, dstip, exporter: IPv4 (the map's fast path)
	addrs  map[netip.Addr]*Counts // the other addresses (IPv6, none)
	pairs  map[addrPair]*Counts
	nums   []Counts // ports (65536) or protocols (256), by number
}

// NewTop returns a Top statistic.
func NewTop(cfg TopConfig) *Top {
	if cfg.N <= 0 {
		cfg.N = DefaultTopN
	}
	t := &Top{cfg: cfg}
	switch cfg.By {
	case ByDstPort, BySrcPort:
		t.nums = make([]Counts, 1<<16)
	case ByProto:
		t.nums = make([]Counts, 1<<8)
	case ByPair:
		t.pairs = make(map[addrPair]*Counts)
	default:
		t.addrs = make(map[netip.Addr]*Counts)
		t.addrs4 = make(map[uint32]*Counts)
	}
	return t
}

// Merge adds the counts of o, a Top with the same configuration (one per
// goroutine of a parallel scan), to t.
func (t *Top) Merge(o *Top) {
	t.total.merge(&o.total)
	for a, c := range o.addrs4 {
		t.addr4(a).merge(c)
	}
	for a, c := range o.addrs {
		t.addr(a).merge(c)
	}
	for k, c := range o.pairs {
		if d := t.pairs[k]; d != nil {
			d.merge(c)
		} else {
			t.pairs[k] = c
		}
	}
	for i := range o.nums {
		t.nums[i].merge(&o.nums[i])
	}
}

// Add counts one record.
func (t *Top) Add(r *flow.Record) {
	t.total.add(r)
	switch t.cfg.By {
	case BySrcIP:
		t.addr(r.SrcAddr).add(r)
	case ByDstIP:
		t.addr(r.DstAddr).add(r)
	case ByExporter:
		t.addr(r.Exporter).add(r)
	case ByDstPort:
		t.nums[r.DstPort].add(r)
	case BySrcPort:
		t.nums[r.SrcPort].add(r)
	case ByProto:
		t.nums[r.Proto].add(r)
	case ByPair:
		k := addrPair{r.SrcAddr, r.DstAddr}
		c := t.pairs[k]
		if c == nil {
			c = new(Counts)
			t.pairs[k] = c
		}
		c.add(r)
	}
}

func (t *Top) addr4(a uint32) *Counts {
	c := t.addrs4[a]
	if c == nil {
		c = new(Counts)
		t.addrs4[a] = c
	}
	return c
}

func (t *Top) addr(a netip.Addr) *Counts {
	if a.Is4() {
		b := a.As4()
		return t.addr4(binary.BigEndian.Uint32(b[:]))
	}
	c := t.addrs[a]
	if c == nil {
		c = new(Counts)
		t.addrs[a] = c
	}
	return c
}

// Result returns the N largest groups by the order, ties broken by key.
func (t *Top) Result() TopResult {
	res := TopResult{By: t.cfg.By.String(), Order: t.cfg.Order.String(), N: t.cfg.N, Total: t.total}
	var all []TopEntry
	for n, c := range t.addrs4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], n)
		a := netip.AddrFrom4(b)
		all = append(all, TopEntry{Key: a.String(), Addr: a, Counts: *c})
	}
	for a, c := range t.addrs {
		key := a.String()
		if !a.IsValid() {
			key = "unknown"
		}
		all = append(all, TopEntry{Key: key, Addr: a, Counts: *c})
	}
	for k, c := range t.pairs {
		all = append(all, TopEntry{Key: k.src.String() + " -> " + k.dst.String(), Addr: k.src, Peer: k.dst, Counts: *c})
	}
	for n, c := range t.nums {
		if c.Flows > 0 {
			all = append(all, t.numEntry(n, c))
		}
	}
	res.Distinct = len(all)
	slices.SortFunc(all, func(a, b TopEntry) int {
		return cmp.Or(cmp.Compare(b.metric(t.cfg.Order), a.metric(t.cfg.Order)),
			a.Addr.Compare(b.Addr), a.Peer.Compare(b.Peer), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	res.Entries = all[:min(len(all), t.cfg.N)]
	if res.Entries == nil {
		res.Entries = []TopEntry{}
	}
	return res
}

func (t *Top) numEntry(n int, c Counts) TopEntry {
	if t.cfg.By == ByProto {
		return TopEntry{Key: flow.ProtoName(uint8(n)), Proto: uint8(n), Counts: c}
	}
	return TopEntry{Key: strconv.Itoa(n), Port: uint16(n), Counts: c}
}
