package optimizer

import (
	"math"
	"math/rand"
	"testing"
)

// largeShapes have tensors over 256 elements and sizes that are not
// multiples of 8, so the vector kernels run their block flushes and leave
// tails to the Go code.
var largeShapes = [][]int{{40, 33}, {33}, {33, 10}, {10}, {7, 3, 3, 3}, {7}}

// TestFloat32KernelsLarge: float32 runs (vector kernels where available)
// against the float64 references on large tensors.
func TestFloat32KernelsLarge(t *testing.T) {
	for _, tc := range npCases()[:8] {
		cfg := DefaultConfig()
		tc.mod(&cfg)
		opt, _ := New(cfg)
		fx := newFixture(21, largeShapes, false)
		ref := newRefNP(cfg, largeShapes)
		refP := fx.values()
		rng := rand.New(rand.NewSource(4))
		for k := 0; k < 4; k++ {
			opt.SetEpoch(k + 1)
			ref.epoch = k + 1
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
					tol := 2e-7*math.Abs(refP[i][j]) + 2e-4*maxUpd + 1e-12
					if d := math.Abs(got[i][j] - refP[i][j]); d > tol || math.IsNaN(got[i][j]) {
						t.Fatalf("%s step %d param %d[%d]: got %.9g want %.9g", tc.name, k+1, i, j, got[i][j], refP[i][j])
					}
				}
				copy(refP[i], got[i])
			}
		}
	}
	for _, name := range []string{NameSGD, NameAdam, NameAdamW} {
		for _, wd := range []float64{0, 0.05} {
			cfg := DefaultConfig()
			cfg.Name, cfg.WeightDecay, cfg.LR = name, wd, 0.01
			o, _ := New(cfg)
			fx := newFixture(3, largeShapes, false)
			ref := &refBaseline{cfg: cfg}
			refP := fx.values()
			rng := rand.New(rand.NewSource(5))
			for k := 0; k < 4; k++ {
				fx.setGrads(rng, k)
				ref.stepAll(refP, fx.grads())
				if err := o.Step(fx.vgs); err != nil {
					t.Fatal(err)
				}
				got := fx.values()
				for i := range got {
					for j := range got[i] {
						if !near(got[i][j], refP[i][j], 1e-6*math.Max(1, math.Abs(refP[i][j]))) {
							t.Fatalf("%s wd=%v step %d param %d[%d]: %.9g want %.9g", name, wd, k+1, i, j, got[i][j], refP[i][j])
						}
					}
					copy(refP[i], got[i])
				}
			}
		}
	}
}

// TestFloat32Diagnostics: the diagnostics of a float32 run (vector kernels)
// agree with those of the same run in float64 (Go code).
func TestFloat32Diagnostics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NP.PlasticityScale = 2
	o32, _ := New(cfg)
	o64, _ := New(cfg)
	f32 := newFixture(6, largeShapes, false)
	f64 := newFixture(6, largeShapes, true)
	for i := range f32.ps { // same starting point
		v := f64.ps[i].val.Data().([]float64)
		for j, x := range f32.ps[i].val.Data().([]float32) {
			v[j] = float64(x)
		}
	}
	rng := rand.New(rand.NewSource(8))
	for k := 0; k < 3; k++ {
		f32.setGrads(rng, k)
		for i := range f32.ps {
			g := f64.ps[i].grad.Data().([]float64)
			for j, x := range f32.ps[i].grad.Data().([]float32) {
				g[j] = float64(x)
			}
		}
		if err := o32.Step(f32.vgs); err != nil {
			t.Fatal(err)
		}
		if err := o64.Step(f64.vgs); err != nil {
			t.Fatal(err)
		}
	}
	a, b := o32.EpochDiagnostics(), o64.EpochDiagnostics()
	rel := func(name string, x, y, tol float64) {
		if math.Abs(x-y) > tol*math.Max(1e-12, math.Abs(y)) {
			t.Errorf("%s: float32 %.9g, float64 %.9g", name, x, y)
		}
	}
	rel("alpha mean", a.AlphaMean, b.AlphaMean, 1e-5)
	rel("alpha std", a.AlphaStd, b.AlphaStd, 1e-4)
	rel("alpha min", a.AlphaMin, b.AlphaMin, 1e-4)
	rel("alpha max", a.AlphaMax, b.AlphaMax, 1e-4)
	rel("grad norm", a.GradNorm, b.GradNorm, 1e-6)
	rel("param norm", a.ParamNorm, b.ParamNorm, 1e-6)
	rel("raw update norm", a.RawUpdateNorm, b.RawUpdateNorm, 1e-5)
	rel("effective update norm", a.EffUpdateNorm, b.EffUpdateNorm, 1e-5)
	rel("delta norm", a.DeltaNorm, b.DeltaNorm, 1e-4)
	if math.Abs(a.AlphaNearBound-b.AlphaNearBound) > 1e-3 || math.Abs(a.AlphaMedian-b.AlphaMedian) > 1e-3 {
		t.Errorf("near %v/%v median %v/%v", a.AlphaNearBound, b.AlphaNearBound, a.AlphaMedian, b.AlphaMedian)
	}
	if a.AlphaNearBound == 0 || a.AlphaMedian <= cfg.NP.MinAlpha || a.AlphaMedian >= cfg.NP.MaxAlpha {
		t.Errorf("implausible: near %v median %v", a.AlphaNearBound, a.AlphaMedian)
	}
}
