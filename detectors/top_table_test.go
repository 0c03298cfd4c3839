package detectors

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestCountTable checks the table against a plain map over enough keys to
// grow it several times, key 0 and keys of one hash run included, and its
// merge against the map's sums.
func TestCountTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b countTable[uint32]
	a.hash, b.hash = topHash32, topHash32
	want := map[uint32]Counts{}
	add := func(tb *countTable[uint32], k uint32, n uint64) {
		c := tb.at(k, topHash32(k))
		c.Flows++
		c.Bytes += n
		w := want[k]
		w.Flows++
		w.Bytes += n
		want[k] = w
	}
	for i := range 200_000 {
		k := uint32(rng.IntN(50_000)) << (i % 3 * 8) // dense, sparse and high keys
		if i%1000 == 0 {
			k = 0
		}
		tb := &a
		if i%3 == 0 {
			tb = &b
		}
		add(tb, k, uint64(i))
	}
	a.merge(&b)
	if len(a.groups) != len(want) || len(a.slots) < 2*len(want) {
		t.Fatalf("got %d groups in %d slots, want %d groups at most half full", len(a.groups), len(a.slots), len(want))
	}
	got := map[uint32]Counts{}
	a.each(func(k uint32, c *Counts) {
		if _, dup := got[k]; dup {
			t.Fatalf("key %d twice", k)
		}
		got[k] = *c
	})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("table and map differ")
	}
	for k, w := range want { // lookups find the same groups
		if c := a.at(k, topHash32(k)); *c != w {
			t.Fatalf("key %d: got %+v, want %+v", k, *c, w)
		}
	}
	if len(a.groups) != len(want) {
		t.Fatalf("lookups added groups: %d, want %d", len(a.groups), len(want))
	}
}

// topRecords are records with every kind of address Top keeps apart: IPv4,
// IPv6, IPv4-mapped IPv6, zoned IPv6 and none, in pairs of every mix, with
// many equal counts (ties) and some sampling.
func topRecords(n int, seed uint64) []flow.Record {
	rng := rand.New(rand.NewPCG(seed, 5))
	addr := func() netip.Addr {
		switch k := rng.IntN(20); {
		case k < 12:
			return ip4(10, byte(rng.IntN(2)), byte(rng.IntN(4)), byte(rng.IntN(256)))
		case k < 16:
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(64)), 14: byte(rng.IntN(4))})
		case k < 17:
			return netip.AddrFrom16(ip4(192, 0, 2, byte(rng.IntN(8))).As16()) // ::ffff:192.0.2.x
		case k < 18:
			return netip.MustParseAddr("fe80::" + strconv.Itoa(1+rng.IntN(3))).WithZone([]string{"eth0", "eth1"}[rng.IntN(2)])
		case k < 19:
			return ip4(0, 0, 0, 0)
		}
		return netip.Addr{}
	}
	recs := make([]flow.Record, n)
	for i := range recs {
		recs[i] = flow.Record{Start: t0 + int64(i)*sec, SrcAddr: addr(), DstAddr: addr(), Exporter: addr(),
			SrcPort: uint16(rng.IntN(3000)), DstPort: uint16(rng.IntN(50)), Proto: uint8(rng.IntN(4) * 6),
			Bytes: uint64(rng.IntN(4)) * 100, RevBytes: uint64(rng.IntN(2)) * 50, Packets: uint64(1 + rng.IntN(3)),
			SamplingInterval: uint32(1 + rng.IntN(2)*rng.IntN(2)*9)}
	}
	return recs
}

// naiveTop is Top as it was first written: a map per group, every entry
// with its text, one full sort.
func naiveTop(cfg TopConfig, recs []flow.Record) TopResult {
	type key struct {
		a, p  netip.Addr
		port  uint16
		proto uint8
	}
	groups := map[key]*Counts{}
	res := TopResult{By: cfg.By.String(), Order: cfg.Order.String(), N: cfg.N}
	for i := range recs {
		r := &recs[i]
		res.Total.add(r)
		var k key
		switch cfg.By {
		case BySrcIP:
			k.a = r.SrcAddr
		case ByDstIP:
			k.a = r.DstAddr
		case ByExporter:
			k.a = r.Exporter
		case ByPair:
			k.a, k.p = r.SrcAddr, r.DstAddr
		case ByDstPort:
			k.port = r.DstPort
		case BySrcPort:
			k.port = r.SrcPort
		case ByProto:
			k.proto = r.Proto
		}
		if groups[k] == nil {
			groups[k] = &Counts{}
		}
		groups[k].add(r)
	}
	all := []TopEntry{}
	for k, c := range groups {
		e := TopEntry{Addr: k.a, Peer: k.p, Port: k.port, Proto: k.proto, Counts: *c}
		switch cfg.By {
		case ByPair:
			e.Key = k.a.String() + " -> " + k.p.String()
		case ByDstPort, BySrcPort:
			e.Key, e.numeric = strconv.Itoa(int(k.port)), 1
		case ByProto:
			e.Key, e.numeric = flow.ProtoName(k.proto), 2
		default:
			e.Key = k.a.String()
			if !k.a.IsValid() {
				e.Key = "unknown"
			}
		}
		all = append(all, e)
	}
	res.Distinct = len(all)
	slices.SortFunc(all, func(a, b TopEntry) int {
		return cmp.Or(cmp.Compare(b.metric(cfg.Order), a.metric(cfg.Order)),
			a.Addr.Compare(b.Addr), a.Peer.Compare(b.Peer), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	res.Entries = all[:min(len(all), cfg.N)]
	return res
}

// TestTopAgainstNaive: for every key, order and a few N (cutting through
// ties, and above the number of groups), Top fed through Add, through
// AddFunc, and merged from parts, equals the naive Top exactly: entries,
// their order and text, totals and the number of groups.
func TestTopAgainstNaive(t *testing.T) {
	recs := topRecords(20_000, 1)
	for _, by := range []TopKey{BySrcIP, ByDstIP, ByDstPort, BySrcPort, ByProto, ByPair, ByExporter} {
		for _, order := range []TopOrder{OrderBytes, OrderFlows, OrderPackets} {
			for _, n := range []int{1, 20, 333, 1 << 20} {
				cfg := TopConfig{By: by, Order: order, N: n}
				want := naiveTop(cfg, recs)
				one := NewTop(cfg)
				fn := NewTop(cfg)
				add := fn.AddFunc()
				parts := []*Top{NewTop(cfg), NewTop(cfg), NewTop(cfg)}
				for i := range recs {
					one.Add(&recs[i])
					add(&recs[i])
					parts[i*i%3].Add(&recs[i])
				}
				for _, p := range parts[1:] {
					parts[0].Merge(p)
				}
				for name, top := range map[string]*Top{"Add": one, "AddFunc": fn, "Merge": parts[0]} {
					if got := top.Result(); !reflect.DeepEqual(got, want) {
						t.Fatalf("%v/%v/%d via %s: got %d of %d groups, total %+v, first %+v;\nwant %d of %d, total %+v, first %+v",
							by, order, n, name, len(got.Entries), got.Distinct, got.Total, got.Entries[0],
							len(want.Entries), want.Distinct, want.Total, want.Entries[0])
					}
				}
			}
		}
	}
}

// TestTopEmpty: no records, no groups, an empty (not nil) list.
func TestTopEmpty(t *testing.T) {
	for _, by := range []TopKey{BySrcIP, ByPair, ByDstPort, ByProto} {
		top := NewTop(TopConfig{By: by})
		top.Merge(NewTop(TopConfig{By: by}))
		res := top.Result()
		if res.Distinct != 0 || res.Entries == nil || len(res.Entries) != 0 || res.Total != (Counts{}) || res.N != DefaultTopN {
			t.Errorf("%v: got %+v, want no groups", by, res)
		}
	}
}

// TestTopZeroKeyJSON: port 0 (ICMP, fragments) and protocol 0 are values
// in a port's or protocol's entry, written as such (omitempty dropped them,
// so scripts read null); address entries carry neither.
func TestTopZeroKeyJSON(t *testing.T) {
	r := flow.Record{Start: 1, SrcAddr: ip4(10, 0, 0, 1), DstAddr: ip4(10, 0, 0, 2), Proto: 0, Bytes: 1, Packets: 1}
	// In the struct's order: CSV columns follow it (key, port, flows...).
	for by, want := range map[TopKey]string{ByDstPort: `[{"key":"0","port":0,"flows":1,`, BySrcPort: `[{"key":"0","port":0,"flows":1,`, ByProto: `[{"key":"0","proto":0,"flows":1,`} {
		top := NewTop(TopConfig{By: by})
		top.Add(&r)
		b, err := json.Marshal(top.Result().Entries)
		if err != nil || !strings.HasPrefix(string(b), want) {
			t.Errorf("%v: %s, %v; want it to begin %s", by, b, err, want)
		}
	}
	top := NewTop(TopConfig{By: BySrcIP})
	top.Add(&r)
	if b, _ := json.Marshal(top.Result().Entries); strings.Contains(string(b), `"port"`) || strings.Contains(string(b), `"proto"`) {
		t.Errorf("srcip: %s; want no port nor proto", b)
	}
}
