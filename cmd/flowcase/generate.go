package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
	"github.com/flowcase/flowcase/query"
	"github.com/klauspost/compress/gzip"
	"github.com/urfave/cli/v2"
)

func generateCommand() *cli.Command {
	return &cli.Command{
		Name:  "generate",
		Usage: "write synthetic flow evidence (for samples, tests and benchmarks)",
		Description: "Background traffic of a small office network over days; with --planted, also a scenario\n" +
			"of planted events (vertical scans, sweeps, exfiltration, beacons with jitter) and decoys\n" +
			"(a busy file server, a web proxy, a backup, a large download, browsing and polling at random\n" +
			"intervals, DNS, NTP, a video call, an SSH session exported every 60 s). --truth writes the\n" +
			"ground truth: every planted event and decoy as JSON. Deterministic for a --seed. A name\n" +
			"ending in .gz is gzip-compressed.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "flows", Value: 100000, Usage: "background flows"},
			&cli.StringFlag{Name: "start", Value: "2026-03-02", Usage: "time of the first flow"},
			&cli.StringFlag{Name: "span", Value: "1d", Usage: "time the flows cover"},
			&cli.Uint64Flag{Name: "seed", Value: 1},
			&cli.Float64Flag{Name: "ipv6", Value: 0.1, Usage: "share of IPv6 flows"},
			&cli.BoolFlag{Name: "planted", Usage: "add planted events and decoys"},
			&cli.StringFlag{Name: "format", Value: "ndjson", Usage: "ndjson|json (a JSON array, the seed script's format)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output file (default: standard output)"},
			&cli.StringFlag{Name: "truth", Usage: "write the ground truth (planted events and decoys) as JSON to `FILE`"},
		},
		Action: runGenerate,
	}
}

func runGenerate(c *cli.Context) error {
	start, err := query.ParseTime(c.String("start"), time.Now(), 0)
	if err != nil {
		return usagef("--start: %v", err)
	}
	span, err := query.ParseDuration(c.String("span"))
	if err != nil || span <= 0 {
		return usagef("--span %q: want a duration such as 7d", c.String("span"))
	}
	format := c.String("format")
	if format != "ndjson" && format != "json" {
		return usagef("--format %q: want ndjson or json", format)
	}
	var w io.Writer = c.App.Writer
	var closers []io.Closer
	if out := c.String("out"); out != "" && out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		closers = append(closers, f)
		w = f
		if strings.HasSuffix(out, ".gz") {
			zw := gzip.NewWriter(f)
			closers = append([]io.Closer{zw}, closers...)
			w = zw
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	jw := gen.NewJSONWriter(bw, format == "json")
	cfg := gen.Config{Flows: c.Int("flows"), Start: time.Unix(0, start), Span: span, Seed: c.Uint64("seed"),
		IPv6Share: c.Float64("ipv6"), Planted: c.Bool("planted")}
	truth := gen.Generate(cfg, func(r *flow.Record) {
		if err == nil {
			err = jw.Write(r)
		}
	})
	if err == nil {
		err = jw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	for _, cl := range closers {
		if cerr := cl.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("cannot write: %w", err)
	}
	if path := c.String("truth"); path != "" {
		if err := writeTruth(path, truth); err != nil {
			return fmt.Errorf("cannot write the truth: %w", err)
		}
	}
	return nil
}

func writeTruth(path string, truth *gen.Truth) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = truth.WriteJSON(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
