package optimizer

import (
	"bytes"
	"math"
	"math/rand"
	"strings"
	"testing"
)

func stateConfigs() map[string]Config {
	out := map[string]Config{}
	add := func(name string, mod func(c *Config)) {
		c := DefaultConfig()
		mod(&c)
		out[name] = c
	}
	add("np_default", func(c *Config) {})
	add("np_mnist_best", func(c *Config) { c.LR = 0.1; c.NP.WarmupEpochs = 2; c.NP.PlasticityScale = 2 })
	add("np_adamw_trust", func(c *Config) { c.NP.HybridBase = BaseAdamW; c.NP.ModulationTarget = TargetTrust })
	add("np_sgdm", func(c *Config) { c.NP.HybridBase = BaseSGDMomentum; c.WeightDecay = 0.01 })
	add("np_orth", func(c *Config) { c.NP.Residual = ResidualOrthogonal; c.NP.Controller = ControllerGlobal })
	add("sgd", func(c *Config) { c.Name = NameSGD; c.WeightDecay = 0.01 })
	add("adam", func(c *Config) { c.Name = NameAdam; c.LR = 1e-3 })
	add("adamw", func(c *Config) { c.Name = NameAdamW; c.LR = 1e-3; c.WeightDecay = 0.01 })
	return out
}

// TestStateRoundTrip: save after k steps, load into a fresh optimizer and
// continue: bit-identical to an uninterrupted run.
func TestStateRoundTrip(t *testing.T) {
	for name, cfg := range stateConfigs() {
		for _, f64 := range []bool{true, false} {
			const k, more = 3, 4
			full := newFixture(8, testShapes, f64)
			half := newFixture(8, testShapes, f64)
			o1, _ := New(cfg)
			o2, _ := New(cfg)
			o1.SetTotalEpochs(k + more)
			o2.SetTotalEpochs(k + more)
			rng1 := rand.New(rand.NewSource(2))
			rng2 := rand.New(rand.NewSource(2))
			var buf bytes.Buffer
			for s := 0; s < k; s++ {
				o1.SetEpoch(s + 1)
				o2.SetEpoch(s + 1)
				full.setGrads(rng1, s)
				half.setGrads(rng2, s)
				if err := o1.Step(full.vgs); err != nil {
					t.Fatal(err)
				}
				if err := o2.Step(half.vgs); err != nil {
					t.Fatal(err)
				}
			}
			if err := o2.SaveState(&buf); err != nil {
				t.Fatal(err)
			}
			cfg2 := cfg
			cfg2.LR = 123 // the state carries the learning rate and the epoch clock
			o3, _ := New(cfg2)
			if err := o3.LoadState(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if o3.LR() != cfg.LR {
				t.Fatalf("%s: lr %v after load, want %v", name, o3.LR(), cfg.LR)
			}
			for s := k; s < k+more; s++ {
				o1.SetEpoch(s + 1)
				o3.SetEpoch(s + 1)
				full.setGrads(rng1, s)
				half.setGrads(rng2, s)
				if err := o1.Step(full.vgs); err != nil {
					t.Fatal(err)
				}
				if err := o3.Step(half.vgs); err != nil {
					t.Fatal(err)
				}
			}
			a, b := full.values(), half.values()
			for i := range a {
				for j := range a[i] {
					if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
						t.Fatalf("%s f64=%v: param %d[%d] %v after resume, %v uninterrupted", name, f64, i, j, b[i][j], a[i][j])
					}
				}
			}
			// A second save of the resumed optimizer equals the uninterrupted one's.
			var s1, s3 bytes.Buffer
			_ = o1.SaveState(&s1)
			_ = o3.SaveState(&s3)
			if !bytes.Equal(s1.Bytes(), s3.Bytes()) {
				t.Fatalf("%s: state files differ after resume", name)
			}
		}
	}
}

// TestStateErrors: wrong optimizer, shapes, counts, truncation, garbage.
func TestStateErrors(t *testing.T) {
	cfg := DefaultConfig()
	o, _ := New(cfg)
	fx := newFixture(1, testShapes, true)
	if err := o.Step(fx.vgs); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := o.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()

	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", what, err, want)
		}
	}
	adam := DefaultConfig()
	adam.Name = NameAdam
	oa, _ := New(adam)
	check("other optimizer", oa.LoadState(bytes.NewReader(data)), `saved by "neuroplastic"`)

	shapes := append([][]int(nil), testShapes...)
	shapes[4] = []int{6, 5}
	o2, _ := New(cfg)
	_ = o2.Init(newFixture(1, shapes, true).vgs)
	check("shape", o2.LoadState(bytes.NewReader(data)), "shape [5 6] in the state, [6 5] in the model")

	o3, _ := New(cfg)
	_ = o3.Init(newFixture(1, testShapes[:6], true).vgs)
	check("count", o3.LoadState(bytes.NewReader(data)), "has 8 parameters, the model has 6")

	o4, _ := New(cfg)
	_ = o4.Init(newFixture(1, testShapes, false).vgs)
	check("dtype", o4.LoadState(bytes.NewReader(data)), "saved as float64")

	hyb := DefaultConfig()
	hyb.NP.HybridBase = BaseAdamW
	o5, _ := New(hyb)
	_ = o5.Init(fx.vgs)
	check("buffers", o5.LoadState(bytes.NewReader(data)), "buffers")

	o6, _ := New(cfg)
	check("truncated", o6.LoadState(bytes.NewReader(data[:len(data)-3])), "truncated")
	check("magic", o6.LoadState(strings.NewReader("hello world, not a state")), "bad magic")
	check("trailing", o6.LoadState(bytes.NewReader(append(append([]byte(nil), data...), 0))), "trailing")
	bad := append([]byte(nil), data...)
	bad[8] = 9
	check("version", o6.LoadState(bytes.NewReader(bad)), "version 9")

	// Loaded before the parameters are known: checked at the first Step.
	o7, _ := New(cfg)
	if err := o7.LoadState(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	check("deferred", o7.Step(newFixture(1, shapes, true).vgs), "shape")
}
