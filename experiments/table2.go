package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/plasticity-lab/plastic/internal/param"

	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
)

// Table2Variant is one row of Table 2.
type Table2Variant struct {
	Name string // "T=3", "T=1*", "T=1"
	T    int
	Ones bool // input weights A all ones
}

// Table2Variants are the paper's three rows.
var Table2Variants = []Table2Variant{{"T=3", 3, false}, {"T=1*", 1, true}, {"T=1", 1, false}}

// Reference figures of Table 2 (test accuracy): the paper's, and the
// authors' PyTorch code run on this machine with the same MNIST and
// protocol (5 seeds; T=3 was not run there: about 2 hours per run).
var (
	Table2Paper = map[string]map[string]float64{
		"mnist":         {"T=3": 0.87, "T=1*": 0.93, "T=1": 0.85},
		"fashion-mnist": {"T=3": 0.77, "T=1*": 0.81, "T=1": 0.70},
	}
	Table2AuthorsCode = map[string]map[string][]float64{
		"mnist": {
			"T=1":  {0.8488, 0.8021, 0.8342, 0.8160, 0.8182},
			"T=1*": {0.8734, 0.8523, 0.8596, 0.8806, 0.8684},
		},
	}
)

// Table2Config is Table 2's accuracy columns: |V|=1000, k=500, 2 passes
// over a random 10,000 training images, tested on the whole test set,
// for T=3 (a small-NN RNN rule plus the perceptron output rule), T=1* (the
// perceptron, A all ones) and T=1 (the perceptron), each over Seeds seeds
// (--seed, --seed+1, ...: a new subset, network and order for each).
type Table2Config struct {
	Data   []string // mnist, fashion-mnist (absent files: skipped with a note)
	Seeds  int
	Net    Net // |V|, k (T comes from the variant)
	Passes int
	NTrain int
	// T3Rules is a rule file for the T=3 row; "" learns it with T3Learn
	// (Appendix A.3: a small NN with 20 hidden units, learned on a
	// |V|=200, k=100 network, next to the fixed perceptron output rule;
	// candidates scored at Net's size unless T3Learn.Select is set). The
	// T=3 networks use T3Learn.Net's firing definition, learned rule or not.
	T3Rules string
	T3Learn RuleLearning
	Seed    int64
}

// DefaultTable2 is the paper's setting.
func DefaultTable2() Table2Config {
	return Table2Config{Data: []string{"mnist", "fashion-mnist"}, Seeds: 5, Net: Net{Nodes: 1000, Cap: 500}, Passes: 2,
		NTrain: PaperTrainSize, T3Learn: DefaultT3Learning(), Seed: 1}
}

// DefaultT3Learning learns Table 2's T=3 RNN rule: MNIST, |V|=200, k=100,
// top-k firing, a small NN with 20 hidden units, next to the fixed
// perceptron output rule, 2 outer epochs. Top-k firing (the authors' code):
// with the paper's definition meta-learning more often lands where rounds
// 2-3 are silent and the network predicts one class (6 of 8 seeds good
// against 8 of 8).
func DefaultT3Learning() RuleLearning {
	return RuleLearning{Data: "mnist", Net: Net{Nodes: 200, Cap: 100, T: 3}, Epochs: 2, Hidden: 20}
}

func (c Table2Config) check() error {
	switch {
	case c.Seeds < 1:
		return fmt.Errorf("table2: %w", param.Errorf("seeds", "%d: want >= 1", c.Seeds))
	case c.Passes < 1:
		return fmt.Errorf("table2: %w", param.Errorf("passes", "%d: want >= 1", c.Passes))
	case c.NTrain < 1:
		return fmt.Errorf("table2: %w", param.Errorf("n-train", "%d: want >= 1", c.NTrain))
	}
	return nil
}

// Table2Row is one variant on one data set.
type Table2Row struct {
	Data, Variant  string
	Seeds          []int64
	Train, Test    []float64
	TestMean       float64
	TestSD         float64
	Paper          float64 // NaN when the paper has no figure
	AuthorsCode    float64 // mean of the authors' code here; NaN when not measured
	AuthorsCodeRun []float64
}

// Table2Result is every row.
type Table2Result struct {
	Rows []Table2Row
	Output
}

// Table2 runs the experiment and writes table2_runs.csv (every seed),
// table2.csv (means beside the paper and the authors' code), a bar chart
// and the T=3 rule file.
func Table2(ctx context.Context, env Env, c Table2Config) (*Table2Result, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	names, err := canonicalData(c.Data)
	if err != nil {
		return nil, fmt.Errorf("table2: %w", err)
	}
	res := &Table2Result{}
	var present []string
	for _, n := range names {
		if isFileSet(n) && !filesPresent(n, env.DataDir) {
			_, _, err := loadSet(n, env.DataDir, c.NTrain, c.Seed)
			res.note(env, "%s skipped: %v", n, err)
			continue
		}
		present = append(present, n)
	}
	if len(present) == 0 {
		return nil, errors.New("table2: no data set could be loaded")
	}
	var t3 *plasticity.RuleSet
	if c.T3Rules != "" {
		if t3, err = loadRuleFile(c.T3Rules, 3); err != nil {
			return nil, fmt.Errorf("table2: %w", param.Errorf("t3 rules", "%w", err))
		}
	} else {
		p, err := perceptron(1)
		if err != nil {
			return nil, err
		}
		l := c.T3Learn
		l.Net.Firing = c.Net.Firing
		if l.Select.Nodes == 0 {
			l.Select = c.Net
		}
		if t3, err = env.rules("table2 T=3 rule", func() (*plasticity.RuleSet, error) {
			return LearnRNNRule(ctx, env, l, p, false, subSeed(c.Seed, "table2 T=3 rule"))
		}); err != nil {
			return nil, fmt.Errorf("table2, T=3 rule: %w", err)
		}
	}
	if err := plasticity.SaveRules(env.path("table2_rules_T3.json"), t3); err != nil {
		return nil, err
	}
	res.Rules = append(res.Rules, "table2_rules_T3.json")
	p1, err := perceptron(1)
	if err != nil {
		return nil, err
	}
	for di, dn := range present {
		for vi, v := range Table2Variants {
			row := Table2Row{Data: dn, Variant: v.Name, Paper: math.NaN(), AuthorsCode: math.NaN()}
			if p, ok := Table2Paper[dn][v.Name]; ok {
				row.Paper = p
			}
			if a, ok := Table2AuthorsCode[dn][v.Name]; ok {
				row.AuthorsCodeRun = a
				row.AuthorsCode, _ = meanStd(a)
			}
			rs := p1
			if v.T == 3 {
				rs = t3
			}
			// retrain is the re-training of one seed: its subset, network and order
			retrain := func(seed int64) (retraining, error) {
				trainSet, testSet, err := loadSet(dn, env.DataDir, c.NTrain, seed)
				if err != nil {
					return retraining{}, err
				}
				n := c.Net
				n.T, n.InputOnes = v.T, v.Ones
				net, err := n.build(trainSet, rs.Multiplicative, seed)
				return retraining{net, trainSet, testSet, ruleRun{Passes: c.Passes, Seed: seed}}, err
			}
			var onDevice []ruleResult
			if env.onDevice() {
				// the seeds' re-trainings: the networks of one device computation
				rts := make([]retraining, c.Seeds)
				for s := range rts {
					if rts[s], err = retrain(c.Seed + int64(s)); err != nil {
						return nil, fmt.Errorf("table2, %s %s seed %d: %w", dn, v.Name, c.Seed+int64(s), err)
					}
				}
				if onDevice, err = env.trainAll(ctx, rs, plasticity.Scheme{}, rts); err != nil {
					return nil, fmt.Errorf("table2, %s %s, re-trainings on the device: %w", dn, v.Name, err)
				}
			}
			for s := 0; s < c.Seeds; s++ {
				seed := c.Seed + int64(s)
				rr, err := unit(env, fmt.Sprintf("table2 %s %s seed %d", dn, v.Name, seed), func() (ruleResult, error) {
					if onDevice != nil {
						return onDevice[s], nil
					}
					rt, err := retrain(seed)
					if err != nil {
						return ruleResult{}, err
					}
					return trainRules(ctx, rt.net, rs, plasticity.Scheme{}, rt.train, rt.test, rt.run)
				})
				if err != nil {
					return nil, fmt.Errorf("table2, %s %s seed %d: %w", dn, v.Name, seed, err)
				}
				env.logf("table2: %s %s seed %d: train %.4f test %.4f", dn, v.Name, seed, rr.TrainAcc, rr.TestAcc)
				row.Seeds = append(row.Seeds, seed)
				row.Train = append(row.Train, rr.TrainAcc)
				row.Test = append(row.Test, rr.TestAcc)
				if err := env.metric(map[string]float64{"data": float64(di), "variant": float64(vi), "seed": float64(seed),
					"train_acc": rr.TrainAcc, "test_acc": rr.TestAcc}); err != nil {
					return nil, err
				}
			}
			row.TestMean, row.TestSD = meanStd(row.Test)
			res.Rows = append(res.Rows, row)
		}
	}
	if err := writeTable2(env, c, present, res); err != nil {
		return nil, err
	}
	return res, nil
}

func nanEmpty(v float64) any {
	if math.IsNaN(v) {
		return ""
	}
	return v
}

func writeTable2(env Env, c Table2Config, present []string, res *Table2Result) error {
	runs := plots.NewTable("data", "variant", "seed", "train_acc", "test_acc")
	sum := plots.NewTable("data", "variant", "seeds", "test_mean", "test_sd", "paper", "authors_code_mean", "authors_code_runs")
	for _, r := range res.Rows {
		for i := range r.Seeds {
			if err := runs.Append(r.Data, r.Variant, r.Seeds[i], r.Train[i], r.Test[i]); err != nil {
				return err
			}
		}
		ac := ""
		for i, a := range r.AuthorsCodeRun {
			if i > 0 {
				ac += " "
			}
			ac += fmt.Sprint(a)
		}
		if err := sum.Append(r.Data, r.Variant, len(r.Seeds), r.TestMean, r.TestSD, nanEmpty(r.Paper), nanEmpty(r.AuthorsCode), ac); err != nil {
			return err
		}
	}
	if err := res.table(env, "table2_runs.csv", runs); err != nil {
		return err
	}
	if err := res.table(env, "table2.csv", sum); err != nil {
		return err
	}
	var cats []string
	for _, v := range Table2Variants {
		cats = append(cats, v.Name)
	}
	var groups []plots.BarGroup
	for _, dn := range present {
		ours := plots.BarGroup{Name: "ours, " + dn + fmt.Sprintf(" (%d seeds)", c.Seeds)}
		paper := plots.BarGroup{Name: "paper, " + dn}
		hasPaper := true
		for _, v := range Table2Variants {
			for _, r := range res.Rows {
				if r.Data == dn && r.Variant == v.Name {
					ours.Values, ours.Err = append(ours.Values, r.TestMean), append(ours.Err, r.TestSD)
					if math.IsNaN(r.Paper) {
						hasPaper = false
					}
					paper.Values = append(paper.Values, r.Paper)
				}
			}
		}
		groups = append(groups, ours)
		if hasPaper {
			groups = append(groups, paper)
		}
	}
	return res.figure(env, "table2", plots.BarChart{
		Title:  fmt.Sprintf("Table 2: test accuracy, |V|=%d, k=%d, %d passes over %d examples", c.Net.Nodes, c.Net.Cap, c.Passes, c.NTrain),
		XLabel: "network", YLabel: "test accuracy", Categories: cats, Groups: groups, YMin: 0, YMax: 1,
		Width: 18 * vg.Centimeter,
	})
}
