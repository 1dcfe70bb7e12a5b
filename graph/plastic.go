package graph

import (
	"fmt"

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
	return G.ApplyOp(&plasticOp{OpBase: NewOp(fmt.Sprintf("PlasticTrain{%d tables}", len(tables)), len(tables)), tr: tr}, tables...)
}

// plasticOp(tables...) = the flat trained weights. Each op is its own
// (NewOp): its value depends on the trainer's state, not only on its inputs.
type plasticOp struct {
	OpBase
	tr InnerTrainer
}

// Type is a -> b -> ... -> vector of float64: the tables may differ in
// shape.
func (op *plasticOp) Type() hm.Type {
	ts := make([]hm.Type, op.Arity()+1)
	for i := 0; i < op.Arity(); i++ {
		ts[i] = hm.TypeVariable(rune('a' + i))
	}
	ts[op.Arity()] = G.TensorType{Dims: 1, Of: G.Float64}
	return hm.NewFnType(ts...)
}

// InferShape is the trainer's flat output length.
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
		n, err := G.ApplyOp(&plasticGradOp{OpBase: NewOp(fmt.Sprintf("PlasticTrainGrad{%d}", i), 2), tr: op.tr, which: i}, in, grad)
		if err != nil {
			return nil, err
		}
		res[i] = n
	}
	return res, nil
}

// plasticGradOp(table, gradOut) = dLoss/dtable for input `which` (of the
// table's shape: OpBase's InferShape).
type plasticGradOp struct {
	OpBase
	tr    InnerTrainer
	which int
}

// Type is a -> b -> a.
func (op *plasticGradOp) Type() hm.Type {
	a, b := hm.TypeVariable('a'), hm.TypeVariable('b')
	return hm.NewFnType(a, b, a)
}

func (op *plasticGradOp) Do(vals ...G.Value) (G.Value, error) {
	t, g, err := denseOf2(vals)
	if err != nil {
		return nil, err
	}
	d, err := op.tr.BackwardFlat(op.which, g.Data().([]float64))
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d)), nil
}
