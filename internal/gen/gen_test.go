package gen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowcase/flowcase/ingest/jsonflow"
	"github.com/flowcase/flowcase/internal/flow"
)

var testStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func week(flows int, seed uint64) Config {
	return Config{Flows: flows, Start: testStart, Span: 7 * 24 * time.Hour, Seed: seed, IPv6Share: 0.1, Planted: true}
}

// digest is the SHA-256 of the NDJSON output, and the truth.
func digest(t *testing.T, cfg Config) ([32]byte, *Truth) {
	t.Helper()
	h := sha256.New()
	jw := NewJSONWriter(h, false)
	tr := Generate(cfg, func(r *flow.Record) {
		if err := jw.Write(r); err != nil {
			t.Fatal(err)
		}
	})
	return [32]byte(h.Sum(nil)), tr
}

func TestDeterministic(t *testing.T) {
	cfg := week(50_000, 1)
	a, ta := digest(t, cfg)
	b, tb := digest(t, cfg)
	if a != b || !reflect.DeepEqual(ta, tb) {
		t.Fatal("two runs with one seed differ")
	}
	cfg.Seed = 2
	if c, _ := digest(t, cfg); c == a {
		t.Fatal("seeds 1 and 2 give the same flows")
	}
}

// Records come in non-decreasing start order, at millisecond precision,
// within the span; the background is exactly cfg.Flows records.
func TestStream(t *testing.T) {
	for _, cfg := range []Config{week(200_000, 3), {Flows: 12_345, Start: testStart.Add(123456789), Span: 3 * time.Hour, Seed: 4, IPv6Share: 0.3}} {
		var n, v6, last int64
		last = -1 << 62
		end := cfg.Start.Add(cfg.Span).Add(time.Hour).UnixNano()
		tr := Generate(cfg, func(r *flow.Record) {
			n++
			if r.Start < last {
				t.Fatalf("record %d starts at %d, before %d", n, r.Start, last)
			}
			last = r.Start
			if r.Start%1e6 != 0 || r.End%1e6 != 0 || r.End < r.Start || r.SamplingInterval < 1 {
				t.Fatalf("record %d: start %d end %d sampling %d", n, r.Start, r.End, r.SamplingInterval)
			}
			if r.Start < cfg.Start.UnixNano()/1e6*1e6 || r.Start > end {
				t.Fatalf("record %d at %s, outside the span", n, time.Unix(0, r.Start).UTC())
			}
			if r.SrcAddr.Is6() {
				v6++
			}
		})
		if int(n) != tr.Flows {
			t.Errorf("%d records, the truth says %d", n, tr.Flows)
		}
		if !cfg.Planted && int(n) != cfg.Flows {
			t.Errorf("%d records, want %d", n, cfg.Flows)
		}
		if share := float64(v6) / float64(n); share < cfg.IPv6Share*0.7 || share > cfg.IPv6Share*1.3+0.01 {
			t.Errorf("IPv6 share %.3f, want about %.2f", share, cfg.IPv6Share)
		}
	}
}

// The merger holds only connections in progress, whatever the span.
func TestBoundedMemory(t *testing.T) {
	cfg := week(1_000_000, 5)
	cfg.Span = 30 * 24 * time.Hour
	_, m := generate(cfg, func(*flow.Record) {})
	if len(m.slab) > 2000 {
		t.Errorf("the merger held up to %d records", len(m.slab))
	}
	t.Logf("the merger held up to %d records", len(m.slab))
}

// The truth lists every event with its records: a pair's records are its
// events' (no background flow falls on them), within the events' times.
func TestTruthMatchesRecords(t *testing.T) {
	cfg := week(100_000, 1)
	type pair struct{ a, b netip.Addr }
	key := func(a, b netip.Addr) pair {
		if b.Less(a) {
			a, b = b, a
		}
		return pair{a, b}
	}
	recs := map[pair]int{}
	tr := Generate(cfg, func(r *flow.Record) { recs[key(r.SrcAddr, r.DstAddr)]++ })
	want := map[pair]int{}
	ids := map[string]bool{}
	kinds := map[string]int{}
	for _, e := range tr.Events {
		if ids[e.ID] {
			t.Errorf("id %s twice", e.ID)
		}
		ids[e.ID] = true
		kinds[e.Kind]++
		if e.Connections == 0 || e.Flows < e.Connections/2 || e.First > e.Last || len(e.Ports) == 0 || e.Proto == 0 {
			t.Errorf("%s: %+v", e.ID, e)
		}
		if e.First < cfg.Start.UnixNano() || e.Last >= cfg.Start.Add(cfg.Span).UnixNano() {
			t.Errorf("%s: %s..%s outside the span", e.ID, fmtTime(e.First), fmtTime(e.Last))
		}
		if e.Src.IsValid() && e.Dst.IsValid() {
			want[key(e.Src, e.Dst)] += e.Flows
		} else if e.Hosts == 0 {
			t.Errorf("%s: many hosts, but Hosts is 0", e.ID)
		}
	}
	for p, n := range want {
		if recs[p] != n {
			t.Errorf("%v <-> %v: %d records, the truth says %d", p.a, p.b, recs[p], n)
		}
	}
	for _, k := range []string{KindScan, KindSweep, KindExfil, KindBeacon, DecoyBusyServer, DecoyWebProxy, DecoyDNS, DecoyNTP,
		DecoyBackup, DecoyDownload, DecoyWebServer, DecoyVideoCall, DecoySSH, DecoyBrowsing, DecoyPoller, DecoyServices} {
		if kinds[k] == 0 {
			t.Errorf("no event of kind %s", k)
		}
	}
	if len(tr.Planted()) != 20 || len(tr.Decoys()) != 15 {
		t.Errorf("%d planted events and %d decoys, want 20 and 15", len(tr.Planted()), len(tr.Decoys()))
	}
	if s1, _ := tr.Event("S1"); s1.Src != ScanSource || s1.Dst != ScanTarget || len(s1.Ports) != 1024 || s1.Flows != 2048 {
		t.Errorf("S1: %+v", s1)
	}
	if b2, _ := tr.Event("B2"); b2.Src != BeaconSource || b2.Dst != BeaconDest || b2.Ports[0] != BeaconPort || b2.Period != BeaconPeriod {
		t.Errorf("B2: %+v", b2)
	}
}

func TestTruthJSON(t *testing.T) {
	var buf bytes.Buffer
	tr := Generate(Config{Flows: 10_000, Start: testStart, Span: 48 * time.Hour, Seed: 9, IPv6Share: 0.1, Planted: true}, func(*flow.Record) {})
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTruth(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Config.Start.Equal(tr.Config.Start) {
		t.Errorf("start %v, want %v", got.Config.Start, tr.Config.Start)
	}
	got.Config.Start = tr.Config.Start
	if !reflect.DeepEqual(got, tr) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, tr)
	}
}

// The sample in testdata is this generator's output for the configuration
// its truth records: regenerate it after changing the generator (see
// testdata/sample/README.md).
func TestSampleUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sample")
	truth, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ReadTruth(bytes.NewReader(truth))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "flows.ndjson.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		t.Fatal(err)
	}
	want := [32]byte(h.Sum(nil))
	var gotTruth bytes.Buffer
	got, tr2 := digest(t, tr.Config)
	if err := tr2.WriteJSON(&gotTruth); err != nil {
		t.Fatal(err)
	}
	if got != want || !bytes.Equal(gotTruth.Bytes(), truth) {
		t.Errorf("testdata/sample is not the generator's output for its configuration: regenerate it with\n" +
			"go run ./cmd/flowcase generate --flows 20000 --span 2d --planted --out testdata/sample/flows.ndjson.gz --truth testdata/sample/truth.json")
	}
}

// What JSONWriter writes, the project's JSON reader reads back.
func TestJSONWriterRoundTrip(t *testing.T) {
	var in []flow.Record
	Generate(Config{Flows: 3000, Start: testStart, Span: 48 * time.Hour, Seed: 1, IPv6Share: 0.2, Planted: true}, func(r *flow.Record) {
		in = append(in, *r)
	})
	for _, array := range []bool{false, true} {
		var buf bytes.Buffer
		jw := NewJSONWriter(&buf, array)
		for i := range in {
			if err := jw.Write(&in[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := jw.Close(); err != nil {
			t.Fatal(err)
		}
		d := jsonflow.NewReader(&buf, jsonflow.Options{Now: testStart.Add(48 * time.Hour)})
		var r flow.Record
		n, icmp, sampled := 0, 0, 0
		for ; d.Next(&r); n++ {
			w := in[n]
			if r.Start != w.Start || r.End != w.End || r.SrcAddr != w.SrcAddr || r.DstAddr != w.DstAddr || r.SrcPort != w.SrcPort ||
				r.DstPort != w.DstPort || r.Proto != w.Proto || r.TCPFlags != w.TCPFlags || r.Bytes != w.Bytes || r.RevBytes != w.RevBytes ||
				r.Packets != w.Packets || r.RevPackets != w.RevPackets || r.ICMPType != w.ICMPType || r.ICMPCode != w.ICMPCode ||
				r.Sampling() != w.Sampling() {
				t.Fatalf("array %v, record %d: read\n%+v\nwant\n%+v", array, n, r, w)
			}
			if w.Proto == flow.ProtoICMP {
				icmp++
			}
			if w.SamplingInterval > 1 {
				sampled++
			}
		}
		if d.Err() != nil || n != len(in) || d.Rejected() != 0 || icmp == 0 || sampled == 0 {
			t.Errorf("array %v: read %d of %d (error %v, %d rejected; %d icmp, %d sampled)", array, n, len(in), d.Err(), d.Rejected(), icmp, sampled)
		}
	}
}

func TestSessionSplit(t *testing.T) {
	s := Session{Proto: flow.ProtoTCP, Client: netip.MustParseAddr("10.0.0.1"), Server: netip.MustParseAddr("192.0.2.1"),
		ClientPort: 50000, ServerPort: 22, Start: 0, Dur: 10*mn + 30*sec, Up: 1100, Down: 2200, Split: mn}
	recs := s.Append(nil)
	if len(recs) != 22 {
		t.Fatalf("%d records, want 22 (11 pieces, both directions)", len(recs))
	}
	var up, down uint64
	for i, r := range recs {
		if r.SrcAddr == s.Client {
			up += r.Bytes
		} else {
			down += r.Bytes
		}
		first, last := i < 2, i >= 20
		if (r.TCPFlags&flow.SYN != 0) != first || (r.TCPFlags&flow.FIN != 0) != last || r.TCPFlags&flow.ACK == 0 {
			t.Errorf("record %d: flags %#x", i, r.TCPFlags)
		}
	}
	if up != 1100 || down != 2200 || recs[21].End != s.Dur || recs[1].Start != ms {
		t.Errorf("up %d down %d last end %d answer at %d", up, down, recs[21].End, recs[1].Start)
	}
	s.Biflow = true
	if recs := s.Append(nil); len(recs) != 11 || recs[0].RevBytes != 200 {
		t.Errorf("biflow: %d records, first %+v", len(recs), recs[0])
	}
}

// BenchmarkGenerate: records per second, background and scenario.
func BenchmarkGenerate(b *testing.B) {
	n := 0
	for b.Loop() {
		Generate(week(1_000_000, 1), func(*flow.Record) { n++ })
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "flows/s")
}
