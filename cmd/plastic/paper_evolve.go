package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
)

// `plastic paper evolve`: Appendix C, the evolution of a plasticity
// coefficient set by many genes, next to GD on the coefficient and the two
// candidate first-order steps (experiments.Evolve, package evolution).

const evolveDescription = `Simulates Appendix C: n two-allele genes per coefficient set the trait
Y = eps * sum_i (2 x_i - 1); under weak selection theta the allele
frequencies follow the exact recursion x_i' = x_i (1 + theta (L(Y) - L(Y|+))) / Z.
Beside it, from the same start, the command runs its first-order step
x_i' = x_i - theta x_i (1 - x_i) dL/dx_i (the one that holds), the paper's
claimed step with the factor (2 - 2 x_i) (which does not), plain GD on Y
with rate theta eps^2 n, and, with --population N > 0, a Wright-Fisher
population of N individuals (seeded by --seed). For the quadratic loss the
recursion rests at Y* n/(n-1), O(eps) from the minimum Y* that GD on Y and
the first-order step reach (derivation and tests: go doc ./evolution).

Losses:
  quadratic  L(Y) = sum_c (Y_c - target_c)^2 (one coefficient per --target)
  rule       the test cross-entropy of a simple RNN (--nodes, --cap, --rounds)
             trained for one pass over --examples Halfspace points with an
             output rule: --rule-coefficients scale (one coefficient Y times
             the sign pattern [[-1, 1], [1, -1]] of Theorem 1) or table (every
             entry of the 2^T x 2 output rule is its own coefficient)

Writes, in the run folder under --out: trajectories.csv (the trait of every
method per generation and coefficient), trajectories.png and .svg (one
figure per coefficient, trajectories_Y1.png ..., when there are several),
metrics.jsonl (a line per generation: every method's trait and loss) and
summary.json (final traits and losses; for the quadratic loss also the
recursion's predicted rest point Y* n/(n-1)).`

func init() {
	d := experiments.DefaultEvolve()
	registerPaper(&cli.Command{
		Name:        "evolve",
		Usage:       "Appendix C: evolution of a plasticity coefficient versus GD",
		UsageText:   "plastic [global options] paper evolve [options]",
		Description: evolveDescription + "\n\nExamples:\n" + evolveExamples,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "loss", Value: d.Loss, Usage: "`LOSS` of the trait: quadratic or rule"},
			&cli.IntFlag{Name: "genes", Value: d.Genes, Usage: "`n`, genes per coefficient"},
			&cli.Float64Flag{Name: "eps", Value: d.Eps, Usage: "effect of one allele on its coefficient (the trait lies in (-eps*n, eps*n))"},
			&cli.Float64Flag{Name: "theta", Value: d.Theta, Usage: "selection strength (weak selection: every fitness 1 + theta*(L(Y)-L(.)) must stay > 0)"},
			&cli.IntFlag{Name: "generations", Value: d.Generations, Usage: "number of generations"},
			&cli.IntFlag{Name: "population", Value: d.Population, Usage: "Wright-Fisher population size `N`; 0 runs the deterministic recursion only"},
			&cli.Float64SliceFlag{Name: "start", Usage: "initial trait per coefficient (one value is used for all; default -0.5 for quadratic, 0.05 for rule)"},
			&cli.Float64SliceFlag{Name: "target", Usage: "quadratic loss: the minimum Y*, one value per coefficient (default 0.4)"},
			&cli.StringFlag{Name: "rule-coefficients", Value: d.RuleCoefs, Usage: "rule loss: `scale` (one coefficient scales the sign pattern) or table (one per output-rule entry)"},
			&cli.IntFlag{Name: "nodes", Value: d.Nodes, Usage: "rule loss: |V| of the simple RNN"},
			&cli.IntFlag{Name: "cap", Value: d.Cap, Usage: "rule loss: k, nodes firing per round"},
			&cli.IntFlag{Name: "rounds", Value: d.Rounds, Usage: "rule loss: T, firing rounds"},
			&cli.IntFlag{Name: "examples", Value: d.Examples, Usage: "rule loss: Halfspace training points (and as many test points)"},
		}, runFlags()...),
		Action: paperEvolve,
	})
}

const evolveExamples = `  plastic paper evolve
  plastic --seed 3 paper evolve --genes 40 --eps 0.025 --theta 1 --population 2000 --generations 500
  plastic paper evolve --target 0.3 --target -0.2 --start 0 --generations 1000
  plastic paper evolve --loss rule --genes 20 --eps 0.02 --theta 2 --generations 60 --population 500
  plastic paper evolve --loss rule --rule-coefficients table --genes 10 --eps 0.02 --theta 1 --generations 60`

func paperEvolve(c *cli.Context) error {
	cfg := experiments.EvolveConfig{
		Loss: c.String("loss"), Genes: c.Int("genes"), Eps: c.Float64("eps"), Theta: c.Float64("theta"),
		Generations: c.Int("generations"), Population: c.Int("population"),
		Start: c.Float64Slice("start"), Target: c.Float64Slice("target"),
		RuleCoefs: c.String("rule-coefficients"), Nodes: c.Int("nodes"), Cap: c.Int("cap"),
		Rounds: c.Int("rounds"), Examples: c.Int("examples"), Seed: c.Int64(flagSeed),
	}
	return runExperiment(c, "paper-evolve", func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
		res, err := experiments.Evolve(ctx, env, cfg)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprint(c.App.Writer, describeFinal(res))
		return res.Final, &res.Output, nil
	})
}

func describeFinal(res *experiments.EvolveResult) string {
	var b strings.Builder
	for _, name := range res.Methods {
		fmt.Fprintf(&b, "%-12s Y = %v, loss %.6g\n", name, fmtVec(res.Final["y_"+name].([]float64)), res.Final["loss_"+name])
	}
	return b.String()
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.5f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
