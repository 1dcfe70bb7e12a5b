package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/report"
)

func init() {
	register(&cli.Command{
		Name:      "plot",
		Usage:     "figures of training runs: curves, optimizer diagnostics, low-data gaps, learning-rate sensitivity",
		ArgsUsage: "RUN_OR_SWEEP_FOLDER...",
		Description: `Reads run folders (or sweep folders, searched for run folders) and draws, as PNG and SVG
with the numbers behind each figure as CSV, into --to (default: FOLDER/plots for one folder):

  curves-test-accuracy, curves-test-loss, curves-train-loss   per epoch, mean ± std over seeds
  diag-alpha-mean, diag-alpha-std, diag-update-norm, diag-grad-norm
      NeuroPlastic's diagnostics per epoch (full versus grad-only), when runs have them
  lowdata-accuracy       final test accuracy against the training fraction (several fractions)
  lowdata-gap            its difference to --baseline per fraction, in points (with --baseline)
  lr-sensitivity         final test accuracy against the learning rate, log x (several lrs)

Runs equal in every resolved flag but the seed form one curve (runs that differ in
--n-train, --momentum or any other flag are different curves); a configuration's name
comes from its sweep (sweep.json), else from its optimizer (neuroplastic-grad-only for
the ablation), and each curve's label adds the flags that tell it apart from the other
curves of that name (e.g. "sgd, n-train 500").

Examples:
  plastic plot runs/mnist
  plastic plot --baseline grad-only runs/lowdata
  plastic plot --to figs runs/train-20261123T090000Z-s1-ab12 runs/train-20261123T091000Z-s1-cd34`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "folder of the figures (default: FOLDER/plots with one folder, else plots)"},
			&cli.StringFlag{Name: "baseline", Usage: "configuration the low-data gap is measured against (e.g. grad-only)"},
			&cli.StringFlag{Name: "title", Usage: "prefix of every figure's title (default: the data set and model)"},
		},
		Action: plotAction,
	})
}

func plotAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("plot: give at least one run or sweep folder")
	}
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("plot: %q after the folders: flags go first (plastic plot --to DIR --baseline NAME FOLDER...)", a)
		}
	}
	runs, err := report.Find(c.Args().Slice()...)
	if err != nil {
		return err
	}
	to := c.String("to")
	if to == "" {
		to = "plots"
		if c.NArg() == 1 {
			to = filepath.Join(c.Args().First(), "plots")
		}
	}
	files, err := report.DrawFigures(to, runs, c.String("baseline"), c.String("title"))
	if err != nil {
		return baselineFlag(err)
	}
	w := c.App.Writer
	if w == nil {
		w = os.Stdout
	}
	for _, f := range files {
		fmt.Fprintf(w, "wrote %s.png, .svg, .csv\n", f)
	}
	return nil
}

// baselineFlag names the --baseline flag in an error about the baseline of
// a comparison (report.ErrNoBaseline: `baseline "x": ...`).
func baselineFlag(err error) error {
	if errors.Is(err, report.ErrNoBaseline) {
		return fmt.Errorf("--%w", err)
	}
	return err
}
