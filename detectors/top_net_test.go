package detectors

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestTopNets: srcnet and dstnet group addresses by their IPv4 /Mask4 and
// IPv6 /Mask6 networks (24 and 64 by default), zones dropped; records
// without the address are "unknown".
func TestTopNets(t *testing.T) {
	rec := func(src, dst string, bytes uint64) flow.Record {
		r := flow.Record{DstAddr: netip.MustParseAddr(dst), Bytes: bytes, Packets: 1, Proto: flow.ProtoUDP}
		if src != "" {
			r.SrcAddr = netip.MustParseAddr(src)
		}
		return r
	}
	recs := []flow.Record{
		rec("10.0.1.5", "198.51.100.7", 100), rec("10.0.1.9", "198.51.100.8", 200), rec("10.0.2.1", "203.0.113.1", 50),
		rec("2001:db8:1:2::5", "2001:db8:9::1", 1000), rec("2001:db8:1:2:ffff::9", "2001:db8:9::2", 1),
		rec("fe80::1%eth0", "fe80::2", 7), rec("", "198.51.100.9", 3),
	}
	for _, c := range []struct {
		cfg  TopConfig
		want []string // key flows bytes, in order
	}{
		{TopConfig{By: BySrcNet}, []string{"2001:db8:1:2::/64 2 1001", "10.0.1.0/24 2 300", "10.0.2.0/24 1 50", "fe80::/64 1 7", "unknown 1 3"}},
		{TopConfig{By: BySrcNet, Mask4: 16, Mask6: 32, Order: OrderFlows}, []string{"10.0.0.0/16 3 350", "2001:db8::/32 2 1001", "unknown 1 3", "fe80::/32 1 7"}}, // ties: by address, none first
		{TopConfig{By: ByDstNet, Mask4: 32, N: 2}, []string{"2001:db8:9::/64 2 1001", "198.51.100.8/32 1 200"}},
	} {
		top := NewTop(c.cfg)
		for i := range recs {
			top.Add(&recs[i])
		}
		res := top.Result()
		var got []string
		for _, e := range res.Entries {
			got = append(got, e.Key+" "+strconv.FormatUint(e.Flows, 10)+" "+strconv.FormatUint(e.Bytes, 10))
		}
		if len(got) != len(c.want) || res.Total.Flows != 7 {
			t.Errorf("%+v: got %v (total %d flows), want %v", c.cfg, got, res.Total.Flows, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%+v: entry %d %q, want %q", c.cfg, i, got[i], c.want[i])
			}
		}
	}
}
