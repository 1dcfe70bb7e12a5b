package run

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plasticity-lab/plastic/train"
)

// stepTask runs epochs of steps, cancelling or failing at a given global step.
type stepTask struct {
	epochs, steps int
	cancelAt      int
	cancel        context.CancelFunc
	failAt        int
	n             int
}

func (t *stepTask) Epochs() int           { return t.epochs }
func (t *stepTask) StepsPerEpoch(int) int { return t.steps }
func (t *stepTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	t.n++
	if t.n == t.cancelAt {
		t.cancel()
	}
	if t.n == t.failAt {
		return 0, nil, errors.New("weights exploded")
	}
	return 1, nil, nil
}
func (t *stepTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	return map[string]float64{"accuracy": float64(s.Epoch) / 10}, nil
}

func readManifest(t *testing.T, r *Run) Manifest {
	t.Helper()
	b, err := os.ReadFile(r.Path(ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readSummary(t *testing.T, r *Run) map[string]any {
	t.Helper()
	b, err := os.ReadFile(r.Path(SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newRun(t *testing.T) *Run {
	t.Helper()
	r, err := Create(t.TempDir(), Manifest{ID: NewID("rule train", time.Now(), 7), Command: "rule train", Seed: 7,
		Args: []string{"plastic", "rule", "train"}, Flags: map[string]any{"lr": 0.1}, Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunDone(t *testing.T) {
	r := newRun(t)
	if m := readManifest(t, r); m.Status != StatusRunning || m.GoVersion == "" || m.Start.IsZero() || m.Flags["lr"] != 0.1 {
		t.Fatalf("manifest at start %+v", m)
	}
	if !strings.HasPrefix(filepath.Base(r.Dir), "rule-train-") || !strings.Contains(r.Dir, "-s7-") {
		t.Fatalf("run id %s", r.Dir)
	}
	r.Summary["test_accuracy"] = 0.9
	if err := train.Run(context.Background(), &stepTask{epochs: 3, steps: 2}, train.Options{Hooks: []any{r}}); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, r)
	if m.Status != StatusDone || m.End == nil || m.Error != "" {
		t.Fatalf("manifest %+v", m)
	}
	ms, err := r.Metrics()
	if err != nil || len(ms) != 3 || ms[2]["accuracy"] != 0.3 || ms[2]["epoch"] != 3 {
		t.Fatalf("metrics %v %v", ms, err)
	}
	sum := readSummary(t, r)
	if sum["status"] != "done" || sum["test_accuracy"] != 0.9 || sum["last_metrics"].(map[string]any)["accuracy"] != 0.3 {
		t.Fatalf("summary %v", sum)
	}
	// No temporary files are left behind: manifest, metrics, summary and
	// the lock file.
	ents, _ := os.ReadDir(r.Dir)
	if len(ents) != 4 {
		t.Fatalf("run folder holds %d files", len(ents))
	}
}

func TestRunInterruptedKeepsMetrics(t *testing.T) {
	r := newRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// 2 steps per epoch: cancelled during epoch 3, after 2 epochs ended.
	err := train.Run(ctx, &stepTask{epochs: 5, steps: 2, cancelAt: 5, cancel: cancel}, train.Options{Hooks: []any{r}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("err %v", err)
	}
	m := readManifest(t, r)
	if m.Status != StatusInterrupted || m.End == nil || !strings.Contains(m.Error, "interrupted") {
		t.Fatalf("manifest %+v", m)
	}
	ms, _ := r.Metrics()
	if len(ms) != 2 {
		t.Fatalf("kept %d metrics lines, want 2", len(ms))
	}
	if readSummary(t, r)["status"] != "interrupted" {
		t.Fatal("summary status")
	}
	// Resume: reopen, run the remaining epochs, metrics appended.
	r2, err := Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if r2.LastMetrics()["epoch"] != 2 || r2.Manifest.Seed != 7 {
		t.Fatalf("reopened %+v", r2.Manifest)
	}
	if err := train.Run(context.Background(), &stepTask{epochs: 5, steps: 2}, train.Options{StartEpoch: 3, Hooks: []any{r2}}); err != nil {
		t.Fatal(err)
	}
	ms, _ = r2.Metrics()
	m = readManifest(t, r2)
	if len(ms) != 5 || ms[4]["epoch"] != 5 || m.Status != StatusDone || len(m.Resumed) != 1 || m.Error != "" {
		t.Fatalf("after resume: %d lines, manifest %+v", len(ms), m)
	}
}

func TestRunFailed(t *testing.T) {
	r := newRun(t)
	err := train.Run(context.Background(), &stepTask{epochs: 3, steps: 2, failAt: 3}, train.Options{Hooks: []any{r}})
	if err == nil {
		t.Fatal("no error")
	}
	m := readManifest(t, r)
	if m.Status != StatusFailed || !strings.Contains(m.Error, "weights exploded") {
		t.Fatalf("manifest %+v", m)
	}
	if ms, _ := r.Metrics(); len(ms) != 1 {
		t.Fatalf("%d metrics lines", len(ms))
	}
}

func TestMetricsNonFiniteAndTornLine(t *testing.T) {
	r := newRun(t)
	if err := r.AppendMetrics(map[string]float64{"loss": math.NaN(), "a": math.Inf(1), "b": math.Inf(-1), "c": 1.5}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(r.Path(MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"loss": 0.`)
	f.Close()
	ms, err := r.Metrics()
	if err != nil || len(ms) != 1 {
		t.Fatalf("%v %v", ms, err)
	}
	m := ms[0]
	if !math.IsNaN(m["loss"]) || !math.IsInf(m["a"], 1) || !math.IsInf(m["b"], -1) || m["c"] != 1.5 {
		t.Fatalf("read back %v", m)
	}
	// A bad line in the middle is an error naming the line.
	os.WriteFile(r.Path(MetricsFile), []byte("{\"a\":1}\nnot json\n{\"a\":2}\n"), 0o644)
	if _, err := r.Metrics(); err == nil || !strings.Contains(err.Error(), "metrics.jsonl:2") {
		t.Fatalf("bad line: %v", err)
	}
	if err := r.Finish(nil); err != nil {
		t.Fatal(err)
	}
}

func TestCreateErrors(t *testing.T) {
	root := t.TempDir()
	if _, err := Create(root, Manifest{ID: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root, Manifest{ID: "x"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := Create(root, Manifest{ID: "../x"}); err == nil {
		t.Fatal("id with a slash accepted")
	}
	if _, err := Open(filepath.Join(root, "none")); err == nil {
		t.Fatal("opened a missing run")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	if err := WriteFileAtomic(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	ents, _ := os.ReadDir(dir)
	if string(b) != "two" || len(ents) != 1 {
		t.Fatalf("content %q, %d entries", b, len(ents))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "f"), nil); err == nil {
		t.Fatal("wrote into a missing folder")
	}
}
