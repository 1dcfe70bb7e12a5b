package models

// The simple RNN's forward pass, defined once.
//
// Rounds is the definition: the order of the products, the bias, the
// ReLU, the cap and the re-injection of the input drive in every round.
// Every forward pass of the toolkit is Rounds with its own RoundOps:
//
//   - Eval (this file), on numbers, with the firing codes of
//     RNNConfig.Firing. What differs between its users is only how the
//     three matrix products are computed (Products): plain loops in
//     float64 (Loops: RNN.Forward, the reference), GEMMs over many
//     examples at once (GEMM: Trainer.Accuracy, baseline.Accuracy, the
//     experiments' evaluations), or the rule trainer's fast path in
//     package plasticity (sparse inputs, rows split over the CPUs, the
//     pending rule update fused into the second round's product).
//   - graphOps (rnn_graph.go), on Gorgonia nodes, for autodiff: gradient
//     descent on the weights (BuildLogits), meta-learning (BuildLogitsT)
//     and the attacks' input gradients (BuildLogits on fixed weights).

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"

	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/graph/gemm"
)

// RoundOps are the steps of the forward pass on values of type V (a batch
// of examples, one row each). Rounds uses every value once, except the
// input drive ax, which it passes to Layer (round 1) and to every
// Reinject: an implementation may overwrite any other value it is given.
type RoundOps[V any] interface {
	// Input is the input drive X (A.*Min)^T.
	Input(x V) (V, error)
	// Layer is cap_k(relu(z + b)) of every row; numeric implementations
	// also record which nodes fire.
	Layer(z V) (V, error)
	// Reinject is h + ax: the input drive added to the hidden state.
	Reinject(h, ax V) (V, error)
	// Recurrent is v (W.*Mg)^T.
	Recurrent(v V) (V, error)
	// Output is the logits h U^T + c.
	Output(h V) (V, error)
}

// Rounds is the forward pass of the simple RNN with T rounds, the one
// definition every implementation follows:
//
//	ax      = X (A.*Min)^T
//	round 1:     H = cap_k(relu(ax + b))
//	rounds 2..T: H = cap_k(relu((H + ax) (W.*Mg)^T + b))
//	logits  = H U^T + c
func Rounds[V any](T int, ops RoundOps[V], x V) (V, error) {
	var zero V
	ax, err := ops.Input(x)
	if err != nil {
		return zero, err
	}
	h, err := ops.Layer(ax)
	if err != nil {
		return zero, err
	}
	for t := 1; t < T; t++ {
		v, err := ops.Reinject(h, ax)
		if err != nil {
			return zero, err
		}
		z, err := ops.Recurrent(v)
		if err != nil {
			return zero, err
		}
		if h, err = ops.Layer(z); err != nil {
			return zero, err
		}
	}
	return ops.Output(h)
}

// Products computes the three matrix products of the forward pass for
// rows examples (row-major batches, |V| = Nodes columns for ax, v, z and
// h). Eval calls them; every implementation must give the products of the
// same weights.
type Products[F graph.Float] interface {
	// Input sets ax (rows x |V|) = x (rows x n) (A.*Min)^T.
	Input(x []float32, rows int, ax []F)
	// Recurrent sets z (rows x |V|) = v (W.*Mg)^T.
	Recurrent(v []F, rows int, z []F)
	// Output sets logits (rows x m) = h U^T + c.
	Output(h []F, rows int, logits []F)
}

// Weights are a network's weights as the forward pass reads them:
// masked, row-major.
type Weights[F graph.Float] struct {
	AM []F // A.*Min, |V| x n
	WM []F // W.*Mg, |V| x |V| (read only when T > 1)
	U  []F // m x |V|
	B  []F // node biases, |V|
	C  []F // output biases, m; nil for zeros
}

// WeightsOf converts r's weights, masked, to F.
func WeightsOf[F graph.Float](r *RNN) Weights[F] {
	w := Weights[F]{AM: make([]F, len(r.A)), U: make([]F, len(r.U)), B: make([]F, len(r.B)), C: make([]F, len(r.C))}
	for i, a := range r.A {
		w.AM[i] = F(a * r.InMask[i])
	}
	if r.T > 1 {
		w.WM = make([]F, len(r.W))
		for i, x := range r.W {
			w.WM[i] = F(x * r.GraphMask[i])
		}
	}
	for i, u := range r.U {
		w.U[i] = F(u)
	}
	for i, b := range r.B {
		w.B[i] = F(b)
	}
	for i, c := range r.C {
		w.C[i] = F(c)
	}
	return w
}

// Loops are the products as plain loops, one example at a time, summing
// in index order (the float64 reference: RNN.Forward).
func Loops[F graph.Float](cfg RNNConfig, w Weights[F]) Products[F] {
	return loops[F]{v: cfg.Nodes, n: cfg.Inputs, m: cfg.Labels, w: w}
}

type loops[F graph.Float] struct {
	v, n, m int
	w       Weights[F]
}

func (p loops[F]) Input(x []float32, rows int, ax []F) {
	for r := 0; r < rows; r++ {
		xr := x[r*p.n : (r+1)*p.n]
		for i := 0; i < p.v; i++ {
			row := p.w.AM[i*p.n : (i+1)*p.n]
			var s F
			for j, xj := range xr {
				s += row[j] * F(xj)
			}
			ax[r*p.v+i] = s
		}
	}
}

func (p loops[F]) Recurrent(v []F, rows int, z []F) {
	for r := 0; r < rows; r++ {
		vr := v[r*p.v : (r+1)*p.v]
		for i := 0; i < p.v; i++ {
			row := p.w.WM[i*p.v : (i+1)*p.v]
			var s F
			for j, vj := range vr {
				s += row[j] * vj
			}
			z[r*p.v+i] = s
		}
	}
}

func (p loops[F]) Output(h []F, rows int, logits []F) {
	for r := 0; r < rows; r++ {
		hr := h[r*p.v : (r+1)*p.v]
		for c := 0; c < p.m; c++ {
			var s F
			if p.w.C != nil {
				s = p.w.C[c]
			}
			row := p.w.U[c*p.v : (c+1)*p.v]
			for j, hj := range hr {
				s += row[j] * hj
			}
			logits[r*p.m+c] = s
		}
	}
}

// GEMM are the products as matrix-matrix products over a batch of
// examples (graph/gemm's packed kernels, split over the CPUs when large):
// the same values as Loops up to the order of summation.
func GEMM[F graph.Float](cfg RNNConfig, w Weights[F]) Products[F] {
	return &gemmProducts[F]{v: cfg.Nodes, n: cfg.Inputs, m: cfg.Labels, w: w}
}

type gemmProducts[F graph.Float] struct {
	v, n, m int
	w       Weights[F]
	x64     []float64 // the input as float64 (F = float64)
}

// mul sets c (rows x cols) = a (rows x k) b^T + beta c, b being cols x k.
func mul[F graph.Float](rows, cols, k int, a, b []F, beta F, c []F) {
	impl := gemm.Implementation{}
	switch a := any(a).(type) {
	case []float32:
		impl.Sgemm(blas.NoTrans, blas.Trans, rows, cols, k, 1, a, k, any(b).([]float32), k, float32(beta), any(c).([]float32), cols)
	case []float64:
		impl.Dgemm(blas.NoTrans, blas.Trans, rows, cols, k, 1, a, k, any(b).([]float64), k, float64(beta), any(c).([]float64), cols)
	}
}

func (p *gemmProducts[F]) Input(x []float32, rows int, ax []F) {
	x = x[:rows*p.n]
	if xs, ok := any(x).([]F); ok {
		mul(rows, p.v, p.n, xs, p.w.AM, 0, ax)
		return
	}
	if cap(p.x64) < len(x) {
		p.x64 = make([]float64, len(x))
	}
	xs := p.x64[:len(x)]
	for i, v := range x {
		xs[i] = float64(v)
	}
	mul(rows, p.v, p.n, any(xs).([]F), p.w.AM, 0, ax)
}

func (p *gemmProducts[F]) Recurrent(v []F, rows int, z []F) {
	mul(rows, p.v, p.v, v, p.w.WM, 0, z)
}

func (p *gemmProducts[F]) Output(h []F, rows int, logits []F) {
	logits = logits[:rows*p.m]
	if p.w.C == nil {
		mul(rows, p.m, p.v, h, p.w.U, 0, logits)
		return
	}
	for r := 0; r < rows; r++ {
		copy(logits[r*p.m:(r+1)*p.m], p.w.C)
	}
	mul(rows, p.m, p.v, h, p.w.U, 1, logits)
}

// Eval is the forward pass on numbers: Rounds over batches of up to Rows
// examples, with given Products and node biases. It keeps its buffers
// between runs; one goroutine uses it at a time.
type Eval[F graph.Float] struct {
	cfg  RNNConfig
	prod Products[F]
	b    []F
	max  int

	// Fire records the firing codes of every node (Codes), by the
	// network's Firing definition. Without it only the values are
	// computed (the cap keeps the same entries either way).
	Fire bool
	// TieBreak, when set, may change which of the entries equal to the
	// cap's threshold value are kept (graph.CapMask keeps the lowest
	// indices) before the codes are recorded; called once per round, for
	// top-k firing with Fire set (the replay of the authors' code, whose
	// PyTorch top-k keeps an unspecified set).
	TieBreak func(z []F, keep []bool)

	rows     int
	x        []float32
	ax, p, q []F
	codes    []uint8
	out      []F
	h        slot
	sel      [][]F
	keep     [][]bool
}

// slot names the buffers of an Eval, the values of its RoundOps.
type slot uint8

const (
	slotX slot = iota
	slotAX
	slotP
	slotQ
	slotLogits
)

// NewEval returns the forward pass of a network of configuration cfg with
// products p and node biases b (|V|), for batches of up to rows examples.
func NewEval[F graph.Float](cfg RNNConfig, p Products[F], b []F, rows int) *Eval[F] {
	rows = max(rows, 1)
	v := cfg.Nodes
	return &Eval[F]{cfg: cfg, prod: p, b: b, max: rows,
		ax: make([]F, rows*v), p: make([]F, rows*v), q: make([]F, rows*v), out: make([]F, rows*cfg.Labels)}
}

// Rows is the largest batch Run takes.
func (e *Eval[F]) Rows() int { return e.max }

// Run computes the forward pass of the rows examples of x (rows x n,
// row-major, 1 <= rows <= Rows()).
func (e *Eval[F]) Run(x []float32, rows int) error {
	n := e.cfg.Inputs
	if rows < 1 || rows > e.max || len(x) < rows*n {
		return fmt.Errorf("rnn: forward pass of %d rows of %d inputs from %d values (at most %d rows)", rows, n, len(x), e.max)
	}
	e.rows, e.x = rows, x[:rows*n]
	if e.Fire {
		v := e.cfg.Nodes
		if len(e.codes) < e.max*v {
			e.codes = make([]uint8, e.max*v)
		}
		clear(e.codes[:rows*v])
	}
	_, err := Rounds[slot](e.cfg.T, evalOps[F]{e}, slotX)
	return err
}

// Logits of the last Run, rows x m.
func (e *Eval[F]) Logits() []F { return e.out[:e.rows*e.cfg.Labels] }

// Hidden is the hidden state after the last round of the last Run, rows x |V|.
func (e *Eval[F]) Hidden() []F { return e.buf(e.h)[:e.rows*e.cfg.Nodes] }

// Codes are the firing codes of the last Run (rows x |V|; round 1 is the
// most significant of the T bits), recorded when Fire is set.
func (e *Eval[F]) Codes() []uint8 {
	if !e.Fire {
		return nil
	}
	return e.codes[:e.rows*e.cfg.Nodes]
}

// Each runs the examples of x (rows of n values) in batches of Rows() and
// calls f with the index and logits of each example, in order.
func (e *Eval[F]) Each(x []float32, f func(i int, logits []F)) error {
	n, m := e.cfg.Inputs, e.cfg.Labels
	N := len(x) / n
	for lo := 0; lo < N; lo += e.max {
		rows := min(e.max, N-lo)
		if err := e.Run(x[lo*n:(lo+rows)*n], rows); err != nil {
			return err
		}
		for r := 0; r < rows; r++ {
			f(lo+r, e.out[r*m:(r+1)*m])
		}
	}
	return nil
}

func (e *Eval[F]) buf(s slot) []F {
	switch s {
	case slotAX:
		return e.ax
	case slotP:
		return e.p
	case slotQ:
		return e.q
	case slotLogits:
		return e.out
	}
	panic(fmt.Sprintf("rnn: no buffer for slot %d", s))
}

// evalOps is Eval's RoundOps: values are its buffers; Layer and Reinject
// work in place (ax excepted), Recurrent writes the other hidden buffer.
type evalOps[F graph.Float] struct{ e *Eval[F] }

func (o evalOps[F]) Input(slot) (slot, error) {
	e := o.e
	e.prod.Input(e.x, e.rows, e.ax)
	return slotAX, nil
}

func (o evalOps[F]) Layer(z slot) (slot, error) {
	e := o.e
	n := e.rows * e.cfg.Nodes
	if z == slotAX {
		copy(e.p[:n], e.ax[:n])
		z = slotP
	}
	e.layer(e.buf(z)[:n])
	e.h = z
	return z, nil
}

func (o evalOps[F]) Reinject(h, ax slot) (slot, error) {
	e := o.e
	n := e.rows * e.cfg.Nodes
	hs, as := e.buf(h)[:n], e.buf(ax)[:n]
	for i, a := range as {
		hs[i] += a
	}
	return h, nil
}

func (o evalOps[F]) Recurrent(v slot) (slot, error) {
	e := o.e
	z := slotP
	if v == slotP {
		z = slotQ
	}
	e.prod.Recurrent(e.buf(v), e.rows, e.buf(z))
	return z, nil
}

func (o evalOps[F]) Output(h slot) (slot, error) {
	e := o.e
	e.prod.Output(e.buf(h), e.rows, e.out)
	return slotLogits, nil
}

// layer is cap_k(relu(z + b)) of every row of z, recording the firing
// bits; rows are split over the CPUs for large batches.
func (e *Eval[F]) layer(z []F) {
	v, rows := e.cfg.Nodes, e.rows
	workers := 1
	if e.TieBreak == nil && rows*v >= 1<<15 {
		workers = min(runtime.GOMAXPROCS(0), rows)
	}
	for len(e.sel) < workers {
		e.sel = append(e.sel, make([]F, v))
		e.keep = append(e.keep, make([]bool, v))
	}
	if workers == 1 {
		e.layerRows(z, 0, rows, e.sel[0], e.keep[0])
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*rows/workers, (w+1)*rows/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.layerRows(z, lo, hi, e.sel[w], e.keep[w])
		}()
	}
	wg.Wait()
}

func (e *Eval[F]) layerRows(z []F, lo, hi int, sel []F, keep []bool) {
	v, k := e.cfg.Nodes, e.cfg.Cap
	for r := lo; r < hi; r++ {
		zr := z[r*v : (r+1)*v]
		for i, b := range e.b[:v] {
			zr[i] = max(zr[i]+b, 0)
		}
		if !e.Fire {
			graph.CapInPlace(zr, k, sel)
			continue
		}
		codes := e.codes[r*v : (r+1)*v]
		if e.cfg.Firing == FiringNonzero {
			// fired = non-zero after the cap (the paper's text)
			graph.CapInPlace(zr, k, sel)
			for i, x := range zr {
				codes[i] = codes[i]<<1 | uint8(b2u(x != 0))
			}
			continue
		}
		// fired = picked by the cap, even at zero (the authors' code)
		graph.CapMask(zr, k, sel, keep)
		if e.TieBreak != nil {
			e.TieBreak(zr, keep)
		}
		for i, kp := range keep[:v] {
			codes[i] = codes[i]<<1 | uint8(b2u(kp))
			if !kp {
				zr[i] = 0
			}
		}
	}
}

// b2u is 1 for true and 0 for false, without a branch.
func b2u(b bool) uint {
	if b {
		return 1
	}
	return 0
}
