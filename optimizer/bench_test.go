package optimizer

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
)

// mlpShapes are the parameter shapes of the paper's MLP 784-256-256-10.
var mlpShapes = [][]int{{784, 256}, {256}, {256, 256}, {256}, {256, 10}, {10}}

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
