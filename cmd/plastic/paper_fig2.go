package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
)

// `plastic paper fig2`: Fig. 2, output rule vs Adam on the output weights.
func init() {
	d := experiments.DefaultFig2()
	registerPaper(&cli.Command{
		Name:  "fig2",
		Usage: "Fig. 2: output rule vs Adam (lr 1e-2) on the output weights, test accuracy against samples seen",
		UsageText: "plastic [global options] paper fig2 [options]\n\nExamples:\n" +
			"  plastic --config configs/fig2.flags paper fig2\n" +
			"  plastic paper fig2 --rules runs/ID/fig3_rules_T1.json --n-train 5000",
		Description: "Trains the same simple RNN (T=1, |V|=1000, k=500 by default; A ~ N(0,1)) twice on a random\n" +
			"--n-train images of MNIST: with the output rule (misclassified examples, one at a time) and with Adam\n" +
			"(mini-batches of --batch) on the output weights U and c. Every --every samples both are tested on the\n" +
			"first --eval-n test images; at the end on the whole test set. Writes fig2.csv and fig2.png/.svg.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "data", Value: d.Data, Usage: "data set"},
			&cli.StringFlag{Name: "rules", Usage: "output rule file or built-in (default: the perceptron)"},
			&cli.IntFlag{Name: "nodes", Value: d.Net.Nodes, Usage: "|V|"},
			&cli.IntFlag{Name: "cap", Value: d.Net.Cap, Usage: "k"},
			&cli.IntFlag{Name: "n-train", Value: d.NTrain, Usage: "training examples (a random subset of file sets)"},
			&cli.IntFlag{Name: "passes", Value: d.Passes, Usage: "passes over them"},
			&cli.IntFlag{Name: "every", Value: d.Every, Usage: "test every N samples (a multiple of --batch)"},
			&cli.IntFlag{Name: "eval-n", Value: d.EvalN, Usage: "test examples of the curve (0: all)"},
			&cli.Float64Flag{Name: "lr", Value: d.LR, Usage: "Adam learning rate"},
			&cli.IntFlag{Name: "batch", Value: d.Batch, Usage: "Adam mini-batch"},
			firingFlag(),
		}, runFlags()...),
		Action: func(c *cli.Context) error {
			cfg := experiments.DefaultFig2()
			firing, err := firingOf(c)
			if err != nil {
				return err
			}
			cfg.Net.Firing = firing
			cfg.Data, cfg.Rules = c.String("data"), c.String("rules")
			cfg.Net.Nodes, cfg.Net.Cap = c.Int("nodes"), c.Int("cap")
			cfg.NTrain, cfg.Passes, cfg.Every, cfg.EvalN = c.Int("n-train"), c.Int("passes"), c.Int("every"), c.Int("eval-n")
			cfg.LR, cfg.Batch, cfg.Seed = c.Float64("lr"), c.Int("batch"), c.Int64(flagSeed)
			return runExperiment(c, "paper-fig2", func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
				res, err := experiments.Fig2(ctx, env, cfg)
				if err != nil {
					return nil, nil, err
				}
				fmt.Fprintf(c.App.Writer, "final test accuracy (whole test set): output rule %.4f, Adam %.4f\n", res.RuleFinalTest, res.GDFinalTest)
				return map[string]any{"rule_test_acc": res.RuleFinalTest, "adam_test_acc": res.GDFinalTest, "rule_curve": res.Rule, "adam_curve": res.GD}, &res.Output, nil
			})
		},
	})
}
