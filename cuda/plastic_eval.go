package cuda

// evalBudget bounds the elements of each work array of Evaluate (B
// networks x a chunk of examples x max(V, N)): 4M floats, 16 MB.
var evalBudget = 1 << 22

// Evaluate counts right predictions like Infer (network b sees data row
// idx[s*B+b] with label labels[s*B+b] at step s) without running the
// steps one by one: with no updates the examples are independent, so a
// chunk of E examples of every network runs at once, B*E rows through
// the same kernels as a step (inputs: one GEMM, or one strided batched
// over the networks; each round: a strided batched GEMM with W; cap per
// row; outputs: a strided batched GEMM with U; argmax), E as large as
// 16 MB work arrays allow. The same products as the steps' (one row each), so
// the same predictions. The counters add each right prediction; the step
// state (State().Last) is left as it was.
func (d *DevicePlastic) Evaluate(idx, labels []int32) error {
	c, nb := d.c, d.nb
	B, V, N, M := nb.B, nb.V, nb.N, nb.M
	if err := d.checkSteps(idx, labels); err != nil {
		return err
	}
	steps := len(idx) / B
	E := max(1, min(steps, evalBudget/(B*max(V, N, M))))
	// chunk-major, then network, then example: chunk k's rows b*E'+e
	hIdx, hLab := make([]int32, len(idx)), make([]int32, len(idx))
	for e0, o := 0, 0; e0 < steps; e0 += E {
		n := min(E, steps-e0)
		for b := 0; b < B; b++ {
			for e := 0; e < n; e++ {
				hIdx[o], hLab[o] = idx[(e0+e)*B+b], labels[(e0+e)*B+b]
				o++
			}
		}
	}
	var arrs []*Array
	defer func() { c.Free(arrs...) }()
	var err error
	up := func(host []int32) *Array {
		var a *Array
		if err == nil {
			if a, err = Upload(c, host); err == nil {
				arrs = append(arrs, a)
			}
		}
		return a
	}
	alloc := func(n int) *Array {
		var a *Array
		if err == nil {
			if a, err = c.Alloc(n); err == nil {
				arrs = append(arrs, a)
			}
		}
		return a
	}
	allIdx, allLab := up(hIdx), up(hLab)
	x, inp, z, v, h := alloc(B*E*N), alloc(B*E*V), alloc(B*E*V), alloc(B*E*V), alloc(B*E*V)
	logits, preds, flags := alloc(B*E*M), alloc(B*E), alloc(B*E)
	if err != nil {
		return err
	}
	for e0 := 0; e0 < steps; e0 += E {
		n := min(E, steps-e0)
		R := B * n
		x, inp, z, v, h := x.view(0, R*N), inp.view(0, R*V), z.view(0, R*V), v.view(0, R*V), h.view(0, R*V)
		logits, preds, flags := logits.view(0, R*M), preds.view(0, R), flags.view(0, R)
		lab := allLab.view(e0*B, R)
		var inG GemmCall
		if nb.SharedInput {
			inG, err = RowMajorGemm(false, true, R, V, N, N, N, V)
		} else {
			inG, err = RowMajorGemmBatched(false, true, n, V, N, N, N, V, int64(n)*int64(N), int64(V)*int64(N), int64(n)*int64(V), B)
		}
		if err != nil {
			return err
		}
		recG, err := RowMajorGemmBatched(false, true, n, V, V, V, V, V, int64(n)*int64(V), int64(V)*int64(V), int64(n)*int64(V), B)
		if err != nil {
			return err
		}
		outG, err := RowMajorGemmBatched(false, true, n, M, V, V, V, M, int64(n)*int64(V), int64(M)*int64(V), int64(n)*int64(M), B)
		if err != nil {
			return err
		}
		ops := []func() error{
			func() error { return c.GatherRows(N, d.data, allIdx.view(e0*B, R), x) },
			func() error { return c.Gemm(inG, 1, x, d.am, 0, inp) },
			func() error { return c.AddGroup(B, n, V, inp, d.bias, z) },
			func() error { return c.ReluFwd(z, z) },
			func() error { return c.CapTopK(R, V, nb.K, z, h) },
		}
		for t := 1; t < nb.T; t++ {
			ops = append(ops,
				func() error { return c.Add(h, inp, v) },
				func() error { return c.Gemm(recG, 1, v, d.w, 0, z) },
				func() error { return c.AddGroup(B, n, V, z, d.bias, z) },
				func() error { return c.ReluFwd(z, z) },
				func() error { return c.CapTopK(R, V, nb.K, z, h) },
			)
		}
		ops = append(ops,
			func() error { return c.Gemm(outG, 1, h, d.u, 0, logits) },
			func() error { return c.AddGroup(B, n, M, logits, d.cv, logits) },
			func() error { return c.Predict(R, M, logits, lab, preds, flags) },
			func() error { return c.CountOKGroup(B, n, flags, d.cnt) },
		)
		for _, op := range ops {
			if err := op(); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSteps checks the indices and labels of Train, Infer and Evaluate.
func (d *DevicePlastic) checkSteps(idx, labels []int32) error {
	B := d.nb.B
	if d.data == nil {
		return errorf("plastic train: no data set (SetData)")
	}
	if len(idx) == 0 || len(idx)%B != 0 || len(labels) != len(idx) {
		return errorf("plastic train: %d indices and %d labels for %d networks", len(idx), len(labels), B)
	}
	for i, x := range idx {
		if x < 0 || int(x) >= d.rows {
			return errorf("plastic train: index %d (step %d) outside the %d data rows", x, i/B, d.rows)
		}
		if labels[i] < 0 || int(labels[i]) >= d.nb.M {
			return errorf("plastic train: label %d (step %d) outside [0, %d)", labels[i], i/B, d.nb.M)
		}
	}
	return nil
}
