package attacks

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/models"
)

// Model is a classifier the attacks can differentiate with respect to its
// input.
type Model interface {
	Inputs() int
	Classes() int
	// NewGrader compiles the model for batches of up to batch rows. A Grader
	// is used by one goroutine at a time; parallel attacks make one each.
	NewGrader(batch int) (Grader, error)
}

// Grader evaluates a batch of inputs.
type Grader interface {
	// Batch is the largest number of rows LossGrad takes.
	Batch() int
	// LossGrad takes rows = len(targets) inputs x (rows x Inputs, row-major)
	// and writes, for each row i, the cross-entropy loss of row i against
	// targets[i] (loss[i]), its logits (logits[i*Classes:]) and the gradient
	// of that row's loss with respect to that row (grad[i*Inputs:]) divided
	// by 1 - softmax(logits of row i)[targets[i]] > 0: the attacks need
	// its direction only, which this keeps representable when the softmax
	// saturates (the gradient itself underflows to zero in float32).
	LossGrad(x []float64, targets []int, loss, logits, grad []float64) error
	Close() error
}

// Forward is a model's forward pass alone: no loss and no gradient graph.
type Forward interface {
	// Batch is the largest number of rows Logits takes.
	Batch() int
	// Logits writes the logits of the len(x)/Inputs rows of x into logits
	// (row-major, Classes per row).
	Logits(x []float64, logits []float64) error
	Close() error
}

// ForwardModel is a Model that can compile its forward pass alone; the
// attacks classify the clean images with it.
type ForwardModel interface {
	Model
	NewForward(batch int) (Forward, error)
}

// Precision of a model's graph: Float32 for speed, Float64 for gradient
// checks.
type Precision int

const (
	Float32 Precision = iota
	Float64
)

func (p Precision) dtype() tensor.Dtype {
	if p == Float64 {
		return tensor.Float64
	}
	return tensor.Float32
}

// buildFunc adds a model's forward pass on x (batch x inputs) to x's graph
// and returns the logits (batch x classes).
type buildFunc func(x *G.Node) (*G.Node, error)

// graphModel is a Model given by its forward graph; its gradients come from
// Gorgonia's autodiff.
type graphModel struct {
	inputs, classes int
	prec            Precision
	build           buildFunc
}

func (m *graphModel) Inputs() int  { return m.inputs }
func (m *graphModel) Classes() int { return m.classes }

func (m *graphModel) NewGrader(batch int) (Grader, error) {
	if batch < 1 {
		return nil, fmt.Errorf("attacks: batch %d, want >= 1", batch)
	}
	dt := m.prec.dtype()
	g := G.NewGraph()
	gr := &graphGrader{batch: batch, n: m.inputs, m: m.classes,
		xT: tensor.New(tensor.WithShape(batch, m.inputs), tensor.Of(dt)),
		yT: tensor.New(tensor.WithShape(batch), tensor.Of(dt))}
	gr.x = G.NewMatrix(g, dt, G.WithShape(batch, m.inputs), G.WithName("x"), G.WithValue(gr.xT))
	y := G.NewVector(g, dt, G.WithShape(batch), G.WithName("targets"), G.WithValue(gr.yT))
	var err error
	if gr.logits, err = m.build(gr.x); err != nil {
		return nil, err
	}
	if s := gr.logits.Shape(); len(s) != 2 || s[0] != batch || s[1] != m.classes {
		return nil, fmt.Errorf("attacks: model gives logits of shape %v, want (%d, %d)", s, batch, m.classes)
	}
	// The sum of the rows' cross-entropies, whose gradient reaches each row
	// scaled by 1/(1 - p_target) (see attackLoss); Gorgonia's own
	// LogSoftMax takes row 0's maximum for every row of a batch.
	loss, err := attackLoss(gr.logits, y)
	if err != nil {
		return nil, err
	}
	if _, err := G.Grad(loss, gr.x); err != nil {
		return nil, fmt.Errorf("attacks: input gradient: %w", err)
	}
	gr.vm = G.NewTapeMachine(g, G.BindDualValues(gr.x))
	return gr, nil
}

// NewForward compiles the forward graph alone for batches of up to batch rows.
func (m *graphModel) NewForward(batch int) (Forward, error) {
	if batch < 1 {
		return nil, fmt.Errorf("attacks: batch %d, want >= 1", batch)
	}
	dt := m.prec.dtype()
	g := G.NewGraph()
	f := &graphForward{batch: batch, n: m.inputs, m: m.classes, xT: tensor.New(tensor.WithShape(batch, m.inputs), tensor.Of(dt))}
	x := G.NewMatrix(g, dt, G.WithShape(batch, m.inputs), G.WithName("x"), G.WithValue(f.xT))
	var err error
	if f.logits, err = m.build(x); err != nil {
		return nil, err
	}
	if s := f.logits.Shape(); len(s) != 2 || s[0] != batch || s[1] != m.classes {
		return nil, fmt.Errorf("attacks: model gives logits of shape %v, want (%d, %d)", s, batch, m.classes)
	}
	f.vm = G.NewTapeMachine(g)
	return f, nil
}

type graphForward struct {
	batch, n, m int
	xT          *tensor.Dense
	logits      *G.Node
	vm          G.VM
}

func (f *graphForward) Batch() int   { return f.batch }
func (f *graphForward) Close() error { return f.vm.Close() }

func (f *graphForward) Logits(x []float64, logits []float64) error {
	n, m := f.n, f.m
	rows := len(x) / n
	if rows < 1 || rows > f.batch || len(x) != rows*n || len(logits) < rows*m {
		return fmt.Errorf("attacks: %d values for rows of %d inputs (batch %d) and %d logits", len(x), n, f.batch, len(logits))
	}
	switch xs := f.xT.Data().(type) {
	case []float32:
		for i, v := range x {
			xs[i] = float32(v)
		}
		clear(xs[rows*n:])
	case []float64:
		copy(xs, x)
		clear(xs[rows*n:])
	}
	f.vm.Reset()
	if err := f.vm.RunAll(); err != nil {
		return fmt.Errorf("attacks: %w", err)
	}
	copyFloats(logits[:rows*m], f.logits.Value().Data())
	for i := 0; i < rows; i++ {
		lg := logits[i*m : (i+1)*m]
		for _, v := range lg {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("attacks: row %d has logits %v: not finite", i, lg)
			}
		}
	}
	return nil
}

type graphGrader struct {
	batch, n, m int
	xT, yT      *tensor.Dense
	x, logits   *G.Node
	vm          G.VM
}

func (g *graphGrader) Batch() int   { return g.batch }
func (g *graphGrader) Close() error { return g.vm.Close() }

func (g *graphGrader) LossGrad(x []float64, targets []int, loss, logits, grad []float64) error {
	rows, n, m := len(targets), g.n, g.m
	if rows < 1 || rows > g.batch {
		return fmt.Errorf("attacks: %d rows, want 1..%d", rows, g.batch)
	}
	if len(x) != rows*n || len(loss) < rows || len(logits) < rows*m || len(grad) < rows*n {
		return fmt.Errorf("attacks: buffers too small for %d rows of %d inputs and %d classes", rows, n, m)
	}
	for _, t := range targets {
		if t < 0 || t >= m {
			return fmt.Errorf("attacks: target %d out of range [0, %d)", t, m)
		}
	}
	switch xs := g.xT.Data().(type) {
	case []float32:
		for i, v := range x {
			xs[i] = float32(v)
		}
		clear(xs[rows*n:])
		ys := g.yT.Data().([]float32)
		clear(ys)
		for i, t := range targets {
			ys[i] = float32(t)
		}
	case []float64:
		copy(xs, x)
		clear(xs[rows*n:])
		ys := g.yT.Data().([]float64)
		clear(ys)
		for i, t := range targets {
			ys[i] = float64(t)
		}
	}
	if gv, err := g.x.Grad(); err == nil {
		if t, ok := gv.(tensor.Tensor); ok {
			t.Zero()
		}
	}
	g.vm.Reset()
	if err := g.vm.RunAll(); err != nil {
		return fmt.Errorf("attacks: %w", err)
	}
	gv, err := g.x.Grad()
	if err != nil {
		return fmt.Errorf("attacks: input gradient: %w", err)
	}
	copyFloats(grad[:rows*n], gv.Data())
	copyFloats(logits[:rows*m], g.logits.Value().Data())
	for i, t := range targets {
		lg := logits[i*m : (i+1)*m]
		loss[i] = crossEntropy(lg, t)
		if math.IsNaN(loss[i]) || math.IsInf(loss[i], 0) {
			return fmt.Errorf("attacks: row %d has logits %v: not finite", i, lg)
		}
		for j, v := range grad[i*n : (i+1)*n] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("attacks: the input gradient of row %d is %v at input %d", i, v, j)
			}
		}
	}
	return nil
}

func copyFloats(dst []float64, src any) {
	switch s := src.(type) {
	case []float64:
		copy(dst, s)
	case []float32:
		for i := range dst {
			dst[i] = float64(s[i])
		}
	}
}

// crossEntropy is -log softmax(logits)[t], computed stably.
func crossEntropy(logits []float64, t int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, v)
	}
	z := 0.0
	for _, v := range logits {
		z += math.Exp(v - mx)
	}
	return mx + math.Log(z) - logits[t]
}

// RNN is the simple RNN of the plasticity paper (rule- or GD-trained: the
// same network type) through its Gorgonia forward graph,
// models.RNN.BuildLogits on fixed weights (each product one GEMM, forward
// and backward), whose cap ops (graph.CapReLU) pass the gradient where
// the layer's output is non-zero. The weights are copied.
func RNN(net *models.RNN, p Precision) (Model, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	net = net.Clone()
	return &graphModel{inputs: net.Inputs, classes: net.Labels, prec: p, build: func(x *G.Node) (*G.Node, error) {
		return net.BuildLogits(x, models.GraphParams{})
	}}, nil
}

func dense(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}
