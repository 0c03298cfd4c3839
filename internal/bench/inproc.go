package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/query"
)

// inProcess is a query timed inside this process: the store is opened
// read-only once per run; cold is the first query after the open, warm
// the ones after it.
type inProcess struct {
	Cold, Warm samples // ms
	Rows       int64
	Stats      index.ScanStats // of the last query: blocks read of those in range
}

// timeInProcess opens the store runs times and runs req 1+warm times on
// each open. Rows is what every query returned (they must agree).
// With count, the request is answered by query.Count instead of a scan.
func timeInProcess(dir string, runs, warm int, req query.Request, count bool) (inProcess, error) {
	var res inProcess
	res.Rows = -1
	for range runs {
		st, err := index.Open(dir, index.Options{ReadOnly: true})
		if err != nil {
			return res, err
		}
		for i := range 1 + warm {
			el, rows, ss, err := timeQuery(st, req, count)
			res.Stats = ss
			if err != nil {
				st.Close()
				return res, err
			}
			if i == 0 {
				res.Cold = append(res.Cold, ms(el))
			} else {
				res.Warm = append(res.Warm, ms(el))
			}
			if res.Rows >= 0 && rows != res.Rows {
				st.Close()
				return res, fmt.Errorf("the same query returned %d rows, then %d", res.Rows, rows)
			}
			res.Rows = rows
		}
		if err := st.Close(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// timeSideBySide is timeInProcess over several stores at once: per run
// every store is opened, takes its cold query, then warm queries in turn,
// the first store of each round moving on by one.
func timeSideBySide(dirs []string, runs, warm int, req query.Request, count bool) ([]inProcess, error) {
	res := make([]inProcess, len(dirs))
	for i := range res {
		res[i].Rows = -1
	}
	for range runs {
		stores := make([]*index.Store, 0, len(dirs))
		closeAll := func() {
			for _, st := range stores {
				st.Close()
			}
		}
		for _, dir := range dirs {
			st, err := index.Open(dir, index.Options{ReadOnly: true})
			if err != nil {
				closeAll()
				return nil, err
			}
			stores = append(stores, st)
		}
		for round := range 1 + warm {
			for k := range stores {
				j := (round + k) % len(stores)
				el, rows, ss, err := timeQuery(stores[j], req, count)
				if err != nil {
					closeAll()
					return nil, fmt.Errorf("%s: %w", dirs[j], err)
				}
				r := &res[j]
				r.Stats = ss
				if round == 0 {
					r.Cold = append(r.Cold, ms(el))
				} else {
					r.Warm = append(r.Warm, ms(el))
				}
				if r.Rows >= 0 && rows != r.Rows {
					closeAll()
					return nil, fmt.Errorf("%s: the same query returned %d rows, then %d", dirs[j], r.Rows, rows)
				}
				r.Rows = rows
			}
		}
		for _, st := range stores {
			if err := st.Close(); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// timeQuery runs one query (a count, or a scan counting its rows).
func timeQuery(st *index.Store, req query.Request, count bool) (time.Duration, int64, index.ScanStats, error) {
	var rows int64
	var ss index.ScanStats
	var err error
	begin := time.Now()
	if count {
		rows, ss, err = query.Count(st, req)
	} else {
		ss, err = query.Scan(st, req, func(*flow.Record) bool { rows++; return true })
	}
	return time.Since(begin), rows, ss, err
}

// detectorFigure is one detector run over the whole store in process.
type detectorFigure struct {
	Name    string
	Seconds float64
	Flows   int64
	HeapMB  float64 // live heap held by the detector at the end
}

// adder is what every detector and the suite accept.
type adder interface{ Add(*flow.Record) }

// timeDetectors feeds the whole store, in start order and decoded on
// every core as `query report` does, to each detector alone, then to the
// suite of all of them; the first figure is the scan alone.
func timeDetectors(dir string) ([]detectorFigure, error) {
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	m := st.Meta()
	from, to := m.MinStart, m.MaxEnd+1
	cfg := detectors.SuiteConfig{}.WithRange(from, to)
	type det struct {
		name   string
		make   func() adder
		finish func(adder)
	}
	dets := []det{
		{"store scan alone (the detectors' columns, start order)", func() adder { return nopAdder{} }, func(adder) {}},
		{"vertical scans", func() adder { return detectors.NewScan(cfg.Scan) }, func(a adder) { a.(*detectors.Scan).Findings() }},
		{"sweeps", func() adder { return detectors.NewSweep(cfg.Sweep) }, func(a adder) { a.(*detectors.Sweep).Findings() }},
		{"exfiltration", func() adder { return detectors.NewExfil(cfg.Exfil) }, func(a adder) { a.(*detectors.Exfil).Findings() }},
		{"beacons", func() adder { return detectors.NewBeacon(cfg.Beacon) }, func(a adder) { a.(*detectors.Beacon).Findings() }},
		{"baseline", func() adder { return detectors.NewBaseline(cfg.Baseline) }, func(a adder) { a.(*detectors.Baseline).Summary() }},
		{"all detectors (Suite, no output)", func() adder { return detectors.NewSuite(cfg) },
			func(a adder) { a.(*detectors.Suite).Report(detectors.ReportMeta{From: from, To: to}) }},
	}
	req := query.Request{Range: query.Range{From: from, To: to}, Columns: query.DetectorColumns, Ordered: true,
		Parallel: runtime.GOMAXPROCS(0)}
	var out []detectorFigure
	for _, d := range dets {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		a := d.make()
		var n int64
		begin := time.Now()
		_, err := query.Scan(st, req, func(r *flow.Record) bool { a.Add(r); n++; return true })
		if err != nil {
			return nil, err
		}
		d.finish(a)
		el := time.Since(begin)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(a)
		heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		out = append(out, detectorFigure{Name: d.name, Seconds: el.Seconds(), Flows: n, HeapMB: max(heap, 0)})
		if s, ok := a.(*detectors.Suite); ok {
			s.Close()
		}
	}
	return out, nil
}

type nopAdder struct{}

func (nopAdder) Add(*flow.Record) {}
