package cuda

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/plasticity-lab/plastic/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// HostGemm computes the row-major float32 product op(a)*op(b) (m x n) of
// host slices. In gpu builds *Context is one (upload, cuBLAS, download);
// anything else that multiplies matrices can stand in for tests.
type HostGemm interface {
	GemmHost(transA, transB bool, m, n, k int, a, b []float32) ([]float32, error)
}

// MatMul is a Gorgonia node computing op(a)*op(b) for float32 matrices on
// dev, differentiable (its gradients are MatMul nodes on dev too).
func MatMul(dev HostGemm, a, b *G.Node, transA, transB bool) (*G.Node, error) {
	if dev == nil {
		return nil, errorf("MatMul: no device")
	}
	if a.Dims() != 2 || b.Dims() != 2 {
		return nil, errorf("MatMul: want matrices, got shapes %v and %v", a.Shape(), b.Shape())
	}
	if a.Dtype() != tensor.Float32 || b.Dtype() != tensor.Float32 {
		return nil, errorf("MatMul: want float32, got %v and %v", a.Dtype(), b.Dtype())
	}
	// The device is part of the name: products on two devices are not
	// the same value.
	name := fmt.Sprintf("cuda.MatMul{transA=%v, transB=%v, dev=%p}", transA, transB, dev)
	return G.ApplyOp(matMulOp{OpBase: graph.PureOp(name, 2), dev: dev, transA: transA, transB: transB}, a, b)
}

type matMulOp struct {
	graph.OpBase
	dev            HostGemm
	transA, transB bool
}

// dims returns m, n, k of op(a)*op(b) for the stored shapes.
func (op matMulOp) dims(sa, sb tensor.Shape) (m, n, k int, err error) {
	if len(sa) != 2 || len(sb) != 2 {
		return 0, 0, 0, errorf("matmul: want matrices, got shapes %v and %v", sa, sb)
	}
	m, k = sa[0], sa[1]
	if op.transA {
		m, k = k, m
	}
	kb, n := sb[0], sb[1]
	if op.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, errorf("matmul: inner dimensions differ: op(a) is %dx%d, op(b) is %dx%d", m, k, kb, n)
	}
	return m, n, k, nil
}

func (op matMulOp) Type() hm.Type {
	t := G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}

func (op matMulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errorf("matmul: want 2 inputs, got %d", len(in))
	}
	sa, ok1 := in[0].(tensor.Shape)
	sb, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 {
		return nil, errorf("matmul: want shapes, got %T and %T", in[0], in[1])
	}
	m, n, _, err := op.dims(sa, sb)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op matMulOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 2 {
		return nil, errorf("matmul: want 2 values, got %d", len(vals))
	}
	a, ok1 := vals[0].(*tensor.Dense)
	b, ok2 := vals[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, errorf("matmul: want dense tensors, got %T and %T", vals[0], vals[1])
	}
	m, n, k, err := op.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	da, ok1 := a.Data().([]float32)
	db, ok2 := b.Data().([]float32)
	if !ok1 || !ok2 {
		return nil, errorf("matmul: want float32 data, got %v and %v", a.Dtype(), b.Dtype())
	}
	if !a.IsNativelyAccessible() || !b.IsNativelyAccessible() || !a.DataOrder().IsRowMajor() || !b.DataOrder().IsRowMajor() ||
		a.IsMaterializable() || b.IsMaterializable() {
		return nil, errorf("matmul: want contiguous row-major inputs")
	}
	out, err := op.dev.GemmHost(op.transA, op.transB, m, n, k, da, db)
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(m, n), tensor.WithBacking(out)), nil
}

// CallsExtern is true: the product runs on the device.
func (op matMulOp) CallsExtern() bool { return true }

func (op matMulOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff: for C = op(A) op(B) with upstream gradient G,
// dA = G op(B)^T (or op(B) G^T when A is transposed) and
// dB = op(A)^T G (or G^T op(A) when B is transposed).
func (op matMulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	a, b := inputs[0], inputs[1]
	var da, db *G.Node
	var err error
	if op.transA {
		da, err = MatMul(op.dev, b, grad, op.transB, true)
	} else {
		da, err = MatMul(op.dev, grad, b, false, !op.transB)
	}
	if err != nil {
		return nil, err
	}
	if op.transB {
		db, err = MatMul(op.dev, grad, a, true, op.transA)
	} else {
		db, err = MatMul(op.dev, a, grad, !op.transA, false)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}
