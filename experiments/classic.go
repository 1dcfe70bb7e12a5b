package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"

	"github.com/plasticity-lab/plastic/internal/param"

	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
)

// ThresholdRule is an output-layer plasticity rule of Table 1 for a single
// linear threshold unit (no hidden layer): Delta[a][p] is the change of
// w_i on a mistake, a = the input bit (x_i = -1 or 0 -> 0, x_i = 1 -> 1),
// p = the wrong prediction (-1 -> 0, +1 -> 1). The unit predicts +1 iff
// w.x > Theta(n).
type ThresholdRule struct {
	Name  string
	Delta [2][2]float64
	// Multiplicative: w_i *= Delta[a][p] (weights start at 1) instead of
	// w_i += Delta[a][p] (weights start at 0).
	Multiplicative bool
	// Threshold is the firing threshold for n inputs.
	Threshold func(n int) float64
	// Binary inputs are in {0,1}; otherwise in {-1,1}.
	Binary bool
}

// PerceptronRule is Table 1's Perceptron: [[-1, 1], [1, -1]] over x_i in
// {-1,1}, additive, threshold 0: on a mistake w += y x.
func PerceptronRule() ThresholdRule {
	return ABRule(1, 1)
}

// ABRule is Theorem 3's rule [[-a, a], [b, -b]] (b >= a > 0), additive,
// over x_i in {-1,1}.
func ABRule(a, b float64) ThresholdRule {
	name := fmt.Sprintf("[[-%g,%g],[%g,-%g]]", a, a, b, b)
	if a == 1 && b == 1 {
		name = "Perceptron"
	}
	return ThresholdRule{Name: name, Delta: [2][2]float64{{-a, a}, {b, -b}}, Threshold: func(int) float64 { return 0 }}
}

// MWRule is Table 1's Multiplicative Weights (Winnow): [[1, 1], [2, 1/2]]
// over x_i in {0,1}, multiplicative, threshold n: on a mistake the weights
// of the active inputs double (true label +1) or halve (true label -1).
func MWRule() ThresholdRule {
	return ThresholdRule{Name: "Multiplicative Weights", Delta: [2][2]float64{{1, 1}, {2, 0.5}}, Multiplicative: true,
		Threshold: func(n int) float64 { return float64(n) }, Binary: true}
}

// ThresholdData is a linearly separable set for a threshold unit: inputs
// in {-1,1}^n (or {0,1}^n), labels in {-1,+1}.
type ThresholdData struct {
	N, Dim int
	X      []float64 // N x Dim
	Y      []float64 // +-1
	WStar  []float64
	Bias   float64 // label = sign(w*.x - Bias)
	Margin float64 // min over the set of |w*.x - Bias|
}

// SignHalfspace draws points uniformly in {-1,1}^dim labelled by a random
// unit w* with sum(w*) = 0 (Theorem 3's setting), keeping only points with
// |w*.x| >= minMargin, so the set is strictly separable with margin
// >= minMargin. train and test come from the same w*.
func SignHalfspace(dim, nTrain, nTest int, minMargin float64, seed int64) (trainSet, testSet *ThresholdData, err error) {
	if dim < 2 || nTrain < 1 || nTest < 1 || !(minMargin > 0) {
		return nil, nil, fmt.Errorf("sign halfspace: dim %d (>= 2), %d/%d points (>= 1), margin %v (> 0)", dim, nTrain, nTest, minMargin)
	}
	rng := rand.New(rand.NewSource(seed))
	w := make([]float64, dim)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	m := 0.0
	for _, v := range w {
		m += v
	}
	m /= float64(dim)
	nrm := 0.0
	for i := range w {
		w[i] -= m
		nrm += w[i] * w[i]
	}
	nrm = math.Sqrt(nrm)
	for i := range w {
		w[i] /= nrm
	}
	draw := func(n int) (*ThresholdData, error) {
		return drawSeparable(rng, n, w, 0, minMargin, func() float64 { return float64(2*rng.Intn(2) - 1) },
			fmt.Sprintf("sign halfspace: margin %v too large for dim %d", minMargin, dim))
	}
	if trainSet, err = draw(nTrain); err != nil {
		return nil, nil, err
	}
	testSet, err = draw(nTest)
	return trainSet, testSet, err
}

// BoolHalfspace draws points uniformly in {0,1}^dim labelled by
// w*.x >= Bias with w* >= 0 supported on `relevant` random inputs
// (weights uniform in [0.5, 1]) and Bias half their sum, keeping only
// points with |w*.x - Bias| >= minMargin: the monotone halfspaces that
// Multiplicative Weights (Winnow) learns.
func BoolHalfspace(dim, relevant, nTrain, nTest int, minMargin float64, seed int64) (trainSet, testSet *ThresholdData, err error) {
	if dim < 2 || relevant < 1 || relevant > dim || nTrain < 1 || nTest < 1 || !(minMargin > 0) {
		return nil, nil, fmt.Errorf("boolean halfspace: dim %d (>= 2), relevant %d (1..dim), %d/%d points, margin %v (> 0)", dim, relevant, nTrain, nTest, minMargin)
	}
	rng := rand.New(rand.NewSource(seed))
	w := make([]float64, dim)
	sum := 0.0
	for _, i := range rng.Perm(dim)[:relevant] {
		w[i] = 0.5 + 0.5*rng.Float64()
		sum += w[i]
	}
	bias := sum / 2
	draw := func(n int) (*ThresholdData, error) {
		return drawSeparable(rng, n, w, bias, minMargin, func() float64 { return float64(rng.Intn(2)) },
			fmt.Sprintf("boolean halfspace: margin %v too large", minMargin))
	}
	if trainSet, err = draw(nTrain); err != nil {
		return nil, nil, err
	}
	testSet, err = draw(nTest)
	return trainSet, testSet, err
}

// drawSeparable draws n points with coordinates from coord, labelled by
// sign(w.x - bias), keeping only those at distance >= minMargin from the
// threshold (rejection sampling; tooFew is the error after 1000n tries).
func drawSeparable(rng *rand.Rand, n int, w []float64, bias, minMargin float64, coord func() float64, tooFew string) (*ThresholdData, error) {
	dim := len(w)
	d := &ThresholdData{N: n, Dim: dim, WStar: w, Bias: bias, Margin: math.Inf(1)}
	x := make([]float64, dim)
	for tries := 0; d.N > len(d.Y); tries++ {
		if tries > 1000*n {
			return nil, errors.New(tooFew)
		}
		s := -bias
		for i := range x {
			x[i] = coord()
			s += w[i] * x[i]
		}
		if math.Abs(s) < minMargin {
			continue
		}
		d.X = append(d.X, x...)
		d.Y = append(d.Y, math.Copysign(1, s))
		d.Margin = math.Min(d.Margin, math.Abs(s))
	}
	return d, nil
}

// ThresholdTask trains a linear threshold unit with a ThresholdRule as a
// train.Task: one epoch is one pass over the training set in order,
// updating on mistakes (y w.x <= threshold side); after the first pass
// without a mistake the unit has converged and later passes do nothing.
// Epoch metrics: "mistakes" (so far), "train_acc", "test_acc", "converged".
type ThresholdTask struct {
	Rule        ThresholdRule
	Train, Test *ThresholdData
	Passes      int
	W           []float64
	Mistakes    int
	Converged   bool
	// ConvergedAt is the number of passes until the first pass without a mistake.
	ConvergedAt  int
	passMistakes int
}

// NewThresholdTask checks the inputs and sets the initial weights.
func NewThresholdTask(rule ThresholdRule, trainSet, testSet *ThresholdData, passes int) (*ThresholdTask, error) {
	if trainSet == nil || trainSet.N == 0 {
		return nil, errors.New("threshold unit: empty training set")
	}
	if passes < 1 {
		return nil, fmt.Errorf("threshold unit: passes = %d, want >= 1", passes)
	}
	if testSet != nil && testSet.Dim != trainSet.Dim {
		return nil, fmt.Errorf("threshold unit: test set has %d inputs, training set %d", testSet.Dim, trainSet.Dim)
	}
	for i, x := range trainSet.X {
		if rule.Binary && x != 0 && x != 1 || !rule.Binary && x != -1 && x != 1 {
			return nil, fmt.Errorf("threshold unit: rule %s wants inputs in %s, input %d is %v", rule.Name, map[bool]string{true: "{0,1}", false: "{-1,1}"}[rule.Binary], i, x)
		}
	}
	w := make([]float64, trainSet.Dim)
	if rule.Multiplicative {
		for i := range w {
			w[i] = 1
		}
	}
	return &ThresholdTask{Rule: rule, Train: trainSet, Test: testSet, Passes: passes, W: w}, nil
}

func (t *ThresholdTask) predict(x []float64) float64 {
	s := 0.0
	for i, v := range x {
		s += t.W[i] * v
	}
	if s > t.Rule.Threshold(len(x)) {
		return 1
	}
	return -1
}

func (t *ThresholdTask) Epochs() int           { return t.Passes }
func (t *ThresholdTask) StepsPerEpoch(int) int { return 1 }

func (t *ThresholdTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	if t.Converged {
		return 0, nil, nil
	}
	d, n := t.Train, t.Train.Dim
	t.passMistakes = 0
	for k := 0; k < d.N; k++ {
		x := d.X[k*n : (k+1)*n]
		p := t.predict(x)
		if p == d.Y[k] {
			continue
		}
		t.passMistakes++
		col := 0
		if p > 0 {
			col = 1
		}
		for i, v := range x {
			row := 0
			if v > 0 {
				row = 1
			}
			if t.Rule.Multiplicative {
				t.W[i] *= t.Rule.Delta[row][col]
			} else {
				t.W[i] += t.Rule.Delta[row][col]
			}
		}
	}
	t.Mistakes += t.passMistakes
	if t.passMistakes == 0 {
		t.Converged, t.ConvergedAt = true, s.Epoch
	}
	return d.N, nil, nil
}

// Accuracy is the fraction of d the unit classifies correctly.
func (t *ThresholdTask) Accuracy(d *ThresholdData) float64 {
	ok := 0
	for k := 0; k < d.N; k++ {
		if t.predict(d.X[k*d.Dim:(k+1)*d.Dim]) == d.Y[k] {
			ok++
		}
	}
	return float64(ok) / float64(d.N)
}

func (t *ThresholdTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	m := map[string]float64{"mistakes": float64(t.Mistakes), "train_acc": t.Accuracy(t.Train)}
	if t.Test != nil {
		m["test_acc"] = t.Accuracy(t.Test)
	}
	if t.Converged {
		m["converged"] = 1
	} else {
		m["converged"] = 0
	}
	return m, nil
}

// runThreshold trains to convergence (or passes) through train.Run.
func runThreshold(ctx context.Context, rule ThresholdRule, tr, te *ThresholdData, passes int) (*ThresholdTask, error) {
	task, err := NewThresholdTask(rule, tr, te, passes)
	if err != nil {
		return nil, err
	}
	if err := train.Run(ctx, task, train.Options{Hooks: []any{train.NaNCheck{}}}); err != nil {
		return nil, err
	}
	return task, nil
}

// Theorem3Bounds are the mistake bounds for the rule [[-a,a],[b,-b]] on
// data in {-1,1}^n with margin gamma w.r.t. a unit w* with sum(w*) = 0.
//
// Paper: t < C/(a^2 gamma^2) with C = b^2 n + 2(b-a) sqrt(n) (its proof of
// Theorem 3; it takes the gain of w*.w per mistake as a*gamma and bounds
// the growth of |w|^2 per mistake by the constant C).
//
// Derived (this package): per mistake w*.w grows by exactly
// (a+b)|w*.x|/2 >= g = (a+b) gamma/2 (because sum(w*) = 0 makes
// sum_{x_i=1} w*_i = w*.x/2), while |w|^2 grows by at most
// 2(b-a) S + |Delta|^2 with S = sum_{x_i=1} w_i <= sqrt(n)|w| and
// |Delta|^2 <= b^2 n: the paper's constant C drops the |w| in
// S <= sqrt(n)|w|. By induction |w_t| <= D t + sqrt(E t) with
// D = (b-a) sqrt(n) and E = (b^2 - (b-a)^2) n, and g t <= w*.w_t <= |w_t|
// gives t <= E/(g - D)^2 when g > D; for a = b this is the classical
// n/gamma^2. When g <= D the argument gives no bound (Derived = +Inf).
type Theorem3Bounds struct{ Paper, Derived float64 }

// Theorem3Bound computes both bounds.
func Theorem3Bound(a, b float64, n int, gamma float64) Theorem3Bounds {
	fn := float64(n)
	paper := (b*b*fn + 2*(b-a)*math.Sqrt(fn)) / (a * a * gamma * gamma)
	g := (a + b) * gamma / 2
	D := (b - a) * math.Sqrt(fn)
	E := (b*b - (b-a)*(b-a)) * fn
	derived := math.Inf(1)
	if g > D {
		derived = E / ((g - D) * (g - D))
	}
	return Theorem3Bounds{Paper: paper, Derived: derived}
}

// ClassicConfig is Table 1 and Theorems 1 and 3.
type ClassicConfig struct {
	Dim       int     // n of the {-1,1}^n and {0,1}^n data (20)
	Relevant  int     // inputs w* depends on in {0,1}^n (5)
	NTrain    int     // 2000
	NTest     int     // 2000
	MinMargin float64 // minimum |w*.x| kept (0.3)
	MaxPasses int     // passes until convergence at most (1000)
	Draws     int     // data sets per (a, b) pair of Theorem 3 (5)
	// Pairs are Theorem 3's (a, b) with b >= a > 0.
	Pairs [][2]float64
	// Theorem 1: GD on a T=1 output table rule from Starts random N(0,1)
	// starts (Halfspace, |V|=Nodes, k=Cap, MetaEpochs epochs of MetaN examples).
	Starts     int
	Nodes, Cap int
	MetaEpochs int
	MetaN      int
	// Firing of the simple RNNs (the built-in rules' networks, Theorem 1).
	Firing models.Firing
	Seed   int64
}

// DefaultClassic is the setting of `plastic paper classic`.
func DefaultClassic() ClassicConfig {
	return ClassicConfig{Dim: 20, Relevant: 5, NTrain: 2000, NTest: 2000, MinMargin: 0.3, MaxPasses: 1000, Draws: 5,
		Pairs:  [][2]float64{{1, 1}, {2, 2}, {1, 1.1}, {1, 1.25}, {1, 1.5}, {0.5, 1}, {1, 3}, {1, 4}},
		Starts: 20, Nodes: 100, Cap: 50, MetaEpochs: 15, MetaN: 2000, Seed: 1}
}

func (c ClassicConfig) check() error {
	switch {
	case c.Dim < 2:
		return fmt.Errorf("classic: %w", param.Errorf("dim", "%d: want >= 2", c.Dim))
	case c.Relevant < 1 || c.Relevant > c.Dim:
		return fmt.Errorf("classic: %w", param.Errorf("relevant", "%d: want 1..dim (%d)", c.Relevant, c.Dim))
	case c.NTrain < 1:
		return fmt.Errorf("classic: %w", param.Errorf("n-train", "%d: want >= 1", c.NTrain))
	case c.NTest < 1:
		return fmt.Errorf("classic: %w", param.Errorf("n-test", "%d: want >= 1", c.NTest))
	case !(c.MinMargin > 0):
		return fmt.Errorf("classic: %w", param.Errorf("margin", "%v: want > 0", c.MinMargin))
	case c.MaxPasses < 1:
		return fmt.Errorf("classic: %w", param.Errorf("max passes", "%d: want >= 1", c.MaxPasses))
	case c.Draws < 1:
		return fmt.Errorf("classic: %w", param.Errorf("draws", "%d: want >= 1", c.Draws))
	case c.Starts < 0:
		return fmt.Errorf("classic: %w", param.Errorf("starts", "%d: want >= 0", c.Starts))
	case c.Starts > 0 && c.MetaEpochs < 1:
		return fmt.Errorf("classic: %w", param.Errorf("meta epochs", "%d: want >= 1 (with starts > 0)", c.MetaEpochs))
	case c.Starts > 0 && c.MetaN < 100:
		return fmt.Errorf("classic: %w", param.Errorf("meta-n", "%d: want >= 100 (with starts > 0)", c.MetaN))
	}
	for _, p := range c.Pairs {
		if !(p[0] > 0) || !(p[1] >= p[0]) || math.IsInf(p[1], 0) {
			return fmt.Errorf("classic: Theorem 3 pair (a=%v, b=%v): want b >= a > 0", p[0], p[1])
		}
	}
	return nil
}

// ClassicRow is one classic rule on its data.
type ClassicRow struct {
	Rule, Data        string
	TrainAcc, TestAcc float64
	Mistakes, Passes  int
	Converged         bool
}

// Theorem3Row is one (a, b) on one data draw.
type Theorem3Row struct {
	A, B      float64
	Draw      int
	Margin    float64
	Mistakes  int
	Converged bool
	Bounds    Theorem3Bounds
}

// ClassicResult gathers the three parts.
type ClassicResult struct {
	Rules []ClassicRow
	// Theorem 1: the learned rules ([code][b], 4 entries) and the fraction
	// with the sign pattern [[-, +], [+, -]].
	Theorem1Rules    [][]float64
	Theorem1Fraction float64
	Theorem3         []Theorem3Row
	// Theorem3Violations lists rows whose mistakes exceed a finite bound.
	Theorem3Violations []string
	Output
}

// Classic runs Table 1's rules, Theorem 1 and Theorem 3 and writes
// classic.csv, theorem1.csv, theorem3.csv and two figures.
func Classic(ctx context.Context, env Env, c ClassicConfig) (*ClassicResult, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	res := &ClassicResult{}
	// Table 1 rules on their data.
	sTr, sTe, err := SignHalfspace(c.Dim, c.NTrain, c.NTest, c.MinMargin, subSeed(c.Seed, "classic sign"))
	if err != nil {
		return nil, fmt.Errorf("classic: %w", err)
	}
	bTr, bTe, err := BoolHalfspace(c.Dim, c.Relevant, c.NTrain, c.NTest, c.MinMargin, subSeed(c.Seed, "classic bool"))
	if err != nil {
		return nil, fmt.Errorf("classic: %w", err)
	}
	signName := fmt.Sprintf("halfspace {-1,1}^%d", c.Dim)
	boolName := fmt.Sprintf("halfspace {0,1}^%d (%d relevant)", c.Dim, c.Relevant)
	for _, x := range []struct {
		rule   ThresholdRule
		name   string
		tr, te *ThresholdData
	}{{PerceptronRule(), signName, sTr, sTe}, {MWRule(), boolName, bTr, bTe}} {
		t, err := runThreshold(ctx, x.rule, x.tr, x.te, c.MaxPasses)
		if err != nil {
			return nil, fmt.Errorf("classic, %s: %w", x.rule.Name, err)
		}
		row := ClassicRow{Rule: x.rule.Name + " (Table 1, threshold unit)", Data: x.name, TrainAcc: t.Accuracy(x.tr), TestAcc: t.Accuracy(x.te),
			Mistakes: t.Mistakes, Passes: t.ConvergedAt, Converged: t.Converged}
		res.Rules = append(res.Rules, row)
		env.logf("classic: %s on %s: %d mistakes, converged %v after %d passes, train %.4f test %.4f", row.Rule, row.Data, row.Mistakes, row.Converged, row.Passes, row.TrainAcc, row.TestAcc)
	}
	// The same rules as the toolkit's built-in output rules of a T=1 simple RNN.
	for _, x := range []struct {
		builtin string
		name    string
		tr, te  *ThresholdData
	}{{"perceptron", signName, sTr, sTe}, {"multiplicative-weights", boolName, bTr, bTe}} {
		rs, err := plasticity.Builtin(x.builtin)
		if err != nil {
			return nil, err
		}
		trS, teS := x.tr.dataSet(x.name), x.te.dataSet(x.name)
		net, err := Net{Nodes: c.Nodes, Cap: c.Cap, T: 1, Firing: c.Firing}.build(trS, rs.Multiplicative, subSeed(c.Seed, "classic rnn", len(res.Rules)))
		if err != nil {
			return nil, err
		}
		rr, err := trainRules(ctx, net, rs, plasticity.Scheme{}, trS, teS, ruleRun{Passes: 1, Seed: c.Seed})
		if err != nil {
			return nil, fmt.Errorf("classic, built-in %s: %w", x.builtin, err)
		}
		row := ClassicRow{Rule: fmt.Sprintf("built-in %s output rule, RNN |V|=%d k=%d T=1, 1 pass", x.builtin, c.Nodes, c.Cap), Data: x.name,
			TrainAcc: rr.TrainAcc, TestAcc: rr.TestAcc, Mistakes: -1, Passes: 1}
		res.Rules = append(res.Rules, row)
		env.logf("classic: %s on %s: train %.4f test %.4f", row.Rule, row.Data, row.TrainAcc, row.TestAcc)
	}

	// Theorem 1.
	if c.Starts > 0 {
		if err := classicTheorem1(ctx, env, c, res); err != nil {
			return nil, err
		}
	}

	// Theorem 3.
	for d := 0; d < c.Draws; d++ {
		tr, _, err := SignHalfspace(c.Dim, c.NTrain, 1, c.MinMargin, subSeed(c.Seed, "theorem3", d))
		if err != nil {
			return nil, fmt.Errorf("classic, Theorem 3: %w", err)
		}
		for _, p := range c.Pairs {
			t, err := runThreshold(ctx, ABRule(p[0], p[1]), tr, nil, c.MaxPasses)
			if err != nil {
				return nil, fmt.Errorf("classic, Theorem 3 (a=%g, b=%g): %w", p[0], p[1], err)
			}
			row := Theorem3Row{A: p[0], B: p[1], Draw: d + 1, Margin: tr.Margin, Mistakes: t.Mistakes, Converged: t.Converged,
				Bounds: Theorem3Bound(p[0], p[1], c.Dim, tr.Margin)}
			for _, b := range []struct {
				name string
				v    float64
			}{{"paper's", row.Bounds.Paper}, {"derived", row.Bounds.Derived}} {
				if !math.IsInf(b.v, 0) && float64(row.Mistakes) > b.v {
					res.Theorem3Violations = append(res.Theorem3Violations, fmt.Sprintf("a=%g b=%g draw %d: %d mistakes > %s bound %.1f", p[0], p[1], d+1, row.Mistakes, b.name, b.v))
				}
			}
			if !t.Converged {
				res.Theorem3Violations = append(res.Theorem3Violations, fmt.Sprintf("a=%g b=%g draw %d: not converged after %d passes", p[0], p[1], d+1, c.MaxPasses))
			}
			res.Theorem3 = append(res.Theorem3, row)
			if err := env.metric(map[string]float64{"a": p[0], "b": p[1], "draw": float64(d + 1), "margin": tr.Margin,
				"mistakes": float64(t.Mistakes), "paper_bound": row.Bounds.Paper, "derived_bound": finiteOr(row.Bounds.Derived, -1)}); err != nil {
				return nil, err
			}
		}
	}
	env.logf("classic: Theorem 3: %d (a,b) x %d draws, %d bound violations", len(c.Pairs), c.Draws, len(res.Theorem3Violations))
	if err := writeClassic(env, c, res); err != nil {
		return nil, err
	}
	return res, nil
}

func finiteOr(v, alt float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return alt
	}
	return v
}

// dataSet turns threshold data into a data.Set (labels -1 -> 0, +1 -> 1).
func (d *ThresholdData) dataSet(name string) *data.Set {
	s := &data.Set{Name: name, X: make([]float32, len(d.X)), Y: make([]int, d.N), N: d.N, Dim: d.Dim, Classes: 2, Shape: []int{d.Dim}}
	for i, v := range d.X {
		s.X[i] = float32(v)
	}
	for i, y := range d.Y {
		if y > 0 {
			s.Y[i] = 1
		}
	}
	return s
}

// classicTheorem1 learns a T=1 additive output table rule by GD from
// random N(0,1) starts (weights reset to zero for every batch) and counts
// the rules with Theorem 1's sign pattern [[-, +], [+, -]].
func classicTheorem1(ctx context.Context, env Env, c ClassicConfig, res *ClassicResult) error {
	hits := 0
	for s := 0; s < c.Starts; s++ {
		seed := subSeed(c.Seed, "theorem1", s)
		trainSet, testSet, err := data.Load("halfspace", data.Options{Seed: c.Seed, NTrain: c.MetaN, NTest: 500})
		if err != nil {
			return err
		}
		net, err := Net{Nodes: c.Nodes, Cap: c.Cap, T: 1, Firing: c.Firing}.build(trainSet, false, c.Seed)
		if err != nil {
			return err
		}
		rule := plasticity.RandomTable(plasticity.TargetOutput, 1, rand.New(rand.NewSource(seed)))
		rs := &plasticity.RuleSet{Rounds: 1, Output: rule}
		cfg := plasticity.DefaultMeta()
		cfg.Loss, cfg.Learn = graph.LossCE, []plasticity.Target{plasticity.TargetOutput}
		ml, err := plasticity.NewMetaLearner(net, rs, cfg)
		if err != nil {
			return err
		}
		task, err := plasticity.NewMetaTask(ml, net, trainSet, testSet, c.MetaEpochs, 500, seed)
		if err != nil {
			ml.Close()
			return err
		}
		err = train.Run(ctx, task, train.Options{Hooks: []any{train.NaNCheck{}}})
		ml.Close()
		if err != nil {
			return fmt.Errorf("classic, Theorem 1 start %d: %w", s+1, err)
		}
		r := append([]float64(nil), rule.Values...)
		res.Theorem1Rules = append(res.Theorem1Rules, r)
		if r[0] < 0 && r[1] > 0 && r[2] > 0 && r[3] < 0 {
			hits++
		}
		if err := env.metric(map[string]float64{"theorem1_start": float64(s + 1), "r00": r[0], "r01": r[1], "r10": r[2], "r11": r[3], "loss": task.LastLoss}); err != nil {
			return err
		}
	}
	res.Theorem1Fraction = float64(hits) / float64(c.Starts)
	env.logf("classic: Theorem 1: %d of %d random starts reach the sign pattern [[-,+],[+,-]]", hits, c.Starts)
	return nil
}

func writeClassic(env Env, c ClassicConfig, res *ClassicResult) error {
	tab := plots.NewTable("rule", "data", "train_acc", "test_acc", "mistakes", "passes", "converged")
	for _, r := range res.Rules {
		if err := tab.Append(r.Rule, r.Data, r.TrainAcc, r.TestAcc, r.Mistakes, r.Passes, r.Converged); err != nil {
			return err
		}
	}
	if err := res.table(env, "classic.csv", tab); err != nil {
		return err
	}
	if len(res.Theorem1Rules) > 0 {
		t1 := plots.NewTable("start", "r_silent_true", "r_silent_other", "r_fired_true", "r_fired_other", "sign_pattern_ok")
		for i, r := range res.Theorem1Rules {
			ok := r[0] < 0 && r[1] > 0 && r[2] > 0 && r[3] < 0
			if err := t1.Append(i+1, r[0], r[1], r[2], r[3], ok); err != nil {
				return err
			}
		}
		if err := res.table(env, "theorem1.csv", t1); err != nil {
			return err
		}
	}
	t3 := plots.NewTable("a", "b", "draw", "n", "margin", "mistakes", "converged", "paper_bound", "derived_bound")
	for _, r := range res.Theorem3 {
		if err := t3.Append(r.A, r.B, r.Draw, c.Dim, r.Margin, r.Mistakes, r.Converged, r.Bounds.Paper, nanEmpty(finiteOr(r.Bounds.Derived, math.NaN()))); err != nil {
			return err
		}
	}
	if err := res.table(env, "theorem3.csv", t3); err != nil {
		return err
	}
	var cats []string
	var trv, tev []float64
	for _, r := range res.Rules {
		cats = append(cats, shortRule(r.Rule))
		trv, tev = append(trv, r.TrainAcc), append(tev, r.TestAcc)
	}
	if err := res.figure(env, "classic", plots.BarChart{
		Title:  "Table 1 rules on halfspace data",
		XLabel: "rule", YLabel: "accuracy", Categories: cats,
		Groups: []plots.BarGroup{{Name: "train", Values: trv}, {Name: "test", Values: tev}},
		YMin:   0, YMax: 1, Width: 20 * vg.Centimeter,
	}); err != nil {
		return err
	}
	// Theorem 3: mean mistakes and mean bounds per b/a.
	type agg struct{ m, p, d []float64 }
	byRatio := map[float64]*agg{}
	for _, r := range res.Theorem3 {
		k := r.B / r.A
		if byRatio[k] == nil {
			byRatio[k] = &agg{}
		}
		a := byRatio[k]
		a.m, a.p, a.d = append(a.m, float64(r.Mistakes)), append(a.p, r.Bounds.Paper), append(a.d, r.Bounds.Derived)
	}
	var ratios []float64
	for k := range byRatio {
		ratios = append(ratios, k)
	}
	sort.Float64s(ratios)
	meas := plots.Series{Name: "mistakes (mean, +-1 sd)"}
	paper := plots.Series{Name: "paper's bound"}
	der := plots.Series{Name: "derived bound"}
	for _, k := range ratios {
		a := byRatio[k]
		m, sd := meanStd(a.m)
		meas.X, meas.Y, meas.Err = append(meas.X, k), append(meas.Y, math.Max(m, 0.5)), append(meas.Err, math.Min(sd, math.Max(m, 0.5)*0.9))
		p, _ := meanStd(a.p)
		paper.X, paper.Y = append(paper.X, k), append(paper.Y, p)
		dm, _ := meanStd(a.d)
		if !math.IsInf(dm, 0) {
			der.X, der.Y = append(der.X, k), append(der.Y, dm)
		}
	}
	series := []plots.Series{meas, paper}
	if len(der.X) > 0 {
		series = append(series, der)
	}
	return res.figure(env, "theorem3", plots.LineChart{
		Title:  fmt.Sprintf("Theorem 3: rule [[-a,a],[b,-b]] on {-1,1}^%d, sum(w*)=0, %d draws", c.Dim, c.Draws),
		XLabel: "b / a", YLabel: "mistakes until convergence", Series: series, LogY: true,
		Width: 20 * vg.Centimeter,
	})
}

func shortRule(s string) string {
	switch {
	case len(s) > 8 && s[:8] == "built-in":
		if len(s) > 19 && s[9:19] == "perceptron" {
			return "RNN + built-in perceptron"
		}
		return "RNN + built-in MW"
	case len(s) > 10 && s[:10] == "Perceptron":
		return "Perceptron (unit)"
	}
	return "MW (unit)"
}
