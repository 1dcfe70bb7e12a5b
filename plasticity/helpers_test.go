package plasticity

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/train"
)

// halfspace draws n points uniformly in [-1,1]^dim labelled by a random
// halfspace (the authors' Halfspace data), as train and test sets.
func halfspace(seed int64, n, dim int) (*data.Set, *data.Set) {
	rng := rand.New(rand.NewSource(seed))
	w := make([]float64, dim)
	for i := range w {
		w[i] = 2*rng.Float64() - 1
	}
	b := 0.1 * (2*rng.Float64() - 1)
	mk := func() *data.Set {
		s := &data.Set{Name: "halfspace-test", X: make([]float32, n*dim), Y: make([]int, n), N: n, Dim: dim, Classes: 2, Shape: []int{dim}}
		for i := 0; i < n; i++ {
			dot := b
			for j := 0; j < dim; j++ {
				x := 2*rng.Float64() - 1
				s.X[i*dim+j] = float32(x)
				dot += w[j] * x
			}
			if dot > 0 {
				s.Y[i] = 1
			}
		}
		return s
	}
	return mk(), mk()
}

// blobs draws m Gaussian clusters in dim dimensions (multi-class data).
func blobs(seed int64, n, dim, m int) *data.Set {
	rng := rand.New(rand.NewSource(seed))
	centers := make([]float64, m*dim)
	for i := range centers {
		centers[i] = rng.NormFloat64()
	}
	s := &data.Set{Name: "blobs-test", X: make([]float32, n*dim), Y: make([]int, n), N: n, Dim: dim, Classes: m, Shape: []int{dim}}
	for i := 0; i < n; i++ {
		c := rng.Intn(m)
		s.Y[i] = c
		for j := 0; j < dim; j++ {
			s.X[i*dim+j] = float32(centers[c*dim+j] + 0.7*rng.NormFloat64())
		}
	}
	return s
}

// lastForward returns the logits and firing codes of the trainer's last
// forward pass, in float64 whatever its engine's type, and whether the
// engine splits rows over a worker.
func lastForward(tr *Trainer) (logits []float64, codes []uint8, par bool) {
	switch e := tr.e.(type) {
	case *engine[float32]:
		return f64s(e.logits), e.codes, e.par != nil
	case *engine[float64]:
		return e.logits, e.codes, e.par != nil
	}
	panic(fmt.Sprintf("trainer engine %T", tr.e))
}

// eng32 is the float32 engine of a Trainer of additive rules.
func eng32(t testing.TB, tr *Trainer) *engine[float32] {
	t.Helper()
	e, ok := tr.e.(*engine[float32])
	if !ok {
		t.Fatalf("trainer engine %T, want *engine[float32]", tr.e)
	}
	return e
}

// lastEpochMetrics runs task through train.Run and returns the metrics of
// its last epoch.
func lastEpochMetrics(t testing.TB, task train.Task) map[string]float64 {
	t.Helper()
	var last map[string]float64
	if err := train.Run(context.Background(), task, train.Options{Hooks: []any{epochHook(func(s *train.State) error {
		last = s.EpochMetrics
		return nil
	})}}); err != nil {
		t.Fatal(err)
	}
	return last
}

// newMeta is NewMetaLearner, failing the test on an error and closed when
// the test ends.
func newMeta(t testing.TB, net *models.RNN, rs *RuleSet, cfg MetaConfig) *MetaLearner {
	t.Helper()
	ml, err := NewMetaLearner(net, rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ml.Close)
	return ml
}

// ruleParams are the parameter slices of rs's rules, in Rules order.
func ruleParams(rs *RuleSet) [][]float64 {
	var ps [][]float64
	for _, r := range rs.Rules() {
		ps = append(ps, r.Params()...)
	}
	return ps
}
