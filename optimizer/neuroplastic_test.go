package optimizer

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// testShapes: two conv blocks, a hidden dense layer and the classifier
// (N = 8: early 0-2, late 3-5, classifier 6-7; thirds 0-2, 3-5, 6-7).
var testShapes = [][]int{{4, 2, 3, 3}, {4}, {6, 4, 3, 3}, {6}, {5, 6}, {5}, {3, 5}, {3}}

type fixture struct {
	ps  []*testParam
	vgs []gorgonia.ValueGrad
	f64 bool
}

func newFixture(seed int64, shapes [][]int, f64 bool) *fixture {
	rng := rand.New(rand.NewSource(seed))
	fx := &fixture{f64: f64}
	for i, s := range shapes {
		var p *testParam
		if f64 {
			p = newTestParam64(rng, fmt.Sprintf("w%d", i), s...)
		} else {
			p = newTestParam32(rng, fmt.Sprintf("w%d", i), s...)
		}
		fx.ps = append(fx.ps, p)
		fx.vgs = append(fx.vgs, p)
	}
	return fx
}

// setGrads draws new gradients of varied scales (some large enough to
// trigger the norm clip) for step k.
func (fx *fixture) setGrads(rng *rand.Rand, k int) {
	for i, p := range fx.ps {
		scale := math.Pow(10, float64((i+k)%4)-2.5)
		if fx.f64 {
			g := p.grad.Data().([]float64)
			for j := range g {
				g[j] = rng.NormFloat64() * scale
			}
		} else {
			g := p.grad.Data().([]float32)
			for j := range g {
				g[j] = float32(rng.NormFloat64() * scale)
			}
		}
	}
}

func toF64(x interface{}) []float64 {
	switch v := x.(type) {
	case []float64:
		return append([]float64(nil), v...)
	case []float32:
		out := make([]float64, len(v))
		for i, f := range v {
			out[i] = float64(f)
		}
		return out
	}
	panic(fmt.Sprintf("unexpected %T", x))
}

func (fx *fixture) values() [][]float64 {
	var out [][]float64
	for _, p := range fx.ps {
		out = append(out, toF64(p.val.Data()))
	}
	return out
}

func (fx *fixture) grads() [][]float64 {
	var out [][]float64
	for _, p := range fx.ps {
		out = append(out, toF64(p.grad.Data()))
	}
	return out
}

// npCases cover every mode and variant of docs/neuroplastic.md.
func npCases() []struct {
	name string
	mod  func(c *Config)
} {
	return []struct {
		name string
		mod  func(c *Config)
	}{
		{"default", func(c *Config) {}},
		{"grad_only", func(c *Config) { c.NP.Mode = ModeGradOnly }},
		{"scalar", func(c *Config) { c.NP.ParamWise = false }},
		{"grad_only_scalar", func(c *Config) { c.NP.Mode = ModeGradOnly; c.NP.ParamWise = false }},
		{"mnist_best", func(c *Config) { c.LR = 0.1; c.NP.WarmupEpochs = 2; c.NP.PlasticityScale = 2 }},
		{"weights_clamp", func(c *Config) {
			c.NP.WeightActivity, c.NP.WeightGrad, c.NP.WeightMemory = 0.45, 0.35, 0.2
			c.NP.MinAlpha, c.NP.MaxAlpha = 0.5, 1.3
		}},
		{"stabilization", func(c *Config) {
			c.NP.MaxUpdateNorm = 0.05
			c.NP.AdaptationRate = 30
			c.NP.TargetRMSEarly, c.NP.TargetRMSMiddle, c.NP.TargetRMSLate = 0.5, 2, 40
		}},
		{"coupled_wd", func(c *Config) { c.WeightDecay = 0.05 }},
		{"decoupled_wd", func(c *Config) { c.WeightDecay = 0.05; c.NP.DecoupledWD = true }},
		{"ctrl_global", func(c *Config) { c.NP.Controller = ControllerGlobal; c.NP.ControllerAlpha = 0.5 }},
		{"ctrl_per_group", func(c *Config) { c.NP.Controller = ControllerPerGroup; c.NP.ControllerAlpha = 0.5 }},
		{"ctrl_classifier", func(c *Config) {
			c.NP.Controller = ControllerClassifierOnly
			c.NP.ControllerAlpha = 0.5
			c.NP.PlasticityScale = 2
		}},
		{"ctrl_grad_only", func(c *Config) { c.NP.Controller = ControllerGlobal; c.NP.Mode = ModeGradOnly }},
		{"adamw_gain", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.WeightDecay = 0.01 }},
		{"adamw_momentum", func(c *Config) {
			c.NP.HybridBase = BaseAdamW
			c.NP.ModulationTarget = TargetMomentum
			c.NP.ModulationStrength = 2
		}},
		{"adamw_trust", func(c *Config) {
			c.NP.HybridBase = BaseAdamW
			c.NP.ModulationTarget = TargetTrust
			c.NP.ModulationStrength = 3
		}},
		{"sgdm_gain_wd", func(c *Config) { c.NP.HybridBase = BaseSGDMomentum; c.WeightDecay = 0.02 }},
		{"sgdm_trust_conv", func(c *Config) {
			c.NP.HybridBase = BaseSGDMomentum
			c.NP.ModulationTarget = TargetTrust
			c.NP.LayerScope = ScopeConvOnly
		}},
		{"sgdm_head_only", func(c *Config) { c.NP.HybridBase = BaseSGDMomentum; c.NP.LayerScope = "head_only" }},
		{"adamw_early_blocks", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.NP.LayerScope = ScopeEarlyBlocks }},
		{"adamw_late_alias", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.NP.ModulationScope = "late" }},
		{"adamw_phase_early", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.NP.PhaseScope = PhaseEarly }},
		{"adamw_phase_middle", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.NP.PhaseScope = PhaseMiddle }},
		{"adamw_schedule_late", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.NP.ModulationSchedule = "late" }},
		{"sgdm_schedule_warmup", func(c *Config) { c.NP.HybridBase = BaseSGDMomentum; c.NP.ModulationSchedule = "warmup" }},
		{"bounded", func(c *Config) { c.NP.Residual = ResidualBounded; c.NP.PlasticityScale = 2 }},
		{"bounded_tight", func(c *Config) { c.NP.Residual = ResidualBounded; c.NP.ResidualMaxRatio = 0.05 }},
		{"orthogonal", func(c *Config) { c.NP.Residual = ResidualOrthogonal; c.NP.OrthogonalLambda = 0.7 }},
		{"orthogonal_match", func(c *Config) {
			c.NP.Residual = ResidualOrthogonal
			c.NP.OrthogonalNorm = OrthNormMatch
			c.NP.OrthogonalMaxRatio = 0.05
		}},
		{"orthogonal_late", func(c *Config) {
			c.NP.Residual = ResidualOrthogonal
			c.NP.OrthogonalNorm = OrthNormMatch
			c.NP.OrthogonalSchedule = ScheduleLate
		}},
		{"orthogonal_cosine_wd", func(c *Config) {
			c.NP.Residual = ResidualOrthogonal
			c.NP.OrthogonalSchedule = ScheduleCosine
			c.WeightDecay = 0.01
		}},
	}
}

// TestNeuroPlasticMatchesReference runs every mode and variant for several
// steps (epochs 1, 2, 3, 5, 7, 9 of 10, so warm-up, phases and schedules
// move) in float64 and float32 against the unfused float64 reference.
func TestNeuroPlasticMatchesReference(t *testing.T) {
	for _, tc := range npCases() {
		for _, f64 := range []bool{true, false} {
			name := tc.name + map[bool]string{true: "/f64", false: "/f32"}[f64]
			t.Run(name, func(t *testing.T) {
				cfg := DefaultConfig()
				tc.mod(&cfg)
				opt, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				fx := newFixture(7, testShapes, f64)
				ref := newRefNP(cfg, testShapes)
				refP := fx.values()
				rng := rand.New(rand.NewSource(11))
				// Progress 0.1 ... 0.9 hits the phase boundaries 0.3 and 0.7
				// exactly; warm-up 2 sees gates 0, 0.5 and 1.
				epochs := []int{1, 2, 3, 5, 7, 9}
				opt.SetTotalEpochs(10)
				ref.total = 10
				for k, e := range epochs {
					opt.SetEpoch(e)
					ref.epoch = e
					fx.setGrads(rng, k)
					before := fx.values()
					ref.step(refP, fx.grads())
					if err := opt.Step(fx.vgs); err != nil {
						t.Fatal(err)
					}
					got := fx.values()
					for i := range got {
						maxUpd := 0.0
						for j := range got[i] {
							maxUpd = math.Max(maxUpd, math.Abs(refP[i][j]-before[i][j]))
						}
						for j := range got[i] {
							tol := 1e-12*math.Abs(refP[i][j]) + 1e-9*maxUpd + 1e-300
							if !f64 {
								tol = 2e-7*math.Abs(refP[i][j]) + 2e-4*maxUpd + 1e-12
							}
							if d := math.Abs(got[i][j] - refP[i][j]); d > tol || math.IsNaN(got[i][j]) {
								t.Fatalf("step %d param %d[%d]: got %.17g want %.17g (diff %.3g, tol %.3g)", k+1, i, j, got[i][j], refP[i][j], d, tol)
							}
						}
						if !f64 {
							copy(refP[i], got[i]) // keep the float32 run on the float32 trajectory
						}
					}
				}
			})
		}
	}
}

// TestFirstStepTrace: the activity trace starts at zero and every step,
// the first included, does a = 0.95*a + 0.05*|g| (the reference creates a as
// zeros, so its "first step sets a = |g|" branch never runs). The test covers
// float64 and float32 tensors long enough for the assembly kernels.
func TestFirstStepTrace(t *testing.T) {
	for _, f64 := range []bool{true, false} {
		fx := newFixture(3, [][]int{{37}, {3}}, f64)
		o, err := newNP(DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		trace := func(i, j int) float64 {
			if f64 {
				return o.slots[i].t64.a[j]
			}
			return float64(o.slots[i].t32.a[j])
		}
		mom := func(i, j int) float64 {
			if f64 {
				return o.slots[i].t64.m[j]
			}
			return float64(o.slots[i].t32.m[j])
		}
		tol := 1e-16
		if !f64 {
			tol = 1e-7
		}
		td := 0.95 // a variable: 1-0.95 in float64 is not the constant 0.05
		fx.setGrads(rand.New(rand.NewSource(1)), 0)
		g1 := fx.grads()
		if err := o.Step(fx.vgs); err != nil {
			t.Fatal(err)
		}
		for i, g := range g1 {
			for j := range g {
				want := (1 - td) * math.Abs(g[j])
				if got := trace(i, j); math.Abs(got-want) > tol*want {
					t.Fatalf("f64=%v: a[%d][%d] = %v after the first step, want 0.05*|g| = %v", f64, i, j, got, want)
				}
				if m := mom(i, j); math.Abs(m-0.1*g[j]) > tol*math.Abs(g[j]) {
					t.Fatalf("f64=%v: m after the first step = %v, want 0.1*g", f64, m)
				}
			}
		}
		fx.setGrads(rand.New(rand.NewSource(2)), 1)
		g2 := fx.grads()
		if err := o.Step(fx.vgs); err != nil {
			t.Fatal(err)
		}
		for j := range g2[0] {
			want := td*((1-td)*math.Abs(g1[0][j])) + (1-td)*math.Abs(g2[0][j])
			if got := trace(0, j); math.Abs(got-want) > 4*tol*want {
				t.Fatalf("f64=%v: a[0][%d] after two steps = %v, want %v", f64, j, got, want)
			}
		}
	}
}

// TestWarmupGate checks the gate per epoch: clamp((epoch-1)/warmup, 0, 1).
func TestWarmupGate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NP.WarmupEpochs = 2
	o, _ := newNP(cfg)
	for e, want := range map[int]float64{1: 0, 2: 0.5, 3: 1, 4: 1, 10: 1} {
		o.SetEpoch(e)
		if got := o.warmupGate(); got != want {
			t.Errorf("warmup 2, epoch %d: gate %v, want %v", e, got, want)
		}
	}
	cfg.NP.WarmupEpochs = 0
	o, _ = newNP(cfg)
	o.SetEpoch(1)
	if o.warmupGate() != 1 {
		t.Error("warmup 0: gate must be 1")
	}
	cfg.NP.Mode = ModeGradOnly
	o, _ = newNP(cfg)
	o.SetEpoch(5)
	if o.warmupGate() != 0 {
		t.Error("ablation_grad_only: gate must be 0")
	}
}

// gradOnlyExpected computes by hand: alpha = clamp(|g|/(mean|g|+eps)),
// u = alpha*g, clip, RMS gain, p -= lr*gain*u.
func gradOnlyExpected(p, g []float64, lr, lo, hi float64) []float64 {
	mu := 0.0
	for _, x := range g {
		mu += math.Abs(x)
	}
	mu /= float64(len(g))
	u := make([]float64, len(g))
	nu := 0.0
	for i, x := range g {
		alpha := math.Min(math.Max(math.Abs(x)/(mu+1e-8), lo), hi)
		u[i] = alpha * x
		nu += u[i] * u[i]
	}
	nu = math.Sqrt(nu)
	clip := 1.0
	if nu > 1 {
		clip = 1 / (nu + 1e-8)
	}
	rms := math.Sqrt(clip*clip*nu*nu/float64(len(g)) + 1e-8)
	gain := math.Min(math.Max(1+0.01*(0.02-rms), 0.5), 1.5)
	out := make([]float64, len(p))
	for i := range p {
		out[i] = p[i] - lr*gain*clip*u[i]
	}
	return out
}

// TestGradOnlyIsClampedStdTimesG: the ablation is alpha = clamp(std(|g|))*g,
// then the stabilization, whatever the other signals and the warm-up say.
func TestGradOnlyIsClampedStdTimesG(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NP.Mode = ModeGradOnly
	cfg.NP.PlasticityScale = 2
	cfg.NP.WarmupEpochs = 1
	cfg.LR = 0.1
	o, _ := New(cfg)
	o.SetEpoch(3)
	p0 := []float64{0.5, -0.25, 1, 2, -1}
	g := []float64{0.1, -0.02, 0.5, 0.002, -3}
	val := tensor.New(tensor.WithShape(5), tensor.WithBacking(append([]float64(nil), p0...)))
	grad := tensor.New(tensor.WithShape(5), tensor.WithBacking(append([]float64(nil), g...)))
	vgs := []gorgonia.ValueGrad{&testParam{name: "w", val: val, grad: grad}}
	want := gradOnlyExpected(p0, g, 0.1, 0.2, 2.0)
	for step := 0; step < 3; step++ { // the traces must not leak into the update
		if err := o.Step(vgs); err != nil {
			t.Fatal(err)
		}
		got := val.Data().([]float64)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-15*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("step %d elem %d: got %.17g want %.17g", step, i, got[i], want[i])
			}
		}
		want = gradOnlyExpected(want, g, 0.1, 0.2, 2.0)
	}
}

// TestClampAndScale: alpha stays in [min, max] with scale 1 and leaves it
// with scale 2 (the reference does not clamp after the interpolation).
func TestClampAndScale(t *testing.T) {
	for _, scale := range []float64{1, 2} {
		cfg := DefaultConfig()
		cfg.NP.PlasticityScale = scale
		cfg.NP.MinAlpha, cfg.NP.MaxAlpha = 0.5, 1.5
		o, _ := New(cfg)
		fx := newFixture(5, [][]int{{200}, {50}}, true)
		rng := rand.New(rand.NewSource(3))
		for k := 0; k < 4; k++ {
			fx.setGrads(rng, k)
			if err := o.Step(fx.vgs); err != nil {
				t.Fatal(err)
			}
		}
		d := o.EpochDiagnostics()
		inside := d.AlphaMin >= 0.5 && d.AlphaMax <= 1.5
		if scale == 1 && !inside {
			t.Errorf("scale 1: alpha range [%v, %v] leaves [0.5, 1.5]", d.AlphaMin, d.AlphaMax)
		}
		if scale == 2 && inside {
			t.Errorf("scale 2: alpha range [%v, %v] should leave [0.5, 1.5]", d.AlphaMin, d.AlphaMax)
		}
		if d.AlphaNearBound <= 0 || d.AlphaNearBound > 1 || d.AlphaMedian < 0.5 || d.AlphaMedian > 1.5 {
			t.Errorf("scale %v: near-bound %v, median %v", scale, d.AlphaNearBound, d.AlphaMedian)
		}
	}
}

// TestStabilizationBounds: a huge gradient is clipped to max_update_norm and
// the RMS gain saturates at 0.5 / 1.5 (hand-computed).
func TestStabilizationBounds(t *testing.T) {
	for _, tc := range []struct {
		target, rate, wantGain float64
	}{{0.02, 1000, 0.5}, {100, 1000, 1.5}, {0.02, 0.01, 0}} {
		cfg := DefaultConfig()
		cfg.NP.Mode = ModeGradOnly
		cfg.NP.TargetRMS, cfg.NP.AdaptationRate = tc.target, tc.rate
		cfg.LR = 1
		o, _ := New(cfg)
		g := []float64{300, -400} // |g| equal-ish: alpha = clamp(|g|/350) = 0.857..., 1.142...
		p := []float64{0, 0}
		val := tensor.New(tensor.WithShape(2), tensor.WithBacking(p))
		grad := tensor.New(tensor.WithShape(2), tensor.WithBacking(g))
		if err := o.Step([]gorgonia.ValueGrad{&testParam{name: "w", val: val, grad: grad}}); err != nil {
			t.Fatal(err)
		}
		u := []float64{300 * 300 / (350 + 1e-8), -400 * 400 / (350 + 1e-8)}
		nu := math.Hypot(u[0], u[1])
		clip := 1 / (nu + 1e-8)
		gain := tc.wantGain
		if gain == 0 {
			rms := math.Sqrt(clip*clip*nu*nu/2 + 1e-8)
			gain = 1 + 0.01*(0.02-rms)
		}
		step := math.Hypot(p[0], p[1])
		if math.Abs(step-gain*clip*nu) > 1e-12 {
			t.Errorf("target %v rate %v: update norm %v, want %v (gain %v)", tc.target, tc.rate, step, gain*clip*nu, gain)
		}
	}
}

// TestWeightDecayPlacement: with g = 0, coupled decay goes through the
// stabilization (u = wd*p), decoupled decay is p *= 1 - lr*wd.
func TestWeightDecayPlacement(t *testing.T) {
	for _, decoupled := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.LR, cfg.WeightDecay = 0.5, 0.1
		cfg.NP.DecoupledWD = decoupled
		o, _ := New(cfg)
		p := []float64{1, 2}
		val := tensor.New(tensor.WithShape(2), tensor.WithBacking(p))
		grad := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 0}))
		if err := o.Step([]gorgonia.ValueGrad{&testParam{name: "w", val: val, grad: grad}}); err != nil {
			t.Fatal(err)
		}
		var want []float64
		if decoupled {
			want = []float64{1 - 0.5*0.1*1, 2 - 0.5*0.1*2}
		} else {
			rms := math.Sqrt((0.01+0.04)/2 + 1e-8)
			gain := 1 + 0.01*(0.02-rms)
			want = []float64{1 - 0.5*gain*0.1, 2 - 0.5*gain*0.2}
		}
		for i := range p {
			if math.Abs(p[i]-want[i]) > 1e-15 {
				t.Errorf("decoupled=%v: p[%d] = %.17g, want %.17g", decoupled, i, p[i], want[i])
			}
		}
	}
}

// TestLayerGroups checks the groups derived from the parameter order.
func TestLayerGroups(t *testing.T) {
	fx := newFixture(1, testShapes, true)
	want := map[string][]float64{
		ScopeAll:            {1, 1, 1, 1, 1, 1, 1, 1},
		ScopeConvOnly:       {1, 0, 1, 0, 0, 0, 0, 0},
		ScopeClassifierOnly: {0, 0, 0, 0, 0, 0, 1, 1},
		ScopeEarlyBlocks:    {1, 1, 1, 0, 0, 0, 0, 0},
		ScopeLateBlocks:     {0, 0, 0, 1, 1, 1, 0, 0},
	}
	for scope, gates := range want {
		cfg := DefaultConfig()
		cfg.NP.HybridBase = BaseAdamW
		cfg.NP.LayerScope = scope
		o, err := newNP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Init(fx.vgs); err != nil {
			t.Fatal(err)
		}
		for i, s := range o.slots {
			if s.layerGate != gates[i] {
				t.Errorf("scope %s: param %d gate %v, want %v", scope, i, s.layerGate, gates[i])
			}
		}
	}
	cfg := DefaultConfig()
	cfg.NP.TargetRMSEarly, cfg.NP.TargetRMSMiddle, cfg.NP.TargetRMSLate = 1, 2, 3
	o, _ := newNP(cfg)
	_ = o.Init(fx.vgs)
	wantScale := []float64{1, 1, 1, 2, 2, 2, 3, 3}
	wantGroup := []int{0, 0, 0, 1, 1, 1, 2, 2}
	for i, s := range o.slots {
		if s.rmsScale != wantScale[i] || s.ctrlGroup != wantGroup[i] {
			t.Errorf("param %d: rms scale %v group %d, want %v %d", i, s.rmsScale, s.ctrlGroup, wantScale[i], wantGroup[i])
		}
	}
}

// TestControllerGroups: classifier_only leaves the body at multiplier 1;
// per_group gives each group its own multiplier.
func TestControllerGroups(t *testing.T) {
	for _, mode := range []string{ControllerClassifierOnly, ControllerPerGroup, ControllerGlobal} {
		cfg := DefaultConfig()
		cfg.NP.Controller = mode
		cfg.NP.ControllerAlpha = 5
		cfg.NP.PlasticityScale = 2
		o, _ := newNP(cfg)
		fx := newFixture(2, testShapes, true)
		fx.setGrads(rand.New(rand.NewSource(4)), 0)
		if err := o.Step(fx.vgs); err != nil {
			t.Fatal(err)
		}
		var sig [3]float64
		var cnt [3]float64
		for _, s := range o.slots {
			sig[s.ctrlGroup] += s.w.signal
			cnt[s.ctrlGroup]++
		}
		all := (sig[0] + sig[1] + sig[2]) / 8
		for i, s := range o.slots {
			var want float64
			switch mode {
			case ControllerClassifierOnly:
				want = 1
				if s.ctrlGroup == 2 {
					want = clampF(1+5*sig[2]/cnt[2], 0.8, 1.2)
				}
			case ControllerPerGroup:
				want = clampF(1+5*sig[s.ctrlGroup]/cnt[s.ctrlGroup], 0.8, 1.2)
			case ControllerGlobal:
				want = clampF(1+5*all, 0.8, 1.2)
			}
			if s.w.mult != want {
				t.Errorf("%s: param %d multiplier %v, want %v", mode, i, s.w.mult, want)
			}
		}
		d := o.EpochDiagnostics()
		if !d.HasController || d.MultMin < 0.8 || d.MultMax > 1.2 {
			t.Errorf("%s: diagnostics %+v", mode, d)
		}
	}
}

// TestOrthogonalSkip: a zero gradient takes the skip branch (d = 0) and is
// counted in the diagnostics.
func TestOrthogonalSkip(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NP.Residual = ResidualOrthogonal
	o, _ := New(cfg)
	fx := newFixture(2, [][]int{{4}, {3}}, true)
	fx.setGrads(rand.New(rand.NewSource(4)), 0)
	g := fx.ps[1].grad.Data().([]float64)
	for i := range g {
		g[i] = 0
	}
	if err := o.Step(fx.vgs); err != nil {
		t.Fatal(err)
	}
	d := o.EpochDiagnostics()
	if d.OrthSkipFrac != 0.5 {
		t.Errorf("skip fraction %v, want 0.5", d.OrthSkipFrac)
	}
}

// TestDiagnosticsValues checks a few diagnostics against direct computation.
func TestDiagnosticsValues(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NP.Mode = ModeGradOnly
	cfg.LR = 0.1
	o, _ := New(cfg)
	p0 := []float64{0.5, -0.25, 1, 2}
	g := []float64{0.1, -0.02, 0.5, 0.2}
	val := tensor.New(tensor.WithShape(4), tensor.WithBacking(append([]float64(nil), p0...)))
	grad := tensor.New(tensor.WithShape(4), tensor.WithBacking(g))
	if err := o.Step([]gorgonia.ValueGrad{&testParam{name: "w", val: val, grad: grad}}); err != nil {
		t.Fatal(err)
	}
	d := o.EpochDiagnostics()
	mu := (0.1 + 0.02 + 0.5 + 0.2) / 4
	var sum, gn, pn, un float64
	for i, x := range g {
		a := clampF(math.Abs(x)/(mu+1e-8), 0.2, 2)
		sum += a
		gn += x * x
		pn += p0[i] * p0[i]
	}
	p := val.Data().([]float64)
	for i := range p {
		un += (p0[i] - p[i]) * (p0[i] - p[i])
	}
	check := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, want %.15g", name, got, want)
		}
	}
	check("alpha mean", d.AlphaMean, sum/4)
	check("grad norm", d.GradNorm, math.Sqrt(gn))
	check("param norm", d.ParamNorm, math.Sqrt(pn))
	check("effective update norm", d.EffUpdateNorm, math.Sqrt(un)/0.1)
	if d.Steps != 1 || d.AlphaMin != 0.2 {
		t.Errorf("steps %d, alpha min %v", d.Steps, d.AlphaMin)
	}
	m := d.Map()
	for _, k := range []string{"opt_alpha_mean", "opt_alpha_median", "opt_grad_norm", "opt_eff_over_grad", "opt_delta_norm"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Map lacks %s", k)
		}
	}
	if d2 := o.EpochDiagnostics(); d2.Steps != 0 || d2.AlphaMean != 0 {
		t.Errorf("diagnostics not reset: %+v", d2)
	}
}

// TestDiagnosticsAccumulateSquares: over an epoch the norms are square roots
// of summed squares (the reference's definition), the ratios divide them.
func TestDiagnosticsAccumulateSquares(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NP.Mode = ModeGradOnly
	cfg.LR = 0.1
	o, _ := New(cfg)
	val := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0.5, -0.25}))
	gs := [][]float64{{0.3, -0.4}, {1.2, 0.5}}
	var g2, u2 float64
	for _, g := range gs {
		before := append([]float64(nil), val.Data().([]float64)...)
		grad := tensor.New(tensor.WithShape(2), tensor.WithBacking(g))
		if err := o.Step([]gorgonia.ValueGrad{&testParam{name: "w", val: val, grad: grad}}); err != nil {
			t.Fatal(err)
		}
		for i, x := range g {
			g2 += x * x
			d := (before[i] - val.Data().([]float64)[i]) / cfg.LR
			u2 += d * d
		}
	}
	d := o.EpochDiagnostics()
	if want := math.Sqrt(g2); math.Abs(d.GradNorm-want) > 1e-12 { // sqrt(0.25 + 1.69) = sqrt(1.94)
		t.Errorf("grad norm %v, want %v", d.GradNorm, want)
	}
	if want := math.Sqrt(u2); math.Abs(d.EffUpdateNorm-want) > 1e-12*want {
		t.Errorf("effective update norm %v, want %v", d.EffUpdateNorm, want)
	}
	if want := d.EffUpdateNorm / d.GradNorm; math.Abs(d.EffOverGrad-want) > 1e-15 {
		t.Errorf("eff/grad %v, want %v", d.EffOverGrad, want)
	}
	if d.DeltaNorm != 0 {
		t.Errorf("grad-only plasticity delta %v, want 0", d.DeltaNorm)
	}
}

// TestNonFiniteGradient: NaN/Inf -> error naming the parameter, weights and
// state untouched; --skip-nonfinite skips and counts.
func TestNonFiniteGradient(t *testing.T) {
	for _, name := range []string{NameNeuroPlastic, NameSGD, NameAdam, NameAdamW} {
		for _, bad := range []float64{math.NaN(), math.Inf(1)} {
			cfg := DefaultConfig()
			cfg.Name = name
			o, _ := New(cfg)
			clean, _ := New(cfg)
			fx := newFixture(9, testShapes, false)
			fx2 := newFixture(9, testShapes, false)
			rng := rand.New(rand.NewSource(1))
			fx.setGrads(rng, 0)
			before := fx.values()
			g := fx.ps[3].grad.Data().([]float32)
			keep := g[2]
			g[2] = float32(bad)
			err := o.Step(fx.vgs)
			var nf *NonFiniteError
			if err == nil || !errors.As(err, &nf) || !strings.Contains(err.Error(), "w3") || nf.Index != 2 {
				t.Fatalf("%s: error %v, want one naming w3 element 2", name, err)
			}
			after := fx.values()
			for i := range before {
				for j := range before[i] {
					if math.Float64bits(before[i][j]) != math.Float64bits(after[i][j]) {
						t.Fatalf("%s: weights changed by a failed step", name)
					}
				}
			}
			// The state is untouched: the next good step equals a fresh run.
			g[2] = keep
			for i := range fx2.ps {
				copy(fx2.ps[i].grad.Data().([]float32), fx.ps[i].grad.Data().([]float32))
			}
			if err := o.Step(fx.vgs); err != nil {
				t.Fatal(err)
			}
			if err := clean.Step(fx2.vgs); err != nil {
				t.Fatal(err)
			}
			a, b := fx.values(), fx2.values()
			for i := range a {
				for j := range a[i] {
					if a[i][j] != b[i][j] {
						t.Fatalf("%s: state was touched by the failed step", name)
					}
				}
			}
			// Skip option.
			cfg.SkipNonFinite = true
			o, _ = New(cfg)
			g[2] = float32(bad)
			before = fx.values()
			if err := o.Step(fx.vgs); err != nil {
				t.Fatalf("%s: skip: %v", name, err)
			}
			if d := o.EpochDiagnostics(); d.Skipped != 1 || d.Steps != 0 {
				t.Fatalf("%s: skip counted %d/%d", name, d.Skipped, d.Steps)
			}
			after = fx.values()
			for i := range before {
				for j := range before[i] {
					if before[i][j] != after[i][j] {
						t.Fatalf("%s: skipped step changed the weights", name)
					}
				}
			}
		}
	}
}

// TestGorgoniaNodes runs the optimizer on the nodes of a real graph: names
// come from the nodes, and a NaN input makes an error naming the weight.
func TestGorgoniaNodes(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("w1"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{0.1, -0.2, 0.3, 0.4, -0.5, 0.6}))))
	y := gorgonia.Must(gorgonia.Mul(x, w))
	cost := gorgonia.Must(gorgonia.Sum(y))
	if _, err := gorgonia.Grad(cost, w); err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	o, _ := New(DefaultConfig())
	before := append([]float64(nil), w.Value().Data().([]float64)...)
	if err := o.Step(gorgonia.NodesToValueGrads(gorgonia.Nodes{w})); err != nil {
		t.Fatal(err)
	}
	if after := w.Value().Data().([]float64); after[0] == before[0] {
		t.Fatal("the node's value did not change")
	}
	vm.Reset()
	xv := x.Value().Data().([]float64)
	xv[4] = math.NaN()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	err := o.Step(gorgonia.NodesToValueGrads(gorgonia.Nodes{w}))
	if err == nil || !strings.Contains(err.Error(), "w1") {
		t.Fatalf("error %v, want one naming w1", err)
	}
}

// TestConfigErrors: invalid options fail in New naming the flag.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		flag string
		mod  func(c *Config)
	}{
		{"--optimizer", func(c *Config) { c.Name = "rmsprop" }},
		{"--lr", func(c *Config) { c.LR = -1 }},
		{"--lr", func(c *Config) { c.LR = math.NaN() }},
		{"--weight-decay", func(c *Config) { c.WeightDecay = -0.1 }},
		{"--np-mode", func(c *Config) { c.NP.Mode = "rules" }},
		{"--np-min-alpha", func(c *Config) { c.NP.MinAlpha = 3 }},
		{"--np-warmup-epochs", func(c *Config) { c.NP.WarmupEpochs = -1 }},
		{"--np-trace-decay", func(c *Config) { c.NP.TraceDecay = 1 }},
		{"--np-lr-controller", func(c *Config) { c.NP.Controller = "local" }},
		{"--np-hybrid-base", func(c *Config) { c.NP.HybridBase = "lion" }},
		{"--np-modulation-target", func(c *Config) { c.NP.ModulationTarget = "x" }},
		{"--np-layer-scope", func(c *Config) { c.NP.LayerScope = "middle_blocks" }},
		{"--np-phase-scope", func(c *Config) { c.NP.PhaseScope = "always" }},
		{"--np-residual", func(c *Config) { c.NP.Residual = "bounded"; c.NP.HybridBase = BaseAdamW }},
		{"--np-orthogonal-norm", func(c *Config) { c.NP.OrthogonalNorm = "unit" }},
		{"--np-orthogonal-schedule", func(c *Config) { c.NP.OrthogonalSchedule = "step" }},
		{"--np-max-update-norm", func(c *Config) { c.NP.MaxUpdateNorm = 0 }},
		{"--momentum", func(c *Config) { c.Name = NameSGD; c.Momentum = 1.5 }},
		{"--beta2", func(c *Config) { c.Name = NameAdam; c.Beta2 = 1 }},
		{"--adam-eps", func(c *Config) { c.Name = NameAdamW; c.Eps = 0 }},
	} {
		cfg := DefaultConfig()
		tc.mod(&cfg)
		_, err := New(cfg)
		if got := badOption(err); "--"+got != tc.flag {
			t.Errorf("%s: error %v names option %q", tc.flag, err, got)
		}
	}
}

// TestStepShapeChecks: the parameter list must keep its length and sizes.
func TestStepShapeChecks(t *testing.T) {
	o, _ := New(DefaultConfig())
	fx := newFixture(1, [][]int{{3}, {2}}, true)
	if err := o.Step(fx.vgs); err != nil {
		t.Fatal(err)
	}
	if err := o.Step(fx.vgs[:1]); err == nil || !strings.Contains(err.Error(), "got 1 parameters") {
		t.Errorf("shorter list: %v", err)
	}
	fx2 := newFixture(1, [][]int{{3}, {5}}, true)
	if err := o.Step(fx2.vgs); err == nil || !strings.Contains(err.Error(), "w1") {
		t.Errorf("resized parameter: %v", err)
	}
}
