package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/query"
	"github.com/urfave/cli/v2"
)

func queryCommand() *cli.Command {
	return &cli.Command{
		Name:  "query",
		Usage: "ask the case store: list flows, statistics, detectors",
		Subcommands: []*cli.Command{
			flowsCommand(),
			detectorCommand("scans", "vertical port scans: one source, many ports of one destination", "scans", scanFlags()),
			detectorCommand("sweeps", "network sweeps: one source, many destinations on one port", "sweeps", scanFlags(), sweepFlags()),
			detectorCommand("exfil", "data leaving internal hosts for external ones, per pair and against each host's history", "exfil", exfilFlags()),
			detectorCommand("beacons", "regular connections on real times: C2 beaconing", "beacons", beaconFlags()),
			detectorCommand("baseline", "what was normal: totals, protocol mix, top ports and talkers, timeline", "baseline"),
			detectorCommand("report", "every detector and the baseline (the seed script's report, and more)", "report",
				scanFlags(), sweepFlags(), exfilFlags(), beaconFlags()),
			topCommand(),
			timelineCommand(),
			countCommand(),
		},
	}
}

// formatFlag is --format of the query commands and info: table, json,
// ndjson or csv, checked before the command runs; note follows the choices
// in the help.
func formatFlag(note string) cli.Flag {
	return &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "output format: table|json|ndjson|csv" + note,
		Action: func(_ *cli.Context, v string) error {
			if !slices.Contains([]string{"table", "json", "ndjson", "csv"}, v) {
				return usagef("--format %q: want table, json, ndjson or csv", v)
			}
			return nil
		}}
}

// rangeFlags are shared by every query subcommand.
func rangeFlags() []cli.Flag {
	return []cli.Flag{
		storeFlag(),
		&cli.StringFlag{Name: "from", Usage: "start of the range (RFC 3339, 2026-03-02, 2026-03-02T10:00, unix seconds, -6h, now-2d, end-6h)"},
		&cli.StringFlag{Name: "to", Usage: "end of the range, exclusive (same forms as --from)"},
		&cli.StringFlag{Name: "last", Usage: "the final DURATION of the case, up to the store's last flow (e.g. 24h, 7d)"},
		&cli.BoolFlag{Name: "starting", Usage: "select flows by start time only (default: flows overlapping the range)"},
		&cli.StringFlag{Name: "filter", Usage: "nfdump-like filter, e.g. 'src net 10.0.0.0/8 and dst port 443'"},
		&cli.StringFlag{Name: "filter-file", Usage: "read a filter from FILE ('#' starts a comment), e.g. an indicator list 'ip in [ ... ]'; with --filter, both must hold"},
		&cli.StringFlag{Name: "tz", Value: "UTC", Usage: "time zone for table output, and whose hours and midnights timelines follow"},
	}
}

// scope is a resolved range and filter.
type scope struct {
	st     *index.Store
	rng    query.Range
	filter *query.Filter
	tz     *time.Location
	// inline and file are the filter as given: --filter (canonical) and
	// --filter-file (absolute path), for the findings' commands.
	inline, file string
}

func openScope(c *cli.Context) (*scope, error) {
	st, err := openRead(c)
	if err != nil {
		return nil, err
	}
	sc, err := resolveScope(c, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return sc, nil
}

func resolveScope(c *cli.Context, st *index.Store) (*scope, error) {
	sc := &scope{st: st, rng: query.Range{From: math.MinInt64, To: math.MaxInt64, Starting: c.Bool("starting")}}
	now, end := time.Now(), st.Meta().MaxEnd
	if last := c.String("last"); last != "" {
		if c.IsSet("from") {
			return nil, usagef("--last and --from cannot be used together")
		}
		d, err := query.ParseDuration(last)
		if err != nil {
			return nil, usagef("--last: %v", err)
		}
		if d <= 0 {
			return nil, usagef("--last %q: want a positive duration, such as 6h", last)
		}
		// The last d before --to when it is given, else before the
		// store's last flow.
		sc.rng.From, sc.rng.To = end-int64(d), end+1
		if s := c.String("to"); s != "" {
			to, err := query.ParseTime(s, now, end)
			if err != nil {
				return nil, usagef("--to: %v", err)
			}
			sc.rng.From, sc.rng.To = to-int64(d), to
		}
	}
	if s := c.String("from"); s != "" {
		t, err := query.ParseTime(s, now, end)
		if err != nil {
			return nil, usagef("--from: %v", err)
		}
		sc.rng.From = t
	}
	if s := c.String("to"); s != "" {
		t, err := query.ParseTime(s, now, end)
		if err != nil {
			return nil, usagef("--to: %v", err)
		}
		sc.rng.To = t
	}
	if sc.rng.To <= sc.rng.From {
		return nil, usagef("empty range: --to (%s) is not after --from (%s)", fmtTime(sc.rng.To), fmtTime(sc.rng.From))
	}
	f, err := query.ParseFilter(c.String("filter"))
	if err != nil {
		return nil, usageError{err}
	}
	sc.filter, sc.inline = f, f.String()
	if path := c.String("filter-file"); path != "" {
		if sc.filter, err = withFilterFile(path, sc.inline); err != nil {
			return nil, err
		}
		sc.file, _ = filepath.Abs(path)
	}
	tz, err := query.ParseZone(c.String("tz"))
	if err != nil {
		return nil, usagef("--tz: %v", err)
	}
	sc.tz = tz
	return sc, nil
}

// withFilterFile parses the filter in the file at path ('#' to the end of a
// line is a comment, as in nfdump's filter files), and inline beside it.
func withFilterFile(path, inline string) (*query.Filter, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--filter-file: %v", err)
	}
	var text strings.Builder
	var starts []int // the column (in characters, 1-based) each line begins at
	col, lastLine, lastEnd := 1, 0, 0
	for line := range strings.Lines(string(b)) {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimRight(line, "\r\n")
		starts = append(starts, col)
		col += utf8.RuneCountInString(line) + 1
		text.WriteString(line)
		text.WriteByte(' ')
		if t := strings.TrimRight(line, " \t"); t != "" {
			lastLine, lastEnd = len(starts), utf8.RuneCountInString(t)
		}
	}
	if strings.TrimSpace(text.String()) == "" {
		return nil, usagef("--filter-file %s: no filter in it (only comments or blank lines): it would select every flow", path)
	}
	if _, err := query.ParseFilter(text.String()); err != nil {
		// Where in the file: its line and column, not the column in the
		// file's lines joined.
		var fe *query.FilterError
		if errors.As(err, &fe) {
			n, _ := slices.BinarySearch(starts, fe.Column+1)
			line, c := n, fe.Column-starts[n-1]+1
			if n > lastLine || (n == lastLine && c > lastEnd) {
				line, c = lastLine, lastEnd+1 // past the filter's end: where it ends
			}
			return nil, usagef("--filter-file %s:%d:%d: %s", path, line, c, fe.Msg)
		}
		return nil, usagef("--filter-file %s: %v", path, err)
	}
	expr := text.String()
	if inline != "" {
		expr = "(" + expr + ") and (" + inline + ")"
	}
	f, err := query.ParseFilter(expr)
	if err != nil {
		return nil, usageError{err}
	}
	return f, nil
}

func fmtTime(ns int64) string {
	switch ns {
	case math.MinInt64:
		return "the beginning"
	case math.MaxInt64:
		return "the end"
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
