package main

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/query"
	"github.com/urfave/cli/v2"
)

// Detector flags, each on the subcommands that use it.
func scanFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "ports", Value: detectors.DefaultScanPorts, Usage: "vertical scan: distinct ports of one destination within the window"},
		&cli.StringFlag{Name: "window", Value: "1h", Usage: "sliding window of scans and sweeps"},
	}
}

func sweepFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "hosts", Value: detectors.DefaultSweepHosts, Usage: "sweep: distinct destinations on one port within the window"},
		&cli.Float64Flag{Name: "min-failed", Value: detectors.DefaultSweepMinFailed, Usage: "sweep: share of attempts failed or unanswered"},
	}
}

func exfilFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "internal", Usage: "internal networks, CIDR,... (default RFC 1918, 100.64.0.0/10, fc00::/7)"},
		&cli.StringFlag{Name: "bytes", Value: "100M", Usage: "exfiltration: outbound bytes of one pair over the range (k/M/G)"},
		&cli.StringFlag{Name: "history", Value: "14d", Usage: "exfiltration: days of a host's own history the daily volume is judged against"},
	}
}

func beaconFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "min-connections", Value: 10, Usage: "beacons: connections of one (src, dst, port) at least"},
		&cli.Float64Flag{Name: "threshold", Usage: "beacons: score in [0,1] at or above which a pair is reported (default: measured, see detectors/README.md)"},
		&cli.StringFlag{Name: "beat-gap", Value: "5s", Usage: "beacons: connections starting within this of the one before are one check-in (beat), also scored as such"},
	}
}

// suiteConfig reads every detector flag present on the command.
func suiteConfig(c *cli.Context, sc *scope) (detectors.SuiteConfig, error) {
	var cfg detectors.SuiteConfig
	from, to := sc.bounds()
	cfg = cfg.WithRange(from, to)
	silent, err := sc.st.Silent(from, to, detectors.SilenceGap)
	if err != nil {
		return cfg, err
	}
	cfg = cfg.WithObserved(to - from - silent)
	cfg.Baseline.Location = sc.tz // the timeline follows the --tz zone's hours and midnights
	if hasFlag(c, "ports") {
		if cfg.Scan.Ports = c.Int("ports"); cfg.Scan.Ports < 1 {
			return cfg, usagef("--ports %d: want at least 1", cfg.Scan.Ports)
		}
	}
	if w := c.String("window"); w != "" {
		d, err := query.ParseDuration(w)
		if err != nil || d <= 0 {
			return cfg, usagef("--window %q: want a duration", w)
		}
		cfg.Scan.Window, cfg.Sweep.Window = d, d
	}
	if hasFlag(c, "hosts") {
		if cfg.Sweep.Hosts = c.Int("hosts"); cfg.Sweep.Hosts < 1 {
			return cfg, usagef("--hosts %d: want at least 1", cfg.Sweep.Hosts)
		}
		f := c.Float64("min-failed")
		if f < 0 || f > 1 {
			return cfg, usagef("--min-failed %g: want a share in [0,1]", f)
		}
		// The detectors read 0 as "the default" and a negative share as
		// none: --min-failed 0 asks for none.
		cfg.Sweep.MinFailed = cmp.Or(f, -1)
	}
	if hasFlag(c, "internal") {
		if s := c.String("internal"); s != "" {
			nets, err := detectors.ParseNets(s)
			if err != nil {
				return cfg, usagef("--internal: %v", err)
			}
			cfg = cfg.WithInternal(nets)
		}
		n, err := parseCount(c.String("bytes"))
		if err != nil {
			return cfg, usagef("--bytes %q: %v", c.String("bytes"), err)
		}
		cfg.Exfil.Bytes = max(n, 1) // 0 is the default's: --bytes 0 asks for every pair
		h, err := query.ParseDuration(c.String("history"))
		if err != nil || h < 0 {
			return cfg, usagef("--history %q: want a duration such as 14d", c.String("history"))
		}
		// The rule judges a day only against at least DefaultMinHistoryDays
		// days before it: a shorter history never applied it, and said so
		// only as a warning under every report.
		if minH := time.Duration(detectors.DefaultMinHistoryDays) * 24 * time.Hour; h > 0 && h < minH {
			return cfg, usagef("--history %q: the history rule needs at least %d days of a host's history (give %dd or more)",
				c.String("history"), detectors.DefaultMinHistoryDays, detectors.DefaultMinHistoryDays)
		}
		cfg.Exfil.History = h
		// The history rule's days are the store's days with records,
		// whatever the filter (ExfilConfig.Starts).
		spans, err := sc.st.StartSpans(from-int64(cmp.Or(h, detectors.DefaultHistory)), to)
		if err != nil {
			return cfg, err
		}
		cfg.Exfil.Starts = spans
	}
	if hasFlag(c, "min-connections") {
		if cfg.Beacon.MinConnections = c.Int("min-connections"); cfg.Beacon.MinConnections < 3 {
			return cfg, usagef("--min-connections %d: want at least 3 (two intervals)", cfg.Beacon.MinConnections)
		}
		th := c.Float64("threshold")
		if th < 0 || th > 1 {
			return cfg, usagef("--threshold %g: want a score in [0,1]", th)
		}
		cfg.Beacon.Threshold = th
		if c.IsSet("threshold") && th == 0 {
			cfg.Beacon.Threshold = -1 // every candidate; 0 is the default's
		}
		g, err := query.ParseDuration(c.String("beat-gap"))
		if err != nil || g <= 0 {
			return cfg, usagef("--beat-gap %q: want a duration such as 5s", c.String("beat-gap"))
		}
		cfg.Beacon.BeatGap = g
	}
	return cfg, nil
}

func hasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// parseCount reads 100M, 1.5G, 20000 (decimal multiples, as nfdump).
func parseCount(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	mult := 1.0
	if n := len(s); n > 1 && (s[n-1] == 'B' || s[n-1] == 'b') && strings.ContainsAny(s[n-2:n-1], "kKmMgGtT") {
		s = s[:n-1] // 100MB: the unit's B is bytes, as the count already is
	}
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1e3, s[:n-1]
		case 'm', 'M':
			mult, s = 1e6, s[:n-1]
		case 'g', 'G':
			mult, s = 1e9, s[:n-1]
		case 't', 'T':
			mult, s = 1e12, s[:n-1]
		}
	}
	// The whole number, not a prefix of it: Sscanf read "100MB" as 100.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > math.MaxUint64/2 {
		return 0, fmt.Errorf("want a count such as 100M or 1.5G")
	}
	return uint64(f * mult), nil
}

// bounds returns the range as finite times: an open side takes the
// store's first or last flow.
func (sc *scope) bounds() (int64, int64) {
	from, to := sc.rng.From, sc.rng.To
	m := sc.st.Meta()
	if from == math.MinInt64 {
		from = m.MinStart
	}
	if to == math.MaxInt64 {
		to = m.MaxEnd + 1
	}
	// One end given beyond the case's flows (--from after them, --to before
	// them): the range is empty at that end, not reversed.
	if from > to {
		if sc.rng.From == math.MinInt64 {
			from = to
		} else {
			to = from
		}
	}
	return from, to
}

// feed streams the scope's records, in start order, to add. Partitions are
// decoded on every core; the order is the same as a serial scan.
func feed(sc *scope, cols index.Columns, add func(*flow.Record)) (index.ScanStats, error) {
	req := query.Request{Range: sc.rng, Filter: sc.filter, Columns: cols, Ordered: true, Parallel: runtime.GOMAXPROCS(0)}
	return query.Scan(sc.st, req, func(r *flow.Record) bool { add(r); return true })
}

// feedHistory streams the days before the range for the exfiltration
// history rule.
func feedHistory(sc *scope, history time.Duration, add func(*flow.Record)) error {
	from, _ := sc.bounds()
	if history <= 0 {
		return nil
	}
	hr := query.Range{From: from - int64(history), To: from, Starting: true}
	req := query.Request{Range: hr, Filter: sc.filter, Columns: query.DetectorColumns, Ordered: true, Parallel: runtime.GOMAXPROCS(0)}
	_, err := query.Scan(sc.st, req, func(r *flow.Record) bool { add(r); return true })
	return err
}

// reportMeta fills what the detectors cannot know.
func reportMeta(sc *scope, st index.ScanStats) detectors.ReportMeta {
	from, to := sc.bounds()
	m := detectors.ReportMeta{
		Timestamp: detectors.SeedTimestamp(time.Now()), Version: version, StoreID: sc.st.Meta().StoreID,
		ManifestDigest: st.ManifestDigest, From: from, To: to, Starting: sc.rng.Starting, Filter: sc.filter.String(),
	}
	if note := sc.outsideNote(); note != "" {
		m.Notes = append(m.Notes, note)
	}
	return m
}

// outsideNote says, when the range lies wholly outside the case's flows,
// where they are: an empty answer is then the range's, not the filter's.
func (sc *scope) outsideNote() string {
	m := sc.st.Meta()
	if m.MaxEnd == 0 && m.MinStart == 0 {
		return "the store holds no flows"
	}
	if sc.rng.From <= m.MaxEnd && sc.rng.To > m.MinStart {
		return ""
	}
	return fmt.Sprintf("the range holds no flows: the case's flows span %s to %s", detectors.FormatTime(m.MinStart), detectors.FormatTime(m.MaxEnd))
}

// findingQuery makes a finding's command runnable against this store from
// any directory, exact under the user's filter, and within the report's
// range: the detectors' command lists the records that start between the
// finding's first start and its last end (answers joined into a counted
// connection may start after its last attempt), which can reach past the
// range's end; and in the default overlap mode, when the first counted
// record began before the range, records that ended before it too. Both
// are bounded here: --to at the range's end, and such a finding's records
// selected by overlap with the range rather than by start.
func (sc *scope) findingQuery(ev *detectors.Evidence) {
	q := ev.Query
	i := strings.Index(q, "--filter '")
	if i < 0 {
		return
	}
	from, _ := sc.bounds()
	// The detector's --to: past the last end for a connection's answers,
	// the last start for a volume anomaly's day (the next day's flows
	// are not its own).
	end := min(ev.QueryTo, sc.rng.To)
	times := fmt.Sprintf("--starting --from %s --to %s", detectors.FormatTime(ev.FirstSeenNS), detectors.FormatTime(end))
	if !sc.rng.Starting && ev.FirstSeenNS < from {
		times = fmt.Sprintf("--from %s --to %s", detectors.FormatTime(from), detectors.FormatTime(end))
	}
	cmd := "flowcase query flows --store " + shellQuote(absPath(sc.st.Dir()))
	if sc.file != "" {
		cmd += " --filter-file " + shellQuote(sc.file)
	}
	filter := q[i:]
	if f := sc.inline; f != "" {
		j := len("--filter '")
		k := strings.LastIndex(filter, "'")
		filter = filter[:j] + "(" + f + ") and (" + filter[j:k] + ")" + filter[k:]
	}
	ev.Query = cmd + " " + times + " " + filter
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$\\`!*?[]{}()<>|&;#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// finish maps source ids to SHA-256 and makes the finding queries runnable.
func (sc *scope) finish(rep *detectors.Report) error {
	hashes := sourceHashes{st: sc.st}
	rep.MapSources(hashes.get)
	if hashes.err != nil {
		return hashes.err
	}
	for i := range rep.PortScans {
		if s := rep.PortScans[i].Scan; s != nil {
			sc.findingQuery(&s.Evidence)
		}
		if s := rep.PortScans[i].Sweep; s != nil {
			sc.findingQuery(&s.Evidence)
		}
	}
	for i := range rep.ExfiltrationCandidates {
		sc.findingQuery(&rep.ExfiltrationCandidates[i].Evidence)
	}
	for i := range rep.BeaconingPatterns {
		sc.findingQuery(&rep.BeaconingPatterns[i].Evidence)
	}
	return nil
}

// scanParts streams the scope's records, in no particular order, to one
// part per core made by newPart (a Top, a Timeline) with the function that
// adds a record to it (called for every record: best a closure that calls
// the part's method directly), and returns the parts for the caller to
// merge.
func scanParts[T any](sc *scope, cols index.Columns, newPart func() (T, func(*flow.Record) bool)) ([]T, error) {
	var mu sync.Mutex
	var parts []T
	req := query.Request{Range: sc.rng, Filter: sc.filter, Columns: cols}
	_, err := query.ScanEach(sc.st, req, runtime.GOMAXPROCS(0), func() func(*flow.Record) bool {
		p, add := newPart()
		mu.Lock()
		parts = append(parts, p)
		mu.Unlock()
		return add
	})
	return parts, err
}
