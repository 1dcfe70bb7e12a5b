package report

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/plasticity-lab/plastic/plots"
)

// DrawFigures writes every figure the runs allow into dir, as PNG and SVG
// with the numbers behind each as CSV, and returns the paths written
// (without extension):
//
//	curves-test-accuracy, curves-test-loss, curves-train-loss
//	    per epoch, mean ± std over seeds
//	diag-alpha-mean, diag-alpha-std, diag-update-norm, diag-grad-norm
//	    NeuroPlastic's diagnostics per epoch, when runs have them
//	lowdata-accuracy  final test accuracy against the training fraction
//	lowdata-gap       its difference to the baseline configuration per
//	                  fraction, in points (baseline != "")
//	lr-sensitivity    final test accuracy against the learning rate, log x
//
// Runs are grouped by GroupRuns; each curve is labelled by its
// configuration and the flags that tell it apart from the other curves of
// that configuration (e.g. "sgd, n-train 500"). title prefixes every
// figure's title ("": the data set and model the runs share). A baseline
// that is no configuration of the runs is an error wrapping ErrNoBaseline.
func DrawFigures(dir string, runs []Run, baseline, title string) ([]string, error) {
	groups := GroupRuns(runs)
	if err := CheckBaseline(groups, baseline); err != nil {
		return nil, err
	}
	if title == "" {
		title = commonTitle(groups)
	}
	name := labeller(groups)
	var written []string
	save := func(base string, ch plots.LineChart) error {
		path := filepath.Join(dir, base)
		if err := plots.Save(path, ch); err != nil {
			return err
		}
		t, err := ch.Table()
		if err != nil {
			return err
		}
		if err := plots.WriteCSV(path+".csv", t); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}

	// Curves per epoch, and NeuroPlastic's diagnostics.
	perEpoch := []struct{ file, metric, label string }{
		{"curves-test-accuracy", "test_accuracy", "test accuracy"},
		{"curves-test-loss", "test_loss", "test loss"},
		{"curves-train-loss", "train_loss", "train loss"},
		{"diag-alpha-mean", "opt_alpha_mean", "plasticity coefficient alpha, mean"},
		{"diag-alpha-std", "opt_alpha_std", "plasticity coefficient alpha, std"},
		{"diag-update-norm", "opt_update_norm", "effective update norm"},
		{"diag-grad-norm", "opt_grad_norm", "gradient norm"},
	}
	npOnly := slices.ContainsFunc(groups, isNeuroPlastic)
	for _, pe := range perEpoch {
		ch := plots.LineChart{Title: title + ": " + pe.label, XLabel: "epoch", YLabel: pe.label}
		for _, g := range groups {
			if strings.HasPrefix(pe.metric, "opt_") && npOnly && !isNeuroPlastic(g) {
				continue // the diagnostics compare NeuroPlastic's variants
			}
			cv := g.Curve(pe.metric)
			if len(cv.Epoch) == 0 {
				continue
			}
			s := plots.Series{Name: name(g), X: cv.Epoch}
			for _, st := range cv.Stat {
				s.Y = append(s.Y, st.Mean)
				s.Err = append(s.Err, st.Std)
			}
			ch.Series = append(ch.Series, s)
		}
		if len(ch.Series) == 0 {
			continue // e.g. no NeuroPlastic run: no diagnostics
		}
		if err := save(pe.file, ch); err != nil {
			return nil, err
		}
	}

	// Final accuracy against the training fraction, per configuration and lr.
	type line struct {
		key    string
		x      []float64
		groups []Group
	}
	collect := func(key func(Group) string, x func(Group) float64) []*line {
		var ls []*line
		for _, g := range groups {
			if g.Final().N == 0 {
				continue
			}
			k := key(g)
			i := slices.IndexFunc(ls, func(l *line) bool { return l.key == k })
			if i < 0 {
				ls = append(ls, &line{key: k})
				i = len(ls) - 1
			}
			ls[i].x = append(ls[i].x, x(g))
			ls[i].groups = append(ls[i].groups, g)
		}
		for _, l := range ls {
			idx := make([]int, len(l.x))
			for i := range idx {
				idx[i] = i
			}
			slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(l.x[a], l.x[b]) })
			x, gs := make([]float64, len(idx)), make([]Group, len(idx))
			for i, j := range idx {
				x[i], gs[i] = l.x[j], l.groups[j]
			}
			l.x, l.groups = x, gs
		}
		return ls
	}
	multi := func(ls []*line) bool {
		for _, l := range ls {
			if len(l.x) > 1 {
				return true
			}
		}
		return false
	}
	byFraction := collect(func(g Group) string {
		return fmt.Sprintf("%s\x00%s\x00%s\x00%g\x00%s", g.Dataset, g.Model, g.Arm, g.LR, CanonicalConfig(g.Flags(), "train-fraction"))
	},
		func(g Group) float64 { return g.Fraction })
	if multi(byFraction) {
		ch := plots.LineChart{Title: title + ": final test accuracy by training fraction", XLabel: "fraction of the training set", YLabel: "final test accuracy (%)", Errors: plots.Bars}
		for _, l := range byFraction {
			s := plots.Series{Name: seriesName(l.groups[0], name, "fraction"), X: l.x}
			for _, g := range l.groups {
				st := g.Final()
				s.Y, s.Err = append(s.Y, 100*st.Mean), append(s.Err, 100*st.Std)
			}
			ch.Series = append(ch.Series, s)
		}
		if err := save("lowdata-accuracy", ch); err != nil {
			return nil, err
		}
		if baseline != "" {
			gap := plots.LineChart{Title: title + ": gain over " + baseline + " by training fraction", XLabel: "fraction of the training set",
				YLabel: "final test accuracy minus " + baseline + " (points)", Errors: plots.Bars, Refs: []plots.Ref{{Name: baseline, Y: 0}}}
			for _, l := range byFraction {
				if l.groups[0].Arm == baseline {
					continue
				}
				s := plots.Series{Name: seriesName(l.groups[0], name, "fraction")}
				for i, g := range l.groups {
					d, ok := PairedDiffs(groups, g, baseline)
					if !ok || len(d) == 0 {
						continue
					}
					st := StatOf(d)
					s.X, s.Y, s.Err = append(s.X, l.x[i]), append(s.Y, st.Mean), append(s.Err, st.Std)
				}
				if len(s.X) > 0 {
					gap.Series = append(gap.Series, s)
				}
			}
			if len(gap.Series) > 0 {
				if err := save("lowdata-gap", gap); err != nil {
					return nil, err
				}
			}
		}
	}

	// Final accuracy against the learning rate, per configuration and fraction.
	byLR := collect(func(g Group) string {
		return fmt.Sprintf("%s\x00%s\x00%s\x00%g\x00%s", g.Dataset, g.Model, g.Arm, g.Fraction, CanonicalConfig(g.Flags(), "lr"))
	},
		func(g Group) float64 { return g.LR })
	if multi(byLR) {
		ch := plots.LineChart{Title: title + ": learning-rate sensitivity", XLabel: "learning rate", YLabel: "final test accuracy (%)", Errors: plots.Bars, LogX: true}
		for _, l := range byLR {
			if slices.ContainsFunc(l.x, func(x float64) bool { return !(x > 0) }) {
				return nil, fmt.Errorf("learning-rate figure: configuration %s has runs without a recorded learning rate", l.groups[0].Arm)
			}
			s := plots.Series{Name: seriesName(l.groups[0], name, "lr"), X: l.x}
			for _, g := range l.groups {
				st := g.Final()
				s.Y, s.Err = append(s.Y, 100*st.Mean), append(s.Err, 100*st.Std)
			}
			ch.Series = append(ch.Series, s)
		}
		if err := save("lr-sensitivity", ch); err != nil {
			return nil, err
		}
	}
	if len(written) == 0 {
		return nil, errors.New("figures: the runs have no metrics to draw (no finished epoch)")
	}
	return written, nil
}

func isNeuroPlastic(g Group) bool {
	return len(g.Runs) > 0 && g.Runs[0].Optimizer == "neuroplastic"
}

// labeller names a group by its configuration, adding what tells it apart
// from the other groups of the same configuration name: the learning rate
// ("lr 0.1"), the fraction ("fraction 0.5"), any other flag ("n-train 500"),
// and the data set or model where the groups differ in them.
func labeller(groups []Group) func(Group) string {
	// values[arm][flag] is the set of values the flag takes in that arm's
	// groups ("" where a group does not record it).
	values := map[string]map[string]map[string]bool{}
	all := map[string]bool{}
	for _, g := range groups {
		for k := range g.Flags() {
			all[k] = true
		}
	}
	for _, g := range groups {
		if values[g.Arm] == nil {
			values[g.Arm] = map[string]map[string]bool{}
		}
		for k := range all {
			if values[g.Arm][k] == nil {
				values[g.Arm][k] = map[string]bool{}
			}
			values[g.Arm][k][flagText(g.Flags()[k])] = true
		}
	}
	var vary []string
	for k := range all {
		for _, vs := range values {
			if len(vs[k]) > 1 {
				vary = append(vary, k)
				break
			}
		}
	}
	slices.Sort(vary)
	ds := distinct(groups, func(g Group) string { return g.Dataset }) > 1
	model := distinct(groups, func(g Group) string { return g.Model }) > 1
	return func(g Group) string {
		parts := []string{g.Arm}
		if slices.Contains(vary, "lr") && g.LR > 0 {
			parts = append(parts, fmt.Sprintf("lr %g", g.LR))
		}
		if slices.Contains(vary, "train-fraction") {
			parts = append(parts, fmt.Sprintf("fraction %g", g.Fraction))
		}
		for _, k := range vary {
			switch k {
			case "lr", "train-fraction", "dataset", "model":
				continue
			}
			v := flagText(g.Flags()[k])
			if v == "" {
				v = "unset"
			}
			parts = append(parts, k+" "+v)
		}
		if ds {
			parts = append(parts, g.Dataset)
		}
		if model {
			parts = append(parts, g.Model)
		}
		return strings.Join(parts, ", ")
	}
}

// flagText writes a recorded flag value for a label ("" when absent).
func flagText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flagText(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// seriesName is name(g) without the part the x axis shows.
func seriesName(g Group, name func(Group) string, axis string) string {
	parts := strings.Split(name(g), ", ")
	out := parts[:0]
	for _, p := range parts {
		if !strings.HasPrefix(p, axis+" ") {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func distinct(groups []Group, f func(Group) string) int {
	seen := map[string]bool{}
	for _, g := range groups {
		seen[f(g)] = true
	}
	return len(seen)
}

// commonTitle is "dataset, model" when all groups share them.
func commonTitle(groups []Group) string {
	var parts []string
	if len(groups) > 0 && distinct(groups, func(g Group) string { return g.Dataset }) == 1 && groups[0].Dataset != "" {
		parts = append(parts, groups[0].Dataset)
	}
	if len(groups) > 0 && distinct(groups, func(g Group) string { return g.Model }) == 1 && groups[0].Model != "" {
		parts = append(parts, groups[0].Model)
	}
	if len(parts) == 0 {
		return "runs"
	}
	return strings.Join(parts, " ")
}
