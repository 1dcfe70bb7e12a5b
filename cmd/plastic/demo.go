package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/experiments"
	"github.com/plasticity-lab/plastic/plasticity"
)

func init() { register(demoCmd()) }

func demoCmd() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "the toolkit in two minutes: learn an output rule, train with it on several data sets, compare",
		UsageText: `plastic demo
   plastic --seed 7 --out /tmp/runs demo --epochs 5
   plastic demo --no-mnist`,
		Description: `Runs on embedded defaults with no download:
  1. learns an output plasticity rule by gradient descent through rule-based training
     (Halfspace, |V|=100, k=50, T=1; the rule of the paper's Fig. 3);
  2. holds it fixed and trains fresh networks (|V|=--nodes, k=|V|/2, T=1, one pass) with it on
     Halfspace, ReLU1 and, when the GoMNIST files are found (they come with the Go module cache
     after 'go build'), a random 10,000 of MNIST's 60,000 training images;
  3. trains the same networks with the Perceptron rule, and the output layer by Adam (lr 1e-2,
     one epoch) as the gradient-descent baseline;
  4. prints train/test accuracy side by side and writes demo.csv, demo.png/.svg, rules.json
     and the run records into --out/<run-id>/.`,
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "epochs", Value: 3, Usage: "outer epochs of rule learning"},
			&cli.IntFlag{Name: "nodes", Value: 1000, Usage: "|V| of the networks trained with the rule (k = |V|/2)"},
			&cli.IntFlag{Name: "n-train", Value: experiments.PaperTrainSize, Usage: "training examples per data set"},
			&cli.BoolFlag{Name: "no-mnist", Usage: "skip MNIST even when its files are present"},
			firingFlag(),
		}, runFlags()...),
		Action: demo,
	}
}

func demo(c *cli.Context) error {
	cfg := experiments.DefaultDemo()
	cfg.Epochs, cfg.Nodes, cfg.NTrain, cfg.NoMNIST = c.Int("epochs"), c.Int("nodes"), c.Int("n-train"), c.Bool("no-mnist")
	cfg.Seed = c.Int64(flagSeed)
	var err error
	if cfg.Firing, err = firingOf(c); err != nil {
		return err
	}
	r, ctx, _, err := startRun(c, "demo")
	if err != nil {
		return err
	}
	out := c.App.Writer
	env := experiments.Env{Dir: r.Dir, DataDir: c.String(flagDataDir), Metrics: r.AppendMetrics}
	if !c.Bool(flagQuiet) {
		env.Log = out
	}
	cfg.OnRules = func(rs *plasticity.RuleSet) error {
		printRules(out, rs)
		return nil
	}
	res, err := experiments.Demo(ctx, env, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\n3/3 accuracy after one pass (train / test):")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "data set\tlearned output rule\tPerceptron rule\tGD (Adam, output layer)")
	results := map[string]any{}
	for _, w := range res.Rows {
		fmt.Fprintf(tw, "%s\t%.3f / %.3f\t%.3f / %.3f\t%.3f / %.3f\n", w.Data, w.LearnedTrain, w.LearnedTest, w.PerceptronTrain, w.PerceptronTest, w.GDTrain, w.GDTest)
		results[w.Data] = map[string]float64{"learned_train_acc": w.LearnedTrain, "learned_test_acc": w.LearnedTest,
			"perceptron_train_acc": w.PerceptronTrain, "perceptron_test_acc": w.PerceptronTest, "gd_train_acc": w.GDTrain, "gd_test_acc": w.GDTest}
	}
	tw.Flush()
	r.Summary["results"] = results
	fmt.Fprintf(out, "\nresults: %s (demo.csv, demo.png, rules.json, metrics.jsonl)\n", r.Dir)
	return nil
}
