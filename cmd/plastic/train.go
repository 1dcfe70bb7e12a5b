package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/classify"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph/gemm"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// Data sets of `plastic train`.
var trainDatasets = []string{"mnist", "fashion-mnist", "cifar10", "synthetic"}

func init() {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "model", Value: "mlp", Usage: "network: " + strings.Join(models.Names(), ", ")},
		&cli.StringFlag{Name: "dataset", Value: "mnist", Usage: "data: " + strings.Join(trainDatasets, ", ") + " (synthetic: random data shaped like the model's input, for timing)"},
		&cli.IntFlag{Name: "epochs", Value: 10, Usage: "epochs to train"},
		&cli.IntFlag{Name: "batch-size", Value: 128, Usage: "mini-batch size"},
		&cli.IntFlag{Name: "eval-batch", Usage: "batch size of the test-set evaluation (0 = --batch-size)"},
		&cli.IntFlag{Name: "seeds", Value: 1, Usage: "train `N` runs with seeds --seed .. --seed+N-1, each its own run folder"},
		&cli.Float64Flag{Name: "train-fraction", Value: 1, Usage: "train on a random fraction F in (0,1] of the training set (test set unchanged)"},
		&cli.IntFlag{Name: "n-train", Usage: "keep the first N training examples (0 = all; synthetic: 2048)"},
		&cli.IntFlag{Name: "n-test", Usage: "keep the first N test examples (0 = all; synthetic: 512)"},
		&cli.BoolFlag{Name: "augment", Value: true, Usage: "CIFAR-10: random crop (pad 4) and horizontal flip of training images"},
		&cli.StringFlag{Name: "resume", Usage: "continue the interrupted run `RUN` (its folder, or its id under --out) from its last checkpoint"},
	}
	flags = append(flags, optimizer.Flags()...)
	flags = append(flags, runFlags()...)
	register(&cli.Command{
		Name:  "train",
		Usage: "train a classifier (MLP, CNN, ResNet-18) with NeuroPlastic, SGD, Adam or AdamW",
		Description: `Trains with cross-entropy and records per epoch train loss/accuracy, test loss/accuracy,
best accuracy, the optimizer's diagnostics, wall time and samples/s in the run folder
(metrics.jsonl, summary.json) and writes checkpoint.bin after every epoch.

Examples:
  plastic train --model mlp --dataset mnist --optimizer neuroplastic --lr 0.1 \
      --np-warmup-epochs 2 --np-plasticity-scale 2 --epochs 10 --seeds 3
  plastic train --model mlp --dataset fashion-mnist --train-fraction 0.1 --optimizer adam --lr 1e-3
  plastic train --model resnet18 --dataset cifar10 --optimizer sgd --lr 0.1 --epochs 50
  plastic train --model resnet18 --dataset synthetic --epochs 1 --n-train 512   (timing)
  plastic train --resume runs/train-20260101T000000Z-s1-ab12`,
		Flags:  flags,
		Action: trainAction,
	})
}

// trainJob is everything one training run needs, from flags or a manifest.
type trainJob struct {
	model, dataset string
	epochs, batch  int
	evalBatch      int
	fraction       float64
	nTrain, nTest  int
	augment        bool
	dataDir        string
	opt            optimizer.Config
}

func jobFromCLI(c *cli.Context) (trainJob, error) {
	j := trainJob{
		model: c.String("model"), dataset: strings.ToLower(c.String("dataset")),
		epochs: c.Int("epochs"), batch: c.Int("batch-size"), evalBatch: c.Int("eval-batch"),
		fraction: c.Float64("train-fraction"), nTrain: c.Int("n-train"), nTest: c.Int("n-test"),
		augment: c.Bool("augment"), dataDir: c.String(flagDataDir),
	}
	if !slices.Contains(models.Names(), j.model) {
		return j, fmt.Errorf("--model %q: unknown model (want one of %s)", j.model, strings.Join(models.Names(), ", "))
	}
	if !slices.Contains(trainDatasets, j.dataset) {
		return j, fmt.Errorf("--dataset %q: unknown data set (want one of %s)", j.dataset, strings.Join(trainDatasets, ", "))
	}
	if !(j.fraction > 0 && j.fraction <= 1) {
		return j, fmt.Errorf("--train-fraction %v: want a fraction in (0,1]", j.fraction)
	}
	if j.epochs < 1 {
		return j, fmt.Errorf("--epochs %d: want >= 1", j.epochs)
	}
	if j.batch < 1 {
		return j, fmt.Errorf("--batch-size %d: want >= 1", j.batch)
	}
	if j.evalBatch < 0 {
		return j, fmt.Errorf("--eval-batch %d: want >= 0", j.evalBatch)
	}
	if j.nTrain < 0 || j.nTest < 0 {
		return j, fmt.Errorf("--n-train %d / --n-test %d: want >= 0", j.nTrain, j.nTest)
	}
	var err error
	if j.opt, err = optimizer.ConfigFromCLI(c); err != nil {
		return j, err
	}
	return j, nil
}

func trainAction(c *cli.Context) error {
	if dir := c.String("resume"); dir != "" {
		return resumeTraining(c, dir)
	}
	j, err := jobFromCLI(c)
	if err != nil {
		return err
	}
	n := c.Int("seeds")
	if n < 1 {
		return fmt.Errorf("--seeds %d: want >= 1", n)
	}
	base, name := c.Int64(flagSeed), c.String(flagName)
	var firstErr error
	for i := 0; i < n; i++ {
		seed := base + int64(i)
		if name != "" && n > 1 {
			if err := c.Set(flagName, fmt.Sprintf("%s-s%d", name, seed)); err != nil {
				return err
			}
		}
		// Each run records (and its id names) its own seed.
		if err := c.Set(flagSeed, fmt.Sprint(seed)); err != nil {
			return err
		}
		r, ctx, stop, err := startRun(c, "train")
		if err != nil {
			return err
		}
		err = trainOne(ctx, c, r, j, seed, false)
		stop()
		err = finishRun(c, err)
		if err != nil {
			if errors.Is(err, train.ErrInterrupted) {
				return err
			}
			if n == 1 {
				return err
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("seed %d: %w", seed, err)
			}
		}
	}
	return firstErr
}

// resumeTraining reopens a run folder and continues it from its checkpoint
// with the flags recorded in its manifest.
func resumeTraining(c *cli.Context, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, run.ManifestFile)); err != nil {
		alt := filepath.Join(c.String(flagOut), dir)
		if _, err2 := os.Stat(filepath.Join(alt, run.ManifestFile)); err2 != nil {
			return fmt.Errorf("--resume %q: no run folder there or under --out %q (%v)", dir, c.String(flagOut), err)
		}
		dir = alt
	}
	r, ctx, stop, err := resumeRun(c, dir)
	if err != nil {
		return err
	}
	defer stop()
	if r.Manifest.Command != "train" {
		return fmt.Errorf("--resume %s: a %q run, not a train run", dir, r.Manifest.Command)
	}
	// Replay the recorded flags of the train command onto this context.
	own := map[string]bool{}
	for _, f := range c.Command.Flags {
		own[f.Names()[0]] = true
	}
	for name, v := range r.Manifest.Flags {
		if !own[name] || name == "resume" || name == flagName || v == nil {
			continue
		}
		s := fmt.Sprint(v)
		if f, ok := v.(float64); ok {
			s = fmt.Sprint(f)
			if f == math.Trunc(f) && math.Abs(f) < 1e15 {
				s = fmt.Sprintf("%.0f", f)
			}
		}
		if err := c.Set(name, s); err != nil {
			return fmt.Errorf("--resume %s: recorded flag --%s=%s: %w", dir, name, s, err)
		}
	}
	j, err := jobFromCLI(c)
	if err != nil {
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	if dd, ok := r.Manifest.Flags[flagDataDir].(string); ok && !c.IsSet(flagDataDir) {
		j.dataDir = dd
	}
	return trainOne(ctx, c, r, j, r.Manifest.Seed, true)
}

// trainOne loads the data, builds model and optimizer and trains one seed
// into run r (from its checkpoint when resuming).
func trainOne(ctx context.Context, c *cli.Context, r *run.Run, j trainJob, seed int64, resume bool) error {
	trainSet, testSet, idx, err := loadTrainData(j, seed)
	if err != nil {
		return err
	}
	if idx != nil {
		// The low-data subset, so the run can be reproduced exactly.
		if err := r.WriteJSON("train-indices.json", idx); err != nil {
			return err
		}
	}
	m, err := models.New(j.model, trainSet.Shape, max(trainSet.Classes, testSet.Classes, 2), uint64(seed))
	if err != nil {
		return err
	}
	opt, err := optimizer.New(j.opt)
	if err != nil {
		return err
	}
	cfg := classify.Config{Epochs: j.epochs, BatchSize: j.batch, EvalBatch: j.evalBatch, Seed: seed, Checkpoint: r.Path(classify.CheckpointName)}
	if j.dataset == "cifar10" && j.augment {
		cfg.Augment = data.CIFARAugment(seed)
	}
	tr, err := classify.New(m, opt, trainSet, testSet, cfg)
	if err != nil {
		return err
	}
	defer tr.Close()
	start := 1
	if resume {
		if start, err = tr.Resume(cfg.Checkpoint); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if start > j.epochs {
			return fmt.Errorf("resume: the run already finished its %d epochs", j.epochs)
		}
	}
	r.Summary["model"], r.Summary["dataset"], r.Summary["optimizer"] = j.model, j.dataset, j.opt.Name
	r.Summary["seed"], r.Summary["epochs"], r.Summary["train_examples"] = seed, j.epochs, trainSet.N
	r.Summary["checkpoint"] = classify.CheckpointName
	r.Summary["blas"] = gemm.Name()
	label := fmt.Sprintf("%s/%s/%s s%d", j.model, j.dataset, j.opt.Name, seed)
	prog := train.NewProgress(label, c.Bool(flagQuiet))
	var out io.Writer = c.App.Writer
	if out == nil {
		out = os.Stdout
	}
	rate := &rateHook{}
	t0 := time.Now()
	err = train.Run(ctx, tr, train.Options{StartEpoch: start, Hooks: []any{r, train.NaNCheck{}, prog, rate}})
	r.Summary["wall_seconds"] = time.Since(t0).Seconds()
	if rate.n > 0 {
		r.Summary["samples_per_s"] = rate.sum / float64(rate.n)
	}
	if last := r.LastMetrics(); last != nil {
		r.Summary["final_test_accuracy"] = last["test_accuracy"]
		r.Summary["best_test_accuracy"] = tr.State.BestAccuracy
		r.Summary["best_epoch"] = tr.State.BestEpoch
		if err == nil {
			fmt.Fprintf(out, "%s: final test accuracy %.4f, best %.4f (epoch %d), %.0f samples/s; run %s\n",
				label, last["test_accuracy"], tr.State.BestAccuracy, tr.State.BestEpoch, last["samples_per_s"], r.Dir)
		}
	}
	if errors.Is(err, train.ErrDiverged) {
		if tr.State.Epoch > 0 {
			return fmt.Errorf("%s: %w; %s keeps the finite weights of epoch %d", label, err, classify.CheckpointName, tr.State.Epoch)
		}
		return fmt.Errorf("%s: %w; no checkpoint was written", label, err)
	}
	return err
}

// rateHook averages the epochs' samples/s.
type rateHook struct {
	sum float64
	n   int
}

func (h *rateHook) OnEpochEnd(s *train.State) error {
	h.sum += s.EpochMetrics["samples_per_s"]
	h.n++
	return nil
}

// loadTrainData loads and preprocesses the data set of a job: MNIST and
// Fashion-MNIST scaled to [0,1] then (x-0.5)/0.5; CIFAR-10 normalised per
// channel; synthetic random data shaped like the model's input. idx holds
// the training indices kept by --train-fraction (nil when all are used).
func loadTrainData(j trainJob, seed int64) (trainSet, testSet *data.Set, idx []int, err error) {
	switch j.dataset {
	case "synthetic":
		shape := []int{3, 32, 32}
		if j.model == "mlp" {
			shape = []int{1, 28, 28}
		}
		nTrain, nTest := j.nTrain, j.nTest
		if nTrain == 0 {
			nTrain = 2048
		}
		if nTest == 0 {
			nTest = 512
		}
		rng := rand.New(rand.NewSource(seed))
		trainSet, testSet = syntheticSet(shape, nTrain, rng), syntheticSet(shape, nTest, rng)
	default:
		trainSet, testSet, err = data.Load(j.dataset, data.Options{Dir: j.dataDir, Seed: seed, NTrain: j.nTrain, NTest: j.nTest})
		if err != nil {
			return nil, nil, nil, err
		}
		switch j.dataset {
		case "cifar10":
			if err := data.NormalizeChannels(trainSet, data.CIFARMean, data.CIFARStd); err != nil {
				return nil, nil, nil, err
			}
			if err := data.NormalizeChannels(testSet, data.CIFARMean, data.CIFARStd); err != nil {
				return nil, nil, nil, err
			}
		default:
			data.Standardize(trainSet, 0.5, 0.5)
			data.Standardize(testSet, 0.5, 0.5)
		}
	}
	if j.fraction < 1 {
		if trainSet, idx, err = data.Fraction(trainSet, j.fraction, rand.New(rand.NewSource(seed))); err != nil {
			return nil, nil, nil, err
		}
	}
	return trainSet, testSet, idx, nil
}

// syntheticSet is n examples of N(0,1) features with uniform labels in 0..9.
func syntheticSet(shape []int, n int, rng *rand.Rand) *data.Set {
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	s := &data.Set{Name: "synthetic", N: n, Dim: dim, Classes: 10, Shape: slices.Clone(shape), X: make([]float32, n*dim), Y: make([]int, n)}
	for i := range s.X {
		s.X[i] = float32(rng.NormFloat64())
	}
	for i := range s.Y {
		s.Y[i] = rng.Intn(10)
	}
	return s
}
