package index

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// Benchmark stores are built once per run and shared by the benchmarks.
var (
	benchOnce   sync.Once
	benchDir    string
	benchWeek   *Store // a week of generated flows
	benchHour   *Store // the same flows, only the hour the range queries ask for
	benchFlows  = 2_000_000
	benchT0     = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	benchHourAt = benchT0.Add(80 * time.Hour)
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchWeek != nil {
		benchWeek.Close()
		benchHour.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func genRecords(n int, span time.Duration) []flow.Record {
	recs := make([]flow.Record, 0, n+2000)
	gen.Generate(gen.Config{Flows: n, Start: benchT0, Span: span, Seed: 1, IPv6Share: 0.1, Planted: true},
		func(r *flow.Record) { recs = append(recs, *r) })
	return recs
}

func buildStore(b *testing.B, dir string, recs []flow.Record, keep func(*flow.Record) bool) *Store {
	s, err := Open(dir, Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	w, err := s.BeginSource(SourceInfo{SHA256: sha256.Sum256([]byte(dir)), Path: dir})
	if err != nil {
		b.Fatal(err)
	}
	for i := range recs {
		if keep == nil || keep(&recs[i]) {
			w.Add(&recs[i])
		}
	}
	if _, err := w.Commit(SourceResult{}); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchStores(b *testing.B) {
	benchOnce.Do(func() {
		var err error
		if benchDir, err = os.MkdirTemp("", "flowcase-bench-"); err != nil {
			b.Fatal(err)
		}
		recs := genRecords(benchFlows, 7*24*time.Hour)
		benchWeek = buildStore(b, benchDir+"/week", recs, nil)
		from, to := benchHourAt.UnixNano(), benchHourAt.Add(time.Hour).UnixNano()
		benchHour = buildStore(b, benchDir+"/hour", recs, func(r *flow.Record) bool { return r.Start < to && r.End >= from })
	})
}

// BenchmarkIngest: generated flows (a week, 10% IPv6) into a new store.
func BenchmarkIngest(b *testing.B) {
	recs := genRecords(1_000_000, 7*24*time.Hour)
	b.ReportAllocs()
	var st StoreStats
	for i := 0; b.Loop(); i++ {
		s := buildStore(b, b.TempDir()+fmt.Sprint(i), recs, nil)
		st, _ = s.Stats()
		s.Close()
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(st.DataBytes+st.HeaderBytes)/float64(st.Flows), "data-B/flow")
	for _, f := range IndexedFields {
		b.ReportMetric(float64(st.IndexBytes[f])/float64(st.Flows), FieldName(f)+"-B/flow")
	}
	b.ReportMetric(float64(st.IndexTotal())/float64(st.Flows), "index-B/flow")
}

// BenchmarkFullScan decodes every column of every row of the week.
func BenchmarkFullScan(b *testing.B) {
	benchStores(b)
	b.ReportAllocs()
	var rows int64
	for b.Loop() {
		st, err := benchWeek.Scan(Everything(), func(*flow.Record) bool { return true })
		if err != nil {
			b.Fatal(err)
		}
		rows += st.RowsEmitted
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "flows/s")
}

// BenchmarkFullScanParallel is BenchmarkFullScan with partitions decoded
// on every core, rows still delivered in order.
func BenchmarkFullScanParallel(b *testing.B) {
	benchStores(b)
	var rows int64
	q := Everything()
	q.Parallel, q.Ordered = runtime.GOMAXPROCS(0), true
	for b.Loop() {
		st, err := benchWeek.Scan(q, func(*flow.Record) bool { return true })
		if err != nil {
			b.Fatal(err)
		}
		rows += st.RowsEmitted
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "flows/s")
}

// BenchmarkScanFewColumns decodes only what a top-N by source and bytes needs.
func BenchmarkScanFewColumns(b *testing.B) {
	benchStores(b)
	var rows int64
	q := Everything()
	q.Columns = ColAddrs | ColCounters
	for b.Loop() {
		st, _ := benchWeek.Scan(q, func(*flow.Record) bool { return true })
		rows += st.RowsEmitted
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "flows/s")
}

// hourQuery counts: it decodes only the time columns.
func hourQuery() Query {
	return Query{From: benchHourAt.UnixNano(), To: benchHourAt.Add(time.Hour).UnixNano(), Columns: ColTime}
}

// oneAddress matches the beacon's source, which talks all week long.
func oneAddress() *Match {
	a := gen.BeaconSource
	return &Match{Op: MatchOr, Sub: []*Match{
		{Op: MatchAddrRange, Field: FieldSrcAddr, AddrLo: a, AddrHi: a},
		{Op: MatchAddrRange, Field: FieldDstAddr, AddrLo: a, AddrHi: a}}}
}

func benchCount(b *testing.B, s *Store, q Query) {
	var n int64
	for b.Loop() {
		n = 0
		if _, err := s.Scan(q, func(*flow.Record) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "flows")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/query")
}

// A one-hour range in a one-week store, against a store holding only that hour.
func BenchmarkHourCountWeekStore(b *testing.B) { benchStores(b); benchCount(b, benchWeek, hourQuery()) }
func BenchmarkHourCountHourStore(b *testing.B) { benchStores(b); benchCount(b, benchHour, hourQuery()) }

func BenchmarkHourAddrWeekStore(b *testing.B) {
	benchStores(b)
	q := hourQuery()
	q.Match = oneAddress()
	q.Columns |= ColAddrs
	benchCount(b, benchWeek, q)
}

func BenchmarkHourAddrHourStore(b *testing.B) {
	benchStores(b)
	q := hourQuery()
	q.Match = oneAddress()
	q.Columns |= ColAddrs
	benchCount(b, benchHour, q)
}

// BenchmarkAddrWholeWeek: one address over the whole week (the postings).
func BenchmarkAddrWholeWeek(b *testing.B) {
	benchStores(b)
	q := Everything()
	q.Match = oneAddress()
	q.Columns = ColTime | ColAddrs
	benchCount(b, benchWeek, q)
}

// BenchmarkSegmentEncode: the CPU of writing one segment of 30,000 rows
// (an hour of the generated week, as one NDJSON file gives): its blocks,
// block headers and postings, without Badger.
func BenchmarkSegmentEncode(b *testing.B) {
	recs := genRecords(5_000_000/168, time.Hour)
	rows := make([]*flow.Record, len(recs))
	for i := range recs {
		rows[i] = &recs[i]
	}
	slices.SortStableFunc(rows, func(x, y *flow.Record) int { return cmp.Compare(x.Start, y.Start) })
	sw := newSegmentWriter(nil)
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(rows); i += BlockRows {
			blk := rows[i:min(i+BlockRows, len(rows))]
			sw.block = sw.enc.encode(sw.block[:0], blk)
			_ = blockHeaderOf(blk, uint32(i), uint32(len(sw.block)))
		}
		for f := FieldSrcAddr; f <= FieldProto; f++ {
			sw.pb[f].reset()
		}
		sw.addPostings(rows)
		for f := FieldSrcAddr; f <= FieldProto; f++ {
			sw.pb[f].build()
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
