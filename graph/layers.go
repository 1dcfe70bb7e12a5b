package graph

// The layer ops of the classifiers (models.New): fused dense layer (bias,
// ReLU and dropout in one op), the ReLU and residual sum, matrix product,
// softmax cross-entropy (this file); 3x3/1x1 convolution, max and global
// average pooling, flatten (layers_conv.go, implicit GEMMs in
// conv_panels.go); batch norm (layers_bn.go). Each op has its own backward
// ops (SymDiff), keeps its output and scratch buffers between steps (no
// allocation per step once warm), and calls the BLAS that Gorgonia uses
// (gorgonia.Use switches it for every op at once). Each instance is a NewOp:
// Gorgonia never merges two layers with equal inputs.

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// buf is an output buffer owned by an op and reused from step to step.
type buf struct{ t *tensor.Dense }

// get returns the buffer for this dtype and shape, allocating only when they
// change. The contents are whatever the last step left there.
func (b *buf) get(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if b.t != nil && b.t.Dtype() == dt && b.t.Shape().Eq(tensor.Shape(shape)) {
		return b.t
	}
	b.t = tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	return b.t
}

// scratch is a reusable slice of T.
func scratch[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

func slice[T Float](t *tensor.Dense) []T { return t.Data().([]T) }

// ScalarOf reads a float scalar Value (a loss, or the seed gradient of
// one).
func ScalarOf(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F32:
		return float64(*s), nil
	case *G.F64:
		return float64(*s), nil
	case *tensor.Dense:
		switch x := s.ScalarValue().(type) {
		case float32:
			return float64(x), nil
		case float64:
			return x, nil
		}
	}
	return 0, fmt.Errorf("graph: want a float scalar, got %T", v)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha*op(a)*op(b) + beta*c (row-major, op = transpose
// when tA/tB) with the BLAS Gorgonia uses.
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch aa := any(a).(type) {
	case []float32:
		G.WhichBLAS().Sgemm(trans(tA), trans(tB), m, n, k, float32(alpha), aa, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		G.WhichBLAS().Dgemm(trans(tA), trans(tB), m, n, k, float64(alpha), aa, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// ---------------------------------------------------------------------------
// Dense layer: y = dropout(relu(x·W + b)), x [B,In], W [In,Out], b [Out].

// Dropout is the dropout of a layer: the probability P, whether the layer
// is in training mode, and the dropout stream of its session (reset per
// epoch by the trainer, so masks are reproducible; dropout.go).
type Dropout struct {
	P      float64
	Train  bool
	Stream *DropStream
}

func (d *Dropout) active() bool { return d != nil && d.Train && d.P > 0 }

// keepScale is 1/(1-p) in training mode with dropout, 1 otherwise.
func (d *Dropout) keepScale() float64 {
	if d.active() {
		return 1 / (1 - d.P)
	}
	return 1
}

// applyDropout zeroes each element of y with probability p and scales the
// kept ones by 1/(1-p): element i is kept when DropUniform(key, ctr+i) >= p;
// the stream's counter then advances by len(y). With relu set it applies
// max(v, 0) first (the dense layer's fused ReLU): one pass, no branch on
// the signs or the random bits (both close to random, so branches would
// mispredict half the time).
func applyDropout[T Float](d *Dropout, y []T, relu bool) {
	s := d.Stream
	defer func() { s.Ctr += uint64(len(y)) }()
	if d.P >= 1 {
		clear(y)
		return
	}
	p := float32(d.P)
	switch ys := any(y).(type) {
	case []float32:
		sc := float32(1 / (1 - d.P))
		for i, v := range ys {
			if relu {
				v = max(v, 0)
			}
			// All ones when kept, zero (a +0 result) when dropped.
			m := -uint32(b2u(DropUniform(s.Key, s.Ctr+uint64(i)) >= p))
			ys[i] = math.Float32frombits(math.Float32bits(v*sc) & m)
		}
	case []float64:
		sc := 1 / (1 - d.P)
		for i, v := range ys {
			if relu {
				v = max(v, 0)
			}
			m := -uint64(b2u(DropUniform(s.Key, s.Ctr+uint64(i)) >= p))
			ys[i] = math.Float64frombits(math.Float64bits(v*sc) & m)
		}
	}
}

// b2u is 1 for true and 0 for false.
func b2u(b bool) uint8 {
	var u uint8
	if b {
		u = 1
	}
	return u
}

type denseOp struct {
	OpBase
	relu   bool
	drop   *Dropout
	needDX bool
	out    buf
}

// Dense applies the fused dense layer x·w + b, then ReLU when relu is set,
// then dropout when drop is active (not nil, in training mode, P > 0).
// needDX=false (first layer, whose input is data) skips the input gradient.
func Dense(x, w, b *G.Node, relu bool, drop *Dropout, needDX bool) (*G.Node, error) {
	op := &denseOp{OpBase: NewOp("dense", 3), relu: relu, drop: drop, needDX: needDX}
	return G.ApplyOp(op, x, w, b)
}

func (op *denseOp) Type() hm.Type {
	return hm.NewFnType(TensorT(2), TensorT(2), TensorT(1), TensorT(2))
}
func (op *denseOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	xs, ws := in[0].(tensor.Shape), in[1].(tensor.Shape)
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[0] {
		return nil, fmt.Errorf("dense: input %v and weight %v do not match", xs, ws)
	}
	return tensor.Shape{xs[0], ws[1]}, nil
}
func (op *denseOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	w, _ := denseOf(vs[1])
	b, _ := denseOf(vs[2])
	B, in, out := x.Shape()[0], x.Shape()[1], w.Shape()[1]
	y := op.out.get(x.Dtype(), B, out)
	switch x.Dtype() {
	case tensor.Float32:
		denseFwd(op, slice[float32](x), slice[float32](w), slice[float32](b), slice[float32](y), B, in, out)
	case tensor.Float64:
		denseFwd(op, slice[float64](x), slice[float64](w), slice[float64](b), slice[float64](y), B, in, out)
	}
	return y, nil
}

func denseFwd[T Float](op *denseOp, x, w, b, y []T, B, in, out int) {
	for i := 0; i < B; i++ {
		copy(y[i*out:(i+1)*out], b)
	}
	gemm(false, false, B, out, in, 1, x, in, w, out, 1, y, out)
	switch {
	case op.drop.active():
		applyDropout(op.drop, y, op.relu)
	case op.relu:
		for i, v := range y {
			y[i] = max(v, 0) // no branch: the signs are close to random
		}
	}
}

func (op *denseOp) DiffWRT(int) []bool { return []bool{op.needDX, true, true} }
func (op *denseOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dpre := grad
	var err error
	if op.relu || op.drop.active() {
		if dpre, err = actGrad(out, grad, op.relu, op.drop.keepScale()); err != nil {
			return nil, err
		}
	}
	dw, err := MatMul(in[0], dpre, true, false)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&colSumOp{OpBase: NewOp("colsum", 1)}, dpre)
	if err != nil {
		return nil, err
	}
	var dx *G.Node
	if op.needDX {
		if dx, err = MatMul(dpre, in[1], false, true); err != nil {
			return nil, err
		}
	}
	return G.Nodes{dx, dw, db}, nil
}

// ---------------------------------------------------------------------------
// actGrad: dpre = dy*scale where y > 0 (ReLU, possibly after dropout), else 0;
// without ReLU (dropout alone): dpre = dy*scale where y != 0.

type actGradOp struct {
	OpBase
	relu  bool
	scale float64
	out   buf
}

func actGrad(y, dy *G.Node, relu bool, scale float64) (*G.Node, error) {
	return G.ApplyOp(&actGradOp{OpBase: NewOp("actgrad", 2), relu: relu, scale: scale}, y, dy)
}

func (op *actGradOp) Do(vs ...G.Value) (G.Value, error) {
	y, dy, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	out := op.out.get(y.Dtype(), y.Shape()...)
	switch y.Dtype() {
	case tensor.Float32:
		actGradK(slice[float32](y), slice[float32](dy), slice[float32](out), op.relu, float32(op.scale))
	case tensor.Float64:
		actGradK(slice[float64](y), slice[float64](dy), slice[float64](out), op.relu, op.scale)
	}
	return out, nil
}

func actGradK[T Float](y, dy, out []T, relu bool, sc T) {
	dy = dy[:len(y)]
	out = out[:len(y)]
	if relu {
		for i, v := range y {
			out[i] = dy[i] * sc * step(v)
		}
		return
	}
	for i, v := range y {
		if v != 0 {
			out[i] = dy[i] * sc
		} else {
			out[i] = 0
		}
	}
}

// ---------------------------------------------------------------------------
// ReLU as its own op (after a residual sum).

type reluOp struct {
	OpBase
	out buf
}

// ReLU is max(x, 0) with its own backward.
func ReLU(x *G.Node) (*G.Node, error) { return G.ApplyOp(&reluOp{OpBase: NewOp("relu", 1)}, x) }

func (op *reluOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	y := op.out.get(x.Dtype(), x.Shape()...)
	switch x.Dtype() {
	case tensor.Float32:
		reluK(slice[float32](x), slice[float32](y))
	case tensor.Float64:
		reluK(slice[float64](x), slice[float64](y))
	}
	return y, nil
}
func reluK[T Float](x, y []T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = v * step(v)
	}
}
func (op *reluOp) DiffWRT(int) []bool { return []bool{true} }
func (op *reluOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := actGrad(out, grad, true, 1)
	return G.Nodes{d}, err
}

// ---------------------------------------------------------------------------
// addOp: a + b (residual sum) into a reused buffer; gradient passes to both.

type addOp struct {
	OpBase
	out buf
}

// Add is the element-wise sum of two tensors of equal shape.
func Add(a, b *G.Node) (*G.Node, error) { return G.ApplyOp(&addOp{OpBase: NewOp("add", 2)}, a, b) }

func (op *addOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	a, b := in[0].(tensor.Shape), in[1].(tensor.Shape)
	if !a.Eq(b) {
		return nil, fmt.Errorf("add: shapes %v and %v differ", a, b)
	}
	return a.Clone(), nil
}
func (op *addOp) Do(vs ...G.Value) (G.Value, error) {
	a, b, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	y := op.out.get(a.Dtype(), a.Shape()...)
	switch a.Dtype() {
	case tensor.Float32:
		addK(slice[float32](a), slice[float32](b), slice[float32](y))
	case tensor.Float64:
		addK(slice[float64](a), slice[float64](b), slice[float64](y))
	}
	return y, nil
}
func addK[T Float](a, b, y []T) {
	b, y = b[:len(a)], y[:len(a)]
	for i := range a {
		y[i] = a[i] + b[i]
	}
}
func (op *addOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op *addOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad, grad}, nil
}

// ---------------------------------------------------------------------------
// MatMul: c = op(a)·op(b) for 2-D tensors (used by the backward passes).

type matMulOp struct {
	OpBase
	tA, tB bool
	out    buf
}

// MatMul multiplies two matrices, transposing a and/or b first.
func MatMul(a, b *G.Node, tA, tB bool) (*G.Node, error) {
	return G.ApplyOp(&matMulOp{OpBase: NewOp("matmul", 2), tA: tA, tB: tB}, a, b)
}

func (op *matMulOp) dims(as, bs tensor.Shape) (m, n, k int, err error) {
	if len(as) != 2 || len(bs) != 2 {
		return 0, 0, 0, fmt.Errorf("matmul: shapes %v and %v are not matrices", as, bs)
	}
	m, k = as[0], as[1]
	if op.tA {
		m, k = k, m
	}
	k2, n := bs[0], bs[1]
	if op.tB {
		k2, n = n, k2
	}
	if k != k2 {
		return 0, 0, 0, fmt.Errorf("matmul: inner sizes of %v and %v differ", as, bs)
	}
	return m, n, k, nil
}
func (op *matMulOp) Type() hm.Type { return hm.NewFnType(TensorT(2), TensorT(2), TensorT(2)) }
func (op *matMulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	m, n, _, err := op.dims(in[0].(tensor.Shape), in[1].(tensor.Shape))
	return tensor.Shape{m, n}, err
}
func (op *matMulOp) Do(vs ...G.Value) (G.Value, error) {
	a, b, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	m, n, k, err := op.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	c := op.out.get(a.Dtype(), m, n)
	lda, ldb := a.Shape()[1], b.Shape()[1]
	switch a.Dtype() {
	case tensor.Float32:
		gemm(op.tA, op.tB, m, n, k, 1, slice[float32](a), lda, slice[float32](b), ldb, 0, slice[float32](c), n)
	case tensor.Float64:
		gemm(op.tA, op.tB, m, n, k, 1, slice[float64](a), lda, slice[float64](b), ldb, 0, slice[float64](c), n)
	}
	return c, nil
}
func (op *matMulOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op *matMulOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	// Only forward-mode-free uses (backward passes) need no second derivative.
	return nil, fmt.Errorf("matmul: second derivatives are not supported")
}

// colSumOp sums a [B,N] matrix over its rows: [N] (bias gradients).
type colSumOp struct {
	OpBase
	out buf
}

func (op *colSumOp) Type() hm.Type { return hm.NewFnType(TensorT(2), TensorT(1)) }
func (op *colSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[1]}, nil
}
func (op *colSumOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	B, n := x.Shape()[0], x.Shape()[1]
	y := op.out.get(x.Dtype(), n)
	switch x.Dtype() {
	case tensor.Float32:
		colSumK(slice[float32](x), slice[float32](y), B, n)
	case tensor.Float64:
		colSumK(slice[float64](x), slice[float64](y), B, n)
	}
	return y, nil
}
func colSumK[T Float](x, y []T, B, n int) {
	copy(y, x[:n])
	for i := 1; i < B; i++ {
		row := x[i*n : (i+1)*n]
		for j, v := range row {
			y[j] += v
		}
	}
}

// ---------------------------------------------------------------------------
// Softmax cross-entropy: mean over the batch of -log softmax(logits)[label].
// Labels are a [B] tensor of class indices stored as floats.

type xentOp struct {
	OpBase
}

// SoftmaxCrossEntropy is the mean cross-entropy loss of logits [B,C] against
// class indices labels [B]; its gradient is (softmax - onehot)/B.
func SoftmaxCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	return G.ApplyOp(&xentOp{OpBase: NewOp("softmax_xent", 2)}, logits, labels)
}

func (op *xentOp) Type() hm.Type {
	return hm.NewFnType(TensorT(2), TensorT(1), hm.TypeVariable('a'))
}
func (op *xentOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *xentOp) Do(vs ...G.Value) (G.Value, error) {
	z, l, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	B, C := z.Shape()[0], z.Shape()[1]
	switch z.Dtype() {
	case tensor.Float32:
		loss, err := xentLoss(slice[float32](z), slice[float32](l), nil, B, C)
		return G.NewF32(float32(loss)), err
	default:
		loss, err := xentLoss(slice[float64](z), slice[float64](l), nil, B, C)
		return G.NewF64(loss), err
	}
}

// xentLoss returns the mean loss; when grad is not nil it also writes
// scale*(softmax - onehot) into it.
func xentLoss[T Float](z, labels, grad []T, B, C int) (float64, error) {
	var sum float64
	for i := 0; i < B; i++ {
		row := z[i*C : (i+1)*C]
		lab := int(labels[i])
		if lab < 0 || lab >= C || float64(lab) != float64(labels[i]) {
			return 0, fmt.Errorf("softmax cross-entropy: label %v of row %d is not a class in [0,%d)", labels[i], i, C)
		}
		mx := row[0]
		for _, v := range row[1:] {
			mx = max(mx, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(s)
		sum += lse - float64(row[lab])
		if grad != nil {
			g := grad[i*C : (i+1)*C]
			inv := 1 / s
			for j, v := range row {
				g[j] = T(math.Exp(float64(v-mx)) * inv)
			}
			g[lab] -= 1
		}
	}
	return sum / float64(B), nil
}

func (op *xentOp) DiffWRT(int) []bool { return []bool{true, false} }
func (op *xentOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&xentGradOp{OpBase: NewOp("softmax_xent_grad", 3)}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

type xentGradOp struct {
	OpBase
	out buf
}

func (op *xentGradOp) Type() hm.Type {
	return hm.NewFnType(TensorT(2), TensorT(1), hm.TypeVariable('a'), TensorT(2))
}
func (op *xentGradOp) Do(vs ...G.Value) (G.Value, error) {
	z, l, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	g, err := ScalarOf(vs[2])
	if err != nil {
		return nil, err
	}
	B, C := z.Shape()[0], z.Shape()[1]
	d := op.out.get(z.Dtype(), B, C)
	sc := g / float64(B)
	switch z.Dtype() {
	case tensor.Float32:
		out := slice[float32](d)
		if _, err := xentLoss(slice[float32](z), slice[float32](l), out, B, C); err != nil {
			return nil, err
		}
		for i := range out {
			out[i] *= float32(sc)
		}
	case tensor.Float64:
		out := slice[float64](d)
		if _, err := xentLoss(slice[float64](z), slice[float64](l), out, B, C); err != nil {
			return nil, err
		}
		for i := range out {
			out[i] *= sc
		}
	}
	return d, nil
}
