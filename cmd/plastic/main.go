// Command plastic is the command line of the toolkit: data sets, rule-based
// training and rule learning (the plasticity paper), optimizer training (the
// NeuroPlastic paper), attacks, sweeps and plots.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/graph/gemm"
)

// commands holds every top-level command; each area of the toolkit adds its
// own from an init function in its own file, so no file lists them all.
var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

func newApp() *cli.App {
	return &cli.App{
		Name:                 "plastic",
		Usage:                "learning with plasticity rules and the NeuroPlastic optimizer",
		Flags:                globalFlags(),
		Commands:             commands,
		EnableBashCompletion: true,
		// Gorgonia's BLAS is process-wide: chosen once, here, for every
		// command (the graphs of train, gd, rule, attack, demo, paper).
		Before: func(c *cli.Context) error { gemm.Use(); return applyConfigs(c) },
	}
}

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "plastic:", err)
		os.Exit(1)
	}
}
