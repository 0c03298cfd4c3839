package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/flowcase/flowcase/internal/bench"
	"github.com/urfave/cli/v2"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure ingest, store size, queries and the report against the goals, and against nfdump and the seed script",
		Description: "Generates N flows over D days (NDJSON, a JSON array, a NetFlow v9 capture), builds stores by\n" +
			"running this binary, repeats every measurement --runs times and prints medians and ratios\n" +
			"against the performance goals; --write puts the table into BENCHMARKS.md between its markers.\n" +
			"Peers where installed: the seed script (python3) and nfdump/nfcapd (on 127.0.0.1 only).",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "flows", Usage: fmt.Sprintf("background flows (default %d, %d with --large)", bench.DefaultFlows, bench.LargeFlows)},
			&cli.IntFlag{Name: "days", Value: bench.DefaultDays, Usage: "days the flows cover (at most 45)"},
			&cli.IntFlag{Name: "runs", Value: bench.DefaultRuns, Usage: "runs of every repeated measurement"},
			&cli.IntFlag{Name: "seed-flows", Usage: "flows given to the seed script (default --flows, at most 5M)"},
			&cli.IntFlag{Name: "seed-runs", Value: bench.DefaultSeedRuns, Usage: "runs of the seed script (its median is kept)"},
			&cli.StringFlag{Name: "seed-script", Value: bench.DefaultSeedScript, Usage: "the seed script"},
			&cli.StringFlag{Name: "out", Usage: "work directory, empty or new (default a temporary one)"},
			&cli.BoolFlag{Name: "keep", Usage: "keep the work directory (data and stores)"},
			&cli.StringFlag{Name: "write", Usage: "update this file (BENCHMARKS.md) between <!-- bench:begin --> and <!-- bench:end -->"},
			&cli.BoolFlag{Name: "large", Usage: "100M flows (takes hours and about 50 GB of scratch space)"},
			&cli.BoolFlag{Name: "skip-peers", Usage: "do not run the seed script nor nfdump"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("bench: unexpected arguments %q", c.Args().Slice())
			}
			for _, f := range []string{"flows", "days", "runs", "seed-flows", "seed-runs"} {
				if c.Int(f) < 0 {
					return usagef("--%s %d: want a positive number", f, c.Int(f))
				}
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("cannot find the flowcase binary: %w", err)
			}
			_, err = bench.Run(c.Context, bench.Config{
				Flows: c.Int("flows"), Days: c.Int("days"), Runs: c.Int("runs"), SeedFlows: c.Int("seed-flows"), SeedRuns: c.Int("seed-runs"),
				SeedScript: c.String("seed-script"), Out: c.String("out"), Keep: c.Bool("keep"), Write: c.String("write"),
				Large: c.Bool("large"), SkipPeers: c.Bool("skip-peers"), Binary: exe,
				Command: "flowcase " + strings.Join(os.Args[1:], " "), Log: c.App.ErrWriter, Stdout: c.App.Writer,
			})
			return err
		},
	}
}
