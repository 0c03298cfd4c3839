// Package bench is `flowcase bench`: it generates a dataset with the
// project's generator (internal/gen) as NDJSON, a JSON array and a NetFlow
// v9 capture (internal/nfgen), builds case stores by running the flowcase
// binary itself as a child process (so wall time and peak memory are those
// of a real run), times every measurement several times, compares with the
// peers that are installed (the seed script, nfdump/nfcapd) on the same
// flows, and reports medians and ratios against the performance goals of
// DESIGN.md and issue 5. It can write its table into BENCHMARKS.md.
//
// Child processes are measured from start to exit (wall), with their CPU
// time and peak resident memory (rusage maxrss). In-process figures open
// a store read-only with index.Open and time query.Scan calls: cold is
// the first query after the open (the operating system's page cache is
// warm), warm the median of the queries after it.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flowcase/flowcase/internal/gen"
	"github.com/flowcase/flowcase/query"
)

// Defaults.
const (
	DefaultFlows      = 5_000_000
	LargeFlows        = 100_000_000
	DefaultDays       = 7
	DefaultRuns       = 5
	DefaultSmallFiles = 1000
	DefaultSeedScript = "../shared/seed/netflow_agent.py"
	// maxSeedFlows is the default cap of the seed's input: the seed holds
	// every flow in memory (about 1 GB per million flows).
	maxSeedFlows = 5_000_000
	// DefaultSeedRuns is how many times the seed script runs: its own
	// time, read once, varied from 26.9 to 42.9 s between default runs.
	DefaultSeedRuns = 3
	// Warm queries per open: the one-hour queries take microseconds, so
	// a median of a few moves with the machine's noise by more than the
	// difference measured; the address over the week takes milliseconds.
	warmHourQueries = 200
	warmAddrQueries = 10
)

// Config says what to measure.
type Config struct {
	Flows      int    // background flows generated (the planted scenario comes on top)
	Days       int    // span of the dataset
	Runs       int    // runs of every repeated measurement
	SeedFlows  int    // flows given to the seed script (0: Flows, at most 5M)
	SeedRuns   int    // runs of the seed script, the median kept (default 3)
	SmallFiles int    // files the same flows are split into (default 1000)
	Out        string // work directory ("": a temporary one)
	Keep       bool   // keep the work directory
	Write      string // BENCHMARKS.md to update ("": none)
	Large      bool   // 100M flows unless Flows says otherwise
	SkipPeers  bool   // do not run the seed script nor nfdump
	SeedScript string // the seed script (default ../shared/seed/netflow_agent.py)
	Binary     string // the flowcase executable to run (required)
	Command    string // the command line as typed, for BENCHMARKS.md
	Log        io.Writer
	Stdout     io.Writer // the result table
}

func (c Config) withDefaults() Config {
	if c.Flows <= 0 {
		c.Flows = DefaultFlows
		if c.Large {
			c.Flows = LargeFlows
		}
	}
	if c.Days <= 0 {
		c.Days = DefaultDays
	}
	if c.Runs <= 0 {
		c.Runs = DefaultRuns
	}
	if c.SeedFlows <= 0 {
		c.SeedFlows = min(c.Flows, maxSeedFlows)
	}
	c.SeedFlows = min(c.SeedFlows, c.Flows)
	if c.SeedRuns <= 0 {
		c.SeedRuns = DefaultSeedRuns
	}
	if c.SmallFiles <= 0 {
		c.SmallFiles = DefaultSmallFiles
	}
	if c.SeedScript == "" {
		c.SeedScript = DefaultSeedScript
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	return c
}

// bencher holds one run of the benchmark.
type bencher struct {
	ctx  context.Context
	cfg  Config
	dir  string
	res  *Result
	data *dataset
	// stores
	week, v9, hour, small, compacted string
	// the one-hour and address queries
	hourReq, lookupReq, addrReq query.Request
	filter                      string
}

// Run runs the benchmark and writes its table to cfg.Stdout (and, with
// cfg.Write, into that file). The Result holds every figure; errors of
// single measurements are in Result.Errors, and Run returns an error when
// there are any.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Binary == "" {
		return nil, errors.New("bench: no flowcase binary to run")
	}
	if cfg.Days > 45 {
		return nil, fmt.Errorf("bench: --days %d: at most 45 (NetFlow v9 uptime wraps after 49.7 days)", cfg.Days)
	}
	if cfg.Flows < 1000 {
		return nil, fmt.Errorf("bench: --flows %d: at least 1000", cfg.Flows)
	}
	b := &bencher{ctx: ctx, cfg: cfg}
	b.res = newResult(cfg)
	dir, cleanup, err := workDir(cfg)
	if err != nil {
		return nil, err
	}
	b.dir = dir
	if cfg.Keep {
		b.res.Notes = append(b.res.Notes, "work directory kept: "+dir)
	}
	err = b.all()
	cleanup()
	b.res.Elapsed = time.Since(b.res.Started)
	b.res.Machine.LoadEnd = loadAverage()
	if err != nil {
		b.res.Errors = append(b.res.Errors, err.Error())
	}
	b.res.evaluate()
	text := b.res.Markdown()
	fmt.Fprint(cfg.Stdout, text)
	if cfg.Write != "" && b.data != nil {
		if werr := writeBenchmarks(cfg.Write, text); werr != nil {
			b.res.Errors = append(b.res.Errors, werr.Error())
			return b.res, werr
		}
		b.logf("wrote %s", cfg.Write)
	}
	if len(b.res.Errors) > 0 {
		return b.res, fmt.Errorf("bench: %d measurements failed: %s", len(b.res.Errors), strings.Join(b.res.Errors, "; "))
	}
	return b.res, nil
}

// workDir makes the work directory and returns how to remove it.
func workDir(cfg Config) (string, func(), error) {
	if cfg.Out == "" {
		dir, err := os.MkdirTemp("", "flowcase-bench-")
		if err != nil {
			return "", nil, err
		}
		return dir, func() {
			if !cfg.Keep {
				os.RemoveAll(dir)
			}
		}, nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return "", nil, err
	}
	entries, err := os.ReadDir(cfg.Out)
	if err != nil {
		return "", nil, err
	}
	if len(entries) > 0 {
		return "", nil, fmt.Errorf("bench: --out %s is not empty (the benchmark removes what it writes there)", cfg.Out)
	}
	abs, err := filepath.Abs(cfg.Out)
	if err != nil {
		return "", nil, err
	}
	return abs, func() {
		if cfg.Keep {
			return
		}
		entries, _ := os.ReadDir(abs)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(abs, e.Name()))
		}
	}, nil
}

func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.cfg.Log, "bench %s  %s\n", time.Since(b.res.Started).Round(time.Second), fmt.Sprintf(format, args...))
}

// fail records a failed measurement without stopping the benchmark.
func (b *bencher) fail(what string, err error) {
	b.logf("FAILED %s: %v", what, err)
	b.res.Errors = append(b.res.Errors, what+": "+err.Error())
}

func (b *bencher) flowcase(args ...string) command {
	return command{Name: b.cfg.Binary, Args: args, Dir: b.dir}
}

func (b *bencher) all() error {
	cfg := b.cfg
	b.res.Version = b.version()
	if err := os.MkdirAll(filepath.Join(b.dir, "stores"), 0o755); err != nil {
		return err
	}
	b.week = filepath.Join(b.dir, "stores", "week")
	b.v9 = filepath.Join(b.dir, "stores", "week-v9")
	b.hour = filepath.Join(b.dir, "stores", "hour")
	b.small = filepath.Join(b.dir, "stores", "small-files")
	b.compacted = filepath.Join(b.dir, "stores", "small-files-compacted")

	// The dataset: one pass of the generator into every form.
	gcfg := genConfig(cfg.Flows, cfg.Days)
	array := ""
	if cfg.SeedFlows == cfg.Flows && !cfg.SkipPeers {
		array = filepath.Join(b.dir, "flows.json")
	}
	b.logf("generating %d flows over %d days (NDJSON, v9 capture%s) in %s", cfg.Flows, cfg.Days,
		map[bool]string{true: ", JSON array", false: ""}[array != ""], b.dir)
	begin := time.Now()
	d, err := makeDataset(b.dir, gcfg, array)
	if err != nil {
		return err
	}
	b.data, b.res.Data = d, d
	// Write the generated files out now, so the first measurement does
	// not pay for the generator's writeback.
	syscall.Sync()
	b.res.seedArray = array
	b.logf("generated %d flows in %s: NDJSON %d MB, capture %d MB (%d packets); hour %s holds %d flows; address %s in %d flows",
		d.Total, time.Since(begin).Round(time.Millisecond), d.Bytes.NDJSON>>20, d.Bytes.Capture>>20, d.Packets,
		fmtTime(d.HourFrom), d.HourFlows, d.Addr, d.AddrFlows)

	b.filter = "host " + d.Addr.String()
	f, err := query.ParseFilter(b.filter)
	if err != nil {
		return err
	}
	hr := query.Range{From: d.HourFrom, To: d.HourTo}
	b.hourReq = query.Request{Range: hr} // counted with query.Count
	b.lookupReq = query.Request{Range: hr, Filter: f}
	b.addrReq = query.Request{Range: query.Range{From: math.MinInt64, To: math.MaxInt64}, Filter: f}

	// Stores from the one NDJSON file and from the v9 capture.
	if err := b.ingestRuns("ingest.ndjson", "NDJSON", d.NDJSON, b.week); err != nil {
		return err
	}
	if err := b.ingestRuns("ingest.v9", "NetFlow v9 capture", d.Capture, b.v9); err != nil {
		return err
	}
	if err := b.ingestOnce("ingest.hour", d.HourFile, b.hour, d.HourFlows); err != nil {
		return err
	}
	if cfg.Large && !cfg.Keep {
		os.Remove(d.NDJSON) // room for the small files
	}
	if err := b.storeSize("week", "one NDJSON file", b.week); err != nil {
		b.fail("store size", err)
	}
	if err := b.storeSize("v9", "NetFlow v9 capture", b.v9); err != nil {
		b.fail("store size (v9)", err)
	}

	// The full report and each detector.
	b.report()
	b.logf("each detector over the whole week, in process")
	if figs, err := timeDetectors(b.week); err != nil {
		b.fail("detectors in process", err)
	} else {
		b.res.Detectors = figs
	}

	// Queries on the week and on the one-hour store.
	if err := b.queries("week", b.week, true, d.TopAll); err != nil {
		b.fail("queries on the week store", err)
	}
	if err := b.queries("hour", b.hour, false, nil); err != nil {
		b.fail("queries on the one-hour store", err)
	}

	// The same flows as many small files, before and after compaction.
	if err := b.smallFiles(gcfg); err != nil {
		b.fail("1000 small files", err)
	}

	// The warm queries in process, then the commands, every store side
	// by side.
	if err := b.warmQueries(); err != nil {
		b.fail("one-hour queries in process", err)
	}
	if err := b.cliQueries(); err != nil {
		b.fail("queries through the CLI", err)
	}

	// Peers.
	if cfg.SkipPeers {
		b.res.Skipped = append(b.res.Skipped, "seed script: --skip-peers", "nfdump: --skip-peers")
		return nil
	}
	if err := b.seedPeer(); err != nil {
		b.fail("seed script", err)
	}
	if err := b.nfdumpPeer(); err != nil {
		b.fail("nfdump", err)
	}
	return nil
}

// version asks the binary for its version.
func (b *bencher) version() string {
	p, err := b.run(command{Name: b.cfg.Binary, Args: []string{"--version"}, Capture: true})
	if err != nil {
		return "unknown"
	}
	v := strings.TrimSpace(string(p.Out))
	v = strings.TrimPrefix(v, "flowcase version ")
	return v
}

// ingestRuns ingests file into a fresh store runs times, keeping the last.
func (b *bencher) ingestRuns(key, what, file, store string) error {
	for i := range b.cfg.Runs {
		os.RemoveAll(store)
		p, err := b.run(b.flowcase("ingest", "--quiet", "--store", store, file))
		if err != nil {
			return fmt.Errorf("ingest %s: %w", what, err)
		}
		rate := float64(b.data.Total) / p.Wall.Seconds()
		b.res.add(key+".rate", "ingest "+what+" into a new store", "flows/s", rate)
		b.res.add(key+".rss", "ingest "+what+": peak memory", "MB", mb(p.MaxRSS))
		b.res.add(key+".cpu", "ingest "+what+": CPU time (user+system)", "s", p.CPU.Seconds())
		b.logf("ingest %s run %d/%d: %.2fs, %s flows/s, %.0f MB peak, %.1fs CPU", what, i+1, b.cfg.Runs,
			p.Wall.Seconds(), num(rate), mb(p.MaxRSS), p.CPU.Seconds())
	}
	return b.checkFlows(store, int64(b.data.Total))
}

// ingestOnce builds a store from file (or a directory) in one run.
func (b *bencher) ingestOnce(key, file, store string, want int) error {
	os.RemoveAll(store)
	p, err := b.run(b.flowcase("ingest", "--quiet", "--store", store, file))
	if err != nil {
		return err
	}
	b.res.proc[key] = p
	b.logf("%s: %d flows in %.2fs, %.0f MB peak", key, want, p.Wall.Seconds(), mb(p.MaxRSS))
	return b.checkFlows(store, int64(want))
}

// checkFlows compares a store's flow count with the generator's.
func (b *bencher) checkFlows(store string, want int64) error {
	info, err := b.info(store)
	if err != nil {
		return err
	}
	b.res.check(fmt.Sprintf("store %s holds the %d flows generated", filepath.Base(store), want), info.Flows == want,
		fmt.Sprintf("holds %d", info.Flows))
	return nil
}

func (b *bencher) info(store string) (*storeInfo, error) {
	p, err := b.run(command{Name: b.cfg.Binary, Args: []string{"info", "--store", store, "--format", "json"}, Capture: true})
	if err != nil {
		return nil, err
	}
	var info storeInfo
	if err := jsonUnmarshal(p.Out, &info); err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	return &info, nil
}

// storeSize records bytes per flow on disk, data and each index apart.
func (b *bencher) storeSize(label, what, store string) error {
	info, err := b.info(store)
	if err != nil {
		return err
	}
	b.res.sizes = append(b.res.sizes, sizeRow{Label: label, What: what, Info: *info})
	return nil
}

// report times `flowcase query report` over the whole week store.
func (b *bencher) report() {
	for i := range b.cfg.Runs {
		p, err := b.run(b.flowcase("query", "report", "--store", b.week))
		if err != nil {
			b.fail("query report", err)
			return
		}
		rate := float64(b.data.Total) / p.Wall.Seconds()
		b.res.add("report.rate", "`query report` (every detector), whole week, CLI", "flows/s", rate)
		b.res.add("report.wall", "`query report`: wall time", "s", p.Wall.Seconds())
		b.res.add("report.rss", "`query report`: peak memory", "MB", mb(p.MaxRSS))
		b.res.add("report.cpu", "`query report`: CPU time (user+system)", "s", p.CPU.Seconds())
		b.logf("query report run %d/%d: %.2fs, %s flows/s, %.0f MB peak", i+1, b.cfg.Runs, p.Wall.Seconds(), num(rate), mb(p.MaxRSS))
	}
}

// querySet is what the query measurements of one store came to.
type querySet struct {
	dir                                      string // the store
	full                                     bool   // the address over the whole store and top measured too
	wantTop                                  []topEntry
	HourCount, HourLookup, WeekAddr          inProcess
	CLIHourCount, CLIHourLookup, CLIWeekAddr samples // ms
	CLITop                                   samples // ms
	TopRSS                                   samples // MB
}

// queries measures the first queries after an open of one store, in
// process: the one-hour count and address lookup and, with full, the
// address over the whole store; it records what cliQueries measures later
// (with full, the address over the whole store and `query top`, checked
// against want).
func (b *bencher) queries(label, store string, full bool, want []topEntry) error {
	d := b.data
	qs := &querySet{dir: store, full: full, wantTop: want}
	b.res.sets[label] = qs
	var err error
	b.logf("queries on the %s store", label)
	// The first queries after an open (the hour's, and below the address
	// over the whole store), now, while the store's files are in the page
	// cache as after its ingest; the warm ones come later, side by side
	// with the other stores (warmQueries).
	if qs.HourCount, err = timeInProcess(store, b.cfg.Runs, 0, b.hourReq, true); err != nil {
		return err
	}
	if qs.HourLookup, err = timeInProcess(store, b.cfg.Runs, 0, b.lookupReq, false); err != nil {
		return err
	}
	if !full {
		return nil
	}
	if qs.WeekAddr, err = timeInProcess(store, b.cfg.Runs, 0, b.addrReq, false); err != nil {
		return err
	}
	b.res.check(label+": in-process address lookup over the week = the address's flows", qs.WeekAddr.Rows == int64(d.AddrFlows),
		fmt.Sprintf("%d, want %d", qs.WeekAddr.Rows, d.AddrFlows))
	return nil
}

// cliQueries times the whole flowcase commands on every store measured,
// side by side: each run goes round the stores in turn (the one-hour count
// and lookup, and on the stores measured in full the address over the
// week and `query top`), so that the machine's noise, such as the
// writeback of the small files just written, falls on every store alike.
// Measured store after store, right after each store was built, the
// one-hour commands on the small-file stores read 1.30-1.88x the one-file
// store's in one run; side by side, in the next, 1.00-1.20x.
//
// One untimed round comes first: with --large, the stores built first have
// been evicted from the page cache by the files written after them (in one
// run the week store's first address query over the week took 349 ms, the
// small-file store's 162 ms), and a single timed round would measure that.
func (b *bencher) cliQueries() error {
	d := b.data
	from, to := fmtTime(d.HourFrom), fmtTime(d.HourTo)
	type cliQuery struct {
		args   []string
		record func(label string, qs *querySet, p proc) error // keeps the time, checks the output
	}
	hour := []cliQuery{
		{[]string{"query", "count", "--from", from, "--to", to, "--format", "json"}, func(label string, qs *querySet, p proc) error {
			qs.CLIHourCount = append(qs.CLIHourCount, ms(p.Wall))
			n, err := countFlows(p.Out)
			b.res.check(label+": CLI one-hour count (`query count`) = the hour's flows", err == nil && n == int64(d.HourFlows),
				fmt.Sprintf("%d (%v), want %d", n, err, d.HourFlows))
			return err
		}},
		{[]string{"query", "flows", "--from", from, "--to", to, "--filter", b.filter, "--format", "csv"}, func(label string, qs *querySet, p proc) error {
			qs.CLIHourLookup = append(qs.CLIHourLookup, ms(p.Wall))
			b.res.check(label+": CLI one-hour lookup (`query flows --filter`) = the address's flows in the hour",
				csvRows(p.Out) == int64(d.AddrHour), fmt.Sprintf("%d, want %d", csvRows(p.Out), d.AddrHour))
			return nil
		}},
	}
	tops := map[string][]topEntry{}
	whole := []cliQuery{
		{[]string{"query", "flows", "--filter", b.filter, "--format", "csv"}, func(label string, qs *querySet, p proc) error {
			qs.CLIWeekAddr = append(qs.CLIWeekAddr, ms(p.Wall))
			b.res.check(label+": CLI address lookup over the week = the address's flows", csvRows(p.Out) == int64(d.AddrFlows),
				fmt.Sprintf("%d, want %d", csvRows(p.Out), d.AddrFlows))
			return nil
		}},
		{[]string{"query", "top", "--by", "srcip", "--order", "bytes", "-n", "20"}, func(label string, qs *querySet, p proc) error {
			qs.CLITop = append(qs.CLITop, ms(p.Wall))
			qs.TopRSS = append(qs.TopRSS, mb(p.MaxRSS))
			var err error
			tops[label], err = parseFlowcaseTop(p.Out)
			return err
		}},
	}
	var labels []string
	for _, l := range []string{"week", "hour", "small", "compacted"} {
		if b.res.sets[l] != nil {
			labels = append(labels, l)
		}
	}
	b.logf("CLI queries on the %s stores, side by side", strings.Join(labels, ", "))
	for run := -1; run < b.cfg.Runs; run++ {
		for _, label := range labels {
			qs := b.res.sets[label]
			qq := hour
			if qs.full {
				qq = append(slices.Clip(hour), whole...)
			}
			for _, q := range qq {
				args := append(slices.Clip(q.args), "--store", qs.dir)
				p, err := b.run(command{Name: b.cfg.Binary, Capture: true, Args: args})
				if err != nil {
					return err
				}
				if run < 0 {
					continue // the untimed round
				}
				if err := q.record(label, qs, p); err != nil {
					return err
				}
			}
		}
	}
	for _, label := range labels {
		if qs := b.res.sets[label]; qs.full && qs.wantTop != nil {
			same, diff := sameTop(tops[label], qs.wantTop, true)
			b.res.check(label+": `query top` = the generator's top 20 sources by bytes", same, diff)
		}
	}
	return nil
}

// warmQueries times the warm one-hour count and lookup (and the address
// over the whole store) in process on every store measured, side by side: each store is opened once per run
// and the queries go round the stores in turn, so the machine's noise
// (other work, the writeback of files just written) falls on all of them
// alike. The queries take microseconds; measured store after store, their
// ratios moved with that noise by more than the differences measured. The
// first query of each open is not kept: the cold figures are those taken
// with each store's other queries, while its files are in the page cache
// as after its ingest (here the small files may have pushed them out).
func (b *bencher) warmQueries() error {
	d := b.data
	var labels, dirs []string
	for _, l := range []string{"week", "hour", "small", "compacted"} {
		if qs := b.res.sets[l]; qs != nil {
			labels, dirs = append(labels, l), append(dirs, qs.dir)
		}
	}
	b.logf("warm queries in process on the %s stores, side by side", strings.Join(labels, ", "))
	counts, err := timeSideBySide(dirs, b.cfg.Runs, warmHourQueries, b.hourReq, true)
	if err != nil {
		return err
	}
	lookups, err := timeSideBySide(dirs, b.cfg.Runs, warmHourQueries, b.lookupReq, false)
	if err != nil {
		return err
	}
	// The address over the whole store, on the stores that measure it.
	var full []int
	var fullDirs []string
	for i, l := range labels {
		if len(b.res.sets[l].WeekAddr.Cold) > 0 {
			full, fullDirs = append(full, i), append(fullDirs, dirs[i])
		}
	}
	addrs, err := timeSideBySide(fullDirs, b.cfg.Runs, warmAddrQueries, b.addrReq, false)
	if err != nil {
		return err
	}
	for k, i := range full {
		qs := b.res.sets[labels[i]]
		if qs.WeekAddr.Rows != addrs[k].Rows {
			return fmt.Errorf("%s store: the address query returned %d rows, then %d", labels[i], qs.WeekAddr.Rows, addrs[k].Rows)
		}
		qs.WeekAddr.Warm = addrs[k].Warm
	}
	for i, l := range labels {
		qs := b.res.sets[l]
		qs.HourCount.Warm, qs.HourLookup.Warm = counts[i].Warm, lookups[i].Warm
		if qs.HourCount.Rows != counts[i].Rows || qs.HourLookup.Rows != lookups[i].Rows {
			return fmt.Errorf("%s store: one-hour queries returned %d and %d rows, then %d and %d", l,
				qs.HourCount.Rows, qs.HourLookup.Rows, counts[i].Rows, lookups[i].Rows)
		}
		b.res.check(l+": in-process one-hour count = the hour's flows", qs.HourCount.Rows == int64(d.HourFlows),
			fmt.Sprintf("%d, want %d", qs.HourCount.Rows, d.HourFlows))
		b.res.check(l+": in-process one-hour lookup = the address's flows in the hour", qs.HourLookup.Rows == int64(d.AddrHour),
			fmt.Sprintf("%d, want %d", qs.HourLookup.Rows, d.AddrHour))
	}
	return nil
}

// smallFiles splits the same flows into many NDJSON files, ingests them
// into one store and measures its queries against the single-file store
// before and after `flowcase compact`.
func (b *bencher) smallFiles(gcfg gen.Config) error {
	dir := filepath.Join(b.dir, "small-files")
	b.logf("splitting the flows into %d files", b.cfg.SmallFiles)
	if err := writeSmallFiles(dir, gcfg, b.cfg.SmallFiles, b.data.Total); err != nil {
		return err
	}
	syscall.Sync()
	if err := b.ingestOnce("ingest.small", dir, b.small, b.data.Total); err != nil {
		return err
	}
	if !b.cfg.Keep {
		os.RemoveAll(dir)
	}
	if err := b.storeSize("small", fmt.Sprintf("%d NDJSON files", b.cfg.SmallFiles), b.small); err != nil {
		return err
	}
	if err := b.queries("small", b.small, true, b.data.TopAll); err != nil {
		return err
	}
	// A copy is compacted, so both stay for the side-by-side queries.
	if err := os.CopyFS(b.compacted, os.DirFS(b.small)); err != nil {
		return err
	}
	p, err := b.run(b.flowcase("compact", "--store", b.compacted))
	if err != nil {
		return err
	}
	b.res.proc["compact"] = p
	b.logf("compact: %.2fs, %.0f MB peak", p.Wall.Seconds(), mb(p.MaxRSS))
	if err := b.storeSize("compacted", fmt.Sprintf("%d NDJSON files, after `flowcase compact`", b.cfg.SmallFiles), b.compacted); err != nil {
		return err
	}
	if err := b.checkFlows(b.compacted, int64(b.data.Total)); err != nil {
		return err
	}
	return b.queries("compacted", b.compacted, true, b.data.TopAll)
}

// sameTop compares two top lists; exact compares flows and bytes too.
// Entries with equal bytes may come in any order (tools break ties
// differently): with exact, both lists are put in (bytes, address) order
// first, and the detail says when that changed the order.
func sameTop(got, want []topEntry, exact bool) (bool, string) {
	if len(got) != len(want) {
		return false, fmt.Sprintf("%d entries, want %d", len(got), len(want))
	}
	note := ""
	if exact {
		g, w := tieOrder(got), tieOrder(want)
		if !slices.Equal(g, got) || !slices.Equal(w, want) {
			note = " (entries with equal bytes listed in another order)"
		}
		got, want = g, w
	}
	var diffs []string
	for i := range got {
		g, w := got[i], want[i]
		if g.Addr != w.Addr || (exact && (g.Bytes != w.Bytes || g.Flows != w.Flows)) {
			diffs = append(diffs, fmt.Sprintf("#%d %s %d flows %d bytes, want %s %d flows %d bytes", i+1, g.Addr, g.Flows, g.Bytes,
				w.Addr, w.Flows, w.Bytes))
		}
	}
	if len(diffs) > 0 {
		return false, strings.Join(diffs[:min(3, len(diffs))], "; ") + note
	}
	return true, fmt.Sprintf("%d entries%s", len(got), note)
}

// tieOrder sorts a top list by bytes (descending), then address.
func tieOrder(es []topEntry) []topEntry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b topEntry) int {
		if a.Bytes != b.Bytes {
			return cmp.Compare(b.Bytes, a.Bytes)
		}
		return a.Addr.Compare(b.Addr)
	})
	return out
}

// lookPath finds an executable, saying why not.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH", name)
	}
	return p, nil
}
