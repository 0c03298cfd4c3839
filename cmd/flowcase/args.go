package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves each command's flags in front of its positional
// arguments, so `flowcase ingest a.json --quiet` means what it says:
// urfave/cli v2 stops reading flags at the first positional argument.
// A "--" ends the flags; what follows it stays positional.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	flags, cmds := app.Flags, app.Commands
	rest := args[1:]
	for {
		var fl, pos []string
		var sub *cli.Command
		i := 0
		for ; i < len(rest); i++ {
			a := rest[i]
			if a == "--" {
				pos = append(pos, rest[i:]...)
				i = len(rest)
				break
			}
			if strings.HasPrefix(a, "-") && a != "-" {
				fl = append(fl, a)
				if takesValue(flags, a) && !strings.Contains(a, "=") && i+1 < len(rest) {
					i++
					fl = append(fl, rest[i])
				}
				continue
			}
			if len(pos) == 0 {
				if sub = findCommand(cmds, a); sub != nil {
					break
				}
			}
			pos = append(pos, a)
		}
		out = append(append(out, fl...), pos...)
		if sub == nil {
			return out
		}
		out = append(out, rest[i])
		flags, cmds = sub.Flags, sub.Subcommands
		rest = rest[i+1:]
	}
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the flag named in arg (-x, --x, --x=v)
// expects a value: every flag but booleans and help.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	if name == "help" || name == "h" {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

// seedFlags are the seed script's flags, which analyze keeps: the seed's
// argparse accepted any unique prefix of them (--flow, --out).
var seedFlags = []string{"flow-file", "byte-threshold", "scan-threshold", "output"}

// expandSeedPrefixes writes out the seed's flags that analyze's arguments
// give by a unique prefix, as argparse read them; flowcase's own names and
// everything after "--" are left as they are.
func expandSeedPrefixes(args []string) []string {
	// The command word: the first argument that is not a global flag or
	// its value ("--store analyze query ..." names a store, not analyze).
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if !strings.Contains(args[i], "=") && slices.Contains([]string{"--store", "-store", "--cpuprofile", "--memprofile"}, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) || args[i] != "analyze" {
		return args
	}
	out := slices.Clone(args)
	for j := i + 1; j < len(out); j++ {
		a := out[j]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" || slices.Contains(seedFlags, name) {
			continue
		}
		var match string
		n := 0
		for _, f := range seedFlags {
			if strings.HasPrefix(f, name) {
				match, n = f, n+1
			}
		}
		if n != 1 {
			continue
		}
		out[j] = "--" + match
		if hasValue {
			out[j] += "=" + value
		}
	}
	return out
}
