// Command flowcase is a forensic workbench for network flows: `ingest`
// builds a case store from evidence, `query` answers questions from it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is recorded with every ingested source and every report.
var version = "0.1.0-dev"

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitRejected = 3
)

// usageError marks errors in how the command was called (exit 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode carries a non-zero exit status without an error message of its own.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	ordered, repeated, parent, word := reorderArgs(app, expandSeedPrefixes(helpWord(args)))
	if parent != nil {
		var names []string
		for _, c := range parent.Subcommands {
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		path := "flowcase"
		if parent.Name != app.Name {
			path += " " + parent.Name
		}
		fmt.Fprintf(stderr, "flowcase: unknown command %q: the commands of %s are %s (%s --help)\n",
			word, path, strings.Join(names, ", "), path)
		return exitUsage
	}
	if i := commandWord(args); repeated != "" && !(i < len(args) && args[i] == "analyze") { // the seed's argparse took the last
		hint := ""
		if repeated == "--filter" {
			hint = " (join filters with 'and' in one --filter)"
		}
		fmt.Fprintf(stderr, "flowcase: %s given twice: it takes one value%s\n", repeated, hint)
		return exitUsage
	}
	err := app.Run(ordered)
	if err == nil {
		return exitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	fmt.Fprintf(stderr, "flowcase: %v\n", err)
	var u usageError
	if errors.As(err, &u) || isCLIUsage(err) {
		return exitUsage
	}
	return exitFailed
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "flowcase",
		Usage:     "a forensic workbench for network flows",
		Version:   version,
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{storeFlag(),
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile (pprof) to this file"},
			&cli.StringFlag{Name: "memprofile", Hidden: true, Usage: "write a heap profile (pprof) at exit to this file"},
		},
		Before: startProfiles,
		After:  stopProfiles,
		Commands: []*cli.Command{
			ingestCommand(),
			infoCommand(),
			queryCommand(),
			recoverCommand(),
			compactCommand(),
			analyzeCommand(),
			generateCommand(),
			benchCommand(),
		},
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return usageError{err}
		},
		ExitErrHandler:  func(*cli.Context, error) {},
		HideHelpCommand: true,
	}
	setUsageErrors(app.Commands)
	return app
}

func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = func(c *cli.Context, err error, isSub bool) error { return usageError{err} }
		if action := c.Action; action != nil && c.ArgsUsage == "" {
			// Commands that take no arguments refuse them: a filter given
			// without --filter was ignored, and the whole case answered.
			c.Action = func(ctx *cli.Context) error {
				if ctx.Args().Len() > 0 {
					return usagef("unexpected argument %q (flags take their values: --filter 'EXPR', --store DIR)", ctx.Args().First())
				}
				return action(ctx)
			}
		}
		setUsageErrors(c.Subcommands)
	}
}

// isCLIUsage recognises urfave/cli's own usage failures (an unknown
// command, a missing required flag, a flag value that does not parse).
func isCLIUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"Required flag", "No help topic", "flag provided but not defined", "invalid value"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
