package experiments

import (
	"context"
	"fmt"
	"math/rand"

	"github.com/plasticity-lab/plastic/internal/param"

	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
)

// Fig2Config is Fig. 2: the same simple RNN (T = 1, |V| = 1000) trained by
// an output rule and, separately, by Adam (lr 1e-2) on its output weights;
// test accuracy against the number of training samples seen.
type Fig2Config struct {
	Data   string // "mnist"
	Net    Net    // |V|=1000, k=500, T=1
	Rules  string // rule file or built-in; "" = the perceptron
	NTrain int    // training examples (a random 10,000 of MNIST's 60,000)
	Passes int    // passes over them (both methods)
	Every  int    // measure test accuracy every Every samples
	EvalN  int    // on the first EvalN test examples (0: all); the final figures use all
	LR     float64
	Batch  int // Adam mini-batch
	Seed   int64
}

// DefaultFig2 is the paper's setting.
func DefaultFig2() Fig2Config {
	return Fig2Config{Data: "mnist", Net: Net{Nodes: 1000, Cap: 500, T: 1}, NTrain: PaperTrainSize, Passes: 1,
		Every: 500, EvalN: 2000, LR: 1e-2, Batch: 100, Seed: 1}
}

func (c Fig2Config) check() error {
	switch {
	case c.NTrain < 1:
		return fmt.Errorf("fig2: %w", param.Errorf("n-train", "%d: want >= 1", c.NTrain))
	case c.Passes < 1:
		return fmt.Errorf("fig2: %w", param.Errorf("passes", "%d: want >= 1", c.Passes))
	case c.Batch < 1:
		return fmt.Errorf("fig2: %w", param.Errorf("batch", "%d: want >= 1", c.Batch))
	case c.Every < c.Batch || c.Every%c.Batch != 0:
		return fmt.Errorf("fig2: %w", param.Errorf("every", "%d: want a positive multiple of the batch, %d (both methods are measured at the same sample counts)", c.Every, c.Batch))
	case !(c.LR > 0):
		return fmt.Errorf("fig2: %w", param.Errorf("lr", "%v: want > 0", c.LR))
	case c.EvalN < 0:
		return fmt.Errorf("fig2: %w", param.Errorf("eval-n", "%d: want >= 0", c.EvalN))
	}
	return nil
}

// Fig2Result holds both curves and the final test accuracies (whole test set).
type Fig2Result struct {
	Rule, GD                   []Point
	RuleFinalTest, GDFinalTest float64
	Output
}

// Fig2 runs the experiment and writes fig2.csv and fig2.png/.svg.
func Fig2(ctx context.Context, env Env, c Fig2Config) (*Fig2Result, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	names, err := canonicalData([]string{c.Data})
	if err != nil {
		return nil, fmt.Errorf("fig2: %w", err)
	}
	trainSet, testSet, err := loadSet(names[0], env.DataDir, c.NTrain, c.Seed)
	if err != nil {
		return nil, fmt.Errorf("fig2: %w", err)
	}
	var rs *plasticity.RuleSet
	if c.Rules == "" {
		rs, err = perceptron(c.Net.T)
	} else {
		rs, err = loadRuleFile(c.Rules, c.Net.T)
	}
	if err != nil {
		return nil, fmt.Errorf("fig2: %w", err)
	}
	if m := plasticity.SilentRounds(rs); m != "" {
		env.logf("fig2: warning: %s", m)
	}
	net, err := c.Net.build(trainSet, rs.Multiplicative, c.Seed)
	if err != nil {
		return nil, fmt.Errorf("fig2: %w", err)
	}
	evalSet := testSubset(testSet, c.EvalN)
	res := &Fig2Result{}

	env.logf("fig2: output rule, %s, %d examples x %d passes", c.Net, trainSet.N, c.Passes)
	rr, err := trainRules(ctx, net, rs, plasticity.Scheme{}, trainSet, testSet, ruleRun{
		Passes: c.Passes, Seed: c.Seed, CurveEvery: c.Every, CurveSet: evalSet})
	if err != nil {
		return nil, fmt.Errorf("fig2, rule: %w", err)
	}
	res.Rule, res.RuleFinalTest = rr.Curve, rr.TestAcc

	env.logf("fig2: Adam (lr %g, batch %d) on the output weights", c.LR, c.Batch)
	if res.GD, res.GDFinalTest, err = fig2GD(ctx, net, c, trainSet, testSet, evalSet); err != nil {
		return nil, fmt.Errorf("fig2, Adam: %w", err)
	}
	for i := range res.Rule {
		m := map[string]float64{"samples": float64(res.Rule[i].Samples), "rule_test_acc": res.Rule[i].Acc}
		if i < len(res.GD) && res.GD[i].Samples == res.Rule[i].Samples {
			m["adam_test_acc"] = res.GD[i].Acc
		}
		if err := env.metric(m); err != nil {
			return nil, err
		}
	}
	if err := writeFig2(env, c, res); err != nil {
		return nil, err
	}
	return res, nil
}

// fig2GD trains the output weights of a copy of net by Adam and measures
// the accuracy on evalSet every c.Every samples, and on testSet at the end.
func fig2GD(ctx context.Context, net *models.RNN, c Fig2Config, trainSet, testSet, evalSet *data.Set) ([]Point, float64, error) {
	gnet := net.Clone()
	baseline.Init(gnet, baseline.ModeOutput, rand.New(rand.NewSource(c.Seed)))
	cfg := baseline.DefaultConfig()
	cfg.Mode, cfg.LR, cfg.Batch, cfg.Epochs, cfg.Seed = baseline.ModeOutput, c.LR, c.Batch, c.Passes, c.Seed
	tr, err := baseline.NewTrainer(gnet, cfg)
	if err != nil {
		return nil, 0, err
	}
	defer tr.Close()
	task, err := baseline.NewTask(tr, trainSet, testSet)
	if err != nil {
		return nil, 0, err
	}
	measure := func(samples int64, set *data.Set) (float64, error) {
		n, err := tr.Network()
		if err != nil {
			return 0, err
		}
		return baseline.Accuracy(n, set)
	}
	acc0, err := measure(0, evalSet)
	if err != nil {
		return nil, 0, err
	}
	curve := []Point{{0, acc0}}
	var next int64 = int64(c.Every)
	hook := train.Every{N: 1, F: func(s *train.State) error {
		if s.Samples < next && !(s.Epoch == s.Epochs && s.Step == s.StepsPerEpoch) {
			return nil
		}
		next = s.Samples + int64(c.Every)
		acc, err := measure(s.Samples, evalSet)
		if err != nil {
			return err
		}
		curve = append(curve, Point{s.Samples, acc})
		return nil
	}}
	var last map[string]float64
	if err := train.Run(ctx, task, train.Options{Hooks: []any{train.NaNCheck{}, hook, epochEnd(func(s *train.State) error {
		last = s.EpochMetrics
		return nil
	})}}); err != nil {
		return nil, 0, err
	}
	return curve, last["test_acc"], nil
}

func writeFig2(env Env, c Fig2Config, res *Fig2Result) error {
	tab := plots.NewTable("method", "samples", "test_acc")
	for _, s := range []struct {
		name string
		pts  []Point
	}{{"rule", res.Rule}, {"adam", res.GD}} {
		for _, p := range s.pts {
			if err := tab.Append(s.name, p.Samples, p.Acc); err != nil {
				return err
			}
		}
	}
	if err := tab.Append("rule-final-full-test", int64(c.Passes*c.NTrain), res.RuleFinalTest); err != nil {
		return err
	}
	if err := tab.Append("adam-final-full-test", int64(c.Passes*c.NTrain), res.GDFinalTest); err != nil {
		return err
	}
	if err := res.table(env, "fig2.csv", tab); err != nil {
		return err
	}
	series := func(name string, pts []Point) plots.Series {
		s := plots.Series{Name: name}
		for _, p := range pts {
			s.X = append(s.X, float64(p.Samples))
			s.Y = append(s.Y, p.Acc)
		}
		return s
	}
	rname := "output rule (perceptron)"
	if c.Rules != "" {
		rname = "output rule (" + c.Rules + ")"
	}
	return res.figure(env, "fig2", plots.LineChart{
		Title:  fmt.Sprintf("Fig. 2: %s, %s, output rule vs Adam (lr %g) on U", c.Data, c.Net, c.LR),
		XLabel: "training samples seen", YLabel: "test accuracy",
		Series: []plots.Series{series(rname, res.Rule), series(fmt.Sprintf("Adam on U (batch %d)", c.Batch), res.GD)},
		Refs:   []plots.Ref{{Name: "chance", Y: 0.1}},
		Width:  18 * vg.Centimeter,
	})
}
