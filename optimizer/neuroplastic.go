package optimizer

import (
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// NeuroPlastic is the plasticity-modulated optimizer of the NeuroPlastic
// paper, as the authors' code computes it (docs/neuroplastic.md; proven by
// the replay in replay_test.go).
type NeuroPlastic struct {
	cfg   Config
	np    NPConfig
	lr    float64
	epoch int
	total int

	b     binder
	slots []npSlot
	diag  diagAcc

	pending *stateFile // state loaded before the parameters were known
}

// npSlot is the state of one parameter tensor plus its per-step scalars.
type npSlot struct {
	step      int64
	rmsScale  float64 // target-RMS factor of its third (early/middle/late)
	ctrlGroup int     // 0 early, 1 late, 2 classifier
	layerGate float64 // 1 when inside the hybrid layer scope

	t32 *npTensor[float32]
	t64 *npTensor[float64]
	w   npWork
}

// npWork holds the float64 scalars of one tensor during one step.
type npWork struct {
	sumAbsG, sumG2, sumA, sumR float64 // pass 1
	sumU2, sumRaw2, sumDelta2  float64 // pass 2: ||u||^2 (with coupled wd), ||u||^2 without it, ||delta||^2
	sumP2                      float64 // pass 3 (before the step)
	signal, mult               float64

	orthActive                     bool
	orthSkip                       bool
	orthS2, orthSG, orthO2, orthOG float64 // ||s||^2, <s,g>, ||o||^2, <o,g> (o normalised)
}

func newNeuroPlastic(cfg Config) *NeuroPlastic {
	o := &NeuroPlastic{cfg: cfg, np: cfg.NP, lr: cfg.LR, epoch: 1, total: max(1, cfg.NP.TotalEpochs)}
	o.diag.reset()
	return o
}

func (o *NeuroPlastic) Name() string     { return NameNeuroPlastic }
func (o *NeuroPlastic) SetLR(lr float64) { o.lr = lr }
func (o *NeuroPlastic) LR() float64      { return o.lr }

// SetEpoch sets the current epoch, counted from 1 (values below 1 count as 1,
// as in the reference).
func (o *NeuroPlastic) SetEpoch(e int) { o.epoch = max(1, e) }

// SetTotalEpochs sets the planned number of epochs (values below 1 count as
// 1); it does nothing when --np-total-epochs fixes the total. Until it is
// called the total is 1, so progress = epoch, as in the reference, whose
// runner never sets it.
func (o *NeuroPlastic) SetTotalEpochs(n int) {
	if o.np.TotalEpochs > 0 {
		return
	}
	o.total = max(1, n)
}

// Config returns the validated configuration (aliases resolved).
func (o *NeuroPlastic) Config() Config { return o.cfg }

// EpochDiagnostics returns the diagnostics since the last call and resets them.
func (o *NeuroPlastic) EpochDiagnostics() Diagnostics {
	d := o.diag.result(NameNeuroPlastic, true, o.np.Controller != ControllerOff,
		o.np.Residual == ResidualOrthogonal, o.np.MinAlpha, o.np.MaxAlpha)
	o.diag.reset()
	return d
}

// progress is epoch/total_epochs (total 1 until SetTotalEpochs is called).
func (o *NeuroPlastic) progress() float64 {
	return float64(o.epoch) / float64(max(o.total, 1))
}

// warmupGate is the gate of step 6.
func (o *NeuroPlastic) warmupGate() float64 {
	switch {
	case o.np.Mode == ModeGradOnly:
		return 0
	case o.np.WarmupEpochs <= 0:
		return 1
	}
	return clampF(float64(o.epoch-1)/float64(o.np.WarmupEpochs), 0, 1)
}

// phaseGate is the phase scope gate of the hybrid modulation.
func (o *NeuroPlastic) phaseGate() float64 {
	p := o.progress()
	on := true
	switch o.np.PhaseScope {
	case PhaseEarly:
		on = p <= 0.3
	case PhaseMiddle:
		on = p > 0.3 && p < 0.7
	case PhaseLate:
		on = p >= 0.7
	}
	if on {
		return 1
	}
	return 0
}

// orthLateStart is the progress after which the late orthogonal schedule
// ramps up (the reference's orthogonal_late_start_fraction default).
const orthLateStart = 0.3

// orthSchedule is the orthogonal-residual schedule factor.
func (o *NeuroPlastic) orthSchedule() float64 {
	p := o.progress()
	switch o.np.OrthogonalSchedule {
	case ScheduleLate:
		if p <= orthLateStart {
			return 0
		}
		return min((p-orthLateStart)/(1-orthLateStart), 1)
	case ScheduleCosine:
		return 0.5 * (1 - math.Cos(math.Pi*clampF(p, 0, 1)))
	}
	return 1
}

// layerInfo derives the layer groups from the position in the parameter list.
func (o *NeuroPlastic) layerInfo() {
	n := len(o.b.params)
	body := n - 2
	if body < 0 {
		body = 0
	}
	earlyEnd := (body + 1) / 2 // ceil(body/2)
	lateStart := body / 2      // floor(body/2)
	third1 := (n + 2) / 3      // ceil(N/3)
	third2 := (2*n + 2) / 3    // ceil(2N/3)
	for i := range o.slots {
		s := &o.slots[i]
		switch {
		case i < third1:
			s.rmsScale = o.np.TargetRMSEarly
		case i < third2:
			s.rmsScale = o.np.TargetRMSMiddle
		default:
			s.rmsScale = o.np.TargetRMSLate
		}
		classifier := i >= n-2
		early := !classifier && i < earlyEnd
		late := !classifier && i >= lateStart
		switch {
		case classifier:
			s.ctrlGroup = 2
		case early:
			s.ctrlGroup = 0
		default:
			s.ctrlGroup = 1
		}
		in := true
		switch o.np.LayerScope {
		case ScopeConvOnly:
			in = len(o.b.params[i].shape) == 4
		case ScopeClassifierOnly:
			in = classifier
		case ScopeEarlyBlocks:
			in = early
		case ScopeLateBlocks:
			in = late
		}
		s.layerGate = 0
		if in {
			s.layerGate = 1
		}
	}
}

func (o *NeuroPlastic) hybrid() bool { return o.np.HybridBase != BaseClassic }

// Init allocates the state for these parameters; the first Step calls it.
func (o *NeuroPlastic) Init(vgs []gorgonia.ValueGrad) error {
	if o.slots != nil {
		return nil
	}
	if err := o.b.describe(vgs); err != nil {
		return err
	}
	o.slots = make([]npSlot, len(o.b.params))
	hyb := o.hybrid()
	for i := range o.slots {
		pr := &o.b.params[i]
		if pr.dtype == tensor.Float32 {
			o.slots[i].t32 = newNPTensor[float32](pr.n, hyb)
		} else {
			o.slots[i].t64 = newNPTensor[float64](pr.n, hyb)
		}
	}
	o.layerInfo()
	if o.pending != nil {
		st := o.pending
		o.pending = nil
		if err := o.applyState(st); err != nil {
			o.slots = nil
			o.b.params = nil
			o.pending = st
			return err
		}
	}
	return nil
}

// Step applies one NeuroPlastic update to every parameter. A NaN or Inf
// gradient stops it before anything is written (or skips the step with
// --skip-nonfinite).
func (o *NeuroPlastic) Step(vgs []gorgonia.ValueGrad) error {
	if err := o.Init(vgs); err != nil {
		return err
	}
	if err := o.b.bind(vgs); err != nil {
		return err
	}
	np := &o.np
	rule := np.Mode == ModeRuleBased
	gs := o.warmupGate() * np.PlasticityScale

	// Pass 0 over all tensors: sums of |g| and g^2, which are finite iff the
	// gradient is. Nothing is written before every gradient has passed.
	for i := range o.slots {
		s := &o.slots[i]
		s.w = npWork{}
		pr := &o.b.params[i]
		if s.t32 != nil {
			s.t32.bind(pr.p32, pr.g32)
			s.w.sumAbsG, s.w.sumG2 = s.t32.gradSums()
		} else {
			s.t64.bind(pr.p64, pr.g64)
			s.w.sumAbsG, s.w.sumG2 = s.t64.gradSums()
		}
		if !isFinite(s.w.sumAbsG) || !isFinite(s.w.sumG2) {
			err := nonFinite(pr)
			if o.cfg.SkipNonFinite {
				o.diag.skipped++
				return nil
			}
			return err
		}
	}

	// Passes 1 and 2 per tensor: traces and means, then coefficients and the
	// raw update u (into scratch).
	st := o.stepScalars()
	var alpha alphaStats
	alpha.min, alpha.max = math.Inf(1), math.Inf(-1)
	for i := range o.slots {
		s := &o.slots[i]
		if s.t32 != nil {
			k := o.kernel32(s, rule, gs)
			s.t32.pass1(&k, &s.w)
			k = o.kernel32(s, rule, gs)
			s.t32.pass2(&k, &s.w, &alpha, &st, s.step+1, s.layerGate)
		} else {
			k := o.kernel64(s, rule, gs)
			s.t64.pass1(&k, &s.w)
			k = o.kernel64(s, rule, gs)
			s.t64.pass2(&k, &s.w, &alpha, &st, s.step+1, s.layerGate)
		}
		s.step++
	}
	o.diag.addAlpha(&alpha)

	// Learning-rate controller (step 8).
	o.controller()

	// Pass 3: weight decay, stabilization, p -= lr_eff*u.
	wd := o.cfg.WeightDecay
	decoupled := np.DecoupledWD || np.HybridBase == BaseAdamW
	if np.HybridBase == BaseSGDMomentum {
		decoupled = false
	}
	d := &o.diag
	for i := range o.slots {
		s := &o.slots[i]
		w := &s.w
		n := float64(o.b.params[i].n)
		norm := math.Sqrt(w.sumU2)
		clip := 1.0
		if norm > np.MaxUpdateNorm {
			clip = np.MaxUpdateNorm / (norm + eps)
		}
		rms := math.Sqrt(clip*clip*w.sumU2/n + eps)
		gain := clampF(1+np.AdaptationRate*(np.TargetRMS*s.rmsScale-rms), 0.5, 1.5)
		lrEff := o.lr * w.mult
		c := lrEff * clip * gain
		dec := 0.0
		if decoupled && wd > 0 {
			dec = lrEff * wd
		}
		if s.t32 != nil {
			w.sumP2 = s.t32.apply(float32(dec), float32(c))
		} else {
			w.sumP2 = s.t64.apply(dec, c)
		}
		// Diagnostics as the reference accumulates them (sums of squares).
		d.grad2 += w.sumG2
		d.param2 += (1 - dec) * (1 - dec) * w.sumP2 // after the decoupled decay
		if wd > 0 && np.HybridBase != BaseSGDMomentum {
			d.wd2 += wd * wd * w.sumP2
		}
		d.raw2 += w.sumU2
		e := w.mult * clip * gain
		d.eff2 += e * e * w.sumU2
		d.delta2 += w.sumDelta2
		if w.orthActive {
			d.orthS2 += w.orthS2
			d.orthO2 += w.orthO2
			d.orthSG += w.orthSG
			d.orthOG += w.orthOG
			d.orthTensors++
			if w.orthSkip {
				d.orthSkips++
			}
		}
	}
	d.steps++
	return nil
}

// controller sets the learning-rate multiplier of every tensor (step 8).
func (o *NeuroPlastic) controller() {
	mode := o.np.Controller
	if mode == ControllerOff {
		for i := range o.slots {
			o.slots[i].w.mult = 1
		}
		return
	}
	var sum [3]float64
	var cnt [3]float64
	var all, allN float64
	for i := range o.slots {
		s := &o.slots[i]
		sig := s.w.signal
		if o.np.Mode == ModeGradOnly || !isFinite(sig) {
			sig = 0
			s.w.signal = 0
		}
		sum[s.ctrlGroup] += sig
		cnt[s.ctrlGroup]++
		all += sig
		allN++
	}
	mult := func(sig float64) float64 {
		return clampF(1+o.np.ControllerAlpha*sig, o.np.ControllerMin, o.np.ControllerMax)
	}
	for i := range o.slots {
		s := &o.slots[i]
		var sig float64
		switch mode {
		case ControllerGlobal:
			sig = all / allN
			s.w.mult = mult(sig)
		case ControllerPerGroup:
			sig = sum[s.ctrlGroup] / cnt[s.ctrlGroup]
			s.w.mult = mult(sig)
		case ControllerClassifierOnly:
			if s.ctrlGroup == 2 {
				sig = sum[2] / cnt[2]
				s.w.mult = mult(sig)
			} else {
				s.w.mult = 1
			}
		}
		o.diag.addCtrl(sig, s.w.mult, o.np.ControllerMin, o.np.ControllerMax)
	}
}
