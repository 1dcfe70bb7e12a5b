package experiments

import (
	"context"
	"fmt"

	"github.com/plasticity-lab/plastic/internal/param"

	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
)

// OptimalConfig is Appendix A.4/B: the closed-form MSE-optimal output rule
// against the perceptron rule, both under the update-all scheme (every
// example, every output row), and the perceptron under the default scheme
// (misclassified examples, true and predicted rows); T = 1, one pass.
type OptimalConfig struct {
	Data   string
	Net    Net // T = 1
	NTrain int
	Seeds  int
	Eta    float64
	Seed   int64
}

// DefaultOptimal is the paper's setting (MNIST, |V|=1000, k=500).
func DefaultOptimal() OptimalConfig {
	return OptimalConfig{Data: "mnist", Net: Net{Nodes: 1000, Cap: 500, T: 1}, NTrain: PaperTrainSize, Seeds: 1,
		Eta: plasticity.DefaultEta, Seed: 1}
}

func (c OptimalConfig) check() error {
	switch {
	case c.NTrain < 1:
		return fmt.Errorf("optimal: %w", param.Errorf("n-train", "%d: want >= 1", c.NTrain))
	case c.Seeds < 1:
		return fmt.Errorf("optimal: %w", param.Errorf("seeds", "%d: want >= 1", c.Seeds))
	case !(c.Eta > 0):
		return fmt.Errorf("optimal: %w", param.Errorf("eta", "%v: want > 0", c.Eta))
	case c.Net.T != 1:
		return fmt.Errorf("optimal: %w", param.Errorf("rounds", "%d: the closed form needs T = 1", c.Net.T))
	}
	return nil
}

// OptimalMethods are the compared trainings, in table order.
var OptimalMethods = []string{"optimal rule, update all", "perceptron, update all", "perceptron, default scheme"}

// OptimalRun is one seed's result.
type OptimalRun struct {
	Seed          int64
	Rule          []float64 // the optimal 2x2 rule [code][b]
	RuleMSE       float64   // its training MSE (the minimum)
	PerceptronMSE float64   // the perceptron's under the same scheme
	Train, Test   []float64 // per method (OptimalMethods order)
}

// OptimalResult is every seed and the per-method means.
type OptimalResult struct {
	Runs                []OptimalRun
	TrainMean, TestMean []float64
	Output
}

// Optimal runs the comparison and writes optimal_runs.csv, optimal.csv
// and a bar chart.
func Optimal(ctx context.Context, env Env, c OptimalConfig) (*OptimalResult, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	names, err := canonicalData([]string{c.Data})
	if err != nil {
		return nil, fmt.Errorf("optimal: %w", err)
	}
	p1, err := perceptron(1)
	if err != nil {
		return nil, err
	}
	res := &OptimalResult{}
	for s := 0; s < c.Seeds; s++ {
		seed := c.Seed + int64(s)
		trainSet, testSet, err := loadSet(names[0], env.DataDir, c.NTrain, seed)
		if err != nil {
			return nil, fmt.Errorf("optimal: %w", err)
		}
		net, err := c.Net.build(trainSet, false, seed)
		if err != nil {
			return nil, fmt.Errorf("optimal: %w", err)
		}
		rule, mse, err := plasticity.OptimalOutputRule(net, trainSet, c.Eta)
		if err != nil {
			return nil, fmt.Errorf("optimal: %w", err)
		}
		pmse, err := plasticity.OutputRuleMSE(net, trainSet, p1.Output, c.Eta)
		if err != nil {
			return nil, fmt.Errorf("optimal: %w", err)
		}
		run := OptimalRun{Seed: seed, Rule: append([]float64(nil), rule.Values...), RuleMSE: mse, PerceptronMSE: pmse}
		opt := &plasticity.RuleSet{Rounds: 1, Output: rule}
		all := plasticity.Scheme{Eta: c.Eta, EveryExample: true, AllRows: true}
		for mi, m := range []struct {
			rs *plasticity.RuleSet
			s  plasticity.Scheme
		}{{opt, all}, {p1, all}, {p1, plasticity.Scheme{Eta: c.Eta}}} {
			rr, err := trainRules(ctx, net, m.rs, m.s, trainSet, testSet, ruleRun{Passes: 1, Seed: seed})
			if err != nil {
				return nil, fmt.Errorf("optimal, %s: %w", OptimalMethods[mi], err)
			}
			run.Train, run.Test = append(run.Train, rr.TrainAcc), append(run.Test, rr.TestAcc)
			env.logf("optimal: seed %d, %s: train %.4f test %.4f", seed, OptimalMethods[mi], rr.TrainAcc, rr.TestAcc)
		}
		env.logf("optimal: seed %d: rule %v (MSE %.5g; perceptron under the same scheme: MSE %.5g)", seed, run.Rule, mse, pmse)
		m := map[string]float64{"seed": float64(seed), "rule_mse": mse, "perceptron_mse": pmse}
		for mi := range OptimalMethods {
			m[fmt.Sprintf("train_acc_%d", mi)], m[fmt.Sprintf("test_acc_%d", mi)] = run.Train[mi], run.Test[mi]
		}
		for i, v := range run.Rule {
			m[fmt.Sprintf("rule_%d_%d", i/2, i%2)] = v
		}
		if err := env.metric(m); err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, run)
	}
	runs := plots.NewTable("seed", "method", "train_acc", "test_acc", "rule_r00", "rule_r01", "rule_r10", "rule_r11", "rule_mse", "perceptron_mse")
	sum := plots.NewTable("method", "seeds", "train_mean", "train_sd", "test_mean", "test_sd", "paper")
	paper := []string{"about 89%", "88-89%", "92%"}
	for mi, name := range OptimalMethods {
		var tr, te []float64
		for _, r := range res.Runs {
			tr, te = append(tr, r.Train[mi]), append(te, r.Test[mi])
			if err := runs.Append(r.Seed, name, r.Train[mi], r.Test[mi], r.Rule[0], r.Rule[1], r.Rule[2], r.Rule[3], r.RuleMSE, r.PerceptronMSE); err != nil {
				return nil, err
			}
		}
		mtr, sdtr := meanStd(tr)
		mte, sdte := meanStd(te)
		res.TrainMean, res.TestMean = append(res.TrainMean, mtr), append(res.TestMean, mte)
		if err := sum.Append(name, len(te), mtr, sdtr, mte, sdte, paper[mi]); err != nil {
			return nil, err
		}
	}
	if err := res.table(env, "optimal_runs.csv", runs); err != nil {
		return nil, err
	}
	if err := res.table(env, "optimal.csv", sum); err != nil {
		return nil, err
	}
	err = res.figure(env, "optimal", plots.BarChart{
		Title:      fmt.Sprintf("Appendix B: closed-form MSE rule vs perceptron, %s, %s, one pass", c.Data, c.Net),
		XLabel:     "rule and update scheme",
		YLabel:     "accuracy",
		Categories: OptimalMethods,
		Groups:     []plots.BarGroup{{Name: "train", Values: res.TrainMean}, {Name: "test", Values: res.TestMean}},
		YMin:       0, YMax: 1, Width: 18 * vg.Centimeter,
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
