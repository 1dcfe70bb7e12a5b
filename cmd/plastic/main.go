// Command plastic is the command line of the toolkit: data sets, rule-based
// training and rule learning (the plasticity paper), optimizer training (the
// NeuroPlastic paper), attacks, sweeps and plots.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/graph/gemm"
)

// commands holds every top-level command; each area of the toolkit adds its
// own from an init function in its own file, so no file lists them all.
var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

func newApp() *cli.App {
	for _, c := range commands {
		groupActions(c)
	}
	return &cli.App{
		Name:                 "plastic",
		Usage:                "learning with plasticity rules and the NeuroPlastic optimizer",
		Flags:                globalFlags(),
		Commands:             commands,
		EnableBashCompletion: true,
		// Gorgonia's BLAS is process-wide: chosen once, here, for every
		// command (the graphs of train, gd, rule, attack, demo, paper).
		Before: func(c *cli.Context) error {
			gemm.Use()
			if err := applyConfigs(c); err != nil {
				return err
			}
			return startCPUProfile(c)
		},
		After: stopCPUProfile,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c.App.Commands, "", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// groupActions gives every command group without an action of its own
// (plastic rule, data, paper) one that refuses an unknown subcommand.
func groupActions(cmd *cli.Command) {
	if len(cmd.Subcommands) > 0 && cmd.Action == nil {
		group := cmd
		cmd.Action = func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(group.Subcommands, group.Name, c.Args().First())
			}
			return cli.ShowSubcommandHelp(c)
		}
	}
	for _, sub := range cmd.Subcommands {
		groupActions(sub)
	}
}

// usageError is a command line that names no command or flag of plastic:
// exit status 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// unknownCommand says that name is no command of the group path (the
// top level when empty), suggesting the nearest one.
func unknownCommand(cmds []*cli.Command, path, name string) error {
	var names []string
	for _, c := range cmds {
		if c.Name != "help" && !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	where := strings.TrimSpace("plastic " + path)
	msg := fmt.Sprintf("unknown command %q", strings.TrimSpace(path+" "+name))
	if best := nearest(name, names); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return usageError{fmt.Errorf("%s (%s --help lists the commands)", msg, where)}
}

// nearest is the name closest to s by edit distance, if close enough to be
// a likely typo (at most 2 edits, or a third of the name).
func nearest(s string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := editDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if bestD > max(2, len(best)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (a swap counts 2).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// exitError ends plastic with its own exit status (a cell's train
// command's, say).
type exitError struct {
	error
	code int
}

func (e exitError) Unwrap() error { return e.error }

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "plastic:", err)
		var ue usageError
		var ee exitError
		switch {
		case errors.As(err, &ue):
			os.Exit(2)
		case errors.As(err, &ee) && ee.code > 0:
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
