package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/query"
)

// refWriter is the straightforward record writer that recordWriter
// replaced (encoding/csv, time.Format, String, fmt): the fast writer must
// give its bytes exactly.
type refWriter struct {
	w      io.Writer
	format string
	tz     *time.Location
	hashes map[uint32]string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	n      int
}

func newRefWriter(w io.Writer, format string, tz *time.Location, hashes map[uint32]string) *refWriter {
	rw := &refWriter{w: w, format: format, tz: tz, hashes: hashes}
	switch format {
	case "table":
		rw.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		start := "START" // naming the zone when it is not UTC
		if tz != time.UTC {
			start += " (" + tz.String() + ")"
		}
		fmt.Fprintln(rw.tw, start+"\tDURATION\tPROTO\tSRC\tDST\tFLAGS\tPACKETS\tBYTES\tPACKETS_OUT\tBYTES_OUT")
	case "csv":
		rw.cw = csv.NewWriter(w)
		rw.cw.Write(outputFields)
	case "json":
		io.WriteString(w, "[")
	}
	return rw
}

func (rw *refWriter) write(r *flow.Record) {
	switch rw.format {
	case "table":
		start := time.Unix(0, r.Start).In(rw.tz).Format("2006-01-02 15:04:05.000")
		dur := time.Duration(r.End - r.Start).Round(time.Millisecond)
		fmt.Fprintf(rw.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", start, dur, flow.ProtoName(r.Proto),
			refHostPort(r.SrcAddr, r.SrcPort), refHostPort(r.DstAddr, r.DstPort), refFlags(r.TCPFlags),
			r.Packets, r.Bytes, r.RevPackets, r.RevBytes)
		if rw.n%tableBlock == tableBlock-1 {
			rw.tw.Flush()
		}
	case "csv":
		rw.cw.Write(rw.csvRow(r))
	case "json":
		if rw.n > 0 {
			io.WriteString(rw.w, ",")
		}
		io.WriteString(rw.w, "\n  ")
		rw.w.Write(rw.json(r))
	case "ndjson":
		rw.w.Write(append(rw.json(r), '\n'))
	}
	rw.n++
}

func (rw *refWriter) close() {
	switch rw.format {
	case "table":
		rw.tw.Flush()
	case "csv":
		rw.cw.Flush()
	case "json":
		if rw.n > 0 {
			io.WriteString(rw.w, "\n")
		}
		io.WriteString(rw.w, "]\n")
	}
}

func refHostPort(a netip.Addr, p uint16) string {
	if !a.IsValid() {
		return "-"
	}
	return netip.AddrPortFrom(a, p).String()
}

func refFlags(f uint8) string {
	const letters = "CEUAPRSF"
	b := []byte("........")
	for i := range 8 {
		if f&(0x80>>i) != 0 {
			b[i] = letters[i]
		}
	}
	return string(b)
}

func refTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z")
}

func refAddr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func refSeconds(d int64) string { return strconv.FormatFloat(float64(d)/1e9, 'f', -1, 64) }

func (rw *refWriter) csvRow(r *flow.Record) []string {
	u := func(x uint64) string { return strconv.FormatUint(x, 10) }
	return []string{
		refAddr(r.SrcAddr), refAddr(r.DstAddr), u(uint64(r.SrcPort)), u(uint64(r.DstPort)), u(uint64(r.Proto)),
		u(r.Bytes), u(r.RevBytes), u(r.Packets), u(r.RevPackets), u(uint64(r.TCPFlags)),
		refTime(r.Start), refTime(r.End), refSeconds(r.End - r.Start), u(uint64(r.ICMPType)), u(uint64(r.ICMPCode)),
		u(uint64(r.InIf)), u(uint64(r.OutIf)), u(uint64(r.SrcAS)), u(uint64(r.DstAS)),
		refAddr(r.NextHop), u(uint64(r.VLAN)), refAddr(r.Exporter), u(uint64(r.ObsDomain)),
		u(uint64(max(r.SamplingInterval, 1))), rw.hashes[r.SourceID],
		u(r.PostBytes), u(r.PostPackets), dirString(r.Dir), refAddr(r.NATSrcAddr), refAddr(r.NATDstAddr),
		u(uint64(r.NATSrcPort)), u(uint64(r.NATDstPort)),
	}
}

// json writes the object field by field with fmt, strings as they are
// (the writer has never escaped them: none of its strings needs it).
func (rw *refWriter) json(r *flow.Record) []byte {
	var b bytes.Buffer
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return "null"
		}
		return `"` + a.String() + `"`
	}
	dir := "null"
	if d := dirString(r.Dir); d != "" {
		dir = `"` + d + `"`
	}
	fmt.Fprintf(&b, `{"src_ip":%s,"dst_ip":%s,"src_port":%d,"dst_port":%d,"protocol":%d,"bytes_in":%d,"bytes_out":%d,`,
		addr(r.SrcAddr), addr(r.DstAddr), r.SrcPort, r.DstPort, r.Proto, r.Bytes, r.RevBytes)
	fmt.Fprintf(&b, `"packets":%d,"packets_out":%d,"tcp_flags":%d,"start":"%s","end":"%s","duration":%s,`,
		r.Packets, r.RevPackets, r.TCPFlags, refTime(r.Start), refTime(r.End), refSeconds(r.End-r.Start))
	fmt.Fprintf(&b, `"icmp_type":%d,"icmp_code":%d,"in_if":%d,"out_if":%d,"src_as":%d,"dst_as":%d,"next_hop":%s,"vlan":%d,`,
		r.ICMPType, r.ICMPCode, r.InIf, r.OutIf, r.SrcAS, r.DstAS, addr(r.NextHop), r.VLAN)
	fmt.Fprintf(&b, `"exporter":%s,"observation_domain":%d,"sampling_interval":%d,"source":"%s","post_bytes":%d,"post_packets":%d,`,
		addr(r.Exporter), r.ObsDomain, max(r.SamplingInterval, 1), rw.hashes[r.SourceID], r.PostBytes, r.PostPackets)
	fmt.Fprintf(&b, `"flow_direction":%s,"nat_src_ip":%s,"nat_dst_ip":%s,"nat_src_port":%d,"nat_dst_port":%d}`,
		dir, addr(r.NATSrcAddr), addr(r.NATDstAddr), r.NATSrcPort, r.NATDstPort)
	return b.Bytes()
}

// Instants where formatting goes wrong first: the int64 ends, the epoch,
// leap days, century years, day and year ends.
var edgeInstants = func() []int64 {
	ts := []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1, 0, -1, 1, 999_999_999, -999_999_999,
		-1_000_000_000, 1_000_000_000, -86400e9, -86400e9 - 1, 86400e9 - 1}
	for _, d := range []time.Time{
		time.Date(1700, 2, 28, 23, 59, 59, 999_999_999, time.UTC), time.Date(1700, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1800, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 1, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC), time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2100, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		ts = append(ts, d.UnixNano(), d.UnixNano()-1, d.UnixNano()+1)
	}
	return ts
}()

func randInstant(rng *rand.Rand) int64 {
	switch rng.IntN(4) {
	case 0:
		return int64(rng.Uint64()) // anywhere in 1677-2262
	case 1:
		return edgeInstants[rng.IntN(len(edgeInstants))]
	case 2: // whole seconds and milliseconds
		return rng.Int64N(1e10)*1e9 - 5e18
	}
	// around now, to the nanosecond
	return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano() + rng.Int64N(400*86400e9) - 200*86400e9
}

func randAddr(rng *rand.Rand) netip.Addr {
	switch rng.IntN(9) {
	case 0:
		return netip.Addr{}
	case 1:
		return netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
	case 2:
		return [...]netip.Addr{netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255}),
			netip.AddrFrom4([4]byte{10, 0, 100, 9}), netip.IPv6Unspecified(), netip.IPv6Loopback()}[rng.IntN(5)]
	case 3: // 4in6
		return netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: byte(rng.IntN(256)), 13: byte(rng.IntN(256)), 14: 1, 15: byte(rng.IntN(256))})
	case 4: // IPv6 with runs of zeros
		var a [16]byte
		for i := range a {
			if rng.IntN(3) == 0 {
				a[i] = byte(rng.IntN(256))
			}
		}
		return netip.AddrFrom16(a)
	case 5: // zoned, zones that CSV must quote among them
		zones := []string{"eth0", "en,1", `a"b`, "x\ny", "\r", " lead", `\.`}
		return netip.MustParseAddr("fe80::1").WithZone(zones[rng.IntN(len(zones))])
	case 6: // zoned 4in6
		return netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 192, 13: 0, 14: 2, 15: 1}).WithZone("z,1")
	}
	var a [16]byte
	for i := range a {
		a[i] = byte(rng.IntN(256))
	}
	return netip.AddrFrom16(a)
}

func randU64(rng *rand.Rand) uint64 {
	switch rng.IntN(5) {
	case 0:
		return 0
	case 1:
		return math.MaxUint64 - uint64(rng.IntN(2))
	case 2:
		return uint64(rng.IntN(100))
	case 3:
		return rng.Uint64() >> rng.IntN(64)
	}
	return uint64(rng.IntN(1e6))
}

func randRecord(rng *rand.Rand) flow.Record {
	u32 := func() uint32 { return uint32(randU64(rng)) }
	start := randInstant(rng)
	var end int64
	switch rng.IntN(6) {
	case 0:
		end = start
	case 1:
		end = randInstant(rng) // anything, before start and overflowing included
	case 2: // around the 1e15 ns where appendSeconds changes method
		end = start + 1e15 + rng.Int64N(2000) - 1000
	case 3:
		end = start + rng.Int64N(1e15)
	default:
		end = start + rng.Int64N(int64(time.Hour))
	}
	return flow.Record{
		Start: start, End: end,
		SrcAddr: randAddr(rng), DstAddr: randAddr(rng), SrcPort: uint16(randU64(rng)), DstPort: uint16(randU64(rng)),
		Proto: uint8(rng.IntN(256)), TCPFlags: uint8(rng.IntN(256)),
		Bytes: randU64(rng), Packets: randU64(rng), RevBytes: randU64(rng), RevPackets: randU64(rng),
		PostBytes: randU64(rng), PostPackets: randU64(rng),
		ICMPType: uint8(randU64(rng)), ICMPCode: uint8(randU64(rng)), InIf: u32(), OutIf: u32(), SrcAS: u32(), DstAS: u32(),
		NextHop: randAddr(rng), VLAN: uint16(randU64(rng)), Dir: flow.Direction(rng.IntN(4)),
		NATSrcAddr: randAddr(rng), NATDstAddr: randAddr(rng), NATSrcPort: uint16(randU64(rng)), NATDstPort: uint16(randU64(rng)),
		Exporter: randAddr(rng), ObsDomain: u32(), SamplingInterval: u32(), SourceID: uint32(rng.IntN(8)),
	}
}

// testHashes are source "hashes" that CSV must quote among real ones; id
// 7 is missing (an empty field).
var testHashes = map[uint32]string{
	0: "0bfdd1ddbdf662d7" + strings.Repeat("0123456789abcdef", 3), 1: "", 2: "a,b", 3: `say "hi"`,
	4: " leading space", 5: "\u00a0nbsp", 6: `\.`,
}

func testZones(t *testing.T) []*time.Location {
	zones := []*time.Location{time.UTC, time.FixedZone("odd", -(9*3600 + 59*60 + 59)), time.FixedZone("east", 14*3600)}
	for _, name := range []string{"America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Dublin", "America/Sao_Paulo", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Logf("zone %s: %v (skipped)", name, err)
			continue
		}
		zones = append(zones, loc)
	}
	return zones
}

func writeBoth(recs []flow.Record, format string, tz *time.Location, hashes map[uint32]string) (got, want string) {
	var g, w bytes.Buffer
	fast, ref := newRecordWriter(&g, format, tz, func(id uint32) string { return hashes[id] }), newRefWriter(&w, format, tz, hashes)
	for i := range recs {
		fast.write(&recs[i])
		ref.write(&recs[i])
	}
	fast.close()
	ref.close()
	return g.String(), w.String()
}

// TestRecordWriterMatchesReference: random records covering every field
// (absent, IPv4, IPv6, 4in6 and zoned addresses, zero and maximal
// counters, instants from 1677 to 2262, negative and huge durations,
// sources that CSV must quote) come out in every format exactly as the
// straightforward writer writes them, the table in several time zones.
func TestRecordWriterMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	recs := make([]flow.Record, 5000)
	for i := range recs {
		recs[i] = randRecord(rng)
	}
	// Runs of ordered rows (as a scan gives them) reuse the cached date,
	// zone period and source.
	for i := 1; i < 2000; i++ {
		recs[i].Start = recs[i-1].Start + rng.Int64N(int64(20*time.Minute))
		recs[i].SourceID = recs[i-1].SourceID
	}
	for _, format := range []string{"csv", "json", "ndjson", "table"} {
		for _, tz := range testZones(t) {
			if format != "table" && tz != time.UTC {
				continue
			}
			for _, n := range []int{0, 1, 999, 1000, len(recs)} { // more than tableBlock: TestTableBlocks
				got, want := writeBoth(recs[:n], format, tz, testHashes)
				if got != want {
					t.Fatalf("%s, %s, %d rows: output differs from the reference at byte %d:\ngot  %.300q\nwant %.300q",
						format, tz, n, firstDiff(got, want), got[max(firstDiff(got, want)-100, 0):], want[max(firstDiff(got, want)-100, 0):])
				}
			}
		}
	}
	// Real values: the header, a quoted source, an empty JSON array.
	got, _ := writeBoth(recs[:0], "csv", time.UTC, testHashes)
	if want := strings.Join(outputFields, ",") + "\n"; got != want {
		t.Errorf("empty CSV: %q, want %q", got, want)
	}
	if got, _ := writeBoth(recs[:0], "json", time.UTC, testHashes); got != "[]\n" {
		t.Errorf("empty JSON: %q, want %q", got, "[]\n")
	}
	r := flow.Record{Start: 1772409600_123456789, End: 1772409601_500000000, SrcAddr: netip.MustParseAddr("10.1.20.75"),
		DstAddr: netip.MustParseAddr("2001:db8::1"), SrcPort: 443, Proto: 6, Bytes: 1500, SourceID: 3}
	got, _ = writeBoth([]flow.Record{r}, "csv", time.UTC, testHashes)
	want := strings.Join(outputFields, ",") + "\n" +
		`10.1.20.75,2001:db8::1,443,0,6,1500,0,0,0,0,2026-03-02T00:00:00.123456789Z,2026-03-02T00:00:01.500000000Z,1.376543211,0,0,0,0,0,0,,0,,0,1,"say ""hi""",0,0,,,,0,0` + "\n"
	if got != want {
		t.Errorf("CSV:\ngot  %q\nwant %q", got, want)
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestAppendRFC3339: the hand-written formatter against time.Format.
func TestAppendRFC3339(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tf timeFormatter
	check := func(ns int64) {
		if got, want := string(tf.appendRFC3339(nil, ns)), refTime(ns); got != want {
			t.Fatalf("%d: %s, want %s", ns, got, want)
		}
	}
	for _, ns := range edgeInstants {
		check(ns)
	}
	for range 300000 {
		check(randInstant(rng))
	}
	// Every day from 1677 to 2262, at a random time of day.
	for d := int64(math.MinInt64)/86400e9 + 1; d < int64(math.MaxInt64)/86400e9; d++ {
		check(d*86400e9 + rng.Int64N(86400e9))
	}
}

// TestAppendTableTime: table times in zones with DST (half-hour and
// southern too), odd fixed offsets and local mean time, at random instants
// and on each side of every zone change.
func TestAppendTableTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, loc := range testZones(t) {
		tf := timeFormatter{zone: zoneCache{loc: loc}}
		check := func(ns int64) {
			want := time.Unix(0, ns).In(loc).Format("2006-01-02 15:04:05.000")
			if got := string(tf.appendTableTime(nil, ns)); got != want {
				t.Fatalf("%s, %d: %s, want %s", loc, ns, got, want)
			}
		}
		for _, ns := range edgeInstants {
			check(ns)
		}
		for range 8000 {
			check(randInstant(rng))
		}
		// Walk zone changes from 1850 to 2100, each side of each. Past the
		// zone's last listed change Go computes bounds a year at a time, and
		// at a year's end gives an end before the instant for up to a day:
		// step an hour then.
		for t0 := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC); t0.Year() < 2100; {
			_, end := t0.In(loc).ZoneBounds()
			if end.IsZero() {
				break
			}
			for _, d := range []int64{-1e9 - 1, -1e9, -1, 0, 1, 1e9, 3600e9} {
				check(end.UnixNano() + d)
			}
			if !end.After(t0) {
				end = t0.Add(time.Hour)
			}
			t0 = end
		}
		// Ordered runs, as a scan gives them, across years with listed
		// changes and years past them.
		for _, y := range []int{1970, 2025, 2036, 2040} {
			ns := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
			for range 5000 {
				ns += rng.Int64N(int64(2 * time.Hour))
				check(ns)
			}
		}
	}
}

// TestAppendSeconds: durations against strconv.FormatFloat, at every
// magnitude and each side of 1e15 ns.
func TestAppendSeconds(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	check := func(d int64) {
		if got, want := string(appendSeconds(nil, d)), refSeconds(d); got != want {
			t.Fatalf("%d: %s, want %s", d, got, want)
		}
	}
	for d := int64(-1000); d <= 100000; d++ {
		check(d)
	}
	for _, d := range []int64{math.MinInt64, math.MaxInt64, 1e9, 1e15 - 1, 1e15, 1e15 + 1, 999_999_999_999_999, 123_456_789_012_345} {
		check(d)
	}
	for range 1000000 {
		check(rng.Int64N(1e15) >> rng.IntN(50))
		check(1e15 - 1 - rng.Int64N(1e9))
		check(int64(rng.Uint64()))
		check(rng.Int64N(1e6) * 1e6) // whole milliseconds
	}
}

// TestAppendCSVField: fields against encoding/csv, from an alphabet of
// the bytes it treats specially, multi-byte and invalid UTF-8.
func TestAppendCSVField(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	alphabet := []string{"a", "1", ":", ".", ",", `"`, "\r", "\n", " ", "\t", `\`, "\u00a0", "\u2028", "é", "\xff", "\x85"}
	fields := []string{"", `\.`, `\.\.`, " ", "\u3000x"}
	for range 100000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		fields = append(fields, b.String())
	}
	for _, f := range fields {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.Write([]string{f})
		cw.Flush()
		if got := string(appendCSVField(nil, f)) + "\n"; got != want.String() {
			t.Fatalf("%q: %q, want %q", f, got, want.String())
		}
	}
}

// TestAppendAddr: addresses against netip.Addr.String, and as CSV fields.
func TestAppendAddr(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 200000 {
		a := randAddr(rng)
		if got, want := string(appendAddr(nil, a)), a.String(); a.IsValid() && got != want {
			t.Fatalf("%s: %q", want, got)
		}
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.Write([]string{refAddr(a)})
		cw.Flush()
		if got := string(appendCSVAddr(nil, a)) + "\n"; got != want.String() {
			t.Fatalf("%s: CSV %q, want %q", a, got, want.String())
		}
	}
}

// TestQueryFlowsOutputFromStore: `query flows` on a real store (NetFlow
// v5, v9 and IPFIX captures with exporters, sampling, IPv6 and ICMP, plus
// NDJSON flows) prints in every format what the reference writer prints
// for the store's rows.
func TestQueryFlowsOutputFromStore(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	caps, err := filepath.Glob("../../testdata/softflowd/*.pcap")
	if err != nil || len(caps) == 0 {
		t.Fatalf("captures: %v, %d", err, len(caps))
	}
	// The synthetic traffic's exports over UDP; the live recordings (nmap, scans, beacon, exfil)
	// and the same exports over TCP add no new kind of row.
	caps = slices.DeleteFunc(caps, func(p string) bool {
		return strings.HasSuffix(p, "_nmap.pcap") || strings.HasSuffix(p, "_scans.pcap") || strings.HasSuffix(p, "_beacon.pcap") || strings.HasSuffix(p, "_exfil.pcap") ||
			strings.HasSuffix(p, "_tcp.pcap")
	})
	mustRun(t, append([]string{"ingest", "--quiet", "--store", store}, caps...)...)
	mustRun(t, "ingest", "--quiet", "--store", store, writeNDJSON(t, dir, "f.ndjson", 3000, 21))
	st, err := index.Open(store, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := st.SourceHashes()
	if err != nil {
		t.Fatal(err)
	}
	var recs []flow.Record
	_, err = query.Scan(st, query.Request{Range: query.Range{From: math.MinInt64, To: math.MaxInt64}, Ordered: true},
		func(r *flow.Record) bool { recs = append(recs, *r); return true })
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3000+341 {
		t.Fatalf("%d flows in the store, want 3341", len(recs))
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		format string
		tz     *time.Location
	}{{"csv", time.UTC}, {"json", time.UTC}, {"ndjson", time.UTC}, {"table", time.UTC}, {"table", ny}} {
		got := mustRun(t, "query", "flows", "--store", store, "--format", c.format, "--limit", "0", "--tz", c.tz.String())
		_, want := writeBoth(recs, c.format, c.tz, hashes)
		if got != want {
			i := firstDiff(got, want)
			t.Errorf("%s %s: differs at byte %d:\ngot  %.200q\nwant %.200q", c.format, c.tz, i, got[i:], want[i:])
		}
		if lines := strings.Count(got, "\n"); lines < len(recs) || lines > len(recs)+2 {
			t.Errorf("%s: %d lines for %d flows", c.format, lines, len(recs))
		}
	}
}

// BenchmarkRecordWriter reports the cost of one row in each format.
func BenchmarkRecordWriter(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	recs := make([]flow.Record, 4096)
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range recs {
		recs[i] = flow.Record{Start: t0 + int64(i)*1e8, End: t0 + int64(i)*1e8 + rng.Int64N(30e9),
			SrcAddr: netip.AddrFrom4([4]byte{10, 1, byte(rng.IntN(256)), byte(rng.IntN(256))}),
			DstAddr: netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(256))}), SrcPort: uint16(rng.IntN(65536)), DstPort: 443,
			Proto: 6, TCPFlags: 0x1b, Bytes: rng.Uint64N(1e6), Packets: rng.Uint64N(1000), Exporter: netip.MustParseAddr("192.0.2.1"),
			ObsDomain: 1, SamplingInterval: 1, SourceID: 0}
	}
	for _, format := range []string{"csv", "ndjson", "json", "table"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			w := newRecordWriter(io.Discard, format, time.UTC, func(id uint32) string { return testHashes[id] })
			for i := 0; b.Loop(); i++ {
				w.write(&recs[i%len(recs)])
			}
			w.close()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
		})
	}
}

// A table of a few thousand rows is aligned throughout: its columns
// jumped every thousand rows, each thousand measured on its own.
func TestTableAligned(t *testing.T) {
	store := sampleStore(t)
	lines := strings.Split(strings.TrimSuffix(mustRun(t, "query", "flows", "--store", store, "--limit", "5000"), "\n"), "\n")
	if len(lines) != 5001 {
		t.Fatalf("%d lines, want a header and 5000 rows", len(lines))
	}
	for _, col := range []string{"PROTO", "SRC", "DST", "FLAGS", "PACKETS"} {
		at := strings.Index(lines[0], col)
		for i, l := range lines[1:] {
			if len(l) <= at || l[at-1] != ' ' || l[at] == ' ' {
				t.Fatalf("row %d: column %s does not start at %d:\n%s\n%s", i+1, col, at, lines[0], l)
			}
		}
	}
}
