package cuda

// Device ops: each checks its operands' lengths, then queues one or more
// kernels on the context's stream (asynchronous; Download or Sync waits).

func i32(n int) int32 { return int32(n) }

func (c *Context) linear(kernel string, n int, args ...any) error {
	l, err := Linear(int64(n), BlockSize)
	if err != nil {
		return err
	}
	return c.launch(kernel, l, args...)
}

func (c *Context) rows(kernel string, rows int, args ...any) error {
	l, err := Rows(rows, BlockSize)
	if err != nil {
		return err
	}
	return c.launch(kernel, l, args...)
}

// Fill sets every element of y to v.
func (c *Context) Fill(y *Array, v float32) error {
	return c.linear("pl_fill", y.N, i32(y.N), v, y.Ptr())
}

func (c *Context) binary(kernel string, a, b, y *Array) error {
	if err := checkLens(kernel, need{"a", a.N, y.N}, need{"b", b.N, y.N}); err != nil {
		return err
	}
	return c.linear(kernel, y.N, i32(y.N), a.Ptr(), b.Ptr(), y.Ptr())
}

// Add computes y = a + b element-wise.
func (c *Context) Add(a, b, y *Array) error { return c.binary("pl_add", a, b, y) }

// Mul computes y = a * b element-wise.
func (c *Context) Mul(a, b, y *Array) error { return c.binary("pl_mul", a, b, y) }

// Scale computes y = alpha * x.
func (c *Context) Scale(alpha float32, x, y *Array) error {
	if err := checkLens("pl_scale", need{"x", x.N, y.N}); err != nil {
		return err
	}
	return c.linear("pl_scale", y.N, i32(y.N), alpha, x.Ptr(), y.Ptr())
}

// Axpy computes y += alpha * x.
func (c *Context) Axpy(alpha float32, x, y *Array) error {
	if err := checkLens("pl_axpy", need{"x", x.N, y.N}); err != nil {
		return err
	}
	return c.linear("pl_axpy", y.N, i32(y.N), alpha, x.Ptr(), y.Ptr())
}

// ReluFwd computes y = max(x, 0).
func (c *Context) ReluFwd(x, y *Array) error {
	if err := checkLens("pl_relu_fwd", need{"x", x.N, y.N}); err != nil {
		return err
	}
	return c.linear("pl_relu_fwd", y.N, i32(y.N), x.Ptr(), y.Ptr())
}

// ReluBwd computes dx = dy where x > 0, else 0.
func (c *Context) ReluBwd(x, dy, dx *Array) error { return c.binary("pl_relu_bwd", x, dy, dx) }

// BiasAdd computes y[r][c] = x[r][c] + b[c].
func (c *Context) BiasAdd(rows, cols int, x, b, y *Array) error {
	if err := checkLens("pl_bias_add", need{"x", x.N, rows * cols}, need{"b", b.N, cols}, need{"y", y.N, rows * cols}); err != nil {
		return err
	}
	return c.linear("pl_bias_add", rows*cols, i32(rows), i32(cols), x.Ptr(), b.Ptr(), y.Ptr())
}

// DropoutFwd applies inverted dropout with drop probability p; element i
// draws the counter-based random number (seed, offset+i), so a step's
// mask is reproducible from (seed, offset) alone.
func (c *Context) DropoutFwd(p float32, seed, offset uint64, x, y, mask *Array) error {
	if !(p >= 0 && p < 1) {
		return errorf("dropout probability %v: want 0 <= p < 1", p)
	}
	if err := checkLens("pl_dropout_fwd", need{"x", x.N, y.N}, need{"mask", mask.N, y.N}); err != nil {
		return err
	}
	return c.linear("pl_dropout_fwd", y.N, i32(y.N), p, seed, offset, x.Ptr(), y.Ptr(), mask.Ptr())
}

// DropoutBwd computes dx = dy * mask.
func (c *Context) DropoutBwd(mask, dy, dx *Array) error {
	return c.binary("pl_dropout_bwd", mask, dy, dx)
}

// SoftmaxXentFwd computes the row softmax of x into probs and the per-row
// cross-entropy into loss (labels: int32 per row).
func (c *Context) SoftmaxXentFwd(rows, cols int, x, labels, probs, loss *Array) error {
	if err := checkLens("pl_softmax_xent_fwd", need{"x", x.N, rows * cols}, need{"labels", labels.N, rows},
		need{"probs", probs.N, rows * cols}, need{"loss", loss.N, rows}); err != nil {
		return err
	}
	return c.rows("pl_softmax_xent_fwd", rows, i32(rows), i32(cols), x.Ptr(), labels.Ptr(), probs.Ptr(), loss.Ptr())
}

// SoftmaxXentBwd computes dx = (probs - onehot) * scale.
func (c *Context) SoftmaxXentBwd(rows, cols int, scale float32, probs, labels, dx *Array) error {
	if err := checkLens("pl_softmax_xent_bwd", need{"probs", probs.N, rows * cols}, need{"labels", labels.N, rows},
		need{"dx", dx.N, rows * cols}); err != nil {
		return err
	}
	return c.linear("pl_softmax_xent_bwd", rows*cols, i32(rows), i32(cols), scale, probs.Ptr(), labels.Ptr(), dx.Ptr())
}

// ColSum computes out[c] = sum over rows of x[r][c].
func (c *Context) ColSum(rows, cols int, x, out *Array) error {
	if err := checkLens("pl_colsum", need{"x", x.N, rows * cols}, need{"out", out.N, cols}); err != nil {
		return err
	}
	return c.linear("pl_colsum", cols, i32(rows), i32(cols), x.Ptr(), out.Ptr())
}

// BatchNorm is the shape and constants of a batch-norm layer over
// N x C x HW activations (HW = 1 after a linear layer).
type BatchNorm struct {
	N, C, HW      int
	Eps, Momentum float32 // PyTorch defaults 1e-5, 0.1
}

func (b BatchNorm) lens(op string, x, y *Array, perC ...*Array) error {
	needs := []need{{"x", x.N, b.N * b.C * b.HW}, {"y", y.N, b.N * b.C * b.HW}}
	for _, a := range perC {
		needs = append(needs, need{"per-channel array", a.N, b.C})
	}
	return checkLens(op, needs...)
}

// BatchNormTrain normalises with batch statistics, updates the running
// statistics and saves mean and inverse std for the backward pass.
func (c *Context) BatchNormTrain(b BatchNorm, x, gamma, beta, y, runMean, runVar, saveMean, saveInvstd *Array) error {
	if err := b.lens("pl_bn_fwd_train", x, y, gamma, beta, runMean, runVar, saveMean, saveInvstd); err != nil {
		return err
	}
	return c.rows("pl_bn_fwd_train", b.C, i32(b.N), i32(b.C), i32(b.HW), b.Eps, b.Momentum,
		x.Ptr(), gamma.Ptr(), beta.Ptr(), y.Ptr(), runMean.Ptr(), runVar.Ptr(), saveMean.Ptr(), saveInvstd.Ptr())
}

// BatchNormInfer normalises with the running statistics.
func (c *Context) BatchNormInfer(b BatchNorm, x, gamma, beta, runMean, runVar, y *Array) error {
	if err := b.lens("pl_bn_fwd_infer", x, y, gamma, beta, runMean, runVar); err != nil {
		return err
	}
	return c.linear("pl_bn_fwd_infer", y.N, i32(b.N), i32(b.C), i32(b.HW), b.Eps,
		x.Ptr(), gamma.Ptr(), beta.Ptr(), runMean.Ptr(), runVar.Ptr(), y.Ptr())
}

// BatchNormBwd computes dx, dgamma and dbeta of training-mode batch norm.
func (c *Context) BatchNormBwd(b BatchNorm, x, dy, gamma, saveMean, saveInvstd, dx, dgamma, dbeta *Array) error {
	if err := b.lens("pl_bn_bwd", x, dx, gamma, saveMean, saveInvstd, dgamma, dbeta); err != nil {
		return err
	}
	if err := checkLens("pl_bn_bwd", need{"dy", dy.N, x.N}); err != nil {
		return err
	}
	return c.rows("pl_bn_bwd", b.C, i32(b.N), i32(b.C), i32(b.HW),
		x.Ptr(), dy.Ptr(), gamma.Ptr(), saveMean.Ptr(), saveInvstd.Ptr(), dx.Ptr(), dgamma.Ptr(), dbeta.Ptr())
}

func (c *Context) poolLens(op string, g ConvGeom, in, out *Array, extra ...*Array) error {
	if err := g.Check(); err != nil {
		return err
	}
	ni, _, no := g.Sizes()
	needs := []need{{"input-side", in.N, ni}, {"output-side", out.N, no}}
	for _, a := range extra {
		needs = append(needs, need{"argmax", a.N, no})
	}
	return checkLens(op, needs...)
}

// MaxPoolFwd pools x into y, recording the argmax of each window.
func (c *Context) MaxPoolFwd(g ConvGeom, x, y, argmax *Array) error {
	if err := c.poolLens("pl_maxpool_fwd", g, x, y, argmax); err != nil {
		return err
	}
	return c.linear("pl_maxpool_fwd", y.N, append(g.poolArgs(), x.Ptr(), y.Ptr(), argmax.Ptr())...)
}

// MaxPoolBwd routes dy to the argmax positions.
func (c *Context) MaxPoolBwd(g ConvGeom, dy, argmax, dx *Array) error {
	if err := c.poolLens("pl_maxpool_bwd", g, dx, dy, argmax); err != nil {
		return err
	}
	return c.linear("pl_maxpool_bwd", dx.N, append(g.poolArgs(), dy.Ptr(), argmax.Ptr(), dx.Ptr())...)
}

// AvgPoolFwd averages each window (padding counts as zeros).
func (c *Context) AvgPoolFwd(g ConvGeom, x, y *Array) error {
	if err := c.poolLens("pl_avgpool_fwd", g, x, y); err != nil {
		return err
	}
	return c.linear("pl_avgpool_fwd", y.N, append(g.poolArgs(), x.Ptr(), y.Ptr())...)
}

// AvgPoolBwd spreads dy evenly over each window.
func (c *Context) AvgPoolBwd(g ConvGeom, dy, dx *Array) error {
	if err := c.poolLens("pl_avgpool_bwd", g, dx, dy); err != nil {
		return err
	}
	return c.linear("pl_avgpool_bwd", dx.N, append(g.poolArgs(), dy.Ptr(), dx.Ptr())...)
}

// CapTopK keeps the k largest entries of each row of x (rows x cols).
func (c *Context) CapTopK(rows, cols, k int, x, y *Array) error {
	if err := checkLens("pl_cap_topk", need{"x", x.N, rows * cols}, need{"y", y.N, rows * cols}); err != nil {
		return err
	}
	return c.cap(rows, cols, k, 0, x, y, y)
}

// CapFire is CapTopK that also shifts the round's firing bit into codes
// (rows x cols): bit = y != 0 (the paper's definition), or, with topk,
// picked by the cap even at value zero (the authors' code).
func (c *Context) CapFire(rows, cols, k int, topk bool, x, y, codes *Array) error {
	if err := checkLens("pl_cap_topk", need{"x", x.N, rows * cols}, need{"y", y.N, rows * cols}, need{"codes", codes.N, rows * cols}); err != nil {
		return err
	}
	fire := int32(1)
	if topk {
		fire = 2
	}
	return c.cap(rows, cols, k, fire, x, y, codes)
}

// cap launches pl_cap_small for short rows, else pl_cap_topk.
func (c *Context) cap(rows, cols, k int, fire int32, x, y, codes *Array) error {
	if cols <= SmallRowCols {
		return c.linear("pl_cap_small", rows, i32(rows), i32(cols), i32(k), fire, x.Ptr(), y.Ptr(), codes.Ptr())
	}
	return c.rows("pl_cap_topk", rows, i32(rows), i32(cols), i32(k), fire, x.Ptr(), y.Ptr(), codes.Ptr())
}

// CountOK adds 1 to counts[b] for each network b whose flag is 0 (its
// prediction was right).
func (c *Context) CountOK(flags, counts *Array) error {
	if err := checkLens("pl_count_ok", need{"counts", counts.N, flags.N}); err != nil {
		return err
	}
	return c.linear("pl_count_ok", flags.N, i32(flags.N), flags.Ptr(), counts.Ptr())
}

// GatherRows copies rows idx[b] of data (rows x n) into out (B x n).
func (c *Context) GatherRows(n int, data, idx, out *Array) error {
	if n <= 0 || data.N%n != 0 {
		return errorf("pl_gather_rows: data of %d elements is not rows of %d", data.N, n)
	}
	if err := checkLens("pl_gather_rows", need{"out", out.N, idx.N * n}); err != nil {
		return err
	}
	return c.linear("pl_gather_rows", out.N, i32(idx.N), i32(n), i32(data.N/n), data.Ptr(), idx.Ptr(), out.Ptr())
}

// Predict writes each row's first argmax and whether it misses the label.
func (c *Context) Predict(rows, cols int, logits, labels, preds, flags *Array) error {
	if err := checkLens("pl_predict", need{"logits", logits.N, rows * cols}, need{"labels", labels.N, rows},
		need{"preds", preds.N, rows}, need{"flags", flags.N, rows}); err != nil {
		return err
	}
	if cols <= SmallRowCols {
		return c.linear("pl_predict_small", rows, i32(rows), i32(cols), logits.Ptr(), labels.Ptr(), preds.Ptr(), flags.Ptr())
	}
	return c.rows("pl_predict", rows, i32(rows), i32(cols), logits.Ptr(), labels.Ptr(), preds.Ptr(), flags.Ptr())
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// RuleUpdate applies the RNN rule to the W of B networks (Mg: their graph
// masks; additive updates stay on the graph).
func (c *Context) RuleUpdate(u RuleUpdate, w, mg, codes, rule, flags *Array) error {
	ruleLen := u.S * u.S
	if u.RuleStride != 0 {
		ruleLen = u.B * u.RuleStride
	}
	if err := checkLens("pl_rule_update", need{"W", w.N, u.B * u.V * u.V}, need{"Mg", mg.N, u.B * u.V * u.V}, need{"codes", codes.N, u.B * u.V},
		need{"rule", rule.N, ruleLen}, need{"flags", flags.N, u.B}); err != nil {
		return err
	}
	return c.linear("pl_rule_update", w.N, i32(u.B), i32(u.V), i32(u.S), u.Eta, b2i(u.Multiplicative), b2i(u.OnlyFlagged),
		w.Ptr(), mg.Ptr(), codes.Ptr(), i32(u.RuleStride), rule.Ptr(), flags.Ptr())
}

// InputRule applies the input rule to the input weights A (B x V x n, with
// their input masks Min) of B networks.
func (c *Context) InputRule(u RuleUpdate, n int, a, min, codes, rule, flags *Array) error {
	ruleLen := u.S
	if u.InStride != 0 {
		ruleLen = u.B * u.InStride
	}
	if err := checkLens("pl_input_rule", need{"A", a.N, u.B * u.V * n}, need{"Min", min.N, u.B * u.V * n}, need{"codes", codes.N, u.B * u.V},
		need{"rule", rule.N, ruleLen}, need{"flags", flags.N, u.B}); err != nil {
		return err
	}
	return c.linear("pl_input_rule", a.N, i32(u.B), i32(u.V), i32(n), u.Eta, b2i(u.Multiplicative), b2i(u.OnlyFlagged),
		a.Ptr(), min.Ptr(), codes.Ptr(), i32(u.InStride), rule.Ptr(), flags.Ptr())
}

// OutputRule applies the output rule to the U of B networks.
func (c *Context) OutputRule(u RuleUpdate, U, codes, labels, preds, ro, flags *Array) error {
	roLen := u.S * 2
	if u.OutStride != 0 {
		roLen = u.B * u.OutStride
	}
	if err := checkLens("pl_output_rule", need{"U", U.N, u.B * u.M * u.V}, need{"codes", codes.N, u.B * u.V},
		need{"labels", labels.N, u.B}, need{"preds", preds.N, u.B}, need{"ro", ro.N, roLen}, need{"flags", flags.N, u.B}); err != nil {
		return err
	}
	return c.linear("pl_output_rule", U.N, i32(u.B), i32(u.M), i32(u.V), u.Eta, b2i(u.Multiplicative), b2i(u.AllRows),
		b2i(u.OnlyFlagged), b2i(u.BothColumns), U.Ptr(), codes.Ptr(), labels.Ptr(), preds.Ptr(), i32(u.OutStride), ro.Ptr(), flags.Ptr())
}
