package report

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// fabricate writes a run folder root/id with the given flags, seed, one
// metrics line per test accuracy, and status from err.
func fabricate(t *testing.T, root, id string, flags map[string]any, seed int64, accs []float64, err error) {
	t.Helper()
	r, cerr := run.Create(root, run.Manifest{ID: id, Command: "train", Flags: flags, Seed: seed})
	if cerr != nil {
		t.Fatal(cerr)
	}
	for i, a := range accs {
		if err := r.AppendMetrics(map[string]float64{"epoch": float64(i + 1), "test_accuracy": a, "test_loss": 1 - a}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Finish(err); err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestFindGroupAndStats(t *testing.T) {
	root := t.TempDir()
	np := map[string]any{"optimizer": "neuroplastic", "lr": 0.1, "train-fraction": 1.0, "dataset": "mnist", "model": "mlp", "np-mode": "rule_based"}
	go1 := map[string]any{"optimizer": "neuroplastic", "lr": 0.1, "train-fraction": 1.0, "dataset": "mnist", "model": "mlp", "np-mode": "ablation_grad_only"}
	fabricate(t, root, "b-s2", np, 2, []float64{0.5, 0.8, 0.7}, nil)
	fabricate(t, root, "a-s1", np, 1, []float64{0.4, 0.6, 0.9}, nil)
	fabricate(t, root, "c-s1", go1, 1, []float64{0.3, 0.5}, nil)
	fabricate(t, root, "d-s2", go1, 2, []float64{0.2}, errors.New("boom"))
	runs, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 || runs[0].ID != "a-s1" {
		t.Fatalf("runs %d, first %s", len(runs), runs[0].ID)
	}
	if runs[2].Arm != "neuroplastic-grad-only" || runs[0].Arm != "neuroplastic" {
		t.Errorf("arms %q %q", runs[0].Arm, runs[2].Arm)
	}
	gs := GroupRuns(runs)
	if len(gs) != 2 || len(gs[0].Runs) != 2 || gs[0].Runs[0].Seed != 1 {
		t.Fatalf("groups %+v", gs)
	}
	// Final 0.9 and 0.7: mean 0.8, sample std sqrt(0.02) = 0.141421...
	f := gs[0].Final()
	if f.N != 2 || !near(f.Mean, 0.8) || !near(f.Std, math.Sqrt(0.02)) {
		t.Errorf("final %+v", f)
	}
	// Best 0.9 and 0.8.
	if b := gs[0].Best(); !near(b.Mean, 0.85) || !near(b.Std, math.Sqrt(0.005)) {
		t.Errorf("best %+v", b)
	}
	// The failed grad-only run counts in curves but not in final stats.
	if f := gs[1].Final(); f.N != 1 || !near(f.Mean, 0.5) || f.Std != 0 {
		t.Errorf("grad-only final %+v", f)
	}
	c := gs[1].Curve("test_accuracy")
	if len(c.Epoch) != 2 || c.Stat[0].N != 2 || !near(c.Stat[0].Mean, 0.25) || c.Stat[1].N != 1 {
		t.Errorf("curve %+v", c)
	}
	if c := gs[0].Curve("opt_alpha_mean"); len(c.Epoch) != 0 {
		t.Errorf("curve of an absent metric: %+v", c)
	}
}

func TestSweepLabelsNameArmsAndOrder(t *testing.T) {
	root := t.TempDir()
	flags := map[string]any{"optimizer": "adam", "lr": 0.001}
	fabricate(t, root, "z-s1", flags, 1, []float64{0.5}, nil)
	fabricate(t, root, "a-s1", flags, 1, []float64{0.6}, nil)
	os.WriteFile(filepath.Join(root, LabelsFile), []byte(`{"cells":[{"id":"z-s1","arm":"zed"},{"id":"a-s1","arm":"ay"}]}`), 0o644)
	runs, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if runs[0].ID != "z-s1" || runs[0].Arm != "zed" || runs[1].Arm != "ay" || runs[1].Fraction != 1 {
		t.Errorf("runs %+v", runs)
	}
}

func TestStatOf(t *testing.T) {
	s := StatOf([]float64{1, 2, 3, 4, math.NaN()})
	if s.N != 4 || !near(s.Mean, 2.5) || !near(s.Std, math.Sqrt(5.0/3)) {
		t.Errorf("%+v", s)
	}
	if s := StatOf(nil); s.N != 0 || !math.IsNaN(s.Mean) {
		t.Errorf("%+v", s)
	}
}

func TestFindErrors(t *testing.T) {
	if _, err := Find(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing folder: %v", err)
	}
	empty := t.TempDir()
	if _, err := Find(empty); err == nil || !strings.Contains(err.Error(), "no run folders") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := Find(); err == nil {
		t.Error("no paths: no error")
	}
	// A diverged run reads back as failed with its error.
	root := t.TempDir()
	fabricate(t, root, "x", map[string]any{"optimizer": "sgd"}, 1, []float64{0.1}, train.ErrDiverged)
	runs, err := Find(root)
	if err != nil || runs[0].Done() || !strings.Contains(runs[0].Error, "diverged") {
		t.Errorf("%v %+v", err, runs)
	}
}

func TestRunsWithoutLRGroupTogether(t *testing.T) {
	root := t.TempDir()
	fabricate(t, root, "a", map[string]any{"optimizer": "sgd"}, 1, []float64{0.5}, nil)
	fabricate(t, root, "b", map[string]any{"optimizer": "sgd"}, 2, []float64{0.7}, nil)
	runs, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	gs := GroupRuns(runs)
	if len(gs) != 1 || gs[0].LR != 0 || !near(gs[0].Final().Mean, 0.6) {
		t.Errorf("groups %+v", gs)
	}
}
