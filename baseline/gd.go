package baseline

import (
	"context"
	"fmt"
	"math"
	"math/rand"

	"github.com/plasticity-lab/plastic/internal/param"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	"github.com/plasticity-lab/plastic/train"
)

// Mode says which weights gradient descent trains.
type Mode string

// Modes of Config.Mode (flag --train).
const (
	ModeOutput Mode = "output" // U and c only
	ModeAll    Mode = "all"    // A, W, U, b and c
)

// ParseMode checks a mode name (the train parameter: --train).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeOutput, ModeAll:
		return Mode(s), nil
	}
	return "", param.Errorf("train", "%q: want %q or %q", s, ModeOutput, ModeAll)
}

// InitScale is the half-width of the uniform initialisation of the weights
// gradient descent trains (and of W in ModeOutput).
const InitScale = 0.5

// Config of gradient-descent training.
type Config struct {
	Mode    Mode
	LR      float64 // Adam learning rate (1e-2)
	Batch   int     // examples per mini-batch (100)
	Epochs  int     // passes over the training set (2)
	Float64 bool    // float64 graph (gradient checks); float32 otherwise
	Seed    int64   // initial weights and batch order
}

// DefaultConfig is Adam with lr 1e-2 on mini-batches of 100 for 2 epochs,
// training everything.
func DefaultConfig() Config {
	return Config{Mode: ModeAll, LR: 1e-2, Batch: 100, Epochs: 2, Seed: 1}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	if _, err := ParseMode(string(c.Mode)); err != nil {
		return err
	}
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return param.Errorf("lr", "%v: want a finite value > 0", c.LR)
	case c.Batch < 1:
		return param.Errorf("batch", "%d: want >= 1", c.Batch)
	case c.Epochs < 1:
		return param.Errorf("epochs", "%d: want >= 1", c.Epochs)
	}
	return nil
}

// Init sets net's weights for gradient descent in the given mode, drawing
// from rng (see the package comment). The masks are left alone.
func Init(net *models.RNN, mode Mode, rng *rand.Rand) {
	uni := func(s []float64) {
		for i := range s {
			s[i] = InitScale * (2*rng.Float64() - 1)
		}
	}
	switch mode {
	case ModeAll:
		uni(net.A)
		uni(net.W)
		uni(net.U)
		uni(net.B)
		uni(net.C)
	default:
		uni(net.W)
		clear(net.U)
		clear(net.B)
		clear(net.C)
	}
}

// Trainer takes Adam steps on the weights of a simple RNN through its
// Gorgonia forward graph, with the mean cross-entropy of a mini-batch
// (graph.SoftmaxCrossEntropy, stable per row). It compiles one graph for
// mini-batches of Config.Batch examples and, when a smaller final batch
// comes, one for that size. The optimizer's state follows the parameters by
// position; their values are copied into the smaller graph before its step
// and back after it.
type Trainer struct {
	cfg      Config
	net      *models.RNN
	dt       tensor.Dtype
	params   models.GraphParams // of the full-batch graph
	sessions map[int]*session
	last     *session
	opt      optimizer.Optimizer
}

// copyParams copies the parameter values of src into dst (same layout).
func copyParams(dst, src models.GraphParams) {
	d, s := dst.Nodes(), src.Nodes()
	for i := range d {
		dv, sv := d[i].Value().(*tensor.Dense), s[i].Value().(*tensor.Dense)
		switch x := dv.Data().(type) {
		case []float32:
			copy(x, sv.Data().([]float32))
		case []float64:
			copy(x, sv.Data().([]float64))
		}
	}
}

// session is the compiled graph for one batch size.
type session struct {
	params models.GraphParams
	vgs    []G.ValueGrad
	xT, yT *tensor.Dense // inputs (batch x n) and labels (batch)
	loss   *G.Node
	logits *G.Node
	vm     G.VM
}

// NewTrainer builds the training graph for net, whose weights it copies;
// Network returns the trained copy. It does not re-initialise net: call
// Init first for a fresh baseline.
func NewTrainer(net *models.RNN, cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, net: net.Clone(), dt: tensor.Float32, sessions: map[int]*session{}}
	if cfg.Float64 {
		t.dt = tensor.Float64
	}
	s, err := t.newSession(cfg.Batch, nil)
	if err != nil {
		return nil, err
	}
	t.params = s.params
	oc := optimizer.DefaultConfig()
	oc.Name, oc.LR = optimizer.NameAdam, cfg.LR
	if t.opt, err = optimizer.New(oc); err != nil {
		return nil, err
	}
	return t, nil
}

// newSession compiles the graph for batches of B; with shared (the
// full-batch graph's parameters) its parameter nodes hold the same tensors.
func (t *Trainer) newSession(B int, shared *models.GraphParams) (*session, error) {
	net := t.net
	g := G.NewGraph()
	var ps models.GraphParams
	if shared == nil {
		all := net.NewGraphParams(g, t.dt)
		switch t.cfg.Mode {
		case ModeAll:
			ps = all
		case ModeOutput:
			ps = models.GraphParams{U: all.U, C: all.C}
		}
		if net.T == 1 {
			ps.W = nil // W is not used by a one-round network
		}
	} else {
		like := func(from *G.Node) *G.Node {
			if from == nil {
				return nil
			}
			v := from.Value().(*tensor.Dense).Clone().(*tensor.Dense)
			return G.NodeFromAny(g, v, G.WithName(from.Name()))
		}
		ps = models.GraphParams{A: like(shared.A), W: like(shared.W), U: like(shared.U), B: like(shared.B), C: like(shared.C)}
	}
	s := &session{params: ps,
		xT: tensor.New(tensor.WithShape(B, net.Inputs), tensor.Of(t.dt)),
		yT: tensor.New(tensor.WithShape(B), tensor.Of(t.dt))}
	x := G.NewMatrix(g, t.dt, G.WithShape(B, net.Inputs), G.WithName("x"), G.WithValue(s.xT))
	y := G.NewVector(g, t.dt, G.WithShape(B), G.WithName("labels"), G.WithValue(s.yT))
	var err error
	if s.logits, err = net.BuildLogits(x, ps); err != nil {
		return nil, err
	}
	if s.loss, err = graph.SoftmaxCrossEntropy(s.logits, y); err != nil {
		return nil, err
	}
	nodes := ps.Nodes()
	if _, err := G.Grad(s.loss, nodes...); err != nil {
		return nil, fmt.Errorf("gd: gradients: %w", err)
	}
	s.vm = G.NewTapeMachine(g, G.BindDualValues(nodes...))
	s.vgs = G.NodesToValueGrads(nodes)
	t.sessions[B] = s
	return s, nil
}

// load copies n examples (row-major float32) and labels into the inputs of
// the graph for n examples (compiling it on first use).
func (t *Trainer) load(x []float32, y []int) (*session, error) {
	n, d, m := len(y), t.net.Inputs, t.net.Labels
	if n < 1 || n > t.cfg.Batch {
		return nil, fmt.Errorf("gd: batch of %d examples, want 1..%d", n, t.cfg.Batch)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("gd: batch has %d features for %d examples of %d", len(x), n, d)
	}
	for _, l := range y {
		if l < 0 || l >= m {
			return nil, fmt.Errorf("gd: label %d out of range [0, %d)", l, m)
		}
	}
	s, ok := t.sessions[n]
	if !ok {
		var err error
		if s, err = t.newSession(n, &t.params); err != nil {
			return nil, err
		}
	}
	if n != t.cfg.Batch {
		copyParams(s.params, t.params)
	}
	switch xs := s.xT.Data().(type) {
	case []float32:
		copy(xs, x)
		ys := s.yT.Data().([]float32)
		for i, l := range y {
			ys[i] = float32(l)
		}
	case []float64:
		for i, v := range x {
			xs[i] = float64(v)
		}
		ys := s.yT.Data().([]float64)
		for i, l := range y {
			ys[i] = float64(l)
		}
	}
	return s, nil
}

// run executes the graph (forward and gradients) on the loaded batch.
func (s *session) run() (float64, error) {
	for _, p := range s.params.Nodes() {
		if g, err := p.Grad(); err == nil {
			if gt, ok := g.(tensor.Tensor); ok {
				gt.Zero()
			}
		}
	}
	s.vm.Reset()
	if err := s.vm.RunAll(); err != nil {
		return 0, err
	}
	return scalar(s.loss.Value())
}

// LossGrad computes the mean loss of a batch and leaves the gradients in
// the parameter nodes (for checks); it takes no step.
func (t *Trainer) LossGrad(x []float32, y []int) (float64, error) {
	s, err := t.load(x, y)
	if err != nil {
		return 0, err
	}
	t.last = s
	return s.run()
}

// Grads returns copies of the current gradients of A, W, U, b and c (nil
// for the ones not trained), after LossGrad.
func (t *Trainer) Grads() (gA, gW, gU, gB, gC []float64) {
	get := func(n *G.Node) []float64 {
		if n == nil {
			return nil
		}
		g, err := n.Grad()
		if err != nil {
			return nil
		}
		return floats(g)
	}
	p := t.params
	if t.last != nil {
		p = t.last.params
	}
	return get(p.A), get(p.W), get(p.U), get(p.B), get(p.C)
}

// Step takes one Adam step on a mini-batch (1..Batch examples) and returns
// its mean loss before the step.
func (t *Trainer) Step(x []float32, y []int) (float64, error) {
	loss, err := t.LossGrad(x, y)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("gd: loss is %v (lower the learning rate?)", loss)
	}
	if err := t.opt.Step(t.last.vgs); err != nil {
		return loss, err
	}
	if len(y) != t.cfg.Batch {
		copyParams(t.params, t.last.params)
	}
	return loss, nil
}

// Network returns the network with the trained weights (a copy).
func (t *Trainer) Network() (*models.RNN, error) {
	if err := t.net.ReadGraphParams(t.params); err != nil {
		return nil, err
	}
	return t.net.Clone(), nil
}

// Close releases the tape machines.
func (t *Trainer) Close() error {
	var err error
	for _, s := range t.sessions {
		if e := s.vm.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// Task is gradient-descent training as a train.Task: Config.Epochs epochs
// of seeded mini-batches (data.Batcher). Step metric "loss"; epoch metrics
// "train_acc" (of a fixed random 2,000 training examples, or all when
// fewer) and "test_acc".
type Task struct {
	Trainer     *Trainer
	Train, Test *data.Set
	batcher     *data.Batcher
	xb          []float32
	yb          []int
	trainEval   *data.Set
}

// NewTask checks the sets against the network.
func NewTask(tr *Trainer, trainSet, testSet *data.Set) (*Task, error) {
	if err := CheckSet(tr.net, trainSet); err != nil {
		return nil, fmt.Errorf("train set: %w", err)
	}
	if testSet != nil {
		if err := CheckSet(tr.net, testSet); err != nil {
			return nil, fmt.Errorf("test set: %w", err)
		}
	}
	t := &Task{Trainer: tr, Train: trainSet, Test: testSet,
		batcher: data.NewBatcher(trainSet, tr.cfg.Batch, tr.cfg.Seed),
		xb:      make([]float32, tr.cfg.Batch*trainSet.Dim), yb: make([]int, tr.cfg.Batch)}
	t.trainEval, _ = data.Subset(trainSet, 2000, rand.New(rand.NewSource(tr.cfg.Seed)))
	return t, nil
}

// CheckSet reports a set whose dimension or labels do not fit net.
func CheckSet(net *models.RNN, s *data.Set) error {
	switch {
	case s == nil || s.N == 0:
		return fmt.Errorf("%w", models.ErrEmpty)
	case s.Dim != net.Inputs:
		return fmt.Errorf("data set %q has %d features per example but the network has %d inputs", s.Name, s.Dim, net.Inputs)
	case s.Classes > net.Labels:
		return fmt.Errorf("data set %q has %d classes but the network has %d outputs", s.Name, s.Classes, net.Labels)
	}
	return nil
}

func (t *Task) Epochs() int           { return t.Trainer.cfg.Epochs }
func (t *Task) StepsPerEpoch(int) int { return t.batcher.NumBatches() }
func (t *Task) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	n := t.batcher.Batch(s.Epoch, s.Step-1, t.xb, t.yb)
	loss, err := t.Trainer.Step(t.xb[:n*t.Train.Dim], t.yb[:n])
	if err != nil {
		return n, nil, err
	}
	return n, map[string]float64{"loss": loss}, nil
}

func (t *Task) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	net, err := t.Trainer.Network()
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	if m["train_acc"], err = Accuracy(net, t.trainEval); err != nil {
		return nil, err
	}
	if t.Test != nil {
		if m["test_acc"], err = Accuracy(net, t.Test); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func scalar(v G.Value) (float64, error) {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x), nil
	case *G.F32:
		return float64(*x), nil
	case *tensor.Dense:
		f := floats(x)
		if len(f) == 1 {
			return f[0], nil
		}
	}
	return 0, fmt.Errorf("gd: loss value %v is not a scalar", v)
}

func floats(v G.Value) []float64 {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil
	}
	switch s := d.Data().(type) {
	case []float64:
		return append([]float64(nil), s...)
	case []float32:
		out := make([]float64, len(s))
		for i, x := range s {
			out[i] = float64(x)
		}
		return out
	case float64:
		return []float64{s}
	case float32:
		return []float64{float64(s)}
	}
	return nil
}
