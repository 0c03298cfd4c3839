package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// Result is everything one benchmark run measured.
type Result struct {
	Config    Config
	Started   time.Time
	Elapsed   time.Duration
	Version   string
	Machine   Machine
	Data      *dataset
	Rows      []*Row
	Detectors []detectorFigure
	Goals     []Goal
	Checks    []Check
	Skipped   []string
	Notes     []string
	Errors    []string
	// MemFloor is the most this process held when it started a child:
	// a child's peak memory reads no lower (see resetPeak).
	MemFloor int64

	rowIdx    map[string]*Row
	proc      map[string]proc
	sizes     []sizeRow
	sets      map[string]*querySet
	seed      seedResult
	nf        nfResult
	seedArray string
}

// Row is one repeated measurement.
type Row struct {
	Key     string
	Name    string
	Unit    string
	Samples samples
}

// Goal is one performance goal and where it stands.
type Goal struct {
	Goal     string
	Measured string
	Met      string // yes, no, or why it was not measured
}

// Check is a result that must agree with the generator or a peer.
type Check struct {
	What   string
	OK     bool
	Detail string
	n      int
}

type sizeRow struct {
	Label, What string
	Info        storeInfo
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs               int
	CPUModel           string
	MemoryGB           float64
	OS                 string
	Go                 string
	LoadStart, LoadEnd string
	VCS                string
	Build              string // how the measured binary was linked
}

func newResult(cfg Config) *Result {
	r := &Result{Config: cfg, Started: time.Now(), rowIdx: map[string]*Row{}, proc: map[string]proc{}, sets: map[string]*querySet{}}
	r.Machine = Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), MemoryGB: memTotalGB(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Go: runtime.Version(), LoadStart: loadAverage(), VCS: vcsInfo(), Build: buildInfo()}
	return r
}

func (r *Result) add(key, name, unit string, v float64) {
	row := r.rowIdx[key]
	if row == nil {
		row = &Row{Key: key, Name: name, Unit: unit}
		r.rowIdx[key] = row
		r.Rows = append(r.Rows, row)
	}
	row.Samples = append(row.Samples, v)
}

// row returns a measurement (an empty one when it was not taken).
func (r *Result) row(key string) *Row {
	if row := r.rowIdx[key]; row != nil {
		return row
	}
	return &Row{Key: key}
}

func (r *Result) med(key string) float64 { return r.row(key).Samples.median() }

// check records a result; repeated checks of the same thing are merged
// (all must hold; the first failure's detail is kept).
func (r *Result) check(what string, ok bool, detail string) {
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.What == what {
			c.n++
			if c.OK && !ok {
				c.OK, c.Detail = false, detail
			}
			return
		}
	}
	r.Checks = append(r.Checks, Check{What: what, OK: ok, Detail: detail, n: 1})
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// evaluate states each goal of issue 5 against the medians.
func (r *Result) evaluate() {
	r.Goals = nil
	d := r.Data
	if d == nil {
		return
	}
	goal := func(g, measured, met string) { r.Goals = append(r.Goals, Goal{g, measured, met}) }
	atSize := ""
	if d.Total < LargeFlows {
		atSize = fmt.Sprintf(" (at %s flows; the goal is stated for a whole 100M-flow run)", num(float64(d.Total)))
	}
	if v := r.med("ingest.v9.rate"); !math.IsNaN(v) {
		goal("ingest, NetFlow v9 capture to store >= 2M flows/s", fmt.Sprintf("%s flows/s%s", num(v), atSize), yesNo(v >= 2e6))
	}
	if v := r.med("ingest.ndjson.rate"); !math.IsNaN(v) {
		goal("ingest, NDJSON >= 0.5M flows/s", num(v)+" flows/s", yesNo(v >= 0.5e6))
	}
	for _, s := range r.sizes {
		if s.Label != "week" {
			continue
		}
		goal("store size: data <= 20 B/flow", fmt.Sprintf("%.2f B/flow (one NDJSON file: one segment per partition, as after compaction)", s.Info.DataPerFlow),
			yesNo(s.Info.DataPerFlow <= 20))
		goal("store size: indexes <= 8 B/flow", fmt.Sprintf("%.2f B/flow (%s)", s.Info.IndexPerFlow, perField(s.Info)), yesNo(s.Info.IndexPerFlow <= 8))
	}
	if v := r.med("report.rate"); !math.IsNaN(v) {
		goal("full report (`query report`, every detector) >= 5M flows/s", fmt.Sprintf("%s flows/s (%.1f s, %.0f MB peak)", num(v),
			r.med("report.wall"), r.med("report.rss")), yesNo(v >= 5e6))
	}
	if s := r.seed; s.Seed.Wall > 0 && len(s.Report) > 0 {
		sp := s.Seed.Wall.Seconds() / s.Report.median()
		mem := s.ReportRSS.median() / mb(s.Seed.MaxRSS)
		note := ""
		if s.Flows < 5_000_000 {
			note = fmt.Sprintf(" (on %s flows; the goal is stated for 5M)", num(float64(s.Flows)))
		}
		goal("`query report` vs the seed on the same flows: >= 50x faster", fmt.Sprintf("%s faster (%.2f s vs %.1f s)%s", ratio(s.Seed.Wall.Seconds(), s.Report.median()),
			s.Report.median(), s.Seed.Wall.Seconds(), note), yesNo(sp >= 50))
		goal("`query report` vs the seed: <= 1/10 of its memory", fmt.Sprintf("%.3f of it (%.0f MB vs %.0f MB)%s", mem, s.ReportRSS.median(), mb(s.Seed.MaxRSS), note),
			yesNo(mem <= 0.1))
	} else {
		goal("`query report` vs the seed: >= 50x faster, <= 1/10 memory", "not measured", "n/a (seed skipped)")
	}
	week, hour := r.sets["week"], r.sets["hour"]
	if week != nil {
		c, l := week.HourCount, week.HourLookup
		goal("one-hour range in the one-week store, in process: a count <= 5 ms median",
			fmt.Sprintf("%s ms warm, %s ms cold (first query after opening); CLI %s ms", num(c.Warm.median()), num(c.Cold.median()), num(week.CLIHourCount.median())),
			yesNo(c.Warm.median() <= 5))
		goal("one-hour range in the one-week store, in process: a one-address lookup <= 5 ms median",
			fmt.Sprintf("%s ms warm, %s ms cold; CLI %s ms", num(l.Warm.median()), num(l.Cold.median()), num(week.CLIHourLookup.median())),
			yesNo(l.Warm.median() <= 5))
		if hour != nil {
			rc := c.Warm.median() / hour.HourCount.Warm.median()
			rl := l.Warm.median() / hour.HourLookup.Warm.median()
			goal("one-hour query: week store <= 2x the store holding only that hour",
				fmt.Sprintf("count %s, lookup %s (warm, in process); cold %s and %s", ratio(c.Warm.median(), hour.HourCount.Warm.median()),
					ratio(l.Warm.median(), hour.HourLookup.Warm.median()), ratio(c.Cold.median(), hour.HourCount.Cold.median()),
					ratio(l.Cold.median(), hour.HourLookup.Cold.median())),
				yesNo(rc <= 2 && rl <= 2))
		}
	}
	if n := r.nf; len(n.Top) > 0 {
		rt := n.Top.median() / n.TopFlowcase.median()
		rh := n.Host.median() / n.HostFlowcase.median()
		goal("top-N vs nfdump on the same flows: >= 1.5x faster", fmt.Sprintf("%s (%.3f s vs nfdump %.3f s); results agree: %s", ratio(n.Top.median(), n.TopFlowcase.median()),
			n.TopFlowcase.median(), n.Top.median(), yesNo(n.TopAgree)), yesNo(rt >= 1.5))
		goal("one address over the week vs nfdump: >= 10x faster", fmt.Sprintf("%s (%.3f s vs nfdump %.3f s); rows agree: %s", ratio(n.Host.median(), n.HostFlowcase.median()),
			n.HostFlowcase.median(), n.Host.median(), yesNo(n.HostRows == n.HostFlowRows)), yesNo(rh >= 10))
	} else {
		goal("vs nfdump: top-N >= 1.5x, one address >= 10x faster", "not measured", "n/a (nfdump skipped)")
	}
	for _, st := range []struct{ label, when string }{{"small", "after ingest"}, {"compacted", "after `flowcase compact`"}} {
		s := r.sets[st.label]
		if s == nil || week == nil {
			continue
		}
		worst, parts := 0.0, []string{}
		for _, q := range compareQueries(week, s) {
			worst = max(worst, q.ratio)
			parts = append(parts, fmt.Sprintf("%s %s", q.name, ratio(q.other, q.base)))
		}
		goal(fmt.Sprintf("%d small files vs one file, %s: queries <= 1.5x", r.Config.SmallFiles, st.when),
			fmt.Sprintf("worst %.2fx (%s)", worst, strings.Join(parts, ", ")), yesNo(worst <= 1.5))
	}
	if d.Total >= LargeFlows {
		all := true
		for _, g := range r.Goals {
			all = all && g.Met != "**no**"
		}
		goal("100M-flow store: ingests, and every query above meets its goal", fmt.Sprintf("%s flows", num(float64(d.Total))), yesNo(all))
	} else {
		goal("100M-flow store: ingests, and every query above meets its goal", "not run", "n/a (run with --large)")
	}
}

type compared struct {
	name               string
	base, other, ratio float64
}

// compareQueries pairs the query medians of two stores.
func compareQueries(base, other *querySet) []compared {
	var out []compared
	add := func(name string, b, o float64) {
		out = append(out, compared{name, b, o, o / b})
	}
	add("hour count", base.HourCount.Warm.median(), other.HourCount.Warm.median())
	add("hour lookup", base.HourLookup.Warm.median(), other.HourLookup.Warm.median())
	add("week address", base.WeekAddr.Warm.median(), other.WeekAddr.Warm.median())
	add("CLI hour count", base.CLIHourCount.median(), other.CLIHourCount.median())
	add("CLI hour lookup", base.CLIHourLookup.median(), other.CLIHourLookup.median())
	add("CLI week address", base.CLIWeekAddr.median(), other.CLIWeekAddr.median())
	add("CLI top", base.CLITop.median(), other.CLITop.median())
	return out
}

func perField(info storeInfo) string {
	var parts []string
	for _, f := range []string{"src_ip", "dst_ip", "src_port", "dst_port", "protocol"} {
		parts = append(parts, fmt.Sprintf("%s %.2f", f, float64(info.IndexByField[f])/float64(max(info.Flows, 1))))
	}
	return strings.Join(parts, ", ")
}

// Markdown renders the result: the section BENCHMARKS.md keeps between
// its markers, and what the command prints.
func (r *Result) Markdown() string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	c, m := r.Config, r.Machine
	p("## Latest results\n\n")
	cmd := c.Command
	if cmd == "" {
		cmd = "flowcase bench"
	}
	p("- Command: `%s`\n", cmd)
	p("- Date: %s; the run took %s\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second))
	p("- Machine: %d CPUs (%s), %.1f GB memory, %s; load average %s at the start, %s at the end (other work shares this machine: wall times carry its noise)\n",
		m.CPUs, m.CPUModel, m.MemoryGB, m.OS, m.LoadStart, m.LoadEnd)
	p("- flowcase %s (%s), %s, %s\n", r.Version, m.VCS, m.Go, m.Build)
	d := r.Data
	if d == nil {
		p("\nNo dataset was made.\n")
		r.writeErrors(&w)
		return w.String()
	}
	p("- Dataset (`internal/gen`, seed 1): %s flows (%s background, %.0f%% of them IPv6, plus the planted scenario) over %d days from %s; "+
		"NDJSON %s, NetFlow v9 capture %s (%s export packets, 30 flows each, one exporter)\n",
		commas(d.Total), commas(c.Flows), d.cfg.IPv6Share*100, c.Days, d.cfg.Start.Format("2006-01-02"),
		bytesStr(d.Bytes.NDJSON), bytesStr(d.Bytes.Capture), commas(d.Packets))
	p("- Queries: the hour [%s, %s) (%s flows overlap it); the address %s (%s flows over the span, %s in the hour)\n",
		fmtTime(d.HourFrom), fmtTime(d.HourTo), commas(d.HourFlows), d.Addr, commas(d.AddrFlows), commas(d.AddrHour))
	p("- Figures are medians of %d runs (min and max beside them) unless marked once; the seed script ran %d times (its median kept), `flowcase analyze` once.\n", c.Runs, c.SeedRuns)

	p("\n### Goals (issue 5, DESIGN.md)\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, g := range r.Goals {
		p("| %s | %s | %s |\n", g.Goal, g.Measured, g.Met)
	}

	p("\n### Ingest and full report (child processes)\n\n| measurement | median | min | max | unit |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		p("| %s | %s | %s | %s | %s |\n", row.Name, num(row.Samples.median()), num(row.Samples.min()), num(row.Samples.max()), row.Unit)
	}
	for _, k := range []struct{ key, what string }{
		{"ingest.hour", "ingest the one-hour store (once)"}, {"ingest.small", fmt.Sprintf("ingest %d small NDJSON files (once)", c.SmallFiles)},
		{"compact", "`flowcase compact` of that store (once)"}, {"ingest.seed", "ingest the seed's JSON array (once)"},
	} {
		if pr, ok := r.proc[k.key]; ok {
			p("| %s | %.2f s, %.0f MB peak, %.1f s CPU | | | |\n", k.what, pr.Wall.Seconds(), mb(pr.MaxRSS), pr.CPU.Seconds())
		}
	}

	if len(r.Detectors) > 0 {
		p("\n### Each detector over the whole store, in process (once; start-ordered scan decoded on every core, as `query report`)\n\n")
		p("| detector | flows/s | seconds | live heap after |\n|---|---|---|---|\n")
		for _, f := range r.Detectors {
			p("| %s | %s | %.2f | %.0f MB |\n", f.Name, num(float64(f.Flows)/f.Seconds), f.Seconds, f.HeapMB)
		}
	}

	if len(r.sizes) > 0 {
		p("\n### Store size (`flowcase info --format json`), bytes per flow\n\n")
		p("| store | segments | on disk | data | indexes | src_ip | dst_ip | src_port | dst_port | protocol |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range r.sizes {
			i := s.Info
			f := func(k string) string { return fmt.Sprintf("%.2f", float64(i.IndexByField[k])/float64(max(i.Flows, 1))) }
			p("| %s | %d | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s |\n", s.What, i.Segments, float64(i.BytesOnDisk)/float64(max(i.Flows, 1)),
				i.DataPerFlow, i.IndexPerFlow, f("src_ip"), f("dst_ip"), f("src_port"), f("dst_port"), f("protocol"))
		}
	}

	r.writeQueries(&w)
	r.writePeers(&w)

	p("\n### Checks (results against the generator's truth and the peers)\n\n")
	for _, ck := range r.Checks {
		mark := "ok"
		if !ck.OK {
			mark = "**FAILED**"
		}
		detail := ""
		if ck.Detail != "" && !ck.OK {
			detail = ": " + ck.Detail
		}
		p("- %s: %s%s\n", mark, ck.What, detail)
	}
	if len(r.Skipped) > 0 {
		p("\nSkipped: %s.\n", strings.Join(r.Skipped, "; "))
	}
	p("\nPeak memory is the child's rusage maxrss. Go starts children with vfork, and Linux carries the parent's high-water mark "+
		"across exec into the child's maxrss (golang/go#32054), so before each child the benchmark returns its free memory and resets its own peak "+
		"(/proc/self/clear_refs); it then held at most %.0f MB, the lowest a child's peak can read.\n", mb(r.MemFloor))
	for _, n := range r.Notes {
		p("\nNote: %s\n", n)
	}
	r.writeErrors(&w)
	return w.String()
}

func (r *Result) writeErrors(w *strings.Builder) {
	for _, e := range r.Errors {
		fmt.Fprintf(w, "\n**Error:** %s\n", e)
	}
}

func (r *Result) writeQueries(w *strings.Builder) {
	week := r.sets["week"]
	if week == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	hour, small, comp := r.sets["hour"], r.sets["small"], r.sets["compacted"]
	p("\n### Queries, ms (in process: the store opened once read-only, cold = first query after the open, warm = median of the next %d for the one-hour queries, %d for the address over the store, every store's warm queries timed side by side, going round the stores in turn; CLI = the whole `flowcase` process, Badger open included, median of the runs, also going round the stores in turn)\n\n", warmHourQueries, warmAddrQueries)
	p("| query | week store (one file) | one-hour store | week / hour | %d small files | / one file | compacted | / one file |\n|---|---|---|---|---|---|---|---|\n", r.Config.SmallFiles)
	type get func(*querySet) samples
	line := func(name string, g get, withHour bool) {
		cell := func(s *querySet) (string, float64) {
			if s == nil {
				return "-", math.NaN()
			}
			v := g(s)
			if len(v) == 0 {
				return "-", math.NaN()
			}
			return fmt.Sprintf("%s (%s-%s)", num(v.median()), num(v.min()), num(v.max())), v.median()
		}
		wc, wv := cell(week)
		hc, hv, hr := "-", math.NaN(), "-"
		if withHour {
			hc, hv = cell(hour)
			hr = ratio(wv, hv)
		}
		sc, sv := cell(small)
		cc, cv := cell(comp)
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", name, wc, hc, hr, sc, ratio(sv, wv), cc, ratio(cv, wv))
	}
	line("one-hour count, in process, cold", func(s *querySet) samples { return s.HourCount.Cold }, true)
	line("one-hour count, in process, warm", func(s *querySet) samples { return s.HourCount.Warm }, true)
	line("one-hour lookup (`host A`), in process, cold", func(s *querySet) samples { return s.HourLookup.Cold }, true)
	line("one-hour lookup, in process, warm", func(s *querySet) samples { return s.HourLookup.Warm }, true)
	line("one-hour count, CLI (`query count --from --to`)", func(s *querySet) samples { return s.CLIHourCount }, true)
	line("one-hour lookup, CLI (`query flows --from --to --filter`)", func(s *querySet) samples { return s.CLIHourLookup }, true)
	line("address over the whole store, in process, cold", func(s *querySet) samples { return s.WeekAddr.Cold }, false)
	line("address over the whole store, in process, warm", func(s *querySet) samples { return s.WeekAddr.Warm }, false)
	line("address over the whole store, CLI (`query flows --filter --format csv`)", func(s *querySet) samples { return s.CLIWeekAddr }, false)
	line("`query top --by srcip --order bytes -n 20`, CLI", func(s *querySet) samples { return s.CLITop }, false)
	for _, x := range []struct {
		what string
		ip   inProcess
	}{{"one-hour count", week.HourCount}, {"one-hour lookup", week.HourLookup}, {"address over the week", week.WeekAddr}} {
		st := x.ip.Stats
		if st.Blocks > 0 {
			late := ""
			if st.SegmentsLate > 0 {
				late = fmt.Sprintf(", %d of them counted from their manifests' late ends", st.SegmentsLate)
			}
			p("\n%s on the week store: %d segments read (%d more pruned on their times%s), %d of their %d blocks decoded (%s rows) for %s rows returned.",
				x.what, st.Segments, st.SegmentsPruned, late, st.BlocksRead, st.Blocks, commas(int(st.RowsDecoded)), commas(int(x.ip.Rows)))
		}
	}
	p("\n")
	if len(week.CLITop) > 0 && r.Data != nil {
		p("\n`query top` over the week: %s flows/s, %.0f MB peak.\n", num(float64(r.Data.Total)/(week.CLITop.median()/1e3)), week.TopRSS.median())
	}
}

func (r *Result) writePeers(w *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	s, n := r.seed, r.nf
	if s.Seed.Wall == 0 && len(n.Top) == 0 {
		return
	}
	p("\n### Peers on the same flows\n\n| comparison | flowcase | peer | peer / flowcase | results |\n|---|---|---|---|---|\n")
	if s.Seed.Wall > 0 {
		seedT, seedM := s.Seed.Wall.Seconds(), mb(s.Seed.MaxRSS)
		where := "the week store"
		if !s.SameStore {
			where = "a store of the seed's file"
		}
		agree := fmt.Sprintf("total_flows: seed %d, analyze %d", s.SeedTotal, s.AnalyzeTotal)
		p("| seed script (python %s, %s) vs `query report` on %s (%s flows) | %.2f s, %.0f MB | %.1f s, %.0f MB | time %s, memory %s | %s |\n",
			s.PythonVersion, s.seedRunsText(), where, commas(s.Flows), s.Report.median(), s.ReportRSS.median(), seedT, seedM, ratio(seedT, s.Report.median()),
			ratio(seedM, s.ReportRSS.median()), agree)
		p("| seed script vs `flowcase analyze --flow-file` (ingest + report, once) | %.2f s, %.0f MB | %.1f s, %.0f MB | time %s, memory %s | %s |\n",
			s.Analyze.Wall.Seconds(), mb(s.Analyze.MaxRSS), seedT, seedM, ratio(seedT, s.Analyze.Wall.Seconds()), ratio(seedM, mb(s.Analyze.MaxRSS)), agree)
	}
	if len(n.Top) > 0 {
		top := "agree (addresses, order, flows, bytes)"
		if strings.Contains(n.TopDetail, "another order") {
			top = "agree (addresses, flows, bytes; entries with equal bytes listed in another order)"
		}
		if !n.TopAgree {
			top = "**differ**: " + n.TopDetail
		}
		p("| `%s` vs `%s` | %.3f s | %.3f s | %s | %s |\n", n.FlowcaseTop, n.TopCommand, n.TopFlowcase.median(), n.Top.median(),
			ratio(n.Top.median(), n.TopFlowcase.median()), top)
		rows := fmt.Sprintf("%d rows each", n.HostRows)
		if n.HostRows != n.HostFlowRows {
			rows = fmt.Sprintf("**differ**: nfdump %d rows, flowcase %d", n.HostRows, n.HostFlowRows)
		}
		p("| `%s` vs `%s` | %.3f s | %.3f s | %s | %s |\n", n.FlowHost, n.HostCmd, n.HostFlowcase.median(), n.Host.median(),
			ratio(n.Host.median(), n.HostFlowcase.median()), rows)
		p("\nnfdump: %s. The capture's %s datagrams were replayed from Go to `nfcapd -b 127.0.0.1` in %s, paced on the socket's receive queue "+
			"(%d waits), %d dropped by the kernel; nfdump counts %s flows in nfcapd's files (generated: %s). flowcase answers from the store "+
			"ingested from the same capture; both see forward bytes only (the v9 template has no reverse counters), and every flow comes from one exporter "+
			"(nfcapd sees it as 127.0.0.1). Times are medians of %d runs of each command, nfdump's and flowcase's alternating, after one untimed run of each (so both read from the page cache). The compared top-20 figures come from one more nfdump run with `-N -6` (exact numbers, full IPv6 addresses).\n",
			n.Version, commas(n.Replay.Datagrams), n.Replay.Elapsed.Round(time.Millisecond), n.Replay.Waits, n.Replay.Drops, commas(int(n.NfcapdFlows)),
			commas(r.Data.Total), n.Runs)
	}
}

// writeBenchmarks puts section between the markers of path, creating
// the file with a header when it is missing and appending the markers
// when it has none; the rest of the file is kept.
func writeBenchmarks(path, section string) error {
	const begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
	block := begin + "\n" + section + end + "\n"
	old, err := os.ReadFile(path)
	var text string
	switch {
	case os.IsNotExist(err):
		text = benchmarksHeader + "\n" + block
	case err != nil:
		return err
	default:
		s := string(old)
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i >= 0 && j > i {
			rest := s[j+len(end):]
			rest = strings.TrimPrefix(rest, "\n")
			text = s[:i] + block + rest
		} else {
			if !strings.HasSuffix(s, "\n") {
				s += "\n"
			}
			text = s + "\n" + block
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

const benchmarksHeader = `# Benchmarks

Measured with ` + "`flowcase bench`" + `, which generates a dataset with the project's generator
(` + "`internal/gen`" + `: N flows over D days, IPv4 and IPv6, with the planted scenario) as NDJSON, a JSON
array and a NetFlow v9 capture (` + "`internal/nfgen`" + `), builds case stores by running the flowcase binary
itself (so wall time and peak memory, rusage maxrss, are those of real runs), repeats every
measurement ` + "`--runs`" + ` times and reports medians with min and max, compares with the peers that are
installed on the same flows (the seed script; nfdump fed by nfcapd on loopback), and states each
goal of DESIGN.md and issue 5 as met or not.

` + "```" + `
flowcase bench                      # 5M flows over 7 days, 5 runs: under 10 minutes on 2 cores, 5 GB of scratch space
flowcase bench --write BENCHMARKS.md  # and replace the section between the markers below
flowcase bench --flows 1000000 --days 7 --runs 3 --skip-peers --keep --out /tmp/fb
flowcase bench --large              # 100M flows (15 minutes here with --runs 1; about 60 GB of scratch space)
` + "```" + `

Flags: ` + "`--flows N`" + ` (background flows, default 5M), ` + "`--days D`" + ` (7), ` + "`--runs R`" + ` (5),
` + "`--seed-flows N`" + ` (flows given to the seed script, default --flows up to 5M; the ratio is computed on
the same flows), ` + "`--seed-runs N`" + ` (3: runs of the seed script, its median kept), ` + "`--out DIR`" + ` (work directory, default a temporary one, removed unless ` + "`--keep`" + `),
` + "`--write FILE`" + ` (rewrite the section between the markers), ` + "`--large`" + `, ` + "`--skip-peers`" + `,
` + "`--seed-script PATH`" + ` (default ../shared/seed/netflow_agent.py).

Everything between the markers is rewritten by ` + "`flowcase bench --write BENCHMARKS.md`" + `; the rest of
this file is kept.
`

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotalGB() float64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%g", &kb)
		}
	}
	return kb / (1 << 20)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// buildInfo says how the running binary was linked: a static binary
// (CGO_ENABLED=0, as README's install line builds it) starts about 1 ms
// sooner than one the dynamic loader must link first, which counts in
// every CLI figure.
func buildInfo() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "no build info"
	}
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" && s.Value == "0" {
			return "static binary (CGO_ENABLED=0)"
		}
	}
	return "dynamically linked binary (cgo enabled: about 1 ms more per process start than CGO_ENABLED=0)"
}

// vcsInfo is the commit the running binary was built from, if recorded.
func vcsInfo() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "no build info"
	}
	rev, modified := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return gitInfo()
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		return "commit " + rev + " with uncommitted changes"
	}
	return "commit " + rev
}

// gitInfo asks git (read-only) which commit the working directory is at,
// for binaries built without version control information.
func gitInfo() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "commit not recorded"
	}
	rev := strings.TrimSpace(string(out))
	st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil && len(strings.TrimSpace(string(st))) > 0 {
		return "working tree at commit " + rev + ", with uncommitted changes"
	}
	return "working tree at commit " + rev
}

func fmtTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339) }

func commas(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func bytesStr(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d kB", n>>10)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// seedRunsText says how the seed's figure was taken: "once", or the median
// of its runs with their range.
func (s seedResult) seedRunsText() string {
	if len(s.SeedWalls) <= 1 {
		return "once"
	}
	return fmt.Sprintf("median of %d runs, %.1f-%.1f s", len(s.SeedWalls), slices.Min(s.SeedWalls), slices.Max(s.SeedWalls))
}
