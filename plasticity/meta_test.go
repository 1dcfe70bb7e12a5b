package plasticity

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
)

// TestMetaGradientFiniteDifference compares the PlasticTrain gradient with
// central finite differences of the loss (float64) for table and small-NN
// rules, output and RNN rules, T = 1 and 3, additive and multiplicative.
func TestMetaGradientFiniteDifference(t *testing.T) {
	cases := []struct {
		T     int
		kind  string
		mult  bool
		every bool
		all   bool
		input bool
		loss  string
	}{
		{1, "table", false, false, false, false, graph.LossCE},
		{1, "nn", false, true, false, false, graph.LossMSE},
		{3, "table", false, false, false, false, graph.LossCE},
		{3, "table", false, true, true, true, graph.LossSoftmaxCE},
		{3, "nn", false, true, false, false, graph.LossCE},
		{3, "table", true, true, false, false, graph.LossCE},
		{1, "table", true, false, true, false, graph.LossCE},
	}
	for ci, c := range cases {
		name := fmt.Sprintf("T%d-%s-mult%v-every%v-all%v-input%v-%s", c.T, c.kind, c.mult, c.every, c.all, c.input, c.loss)
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(10 + ci)))
			net, err := models.NewRNN(models.RNNConfig{Inputs: 4, Labels: 3, Nodes: 12, P: 0.5, Cap: 6, T: c.T, Multiplicative: c.mult}, int64(ci))
			if err != nil {
				t.Fatal(err)
			}
			rs := &RuleSet{Rounds: c.T, Multiplicative: c.mult, Eta: 0.3}
			mk := func(tg Target) Rule {
				if c.kind == "nn" {
					r, _ := NewNN(tg, c.T, 5, rng)
					return r
				}
				r := RandomTable(tg, c.T, rng)
				if c.mult {
					for i := range r.Values {
						r.Values[i] *= 0.5
					}
				}
				return r
			}
			rs.RNN, rs.Output = mk(TargetRNN), mk(TargetOutput)
			learn := []Target{TargetRNN, TargetOutput}
			if c.input {
				rs.Input = mk(TargetInput)
				learn = append(learn, TargetInput)
			}
			set := blobs(int64(ci), 10, 4, 3)
			cfg := DefaultMeta()
			cfg.Batch, cfg.Loss, cfg.Learn = 10, c.loss, learn
			cfg.Scheme = Scheme{EveryExample: c.every, AllRows: c.all}
			ml, err := NewMetaLearner(net, rs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ml.Close()
			_, grads, err := ml.LossGrad(set.X, set.Y)
			if err != nil {
				t.Fatal(err)
			}
			var params [][]float64
			for _, r := range rs.Rules() {
				params = append(params, r.Params()...)
			}
			const h = 1e-6
			checked, nonzero := 0, 0
			for k, p := range params {
				for i := range p {
					old := p[i]
					p[i] = old + h
					lp, _, err := ml.LossGrad(set.X, set.Y)
					if err != nil {
						t.Fatal(err)
					}
					p[i] = old - h
					lm, _, _ := ml.LossGrad(set.X, set.Y)
					p[i] = old
					fd := (lp - lm) / (2 * h)
					if math.Abs(fd-grads[k][i]) > 1e-5*(1+math.Abs(fd)) {
						t.Errorf("param %d[%d]: gradient %v, finite difference %v", k, i, grads[k][i], fd)
					}
					checked++
					if grads[k][i] != 0 {
						nonzero++
					}
				}
			}
			if nonzero < checked/3 {
				t.Errorf("only %d of %d gradient entries non-zero", nonzero, checked)
			}
		})
	}
}

// TestMetaGradientDoesNotAccumulate: every LossGrad call returns the
// gradient of its own batch, not the running sum over the calls before it
// (the tape machine adds into the parameters' dual values unless they are
// zeroed), and a Step's Adam update uses that batch gradient.
func TestMetaGradientDoesNotAccumulate(t *testing.T) {
	for _, kind := range []string{"table", "nn"} {
		t.Run(kind, func(t *testing.T) {
			rng := rand.New(rand.NewSource(3))
			net, err := models.NewRNN(models.RNNConfig{Inputs: 4, Labels: 3, Nodes: 12, P: 0.5, Cap: 6, T: 3}, 5)
			if err != nil {
				t.Fatal(err)
			}
			rs := &RuleSet{Rounds: 3, Eta: 0.3}
			if kind == "table" {
				rs.RNN = RandomTable(TargetRNN, 3, rng)
			} else if rs.RNN, err = NewNN(TargetRNN, 3, 5, rng); err != nil {
				t.Fatal(err)
			}
			rs.Output = RandomTable(TargetOutput, 3, rng)
			a, b := blobs(7, 10, 4, 3), blobs(8, 10, 4, 3)
			cfg := DefaultMeta()
			cfg.Batch, cfg.Learn = 10, []Target{TargetRNN, TargetOutput}
			ml, err := NewMetaLearner(net, rs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ml.Close()
			_, first, err := ml.LossGrad(a.X, a.Y)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := ml.LossGrad(b.X, b.Y); err != nil {
				t.Fatal(err)
			}
			for call := 3; call <= 4; call++ {
				_, again, err := ml.LossGrad(a.X, a.Y)
				if err != nil {
					t.Fatal(err)
				}
				for k := range first {
					for i := range first[k] {
						if d := math.Abs(again[k][i] - first[k][i]); d > 1e-12*(1+math.Abs(first[k][i])) {
							t.Fatalf("call %d: param %d[%d] gradient %v, the first call's %v", call, k, i, again[k][i], first[k][i])
						}
					}
				}
			}
		})
	}
}
