package optimizer

import (
	"bytes"
	"math/rand"
	"os"
	"testing"
)

// testdata/v1-*.state were written by SaveState in version 1, before the
// state moved to the container of internal/binfmt (commit 099ec6a), by
// steppedState: Adam on float32 and SGD on float64 parameters, 3 steps.

var compatCases = []struct {
	name, file string
	f64        bool
}{{NameAdam, "testdata/v1-adam-f32.state", false}, {NameSGD, "testdata/v1-sgd-f64.state", true}}

// steppedState returns an optimizer after 3 steps on a small fixture, and
// the fixture.
func steppedState(t *testing.T, name string, f64 bool, steps int) (Optimizer, *fixture) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name, cfg.LR = name, 0.01
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.SetTotalEpochs(5)
	fx := newFixture(3, [][]int{{3, 2}, {2}}, f64)
	rng := rand.New(rand.NewSource(4))
	for s := 0; s < steps; s++ {
		o.SetEpoch(s + 1)
		fx.setGrads(rng, s)
		if err := o.Step(fx.vgs); err != nil {
			t.Fatal(err)
		}
	}
	return o, fx
}

// TestReadsVersion1States: a version 1 state (as embedded in checkpoints
// written before) loads into the same state as the run that wrote it.
func TestReadsVersion1States(t *testing.T) {
	for _, c := range compatCases {
		old, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		ran, fx := steppedState(t, c.name, c.f64, 3)
		cfg := DefaultConfig()
		cfg.Name = c.name
		loaded, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := loaded.Init(fx.vgs); err != nil {
			t.Fatal(err)
		}
		if err := loaded.LoadState(bytes.NewReader(old)); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var a, b bytes.Buffer
		if err := ran.SaveState(&a); err != nil {
			t.Fatal(err)
		}
		if err := loaded.SaveState(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("%s: the loaded state differs from the run's", c.file)
		}
	}
}
