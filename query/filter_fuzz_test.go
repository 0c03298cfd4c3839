package query

import (
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// FuzzParseFilter checks that ParseFilter never panics and that a filter it
// accepts has a canonical form that parses to the same canonical form and
// the same predicate, whose index tree is well formed and selects a
// superset of the rows Match accepts.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"",                                       // match everything
		"src ip 10.0.0.5",                        // an address, a direction
		"dst net 10.1.2.3/8 and port 443",        // a non-canonical prefix
		"net 10.0.0.0 255.255.0.0",               // address and netmask
		"ip ::ffff:1.2.3.4 or net 2001:db8::/32", // v4-mapped, IPv6
		"src port > 1023 && !(dst port <= 1023)", // comparisons, symbols
		"portrange 1-1023 or port != 80",         // ranges
		"proto ipv6-icmp or tcp or proto 253",    // protocol names and numbers
		"bytes > 10M and packets <= 1500k",       // counter suffixes
		"flags S and not flags A",                // TCP flags
		"exporter 172.16.0.1 or src as 64512 or vlan 10 or in if 3", // unindexed extras
		"not (port 80 or bytes < 1k) and ((udp))",                   // negation over an inexact sub-filter
		"port 80 tcp",                       // juxtaposition: an error
		"src ip foo",                        // a bad address: an error
		"(((not not any)))",                 // nesting
		"ip 10.0.0.1&&port==80||port>=8080", // no spaces
		"port\u00a080 ü",                    // unicode space and letters
		"src ip in [ 10.0.0.1, 2001:db8::1 ] or port in [22 443]", // lists
		"duration > 1.5s and bpp < 100 or pps >= 1k or bps > 1M",  // rates
		"icmp-type 8 and icmp-code != 0 or next ip 10.0.0.1",      // ICMP, next hop
		"ip in [ 10.0.0.1", // an unclosed list: an error
	} {
		f.Add(s)
	}
	recs := []*flow.Record{web(), dns(), mapped(), {}}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			return
		}
		canon := flt.String()
		again, err := ParseFilter(canon)
		if err != nil {
			t.Fatalf("ParseFilter(%q): canonical form %q does not parse: %v", s, canon, err)
		}
		if got := again.String(); got != canon {
			t.Fatalf("ParseFilter(%q): canonical form %q re-parses to %q", s, canon, got)
		}
		m := flt.IndexMatch()
		if err := checkTree(m, true); err != nil {
			t.Fatalf("ParseFilter(%q).IndexMatch() = %s: %v", s, fmtMatch(m), err)
		}
		for _, r := range recs {
			got := flt.Match(r)
			if again.Match(r) != got {
				t.Fatalf("ParseFilter(%q): canonical form %q matches differently", s, canon)
			}
			if got && !evalIndex(m, r) {
				t.Fatalf("ParseFilter(%q): IndexMatch %s drops a matching row", s, fmtMatch(m))
			}
		}
	})
}
