package plasticity

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
)

type metaCase struct {
	T, v, k, batch int
	kind           string // table or nn
	mult           bool
	every, all     bool
	both           bool
	input          bool
	loss           string
	topk           bool
	eta            float64 // the rule set's eta; 0: 0.3
}

func (c metaCase) String() string {
	return fmt.Sprintf("T%d-V%d-B%d-%s-mult%v-every%v-all%v-both%v-input%v-%s-topk%v-eta%g", c.T, c.v, c.batch, c.kind, c.mult, c.every, c.all, c.both, c.input, c.loss, c.topk, c.eta)
}

// metaCases cover every option of the meta-learner: T = 1, 2 and 3,
// tables and small-NN rules, additive and multiplicative, every example
// or misclassified, all rows, both columns, the input rule, the three
// losses, both firing definitions, and batches of 100 (their eta small
// enough that the trained network's logits stay out of saturation: at
// eta 0.3 a hundred updates drive the softmax to one-hot and every
// gradient to zero).
var metaCases = []metaCase{
	{T: 1, v: 12, k: 6, batch: 10, kind: "table", loss: graph.LossCE},
	{T: 1, v: 12, k: 6, batch: 10, kind: "nn", every: true, loss: graph.LossMSE, topk: true},
	{T: 3, v: 12, k: 6, batch: 10, kind: "table", loss: graph.LossCE, topk: true},
	{T: 3, v: 12, k: 6, batch: 10, kind: "table", every: true, all: true, input: true, loss: graph.LossSoftmaxCE},
	{T: 3, v: 12, k: 6, batch: 10, kind: "nn", every: true, loss: graph.LossCE},
	{T: 3, v: 12, k: 6, batch: 10, kind: "table", mult: true, every: true, loss: graph.LossCE, topk: true},
	{T: 1, v: 12, k: 6, batch: 10, kind: "table", mult: true, all: true, loss: graph.LossCE},
	{T: 2, v: 12, k: 6, batch: 10, kind: "table", every: true, both: true, input: true, loss: graph.LossCE, topk: true},
	{T: 3, v: 12, k: 6, batch: 10, kind: "table", mult: true, every: true, both: true, input: true, loss: graph.LossMSE, eta: 0.1},
	{T: 3, v: 12, k: 6, batch: 10, kind: "nn", mult: true, every: true, both: true, input: true, loss: graph.LossCE, eta: 0.01},
	{T: 3, v: 40, k: 20, batch: 100, kind: "nn", loss: graph.LossSoftmaxCE, topk: true, eta: 0.01},
	{T: 2, v: 40, k: 20, batch: 100, kind: "table", mult: true, every: true, input: true, loss: graph.LossMSE, eta: 0.01},
	{T: 1, v: 40, k: 20, batch: 100, kind: "table", all: true, loss: graph.LossCE, eta: 0.003},
}

// metaSetup builds case c's network, rule set, batch and configuration.
func metaSetup(t *testing.T, ci int, c metaCase) (*models.RNN, func() *RuleSet, *data.Set, MetaConfig) {
	t.Helper()
	net, err := models.NewRNN(models.RNNConfig{Inputs: 4, Labels: 3, Nodes: c.v, P: 0.5, Cap: c.k, T: c.T, Multiplicative: c.mult, Firing: firingOf(c.topk)}, int64(ci))
	if err != nil {
		t.Fatal(err)
	}
	rules := func() *RuleSet { // the same rules every call
		rng := rand.New(rand.NewSource(int64(10 + ci)))
		eta := c.eta
		if eta == 0 {
			eta = 0.3
		}
		rs := &RuleSet{Rounds: c.T, Multiplicative: c.mult, Eta: eta}
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
		if c.input {
			rs.Input = mk(TargetInput)
		}
		return rs
	}
	cfg := DefaultMeta()
	cfg.Batch, cfg.Loss, cfg.Learn = c.batch, c.loss, []Target{TargetRNN, TargetOutput}
	if c.input {
		cfg.Learn = append(cfg.Learn, TargetInput)
	}
	cfg.Scheme = Scheme{EveryExample: c.every, AllRows: c.all, BothColumns: c.both}
	return net, rules, blobs(int64(ci), c.batch, 4, 3), cfg
}

// TestMetaGradientFiniteDifference compares the PlasticTrain gradient with
// central finite differences of the loss (float64) for every case of
// metaCases: table and small-NN rules, RNN, output and input rules, T = 1,
// 2 and 3, additive and multiplicative, the schemes, the three losses,
// both firing definitions, batches of 10 and 100 (the reference the device
// meta-learner is held to: device_meta_test.go).
func TestMetaGradientFiniteDifference(t *testing.T) {
	for ci, c := range metaCases {
		t.Run(c.String(), func(t *testing.T) {
			net, rules, set, cfg := metaSetup(t, ci, c)
			rs := rules()
			ml := newMeta(t, net, rs, cfg)
			_, grads, err := ml.LossGrad(set.X, set.Y)
			if err != nil {
				t.Fatal(err)
			}
			params := ruleParams(rs)
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
			ml := newMeta(t, net, rs, cfg)
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
