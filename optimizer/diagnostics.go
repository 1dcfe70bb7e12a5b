package optimizer

import "math"

// histBins is the number of bins of the alpha histogram over
// [min_alpha, max_alpha] (values outside go to the end bins).
const histBins = 64

// Diagnostics summarises one epoch of steps with the definitions of the
// reference implementation: a norm is the square root of the sum, over the
// epoch's steps and all parameter tensors, of the squared elements (so it
// grows with the number of steps); the two ratios divide those epoch norms;
// alpha statistics run over every coefficient of every step; controller
// statistics over every tensor and step. Fields of NeuroPlastic-only groups
// are zero (and left out of Map) when the group does not apply.
type Diagnostics struct {
	Optimizer string
	Steps     int // steps applied this epoch
	Skipped   int // steps skipped for non-finite gradients (--skip-nonfinite)

	GradNorm        float64 // ||g||
	ParamNorm       float64 // ||p|| before the step (after decoupled weight decay)
	RawUpdateNorm   float64 // ||u|| after the base/modulation and coupled weight decay, before the controller and stabilization
	EffUpdateNorm   float64 // ||multiplier * stabilized u|| (baselines: the update direction, p -= lr*u)
	DeltaNorm       float64 // ||plasticity delta||: (alpha-ag)*g for the classic base, d for the residual and hybrid variants
	WeightDecayNorm float64 // ||wd * p|| (0 for the sgd_momentum base, whose decay is inside the base)
	EffOverGrad     float64 // EffUpdateNorm / GradNorm
	EffOverRaw      float64 // EffUpdateNorm / RawUpdateNorm

	HasAlpha       bool
	AlphaMean      float64
	AlphaStd       float64
	AlphaMedian    float64 // from a 64-bin histogram over [min_alpha, max_alpha] of every 32nd coefficient
	AlphaMin       float64
	AlphaMax       float64
	AlphaNearBound float64 // fraction within 5% of the range (max_alpha-min_alpha) of either bound

	HasController bool
	SignalMean    float64 // controller signal per tensor and step
	SignalMin     float64
	SignalMax     float64
	MultMean      float64 // learning-rate multiplier per tensor and step
	MultMin       float64
	MultMax       float64
	ClampLow      float64 // fraction of tensor-steps with the multiplier at its lower clamp
	ClampHigh     float64 // ... at its upper clamp

	HasOrthogonal bool
	OrthSNorm     float64 // ||s||, s = (alpha-ag)*g
	OrthONorm     float64 // ||o||, the part of s orthogonal to g (after normalisation; 0 when skipped)
	OrthCosSG     float64 // <g,s> / (||g|| ||s||) over the epoch
	OrthCosOG     float64 // <g,o> / (||g|| ||o||) over the epoch (0 up to rounding)
	OrthSkipFrac  float64 // fraction of tensor-steps with ||g||^2 <= eps
}

// Map flattens the diagnostics for metrics.jsonl; keys start with "opt_".
func (d Diagnostics) Map() map[string]float64 {
	m := map[string]float64{
		"opt_steps":         float64(d.Steps),
		"opt_skipped_steps": float64(d.Skipped),
		"opt_grad_norm":     d.GradNorm,
		"opt_param_norm":    d.ParamNorm,
		"opt_update_norm":   d.EffUpdateNorm,
	}
	if d.HasAlpha {
		m["opt_raw_update_norm"] = d.RawUpdateNorm
		m["opt_delta_norm"] = d.DeltaNorm
		m["opt_weight_decay_norm"] = d.WeightDecayNorm
		m["opt_eff_over_grad"] = d.EffOverGrad
		m["opt_eff_over_raw"] = d.EffOverRaw
		m["opt_alpha_mean"] = d.AlphaMean
		m["opt_alpha_std"] = d.AlphaStd
		m["opt_alpha_median"] = d.AlphaMedian
		m["opt_alpha_min"] = d.AlphaMin
		m["opt_alpha_max"] = d.AlphaMax
		m["opt_alpha_near_bound"] = d.AlphaNearBound
	}
	if d.HasController {
		m["opt_lr_signal_mean"] = d.SignalMean
		m["opt_lr_signal_min"] = d.SignalMin
		m["opt_lr_signal_max"] = d.SignalMax
		m["opt_lr_mult_mean"] = d.MultMean
		m["opt_lr_mult_min"] = d.MultMin
		m["opt_lr_mult_max"] = d.MultMax
		m["opt_lr_clamp_low"] = d.ClampLow
		m["opt_lr_clamp_high"] = d.ClampHigh
	}
	if d.HasOrthogonal {
		m["opt_orth_s_norm"] = d.OrthSNorm
		m["opt_orth_o_norm"] = d.OrthONorm
		m["opt_orth_cos_s_g"] = d.OrthCosSG
		m["opt_orth_cos_o_g"] = d.OrthCosOG
		m["opt_orth_skip_frac"] = d.OrthSkipFrac
	}
	return m
}

// diagAcc accumulates one epoch: sums of squares for the norms.
type diagAcc struct {
	steps, skipped int

	grad2, param2, raw2, eff2, delta2, wd2 float64

	alphaN, alphaSum, alphaSum2, alphaNear float64
	alphaMin, alphaMax                     float64
	hist                                   [histBins]float64

	ctrlN, sigSum, sigMin, sigMax, multSum, multMin, multMax float64
	clampLow, clampHigh                                      float64

	orthS2, orthO2, orthSG, orthOG float64
	orthTensors, orthSkips         float64
}

func (a *diagAcc) reset() {
	*a = diagAcc{alphaMin: math.Inf(1), alphaMax: math.Inf(-1), sigMin: math.Inf(1), sigMax: math.Inf(-1),
		multMin: math.Inf(1), multMax: math.Inf(-1)}
}

// alphaStats are the per-tensor alpha accumulators of one pass.
type alphaStats struct {
	n, sum, sum2, near, min, max float64
	hist                         [histBins]float64
}

func (a *diagAcc) addAlpha(s *alphaStats) {
	a.alphaN += s.n
	a.alphaSum += s.sum
	a.alphaSum2 += s.sum2
	a.alphaNear += s.near
	a.alphaMin = min(a.alphaMin, s.min)
	a.alphaMax = max(a.alphaMax, s.max)
	for i := range a.hist {
		a.hist[i] += s.hist[i]
	}
}

// addCtrl records one tensor's controller signal and multiplier; lo and hi
// are the clamps (a multiplier within 1e-9 of one counts as clamped).
func (a *diagAcc) addCtrl(signal, mult, lo, hi float64) {
	a.ctrlN++
	if mult <= lo+1e-9 {
		a.clampLow++
	}
	if mult >= hi-1e-9 {
		a.clampHigh++
	}
	a.sigSum += signal
	a.sigMin = min(a.sigMin, signal)
	a.sigMax = max(a.sigMax, signal)
	a.multSum += mult
	a.multMin = min(a.multMin, mult)
	a.multMax = max(a.multMax, mult)
}

// ratio is a/max(b, 1e-12), the reference's guard.
func ratio(a, b float64) float64 { return a / max(b, 1e-12) }

// result turns the accumulators into Diagnostics; lo/hi are the alpha bounds.
func (a *diagAcc) result(name string, np, ctrl, orth bool, lo, hi float64) Diagnostics {
	d := Diagnostics{Optimizer: name, Steps: a.steps, Skipped: a.skipped}
	d.GradNorm, d.ParamNorm = math.Sqrt(a.grad2), math.Sqrt(a.param2)
	d.RawUpdateNorm, d.EffUpdateNorm = math.Sqrt(a.raw2), math.Sqrt(a.eff2)
	d.DeltaNorm, d.WeightDecayNorm = math.Sqrt(a.delta2), math.Sqrt(a.wd2)
	if a.steps > 0 {
		d.EffOverGrad = ratio(d.EffUpdateNorm, d.GradNorm)
		d.EffOverRaw = ratio(d.EffUpdateNorm, d.RawUpdateNorm)
	}
	if np {
		d.HasAlpha = true
		if a.alphaN > 0 {
			d.AlphaMean = a.alphaSum / a.alphaN
			d.AlphaStd = math.Sqrt(max(0, a.alphaSum2/a.alphaN-d.AlphaMean*d.AlphaMean))
			d.AlphaMin, d.AlphaMax = a.alphaMin, a.alphaMax
			d.AlphaNearBound = a.alphaNear / a.alphaN
			d.AlphaMedian = histMedian(&a.hist, lo, hi)
		}
	}
	if ctrl {
		d.HasController = true
		if a.ctrlN > 0 {
			d.SignalMean, d.SignalMin, d.SignalMax = a.sigSum/a.ctrlN, a.sigMin, a.sigMax
			d.MultMean, d.MultMin, d.MultMax = a.multSum/a.ctrlN, a.multMin, a.multMax
			d.ClampLow, d.ClampHigh = a.clampLow/a.ctrlN, a.clampHigh/a.ctrlN
		}
	}
	if orth {
		d.HasOrthogonal = true
		d.OrthSNorm, d.OrthONorm = math.Sqrt(a.orthS2), math.Sqrt(a.orthO2)
		d.OrthCosSG = ratio(a.orthSG, d.GradNorm*d.OrthSNorm)
		d.OrthCosOG = ratio(a.orthOG, d.GradNorm*d.OrthONorm)
		if a.orthTensors > 0 {
			d.OrthSkipFrac = a.orthSkips / a.orthTensors
		}
	}
	return d
}

// histMedian interpolates the median inside the bin where the cumulative
// count crosses half the total.
func histMedian(h *[histBins]float64, lo, hi float64) float64 {
	n := 0.0
	for _, c := range h {
		n += c
	}
	w := (hi - lo) / histBins
	half := n / 2
	cum := 0.0
	for i, c := range h {
		if c > 0 && cum+c >= half {
			return lo + w*(float64(i)+(half-cum)/c)
		}
		cum += c
	}
	return hi
}
