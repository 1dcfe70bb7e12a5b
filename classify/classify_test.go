package classify

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	"github.com/plasticity-lab/plastic/train"
)

// blobs is a small 3-class set: class c has mean +-1 on a few features.
func blobs(n, dim int, seed uint64) *data.Set {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &data.Set{Name: "blobs", N: n, Dim: dim, Classes: 3, Shape: []int{dim}, X: make([]float32, n*dim), Y: make([]int, n)}
	for i := 0; i < n; i++ {
		c := i % 3
		s.Y[i] = c
		for j := 0; j < dim; j++ {
			v := 0.5 * r.NormFloat64()
			if j%3 == c {
				v += 1
			}
			s.X[i*dim+j] = float32(v)
		}
	}
	return s
}

func newTrainer(t *testing.T, opt string, lr float64, epochs int, ckpt string) *Trainer {
	t.Helper()
	m, err := models.New("mlp", []int{12}, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	cfg := optimizer.DefaultConfig()
	cfg.Name, cfg.LR = opt, lr
	o, err := optimizer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(m, o, blobs(100, 12, 1), blobs(30, 12, 2), Config{Epochs: epochs, BatchSize: 32, Seed: 9, Checkpoint: ckpt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// recorder keeps every epoch's metrics.
type recorder struct{ epochs []map[string]float64 }

func (r *recorder) OnEpochEnd(s *train.State) error {
	m := map[string]float64{}
	for k, v := range s.EpochMetrics {
		if k != "epoch_seconds" && k != "samples_per_s" {
			m[k] = v
		}
	}
	r.epochs = append(r.epochs, m)
	return nil
}

func TestTinyMLPOverfits(t *testing.T) {
	tr := newTrainer(t, "adam", 0.01, 15, "")
	rec := &recorder{}
	if err := train.Run(context.Background(), tr, train.Options{Hooks: []any{train.NaNCheck{}, rec}}); err != nil {
		t.Fatal(err)
	}
	first, last := rec.epochs[0], rec.epochs[len(rec.epochs)-1]
	if last["train_accuracy"] < 0.97 || last["train_loss"] > first["train_loss"]/3 {
		t.Errorf("did not fit: first %v, last %v", first, last)
	}
	if _, acc, _ := tr.Evaluate(tr.Train); acc < 0.97 {
		t.Errorf("train-set accuracy in eval mode %.3f", acc)
	}
	for _, k := range []string{"train_loss", "train_accuracy", "test_loss", "test_accuracy", "best_test_accuracy", "opt_grad_norm"} {
		if _, ok := last[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
}

// stopAfter cancels the run's context once epoch n is done.
type stopAfter struct {
	n      int
	cancel func()
}

func (h stopAfter) OnEpochEnd(s *train.State) error {
	if s.Epoch == h.n {
		h.cancel()
	}
	return nil
}

func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, opt := range []string{"neuroplastic", "adam"} {
		dir := t.TempDir()
		full := newTrainer(t, opt, 0.01, 4, filepath.Join(dir, "full.bin"))
		recFull := &recorder{}
		if err := train.Run(context.Background(), full, train.Options{Hooks: []any{recFull, full}}); err != nil {
			t.Fatal(err)
		}

		part := filepath.Join(dir, "part.bin")
		first := newTrainer(t, opt, 0.01, 4, part)
		ctx, cancel := context.WithCancel(context.Background())
		recPart := &recorder{}
		err := train.Run(ctx, first, train.Options{Hooks: []any{recPart, first, stopAfter{2, cancel}}})
		if !errors.Is(err, train.ErrInterrupted) {
			t.Fatalf("%s: want an interruption, got %v", opt, err)
		}
		if err := first.Flush(); err != nil { // epoch 2's checkpoint was written in the background
			t.Fatal(err)
		}
		resumed := newTrainer(t, opt, 0.01, 4, part)
		start, err := resumed.Resume(part)
		if err != nil || start != 3 {
			t.Fatalf("%s: resume: start %d, %v", opt, start, err)
		}
		if err := train.Run(context.Background(), resumed, train.Options{StartEpoch: start, Hooks: []any{recPart, resumed}}); err != nil {
			t.Fatal(err)
		}
		if len(recPart.epochs) != 4 {
			t.Fatalf("%s: %d epochs recorded", opt, len(recPart.epochs))
		}
		for e := range recFull.epochs {
			for k, v := range recFull.epochs[e] {
				if w := recPart.epochs[e][k]; w != v && !(math.IsNaN(v) && math.IsNaN(w)) {
					t.Errorf("%s: epoch %d %s: uninterrupted %v, resumed %v", opt, e+1, k, v, w)
				}
			}
		}
		a, _ := os.ReadFile(filepath.Join(dir, "full.bin"))
		b, _ := os.ReadFile(part)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: final checkpoints (weights, optimizer state) differ", opt)
		}
	}
}

// checkpointAt records the trainer state of the checkpoint file found after
// each epoch's end, once the background write is flushed.
type checkpointAt struct {
	t      *testing.T
	tr     *Trainer
	path   string
	epochs []int
}

func (h *checkpointAt) OnEpochEnd(s *train.State) error {
	if err := h.tr.Flush(); err != nil {
		return err
	}
	var st State
	m, _ := models.New("mlp", []int{12}, 3, 5)
	if err := models.LoadCheckpoint(h.path, m, &st, nil); err != nil {
		h.t.Fatal(err)
	}
	h.epochs = append(h.epochs, st.Epoch)
	return nil
}

func TestCheckpointWrittenInBackground(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt.bin")
	tr := newTrainer(t, "adam", 0.01, 3, ckpt)
	h := &checkpointAt{t: t, tr: tr, path: ckpt}
	if err := train.Run(context.Background(), tr, train.Options{Hooks: []any{tr, h}}); err != nil {
		t.Fatal(err)
	}
	if len(h.epochs) != 3 || h.epochs[0] != 1 || h.epochs[1] != 2 || h.epochs[2] != 3 {
		t.Errorf("checkpoints after flushing hold epochs %v, want [1 2 3]", h.epochs)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".ckpt.bin.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// The last epoch's checkpoint is complete when Run returns, unflushed.
	ckpt2 := filepath.Join(dir, "ckpt2.bin")
	tr2 := newTrainer(t, "adam", 0.01, 2, ckpt2)
	if err := train.Run(context.Background(), tr2, train.Options{Hooks: []any{tr2}}); err != nil {
		t.Fatal(err)
	}
	if tr2.Saved != 2 {
		t.Errorf("Saved = %d after the last epoch, want 2", tr2.Saved)
	}
	var st State
	m, _ := models.New("mlp", []int{12}, 3, 5)
	if err := models.LoadCheckpoint(ckpt2, m, &st, nil); err != nil || st.Epoch != 2 {
		t.Fatalf("checkpoint after Run: epoch %d, %v", st.Epoch, err)
	}
	for i, p := range tr2.Model.Params() {
		if !slices.Equal(p.Value.Float32s(), m.Params()[i].Value.Float32s()) {
			t.Fatalf("checkpoint weights of %s differ from the trained ones", p.Name)
		}
	}
}

func TestCheckpointWriteErrorStopsTheRun(t *testing.T) {
	ckpt := filepath.Join(t.TempDir(), "missing-dir", "ckpt.bin")
	tr := newTrainer(t, "adam", 0.01, 3, ckpt)
	rec := &recorder{}
	err := train.Run(context.Background(), tr, train.Options{Hooks: []any{rec, tr}})
	if err == nil || !strings.Contains(err.Error(), "missing-dir") || len(rec.epochs) != 2 {
		t.Fatalf("want epoch 1's failed background write reported at epoch 2 (%d epochs ran), got %v", len(rec.epochs), err)
	}
	if tr.Saved != 0 {
		t.Errorf("Saved = %d, no checkpoint was written", tr.Saved)
	}
}

func TestDivergingLRFails(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt.bin")
	tr := newTrainer(t, "sgd", 1e9, 5, ckpt)
	err := train.Run(context.Background(), tr, train.Options{Hooks: []any{train.NaNCheck{}, tr}})
	if !errors.Is(err, train.ErrDiverged) {
		t.Fatalf("want ErrDiverged, got %v", err)
	}
	if !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("message does not point at the learning rate: %v", err)
	}
	// Whatever checkpoint exists holds finite weights only.
	if _, statErr := os.Stat(ckpt); statErr == nil {
		m, _ := models.New("mlp", []int{12}, 3, 5)
		if err := models.LoadCheckpoint(ckpt, m, nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			for _, v := range p.Value.Float32s() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite weight in %s", p.Name)
				}
			}
		}
	}
	// The live weights are finite too: the bad step was not applied.
	for _, p := range tr.Model.Params() {
		for _, v := range p.Value.Float32s() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("non-finite live weight in %s", p.Name)
			}
		}
	}
}

func TestNewRejectsMismatchedData(t *testing.T) {
	m, _ := models.New("mlp", []int{12}, 3, 5)
	o, _ := optimizer.New(optimizer.DefaultConfig())
	if _, err := New(m, o, blobs(10, 7, 1), blobs(10, 7, 2), Config{Epochs: 1, BatchSize: 4}); err == nil || !strings.Contains(err.Error(), "features") {
		t.Errorf("want a feature-count error, got %v", err)
	}
	if _, err := New(m, o, blobs(10, 12, 1), blobs(10, 12, 2), Config{Epochs: 0, BatchSize: 4}); !isParam(err, "epochs") {
		t.Errorf("want an epochs error, got %v", err)
	}
}

// isParam says whether err is about the parameter name (param.Error).
func isParam(err error, name string) bool {
	var pe *param.Error
	return errors.As(err, &pe) && pe.Name == name
}
