package plasticity

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/rnntest"
	"github.com/plasticity-lab/plastic/models"
)

// TestTrainersUseTheOneForward: after rule-based training, the rule
// trainer's forward pass (the fast path: sparse inputs, rows split over
// two goroutines at |V| = 300, the pending RNN update fused into the
// second round) gives the logits and firing codes of models.Rounds
// (RNN.Forward) on the trained network, in float64 (the meta-learner's
// engine) and float32 (Trainer.Predict); Trainer.Predictions and Accuracy
// (GEMMs over batches) give RNN.Forward's predictions. T = 1 and 3, both
// firing definitions, additive and multiplicative rules.
func TestTrainersUseTheOneForward(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	const n, m, N, probes = 40, 4, 30, 12
	for _, nodes := range []int{37, 300} {
		for _, T := range []int{1, 3} {
			for _, firing := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
				for _, mult := range []bool{false, true} {
					name := fmt.Sprintf("|V|=%d T=%d %v multiplicative=%v", nodes, T, firing, mult)
					rng := rand.New(rand.NewSource(int64(nodes + 10*T)))
					net, err := models.NewRNN(models.RNNConfig{Inputs: n, Labels: m, Nodes: nodes, P: 0.5, Cap: nodes / 2, T: T,
						Multiplicative: mult, Firing: firing}, int64(T))
					if err != nil {
						t.Fatal(err)
					}
					rs := &RuleSet{Rounds: T, Multiplicative: mult, RNN: RandomTable(TargetRNN, T, rng), Output: RandomTable(TargetOutput, T, rng)}
					set := refData(rng, N+probes, n, m, true)
					checkOneForward(t, name, net, rs, set, N)
				}
			}
		}
	}
}

func checkOneForward(t *testing.T, name string, net *models.RNN, rs *RuleSet, set *data.Set, N int) {
	t.Helper()
	scheme := Scheme{EveryExample: true}
	tr, err := NewTrainer(net, rs, scheme)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, _, par := lastForward(tr)
	if net.Nodes >= 256 && !par {
		t.Fatalf("%s: the trainer does not split rows", name)
	}
	e64 := newEngine[float64](net, rs, scheme)
	if par {
		e64.par = newPool()
		defer e64.par.close()
	}
	for i := 0; i < N; i++ {
		tr.Learn(set.Row(i), set.Y[i])
		e64.learn(set.Row(i), set.Y[i])
	}
	probes := &data.Set{Name: "probes", N: set.N - N, Dim: set.Dim, Classes: set.Classes, X: set.X[N*set.Dim:], Y: set.Y[N:]}
	for _, x := range []struct {
		what    string
		tol     float64
		pred    func(x []float32) int
		out     func() ([]float64, []uint8)
		trained func() *models.RNN
	}{
		{"float64 engine", 1e-12, e64.forward, func() ([]float64, []uint8) { return e64.logits, e64.codes }, e64.network},
		{"Trainer.Predict", 1e-5, tr.Predict, func() ([]float64, []uint8) { l, c, _ := lastForward(tr); return l, c }, tr.Network},
	} {
		// The first probe runs with the last example's RNN update pending
		// (fused into its second round); the network is read after it.
		x.pred(probes.Row(0))
		logits0, codes0 := x.out()
		logits0, codes0 = slices.Clone(logits0), slices.Clone(codes0)
		trained := x.trained()
		want, wantPred, wantCodes := rnntest.Want(trained, probes.X)
		if d := rnntest.Diff(logits0, want[:net.Labels], net.Labels, x.tol); d != "" {
			t.Errorf("%s, %s, update pending: %s", name, x.what, d)
		}
		if !slices.Equal(codes0, wantCodes[:net.Nodes]) {
			t.Errorf("%s, %s, update pending: firing codes differ", name, x.what)
		}
		for i := 0; i < probes.N; i++ {
			if p := x.pred(probes.Row(i)); p != wantPred[i] {
				t.Errorf("%s, %s: probe %d predicted %d, the one definition %d", name, x.what, i, p, wantPred[i])
			}
			logits, codes := x.out()
			if d := rnntest.Diff(logits, want[i*net.Labels:(i+1)*net.Labels], net.Labels, x.tol); d != "" {
				t.Errorf("%s, %s: probe %d: %s", name, x.what, i, d)
			}
			if !slices.Equal(codes, wantCodes[i*net.Nodes:(i+1)*net.Nodes]) {
				t.Errorf("%s, %s: probe %d: firing codes differ", name, x.what, i)
			}
		}
		if x.what != "Trainer.Predict" {
			continue
		}
		pred, err := tr.Predictions(probes)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pred, wantPred) {
			t.Errorf("%s: Trainer.Predictions %v, the one definition %v", name, pred, wantPred)
		}
		ok := 0
		for i, p := range wantPred {
			if p == probes.Y[i] {
				ok++
			}
		}
		if acc, err := tr.Accuracy(probes); err != nil || acc != float64(ok)/float64(probes.N) {
			t.Errorf("%s: Trainer.Accuracy %v, %v; the one definition %v", name, acc, err, float64(ok)/float64(probes.N))
		}
	}
}

// TestBatchedPredictionsAgree: on MNIST at |V| = 1000, k = 500, T = 3 (a
// random W, as the rounds need an informative one, and U trained by the
// perceptron output rule over 1000 images), the batched evaluation
// (Trainer.Predictions: GEMMs, another order of summation) predicts what
// the one-by-one path (Trainer.Predict) predicts for at least 99.9% of
// 3000 images, and every disagreement is a numerical near-tie of the
// float64 forward pass on the trained weights: in some round the smallest
// (positive) value the cap keeps is within nearTie of the largest it drops, or the
// two largest logits are, relative to the largest magnitude of that round
// or of the logits. Both paths are float32, relative rounding ~1e-7 per
// operation over sums of ~1000 terms; nearTie = 1e-4 leaves room for
// cancellation.
func TestBatchedPredictionsAgree(t *testing.T) {
	const nearTie = 1e-4
	train, test, err := data.Load("mnist", data.Options{NTrain: 1000, NTest: 3000})
	if err != nil {
		t.Skipf("MNIST: %v", err)
	}
	net, err := models.NewRNN(models.RNNConfig{Inputs: 784, Labels: 10, Nodes: 1000, P: 0.5, Cap: 500, T: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Builtin("perceptron")
	if err != nil {
		t.Fatal(err)
	}
	if rs, err = ForRounds(rs, 3); err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(net, rs, Scheme{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng := rand.New(rand.NewSource(3))
	e := eng32(t, tr)
	for i := range e.w {
		e.w[i] = e.gmask[i] * float32(rng.NormFloat64()/math.Sqrt(500))
	}
	if err := tr.Pass(train, nil); err != nil {
		t.Fatal(err)
	}
	batched, err := tr.Predictions(test)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := tr.Predictions(test); !slices.Equal(again, batched) {
		t.Fatal("two batched evaluations differ")
	}
	// margins of the float64 forward pass of the trained network
	ref := tr.Network().Reference()
	var margin float64
	ref.TieBreak = func(z []float64, keep []bool) {
		lo, hi, scale := math.Inf(1), math.Inf(-1), 0.0
		for i, v := range z {
			if keep[i] {
				lo = min(lo, v)
			} else {
				hi = max(hi, v)
			}
			scale = max(scale, math.Abs(v))
		}
		if lo > 0 { // else the cap keeps every positive value: no selection to tip
			margin = min(margin, (lo-hi)/scale)
		}
	}
	classes := map[int]bool{}
	disagree, right := 0, 0
	for i := 0; i < test.N; i++ {
		one := tr.Predict(test.Row(i))
		classes[one] = true
		if one == test.Y[i] {
			right++
		}
		if one == batched[i] {
			continue
		}
		disagree++
		margin = math.Inf(1)
		if err := ref.Run(test.Row(i), 1); err != nil {
			t.Fatal(err)
		}
		l := slices.Clone(ref.Logits())
		slices.Sort(l)
		margin = min(margin, (l[len(l)-1]-l[len(l)-2])/max(math.Abs(l[0]), math.Abs(l[len(l)-1])))
		t.Logf("image %d: one by one %d, batched %d; margin %.3g", i, one, batched[i], margin)
		if !(margin < nearTie) {
			t.Errorf("image %d: one by one %d, batched %d, but the nearest tie is %.3g apart (relative), not below %g", i, one, batched[i], margin, nearTie)
		}
	}
	t.Logf("%d of %d predictions differ; accuracy %.3f; %d classes predicted", disagree, test.N, float64(right)/float64(test.N), len(classes))
	if len(classes) < 8 || right*2 < test.N {
		t.Errorf("%d classes predicted, accuracy %d/%d: a degenerate network agrees trivially", len(classes), right, test.N)
	}
	if disagree*1000 > test.N {
		t.Errorf("%d of %d predictions differ, more than 0.1%%", disagree, test.N)
	}
}
