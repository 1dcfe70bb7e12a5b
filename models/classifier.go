package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/plasticity-lab/plastic/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Tensor is a named tensor of a model: a parameter or a buffer (batch-norm
// running statistics). Names follow PyTorch's (fc1.weight, layer1.0.bn1.bias).
type Tensor struct {
	Name  string
	Value *tensor.Dense
}

// Classifier is a network mapping a batch of examples to class logits.
type Classifier interface {
	// Name is the --model value: mlp, cnn or resnet18.
	Name() string
	// InputShape is the shape of one example, e.g. [784] or [3 32 32].
	InputShape() []int
	Classes() int
	// Params are the trainable tensors in the fixed model order (input layer
	// first, classifier weight and bias last); the optimizer's layer groups
	// rely on this order.
	Params() []Tensor
	// Buffers are the non-trainable state tensors (running statistics).
	Buffers() []Tensor
	// NewSession compiles a graph for batches of the given size: in training
	// mode with the loss and its gradients (dropout on, batch statistics),
	// in evaluation mode the forward pass only (dropout off, running
	// statistics). All sessions share the model's tensors.
	NewSession(batch int, train bool) (*Session, error)
}

// New builds the named classifier ("mlp", "cnn", "resnet18") for examples of
// the given shape and number of classes, its weights drawn from seed.
func New(name string, inputShape []int, classes int, seed uint64) (Classifier, error) {
	return newNet(name, inputShape, classes, seed, tensor.Float32)
}

// Names lists the models New accepts.
func Names() []string { return []string{"mlp", "cnn", "resnet18"} }

func newNet(name string, inputShape []int, classes int, seed uint64, dt tensor.Dtype) (*net, error) {
	if classes < 2 {
		return nil, fmt.Errorf("models: %d classes, want at least 2", classes)
	}
	n := &net{name: name, in: slices.Clone(inputShape), classes: classes, dt: dt}
	if name == "mlp" {
		// The MLP sees each example as a flat vector of the same data.
		size := 1
		for _, d := range inputShape {
			size *= d
		}
		n.in = []int{size}
	}
	var err error
	switch name {
	case "mlp":
		n.arch, err = mlpArch(inputShape, classes)
	case "cnn":
		n.arch, err = cnnArch(inputShape, classes)
	case "resnet18":
		n.arch, err = resnet18Arch(inputShape, classes)
	default:
		return nil, fmt.Errorf("models: unknown model %q (want one of %v)", name, Names())
	}
	if err != nil {
		return nil, err
	}
	return n.declare(seed)
}

// declare initialises the tensors from seed with a dry build of batch 1.
func (n *net) declare(seed uint64) (*net, error) {
	// A dry build with a batch of 1 declares and initialises the tensors.
	n.init = rand.New(rand.NewPCG(seed, 0x6d6f64656c73))
	if _, err := n.NewSession(1, false); err != nil {
		return nil, err
	}
	n.init = nil
	return n, nil
}

// arch builds the network's forward pass on x with b's layers.
type arch func(b *builder, x *G.Node) (*G.Node, error)

// net is the one Classifier implementation: an architecture plus its tensors.
type net struct {
	name    string
	in      []int
	classes int
	dt      tensor.Dtype
	arch    arch
	params  []Tensor
	buffers []Tensor
	init    *rand.Rand // set while the tensors are being declared
}

func (n *net) Name() string      { return n.name }
func (n *net) InputShape() []int { return slices.Clone(n.in) }
func (n *net) Classes() int      { return n.classes }
func (n *net) Params() []Tensor  { return slices.Clone(n.params) }
func (n *net) Buffers() []Tensor { return slices.Clone(n.buffers) }

// builder hands the architecture its parameters as nodes of one graph.
type builder struct {
	n      *net
	g      *G.ExprGraph
	train  bool
	drop   *graph.DropStream
	input  *G.Node // the data node (no gradient needed)
	convSc *graph.ConvScratch
	nodes  G.Nodes // parameter nodes in model order
	pi, bi int     // next parameter / buffer
}

// init kinds of a parameter.
const (
	initUniformFanIn = iota // U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (PyTorch's Linear/Conv default)
	initKaiming             // N(0, 2/fanOut) (ResNet convs, PyTorch's fan_out mode)
	initOnes
	initZeros
)

// param returns the node of the next parameter, declaring and initialising
// the tensor on the model's first build.
func (b *builder) param(name string, shape []int, kind int, fan int) *G.Node {
	n := b.n
	if n.init != nil {
		t := tensor.New(tensor.WithShape(shape...), tensor.Of(n.dt))
		vals := make([]float64, t.Shape().TotalSize())
		switch kind {
		case initUniformFanIn:
			bound := 1 / math.Sqrt(float64(fan))
			for i := range vals {
				vals[i] = (2*n.init.Float64() - 1) * bound
			}
		case initKaiming:
			sd := math.Sqrt(2 / float64(fan))
			for i := range vals {
				vals[i] = n.init.NormFloat64() * sd
			}
		case initOnes:
			for i := range vals {
				vals[i] = 1
			}
		}
		setFloats(t, vals)
		n.params = append(n.params, Tensor{Name: name, Value: t})
	}
	p := n.params[b.pi]
	b.pi++
	node := G.NodeFromAny(b.g, p.Value, G.WithName(p.Name))
	b.nodes = append(b.nodes, node)
	return node
}

// buffer returns the next buffer tensor (declared on the first build).
func (b *builder) buffer(name string, size int, fill float64) *tensor.Dense {
	n := b.n
	if n.init != nil {
		t := tensor.New(tensor.WithShape(size), tensor.Of(n.dt))
		vals := make([]float64, size)
		for i := range vals {
			vals[i] = fill
		}
		setFloats(t, vals)
		n.buffers = append(n.buffers, Tensor{Name: name, Value: t})
	}
	t := n.buffers[b.bi].Value
	b.bi++
	return t
}

func setFloats(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []float64:
		copy(d, v)
	}
}

// dropout returns the dropout of a layer with probability p.
func (b *builder) dropout(p float64) *graph.Dropout {
	return &graph.Dropout{P: p, Train: b.train, Stream: b.drop}
}

// dense is a fully connected layer named name with the fused ReLU (relu)
// and dropout; the first layer (input data) skips its input gradient.
func (b *builder) dense(name string, x *G.Node, out int, relu bool, p float64) (*G.Node, error) {
	in := x.Shape()[1]
	w := b.param(name+".weight", []int{in, out}, initUniformFanIn, in)
	bias := b.param(name+".bias", []int{out}, initUniformFanIn, in)
	return graph.Dense(x, w, bias, relu, b.dropout(p), x != b.input)
}

// conv is a convolution with optional bias and fused ReLU.
func (b *builder) conv(name string, x *G.Node, out, k, stride, pad int, bias, relu bool, kind int) (*G.Node, error) {
	in := x.Shape()[1]
	fan := in * k * k
	if kind == initKaiming {
		fan = out * k * k
	}
	w := b.param(name+".weight", []int{out, in, k, k}, kind, fan)
	var bn *G.Node
	if bias {
		bn = b.param(name+".bias", []int{out}, initUniformFanIn, in*k*k)
	}
	if b.convSc == nil {
		b.convSc = new(graph.ConvScratch)
	}
	return graph.Conv2D(x, w, bn, stride, pad, relu, x != b.input, b.convSc)
}

// bn is a batch norm over x's channels with optional fused ReLU.
func (b *builder) bn(name string, x *G.Node, relu bool) (*G.Node, error) {
	c := x.Shape()[1]
	gm := b.param(name+".weight", []int{c}, initOnes, 0)
	bt := b.param(name+".bias", []int{c}, initZeros, 0)
	rm := b.buffer(name+".running_mean", c, 0)
	rv := b.buffer(name+".running_var", c, 1)
	return graph.BatchNorm(x, gm, bt, rm, rv, b.train, relu)
}

// Session is one compiled graph of a model for a fixed batch size: a
// training session computes logits, loss and parameter gradients, an
// evaluation session the logits. Sessions reuse their tape machine and all
// op buffers from step to step.
type Session struct {
	Batch  int
	Train  bool
	g      *G.ExprGraph
	x      *G.Node
	labels *G.Node
	logits *G.Node
	loss   *G.Node
	params G.Nodes
	vgs    []G.ValueGrad
	vm     G.VM
	xT, yT *tensor.Dense
	drop   graph.DropStream
}

// NewSession compiles the model's graph for batches of size batch.
func (n *net) NewSession(batch int, train bool) (*Session, error) {
	if batch < 1 {
		return nil, fmt.Errorf("models: batch size %d, want >= 1", batch)
	}
	s := &Session{Batch: batch, Train: train, g: G.NewGraph(), drop: graph.NewDropStream(0, 0)}
	shape := append([]int{batch}, n.in...)
	s.xT = tensor.New(tensor.WithShape(shape...), tensor.Of(n.dt))
	s.x = G.NodeFromAny(s.g, s.xT, G.WithName("x"))
	b := &builder{n: n, g: s.g, train: train, drop: &s.drop, input: s.x}
	var err error
	if s.logits, err = n.arch(b, s.x); err != nil {
		return nil, fmt.Errorf("models: building %s: %w", n.name, err)
	}
	if ls := s.logits.Shape(); len(ls) != 2 || ls[0] != batch || ls[1] != n.classes {
		return nil, fmt.Errorf("models: %s gives logits of shape %v, want [%d %d]", n.name, ls, batch, n.classes)
	}
	s.params = b.nodes
	s.vgs = make([]G.ValueGrad, len(s.params))
	if train {
		s.yT = tensor.New(tensor.WithShape(batch), tensor.Of(n.dt))
		s.labels = G.NodeFromAny(s.g, s.yT, G.WithName("labels"))
		if s.loss, err = graph.SoftmaxCrossEntropy(s.logits, s.labels); err != nil {
			return nil, err
		}
		grads, err := G.Grad(s.loss, s.params...)
		if err != nil {
			return nil, fmt.Errorf("models: gradients of %s: %w", n.name, err)
		}
		for i, p := range s.params {
			s.vgs[i] = paramGrad{p, grads[i]}
		}
	} else {
		for i, p := range s.params {
			s.vgs[i] = paramGrad{p: p}
		}
	}
	// No BindDualValues: it would add every gradient into a separate
	// accumulator (which then needs zeroing) each step; the gradient ops'
	// own output buffers are the gradients (paramGrad).
	s.vm = G.NewTapeMachine(s.g)
	return s, nil
}

// paramGrad is a parameter as the optimizer takes it: the parameter node's
// value and, as its gradient, the value of its gradient node after the last
// Run: the output buffer of the gradient op, overwritten (never accumulated)
// by every Run.
type paramGrad struct{ p, g *G.Node }

func (v paramGrad) Value() G.Value { return v.p.Value() }
func (v paramGrad) Name() string   { return v.p.Name() }
func (v paramGrad) Grad() (G.Value, error) {
	if v.g == nil {
		return nil, fmt.Errorf("models: %s: an evaluation session has no gradients", v.p.Name())
	}
	gv := v.g.Value()
	if gv == nil {
		return nil, fmt.Errorf("models: %s: no gradient before the first Run", v.p.Name())
	}
	return gv, nil
}

// Params are the session's parameter nodes in model order (their values are
// the model's tensors; their gradients are in ValueGrads).
func (s *Session) Params() G.Nodes { return s.params }

// ValueGrads are the parameters as the optimizer takes them, in model order;
// after Run in a training session Grad() of each is this batch's gradient.
func (s *Session) ValueGrads() []G.ValueGrad { return s.vgs }

// Input is the [Batch, InputShape...] tensor the next Run reads.
func (s *Session) Input() *tensor.Dense { return s.xT }

// Labels is the [Batch] tensor of class indices (training sessions).
func (s *Session) Labels() *tensor.Dense { return s.yT }

// SetBatch copies a float32 batch (row-major) and its labels into the
// session's inputs; labels may be nil for evaluation sessions. x may be the
// data of Input() itself, filled by the caller (no copy then).
func (s *Session) SetBatch(x []float32, labels []int) error {
	xd, ok := s.xT.Data().([]float32)
	if !ok {
		return fmt.Errorf("models: session is %v, not float32", s.xT.Dtype())
	}
	if len(x) != len(xd) {
		return fmt.Errorf("models: batch has %d values, the session wants %d", len(x), len(xd))
	}
	if len(x) > 0 && &x[0] != &xd[0] { // x may be Input() itself, filled in place
		copy(xd, x)
	}
	if s.yT != nil {
		if len(labels) != s.Batch {
			return fmt.Errorf("models: %d labels for a batch of %d", len(labels), s.Batch)
		}
		yd := s.yT.Data().([]float32)
		for i, l := range labels {
			yd[i] = float32(l)
		}
	}
	return nil
}

// Reseed resets the dropout stream to (seed, stream) at counter 0 (the
// trainer uses the epoch), so masks are reproducible from any epoch on and
// the same as a device session's (graph/dropout.go).
func (s *Session) Reseed(seed, stream uint64) { s.drop = graph.NewDropStream(seed, stream) }

// Run executes the graph once: forward, and in training mode the loss and
// the parameter gradients (overwritten, not accumulated).
func (s *Session) Run() error {
	s.vm.Reset()
	return s.vm.RunAll()
}

// Loss is the mean cross-entropy of the last Run (training sessions).
func (s *Session) Loss() float64 {
	if s.loss == nil {
		return math.NaN()
	}
	v, err := graph.ScalarOf(s.loss.Value())
	if err != nil {
		return math.NaN()
	}
	return v
}

// Logits is the [Batch, Classes] output of the last Run.
func (s *Session) Logits() *tensor.Dense {
	t, _ := s.logits.Value().(*tensor.Dense)
	return t
}

// Close releases the tape machine.
func (s *Session) Close() error { return s.vm.Close() }
