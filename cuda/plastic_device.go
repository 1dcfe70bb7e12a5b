package cuda

// DevicePlastic is a batch of plasticity networks resident on the GPU
// (layout and step in plastic.go), with the data set uploaded once.
type DevicePlastic struct {
	c                          *Context
	nb                         NetBatch
	am, w, mg, wm, u, bias, cv *Array
	rule, out                  *Array
	data                       *Array // rows x N
	x, inp, z, v, h, logits    *Array
	codes                      *Array
	preds, flags               *Array
	inGemm, recGemm, outGemm   GemmCall
}

// NewDevicePlastic uploads the networks' state and the data set (rows of
// nb.N inputs).
func (c *Context) NewDevicePlastic(nb NetBatch, s *PlasticNets, data []float32) (*DevicePlastic, error) {
	if err := nb.Check(); err != nil {
		return nil, err
	}
	B, V, N, M := nb.B, nb.V, nb.N, nb.M
	nAm := B * V * N
	if nb.SharedInput {
		nAm = V * N
	}
	nRule, nOut := B*nb.Update.S*nb.Update.S, B*nb.Update.S*2
	if nb.SharedRules {
		nRule, nOut = nb.Update.S*nb.Update.S, nb.Update.S*2
	}
	if err := checkLens("plastic state", need{"Am", len(s.Am), nAm}, need{"W", len(s.W), B * V * V}, need{"Mg", len(s.Mg), B * V * V},
		need{"U", len(s.U), B * M * V}, need{"bias", len(s.Bias), B * V}, need{"c", len(s.C), B * M},
		need{"rule", len(s.Rule), nRule}, need{"output rule", len(s.Out), nOut}); err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data)%N != 0 {
		return nil, errorf("plastic data: %d values are not rows of %d inputs", len(data), N)
	}
	d := &DevicePlastic{c: c, nb: nb}
	var err error
	up := func(dst **Array, host []float32) {
		if err == nil {
			*dst, err = Upload(c, host)
		}
	}
	alloc := func(dst **Array, n int) {
		if err == nil {
			*dst, err = c.Alloc(n)
		}
	}
	up(&d.am, s.Am)
	up(&d.w, s.W)
	up(&d.mg, s.Mg)
	up(&d.u, s.U)
	up(&d.bias, s.Bias)
	up(&d.cv, s.C)
	up(&d.rule, s.Rule)
	up(&d.out, s.Out)
	up(&d.data, data)
	alloc(&d.wm, B*V*V)
	alloc(&d.x, B*N)
	alloc(&d.inp, B*V)
	alloc(&d.z, B*V)
	alloc(&d.v, B*V)
	alloc(&d.h, B*V)
	alloc(&d.logits, B*M)
	alloc(&d.codes, B*V)
	alloc(&d.preds, B)
	alloc(&d.flags, B)
	if err == nil {
		d.inGemm, err = nb.InputGemm()
	}
	if err == nil {
		d.recGemm, err = nb.RecurrentGemm()
	}
	if err == nil {
		d.outGemm, err = nb.OutputGemm()
	}
	if err != nil {
		d.Free()
		return nil, err
	}
	return d, nil
}

// Free returns every array to the pool.
func (d *DevicePlastic) Free() error {
	return d.c.Free(d.am, d.w, d.mg, d.wm, d.u, d.bias, d.cv, d.rule, d.out, d.data, d.x, d.inp, d.z, d.v, d.h,
		d.logits, d.codes, d.preds, d.flags)
}

// Train runs len(idx)/B steps: at step s network b sees data row
// idx[s*B+b] with label labels[s*B+b]. The indices and labels are
// uploaded once, then every step is queued without a host round trip.
func (d *DevicePlastic) Train(idx, labels []int32) error {
	c, nb := d.c, d.nb
	B := nb.B
	if len(idx) == 0 || len(idx)%B != 0 || len(labels) != len(idx) {
		return errorf("plastic train: %d indices and %d labels for %d networks", len(idx), len(labels), B)
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
	for s := 0; s < len(idx)/B; s++ {
		if err := d.step(allIdx.view(s*B, B), allLabels.view(s*B, B)); err != nil {
			return err
		}
	}
	return nil
}

func (d *DevicePlastic) step(idx, labels *Array) error {
	c, nb := d.c, d.nb
	B, V, M := nb.B, nb.V, nb.M
	steps := []func() error{
		func() error { return c.GatherRows(nb.N, d.data, idx, d.x) },
		func() error { return c.Gemm(d.inGemm, 1, d.x, d.am, 0, d.inp) },
		func() error { return c.Add(d.inp, d.bias, d.z) },
		func() error { return c.ReluFwd(d.z, d.z) },
		func() error { return c.CapTopK(B, V, nb.K, d.z, d.h) },
		func() error { return c.Zero(d.codes) },
		func() error { return c.FireCodes(d.h, d.codes) },
	}
	if nb.T > 1 {
		steps = append(steps, func() error { return c.Mul(d.w, d.mg, d.wm) })
	}
	for t := 1; t < nb.T; t++ {
		steps = append(steps,
			func() error { return c.Add(d.h, d.inp, d.v) },
			func() error { return c.Gemm(d.recGemm, 1, d.v, d.wm, 0, d.z) },
			func() error { return c.Add(d.z, d.bias, d.z) },
			func() error { return c.ReluFwd(d.z, d.z) },
			func() error { return c.CapTopK(B, V, nb.K, d.z, d.h) },
			func() error { return c.FireCodes(d.h, d.codes) },
		)
	}
	steps = append(steps,
		func() error { return c.Gemm(d.outGemm, 1, d.h, d.u, 0, d.logits) },
		func() error { return c.Add(d.logits, d.cv, d.logits) },
		func() error { return c.Predict(B, M, d.logits, labels, d.preds, d.flags) },
		func() error { return c.RuleUpdate(nb.Update, d.w, d.codes, d.rule, d.flags) },
		func() error { return c.OutputRule(nb.Update, d.u, d.codes, labels, d.preds, d.out, d.flags) },
	)
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// State downloads W, U, the last step's codes, hidden state, predictions
// and flags.
func (d *DevicePlastic) State() (w, u []float32, res PlasticStepResult, err error) {
	if w, err = Download[float32](d.c, d.w); err != nil {
		return
	}
	if u, err = Download[float32](d.c, d.u); err != nil {
		return
	}
	if res.H, err = Download[float32](d.c, d.h); err != nil {
		return
	}
	if res.Codes, err = Download[int32](d.c, d.codes); err != nil {
		return
	}
	if res.Preds, err = Download[int32](d.c, d.preds); err != nil {
		return
	}
	res.Flags, err = Download[int32](d.c, d.flags)
	return
}
