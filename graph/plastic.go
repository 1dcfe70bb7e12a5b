package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// InnerTrainer is what the PlasticTrain op runs: one whole rule-based
// training pass (reset, then the examples of a batch one at a time) under
// given rule tables, remembering what its backward pass needs.
// The plasticity package implements it; the op only moves values in and
// out of the graph.
type InnerTrainer interface {
	// TrainFlat resets the network, trains it with the rule tables (one
	// flat slice per op input, in the op's input order) and returns the
	// final trained weights as one flat vector of length OutSize (the op
	// copies it, so the trainer may reuse the slice).
	TrainFlat(tables [][]float64) ([]float64, error)
	// OutSize is the length of the flat output vector.
	OutSize() int
	// BackwardFlat returns dLoss/d(table i) given dLoss/d(flat output) of
	// the last TrainFlat call.
	BackwardFlat(i int, gradOut []float64) ([]float64, error)
}

// PlasticTrain is a graph node whose value is the flat vector of weights a
// rule-based training pass produces from the rule tables (float64 nodes).
// Its gradient with respect to each table is exact: the firing codes, cap
// selections, predictions and misclassified tests are piecewise constant in
// the tables, so the trained weights depend on the tables only through the
// recorded code sequence (see package plasticity for the formulas).
func PlasticTrain(tr InnerTrainer, tables ...*G.Node) (*G.Node, error) {
	if len(tables) == 0 {
		return nil, fmt.Errorf("graph.PlasticTrain: no rule tables")
	}
	for i, t := range tables {
		if t.Dtype() != tensor.Float64 {
			return nil, fmt.Errorf("graph.PlasticTrain: table %d has dtype %v, want float64", i, t.Dtype())
		}
	}
	return G.ApplyOp(&plasticOp{tr: tr, arity: len(tables)}, tables...)
}

type plasticOp struct {
	tr    InnerTrainer
	arity int
}

func (op *plasticOp) Arity() int { return op.arity }
func (op *plasticOp) Type() hm.Type {
	ts := make([]hm.Type, op.arity+1)
	for i := 0; i < op.arity; i++ {
		ts[i] = hm.TypeVariable(rune('a' + i))
	}
	ts[op.arity] = G.TensorType{Dims: 1, Of: G.Float64}
	return hm.NewFnType(ts...)
}
func (op *plasticOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.tr.OutSize()}, nil
}
func (op *plasticOp) Do(vals ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, vals...) }

// UsePreallocDo copies the trained weights into prealloc when it fits (the
// InnerTrainer may reuse its output slice between calls).
func (op *plasticOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	tabs := make([][]float64, len(vals))
	for i, v := range vals {
		d, err := denseOf(v)
		if err != nil {
			return nil, err
		}
		f, ok := d.Data().([]float64)
		if !ok {
			return nil, fmt.Errorf("PlasticTrain: table %d is %v, want float64", i, d.Dtype())
		}
		tabs[i] = f
	}
	out, err := op.tr.TrainFlat(tabs)
	if err != nil {
		return nil, err
	}
	if p, ok := prealloc.(*tensor.Dense); ok && p.Dtype() == tensor.Float64 && p.Shape().TotalSize() == len(out) {
		copy(p.Data().([]float64), out)
		return p, nil
	}
	return tensor.New(tensor.WithShape(len(out)), tensor.WithBacking(append([]float64(nil), out...))), nil
}
func (op *plasticOp) ReturnsPtr() bool      { return false }
func (op *plasticOp) CallsExtern() bool     { return false }
func (op *plasticOp) OverwritesInput() int  { return -1 }
func (op *plasticOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "PlasticTrain{%p,%d}", op.tr, op.arity) }
func (op *plasticOp) Hashcode() uint32      { return hashOf(op) }
func (op *plasticOp) String() string        { return fmt.Sprintf("PlasticTrain{%d tables}", op.arity) }

func (op *plasticOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *plasticOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(inputs))
	for i, in := range inputs {
		n, err := G.ApplyOp(&plasticGradOp{tr: op.tr, which: i}, in, grad)
		if err != nil {
			return nil, err
		}
		res[i] = n
	}
	return res, nil
}

// DoDiff adds the table gradients into the input gradients (Lisp machine).
func (op *plasticOp) DoDiff(ctx G.ExecutionContext, inputs G.Nodes, output *G.Node) error {
	gout, err := output.Grad()
	if err != nil {
		return err
	}
	gd, err := denseOf(gout)
	if err != nil {
		return err
	}
	for i, in := range inputs {
		g, err := op.tr.BackwardFlat(i, gd.Data().([]float64))
		if err != nil {
			return err
		}
		gin, err := in.Grad()
		if err != nil {
			return err
		}
		gid, err := denseOf(gin)
		if err != nil {
			return err
		}
		a := gid.Data().([]float64)
		for j, v := range g {
			a[j] += v
		}
	}
	return nil
}

// plasticGradOp(table, gradOut) = dLoss/dtable for input `which`.
type plasticGradOp struct {
	tr    InnerTrainer
	which int
}

func (op *plasticGradOp) Arity() int { return 2 }
func (op *plasticGradOp) Type() hm.Type {
	a, b := hm.TypeVariable('a'), hm.TypeVariable('b')
	return hm.NewFnType(a, b, a)
}
func (op *plasticGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *plasticGradOp) Do(vals ...G.Value) (G.Value, error) {
	t, err := denseOf(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := denseOf(vals[1])
	if err != nil {
		return nil, err
	}
	d, err := op.tr.BackwardFlat(op.which, g.Data().([]float64))
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d)), nil
}
func (op *plasticGradOp) ReturnsPtr() bool     { return false }
func (op *plasticGradOp) CallsExtern() bool    { return false }
func (op *plasticGradOp) OverwritesInput() int { return -1 }
func (op *plasticGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "PlasticTrainGrad{%p,%d}", op.tr, op.which)
}
func (op *plasticGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *plasticGradOp) String() string   { return fmt.Sprintf("PlasticTrainGrad{%d}", op.which) }
