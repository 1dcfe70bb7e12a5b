package main

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// The `rule` command: plasticity rules of "Learning with Plasticity Rules"
// (learn them by GD, train networks with them, show them, closed form).
func init() {
	register(&cli.Command{
		Name:  "rule",
		Usage: "plasticity rules: learn (meta-learning by GD), train a network with fixed rules, show, closed-form optimum",
		Description: "The simple RNN of the paper: n inputs, |V| nodes (--nodes), edge probability --p, cap k (--cap),\n" +
			"T firing rounds (--rounds). Rules: RNN (2^T x 2^T), output (2^T x 2), input (2^T); tables or small NNs.\n" +
			"Rule files are JSON (format plastic-rules/1); built-ins: " + strings.Join(plasticity.BuiltinNames(), ", ") + ".\n" +
			"--seed (global) seeds the data, the network's masks and input weights, the initial rules and the order.",
		Subcommands: []*cli.Command{ruleLearnCmd(), ruleTrainCmd(), ruleShowCmd(), ruleOptimalCmd()},
	})
}

// netFlags are the data and network flags shared by the rule commands.
func netFlags(rounds int) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "data", Aliases: []string{"dataset"}, Value: "halfspace", Usage: "data set: " + strings.Join(data.Names(), ", ")},
		&cli.IntFlag{Name: "n-train", Usage: "training examples (generated sets: 10000 when 0; file sets: all when 0)"},
		&cli.IntFlag{Name: "n-test", Usage: "test examples (as --n-train)"},
		&cli.Float64Flag{Name: "label-noise", Usage: "generated sets: flip each label with this probability"},
		&cli.IntFlag{Name: "nodes", Value: 100, Usage: "|V|, nodes of the graph"},
		&cli.IntFlag{Name: "cap", Value: 50, Usage: "k, nodes that fire per round"},
		&cli.Float64Flag{Name: "p", Value: 0.5, Usage: "edge probability of the input and graph masks"},
		&cli.IntFlag{Name: "rounds", Aliases: []string{"T"}, Value: rounds, Usage: "T, firing rounds (counting the first, input-driven one)"},
		&cli.BoolFlag{Name: "input-ones", Usage: "input weights A all ones instead of N(0,1) (Table 2's T=1*)"},
		firingFlag(),
		&cli.IntFlag{Name: flagWidth, Usage: "relu1/relu2: hidden width of the labelling network", DefaultText: "100"},
		&cli.StringFlag{Name: flagPoints, Usage: "relu1/relu2: points uniform in [-1,1] (the authors' code) or normal (the paper's text)", DefaultText: "uniform"},
		&cli.BoolFlag{Name: "multiplicative", Usage: "multiplicative updates w *= 1+eta*delta (weights reset to 1)"},
	}
}

func schemeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "eta", Usage: "step size of the rule updates (0: the rule file's, else 0.01)"},
		&cli.BoolFlag{Name: "every-example", Usage: "apply the rules after every example (default: misclassified ones only)"},
		&cli.BoolFlag{Name: "all-rows", Usage: "output rule on every output row (default: true and predicted rows)"},
		&cli.BoolFlag{Name: "both-columns", Usage: "with --every-example: a right prediction updates the true label's row with both output-rule columns (predicted, then true), as the authors' code does (default: the true column only)"},
	}
}

func loadData(c *cli.Context) (*data.Set, *data.Set, error) {
	if q := c.Float64("label-noise"); q < 0 || q > 1 {
		return nil, nil, fmt.Errorf("--label-noise=%v: want a probability in [0, 1]", q)
	}
	name, n := c.String("data"), c.Int("n-train")
	o := data.Options{Dir: c.String(flagDataDir), Seed: c.Int64(flagSeed), NTest: c.Int("n-test"), Noise: c.Float64("label-noise"),
		Width: c.Int(flagWidth), Points: c.String(flagPoints)}
	if data.IsGenerated(name) {
		o.NTrain = n
	}
	tr, te, err := data.Load(name, o)
	if err != nil {
		return nil, nil, fmt.Errorf("--data=%s: %w", name, err)
	}
	logDataFiles(c, tr, te)
	if !data.IsGenerated(name) && n > 0 && n < tr.N {
		// The paper's protocol: a seeded random subset (e.g. 10,000 of
		// MNIST's 60,000), its indices kept in the run folder.
		var idx []int
		tr, idx = data.Subset(tr, n, rand.New(rand.NewSource(c.Int64(flagSeed))))
		recordIndices(c, "train-indices.json", idx)
	}
	if tr.N == 0 {
		return nil, nil, fmt.Errorf("--data=%s: the training set is empty", c.String("data"))
	}
	return tr, te, nil
}

func newNet(c *cli.Context, set *data.Set, multiplicative bool) (*models.RNN, error) {
	classes := set.Classes
	for _, y := range set.Y {
		classes = max(classes, y+1)
	}
	firing, err := firingOf(c)
	if err != nil {
		return nil, err
	}
	cfg := models.RNNConfig{Inputs: set.Dim, Labels: classes, Nodes: c.Int("nodes"), P: c.Float64("p"), Cap: c.Int("cap"),
		T: c.Int("rounds"), Multiplicative: multiplicative, InputOnes: c.Bool("input-ones"), Firing: firing}
	net, err := models.NewRNN(cfg, c.Int64(flagSeed))
	if err != nil {
		return nil, fmt.Errorf("network flags (--nodes --cap --p --rounds): %w", err)
	}
	return net, nil
}

func scheme(c *cli.Context) (plasticity.Scheme, error) {
	s := plasticity.Scheme{Eta: c.Float64("eta"), EveryExample: c.Bool("every-example"), AllRows: c.Bool("all-rows"), BothColumns: c.Bool("both-columns")}
	if e := s.Eta; math.IsNaN(e) || math.IsInf(e, 0) || e < 0 {
		return s, fmt.Errorf("--eta=%v: want a finite value > 0", e)
	}
	if s.BothColumns && (!s.EveryExample || s.AllRows) {
		return s, fmt.Errorf("--both-columns: only with --every-example and without --all-rows (it changes what a right prediction does to the true label's row)")
	}
	return s, nil
}

func quietProgress(c *cli.Context, label string) *train.Progress {
	return train.NewProgress(label, c.Bool(flagQuiet))
}

// ---- plastic rule learn ----

func ruleLearnCmd() *cli.Command {
	flags := append(netFlags(1), schemeFlags()...)
	flags = append(flags,
		&cli.StringSliceFlag{Name: "learn", Value: cli.NewStringSlice("output"), Usage: "rules to learn: output, rnn, input (repeat or comma-separate)"},
		&cli.StringFlag{Name: "param", Value: "table", Usage: "parameterization of the rnn and input rules: table or nn"},
		&cli.StringFlag{Name: "output-param", Value: "table", Usage: "parameterization of the output rule: table or nn"},
		&cli.IntFlag{Name: "hidden", Value: 20, Usage: "hidden width of small-NN rules"},
		&cli.StringFlag{Name: "init", Usage: "start from this rule file or built-in (its rules not in --learn stay fixed)"},
		&cli.IntFlag{Name: "epochs", Value: 5, Usage: "outer epochs over the training set"},
		&cli.IntFlag{Name: "batch", Value: 100, Usage: "examples per inner training pass / outer step"},
		&cli.Float64Flag{Name: "lr", Value: 1e-2, Usage: "Adam learning rate"},
		&cli.Float64Flag{Name: "weight-decay", Value: 0.01, Usage: "L2 coefficient added to the gradient"},
		&cli.StringFlag{Name: "loss", Value: graph.LossSoftmaxCE, Usage: "softmax-ce (the authors' softmax then CE; default: ce collapses on MNIST at T=3), ce (cross-entropy on logits), mse (softmax vs one-hot)"},
		&cli.IntFlag{Name: "eval-n", Value: 0, Usage: "training examples of the per-epoch evaluation pass (0: all)"},
	)
	return &cli.Command{
		Name:  "learn",
		Usage: "learn plasticity rules by gradient descent through rule-based training (meta-learning)",
		Description: "Each epoch shuffles the training set; for each batch the network is reset, trained with the current\n" +
			"rules one example at a time, the batch is run through the trained network and the loss is differentiated\n" +
			"with respect to the rule parameters (exactly, through every update), then Adam takes a step. After each\n" +
			"epoch the rules train a fresh network on the training set (one pass) and train/test accuracy are reported;\n" +
			"the rules are saved (atomically) to rules.json in the run folder.\n\n" +
			"With --device cuda (or auto finding a GPU) each step's inner training, loss and rule gradient run on the\n" +
			"device in float32 (Adam and small-NN rules' parameterization on the CPU); the per-epoch evaluation stays\n" +
			"on the CPU. summary.json's device_work says so.\n\n" +
			"Initial rules: RNN and input tables N(0,1), output table zeros, small NNs PyTorch-style uniform.",
		UsageText: "plastic rule learn [flags]\n\n" +
			"Examples:\n" +
			"  plastic rule learn --data halfspace --nodes 100 --cap 50 --rounds 1 --learn output --epochs 5 --name hs\n" +
			"  plastic rule show runs/hs/rules.json\n" +
			"  plastic rule learn --data relu1 --rounds 3 --learn rnn,output --param nn --hidden 20 --epochs 3\n" +
			"  plastic --seed 2 rule learn --data mnist --nodes 200 --cap 100 --rounds 3 --learn rnn --init perceptron",
		Flags:  append(flags, runFlags()...),
		Action: ruleLearn,
	}
}

func ruleLearn(c *cli.Context) error {
	seed := c.Int64(flagSeed)
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	var rs *plasticity.RuleSet
	if p := c.String("init"); p != "" {
		if rs, err = plasticity.LoadRules(p); err != nil {
			return fmt.Errorf("--init: %w", err)
		}
		if rs, err = plasticity.ForRounds(rs, c.Int("rounds")); err != nil {
			return fmt.Errorf("--init %s: %w", p, err)
		}
	} else {
		rs = &plasticity.RuleSet{Rounds: c.Int("rounds"), Multiplicative: c.Bool("multiplicative")}
	}
	net, err := newNet(c, trainSet, rs.Multiplicative)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewSource(seed))
	var learn []plasticity.Target
	seen := map[plasticity.Target]bool{}
	for _, s := range c.StringSlice("learn") {
		for _, part := range strings.Split(s, ",") {
			t, err := plasticity.ParseTarget(part)
			if err != nil {
				return fmt.Errorf("--learn: %w", err)
			}
			if !seen[t] {
				seen[t] = true
				learn = append(learn, t)
			}
		}
	}
	for _, t := range learn {
		param := c.String("param")
		if t == plasticity.TargetOutput {
			param = c.String("output-param")
		}
		var r plasticity.Rule
		switch param {
		case "table":
			if t == plasticity.TargetOutput {
				r, _ = plasticity.NewTable(t, net.T, nil)
			} else {
				r = plasticity.RandomTable(t, net.T, rng)
			}
		case "nn":
			if r, err = plasticity.NewNN(t, net.T, c.Int("hidden"), rng); err != nil {
				return fmt.Errorf("--hidden: %w", err)
			}
		default:
			return fmt.Errorf("--param/--output-param=%q: want table or nn", param)
		}
		switch t {
		case plasticity.TargetRNN:
			if rs.RNN == nil || c.String("init") == "" {
				rs.RNN = r
			}
		case plasticity.TargetOutput:
			if rs.Output == nil || c.String("init") == "" {
				rs.Output = r
			}
		case plasticity.TargetInput:
			if rs.Input == nil || c.String("init") == "" {
				rs.Input = r
			}
		}
	}
	if rs.Output == nil {
		// Without an output rule U stays at its reset value and nothing is learned.
		return fmt.Errorf("--learn=%s: no output rule (learn it with --learn output or give one with --init)", strings.Join(c.StringSlice("learn"), ","))
	}
	sch, err := scheme(c)
	if err != nil {
		return err
	}
	cfg := plasticity.MetaConfig{Batch: c.Int("batch"), LR: c.Float64("lr"), WeightDecay: c.Float64("weight-decay"),
		Loss: c.String("loss"), Learn: learn, Scheme: sch}
	if cfg.LR <= 0 || math.IsInf(cfg.LR, 0) || math.IsNaN(cfg.LR) {
		return fmt.Errorf("--lr=%v: want a finite value > 0", cfg.LR)
	}
	if cfg.WeightDecay < 0 || math.IsNaN(cfg.WeightDecay) {
		return fmt.Errorf("--weight-decay=%v: want >= 0", cfg.WeightDecay)
	}
	if cfg.Batch < 1 {
		return fmt.Errorf("--batch=%d: want >= 1", cfg.Batch)
	}
	switch cfg.Loss {
	case graph.LossCE, graph.LossMSE, graph.LossSoftmaxCE:
	default:
		return fmt.Errorf("--loss=%q: want %s, %s or %s", cfg.Loss, graph.LossCE, graph.LossMSE, graph.LossSoftmaxCE)
	}
	rs.Provenance = &plasticity.Provenance{Command: strings.Join(os.Args, " "), Data: c.String("data"), Seed: seed,
		Firing: net.Firing.String(), Scheme: sch.String()}
	if err := plasticity.CheckMetaTask(net, trainSet, testSet, c.Int("epochs"), cfg.Batch); err != nil {
		return fmt.Errorf("--epochs/--batch: %w", err)
	}
	r, ctx, _, err := startRun(c, "rule-learn")
	if err != nil {
		return err
	}
	dev, closeDev, err := runDevice(c, r)
	if err != nil {
		return err
	}
	defer closeDev()
	if dev != nil {
		cfg.Device = dev
		r.Summary["device_work"] = "the meta-learning steps (inner rule training, loss, rule gradient); the per-epoch evaluation on the CPU"
	}
	ml, err := plasticity.NewMetaLearner(net, rs, cfg)
	if err != nil {
		return err
	}
	defer ml.Close()
	task, err := plasticity.NewMetaTask(ml, net, trainSet, testSet, c.Int("epochs"), c.Int("eval-n"), seed)
	if err != nil {
		return fmt.Errorf("--epochs/--batch: %w", err)
	}
	rulePath := r.Path("rules.json")
	var epochs []map[string]float64
	hooks := []any{quietProgress(c, "rule learn"), train.NaNCheck{}, plasticity.SaveRulesHook{Path: rulePath, Task: task},
		epochRecorder{&epochs}, runMetrics{r: r}}
	err = train.Run(ctx, task, train.Options{Hooks: hooks})
	r.Summary["epochs"] = epochs
	r.Summary["rules"] = "rules.json"
	if len(epochs) > 0 {
		last := epochs[len(epochs)-1]
		for _, k := range []string{"loss", "train_acc", "test_acc"} {
			if v, ok := last[k]; ok {
				r.Summary[k] = v
			}
		}
	}
	if err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "rules after %d epochs (loss %.4g):\n", c.Int("epochs"), task.LastLoss)
	printRules(out, ml.Rules())
	fmt.Fprintf(out, "wrote %s\n", rulePath)
	return nil
}

// runMetrics appends every epoch's metrics (plus extra) to the run's
// metrics.jsonl. The run itself is finished by the command wrapper when
// the Action returns. (The commands do not call startRun's stop: it
// cancels the run's context, which the wrapper then records as an
// interruption.)
type runMetrics struct {
	r     *run.Run
	extra map[string]float64
}

func (h runMetrics) OnEpochEnd(s *train.State) error {
	m := map[string]float64{}
	for k, v := range s.EpochMetrics {
		m[k] = v
	}
	for k, v := range h.extra {
		m[k] = v
	}
	return h.r.AppendMetrics(m)
}

// epochRecorder keeps the epoch metrics for the run summary.
type epochRecorder struct{ dst *[]map[string]float64 }

func (e epochRecorder) OnEpochEnd(s *train.State) error {
	m := map[string]float64{}
	for k, v := range s.EpochMetrics {
		m[k] = v
	}
	*e.dst = append(*e.dst, m)
	return nil
}

// ---- plastic rule train ----

func ruleTrainCmd() *cli.Command {
	flags := append(netFlags(0), schemeFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "rules", Required: true, Usage: "rule file or built-in (" + strings.Join(plasticity.BuiltinNames(), ", ") + ")"},
		&cli.IntFlag{Name: "passes", Value: 2, Usage: "passes over the training set (Table 2 uses 2)"},
		&cli.IntFlag{Name: "every", Usage: "also report test accuracy every N examples (0: per pass only)"},
		&cli.BoolFlag{Name: "shuffle", Usage: "shuffle the training set before each pass (seeded)"},
		&cli.IntFlag{Name: "repeats", Value: 1, Usage: "train this many times (fresh order each, needs --shuffle to differ) and report the mean"},
		&cli.BoolFlag{Name: "train-eval", Usage: "after each pass also classify the whole training set again (the papers' train accuracy: one more forward pass per training example); without it the training accuracy is the pass's online accuracy"},
	)
	return &cli.Command{
		Name:  "train",
		Usage: "train a network with fixed plasticity rules (no gradients) and report train/test accuracy",
		Description: "Resets the weights, then runs the training set one example at a time: forward pass, firing codes,\n" +
			"rule updates (misclassified examples only unless --every-example). --rounds defaults to the rules' T;\n" +
			"a T=1 output-only rule (e.g. perceptron) also trains networks with more rounds, looking at the last round\n" +
			"(an additive one cannot learn there: without an RNN rule W stays 0 and rounds 2..T see no input; a warning says so).\n" +
			"Reports the online accuracy of the last pass (each prediction made before its example's update, as\n" +
			"`plastic train` reports its training accuracy) and the test accuracy after training; --train-eval adds\n" +
			"the accuracy on the whole training set after training.",
		UsageText: "plastic rule train --rules RULES [flags]\n\n" +
			"Examples:\n" +
			"  plastic rule train --rules perceptron --data halfspace --nodes 100 --cap 50 --firing nonzero\n" +
			"  plastic rule train --rules perceptron --data mnist --nodes 1000 --cap 500 --passes 2 --every 1000\n" +
			"  plastic rule train --rules runs/hs/rules.json --data relu2 --nodes 1000 --cap 500 --repeats 10 --shuffle\n" +
			"  plastic rule train --rules multiplicative-weights --data halfspace --multiplicative",
		Flags:  append(flags, runFlags()...),
		Action: ruleTrain,
	}
}

// rulesFromFlags loads --rules (a built-in name or a rule file) for a
// network of --rounds rounds (the rules' own T when --rounds is 0) and
// checks it against --multiplicative.
func rulesFromFlags(c *cli.Context) (*plasticity.RuleSet, error) {
	rs, err := plasticity.LoadRules(c.String("rules"))
	if err != nil {
		return nil, fmt.Errorf("--rules: %w", err)
	}
	if c.Int("rounds") == 0 {
		if err := c.Set("rounds", fmt.Sprint(rs.Rounds)); err != nil {
			return nil, err
		}
	}
	if rs, err = plasticity.ForRounds(rs, c.Int("rounds")); err != nil {
		return nil, fmt.Errorf("--rules %s with --rounds=%d: %w", c.String("rules"), c.Int("rounds"), err)
	}
	if c.IsSet("multiplicative") && c.Bool("multiplicative") != rs.Multiplicative {
		return nil, fmt.Errorf("--multiplicative=%v but the rules %s are %s", c.Bool("multiplicative"), c.String("rules"), updateKind(rs))
	}
	return rs, nil
}

// rulesNetInfo is the provenance saved with a network trained by --rules.
func rulesNetInfo(c *cli.Context, r *run.Run, testAcc float64) baseline.NetInfo {
	name := c.String("rules")
	if _, err := os.Stat(name); err == nil {
		name = filepath.Base(name)
	}
	return baseline.NetInfo{Trainer: "rules:" + name, Dataset: c.String("data"), Epochs: c.Int("passes"),
		TestAcc: testAcc, Seed: c.Int64(flagSeed), Run: r.Manifest.ID}
}

func ruleTrain(c *cli.Context) error {
	rs, err := rulesFromFlags(c)
	if err != nil {
		return err
	}
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	net, err := newNet(c, trainSet, rs.Multiplicative)
	if err != nil {
		return err
	}
	noteFiring(c, rs, net)
	sch, err := scheme(c)
	if err != nil {
		return err
	}
	if c.Int("passes") < 1 || c.Int("repeats") < 1 || c.Int("every") < 0 {
		return fmt.Errorf("--passes=%d --repeats=%d --every=%d: want >= 1, >= 1, >= 0", c.Int("passes"), c.Int("repeats"), c.Int("every"))
	}
	if rs.Multiplicative {
		if err := cpuOnly(c, whyMultiplicativeCPU); err != nil {
			return err
		}
	}
	r, ctx, _, err := startRun(c, "rule-train")
	if err != nil {
		return err
	}
	out := c.App.Writer
	chunk := c.Int("every")
	if chunk == 0 {
		chunk = 1000
	}
	dev, closeDev, err := runDevice(c, r)
	if err != nil {
		return err
	}
	defer closeDev()
	if dev != nil {
		return ruleTrainOnDevice(ctx, c, r, dev, net, rs, sch, trainSet, testSet, chunk)
	}
	var onlineAcc, trainAcc, testAcc []float64
	var curve []map[string]float64
	for rep := 0; rep < c.Int("repeats"); rep++ {
		tr, err := plasticity.NewTrainer(net, rs, sch)
		if err != nil {
			return err
		}
		task, err := plasticity.NewTrainTask(tr, trainSet, testSet, c.Int("passes"), chunk, c.Bool("shuffle"), c.Int64(flagSeed)+int64(rep))
		if err != nil {
			tr.Close()
			return err
		}
		task.EvalSteps = c.Int("every") > 0
		task.SkipTrainAcc = !c.Bool("train-eval")
		hooks := []any{quietProgress(c, fmt.Sprintf("rule train %d/%d", rep+1, c.Int("repeats")))}
		if task.EvalSteps && rep == 0 {
			hooks = append(hooks, train.Every{N: 1, F: func(s *train.State) error {
				curve = append(curve, map[string]float64{"examples": float64(s.Samples), "test_acc": s.StepMetrics["test_acc"], "online_acc": s.StepMetrics["online_acc"]})
				fmt.Fprintf(out, "examples %d: test accuracy %.4f\n", s.Samples, s.StepMetrics["test_acc"])
				return nil
			}})
		}
		var last map[string]float64
		hooks = append(hooks, lastEpoch{&last}, runMetrics{r: r, extra: map[string]float64{"repeat": float64(rep + 1)}})
		err = train.Run(ctx, task, train.Options{Hooks: hooks})
		if err == nil && rep == 0 {
			// The first trained network is kept, so `plastic attack --run`
			// can attack it.
			err = baseline.SaveRNN(r.Path(networkFile), tr.Network(), rulesNetInfo(c, r, last["test_acc"]))
		}
		tr.Close()
		if err != nil {
			return err
		}
		onlineAcc = append(onlineAcc, last["online_acc"])
		testAcc = append(testAcc, last["test_acc"])
		if c.Bool("train-eval") {
			trainAcc = append(trainAcc, last["train_acc"])
		}
		fmt.Fprintf(out, "run %d: %s\n", rep+1, accuracyLine(last["online_acc"], last["train_acc"], last["test_acc"], c.Bool("train-eval")))
	}
	reportRuleRuns(c, r, onlineAcc, trainAcc, testAcc)
	if curve != nil {
		r.Summary["curve"] = curve
	}
	return nil
}

// accuracyLine says a run's accuracies: online (the last pass's), on the
// whole training set after training (when withTrain) and on the test set.
func accuracyLine(online, train, test float64, withTrain bool) string {
	s := fmt.Sprintf("online accuracy %.4f (last pass), ", online)
	if withTrain {
		s += fmt.Sprintf("train accuracy %.4f, ", train)
	}
	return s + fmt.Sprintf("test accuracy %.4f", test)
}

// reportRuleRuns prints the means over the runs of `rule train` (when
// more than one) and writes the accuracies to the run's summary:
// online_acc, test_acc and, with --train-eval, train_acc, each with its
// per-run list (*_runs).
func reportRuleRuns(c *cli.Context, r *run.Run, online, train, test []float64) {
	if len(test) > 1 {
		fmt.Fprintf(c.App.Writer, "mean of %d runs: %s\n", len(test), accuracyLine(mean(online), mean(train), mean(test), len(train) > 0))
	}
	r.Summary["rules"] = c.String("rules")
	r.Summary["online_acc"], r.Summary["test_acc"] = mean(online), mean(test)
	r.Summary["online_acc_runs"], r.Summary["test_acc_runs"] = online, test
	if len(train) > 0 {
		r.Summary["train_acc"], r.Summary["train_acc_runs"] = mean(train), train
	}
}

// whyMultiplicativeCPU is why multiplicative rules train on the CPU.
const whyMultiplicativeCPU = "multiplicative rules train in float64, on the CPU (the device trainer keeps float32, whose range their weights leave within a few thousand updates)"

type lastEpoch struct{ dst *map[string]float64 }

func (l lastEpoch) OnEpochEnd(s *train.State) error {
	*l.dst = s.EpochMetrics
	return nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(max(1, len(v)))
}

func updateKind(rs *plasticity.RuleSet) string {
	if rs.Multiplicative {
		return "multiplicative"
	}
	return "additive"
}

// ---- plastic rule show ----

func ruleShowCmd() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a rule set as tables (rows and columns named by firing codes)",
		UsageText: "plastic rule show RULES\n\nExamples:\n  plastic rule show perceptron\n  plastic rule show runs/hs/rules.json",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("rule show: want one rule file or built-in name, got %d arguments", c.NArg())
			}
			rs, err := plasticity.LoadRules(c.Args().First())
			if err != nil {
				return err
			}
			printRules(c.App.Writer, rs)
			return nil
		},
	}
}

func printRules(w io.Writer, rs *plasticity.RuleSet) {
	eta := rs.Eta
	if eta == 0 {
		eta = plasticity.DefaultEta
	}
	fmt.Fprintf(w, "T=%d, %s updates, eta %g\n", rs.Rounds, updateKind(rs), eta)
	if p := rs.Provenance; p != nil {
		var parts []string
		if p.Note != "" {
			parts = append(parts, p.Note)
		}
		if p.Command != "" {
			parts = append(parts, fmt.Sprintf("command %q, data %s, seed %d", p.Command, p.Data, p.Seed))
		}
		if p.Epochs > 0 {
			parts = append(parts, fmt.Sprintf("%d epochs", p.Epochs))
		}
		if p.FinalLoss != 0 {
			parts = append(parts, fmt.Sprintf("final loss %.4g", p.FinalLoss))
		}
		fmt.Fprintf(w, "provenance: %s\n", strings.Join(parts, "; "))
	}
	code := func(c int) string { return fmt.Sprintf("%0*b", rs.Rounds, c) }
	for _, r := range rs.Rules() {
		rows, cols := plasticity.TableShape(r.Target(), rs.Rounds)
		tab := r.Table()
		kind := r.Kind()
		if nn, ok := r.(*plasticity.NNRule); ok {
			kind = fmt.Sprintf("small NN, %d hidden units, evaluated", nn.Hidden)
		}
		var head []string
		switch r.Target() {
		case plasticity.TargetRNN:
			fmt.Fprintf(w, "\nRNN rule (%s): rows = pre-synaptic code, columns = post-synaptic code\n", kind)
			for j := 0; j < cols; j++ {
				head = append(head, code(j))
			}
		case plasticity.TargetOutput:
			fmt.Fprintf(w, "\noutput rule (%s): rows = hidden node code, columns = true label row / predicted (other) row\n", kind)
			head = []string{"true", "other"}
		case plasticity.TargetInput:
			fmt.Fprintf(w, "\ninput rule (%s): rows = post-synaptic code\n", kind)
			head = []string{"delta"}
		}
		fmt.Fprintf(w, "%*s", rs.Rounds+2, "")
		for _, h := range head {
			fmt.Fprintf(w, " %9s", h)
		}
		fmt.Fprintln(w)
		for i := 0; i < rows; i++ {
			fmt.Fprintf(w, "%*s  ", rs.Rounds, code(i))
			for j := 0; j < cols; j++ {
				fmt.Fprintf(w, " %9.4f", tab[i*cols+j])
			}
			fmt.Fprintln(w)
		}
	}
}

// ---- plastic rule optimal ----

func ruleOptimalCmd() *cli.Command {
	flags := netFlags(1)
	flags = append(flags,
		&cli.Float64Flag{Name: "eta", Value: plasticity.DefaultEta, Usage: "step size the rule is optimal for"},
		&cli.StringFlag{Name: "save", Usage: "also write the rule file here (it is always written to the run folder as rules.json)"},
	)
	return &cli.Command{
		Name:  "optimal",
		Usage: "closed-form MSE-optimal output rule (Appendix B) for a T=1 network, written as a rule file",
		Description: "With updates on every example and every output row, no softmax and MSE to one-hot, the trained U is\n" +
			"linear in the output rule; the optimum solves a 4x4 linear system built in O(n*l*d). The command\n" +
			"prints the rule, its MSE and the train/test accuracy of a network trained with it under that scheme.",
		UsageText: "plastic rule optimal [flags]\n\nExamples:\n" +
			"  plastic rule optimal --data halfspace --nodes 100 --cap 50\n" +
			"  plastic rule optimal --data mnist --nodes 1000 --cap 500 --save optimal.json",
		Flags:  append(flags, runFlags()...),
		Action: ruleOptimal,
	}
}

func ruleOptimal(c *cli.Context) error {
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	if c.Bool("multiplicative") {
		return fmt.Errorf("--multiplicative: the closed form is for additive rules")
	}
	net, err := newNet(c, trainSet, false)
	if err != nil {
		return err
	}
	eta := c.Float64("eta")
	if !(eta > 0) || math.IsInf(eta, 0) {
		return fmt.Errorf("--eta=%v: want a finite value > 0", eta)
	}
	rule, mse, err := plasticity.OptimalOutputRule(net, trainSet, eta)
	if err != nil {
		return err
	}
	r, _, _, err := startRun(c, "rule-optimal")
	if err != nil {
		return err
	}
	rs := &plasticity.RuleSet{Rounds: net.T, Eta: eta, Output: rule,
		Provenance: &plasticity.Provenance{Command: strings.Join(os.Args, " "), Data: c.String("data"), Seed: c.Int64(flagSeed), FinalLoss: mse,
			Firing: net.Firing.String(), Scheme: plasticity.Scheme{EveryExample: true, AllRows: true}.String(),
			Note: "closed-form MSE-optimal output rule (every example, all rows)"}}
	tr, err := plasticity.NewTrainer(net, rs, plasticity.Scheme{EveryExample: true, AllRows: true})
	if err != nil {
		return err
	}
	defer tr.Close()
	if err := tr.Pass(trainSet, nil); err != nil {
		return err
	}
	trainAcc, _ := tr.Accuracy(trainSet)
	testAcc, _ := tr.Accuracy(testSet)
	paths := []string{r.Path("rules.json")}
	if p := c.String("save"); p != "" {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := plasticity.SaveRules(p, rs); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	out := c.App.Writer
	printRules(out, rs)
	fmt.Fprintf(out, "MSE %.6g; trained with it (every example, all rows, one pass): train accuracy %.4f, test accuracy %.4f\n", mse, trainAcc, testAcc)
	fmt.Fprintf(out, "wrote %s\n", strings.Join(paths, ", "))
	r.Summary["mse"], r.Summary["train_acc"], r.Summary["test_acc"] = mse, trainAcc, testAcc
	r.Summary["rule"] = rule.Values
	r.Summary["rules"] = "rules.json"
	return nil
}
