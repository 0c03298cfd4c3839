package netflow

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/truthcsv"
)

// truthRow is one kind=flow row of truth/<set>/<capture>.csv (tshark's
// decoding; TRUTH.md explains the columns).
type truthRow map[string]string

func readTruth(t *testing.T, path string) []truthRow {
	t.Helper()
	rows, err := truthcsv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []truthRow
	for _, r := range truthcsv.Flows(rows) {
		out = append(out, r)
	}
	return out
}

// gotRec is a decoded record with the frame it came from.
type gotRec struct {
	frame uint64
	rec   flow.Record
}

// captureResult is what decoding one capture in a single pass gave.
type captureResult struct {
	recs      []gotRec
	recovered int // records DecodeParked found after a later template
	infos     []PacketInfo
	errs      []error
	readErr   error
	truncated int // UDP payloads cut by the snap length
}

// decodeCapture decodes every UDP payload that Sniff recognises, in a
// single pass (like tshark: a data set before its template is not decoded),
// then retries the parked sets at the end (a buffering collector).
func decodeCapture(t *testing.T, path string) captureResult {
	t.Helper()
	pkts, readErr := readUDP(path)
	res := captureResult{readErr: readErr}
	d := NewDecoder(nil)
	type parked struct {
		ps  ParkedSet
		set []byte
	}
	var park []parked
	for _, p := range pkts {
		if p.Truncated {
			res.truncated++
		}
		if _, ok := Sniff(p.Payload); !ok {
			continue
		}
		info, err := d.Decode(p.Packet, func(r *flow.Record) {
			res.recs = append(res.recs, gotRec{p.Number, *r})
		})
		for _, ps := range info.Unknown {
			park = append(park, parked{ps, append([]byte(nil), ps.Bytes(p.Payload)...)})
		}
		info.Unknown = nil
		res.infos = append(res.infos, info)
		if err != nil {
			res.errs = append(res.errs, err)
		}
	}
	for _, pk := range park {
		info, err := d.DecodeParked(pk.ps, pk.set, func(*flow.Record) {})
		if err == nil {
			res.recovered += info.Records
		}
	}
	return res
}

// parseEpoch parses "1552590236.209" to unix ns.
func parseEpoch(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	return a*1e9 + b, err1 == nil && err2 == nil
}

func parseUintField(s string) uint64 {
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(s, "0x")], 64)
	if err != nil {
		return 1<<64 - 1
	}
	return v
}

// compareRow returns the fields where the record differs from the truth,
// and separately the differences that TRUTH.md's tooling explains.
// sectionOnlyFlowcase are packet sections tshark 4.0 does not read and
// flowcase does, checked in TestSectionMPLSControlWord: record 4 of
// akvorado__ethernet-over-mpls-with-control-word, an Ethernet pseudowire
// whose control word tshark takes for the inner frame's start.
var sectionOnlyFlowcase = map[string]bool{"198.51.100.1>198.51.100.2/6": true}

func compareRow(w truthRow, r *flow.Record) (diffs, explained []string) {
	check := func(name, want, got string) {
		if want != got {
			diffs = append(diffs, fmt.Sprintf("%s got %s want %s", name, got, want))
		}
	}
	if w["src_ip"] == "" && w["bytes"] == "" && r.SrcAddr.IsValid() {
		// TRUTH.md finding 8: a record without flow keys or counters, with
		// a packet section. flowcase reads the keys of its outermost IP
		// header: one of the (source, destination, protocol) triples
		// tshark found in the section (section_* list them, inner and outer
		// headers of a tunnel alike).
		srcs, dsts := strings.Split(w["section_src_ip"], ","), strings.Split(w["section_dst_ip"], ",")
		protos := strings.Split(w["section_proto"], ",")
		for i := range min(len(srcs), len(dsts), len(protos)) {
			if srcs[i] == r.SrcAddr.String() && dsts[i] == r.DstAddr.String() && protos[i] == strconv.Itoa(int(r.Proto)) {
				return nil, []string{fmt.Sprintf("flow keys from the packet section: %v -> %v proto %d, %d bytes", r.SrcAddr, r.DstAddr, r.Proto, r.Bytes)}
			}
		}
		if w["section_src_ip"] == "" && sectionOnlyFlowcase[fmt.Sprintf("%v>%v/%d", r.SrcAddr, r.DstAddr, r.Proto)] {
			return nil, []string{fmt.Sprintf("flow keys from a packet section tshark did not read: %v -> %v proto %d", r.SrcAddr, r.DstAddr, r.Proto)}
		}
		return []string{fmt.Sprintf("section keys %v -> %v proto %d, none of tshark's %v -> %v proto %v",
			r.SrcAddr, r.DstAddr, r.Proto, srcs, dsts, protos)}, nil
	}
	num := func(name string, got uint64) {
		check(name, strconv.FormatUint(parseUintField(w[name]), 10), strconv.FormatUint(got, 10))
	}
	addr := func(name string, got netip.Addr) {
		switch {
		case w[name] == "":
		case w[name] == "0.0.0.0" && got.Is6() && !got.IsUnspecified():
			// The template carries IPv4 and IPv6 address fields; the
			// truth script takes cflow.srcaddr (IPv4) whenever present,
			// even 0.0.0.0, while the flow's real address is the IPv6 one.
			explained = append(explained, name+" IPv6 "+got.String()+" (truth: unused IPv4 field 0.0.0.0)")
		default:
			check(name, w[name], got.String())
		}
	}
	addr("exporter_ip", r.Exporter)
	addr("src_ip", r.SrcAddr)
	addr("dst_ip", r.DstAddr)
	addr("next_hop", r.NextHop)
	if et, eid, ok := strings.Cut(w["domain_id"], "/"); ok { // v5: engine type/id
		num := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 8); return v }
		check("domain_id", strconv.FormatUint(num(et)<<8|num(eid), 10), strconv.FormatUint(uint64(r.ObsDomain), 10))
	} else {
		num("domain_id", uint64(r.ObsDomain))
	}
	num("src_port", uint64(r.SrcPort))
	num("dst_port", uint64(r.DstPort))
	num("proto", uint64(r.Proto))
	num("bytes", r.Bytes)
	num("packets", r.Packets)
	num("reverse_bytes", r.RevBytes)
	num("reverse_packets", r.RevPackets)
	// Columns that tshark fills only when the element it reads is present;
	// empty means "not this element", not zero.
	opt := func(name string, got uint64) {
		if w[name] != "" {
			num(name, got)
		}
	}
	opt("input_if", uint64(r.InIf))
	opt("output_if", uint64(r.OutIf))
	opt("tcp_flags", uint64(r.TCPFlags))
	opt("src_as", uint64(r.SrcAS))
	opt("dst_as", uint64(r.DstAS))
	for _, c := range [...]struct {
		name string
		got  int64
	}{{"first_epoch", r.Start}, {"last_epoch", r.End}} {
		// The truth's v5/v9 epochs are printed to the millisecond (rounded).
		tol := int64(0)
		if _, frac, _ := strings.Cut(w[c.name], "."); len(frac) <= 3 {
			tol = 500_000
		}
		if want, ok := parseEpoch(w[c.name]); ok && (c.got-want > tol || want-c.got > tol) {
			diffs = append(diffs, fmt.Sprintf("%s got %d want %d (%+d ns)", c.name, c.got, want, c.got-want))
		}
	}
	return diffs, explained
}

// truthCaptures lists (truth csv, capture pcap) pairs.
func truthCaptures(t *testing.T, dir string) [][2]string {
	sets := map[string]string{
		"public_netflow":         "public/netflow",
		"public_netflow_derived": "public/netflow_derived",
		"generated_softflowd":    "generated/softflowd",
		"hostile":                "hostile",
	}
	var out [][2]string
	for set, capDir := range sets {
		csvs, _ := filepath.Glob(filepath.Join(dir, "truth", set, "*.csv"))
		for _, c := range csvs {
			name := strings.TrimSuffix(filepath.Base(c), ".csv")
			out = append(out, [2]string{c, filepath.Join(dir, capDir, name+".pcap")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1] < out[j][1] })
	return out
}

// TestTruth decodes every real capture and compares its flow records, field
// by field and in order within each frame, with tshark's (TRUTH.md).
// Every difference must be one TRUTH.md explains (knownDiff).
func TestTruth(t *testing.T) {
	dir := capturesDir(t)
	var totalExp, totalOK, totalExplained int
	for _, pair := range truthCaptures(t, dir) {
		name := strings.TrimSuffix(filepath.Base(pair[1]), ".pcap")
		want := readTruth(t, pair[0])
		res := decodeCapture(t, pair[1])
		matched, explained, diffs := matchCapture(want, res.recs)
		totalExp += len(want)
		totalOK += matched
		totalExplained += explained
		line := fmt.Sprintf("%-62s %4d/%-4d exact", name, matched, len(want))
		if explained > 0 {
			line += fmt.Sprintf(" +%d explained", explained)
		}
		line += fmt.Sprintf(", decoded %d", len(res.recs))
		if res.recovered > 0 {
			line += fmt.Sprintf(" +%d from parked sets", res.recovered)
		}
		if res.readErr != nil {
			line += fmt.Sprintf(" [read: %v]", res.readErr)
		}
		if len(res.errs) > 0 {
			line += fmt.Sprintf(" [%d decode errors, first: %v]", len(res.errs), res.errs[0])
		}
		t.Log(line)
		for i, d := range diffs {
			if i == 5 {
				t.Logf("    ... %d more", len(diffs)-5)
				break
			}
			t.Log("    " + d)
		}
		if matched+explained != len(want) || len(res.recs) != len(want) {
			t.Errorf("%s: %d/%d records match (%d explained), %d decoded", name, matched, len(want), explained, len(res.recs))
		}
	}
	t.Logf("total %d/%d exact, %d explained", totalOK, totalExp, totalExplained)
}

// matchCapture pairs truth rows and records frame by frame, in order.
func matchCapture(want []truthRow, got []gotRec) (matched, explainedN int, diffs []string) {
	byFrame := map[uint64][]*flow.Record{}
	for i := range got {
		byFrame[got[i].frame] = append(byFrame[got[i].frame], &got[i].rec)
	}
	wantFrame := map[uint64][]truthRow{}
	for _, w := range want {
		f := parseUintField(w["frame"])
		wantFrame[f] = append(wantFrame[f], w)
	}
	frames := make([]uint64, 0, len(wantFrame))
	for f := range wantFrame {
		frames = append(frames, f)
	}
	for f := range byFrame {
		if _, ok := wantFrame[f]; !ok {
			frames = append(frames, f)
		}
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	for _, f := range frames {
		ws, gs := wantFrame[f], byFrame[f]
		if len(ws) != len(gs) {
			diffs = append(diffs, fmt.Sprintf("frame %d: %d records, want %d", f, len(gs), len(ws)))
		}
		for i := 0; i < min(len(ws), len(gs)); i++ {
			d, e := compareRow(ws[i], gs[i])
			switch {
			case len(d) == 0 && len(e) == 0:
				matched++
			case len(d) == 0:
				explainedN++
				if explainedN == 1 {
					diffs = append(diffs, fmt.Sprintf("explained, e.g. frame %d set %s rec %s: %s", f, ws[i]["set_id"], ws[i]["record_index"], strings.Join(e, "; ")))
				}
			default:
				diffs = append(diffs, fmt.Sprintf("frame %d set %s rec %s: %s", f, ws[i]["set_id"], ws[i]["record_index"], strings.Join(d, "; ")))
			}
		}
	}
	return matched, explainedN, diffs
}
