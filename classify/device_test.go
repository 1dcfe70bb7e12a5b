package classify

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/plasticity-lab/plastic/cuda/devtest"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	"github.com/plasticity-lab/plastic/train"
)

// The device backend of the task against the CPU task: full training
// steps (forward, backward, optimizer) of the MLP and of a narrow ResNet
// from the same weights, batch and dropout stream, and whole runs through
// train.Run with evaluation, checkpoints and resume.

func images(n int, seed uint64) *data.Set {
	r := rand.New(rand.NewPCG(seed, 3))
	s := &data.Set{Name: "images", N: n, Dim: 3 * 8 * 8, Classes: 10, Shape: []int{3, 8, 8}, X: make([]float32, n*192), Y: make([]int, n)}
	for i := range s.X {
		s.X[i] = float32(r.NormFloat64())
	}
	for i := range s.Y {
		s.Y[i] = r.IntN(10)
	}
	return s
}

func deviceTrainer(t *testing.T, mk func() models.Classifier, cfg optimizer.Config, trainSet, testSet *data.Set, c Config) *Trainer {
	t.Helper()
	o, err := optimizer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(mk(), o, trainSet, testSet, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func paramsOf(m models.Classifier) [][]float32 {
	var out [][]float32
	for _, p := range m.Params() {
		out = append(out, append([]float32(nil), p.Value.Float32s()...))
	}
	return out
}

func relMax(got, want []float32) float64 {
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	return d / math.Max(s, 1e-30)
}

// stepBoth runs the first training step of the CPU and the device task
// and compares every parameter, normwise per tensor: its value (<= tol
// relative) and, for optimizers whose step is smooth in the gradient, its
// change (<= tol relative). Adam's first step is about lr*sign(g), so an
// element whose gradient is at float32 noise (a cancelling sum) may move
// by +lr on one side and -lr on the other: for Adam and the adamw hybrid
// base only the values are compared.
func stepBoth(t *testing.T, mk func() models.Classifier, cfg optimizer.Config, trainSet *data.Set, batch int, tol float64) {
	t.Helper()
	dev := devtest.Open(t)
	cpu := deviceTrainer(t, mk, cfg, trainSet, trainSet, Config{Epochs: 2, BatchSize: batch, Seed: 4})
	gpu := deviceTrainer(t, mk, cfg, trainSet, trainSet, Config{Epochs: 2, BatchSize: batch, Seed: 4, Device: dev})
	p0 := paramsOf(cpu.Model)
	st := &train.State{Epoch: 1, Step: 1, Epochs: 2}
	_, mc, err := cpu.Step(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	_, mg, err := gpu.Step(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(mc["loss"]-mg["loss"]) > 1e-4*math.Abs(mc["loss"]) {
		t.Fatalf("loss: cpu %v, device %v", mc["loss"], mg["loss"])
	}
	if err := gpu.dev.download(); err != nil {
		t.Fatal(err)
	}
	pc, pg := paramsOf(cpu.Model), paramsOf(gpu.Model)
	for i, p := range cpu.Model.Params() {
		if e := relMax(pg[i], pc[i]); !(e <= tol) {
			t.Fatalf("%s: value off by %.3g", p.Name, e)
		}
		if cfg.Name == optimizer.NameAdam || cfg.Name == optimizer.NameAdamW || cfg.NP.HybridBase == optimizer.BaseAdamW {
			continue
		}
		dc, dg := make([]float32, len(pc[i])), make([]float32, len(pc[i]))
		for j := range dc {
			dc[j], dg[j] = pc[i][j]-p0[i][j], pg[i][j]-p0[i][j]
		}
		if e := relMax(dg, dc); !(e <= tol) {
			t.Fatalf("%s: change off by %.3g", p.Name, e)
		}
	}
}

func mlpModel() models.Classifier {
	m, err := models.New("mlp", []int{12}, 3, 5)
	if err != nil {
		panic(err)
	}
	return m
}

func narrowResNet() models.Classifier {
	m, err := models.NewResNet([]int{3, 8, 8}, 10, 8, 3)
	if err != nil {
		panic(err)
	}
	return m
}

func optCfg(name string, lr float64, mod func(c *optimizer.Config)) optimizer.Config {
	c := optimizer.DefaultConfig()
	c.Name, c.LR = name, lr
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestDeviceMLPStepMatchesCPU(t *testing.T) {
	for _, cfg := range []optimizer.Config{
		optCfg("sgd", 0.1, func(c *optimizer.Config) { c.WeightDecay = 5e-4 }),
		optCfg("adam", 1e-3, nil),
		optCfg("adamw", 1e-3, func(c *optimizer.Config) { c.WeightDecay = 0.01 }),
		optCfg("neuroplastic", 0.1, nil),
		optCfg("neuroplastic", 0.05, func(c *optimizer.Config) {
			c.NP.HybridBase, c.NP.Controller, c.WeightDecay = optimizer.BaseAdamW, optimizer.ControllerPerGroup, 0.01
		}),
	} {
		t.Run(cfg.Name+"/"+cfg.NP.HybridBase, func(t *testing.T) {
			stepBoth(t, mlpModel, cfg, blobs(40, 12, 1), 16, 1e-4)
		})
	}
}

// The CPU's own float32 ResNet gradients are up to ~3e-4 off float64
// (models/device_test.go; the device's are within 1e-4 of it), so values
// and changes are held to 5e-4 of the CPU's: batch-norm biases start at 0,
// so after one step their value is their change.
func TestDeviceNarrowResNetStepMatchesCPU(t *testing.T) {
	for _, cfg := range []optimizer.Config{
		optCfg("sgd", 0.1, func(c *optimizer.Config) { c.WeightDecay = 5e-4 }),
		optCfg("neuroplastic", 0.05, func(c *optimizer.Config) { c.NP.Residual = optimizer.ResidualOrthogonal }),
	} {
		t.Run(cfg.Name, func(t *testing.T) {
			stepBoth(t, narrowResNet, cfg, images(8, 1), 4, 5e-4)
		})
	}
}

// Two epochs of the MLP through train.Run on both backends give the same
// metrics (losses to 1e-4, accuracies equal, diagnostics to 1e-3), and a
// device run interrupted after epoch 1 and resumed from its checkpoint
// ends with the uninterrupted device run's checkpoint, byte for byte.
func TestDeviceRunMatchesCPUAndResumes(t *testing.T) {
	dev := devtest.Open(t)
	cfg := optCfg("neuroplastic", 0.1, func(c *optimizer.Config) { c.NP.WarmupEpochs = 1 })
	trainSet, testSet := blobs(70, 12, 1), blobs(30, 12, 2)
	dir := t.TempDir()
	run := func(c Config, hooks ...any) (*Trainer, *recorder, error) {
		tr := deviceTrainer(t, mlpModel, cfg, trainSet, testSet, c)
		rec := &recorder{}
		err := train.Run(context.Background(), tr, train.Options{Hooks: append([]any{rec, tr}, hooks...)})
		return tr, rec, err
	}
	base := Config{Epochs: 2, BatchSize: 32, Seed: 9}
	_, recCPU, err := run(base)
	if err != nil {
		t.Fatal(err)
	}
	full := base
	full.Device, full.Checkpoint = dev, filepath.Join(dir, "full.bin")
	_, recDev, err := run(full)
	if err != nil {
		t.Fatal(err)
	}
	for e := range recCPU.epochs {
		for k, want := range recCPU.epochs[e] {
			got, ok := recDev.epochs[e][k]
			tol := 1e-3 * math.Max(math.Abs(want), 1e-3)
			switch k {
			case "train_loss", "test_loss":
				tol = 1e-4 * math.Abs(want)
			case "train_accuracy", "test_accuracy", "best_test_accuracy", "opt_steps":
				tol = 0
			case "opt_alpha_median":
				tol = 1.8 / 64
			}
			if !ok || math.Abs(got-want) > tol {
				t.Errorf("epoch %d %s: cpu %v, device %v", e+1, k, want, got)
			}
		}
	}
	part := base
	part.Device, part.Checkpoint = dev, filepath.Join(dir, "part.bin")
	ctx, cancel := context.WithCancel(context.Background())
	first := deviceTrainer(t, mlpModel, cfg, trainSet, testSet, part)
	if err := train.Run(ctx, first, train.Options{Hooks: []any{first, stopAfter{1, cancel}}}); !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("want an interruption, got %v", err)
	}
	resumed := deviceTrainer(t, mlpModel, cfg, trainSet, testSet, part)
	start, err := resumed.Resume(part.Checkpoint)
	if err != nil || start != 2 {
		t.Fatalf("resume: %d %v", start, err)
	}
	if err := train.Run(context.Background(), resumed, train.Options{StartEpoch: start, Hooks: []any{resumed}}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(full.Checkpoint)
	b, _ := os.ReadFile(part.Checkpoint)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("the resumed device run's checkpoint differs from the uninterrupted one's")
	}
}

// A diverging learning rate stops a device run like a CPU run.
func TestDeviceDivergingLRFails(t *testing.T) {
	dev := devtest.Open(t)
	tr := deviceTrainer(t, mlpModel, optCfg("sgd", 1e9, nil), blobs(100, 12, 1), blobs(30, 12, 2), Config{Epochs: 5, BatchSize: 32, Seed: 9, Device: dev})
	err := train.Run(context.Background(), tr, train.Options{Hooks: []any{train.NaNCheck{}}})
	if !errors.Is(err, train.ErrDiverged) {
		t.Fatalf("want ErrDiverged, got %v", err)
	}
}
