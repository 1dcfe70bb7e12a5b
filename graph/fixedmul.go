package graph

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FixedMul returns x M^T for a fixed rows x cols matrix M (row-major, its
// values copied): x is (batch, cols), the result (batch, rows). Its
// gradient with respect to x is dY M. Each product is one GEMM call with
// the transposition done by the BLAS, forward and backward, where a
// constant node under G.Mul would need M^T stored or transposed (and
// Gorgonia transposes with slow strided copies). name labels the op.
func FixedMul(x *G.Node, mat []float64, rows, cols int, name string) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != cols {
		return nil, fmt.Errorf("graph.FixedMul %s: input shape %v, want (batch, %d)", name, x.Shape(), cols)
	}
	if len(mat) != rows*cols {
		return nil, fmt.Errorf("graph.FixedMul %s: %d values for a %d x %d matrix", name, len(mat), rows, cols)
	}
	op := &fixedMulOp{OpBase: NewOp(fmt.Sprintf("FixedMul{%s}", name), 1), name: name, rows: rows, cols: cols}
	switch x.Dtype() {
	case tensor.Float32:
		op.m32 = make([]float32, len(mat))
		for i, v := range mat {
			op.m32[i] = float32(v)
		}
	case tensor.Float64:
		op.m64 = append([]float64(nil), mat...)
	default:
		return nil, fmt.Errorf("graph.FixedMul %s: unsupported dtype %v", name, x.Dtype())
	}
	return G.ApplyOp(op, x)
}

// fixedMulOp computes x M^T (transposed false) or x M (transposed true, the
// gradient); M is rows x cols.
type fixedMulOp struct {
	OpBase
	name       string
	rows, cols int
	m32        []float32
	m64        []float64
	transposed bool
}

func (op *fixedMulOp) in() int {
	if op.transposed {
		return op.rows
	}
	return op.cols
}

func (op *fixedMulOp) out() int {
	if op.transposed {
		return op.cols
	}
	return op.rows
}

// InferShape is (batch, out) for an input (batch, in).
func (op *fixedMulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[1] != op.in() {
		return nil, fmt.Errorf("%v: input shape %v, want (batch, %d)", op, in[0], op.in())
	}
	return tensor.Shape{s[0], op.out()}, nil
}

func (op *fixedMulOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := denseOf(vals[0])
	if err != nil {
		return nil, err
	}
	B, k, nOut := x.Shape()[0], op.in(), op.out()
	tr := blas.Trans
	if op.transposed {
		tr = blas.NoTrans
	}
	b := G.WhichBLAS()
	switch xs := x.Data().(type) {
	case []float32:
		y := make([]float32, B*nOut)
		// Y (B x out) = X (B x k) op(M), M stored rows x cols (ld cols).
		b.Sgemm(blas.NoTrans, tr, B, nOut, k, 1, xs, k, op.m32, op.cols, 0, y, nOut)
		return tensor.New(tensor.WithShape(B, nOut), tensor.WithBacking(y)), nil
	case []float64:
		y := make([]float64, B*nOut)
		b.Dgemm(blas.NoTrans, tr, B, nOut, k, 1, xs, k, op.m64, op.cols, 0, y, nOut)
		return tensor.New(tensor.WithShape(B, nOut), tensor.WithBacking(y)), nil
	}
	return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
}

func (op *fixedMulOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff: d(x M^T)/dx applied to dY is dY M, the same op transposed.
func (op *fixedMulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := *op
	back.transposed = !op.transposed
	suffix := "T"
	if back.transposed {
		suffix = "grad"
	}
	back.OpBase = NewOp(fmt.Sprintf("FixedMul{%s,%s}", op.name, suffix), 1)
	d, err := G.ApplyOp(&back, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}
