package plasticity

import (
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
)

// DefaultEta is the paper's step size.
const DefaultEta = 0.01

// Scheme says when and where rules are applied.
type Scheme struct {
	// Eta scales every rule update; 0 means the rule set's Eta, or DefaultEta.
	Eta float64
	// EveryExample applies the rules after every example; the default is
	// only after misclassified ones.
	EveryExample bool
	// AllRows applies the output rule to every output row (b = 0 for the
	// true label's row, b = 1 for all others); the default touches only the
	// true label's row (b = 0) and, when it differs, the predicted label's
	// row (b = 1).
	AllRows bool
	// BothColumns applies, with EveryExample and the default rows, both
	// columns of the output rule to the true label's row when the
	// prediction is right: b = 1 (as the predicted row) and b = 0 (as the
	// true row), as the authors' code does (it updates the predicted and
	// the true row without checking that they coincide). The default
	// updates that row once, with b = 0: each row gets one update per
	// example, b naming its role, as under AllRows. (With the perceptron,
	// whose two columns cancel, BothColumns makes every-example training
	// the same as misclassified-only.) No effect without EveryExample or
	// with AllRows.
	BothColumns bool
}

// String names the scheme, e.g. "misclassified, true+predicted rows" or
// "every example, true+predicted rows, both columns when right".
func (s Scheme) String() string {
	out := "misclassified"
	if s.EveryExample {
		out = "every example"
	}
	if s.AllRows {
		out += ", all rows"
	} else {
		out += ", true+predicted rows"
		if s.EveryExample && s.BothColumns {
			out += ", both columns when right"
		}
	}
	if s.Eta != 0 {
		out += fmt.Sprintf(", eta %g", s.Eta)
	}
	return out
}

func (s Scheme) eta(rs *RuleSet) float64 {
	switch {
	case s.Eta != 0:
		return s.Eta
	case rs != nil && rs.Eta != 0:
		return rs.Eta
	}
	return DefaultEta
}

func (s Scheme) validate() error {
	if math.IsNaN(s.Eta) || math.IsInf(s.Eta, 0) || s.Eta < 0 {
		return fmt.Errorf("eta = %v, want a finite value > 0", s.Eta)
	}
	return nil
}

// CheckRules verifies that a rule set fits a network: same T, same update
// kind, and table shapes for that T.
func CheckRules(net *models.RNN, rs *RuleSet) error {
	if rs == nil {
		return errors.New("no rule set")
	}
	if err := rs.Validate(); err != nil {
		return err
	}
	if rs.Rounds != net.T {
		return fmt.Errorf("rules are for T=%d but the network has T=%d", rs.Rounds, net.T)
	}
	if rs.Multiplicative != net.Multiplicative {
		kind := func(m bool) string {
			if m {
				return "multiplicative"
			}
			return "additive"
		}
		return fmt.Errorf("rules are %s but the network resets its weights for %s rules", kind(rs.Multiplicative), kind(net.Multiplicative))
	}
	return nil
}

// Trainer trains a simple RNN with fixed plasticity rules, one example at
// a time, without gradients (rows split over the CPUs for large networks).
// Use Reset, Learn, Predict, Accuracy, Network.
//
// Additive rules train in float32 (the fast path). Multiplicative rules
// train in float64: their weights grow and shrink by a factor per update
// (the Multiplicative Weights table doubles the true row's weights of the
// firing nodes and halves the predicted row's on every mistake), which
// leaves float32's range (2^±127) within a few thousand mistakes (two
// passes over 10,000 halfspace examples overflowed to +Inf) and
// float64's (2^±1023) only eight times later. (The authors' code keeps
// its weights in float32 either way.)
type Trainer struct {
	e core
}

// core is the engine of a Trainer in its float type.
type core interface {
	reset()
	learn(x []float32, label int) int
	forward(x []float32) int
	network() *models.RNN
	dims() (n, m int)
	predictions(x []float32, pred []int) error
	close()
}

func (e *engine[F]) dims() (int, int) { return e.n, e.m }

func (e *engine[F]) close() {
	if e.par != nil {
		e.par.close()
		e.par = nil
	}
}

// predictions classifies the rows of x with the current weights (the
// pending update applied) into pred, by the batched forward pass over the
// engine's weights (the same slices), made on first use.
func (e *engine[F]) predictions(x []float32, pred []int) error {
	e.flush()
	if e.batch == nil {
		cfg := e.net.RNNConfig
		w := models.Weights[F]{AM: e.amin, WM: e.w, U: e.u, B: e.b}
		e.batch = models.NewEval(cfg, models.GEMM(cfg, w), e.b, evalRows)
	}
	return e.batch.Each(x, func(i int, logits []F) { pred[i] = models.Argmax(logits) })
}

// NewTrainer prepares rule-based training of net with rs under scheme s.
// The trainer copies what it needs; call Network to get the trained
// weights back. Close releases its worker goroutine.
func NewTrainer(net *models.RNN, rs *RuleSet, s Scheme) (*Trainer, error) {
	if err := CheckRules(net, rs); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if rs.Multiplicative {
		return &Trainer{e: withPool(net, newEngine[float64](net, rs, s))}, nil
	}
	return &Trainer{e: withPool(net, newEngine[float32](net, rs, s))}, nil
}

// withPool gives e a row-parallel worker for large networks.
func withPool[F graph.Float](net *models.RNN, e *engine[F]) *engine[F] {
	if net.Nodes >= 256 && runtime.GOMAXPROCS(0) > 1 {
		e.par = newPool()
	}
	return e
}

// Close stops the trainer's worker goroutine (if any).
func (t *Trainer) Close() { t.e.close() }

// Reset puts the trained weights back to their initial values.
func (t *Trainer) Reset() { t.e.reset() }

// Learn runs one example and applies the rules; it returns the prediction
// made before the update.
func (t *Trainer) Learn(x []float32, label int) int { return t.e.learn(x, label) }

// Predict classifies x with the current weights.
func (t *Trainer) Predict(x []float32) int { return t.e.forward(x) }

// Pass trains on the examples of set in the given order (nil = 0..N-1).
func (t *Trainer) Pass(set *data.Set, order []int) error {
	n, m := t.e.dims()
	if err := checkSet(set, n, m); err != nil {
		return err
	}
	if order == nil {
		for i := 0; i < set.N; i++ {
			t.e.learn(set.Row(i), set.Y[i])
		}
		return nil
	}
	for _, i := range order {
		t.e.learn(set.Row(i), set.Y[i])
	}
	return nil
}

// Accuracy is the fraction of set classified correctly, by the forward
// pass over batches of examples (models.Rounds with GEMM products on the
// trained weights, see Predictions).
func (t *Trainer) Accuracy(set *data.Set) (float64, error) {
	pred, err := t.Predictions(set)
	if err != nil {
		return 0, err
	}
	ok := 0
	for i, p := range pred {
		if p == set.Y[i] {
			ok++
		}
	}
	return float64(ok) / float64(set.N), nil
}

// evalRows is the batch of Predictions: large enough for the GEMMs to
// reach their speed, small enough to stay in the caches.
const evalRows = 256

// Predictions classifies the examples of set with the current weights,
// evalRows examples at a time, each product of the forward pass one GEMM
// (models.GEMM; rows split over the CPUs). They equal Predict's one by one
// except at numerical near-ties: the products sum in another order
// (TestBatchedPredictionsAgree bounds how near). Deterministic: the same
// weights and set give the same predictions.
func (t *Trainer) Predictions(set *data.Set) ([]int, error) {
	n, m := t.e.dims()
	if err := checkSet(set, n, m); err != nil {
		return nil, err
	}
	pred := make([]int, set.N)
	err := t.e.predictions(set.X[:set.N*set.Dim], pred)
	return pred, err
}

// Network returns a copy of the network with the trained weights (W, U,
// b, and A when an input rule trains it); its output biases c are zero,
// as in rule training.
func (t *Trainer) Network() *models.RNN { return t.e.network() }

// network is the network with e's weights (a pending update applied).
func (e *engine[F]) network() *models.RNN {
	e.flush()
	r := e.net.Clone()
	for i, w := range e.w {
		r.W[i] = float64(w)
	}
	for i, u := range e.u {
		r.U[i] = float64(u)
	}
	for i := range r.B {
		r.B[i] = float64(e.bias)
	}
	clear(r.C)
	if e.in != nil {
		for i, a := range e.amin {
			if r.InMask[i] != 0 {
				r.A[i] = float64(a)
			}
		}
	}
	return r
}

func checkSet(set *data.Set, n, m int) error {
	switch {
	case set == nil || set.N == 0:
		return fmt.Errorf("data set %q: %w", setName(set), models.ErrEmpty)
	case set.Dim != n:
		return fmt.Errorf("data set %q has %d features, the network %d inputs", set.Name, set.Dim, n)
	case len(set.X) < set.N*set.Dim || len(set.Y) < set.N:
		return fmt.Errorf("data set %q: %d features and %d labels for %d examples of dimension %d", set.Name, len(set.X), len(set.Y), set.N, set.Dim)
	}
	for i, y := range set.Y[:set.N] {
		if y < 0 || y >= m {
			return fmt.Errorf("data set %q: label %d of example %d outside [0, %d)", set.Name, y, i, m)
		}
	}
	return nil
}

func setName(s *data.Set) string {
	if s == nil {
		return "<nil>"
	}
	return s.Name
}

// pool is one persistent worker goroutine: run splits a row range in two
// halves, hands the upper one to the worker and does the lower one itself.
type pool struct {
	req  chan poolJob
	done chan struct{}
}

type poolJob struct {
	f      func(lo, hi int)
	lo, hi int
}

func newPool() *pool {
	p := &pool{req: make(chan poolJob), done: make(chan struct{})}
	go func() {
		for j := range p.req {
			j.f(j.lo, j.hi)
			p.done <- struct{}{}
		}
	}()
	return p
}

func (p *pool) run(n int, f func(lo, hi int)) {
	mid := n / 2
	p.req <- poolJob{f, mid, n}
	f(0, mid)
	<-p.done
}

func (p *pool) close() { close(p.req) }
