package plasticity

import (
	"math"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
)

// TestTrainTaskOnlineAccuracy checks the epoch's "online_acc" against the
// predictions Learn returns one by one on a copy of the network (the pass
// TrainTask makes), and that SkipTrainAcc leaves out "train_acc" but not
// the training itself: the same weights and test accuracy.
func TestTrainTaskOnlineAccuracy(t *testing.T) {
	all := blobs(11, 400, 10, 3)
	trainSet, testSet := data.Select(all, identity(250)), data.Select(all, identity(400)[250:])
	p, err := Builtin("perceptron")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ForRounds(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	newNet := func() *models.RNN {
		net, err := models.NewRNN(models.RNNConfig{Inputs: all.Dim, Labels: all.Classes, Nodes: 60, P: 0.5, Cap: 30, T: 1}, 4)
		if err != nil {
			t.Fatal(err)
		}
		return net
	}

	// By hand: one Learn per example in data order, two passes.
	tr, err := NewTrainer(newNet(), rs, Scheme{})
	if err != nil {
		t.Fatal(err)
	}
	var wantOnline float64
	for pass := 0; pass < 2; pass++ {
		ok := 0
		for i := 0; i < trainSet.N; i++ {
			if tr.Learn(trainSet.Row(i), trainSet.Y[i]) == trainSet.Y[i] {
				ok++
			}
		}
		wantOnline = float64(ok) / float64(trainSet.N)
	}
	wantTrain, err := tr.Accuracy(trainSet)
	if err != nil {
		t.Fatal(err)
	}
	wantNet := tr.Network()
	tr.Close()
	if wantOnline == wantTrain {
		t.Fatalf("online and after-training accuracy both %v: the test cannot tell them apart", wantOnline)
	}

	for _, skip := range []bool{false, true} {
		tr, err := NewTrainer(newNet(), rs, Scheme{})
		if err != nil {
			t.Fatal(err)
		}
		task, err := NewTrainTask(tr, trainSet, testSet, 2, 60, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		task.SkipTrainAcc = skip
		last := lastEpochMetrics(t, task)
		if last["online_acc"] != wantOnline {
			t.Errorf("SkipTrainAcc %v: online_acc %v, want %v (the last pass's, by hand)", skip, last["online_acc"], wantOnline)
		}
		if got, ok := last["train_acc"]; ok == skip || (!skip && got != wantTrain) {
			t.Errorf("SkipTrainAcc %v: train_acc %v (present %v), want %v", skip, got, ok, wantTrain)
		}
		if _, ok := last["test_acc"]; !ok {
			t.Errorf("SkipTrainAcc %v: no test_acc", skip)
		}
		if e := relErr64(tr.Network().W, wantNet.W); e != 0 {
			t.Errorf("SkipTrainAcc %v: weights differ from the hand-run pass by %v", skip, e)
		}
		tr.Close()
	}
}

// TestSilentRounds checks when SilentRounds warns, and that what it says
// holds: the perceptron widened to T=2 trains a network that gives every
// example the same class, while the same data are learned at T=1.
func TestSilentRounds(t *testing.T) {
	p, err := Builtin("perceptron")
	if err != nil {
		t.Fatal(err)
	}
	mw, err := Builtin("multiplicative-weights")
	if err != nil {
		t.Fatal(err)
	}
	all := blobs(11, 400, 10, 3)
	rng := rand.New(rand.NewSource(1))
	withRNN := &RuleSet{Rounds: 2, RNN: RandomTable(TargetRNN, 2, rng), Output: RandomTable(TargetOutput, 2, rng)}
	for _, tc := range []struct {
		name string
		rs   *RuleSet
		T    int
		warn bool
	}{{"perceptron", p, 1, false}, {"perceptron", p, 2, true}, {"perceptron", p, 3, true}, {"multiplicative-weights", mw, 2, false}, {"rnn+output tables", withRNN, 2, false}} {
		rs, err := ForRounds(tc.rs, tc.T)
		if err != nil {
			t.Fatal(err)
		}
		if got := SilentRounds(rs) != ""; got != tc.warn {
			t.Errorf("%s at T=%d: warning %v, want %v", tc.name, tc.T, got, tc.warn)
		}
		if rs.Multiplicative || rs.RNN != nil {
			continue
		}
		net, err := models.NewRNN(models.RNNConfig{Inputs: all.Dim, Labels: all.Classes, Nodes: 60, P: 0.5, Cap: 30, T: tc.T}, 4)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(net, rs, Scheme{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Pass(all, nil); err != nil {
			t.Fatal(err)
		}
		pred, err := tr.Predictions(all)
		tr.Close()
		if err != nil {
			t.Fatal(err)
		}
		classes := map[int]bool{}
		for _, c := range pred {
			classes[c] = true
		}
		if (len(classes) == 1) != tc.warn {
			t.Errorf("perceptron at T=%d: predicts %d classes after a pass (warning %v)", tc.T, len(classes), tc.warn)
		}
	}
}

// TestMultiplicativeTrainsInFloat64: the Multiplicative Weights table
// doubles and halves weights on every mistake; over two passes of 10,000
// halfspace examples some output weights leave float32's range (they
// overflowed to +Inf when the Trainer ran in float32, and the network
// could not be saved). In float64 they stay finite and the network
// learns.
func TestMultiplicativeTrainsInFloat64(t *testing.T) {
	mw, err := Builtin("multiplicative-weights")
	if err != nil {
		t.Fatal(err)
	}
	trainSet, testSet, err := data.Halfspace(data.Options{Seed: 1, NTrain: 10000, NTest: 2000})
	if err != nil {
		t.Fatal(err)
	}
	net, err := models.NewRNN(models.RNNConfig{Inputs: trainSet.Dim, Labels: 2, Nodes: 100, P: 0.5, Cap: 50, T: 1, Multiplicative: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(net, mw, Scheme{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for pass := 0; pass < 2; pass++ {
		if err := tr.Pass(trainSet, nil); err != nil {
			t.Fatal(err)
		}
	}
	big := 0.0
	for _, u := range tr.Network().U {
		if math.IsNaN(u) || math.IsInf(u, 0) {
			t.Fatalf("output weight %v", u)
		}
		big = max(big, math.Abs(math.Log2(u)))
	}
	if big <= 128 {
		t.Errorf("largest |log2 U| = %v: the run no longer leaves float32's range, so it no longer tests what it says", big)
	}
	if acc, err := tr.Accuracy(testSet); err != nil || acc < 0.75 {
		t.Errorf("test accuracy %v (%v), want >= 0.75", acc, err)
	}
}
