package models

import (
	"fmt"

	"github.com/plasticity-lab/plastic/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GraphParams are the parameter nodes of the RNN's forward graph: A (|V| x
// n), W (|V| x |V|), U (m x |V|), B (|V|), C (m). The masks are applied
// inside BuildLogits, so gradients reach edges only.
type GraphParams struct {
	A, W, U, B, C *G.Node
}

// Nodes lists the parameter nodes (A, W, U, B, C) in that order, skipping nil ones.
func (p GraphParams) Nodes() G.Nodes {
	var ns G.Nodes
	for _, n := range []*G.Node{p.A, p.W, p.U, p.B, p.C} {
		if n != nil {
			ns = append(ns, n)
		}
	}
	return ns
}

// NewGraphParams adds parameter nodes holding copies of the RNN's current
// weights (dtype tensor.Float64 or tensor.Float32) to g, for gradient
// descent on the weights or gradients with respect to the input.
func (r *RNN) NewGraphParams(g *G.ExprGraph, dt tensor.Dtype) GraphParams {
	v, n, m := r.Nodes, r.Inputs, r.Labels
	return GraphParams{
		A: G.NewMatrix(g, dt, G.WithShape(v, n), G.WithName("A"), G.WithValue(denseOf(dt, r.A, v, n))),
		W: G.NewMatrix(g, dt, G.WithShape(v, v), G.WithName("W"), G.WithValue(denseOf(dt, r.W, v, v))),
		U: G.NewMatrix(g, dt, G.WithShape(m, v), G.WithName("U"), G.WithValue(denseOf(dt, r.U, m, v))),
		B: G.NewVector(g, dt, G.WithShape(v), G.WithName("b"), G.WithValue(denseOf(dt, r.B, v))),
		C: G.NewVector(g, dt, G.WithShape(m), G.WithName("c"), G.WithValue(denseOf(dt, r.C, m))),
	}
}

// ReadGraphParams copies the values of the parameter nodes (after a run)
// back into the RNN.
func (r *RNN) ReadGraphParams(p GraphParams) error {
	for _, x := range []struct {
		n   *G.Node
		dst []float64
	}{{p.A, r.A}, {p.W, r.W}, {p.U, r.U}, {p.B, r.B}, {p.C, r.C}} {
		if x.n == nil {
			continue
		}
		d, ok := x.n.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("rnn: node %s has no dense value", x.n.Name())
		}
		switch s := d.Data().(type) {
		case []float64:
			copy(x.dst, s)
		case []float32:
			for i, v := range s {
				x.dst[i] = float64(v)
			}
		}
	}
	return nil
}

// BuildLogits adds the forward pass (Rounds) of a batch x (rows =
// examples, n columns) to x's graph and returns the logits (batch x m):
//
//	round 1:     H = cap_k(relu(X (A.*Min)^T + b))
//	rounds 2..T: H = cap_k(relu((H + X (A.*Min)^T) (W.*Mg)^T + b))
//	logits:      H U^T + c   (the output mask is all ones)
//
// Nil parameter nodes hold the RNN's current values, fixed: their
// products are graph.FixedMul ops (one GEMM each way, no transposes), as
// the attacks' input gradients and gradient descent on the output layer
// use them.
func (r *RNN) BuildLogits(x *G.Node, p GraphParams) (*G.Node, error) {
	g := x.Graph()
	dt := x.Dtype()
	v, n, m := r.Nodes, r.Inputs, r.Labels
	if x.Dims() != 2 || x.Shape()[1] != n {
		return nil, fmt.Errorf("rnn graph: input shape %v, want (batch, %d)", x.Shape(), n)
	}
	if err := r.checkArrays(); err != nil {
		return nil, err
	}
	// product is z -> z (w .* mask)^T for a parameter node w, or for the
	// fixed values vals .* mask when w is nil (mask nil = none).
	product := func(w *G.Node, name string, vals, mask []float64, rows, cols int) (func(*G.Node) (*G.Node, error), error) {
		if w == nil {
			fixed := vals
			if mask != nil {
				fixed = make([]float64, len(vals))
				for i := range fixed {
					fixed[i] = vals[i] * mask[i]
				}
			}
			return func(z *G.Node) (*G.Node, error) { return graph.FixedMul(z, fixed, rows, cols, name) }, nil
		}
		wm := w
		if mask != nil {
			var err error
			if wm, err = G.HadamardProd(w, constNode(g, dt, name+"_mask", mask, rows, cols)); err != nil {
				return nil, fmt.Errorf("rnn graph: %s: %w", name, err)
			}
		}
		wt, err := G.Transpose(wm)
		if err != nil {
			return nil, fmt.Errorf("rnn graph: %s: %w", name, err)
		}
		return func(z *G.Node) (*G.Node, error) { return G.Mul(z, wt) }, nil
	}
	ops := graphOps{r: r, b: p.B, c: p.C}
	var err error
	if ops.input, err = product(p.A, "A.*Min", r.A, r.InMask, v, n); err != nil {
		return nil, err
	}
	if r.T > 1 {
		if ops.recurrent, err = product(p.W, "W.*Mg", r.W, r.GraphMask, v, v); err != nil {
			return nil, err
		}
	}
	if ops.output, err = product(p.U, "U", r.U, nil, m, v); err != nil {
		return nil, err
	}
	if ops.b == nil {
		ops.b = constNode(g, dt, "b_const", r.B, v)
	}
	if ops.c == nil {
		ops.c = constNode(g, dt, "c_const", r.C, m)
	}
	return Rounds[*G.Node](r.T, ops, x)
}

// TransposedParams are the RNN's weights as BuildLogitsT takes them:
// already masked and transposed, AT = (A.*Min)^T (n x |V|), WT = (W.*Mg)^T
// (|V| x |V|, unused when T = 1), UT = U^T (|V| x m); B (|V|) and C (m)
// may be nil for zero biases.
type TransposedParams struct {
	AT, WT, UT, B, C *G.Node
}

// BuildLogitsT is BuildLogits on masked, transposed weights (no mask or
// transpose ops in the graph): the form meta-learning feeds the trained
// weights in.
func (r *RNN) BuildLogitsT(x *G.Node, t TransposedParams) (*G.Node, error) {
	if t.AT == nil || t.UT == nil || (r.T > 1 && t.WT == nil) {
		return nil, fmt.Errorf("rnn graph: T=%d needs AT, UT and (for T > 1) WT", r.T)
	}
	mulBy := func(w *G.Node) func(*G.Node) (*G.Node, error) {
		return func(z *G.Node) (*G.Node, error) { return G.Mul(z, w) }
	}
	ops := graphOps{r: r, input: mulBy(t.AT), output: mulBy(t.UT), b: t.B, c: t.C}
	if r.T > 1 {
		ops.recurrent = mulBy(t.WT)
	}
	return Rounds[*G.Node](r.T, ops, x)
}

// graphOps are Rounds' steps as Gorgonia nodes (the RoundOps of
// BuildLogits and BuildLogitsT): the products as given, the bias rows
// broadcast (nil = zero), the layer one graph.CapReLU op per round.
type graphOps struct {
	r                        *RNN
	input, recurrent, output func(*G.Node) (*G.Node, error)
	b, c                     *G.Node
}

func wrapGraph(n *G.Node, err error) (*G.Node, error) {
	if err != nil {
		return nil, fmt.Errorf("rnn graph: %w", err)
	}
	return n, nil
}

// addRow adds the bias b (a vector) to every row of z; nil b adds nothing.
func addRow(z, b *G.Node) (*G.Node, error) {
	if b == nil {
		return z, nil
	}
	row, err := G.Reshape(b, tensor.Shape{1, b.Shape().TotalSize()})
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(z, row, nil, []byte{0})
}

func (o graphOps) Input(x *G.Node) (*G.Node, error) { return wrapGraph(o.input(x)) }

func (o graphOps) Layer(z *G.Node) (*G.Node, error) {
	zb, err := addRow(z, o.b)
	if err != nil {
		return wrapGraph(nil, err)
	}
	return wrapGraph(graph.CapReLU(zb, o.r.Cap))
}

func (o graphOps) Reinject(h, ax *G.Node) (*G.Node, error) { return wrapGraph(G.Add(h, ax)) }

func (o graphOps) Recurrent(v *G.Node) (*G.Node, error) { return wrapGraph(o.recurrent(v)) }

func (o graphOps) Output(h *G.Node) (*G.Node, error) {
	hu, err := o.output(h)
	if err != nil {
		return wrapGraph(nil, err)
	}
	return wrapGraph(addRow(hu, o.c))
}

func constNode(g *G.ExprGraph, dt tensor.Dtype, name string, data []float64, shape ...int) *G.Node {
	if len(shape) == 1 {
		return G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(denseOf(dt, data, shape...)))
	}
	return G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(denseOf(dt, data, shape...)))
}

func denseOf(dt tensor.Dtype, data []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
}
