package cuda

// Loss kinds of MetaPlastic (graph.Loss's names: ce, softmax-ce, mse).
const (
	MetaLossCE        = 0
	MetaLossSoftmaxCE = 1
	MetaLossMSE       = 2
)

// MetaPlastic is one step of meta-learning (plasticity.MetaLearner) on the
// device, for one network: the inner rule-based training over a batch of
// E examples under given rule tables (the PlasticTrain op's forward,
// DevicePlastic's steps, each step's codes, prediction and flag
// recorded), the whole batch through the trained network with its
// intermediates (the meta-learning graph's forward), the loss, and
// backward: the loss's gradient with respect to the trained W, U, A and
// from it, through the recorded code sequence, the gradient with respect
// to every rule table (the PlasticTrain op's backward). Per step the
// batch and the tables go up; the per-row losses and the table gradients
// come down. float32 throughout, but the losses (float64 per row).
//
// The rule gradients are sums over the recorded steps (docs: plasticity's
// BackwardFlat) written as products with the steps' one-hot codes O (S*V
// x 2^T): RNN rule O^T [G_W^T O_s]_s, output rule O^T [roles_s G_U^T]_s,
// input rule O^T (rows of G_A .* Min), with G the weight gradients (times
// the final weights for multiplicative rules); the caller scales them by
// eta (or eta / (1 + eta r)).
type MetaPlastic struct {
	c          *Context
	d          *DevicePlastic
	nb         NetBatch
	E, kind    int
	hs         []*Array // h after each round, E x V
	inp, v, z  *Array
	logits     *Array
	dlog, loss *Array
	labels     *Array
	dh, dz, dv *Array
	dinp       *Array
	dW, dU, dA *Array
	gW, gU, gA *Array
	O, R, Q    *Array
	rows       *Array
	gRNN, gOut *Array
	gIn        *Array
	own        []*Array
	fresh      bool // Loss ran since the last Grads
}

// NewMetaPlastic prepares meta-learning steps of batches of E examples for
// the one network of nb (B = 1; Update says the scheme) from its initial
// state s (the reset every batch starts from), with loss kind.
func (c *Context) NewMetaPlastic(nb NetBatch, s *PlasticNets, E, kind int) (*MetaPlastic, error) {
	if err := nb.Check(); err != nil {
		return nil, err
	}
	switch {
	case nb.B != 1:
		return nil, errorf("meta-learning on the device: %d networks, want 1", nb.B)
	case E < 1:
		return nil, errorf("meta-learning on the device: batch of %d", E)
	case kind < MetaLossCE || kind > MetaLossMSE:
		return nil, errorf("meta-learning on the device: loss kind %d", kind)
	case nb.M > 64:
		return nil, errorf("meta-learning on the device: %d labels, at most 64", nb.M)
	}
	V, N, M, nc := nb.V, nb.N, nb.M, nb.Update.S
	if _, err := checkCount("meta-learning one-hot codes", int64(E)*int64(V)*int64(nc)); err != nil {
		return nil, err
	}
	d, err := c.NewDevicePlastic(nb, s)
	if err != nil {
		return nil, err
	}
	mp := &MetaPlastic{c: c, d: d, nb: nb, E: E, kind: kind}
	alloc := func(dst **Array, n int) {
		if err == nil {
			if *dst, err = c.Alloc(max(n, 1)); err == nil {
				mp.own = append(mp.own, *dst)
			}
		}
	}
	mp.hs = make([]*Array, nb.T)
	for t := range mp.hs {
		alloc(&mp.hs[t], E*V)
	}
	for _, x := range []struct {
		dst **Array
		n   int
	}{{&mp.inp, E * V}, {&mp.v, E * V}, {&mp.z, E * V}, {&mp.logits, E * M}, {&mp.dlog, E * M}, {&mp.loss, E}, {&mp.labels, E},
		{&mp.dh, E * V}, {&mp.dz, E * V}, {&mp.dv, E * V}, {&mp.dinp, E * V}, {&mp.dW, V * V}, {&mp.dU, M * V}, {&mp.dA, V * N},
		{&mp.gW, V * V}, {&mp.gU, M * V}, {&mp.gA, V * N}, {&mp.O, E * V * nc}, {&mp.R, E * V * nc}, {&mp.Q, E * V * 2},
		{&mp.rows, V}, {&mp.gRNN, nc * nc}, {&mp.gOut, nc * 2}, {&mp.gIn, nc}} {
		alloc(x.dst, x.n)
	}
	if err == nil {
		err = d.KeepInitial()
	}
	if err == nil {
		err = d.Record(E)
	}
	if err != nil {
		mp.Free()
		return nil, err
	}
	return mp, nil
}

// Free releases the device memory.
func (mp *MetaPlastic) Free() error {
	err := mp.c.Free(mp.own...)
	mp.own = nil
	if e := mp.d.Free(); err == nil {
		err = e
	}
	return err
}

// Loss trains the reset network on the batch (x: E rows of N features,
// labels) with the rule tables (SetRules' lengths), runs the batch through
// the trained network and returns the mean loss.
func (mp *MetaPlastic) Loss(rule, out, in []float32, x []float32, labels []int32) (float64, error) {
	c, d, nb, E := mp.c, mp.d, mp.nb, mp.E
	V, N, M := nb.V, nb.N, nb.M
	if len(x) != E*N || len(labels) != E {
		return 0, errorf("meta-learning on the device: batch of %d features and %d labels, want %d and %d", len(x), len(labels), E*N, E)
	}
	if err := d.SetRules(rule, out, in); err != nil {
		return 0, err
	}
	if err := d.SetData(x); err != nil {
		return 0, err
	}
	if err := d.ResetState(); err != nil {
		return 0, err
	}
	idx := make([]int32, E)
	for i := range idx {
		idx[i] = int32(i)
	}
	if err := d.Train(idx, labels); err != nil {
		return 0, err
	}
	if err := c.Zero(d.cnt); err != nil { // the counters are not part of meta-learning
		return 0, err
	}
	if err := CopyIn(c, mp.labels, labels); err != nil {
		return 0, err
	}
	inG, err := RowMajorGemm(false, true, E, V, N, N, N, V)
	if err != nil {
		return 0, err
	}
	recG, err := RowMajorGemm(false, true, E, V, V, V, V, V)
	if err != nil {
		return 0, err
	}
	outG, err := RowMajorGemm(false, true, E, M, V, V, V, M)
	if err != nil {
		return 0, err
	}
	bias, cv := d.bias.view(0, V), d.cv.view(0, M)
	ops := []func() error{
		func() error { return c.Gemm(inG, 1, d.data, d.am, 0, mp.inp) },
		func() error { return c.BiasAdd(E, V, mp.inp, bias, mp.z) },
		func() error { return c.ReluFwd(mp.z, mp.z) },
		func() error { return c.CapTopK(E, V, nb.K, mp.z, mp.hs[0]) },
	}
	for t := 1; t < nb.T; t++ {
		ops = append(ops,
			func() error { return c.Add(mp.hs[t-1], mp.inp, mp.v) },
			func() error { return c.Gemm(recG, 1, mp.v, d.w, 0, mp.z) },
			func() error { return c.BiasAdd(E, V, mp.z, bias, mp.z) },
			func() error { return c.ReluFwd(mp.z, mp.z) },
			func() error { return c.CapTopK(E, V, nb.K, mp.z, mp.hs[t]) },
		)
	}
	ops = append(ops,
		func() error { return c.Gemm(outG, 1, mp.hs[nb.T-1], d.u, 0, mp.logits) },
		func() error { return c.BiasAdd(E, M, mp.logits, cv, mp.logits) },
		func() error {
			return c.linear("pl_meta_loss", E, i32(E), i32(M), i32(mp.kind), mp.logits.Ptr(), mp.labels.Ptr(), mp.loss.Ptr(), mp.dlog.Ptr())
		},
	)
	for _, op := range ops {
		if err := op(); err != nil {
			return 0, err
		}
	}
	rows, err := Download[float32](c, mp.loss)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, r := range rows {
		sum += float64(r)
	}
	mp.fresh = true
	return sum, nil
}

// Grads returns the gradient of the last Loss with respect to the RNN
// rule (2^T x 2^T), the output rule (2^T x 2) and the input rule (2^T), nil
// for the rules not used, before the scale by eta: the recorded
// steps' sums (see MetaPlastic).
func (mp *MetaPlastic) Grads() (rnn, out, in []float32, err error) {
	if !mp.fresh {
		return nil, nil, nil, errorf("meta-learning on the device: Grads before Loss")
	}
	c, d, nb, E := mp.c, mp.d, mp.nb, mp.E
	V, N, M, nc := nb.V, nb.N, nb.M, nb.Update.S
	u := nb.Update
	gemm := func(ta, tb bool, m, n, k, lda, ldb, ldc int, a, b *Array, beta float32, out *Array) func() error {
		return func() error {
			g, err := RowMajorGemm(ta, tb, m, n, k, lda, ldb, ldc)
			if err != nil {
				return err
			}
			return c.Gemm(g, 1, a, b, beta, out)
		}
	}
	hT := mp.hs[nb.T-1]
	ops := []func() error{
		gemm(true, false, M, V, E, M, V, V, mp.dlog, hT, 0, mp.dU),   // dU = dlogits^T h
		gemm(false, false, E, V, M, M, V, V, mp.dlog, d.u, 0, mp.dh), // dh = dlogits U
		func() error { return c.Zero(mp.dinp) },
		func() error { return c.Zero(mp.dW) },
	}
	for t := nb.T - 1; t >= 1; t-- {
		ops = append(ops,
			func() error { return c.ReluBwd(mp.hs[t], mp.dh, mp.dz) }, // through cap(relu): where h != 0
			func() error { return c.Add(mp.hs[t-1], mp.inp, mp.v) },
			gemm(true, false, V, V, E, V, V, V, mp.dz, mp.v, 1, mp.dW), // dW += dz^T v
			gemm(false, false, E, V, V, V, V, V, mp.dz, d.w, 0, mp.dh), // dv = dz W
			func() error { return c.Axpy(1, mp.dh, mp.dinp) },
		)
	}
	ops = append(ops,
		func() error { return c.ReluBwd(mp.hs[0], mp.dh, mp.dz) },
		func() error { return c.Axpy(1, mp.dz, mp.dinp) },
		func() error { return c.Mul(mp.dW, d.mg, mp.gW) }, // W's non-edges are not weights
		func() error { return c.Copy(mp.gU, mp.dU) },
		func() error {
			return c.linear("pl_meta_onehot", E*V*nc, i32(E), i32(V), i32(nc), b2i(!u.OnlyFlagged), d.rec.codes.Ptr(), d.rec.flags.Ptr(), mp.O.Ptr())
		},
	)
	if nb.InputRule {
		ops = append(ops, gemm(true, false, V, N, E, V, N, N, mp.dinp, d.data, 0, mp.gA)) // dA = dinp^T X
	}
	if u.Multiplicative { // the sums run over G .* the final weights
		ops = append(ops,
			func() error { return c.Mul(mp.gW, d.w, mp.gW) },
			func() error { return c.Mul(mp.gU, d.u, mp.gU) },
		)
		if nb.InputRule {
			ops = append(ops, func() error { return c.Mul(mp.gA, d.am, mp.gA) })
		}
	}
	if nb.RNNRule {
		ops = append(ops,
			func() error { // R_s = G_W^T O_s, for every step s
				g, err := RowMajorGemmBatched(true, false, V, nc, V, V, nc, nc, 0, int64(V)*int64(nc), int64(V)*int64(nc), E)
				if err != nil {
					return err
				}
				return c.Gemm(g, 1, mp.gW, mp.O, 0, mp.R)
			},
			gemm(true, false, nc, nc, E*V, nc, nc, nc, mp.O, mp.R, 0, mp.gRNN),
		)
	}
	if nb.OutputRule {
		ops = append(ops,
			func() error {
				return c.linear("pl_meta_out_roles", E*V, i32(E), i32(M), i32(V), b2i(!u.OnlyFlagged), b2i(u.AllRows), b2i(u.BothColumns),
					d.rec.labels.Ptr(), d.rec.preds.Ptr(), d.rec.flags.Ptr(), mp.gU.Ptr(), mp.Q.Ptr())
			},
			gemm(true, false, nc, 2, E*V, nc, 2, 2, mp.O, mp.Q, 0, mp.gOut),
		)
	}
	if nb.InputRule {
		ops = append(ops,
			func() error {
				return c.linear("pl_row_dot", V, i32(V), i32(N), d.min.Ptr(), mp.gA.Ptr(), mp.rows.Ptr())
			},
			func() error {
				return c.linear("pl_meta_code_sum", nc, i32(E), i32(V), i32(nc), mp.O.Ptr(), mp.rows.Ptr(), mp.gIn.Ptr())
			},
		)
	}
	for _, op := range ops {
		if err := op(); err != nil {
			return nil, nil, nil, err
		}
	}
	if nb.RNNRule {
		if rnn, err = Download[float32](c, mp.gRNN); err != nil {
			return nil, nil, nil, err
		}
	}
	if nb.OutputRule {
		if out, err = Download[float32](c, mp.gOut); err != nil {
			return nil, nil, nil, err
		}
	}
	if nb.InputRule {
		if in, err = Download[float32](c, mp.gIn); err != nil {
			return nil, nil, nil, err
		}
	}
	mp.fresh = false
	return rnn, out, in, nil
}

// Sequence is what the last Loss's value is smooth in while it stays the
// same: the recorded steps' firing codes, predictions and flags, and
// which nodes fired in each round of the batch's forward pass (1 where h
// is non-zero). The rule gradient is exact where a small change of the
// tables leaves it unchanged (a finite difference that changes it
// measures a jump).
func (mp *MetaPlastic) Sequence() ([]int32, error) {
	var seq []int32
	for _, a := range []*Array{mp.d.rec.codes, mp.d.rec.preds, mp.d.rec.flags} {
		v, err := Download[int32](mp.c, a)
		if err != nil {
			return nil, err
		}
		seq = append(seq, v...)
	}
	for _, h := range mp.hs {
		v, err := Download[float32](mp.c, h)
		if err != nil {
			return nil, err
		}
		for _, x := range v {
			if x != 0 {
				seq = append(seq, 1)
			} else {
				seq = append(seq, 0)
			}
		}
	}
	return seq, nil
}
