package attacks

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
)

// rnnLogits is the forward graph of models.RNN.BuildLogits with the weights
// held fixed, for input gradients:
//
//	round 1:     H = cap_k(relu(X (A.*Min)^T + b))
//	rounds 2..T: H = cap_k(relu((H + X (A.*Min)^T) (W.*Mg)^T + b))
//	logits:      H U^T + c
//
// BuildLogits recomputes A.*Min and W.*Mg and transposes them (and their
// gradients) with Gorgonia's slow strided copies on every run, which costs
// more than the products for the small batches of an attack; here the
// masked weights are computed once and each product is one GEMM call with
// the transposition done by the BLAS (fixedMul), forward and backward.
// TestRNNGraphMatchesBuildLogits checks that both graphs agree.
func rnnLogits(net *models.RNN, x *G.Node) (*G.Node, error) {
	g, dt := x.Graph(), x.Dtype()
	v, n, m := net.Nodes, net.Inputs, net.Labels
	if x.Dims() != 2 || x.Shape()[1] != n {
		return nil, fmt.Errorf("attacks: input shape %v, want (batch, %d)", x.Shape(), n)
	}
	am := make([]float64, v*n)
	for i := range am {
		am[i] = net.A[i] * net.InMask[i]
	}
	row := func(name string, vals []float64) *G.Node {
		return G.NewMatrix(g, dt, G.WithShape(1, len(vals)), G.WithName(name), G.WithValue(dense(dt, vals, 1, len(vals))))
	}
	brow, crow := row("b", net.B), row("c", net.C)
	wrap := func(err error) error { return fmt.Errorf("attacks: rnn graph: %w", err) }
	// layer is cap_k(relu(z + b)).
	layer := func(z *G.Node) (*G.Node, error) {
		zb, err := G.BroadcastAdd(z, brow, nil, []byte{0})
		if err != nil {
			return nil, err
		}
		r, err := G.Rectify(zb)
		if err != nil {
			return nil, err
		}
		return graph.Cap(r, net.Cap)
	}
	xa, err := fixedMul(x, am, v, n, "A.*Min")
	if err != nil {
		return nil, wrap(err)
	}
	h, err := layer(xa)
	if err != nil {
		return nil, wrap(err)
	}
	if net.T > 1 {
		wm := make([]float64, v*v)
		for i := range wm {
			wm[i] = net.W[i] * net.GraphMask[i]
		}
		for t := 1; t < net.T; t++ {
			hx, err := G.Add(h, xa)
			if err != nil {
				return nil, wrap(err)
			}
			z, err := fixedMul(hx, wm, v, v, "W.*Mg")
			if err != nil {
				return nil, wrap(err)
			}
			if h, err = layer(z); err != nil {
				return nil, wrap(err)
			}
		}
	}
	hu, err := fixedMul(h, net.U, m, v, "U")
	if err != nil {
		return nil, wrap(err)
	}
	logits, err := G.BroadcastAdd(hu, crow, nil, []byte{0})
	if err != nil {
		return nil, wrap(err)
	}
	return logits, nil
}

// fixedMul returns x M^T for a fixed rows x cols matrix M (row-major):
// x is (batch, cols), the result (batch, rows). Its gradient with respect
// to x is dY M.
func fixedMul(x *G.Node, mat []float64, rows, cols int, name string) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != cols {
		return nil, fmt.Errorf("fixedMul %s: input shape %v, want (batch, %d)", name, x.Shape(), cols)
	}
	op := &fixedMulOp{id: opIDs.Add(1), name: name, rows: rows, cols: cols}
	if x.Dtype() == tensor.Float32 {
		op.m32 = make([]float32, len(mat))
		for i, v := range mat {
			op.m32[i] = float32(v)
		}
	} else {
		op.m64 = append([]float64(nil), mat...)
	}
	return G.ApplyOp(op, x)
}

var opIDs atomic.Uint64

// fixedMulOp computes x M^T (transposed false) or x M (transposed true, the
// gradient); M is rows x cols.
type fixedMulOp struct {
	id         uint64
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

func (op *fixedMulOp) Arity() int { return 1 }
func (op *fixedMulOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op *fixedMulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[1] != op.in() {
		return nil, fmt.Errorf("fixedMul %s: input shape %v, want (batch, %d)", op.name, in[0], op.in())
	}
	return tensor.Shape{s[0], op.out()}, nil
}
func (op *fixedMulOp) Do(vals ...G.Value) (G.Value, error) {
	x, ok := vals[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("fixedMul %s: want a dense input, got %T", op.name, vals[0])
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
	return nil, fmt.Errorf("fixedMul %s: unsupported dtype %v", op.name, x.Dtype())
}
func (op *fixedMulOp) ReturnsPtr() bool     { return false }
func (op *fixedMulOp) CallsExtern() bool    { return false }
func (op *fixedMulOp) OverwritesInput() int { return -1 }
func (op *fixedMulOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "fixedMul{%s,%d,%v}", op.name, op.id, op.transposed)
}
func (op *fixedMulOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *fixedMulOp) String() string { return fmt.Sprintf("FixedMul{%s,%v}", op.name, op.transposed) }

func (op *fixedMulOp) DiffWRT(int) []bool { return []bool{true} }
func (op *fixedMulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := *op
	back.id = opIDs.Add(1)
	back.transposed = !op.transposed
	d, err := G.ApplyOp(&back, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}
