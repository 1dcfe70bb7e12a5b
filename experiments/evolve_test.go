package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/plasticity-lab/plastic/plots"
)

// TestRuleLoss checks the rule loss against hand values: a zero rule
// leaves U = 0, so every test point has logits (0, 0) and cross-entropy
// ln 2; the table coefficients [-s, s, s, -s] are the scale s.
func TestRuleLoss(t *testing.T) {
	cfg := EvolveConfig{Loss: "rule", Genes: 5, Eps: 0.02, Theta: 1, Generations: 1, RuleCoefs: "scale", Nodes: 20, Cap: 10, Rounds: 1, Examples: 200, Seed: 1}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	scale, err := newRuleLoss(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l0, err := scale.Loss([]float64{0})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l0-math.Ln2) > 1e-12 {
		t.Fatalf("L(0) = %v, want ln 2", l0)
	}
	if got := scale.ruleTable([]float64{0.5}); !reflect.DeepEqual(got, []float64{-0.5, 0.5, 0.5, -0.5}) {
		t.Fatalf("scale rule table %v, want [-0.5 0.5 0.5 -0.5]", got)
	}
	cfg.RuleCoefs = "table"
	table, err := newRuleLoss(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []float64{0.05, 0.3} {
		a, err := scale.Loss([]float64{s})
		if err != nil {
			t.Fatal(err)
		}
		b, err := table.Loss([]float64{-s, s, s, -s})
		if err != nil {
			t.Fatal(err)
		}
		if a != b || !(a > 0) {
			t.Fatalf("s=%v: scale loss %v, table loss %v", s, a, b)
		}
	}
	// A positive scale learns (below ln 2); the reversed rule unlearns.
	good, _ := scale.Loss([]float64{0.05})
	bad, _ := scale.Loss([]float64{-0.05})
	if !(good < math.Ln2 && bad > math.Ln2) {
		t.Fatalf("L(0.05) = %v, L(-0.05) = %v around L(0) = ln 2", good, bad)
	}
}

// TestEvolveQuadratic: on L(Y) = (Y - Y*)^2 GD on Y and the first-order
// step reach the minimum Y*, the exact recursion rests at Y* n/(n-1) (the
// predicted rest point in Final), the paper's (2-2x) step moves otherwise;
// trajectories.csv holds every generation from the start, and a metrics
// line comes per generation.
func TestEvolveQuadratic(t *testing.T) {
	dir := t.TempDir()
	var lines []map[string]float64
	env := Env{Dir: dir, Metrics: func(m map[string]float64) error { lines = append(lines, m); return nil }}
	cfg := DefaultEvolve()
	cfg.Genes, cfg.Eps, cfg.Theta, cfg.Generations = 10, 0.1, 0.5, 400
	cfg.Target, cfg.Start = []float64{0.5}, []float64{-0.4}
	res, err := Evolve(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Methods, []string{"recursion", "first_order", "paper_2_2x", "gd_y"}) {
		t.Fatalf("methods %v", res.Methods)
	}
	last := func(name string) float64 { return res.Final["y_"+name].([]float64)[0] }
	if y := last("gd_y"); math.Abs(y-0.5) > 1e-4 {
		t.Errorf("GD on Y ends at %v, want 0.5", y)
	}
	if y := last("first_order"); math.Abs(y-0.5) > 1e-3 {
		t.Errorf("first-order step ends at %v, want 0.5", y)
	}
	rest := 0.5 * 10 / 9
	if y := last("recursion"); math.Abs(y-rest) > 1e-3 {
		t.Errorf("recursion ends at %v, want Y* n/(n-1) = %v", y, rest)
	}
	if rp := res.Final["recursion_rest_point"].([]float64); math.Abs(rp[0]-rest) > 1e-12 {
		t.Errorf("predicted rest point %v", rp)
	}
	// The paper's (2-2x) factor moves differently from x(1-x) (first generation).
	if g1 := res.Traits[1]; math.Abs(g1[2][0]-g1[1][0]) < 1e-4 {
		t.Errorf("generation 1: paper's step %v, first-order %v: not told apart", g1[2][0], g1[1][0])
	}
	if len(lines) != cfg.Generations || lines[len(lines)-1]["epoch"] != float64(cfg.Generations) {
		t.Fatalf("%d metrics lines, want %d", len(lines), cfg.Generations)
	}
	tab, err := plots.ReadCSV(filepath.Join(dir, "trajectories.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != cfg.Generations+1 {
		t.Fatalf("%d rows, want %d", len(tab.Rows), cfg.Generations+1)
	}
	for _, f := range append(res.Tables, res.Figures...) {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if !reflect.DeepEqual(res.Figures, []string{"trajectories.png", "trajectories.svg"}) {
		t.Fatalf("figures %v", res.Figures)
	}
}
