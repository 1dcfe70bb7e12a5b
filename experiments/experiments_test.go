package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
)

func testEnv(t *testing.T) Env {
	t.Helper()
	return Env{Dir: t.TempDir(), DataDir: filepath.Join(t.TempDir(), "no-data")}
}

// checkFiles asserts that every listed output exists and is not empty.
func checkFiles(t *testing.T, env Env, o Output) {
	t.Helper()
	if len(o.Tables) == 0 || len(o.Figures) == 0 {
		t.Fatalf("no tables (%v) or figures (%v)", o.Tables, o.Figures)
	}
	for _, f := range append(append([]string{}, o.Tables...), append(o.Figures, o.Rules...)...) {
		st, err := os.Stat(filepath.Join(env.Dir, f))
		if err != nil || st.Size() == 0 {
			t.Fatalf("output %s missing or empty: %v", f, err)
		}
	}
}

func readCSV(t *testing.T, env Env, name string) plots.Table {
	t.Helper()
	tab, err := plots.ReadCSV(filepath.Join(env.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func fileBytes(t *testing.T, env Env, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func inUnit(t *testing.T, what string, v float64) {
	t.Helper()
	if !(v >= 0 && v <= 1) {
		t.Fatalf("%s = %v, want an accuracy in [0, 1]", what, v)
	}
}

func tinyFig3() Fig3Config {
	c := DefaultFig3()
	c.Data = []string{"halfspace", "relu1", "fashion-mnist"}
	c.Repeats, c.NTrain = 2, 300
	c.Small, c.Large = Net{Nodes: 12, Cap: 6}, Net{Nodes: 24, Cap: 12}
	c.OutputLearn = RuleLearning{Data: "halfspace", Net: Net{Nodes: 12, Cap: 6, T: 1}, NTrain: 200, Epochs: 1}
	c.RNNLearn = RuleLearning{Data: "relu1", Net: Net{Nodes: 12, Cap: 6, T: 3}, NTrain: 200, Epochs: 1, Hidden: 4}
	return c
}

func TestFig3TinyDeterministicAcrossJobs(t *testing.T) {
	c := tinyFig3()
	var out [2]string
	for i, jobs := range []int{1, 3} {
		env := testEnv(t)
		c.Jobs = jobs
		res, err := Fig3(context.Background(), env, c)
		if err != nil {
			t.Fatal(err)
		}
		checkFiles(t, env, res.Output)
		if len(res.Data) != 2 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "fashion-mnist skipped") {
			t.Fatalf("data %v notes %v: want halfspace and relu1, fashion-mnist skipped with a note", res.Data, res.Notes)
		}
		if len(res.Cells) != 4*2 {
			t.Fatalf("%d cells, want 8", len(res.Cells))
		}
		for _, cell := range res.Cells {
			if len(cell.Test) != c.Repeats {
				t.Fatalf("%s on %s: %d re-trainings", cell.Model, cell.Data, len(cell.Test))
			}
			for r := range cell.Test {
				inUnit(t, "train acc", cell.Train[r])
				inUnit(t, "test acc", cell.Test[r])
			}
			if cell.Chance < 0.5 || cell.Chance > 1 {
				t.Fatalf("chance %v of a two-class set", cell.Chance)
			}
		}
		tab := readCSV(t, env, "fig3_runs.csv")
		if len(tab.Rows) != 8*c.Repeats {
			t.Fatalf("fig3_runs.csv has %d rows, want %d", len(tab.Rows), 8*c.Repeats)
		}
		if len(res.RuleCheck) != 2 {
			t.Fatalf("%d rule checks, want the small and the large network", len(res.RuleCheck))
		}
		for k, rc := range res.RuleCheck {
			if rc.Data != "relu1" || len(rc.Initial) != c.Repeats || len(rc.Learned) != c.Repeats || rc.Net.T != 3 || rc.Net.Nodes != []int{12, 24}[k] {
				t.Fatalf("rule check %+v: want T=3 networks on relu1, %d re-trainings each", rc, c.Repeats)
			}
		}
		if len(readCSV(t, env, "fig3_rulecheck.csv").Rows) != 4*c.Repeats {
			t.Fatal("fig3_rulecheck.csv: want a row per re-training and rule set")
		}
		checkFig3Bands(t, res)
		out[i] = fileBytes(t, env, "fig3_runs.csv")
	}
	if out[0] != out[1] {
		t.Fatalf("--jobs 1 and --jobs 3 differ:\n%s\n%s", out[0], out[1])
	}
}

// within fails the test unless lo <= v <= hi. The bands of the tiny
// experiments are measured at their fixed seeds (same seed, same machine:
// same numbers; the same numbers without AVX2, under
// GODEBUG=cpu.avx2=off,cpu.fma=off) and leave a few points of margin for
// another CPU's last bits; each excludes what the run gives
// when a mechanism is off (scripts/mutate.sh: RNN-rule updates dropped for
// T > 1 leaves every T=3 network predicting one class).
func within(t *testing.T, what string, v, lo, hi float64) {
	t.Helper()
	if !(v >= lo && v <= hi) {
		t.Errorf("%s = %.4f, want in [%.2f, %.2f] (measured at this seed)", what, v, lo, hi)
	}
}

// checkFig3Bands: on relu1 (test set 59.9% one class) the large T=3
// network beats the large T=1 one (the paper's ordering) and the chance
// rate; the rule check's T=3 networks learn. Measured: large T=3 0.6362,
// large T=1 0.4008, rule check on the large network 0.4008 (initial rules)
// and 0.6665 (learned); with RNN updates dropped all are 0.4008.
func checkFig3Bands(t *testing.T, res *Fig3Result) {
	t.Helper()
	if !res.LargeT3BeatsT1["relu1"] {
		t.Errorf("large T=3 network does not beat large T=1 on relu1 (%v)", res.LargeT3BeatsT1)
	}
	for _, cell := range res.Cells {
		if cell.Data == "relu1" && strings.HasPrefix(cell.Model, "large T=3") {
			m, _ := meanStd(cell.Test)
			within(t, cell.Model+" on relu1, mean test accuracy", m, 0.60, 0.67)
		}
	}
	for _, rc := range res.RuleCheck {
		if rc.Net.Nodes == 24 {
			// The initial rules' zero output rule predicts class 0
			// (0.4008 of the test set); the learned ones 0.6665
			// (0.4008 with the RNN-rule updates dropped for T > 1).
			within(t, "rule check (|V|=24), initial rules", rc.InitialMean, 0.38, 0.43)
			within(t, "rule check (|V|=24), learned rules", rc.LearnedMean, 0.63, 0.70)
		}
	}
}

func TestTable2TinyAndDeterministic(t *testing.T) {
	c := DefaultTable2()
	c.Data = []string{"halfspace"}
	c.Seeds, c.NTrain, c.Net = 2, 300, Net{Nodes: 30, Cap: 15}
	c.T3Learn = RuleLearning{Data: "halfspace", Net: Net{Nodes: 12, Cap: 6, T: 3}, NTrain: 200, Epochs: 1, Hidden: 4}
	var csvs [2]string
	for i := range csvs {
		env := testEnv(t)
		res, err := Table2(context.Background(), env, c)
		if err != nil {
			t.Fatal(err)
		}
		checkFiles(t, env, res.Output)
		best := 0.0
		if len(res.Rows) != 3 {
			t.Fatalf("%d rows, want T=3, T=1*, T=1", len(res.Rows))
		}
		for _, r := range res.Rows {
			if len(r.Test) != 2 {
				t.Fatalf("%s: %d seeds", r.Variant, len(r.Test))
			}
			m, _ := meanStd(r.Test)
			if math.Abs(m-r.TestMean) > 1e-12 {
				t.Fatalf("%s: mean %v of %v", r.Variant, r.TestMean, r.Test)
			}
			t.Logf("%s: %v", r.Variant, r.Test)
			best = max(best, r.TestMean)
		}
		// The halfspace test set is 55% one class; some row must beat that.
		if best < 0.6 {
			t.Fatalf("best mean test accuracy %v: not above the majority rate 0.55", best)
		}
		// Measured: T=3 0.6934, T=1* 0.7194, T=1 0.8276 (with RNN-rule
		// updates dropped for T > 1, T=3 falls to 0.6133).
		bands := map[string][2]float64{"T=3": {0.66, 0.73}, "T=1*": {0.69, 0.75}, "T=1": {0.80, 0.86}}
		for _, r := range res.Rows {
			b := bands[r.Variant]
			within(t, r.Variant+" mean test accuracy", r.TestMean, b[0], b[1])
		}
		tab := readCSV(t, env, "table2.csv")
		means, err := tab.Floats("test_mean")
		if err != nil || len(means) != 3 {
			t.Fatalf("table2.csv test_mean %v %v", means, err)
		}
		csvs[i] = fileBytes(t, env, "table2_runs.csv")
	}
	if csvs[0] != csvs[1] {
		t.Fatal("same seed, different table2_runs.csv")
	}
}

func TestTable2KnowsPaperFigures(t *testing.T) {
	m, _ := meanStd(Table2AuthorsCode["mnist"]["T=1"])
	if math.Abs(m-0.82386) > 1e-6 {
		t.Fatalf("authors' code T=1 mean %v, want 82.4%%", m)
	}
	m, _ = meanStd(Table2AuthorsCode["mnist"]["T=1*"])
	if math.Abs(m-0.86686) > 1e-6 {
		t.Fatalf("authors' code T=1* mean %v, want 86.7%%", m)
	}
}

func TestFig2Tiny(t *testing.T) {
	env := testEnv(t)
	c := DefaultFig2()
	c.Data, c.NTrain, c.Net, c.Every, c.Batch, c.EvalN = "halfspace", 400, Net{Nodes: 30, Cap: 15, T: 1}, 100, 50, 200
	res, err := Fig2(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, env, res.Output)
	if len(res.Rule) != 5 || len(res.GD) != 5 {
		t.Fatalf("curves of %d and %d points, want 5 (0, 100, ..., 400 samples)", len(res.Rule), len(res.GD))
	}
	for i := range res.Rule {
		if res.Rule[i].Samples != res.GD[i].Samples || res.Rule[i].Samples != int64(100*i) {
			t.Fatalf("point %d at %d and %d samples", i, res.Rule[i].Samples, res.GD[i].Samples)
		}
		inUnit(t, "rule acc", res.Rule[i].Acc)
		inUnit(t, "adam acc", res.GD[i].Acc)
	}
	// The halfspace test set is 55% one class.
	if res.Rule[len(res.Rule)-1].Acc < 0.6 || res.GD[len(res.GD)-1].Acc < 0.6 {
		t.Fatalf("final accuracies rule %v, Adam %v on halfspace: too low", res.Rule[len(res.Rule)-1].Acc, res.GD[len(res.GD)-1].Acc)
	}
	// The paper's ordering: one pass of the rule learns at least as fast as
	// Adam. Measured (200 test examples): rule 0.505 0.74 0.81 0.855 0.885,
	// Adam 0.505 0.615 0.785 0.825 0.77; checked where the gap is > 20
	// examples (after 100 and 400 samples), so that another CPU's last bits
	// cannot flip it.
	for _, i := range []int{1, 4} {
		if res.Rule[i].Acc < res.GD[i].Acc+0.05 {
			t.Errorf("after %d samples the rule (%.3f) is not clearly ahead of Adam (%.3f)", res.Rule[i].Samples, res.Rule[i].Acc, res.GD[i].Acc)
		}
	}
	within(t, "rule accuracy after 200 samples", res.Rule[2].Acc, 0.77, 0.85)
	within(t, "rule final accuracy", res.Rule[4].Acc, 0.85, 0.92)
	within(t, "Adam final accuracy", res.GD[4].Acc, 0.72, 0.82)
}

func TestFig6Tiny(t *testing.T) {
	env := testEnv(t)
	c := DefaultFig6()
	c.Data, c.NTrain, c.Net, c.Every, c.EvalN = "relu1", 300, Net{Nodes: 24, Cap: 12, T: 3}, 100, 200
	c.Learn = RuleLearning{Data: "relu1", Net: Net{Nodes: 12, Cap: 6, T: 3}, NTrain: 200, Epochs: 1, Hidden: 4}
	res, err := Fig6(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, env, res.Output)
	if len(res.Every) != 4 || len(res.Misclassified) != 4 || len(res.EveryBoth) != 4 {
		t.Fatalf("curves of %d / %d / %d points, want 4", len(res.Every), len(res.Misclassified), len(res.EveryBoth))
	}
	inUnit(t, "every final", res.EveryFinal)
	inUnit(t, "every, both columns, final", res.EveryBothFinal)
	inUnit(t, "misclassified final", res.MisclassifiedFinal)
	// T=3 networks on relu1 (test set 59.9% one class) trained by the
	// learned rules beat the chance rate. Measured: every example 0.6303,
	// both columns 0.6278, misclassified 0.6484; with RNN-rule updates
	// dropped every scheme predicts one class (0.4008).
	within(t, "every-example final test accuracy", res.EveryFinal, 0.61, 0.66)
	within(t, "every-example (both columns) final test accuracy", res.EveryBothFinal, 0.61, 0.66)
	within(t, "misclassified-only final test accuracy", res.MisclassifiedFinal, 0.62, 0.68)
}

func TestOptimalTiny(t *testing.T) {
	env := testEnv(t)
	c := DefaultOptimal()
	c.Data, c.NTrain, c.Net = "halfspace", 400, Net{Nodes: 30, Cap: 15, T: 1}
	res, err := Optimal(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, env, res.Output)
	r := res.Runs[0]
	// The closed form minimises the MSE: the perceptron cannot do better.
	if r.RuleMSE > r.PerceptronMSE+1e-9 {
		t.Fatalf("optimal MSE %v > perceptron MSE %v", r.RuleMSE, r.PerceptronMSE)
	}
	for i, v := range res.TestMean {
		inUnit(t, OptimalMethods[i], v)
	}
}

func TestClassicRulesAndTheorems(t *testing.T) {
	env := testEnv(t)
	c := DefaultClassic()
	c.NTrain, c.NTest, c.Draws, c.Starts, c.MetaEpochs, c.MetaN, c.Nodes, c.Cap = 500, 500, 2, 3, 10, 300, 20, 10
	c.Pairs = [][2]float64{{1, 1}, {2, 2}, {1, 1.05}, {1, 3}}
	res, err := Classic(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, env, res.Output)
	for _, r := range res.Rules[:2] {
		if !r.Converged || r.TrainAcc != 1 || r.TestAcc < 0.9 {
			t.Fatalf("%s on %s: converged %v, train %v, test %v", r.Rule, r.Data, r.Converged, r.TrainAcc, r.TestAcc)
		}
	}
	for _, r := range res.Theorem3 {
		if !r.Converged {
			t.Fatalf("a=%g b=%g did not converge", r.A, r.B)
		}
		if !math.IsInf(r.Bounds.Derived, 0) && float64(r.Mistakes) > r.Bounds.Derived {
			t.Fatalf("a=%g b=%g: %d mistakes above the derived bound %v", r.A, r.B, r.Mistakes, r.Bounds.Derived)
		}
	}
	// The rule's scale does not matter (weights start at 0): (2,2) makes
	// exactly the mistakes of (1,1).
	if res.Theorem3[0].Mistakes != res.Theorem3[1].Mistakes {
		t.Fatalf("(1,1): %d mistakes, (2,2): %d", res.Theorem3[0].Mistakes, res.Theorem3[1].Mistakes)
	}
	if res.Theorem1Fraction < 0 || res.Theorem1Fraction > 1 || len(res.Theorem1Rules) != 3 {
		t.Fatalf("Theorem 1 fraction %v of %d rules", res.Theorem1Fraction, len(res.Theorem1Rules))
	}
}

func TestTheorem3BoundByHand(t *testing.T) {
	// a = b: the classical perceptron bound n / gamma^2 (R^2 = n).
	b := Theorem3Bound(1, 1, 16, 0.5)
	if math.Abs(b.Derived-64) > 1e-9 || math.Abs(b.Paper-64) > 1e-9 {
		t.Fatalf("a=b=1, n=16, gamma=0.5: bounds %+v, want 64 and 64", b)
	}
	// a=1, b=1.1, n=4, gamma=1: g = 1.05, D = 0.2, E = (1.21-0.01)*4 = 4.8,
	// derived = 4.8/0.85^2; paper = (1.21*4 + 2*0.1*2)/1 = 5.24.
	b = Theorem3Bound(1, 1.1, 4, 1)
	if math.Abs(b.Derived-4.8/(0.85*0.85)) > 1e-9 || math.Abs(b.Paper-5.24) > 1e-9 {
		t.Fatalf("bounds %+v", b)
	}
	// g <= D: no bound from the argument.
	if b := Theorem3Bound(1, 3, 20, 0.3); !math.IsInf(b.Derived, 1) {
		t.Fatalf("a=1 b=3: derived %v, want +Inf", b.Derived)
	}
}

func TestThresholdPerceptronByHand(t *testing.T) {
	// Two points in {-1,1}^2: x=(1,1) y=+1, x=(1,-1) y=-1.
	d := &ThresholdData{N: 2, Dim: 2, X: []float64{1, 1, 1, -1}, Y: []float64{1, -1}}
	task, err := runThreshold(context.Background(), PerceptronRule(), d, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Pass 1: w=0 predicts -1 on (1,1): mistake, w += (1,1) -> (1,1);
	// (1,-1): w.x = 0 predicts -1 = y: no mistake. Pass 2: no mistakes.
	if task.Mistakes != 1 || task.W[0] != 1 || task.W[1] != 1 || task.ConvergedAt != 2 {
		t.Fatalf("mistakes %d, w %v, converged at pass %d", task.Mistakes, task.W, task.ConvergedAt)
	}
	mw := MWRule()
	bd := &ThresholdData{N: 1, Dim: 2, X: []float64{1, 0}, Y: []float64{1}}
	task, err = runThreshold(context.Background(), mw, bd, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	// threshold n = 2: w=(1,1): w.x = 1 -> -1, mistake: w0 doubles (x0=1),
	// w1 unchanged (x1=0): (2,1), w.x = 2, not > 2: mistake again -> (4,1).
	if task.Mistakes != 2 || task.W[0] != 4 || task.W[1] != 1 {
		t.Fatalf("MW: mistakes %d, w %v", task.Mistakes, task.W)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	env := testEnv(t)
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"no dir", func() error { _, err := Fig2(ctx, Env{}, DefaultFig2()); return err }, "no output folder"},
		{"fig2 every", func() error {
			c := DefaultFig2()
			c.Every = 150
			_, err := Fig2(ctx, env, c)
			return err
		}, "every 150"},
		{"fig3 unknown data", func() error {
			c := tinyFig3()
			c.Data = []string{"nope"}
			_, err := Fig3(ctx, env, c)
			return err
		}, `unknown data set "nope"`},
		{"fig3 only absent data", func() error {
			c := tinyFig3()
			c.Data = []string{"fashion-mnist"}
			_, err := Fig3(ctx, env, c)
			return err
		}, "no data set could be loaded"},
		{"fig3 repeats", func() error {
			c := tinyFig3()
			c.Repeats = 0
			_, err := Fig3(ctx, env, c)
			return err
		}, "repeats 0"},
		{"fig3 restarts", func() error {
			c := tinyFig3()
			c.RNNRestarts = 0
			_, err := Fig3(ctx, env, c)
			return err
		}, "rnn restarts 0"},
		{"fig2 absent mnist", func() error {
			c := DefaultFig2()
			c.Data = "fashion-mnist"
			_, err := Fig2(ctx, env, c)
			return err
		}, "plastic data fetch fashion-mnist"},
		{"table2 seeds", func() error {
			c := DefaultTable2()
			c.Seeds = 0
			_, err := Table2(ctx, env, c)
			return err
		}, "seeds 0"},
		{"table2 rule file", func() error {
			c := DefaultTable2()
			c.Data, c.T3Rules = []string{"halfspace"}, filepath.Join(env.Dir, "missing.json")
			_, err := Table2(ctx, env, c)
			return err
		}, "missing.json"},
		{"optimal T", func() error {
			c := DefaultOptimal()
			c.Net.T = 3
			_, err := Optimal(ctx, env, c)
			return err
		}, "T = 1"},
		{"classic pair", func() error {
			c := DefaultClassic()
			c.Pairs = [][2]float64{{2, 1}}
			_, err := Classic(ctx, env, c)
			return err
		}, "b >= a > 0"},
		{"fig6 T", func() error {
			c := DefaultFig6()
			c.Net.T = 1
			_, err := Fig6(ctx, env, c)
			return err
		}, "rounds 1"},
		{"threshold inputs", func() error {
			_, err := NewThresholdTask(MWRule(), &ThresholdData{N: 1, Dim: 1, X: []float64{-1}, Y: []float64{1}}, nil, 1)
			return err
		}, "{0,1}"},
	}
	for _, tc := range cases {
		err := tc.run()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSubSeedIndependent(t *testing.T) {
	seen := map[int64]string{}
	for _, k := range []struct {
		name string
		idx  []int
	}{{"a", nil}, {"a", []int{0}}, {"a", []int{1}}, {"b", []int{0}}, {"a", []int{0, 1}}, {"a", []int{1, 0}}} {
		s := subSeed(1, k.name, k.idx...)
		key := k.name + strconv.Itoa(len(k.idx))
		if prev, dup := seen[s]; dup {
			t.Fatalf("subSeed collision: %s and %s", prev, key)
		}
		seen[s] = key
	}
}

// TestFiringAndTargetSelection checks that Net hands its firing definition
// to the network, that top-k firing is every experiment's default, that
// Table 2's T=3 rule is learned with the experiment's firing definition
// (recorded in the rule file's provenance) and that its model selection
// trains a network of the Table 2 size (the provenance names it).
func TestFiringAndTargetSelection(t *testing.T) {
	set, _, err := loadSet("halfspace", "", 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
		n := Net{Nodes: 10, Cap: 5, T: 3, Firing: f}
		net, err := n.build(set, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		if net.Firing != f || strings.Contains(n.String(), "nonzero firing") != (f == models.FiringNonzero) {
			t.Fatalf("%s: network firing %v, want %v", n, net.Firing, f)
		}
	}
	if DefaultTable2().Net.Firing != models.FiringTopK || DefaultFig6().Net.Firing != models.FiringTopK ||
		DefaultFig3().Firing != models.FiringTopK || DefaultFig2().Net.Firing != models.FiringTopK ||
		DefaultOptimal().Net.Firing != models.FiringTopK || DefaultClassic().Firing != models.FiringTopK {
		t.Fatal("every experiment should default to top-k firing")
	}
	for _, f := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
		c := DefaultTable2()
		c.Data = []string{"halfspace"}
		c.Seeds, c.NTrain, c.Net = 1, 300, Net{Nodes: 30, Cap: 15, Firing: f}
		c.T3Learn = RuleLearning{Data: "halfspace", Net: Net{Nodes: 12, Cap: 6, T: 3}, NTrain: 200, Epochs: 1, Hidden: 4}
		env := testEnv(t)
		if _, err := Table2(context.Background(), env, c); err != nil {
			t.Fatal(err)
		}
		rs, err := plasticity.LoadRules(env.path("table2_rules_T3.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rs.Provenance == nil || rs.Provenance.Firing != f.String() {
			t.Fatalf("T=3 rule file provenance %+v, want firing %s", rs.Provenance, f)
		}
		suffix := ""
		if f == models.FiringNonzero {
			suffix = " nonzero firing"
		}
		for _, want := range []string{"learned on halfspace, |V|=12 k=6 T=3" + suffix + ",", "one pass over the others, |V|=30 k=15 T=3" + suffix + ")"} {
			if !strings.Contains(rs.Provenance.Note, want) {
				t.Fatalf("provenance %q lacks %q", rs.Provenance.Note, want)
			}
		}
	}
}

// TestInitialRNNRules: the RNN rule is a small NN or an N(0,1) table as
// RuleLearning.Param says, the output rule zeros or the given one widened to
// T rounds, and a bad parameterization is refused.
func TestInitialRNNRules(t *testing.T) {
	l := RuleLearning{Data: "relu1", Net: Net{Nodes: 12, Cap: 6, T: 3}, Epochs: 1, Hidden: 4}
	rs, learn, err := InitialRNNRules(l, nil, true, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rs.RNN.Kind() != "nn" || len(learn) != 2 {
		t.Fatalf("default: %s rule, learning %v; want a small NN and both rules", rs.RNN.Kind(), learn)
	}
	for _, v := range rs.Output.Table() {
		if v != 0 {
			t.Fatalf("output rule %v, want zeros", rs.Output.Table())
		}
	}
	l.Param = ParamTable
	p, _ := perceptron(1)
	rs, learn, err = InitialRNNRules(l, p, false, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rs.RNN.Kind() != "table" || len(rs.RNN.Table()) != 64 || len(learn) != 1 || learn[0] != plasticity.TargetRNN {
		t.Fatalf("table: %s rule of %d entries, learning %v", rs.RNN.Kind(), len(rs.RNN.Table()), learn)
	}
	if o := rs.Output.Table(); o[0] != -1 || o[1] != 1 || o[2] != 1 || o[3] != -1 {
		t.Fatalf("output rule %v, want the perceptron widened to T=3", o)
	}
	l.Param = "mlp"
	if _, _, err := InitialRNNRules(l, nil, true, 3); err == nil || !strings.Contains(err.Error(), "mlp") {
		t.Fatalf("bad parameterization: %v", err)
	}
}

// A cell's re-trainings depend on the seed, the model and the data set,
// not on where the data set stands in Data or which other sets are there
// (or skipped): relu1's cells are the same in [halfspace, fashion-mnist
// (absent here), relu1] and in [relu1].
func TestFig3CellsIndependentOfDataList(t *testing.T) {
	var relu1 [2][]Fig3Cell
	for i, list := range [][]string{{"halfspace", "fashion-mnist", "relu1"}, {"relu1"}} {
		c := tinyFig3()
		c.Data, c.Jobs = list, 2
		res, err := Fig3(context.Background(), testEnv(t), c)
		if err != nil {
			t.Fatal(err)
		}
		for _, cell := range res.Cells {
			if cell.Data == "relu1" {
				relu1[i] = append(relu1[i], cell)
			}
		}
	}
	if len(relu1[0]) != 4 || len(relu1[1]) != 4 {
		t.Fatalf("relu1 cells %d and %d, want 4 each", len(relu1[0]), len(relu1[1]))
	}
	for k, a := range relu1[0] {
		b := relu1[1][k]
		if a.Model != b.Model || !slices.Equal(a.Train, b.Train) || !slices.Equal(a.Test, b.Test) {
			t.Errorf("%s on relu1: train %v test %v with --data halfspace,fashion-mnist,relu1; %s: train %v test %v with --data relu1",
				a.Model, a.Train, a.Test, b.Model, b.Train, b.Test)
		}
	}
}
