package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/run"
)

func runTrain(t *testing.T, out string, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var buf bytes.Buffer
	app.Writer = &buf
	app.ErrWriter = &buf
	err := app.Run(append([]string{"plastic", "-q", "--out", out}, args...))
	return buf.String(), err
}

func readMetrics(t *testing.T, dir string) []map[string]float64 {
	t.Helper()
	r, err := run.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestTrainCommandSyntheticSeedsAndResume(t *testing.T) {
	out := t.TempDir()
	common := []string{"--seed", "4", "train", "--model", "mlp", "--dataset", "synthetic", "--n-train", "300", "--n-test", "100",
		"--batch-size", "64", "--optimizer", "adam", "--lr", "0.001"}
	msg, err := runTrain(t, out, append(common, "--epochs", "3", "--seeds", "2", "--name", "full")...)
	if err != nil {
		t.Fatalf("train: %v\n%s", err, msg)
	}
	for _, id := range []string{"full-s4", "full-s5"} {
		ms := readMetrics(t, filepath.Join(out, id))
		if len(ms) != 3 {
			t.Fatalf("%s: %d metrics lines", id, len(ms))
		}
		for _, k := range []string{"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "samples_per_s", "best_test_accuracy"} {
			if _, ok := ms[2][k]; !ok {
				t.Errorf("%s: metric %s missing", id, k)
			}
		}
		if a := ms[2]["test_accuracy"]; a < 0 || a > 1 {
			t.Errorf("test accuracy %v not a fraction", a)
		}
		if _, err := os.Stat(filepath.Join(out, id, "checkpoint.bin")); err != nil {
			t.Error(err)
		}
	}
	var m1, m2 run.Manifest
	b1, _ := os.ReadFile(filepath.Join(out, "full-s4", run.ManifestFile))
	b2, _ := os.ReadFile(filepath.Join(out, "full-s5", run.ManifestFile))
	json.Unmarshal(b1, &m1)
	json.Unmarshal(b2, &m2)
	if m1.Seed != 4 || m2.Seed != 5 || m1.Status != run.StatusDone {
		t.Errorf("manifests: seed %d / %d, status %s", m1.Seed, m2.Seed, m1.Status)
	}

	// An "interrupted" run: 2 of 3 epochs done (trained with --epochs 2, the
	// manifest then says 3 and interrupted), resumed to the end.
	common[1] = "5"
	if msg, err := runTrain(t, out, append(common, "--epochs", "2", "--name", "part")...); err != nil {
		t.Fatalf("train: %v\n%s", err, msg)
	}
	part := filepath.Join(out, "part")
	r, err := run.Open(part)
	if err != nil {
		t.Fatal(err)
	}
	r.Manifest.Flags["epochs"] = 3
	r.Manifest.Status = run.StatusInterrupted
	if err := r.WriteManifest(); err != nil {
		t.Fatal(err)
	}
	if msg, err := runTrain(t, out, "train", "--resume", "part"); err != nil {
		t.Fatalf("resume: %v\n%s", err, msg)
	}
	full, resumed := readMetrics(t, filepath.Join(out, "full-s5")), readMetrics(t, part)
	if len(resumed) != 3 {
		t.Fatalf("resumed run has %d metrics lines", len(resumed))
	}
	for _, k := range []string{"train_loss", "train_accuracy", "test_loss", "test_accuracy"} {
		if full[2][k] != resumed[2][k] {
			t.Errorf("epoch 3 %s: uninterrupted %v, resumed %v", k, full[2][k], resumed[2][k])
		}
	}
	ma, _ := models.New("mlp", []int{1, 28, 28}, 10, 7)
	mb, _ := models.New("mlp", []int{1, 28, 28}, 10, 8)
	if err := models.LoadCheckpoint(filepath.Join(out, "full-s5", "checkpoint.bin"), ma, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := models.LoadCheckpoint(filepath.Join(part, "checkpoint.bin"), mb, nil, nil); err != nil {
		t.Fatal(err)
	}
	for i, p := range ma.Params() {
		if !slices.Equal(p.Value.Float32s(), mb.Params()[i].Value.Float32s()) {
			t.Errorf("final %s of the resumed run differs from the uninterrupted run", p.Name)
		}
	}
}

func TestTrainCommandDivergingLR(t *testing.T) {
	out := t.TempDir()
	msg, err := runTrain(t, out, "train", "--model", "mlp", "--dataset", "synthetic", "--n-train", "256", "--n-test", "64",
		"--optimizer", "sgd", "--lr", "1e12", "--epochs", "3", "--name", "div")
	if err == nil || !strings.Contains(err.Error(), "diverged") {
		t.Fatalf("want a divergence error, got %v\n%s", err, msg)
	}
	b, _ := os.ReadFile(filepath.Join(out, "div", run.ManifestFile))
	var m run.Manifest
	json.Unmarshal(b, &m)
	if m.Status != run.StatusFailed || !strings.Contains(m.Error, "diverged") {
		t.Errorf("manifest status %q error %q", m.Status, m.Error)
	}
}

func TestTrainCommandBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--model", "vgg16"}, `--model "vgg16"`},
		{[]string{"train", "--dataset", "imagenet"}, `--dataset "imagenet"`},
		{[]string{"train", "--train-fraction", "0"}, "--train-fraction 0"},
		{[]string{"train", "--train-fraction", "1.5"}, "--train-fraction 1.5"},
		{[]string{"train", "--epochs", "0"}, "--epochs 0"},
		{[]string{"train", "--seeds", "0", "--dataset", "synthetic"}, "--seeds 0"},
		{[]string{"train", "--optimizer", "rmsprop"}, "rmsprop"},
		{[]string{"train", "--resume", "no-such-run"}, "no-such-run"},
	} {
		out, err := runTrain(t, t.TempDir(), c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %q\n%s", c.args, err, c.want, out)
		}
	}
}

func TestTrainCommandFractionIndicesRecorded(t *testing.T) {
	out := t.TempDir()
	msg, err := runTrain(t, out, "train", "--model", "mlp", "--dataset", "synthetic", "--n-train", "200", "--n-test", "50",
		"--batch-size", "50", "--epochs", "1", "--train-fraction", "0.25", "--name", "frac")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(filepath.Join(out, "frac", "train-indices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx) != 50 {
		t.Fatalf("%d indices for a quarter of 200 examples, want 50", len(idx))
	}
	for i, v := range idx {
		if v < 0 || v >= 200 || (i > 0 && v <= idx[i-1]) {
			t.Fatalf("indices not increasing within [0,200): %v", idx)
		}
	}
}
