package plasticity

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
)

// The replay of the authors' code (testdata/gen_brainnet.py runs their
// BrainNet classes and wrote testdata/brainnet_replay.json; CI needs no
// Python). Every case is one meta-learning step of their LocalNet on a
// small fixed network (n=4, m=3, |V|=10, k=4, a batch of 12): reset, rule-
// based training over the batch one example at a time, the loss of the
// batch on the trained network and its gradient with respect to every rule
// table. T=1 (output rule) and T=3 (RNN and output rule), additive and
// multiplicative, misclassified-only and every example, true+predicted
// rows and all rows, the authors' softmax-then-cross-entropy and MSE.
//
// Their firing is top-k firing (models.FiringTopK). Where several entries
// equal the cap's threshold (all zeros in rounds 2..T while W is still
// zero) PyTorch's top-k keeps an unspecified set and graph.CapMask the
// lowest indices; the test keeps exactly the nodes their run kept among
// those ties, and checks that every other entry is kept or dropped alike.
// Their every-example scheme with the true and predicted rows updates a
// correctly predicted label's row with both output-rule columns:
// Scheme.BothColumns.
//
// Precision. Each case is recorded twice by the generator, under PyTorch's
// default dtype float64 and float32. With float64 the authors' code is
// float64 throughout and the project's float64 engine (the meta-learner's)
// must agree to 1e-10 relative: weights, loss and gradients. With float32
// (how their code runs: W and U are float32 tensors made by torch.zeros,
// so every update is rounded to float32, 2^-24 relative, while sums run in
// float64 and the gradient flows back through float32 tensors) weights
// agree to 2^-24 times the number of updates (a bound on the accumulated
// rounding), relative to the largest weight, and loss and gradients to
// 1e-5 relative (float32 precision plus that accumulation); the project's
// float32 Trainer is checked against the same vectors at the same bounds,
// with the same predictions.

type brainnetCase struct {
	Name           string    `json:"name"`
	T              int       `json:"T"`
	Inputs         int       `json:"inputs"`
	Labels         int       `json:"labels"`
	Nodes          int       `json:"nodes"`
	Cap            int       `json:"cap"`
	Batch          int       `json:"batch"`
	Multiplicative bool      `json:"multiplicative"`
	EveryExample   bool      `json:"every_example"`
	AllRows        bool      `json:"all_rows"`
	Loss           string    `json:"loss"`
	WeightsDtype   string    `json:"weights_dtype"`
	A              []float64 `json:"A"`
	InMask         []float64 `json:"in_mask"`
	GraphMask      []float64 `json:"graph_mask"`
	X              []float64 `json:"x"`
	Y              []int     `json:"y"`
	OutputRule     []float64 `json:"output_rule"`
	RNNRule        []float64 `json:"rnn_rule"`
	Preds          []int     `json:"preds"`
	Picks          [][][]int `json:"picks"`
	W              []float64 `json:"W"`
	U              []float64 `json:"U"`
	LossValue      float64   `json:"loss_value"`
	GradOutput     []float64 `json:"grad_output"`
	GradRNN        []float64 `json:"grad_rnn"`
}

func loadBrainnet(t *testing.T) []brainnetCase {
	t.Helper()
	b, err := os.ReadFile("testdata/brainnet_replay.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []brainnetCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 30 {
		t.Fatalf("%d replay cases, want the generator's 36", len(doc.Cases))
	}
	return doc.Cases
}

func (c *brainnetCase) net(t *testing.T) *models.RNN {
	t.Helper()
	cfg := models.RNNConfig{Inputs: c.Inputs, Labels: c.Labels, Nodes: c.Nodes, P: 0.5, Cap: c.Cap, T: c.T,
		Multiplicative: c.Multiplicative, Firing: models.FiringTopK}
	net, err := models.NewRNN(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(net.A, c.A)
	copy(net.InMask, c.InMask)
	copy(net.GraphMask, c.GraphMask)
	return net
}

func (c *brainnetCase) rules(t *testing.T) *RuleSet {
	t.Helper()
	out, err := NewTable(TargetOutput, c.T, append([]float64(nil), c.OutputRule...))
	if err != nil {
		t.Fatal(err)
	}
	rs := &RuleSet{Rounds: c.T, Multiplicative: c.Multiplicative, Output: out}
	if c.T > 1 {
		if rs.RNN, err = NewTable(TargetRNN, c.T, append([]float64(nil), c.RNNRule...)); err != nil {
			t.Fatal(err)
		}
	}
	return rs
}

func (c *brainnetCase) scheme() Scheme {
	return Scheme{EveryExample: c.EveryExample, AllRows: c.AllRows, BothColumns: c.EveryExample && !c.AllRows}
}

func (c *brainnetCase) x32() []float32 {
	x := make([]float32, len(c.X))
	for i, v := range c.X {
		x[i] = float32(v)
		if float64(x[i]) != v {
			panic(fmt.Sprintf("input %d = %v is not a float32 value", i, v))
		}
	}
	return x
}

// tieBreaker returns the engine hook that keeps, among the entries equal to
// the cap's threshold, the nodes the authors' run picked (per example and
// round, in the order the engine calls it), and records any other
// disagreement in *errs.
func tieBreaker[F float32 | float64](c *brainnetCase, errs *[]string) func(z []F, keep []bool) {
	calls := 0
	return func(z []F, keep []bool) {
		ex, round := calls/c.T, calls%c.T
		calls++
		if ex >= len(c.Picks) {
			*errs = append(*errs, fmt.Sprintf("cap called for example %d of %d", ex, len(c.Picks)))
			return
		}
		want := make([]bool, len(z))
		for _, i := range c.Picks[ex][round] {
			want[i] = true
		}
		thr := F(math.Inf(1))
		for i, k := range keep {
			if k {
				thr = min(thr, z[i])
			}
		}
		for i := range z {
			switch {
			case z[i] == thr:
				keep[i] = want[i]
			case keep[i] != want[i]:
				*errs = append(*errs, fmt.Sprintf("example %d round %d: node %d (value %v, threshold %v) kept %v, the authors' %v",
					ex, round+1, i, z[i], thr, keep[i], want[i]))
			}
		}
	}
}

// tolerances of a case (see the comment at the top).
func (c *brainnetCase) tolerances() (weights, loss float64) {
	if c.WeightsDtype == "float64" {
		return 1e-10, 1e-10
	}
	return float64(len(c.Y)) * 0x1p-24, 1e-5
}

// closeTo reports the first entry of got farther from want than tol
// relative to the largest |want| (or 1, when smaller).
func closeTo(got, want []float64, mask []float64, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	w := append([]float64(nil), want...)
	scale := 1.0
	for i := range w {
		if mask != nil {
			w[i] *= mask[i]
		}
		scale = max(scale, math.Abs(w[i]))
	}
	for i, w := range w {
		if d := math.Abs(got[i] - w); !(d <= tol*scale) {
			return fmt.Errorf("entry %d: %v, want %v (difference %.3g, tolerance %.3g)", i, got[i], w, d, tol*scale)
		}
	}
	return nil
}

// updated lists the examples the authors' run applied the rules after.
func (c *brainnetCase) updated() []int {
	var u []int
	for i, p := range c.Preds {
		if c.EveryExample || p != c.Y[i] {
			u = append(u, i)
		}
	}
	return u
}

// TestBrainNetReplayMeta replays every case through the meta-learner: the
// float64 engine's weights after the pass, the predictions it updated on,
// the loss and the gradient of every rule table.
func TestBrainNetReplayMeta(t *testing.T) {
	for _, c := range loadBrainnet(t) {
		t.Run(c.Name, func(t *testing.T) {
			net, rs := c.net(t), c.rules(t)
			cfg := DefaultMeta()
			cfg.Batch, cfg.Scheme = c.Batch, c.scheme()
			cfg.Learn = []Target{TargetOutput}
			if c.T > 1 {
				cfg.Learn = []Target{TargetRNN, TargetOutput}
			}
			switch c.Loss {
			case "softmax-ce":
				cfg.Loss = graph.LossSoftmaxCE
			case "mse":
				cfg.Loss = graph.LossMSE
			default:
				t.Fatalf("loss %q", c.Loss)
			}
			ml := newMeta(t, net, rs, cfg)
			var errs []string
			e := ml.in.e
			e.ev.TieBreak = tieBreaker[float64](&c, &errs)
			loss, grads, err := ml.LossGrad(c.x32(), c.Y)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range errs {
				t.Error(s)
			}
			up := c.updated()
			if len(e.rec.preds) != len(up) {
				t.Fatalf("rules applied after %d examples, the authors' after %d", len(e.rec.preds), len(up))
			}
			for k, ex := range up {
				if e.rec.preds[k] != c.Preds[ex] {
					t.Fatalf("example %d: prediction %d, the authors' %d", ex, e.rec.preds[k], c.Preds[ex])
				}
			}
			tolW, tolL := c.tolerances()
			if c.T > 1 {
				if err := closeTo(e.w, c.W, c.GraphMask, tolW); err != nil {
					t.Errorf("W after the pass: %v", err)
				}
			}
			if err := closeTo(e.u, c.U, nil, tolW); err != nil {
				t.Errorf("U after the pass: %v", err)
			}
			if err := closeTo([]float64{loss}, []float64{c.LossValue}, nil, tolL); err != nil {
				t.Errorf("loss: %v", err)
			}
			want := [][]float64{c.GradOutput}
			if c.T > 1 {
				want = [][]float64{c.GradRNN, c.GradOutput}
			}
			for i := range want {
				if err := closeTo(grads[i], want[i], nil, tolL); err != nil {
					t.Errorf("gradient of the %s rule: %v", cfg.Learn[i], err)
				}
			}
		})
	}
}

// TestBrainNetReplayTrainer replays the training pass of every case through
// the Trainer every command trains with (float32 for additive rules,
// float64 for multiplicative ones): the same
// prediction on every example and the authors' weights at float32
// precision. For the every-example cases on the true and predicted rows it
// also checks that the project's default scheme (BothColumns off) does
// differ from the authors' there.
func TestBrainNetReplayTrainer(t *testing.T) {
	for _, c := range loadBrainnet(t) {
		t.Run(c.Name, func(t *testing.T) {
			run := func(s Scheme, check bool) []float64 {
				tr, err := NewTrainer(c.net(t), c.rules(t), s)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				var errs []string
				switch e := tr.e.(type) {
				case *engine[float32]:
					e.ev.TieBreak = tieBreaker[float32](&c, &errs)
				case *engine[float64]:
					e.ev.TieBreak = tieBreaker[float64](&c, &errs)
				}
				x := c.x32()
				for i, y := range c.Y {
					p := tr.Learn(x[i*c.Inputs:(i+1)*c.Inputs], y)
					if check && p != c.Preds[i] {
						t.Fatalf("example %d: prediction %d, the authors' %d", i, p, c.Preds[i])
					}
				}
				if check {
					for _, s := range errs {
						t.Error(s)
					}
				}
				got := tr.Network()
				if check {
					// float32 arithmetic here: the float32 bound either way
					tol := float64(len(c.Y)) * 0x1p-24 * 4
					if c.T > 1 {
						if err := closeTo(got.W, c.W, c.GraphMask, tol); err != nil {
							t.Errorf("W: %v", err)
						}
					}
					if err := closeTo(got.U, c.U, nil, tol); err != nil {
						t.Errorf("U: %v", err)
					}
				}
				return got.U
			}
			run(c.scheme(), true)
			if c.EveryExample && !c.AllRows {
				s := c.scheme()
				s.BothColumns = false
				if closeTo(run(s, false), c.U, nil, 1e-3) == nil {
					t.Error("with BothColumns off the output weights still match the authors': the option changes nothing")
				}
			}
		})
	}
}
