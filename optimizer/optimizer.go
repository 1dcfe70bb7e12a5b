package optimizer

import (
	"fmt"
	"io"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Optimizer is what the trainer uses: a gorgonia.Solver with a learning rate,
// the epoch clock, per-epoch diagnostics and exact state save/load.
type Optimizer interface {
	gorgonia.Solver
	// Name is the --optimizer value: neuroplastic, sgd, adam or adamw.
	Name() string
	SetLR(lr float64)
	LR() float64
	// SetEpoch sets the current epoch, counted from 1 (warm-up gate, phase
	// scopes, schedules). SetTotalEpochs sets the planned number of epochs.
	SetEpoch(epoch int)
	SetTotalEpochs(total int)
	// Init allocates the state for these parameters (the first Step does it
	// otherwise); LoadState checks the saved shapes against it at once.
	Init(params []gorgonia.ValueGrad) error
	// EpochDiagnostics returns what was accumulated since the last call and
	// resets it; Diagnostics.Map gives the flat metrics.jsonl form.
	EpochDiagnostics() Diagnostics
	SaveState(w io.Writer) error
	LoadState(r io.Reader) error
}

// New builds the optimizer named by cfg.Name after validating every option.
func New(cfg Config) (Optimizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Name {
	case NameNeuroPlastic:
		return newNeuroPlastic(cfg), nil
	default:
		return newBaseline(cfg), nil
	}
}

const eps = 1e-8

// param is one parameter tensor as seen by a solver: its name, shape and the
// backing slices of value and gradient for the current step.
type param struct {
	name  string
	shape []int
	dtype tensor.Dtype
	n     int
	p32   []float32
	g32   []float32
	p64   []float64
	g64   []float64
}

type f32er interface{ Float32s() []float32 }
type f64er interface{ Float64s() []float64 }

func paramName(vg gorgonia.ValueGrad, i int) string {
	if nm, ok := vg.(gorgonia.Namer); ok {
		if s := nm.Name(); s != "" {
			return s
		}
	}
	return fmt.Sprintf("param[%d]", i)
}

// binder maps the ValueGrads of a Step to the backing slices, checking that
// the list keeps its length, dtypes and sizes from step to step.
type binder struct {
	params []param
}

func (b *binder) bound() bool { return b.params != nil }

// describe records names, dtypes and shapes of the parameters (first use).
func (b *binder) describe(vgs []gorgonia.ValueGrad) error {
	if len(vgs) == 0 {
		return fmt.Errorf("optimizer: no parameters")
	}
	ps := make([]param, len(vgs))
	for i, vg := range vgs {
		v := vg.Value()
		name := paramName(vg, i)
		if v == nil {
			return fmt.Errorf("optimizer: parameter %s has no value", name)
		}
		dt := v.Dtype()
		if dt != tensor.Float32 && dt != tensor.Float64 {
			return fmt.Errorf("optimizer: parameter %s has dtype %v, want float32 or float64", name, dt)
		}
		shape := append([]int(nil), v.Shape()...)
		ps[i] = param{name: name, shape: shape, dtype: dt, n: v.Shape().TotalSize()}
		if len(shape) == 0 {
			ps[i].n = 1
		}
	}
	b.params = ps
	return nil
}

// bind fetches the value and gradient slices for this step (no allocation).
func (b *binder) bind(vgs []gorgonia.ValueGrad) error {
	if !b.bound() {
		if err := b.describe(vgs); err != nil {
			return err
		}
	}
	if len(vgs) != len(b.params) {
		return fmt.Errorf("optimizer: got %d parameters, the optimizer state has %d (pass the same parameters in the same order every step)", len(vgs), len(b.params))
	}
	for i, vg := range vgs {
		pr := &b.params[i]
		v := vg.Value()
		if v == nil {
			return fmt.Errorf("optimizer: parameter %s has no value", pr.name)
		}
		g, err := vg.Grad()
		if err != nil {
			return fmt.Errorf("optimizer: parameter %s: %w", pr.name, err)
		}
		if g == nil {
			return fmt.Errorf("optimizer: parameter %s has no gradient", pr.name)
		}
		if v.Dtype() != pr.dtype || g.Dtype() != pr.dtype {
			return fmt.Errorf("optimizer: parameter %s: value dtype %v, gradient dtype %v, state dtype %v", pr.name, v.Dtype(), g.Dtype(), pr.dtype)
		}
		switch pr.dtype {
		case tensor.Float32:
			pv, ok1 := v.(f32er)
			gv, ok2 := g.(f32er)
			if !ok1 || !ok2 {
				return fmt.Errorf("optimizer: parameter %s: value %T / gradient %T is not a dense tensor", pr.name, v, g)
			}
			pr.p32, pr.g32 = pv.Float32s(), gv.Float32s()
			if len(pr.p32) != pr.n || len(pr.g32) != pr.n {
				return fmt.Errorf("optimizer: parameter %s: value has %d and gradient %d elements, want %d", pr.name, len(pr.p32), len(pr.g32), pr.n)
			}
		case tensor.Float64:
			pv, ok1 := v.(f64er)
			gv, ok2 := g.(f64er)
			if !ok1 || !ok2 {
				return fmt.Errorf("optimizer: parameter %s: value %T / gradient %T is not a dense tensor", pr.name, v, g)
			}
			pr.p64, pr.g64 = pv.Float64s(), gv.Float64s()
			if len(pr.p64) != pr.n || len(pr.g64) != pr.n {
				return fmt.Errorf("optimizer: parameter %s: value has %d and gradient %d elements, want %d", pr.name, len(pr.p64), len(pr.g64), pr.n)
			}
		}
	}
	return nil
}

// NonFiniteError reports a NaN or Inf in a gradient; the step was not applied.
type NonFiniteError struct {
	Param string
	Index int // first offending element, -1 when the sum of squares overflowed
}

func (e *NonFiniteError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("optimizer: gradient of %s is too large (sum of squares overflows); step not applied, weights unchanged", e.Param)
	}
	return fmt.Sprintf("optimizer: gradient of %s has NaN or Inf at element %d; step not applied, weights unchanged", e.Param, e.Index)
}

// nonFinite builds the error for a parameter whose gradient sums were not
// finite, locating the first bad element.
func nonFinite(pr *param) error {
	idx := -1
	if pr.g32 != nil {
		for i, x := range pr.g32 {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				idx = i
				break
			}
		}
	} else {
		for i, x := range pr.g64 {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				idx = i
				break
			}
		}
	}
	return &NonFiniteError{Param: pr.name, Index: idx}
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

type float interface{ ~float32 | ~float64 }

func clampF(x, lo, hi float64) float64 { return min(max(x, lo), hi) }

// sumSq returns the sum of squares of g in float64 (unrolled to shorten the
// addition chains).
func sumSq[T float](g []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(g); i += 4 {
		x0, x1, x2, x3 := float64(g[i]), float64(g[i+1]), float64(g[i+2]), float64(g[i+3])
		s0 += x0 * x0
		s1 += x1 * x1
		s2 += x2 * x2
		s3 += x3 * x3
	}
	for ; i < len(g); i++ {
		x := float64(g[i])
		s0 += x * x
	}
	return (s0 + s1) + (s2 + s3)
}
