package cuda

// DevicePlastic is a batch of plasticity networks resident on the device
// (layout and step in plastic.go), with a data set uploaded once
// (SetData) and per-network counters of right predictions.
type DevicePlastic struct {
	c                        *Context
	nb                       NetBatch
	am, min, w, mg, u        *Array
	bias, cv                 *Array
	rule, out, in            *Array
	data                     *Array // rows x N
	rows                     int
	x, inp, z, v, h, logits  *Array
	codes, preds, flags, cnt *Array
	inGemm, recGemm, outGemm GemmCall
	own                      []*Array
	initial, live            []*Array    // KeepInitial: copies of the initial weights, and the arrays they restore
	rec                      *stepRecord // Record: what each training step saw and predicted
}

// NewDevicePlastic uploads the networks' state.
func (c *Context) NewDevicePlastic(nb NetBatch, s *PlasticNets) (*DevicePlastic, error) {
	if err := nb.Check(); err != nil {
		return nil, err
	}
	B, V, M := nb.B, nb.V, nb.M
	d := &DevicePlastic{c: c, nb: nb}
	var err error
	alloc := func(dst **Array, n int) {
		if err == nil {
			if *dst, err = c.Alloc(max(n, 1)); err == nil {
				d.own = append(d.own, *dst)
			}
		}
	}
	nAm := B * V * nb.N
	if nb.SharedInput {
		nAm = V * nb.N
	}
	nr, no, ni := nb.ruleLens()
	alloc(&d.am, nAm)
	alloc(&d.w, B*V*V)
	alloc(&d.mg, B*V*V)
	alloc(&d.u, B*M*V)
	alloc(&d.bias, B*V)
	alloc(&d.cv, B*M)
	alloc(&d.rule, nr)
	alloc(&d.out, no)
	alloc(&d.in, ni)
	if nb.InputRule {
		alloc(&d.min, B*V*nb.N)
	}
	alloc(&d.x, B*nb.N)
	alloc(&d.inp, B*V)
	alloc(&d.z, B*V)
	alloc(&d.v, B*V)
	alloc(&d.h, B*V)
	alloc(&d.logits, B*M)
	alloc(&d.codes, B*V)
	alloc(&d.preds, B)
	alloc(&d.flags, B)
	alloc(&d.cnt, B)
	if err == nil {
		d.inGemm, err = nb.InputGemm()
	}
	if err == nil {
		d.recGemm, err = nb.RecurrentGemm()
	}
	if err == nil {
		d.outGemm, err = nb.OutputGemm()
	}
	if err == nil {
		err = d.SetState(s)
	}
	if err == nil {
		err = c.Zero(d.cnt)
	}
	if err != nil {
		d.Free()
		return nil, err
	}
	return d, nil
}

// SetState uploads the networks' weights and rules (a reset).
func (d *DevicePlastic) SetState(s *PlasticNets) error {
	nb := d.nb
	B, V, M := nb.B, nb.V, nb.M
	nAm := B * V * nb.N
	if nb.SharedInput {
		nAm = V * nb.N
	}
	nr, no, ni := nb.ruleLens()
	needs := []need{{"Am", len(s.Am), nAm}, {"W", len(s.W), B * V * V}, {"Mg", len(s.Mg), B * V * V},
		{"U", len(s.U), B * M * V}, {"bias", len(s.Bias), B * V}, {"c", len(s.C), B * M}}
	if nb.RNNRule {
		needs = append(needs, need{"rule", len(s.Rule), nr})
	}
	if nb.OutputRule {
		needs = append(needs, need{"output rule", len(s.Out), no})
	}
	if nb.InputRule {
		needs = append(needs, need{"input rule", len(s.In), ni}, need{"Min", len(s.Min), B * V * nb.N})
	}
	if err := checkLens("plastic state", needs...); err != nil {
		return err
	}
	for _, p := range []struct {
		dst  *Array
		host []float32
	}{{d.am, s.Am}, {d.w, s.W}, {d.mg, s.Mg}, {d.u, s.U}, {d.bias, s.Bias}, {d.cv, s.C}, {d.rule, s.Rule}, {d.out, s.Out}, {d.in, s.In}, {d.min, s.Min}} {
		if p.dst == nil || len(p.host) == 0 {
			continue
		}
		if err := CopyIn(d.c, p.dst, p.host); err != nil {
			return err
		}
	}
	return nil
}

// SetData uploads the data set (rows of N inputs) the steps index into.
func (d *DevicePlastic) SetData(data []float32) error {
	if len(data) == 0 || len(data)%d.nb.N != 0 {
		return errorf("plastic data: %d values are not rows of %d inputs", len(data), d.nb.N)
	}
	if d.data != nil {
		d.c.Free(d.data)
		d.data = nil
	}
	a, err := Upload(d.c, data)
	if err != nil {
		return err
	}
	d.data, d.rows = a, len(data)/d.nb.N
	return nil
}

// Free returns every array to the pool.
func (d *DevicePlastic) Free() error {
	err := d.c.Free(append(d.own, d.data)...)
	d.own, d.data = nil, nil
	return err
}

// Train runs len(idx)/B steps: at step s network b sees data row
// idx[s*B+b] with label labels[s*B+b] and its rules update it. The indices
// and labels are uploaded once, then every step is queued without a host
// round trip; the counters add each right prediction (made before the
// update).
func (d *DevicePlastic) Train(idx, labels []int32) error { return d.run(idx, labels, true) }

// Infer is Train without updates: predictions only, counted, step by step
// (State().Last is the last step's); Evaluate gives the same counts at
// once.
func (d *DevicePlastic) Infer(idx, labels []int32) error { return d.run(idx, labels, false) }

func (d *DevicePlastic) run(idx, labels []int32, learn bool) error {
	c, B := d.c, d.nb.B
	if err := d.checkSteps(idx, labels); err != nil {
		return err
	}
	allIdx, err := Upload(c, idx)
	if err != nil {
		return err
	}
	allLabels, err := Upload(c, labels)
	if err != nil {
		c.Free(allIdx)
		return err
	}
	defer c.Free(allIdx, allLabels)
	if d.rec != nil && learn {
		if n := len(idx) / B; n > d.rec.capacity {
			return errorf("plastic train: %d steps to record, room for %d (Record)", n, d.rec.capacity)
		}
		d.rec.n = 0
	}
	for s := 0; s < len(idx)/B; s++ {
		if err := d.step(allIdx.view(s*B, B), allLabels.view(s*B, B), learn); err != nil {
			return err
		}
	}
	return nil
}

// Counts downloads the per-network counts of right predictions and resets
// them.
func (d *DevicePlastic) Counts() ([]int32, error) {
	n, err := Download[int32](d.c, d.cnt)
	if err != nil {
		return nil, err
	}
	return n, d.c.Zero(d.cnt)
}

func (d *DevicePlastic) step(idx, labels *Array, learn bool) error {
	c, nb := d.c, d.nb
	B, V, M := nb.B, nb.V, nb.M
	steps := []func() error{
		func() error { return c.GatherRows(nb.N, d.data, idx, d.x) },
		func() error { return c.Gemm(d.inGemm, 1, d.x, d.am, 0, d.inp) },
		func() error { return c.Add(d.inp, d.bias, d.z) },
		func() error { return c.ReluFwd(d.z, d.z) },
		func() error { return c.Zero(d.codes) },
		func() error { return c.CapFire(B, V, nb.K, nb.TopKFiring, d.z, d.h, d.codes) },
	}
	for t := 1; t < nb.T; t++ {
		steps = append(steps,
			func() error { return c.Add(d.h, d.inp, d.v) },
			func() error { return c.Gemm(d.recGemm, 1, d.v, d.w, 0, d.z) },
			func() error { return c.Add(d.z, d.bias, d.z) },
			func() error { return c.ReluFwd(d.z, d.z) },
			func() error { return c.CapFire(B, V, nb.K, nb.TopKFiring, d.z, d.h, d.codes) },
		)
	}
	steps = append(steps,
		func() error { return c.Gemm(d.outGemm, 1, d.h, d.u, 0, d.logits) },
		func() error { return c.Add(d.logits, d.cv, d.logits) },
		func() error { return c.Predict(B, M, d.logits, labels, d.preds, d.flags) },
		func() error { return c.CountOK(d.flags, d.cnt) },
	)
	if learn && d.rec != nil {
		steps = append(steps, func() error { return d.rec.add(c, d.codes, d.preds, d.flags, labels) })
	}
	if learn && nb.RNNRule {
		steps = append(steps, func() error { return c.RuleUpdate(nb.Update, d.w, d.mg, d.codes, d.rule, d.flags) })
	}
	if learn && nb.OutputRule {
		steps = append(steps, func() error { return c.OutputRule(nb.Update, d.u, d.codes, labels, d.preds, d.out, d.flags) })
	}
	if learn && nb.InputRule {
		steps = append(steps, func() error { return c.InputRule(nb.Update, nb.N, d.am, d.min, d.codes, d.in, d.flags) })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// PlasticState is what State downloads.
type PlasticState struct {
	W, U, Am []float32
	Last     PlasticStepResult // the last step's codes, hidden state, predictions, flags
}

// State downloads W, U, A and the last step's codes, hidden state,
// predictions and flags.
func (d *DevicePlastic) State() (st PlasticState, err error) {
	if st.W, err = Download[float32](d.c, d.w); err != nil {
		return
	}
	if st.U, err = Download[float32](d.c, d.u); err != nil {
		return
	}
	if st.Am, err = Download[float32](d.c, d.am); err != nil {
		return
	}
	if st.Last.H, err = Download[float32](d.c, d.h); err != nil {
		return
	}
	if st.Last.Codes, err = Download[int32](d.c, d.codes); err != nil {
		return
	}
	if st.Last.Preds, err = Download[int32](d.c, d.preds); err != nil {
		return
	}
	st.Last.Flags, err = Download[int32](d.c, d.flags)
	return
}
