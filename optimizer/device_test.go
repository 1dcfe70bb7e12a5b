package optimizer

import (
	"bytes"
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/cuda/devtest"
)

// The device steps against the CPU optimizer (this package's Step, the one
// the trainer runs) from the same parameters and gradients: every
// NeuroPlastic case of npCases and SGD/Adam/AdamW, six steps at epochs 1,
// 2, 3, 5, 7, 9 of 10 (warm-up, phases and schedules move), a tensor of
// several chunks among them. Compared: each tensor's total parameter
// change and state buffers (normwise relative error <= 1e-4) and every
// diagnostic of the epoch.

var devShapes = [][]int{{4, 2, 3, 3}, {4}, {6, 4, 3, 3}, {6}, {66, 64}, {66}, {3, 66}, {3}}

// devRun is a device optimizer over a fixture's parameters.
type devRun struct {
	d       *Device
	p, g    *cuda.Array
	tensors []DeviceTensor
}

func flat(fx *fixture) []float32 {
	var out []float32
	for _, p := range fx.ps {
		out = append(out, p.val.Data().([]float32)...)
	}
	return out
}

func flatGrads(fx *fixture) []float32 {
	var out []float32
	for _, p := range fx.ps {
		out = append(out, p.grad.Data().([]float32)...)
	}
	return out
}

func newDevRun(t *testing.T, c *cuda.Context, host Optimizer, fx *fixture) *devRun {
	t.Helper()
	if err := host.Init(fx.vgs); err != nil {
		t.Fatal(err)
	}
	r := &devRun{}
	off := 0
	for _, p := range fx.ps {
		n := p.val.Shape().TotalSize()
		r.tensors = append(r.tensors, DeviceTensor{Name: p.name, Shape: append([]int(nil), p.val.Shape()...), Offset: off, N: n})
		off += n
	}
	var err error
	if r.p, err = cuda.Upload(c, flat(fx)); err != nil {
		t.Fatal(err)
	}
	if r.g, err = c.Alloc(off); err != nil {
		t.Fatal(err)
	}
	if r.d, err = NewDevice(c, host, r.p, r.g, r.tensors); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *devRun) free(c *cuda.Context) {
	r.d.Free()
	c.Free(r.p, r.g)
}

func (r *devRun) step(t *testing.T, c *cuda.Context, fx *fixture) error {
	t.Helper()
	if err := cuda.CopyIn(c, r.g, flatGrads(fx)); err != nil {
		t.Fatal(err)
	}
	return r.d.Step()
}

func relNorm(got, want []float64) float64 {
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(got[i]-want[i]))
		s = math.Max(s, math.Abs(want[i]))
	}
	if s == 0 {
		return d
	}
	return d / s
}

func f64s(x []float32) []float64 {
	o := make([]float64, len(x))
	for i, v := range x {
		o[i] = float64(v)
	}
	return o
}

// compareDevice steps cfg's optimizer on the CPU and on the device.
func compareDevice(t *testing.T, cfg Config) {
	c := devtest.Open(t)
	cpu, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	twin, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fx := newFixture(7, devShapes, false)
	p0 := fx.values()
	r := newDevRun(t, c, twin, fx)
	defer r.free(c)
	rng := rand.New(rand.NewSource(11))
	for _, o := range []Optimizer{cpu, twin} {
		o.SetTotalEpochs(10)
	}
	for k, e := range []int{1, 2, 3, 5, 7, 9} {
		cpu.SetEpoch(e)
		twin.SetEpoch(e)
		fx.setGrads(rng, k)
		if err := r.step(t, c, fx); err != nil {
			t.Fatal(err)
		}
		if err := cpu.Step(fx.vgs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cuda.Download[float32](c, r.p)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range r.tensors {
		dev := f64s(got[tt.Offset : tt.Offset+tt.N])
		want := fx.values()[i]
		for j := range dev {
			dev[j] -= p0[i][j]
			want[j] -= p0[i][j]
		}
		if e := relNorm(dev, want); !(e <= 1e-4) {
			t.Fatalf("%s: parameter change off by %.3g (relative)", tt.Name, e)
		}
	}
	// State: the CPU optimizer's buffers against the device's, downloaded
	// into the twin.
	if err := r.d.DownloadState(); err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := cpu.SaveState(&a); err != nil {
		t.Fatal(err)
	}
	if err := twin.SaveState(&b); err != nil {
		t.Fatal(err)
	}
	sa, _ := readState(&a)
	sb, _ := readState(&b)
	for i := range sa.params {
		if sa.params[i].step != sb.params[i].step {
			t.Fatalf("tensor %d: %d steps on the CPU, %d on the device", i, sa.params[i].step, sb.params[i].step)
		}
		for k := range sa.params[i].bufs {
			x, y := make([]float32, len(sa.params[i].bufs[k])/4), make([]float32, len(sa.params[i].bufs[k])/4)
			getBuf32(x, sa.params[i].bufs[k])
			getBuf32(y, sb.params[i].bufs[k])
			if e := relNorm(f64s(y), f64s(x)); !(e <= 1e-4) {
				t.Fatalf("tensor %d state buffer %d off by %.3g", i, k, e)
			}
		}
	}
	// Diagnostics of the epoch.
	dd, err := r.d.EpochDiagnostics()
	if err != nil {
		t.Fatal(err)
	}
	cd := cpu.EpochDiagnostics()
	dm, cm := dd.Map(), cd.Map()
	if len(dm) != len(cm) {
		t.Fatalf("diagnostics keys: device %v, cpu %v", dm, cm)
	}
	for k, want := range cm {
		tol := 1e-3 * math.Max(math.Abs(want), 1e-6)
		switch k {
		case "opt_alpha_median": // from a histogram: within a bin
			tol = (cfg.NP.MaxAlpha - cfg.NP.MinAlpha) / histBins
		case "opt_alpha_std": // sqrt(E[a^2] - E[a]^2): float32 sums leave ~1e-4 when alpha is constant
			tol = 1e-3
		case "opt_delta_norm": // ||(alpha-1) g||: at alpha ~ 1 (scalar mode) float32 rounding of alpha dominates
			tol += 1e-6 * cm["opt_grad_norm"]
		case "opt_orth_cos_o_g": // 0 up to rounding (o is orthogonal to g)
			tol = 1e-6
		}
		if gotv, ok := dm[k]; !ok || math.Abs(gotv-want) > tol {
			t.Errorf("%s: device %v, cpu %v", k, dm[k], want)
		}
	}
}

func TestDeviceNeuroPlasticMatchesCPU(t *testing.T) {
	for _, tc := range npCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mod(&cfg)
			compareDevice(t, cfg)
		})
	}
}

func TestDeviceBaselinesMatchCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(c *Config)
	}{
		{"sgd", func(c *Config) { c.Name, c.LR, c.WeightDecay = NameSGD, 0.1, 5e-4 }},
		{"sgd_plain", func(c *Config) { c.Name, c.LR, c.Momentum = NameSGD, 0.05, 0 }},
		{"adam", func(c *Config) { c.Name, c.LR, c.WeightDecay = NameAdam, 1e-3, 0.01 }},
		{"adamw", func(c *Config) { c.Name, c.LR, c.WeightDecay = NameAdamW, 1e-3, 0.05 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mod(&cfg)
			compareDevice(t, cfg)
		})
	}
}

// A NaN or Inf gradient stops the device step before anything is written,
// with an error naming the tensor and element; --skip-nonfinite skips and
// counts it. No step allocates device memory.
func TestDeviceNonFiniteAndNoAlloc(t *testing.T) {
	c := devtest.Open(t)
	for _, name := range []string{NameNeuroPlastic, NameSGD, NameAdam} {
		for _, skip := range []bool{false, true} {
			cfg := DefaultConfig()
			cfg.Name, cfg.SkipNonFinite = name, skip
			host, _ := New(cfg)
			fx := newFixture(3, devShapes, false)
			r := newDevRun(t, c, host, fx)
			rng := rand.New(rand.NewSource(1))
			fx.setGrads(rng, 0)
			if err := r.step(t, c, fx); err != nil {
				t.Fatal(err)
			}
			before, _ := cuda.Download[float32](c, r.p)
			allocs := c.PoolStats().DriverAllocs
			fx.ps[4].grad.Data().([]float32)[4200] = float32(math.Inf(-1))
			err := r.step(t, c, fx)
			var nf *NonFiniteError
			switch {
			case skip && err != nil:
				t.Fatalf("%s skip: %v", name, err)
			case !skip && (!errors.As(err, &nf) || nf.Param != "w4" || nf.Index != 4200 || !strings.Contains(err.Error(), "w4")):
				t.Fatalf("%s: got %v", name, err)
			}
			after, _ := cuda.Download[float32](c, r.p)
			for i := range after {
				if after[i] != before[i] {
					t.Fatalf("%s: parameter %d changed by a non-finite step", name, i)
				}
			}
			if skip {
				d, err := r.d.EpochDiagnostics()
				if err != nil || d.Skipped != 1 || d.Steps != 1 {
					t.Fatalf("%s: diagnostics %+v (%v)", name, d, err)
				}
			}
			if c.PoolStats().DriverAllocs != allocs {
				t.Fatalf("%s: a step allocated device memory", name)
			}
			r.free(c)
		}
	}
}

// Checkpoint round trip: device state -> host state file -> a new host
// optimizer -> a new device optimizer continues exactly like the first.
func TestDeviceStateRoundTrip(t *testing.T) {
	c := devtest.Open(t)
	cfg := DefaultConfig()
	cfg.NP.HybridBase = BaseAdamW
	host, _ := New(cfg)
	fx := newFixture(5, devShapes, false)
	r := newDevRun(t, c, host, fx)
	defer r.free(c)
	rng := rand.New(rand.NewSource(2))
	for k := 0; k < 3; k++ {
		fx.setGrads(rng, k)
		if err := r.step(t, c, fx); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.d.DownloadState(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := host.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	host2, _ := New(cfg)
	if err := host2.LoadState(&buf); err != nil {
		t.Fatal(err)
	}
	p, _ := cuda.Download[float32](c, r.p)
	fx2 := newFixture(5, devShapes, false)
	r2 := newDevRun(t, c, host2, fx2)
	defer r2.free(c)
	if err := cuda.CopyIn(c, r2.p, p); err != nil {
		t.Fatal(err)
	}
	fx.setGrads(rng, 3)
	for i := range fx.ps {
		copy(fx2.ps[i].grad.Data().([]float32), fx.ps[i].grad.Data().([]float32))
	}
	if err := r.step(t, c, fx); err != nil {
		t.Fatal(err)
	}
	if err := r2.step(t, c, fx2); err != nil {
		t.Fatal(err)
	}
	a, _ := cuda.Download[float32](c, r.p)
	b, _ := cuda.Download[float32](c, r2.p)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("element %d: %v after the round trip, %v without", i, b[i], a[i])
		}
	}
}
