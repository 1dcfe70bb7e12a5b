package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
)

// `plastic paper fig3`: Fig. 3, cross-task generalization of learned rules.
func init() {
	d := experiments.DefaultFig3()
	flags := []cli.Flag{
		&cli.StringSliceFlag{Name: "data", Value: cli.NewStringSlice(d.Data...), Usage: "data sets (comma-separated or repeated); file sets whose files are absent are skipped with a note"},
		&cli.IntFlag{Name: "repeats", Value: d.Repeats, Usage: "shuffled re-trainings per network and data set"},
		&cli.IntFlag{Name: "jobs", Value: 0, Usage: "re-trainings run in parallel (0: the number of CPUs); results do not depend on it"},
		&cli.IntFlag{Name: "n-train", Value: d.NTrain, Usage: "training examples per data set"},
		&cli.IntFlag{Name: "passes", Value: d.Passes, Usage: "passes per re-training"},
		&cli.IntFlag{Name: "small-nodes", Value: d.Small.Nodes, Usage: "|V| of the small networks"},
		&cli.IntFlag{Name: "small-cap", Value: d.Small.Cap, Usage: "k of the small networks"},
		&cli.IntFlag{Name: "large-nodes", Value: d.Large.Nodes, Usage: "|V| of the large networks"},
		&cli.IntFlag{Name: "large-cap", Value: d.Large.Cap, Usage: "k of the large networks"},
		&cli.StringFlag{Name: "output-rules", Usage: "use this T=1 rule file instead of learning the Halfspace output rule"},
		&cli.StringFlag{Name: "rnn-rules", Usage: "use this T=3 rule file instead of learning the ReLU1 rules"},
		&cli.StringFlag{Name: "rnn-output-init", Value: d.RNNOutputInit, Usage: "T=3 output rule (where its learning starts with --rnn-learn-output): halfspace (the learned T=1 rule), zeros (the authors' code) or perceptron"},
		&cli.BoolFlag{Name: "rnn-learn-output", Value: d.RNNLearnOutput, Usage: "learn the T=3 output rule next to the RNN rule (--rnn-learn-output=false: keep --rnn-output-init's)"},
		&cli.IntFlag{Name: "rnn-restarts", Value: d.RNNRestarts, Usage: "initial RNN rules the T=3 learning starts from; the rules with the best validation accuracy over all of them are kept"},
		&cli.BoolFlag{Name: "rnn-select-large", Value: d.RNNSelectLarge, Usage: "score the T=3 candidate rules on the large network too (default: three draws of the small one)"},
	}
	flags = append(flags, learnFlags("output-", "T=1 output rule", d.OutputLearn)...)
	flags = append(flags, learnFlags("rnn-", "T=3 rule set", d.RNNLearn)...)
	flags = append(flags, firingFlag())
	registerPaper(&cli.Command{
		Name:  "fig3",
		Usage: "Fig. 3: rules learned on Halfspace / ReLU1 re-train small and large, T=1 and T=3 networks on six data sets",
		UsageText: "plastic [global options] paper fig3 [options]\n\nExamples:\n" +
			"  plastic --config configs/fig3.flags paper fig3\n" +
			"  plastic paper fig3 --data halfspace,relu1,relu2,rnn-labelled --repeats 3 --jobs 2",
		Description: "Learns an output table rule on Halfspace (|V|=100, k=50, T=1) and an RNN table rule plus output\n" +
			"rule (from zeros) on ReLU1 (|V|=100, k=50, T=3) by meta-learning, as the authors' code, from --rnn-restarts\n" +
			"initial RNN rules, keeping the rules with the best accuracy on held-out ReLU1 examples; holds them fixed, and\n" +
			"trains four networks (small |V|=100 k=50 and large |V|=1000 k=500, T=1 with the Halfspace rule and T=3 with\n" +
			"the ReLU1 rules) on every data set (10,000 training examples; a random 10,000 of MNIST/Fashion-MNIST),\n" +
			"--repeats times in a freshly shuffled order, one pass, updates on misclassified examples. Writes fig3_runs.csv\n" +
			"(every re-training), fig3.csv (mean and sd of train/test accuracy, chance = majority rate), fig3_rulecheck.csv\n" +
			"(initial against learned T=3 rules on new ReLU1 networks), fig3_test and fig3_train bar charts and both rule\n" +
			"files. --firing for every network (rule learning included). The paper's small-NN RNN rule next to the fixed\n" +
			"perceptron: --rnn-learn-param nn --rnn-output-init perceptron --rnn-learn-output=false.",
		Flags: append(append(flags, runFlags()...), paperExecutorFlags()...),
		Action: func(c *cli.Context) error {
			cfg := experiments.DefaultFig3()
			cfg.Data, cfg.Repeats, cfg.Jobs = paperDataList(c, "data"), c.Int("repeats"), c.Int("jobs")
			cfg.NTrain, cfg.Passes = c.Int("n-train"), c.Int("passes")
			cfg.Small = experiments.Net{Nodes: c.Int("small-nodes"), Cap: c.Int("small-cap")}
			cfg.Large = experiments.Net{Nodes: c.Int("large-nodes"), Cap: c.Int("large-cap")}
			cfg.OutputRules, cfg.RNNRules = c.String("output-rules"), c.String("rnn-rules")
			cfg.OutputLearn = learnFrom(c, "output-", cfg.OutputLearn)
			cfg.RNNLearn = learnFrom(c, "rnn-", cfg.RNNLearn)
			cfg.RNNOutputInit, cfg.RNNLearnOutput = c.String("rnn-output-init"), c.Bool("rnn-learn-output")
			cfg.RNNRestarts, cfg.RNNSelectLarge = c.Int("rnn-restarts"), c.Bool("rnn-select-large")
			firing, err := firingOf(c)
			if err != nil {
				return err
			}
			cfg.Firing = firing
			cfg.Seed = c.Int64(flagSeed)
			return runPaperExperiment(c, "paper-fig3", func(ctx context.Context, env experiments.Env) (map[string]any, *experiments.Output, error) {
				res, err := experiments.Fig3(ctx, env, cfg)
				if err != nil {
					return nil, nil, err
				}
				w := c.App.Writer
				fmt.Fprintf(w, "%-24s %-14s %-17s %-17s %s\n", "model", "data", "train (mean+-sd)", "test (mean+-sd)", "chance")
				cells := map[string]any{}
				for _, cell := range res.Cells {
					fmt.Fprintf(w, "%-24s %-14s %.4f +- %.4f  %.4f +- %.4f  %.4f\n", cell.Model, cell.Data, cell.TrainMean, cell.TrainSD, cell.TestMean, cell.TestSD, cell.Chance)
					cells[cell.Model+" / "+cell.Data] = map[string]any{"train_mean": cell.TrainMean, "train_sd": cell.TrainSD,
						"test_mean": cell.TestMean, "test_sd": cell.TestSD, "chance": cell.Chance, "train": cell.Train, "test": cell.Test}
				}
				fmt.Fprintf(w, "large T=3 beats large T=1 (mean test accuracy): %v\n", res.LargeT3BeatsT1)
				sum := map[string]any{"cells": cells, "data": res.Data, "large_t3_beats_t1": res.LargeT3BeatsT1, "below_chance": res.BelowChance}
				var checks []any
				for _, rc := range res.RuleCheck {
					fmt.Fprintf(w, "T=3 rules on %s, %s: initial %.4f, learned %.4f, majority %.4f (mean test accuracy of %d re-trainings)\n",
						rc.Data, rc.Net, rc.InitialMean, rc.LearnedMean, rc.Chance, len(rc.Learned))
					checks = append(checks, map[string]any{"data": rc.Data, "net": rc.Net.String(), "initial": rc.Initial, "learned": rc.Learned,
						"initial_mean": rc.InitialMean, "learned_mean": rc.LearnedMean, "chance": rc.Chance})
				}
				if checks != nil {
					sum["rule_check"] = checks
				}
				if len(res.BelowChance) > 0 {
					fmt.Fprintf(w, "not above chance: %v\n", res.BelowChance)
				}
				return sum, &res.Output, nil
			})
		},
	})
}
