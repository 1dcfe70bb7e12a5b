//go:build amd64 && !noasm

package optimizer

import (
	"math"
	"math/rand"
	"testing"
)

// oddShapes have lengths around the vector widths (8, 16), the unrolled
// gradient-sum loop (64) and the block flushes (256, 512, 1024), so every
// kernel runs its flushes and leaves tails of every size to the Go code.
var oddShapes = [][]int{{1}, {7}, {15}, {16}, {17}, {63}, {65}, {255}, {511}, {513}, {1023}, {1025}, {37, 61}, {3}}

type kernelPath struct {
	name         string
	avx512, avx2 bool
}

// kernelPaths are the float32 paths this machine can run.
func kernelPaths() []kernelPath {
	ps := []kernelPath{{"go", false, false}}
	if haveAVX2 {
		ps = append(ps, kernelPath{"avx2", false, true})
	}
	if haveAVX512 && haveAVX2 {
		ps = append(ps, kernelPath{"avx512", true, true})
	}
	return ps
}

func withPath(p kernelPath, f func()) {
	a512, a2 := haveAVX512, haveAVX2
	haveAVX512, haveAVX2 = p.avx512, p.avx2
	defer func() { haveAVX512, haveAVX2 = a512, a2 }()
	f()
}

// pathRun is the outcome of a few steps on oddShapes along one path.
type pathRun struct {
	params [][]float64
	state  [][]float32 // a, m, v (NeuroPlastic) or m, v (Adam) of every tensor
	diag   Diagnostics
}

func runPath(t *testing.T, p kernelPath, cfg Config) pathRun {
	var r pathRun
	withPath(p, func() {
		opt, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fx := newFixture(11, oddShapes, false)
		rng := rand.New(rand.NewSource(12))
		for k := 0; k < 4; k++ {
			opt.SetEpoch(k + 1)
			fx.setGrads(rng, k)
			if err := opt.Step(fx.vgs); err != nil {
				t.Fatal(err)
			}
		}
		r.params = fx.values()
		switch o := opt.(type) {
		case *NeuroPlastic:
			for _, s := range o.slots {
				r.state = append(r.state, s.t32.a, s.t32.m, s.t32.v)
			}
		case *Baseline:
			for _, s := range o.slots {
				r.state = append(r.state, s.t32.m, s.t32.v)
			}
		}
		r.diag = opt.EpochDiagnostics()
	})
	return r
}

// TestKernelPathsAgree: the AVX-512, AVX2 and Go paths give bit-identical
// traces and moments (same element operations) and parameters that differ
// only through the rounding order of the sums behind the per-tensor scalars
// (bit-identical for Adam, whose sums feed nothing back), on lengths that
// exercise every tail.
func TestKernelPathsAgree(t *testing.T) {
	paths := kernelPaths()
	if len(paths) < 2 {
		t.Skip("no vector kernels on this machine")
	}
	type tc struct {
		name  string
		cfg   func(*Config)
		exact bool
	}
	cases := []tc{
		{"neuroplastic", func(c *Config) {}, false},
		{"neuroplastic_scale2", func(c *Config) { c.NP.PlasticityScale = 2; c.LR = 0.1 }, false},
		{"grad_only", func(c *Config) { c.NP.Mode = ModeGradOnly }, false},
		{"adam", func(c *Config) { c.Name = NameAdam; c.LR = 1e-3 }, true},
		{"adam_l2", func(c *Config) { c.Name = NameAdam; c.LR = 1e-3; c.WeightDecay = 0.05 }, true},
		{"adamw", func(c *Config) { c.Name = NameAdamW; c.LR = 1e-3; c.WeightDecay = 0.05 }, true},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.cfg(&cfg)
		want := runPath(t, paths[0], cfg)
		for _, p := range paths[1:] {
			got := runPath(t, p, cfg)
			for i := range want.state {
				for j := range want.state[i] {
					if math.Float32bits(got.state[i][j]) != math.Float32bits(want.state[i][j]) {
						t.Fatalf("%s %s: state %d[%d] = %v, go path %v", c.name, p.name, i, j, got.state[i][j], want.state[i][j])
					}
				}
			}
			for i := range want.params {
				for j, w := range want.params[i] {
					g := got.params[i][j]
					// updates are at most 1.5*lr in size (clip 1, gain 1.5): a
					// last-bit change of a per-tensor scalar moves p by far less
					// than 1e-6*lr, a wrong coefficient by far more.
					tol := 0.0
					if !c.exact {
						tol = 1e-6*math.Abs(w) + 1e-6*cfg.LR
					}
					if math.Abs(g-w) > tol || math.IsNaN(g) {
						t.Fatalf("%s %s: param %d[%d] = %.9g, go path %.9g", c.name, p.name, i, j, g, w)
					}
				}
			}
			d, e := got.diag, want.diag
			rel := func(name string, x, y, tol float64) {
				if math.Abs(x-y) > tol*math.Max(1e-12, math.Abs(y)) {
					t.Errorf("%s %s: %s %.9g, go path %.9g", c.name, p.name, name, x, y)
				}
			}
			rel("grad norm", d.GradNorm, e.GradNorm, 1e-6)
			rel("param norm", d.ParamNorm, e.ParamNorm, 1e-6)
			rel("update norm", d.EffUpdateNorm, e.EffUpdateNorm, 1e-5)
			rel("raw norm", d.RawUpdateNorm, e.RawUpdateNorm, 1e-5)
			rel("delta norm", d.DeltaNorm, e.DeltaNorm, 1e-4)
			rel("alpha mean", d.AlphaMean, e.AlphaMean, 1e-6)
			rel("alpha std", d.AlphaStd, e.AlphaStd, 1e-4)
			rel("alpha min", d.AlphaMin, e.AlphaMin, 1e-5)
			rel("alpha max", d.AlphaMax, e.AlphaMax, 1e-5)
			// one coefficient of the ~24000 on the other side of a bound
			// (a last-bit change of its scalars) moves the fraction by 4e-5
			if math.Abs(d.AlphaNearBound-e.AlphaNearBound) > 1e-4 || math.Abs(d.AlphaMedian-e.AlphaMedian) > 1e-3 {
				t.Errorf("%s %s: alpha near/median %v %v, go path %v %v", c.name, p.name,
					d.AlphaNearBound, d.AlphaMedian, e.AlphaNearBound, e.AlphaMedian)
			}
		}
	}
}
