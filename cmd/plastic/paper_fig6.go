package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
)

// `plastic paper fig6`: Fig. 6, every example vs misclassified only.
func init() {
	d := experiments.DefaultFig6()
	flags := []cli.Flag{
		&cli.StringFlag{Name: "data", Value: d.Data, Usage: "data set"},
		&cli.IntFlag{Name: "nodes", Value: d.Net.Nodes, Usage: "|V|"},
		&cli.IntFlag{Name: "cap", Value: d.Net.Cap, Usage: "k"},
		&cli.IntFlag{Name: "rounds", Value: d.Net.T, Usage: "T"},
		&cli.IntFlag{Name: "n-train", Value: d.NTrain, Usage: "training examples"},
		&cli.IntFlag{Name: "passes", Value: d.Passes, Usage: "passes over them"},
		&cli.IntFlag{Name: "every", Value: d.Every, Usage: "test every N samples"},
		&cli.IntFlag{Name: "eval-n", Value: d.EvalN, Usage: "test examples of the curve (0: all)"},
		&cli.StringFlag{Name: "rules", Usage: "T=3 rule file (e.g. table2_rules_T3.json of a table2 run) instead of learning one"},
	}
	flags = append(flags, learnFlags("t3-", "T=3 RNN rule (next to the fixed perceptron output rule)", d.Learn)...)
	flags = append(flags, firingFlag())
	registerPaper(&cli.Command{
		Name:  "fig6",
		Usage: "Fig. 6: T=3, |V|=1000, k=500 on MNIST, updating on every example vs only on misclassified ones",
		UsageText: "plastic [global options] paper fig6 [options]\n\nExamples:\n" +
			"  plastic --config configs/fig6.flags paper fig6\n" +
			"  plastic paper fig6 --rules runs/ID/table2_rules_T3.json",
		Description: "Trains the same network three times with the same rules (by default Table 2's T=3 rules, learned as\n" +
			"`paper table2` learns them with the same --seed): updating only after misclassified examples, after every\n" +
			"example, and after every example as the authors' code does (a right prediction updates the true label's\n" +
			"row with both output-rule columns). --firing both for learning the rule and for training.\n" +
			"Writes fig6.csv, fig6.png/.svg and the rule file.",
		Flags: append(flags, runFlags()...),
		Action: func(c *cli.Context) error {
			cfg := experiments.DefaultFig6()
			cfg.Data, cfg.Rules = c.String("data"), c.String("rules")
			cfg.Net.Nodes, cfg.Net.Cap, cfg.Net.T = c.Int("nodes"), c.Int("cap"), c.Int("rounds")
			firing, err := firingOf(c)
			if err != nil {
				return err
			}
			cfg.Net.Firing = firing
			cfg.NTrain, cfg.Passes, cfg.Every, cfg.EvalN = c.Int("n-train"), c.Int("passes"), c.Int("every"), c.Int("eval-n")
			cfg.Learn, cfg.Seed = learnFrom(c, "t3-", cfg.Learn), c.Int64(flagSeed)
			return runExperiment(c, "paper-fig6", func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
				res, err := experiments.Fig6(ctx, env, cfg)
				if err != nil {
					return nil, nil, err
				}
				fmt.Fprintf(c.App.Writer, "final test accuracy (whole test set): misclassified only %.4f, every example %.4f, every example with both columns when right (the authors' code) %.4f\n",
					res.MisclassifiedFinal, res.EveryFinal, res.EveryBothFinal)
				return map[string]any{"misclassified_test_acc": res.MisclassifiedFinal, "every_test_acc": res.EveryFinal,
					"every_both_columns_test_acc": res.EveryBothFinal, "every_both_columns_train_acc": res.EveryBothTrain,
					"misclassified_train_acc": res.MisclassifiedTrain, "every_train_acc": res.EveryTrain,
					"misclassified_curve": res.Misclassified, "every_curve": res.Every}, &res.Output, nil
			})
		},
	})
}
