package optimizer

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// scalarRun steps a one-element float64 parameter p with constant gradient g.
func scalarRun(t *testing.T, cfg Config, p, g float64, steps int) []float64 {
	t.Helper()
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	val := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{p}))
	grad := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{g}))
	vgs := []gorgonia.ValueGrad{&testParam{name: "w", val: val, grad: grad}}
	var out []float64
	for i := 0; i < steps; i++ {
		if err := o.Step(vgs); err != nil {
			t.Fatal(err)
		}
		out = append(out, val.Data().([]float64)[0])
	}
	return out
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestBaselinesHandComputed: values worked out by hand from PyTorch's formulas.
func TestBaselinesHandComputed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name, cfg.LR = NameSGD, 0.1
	// buf = 0.5, 0.95, 1.355; p = 0.95, 0.855, 0.7195
	for i, want := range []float64{0.95, 0.855, 0.7195} {
		if got := scalarRun(t, cfg, 1, 0.5, 3)[i]; !near(got, want, 1e-15) {
			t.Errorf("SGD step %d: %v, want %v", i+1, got, want)
		}
	}
	cfg.WeightDecay = 0.1
	// g' = 0.6, buf 0.6, p 0.94; g' = 0.5+0.094 = 0.594, buf = 0.54+0.594 = 1.134, p = 0.8266
	for i, want := range []float64{0.94, 0.8266} {
		if got := scalarRun(t, cfg, 1, 0.5, 2)[i]; !near(got, want, 1e-15) {
			t.Errorf("SGD+wd step %d: %v, want %v", i+1, got, want)
		}
	}
	cfg = DefaultConfig()
	cfg.Name, cfg.LR = NameAdam, 0.1
	// m = 0.05, v = 0.00025, step size 0.1/0.1 = 1, denom = sqrt(0.00025)/sqrt(0.001) + 1e-8 = 0.5 + 1e-8
	if got, want := scalarRun(t, cfg, 1, 0.5, 1)[0], 1-0.05/(0.5+1e-8); !near(got, want, 1e-15) {
		t.Errorf("Adam step 1: %v, want %v", got, want)
	}
	// Step 2: m = 0.095, v = 0.00049975, bc1 = 0.19, bc2 = 0.001999.
	want2 := 1 - 0.05/(0.5+1e-8) - 0.1/0.19*0.095/(math.Sqrt(0.00049975)/math.Sqrt(0.001999)+1e-8)
	if got := scalarRun(t, cfg, 1, 0.5, 2)[1]; !near(got, want2, 1e-15) {
		t.Errorf("Adam step 2: %v, want %v", got, want2)
	}
	cfg.WeightDecay = 0.2 // coupled: g' = 0.5 + 0.2*1 = 0.7 -> m = 0.07, denom 0.7+1e-8
	if got, want := scalarRun(t, cfg, 1, 0.5, 1)[0], 1-0.07/(0.7+1e-8); !near(got, want, 1e-15) {
		t.Errorf("Adam+L2 step 1: %v, want %v", got, want)
	}
	cfg.Name = NameAdamW // decoupled: p = 1*(1 - 0.1*0.2) = 0.98, then the plain Adam step
	if got, want := scalarRun(t, cfg, 1, 0.5, 1)[0], 0.98-0.05/(0.5+1e-8); !near(got, want, 1e-15) {
		t.Errorf("AdamW step 1: %v, want %v", got, want)
	}
}

// TestBaselinesMatchReference: several steps on random tensors against the
// plain PyTorch formulas, float64 and float32, with and without decay.
func TestBaselinesMatchReference(t *testing.T) {
	for _, name := range []string{NameSGD, NameAdam, NameAdamW} {
		for _, wd := range []float64{0, 0.05} {
			for _, f64 := range []bool{true, false} {
				cfg := DefaultConfig()
				cfg.Name, cfg.WeightDecay, cfg.LR = name, wd, 0.01
				o, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				fx := newFixture(3, testShapes, f64)
				ref := &refBaseline{cfg: cfg}
				refP := fx.values()
				rng := rand.New(rand.NewSource(5))
				for k := 0; k < 6; k++ {
					fx.setGrads(rng, k)
					ref.stepAll(refP, fx.grads())
					if err := o.Step(fx.vgs); err != nil {
						t.Fatal(err)
					}
					got := fx.values()
					for i := range got {
						for j := range got[i] {
							tol := 1e-14 * math.Max(1, math.Abs(refP[i][j]))
							if !f64 {
								tol = 1e-6 * math.Max(1, math.Abs(refP[i][j]))
							}
							if !near(got[i][j], refP[i][j], tol) {
								t.Fatalf("%s wd=%v f64=%v step %d param %d[%d]: %.17g want %.17g", name, wd, f64, k+1, i, j, got[i][j], refP[i][j])
							}
						}
						if !f64 {
							copy(refP[i], got[i])
						}
					}
				}
				if d := o.EpochDiagnostics(); d.Steps != 6 || d.GradNorm <= 0 || d.EffUpdateNorm <= 0 {
					t.Errorf("%s diagnostics %+v", name, d)
				}
			}
		}
	}
}
