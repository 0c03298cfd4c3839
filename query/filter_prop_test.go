package query

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

// evalIndex evaluates an index tree on one record, as the planner's bitmap
// operations would on the row holding it.
func evalIndex(m *index.Match, r *flow.Record) bool {
	switch m.Op {
	case index.MatchAll:
		return true
	case index.MatchNone:
		return false
	case index.MatchAnd:
		for _, s := range m.Sub {
			if !evalIndex(s, r) {
				return false
			}
		}
		return true
	case index.MatchOr:
		for _, s := range m.Sub {
			if evalIndex(s, r) {
				return true
			}
		}
		return false
	case index.MatchNot:
		return !evalIndex(m.Sub[0], r)
	case index.MatchAddrRange:
		a := r.SrcAddr
		if m.Field == index.FieldDstAddr {
			a = r.DstAddr
		}
		return a.IsValid() && a.BitLen() == m.AddrLo.BitLen() && a.Compare(m.AddrLo) >= 0 && a.Compare(m.AddrHi) <= 0
	case index.MatchNumRange:
		v := map[index.Field]uint32{
			index.FieldSrcPort: uint32(r.SrcPort), index.FieldDstPort: uint32(r.DstPort), index.FieldProto: uint32(r.Proto),
		}[m.Field]
		return m.Lo <= v && v <= m.Hi
	}
	panic(fmt.Sprintf("BUG: unknown match op %d", m.Op))
}

// The pools that random records and filters draw from, small so that
// filters often match.
var (
	propAddrs = []string{"10.0.0.1", "10.0.0.2", "10.1.2.3", "192.168.1.1", "2001:db8::1", "2001:db8:1::2", "fe80::1", "::ffff:10.0.0.1"}
	propNets  = []struct{ text, canon string }{
		{"10.0.0.0/8", "10.0.0.0/8"}, {"10.1.2.3/8", "10.0.0.0/8"}, {"10.0.0.0/31", "10.0.0.0/31"},
		{"192.168.0.0/16", "192.168.0.0/16"}, {"0.0.0.0/0", "0.0.0.0/0"}, {"::/0", "::/0"},
		{"2001:db8::/32", "2001:db8::/32"}, {"2001:db8:1::/48", "2001:db8:1::/48"},
		{"10.0.0.1/32", "10.0.0.1/32"}, {"::ffff:10.0.0.0/104", "10.0.0.0/8"}, {"10.0.0.0 255.255.255.0", "10.0.0.0/24"},
	}
	propPorts  = []uint64{0, 22, 53, 80, 443, 1023, 1024, 65535}
	propProtos = []struct {
		text string
		n    uint8
	}{{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"proto icmp6", 58}, {"proto 0", 0}, {"proto 255", 255}, {"proto 6", 6}}
	propCounts = []struct {
		text string
		n    uint64
	}{{"0", 0}, {"1", 1}, {"999", 999}, {"1k", 1000}, {"1001", 1001}, {"1500", 1500}, {"1M", 1e6}, {"5m", 5e6}}
	propSmall = []uint64{0, 1, 2, 3, 100, 4095}
	propOps   = []string{"", "=", "==", "!=", "<", "<=", ">", ">="}
)

type pred func(*flow.Record) bool

type filterGen struct {
	rng         *rand.Rand
	indexedOnly bool
}

func (g *filterGen) pick(n int) int { return g.rng.IntN(n) }

func (g *filterGen) word(ws ...string) string { return ws[g.pick(len(ws))] }

// expr returns a random filter and an independent predicate for it.
func (g *filterGen) expr(depth int) (string, pred) {
	if depth == 0 || g.pick(3) == 0 {
		return g.term()
	}
	switch g.pick(3) {
	case 0:
		s, p := g.expr(depth - 1)
		return g.word("not ", "!", "NOT ") + "(" + s + ")", func(r *flow.Record) bool { return !p(r) }
	case 1:
		a, pa := g.expr(depth - 1)
		b, pb := g.expr(depth - 1)
		return "(" + a + ")" + g.word(" and ", " && ", "&&", " AND ") + "(" + b + ")", func(r *flow.Record) bool { return pa(r) && pb(r) }
	}
	a, pa := g.expr(depth - 1)
	b, pb := g.expr(depth - 1)
	return "(" + a + ")" + g.word(" or ", " || ", "||", " Or ") + "(" + b + ")", func(r *flow.Record) bool { return pa(r) || pb(r) }
}

// sided returns a direction word and a predicate over both sides.
func (g *filterGen) sided(src, dst string, test func(r *flow.Record, src bool) bool) (string, pred) {
	switch g.pick(3) {
	case 0:
		return src, func(r *flow.Record) bool { return test(r, true) }
	case 1:
		return dst, func(r *flow.Record) bool { return test(r, false) }
	}
	return "", func(r *flow.Record) bool { return test(r, true) || test(r, false) }
}

func cmp(v uint64, op string, n uint64) bool {
	switch op {
	case "!=":
		return v != n
	case "<":
		return v < n
	case "<=":
		return v <= n
	case ">":
		return v > n
	case ">=":
		return v >= n
	}
	return v == n
}

func (g *filterGen) term() (string, pred) {
	if !g.indexedOnly && g.pick(2) == 0 {
		return g.unindexedTerm()
	}
	switch g.pick(6) {
	case 0:
		a := netip.MustParseAddr(propAddrs[g.pick(len(propAddrs))])
		dir, p := g.sided("src ", "dst ", func(r *flow.Record, src bool) bool {
			if src {
				return r.SrcAddr == a.Unmap()
			}
			return r.DstAddr == a.Unmap()
		})
		return dir + g.word("ip ", "host ", "IP ") + a.String(), p
	case 1:
		n := propNets[g.pick(len(propNets))]
		pfx := netip.MustParsePrefix(n.canon)
		dir, p := g.sided("src ", "dst ", func(r *flow.Record, src bool) bool {
			if src {
				return pfx.Contains(r.SrcAddr)
			}
			return pfx.Contains(r.DstAddr)
		})
		return dir + "net " + n.text, p
	case 2:
		op, n := propOps[g.pick(len(propOps))], propPorts[g.pick(len(propPorts))]
		dir, p := g.sided("src ", "dst ", func(r *flow.Record, src bool) bool {
			if src {
				return cmp(uint64(r.SrcPort), op, n)
			}
			return cmp(uint64(r.DstPort), op, n)
		})
		return fmt.Sprintf("%sport %s %d", dir, op, n), p
	case 3:
		a, b := propPorts[g.pick(len(propPorts))], propPorts[g.pick(len(propPorts))]
		a, b = min(a, b), max(a, b)
		dir, p := g.sided("src ", "dst ", func(r *flow.Record, src bool) bool {
			v := uint64(r.DstPort)
			if src {
				v = uint64(r.SrcPort)
			}
			return a <= v && v <= b
		})
		return fmt.Sprintf("%sportrange %d-%d", dir, a, b), p
	case 4:
		pr := propProtos[g.pick(len(propProtos))]
		return pr.text, func(r *flow.Record) bool { return r.Proto == pr.n }
	}
	return "any", func(*flow.Record) bool { return true }
}

func (g *filterGen) unindexedTerm() (string, pred) {
	op := propOps[g.pick(len(propOps))]
	switch g.pick(7) {
	case 0:
		c := propCounts[g.pick(len(propCounts))]
		return "bytes " + op + " " + c.text, func(r *flow.Record) bool { return cmp(r.Bytes+r.RevBytes, op, c.n) }
	case 1:
		c := propCounts[g.pick(len(propCounts))]
		return "packets " + op + " " + c.text, func(r *flow.Record) bool { return cmp(r.Packets+r.RevPackets, op, c.n) }
	case 2:
		var letters string
		var mask uint8
		for i := 0; i < 8; i++ {
			if g.pick(4) == 0 {
				letters += string("CEUAPRSF"[i])
				mask |= 0x80 >> i
			}
		}
		if mask == 0 {
			letters, mask = "s", flow.SYN
		}
		return "flags " + letters, func(r *flow.Record) bool { return r.TCPFlags&mask == mask }
	case 3:
		a := netip.MustParseAddr(propAddrs[g.pick(len(propAddrs))])
		return "exporter " + a.String(), func(r *flow.Record) bool { return r.Exporter == a.Unmap() }
	case 4:
		n := propSmall[g.pick(len(propSmall))]
		dir, p := g.sided("src ", "dst ", func(r *flow.Record, src bool) bool {
			if src {
				return cmp(uint64(r.SrcAS), op, n)
			}
			return cmp(uint64(r.DstAS), op, n)
		})
		return fmt.Sprintf("%sas %s %d", dir, op, n), p
	case 5:
		n := propSmall[g.pick(len(propSmall))]
		return fmt.Sprintf("vlan %s %d", op, n), func(r *flow.Record) bool { return cmp(uint64(r.VLAN), op, n) }
	}
	n := propSmall[g.pick(len(propSmall))]
	dir, p := g.sided("in ", "out ", func(r *flow.Record, in bool) bool {
		if in {
			return cmp(uint64(r.InIf), op, n)
		}
		return cmp(uint64(r.OutIf), op, n)
	})
	return fmt.Sprintf("%sif %s %d", dir, op, n), p
}

// randomRecord draws a record from the pools, sometimes with an invalid
// (absent) address.
func randomRecord(rng *rand.Rand) *flow.Record {
	addr := func() netip.Addr {
		if rng.IntN(10) == 0 {
			return netip.Addr{}
		}
		return netip.MustParseAddr(propAddrs[rng.IntN(len(propAddrs))])
	}
	port := func() uint16 {
		if rng.IntN(3) == 0 {
			return uint16(rng.IntN(65536))
		}
		return uint16(propPorts[rng.IntN(len(propPorts))])
	}
	count := func() uint64 { return propCounts[rng.IntN(len(propCounts))].n / uint64(1+rng.IntN(2)) }
	small := func() uint64 { return propSmall[rng.IntN(len(propSmall))] }
	return &flow.Record{
		SrcAddr: addr(), DstAddr: addr(), SrcPort: port(), DstPort: port(),
		Proto:    propProtos[rng.IntN(len(propProtos))].n,
		TCPFlags: uint8(rng.IntN(256)),
		Bytes:    count(), RevBytes: count(), Packets: count(), RevPackets: count(),
		Exporter: addr(), SrcAS: uint32(small()), DstAS: uint32(small()),
		VLAN: uint16(small()), InIf: uint32(small()), OutIf: uint32(small()),
	}
}

// TestFilterProperties checks random filters on random records against an
// independent predicate, the canonical form against the original, and the
// index tree against Match: a superset always, equal for filters of indexed
// terms only.
func TestFilterProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]*flow.Record, 200)
	for i := range recs {
		recs[i] = randomRecord(rng)
	}
	for i := 0; i < 3000; i++ {
		g := &filterGen{rng: rng, indexedOnly: i%2 == 0}
		s, want := g.expr(4)
		f, err := ParseFilter(s)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", s, err)
		}
		canon, err := ParseFilter(f.String())
		if err != nil {
			t.Fatalf("ParseFilter(%q), the canonical form of %q: %v", f.String(), s, err)
		}
		m := f.IndexMatch()
		if err := checkTree(m, true); err != nil {
			t.Fatalf("ParseFilter(%q).IndexMatch() = %s: %v", s, fmtMatch(m), err)
		}
		for _, r := range recs {
			got := f.Match(r)
			if w := want(r); got != w {
				t.Fatalf("ParseFilter(%q).Match(%+v): got %v, want %v", s, *r, got, w)
			}
			if c := canon.Match(r); c != got {
				t.Fatalf("canonical %q of %q: Match got %v, want %v", canon, s, c, got)
			}
			idx := evalIndex(m, r)
			if got && !idx {
				t.Fatalf("ParseFilter(%q): Match true but IndexMatch %s false on %+v", s, fmtMatch(m), *r)
			}
			if g.indexedOnly && idx != got {
				t.Fatalf("ParseFilter(%q) (indexed terms only): IndexMatch %s gives %v, Match %v on %+v", s, fmtMatch(m), idx, got, *r)
			}
		}
	}
}

// TestFilterIndexNotExact checks that negating an inexact tree keeps every
// matching row, on hand-picked cases where a naive MatchNot would not.
func TestFilterIndexNotExact(t *testing.T) {
	r := web() // port 443, 11 MB
	for _, s := range []string{
		"not (port 443 and bytes < 1M)",
		"not (dst port 443 and not bytes > 1M)",
		"not not (port 443 and bytes > 1M)",
		"not (not (tcp or flags R))",
		"not (udp or bytes < 1k) and port 443",
	} {
		f, err := ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Match(r) {
			t.Fatalf("%q: Match got false, want true", s)
		}
		if m := f.IndexMatch(); !evalIndex(m, r) {
			t.Errorf("%q: IndexMatch %s drops a matching row", s, fmtMatch(m))
		}
	}
}
