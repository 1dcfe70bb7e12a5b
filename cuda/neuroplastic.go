package cuda

import "math"

// NPConfig is the part of the NeuroPlastic optimizer (docs/neuroplastic.md)
// that the fused device step implements: the
// classic base in modes rule_based and ablation_grad_only, parameter-wise
// or scalar coefficients, the warm-up gate, coupled or decoupled weight
// decay and the homeostatic stabilization. The residual and hybrid bases
// and the learning-rate controller stay on the CPU optimizer.
type NPConfig struct {
	LR              float64
	GradOnly        bool // mode ablation_grad_only
	ParamWise       bool
	MinAlpha        float64 // 0.2
	MaxAlpha        float64 // 2.0
	WA, WG, WM      float64 // 0.4, 0.4, 0.2
	PlasticityScale float64
	WarmupEpochs    int
	WeightDecay     float64
	DecoupledWD     bool
	MaxUpdateNorm   float64 // 1.0
	AdaptationRate  float64 // 0.01
	TargetRMS       float64 // 0.02 (times the layer's target-RMS factor)
	TargetRMSScale  float64 // the layer's factor, 1 by default
	Epoch           int     // from 1, set by the trainer
	FirstStep       bool    // this tensor's first step (the activity trace starts at |g|)
}

// DefaultNPConfig is the reference implementation's defaults.
func DefaultNPConfig(lr float64) NPConfig {
	return NPConfig{LR: lr, ParamWise: true, MinAlpha: 0.2, MaxAlpha: 2.0, WA: 0.4, WG: 0.4, WM: 0.2,
		PlasticityScale: 1, MaxUpdateNorm: 1.0, AdaptationRate: 0.01, TargetRMS: 0.02, TargetRMSScale: 1, Epoch: 1}
}

// Mix is gate*plasticity_scale, the factor of (af - ag) in alpha (0 in the
// grad-only ablation): the gate is 1 without warm-up, else
// clamp((epoch-1)/warmup_epochs, 0, 1).
func (c NPConfig) Mix() float64 {
	if c.GradOnly {
		return 0
	}
	gate := 1.0
	if c.WarmupEpochs > 0 {
		gate = math.Min(math.Max(float64(c.Epoch-1)/float64(c.WarmupEpochs), 0), 1)
	}
	return gate * c.PlasticityScale
}

// Check rejects configurations the step cannot run.
func (c NPConfig) Check() error {
	switch {
	case !(c.LR > 0):
		return errorf("neuroplastic: lr %v must be positive", c.LR)
	case !(c.MinAlpha <= c.MaxAlpha):
		return errorf("neuroplastic: min_alpha %v > max_alpha %v", c.MinAlpha, c.MaxAlpha)
	case !(c.MaxUpdateNorm > 0):
		return errorf("neuroplastic: max_update_norm %v must be positive", c.MaxUpdateNorm)
	case c.WeightDecay < 0:
		return errorf("neuroplastic: weight decay %v must be >= 0", c.WeightDecay)
	case c.Epoch < 1:
		return errorf("neuroplastic: epoch %d counts from 1", c.Epoch)
	}
	return nil
}

// NPState is one tensor's optimizer state.
type NPState[T float] struct{ M, V, A []T }

// npStepRef is the spec's step for one tensor, straight from the formulas
// (float64 arithmetic whatever T is): the CPU reference of the fused
// device step (pl_np_pass1..3).
func npStepRef[T float](c NPConfig, p, g []T, st *NPState[T]) {
	const eps = 1e-8
	n := float64(len(p))
	clamp := func(x float64) float64 { return math.Min(math.Max(x, c.MinAlpha), c.MaxAlpha) }
	var sg, sa, sr float64
	for i := range g {
		ag := math.Abs(float64(g[i]))
		if c.FirstStep {
			st.A[i] = T(ag)
		} else {
			st.A[i] = T(0.95*float64(st.A[i]) + 0.05*ag)
		}
		st.M[i] = T(0.9*float64(st.M[i]) + 0.1*float64(g[i]))
		st.V[i] = T(0.99*float64(st.V[i]) + 0.01*float64(g[i])*float64(g[i]))
		sg += ag
		sa += float64(st.A[i])
		sr += math.Abs(float64(st.M[i])) / (math.Sqrt(float64(st.V[i])) + eps)
	}
	mg, ma, mr := sg/n, sa/n, sr/n
	mix := c.Mix()
	u := make([]float64, len(p))
	var su float64
	for i := range g {
		absg := math.Abs(float64(g[i]))
		r := math.Abs(float64(st.M[i])) / (math.Sqrt(float64(st.V[i])) + eps)
		var ag, af float64
		if c.ParamWise {
			ag = clamp(absg / (mg + eps))
			af = clamp(c.WA*float64(st.A[i])/(ma+eps) + c.WG*absg/(mg+eps) + c.WM*r/(mr+eps))
		} else {
			ag = clamp(mg / (mg + eps))
			af = clamp(c.WA*ma/(ma+eps) + c.WG*mg/(mg+eps) + c.WM*mr/(mr+eps))
		}
		alpha := ag + mix*(af-ag)
		u[i] = alpha * float64(g[i])
		if !c.DecoupledWD {
			u[i] += c.WeightDecay * float64(p[i])
		}
		su += u[i] * u[i]
	}
	norm := math.Sqrt(su)
	k := 1.0
	if norm > c.MaxUpdateNorm {
		k = c.MaxUpdateNorm / (norm + eps)
	}
	rms := math.Sqrt(k*k*su/n + eps)
	gain := math.Min(math.Max(1+c.AdaptationRate*(c.TargetRMS*c.TargetRMSScale-rms), 0.5), 1.5)
	for i := range p {
		pi := float64(p[i])
		if c.DecoupledWD {
			pi -= c.LR * c.WeightDecay * pi
		}
		p[i] = T(pi - c.LR*gain*k*u[i])
	}
}

// pow32 is b^n in float64, rounded once (bias corrections).
func pow32(b float32, n int) float32 { return float32(math.Pow(float64(b), float64(n))) }
