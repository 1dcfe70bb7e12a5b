package attacks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/run"
)

// Files of an attack run folder (plastic attack).
const (
	CurveFile  = "robustness.csv" // eps, robust_acc, broken, images
	ImagesFile = "images.csv"     // per image: the eps that broke it
)

// Name is the attack as the figures call it: "FGSM", "targeted L2 (50
// steps)" (the paper's), or "PGD LINF (10 steps)".
func (a Attack) Name() string {
	switch {
	case a.Norm == LInf && !a.Targeted && a.Steps == 1 && a.StepSize == 1:
		return "FGSM"
	case a.Targeted:
		return fmt.Sprintf("targeted %s (%d steps)", strings.ToUpper(string(a.Norm)), a.Steps)
	}
	return fmt.Sprintf("PGD %s (%d steps)", strings.ToUpper(string(a.Norm)), a.Steps)
}

// Broken is the number of images broken at each eps of the grid (an image
// broken at eps counts at every larger eps, as in Accuracy).
func (r *Result) Broken() []int {
	broken := make([]int, len(r.Grid))
	for i := range r.Grid {
		for _, b := range r.BrokenAt {
			if b <= i {
				broken[i]++
			}
		}
	}
	return broken
}

// Tables are the result as the CSV tables of an attack run: the curve
// (CurveFile: eps, robust_acc, broken, images) and one row per image
// (ImagesFile: image, label, broken_at_eps or "never", target, pred).
func (r *Result) Tables() (curve, images *plots.Table, err error) {
	acc, broken := r.Accuracy(), r.Broken()
	curve = plots.NewTable("eps", "robust_acc", "broken", "images")
	for i, e := range r.Grid {
		if err := curve.Append(e, acc[i], broken[i], len(r.Images)); err != nil {
			return nil, nil, err
		}
	}
	images = plots.NewTable("image", "label", "broken_at_eps", "target", "pred")
	for k, idx := range r.Images {
		at := "never"
		if b := r.BrokenAt[k]; b < len(r.Grid) {
			at = strconv.FormatFloat(r.Grid[b], 'g', -1, 64)
		}
		if err := images.Append(idx, r.Labels[k], at, r.Target[k], r.Pred[k]); err != nil {
			return nil, nil, err
		}
	}
	return curve, images, nil
}

// Chart is the robustness curve of the network named label (Fig. 5 for
// one network).
func (r *Result) Chart(label string) plots.LineChart {
	return plots.LineChart{Title: fmt.Sprintf("%s attack, %s", r.Attack.Name(), label), XLabel: "eps (" + string(r.Attack.Norm) + ")",
		YLabel: "robust accuracy", Series: []plots.Series{{Name: label, X: r.Grid, Y: r.Accuracy()}}}
}

// Examples attacks each of the images (indices into set) at one eps with
// Adversarial, in order; it stops with ctx's error when ctx is done.
func Examples(ctx context.Context, m Model, set *data.Set, images []int, eps float64, a Attack) ([]*Example, error) {
	if err := CheckData(m, set); err != nil {
		return nil, err
	}
	out := make([]*Example, 0, len(images))
	for _, idx := range images {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if idx < 0 || idx >= set.N {
			return nil, fmt.Errorf("attacks: image %d outside the set's %d", idx, set.N)
		}
		x := make([]float64, set.Dim)
		for i, v := range set.Row(idx) {
			x[i] = float64(v)
		}
		ex, err := Adversarial(m, x, set.Y[idx], eps, a)
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
	}
	return out, nil
}

// ExamplesFigure draws Fig. 4: each original image (top row) above its
// adversarial image (bottom row, captioned with the prediction, or
// "robust", and the perturbation's norm), images shaped as set's, and the
// table behind it (image, label, pred, target, broken, dist).
func ExamplesFigure(set *data.Set, images []int, examples []*Example, title string, norm Norm) (plots.ImageGrid, *plots.Table, error) {
	if len(images) != len(examples) {
		return plots.ImageGrid{}, nil, fmt.Errorf("attacks: %d images, %d examples", len(images), len(examples))
	}
	h, w := 1, set.Dim
	if sh := set.Shape; len(sh) >= 2 && sh[len(sh)-1]*sh[len(sh)-2] == set.Dim {
		h, w = sh[len(sh)-2], sh[len(sh)-1]
	}
	var top, bottom []plots.Image
	tab := plots.NewTable("image", "label", "pred", "target", "broken", "dist")
	for k, ex := range examples {
		d := Dist(norm, ex.Adversarial, ex.Original)
		top = append(top, plots.Image{Pixels: ex.Original, H: h, W: w, Caption: fmt.Sprintf("label %d", ex.Label)})
		capt := fmt.Sprintf("robust (%.2f)", d)
		if ex.Broken {
			capt = fmt.Sprintf("-> %d (%.2f)", ex.Pred, d)
		}
		bottom = append(bottom, plots.Image{Pixels: ex.Adversarial, H: h, W: w, Caption: capt})
		if err := tab.Append(images[k], ex.Label, ex.Pred, ex.Target, ex.Broken, d); err != nil {
			return plots.ImageGrid{}, nil, err
		}
	}
	return plots.ImageGrid{Title: title, Images: append(top, bottom...), Cols: len(examples)}, tab, nil
}

// CombineRuns draws the robustness curves of several attack run folders
// in one chart (Fig. 5), each named by its run's label (its summary's
// "label", else the folder's name), with the long table behind it
// (network, eps, robust_acc, run).
func CombineRuns(dirs []string, title string) (plots.LineChart, *plots.Table, error) {
	chart := plots.LineChart{Title: title, XLabel: "eps", YLabel: "robust accuracy"}
	long := plots.NewTable("network", "eps", "robust_acc", "run")
	for _, dir := range dirs {
		t, err := plots.ReadCSV(filepath.Join(dir, CurveFile))
		if err != nil {
			return chart, nil, fmt.Errorf("%s: not an attack run: %w", dir, err)
		}
		eps, err := t.Floats("eps")
		if err != nil {
			return chart, nil, fmt.Errorf("%s/%s: %w", dir, CurveFile, err)
		}
		acc, err := t.Floats("robust_acc")
		if err != nil {
			return chart, nil, fmt.Errorf("%s/%s: %w", dir, CurveFile, err)
		}
		label := filepath.Base(dir)
		if sm, err := summaryLabel(dir); err == nil && sm != "" {
			label = sm
		}
		chart.Series = append(chart.Series, plots.Series{Name: label, X: eps, Y: acc})
		for i := range eps {
			if err := long.Append(label, eps[i], acc[i], filepath.Base(dir)); err != nil {
				return chart, nil, err
			}
		}
	}
	return chart, long, nil
}

// summaryLabel returns the "label" of a finished attack run's summary.
func summaryLabel(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, run.SummaryFile))
	if err != nil {
		return "", err
	}
	var sm struct {
		Label string `json:"label"`
	}
	if err := json.Unmarshal(b, &sm); err != nil {
		return "", err
	}
	return sm.Label, nil
}
