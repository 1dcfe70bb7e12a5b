package cuda

// KeepInitial keeps a device copy of the networks' current weights (W, U,
// and A when an input rule trains it) that ResetState restores: a reset
// with no upload (meta-learning resets the networks for every batch).
func (d *DevicePlastic) KeepInitial() error {
	if d.initial != nil {
		return nil
	}
	live := []*Array{d.w, d.u}
	if d.nb.InputRule {
		live = append(live, d.am)
	}
	for _, a := range live {
		cp, err := d.c.Alloc(a.N)
		if err != nil {
			return err
		}
		d.own = append(d.own, cp)
		if err := d.c.Copy(cp, a); err != nil {
			return err
		}
		d.initial, d.live = append(d.initial, cp), append(d.live, a)
	}
	return nil
}

// ResetState restores the weights KeepInitial kept.
func (d *DevicePlastic) ResetState() error {
	if d.initial == nil {
		return errorf("plastic reset: no initial weights kept (KeepInitial)")
	}
	for i, a := range d.live {
		if err := d.c.Copy(a, d.initial[i]); err != nil {
			return err
		}
	}
	return nil
}

// SetRules uploads new rule tables (the lengths of NewDevicePlastic's;
// nil for a rule that is not used).
func (d *DevicePlastic) SetRules(rule, out, in []float32) error {
	nr, no, ni := d.nb.ruleLens()
	var needs []need
	if d.nb.RNNRule {
		needs = append(needs, need{"rule", len(rule), nr})
	}
	if d.nb.OutputRule {
		needs = append(needs, need{"output rule", len(out), no})
	}
	if d.nb.InputRule {
		needs = append(needs, need{"input rule", len(in), ni})
	}
	if err := checkLens("plastic rules", needs...); err != nil {
		return err
	}
	for _, p := range []struct {
		use  bool
		dst  *Array
		host []float32
	}{{d.nb.RNNRule, d.rule, rule}, {d.nb.OutputRule, d.out, out}, {d.nb.InputRule, d.in, in}} {
		if p.use {
			if err := CopyIn(d.c, p.dst, p.host); err != nil {
				return err
			}
		}
	}
	return nil
}

// stepRecord is what the training steps of one Train call saw: step s's
// firing codes (B x V), predictions, misclassified flags and labels (B),
// on the device, for a backward pass (MetaPlastic).
type stepRecord struct {
	codes, preds, flags, labels *Array
	capacity, n                 int
}

// Record makes every later Train call record up to steps steps (each call
// from its first step on).
func (d *DevicePlastic) Record(steps int) error {
	if steps < 1 {
		return errorf("plastic record: %d steps", steps)
	}
	B, V := d.nb.B, d.nb.V
	r := &stepRecord{capacity: steps}
	for _, x := range []struct {
		dst **Array
		n   int
	}{{&r.codes, steps * B * V}, {&r.preds, steps * B}, {&r.flags, steps * B}, {&r.labels, steps * B}} {
		a, err := d.c.Alloc(x.n)
		if err != nil {
			return err
		}
		d.own = append(d.own, a)
		*x.dst = a
	}
	d.rec = r
	return nil
}

func (r *stepRecord) add(c *Context, codes, preds, flags, labels *Array) error {
	B := preds.N
	V := codes.N / B
	for _, x := range []struct{ dst, src *Array }{
		{r.codes.view(r.n*B*V, B*V), codes}, {r.preds.view(r.n*B, B), preds}, {r.flags.view(r.n*B, B), flags}, {r.labels.view(r.n*B, B), labels},
	} {
		if err := c.Copy(x.dst, x.src); err != nil {
			return err
		}
	}
	r.n++
	return nil
}
