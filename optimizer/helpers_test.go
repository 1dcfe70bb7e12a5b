package optimizer

import (
	"errors"

	paramerr "github.com/plasticity-lab/plastic/internal/param"
	"math/rand"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// testParam is a ValueGrad with a name, as the trainer's nodes are.
type testParam struct {
	name string
	val  *tensor.Dense
	grad *tensor.Dense
}

func (p *testParam) Value() gorgonia.Value         { return p.val }
func (p *testParam) Grad() (gorgonia.Value, error) { return p.grad, nil }
func (p *testParam) Name() string                  { return p.name }

func newTestParam32(rng *rand.Rand, name string, shape ...int) *testParam {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	g := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * 0.1)
		g[i] = float32(rng.NormFloat64() * 0.01)
	}
	return &testParam{name: name,
		val:  tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)),
		grad: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(g))}
}

func newTestParam64(rng *rand.Rand, name string, shape ...int) *testParam {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	g := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * 0.1
		g[i] = rng.NormFloat64() * 0.01
	}
	return &testParam{name: name,
		val:  tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)),
		grad: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(g))}
}

// newNP is New for NeuroPlastic whatever cfg.Name says.
func newNP(cfg Config) (*NeuroPlastic, error) {
	cfg.Name = NameNeuroPlastic
	o, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return o.(*NeuroPlastic), nil
}

// badOption is the option a Validate error names ("" for none).
func badOption(err error) string {
	var pe *paramerr.Error
	if !errors.As(err, &pe) {
		return ""
	}
	return pe.Name
}
