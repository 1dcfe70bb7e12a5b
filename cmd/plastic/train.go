package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
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
func init() {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "model", Value: "mlp", Usage: "network: " + strings.Join(models.Names(), ", ")},
		&cli.StringFlag{Name: "dataset", Value: "mnist", Usage: "data: " + strings.Join(classify.Datasets, ", ") + " (synthetic: random data shaped like the model's input, for timing)"},
		&cli.IntFlag{Name: "epochs", Value: 10, Usage: "epochs to train"},
		&cli.IntFlag{Name: "batch-size", Value: 128, Usage: "mini-batch size"},
		&cli.IntFlag{Name: "eval-batch", Usage: "batch size of the test-set evaluation (0 = --batch-size)"},
		&cli.IntFlag{Name: "seeds", Value: 1, Usage: "train `N` runs with seeds --seed .. --seed+N-1, each its own run folder"},
		&cli.Float64Flag{Name: "train-fraction", Value: 1, Usage: "train on a random fraction F in (0,1] of the training set (test set unchanged)"},
		&cli.IntFlag{Name: "n-train", Usage: "keep the first N training examples (0 = all; synthetic: 2048)"},
		&cli.IntFlag{Name: "n-test", Usage: "keep the first N test examples (0 = all; synthetic: 512)"},
		&cli.BoolFlag{Name: "augment", Value: true, Usage: "CIFAR-10: random crop (pad 4) and horizontal flip of training images"},
		&cli.StringFlag{Name: "resume", Usage: "continue the run `RUN` (its folder, or its id under --out) from its last checkpoint (from the start when it has none), with its own flags; only --epochs may grow"},
		&cli.BoolFlag{Name: "fail-on-divergence", Value: true, Usage: "a training loss that grows over 100x over the first epoch fails the run as diverged (=false: a warning)"},
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
	failDiverging  bool
	opt            optimizer.Config
}

func jobFromCLI(c *cli.Context) (trainJob, error) {
	j := trainJob{
		model: c.String("model"), dataset: strings.ToLower(c.String("dataset")),
		epochs: c.Int("epochs"), batch: c.Int("batch-size"), evalBatch: c.Int("eval-batch"),
		fraction: c.Float64("train-fraction"), nTrain: c.Int("n-train"), nTest: c.Int("n-test"),
		augment: c.Bool("augment"), dataDir: c.String(flagDataDir), failDiverging: c.Bool("fail-on-divergence"),
	}
	if !slices.Contains(models.Names(), j.model) {
		return j, fmt.Errorf("--model %q: unknown model (want one of %s)", j.model, strings.Join(models.Names(), ", "))
	}
	if !slices.Contains(classify.Datasets, j.dataset) {
		return j, fmt.Errorf("--dataset %q: unknown data set (want one of %s)", j.dataset, strings.Join(classify.Datasets, ", "))
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
		// The data first: a missing or bad data set fails before any run
		// folder is made.
		sets, err := loadTrainData(c, j, seed)
		if err != nil {
			return err
		}
		r, ctx, stop, err := startRun(c, "train")
		if err != nil {
			return err
		}
		err = trainOne(ctx, c, r, j, seed, sets, 0)
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

// resumeTraining continues the run folder dir from its checkpoint (from
// its first epoch when it has none) with the flags recorded in its
// manifest. Everything is checked on a read-only view of the folder before
// its lock is taken, and again after: a refused resume changes nothing.
func resumeTraining(c *cli.Context, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, run.ManifestFile)); err != nil {
		alt := filepath.Join(c.String(flagOut), dir)
		if _, err2 := os.Stat(filepath.Join(alt, run.ManifestFile)); err2 != nil {
			return fmt.Errorf("--resume %q: no run folder there or under --out %q (%v)", dir, c.String(flagOut), err)
		}
		dir = alt
	}
	view, err := run.Open(dir)
	if err != nil {
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	if _, _, err := resumePlan(c, dir, view.Manifest); err != nil {
		return err
	}
	if h, busy := run.Held(dir); busy {
		return fmt.Errorf("--resume: %w", &run.InUseError{Dir: dir, Holder: h})
	}
	r, err := run.Reopen(dir)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	j, changes, err := resumePlan(c, dir, r.Manifest)
	if err == nil {
		err = replayFlags(c, dir, r.Manifest)
	}
	if err != nil {
		r.Close()
		return err
	}
	sets, err := loadTrainData(c, j, r.Manifest.Seed)
	if err != nil {
		r.Close()
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	for _, ch := range changes {
		r.Manifest.Changes = append(r.Manifest.Changes, ch)
		r.Manifest.Flags[ch.Flag] = j.epochs
		if !c.Bool(flagQuiet) {
			slog.Info("resume: changed --"+ch.Flag, "run", dir, "from", ch.From, "to", ch.To)
		}
	}
	ctx, stop := attachRun(c, r)
	defer stop()
	return trainOne(ctx, c, r, j, r.Manifest.Seed, sets, trainResume)
}

// Flags that a resume may set to other values than the run's: where files
// are and how the command talks, not what is computed. --epochs may grow.
var resumeSafeFlags = map[string]bool{"resume": true, flagDataDir: true, flagDevice: true, flagQuiet: true, flagOut: true, flagConfig: true}

// resumePlan checks that the run m (folder dir) can be resumed with the
// flags set on this command line and returns its job (the recorded flags,
// with more --epochs if asked) and the changes to record. Flags that
// differ from the run's are refused by name: a resumed run is the same run.
func resumePlan(c *cli.Context, dir string, m run.Manifest) (trainJob, []run.Change, error) {
	var none trainJob
	if m.Command != "train" {
		return none, nil, fmt.Errorf("--resume %s: a %q run, not a train run (nothing was changed)", dir, m.Command)
	}
	if m.Status == run.StatusFailed && strings.Contains(m.Error, train.ErrDiverged.Error()) {
		return none, nil, fmt.Errorf("--resume %s: the run diverged (%s); resuming would diverge again (nothing was changed)", dir, m.Error)
	}
	recEpochs := 0
	if v, ok := m.Flags["epochs"].(float64); ok {
		recEpochs = int(v)
	}
	var conflicts []string
	var changes []run.Change
	epochs := recEpochs
	for _, ctx := range c.Lineage() {
		var flags []cli.Flag
		switch {
		case ctx.Command != nil:
			flags = ctx.Command.Flags
		case ctx.App != nil:
			flags = ctx.App.Flags
		}
		for _, f := range flags {
			name := f.Names()[0]
			if name == "help" || resumeSafeFlags[name] || !ctx.IsSet(name) {
				continue
			}
			now := flagValue(ctx.Value(name))
			var rec any
			var has bool
			switch name {
			case flagSeed:
				rec, has = m.Seed, true
			case flagName:
				rec, has = m.ID, true
			default:
				rec, has = m.Flags[name]
			}
			if has && sameValue(now, rec) {
				continue
			}
			if name == "epochs" {
				n := ctx.Int("epochs")
				if n > recEpochs {
					epochs = n
					changes = append(changes, run.Change{Time: time.Now().UTC(), Flag: "epochs", From: fmt.Sprint(recEpochs), To: fmt.Sprint(n)})
					continue
				}
				conflicts = append(conflicts, fmt.Sprintf("--epochs=%d (the run has %d; it may only grow)", n, recEpochs))
				continue
			}
			if has {
				conflicts = append(conflicts, fmt.Sprintf("--%s=%v (the run has %v)", name, now, plainValue(rec)))
			} else {
				conflicts = append(conflicts, fmt.Sprintf("--%s=%v (the run did not record it)", name, now))
			}
		}
	}
	if len(conflicts) > 0 {
		return none, nil, fmt.Errorf("--resume %s: %s differ from the run's flags; a resumed run keeps its flags (only --epochs may grow, and --data-dir, --device, --quiet may change): start a new run for other settings (nothing was changed)",
			dir, strings.Join(conflicts, ", "))
	}
	if m.Status == run.StatusDone && len(changes) == 0 {
		return none, nil, fmt.Errorf("--resume %s: the run already finished its %d epochs; nothing to resume (more --epochs would continue it; nothing was changed)", dir, recEpochs)
	}
	j, err := jobFromManifest(c, dir, m)
	if err != nil {
		return none, nil, err
	}
	j.epochs = epochs
	return j, changes, nil
}

// jobFromManifest is the job of the run's recorded train flags (on a
// scratch flag set: the command's context is left alone).
func jobFromManifest(c *cli.Context, dir string, m run.Manifest) (trainJob, error) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(fs); err != nil {
			return trainJob{}, err
		}
	}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		v, ok := m.Flags[name]
		if !ok || name == "resume" || name == flagName || v == nil {
			continue
		}
		if s, ok := recordedString(v); ok {
			if err := fs.Set(name, s); err != nil {
				return trainJob{}, fmt.Errorf("--resume %s: recorded flag --%s=%s: %w", dir, name, s, err)
			}
		}
	}
	j, err := jobFromCLI(cli.NewContext(c.App, fs, nil))
	if err != nil {
		return j, fmt.Errorf("--resume %s: %w", dir, err)
	}
	j.dataDir = c.String(flagDataDir)
	if dd, ok := m.Flags[flagDataDir].(string); ok && !c.IsSet(flagDataDir) {
		j.dataDir = dd
	}
	return j, nil
}

// replayFlags sets the run's recorded train flags on this command's context
// (those the command line did not set), so the manifest of the resumed run
// and the flags the command reads agree.
func replayFlags(c *cli.Context, dir string, m run.Manifest) error {
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		v, ok := m.Flags[name]
		if !ok || name == "resume" || name == flagName || v == nil || c.IsSet(name) {
			continue
		}
		if s, ok := recordedString(v); ok {
			if err := c.Set(name, s); err != nil {
				return fmt.Errorf("--resume %s: recorded flag --%s=%s: %w", dir, name, s, err)
			}
		}
	}
	return nil
}

// recordedString writes a manifest flag value as a command-line value.
func recordedString(v any) (string, bool) {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%.0f", x), true
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ","), true
	case nil:
		return "", false
	}
	return fmt.Sprint(v), true
}

// sameValue compares a flag's value with a manifest's (decoded JSON).
func sameValue(now, rec any) bool {
	a, err1 := json.Marshal(now)
	b, err2 := json.Marshal(rec)
	if err1 != nil || err2 != nil {
		return false
	}
	var x, y any
	json.Unmarshal(a, &x)
	json.Unmarshal(b, &y)
	return reflect.DeepEqual(x, y)
}

func plainValue(v any) string {
	if s, ok := recordedString(v); ok {
		return s
	}
	return "none"
}

// trainSets are a job's data sets (and the subset indices kept).
type trainSets struct {
	train, test *data.Set
	idx         []int
}

// trainResume marks trainOne's resume of a run.
const trainResume = 1

// trainOne builds model and optimizer and trains one seed into run r (with
// resume == trainResume from its checkpoint, or from epoch 1 in the same
// folder when the run has none).
func trainOne(ctx context.Context, c *cli.Context, r *run.Run, j trainJob, seed int64, sets trainSets, resume int) error {
	trainSet, testSet, idx := sets.train, sets.test, sets.idx
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
	dev, closeDev, err := runDevice(c, r)
	if err != nil {
		return err
	}
	defer closeDev()
	cfg.Device = dev
	tr, err := classify.New(m, opt, trainSet, testSet, cfg)
	if err != nil {
		return err
	}
	defer tr.Close()
	start := 1
	if resume == trainResume {
		if _, serr := os.Stat(cfg.Checkpoint); serr == nil {
			if start, err = tr.Resume(cfg.Checkpoint); err != nil {
				return fmt.Errorf("resume: %w", err)
			}
		} else if errors.Is(serr, os.ErrNotExist) {
			if !c.Bool(flagQuiet) {
				slog.Info("resume: no checkpoint yet, training again from epoch 1 in the same folder", "run", r.Dir)
			}
		} else {
			return fmt.Errorf("resume: %w", serr)
		}
		if start > j.epochs {
			return fmt.Errorf("resume: the run already finished its %d epochs", j.epochs)
		}
		// Lines of the epochs done again (written before a crash could
		// write their checkpoint) are dropped: they come again, the same.
		dropped, err := r.Rewind(start)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		if dropped > 0 && !c.Bool(flagQuiet) {
			slog.Info("resume: dropped the metrics lines of the epochs trained again", "run", r.Dir, "lines", dropped)
		}
		if last := r.LastMetrics()["epoch"]; int(last) < start-1 {
			slog.Warn("resume: the metrics lines of some finished epochs are missing (a crash of an older version)", "run", r.Dir,
				"last_line_epoch", int(last), "checkpoint_epoch", start-1)
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
	growth := &train.LossGrowth{}
	if !j.failDiverging {
		growth.Warn = func(msg string) {
			slog.Warn("training is diverging (--fail-on-divergence=false: going on)", "run", r.Dir, "why", msg)
			r.Summary["divergence"] = msg
		}
	}
	t0 := time.Now()
	// The run record first (the metrics line), the checkpoint (tr) after
	// the checks: see classify's package doc.
	err = train.Run(ctx, tr, train.Options{StartEpoch: start, Hooks: []any{r, train.NaNCheck{}, growth, tr, prog, rate}})
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
		if tr.Saved > 0 {
			return fmt.Errorf("%s: %w; %s keeps the finite weights of epoch %d", label, err, classify.CheckpointName, tr.Saved)
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

// loadTrainData loads the data sets of a job (classify.LoadData) and
// says which files it read.
func loadTrainData(c *cli.Context, j trainJob, seed int64) (trainSets, error) {
	tr, te, idx, err := classify.LoadData(classify.DataOptions{Dataset: j.dataset, Model: j.model, Dir: j.dataDir,
		NTrain: j.nTrain, NTest: j.nTest, Fraction: j.fraction, Seed: seed})
	if err != nil {
		return trainSets{}, err
	}
	logDataFiles(c, tr, te)
	return trainSets{tr, te, idx}, nil
}
