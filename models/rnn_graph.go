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
	cst := func(name string, data []float64, shape ...int) *G.Node {
		if len(shape) == 1 {
			return G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(denseOf(dt, data, shape...)))
		}
		return G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(denseOf(dt, data, shape...)))
	}
	if p.A == nil {
		p.A = cst("A_const", r.A, v, n)
	}
	if p.W == nil && r.T > 1 {
		p.W = cst("W_const", r.W, v, v)
	}
	if p.U == nil {
		p.U = cst("U_const", r.U, m, v)
	}
	if p.B == nil {
		p.B = cst("b_const", r.B, v)
	}
	if p.C == nil {
		p.C = cst("c_const", r.C, m)
	}
	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil && e != nil {
			err = e
		}
		return n
	}
	am := must(G.HadamardProd(p.A, cst("Min", r.InMask, v, n)))
	xa := must(G.Mul(x, must(G.Transpose(am))))
	brow := must(G.Reshape(p.B, tensor.Shape{1, v}))
	if err != nil {
		return nil, err
	}
	h := must(graph.Cap(must(G.Rectify(must(G.BroadcastAdd(xa, brow, nil, []byte{0})))), r.Cap))
	if r.T > 1 {
		wm := must(G.HadamardProd(p.W, cst("Mg", r.GraphMask, v, v)))
		wmT := must(G.Transpose(wm))
		for t := 1; t < r.T; t++ {
			z := must(G.Mul(must(G.Add(h, xa)), wmT))
			h = must(graph.Cap(must(G.Rectify(must(G.BroadcastAdd(z, brow, nil, []byte{0})))), r.Cap))
			if err != nil {
				return nil, err
			}
		}
	}
	crow := must(G.Reshape(p.C, tensor.Shape{1, m}))
	logits := must(G.BroadcastAdd(must(G.Mul(h, must(G.Transpose(p.U)))), crow, nil, []byte{0}))
	if err != nil {
		return nil, fmt.Errorf("rnn graph: %w", err)
	}
	return logits, nil
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
