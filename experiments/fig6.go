package experiments

import (
	"context"
	"fmt"

	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
)

// Fig6Config is Fig. 6 (Appendix A.4): the same T=3, |V|=1000, k=500
// network trained with the same rules, updating after every example versus
// only after misclassified ones; test accuracy against samples seen. A
// third curve updates after every example as the authors' code does (a
// right prediction updates the true label's row with both output-rule
// columns, plasticity.Scheme.BothColumns).
type Fig6Config struct {
	Data   string
	Net    Net // T = 3
	NTrain int
	Passes int
	Every  int // measure every Every samples
	EvalN  int // on the first EvalN test examples (0: all); final figures use all
	// Rules is a T=3 rule file (e.g. table2_rules_T3.json of a table2
	// run); "" learns one with Learn, as Table 2 does (scored at Net's
	// size). Net's firing definition is used for learning as well.
	Rules string
	Learn RuleLearning
	Seed  int64
}

// DefaultFig6 is the paper's setting.
func DefaultFig6() Fig6Config {
	return Fig6Config{Data: "mnist", Net: Net{Nodes: 1000, Cap: 500, T: 3}, NTrain: PaperTrainSize, Passes: 1,
		Every: 500, EvalN: 2000, Learn: DefaultT3Learning(), Seed: 1}
}

func (c Fig6Config) check() error {
	switch {
	case c.NTrain < 1:
		return fmt.Errorf("fig6: %w", param.Errorf("n-train", "%d: want >= 1", c.NTrain))
	case c.Passes < 1:
		return fmt.Errorf("fig6: %w", param.Errorf("passes", "%d: want >= 1", c.Passes))
	case c.Every < 1:
		return fmt.Errorf("fig6: %w", param.Errorf("every", "%d: want >= 1", c.Every))
	case c.EvalN < 0:
		return fmt.Errorf("fig6: %w", param.Errorf("eval-n", "%d: want >= 0", c.EvalN))
	case c.Net.T < 2:
		return fmt.Errorf("fig6: %w", param.Errorf("rounds", "%d: want >= 2 (the figure is about T=3)", c.Net.T))
	}
	return nil
}

// Fig6Result holds both curves and the final accuracies on the whole test set.
type Fig6Result struct {
	Misclassified, Every           []Point
	MisclassifiedFinal, EveryFinal float64
	MisclassifiedTrain, EveryTrain float64
	// EveryBoth is every-example training with plasticity.Scheme's
	// BothColumns: a right prediction updates the true label's row with
	// both output-rule columns, as the authors' code does.
	EveryBoth                      []Point
	EveryBothFinal, EveryBothTrain float64
	Output
}

// Fig6 runs the experiment and writes fig6.csv, fig6.png/.svg and the rule file.
func Fig6(ctx context.Context, env Env, c Fig6Config) (*Fig6Result, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	names, err := canonicalData([]string{c.Data})
	if err != nil {
		return nil, fmt.Errorf("fig6: %w", err)
	}
	trainSet, testSet, err := loadSet(names[0], env.DataDir, c.NTrain, c.Seed)
	if err != nil {
		return nil, fmt.Errorf("fig6: %w", err)
	}
	res := &Fig6Result{}
	var rs *plasticity.RuleSet
	if c.Rules != "" {
		rs, err = loadRuleFile(c.Rules, c.Net.T)
	} else {
		var p *plasticity.RuleSet
		if p, err = perceptron(1); err == nil {
			l := c.Learn
			l.Net.T, l.Net.Firing = c.Net.T, c.Net.Firing
			if l.Select.Nodes == 0 {
				l.Select = c.Net
			}
			rs, err = LearnRNNRule(ctx, env, l, p, false, subSeed(c.Seed, "table2 T=3 rule"))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fig6, rules: %w", err)
	}
	if err := plasticity.SaveRules(env.path("fig6_rules.json"), rs); err != nil {
		return nil, err
	}
	res.Rules = append(res.Rules, "fig6_rules.json")
	net, err := c.Net.build(trainSet, rs.Multiplicative, c.Seed)
	if err != nil {
		return nil, fmt.Errorf("fig6: %w", err)
	}
	evalSet := testSubset(testSet, c.EvalN)
	for _, v := range []struct {
		name            string
		s               plasticity.Scheme
		curve           *[]Point
		final, trainAcc *float64
	}{
		{"misclassified only", plasticity.Scheme{}, &res.Misclassified, &res.MisclassifiedFinal, &res.MisclassifiedTrain},
		{"every example", plasticity.Scheme{EveryExample: true}, &res.Every, &res.EveryFinal, &res.EveryTrain},
		{"every example, both columns when right", plasticity.Scheme{EveryExample: true, BothColumns: true}, &res.EveryBoth, &res.EveryBothFinal, &res.EveryBothTrain},
	} {
		env.logf("fig6: %s, %s", v.name, c.Net)
		rrs, err := env.trainAll(ctx, rs, v.s, []retraining{{net, trainSet, testSet, ruleRun{
			Passes: c.Passes, Seed: c.Seed, CurveEvery: c.Every, CurveSet: evalSet}}})
		if err != nil {
			return nil, fmt.Errorf("fig6, %s: %w", v.name, err)
		}
		rr := rrs[0]
		env.logf("fig6: %s: train %.4f test %.4f", v.name, rr.TrainAcc, rr.TestAcc)
		*v.curve, *v.final, *v.trainAcc = rr.Curve, rr.TestAcc, rr.TrainAcc
	}
	for i, p := range res.Misclassified {
		m := map[string]float64{"samples": float64(p.Samples), "misclassified_test_acc": p.Acc}
		if i < len(res.Every) {
			m["every_test_acc"] = res.Every[i].Acc
		}
		if i < len(res.EveryBoth) {
			m["every_both_test_acc"] = res.EveryBoth[i].Acc
		}
		if err := env.metric(m); err != nil {
			return nil, err
		}
	}
	tab := plots.NewTable("scheme", "samples", "test_acc")
	for _, s := range []struct {
		name string
		pts  []Point
	}{{"misclassified", res.Misclassified}, {"every", res.Every}, {"every-both-columns", res.EveryBoth}} {
		for _, p := range s.pts {
			if err := tab.Append(s.name, p.Samples, p.Acc); err != nil {
				return nil, err
			}
		}
	}
	total := int64(c.Passes * trainSet.N)
	for _, r := range []struct {
		name string
		acc  float64
	}{{"misclassified-final-full-test", res.MisclassifiedFinal}, {"every-final-full-test", res.EveryFinal},
		{"every-both-columns-final-full-test", res.EveryBothFinal}} {
		if err := tab.Append(r.name, total, r.acc); err != nil {
			return nil, err
		}
	}
	if err := res.table(env, "fig6.csv", tab); err != nil {
		return nil, err
	}
	series := func(name string, pts []Point) plots.Series {
		s := plots.Series{Name: name}
		for _, p := range pts {
			s.X, s.Y = append(s.X, float64(p.Samples)), append(s.Y, p.Acc)
		}
		return s
	}
	err = res.figure(env, "fig6", plots.LineChart{
		Title:  fmt.Sprintf("Fig. 6: %s, %s: update on every example vs misclassified only", c.Data, c.Net),
		XLabel: "training samples seen", YLabel: fmt.Sprintf("test accuracy (%d test examples)", evalSet.N),
		Series: []plots.Series{series("misclassified only", res.Misclassified), series("every example", res.Every),
			series("every example, both columns when right (authors' code)", res.EveryBoth)},
		Refs:  []plots.Ref{{Name: "chance", Y: 0.1}},
		Width: 18 * vg.Centimeter,
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
