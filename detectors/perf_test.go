package detectors

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// High-cardinality benchmarks: a week of internal/gen's traffic with 3M
// background records (4,000 internal clients, 20,000 external servers,
// random source ports), where nearly every record is a connection of its
// own and millions of (source, destination, port) triples and pairs are
// seen once or twice. This is the shape of `flowcase query report` over a
// large store, unlike the test week of the other benchmarks.
//
//	go test -run '^$' -bench HighCard -benchtime 2x ./detectors
//
// FLOWCASE_PERF_DATA=file.ndjson runs them on a file of flows instead (the
// generator's NDJSON; a .gob cache of the decoded records is written
// beside it).

var (
	hiOnce sync.Once
	hiRecs []flow.Record
	hiErr  error
)

var hiConfig = gen.Config{Flows: 3_000_000, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Span: 7 * 24 * time.Hour,
	Seed: 1, IPv6Share: 0.1, Planted: true}

func hiCardRecords(tb testing.TB) []flow.Record {
	hiOnce.Do(func() {
		if path := os.Getenv("FLOWCASE_PERF_DATA"); path != "" {
			hiRecs, hiErr = loadRecords(path)
			return
		}
		hiRecs = make([]flow.Record, 0, hiConfig.Flows+hiConfig.Flows/20)
		gen.Generate(hiConfig, func(r *flow.Record) { hiRecs = append(hiRecs, *r) })
	})
	if hiErr != nil {
		tb.Fatal(hiErr)
	}
	return hiRecs
}

// loadRecords reads an NDJSON file of flows as the generator writes them,
// through a gob cache beside it.
func loadRecords(path string) ([]flow.Record, error) {
	cache := path + ".gob"
	if f, err := os.Open(cache); err == nil {
		defer f.Close()
		var recs []flow.Record
		if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&recs); err == nil {
			return recs, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []flow.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var j struct {
			Src      string `json:"src_ip"`
			Dst      string `json:"dst_ip"`
			SrcPort  uint16 `json:"src_port"`
			DstPort  uint16 `json:"dst_port"`
			Proto    uint8  `json:"protocol"`
			BytesIn  uint64 `json:"bytes_in"`
			BytesOut uint64 `json:"bytes_out"`
			Pkts     uint64 `json:"packets"`
			PktsOut  uint64 `json:"packets_out"`
			Flags    uint8  `json:"tcp_flags"`
			Start    string `json:"start"`
			End      string `json:"end"`
		}
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			return nil, err
		}
		r := flow.Record{SrcPort: j.SrcPort, DstPort: j.DstPort, Proto: j.Proto, TCPFlags: j.Flags,
			Bytes: j.BytesIn, RevBytes: j.BytesOut, Packets: j.Pkts, RevPackets: j.PktsOut, SamplingInterval: 1}
		var err error
		if r.SrcAddr, err = netip.ParseAddr(j.Src); err != nil {
			return nil, err
		}
		if r.DstAddr, err = netip.ParseAddr(j.Dst); err != nil {
			return nil, err
		}
		s, err := time.Parse(time.RFC3339Nano, j.Start)
		if err != nil {
			return nil, err
		}
		e, err := time.Parse(time.RFC3339Nano, j.End)
		if err != nil {
			return nil, err
		}
		r.Start, r.End = s.UnixNano(), e.UnixNano()
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if f, err := os.Create(cache); err == nil {
		w := bufio.NewWriter(f)
		if gob.NewEncoder(w).Encode(recs) == nil && w.Flush() == nil {
			f.Close()
		} else {
			f.Close()
			os.Remove(cache)
		}
	}
	return recs, nil
}

func benchRunOn(b *testing.B, recs []flow.Record, mk func() adder, finish func(adder)) {
	benchOnce.Do(func() {}) // not the test week
	saved := benchRecs
	benchRecs = recs
	defer func() { benchRecs = saved }()
	benchRun(b, mk, finish)
}

// weekOf is the range of a week from the first record's day.
func weekOf(recs []flow.Record) (int64, int64) {
	from := recs[0].Start - recs[0].Start%day
	return from, from + 7*day
}

func BenchmarkHighCardReport(b *testing.B) {
	recs := hiCardRecords(b)
	cfg := SuiteConfig{}.WithRange(weekOf(recs))
	benchRunOn(b, recs, func() adder { return NewSuite(cfg) },
		func(a adder) { a.(*Suite).Report(ReportMeta{Timestamp: "x"}) })
}

func BenchmarkHighCardReportSerial(b *testing.B) {
	recs := hiCardRecords(b)
	cfg := SuiteConfig{Serial: true}.WithRange(weekOf(recs))
	benchRunOn(b, recs, func() adder { return NewSuite(cfg) },
		func(a adder) { a.(*Suite).Report(ReportMeta{Timestamp: "x"}) })
}

func BenchmarkHighCardTracker(b *testing.B) {
	benchRunOn(b, hiCardRecords(b), func() adder { return trackerAdder{newTracker(ConnConfig{})} },
		func(a adder) { a.(trackerAdder).flush() })
}

func BenchmarkHighCardScan(b *testing.B) {
	benchRunOn(b, hiCardRecords(b), func() adder { return NewScan(ScanConfig{}) }, func(a adder) { a.(*Scan).Findings() })
}

func BenchmarkHighCardSweep(b *testing.B) {
	benchRunOn(b, hiCardRecords(b), func() adder { return NewSweep(SweepConfig{}) }, func(a adder) { a.(*Sweep).Findings() })
}

func BenchmarkHighCardExfil(b *testing.B) {
	recs := hiCardRecords(b)
	from, _ := weekOf(recs)
	benchRunOn(b, recs, func() adder { return NewExfil(ExfilConfig{From: from}) },
		func(a adder) { a.(*Exfil).Findings() })
}

func BenchmarkHighCardBeacon(b *testing.B) {
	benchRunOn(b, hiCardRecords(b), func() adder { return NewBeacon(BeaconConfig{}) }, func(a adder) { a.(*Beacon).Findings() })
}

func BenchmarkHighCardBaseline(b *testing.B) {
	benchRunOn(b, hiCardRecords(b), func() adder { return NewBaseline(BaselineConfig{}) },
		func(a adder) { a.(*Baseline).Summary() })
}

// TestDigests writes, when FLOWCASE_DIGESTS names a file, the SHA-256 of
// the JSON of every detector's output over the NDJSON files listed in
// FLOWCASE_DIGEST_DATA (separated by commas), with the default parameters
// and with loose ones that turn nearly every key into a finding (every
// exfiltration pair, every beacon candidate, small scans and sweeps, the
// history rule on the first two sevenths of the data), serial and
// parallel. Two builds that write the same file give the same findings:
// it guards refactorings of the detectors' state.
func TestDigests(t *testing.T) {
	path, data := os.Getenv("FLOWCASE_DIGESTS"), os.Getenv("FLOWCASE_DIGEST_DATA")
	if path == "" || data == "" {
		t.Skip("FLOWCASE_DIGESTS and FLOWCASE_DIGEST_DATA not set")
	}
	var lines []string
	for _, file := range strings.Split(data, ",") {
		recs, err := loadRecords(file)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, digestLines(filepath.Base(file), recs, len(recs) <= 2_000_000)...)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func digestLines(name string, recs []flow.Record, withLoose bool) []string {
	var lines []string
	for _, serial := range []bool{false, true} {
		for _, loose := range []bool{false, true} {
			if loose && !withLoose {
				continue
			}
			d := digestsOf(recs, serial, loose)
			for _, k := range []string{"report", "scans", "sweeps", "exfil", "beacons", "candidates", "warnings"} {
				if d[k] != "" {
					lines = append(lines, fmt.Sprintf("%s serial=%v loose=%v %s %s", name, serial, loose, k, d[k]))
				}
			}
		}
	}
	return lines
}

func digestsOf(recs []flow.Record, serial, loose bool) map[string]string {
	from, to := weekOf(recs)
	cfg := SuiteConfig{Serial: serial}.WithRange(from, to)
	hist := 0
	if loose {
		// The first two sevenths of the data are the history.
		split := recs[0].Start + (recs[len(recs)-1].Start-recs[0].Start)*2/7
		cfg = SuiteConfig{Serial: serial}.WithRange(split, to)
		cfg.Exfil.Bytes = 1
		cfg.Exfil.MinHistoryDays = 1
		cfg.Exfil.HistoryMinBytes = 1
		cfg.Beacon.MinConnections = 3
		cfg.Beacon.Threshold = 1e-9
		cfg.Scan.Ports = 4
		cfg.Sweep.Hosts = 8
		cfg.Sweep.MinFailed = -1
		for hist < len(recs) && recs[hist].Start < split {
			hist++
		}
	}
	s := NewSuite(cfg)
	for i := range recs[:hist] {
		s.AddHistory(&recs[i])
	}
	for i := range recs[hist:] {
		s.Add(&recs[hist+i])
	}
	out := map[string]string{}
	rep := s.Report(ReportMeta{Timestamp: "x"})
	if !loose {
		out["report"] = digest(rep)
	}
	out["scans"] = digestEach(s.Scan.Findings())
	out["sweeps"] = digestEach(s.Sweep.Findings())
	out["exfil"] = digestEach(s.Exfil.Findings())
	out["beacons"] = digestEach(s.Beacon.Findings())
	out["candidates"] = digestEach(s.Beacon.Candidates())
	out["warnings"] = digest(s.Exfil.Warnings())
	return out
}

// digest is the SHA-256 (16 hex digits) and length of v's JSON.
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return fmt.Sprintf("%s %d", hex.EncodeToString(h[:])[:16], len(b))
}

// digestEach digests a list element by element, so a long one is never
// held as one JSON document.
func digestEach[T any](v []T) string {
	h := sha256.New()
	n := 0
	for i := range v {
		b, err := json.Marshal(&v[i])
		if err != nil {
			panic(err)
		}
		h.Write(b)
		n += len(b)
	}
	return fmt.Sprintf("%s %d items %d bytes", hex.EncodeToString(h.Sum(nil))[:16], len(v), n)
}

var (
	hiConnsOnce sync.Once
	hiConns     []conn
	hiConnsTr   *tracker
)

// hiCardConns are the connections the tracker makes of the records.
func hiCardConns(tb testing.TB) ([]conn, *tracker) {
	recs := hiCardRecords(tb)
	hiConnsOnce.Do(func() {
		hiConnsTr = newTracker(ConnConfig{})
		c := &connList{}
		hiConnsTr.sinks = []connSink{c}
		for i := range recs {
			hiConnsTr.add(&recs[i])
		}
		hiConnsTr.flush()
		hiConns = c.conns
	})
	return hiConns, hiConnsTr
}

type connList struct{ conns []conn }

func (l *connList) addConn(c *conn) { l.conns = append(l.conns, *c) }

// BenchmarkHighCardWorker is the Suite's worker goroutine alone: scans,
// sweeps and beacons over the connections, in the pipe's batches; the
// Conns benchmarks run each of them alone the same way.
func BenchmarkHighCardWorker(b *testing.B) { benchConns(b, "scan", "sweep", "beacon") }

func BenchmarkHighCardConnsScan(b *testing.B)   { benchConns(b, "scan") }
func BenchmarkHighCardConnsSweep(b *testing.B)  { benchConns(b, "sweep") }
func BenchmarkHighCardConnsBeacon(b *testing.B) { benchConns(b, "beacon") }

func benchConns(b *testing.B, which ...string) {
	conns, tr := hiCardConns(b)
	b.ReportAllocs()
	b.ResetTimer()
	var cpu int64
	for range b.N {
		c0 := cpuTime()
		var sinks []connSink
		var finish []func()
		for _, w := range which {
			switch w {
			case "scan":
				d := newScan(ScanConfig{})
				d.tr, d.sync = tr, func() {}
				sinks, finish = append(sinks, d), append(finish, func() { d.Findings() })
			case "sweep":
				d := newSweep(SweepConfig{})
				d.tr, d.sync = tr, func() {}
				sinks, finish = append(sinks, d), append(finish, func() { d.Findings() })
			case "beacon":
				d := newBeacon(BeaconConfig{})
				d.tr, d.sync = tr, func() {}
				sinks, finish = append(sinks, d), append(finish, func() { d.Findings() })
			}
		}
		p := &pipe{sinks: sinks}
		for i := 0; i < len(conns); i += pipeBatch {
			p.process(conns[i:min(i+pipeBatch, len(conns))])
		}
		for _, f := range finish {
			f()
		}
		cpu += cpuTime() - c0
	}
	n := float64(len(conns)) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "conns/s")
	b.ReportMetric(float64(cpu)/n, "cpu-ns/conn")
}

// BenchmarkHighCardMain is the Suite's own goroutine alone: joining
// records into connections, exfiltration and the baseline (the
// connections are dropped instead of going to the worker).
func BenchmarkHighCardMain(b *testing.B) {
	recs := hiCardRecords(b)
	cfg := SuiteConfig{Serial: true}.WithRange(weekOf(recs))
	benchRunOn(b, recs, func() adder {
		s := NewSuite(cfg)
		s.tr.sinks = nil
		return s
	}, func(a adder) {
		s := a.(*Suite)
		s.Exfil.Findings()
		s.Baseline.Summary()
	})
}
