package optimizer

import (
	"math/rand"
	"sort"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
)

// mlpShapes are the parameter shapes of the paper's MLP 784-256-256-10.
var mlpShapes = [][]int{{784, 256}, {256}, {256, 256}, {256}, {256, 10}, {10}}

func mlpParams() []gorgonia.ValueGrad {
	rng := rand.New(rand.NewSource(1))
	vgs := make([]gorgonia.ValueGrad, len(mlpShapes))
	for i, s := range mlpShapes {
		vgs[i] = newTestParam32(rng, "p", s...)
	}
	return vgs
}

// BenchmarkNeuroPlasticVsAdam alternates one NeuroPlastic and one Adam step
// on the MLP shapes (float32) so that both see the same machine load, and
// reports the medians per step and their ratio.
//
//	go test ./optimizer/ -run '^$' -bench VsAdam -benchtime 400x
func BenchmarkNeuroPlasticVsAdam(b *testing.B) {
	adamCfg := DefaultConfig()
	adamCfg.Name, adamCfg.LR = NameAdam, 1e-3
	np, _ := New(DefaultConfig())
	adam, _ := New(adamCfg)
	pn, pa := mlpParams(), mlpParams()
	for i := 0; i < 3; i++ {
		_ = np.Step(pn)
		_ = adam.Step(pa)
	}
	tn := make([]float64, 0, b.N)
	ta := make([]float64, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := np.Step(pn); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := adam.Step(pa); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		tn = append(tn, float64(t1.Sub(t0)))
		ta = append(ta, float64(t2.Sub(t1)))
	}
	b.StopTimer()
	sort.Float64s(tn)
	sort.Float64s(ta)
	mn, ma := tn[len(tn)/2], ta[len(ta)/2]
	b.ReportMetric(mn, "np-ns/step")
	b.ReportMetric(ma, "adam-ns/step")
	b.ReportMetric(mn/ma, "np/adam")
}

func benchStep(b *testing.B, cfg Config) {
	rng := rand.New(rand.NewSource(1))
	ps := make([]*testParam, len(mlpShapes))
	vgs := make([]gorgonia.ValueGrad, len(mlpShapes))
	for i, s := range mlpShapes {
		ps[i] = newTestParam32(rng, "p", s...)
		vgs[i] = ps[i]
	}
	o, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 3; i++ { // warm-up: allocate state
		if err := o.Step(vgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := o.Step(vgs); err != nil {
			b.Fatal(err)
		}
	}
}

// go test ./optimizer/ -run '^$' -bench 'Step' -benchtime 200x -count 3
func BenchmarkNeuroPlasticStep(b *testing.B) { benchStep(b, DefaultConfig()) }

func BenchmarkNeuroPlasticGradOnlyStep(b *testing.B) {
	cfg := DefaultConfig()
	cfg.NP.Mode = ModeGradOnly
	benchStep(b, cfg)
}

func BenchmarkAdamStep(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Name = NameAdam
	cfg.LR = 1e-3
	benchStep(b, cfg)
}

func BenchmarkSGDStep(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Name = NameSGD
	benchStep(b, cfg)
}
