package ingest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestCollectorJSON reads what two collectors write for the softflowd v5
// and v9 fixtures' export packets, sent to them on loopback
// (testdata/nfdump, testdata/goflow2), and must store the flows flowcase
// decodes from the same packets: their field names read as they are,
// nfdump's zone-less times with --input-tz, and nfcapd's binary file (in
// four compressions) as it is. Each collector's own losses are spelled out
// below and in its fixture's README.
func TestCollectorJSON(t *testing.T) {
	caps := capStore(t)
	capIngest(t, caps, filepath.Join(softflowdDir, "softflowd_v5.pcap"), filepath.Join(softflowdDir, "softflowd_v9.pcap"))
	want := capRows(t, caps)
	for _, c := range []struct {
		name, path string
		tz         *time.Location
		// lossy: the collector writes no ICMP type for ICMPv6 and moves a
		// v5 ICMP type and code out of the destination port (nfdump 1.7.1).
		lossy bool
	}{
		{"nfdump 1.7.1", "../testdata/nfdump/softflowd_v5_v9.nfdump.json", time.UTC, true},
		// nfcapd's own file, which the JSON was made from, read directly,
		// and the same records with LZO, bzip2 and LZ4 blocks (nfdump -J).
		{"nfcapd 1.7.1", "../testdata/nfdump/softflowd_v5_v9.nfcapd", nil, true},
		{"nfcapd 1.7.1, LZO", "../testdata/nfdump/softflowd_v5_v9.lzo.nfcapd", nil, true},
		{"nfcapd 1.7.1, bzip2", "../testdata/nfdump/softflowd_v5_v9.bz2.nfcapd", nil, true},
		{"nfcapd 1.7.1, LZ4", "../testdata/nfdump/softflowd_v5_v9.lz4.nfcapd", nil, true},
		{"goflow2 v2.2.6", "../testdata/goflow2/softflowd_v5_v9.goflow2.ndjson", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := capStore(t)
			sum, err := Run(st, []string{c.path}, Options{Version: "test", InputTZ: c.tz})
			if err != nil || sum.Files[0].Err != nil || len(sum.Files[0].Rejected) != 0 {
				t.Fatalf("ingest: %v, %+v", err, sum.Files)
			}
			got := capRows(t, st)
			v6types := 0
			for _, r := range got {
				if r.Proto == flow.ProtoICMPv6 {
					v6types += int(r.ICMPType)
				}
			}
			if len(got) != 220 || (c.lossy && v6types != 0) || (!c.lossy && v6types != 128+129) {
				t.Errorf("got %d flows, ICMPv6 types adding up to %d; want 220 (101 v5 and 119 v9 records) and %d",
					len(got), v6types, map[bool]int{true: 0, false: 128 + 129}[c.lossy])
			}
			compareKeys(t, collectorKeys(got, c.lossy), collectorKeys(want, c.lossy))
		})
	}
}

// collectorKeys are the fields both sides carry, to the millisecond.
// With lossy, ICMP keys leave out what nfdump 1.7.1 does not keep:
// softflowd's v9 sends the type of ICMPv6 messages in element 32
// (ICMP_TYPE), which nfdump reads for ICMP only (its JSON says 0), and v5
// carries an ICMP type and code in the destination port, which nfdump
// moves to icmp_type/icmp_code (destination port 0).
func collectorKeys(recs []flow.Record, lossy bool) []string {
	out := make([]string, len(recs))
	for i := range recs {
		r := &recs[i]
		port, icmpType := r.DstPort, r.ICMPType
		if lossy && (r.Proto == flow.ProtoICMP || r.Proto == flow.ProtoICMPv6) {
			port = 0
		}
		if lossy && r.Proto == flow.ProtoICMPv6 {
			icmpType = 0
		}
		ms := func(ns int64) int64 { return ns / 1e6 }
		out[i] = fmt.Sprintf("%s %s>%s %d>%d p%d f%#x icmp%d/%d %dB %dP %d-%d", r.Exporter, r.SrcAddr, r.DstAddr,
			r.SrcPort, port, r.Proto, r.TCPFlags, icmpType, r.ICMPCode, r.Bytes, r.Packets, ms(r.Start), ms(r.End))
	}
	return out
}

// TestCollectorCSV reads nfdump 1.7.1's CSV export of the same flows
// (testdata/nfdump, `nfdump -o csv`): its header names the columns, its
// times are zone-less and to the second only, and its closing "Summary"
// block is not flows. Like its JSON, it writes no ICMPv6 type (softflowd
// sends it in element 32, which nfdump reads for ICMP only); unlike its
// JSON, it writes an ICMP type and code in the destination port (type<<8 |
// code) for v9 records too, where softflowd sent port 0 and element 32:
// ICMP keys compare type and code, not ports.
func TestCollectorCSV(t *testing.T) {
	caps := capStore(t)
	capIngest(t, caps, filepath.Join(softflowdDir, "softflowd_v5.pcap"), filepath.Join(softflowdDir, "softflowd_v9.pcap"))
	st := capStore(t)
	sum, err := Run(st, []string{"../testdata/nfdump/softflowd_v5_v9.nfdump.csv"}, Options{Version: "test", InputTZ: time.UTC})
	if err != nil || sum.Files[0].Err != nil || len(sum.Files[0].Rejected) != 0 || sum.Files[0].Format != InputCSV {
		t.Fatalf("ingest: %v, %+v", err, sum.Files)
	}
	keys := func(recs []flow.Record) []string {
		out := make([]string, len(recs))
		for i := range recs {
			r := &recs[i]
			port, icmpType := r.DstPort, r.ICMPType
			switch r.Proto {
			case flow.ProtoICMP:
				port = 0
			case flow.ProtoICMPv6:
				port, icmpType = 0, 0
			}
			out[i] = fmt.Sprintf("%s %s>%s %d>%d p%d f%#x icmp%d/%d %dB %dP %d-%d", r.Exporter, r.SrcAddr, r.DstAddr,
				r.SrcPort, port, r.Proto, r.TCPFlags, icmpType, r.ICMPCode, r.Bytes, r.Packets, r.Start/1e9, r.End/1e9)
		}
		return out
	}
	got := capRows(t, st)
	if len(got) != 220 {
		t.Errorf("got %d flows, want 220 (101 v5 and 119 v9 records; the summary is not flows)", len(got))
	}
	compareKeys(t, keys(got), keys(capRows(t, caps)))
}

// An nfdump file's source says which nfdump wrote it, how, and for which
// exporters.
func TestNfcapdNote(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"softflowd_v5_v9.nfcapd", "nfdump 1.7.1 file, uncompressed, flows from 1 exporter"},
		{"softflowd_v5_v9.lz4.nfcapd", "nfdump 1.7.1 file, LZ4, flows from 1 exporter"},
	} {
		st := capStore(t)
		res := capIngest(t, st, "../testdata/nfdump/"+c.file).Files[0]
		if res.Format != InputNfcapd || len(res.Notes) != 2 || res.Notes[0] != c.want ||
			res.Notes[1] != "not flows, or not read: 2 exporter records, 1 exporter statistics records, 1 ident records, 1 statistics records" {
			t.Errorf("%s: format %q, notes %q; want nfcapd and %q", c.file, res.Format, res.Notes, c.want)
		}
		// info's exporters table lists the file's exporter and its flows.
		exps, _, err := Exporters(st)
		if err != nil || len(exps) != 1 || exps[0].Address != "127.0.0.1" || exps[0].Flows != 220 {
			t.Errorf("%s: exporters %+v, %v; want 127.0.0.1 with 220 flows", c.file, exps, err)
		}
	}
}
