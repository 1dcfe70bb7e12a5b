package baseline

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/rnntest"
)

// TestUsersOfTheOneForward: gradient descent's training graph (every
// weight a parameter, or only the output layer with the rest fixed;
// float64 and float32), Accuracy and network files give the logits,
// predictions and firing codes of models.Rounds (RNN.Forward), before and
// after Adam steps, for T = 1 and 3, both firing definitions, additive and
// multiplicative networks.
func TestUsersOfTheOneForward(t *testing.T) {
	const n, m = 9, 3
	for _, c := range rnntest.Cases(n, m, 37, 20, 6, 4) {
		y := make([]int, c.N)
		for i := range y {
			y[i] = i % m
		}
		for _, mode := range []Mode{ModeAll, ModeOutput} {
			for _, f64 := range []bool{true, false} {
				name := fmt.Sprintf("%s, GD %s float64=%v", c.Name, mode, f64)
				tol := 1e-12
				if !f64 {
					tol = 1e-5
				}
				tr, err := NewTrainer(c.Net, Config{Mode: mode, LR: 1e-2, Batch: c.N, Epochs: 1, Float64: f64})
				if err != nil {
					t.Fatal(err)
				}
				for step := 0; step < 3; step++ {
					if _, err := tr.LossGrad(c.X, y); err != nil {
						t.Fatal(err)
					}
					got := floats(tr.last.logits.Value())
					net, err := tr.Network()
					if err != nil {
						t.Fatal(err)
					}
					want, _, _ := rnntest.Want(net, c.X)
					if d := rnntest.Diff(got, want, m, tol); d != "" {
						t.Errorf("%s, after %d steps: %s", name, step, d)
					}
					if _, err := tr.Step(c.X, y); err != nil {
						t.Fatal(err)
					}
				}
			}
		}

		_, wantPred, wantCodes := rnntest.Want(c.Net, c.X)
		set := rnnSet(c, wantPred)
		if acc, err := Accuracy(c.Net, set); err != nil || acc != 1 {
			t.Errorf("%s: Accuracy on the one definition's predictions %v, %v; want 1", c.Name, acc, err)
		}

		var buf bytes.Buffer
		if err := WriteRNN(&buf, c.Net, NetInfo{Trainer: "test"}); err != nil {
			t.Fatal(err)
		}
		back, _, err := ReadRNN(&buf, "test.rnn")
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := rnntest.Want(c.Net, c.X)
		got, gotPred, gotCodes := rnntest.Want(back, c.X)
		if !slices.Equal(got, want) || !slices.Equal(gotPred, wantPred) || !slices.Equal(gotCodes, wantCodes) {
			t.Errorf("%s: the network read back from its file gives other logits, predictions or codes", c.Name)
		}
	}
}

// rnnSet is the inputs of c labelled y.
func rnnSet(c rnntest.Case, y []int) *data.Set {
	return &data.Set{Name: "one-forward", N: c.N, Dim: c.Net.Inputs, Classes: c.Net.Labels, X: c.X, Y: y}
}
