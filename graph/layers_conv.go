package graph

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"

	"gorgonia.org/tensor"
)

// parallelFor runs f over [0,n) split into contiguous chunks, one per worker
// (GOMAXPROCS workers at most); f gets its worker index.
func parallelFor(n int, f func(worker, lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, lo, hi)
		}()
	}
	wg.Wait()
}

// convGeom is the geometry of a square-kernel 2-D convolution, NCHW.
type convGeom struct {
	C, H, W    int // input channels and size
	Co, K      int // output channels, kernel size
	S, P       int // stride, padding
	Ho, Wo     int
	colRows    int // C*K*K
	colCols    int // Ho*Wo
	inSize     int // C*H*W
	outSize    int // Co*Ho*Wo
	weightSize int
}

func newConvGeom(C, H, W, Co, K, S, P int) (convGeom, error) {
	g := convGeom{C: C, H: H, W: W, Co: Co, K: K, S: S, P: P}
	g.Ho = (H+2*P-K)/S + 1
	g.Wo = (W+2*P-K)/S + 1
	if K < 1 || S < 1 || P < 0 || g.Ho < 1 || g.Wo < 1 {
		return g, fmt.Errorf("conv: kernel %d stride %d padding %d does not fit a %dx%d input", K, S, P, H, W)
	}
	g.colRows, g.colCols = C*K*K, g.Ho*g.Wo
	g.inSize, g.outSize, g.weightSize = C*H*W, Co*g.Ho*g.Wo, Co*C*K*K
	return g, nil
}

// col2im adds the patch matrix col (rows ld apart) back into the (zeroed)
// image dx.
func col2im[T Float](g *convGeom, col, dx []T, ld int) {
	r := 0
	for c := 0; c < g.C; c++ {
		xc := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.K; ki++ {
			for kj := 0; kj < g.K; kj++ {
				src := col[r*ld : r*ld+g.colCols]
				r++
				d := 0
				for oh := 0; oh < g.Ho; oh++ {
					ih := oh*g.S - g.P + ki
					if ih < 0 || ih >= g.H {
						d += g.Wo
						continue
					}
					row := xc[ih*g.W : (ih+1)*g.W]
					if g.S == 1 {
						off := kj - g.P
						lo, hi := max(0, -off), min(g.Wo, g.W-off)
						if lo < hi {
							dr := row[lo+off : hi+off]
							sr := src[d+lo : d+hi]
							sr = sr[:len(dr)]
							for j := range dr {
								dr[j] += sr[j]
							}
						}
						d += g.Wo
						continue
					}
					for ow := 0; ow < g.Wo; ow++ {
						iw := ow*g.S - g.P + kj
						if iw >= 0 && iw < g.W {
							row[iw] += src[d]
						}
						d++
					}
				}
			}
		}
	}
}

// convScratch holds a chunk's output/gradient matrix, the patch matrix of
// the strided input gradients and the flipped kernel, reused from step to
// step.
type convScratch[T Float] struct {
	col []T // [C*K*K, nb*Ho*Wo] (input gradient of strided convolutions)
	mat []T // [Co, nb*Ho*Wo] or [C, nb*H*W]
	wt  []T // flipped kernel [C, Co, K, K]
	pad []T // zero-padded images of a chunk
}

// maxMatElems bounds the output matrix of one chunk (16 MiB of float32).
var maxMatElems = 4 << 20

// chunk is the number of examples convolved by one matrix product: enough
// columns (>= 4096, one nc block of the AVX2 kernel) to keep the GEMM
// efficient, bounded in memory: rows is the number of scratch values per
// output pixel of the largest buffer the product needs.
func (g *convGeom) chunk(B, rows int) int {
	nb := max(1, (4096+g.colCols-1)/g.colCols)
	nb = min(nb, max(1, maxMatElems/(rows*g.colCols)))
	return min(nb, B)
}

// convState is shared by a convolution and its backward ops: geometry and
// private scratch buffers (never handed to Gorgonia as values).
type convState struct {
	g  convGeom
	sc *ConvScratch
}

// ConvScratch is the scratch memory of convolutions. The ops of one graph
// run one after another, so a session shares one among all its layers.
type ConvScratch struct {
	s32 convScratch[float32]
	s64 convScratch[float64]
}

type convOp struct {
	OpBase
	st     *convState
	bias   bool
	relu   bool
	needDX bool
	out    buf
}

// Conv2D convolves x [B,C,H,W] with w [Co,C,K,K] (stride s, padding p), adds
// the bias b [Co] when b is not nil and applies ReLU when relu is set. sc is
// its scratch memory (nil: its own); ops that never run at the same time
// may share one.
func Conv2D(x, w, b *G.Node, stride, pad int, relu, needDX bool, sc *ConvScratch) (*G.Node, error) {
	if sc == nil {
		sc = new(ConvScratch)
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[1] || ws[2] != ws[3] {
		return nil, fmt.Errorf("conv: input %v and weight %v do not match (want [B,C,H,W] and [Co,C,K,K])", xs, ws)
	}
	g, err := newConvGeom(xs[1], xs[2], xs[3], ws[0], ws[2], stride, pad)
	if err != nil {
		return nil, err
	}
	arity := 2
	if b != nil {
		arity = 3
	}
	op := &convOp{OpBase: NewOp(fmt.Sprintf("conv%dx%d/s%d", g.K, g.K, stride), arity), st: &convState{g: g, sc: sc}, bias: b != nil, relu: relu, needDX: needDX}
	if b != nil {
		return G.ApplyOp(op, x, w, b)
	}
	return G.ApplyOp(op, x, w)
}

func (op *convOp) Type() hm.Type {
	if op.bias {
		return hm.NewFnType(TensorT(4), TensorT(4), TensorT(1), TensorT(4))
	}
	return hm.NewFnType(TensorT(4), TensorT(4), TensorT(4))
}
func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	xs := in[0].(tensor.Shape)
	g := &op.st.g
	return tensor.Shape{xs[0], g.Co, g.Ho, g.Wo}, nil
}
func (op *convOp) Do(vs ...G.Value) (G.Value, error) {
	x, w, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	g := &op.st.g
	B := x.Shape()[0]
	y := op.out.get(x.Dtype(), B, g.Co, g.Ho, g.Wo)
	switch x.Dtype() {
	case tensor.Float32:
		var b []float32
		if op.bias {
			bt, _ := denseOf(vs[2])
			b = slice[float32](bt)
		}
		convFwd(g, &op.st.sc.s32, slice[float32](x), slice[float32](w), b, slice[float32](y), B, op.relu)
	case tensor.Float64:
		var b []float64
		if op.bias {
			bt, _ := denseOf(vs[2])
			b = slice[float64](bt)
		}
		convFwd(g, &op.st.sc.s64, slice[float64](x), slice[float64](w), b, slice[float64](y), B, op.relu)
	}
	return y, nil
}

func convFwd[T Float](g *convGeom, s *convScratch[T], x, w, b, y []T, B int, relu bool) {
	padded := g.C * (g.H + 2*g.P) * (g.W + 2*g.P)
	nb := g.chunk(B, max(g.Co, (padded+g.colCols-1)/g.colCols))
	cc := g.colCols
	for n0 := 0; n0 < B; n0 += nb {
		k := min(nb, B-n0)
		ld := k * cc
		mat := scratch(&s.mat, g.Co*ld)
		gp, xs := padChunk(g, s, x[n0*g.inSize:(n0+k)*g.inSize], k)
		gemmB(g.Co, ld, g.colRows, w, g.colRows, forwardPanel(&gp, xs), 0, mat, ld)
		parallelFor(k, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				yn := y[(n0+i)*g.outSize : (n0+i+1)*g.outSize]
				for c := 0; c < g.Co; c++ {
					dst := yn[c*cc : (c+1)*cc]
					src := mat[c*ld+i*cc : c*ld+(i+1)*cc]
					var bc T
					if b != nil {
						bc = b[c]
					}
					if relu {
						for j, v := range src {
							dst[j] = max(v+bc, 0)
						}
					} else if b != nil {
						for j, v := range src {
							dst[j] = v + bc
						}
					} else {
						copy(dst, src)
					}
				}
			}
		})
	}
}

// padChunk returns the k images xs zero-padded (in s.pad) and their
// geometry without padding (the same output size), or xs itself when the
// convolution has no padding: the patch matrices then never meet a border,
// and those of stride-1 convolutions are mostly read in place (rowPatches).
func padChunk[T Float](g *convGeom, s *convScratch[T], xs []T, k int) (convGeom, []T) {
	if g.P == 0 {
		return *g, xs
	}
	gp, err := newConvGeom(g.C, g.H+2*g.P, g.W+2*g.P, g.Co, g.K, g.S, 0)
	if err != nil || gp.Ho != g.Ho || gp.Wo != g.Wo {
		panic(fmt.Sprintf("conv: padded geometry %+v of %+v", gp, *g))
	}
	xp := scratch(&s.pad, k*gp.inSize)
	parallelFor(k, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			padImage(g, xs[i*g.inSize:(i+1)*g.inSize], xp[i*gp.inSize:(i+1)*gp.inSize])
		}
	})
	return gp, xp
}

// padImage copies the C×H×W image x into the middle of the C×(H+2P)×(W+2P)
// image xp, with zero borders.
func padImage[T Float](g *convGeom, x, xp []T) {
	P, H, W := g.P, g.H, g.W
	Wp := W + 2*P
	for c := 0; c < g.C; c++ {
		dst := xp[c*(H+2*P)*Wp : (c+1)*(H+2*P)*Wp]
		clear(dst[:P*Wp])
		for h := 0; h < H; h++ {
			row := dst[(h+P)*Wp : (h+P+1)*Wp]
			clear(row[:P])
			copy(row[P:P+W], x[(c*H+h)*W:(c*H+h+1)*W])
			clear(row[P+W:])
		}
		clear(dst[(H+P)*Wp:])
	}
}

// gatherDY copies the output gradients of examples n0..n0+k-1 into the
// [Co, k*Ho*Wo] matrix mat.
func gatherDY[T Float](g *convGeom, dy, mat []T, n0, k int) {
	cc, ld := g.colCols, k*g.colCols
	parallelFor(k, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			dyn := dy[(n0+i)*g.outSize : (n0+i+1)*g.outSize]
			for c := 0; c < g.Co; c++ {
				copy(mat[c*ld+i*cc:c*ld+(i+1)*cc], dyn[c*cc:(c+1)*cc])
			}
		}
	})
}

func (op *convOp) DiffWRT(n int) []bool {
	d := []bool{op.needDX, true, true}
	return d[:n]
}
func (op *convOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dpre := grad
	var err error
	if op.relu {
		if dpre, err = actGrad(out, grad, true, 1); err != nil {
			return nil, err
		}
	}
	dw, err := G.ApplyOp(&convDWOp{OpBase: NewOp("conv_dw", 2), st: op.st}, in[0], dpre)
	if err != nil {
		return nil, err
	}
	res := G.Nodes{nil, dw}
	if op.needDX {
		if res[0], err = G.ApplyOp(&convDXOp{OpBase: NewOp("conv_dx", 2), st: op.st}, in[1], dpre); err != nil {
			return nil, err
		}
	}
	if op.bias {
		db, err := G.ApplyOp(&chanSumOp{OpBase: NewOp("chansum", 1)}, dpre)
		if err != nil {
			return nil, err
		}
		res = append(res, db)
	}
	return res, nil
}

// convDWOp: dW = sum_n dy[n]·col(x[n])ᵀ.
type convDWOp struct {
	OpBase
	st  *convState
	out buf
}

func (op *convDWOp) Type() hm.Type { return hm.NewFnType(TensorT(4), TensorT(4), TensorT(4)) }
func (op *convDWOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	g := &op.st.g
	return tensor.Shape{g.Co, g.C, g.K, g.K}, nil
}
func (op *convDWOp) Do(vs ...G.Value) (G.Value, error) {
	x, dy, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	g := &op.st.g
	dw := op.out.get(x.Dtype(), g.Co, g.C, g.K, g.K)
	B := x.Shape()[0]
	switch x.Dtype() {
	case tensor.Float32:
		convDW(g, &op.st.sc.s32, slice[float32](x), slice[float32](dy), slice[float32](dw), B)
	case tensor.Float64:
		convDW(g, &op.st.sc.s64, slice[float64](x), slice[float64](dy), slice[float64](dw), B)
	}
	return dw, nil
}

func convDW[T Float](g *convGeom, s *convScratch[T], x, dy, dw []T, B int) {
	padded := g.C * (g.H + 2*g.P) * (g.W + 2*g.P)
	nb := g.chunk(B, max(g.Co, (padded+g.colCols-1)/g.colCols))
	cc := g.colCols
	for n0 := 0; n0 < B; n0 += nb {
		k := min(nb, B-n0)
		ld := k * cc
		mat := scratch(&s.mat, g.Co*ld)
		gatherDY(g, dy, mat, n0, k)
		beta := T(1)
		if n0 == 0 {
			beta = 0
		}
		gp, xs := padChunk(g, s, x[n0*g.inSize:(n0+k)*g.inSize], k)
		pb := &patchesT[T]{g: &gp, x: xs}
		gemmB(g.Co, g.colRows, ld, mat, ld, pb, beta, dw, g.colRows)
	}
}

func (op *convDWOp) DiffWRT(int) []bool { return []bool{false, false} }
func (op *convDWOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("conv_dw: second derivatives are not supported")
}

// convDXOp: dx[n] = col2im(Wᵀ·dy[n]).
type convDXOp struct {
	OpBase
	st  *convState
	out buf
}

func (op *convDXOp) Type() hm.Type { return hm.NewFnType(TensorT(4), TensorT(4), TensorT(4)) }
func (op *convDXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	g := &op.st.g
	return tensor.Shape{in[1].(tensor.Shape)[0], g.C, g.H, g.W}, nil
}
func (op *convDXOp) Do(vs ...G.Value) (G.Value, error) {
	w, dy, err := denseOf2(vs)
	if err != nil {
		return nil, err
	}
	g := &op.st.g
	B := dy.Shape()[0]
	dx := op.out.get(w.Dtype(), B, g.C, g.H, g.W)
	switch w.Dtype() {
	case tensor.Float32:
		convDX(g, &op.st.sc.s32, slice[float32](w), slice[float32](dy), slice[float32](dx), B)
	case tensor.Float64:
		convDX(g, &op.st.sc.s64, slice[float64](w), slice[float64](dy), slice[float64](dx), B)
	}
	return dx, nil
}

func convDX[T Float](g *convGeom, s *convScratch[T], w, dy, dx []T, B int) {
	if g.S == 1 && g.P <= g.K-1 {
		convDXStride1(g, s, w, dy, dx, B)
		return
	}
	nb := g.chunk(B, max(g.colRows, g.Co))
	cc := g.colCols
	for n0 := 0; n0 < B; n0 += nb {
		k := min(nb, B-n0)
		ld := k * cc
		col := scratch(&s.col, g.colRows*ld)
		mat := scratch(&s.mat, g.Co*ld)
		gatherDY(g, dy, mat, n0, k)
		gemm(true, false, g.colRows, ld, g.Co, 1, w, g.colRows, mat, ld, 0, col, ld)
		parallelFor(k, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				dxn := dx[(n0+i)*g.inSize : (n0+i+1)*g.inSize]
				clear(dxn)
				col2im(g, col[i*cc:], dxn, ld)
			}
		})
	}
}

// convDXStride1 is the input gradient of a stride-1 convolution as the
// forward convolution of dy (padding K-1-P) with the flipped kernel
// wt[c][co] = rot180(w[co][c]): dx[n,c,h,w] = sum over co, a, b of
// wt[c,co,a,b] * dy[n, co, h-(K-1-P)+a, w-(K-1-P)+b].
func convDXStride1[T Float](g *convGeom, s *convScratch[T], w, dy, dx []T, B int) {
	gt, err := newConvGeom(g.Co, g.Ho, g.Wo, g.C, g.K, 1, g.K-1-g.P)
	if err != nil || gt.Ho != g.H || gt.Wo != g.W {
		panic(fmt.Sprintf("conv: input gradient geometry %+v of %+v", gt, *g))
	}
	wt := scratch(&s.wt, g.weightSize)
	flipKernel(g, w, wt)
	convFwd(&gt, s, dy, wt, nil, dx, B, false)
}

func (op *convDXOp) DiffWRT(int) []bool { return []bool{false, false} }
func (op *convDXOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("conv_dx: second derivatives are not supported")
}

// chanSumOp sums [B,C,H,W] over batch and space: [C] (conv bias gradients).
type chanSumOp struct {
	OpBase
	out buf
}

func (op *chanSumOp) Type() hm.Type { return hm.NewFnType(TensorT(4), TensorT(1)) }
func (op *chanSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[1]}, nil
}
func (op *chanSumOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	sh := x.Shape()
	y := op.out.get(x.Dtype(), sh[1])
	switch x.Dtype() {
	case tensor.Float32:
		chanSum(slice[float32](x), slice[float32](y), sh[0], sh[1], sh[2]*sh[3])
	case tensor.Float64:
		chanSum(slice[float64](x), slice[float64](y), sh[0], sh[1], sh[2]*sh[3])
	}
	return y, nil
}
func chanSum[T Float](x, y []T, B, C, HW int) {
	for c := 0; c < C; c++ {
		var s float64
		for n := 0; n < B; n++ {
			for _, v := range x[(n*C+c)*HW : (n*C+c+1)*HW] {
				s += float64(v)
			}
		}
		y[c] = T(s)
	}
}

// ---------------------------------------------------------------------------
// Max pooling, square window k, stride k, no padding.

type poolState struct {
	k, C, H, W, Ho, Wo int
	arg                []int32 // flat input index of each output's maximum
}

type maxPoolOp struct {
	OpBase
	st  *poolState
	out buf
}

// MaxPool2D takes the maximum over k x k windows with stride k.
func MaxPool2D(x *G.Node, k int) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 4 || k < 1 || xs[2] < k || xs[3] < k {
		return nil, fmt.Errorf("maxpool: window %d does not fit input %v", k, xs)
	}
	st := &poolState{k: k, C: xs[1], H: xs[2], W: xs[3], Ho: xs[2] / k, Wo: xs[3] / k}
	return G.ApplyOp(&maxPoolOp{OpBase: NewOp(fmt.Sprintf("maxpool%d", k), 1), st: st}, x)
}

func (op *maxPoolOp) Type() hm.Type { return hm.NewFnType(TensorT(4), TensorT(4)) }
func (op *maxPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	xs := in[0].(tensor.Shape)
	return tensor.Shape{xs[0], op.st.C, op.st.Ho, op.st.Wo}, nil
}
func (op *maxPoolOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	st := op.st
	B := x.Shape()[0]
	y := op.out.get(x.Dtype(), B, st.C, st.Ho, st.Wo)
	st.arg = scratch(&st.arg, B*st.C*st.Ho*st.Wo)
	switch x.Dtype() {
	case tensor.Float32:
		maxPool(st, slice[float32](x), slice[float32](y), B)
	case tensor.Float64:
		maxPool(st, slice[float64](x), slice[float64](y), B)
	}
	return y, nil
}

func maxPool[T Float](st *poolState, x, y []T, B int) {
	o := 0
	for nc := 0; nc < B*st.C; nc++ {
		base := nc * st.H * st.W
		for oh := 0; oh < st.Ho; oh++ {
			for ow := 0; ow < st.Wo; ow++ {
				best := base + oh*st.k*st.W + ow*st.k
				for i := 0; i < st.k; i++ {
					r := base + (oh*st.k+i)*st.W + ow*st.k
					for j := 0; j < st.k; j++ {
						if x[r+j] > x[best] {
							best = r + j
						}
					}
				}
				y[o] = x[best]
				st.arg[o] = int32(best)
				o++
			}
		}
	}
}

func (op *maxPoolOp) DiffWRT(int) []bool { return []bool{true} }
func (op *maxPoolOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&maxPoolGradOp{OpBase: NewOp("maxpool_grad", 1), st: op.st}, grad)
	return G.Nodes{d}, err
}

// maxPoolGradOp routes each output gradient to its window's maximum (the
// indices the forward pass recorded).
type maxPoolGradOp struct {
	OpBase
	st  *poolState
	out buf
}

func (op *maxPoolGradOp) Type() hm.Type { return hm.NewFnType(TensorT(4), TensorT(4)) }
func (op *maxPoolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[0], op.st.C, op.st.H, op.st.W}, nil
}
func (op *maxPoolGradOp) Do(vs ...G.Value) (G.Value, error) {
	dy, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	st := op.st
	B := dy.Shape()[0]
	dx := op.out.get(dy.Dtype(), B, st.C, st.H, st.W)
	switch dy.Dtype() {
	case tensor.Float32:
		scatterArg(st.arg, slice[float32](dy), slice[float32](dx))
	case tensor.Float64:
		scatterArg(st.arg, slice[float64](dy), slice[float64](dx))
	}
	return dx, nil
}
func scatterArg[T Float](arg []int32, dy, dx []T) {
	clear(dx)
	for o, i := range arg {
		dx[i] += dy[o]
	}
}

// ---------------------------------------------------------------------------
// Global average pooling [B,C,H,W] -> [B,C].

type gapOp struct {
	OpBase
	out buf
}

// GlobalAvgPool averages each channel over space.
func GlobalAvgPool(x *G.Node) (*G.Node, error) {
	if len(x.Shape()) != 4 {
		return nil, fmt.Errorf("global average pool: want [B,C,H,W], got %v", x.Shape())
	}
	return G.ApplyOp(&gapOp{OpBase: NewOp("gap", 1)}, x)
}

func (op *gapOp) Type() hm.Type { return hm.NewFnType(TensorT(4), TensorT(2)) }
func (op *gapOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	xs := in[0].(tensor.Shape)
	return tensor.Shape{xs[0], xs[1]}, nil
}
func (op *gapOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	sh := x.Shape()
	y := op.out.get(x.Dtype(), sh[0], sh[1])
	switch x.Dtype() {
	case tensor.Float32:
		gap(slice[float32](x), slice[float32](y), sh[2]*sh[3])
	case tensor.Float64:
		gap(slice[float64](x), slice[float64](y), sh[2]*sh[3])
	}
	return y, nil
}
func gap[T Float](x, y []T, HW int) {
	for i := range y {
		var s T
		for _, v := range x[i*HW : (i+1)*HW] {
			s += v
		}
		y[i] = s / T(HW)
	}
}
func (op *gapOp) DiffWRT(int) []bool { return []bool{true} }
func (op *gapOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&gapGradOp{OpBase: NewOp("gap_grad", 1), shape: in[0].Shape().Clone()}, grad)
	return G.Nodes{d}, err
}

type gapGradOp struct {
	OpBase
	shape tensor.Shape
	out   buf
}

func (op *gapGradOp) Type() hm.Type { return hm.NewFnType(TensorT(2), TensorT(4)) }
func (op *gapGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *gapGradOp) Do(vs ...G.Value) (G.Value, error) {
	dy, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	dx := op.out.get(dy.Dtype(), op.shape...)
	HW := op.shape[2] * op.shape[3]
	switch dy.Dtype() {
	case tensor.Float32:
		spread(slice[float32](dy), slice[float32](dx), HW)
	case tensor.Float64:
		spread(slice[float64](dy), slice[float64](dx), HW)
	}
	return dx, nil
}
func spread[T Float](dy, dx []T, HW int) {
	for i, v := range dy {
		v /= T(HW)
		row := dx[i*HW : (i+1)*HW]
		for j := range row {
			row[j] = v
		}
	}
}

// ---------------------------------------------------------------------------
// Flatten [B,...] -> [B, prod(...)] and back. It copies rather than aliasing
// its input: Gorgonia may reuse a dead node's register for another value, so
// two nodes must never share memory.

type reshapeOp struct {
	OpBase
	to   tensor.Shape
	from tensor.Shape
	out  buf
}

// Flatten reshapes x [B,...] to [B, rest].
func Flatten(x *G.Node) (*G.Node, error) {
	xs := x.Shape()
	return G.ApplyOp(&reshapeOp{OpBase: NewOp("flatten", 1), to: tensor.Shape{xs[0], xs.TotalSize() / xs[0]}, from: xs.Clone()}, x)
}

func (op *reshapeOp) Type() hm.Type {
	return hm.NewFnType(TensorT(len(op.from)), TensorT(len(op.to)))
}
func (op *reshapeOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if in[0].(tensor.Shape).TotalSize() != op.to.TotalSize() {
		return nil, fmt.Errorf("reshape: %v to %v", in[0], op.to)
	}
	return op.to.Clone(), nil
}
func (op *reshapeOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseOf(vs[0])
	if err != nil {
		return nil, err
	}
	y := op.out.get(x.Dtype(), op.to...)
	switch x.Dtype() {
	case tensor.Float32:
		copy(slice[float32](y), slice[float32](x))
	case tensor.Float64:
		copy(slice[float64](y), slice[float64](x))
	}
	return y, nil
}
func (op *reshapeOp) DiffWRT(int) []bool { return []bool{true} }
func (op *reshapeOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&reshapeOp{OpBase: NewOp("unflatten", 1), to: op.from, from: op.to}, grad)
	return G.Nodes{d}, err
}
