package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
)

// `plastic paper classic`: Table 1's rules and Theorems 1 and 3.
func init() {
	d := experiments.DefaultClassic()
	var pairs []string
	for _, p := range d.Pairs {
		pairs = append(pairs, fmt.Sprintf("%g:%g", p[0], p[1]))
	}
	registerPaper(&cli.Command{
		Name:  "classic",
		Usage: "Table 1 (Perceptron, Multiplicative Weights), Theorem 1's sign pattern from random starts, Theorem 3's mistake bound",
		UsageText: "plastic [global options] paper classic [options]\n\nExamples:\n" +
			"  plastic --config configs/classic.flags paper classic\n" +
			"  plastic paper classic --pairs 1:1,1:1.2,1:2 --draws 10 --starts 0",
		Description: "Table 1: the Perceptron rule [[-1,1],[1,-1]] trains a linear threshold unit on a halfspace in\n" +
			"{-1,1}^n (unit w*, sum(w*) = 0, points with |w*.x| >= --margin), Multiplicative Weights [[1,1],[2,1/2]]\n" +
			"(threshold n) on a monotone halfspace in {0,1}^n, both to convergence; the toolkit's built-in output\n" +
			"rules of the same names train a T=1 simple RNN on the same data. Theorem 1: GD on a T=1 output table\n" +
			"rule from --starts random N(0,1) starts (Halfspace, zero weights per batch); the fraction that ends\n" +
			"with the sign pattern [[-,+],[+,-]]. Theorem 3: mistakes of [[-a,a],[b,-b]] until convergence for every\n" +
			"--pairs a:b on --draws data sets, beside the paper's bound (b^2 n + 2(b-a) sqrt n)/(a gamma)^2 and the\n" +
			"bound derived in `go doc ./experiments Theorem3Bounds`. Writes classic.csv, theorem1.csv,\n" +
			"theorem3.csv, classic.png/.svg and theorem3.png/.svg.",
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "dim", Value: d.Dim, Usage: "n, input dimension"},
			&cli.IntFlag{Name: "relevant", Value: d.Relevant, Usage: "inputs the {0,1}^n target depends on"},
			&cli.IntFlag{Name: "n-train", Value: d.NTrain, Usage: "training points"},
			&cli.IntFlag{Name: "n-test", Value: d.NTest, Usage: "test points"},
			&cli.Float64Flag{Name: "margin", Value: d.MinMargin, Usage: "keep only points with |w*.x - bias| >= this"},
			&cli.IntFlag{Name: "max-passes", Value: d.MaxPasses, Usage: "passes until convergence at most"},
			&cli.IntFlag{Name: "draws", Value: d.Draws, Usage: "data sets per Theorem 3 pair"},
			&cli.StringSliceFlag{Name: "pairs", Value: cli.NewStringSlice(pairs...), Usage: "Theorem 3's a:b pairs, b >= a > 0"},
			&cli.IntFlag{Name: "starts", Value: d.Starts, Usage: "Theorem 1: random starts (0 skips)"},
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "|V| of the RNN of Theorem 1 and of the built-in rules"},
			&cli.IntFlag{Name: "cap", Value: d.Cap, Usage: "k of that RNN"},
			&cli.IntFlag{Name: "meta-epochs", Value: d.MetaEpochs, Usage: "Theorem 1: meta-learning epochs"},
			&cli.IntFlag{Name: "meta-n", Value: d.MetaN, Usage: "Theorem 1: Halfspace training examples"},
			firingFlag(),
		}, runFlags()...),
		Action: func(c *cli.Context) error {
			cfg := experiments.DefaultClassic()
			firing, err := firingOf(c)
			if err != nil {
				return err
			}
			cfg.Firing = firing
			cfg.Dim, cfg.Relevant, cfg.NTrain, cfg.NTest = c.Int("dim"), c.Int("relevant"), c.Int("n-train"), c.Int("n-test")
			cfg.MinMargin, cfg.MaxPasses, cfg.Draws = c.Float64("margin"), c.Int("max-passes"), c.Int("draws")
			cfg.Starts, cfg.Nodes, cfg.Cap = c.Int("starts"), c.Int("nodes"), c.Int("cap")
			cfg.MetaEpochs, cfg.MetaN, cfg.Seed = c.Int("meta-epochs"), c.Int("meta-n"), c.Int64(flagSeed)
			cfg.Pairs = nil
			for _, s := range paperDataList(c, "pairs") {
				a, b, ok := strings.Cut(s, ":")
				av, err1 := strconv.ParseFloat(a, 64)
				bv, err2 := strconv.ParseFloat(b, 64)
				if !ok || err1 != nil || err2 != nil {
					return fmt.Errorf("--pairs %q: want a:b, e.g. 1:1.5", s)
				}
				cfg.Pairs = append(cfg.Pairs, [2]float64{av, bv})
			}
			return runExperiment(c, "paper-classic", func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
				res, err := experiments.Classic(ctx, env, cfg)
				if err != nil {
					return nil, nil, err
				}
				w := c.App.Writer
				for _, r := range res.Rules {
					fmt.Fprintf(w, "%s on %s: train %.4f test %.4f", r.Rule, r.Data, r.TrainAcc, r.TestAcc)
					if r.Mistakes >= 0 {
						fmt.Fprintf(w, ", %d mistakes, converged %v after %d passes", r.Mistakes, r.Converged, r.Passes)
					}
					fmt.Fprintln(w)
				}
				if cfg.Starts > 0 {
					fmt.Fprintf(w, "Theorem 1: %.0f%% of %d random starts reach [[-,+],[+,-]]\n", 100*res.Theorem1Fraction, cfg.Starts)
				}
				fmt.Fprintf(w, "Theorem 3: %d runs, bound violations: %v\n", len(res.Theorem3), res.Theorem3Violations)
				return map[string]any{"rules_results": res.Rules, "theorem1_fraction": res.Theorem1Fraction, "theorem1_rules": res.Theorem1Rules,
					"theorem3_violations": res.Theorem3Violations}, &res.Output, nil
			})
		},
	})
}
