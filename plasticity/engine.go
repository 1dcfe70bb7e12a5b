package plasticity

import (
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
)

// engine is rule-based training of one simple RNN, generic in the float
// type: float32 for speed (Trainer), float64 for exact meta-gradients.
//
// Its forward pass is models.Rounds (through a models.Eval) with the
// engine as the Products: the fast path of rule training. Storage: w
// holds W.*Mg (non-edges stay 0, so the products need no mask), amin
// holds A.*Min. An RNN-rule update is kept pending and fused into the
// next example's second-round matrix-vector product, so W is read once
// per round and written once per example.
type engine[F graph.Float] struct {
	net               *models.RNN
	v, n, m, k, T, nc int
	amin, inMask      []F
	gmask, w, u       []F
	gm8               []uint8 // graph mask as bytes (float32 kernels)
	amT               []F     // (A.*Min)^T, n x v, for sparse inputs (no input rule)
	nz                []int   // indices of the non-zero inputs
	bias              F
	b                 []F // the node biases, all equal to bias
	mult, every, all  bool
	both              bool // Scheme.BothColumns
	eta               F
	rnn, out, in      []F // tables; nil = that rule is not used

	ev      *models.Eval[F] // the forward pass, one example at a time
	batch   *models.Eval[F] // the batched forward pass (Trainer.Predictions), made on first use
	xf      []F
	codes   []uint8 // firing codes of the last forward pass (ev's)
	logits  []F     // its logits (ev's)
	d       []F     // nc x v: row deltas of the pending RNN update
	pcodes  []uint8
	pending bool

	rec *record // non-nil while recording for the meta-gradient
	par *pool   // row-parallel worker, nil = sequential
}

// record is what the backward pass of a training run needs: the firing
// codes, label and prediction of every example that triggered an update.
type record struct {
	codes  []uint8 // concatenated, v per updated example
	labels []int
	preds  []int
}

func (r *record) reset() {
	r.codes, r.labels, r.preds = r.codes[:0], r.labels[:0], r.preds[:0]
}

func newEngine[F graph.Float](net *models.RNN, rs *RuleSet, s Scheme) *engine[F] {
	v, n := net.Nodes, net.Inputs
	e := &engine[F]{
		net: net, v: v, n: n, m: net.Labels, k: net.Cap, T: net.T, nc: net.Codes(),
		amin: make([]F, v*n), inMask: conv[F](net.InMask),
		gmask: conv[F](net.GraphMask), w: make([]F, v*v), u: make([]F, net.Labels*v),
		mult: rs.Multiplicative, every: s.EveryExample, all: s.AllRows, both: s.BothColumns, eta: F(s.eta(rs)),
		xf: make([]F, n), b: make([]F, v), pcodes: make([]uint8, v),
	}
	e.gm8 = make([]uint8, v*v)
	for i, g := range net.GraphMask {
		if g != 0 {
			e.gm8[i] = 1
		}
	}
	if rs.RNN != nil {
		e.rnn = conv[F](rs.RNN.Table())
		e.d = make([]F, e.nc*v)
	}
	if rs.Output != nil {
		e.out = conv[F](rs.Output.Table())
	}
	if rs.Input != nil {
		e.in = conv[F](rs.Input.Table())
	} else {
		e.amT = make([]F, n*v)
	}
	e.ev = models.NewEval[F](net.RNNConfig, e, e.b, 1)
	e.ev.Fire = true
	e.reset()
	return e
}

func conv[F graph.Float](x []float64) []F {
	o := make([]F, len(x))
	for i, v := range x {
		o[i] = F(v)
	}
	return o
}

// reset puts the weights back to their initial values: W, U, b to 0 (or 1
// for multiplicative rules) and A to the network's A, or to 0/1 on the
// input mask when an input rule trains it.
func (e *engine[F]) reset() {
	r := F(0)
	if e.mult {
		r = 1
	}
	for i, g := range e.gmask {
		e.w[i] = r * g
	}
	for i := range e.u {
		e.u[i] = r
	}
	e.bias = r
	for i := range e.b {
		e.b[i] = r
	}
	for i, mk := range e.inMask {
		if e.in != nil {
			e.amin[i] = r * mk
		} else {
			e.amin[i] = F(e.net.A[i]) * mk
		}
	}
	if e.amT != nil {
		for i := 0; i < e.v; i++ {
			for j := 0; j < e.n; j++ {
				e.amT[j*e.v+i] = e.amin[i*e.n+j]
			}
		}
	}
	e.pending = false
}

// forward runs x through the current network (models.Rounds with the
// engine's products), leaving the codes in e.codes and the logits in
// e.logits; it returns the prediction. A pending RNN update is applied on
// the way.
func (e *engine[F]) forward(x []float32) int {
	if e.T == 1 {
		e.flush() // no second round to fuse it into
	}
	if err := e.ev.Run(x, 1); err != nil {
		panic(err) // the callers check the data's dimension
	}
	e.codes, e.logits = e.ev.Codes(), e.ev.Logits()
	return models.Argmax(e.logits)
}

// hidden is the hidden state after the last forward pass.
func (e *engine[F]) hidden() []F { return e.ev.Hidden() }

// Input is the input drive of one example, ax = (A.*Min) x: the sum of the
// columns of the non-zero inputs for sparse inputs (e.g. MNIST), else
// row dot products, rows split over the pool.
func (e *engine[F]) Input(x []float32, _ int, ax []F) {
	n, v := e.n, e.v
	x = x[:n]
	e.nz = e.nz[:0]
	for j, xv := range x {
		e.xf[j] = F(xv)
		if xv != 0 {
			e.nz = append(e.nz, j)
		}
	}
	if e.amT != nil && 2*len(e.nz) < n {
		e.rows(func(lo, hi int) {
			a := ax[lo:hi]
			clear(a)
			for _, j := range e.nz {
				vaxpy(a, e.amT[j*v+lo:j*v+hi], e.xf[j])
			}
		})
		return
	}
	e.rows(func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ax[i] = vdot(e.amin[i*n:(i+1)*n], e.xf)
		}
	})
}

// Recurrent is z = (W.*Mg) vv for one example, rows split over the pool;
// a pending RNN-rule update is applied to each row of W as it is read.
func (e *engine[F]) Recurrent(vv []F, _ int, z []F) {
	v := e.v
	pend := e.pending
	e.rows(func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := e.w[i*v : (i+1)*v]
			if !pend {
				z[i] = vdot(row, vv)
				continue
			}
			dl := e.d[int(e.pcodes[i])*v : (int(e.pcodes[i])+1)*v]
			if e.mult {
				z[i] = vfusedMul(row, dl, vv)
			} else {
				z[i] = vfusedAdd(row, e.gmask[i*v:(i+1)*v], e.gm8[i*v:(i+1)*v], dl, vv)
			}
		}
	})
	e.pending = false
}

// Output is the logits U h (no output biases: rules do not train them).
func (e *engine[F]) Output(h []F, _ int, logits []F) {
	v := e.v
	for c := range logits[:e.m] {
		logits[c] = vdot(e.u[c*v:(c+1)*v], h)
	}
}

// learn runs one example and applies the rules; it returns the prediction
// made before the update.
func (e *engine[F]) learn(x []float32, label int) int {
	pred := e.forward(x)
	if !e.every && pred == label {
		return pred
	}
	v := e.v
	if e.rnn != nil {
		nc := e.nc
		for b := 0; b < nc; b++ {
			dl := e.d[b*v : (b+1)*v]
			for j, cj := range e.codes {
				dl[j] = e.eta * e.rnn[int(cj)*nc+b]
			}
		}
		copy(e.pcodes, e.codes)
		e.pending = true
		if e.T == 1 {
			e.flush()
		}
	}
	if e.in != nil {
		n := e.n
		for i, ci := range e.codes {
			dl := e.eta * e.in[ci]
			row := e.amin[i*n : (i+1)*n]
			if e.mult {
				for j := range row {
					row[j] *= 1 + dl
				}
			} else {
				mrow := e.inMask[i*n : (i+1)*n]
				for j := range row {
					row[j] += mrow[j] * dl
				}
			}
		}
	}
	if e.out != nil {
		if e.all {
			for c := 0; c < e.m; c++ {
				b := 1
				if c == label {
					b = 0
				}
				e.outRow(c, b)
			}
		} else {
			if pred != label || e.both {
				// the authors' order: the predicted row, then the true one
				e.outRow(pred, 1)
			}
			e.outRow(label, 0)
		}
	}
	if e.rec != nil {
		e.rec.codes = append(e.rec.codes, e.codes...)
		e.rec.labels = append(e.rec.labels, label)
		e.rec.preds = append(e.rec.preds, pred)
	}
	return pred
}

func (e *engine[F]) outRow(c, b int) {
	row := e.u[c*e.v : (c+1)*e.v]
	if e.mult {
		for j, cj := range e.codes {
			row[j] *= 1 + e.eta*e.out[int(cj)*2+b]
		}
	} else {
		for j, cj := range e.codes {
			row[j] += e.eta * e.out[int(cj)*2+b]
		}
	}
}

// flush applies a pending RNN-rule update to W.
func (e *engine[F]) flush() {
	if !e.pending {
		return
	}
	v := e.v
	e.rows(func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := e.w[i*v : (i+1)*v]
			dl := e.d[int(e.pcodes[i])*v : (int(e.pcodes[i])+1)*v]
			if e.mult {
				for j := range row {
					row[j] *= 1 + dl[j]
				}
			} else {
				mrow := e.gmask[i*v : (i+1)*v]
				for j := range row {
					row[j] += mrow[j] * dl[j]
				}
			}
		}
	})
	e.pending = false
}

// rows runs f over the row range [0, v), split across the worker pool
// when there is one.
func (e *engine[F]) rows(f func(lo, hi int)) {
	if e.par == nil {
		f(0, e.v)
		return
	}
	e.par.run(e.v, f)
}

// vdot, vfusedAdd and vfusedMul use the AVX2 kernels for float32 (when
// the CPU has them) and the portable loops otherwise.
func vdot[F graph.Float](a, b []F) F {
	if a32, ok := any(a).([]float32); ok {
		return F(dot32(a32, any(b).([]float32)))
	}
	if a64, ok := any(a).([]float64); ok {
		return F(dot64(a64, any(b).([]float64)))
	}
	return dot(a, b)
}

func vfusedAdd[F graph.Float](w, m []F, m8 []uint8, d, x []F) F {
	if w32, ok := any(w).([]float32); ok {
		return F(fusedAdd8(w32, m8, any(d).([]float32), any(x).([]float32)))
	}
	if w64, ok := any(w).([]float64); ok {
		return F(fusedAdd64(w64, any(m).([]float64), any(d).([]float64), any(x).([]float64)))
	}
	return fusedAdd(w, m, d, x)
}

func vaxpy[F graph.Float](y, x []F, alpha F) {
	if y32, ok := any(y).([]float32); ok {
		axpy32(y32, any(x).([]float32), float32(alpha))
		return
	}
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

func vfusedMul[F graph.Float](w, d, x []F) F {
	if w32, ok := any(w).([]float32); ok {
		return F(fusedMul32(w32, any(d).([]float32), any(x).([]float32)))
	}
	if w64, ok := any(w).([]float64); ok {
		return F(fusedMul64(w64, any(d).([]float64), any(x).([]float64)))
	}
	return fusedMul(w, d, x)
}

// dot is a 4-way unrolled dot product.
func dot[F graph.Float](a, b []F) F {
	b = b[:len(a)]
	var s0, s1, s2, s3 F
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// fusedAdd does w += m .* d and returns w . x (the updated w).
func fusedAdd[F graph.Float](w, m, d, x []F) F {
	m, d, x = m[:len(w)], d[:len(w)], x[:len(w)]
	var s0, s1 F
	i := 0
	for ; i+2 <= len(w); i += 2 {
		a := w[i] + m[i]*d[i]
		b := w[i+1] + m[i+1]*d[i+1]
		w[i], w[i+1] = a, b
		s0 += a * x[i]
		s1 += b * x[i+1]
	}
	for ; i < len(w); i++ {
		a := w[i] + m[i]*d[i]
		w[i] = a
		s0 += a * x[i]
	}
	return s0 + s1
}

// fusedMul does w *= 1 + d and returns w . x.
func fusedMul[F graph.Float](w, d, x []F) F {
	d, x = d[:len(w)], x[:len(w)]
	var s F
	for i := range w {
		a := w[i] * (1 + d[i])
		w[i] = a
		s += a * x[i]
	}
	return s
}
