package detectors

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// DefaultInternal returns the networks that count as internal when none are
// configured: RFC 1918, the shared address space of RFC 6598
// (100.64.0.0/10) and IPv6 unique local addresses (fc00::/7).
func DefaultInternal() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("fc00::/7"),
	}
}

// ParseNets parses a comma-separated list of CIDRs, the form of the
// --internal flag. Host bits are cleared ("10.1.2.3/8" is 10.0.0.0/8).
func ParseNets(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("cannot parse internal network %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cannot parse internal networks %q: %w", s, ErrNoNetworks)
	}
	return out, nil
}

// nets is a set of prefixes with a membership test cheap enough for the
// per-record path: masks are precomputed, no allocation, no netip.Prefix
// method calls.
type nets struct {
	list []netip.Prefix // sorted, masked, deduplicated
	v4   []v4net
	v6   []v6net
}

type v4net struct{ val, mask uint32 }

type v6net struct{ hi, lo, mhi, mlo uint64 }

func newNets(ps []netip.Prefix) nets {
	var n nets
	for _, p := range ps {
		if p.IsValid() {
			n.list = append(n.list, p.Masked())
		}
	}
	slices.SortFunc(n.list, comparePrefix)
	n.list = slices.Compact(n.list)
	for _, p := range n.list {
		n.addPrefix(p)
	}
	return n
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func (n *nets) addPrefix(p netip.Prefix) {
	bits := p.Bits()
	if p.Addr().Is4() {
		a := p.Addr().As4()
		var m uint32
		if bits > 0 {
			m = ^uint32(0) << (32 - bits)
		}
		n.v4 = append(n.v4, v4net{binary.BigEndian.Uint32(a[:]), m})
		return
	}
	a := p.Addr().As16()
	var mhi, mlo uint64
	switch {
	case bits >= 64:
		mhi = ^uint64(0)
		if bits > 64 {
			mlo = ^uint64(0) << (128 - bits)
		}
	case bits > 0:
		mhi = ^uint64(0) << (64 - bits)
	}
	n.v6 = append(n.v6, v6net{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), mhi, mlo})
}

// contains reports whether a lies in one of the networks. IPv4-mapped IPv6
// addresses are tested as IPv4.
func (n *nets) contains(a netip.Addr) bool {
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		b := a.As4()
		v := binary.BigEndian.Uint32(b[:])
		for _, p := range n.v4 {
			if v&p.mask == p.val {
				return true
			}
		}
		return false
	}
	if !a.IsValid() {
		return false
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for _, p := range n.v6 {
		if hi&p.mhi == p.hi && lo&p.mlo == p.lo {
			return true
		}
	}
	return false
}

// strings returns the networks as text, sorted.
func (n *nets) strings() []string {
	out := make([]string, len(n.list))
	for i, p := range n.list {
		out[i] = p.String()
	}
	return out
}
