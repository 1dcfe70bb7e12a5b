package models

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Batch-norm constants (PyTorch's defaults).
const (
	bnMomentum = 0.1
	bnEps      = 1e-5
)

// bnState is shared by a batch norm and its backward ops. In training mode
// the forward pass normalises with the batch statistics and updates the
// running ones (momentum 0.1, unbiased variance); in evaluation mode it uses
// the running statistics. runMean and runVar belong to the model.
type bnState struct {
	train        bool
	runMean      *tensor.Dense
	runVar       *tensor.Dense
	mean, invStd []float64 // of the last forward pass, per channel
	C, HW        int
}

type bnOp struct {
	opBase
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
	st := &bnState{train: train, runMean: runMean, runVar: runVar, C: C, HW: HW, mean: make([]float64, C), invStd: make([]float64, C)}
	return G.ApplyOp(&bnOp{opBase: newBase("batchnorm"), st: st, relu: relu}, x, gamma, beta)
}

func (op *bnOp) Arity() int { return 3 }
func (op *bnOp) Type() hm.Type {
	x := hm.TypeVariable('x')
	return hm.NewFnType(x, tt(1), tt(1), x)
}
func (op *bnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *bnOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := dense(vs[0])
	if err != nil {
		return nil, err
	}
	gm, _ := dense(vs[1])
	bt, _ := dense(vs[2])
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

func bnFwd[T num](st *bnState, x, gm, bt, y, rm, rv []T, B int, relu bool) {
	C, HW := st.C, st.HW
	M := float64(B * HW)
	parallelFor(C, func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			var mean, invStd float64
			if st.train {
				var s float64
				for n := 0; n < B; n++ {
					for _, v := range x[(n*C+c)*HW : (n*C+c+1)*HW] {
						s += float64(v)
					}
				}
				mean = s / M
				var ss float64
				for n := 0; n < B; n++ {
					for _, v := range x[(n*C+c)*HW : (n*C+c+1)*HW] {
						d := float64(v) - mean
						ss += d * d
					}
				}
				variance := ss / M
				invStd = 1 / math.Sqrt(variance+bnEps)
				unbiased := variance
				if M > 1 {
					unbiased = ss / (M - 1)
				}
				rm[c] = T((1-bnMomentum)*float64(rm[c]) + bnMomentum*mean)
				rv[c] = T((1-bnMomentum)*float64(rv[c]) + bnMomentum*unbiased)
			} else {
				mean = float64(rm[c])
				invStd = 1 / math.Sqrt(float64(rv[c])+bnEps)
			}
			st.mean[c], st.invStd[c] = mean, invStd
			a := T(float64(gm[c]) * invStd)
			b := T(float64(bt[c]) - float64(gm[c])*invStd*mean)
			for n := 0; n < B; n++ {
				xs := x[(n*C+c)*HW : (n*C+c+1)*HW]
				ys := y[(n*C+c)*HW : (n*C+c+1)*HW]
				for i, v := range xs {
					o := a*v + b
					if relu && o < 0 {
						o = 0
					}
					ys[i] = o
				}
			}
		}
	})
}

func (op *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *bnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dpre := grad
	var err error
	if op.relu {
		if dpre, err = actGrad(out, grad, true, 1); err != nil {
			return nil, err
		}
	}
	dx, err := G.ApplyOp(&bnGradOp{opBase: newBase("batchnorm_dx"), st: op.st, dx: true}, in[0], in[1], dpre)
	if err != nil {
		return nil, err
	}
	dg, err := G.ApplyOp(&bnGradOp{opBase: newBase("batchnorm_dgamma"), st: op.st}, in[0], in[1], dpre)
	if err != nil {
		return nil, err
	}
	var db *G.Node
	if len(in[0].Shape()) == 4 {
		db, err = G.ApplyOp(&chanSumOp{opBase: newBase("chansum")}, dpre)
	} else {
		db, err = G.ApplyOp(&colSumOp{opBase: newBase("colsum")}, dpre)
	}
	return G.Nodes{dx, dg, db}, err
}

// bnGradOp computes the input gradient (dx set) or the scale gradient of a
// batch norm from x, gamma and the gradient at its (pre-ReLU) output.
type bnGradOp struct {
	opBase
	st  *bnState
	dx  bool
	out buf
}

func (op *bnGradOp) Arity() int { return 3 }
func (op *bnGradOp) Type() hm.Type {
	x := hm.TypeVariable('x')
	if op.dx {
		return hm.NewFnType(x, tt(1), x, x)
	}
	return hm.NewFnType(x, tt(1), x, tt(1))
}
func (op *bnGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if op.dx {
		return in[0].(tensor.Shape).Clone(), nil
	}
	return tensor.Shape{op.st.C}, nil
}
func (op *bnGradOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := dense(vs[0])
	if err != nil {
		return nil, err
	}
	gm, _ := dense(vs[1])
	dy, err := dense(vs[2])
	if err != nil {
		return nil, err
	}
	var out *tensor.Dense
	if op.dx {
		out = op.out.get(x.Dtype(), x.Shape()...)
	} else {
		out = op.out.get(x.Dtype(), op.st.C)
	}
	B := x.Shape()[0]
	switch x.Dtype() {
	case tensor.Float32:
		bnBwd(op.st, op.dx, slice[float32](x), slice[float32](gm), slice[float32](dy), slice[float32](out), B)
	case tensor.Float64:
		bnBwd(op.st, op.dx, slice[float64](x), slice[float64](gm), slice[float64](dy), slice[float64](out), B)
	}
	return out, nil
}

func bnBwd[T num](st *bnState, wantDX bool, x, gm, dy, out []T, B int) {
	C, HW := st.C, st.HW
	M := float64(B * HW)
	parallelFor(C, func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			mean, inv := st.mean[c], st.invStd[c]
			var sdy, sdyx float64
			for n := 0; n < B; n++ {
				xs := x[(n*C+c)*HW : (n*C+c+1)*HW]
				ds := dy[(n*C+c)*HW : (n*C+c+1)*HW]
				for i, v := range xs {
					d := float64(ds[i])
					sdy += d
					sdyx += d * (float64(v) - mean) * inv
				}
			}
			if !wantDX {
				out[c] = T(sdyx)
				continue
			}
			k := float64(gm[c]) * inv
			for n := 0; n < B; n++ {
				xs := x[(n*C+c)*HW : (n*C+c+1)*HW]
				ds := dy[(n*C+c)*HW : (n*C+c+1)*HW]
				os := out[(n*C+c)*HW : (n*C+c+1)*HW]
				if !st.train {
					for i := range xs {
						os[i] = T(k * float64(ds[i]))
					}
					continue
				}
				a, b := sdy/M, sdyx/M
				for i, v := range xs {
					xh := (float64(v) - mean) * inv
					os[i] = T(k * (float64(ds[i]) - a - xh*b))
				}
			}
		}
	})
}
