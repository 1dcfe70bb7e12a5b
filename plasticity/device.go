package plasticity

import (
	"context"
	"fmt"
	"math/rand"
	"slices"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/train"
)

// DeviceTrainer is rule-based training of B simple RNNs at once on a device
// (cuda.DevicePlastic: a GPU, or the emulator in tests), with the CPU
// engine's semantics (engine.go): the same reset values, forward pass
// (k-cap, either firing definition), prediction, and RNN, output and input
// rules (tables, or small-NN rules through their tables; additive or
// multiplicative; misclassified-only or every example, with both output
// columns on a right prediction's row or not; true and predicted rows or
// all rows). The networks may differ (seeds, masks, input
// weights) but share their sizes and the rule set. Each network sees its
// own sequence of examples, of one data set or of its own (the *Each
// methods: e.g. Table 2's seeds, each a different subset of MNIST); the
// data sets are uploaded once (Preload keeps several on the device
// together), a chunk of steps runs with no host round trip, and only the
// counts of right predictions come back.
type DeviceTrainer struct {
	c    *cuda.Context
	nets []*models.RNN
	rs   *RuleSet
	nb   cuda.NetBatch
	dp   *cuda.DevicePlastic
	init *cuda.PlasticNets
	// the data sets on the device, one after the other: set s's rows start
	// at row base[s] (sets with the same features share their rows)
	base map[*data.Set]int
}

// NewDeviceTrainer prepares rule-based training of nets with rs under s.
func NewDeviceTrainer(c *cuda.Context, nets []*models.RNN, rs *RuleSet, s Scheme) (*DeviceTrainer, error) {
	if len(nets) == 0 {
		return nil, fmt.Errorf("device training: no networks")
	}
	for i, n := range nets {
		if err := CheckRules(n, rs); err != nil {
			return nil, err
		}
		a, b := n.RNNConfig, nets[0].RNNConfig
		if a.Inputs != b.Inputs || a.Labels != b.Labels || a.Nodes != b.Nodes || a.Cap != b.Cap || a.T != b.T || a.Firing != b.Firing {
			return nil, fmt.Errorf("device training: network %d (%+v) differs in size from network 0 (%+v)", i, a, b)
		}
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	nb, st, err := deviceBatch(nets, rs, s)
	if err != nil {
		return nil, err
	}
	dp, err := c.NewDevicePlastic(nb, st)
	if err != nil {
		return nil, err
	}
	return &DeviceTrainer{c: c, nets: nets, rs: rs, nb: nb, dp: dp, init: st}, nil
}

// deviceBatch is the device layout of nets (same sizes) trained with rs
// under s, and their state after the engine's reset.
func deviceBatch(nets []*models.RNN, rs *RuleSet, s Scheme) (cuda.NetBatch, *cuda.PlasticNets, error) {
	n0 := nets[0]
	B, V, N, M := len(nets), n0.Nodes, n0.Inputs, n0.Labels
	nb := cuda.NetBatch{B: B, V: V, N: N, M: M, T: n0.T, K: n0.Cap, SharedRules: true, TopKFiring: n0.Firing == models.FiringTopK,
		RNNRule: rs.RNN != nil, OutputRule: rs.Output != nil, InputRule: rs.Input != nil, EveryExample: s.EveryExample}
	nb.Update.Eta, nb.Update.Multiplicative, nb.Update.AllRows = float32(s.eta(rs)), rs.Multiplicative, s.AllRows
	nb.Update.BothColumns = s.EveryExample && s.BothColumns && !s.AllRows
	nb.SharedInput = !nb.InputRule
	for _, n := range nets[1:] {
		if !slices.Equal(n.A, n0.A) || !slices.Equal(n.InMask, n0.InMask) {
			nb.SharedInput = false
		}
	}
	if err := nb.Check(); err != nil {
		return nb, nil, err
	}
	// The engine's reset (engine.reset): W = r .* Mg, U = b = r, c = 0,
	// A .* Min (r .* Min under an input rule), r = 0 or 1 (multiplicative).
	r := float32(0)
	if rs.Multiplicative {
		r = 1
	}
	st := &cuda.PlasticNets{W: make([]float32, B*V*V), Mg: make([]float32, B*V*V), U: make([]float32, B*M*V),
		Bias: make([]float32, B*V), C: make([]float32, B*M)}
	for b, n := range nets {
		for i, g := range n.GraphMask {
			st.Mg[b*V*V+i] = float32(g)
			st.W[b*V*V+i] = r * float32(g)
		}
		if !nb.SharedInput || b == 0 {
			for i, mk := range n.InMask {
				a := float32(n.A[i]) * float32(mk)
				if nb.InputRule {
					a = r * float32(mk)
					st.Min = append(st.Min, float32(mk))
				}
				st.Am = append(st.Am, a)
			}
		}
	}
	for i := range st.U {
		st.U[i] = r
	}
	for i := range st.Bias {
		st.Bias[i] = r
	}
	tab := func(rule Rule) []float32 {
		if rule == nil {
			return nil
		}
		t := rule.Table()
		o := make([]float32, len(t))
		for i, v := range t {
			o[i] = float32(v)
		}
		return o
	}
	st.Rule, st.Out, st.In = tab(rs.RNN), tab(rs.Output), tab(rs.Input)
	return nb, st, nil
}

// Close releases the device memory.
func (t *DeviceTrainer) Close() { t.dp.Free() }

// Reset puts every network's weights back to their initial values.
func (t *DeviceTrainer) Reset() error { return t.dp.SetState(t.init) }

// Preload puts sets on the device together (their features concatenated,
// a set whose features equal an earlier one's sharing its rows), so that
// training and evaluation on any of them need no further upload. Learning
// or evaluating on a set that is not on the device replaces them all.
func (t *DeviceTrainer) Preload(sets ...*data.Set) error {
	var distinct []*data.Set
	base := map[*data.Set]int{}
	rows := 0
	for _, set := range sets {
		if _, ok := base[set]; ok {
			continue
		}
		if err := checkSet(set, t.nb.N, t.nb.M); err != nil {
			return err
		}
		same := -1
		for _, d := range distinct {
			if d.N == set.N && slices.Equal(d.X[:d.N*d.Dim], set.X[:set.N*set.Dim]) {
				same = base[d]
				break
			}
		}
		if same < 0 {
			same = rows
			distinct = append(distinct, set)
			rows += set.N
		}
		base[set] = same
	}
	if len(distinct) == 0 {
		return fmt.Errorf("device training: no data set")
	}
	x := distinct[0].X[:distinct[0].N*t.nb.N]
	if len(distinct) > 1 {
		x = make([]float32, 0, rows*t.nb.N)
		for _, d := range distinct {
			x = append(x, d.X[:d.N*t.nb.N]...)
		}
	}
	if err := t.dp.SetData(x); err != nil {
		return err
	}
	t.base = base
	return nil
}

// use makes sure every set is on the device.
func (t *DeviceTrainer) use(sets []*data.Set) error {
	for _, set := range sets {
		if _, ok := t.base[set]; !ok {
			return t.Preload(sets...)
		}
	}
	return nil
}

// each is sets for B networks: one set stands for all.
func (t *DeviceTrainer) each(sets []*data.Set) ([]*data.Set, error) {
	switch len(sets) {
	case t.nb.B:
		return sets, nil
	case 1:
		return slices.Repeat(sets, t.nb.B), nil
	}
	return nil, fmt.Errorf("device training: %d data sets for %d networks", len(sets), t.nb.B)
}

// Learn trains network b on the examples order[b] of set (every order the
// same length), example k of every network at step k, and returns each
// network's count of right predictions (made before each update).
func (t *DeviceTrainer) Learn(set *data.Set, order [][]int) ([]int, error) {
	return t.LearnEach([]*data.Set{set}, order)
}

// LearnEach is Learn with network b's examples taken from sets[b].
func (t *DeviceTrainer) LearnEach(sets []*data.Set, order [][]int) ([]int, error) {
	return t.run(sets, order, t.dp.Train)
}

// run runs the examples order[b] of sets[b] through step (the device's
// Train, Infer or Evaluate) and returns each network's count of right
// predictions.
func (t *DeviceTrainer) run(sets []*data.Set, order [][]int, step func(idx, labels []int32) error) ([]int, error) {
	B := t.nb.B
	if len(order) != B {
		return nil, fmt.Errorf("device training: %d example orders for %d networks", len(order), B)
	}
	sets, err := t.each(sets)
	if err != nil {
		return nil, err
	}
	if err := t.use(sets); err != nil {
		return nil, err
	}
	n := len(order[0])
	idx, lab := make([]int32, n*B), make([]int32, n*B)
	for b, o := range order {
		if len(o) != n {
			return nil, fmt.Errorf("device training: network %d has %d examples, network 0 %d", b, len(o), n)
		}
		set, base := sets[b], t.base[sets[b]]
		for k, i := range o {
			if i < 0 || i >= set.N {
				return nil, fmt.Errorf("device training: example %d outside data set %q of %d", i, set.Name, set.N)
			}
			idx[k*B+b], lab[k*B+b] = int32(base+i), int32(set.Y[i])
		}
	}
	if n > 0 {
		if err := step(idx, lab); err != nil {
			return nil, err
		}
	}
	cnt, err := t.dp.Counts()
	if err != nil {
		return nil, err
	}
	out := make([]int, B)
	for b, c := range cnt {
		out[b] = int(c)
	}
	return out, nil
}

// Accuracy is each network's fraction of set classified correctly.
func (t *DeviceTrainer) Accuracy(set *data.Set) ([]float64, error) {
	return t.AccuracyEach([]*data.Set{set})
}

// AccuracyEach is each network b's fraction of sets[b] classified
// correctly; the sets have the same number of examples.
func (t *DeviceTrainer) AccuracyEach(sets []*data.Set) ([]float64, error) {
	for _, set := range sets {
		if set == nil || set.N == 0 {
			return nil, fmt.Errorf("data set %q: %w", setName(set), models.ErrEmpty)
		}
		if set.N != sets[0].N {
			return nil, fmt.Errorf("device evaluation: data set %q has %d examples, %q %d: the networks run in step", set.Name, set.N, sets[0].Name, sets[0].N)
		}
	}
	all := identity(sets[0].N)
	order := make([][]int, t.nb.B)
	for b := range order {
		order[b] = all
	}
	ok, err := t.run(sets, order, t.dp.Evaluate)
	if err != nil {
		return nil, err
	}
	acc := make([]float64, len(ok))
	for b, c := range ok {
		acc[b] = float64(c) / float64(sets[0].N)
	}
	return acc, nil
}

// Trained returns copies of the networks with the trained weights (W, U,
// b, and A when an input rule trains it), as Trainer.Network does.
func (t *DeviceTrainer) Trained() ([]*models.RNN, error) {
	st, err := t.dp.State()
	if err != nil {
		return nil, err
	}
	V, N, M := t.nb.V, t.nb.N, t.nb.M
	r := 0.0
	if t.rs.Multiplicative {
		r = 1
	}
	out := make([]*models.RNN, len(t.nets))
	for b, n := range t.nets {
		c := n.Clone()
		for i := range c.W {
			c.W[i] = float64(st.W[b*V*V+i])
		}
		for i := range c.U {
			c.U[i] = float64(st.U[b*M*V+i])
		}
		for i := range c.B {
			c.B[i] = r
		}
		if t.nb.InputRule {
			for i := range c.A {
				if c.InMask[i] != 0 {
					c.A[i] = float64(st.Am[b*V*N+i])
				}
			}
		}
		out[b] = c
	}
	return out, nil
}

// DeviceTrainTask is TrainTask for the B networks of a DeviceTrainer:
// Passes epochs, network b's over Train[b] (one set may stand for all; the
// sets have the same number of examples), in a fresh order from Seeds[b]
// when Shuffle (the order TrainTask with that seed uses), else in data
// order; Chunk examples per step. Step metrics: "online_acc" (all
// networks' predictions before each update) and, when EvalSteps,
// "test_acc" (their mean). Epoch metrics: "online_acc" (over the pass),
// "train_acc" (unless SkipTrainAcc) and "test_acc", means over the
// networks; OnlineAcc, TrainAcc and TestAcc hold each network's.
type DeviceTrainTask struct {
	Trainer      *DeviceTrainer
	Train, Test  []*data.Set // per network; Test nil: no test set
	Passes       int
	Chunk        int
	Shuffle      bool
	EvalSteps    bool
	SkipTrainAcc bool // no pass over Train at the end of an epoch (TrainAcc stays nil)
	Seeds        []int64

	OnlineAcc, TrainAcc, TestAcc []float64 // per network, at the end of the last epoch
	StepOnline                   []float64 // per network, the last step's online accuracy
	StepTestAcc                  []float64 // per network, after the last step (EvalSteps)

	rngs     []*rand.Rand
	orders   [][]int
	pos      int
	passOK   []int // per network, correct online predictions in this pass so far
	passSeen int
}

// NewDeviceTrainTask checks its inputs and resets the trainer; every
// network trains on trainSet; seeds has one order seed per network.
func NewDeviceTrainTask(tr *DeviceTrainer, trainSet, testSet *data.Set, passes, chunk int, shuffle bool, seeds []int64) (*DeviceTrainTask, error) {
	var test []*data.Set
	if testSet != nil {
		test = []*data.Set{testSet}
	}
	return NewDeviceTrainTaskEach(tr, []*data.Set{trainSet}, test, passes, chunk, shuffle, seeds)
}

// NewDeviceTrainTaskEach is NewDeviceTrainTask with network b's own
// training and test sets, trainSets[b] and testSets[b] (one set stands
// for all; testSets nil: no test set). Every set goes to the device once
// (with the sets already there by Preload, e.g. a set for accuracy curves).
func NewDeviceTrainTaskEach(tr *DeviceTrainer, trainSets, testSets []*data.Set, passes, chunk int, shuffle bool, seeds []int64) (*DeviceTrainTask, error) {
	if passes < 1 {
		return nil, fmt.Errorf("passes = %d, want >= 1", passes)
	}
	if chunk < 1 {
		return nil, fmt.Errorf("examples per step = %d, want >= 1", chunk)
	}
	if len(seeds) != tr.nb.B {
		return nil, fmt.Errorf("%d order seeds for %d networks", len(seeds), tr.nb.B)
	}
	trains, err := tr.each(trainSets)
	if err != nil {
		return nil, fmt.Errorf("train sets: %w", err)
	}
	for _, s := range trains {
		if err := checkSet(s, tr.nb.N, tr.nb.M); err != nil {
			return nil, fmt.Errorf("train set: %w", err)
		}
		if s.N != trains[0].N {
			return nil, fmt.Errorf("train set %q has %d examples, %q %d: the networks train in step", s.Name, s.N, trains[0].Name, trains[0].N)
		}
	}
	var tests []*data.Set
	if testSets != nil {
		if tests, err = tr.each(testSets); err != nil {
			return nil, fmt.Errorf("test sets: %w", err)
		}
		for _, s := range tests {
			if err := checkSet(s, tr.nb.N, tr.nb.M); err != nil {
				return nil, fmt.Errorf("test set: %w", err)
			}
		}
	}
	if err := tr.Reset(); err != nil {
		return nil, err
	}
	if err := tr.use(append(append([]*data.Set{}, trains...), tests...)); err != nil {
		return nil, err
	}
	t := &DeviceTrainTask{Trainer: tr, Train: trains, Test: tests, Passes: passes, Chunk: chunk, Shuffle: shuffle, Seeds: seeds}
	for _, s := range seeds {
		t.rngs = append(t.rngs, rand.New(rand.NewSource(s)))
	}
	return t, nil
}

func (t *DeviceTrainTask) Epochs() int { return t.Passes }
func (t *DeviceTrainTask) StepsPerEpoch(int) int {
	return (t.Train[0].N + t.Chunk - 1) / t.Chunk
}

func (t *DeviceTrainTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	B, N := t.Trainer.nb.B, t.Train[0].N
	if s.Step == 1 {
		t.orders = make([][]int, B)
		for b := range t.orders {
			t.orders[b] = identity(N)
			if t.Shuffle {
				o := t.orders[b]
				t.rngs[b].Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
			}
		}
		t.pos = 0
		t.passOK, t.passSeen = make([]int, B), 0
	}
	end := min(t.pos+t.Chunk, N)
	chunk := make([][]int, B)
	for b := range chunk {
		chunk[b] = t.orders[b][t.pos:end]
	}
	ok, err := t.Trainer.LearnEach(t.Train, chunk)
	if err != nil {
		return 0, nil, err
	}
	n := end - t.pos
	t.pos = end
	total := 0
	t.StepOnline = make([]float64, B)
	for b, c := range ok {
		total += c
		t.StepOnline[b] = float64(c) / float64(n)
		t.passOK[b] += c
	}
	t.passSeen += n
	m := map[string]float64{"online_acc": float64(total) / float64(n*B)}
	if t.EvalSteps && t.Test != nil {
		if t.StepTestAcc, err = t.Trainer.AccuracyEach(t.Test); err != nil {
			return n, nil, err
		}
		m["test_acc"] = meanOf(t.StepTestAcc)
	}
	return n, m, nil
}

func (t *DeviceTrainTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	t.OnlineAcc = make([]float64, len(t.passOK))
	for b, c := range t.passOK {
		t.OnlineAcc[b] = float64(c) / float64(max(1, t.passSeen))
	}
	m := map[string]float64{"online_acc": meanOf(t.OnlineAcc)}
	var err error
	if !t.SkipTrainAcc {
		if t.TrainAcc, err = t.Trainer.AccuracyEach(t.Train); err != nil {
			return nil, err
		}
		m["train_acc"] = meanOf(t.TrainAcc)
	}
	if t.Test != nil {
		if t.TestAcc, err = t.Trainer.AccuracyEach(t.Test); err != nil {
			return nil, err
		}
		m["test_acc"] = meanOf(t.TestAcc)
	}
	return m, nil
}

func meanOf(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(max(1, len(v)))
}
