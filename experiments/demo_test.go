package experiments

import (
	"context"
	"errors"
	"testing"

	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/plasticity"
)

// TestDemo: a small demo learns a rule (handed to OnRules before the
// networks train), trains on Halfspace and ReLU1 (MNIST skipped), writes
// its files and a metrics line per set; the rule learned on Halfspace does
// clearly better than chance there. Bad sizes are parameter errors.
func TestDemo(t *testing.T) {
	env := testEnv(t)
	var lines int
	env.Metrics = func(map[string]float64) error { lines++; return nil }
	c := DefaultDemo()
	c.Epochs, c.Nodes, c.NTrain, c.NoMNIST, c.Seed = 1, 60, 1000, true, 3
	var handed *plasticity.RuleSet
	c.OnRules = func(rs *plasticity.RuleSet) error { handed = rs; return nil }
	res, err := Demo(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, env, res.Output)
	if handed == nil || handed != res.Rules {
		t.Error("OnRules did not get the learned rule set")
	}
	if len(res.Rows) != 2 || res.Rows[0].Data != "halfspace" || res.Rows[1].Data != "relu1" || lines < 2 {
		t.Fatalf("rows %+v, %d metrics lines", res.Rows, lines)
	}
	if r := res.Rows[0]; r.LearnedTest < 0.75 || r.PerceptronTest < 0.75 || r.GDTest < 0.75 {
		t.Errorf("halfspace: %+v, want every method >= 0.75", r)
	}
	// Measured at seed 3 (10,000 test examples each): halfspace learned
	// 0.8901, Perceptron 0.9079, Adam 0.8750; relu1 learned 0.7956,
	// Perceptron 0.6797, Adam 0.8182. On relu1 the learned rule beats the
	// Perceptron rule by more than 10 points.
	hs, r1 := res.Rows[0], res.Rows[1]
	within(t, "halfspace, learned rule", hs.LearnedTest, 0.86, 0.92)
	within(t, "halfspace, Perceptron rule", hs.PerceptronTest, 0.88, 0.94)
	within(t, "halfspace, Adam", hs.GDTest, 0.84, 0.91)
	within(t, "relu1, learned rule", r1.LearnedTest, 0.76, 0.83)
	within(t, "relu1, Perceptron rule", r1.PerceptronTest, 0.64, 0.72)
	within(t, "relu1, Adam", r1.GDTest, 0.78, 0.85)
	if r1.LearnedTest < r1.PerceptronTest+0.05 {
		t.Errorf("relu1: learned rule %.4f not clearly ahead of the Perceptron rule %.4f", r1.LearnedTest, r1.PerceptronTest)
	}
	for _, bad := range []struct {
		mod  func(*DemoConfig)
		name string
	}{{func(c *DemoConfig) { c.Epochs = 0 }, "epochs"}, {func(c *DemoConfig) { c.Nodes = 1 }, "nodes"}, {func(c *DemoConfig) { c.NTrain = 0 }, "n-train"}} {
		c := DefaultDemo()
		bad.mod(&c)
		_, err := Demo(context.Background(), testEnv(t), c)
		var pe *param.Error
		if !errors.As(err, &pe) || pe.Name != bad.name {
			t.Errorf("%s: error %v, want a parameter error", bad.name, err)
		}
	}
}
