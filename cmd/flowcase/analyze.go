package main

import (
	"fmt"
	"os"
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
			&cli.IntFlag{Name: "scan-threshold", Value: detectors.DefaultScanPorts, Usage: "vertical scan: distinct ports"},
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
	threshold, err := parseCount(c.String("byte-threshold"))
	if err != nil {
		return usagef("--byte-threshold: %v", err)
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
	assumed, err := analyzeIngest(dir, file, fi.ModTime())
	if err != nil {
		return err
	}
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	f, _ := query.ParseFilter("")
	sc := &scope{st: st, rng: query.Range{From: st.Meta().MinStart, To: st.Meta().MaxEnd + 1}, filter: f, tz: time.UTC}
	var cfg detectors.SuiteConfig
	cfg = cfg.WithRange(sc.bounds())
	cfg.Scan.Ports = c.Int("scan-threshold")
	cfg.Exfil.Bytes = threshold
	rep, err := analyzeReport(sc, cfg, assumed, fi.ModTime())
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
	fmt.Fprintf(c.App.ErrWriter, "report saved to %s\n", c.String("output"))
	return nil
}

// analyzeIngest ingests the file; records without times take the file's
// modification time. It returns how many did.
func analyzeIngest(dir, file string, mtime time.Time) (int64, error) {
	st, err := index.Open(dir, index.Options{Create: true})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	sum, err := ingest.Run(st, []string{file}, ingest.Options{Version: version, AssumeTime: mtime.UnixNano()})
	if err != nil {
		return 0, err
	}
	var assumed int64
	for _, f := range sum.Files {
		if f.Err != nil {
			return 0, f.Err
		}
		if f.Skipped != "" && !f.Duplicate {
			return 0, fmt.Errorf("%s: %s", f.Path, f.Skipped)
		}
		assumed += f.Assumed
	}
	if len(sum.Files) == 1 && sum.Files[0].Duplicate {
		// A kept store that holds the file already: count its assumed times.
		srcs, _ := st.Sources()
		for _, s := range srcs {
			if s.SHA256 == sum.Files[0].SHA256 {
				assumed = s.AssumedTime
			}
		}
	}
	return assumed, st.Close()
}

func analyzeReport(sc *scope, cfg detectors.SuiteConfig, assumed int64, mtime time.Time) (*detectors.Report, error) {
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
	rep := suite.Report(meta)
	return rep, sc.finish(rep)
}
