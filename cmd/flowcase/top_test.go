package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/internal/flow"
)

// listedFlow is what TestQueryTop reads back from `query flows`.
type listedFlow struct {
	Src        netip.Addr `json:"src_ip"`
	Dst        netip.Addr `json:"dst_ip"`
	SrcPort    uint16     `json:"src_port"`
	DstPort    uint16     `json:"dst_port"`
	Proto      uint8      `json:"protocol"`
	BytesIn    uint64     `json:"bytes_in"`
	BytesOut   uint64     `json:"bytes_out"`
	Packets    uint64     `json:"packets"`
	PacketsOut uint64     `json:"packets_out"`
	Sampling   uint64     `json:"sampling_interval"`
}

// topOfListed is `query top` worked out by hand from the listed flows: a
// map per key text, one full sort by the metric, then the key's parts.
func topOfListed(flows []listedFlow, by, order string, n int) detectors.TopResult {
	res := detectors.TopResult{By: by, Order: order, N: n}
	groups := map[string]*detectors.TopEntry{}
	for _, f := range flows {
		e := detectors.TopEntry{}
		switch by {
		case "srcip":
			e.Addr, e.Key = f.Src, f.Src.String()
		case "dstip":
			e.Addr, e.Key = f.Dst, f.Dst.String()
		case "pair":
			e.Addr, e.Peer, e.Key = f.Src, f.Dst, f.Src.String()+" -> "+f.Dst.String()
		case "srcport":
			e.Port, e.Key = f.SrcPort, strconv.Itoa(int(f.SrcPort))
		case "dstport":
			e.Port, e.Key = f.DstPort, strconv.Itoa(int(f.DstPort))
		case "proto":
			e.Proto, e.Key = f.Proto, flow.ProtoName(f.Proto)
		}
		g := groups[e.Key]
		if g == nil {
			g = &e
			groups[e.Key] = g
		}
		s := max(f.Sampling, 1)
		for _, c := range []*detectors.Counts{&g.Counts, &res.Total} {
			c.Flows++
			c.RawBytes += f.BytesIn + f.BytesOut
			c.RawPackets += f.Packets + f.PacketsOut
			c.Bytes += (f.BytesIn + f.BytesOut) * s
			c.Packets += (f.Packets + f.PacketsOut) * s
		}
	}
	metric := func(e *detectors.TopEntry) uint64 {
		return map[string]uint64{"bytes": e.Bytes, "flows": e.Flows, "packets": e.Packets}[order]
	}
	for _, g := range groups {
		res.Entries = append(res.Entries, *g)
	}
	res.Distinct = len(res.Entries)
	slices.SortFunc(res.Entries, func(a, b detectors.TopEntry) int {
		return cmp.Or(cmp.Compare(metric(&b), metric(&a)), a.Addr.Compare(b.Addr), a.Peer.Compare(b.Peer),
			cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	res.Entries = res.Entries[:min(n, len(res.Entries))]
	return res
}

// TestQueryTop: `query top` over a real store (IPv4 and IPv6 flows, some
// sampled, several partitions scanned on every core) equals the top worked
// out by hand from the flows `query flows` lists, for every key and order,
// with N cutting through ties and N above the number of groups, in the
// whole store and in a filtered range.
func TestQueryTop(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	var sampled strings.Builder
	for i := range 60 {
		src := []string{"10.0.0.1", "10.0.0.2", "2001:db8::7", "10.3.3.3"}[i%4]
		fmt.Fprintf(&sampled, `{"src_ip":%q,"dst_ip":"192.0.2.%d","src_port":%d,"dst_port":443,"protocol":6,"bytes_in":%d,"bytes_out":7,"packets":3,"packets_out":1,"start":"2026-03-02T0%d:10:00Z","duration":1,"sampling_interval":%d}`+"\n",
			src, i%5, 2000+i%3, 1000*(i%6), i%6, 1+i%2*99)
	}
	sp := filepath.Join(dir, "sampled.ndjson")
	if err := os.WriteFile(sp, []byte(sampled.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "ingest", "--quiet", "--store", store, writeNDJSON(t, dir, "a.ndjson", 4000, 8), sp)
	for _, scope := range [][]string{nil, {"--from", "2026-03-02T01:30:00Z", "--to", "2026-03-02T04:00:00Z", "--filter", "not dst port 22"}} {
		var flows []listedFlow
		for _, line := range sortedLines(mustRun(t, append([]string{"query", "flows", "--store", store, "--format", "ndjson", "--limit", "0"}, scope...)...)) {
			var f listedFlow
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatal(err)
			}
			flows = append(flows, f)
		}
		if len(flows) < 500 {
			t.Fatalf("%v: %d flows: not a useful check", scope, len(flows))
		}
		for _, by := range []string{"srcip", "dstip", "pair", "srcport", "dstport", "proto"} {
			for _, order := range []string{"bytes", "flows", "packets"} {
				for _, n := range []int{7, 100000} {
					args := append([]string{"query", "top", "--store", store, "--by", by, "--order", order, "-n", strconv.Itoa(n), "--format", "json"}, scope...)
					var got detectors.TopResult
					if err := json.Unmarshal([]byte(mustRun(t, args...)), &got); err != nil {
						t.Fatal(err)
					}
					if want := topOfListed(flows, by, order, n); !reflect.DeepEqual(got, want) {
						t.Errorf("%v: got %d of %d groups, total %+v; want %d of %d, total %+v",
							args, len(got.Entries), got.Distinct, got.Total, len(want.Entries), want.Distinct, want.Total)
					}
				}
			}
		}
	}
}
