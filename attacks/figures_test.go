package attacks

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/plots"
)

func TestAttackNames(t *testing.T) {
	for _, c := range []struct {
		a    Attack
		want string
	}{{FGSM(), "FGSM"}, {paper(), "targeted L2 (50 steps)"}, {Attack{Norm: LInf, Steps: 10, StepSize: 0.1}, "PGD LINF (10 steps)"}} {
		if got := c.a.Name(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.a, got, c.want)
		}
	}
}

// TestResultTables: three images broken at eps index 0, 2 and never.
func TestResultTables(t *testing.T) {
	r := &Result{Attack: paper(), Grid: []float64{0, 0.5, 1}, Images: []int{7, 3, 9}, Labels: []int{1, 0, 2},
		BrokenAt: []int{0, 2, 3}, Target: []int{-1, 2, -1}, Pred: []int{0, 2, 2}}
	if b := r.Broken(); !slices.Equal(b, []int{1, 1, 2}) {
		t.Errorf("broken %v, want [1 1 2]", b)
	}
	curve, per, err := r.Tables()
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := curve.Floats("robust_acc")
	if want := []float64{2.0 / 3, 2.0 / 3, 1.0 / 3}; len(acc) != 3 || math.Abs(acc[0]-want[0]) > 1e-12 || math.Abs(acc[2]-want[2]) > 1e-12 {
		t.Errorf("robust accuracy %v, want %v", acc, want)
	}
	if got := per.Rows[1]; got[0] != "3" || got[2] != "1" || got[3] != "2" {
		t.Errorf("image row %v, want image 3 broken at eps 1 by target 2", got)
	}
	if got := per.Rows[2][2]; got != "never" {
		t.Errorf("unbroken image: broken_at_eps %q", got)
	}
	if ch := r.Chart("net"); len(ch.Series) != 1 || ch.Series[0].Name != "net" || ch.Title != "targeted L2 (50 steps) attack, net" {
		t.Errorf("chart %+v", ch)
	}

	// Two runs combined: labels from the summary, else the folder.
	root := t.TempDir()
	for _, d := range []string{"a", "b"} {
		dir := filepath.Join(root, d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := plots.WriteCSV(filepath.Join(dir, CurveFile), *curve); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "a", "summary.json"), []byte(`{"label":"T=3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ch, long, err := CombineRuns([]string{filepath.Join(root, "a"), filepath.Join(root, "b")}, "fig")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Series) != 2 || ch.Series[0].Name != "T=3" || ch.Series[1].Name != "b" || len(long.Rows) != 6 {
		t.Errorf("combined %+v, %d rows", ch.Series, len(long.Rows))
	}
	if _, _, err := CombineRuns([]string{root}, "fig"); err == nil {
		t.Error("a folder without robustness.csv was combined")
	}
}

// TestExamplesFigure: one example per image, drawn 2x2 (the set's shape),
// originals above adversarial images.
func TestExamplesFigure(t *testing.T) {
	m, _, _ := randomLinear(t, 4, 3, 1, Float64)
	set := &data.Set{N: 2, Dim: 4, Classes: 3, Shape: []int{1, 2, 2}, X: []float32{0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.7, 0.6}, Y: []int{0, 2}}
	exs, err := Examples(context.Background(), m, set, []int{1, 0}, 0.5, paper())
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 || exs[0].Label != 2 || exs[1].Label != 0 {
		t.Fatalf("examples %+v", exs)
	}
	g, tab, err := ExamplesFigure(set, []int{1, 0}, exs, "t", L2)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Images) != 4 || g.Cols != 2 || g.Images[0].H != 2 || g.Images[0].W != 2 || g.Images[0].Caption != "label 2" || len(tab.Rows) != 2 {
		t.Errorf("figure %+v, table %v", g, tab.Rows)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Examples(ctx, m, set, []int{0}, 0.5, paper()); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}
