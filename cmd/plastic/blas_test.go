package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"github.com/plasticity-lab/plastic/graph/gemm"
)

// TestEveryCommandUsesTheFastBLAS: the app chooses Gorgonia's BLAS once,
// before any command runs, so demo and paper * (which never called
// gemm.Use themselves) build their graphs on graph/gemm like train, gd,
// rule and attack. Each leaf command's Action is replaced by a probe that
// records the BLAS in place when it would have started.
func TestEveryCommandUsesTheFastBLAS(t *testing.T) {
	defer G.Use(gonum.Implementation{})
	app := newApp()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	var leaves [][]string
	var probe func(cmds []*cli.Command, path []string) []*cli.Command
	probe = func(cmds []*cli.Command, path []string) []*cli.Command {
		var out []*cli.Command
		for _, c := range cmds {
			cp := *c
			cp.Before, cp.Flags = nil, nil // no flag is needed to reach the probe
			p := append(append([]string(nil), path...), c.Name)
			cp.Subcommands = probe(c.Subcommands, p)
			if c.Action != nil {
				leaves = append(leaves, p)
				cp.Action = func(cc *cli.Context) error {
					if !gemm.InUse() {
						t.Errorf("plastic %s runs on %T, not graph/gemm", strings.Join(p, " "), G.WhichBLAS())
					}
					return nil
				}
			}
			out = append(out, &cp)
		}
		return out
	}
	app.Commands = probe(app.Commands, nil)
	seen := map[string]bool{}
	for _, p := range leaves {
		G.Use(gonum.Implementation{})
		if err := app.Run(append([]string{"plastic", "-q", "--out", t.TempDir()}, p...)); err != nil {
			t.Fatalf("plastic %s: %v", strings.Join(p, " "), err)
		}
		seen[strings.Join(p, " ")] = true
	}
	for _, want := range []string{"demo", "paper fig2", "paper table2", "paper evolve", "train", "gd train", "rule learn", "attack"} {
		if !seen[want] {
			t.Errorf("command %q not probed (have %v)", want, seen)
		}
	}
}

// TestPaperCommandRunsOnTheFastBLAS runs a real paper command from a state
// where gonum's BLAS is installed.
func TestPaperCommandRunsOnTheFastBLAS(t *testing.T) {
	defer G.Use(gonum.Implementation{})
	G.Use(gonum.Implementation{})
	out, err := runRule(t, "paper", "evolve")
	if err != nil {
		t.Fatalf("paper evolve: %v\n%s", err, out)
	}
	if !gemm.InUse() {
		t.Fatalf("after plastic paper evolve the BLAS is %T, not graph/gemm", G.WhichBLAS())
	}
}
