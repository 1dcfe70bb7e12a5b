package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
)

// Env is what every experiment gets from its caller (the `plastic paper`
// commands pass the run folder and its metrics writer).
type Env struct {
	// Dir is the folder that receives the CSV tables and the figures
	// (PNG + SVG); it must exist.
	Dir string
	// DataDir is the data folder of data.Load (mnist/, fashion-mnist/).
	DataDir string
	// Log receives progress lines; nil prints nothing.
	Log io.Writer
	// Metrics, when set, receives one metrics line per measurement (the
	// run's metrics.jsonl); experiments call it from one goroutine.
	Metrics func(map[string]float64) error
	// Cells, when set, runs the units of Fig. 3 and Table 2 (learned
	// rules, re-trainings, seeds) elsewhere; see Cells.
	Cells Cells
	// Device, when set (and Cells is not), runs the rule-based
	// re-trainings of Fig. 3, Table 2 and Fig. 6 on it: the re-trainings
	// that share a rule set as the networks of one batched computation
	// (plasticity.DeviceTrainer; Fig. 3's repeats, Table 2's seeds). Rule
	// learning and selection stay on the CPU. nil: everything on the CPU.
	Device *cuda.Context
}

func (e Env) check() error {
	if e.Dir == "" {
		return errors.New("experiments: no output folder")
	}
	st, err := os.Stat(e.Dir)
	if err != nil {
		return fmt.Errorf("experiments: output folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("experiments: output folder %s is not a folder", e.Dir)
	}
	return nil
}

func (e Env) logf(format string, a ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", a...)
	}
}

func (e Env) metric(m map[string]float64) error {
	if e.Metrics == nil {
		return nil
	}
	return e.Metrics(m)
}

func (e Env) path(name string) string { return filepath.Join(e.Dir, name) }

// Output lists what an experiment wrote into Env.Dir.
type Output struct {
	Tables  []string `json:"tables"`  // CSV files
	Figures []string `json:"figures"` // PNG and SVG files
	Rules   []string `json:"rules,omitempty"`
	Notes   []string `json:"notes,omitempty"` // e.g. data sets skipped because their files are absent
}

func (o *Output) table(env Env, name string, t *plots.Table) error {
	if err := plots.WriteCSV(env.path(name), *t); err != nil {
		return err
	}
	o.Tables = append(o.Tables, name)
	return nil
}

func (o *Output) figure(env Env, base string, fig plots.Figure) error {
	if err := plots.Save(env.path(base), fig); err != nil {
		return fmt.Errorf("figure %s: %w", base, err)
	}
	o.Figures = append(o.Figures, base+".png", base+".svg")
	return nil
}

func (o *Output) note(env Env, format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	o.Notes = append(o.Notes, s)
	env.logf("note: %s", s)
}

// PaperTrainSize is the paper's training-set size: the synthetic sets
// have 10,000 points and MNIST / Fashion-MNIST are cut to a random 10,000
// of their 60,000 training images.
const PaperTrainSize = 10000

// isFileSet reports whether name is read from files (MNIST-like) rather
// than generated.
func isFileSet(name string) bool { return !data.IsGenerated(name) }

// ErrAbsent marks a file data set whose files are not on this machine;
// experiments that allow it skip the set with a note.
var ErrAbsent = errors.New("data files absent")

// filesPresent reports whether the four IDX files of an MNIST-like set are
// in dataDir/name (MNIST is also found in the GoMNIST module).
func filesPresent(name, dataDir string) bool {
	if dataDir == "" {
		dataDir = "data"
	}
	if name == "mnist" {
		_, ok := data.FindMNIST(dataDir)
		return ok
	}
	for _, b := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		ok := false
		for _, f := range []string{b, b + ".gz"} {
			if st, err := os.Stat(filepath.Join(dataDir, name, f)); err == nil && st.Mode().IsRegular() {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// canonicalData checks data set names against data.Names and returns them
// lower-cased with aliases resolved (fashion -> fashion-mnist).
func canonicalData(names []string) ([]string, error) {
	models.RegisterDataSets() // the paper's RNN-labelled set
	known := map[string]bool{}
	for _, n := range data.Names() {
		known[n] = true
	}
	alias := map[string]string{"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist"}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if a, ok := alias[n]; ok {
			n = a
		}
		if !known[n] {
			return nil, fmt.Errorf("unknown data set %q; valid names: %s", n, strings.Join(data.Names(), ", "))
		}
		if n == "cifar10" {
			return nil, fmt.Errorf("data set %q: the simple RNN experiments use the paper's sets (halfspace, relu1, relu2, rnn-labelled, mnist, fashion-mnist)", n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no data set given")
	}
	return out, nil
}

// loadSet loads a data set with the paper's protocol: generated sets get
// nTrain training and 10,000 test points drawn from seed; file sets keep
// their whole test set and a random nTrain of their training images, in
// the random order of the draw (seeded). Absent files give an error
// wrapping ErrAbsent.
func loadSet(name, dataDir string, nTrain int, seed int64) (trainSet, testSet *data.Set, err error) {
	models.RegisterDataSets() // the paper's RNN-labelled set
	if isFileSet(name) && !filesPresent(name, dataDir) {
		_, _, lerr := data.Load(name, data.Options{Dir: dataDir})
		if lerr == nil {
			lerr = fmt.Errorf("%s: files not found under %s", name, dataDir)
		}
		return nil, nil, fmt.Errorf("%w: %v", ErrAbsent, lerr)
	}
	o := data.Options{Dir: dataDir, Seed: seed}
	if !isFileSet(name) {
		o.NTrain = nTrain
	}
	trainSet, testSet, err = data.Load(name, o)
	if err != nil {
		return nil, nil, fmt.Errorf("data set %s: %w", name, err)
	}
	if isFileSet(name) && nTrain > 0 && nTrain < trainSet.N {
		rng := rand.New(rand.NewSource(seed ^ 0x5b5e7))
		trainSet = data.Select(trainSet, rng.Perm(trainSet.N)[:nTrain])
	}
	return trainSet, testSet, nil
}

// testSubset is the first n examples of s (all when n <= 0 or n >= N):
// a cheaper evaluation set for accuracy curves.
func testSubset(s *data.Set, n int) *data.Set {
	if n <= 0 || n >= s.N {
		return s
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return data.Select(s, idx)
}

// Net describes the simple RNN of one experiment cell.
type Net struct {
	Nodes, Cap, T int
	P             float64 // edge probability (0.5 when 0)
	InputOnes     bool    // A all ones (Table 2's T=1*)
	// Firing is the firing definition: models.FiringTopK (the zero value,
	// the authors' code) or models.FiringNonzero (the paper's text). A rule
	// is used with the definition it was learned with: each experiment has
	// one firing definition for every network it learns rules on or trains.
	Firing models.Firing
}

func (n Net) String() string {
	s := fmt.Sprintf("|V|=%d k=%d T=%d", n.Nodes, n.Cap, n.T)
	if n.InputOnes {
		s += " A=1"
	}
	if n.Firing != models.FiringTopK {
		s += " " + n.Firing.String() + " firing"
	}
	return s
}

func (n Net) build(set *data.Set, multiplicative bool, seed int64) (*models.RNN, error) {
	p := n.P
	if p == 0 {
		p = 0.5
	}
	classes := set.Classes
	for _, y := range set.Y {
		classes = max(classes, y+1)
	}
	net, err := models.NewRNN(models.RNNConfig{Inputs: set.Dim, Labels: classes, Nodes: n.Nodes, P: p, Cap: n.Cap,
		T: n.T, Multiplicative: multiplicative, InputOnes: n.InputOnes, Firing: n.Firing}, seed)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", n, err)
	}
	return net, nil
}

// Point is one accuracy measurement of a curve.
type Point struct {
	Samples int64   `json:"samples"`
	Acc     float64 `json:"acc"`
}

// ruleRun is one rule-based training run through train.Run.
type ruleRun struct {
	Passes  int
	Shuffle bool  // shuffle before each pass (else data order)
	Seed    int64 // order
	// CurveEvery > 0 records the accuracy on CurveSet every CurveEvery
	// training examples.
	CurveEvery int
	CurveSet   *data.Set
	Label      string // progress label; "" = no progress lines
	Log        io.Writer
}

type ruleResult struct {
	TrainAcc, TestAcc float64
	Curve             []Point
}

// trainRules trains net with rs under scheme s on trainSet and measures
// the final train and test accuracy.
func trainRules(ctx context.Context, net *models.RNN, rs *plasticity.RuleSet, s plasticity.Scheme, trainSet, testSet *data.Set, o ruleRun) (ruleResult, error) {
	var res ruleResult
	tr, err := plasticity.NewTrainer(net, rs, s)
	if err != nil {
		return res, err
	}
	defer tr.Close()
	chunk := trainSet.N
	if o.CurveEvery > 0 {
		chunk = o.CurveEvery
	}
	task, err := plasticity.NewTrainTask(tr, trainSet, testSet, o.Passes, chunk, o.Shuffle, o.Seed)
	if err != nil {
		return res, err
	}
	var hooks []any
	if o.CurveEvery > 0 {
		curveSet := o.CurveSet
		if curveSet == nil {
			curveSet = testSet
		}
		acc, err := tr.Accuracy(curveSet)
		if err != nil {
			return res, err
		}
		res.Curve = append(res.Curve, Point{0, acc})
		hooks = append(hooks, train.Every{N: 1, F: func(st *train.State) error {
			acc, err := tr.Accuracy(curveSet)
			if err != nil {
				return err
			}
			res.Curve = append(res.Curve, Point{st.Samples, acc})
			return nil
		}})
	}
	var last map[string]float64
	hooks = append(hooks, train.NaNCheck{}, epochEnd(func(st *train.State) error {
		last = st.EpochMetrics
		if o.Label != "" && o.Log != nil {
			fmt.Fprintf(o.Log, "%s: pass %d/%d train %.4f test %.4f\n", o.Label, st.Epoch, st.Epochs, last["train_acc"], last["test_acc"])
		}
		return nil
	}))
	if err := train.Run(ctx, task, train.Options{Hooks: hooks}); err != nil {
		return res, err
	}
	res.TrainAcc, res.TestAcc = last["train_acc"], last["test_acc"]
	return res, nil
}

// epochEnd is a train.EpochHook from a function.
type epochEnd func(*train.State) error

func (f epochEnd) OnEpochEnd(s *train.State) error { return f(s) }

// meanStd returns the mean and the (population) standard deviation.
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

// subSeed derives a seed for one part of an experiment from the run's
// seed and the part's name and indices, so that every part's numbers do
// not depend on the order (or the parallelism) in which parts run.
func subSeed(seed int64, name string, idx ...int) int64 {
	h := uint64(seed)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	mix := func(v uint64) {
		h ^= v
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 31
	}
	for _, c := range []byte(name) {
		mix(uint64(c))
	}
	for _, i := range idx {
		mix(uint64(i) + 0x1000)
	}
	return int64(h >> 1)
}
