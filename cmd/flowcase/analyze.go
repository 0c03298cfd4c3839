package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest"
	"github.com/flowcase/flowcase/query"
	"github.com/urfave/cli/v2"
)

// analyzeCommand is the original script's one-shot interface: same flags,
// same output file and summary line, through a temporary store.
func analyzeCommand() *cli.Command {
	return &cli.Command{
		Name:  "analyze",
		Usage: "one-shot report on a JSON flow file (the original script's interface)",
		Description: "Ingests --flow-file into a temporary store (or --store to keep it), runs every\n" +
			"detector and writes the report to --output. Records without times are placed at the\n" +
			"file's modification time, the report says so, and beaconing is not evaluated for them.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "flow-file", Required: true, Usage: "JSON flow data file"},
			&cli.StringFlag{Name: "byte-threshold", Value: "100000000", Usage: "exfiltration: outbound bytes per pair"},
			&cli.StringFlag{Name: "scan-threshold", Value: strconv.Itoa(detectors.DefaultScanPorts), Usage: "vertical scan: distinct ports"},
			&cli.StringFlag{Name: "output", Value: "netflow_report.json", Usage: "report file"},
			storeFlag(),
		},
		Action: runAnalyze,
	}
}

func runAnalyze(c *cli.Context) error {
	setMemoryLimit() // its memory follows the flows
	file := c.String("flow-file")
	fi, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("cannot read --flow-file: %w", err)
	}
	// The seed's thresholds are Python ints: spaces around them and
	// values of 0 or less (every pair, every destination) are accepted.
	bt := strings.TrimSpace(c.String("byte-threshold"))
	var threshold uint64
	if n, err := strconv.ParseInt(bt, 10, 64); err == nil && n <= 0 {
		threshold = 1
	} else if threshold, err = parseCount(bt); err != nil {
		return usagef("--byte-threshold: %v", err)
	}
	scanPorts, err := strconv.Atoi(strings.TrimSpace(c.String("scan-threshold")))
	if err != nil {
		return usagef("--scan-threshold %q: want a whole number", c.String("scan-threshold"))
	}
	dir := ""
	if c.IsSet("store") {
		dir = c.String("store")
	} else {
		if dir, err = os.MkdirTemp("", "flowcase-analyze-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	in, err := analyzeIngest(dir, file, fi.ModTime())
	if err != nil {
		return err
	}
	assumed := in.assumed
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	f, _ := query.ParseFilter("")
	sc := &scope{st: st, rng: query.Range{From: st.Meta().MinStart, To: st.Meta().MaxEnd + 1}, filter: f, tz: time.UTC}
	var cfg detectors.SuiteConfig
	from, to := sc.bounds()
	cfg = cfg.WithRange(from, to)
	silent, err := st.Silent(from, to, detectors.SilenceGap)
	if err != nil {
		return err
	}
	cfg = cfg.WithObserved(to - from - silent)
	cfg.Scan.Ports = max(scanPorts, 1)
	cfg.Exfil.Bytes = threshold
	rep, err := analyzeReport(sc, cfg, assumed, fi.ModTime(), in.dropped())
	if err != nil {
		return err
	}
	out, err := os.Create(c.String("output"))
	if err != nil {
		return err
	}
	if err := writeJSON(out, rep); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	s := rep.Summary
	fmt.Fprintf(c.App.Writer, "NETFLOW REPORT: %d flows, %d alerts\n", rep.TotalFlows, s.ScanAlerts+s.ExfilAlerts+s.BeaconAlerts)
	for _, f := range in.files {
		if len(f.Rejected) > 0 {
			fmt.Fprintf(c.App.ErrWriter, "%s: rejected %s\n", f.Path, formatReasons(f.Rejected))
			for _, ex := range f.Examples {
				fmt.Fprintf(c.App.ErrWriter, "  %s: %s\n", f.Path, ex)
			}
		}
		for _, n := range f.Notes {
			fmt.Fprintf(c.App.ErrWriter, "%s: %s\n", f.Path, n)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "report saved to %s\n", c.String("output"))
	if in.rejected > 0 {
		return exitCode(exitRejected)
	}
	return nil
}

// analyzed is what analyze's ingest did with the file.
type analyzed struct {
	assumed  int64 // records placed at the file's modification time
	rejected int64
	files    []ingest.FileResult
}

// dropped says, for the report, which of the file's records it does not
// count, or "".
func (a analyzed) dropped() string {
	if a.rejected == 0 {
		return ""
	}
	all := map[string]int64{}
	for _, f := range a.files {
		for k, n := range f.Rejected {
			all[k] += n
		}
	}
	return fmt.Sprintf("%d records of the file were rejected and are not counted (%s)", a.rejected, formatReasons(all))
}

// analyzeIngest ingests the file; records without times take the file's
// modification time. It says how many did, and what was rejected.
func analyzeIngest(dir, file string, mtime time.Time) (analyzed, error) {
	var a analyzed
	st, err := index.Open(dir, index.Options{Create: true})
	if err != nil {
		return a, err
	}
	defer st.Close()
	sum, err := ingest.Run(st, []string{file}, ingest.Options{Version: version, AssumeTime: mtime.UnixNano()})
	if err != nil {
		return a, err
	}
	a.files, a.rejected = sum.Files, sum.Rejected
	for _, f := range sum.Files {
		if f.Err != nil {
			return a, f.Err
		}
		if f.Skipped != "" && !f.Duplicate {
			return a, fmt.Errorf("%s: %s", f.Path, f.Skipped)
		}
		a.assumed += f.Assumed
	}
	if len(sum.Files) == 1 && sum.Files[0].Duplicate {
		// A kept store that holds the file already: count its assumed times.
		srcs, _ := st.Sources()
		for _, s := range srcs {
			if s.SHA256 == sum.Files[0].SHA256 {
				a.assumed = s.AssumedTime
			}
		}
	}
	return a, st.Close()
}

func analyzeReport(sc *scope, cfg detectors.SuiteConfig, assumed int64, mtime time.Time, dropped string) (*detectors.Report, error) {
	defer lowerGC()()
	suite := detectors.NewSuite(cfg)
	defer suite.Close()
	st, err := feed(sc, query.DetectorColumns, suite.Add)
	if err != nil {
		return nil, err
	}
	meta := reportMeta(sc, st)
	if assumed > 0 {
		meta.BeaconsNotEvaluated = "records have no timestamps"
		meta.Notes = append(meta.Notes, fmt.Sprintf("%d records had no time and were placed at the file's modification time %s",
			assumed, mtime.UTC().Format(time.RFC3339)))
	}
	if dropped != "" {
		meta.Notes = append(meta.Notes, dropped)
	}
	rep := suite.Report(meta)
	return rep, sc.finish(rep)
}
