package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plasticity-lab/plastic/classify"
	"github.com/plasticity-lab/plastic/report"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

func TestExpand(t *testing.T) {
	g := Grid{
		Optimizers: []string{"sgd", "adam"},
		LRs:        []float64{0.1, 1e-3},
		Fractions:  []float64{0.5},
		Seeds:      []int64{1, 2},
		Base:       []string{"--epochs=2"},
	}
	cells, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2*2*1*2 {
		t.Fatalf("%d cells", len(cells))
	}
	var ids []string
	for _, c := range cells {
		ids = append(ids, c.ID)
	}
	want := []string{"sgd-lr0.1-f0.5-s1", "sgd-lr0.001-f0.5-s1", "adam-lr0.1-f0.5-s1", "adam-lr0.001-f0.5-s1",
		"sgd-lr0.1-f0.5-s2", "sgd-lr0.001-f0.5-s2", "adam-lr0.1-f0.5-s2", "adam-lr0.001-f0.5-s2"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %q", ids)
	}
	c := cells[3]
	if c.Arm != "adam" || c.LR != 1e-3 || c.Seed != 1 || !slices.Equal(c.Args, []string{"--optimizer=adam", "--lr=0.001", "--train-fraction=0.5", "--epochs=2"}) {
		t.Errorf("cell %+v", c)
	}

	// Variants alone: their flags, no lr/fraction parts in the id.
	g = Grid{Variants: []Variant{{"np", []string{"--optimizer=neuroplastic", "--lr=0.1"}}, {"go", []string{"--np-mode=ablation_grad_only"}}}, Seeds: []int64{7}}
	cells, err = g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2 || cells[0].ID != "np-s7" || cells[1].Arm != "go" || !slices.Equal(cells[1].Args, []string{"--np-mode=ablation_grad_only"}) {
		t.Errorf("cells %+v", cells)
	}
	// Optimizers x variants join names.
	g = Grid{Optimizers: []string{"sgd"}, Variants: []Variant{{"wd", []string{"--weight-decay=0.1"}}}, Seeds: []int64{1}}
	if cells, err = g.Expand(); err != nil || cells[0].ID != "sgd-wd-s1" || cells[0].Arm != "sgd-wd" {
		t.Errorf("%v %+v", err, cells)
	}
}

func TestExpandErrors(t *testing.T) {
	v := func(name string, flags ...string) Variant { return Variant{name, flags} }
	cases := []struct {
		g    Grid
		want string
	}{
		{Grid{Seeds: []int64{1}}, "empty grid"},
		{Grid{Optimizers: []string{"sgd"}}, "no seeds"},
		{Grid{Optimizers: []string{"sgd", "sgd"}, Seeds: []int64{1}}, `optimizer "sgd" appears twice`},
		{Grid{Optimizers: []string{"a/b"}, Seeds: []int64{1}}, "optimizer name"},
		{Grid{Optimizers: []string{"sgd"}, LRs: []float64{0}, Seeds: []int64{1}}, "learning rate 0"},
		{Grid{Optimizers: []string{"sgd"}, Fractions: []float64{1.5}, Seeds: []int64{1}}, "fraction in (0,1]"},
		{Grid{Optimizers: []string{"sgd"}, Seeds: []int64{1, 1}}, "appears twice"},
		{Grid{Optimizers: []string{"sgd"}, Variants: []Variant{v("x", "--optimizer=adam")}, Seeds: []int64{1}}, "variant x sets --optimizer"},
		{Grid{Variants: []Variant{v("x", "--lr=1")}, LRs: []float64{0.1}, Seeds: []int64{1}}, "variant x sets --lr"},
		{Grid{Variants: []Variant{v("x")}, Base: []string{"--seed=3"}, Seeds: []int64{1}}, "training flags sets --seed"},
		{Grid{Variants: []Variant{v("x", "--name=y")}, Seeds: []int64{1}}, "sets --name"},
	}
	for _, c := range cases {
		_, err := c.g.Expand()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.g, err, c.want)
		}
	}
}

func TestParseVariant(t *testing.T) {
	v, err := ParseVariant("np-best:--lr=0.1,--np-warmup-epochs=2 --np-param-wise")
	if err != nil || v.Name != "np-best" || !slices.Equal(v.Flags, []string{"--lr=0.1", "--np-warmup-epochs=2", "--np-param-wise"}) {
		t.Errorf("%v %+v", err, v)
	}
	for _, bad := range []string{"noflags", ":--lr=1", "x:lr=1", "a b:--lr=1"} {
		if _, err := ParseVariant(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// A comma-splitting flag parser cut "a:--x=1,--y=2" and "b:--z=3" apart.
	got, err := JoinVariantArgs([]string{"a:--x=1", "--y=2", "b:@f", "--z=3", "@g"})
	if err != nil || !slices.Equal(got, []string{"a:--x=1,--y=2", "b:@f,--z=3,@g"}) {
		t.Errorf("%v %q", err, got)
	}
	if _, err := JoinVariantArgs([]string{"--y=2"}); err == nil {
		t.Error("flags without a name: no error")
	}
}

// fakeAcc is the fabricated final accuracy of a cell: a function of its
// arm, lr and seed only.
func fakeAcc(c Cell) float64 {
	h := 0.0
	for _, r := range c.Arm {
		h += float64(r)
	}
	return 0.5 + math.Mod(h*0.013+float64(c.Seed)*0.071+c.LR*3, 0.4)
}

// fakeRunner writes a run folder as `plastic train` would, with two
// epochs of fabricated metrics; cells whose arm is "bad" fail like
// training that diverged.
type fakeRunner struct {
	calls, resumes atomic.Int32
	running, peak  atomic.Int32
	mu             sync.Mutex
	started        []string
	fail           string // arm that fails outright, without a run folder
}

func (f *fakeRunner) run(ctx context.Context, c Cell, dir string, resume bool, log io.Writer) error {
	f.calls.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	f.mu.Lock()
	f.started = append(f.started, c.ID)
	f.mu.Unlock()
	if c.Arm == f.fail {
		return errors.New("data set missing")
	}
	var r *run.Run
	var err error
	if resume {
		f.resumes.Add(1)
		if r, err = run.Open(filepath.Join(dir, c.ID)); err != nil {
			return err
		}
	} else {
		flags := map[string]any{"optimizer": c.Optimizer, "lr": c.LR, "train-fraction": 1.0, "dataset": "synthetic", "model": "mlp"}
		if r, err = run.Create(dir, run.Manifest{ID: c.ID, Command: "train", Flags: flags, Seed: c.Seed}); err != nil {
			return err
		}
	}
	acc := fakeAcc(c)
	for e := len(mustMetrics(r)) + 1; e <= 2; e++ {
		if err := r.AppendMetrics(map[string]float64{"epoch": float64(e), "test_accuracy": acc - 0.1*float64(2-e)}); err != nil {
			return err
		}
	}
	if c.Arm == "bad" {
		r.Finish(fmt.Errorf("%w at epoch 2", train.ErrDiverged))
		return errors.New("exit status 1")
	}
	return r.Finish(nil)
}

func mustMetrics(r *run.Run) []map[string]float64 {
	ms, _ := r.Metrics()
	return ms
}

func finals(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	runs, err := report.Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range runs {
		out[r.ID] = r.FinalAccuracy()
	}
	return out
}

func TestExecuteParallelSameAsSerialAndSkipsDone(t *testing.T) {
	g := Grid{Optimizers: []string{"sgd", "adam"}, LRs: []float64{0.01, 0.1}, Seeds: []int64{1, 2, 3}}
	cells, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := t.TempDir(), t.TempDir()
	f1, f2 := &fakeRunner{}, &fakeRunner{}
	if _, err := Execute(context.Background(), g, cells, Options{Dir: d1, Jobs: 1, Run: f1.run}); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	out, err := Execute(context.Background(), g, cells, Options{Dir: d2, Jobs: 2, Run: f2.run, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if f1.peak.Load() != 1 || f2.peak.Load() > 2 || f2.calls.Load() != int32(len(cells)) {
		t.Errorf("peaks %d / %d, calls %d", f1.peak.Load(), f2.peak.Load(), f2.calls.Load())
	}
	if a, b := finals(t, d1), finals(t, d2); !reflect.DeepEqual(a, b) || len(a) != len(cells) {
		t.Errorf("jobs 1 %v\njobs 2 %v", a, b)
	}
	for _, o := range out {
		if o.State != StateDone || o.Skipped {
			t.Errorf("%s: %s", o.Cell.ID, o.State)
		}
	}
	if n := strings.Count(progress.String(), ": done"); n != len(cells) {
		t.Errorf("%d progress lines:\n%s", n, progress.String())
	}

	// Again: everything is skipped. After removing one folder and
	// marking another interrupted, only those two are trained, one resumed.
	out, err = Execute(context.Background(), g, cells, Options{Dir: d2, Jobs: 2, Run: f2.run})
	if err != nil || f2.calls.Load() != int32(len(cells)) || !out[0].Skipped {
		t.Fatalf("rerun: %v, %d calls", err, f2.calls.Load())
	}
	os.RemoveAll(filepath.Join(d2, cells[4].ID))
	r, err := run.Open(filepath.Join(d2, cells[5].ID))
	if err != nil {
		t.Fatal(err)
	}
	r.Finish(train.ErrInterrupted)
	os.WriteFile(r.Path(classify.CheckpointName), []byte("x"), 0o644)
	f3 := &fakeRunner{}
	if _, err := Execute(context.Background(), g, cells, Options{Dir: d2, Jobs: 1, Run: f3.run}); err != nil {
		t.Fatal(err)
	}
	if f3.calls.Load() != 2 || f3.resumes.Load() != 1 || !slices.Equal(f3.started, []string{cells[4].ID, cells[5].ID}) {
		t.Errorf("calls %d resumes %d started %v", f3.calls.Load(), f3.resumes.Load(), f3.started)
	}
	if a, b := finals(t, d1), finals(t, d2); !reflect.DeepEqual(a, b) {
		t.Errorf("after resume: %v vs %v", a, b)
	}

	// The same folder with other flags for a recorded cell is refused.
	g2 := g
	g2.Base = []string{"--epochs=3"}
	cells2, _ := g2.Expand()
	if _, err := Execute(context.Background(), g2, cells2, Options{Dir: d2, Jobs: 1, Run: f3.run}); err == nil || !strings.Contains(err.Error(), "use another sweep folder") {
		t.Errorf("changed flags: %v", err)
	}
}

func TestExecuteDivergedAndFailed(t *testing.T) {
	g := Grid{Optimizers: []string{"bad", "sgd"}, Seeds: []int64{1}}
	cells, _ := g.Expand()
	dir := t.TempDir()
	f := &fakeRunner{}
	out, err := Execute(context.Background(), g, cells, Options{Dir: dir, Jobs: 1, Run: f.run})
	if err != nil || out[0].State != StateDiverged || out[1].State != StateDone {
		t.Fatalf("%v %+v", err, out)
	}
	// A diverged cell is a result: not trained again.
	out, err = Execute(context.Background(), g, cells, Options{Dir: dir, Jobs: 1, Run: f.run})
	if err != nil || f.calls.Load() != 2 || !out[0].Skipped || out[0].State != StateDiverged {
		t.Errorf("%v calls %d %+v", err, f.calls.Load(), out)
	}

	// A cell failing for another reason stops the sweep (serially: the
	// rest are not started) and is reported.
	g = Grid{Optimizers: []string{"sgd", "adam"}, Seeds: []int64{1, 2}}
	cells, _ = g.Expand()
	f = &fakeRunner{fail: "sgd"}
	dir = t.TempDir()
	out, err = Execute(context.Background(), g, cells, Options{Dir: dir, Jobs: 1, Run: f.run})
	if err == nil || !strings.Contains(err.Error(), "cell sgd-s1: data set missing") {
		t.Errorf("error %v", err)
	}
	if f.calls.Load() != 1 || out[0].State != StateFailed || out[1].State != StateNotRun {
		t.Errorf("calls %d, states %s %s", f.calls.Load(), out[0].State, out[1].State)
	}

	if _, err := Execute(context.Background(), g, nil, Options{Dir: dir, Jobs: 1, Run: f.run}); err == nil || !strings.Contains(err.Error(), "empty grid") {
		t.Errorf("no cells: %v", err)
	}
	if _, err := Execute(context.Background(), g, cells, Options{Dir: dir, Jobs: 0, Run: f.run}); err == nil || !strings.Contains(err.Error(), "jobs 0") {
		t.Errorf("jobs 0: %v", err)
	}
}

// fabricateRun writes a finished run folder with the given final accuracy
// (and an earlier, higher best where best > final).
func fabricateRun(t *testing.T, root, id, arm string, lr float64, seed int64, final, best float64) {
	t.Helper()
	flags := map[string]any{"optimizer": "neuroplastic", "lr": lr, "train-fraction": 1.0, "dataset": "mnist", "model": "mlp"}
	r, err := run.Create(root, run.Manifest{ID: id, Command: "train", Flags: flags, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	r.AppendMetrics(map[string]float64{"epoch": 1, "test_accuracy": best})
	r.AppendMetrics(map[string]float64{"epoch": 2, "test_accuracy": final})
	if err := r.Finish(nil); err != nil {
		t.Fatal(err)
	}
}

func TestSummarizeHandComputed(t *testing.T) {
	root := t.TempDir()
	// full: finals 0.9769, 0.9780, 0.9777; grad-only: 0.9774, 0.9776, 0.9777.
	full := []float64{0.9769, 0.9780, 0.9777}
	grad := []float64{0.9774, 0.9776, 0.9777}
	var labels []string
	for i := range full {
		s := int64(i + 1)
		fabricateRun(t, root, fmt.Sprintf("full-s%d", s), "full", 0.1, s, full[i], full[i]+0.001)
		fabricateRun(t, root, fmt.Sprintf("grad-s%d", s), "grad", 0.1, s, grad[i], grad[i])
		labels = append(labels, fmt.Sprintf(`{"id":"full-s%d","arm":"full"}`, s), fmt.Sprintf(`{"id":"grad-s%d","arm":"grad"}`, s))
	}
	os.WriteFile(filepath.Join(root, SpecFile), []byte(`{"cells":[`+strings.Join(labels, ",")+`]}`), 0o644)
	runs, err := report.Find(root)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Summarize(report.GroupRuns(runs), "grad")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Arm != "full" || rows[1].Arm != "grad" {
		t.Fatalf("rows %+v", rows)
	}
	f := rows[0]
	// Mean 97.7533..., sample std sqrt(((−.0633)²+(.0467)²+(.0167)²)/2) = 0.05686 (points).
	if math.Abs(f.Final.Mean-97.75333333) > 1e-6 || math.Abs(f.Final.Std-0.0568624) > 1e-6 {
		t.Errorf("final %+v", f.Final)
	}
	if math.Abs(f.Best.Mean-97.85333333) > 1e-6 {
		t.Errorf("best %+v", f.Best)
	}
	// Per seed: -0.05, +0.04, 0.00 -> wins 1/3 (a tie is no win), mean -0.00333.
	if f.Wins != 1 || f.Paired != 3 || math.Abs(f.Diff-(-0.01/3)) > 1e-9 || f.Baseline != "grad" {
		t.Errorf("wins %d/%d diff %v", f.Wins, f.Paired, f.Diff)
	}
	if g := rows[1]; g.Baseline != "" || !math.IsNaN(g.Diff) || math.Abs(g.Final.Mean-97.7566667) > 1e-6 {
		t.Errorf("baseline row %+v", g)
	}
	var buf bytes.Buffer
	if err := Print(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "97.75 ± 0.06") || !strings.Contains(buf.String(), "beats grad in 1/3 seeds, -0.00 points") {
		t.Errorf("printed:\n%s", buf.String())
	}
	tab := Table(rows)
	if col, err := tab.Column("wins"); err != nil || col[0] != "1" || col[1] != "" {
		t.Errorf("csv wins %q %v", col, err)
	}
	if _, err := Summarize(report.GroupRuns(runs), "nope"); !errors.Is(err, report.ErrNoBaseline) || !strings.Contains(err.Error(), `baseline "nope"`) {
		t.Errorf("unknown baseline: %v", err)
	}
}
