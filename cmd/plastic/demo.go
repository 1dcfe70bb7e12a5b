package main

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/experiments"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
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

type demoRow struct {
	set            string
	ruleTr, ruleTe float64 // learned output rule
	percTr, percTe float64 // Perceptron rule
	gdTr, gdTe     float64 // Adam on the output layer
}

func demo(c *cli.Context) error {
	if c.Int("epochs") < 1 || c.Int("nodes") < 2 || c.Int("n-train") < 1 {
		return fmt.Errorf("--epochs=%d --nodes=%d --n-train=%d: want >= 1, >= 2, >= 1", c.Int("epochs"), c.Int("nodes"), c.Int("n-train"))
	}
	firing, err := firingOf(c)
	if err != nil {
		return err
	}
	r, ctx, _, err := startRun(c, "demo")
	if err != nil {
		return err
	}
	out, seed, dataDir := c.App.Writer, c.Int64(flagSeed), c.String(flagDataDir)
	logf := func(format string, a ...any) {
		if !c.Bool(flagQuiet) {
			fmt.Fprintf(out, format+"\n", a...)
		}
	}
	env := experiments.Env{Dir: r.Dir, DataDir: dataDir, Metrics: r.AppendMetrics}
	if !c.Bool(flagQuiet) {
		env.Log = out
	}
	logf("1/3 learning an output rule on Halfspace (|V|=100, k=50, T=1, %d epochs)", c.Int("epochs"))
	learned, err := experiments.LearnOutputRule(ctx, env, experiments.RuleLearning{
		Data: "halfspace", Net: experiments.Net{Nodes: 100, Cap: 50, T: 1, Firing: firing}, Epochs: c.Int("epochs"),
	}, seed)
	if err != nil {
		return fmt.Errorf("learning the output rule: %w", err)
	}
	if err := plasticity.SaveRules(r.Path("rules.json"), learned); err != nil {
		return err
	}
	printRules(out, learned)
	perceptron, err := plasticity.Builtin("perceptron")
	if err != nil {
		return err
	}

	sets := []string{"halfspace", "relu1"}
	if _, ok := data.FindMNIST(dataDir); ok && !c.Bool("no-mnist") {
		sets = append(sets, "mnist")
	} else if !c.Bool("no-mnist") {
		logf("MNIST files not found (looked in %s and the Go module cache): skipping MNIST", filepath.Join(dataDir, "mnist"))
	}
	nodes := c.Int("nodes")
	var rows []demoRow
	for i, name := range sets {
		logf("2/3 %s: training |V|=%d networks with the learned rule, the Perceptron rule and Adam", name, nodes)
		trainSet, testSet, err := demoData(name, dataDir, seed, c.Int("n-train"))
		if err != nil {
			return err
		}
		netSeed := seed + int64(100*(i+1))
		cfg := models.RNNConfig{Inputs: trainSet.Dim, Labels: max(2, trainSet.Classes), Nodes: nodes, P: 0.5, Cap: nodes / 2, T: 1, Firing: firing}
		row := demoRow{set: name}
		if row.ruleTr, row.ruleTe, err = demoRules(ctx, cfg, netSeed, learned, trainSet, testSet); err != nil {
			return fmt.Errorf("%s, learned rule: %w", name, err)
		}
		if row.percTr, row.percTe, err = demoRules(ctx, cfg, netSeed, perceptron, trainSet, testSet); err != nil {
			return fmt.Errorf("%s, perceptron rule: %w", name, err)
		}
		if row.gdTr, row.gdTe, err = demoGD(ctx, cfg, netSeed, trainSet, testSet); err != nil {
			return fmt.Errorf("%s, GD baseline: %w", name, err)
		}
		rows = append(rows, row)
		if err := r.AppendMetrics(map[string]float64{"set_index": float64(i), "learned_train_acc": row.ruleTr, "learned_test_acc": row.ruleTe,
			"perceptron_train_acc": row.percTr, "perceptron_test_acc": row.percTe, "gd_train_acc": row.gdTr, "gd_test_acc": row.gdTe}); err != nil {
			return err
		}
	}
	return demoReport(c, r.Dir, rows, r.Summary)
}

// demoData loads a data set with n training examples; MNIST gets a seeded
// random subset of its 60,000 training images (the paper's protocol).
func demoData(name, dir string, seed int64, n int) (*data.Set, *data.Set, error) {
	o := data.Options{Dir: dir, Seed: seed}
	if data.IsGenerated(name) {
		o.NTrain = n
	}
	tr, te, err := data.Load(name, o)
	if err != nil {
		return nil, nil, fmt.Errorf("--dataset=%s: %w", name, err)
	}
	if tr.N > n {
		tr, _ = data.Subset(tr, n, rand.New(rand.NewSource(seed)))
	}
	return tr, te, nil
}

// demoRules trains a fresh network with fixed rules for one pass.
func demoRules(ctx context.Context, cfg models.RNNConfig, seed int64, rs *plasticity.RuleSet, tr, te *data.Set) (float64, float64, error) {
	net, err := models.NewRNN(cfg, seed)
	if err != nil {
		return 0, 0, err
	}
	t, err := plasticity.NewTrainer(net, rs, plasticity.Scheme{})
	if err != nil {
		return 0, 0, err
	}
	defer t.Close()
	task, err := plasticity.NewTrainTask(t, tr, te, 1, 1000, false, seed)
	if err != nil {
		return 0, 0, err
	}
	var last map[string]float64
	if err := train.Run(ctx, task, train.Options{Hooks: []any{lastEpoch{&last}}}); err != nil {
		return 0, 0, err
	}
	return last["train_acc"], last["test_acc"], nil
}

// demoGD trains the same network's output layer by Adam for one epoch.
func demoGD(ctx context.Context, cfg models.RNNConfig, seed int64, tr, te *data.Set) (float64, float64, error) {
	net, err := models.NewRNN(cfg, seed)
	if err != nil {
		return 0, 0, err
	}
	gc := baseline.DefaultConfig()
	gc.Mode, gc.Epochs, gc.Seed = baseline.ModeOutput, 1, seed
	t, err := baseline.NewTrainer(net, gc)
	if err != nil {
		return 0, 0, err
	}
	defer t.Close()
	task, err := baseline.NewTask(t, tr, te)
	if err != nil {
		return 0, 0, err
	}
	var last map[string]float64
	if err := train.Run(ctx, task, train.Options{Hooks: []any{train.NaNCheck{}, lastEpoch{&last}}}); err != nil {
		return 0, 0, err
	}
	return last["train_acc"], last["test_acc"], nil
}

func demoReport(c *cli.Context, dir string, rows []demoRow, summary map[string]any) error {
	out := c.App.Writer
	fmt.Fprintln(out, "\n3/3 accuracy after one pass (train / test):")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "data set\tlearned output rule\tPerceptron rule\tGD (Adam, output layer)")
	tab := plots.NewTable("data_set", "learned_train", "learned_test", "perceptron_train", "perceptron_test", "gd_train", "gd_test")
	chart := plots.BarChart{Title: "demo: test accuracy after one pass", YLabel: "test accuracy", YMin: 0, YMax: 1,
		Groups: []plots.BarGroup{{Name: "learned rule"}, {Name: "Perceptron rule"}, {Name: "GD (Adam)"}}}
	results := map[string]any{}
	for _, w := range rows {
		fmt.Fprintf(tw, "%s\t%.3f / %.3f\t%.3f / %.3f\t%.3f / %.3f\n", w.set, w.ruleTr, w.ruleTe, w.percTr, w.percTe, w.gdTr, w.gdTe)
		if err := tab.Append(w.set, w.ruleTr, w.ruleTe, w.percTr, w.percTe, w.gdTr, w.gdTe); err != nil {
			return err
		}
		chart.Categories = append(chart.Categories, w.set)
		for g, v := range []float64{w.ruleTe, w.percTe, w.gdTe} {
			chart.Groups[g].Values = append(chart.Groups[g].Values, v)
		}
		results[w.set] = map[string]float64{"learned_train_acc": w.ruleTr, "learned_test_acc": w.ruleTe,
			"perceptron_train_acc": w.percTr, "perceptron_test_acc": w.percTe, "gd_train_acc": w.gdTr, "gd_test_acc": w.gdTe}
	}
	tw.Flush()
	if err := plots.WriteCSV(filepath.Join(dir, "demo.csv"), *tab); err != nil {
		return err
	}
	if err := plots.Save(filepath.Join(dir, "demo"), chart); err != nil {
		return err
	}
	summary["results"] = results
	fmt.Fprintf(out, "\nresults: %s (demo.csv, demo.png, rules.json, metrics.jsonl)\n", dir)
	return nil
}
