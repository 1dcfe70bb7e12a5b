package plasticity

import (
	"context"
	"fmt"
	"math/rand"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/train"
)

// TrainTask is rule-based training as a train.Task: Passes epochs over
// Train (each pass in a fresh order from Seed when Shuffle, else in data
// order), Chunk examples per step. Step metrics: "online_acc" (predictions
// made before each update) and, when EvalSteps, "test_acc". Epoch metrics:
// "online_acc" (over the pass), "train_acc" (the whole of Train classified
// again after the pass, unless SkipTrainAcc) and "test_acc".
type TrainTask struct {
	Trainer      *Trainer
	Train, Test  *data.Set
	Passes       int
	Chunk        int  // examples per step (>= 1)
	Shuffle      bool // shuffle each pass
	EvalSteps    bool // evaluate Test after every step
	SkipTrainAcc bool // no pass over Train at the end of an epoch ("online_acc" only)
	Seed         int64

	rng      *rand.Rand
	order    []int
	pos      int
	passOK   int // correct online predictions in this pass so far
	passSeen int
}

// NewTrainTask checks its inputs and resets the trainer.
func NewTrainTask(tr *Trainer, trainSet, testSet *data.Set, passes, chunk int, shuffle bool, seed int64) (*TrainTask, error) {
	if passes < 1 {
		return nil, fmt.Errorf("passes = %d, want >= 1", passes)
	}
	if chunk < 1 {
		return nil, fmt.Errorf("examples per step = %d, want >= 1", chunk)
	}
	n, m := tr.e.dims()
	if err := checkSet(trainSet, n, m); err != nil {
		return nil, fmt.Errorf("train set: %w", err)
	}
	if testSet != nil {
		if err := checkSet(testSet, n, m); err != nil {
			return nil, fmt.Errorf("test set: %w", err)
		}
	}
	tr.Reset()
	return &TrainTask{Trainer: tr, Train: trainSet, Test: testSet, Passes: passes, Chunk: chunk, Shuffle: shuffle, Seed: seed,
		rng: rand.New(rand.NewSource(seed))}, nil
}

func (t *TrainTask) Epochs() int { return t.Passes }
func (t *TrainTask) StepsPerEpoch(int) int {
	return (t.Train.N + t.Chunk - 1) / t.Chunk
}

func (t *TrainTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	if s.Step == 1 {
		t.order = identity(t.Train.N)
		if t.Shuffle {
			t.rng.Shuffle(len(t.order), func(i, j int) { t.order[i], t.order[j] = t.order[j], t.order[i] })
		}
		t.pos = 0
		t.passOK, t.passSeen = 0, 0
	}
	end := min(t.pos+t.Chunk, len(t.order))
	ok := 0
	for _, i := range t.order[t.pos:end] {
		if t.Trainer.Learn(t.Train.Row(i), t.Train.Y[i]) == t.Train.Y[i] {
			ok++
		}
	}
	n := end - t.pos
	t.pos = end
	t.passOK += ok
	t.passSeen += n
	m := map[string]float64{"online_acc": float64(ok) / float64(n)}
	if t.EvalSteps && t.Test != nil {
		acc, err := t.Trainer.Accuracy(t.Test)
		if err != nil {
			return n, nil, err
		}
		m["test_acc"] = acc
	}
	return n, m, nil
}

func (t *TrainTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	m := map[string]float64{"online_acc": float64(t.passOK) / float64(max(1, t.passSeen))}
	var err error
	if !t.SkipTrainAcc {
		if m["train_acc"], err = t.Trainer.Accuracy(t.Train); err != nil {
			return nil, err
		}
	}
	if t.Test != nil {
		if m["test_acc"], err = t.Trainer.Accuracy(t.Test); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func identity(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

// MetaTask is meta-learning as a train.Task: each epoch shuffles Train
// (seeded), runs one MetaLearner step per full batch (metric "loss"), and
// at the end evaluates the current rules by rule-based training of the
// network on EvalN training examples (one pass, data order) and measuring
// "train_acc" on them and "test_acc" on Test. Epoch metric "loss" is the
// epoch's mean batch loss.
type MetaTask struct {
	ML          *MetaLearner
	Net         *models.RNN
	Train, Test *data.Set
	EpochsN     int
	EvalN       int // examples used for the evaluation pass (<= 0: all)

	rng     *rand.Rand
	order   []int
	xb      []float32
	yb      []int
	lossSum float64
	// LastLoss is the mean batch loss of the last finished epoch.
	LastLoss float64
}

// NewMetaTask checks its inputs.
func NewMetaTask(ml *MetaLearner, net *models.RNN, trainSet, testSet *data.Set, epochs, evalN int, seed int64) (*MetaTask, error) {
	if err := CheckMetaTask(net, trainSet, testSet, epochs, ml.cfg.Batch); err != nil {
		return nil, err
	}
	return &MetaTask{ML: ml, Net: net, Train: trainSet, Test: testSet, EpochsN: epochs, EvalN: evalN,
		rng: rand.New(rand.NewSource(seed))}, nil
}

// CheckMetaTask is NewMetaTask's check of its arguments, for a caller
// that checks them before it builds the meta-learner (a device's).
func CheckMetaTask(net *models.RNN, trainSet, testSet *data.Set, epochs, batch int) error {
	if epochs < 1 {
		return fmt.Errorf("epochs = %d, want >= 1", epochs)
	}
	if err := checkSet(trainSet, net.Inputs, net.Labels); err != nil {
		return fmt.Errorf("train set: %w", err)
	}
	if trainSet.N < batch {
		return fmt.Errorf("train set %q has %d examples, fewer than one batch of %d", trainSet.Name, trainSet.N, batch)
	}
	if testSet != nil {
		if err := checkSet(testSet, net.Inputs, net.Labels); err != nil {
			return fmt.Errorf("test set: %w", err)
		}
	}
	return nil
}

func (t *MetaTask) Epochs() int           { return t.EpochsN }
func (t *MetaTask) StepsPerEpoch(int) int { return t.Train.N / t.ML.cfg.Batch }

func (t *MetaTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	B, n := t.ML.cfg.Batch, t.Train.Dim
	if s.Step == 1 {
		t.order = identity(t.Train.N)
		t.rng.Shuffle(len(t.order), func(i, j int) { t.order[i], t.order[j] = t.order[j], t.order[i] })
		t.lossSum = 0
		t.xb, t.yb = make([]float32, B*n), make([]int, B)
	}
	for k, i := range t.order[(s.Step-1)*B : s.Step*B] {
		copy(t.xb[k*n:(k+1)*n], t.Train.Row(i))
		t.yb[k] = t.Train.Y[i]
	}
	loss, err := t.ML.Step(t.xb, t.yb)
	if err != nil {
		return 0, nil, err
	}
	t.lossSum += loss
	return B, map[string]float64{"loss": loss}, nil
}

func (t *MetaTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	t.LastLoss = t.lossSum / float64(max(1, s.StepsPerEpoch))
	m := map[string]float64{"loss": t.LastLoss}
	tr, err := NewTrainer(t.Net, t.ML.Rules(), t.ML.cfg.Scheme)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	sub := t.Train
	if t.EvalN > 0 && t.EvalN < sub.N {
		sub = subset(sub, t.EvalN)
	}
	if err := tr.Pass(sub, nil); err != nil {
		return nil, err
	}
	if m["train_acc"], err = tr.Accuracy(sub); err != nil {
		return nil, err
	}
	if t.Test != nil {
		if m["test_acc"], err = tr.Accuracy(t.Test); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func subset(s *data.Set, n int) *data.Set {
	c := *s
	c.N, c.X, c.Y = n, s.X[:n*s.Dim], s.Y[:n]
	return &c
}

// SaveRulesHook saves the learned rule set atomically to Path after every
// epoch and when the run finishes, recording the last loss in its
// provenance.
type SaveRulesHook struct {
	Path string
	Task *MetaTask
}

func (h SaveRulesHook) OnEpochEnd(s *train.State) error { return h.save(s) }

func (h SaveRulesHook) OnFinish(s *train.State, err error) error {
	if s.Epoch == 0 {
		return nil
	}
	return h.save(s)
}

func (h SaveRulesHook) save(s *train.State) error {
	rs := h.Task.ML.Rules()
	if rs.Provenance == nil {
		rs.Provenance = &Provenance{}
	}
	rs.Provenance.FinalLoss = h.Task.LastLoss
	rs.Provenance.Epochs = s.Epoch
	if err := SaveRules(h.Path, rs); err != nil {
		return fmt.Errorf("saving rules to %s: %w", h.Path, err)
	}
	return nil
}
