package report

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/plots"
)

// TestDrawFigures: two optimizers at two fractions and two seeds; adam is
// 1 point above sgd at every seed, so the gap figure is +1 point with no
// spread; curves are labelled by what tells them apart.
func TestDrawFigures(t *testing.T) {
	root := t.TempDir()
	for _, opt := range []string{"sgd", "adam"} {
		for _, frac := range []float64{0.5, 1} {
			for seed := int64(1); seed <= 2; seed++ {
				acc := 0.5 + 0.3*frac + 0.01*float64(seed)
				if opt == "adam" {
					acc += 0.01
				}
				flags := map[string]any{"optimizer": opt, "lr": 0.1, "train-fraction": frac, "dataset": "mnist", "model": "mlp"}
				fabricate(t, root, fmt.Sprintf("%s-f%g-s%d", opt, frac, seed), flags, seed, []float64{acc - 0.1, acc}, nil)
			}
		}
	}
	runs, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "figs")
	files, err := DrawFigures(dir, runs, "sgd", "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
		if _, err := os.Stat(f + ".png"); err != nil {
			t.Error(err)
		}
	}
	if want := []string{"curves-test-accuracy", "curves-test-loss", "lowdata-accuracy", "lowdata-gap"}; !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}
	gap, err := plots.ReadCSV(filepath.Join(dir, "lowdata-gap.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ys, _ := gap.Floats("y")
	errs, _ := gap.Floats("err")
	if len(ys) != 2 || math.Abs(ys[0]-1) > 1e-9 || math.Abs(ys[1]-1) > 1e-9 || errs[0] != 0 {
		t.Errorf("gap rows %v, want +1 point at both fractions", gap.Rows)
	}
	curves, err := plots.ReadCSV(filepath.Join(dir, "curves-test-accuracy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{}
	for _, r := range curves.Rows {
		labels[r[0]] = true
	}
	for _, l := range []string{"sgd, fraction 0.5", "sgd, fraction 1", "adam, fraction 0.5", "adam, fraction 1"} {
		if !labels[l] {
			t.Errorf("no curve %q in %v", l, labels)
		}
	}
	if _, err := DrawFigures(dir, runs, "adamw", ""); !errors.Is(err, ErrNoBaseline) || !strings.Contains(err.Error(), `baseline "adamw"`) ||
		!strings.Contains(err.Error(), "adam, sgd") {
		t.Errorf("unknown baseline: %v", err)
	}
	if err := CheckBaseline(GroupRuns(runs), ""); err != nil {
		t.Errorf("no baseline: %v", err)
	}
}
