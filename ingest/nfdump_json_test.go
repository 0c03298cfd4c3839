package ingest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestNfdumpJSON reads nfdump's own JSON export (testdata/nfdump: nfcapd
// fed with the softflowd v5 and v9 fixtures' export packets on loopback,
// then `nfdump -o json`) and must store the flows flowcase decodes from
// the same export packets: nfdump 1.7's names ("first", "last",
// "src4_addr", "in_bytes", "ip4_router", flags as "...AP.SF") read as
// they are, its zone-less times with --input-tz.
func TestNfdumpJSON(t *testing.T) {
	key := func(r *flow.Record) string {
		port, icmpType := r.DstPort, r.ICMPType
		if r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6 {
			port = 0 // v5 carries type<<8|code in the destination port; nfdump's JSON moves it to icmp_type/icmp_code
		}
		if r.Proto == flow.ProtoICMPv6 {
			// softflowd's v9 sends an ICMPv6 type in element 32 (ICMP_TYPE),
			// which nfdump 1.7.1 reads for ICMP only: its JSON says 0 (echo
			// requests and replies here, 128 and 129 in the capture).
			icmpType = 0
		}
		ms := func(ns int64) int64 { return ns / 1e6 }
		return fmt.Sprintf("%s %s>%s %d>%d p%d f%#x icmp%d/%d %dB %dP %d-%d", r.Exporter, r.SrcAddr, r.DstAddr,
			r.SrcPort, port, r.Proto, r.TCPFlags, icmpType, r.ICMPCode, r.Bytes, r.Packets, ms(r.Start), ms(r.End))
	}
	keys := func(recs []flow.Record) []string {
		out := make([]string, len(recs))
		for i := range recs {
			out[i] = key(&recs[i])
		}
		return out
	}
	caps := capStore(t)
	capIngest(t, caps, filepath.Join(softflowdDir, "softflowd_v5.pcap"), filepath.Join(softflowdDir, "softflowd_v9.pcap"))
	want := keys(capRows(t, caps))

	js := capStore(t)
	sum, err := Run(js, []string{"../testdata/nfdump/softflowd_v5_v9.nfdump.json"}, Options{Version: "test", InputTZ: time.UTC})
	if err != nil || sum.Files[0].Err != nil || len(sum.Files[0].Rejected) != 0 {
		t.Fatalf("ingest: %v, %+v", err, sum.Files)
	}
	rows := capRows(t, js)
	got := keys(rows)
	v6types := 0
	for _, r := range rows {
		if r.Proto == flow.ProtoICMPv6 {
			v6types += int(r.ICMPType)
		}
	}
	if len(got) != 220 || v6types != 0 {
		t.Errorf("got %d flows, ICMPv6 types adding up to %d; want nfdump's 220 flows and its zeros", len(got), v6types)
	}
	compareKeys(t, got, want)
}
