package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves each command's flags in front of its positional
// arguments, so `flowcase ingest a.json --quiet` means what it says:
// urfave/cli v2 stops reading flags at the first positional argument.
// A "--" ends the flags; what follows it stays positional. It also returns
// the first flag of one value given twice to one command ("--filter A
// --filter B" kept B alone, silently): "" when there is none.
//
// A word where a command must be named and none is (flowcase querry, query
// floww) is returned as unknown: cli's own message spoke of a help topic,
// or of the first flag after it.
func reorderArgs(app *cli.App, args []string) (ordered []string, repeated string, unknown *cli.Command, word string) {
	if len(args) == 0 {
		return args, "", nil, ""
	}
	out := []string{args[0]}
	flags, cmds := app.Flags, app.Commands
	rest := args[1:]
	parent := &cli.Command{Name: app.Name, Subcommands: app.Commands, Action: app.Action}
	for {
		var fl, pos []string
		var sub *cli.Command
		seen := map[string]bool{}
		strange := false
		i := 0
		for ; i < len(rest); i++ {
			a := rest[i]
			if a == "--" {
				pos = append(pos, rest[i:]...)
				i = len(rest)
				break
			}
			if strings.HasPrefix(a, "-") && a != "-" {
				if lookupFlag(flags, a) == nil && a != "--help" && a != "-h" {
					// A flag unknown here: whether it takes a value is not
					// known, so the next word is no command word to judge
					// (cli names the flag).
					strange = true
				}
				if f := lookupFlag(flags, a); f != nil && oneValue(f) {
					if name := f.Names()[0]; seen[name] && repeated == "" {
						repeated = "--" + name
					} else {
						seen[name] = true
					}
				}
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
				if len(cmds) > 0 && parent.Action == nil && unknown == nil && !strange && a != "help" && a != "h" {
					unknown, word = parent, a
				}
			}
			pos = append(pos, a)
		}
		out = append(append(out, fl...), pos...)
		if sub == nil {
			return out, repeated, unknown, word
		}
		parent = sub
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
	f := lookupFlag(flags, arg)
	_, isBool := f.(*cli.BoolFlag)
	return f != nil && !isBool
}

// lookupFlag returns the flag named in arg (-x, --x, --x=v), or nil.
func lookupFlag(flags []cli.Flag, arg string) cli.Flag {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// oneValue reports whether f holds one value, the last given: not a
// boolean (saying it twice says the same) nor a list.
func oneValue(f cli.Flag) bool {
	switch f.(type) {
	case *cli.BoolFlag, *cli.StringSliceFlag, *cli.IntSliceFlag, *cli.Int64SliceFlag, *cli.Float64SliceFlag, *cli.UintSliceFlag, *cli.Uint64SliceFlag:
		return false
	}
	return true
}

// helpWord reads "flowcase help [command...]" as "flowcase [command...]
// --help": the top level has no help command (it is hidden from the list),
// and cli answered "No help topic for 'help'".
func helpWord(args []string) []string {
	i := commandWord(args)
	if i >= len(args) || (args[i] != "help" && args[i] != "h") {
		return args
	}
	return append(append(slices.Clone(args[:i]), args[i+1:]...), "--help")
}

// commandWord is the index of the first argument that is not a global flag
// or its value ("--store analyze query ..." names a store, not analyze).
func commandWord(args []string) int {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if !strings.Contains(args[i], "=") && slices.Contains([]string{"--store", "-store", "--cpuprofile", "--memprofile"}, args[i]) {
			i++
		}
		i++
	}
	return i
}

// seedFlags are the seed script's flags, which analyze keeps: the seed's
// argparse accepted any unique prefix of them (--flow, --out).
var seedFlags = []string{"flow-file", "byte-threshold", "scan-threshold", "output"}

// expandSeedPrefixes writes out the seed's flags that analyze's arguments
// give by a unique prefix, as argparse read them; flowcase's own names and
// everything after "--" are left as they are.
func expandSeedPrefixes(args []string) []string {
	i := commandWord(args)
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
