// Package report owns reading finished runs back: a run folder (manifest,
// metrics.jsonl) becomes a Run with the settings that matter for comparing
// optimizers (configuration, learning rate, training fraction, seed, and
// every other resolved flag); runs that differ only in their seed form a
// Group, with the mean and spread over seeds of the final and best test
// accuracy and of any metric per epoch; PairedDiffs compares a group with a
// baseline configuration seed by seed, and DrawFigures draws the groups'
// curves, low-data gaps and learning-rate sensitivity (plastic plot).
//
// A run's configuration name (Arm) comes from the labels file of the sweep
// that made it (sweep.json in the folder above the run, written by package
// sweep), else from its flags: the optimizer name, with "-grad-only" for
// NeuroPlastic's gradient-only ablation.
package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/plasticity-lab/plastic/run"
)

// LabelsFile is the file of a sweep folder naming the configuration (arm)
// of each of its run folders.
const LabelsFile = "sweep.json"

// Labels is the part of LabelsFile that report reads.
type Labels struct {
	Cells []CellLabel `json:"cells"`
}

// CellLabel names the configuration of one run folder of a sweep.
type CellLabel struct {
	ID  string `json:"id"`
	Arm string `json:"arm"`
}

// Run is one finished (or failed) training run read back from its folder.
type Run struct {
	Dir, ID string
	// Status is the manifest's: done, failed, interrupted or running.
	Status string
	// Error is the manifest's error text of a failed run.
	Error string
	// Arm names the configuration (see the package doc).
	Arm       string
	Optimizer string
	// LR is the --lr flag (0 when the run did not record one).
	LR             float64
	Fraction       float64
	Seed           int64
	Dataset, Model string
	// Config holds the flags that make the run's configuration: every
	// resolved flag of its manifest but the seed and those that say where
	// and how the command ran (see NotConfig), plus the device it ran on.
	Config map[string]any
	// Metrics holds one map per epoch, in order (metrics.jsonl).
	Metrics []map[string]float64
}

// NotConfig are the flags that do not make two runs different
// configurations: the seed, and where and how the command ran (run name,
// folders, config files, progress output, resume, the device asked for;
// the device used is in Config).
var NotConfig = map[string]bool{"seed": true, "seeds": true, "name": true, "out": true, "quiet": true, "config": true,
	"resume": true, "data-dir": true, "device": true}

// ConfigOf is the configuration of a run's manifest (see Run.Config).
func ConfigOf(m run.Manifest) map[string]any {
	out := map[string]any{}
	for k, v := range m.Flags {
		if !NotConfig[k] {
			out[k] = v
		}
	}
	if m.Device != "" {
		out["device"] = m.Device
	}
	return out
}

// CanonicalConfig writes a configuration as JSON with sorted keys, leaving
// out the flags named in without (e.g. the axis a figure plots along).
func CanonicalConfig(cfg map[string]any, without ...string) string {
	m := make(map[string]any, len(cfg))
	for k, v := range cfg {
		if !slices.Contains(without, k) {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprint(m)
	}
	return string(b)
}

// Done reports whether the run finished all its epochs.
func (r Run) Done() bool { return r.Status == run.StatusDone }

// Final is the last epoch's value of metric (false when no epoch has it).
func (r Run) Final(metric string) (float64, bool) {
	for i := len(r.Metrics) - 1; i >= 0; i-- {
		if v, ok := r.Metrics[i][metric]; ok {
			return v, true
		}
	}
	return math.NaN(), false
}

// FinalAccuracy is the test accuracy after the last epoch (NaN if none).
func (r Run) FinalAccuracy() float64 {
	v, _ := r.Final("test_accuracy")
	return v
}

// BestAccuracy is the highest test accuracy over the epochs (NaN if none).
func (r Run) BestAccuracy() float64 {
	best := math.NaN()
	for _, m := range r.Metrics {
		if v, ok := m["test_accuracy"]; ok && !math.IsNaN(v) && (math.IsNaN(best) || v > best) {
			best = v
		}
	}
	return best
}

// Load reads the run folder dir. arm, when not empty, names its
// configuration; otherwise it is derived from the flags.
func Load(dir, arm string) (Run, error) {
	r, err := run.Open(dir)
	if err != nil {
		return Run{}, fmt.Errorf("run folder %s: %w", dir, err)
	}
	ms, err := r.Metrics()
	if err != nil {
		return Run{}, err
	}
	m := r.Manifest
	out := Run{
		Dir: dir, ID: m.ID, Status: m.Status, Error: m.Error, Seed: m.Seed, Metrics: ms,
		Optimizer: str(m.Flags["optimizer"]), Dataset: str(m.Flags["dataset"]), Model: str(m.Flags["model"]),
		LR: num(m.Flags["lr"]), Fraction: num(m.Flags["train-fraction"]), Config: ConfigOf(m),
	}
	if math.IsNaN(out.Fraction) {
		out.Fraction = 1
	}
	if math.IsNaN(out.LR) {
		out.LR = 0 // not recorded (NaN would make every such run its own group)
	}
	out.Arm = arm
	if out.Arm == "" {
		out.Arm = out.Optimizer
		if out.Arm == "neuroplastic" && str(m.Flags["np-mode"]) == "ablation_grad_only" {
			out.Arm += "-grad-only"
		}
		if out.Arm == "" {
			out.Arm = m.Command
		}
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return math.NaN()
}

// Find loads the runs under each path: a run folder (it holds
// manifest.json) or a folder searched recursively for run folders (a
// sweep). Runs are returned in path order, then by folder name. A path that
// does not exist or holds no run is an error naming it.
func Find(paths ...string) ([]Run, error) {
	if len(paths) == 0 {
		return nil, errors.New("no run folders given")
	}
	var out []Run
	seen := map[string]bool{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("run folder %s: %w", p, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("run folder %s: not a folder", p)
		}
		var dirs []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if _, err := os.Stat(filepath.Join(path, run.ManifestFile)); err == nil {
				dirs = append(dirs, path)
				return filepath.SkipDir
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(dirs) == 0 {
			return nil, fmt.Errorf("%s: no run folders (no %s there or below)", p, run.ManifestFile)
		}
		labels := map[string]map[string]label{}
		for _, d := range dirs {
			parent := filepath.Dir(d)
			if _, ok := labels[parent]; !ok {
				if labels[parent], err = readLabels(parent); err != nil {
					return nil, err
				}
			}
		}
		// A sweep's runs in the order of its cells, others by name.
		order := func(d string) int {
			if l, ok := labels[filepath.Dir(d)][filepath.Base(d)]; ok {
				return l.index
			}
			return math.MaxInt
		}
		slices.SortStableFunc(dirs, func(a, b string) int {
			if oa, ob := order(a), order(b); oa != ob {
				return cmp.Compare(int64(oa), int64(ob))
			}
			return strings.Compare(a, b)
		})
		for _, d := range dirs {
			abs, _ := filepath.Abs(d)
			if seen[abs] {
				continue
			}
			seen[abs] = true
			r, err := Load(d, labels[filepath.Dir(d)][filepath.Base(d)].arm)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

type label struct {
	arm   string
	index int
}

// readLabels reads dir/sweep.json into id -> arm and position (empty when
// absent).
func readLabels(dir string) (map[string]label, error) {
	b, err := os.ReadFile(filepath.Join(dir, LabelsFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]label{}, nil
	}
	if err != nil {
		return nil, err
	}
	var l Labels
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, LabelsFile), err)
	}
	m := make(map[string]label, len(l.Cells))
	for i, c := range l.Cells {
		m[c.ID] = label{c.Arm, i}
	}
	return m, nil
}

// Key identifies a group: runs equal in everything but their seed. Config
// is the canonical JSON of the runs' Config (every other flag).
type Key struct {
	Dataset, Model, Arm string
	LR, Fraction        float64
	Config              string
}

// Group is the runs of one Key (one per seed), in seed order.
type Group struct {
	Key
	Runs []Run
}

// GroupRuns groups runs by Key, groups in order of first appearance.
func GroupRuns(runs []Run) []Group {
	var out []Group
	idx := map[Key]int{}
	for _, r := range runs {
		k := Key{Dataset: r.Dataset, Model: r.Model, Arm: r.Arm, LR: r.LR, Fraction: r.Fraction, Config: CanonicalConfig(r.Config)}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Group{Key: k})
		}
		out[i].Runs = append(out[i].Runs, r)
	}
	for i := range out {
		slices.SortStableFunc(out[i].Runs, func(a, b Run) int { return cmp.Compare(a.Seed, b.Seed) })
	}
	return out
}

// Flags is the configuration the group's runs share (see Run.Config).
func (g Group) Flags() map[string]any {
	if len(g.Runs) == 0 {
		return nil
	}
	return g.Runs[0].Config
}

// DoneRuns are the group's runs that finished all their epochs.
func (g Group) DoneRuns() []Run {
	var out []Run
	for _, r := range g.Runs {
		if r.Done() {
			out = append(out, r)
		}
	}
	return out
}

// Stat is a mean and sample standard deviation (n-1 in the denominator;
// 0 for a single value) over N values.
type Stat struct {
	Mean, Std float64
	N         int
}

// StatOf summarises xs, skipping NaNs (N = 0 and NaN mean when none is
// left).
func StatOf(xs []float64) Stat {
	var s Stat
	var sum float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			sum += x
			s.N++
		}
	}
	if s.N == 0 {
		return Stat{Mean: math.NaN(), Std: math.NaN()}
	}
	s.Mean = sum / float64(s.N)
	if s.N > 1 {
		var ss float64
		for _, x := range xs {
			if !math.IsNaN(x) {
				ss += (x - s.Mean) * (x - s.Mean)
			}
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// Final is the final test accuracy over the group's finished runs.
func (g Group) Final() Stat { return g.over(Run.FinalAccuracy) }

// Best is the best test accuracy over the group's finished runs.
func (g Group) Best() Stat { return g.over(Run.BestAccuracy) }

func (g Group) over(f func(Run) float64) Stat {
	var xs []float64
	for _, r := range g.DoneRuns() {
		xs = append(xs, f(r))
	}
	return StatOf(xs)
}

// Curve is a metric per epoch over the runs of a group (failed runs
// included, up to where they stopped): Epoch[i] and the Stat of the runs
// that have the metric at that epoch.
type Curve struct {
	Epoch []float64
	Stat  []Stat
}

// Curve is metric per epoch; epochs without the metric in any run are
// left out (e.g. NeuroPlastic diagnostics for Adam).
func (g Group) Curve(metric string) Curve {
	byEpoch := map[int][]float64{}
	for _, r := range g.Runs {
		for i, m := range r.Metrics {
			v, ok := m[metric]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			e := i + 1
			if ep, ok := m["epoch"]; ok {
				e = int(ep)
			}
			byEpoch[e] = append(byEpoch[e], v)
		}
	}
	epochs := make([]int, 0, len(byEpoch))
	for e := range byEpoch {
		epochs = append(epochs, e)
	}
	sort.Ints(epochs)
	var c Curve
	for _, e := range epochs {
		c.Epoch = append(c.Epoch, float64(e))
		c.Stat = append(c.Stat, StatOf(byEpoch[e]))
	}
	return c
}

// ErrNoBaseline is wrapped by the errors of comparisons whose baseline is
// no configuration of the runs.
var ErrNoBaseline = errors.New("no run of that configuration")

// CheckBaseline is nil when baseline is "" or the Arm of one of the groups,
// else an error wrapping ErrNoBaseline that names the arms there are.
func CheckBaseline(groups []Group, baseline string) error {
	if baseline == "" {
		return nil
	}
	var arms []string
	for _, g := range groups {
		if g.Arm == baseline {
			return nil
		}
		if !slices.Contains(arms, g.Arm) {
			arms = append(arms, g.Arm)
		}
	}
	return fmt.Errorf("baseline %q: %w (have %s)", baseline, ErrNoBaseline, strings.Join(arms, ", "))
}

// baselineOf finds the group g is compared with.
func baselineOf(groups []Group, g Group, baseline string) (Group, bool) {
	var cands []Group
	for _, b := range groups {
		if b.Arm == baseline && b.Dataset == g.Dataset && b.Model == g.Model && b.Fraction == g.Fraction {
			cands = append(cands, b)
		}
	}
	for _, b := range cands {
		if b.LR == g.LR {
			return b, true
		}
	}
	if len(cands) == 1 {
		return cands[0], true
	}
	return Group{}, false
}

// PairedDiffs is g's final test accuracy minus the baseline's, seed by
// seed over the finished runs both have, in points (false when no baseline
// group matches g; see Summarize).
func PairedDiffs(groups []Group, g Group, baseline string) ([]float64, bool) {
	b, ok := baselineOf(groups, g, baseline)
	if !ok {
		return nil, false
	}
	base := map[int64]float64{}
	for _, r := range b.DoneRuns() {
		base[r.Seed] = r.FinalAccuracy()
	}
	var d []float64
	for _, r := range g.DoneRuns() {
		bv, ok := base[r.Seed]
		v := r.FinalAccuracy()
		if ok && !math.IsNaN(v) && !math.IsNaN(bv) {
			d = append(d, 100*(v-bv))
		}
	}
	return d, true
}
