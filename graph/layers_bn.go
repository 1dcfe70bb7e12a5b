package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Batch-norm constants (PyTorch's defaults): the running statistics move
// by BatchNormMomentum of the batch's, and the variance gets BatchNormEps
// before its square root.
const (
	BatchNormMomentum = 0.1
	BatchNormEps      = 1e-5
)

// bnState is shared by a batch norm and its backward ops. In training mode
// the forward pass normalises with the batch statistics and updates the
// running ones (momentum 0.1, unbiased variance); in evaluation mode it uses
// the running statistics. runMean and runVar belong to the model.
type bnState struct {
	train         bool
	runMean       *tensor.Dense
	runVar        *tensor.Dense
	mean, invStd  []float64 // of the last forward pass, per channel
	dgamma, dbeta []float64 // of the last backward pass, per channel
	C, HW         int
}

type bnOp struct {
	OpBase
	st   *bnState
	relu bool
	out  buf
}

// BatchNorm normalises x [B,C,H,W] or [B,C] per channel, scales by gamma
// [C], shifts by beta [C] and applies ReLU when relu is set. runMean and
// runVar ([C], the dtype of x) are the running statistics it reads in
// evaluation mode and updates in training mode.
func BatchNorm(x, gamma, beta *G.Node, runMean, runVar *tensor.Dense, train, relu bool) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 2 && len(xs) != 4 {
		return nil, fmt.Errorf("batchnorm: want [B,C] or [B,C,H,W], got %v", xs)
	}
	C, HW := xs[1], 1
	if len(xs) == 4 {
		HW = xs[2] * xs[3]
	}
	if runMean.Shape().TotalSize() != C || runVar.Shape().TotalSize() != C {
		return nil, fmt.Errorf("batchnorm: running statistics of size %d, want %d", runMean.Shape().TotalSize(), C)
	}
	st := &bnState{train: train, runMean: runMean, runVar: runVar, C: C, HW: HW, mean: make([]float64, C), invStd: make([]float64, C),
		dgamma: make([]float64, C), dbeta: make([]float64, C)}
	return G.ApplyOp(&bnOp{OpBase: NewOp("batchnorm", 3), st: st, relu: relu}, x, gamma, beta)
}

func (op *bnOp) Type() hm.Type {
	x := hm.TypeVariable('x')
	return hm.NewFnType(x, TensorT(1), TensorT(1), x)
}
func (op *bnOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	gm, _ := denseOf(vs[1])
	bt, _ := denseOf(vs[2])
	y := op.out.get(x.Dtype(), x.Shape()...)
	B := x.Shape()[0]
	switch x.Dtype() {
	case tensor.Float32:
		bnFwd(op.st, slice[float32](x), slice[float32](gm), slice[float32](bt), slice[float32](y),
			slice[float32](op.st.runMean), slice[float32](op.st.runVar), B, op.relu)
	case tensor.Float64:
		bnFwd(op.st, slice[float64](x), slice[float64](gm), slice[float64](bt), slice[float64](y),
			slice[float64](op.st.runMean), slice[float64](op.st.runVar), B, op.relu)
	}
	return y, nil
}

func bnFwd[T Float](st *bnState, x, gm, bt, y, rm, rv []T, B int, relu bool) {
	C, HW := st.C, st.HW
	M := float64(B * HW)
	parallelFor(C, func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			var mean, invStd float64
			if st.train {
				// One pass: sums of x and x^2 in float64, per row in T.
				var s, sq float64
				for n := 0; n < B; n++ {
					rs, rq := sumSq(x[(n*C+c)*HW : (n*C+c+1)*HW])
					s += rs
					sq += rq
				}
				mean = s / M
				variance := max(sq/M-mean*mean, 0)
				ss := variance * M
				invStd = 1 / math.Sqrt(variance+BatchNormEps)
				unbiased := variance
				if M > 1 {
					unbiased = ss / (M - 1)
				}
				rm[c] = T((1-BatchNormMomentum)*float64(rm[c]) + BatchNormMomentum*mean)
				rv[c] = T((1-BatchNormMomentum)*float64(rv[c]) + BatchNormMomentum*unbiased)
			} else {
				mean = float64(rm[c])
				invStd = 1 / math.Sqrt(float64(rv[c])+BatchNormEps)
			}
			st.mean[c], st.invStd[c] = mean, invStd
			a := T(float64(gm[c]) * invStd)
			b := T(float64(bt[c]) - float64(gm[c])*invStd*mean)
			for n := 0; n < B; n++ {
				xs := x[(n*C+c)*HW : (n*C+c+1)*HW]
				ys := y[(n*C+c)*HW : (n*C+c+1)*HW]
				ys = ys[:len(xs)]
				if relu {
					// o*step(o): ReLU without a branch (gives -0 for o < 0).
					for i, v := range xs {
						o := a*v + b
						ys[i] = o * step(o)
					}
					continue
				}
				for i, v := range xs {
					ys[i] = a*v + b
				}
			}
		}
	})
}

func (op *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *bnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&bnGradOp{OpBase: NewOp("batchnorm_grad", 4), st: op.st, relu: op.relu}, in[0], in[1], out, grad)
	if err != nil {
		return nil, err
	}
	dg, err := G.ApplyOp(&bnParamGradOp{OpBase: NewOp("batchnorm_dgamma", 1), st: op.st, dims: len(in[0].Shape())}, dx)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&bnParamGradOp{OpBase: NewOp("batchnorm_dbeta", 1), st: op.st, beta: true, dims: len(in[0].Shape())}, dx)
	return G.Nodes{dx, dg, db}, err
}

// bnGradOp computes the input gradient of a batch norm from x, gamma, its
// output y (for the fused ReLU's mask) and the output gradient dy, and keeps
// the scale and shift gradients in the state for the bnParamGradOps, which
// take its result as input so they run after it.
type bnGradOp struct {
	OpBase
	st   *bnState
	relu bool
	out  buf
}

func (op *bnGradOp) Type() hm.Type {
	x := hm.TypeVariable('x')
	return hm.NewFnType(x, TensorT(1), x, x, x)
}
func (op *bnGradOp) Do(vs ...G.Value) (G.Value, error) {
	var ts [4]*tensor.Dense
	for i := range ts {
		t, err := denseOf(vs[i])
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	x := ts[0]
	out := op.out.get(x.Dtype(), x.Shape()...)
	B := x.Shape()[0]
	switch x.Dtype() {
	case tensor.Float32:
		bnBwd(op.st, op.relu, slice[float32](x), slice[float32](ts[1]), slice[float32](ts[2]), slice[float32](ts[3]), slice[float32](out), B)
	case tensor.Float64:
		bnBwd(op.st, op.relu, slice[float64](x), slice[float64](ts[1]), slice[float64](ts[2]), slice[float64](ts[3]), slice[float64](out), B)
	}
	return out, nil
}

// bnBwd: with d = dy masked by y > 0 when relu, xh = (x-mean)*invStd,
// dgamma = sum(d*xh), dbeta = sum(d), and in training mode
// dx = gamma*invStd*(d - dbeta/M - xh*dgamma/M) (evaluation: gamma*invStd*d).
func bnBwd[T Float](st *bnState, relu bool, x, gm, y, dy, out []T, B int) {
	C, HW := st.C, st.HW
	M := float64(B * HW)
	parallelFor(C, func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			mean, inv := st.mean[c], st.invStd[c]
			var sdy, sdyx float64
			for n := 0; n < B; n++ {
				o := (n*C + c) * HW
				xs, ds, ys := x[o:o+HW], dy[o:o+HW], y[o:o+HW]
				rs, rx := dotSums(xs, ds, ys, relu)
				sdy += rs
				sdyx += rx
			}
			// sum(d*(x-mean))*inv
			sdyx = (sdyx - mean*sdy) * inv
			st.dgamma[c], st.dbeta[c] = sdyx, sdy
			k := float64(gm[c]) * inv
			a, b := 0.0, 0.0
			if st.train {
				a, b = sdy/M, sdyx/M
			}
			// out = k*(d - a - (x-mean)*inv*b) = kk*d + k1*x + k0
			kk, k1 := T(k), T(-k*inv*b)
			k0 := T(k * (-a + mean*inv*b))
			for n := 0; n < B; n++ {
				o := (n*C + c) * HW
				xs, ds, ys, os := x[o:o+HW], dy[o:o+HW], y[o:o+HW], out[o:o+HW]
				ds, ys, os = ds[:len(xs)], ys[:len(xs)], os[:len(xs)]
				if relu {
					for i, v := range xs {
						os[i] = kk*ds[i]*step(ys[i]) + k1*v + k0
					}
					continue
				}
				for i, v := range xs {
					os[i] = kk*ds[i] + k1*v + k0
				}
			}
		}
	})
}

// bnParamGradOp hands out the scale (or shift) gradient the bnGradOp kept;
// its input is that op's result, which orders it after it.
type bnParamGradOp struct {
	OpBase
	st   *bnState
	beta bool
	dims int // of the input gradient
	out  buf
}

func (op *bnParamGradOp) Type() hm.Type {
	return hm.NewFnType(TensorT(op.dims), TensorT(1))
}
func (op *bnParamGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.C}, nil
}
func (op *bnParamGradOp) Do(vs ...G.Value) (G.Value, error) {
	dx, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	src := op.st.dgamma
	if op.beta {
		src = op.st.dbeta
	}
	out := op.out.get(dx.Dtype(), op.st.C)
	switch d := out.Data().(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, src)
	}
	return out, nil
}

// sumSq returns sum(x) and sum(x*x), with four accumulators per sum.
func sumSq[T Float](x []T) (float64, float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := x[i], x[i+1], x[i+2], x[i+3]
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*a, q1+b*b, q2+c*c, q3+d*d
	}
	for ; i < len(x); i++ {
		s0 += x[i]
		q0 += x[i] * x[i]
	}
	return float64(s0+s1) + float64(s2+s3), float64(q0+q1) + float64(q2+q3)
}

// dotSums returns sum(d) and sum(d*x) where d = dy, masked by y > 0 when
// relu is set, with four accumulators per sum.
func dotSums[T Float](x, dy, y []T, relu bool) (float64, float64) {
	dy, y = dy[:len(x)], y[:len(x)]
	var s [4]T
	var r [4]T
	i := 0
	if relu {
		for ; i+4 <= len(x); i += 4 {
			for k := 0; k < 4; k++ {
				d := dy[i+k] * step(y[i+k])
				s[k] += d
				r[k] += d * x[i+k]
			}
		}
	}
	for ; i+4 <= len(x); i += 4 {
		for k := 0; k < 4; k++ {
			d := dy[i+k]
			s[k] += d
			r[k] += d * x[i+k]
		}
	}
	for ; i < len(x); i++ {
		d := dy[i]
		if relu && y[i] <= 0 {
			d = 0
		}
		s[0] += d
		r[0] += d * x[i]
	}
	return float64(s[0]+s[1]) + float64(s[2]+s[3]), float64(r[0]+r[1]) + float64(r[2]+r[3])
}

// step is 1 for v > 0 and 0 otherwise, without a branch (ReLU masks are
// close to random, so a branch would mispredict half the time).
func step[T Float](v T) T {
	var b uint8
	if v > 0 {
		b = 1
	}
	return T(b)
}
