package experiments

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
)

// DemoConfig is `plastic demo`, the toolkit in two minutes: learn an
// output rule on Halfspace (|V|=100, k=50, T=1, Fig. 3's rule), hold it
// fixed and train fresh networks (|V| = Nodes, k = |V|/2, T = 1, one pass)
// with it on Halfspace, ReLU1 and MNIST (when its files are found), beside
// the Perceptron rule and Adam on the output layer (lr 1e-2, one epoch).
type DemoConfig struct {
	Epochs int // outer epochs of rule learning
	Nodes  int // |V| of the networks trained with the rule
	NTrain int // training examples per data set (MNIST: a seeded random subset)
	// NoMNIST skips MNIST even when its files are present.
	NoMNIST bool
	Firing  models.Firing
	Seed    int64
	// OnRules, when set, gets the learned rule set before the networks are
	// trained (plastic prints it there).
	OnRules func(*plasticity.RuleSet) error
}

// DefaultDemo is what `plastic demo` runs.
func DefaultDemo() DemoConfig {
	return DemoConfig{Epochs: 3, Nodes: 1000, NTrain: PaperTrainSize, Seed: 1}
}

func (c DemoConfig) check() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("demo: %w", param.Errorf("epochs", "%d: want >= 1", c.Epochs))
	case c.Nodes < 2:
		return fmt.Errorf("demo: %w", param.Errorf("nodes", "%d: want >= 2", c.Nodes))
	case c.NTrain < 1:
		return fmt.Errorf("demo: %w", param.Errorf("n-train", "%d: want >= 1", c.NTrain))
	}
	return nil
}

// DemoRow is the train and test accuracy of the three methods on one data set.
type DemoRow struct {
	Data                            string
	LearnedTrain, LearnedTest       float64 // the learned output rule
	PerceptronTrain, PerceptronTest float64 // the Perceptron rule
	GDTrain, GDTest                 float64 // Adam on the output layer
}

// DemoResult is the learned rule set and a row per data set.
type DemoResult struct {
	Rules *plasticity.RuleSet
	Rows  []DemoRow
	Output
}

// Demo runs the demo and writes rules.json, demo.csv and demo.png/.svg
// into env.Dir, one metrics line per data set.
func Demo(ctx context.Context, env Env, c DemoConfig) (*DemoResult, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	env.logf("1/3 learning an output rule on Halfspace (|V|=100, k=50, T=1, %d epochs)", c.Epochs)
	learned, err := LearnOutputRule(ctx, env, RuleLearning{
		Data: "halfspace", Net: Net{Nodes: 100, Cap: 50, T: 1, Firing: c.Firing}, Epochs: c.Epochs,
	}, c.Seed)
	if err != nil {
		return nil, fmt.Errorf("learning the output rule: %w", err)
	}
	res := &DemoResult{Rules: learned}
	if err := plasticity.SaveRules(env.path("rules.json"), learned); err != nil {
		return nil, err
	}
	res.Output.Rules = append(res.Output.Rules, "rules.json")
	if c.OnRules != nil {
		if err := c.OnRules(learned); err != nil {
			return nil, err
		}
	}
	perceptron, err := plasticity.Builtin("perceptron")
	if err != nil {
		return nil, err
	}

	sets := []string{"halfspace", "relu1"}
	if _, ok := data.FindMNIST(env.DataDir); ok && !c.NoMNIST {
		sets = append(sets, "mnist")
	} else if !c.NoMNIST {
		env.logf("MNIST files not found (looked in %s and the Go module cache): skipping MNIST", filepath.Join(env.DataDir, "mnist"))
	}
	for i, name := range sets {
		env.logf("2/3 %s: training |V|=%d networks with the learned rule, the Perceptron rule and Adam", name, c.Nodes)
		trainSet, testSet, err := demoData(name, env.DataDir, c.Seed, c.NTrain)
		if err != nil {
			return nil, err
		}
		netSeed := c.Seed + int64(100*(i+1))
		cfg := models.RNNConfig{Inputs: trainSet.Dim, Labels: max(2, trainSet.Classes), Nodes: c.Nodes, P: 0.5, Cap: c.Nodes / 2, T: 1, Firing: c.Firing}
		row := DemoRow{Data: name}
		if row.LearnedTrain, row.LearnedTest, err = demoRules(ctx, cfg, netSeed, learned, trainSet, testSet); err != nil {
			return nil, fmt.Errorf("%s, learned rule: %w", name, err)
		}
		if row.PerceptronTrain, row.PerceptronTest, err = demoRules(ctx, cfg, netSeed, perceptron, trainSet, testSet); err != nil {
			return nil, fmt.Errorf("%s, perceptron rule: %w", name, err)
		}
		if row.GDTrain, row.GDTest, err = demoGD(ctx, cfg, netSeed, trainSet, testSet); err != nil {
			return nil, fmt.Errorf("%s, GD baseline: %w", name, err)
		}
		res.Rows = append(res.Rows, row)
		if err := env.metric(map[string]float64{"set_index": float64(i), "learned_train_acc": row.LearnedTrain, "learned_test_acc": row.LearnedTest,
			"perceptron_train_acc": row.PerceptronTrain, "perceptron_test_acc": row.PerceptronTest, "gd_train_acc": row.GDTrain, "gd_test_acc": row.GDTest}); err != nil {
			return nil, err
		}
	}

	tab := plots.NewTable("data_set", "learned_train", "learned_test", "perceptron_train", "perceptron_test", "gd_train", "gd_test")
	chart := plots.BarChart{Title: "demo: test accuracy after one pass", YLabel: "test accuracy", YMin: 0, YMax: 1,
		Groups: []plots.BarGroup{{Name: "learned rule"}, {Name: "Perceptron rule"}, {Name: "GD (Adam)"}}}
	for _, w := range res.Rows {
		if err := tab.Append(w.Data, w.LearnedTrain, w.LearnedTest, w.PerceptronTrain, w.PerceptronTest, w.GDTrain, w.GDTest); err != nil {
			return nil, err
		}
		chart.Categories = append(chart.Categories, w.Data)
		for g, v := range []float64{w.LearnedTest, w.PerceptronTest, w.GDTest} {
			chart.Groups[g].Values = append(chart.Groups[g].Values, v)
		}
	}
	if err := res.table(env, "demo.csv", tab); err != nil {
		return nil, err
	}
	if err := res.figure(env, "demo", chart); err != nil {
		return nil, err
	}
	return res, nil
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
		return nil, nil, fmt.Errorf("data set %s: %w", name, err)
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
	if err := train.Run(ctx, task, train.Options{Hooks: []any{epochEnd(func(s *train.State) error { last = s.EpochMetrics; return nil })}}); err != nil {
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
	if err := train.Run(ctx, task, train.Options{Hooks: []any{train.NaNCheck{}, epochEnd(func(s *train.State) error { last = s.EpochMetrics; return nil })}}); err != nil {
		return 0, 0, err
	}
	return last["train_acc"], last["test_acc"], nil
}
