// Package classify owns supervised training of the classifier models
// (models.New: MLP, CNN, ResNet-18) with an optimizer (optimizer.New): the
// train.Task that train.Run drives, evaluation, checkpoints and resume.
//
// Determinism: the example order of epoch e comes from (seed, e) (data
// Batcher), CIFAR augmentation from (seed, e, batch), and dropout masks from
// an rng reseeded from (seed, e) at the start of every epoch; the model,
// batch-norm statistics and optimizer state are in the checkpoint. So a run
// resumed from the checkpoint of epoch k reaches bit for bit the weights and
// metrics of an uninterrupted run.
//
// Every example of the training set is used each epoch (the last batch is
// partial when the batch size does not divide it, as PyTorch's default).
//
// Checkpoints: the Trainer is also a train.EpochHook that writes the
// checkpoint of the epoch. Put it among the hooks after the run record, so
// the epoch's metrics line is on disk before the checkpoint that makes a
// resume skip that epoch: a crash between the two leaves the line and the
// previous checkpoint, and the resume (which drops the lines of the epochs
// it does again, run.Rewind) writes the line once more, identical. The
// checkpoint is written in the background while the next epoch trains (the
// last one at once), which only widens that window; the trainer's OnFinish
// waits for it, so it is whole when train.Run returns.
//
// Device backend: with Config.Device set, the same task trains on the
// device (device.go): parameters, gradients, batch-norm statistics,
// optimizer state and the test set live there for the whole run; a step
// uploads its batch and downloads the loss/accuracy counters; the dropout
// masks, batch order and augmentation are the CPU run's. Checkpoints and
// resume are the CPU's files (the device state is copied down to write
// them and up after reading them).
package classify

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	"github.com/plasticity-lab/plastic/train"
	"gorgonia.org/tensor"
)

// Config of a Trainer.
type Config struct {
	Epochs    int
	BatchSize int
	// Seed drives the batch order, augmentation and dropout masks.
	Seed int64
	// Augment, when not nil, is applied to every training batch (CIFAR-10).
	Augment *data.Augment
	// EvalBatch is the batch size of evaluation (BatchSize when 0).
	EvalBatch int
	// Checkpoint is the path written after every epoch by the trainer's
	// OnEpochEnd hook ("" = none).
	Checkpoint string
	// Device, when not nil, trains on that device (a GPU, or the emulator
	// in tests) instead of the CPU.
	Device *cuda.Context
}

// Trainer trains one classifier with one optimizer; it implements train.Task.
type Trainer struct {
	Model       models.Classifier
	Opt         optimizer.Optimizer
	Train, Test *data.Set
	cfg         Config

	batcher    *data.Batcher
	sess, tail *models.Session // full and partial last training batch
	eval       map[int]*models.Session
	x          []float32
	y          []int

	// epoch accumulators
	lossSum       float64
	correct, seen int
	lastTestLoss  float64
	State         State
	// Saved is the epoch of the checkpoint last written or resumed from
	// (0: none).
	Saved int

	pending      chan error // the checkpoint write in flight (OnEpochEnd)
	pendingEpoch int

	dev *deviceRun // nil: the CPU
}

// State is the trainer's part of a checkpoint.
type State struct {
	Epoch        int     `json:"epoch"` // epochs completed
	BestAccuracy float64 `json:"best_test_accuracy"`
	BestEpoch    int     `json:"best_epoch"`
}

// New prepares a trainer: it checks that the data fit the model, compiles the
// training session(s) and tells the optimizer the number of epochs.
func New(m models.Classifier, opt optimizer.Optimizer, trainSet, testSet *data.Set, cfg Config) (*Trainer, error) {
	if cfg.Epochs < 1 {
		return nil, fmt.Errorf("classify: %w", param.Errorf("epochs", "%d: want >= 1", cfg.Epochs))
	}
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("classify: %w", param.Errorf("batch size", "%d: want >= 1", cfg.BatchSize))
	}
	if cfg.EvalBatch < 1 {
		cfg.EvalBatch = cfg.BatchSize
	}
	dim := 1
	for _, d := range m.InputShape() {
		dim *= d
	}
	for _, s := range []*data.Set{trainSet, testSet} {
		if s == nil || s.N == 0 {
			return nil, fmt.Errorf("classify: empty data set")
		}
		if s.Dim != dim {
			return nil, fmt.Errorf("classify: %s examples have %d features, model %s wants %v = %d", s.Name, s.Dim, m.Name(), m.InputShape(), dim)
		}
		if s.Classes > m.Classes() {
			return nil, fmt.Errorf("classify: %s has %d classes, model %s has %d outputs", s.Name, s.Classes, m.Name(), m.Classes())
		}
	}
	t := &Trainer{Model: m, Opt: opt, Train: trainSet, Test: testSet, cfg: cfg, eval: map[int]*models.Session{}}
	t.batcher = data.NewBatcher(trainSet, cfg.BatchSize, cfg.Seed)
	if cfg.Device != nil {
		if err := t.newDevice(); err != nil {
			return nil, err
		}
		return t, nil
	}
	var err error
	if t.sess, err = m.NewSession(min(cfg.BatchSize, trainSet.N), true); err != nil {
		return nil, err
	}
	if r := trainSet.N % cfg.BatchSize; r != 0 && trainSet.N > cfg.BatchSize {
		if t.tail, err = m.NewSession(r, true); err != nil {
			return nil, err
		}
	}
	t.y = make([]int, cfg.BatchSize)
	opt.SetTotalEpochs(cfg.Epochs)
	if err := opt.Init(t.sess.ValueGrads()); err != nil {
		return nil, err
	}
	return t, nil
}

// Epochs is the planned number of epochs.
func (t *Trainer) Epochs() int { return t.cfg.Epochs }

// StepsPerEpoch is the number of batches of the training set.
func (t *Trainer) StepsPerEpoch(int) int { return t.batcher.NumBatches() }

// Step trains on batch s.Step-1 of epoch s.Epoch.
func (t *Trainer) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	if t.dev != nil {
		return t.deviceStep(s)
	}
	if s.Step == 1 {
		t.Opt.SetEpoch(s.Epoch)
		t.sess.Reseed(uint64(t.cfg.Seed), uint64(s.Epoch))
		if t.tail != nil {
			t.tail.Reseed(uint64(t.cfg.Seed), uint64(s.Epoch)|1<<32)
		}
		t.lossSum, t.correct, t.seen = 0, 0, 0
	}
	// The batch is gathered straight into the session's input tensor.
	n := min(t.cfg.BatchSize, t.Train.N-(s.Step-1)*t.cfg.BatchSize)
	sess := t.sess
	if n != sess.Batch {
		if t.tail == nil || n != t.tail.Batch {
			return 0, nil, fmt.Errorf("classify: batch of %d examples, no session for it", n)
		}
		sess = t.tail
	}
	x, ok := sess.Input().Data().([]float32)
	if !ok {
		return 0, nil, fmt.Errorf("classify: session input is %v, not float32", sess.Input().Dtype())
	}
	if got := t.batcher.Batch(s.Epoch, s.Step-1, x, t.y); got != n {
		return 0, nil, fmt.Errorf("classify: batch %d of epoch %d has %d examples, want %d", s.Step, s.Epoch, got, n)
	}
	if t.cfg.Augment != nil {
		t.cfg.Augment.Apply(s.Epoch, s.Step-1, x, n)
	}
	if err := sess.SetBatch(x, t.y[:n]); err != nil { // sets the labels; x is in place
		return 0, nil, err
	}
	if err := sess.Run(); err != nil {
		return 0, nil, err
	}
	loss := sess.Loss()
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		// Leave the weights as they are; train.NaNCheck stops the run.
		return n, map[string]float64{"loss": loss}, nil
	}
	if err := t.Opt.Step(sess.ValueGrads()); err != nil {
		var nf *optimizer.NonFiniteError
		if errors.As(err, &nf) {
			return 0, nil, fmt.Errorf("%w: %v (lower the learning rate?)", train.ErrDiverged, err)
		}
		return 0, nil, err
	}
	t.lossSum += loss * float64(n)
	t.correct += countCorrect(sess.Logits(), t.y[:n])
	t.seen += n
	return n, map[string]float64{"loss": loss}, nil
}

// countCorrect counts the rows of logits whose argmax is the label.
func countCorrect(logits *tensor.Dense, labels []int) int {
	vals := logits.Data().([]float32)
	C := logits.Shape()[1]
	c := 0
	for i, l := range labels {
		row := vals[i*C : (i+1)*C]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == l {
			c++
		}
	}
	return c
}

// EndEpoch evaluates on the test set and returns the epoch's metrics:
// train_loss, train_accuracy (over the epoch's batches, in training mode),
// test_loss, test_accuracy, best_test_accuracy and the optimizer's
// diagnostics (opt_*).
func (t *Trainer) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	testLoss, testAcc, err := t.Evaluate(t.Test)
	if err != nil {
		return nil, err
	}
	var m map[string]float64
	if t.dev != nil {
		d, err := t.dev.opt.EpochDiagnostics()
		if err != nil {
			return nil, err
		}
		m = d.Map()
	} else {
		m = t.Opt.EpochDiagnostics().Map()
	}
	if t.seen > 0 {
		m["train_loss"] = t.lossSum / float64(t.seen)
		m["train_accuracy"] = float64(t.correct) / float64(t.seen)
	}
	m["test_loss"] = testLoss
	m["test_accuracy"] = testAcc
	m["lr"] = t.Opt.LR()
	if testAcc > t.State.BestAccuracy || t.State.BestEpoch == 0 {
		t.State.BestAccuracy, t.State.BestEpoch = testAcc, s.Epoch
	}
	t.State.Epoch = s.Epoch
	m["best_test_accuracy"] = t.State.BestAccuracy
	m["best_epoch"] = float64(t.State.BestEpoch)
	t.lastTestLoss = testLoss
	return m, nil
}

// OnEpochEnd writes the checkpoint of the epoch just evaluated to
// Config.Checkpoint (nothing when it is empty, or when the test loss is
// NaN: a diverged epoch never replaces good weights). Pass the trainer
// among train.Run's hooks after the run record (see the package doc).
//
// The state is snapshot here (models.EncodeCheckpoint) and written in the
// background while the next epoch trains; the last epoch's is written
// before OnEpochEnd returns. One write is in flight at most: the next
// checkpoint, OnFinish (the end of train.Run), Flush and Close wait for it,
// and the first of them returns its error. Saved becomes the epoch once its
// file is written.
func (t *Trainer) OnEpochEnd(s *train.State) error {
	if err := t.Flush(); err != nil {
		return err
	}
	if t.cfg.Checkpoint == "" || math.IsNaN(t.lastTestLoss) || t.State.Epoch != s.Epoch {
		return nil
	}
	if t.dev != nil {
		if err := t.dev.download(); err != nil {
			return err
		}
	}
	path := t.cfg.Checkpoint
	data, err := models.EncodeCheckpoint(path, t.Model, t.State, t.Opt)
	if err != nil {
		return err
	}
	if s.Epoch == t.cfg.Epochs {
		if err := models.WriteCheckpoint(path, data); err != nil {
			return err
		}
		t.Saved = s.Epoch
		return nil
	}
	done := make(chan error, 1)
	t.pending, t.pendingEpoch = done, s.Epoch
	go func() { done <- models.WriteCheckpoint(path, data) }()
	return nil
}

// OnFinish waits for the checkpoint being written in the background (a run
// stopped or interrupted after an epoch), so that the checkpoint is whole
// when train.Run returns, and returns the write's error.
func (t *Trainer) OnFinish(_ *train.State, _ error) error { return t.Flush() }

// Flush waits for the checkpoint being written in the background, if any,
// and returns its error.
func (t *Trainer) Flush() error {
	if t.pending == nil {
		return nil
	}
	err := <-t.pending
	t.pending = nil
	if err == nil {
		t.Saved = t.pendingEpoch
	}
	return err
}

// Evaluate returns the mean cross-entropy and the accuracy (a fraction) of
// the model on set, in evaluation mode (dropout off, running statistics).
func (t *Trainer) Evaluate(set *data.Set) (loss, acc float64, err error) {
	if t.dev != nil {
		return t.deviceEvaluate(set)
	}
	bs := t.cfg.EvalBatch
	sess, err := t.evalSession(min(bs, set.N))
	if err != nil {
		return 0, 0, err
	}
	x, ok := sess.Input().Data().([]float32)
	if !ok {
		return 0, 0, fmt.Errorf("classify: session input is %v, not float32", sess.Input().Dtype())
	}
	var sum float64
	correct := 0
	for lo := 0; lo < set.N; lo += sess.Batch {
		n := min(sess.Batch, set.N-lo)
		copy(x, set.X[lo*set.Dim:(lo+n)*set.Dim])
		clear(x[n*set.Dim:]) // rows past the end are padding, ignored below
		if err := sess.Run(); err != nil {
			return 0, 0, err
		}
		labels := set.Y[lo : lo+n]
		lg := sess.Logits()
		sum += sumXent(lg, labels)
		correct += countCorrect(lg, labels)
	}
	return sum / float64(set.N), float64(correct) / float64(set.N), nil
}

func (t *Trainer) evalSession(b int) (*models.Session, error) {
	if s, ok := t.eval[b]; ok {
		return s, nil
	}
	s, err := t.Model.NewSession(b, false)
	if err != nil {
		return nil, err
	}
	t.eval[b] = s
	return s, nil
}

// sumXent is the summed cross-entropy of the first len(labels) rows.
func sumXent(logits *tensor.Dense, labels []int) float64 {
	vals := logits.Data().([]float32)
	C := logits.Shape()[1]
	var s float64
	for i, l := range labels {
		row := vals[i*C : (i+1)*C]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		var e float64
		for _, v := range row {
			e += math.Exp(float64(v - mx))
		}
		s += float64(mx) + math.Log(e) - float64(row[l])
	}
	return s
}

// SaveCheckpoint writes model, optimizer and trainer state to path.
func (t *Trainer) SaveCheckpoint(path string) error {
	if err := t.Flush(); err != nil {
		return err
	}
	if t.dev != nil {
		if err := t.dev.download(); err != nil {
			return err
		}
	}
	return models.SaveCheckpoint(path, t.Model, t.State, t.Opt)
}

// Resume restores model, optimizer and trainer state from a checkpoint and
// returns the epoch to start from (the one after the checkpoint's).
func (t *Trainer) Resume(path string) (startEpoch int, err error) {
	var st State
	if err := models.LoadCheckpoint(path, t.Model, &st, t.Opt); err != nil {
		return 0, err
	}
	if st.Epoch < 1 || st.Epoch > t.cfg.Epochs {
		return 0, fmt.Errorf("checkpoint %s is of epoch %d, outside 1..%d", path, st.Epoch, t.cfg.Epochs)
	}
	t.State, t.Saved = st, st.Epoch
	t.Opt.SetTotalEpochs(t.cfg.Epochs)
	if t.dev != nil {
		if err := t.dev.upload(); err != nil {
			return 0, err
		}
	}
	return st.Epoch + 1, nil
}

// Close waits for a checkpoint write in flight (call Flush first to see its
// error) and releases the sessions (and the device memory).
func (t *Trainer) Close() {
	t.Flush()
	if t.dev != nil {
		t.dev.free()
		return
	}
	t.sess.Close()
	if t.tail != nil {
		t.tail.Close()
	}
	for _, s := range t.eval {
		s.Close()
	}
}

// CheckpointName is the checkpoint's file name inside a run folder.
const CheckpointName = "checkpoint.bin"
