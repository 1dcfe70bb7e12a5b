package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/report"
	"github.com/plasticity-lab/plastic/run"
)

// envChild makes the test binary act as the plastic program, so that the
// sweep's cells (run as os.Executable() train ...) run in tests too.
const envChild = "PLASTIC_TEST_RUN_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runSweepCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var buf bytes.Buffer
	app.Writer = &buf
	app.ErrWriter = &buf
	err := app.Run(append([]string{"plastic"}, args...))
	return buf.String(), err
}

// metricsOf reads every run of a sweep folder: id -> per-epoch test
// accuracy and train loss.
func metricsOf(t *testing.T, dir string) map[string][]float64 {
	t.Helper()
	runs, err := report.Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, r := range runs {
		if !r.Done() {
			t.Errorf("%s: %s %s", r.ID, r.Status, r.Error)
		}
		for _, m := range r.Metrics {
			out[r.ID] = append(out[r.ID], m["test_accuracy"], m["train_loss"])
		}
	}
	return out
}

func TestSweepSyntheticJobsAndResume(t *testing.T) {
	t.Setenv(envChild, "1")
	out := t.TempDir()
	// --optimizers and a variant setting --optimizer conflict: a clear error.
	if msg, err := runSweepCLI(t, "-q", "--out", out, "sweep", "--name", "x", "--optimizers", "sgd",
		"--variant", "np:--optimizer=neuroplastic,--lr=0.05"); err == nil || !strings.Contains(err.Error(), "variant np sets --optimizer") {
		t.Fatalf("conflict: %v\n%s", err, msg)
	}
	grid := []string{"sweep", "--dataset", "synthetic", "--epochs", "2", "--batch-size", "32", "--seeds", "2", "--baseline", "sgd",
		"--variant", "sgd:--optimizer=sgd,--lr=0.05", "--variant", "np:--optimizer=neuroplastic,--lr=0.05",
		"--variant", "go:--optimizer=neuroplastic,--lr=0.05,--np-mode=ablation_grad_only"}
	tail := []string{"--", "--n-train", "96", "--n-test", "40"}
	args := func(name string, jobs string) []string {
		a := append([]string{"-q", "--out", out, "--seed", "3"}, grid...)
		a = append(a, "--name", name, "--jobs", jobs)
		return append(a, tail...)
	}
	msg, err := runSweepCLI(t, args("one", "1")...)
	if err != nil {
		t.Fatalf("jobs 1: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "beats sgd in") || !strings.Contains(msg, "summary: ") {
		t.Errorf("summary missing:\n%s", msg)
	}
	if msg, err := runSweepCLI(t, args("two", "2")...); err != nil {
		t.Fatalf("jobs 2: %v\n%s", err, msg)
	}
	one, two := metricsOf(t, filepath.Join(out, "one")), metricsOf(t, filepath.Join(out, "two"))
	if len(one) != 6 || !reflect.DeepEqual(one, two) {
		t.Errorf("jobs 1 and jobs 2 differ:\n%v\n%v", one, two)
	}
	if _, ok := one["np-s4"]; !ok {
		t.Errorf("cells %v (seeds from --seed 3)", one)
	}
	if msg, err := runSweepCLI(t, "--out", out, "sweep", "status", "one"); err != nil || !strings.Contains(msg, "6 cells: 6 done") {
		t.Errorf("status of a local sweep: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(filepath.Join(out, "one", "summary.csv"))
	if err != nil || !strings.HasPrefix(string(b), "dataset,model,arm,lr,fraction,runs,unfinished,final_acc_mean_pct") {
		t.Errorf("summary.csv: %v\n%s", err, b)
	}

	// Running again trains nothing; a removed cell is trained again.
	if err := os.RemoveAll(filepath.Join(out, "one", "go-s3")); err != nil {
		t.Fatal(err)
	}
	msg, err = runSweepCLI(t, append([]string{"--out", out, "--seed", "3"}, append(append(grid, "--name", "one"), tail...)...)...)
	if err != nil {
		t.Fatal(err, msg)
	}
	if n := strings.Count(msg, "already, skipped"); n != 5 || !strings.Contains(msg, "go-s3: done") {
		t.Errorf("%d skipped:\n%s", n, msg)
	}
	if again := metricsOf(t, filepath.Join(out, "one")); !reflect.DeepEqual(again, two) {
		t.Errorf("retrained cell differs:\n%v\n%v", again, two)
	}
	var m run.Manifest
	r, err := run.Open(filepath.Join(out, "one", "go-s3"))
	if err != nil {
		t.Fatal(err)
	}
	m = r.Manifest
	if m.Seed != 3 || m.Flags["np-mode"] != "ablation_grad_only" || m.Flags["n-train"] != float64(96) {
		t.Errorf("manifest seed %d flags %v", m.Seed, m.Flags)
	}
}

func TestSweepBadInput(t *testing.T) {
	out := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd,rmsprop"}, `invalid --optimizer "rmsprop"`},
		{[]string{"sweep", "--name", "x"}, "empty grid"},
		{[]string{"sweep", "--optimizers", "sgd"}, "--name: required"},
		{[]string{"sweep", "--name", "x", "--variant", "a:--np-mode=nope"}, `--np-mode "nope"`},
		{[]string{"sweep", "--name", "x", "--variant", "a:--no-such-flag=1"}, "no-such-flag"},
		{[]string{"sweep", "--name", "x", "--variant", "a:@" + filepath.Join(out, "missing.flags")}, "missing.flags"},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--baseline", "adam"}, `--baseline "adam"`},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--seeds", "0"}, "--seeds 0"},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--jobs", "0"}, "--jobs 0"},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--executor", "pbs"}, `--executor "pbs"`},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--partition", "gpu"}, "--partition is a Slurm setting"},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--executor", "slurm", "--jobs", "2"}, "--max-parallel"},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--executor", "slurm", "--sbatch-arg=--array=0-3"}, "sets --array itself"},
		{[]string{"sweep", "--name", "x", "--optimizers", "sgd", "--executor", "slurm", "--partition", "a b"}, "--partition"},
		{[]string{"sweep", "status"}, "NAME"},
		{[]string{"sweep", "status", "nosuch"}, "nosuch"},
		{[]string{"sweep", "--name", "nothere", "--summary-only"}, "nothere"},
		{[]string{"plot", filepath.Join(out, "missing-run")}, "missing-run"},
		{[]string{"plot"}, "at least one run"},
	}
	for _, c := range cases {
		msg, err := runSweepCLI(t, append([]string{"-q", "--out", out}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q\n%s", c.args, err, c.want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "x")); err == nil {
		t.Error("a failed sweep left a folder")
	}
}

func TestSweepVariantFromFlagsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "best.flags")
	os.WriteFile(file, []byte("# a preset\n--optimizer=neuroplastic\n--lr=0.1\n--np-param-wise\n"), 0o644)
	msg, err := runSweepCLI(t, "--out", dir, "sweep", "--name", "d", "--dry-run", "--variant", "best:@"+file, "--variant", "b2:@"+file+",--lr=0.5", "--variant", "a:--optimizer=adam,--lr=1e-3", "--seeds", "2")
	if err != nil {
		t.Fatal(err, msg)
	}
	for _, want := range []string{"best-s1\t--optimizer=neuroplastic --lr=0.1 --np-param-wise --model=mlp", "a-s2\t--optimizer=adam --lr=1e-3", "b2-s1\t--optimizer=neuroplastic --lr=0.1 --np-param-wise --lr=0.5 --model", "6 cells"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in\n%s", want, msg)
		}
	}
}

// fabricateCell writes a finished train run folder with per-epoch metrics.
func fabricateCell(t *testing.T, root, id string, flags map[string]any, seed int64, acc []float64) {
	t.Helper()
	r, err := run.Create(root, run.Manifest{ID: id, Command: "train", Flags: flags, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range acc {
		m := map[string]float64{"epoch": float64(i + 1), "test_accuracy": a, "test_loss": 1 - a, "train_loss": 1.2 - a,
			"opt_grad_norm": 2 - a, "opt_update_norm": 1 + a}
		if flags["optimizer"] == "neuroplastic" {
			m["opt_alpha_mean"], m["opt_alpha_std"] = a, a/2
		}
		r.AppendMetrics(m)
	}
	if err := r.Finish(nil); err != nil {
		t.Fatal(err)
	}
}

func TestPlotFabricatedRuns(t *testing.T) {
	root := t.TempDir()
	sw := filepath.Join(root, "sw")
	for _, frac := range []float64{0.1, 0.5, 1} {
		for _, lr := range []float64{0.01, 0.1} {
			for seed := int64(1); seed <= 2; seed++ {
				for _, mode := range []string{"rule_based", "ablation_grad_only"} {
					flags := map[string]any{"optimizer": "neuroplastic", "np-mode": mode, "lr": lr, "train-fraction": frac, "dataset": "fashion-mnist", "model": "mlp"}
					base := 0.7 + 0.2*frac + lr + 0.01*float64(seed)
					if mode == "rule_based" {
						base += 0.005
					}
					id := fmt.Sprintf("%s-lr%g-f%g-s%d", mode, lr, frac, seed)
					fabricateCell(t, sw, id, flags, seed, []float64{base - 0.1, base - 0.05, base})
				}
			}
		}
	}
	fabricateCell(t, filepath.Join(root, "other"), "adam-run", map[string]any{"optimizer": "adam", "lr": 0.001, "train-fraction": 1.0, "dataset": "fashion-mnist", "model": "mlp"}, 1, []float64{0.8, 0.85})
	to := filepath.Join(root, "figs")
	msg, err := runSweepCLI(t, "plot", "--to", to, "--baseline", "neuroplastic-grad-only", sw, filepath.Join(root, "other", "adam-run"))
	if err != nil {
		t.Fatal(err, msg)
	}
	for _, f := range []string{"curves-test-accuracy", "curves-test-loss", "curves-train-loss", "diag-alpha-mean", "diag-alpha-std",
		"diag-update-norm", "diag-grad-norm", "lowdata-accuracy", "lowdata-gap", "lr-sensitivity"} {
		checkPNG(t, filepath.Join(to, f+".png"))
		checkSVG(t, filepath.Join(to, f+".svg"))
		if _, err := os.Stat(filepath.Join(to, f+".csv")); err != nil {
			t.Error(err)
		}
	}
	// The gap is +0.5 points at every fraction and lr (seed-wise, std 0).
	tab, err := plots.ReadCSV(filepath.Join(to, "lowdata-gap.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ys, err := tab.Floats("y")
	if err != nil || len(ys) != 2*3 {
		t.Fatalf("gap rows %v: %v", tab.Rows, err)
	}
	errs, _ := tab.Floats("err")
	for i, y := range ys {
		if math.Abs(y-0.5) > 1e-9 || math.Abs(errs[i]) > 1e-9 {
			t.Errorf("gap row %v", tab.Rows[i])
		}
	}
	// Adam has no alpha: it is not in the alpha figure, nor in the update
	// norms (NeuroPlastic runs are there).
	if b, _ := os.ReadFile(filepath.Join(to, "diag-update-norm.csv")); strings.Contains(string(b), "adam") {
		t.Errorf("adam in diagnostics:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "curves-test-accuracy.csv")); !strings.Contains(string(b), "adam") {
		t.Errorf("adam missing from the curves:\n%s", b)
	}
	if _, err := runSweepCLI(t, "plot", "--baseline", "sgd", sw); err == nil || !strings.Contains(err.Error(), `--baseline "sgd"`) {
		t.Errorf("unknown baseline: %v", err)
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("%s: %v", path, b)
	}
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q", path, root)
	}
}
