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

// BuildLogits adds the forward pass of a batch x (rows = examples, n
// columns) to x's graph and returns the logits (batch x m):
//
//	round 1:     H = cap_k(relu(X (A.*Min)^T + b))
//	rounds 2..T: H = cap_k(relu((H + X (A.*Min)^T) (W.*Mg)^T + b))
//	logits:      H U^T + c   (the output mask is all ones)
//
// Nil parameter nodes become constants holding the RNN's current values.
func (r *RNN) BuildLogits(x *G.Node, p GraphParams) (*G.Node, error) {
	g := x.Graph()
	dt := x.Dtype()
	v, n, m := r.Nodes, r.Inputs, r.Labels
	if x.Dims() != 2 || x.Shape()[1] != n {
		return nil, fmt.Errorf("rnn graph: input shape %v, want (batch, %d)", x.Shape(), n)
	}
	// maskedT is (w .* mask)^T for a parameter node w.
	maskedT := func(w *G.Node, name string, mask []float64, rows, cols int) (*G.Node, error) {
		wm, err := G.HadamardProd(w, constNode(g, dt, name, mask, rows, cols))
		if err != nil {
			return nil, fmt.Errorf("rnn graph: %s: %w", name, err)
		}
		return G.Transpose(wm)
	}
	var (
		t   TransposedParams
		err error
	)
	if p.A == nil {
		t.AT = r.constT(g, dt, "AT_const", r.A, r.InMask, v, n)
	} else if t.AT, err = maskedT(p.A, "Min", r.InMask, v, n); err != nil {
		return nil, err
	}
	if r.T > 1 {
		if p.W == nil {
			t.WT = r.constT(g, dt, "WT_const", r.W, r.GraphMask, v, v)
		} else if t.WT, err = maskedT(p.W, "Mg", r.GraphMask, v, v); err != nil {
			return nil, err
		}
	}
	if p.U == nil {
		t.UT = r.constT(g, dt, "UT_const", r.U, nil, m, v)
	} else if t.UT, err = G.Transpose(p.U); err != nil {
		return nil, fmt.Errorf("rnn graph: U: %w", err)
	}
	t.B, t.C = p.B, p.C
	if t.B == nil {
		t.B = constNode(g, dt, "b_const", r.B, v)
	}
	if t.C == nil {
		t.C = constNode(g, dt, "c_const", r.C, m)
	}
	return r.BuildLogitsT(x, t)
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
	v, m := r.Nodes, r.Labels
	wrap := func(err error) error { return fmt.Errorf("rnn graph: %w", err) }
	// addRow adds the bias b (width values) to every row of z.
	addRow := func(z, b *G.Node, width int) (*G.Node, error) {
		if b == nil {
			return z, nil
		}
		row, err := G.Reshape(b, tensor.Shape{1, width})
		if err != nil {
			return nil, err
		}
		return G.BroadcastAdd(z, row, nil, []byte{0})
	}
	// layer is cap_k(relu(z + b)).
	layer := func(z *G.Node) (*G.Node, error) {
		zb, err := addRow(z, t.B, v)
		if err != nil {
			return nil, err
		}
		return graph.CapReLU(zb, r.Cap)
	}
	if t.AT == nil || t.UT == nil || (r.T > 1 && t.WT == nil) {
		return nil, fmt.Errorf("rnn graph: T=%d needs AT, UT and (for T > 1) WT", r.T)
	}
	xa, err := G.Mul(x, t.AT)
	if err != nil {
		return nil, wrap(err)
	}
	h, err := layer(xa)
	if err != nil {
		return nil, wrap(err)
	}
	for k := 1; k < r.T; k++ {
		hx, err := G.Add(h, xa)
		if err != nil {
			return nil, wrap(err)
		}
		z, err := G.Mul(hx, t.WT)
		if err != nil {
			return nil, wrap(err)
		}
		if h, err = layer(z); err != nil {
			return nil, wrap(err)
		}
	}
	hu, err := G.Mul(h, t.UT)
	if err != nil {
		return nil, wrap(err)
	}
	logits, err := addRow(hu, t.C, m)
	if err != nil {
		return nil, wrap(err)
	}
	return logits, nil
}

// constT adds the constant (w .* mask)^T of a rows x cols matrix (mask nil = none).
func (r *RNN) constT(g *G.ExprGraph, dt tensor.Dtype, name string, w, mask []float64, rows, cols int) *G.Node {
	t := make([]float64, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			x := w[i*cols+j]
			if mask != nil {
				x *= mask[i*cols+j]
			}
			t[j*rows+i] = x
		}
	}
	return constNode(g, dt, name, t, cols, rows)
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
