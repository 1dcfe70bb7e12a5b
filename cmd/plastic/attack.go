package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/plasticity-lab/plastic/attacks"
	"github.com/plasticity-lab/plastic/baseline"
	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/run"
	"github.com/plasticity-lab/plastic/train"
)

// The `attack` command: adversarial robustness of simple RNNs (Sec. 4 and
// App. A.3 of the plasticity paper, Fig. 4, Fig. 5, Table 2).
func init() {
	register(&cli.Command{
		Name:  "attack",
		Usage: "robust accuracy of a trained simple RNN under gradient attacks over an eps grid (Fig. 5, Table 2)",
		Description: "The network comes from --model FILE (a PLASTRNN network file, e.g. from `plastic gd train`), --run DIR\n" +
			"(DIR/" + networkFile + ") or --rules RULES (trained here with those fixed rules, exactly as `plastic rule train`,\n" +
			"and saved to this run's " + networkFile + "). --images random test images (seeded by --seed) are attacked.\n\n" +
			"The default attack is the paper's: for each image and every label y' other than its label y, --steps steps\n" +
			"x <- Proj(x - alpha * g/||g||), g = grad_x CE(x, y'), alpha = --step-size * eps, Proj the exact projection onto\n" +
			"the L2 ball of radius eps around the image intersected with [0,1]; the image is broken when any iterate of any\n" +
			"target is misclassified. The gradient's direction is followed (not its sign, as the paper says); its length is\n" +
			"normalised so that one step size fits rule-trained networks (logits in the hundreds) and GD-trained ones alike.\n" +
			"Defaults 50 steps of eps/20: 2.5 eps of travel (Madry et al.'s 2.5*eps/steps), enough to cross the ball and\n" +
			"slide along its boundary. Each image walks up the grid until broken; an image broken at eps counts as broken\n" +
			"at every larger eps (the same adversarial image lies in the larger ball), so the curve never rises.\n" +
			"--targeted=false gives untargeted PGD (ascending CE(x, y)); --norm linf uses sign steps; --fgsm is one\n" +
			"untargeted L-inf sign step of length eps.\n\n" +
			"Writes robustness.csv (eps, robust accuracy), images.csv (per image: the eps that broke it), robustness.png/svg.",
		UsageText: "plastic attack (--model FILE | --run DIR | --rules RULES [network flags]) [flags]\n\nExamples:\n" +
			"  plastic attack --run runs/gd-train-... --data mnist\n" +
			"  plastic attack --rules perceptron --data mnist --n-train 10000 --nodes 1000 --cap 500 --rounds 1\n" +
			"  plastic attack --model gd.rnn --data mnist --norm linf --targeted=false --eps-grid 0:0.05:0.3\n" +
			"  plastic attack examples --run runs/attack-... --data mnist --eps 2\n" +
			"  plastic attack plot --save fig5 runs/attack-a runs/attack-b",
		Flags:       append(attackFlags(), runFlags()...),
		Action:      attackCurve,
		Subcommands: []*cli.Command{attackExamplesCmd(), attackPlotCmd()},
	})
}

// modelFlags choose the network and the data; network and scheme flags
// apply to --rules only.
func modelFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "network file `FILE` (PLASTRNN, written by `plastic gd train` or an attack run)"},
		&cli.StringFlag{Name: "run", Usage: "run folder `DIR` holding " + networkFile},
		&cli.StringFlag{Name: "rules", Usage: "train the network here with these fixed rules (file or built-in: " + strings.Join(plasticity.BuiltinNames(), ", ") + ")"},
		&cli.IntFlag{Name: "passes", Value: 2, Usage: "--rules: passes over the training set (Table 2 uses 2)"},
		&cli.IntFlag{Name: "images", Value: 100, Usage: "random test images to attack (0: all)"},
	}
	for _, f := range append(netFlags(0), schemeFlags()...) {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "data" {
			sf.Value = "mnist"
		}
		flags = append(flags, f)
	}
	return flags
}

// netOnlyFlags are the flags that shape a network trained by --rules.
var netOnlyFlags = []string{"nodes", "cap", "p", "rounds", "input-ones", "firing", "multiplicative",
	"eta", "every-example", "all-rows", "both-columns", "passes", "n-train", "label-noise"}

func attackFlags() []cli.Flag {
	return append(modelFlags(),
		&cli.StringFlag{Name: "norm", Value: string(attacks.L2), Usage: "norm of the perturbation ball: l2 or linf"},
		&cli.StringFlag{Name: "eps-grid", Value: "0:0.5:4", Usage: "radii: comma-separated (0,0.5,1) or lo:step:hi; strictly increasing, >= 0"},
		&cli.BoolFlag{Name: "targeted", Value: true, Usage: "the paper's attack: every other label as target (false: untargeted PGD)"},
		&cli.IntFlag{Name: "steps", Value: attacks.DefaultSteps, Usage: "gradient steps per attempt"},
		&cli.Float64Flag{Name: "step-size", Value: attacks.DefaultStepSize, Usage: "step length as a fraction of eps"},
		&cli.IntFlag{Name: "restarts", Usage: "extra attempts per target from random points of the ball"},
		&cli.BoolFlag{Name: "fgsm", Usage: "FGSM: one untargeted L-inf sign step of length eps (overrides --norm, --targeted, --steps, --step-size)"},
		&cli.IntFlag{Name: "workers", Usage: "goroutines attacking images in parallel (0: one per core)"},
		&cli.StringFlag{Name: "label", Usage: "name of this network in plots (default: from the network's provenance)"},
	)
}

func attackOf(c *cli.Context) (attacks.Attack, error) {
	if c.Bool("fgsm") {
		for _, f := range []string{"norm", "targeted", "steps", "step-size", "restarts"} {
			if c.IsSet(f) {
				return attacks.Attack{}, fmt.Errorf("--fgsm fixes the attack; drop --%s", f)
			}
		}
		a := attacks.FGSM()
		a.Seed = c.Int64(flagSeed)
		return a, nil
	}
	norm, err := attacks.ParseNorm(c.String("norm"))
	if err != nil {
		return attacks.Attack{}, err
	}
	a := attacks.Attack{Norm: norm, Targeted: c.Bool("targeted"), Steps: c.Int("steps"), StepSize: c.Float64("step-size"),
		Restarts: c.Int("restarts"), Seed: c.Int64(flagSeed)}
	return a, a.Validate()
}

// attackSubject is the network under attack and the data.
type attackSubject struct {
	net   *models.RNN
	info  baseline.NetInfo
	test  *data.Set
	label string
	file  string // where the network was read from (empty: trained here)
}

// checkSubjectFlags checks the model flags (before any run folder is made).
func checkSubjectFlags(c *cli.Context) error {
	var sources []string
	for _, f := range []string{"model", "run", "rules"} {
		if c.String(f) != "" {
			sources = append(sources, "--"+f)
		}
	}
	if len(sources) != 1 {
		return fmt.Errorf("give exactly one of --model FILE, --run DIR or --rules RULES (got %d: %s)", len(sources), strings.Join(sources, " "))
	}
	if c.Int("images") < 0 {
		return fmt.Errorf("--images=%d: want >= 0 (0: all)", c.Int("images"))
	}
	if c.String("rules") == "" {
		for _, f := range netOnlyFlags {
			if c.IsSet(f) {
				return fmt.Errorf("--%s shapes a network trained with --rules; %s reads a trained one", f, sources[0])
			}
		}
	}
	return nil
}

// loadSubject checks the model flags and loads the data and the network;
// with --rules (rs, read before the run started) it trains the network
// (metrics into r) and saves it to r.
func loadSubject(c *cli.Context, r *run.Run, ctx context.Context, rs *plasticity.RuleSet) (*attackSubject, error) {
	if err := checkSubjectFlags(c); err != nil {
		return nil, err
	}
	s := &attackSubject{}
	if c.String("rules") == "" {
		s.file = c.String("model")
		if d := c.String("run"); d != "" {
			s.file = filepath.Join(d, networkFile)
			if _, err := os.Stat(s.file); err != nil {
				return nil, fmt.Errorf("--run=%s: no %s in that run folder (runs of `plastic gd train` and `plastic attack --rules` write one): %w", d, networkFile, err)
			}
		}
		net, info, err := baseline.LoadRNN(s.file)
		if err != nil {
			return nil, err
		}
		s.net, s.info = net, info
		_, test, err := data.Load(c.String("data"), data.Options{Dir: c.String(flagDataDir), Seed: c.Int64(flagSeed), NTest: c.Int("n-test")})
		if err != nil {
			return nil, fmt.Errorf("--data=%s: %w", c.String("data"), err)
		}
		s.test = test
		if test.Dim != net.Inputs {
			return nil, fmt.Errorf("%s: the network has %d inputs but --data=%s has %d features per example", s.file, net.Inputs, c.String("data"), test.Dim)
		}
	} else {
		if err := trainByRules(c, r, ctx, s, rs); err != nil {
			return nil, err
		}
	}
	s.label = c.String("label")
	if s.label == "" {
		s.label = fmt.Sprintf("%s, T=%d", s.info.Trainer, s.net.T)
		if s.net.InputOnes {
			s.label += "*"
		}
	}
	return s, nil
}

// trainByRules trains the network with fixed rules as `plastic rule train`
// does (reset, --passes passes in data order, rules on misclassified
// examples unless --every-example), on the device when --device resolved
// to one, and saves it to the run folder.
func trainByRules(c *cli.Context, r *run.Run, ctx context.Context, s *attackSubject, rs *plasticity.RuleSet) error {
	if c.Int("passes") < 1 {
		return fmt.Errorf("--passes=%d: want >= 1", c.Int("passes"))
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
	var last map[string]float64
	hooks := []any{quietProgress(c, "rule train"), lastEpoch{&last}, runMetrics{r: r}}
	dev, closeDev, err := runDevice(c, r)
	if err != nil {
		return err
	}
	defer closeDev()
	if dev != nil {
		if s.net, err = trainOnDevice(ctx, dev, net, rs, sch, trainSet, testSet, c.Int("passes"), 1000, hooks); err != nil {
			return err
		}
		r.Summary["device_work"] = "the rule-based training of the network; the attack on the CPU"
	} else {
		tr, err := plasticity.NewTrainer(net, rs, sch)
		if err != nil {
			return err
		}
		defer tr.Close()
		task, err := plasticity.NewTrainTask(tr, trainSet, testSet, c.Int("passes"), 1000, false, c.Int64(flagSeed))
		if err != nil {
			return err
		}
		if err := train.Run(ctx, task, train.Options{Hooks: hooks}); err != nil {
			return err
		}
		s.net = tr.Network()
	}
	s.info = rulesNetInfo(c, r, last["test_acc"])
	s.test = testSet
	r.Summary["train_acc"], r.Summary["test_acc"] = last["train_acc"], last["test_acc"]
	fmt.Fprintf(c.App.Writer, "trained with rules %s: train accuracy %.4f, test accuracy %.4f\n", c.String("rules"), last["train_acc"], last["test_acc"])
	return baseline.SaveRNN(r.Path(networkFile), s.net, s.info)
}

// startAttack checks the model flags, starts the run of command, and
// loads (or trains) the network under attack and the data.
func startAttack(c *cli.Context, command string) (*run.Run, context.Context, *attackSubject, attacks.Model, error) {
	if err := checkSubjectFlags(c); err != nil {
		return nil, nil, nil, nil, err
	}
	// The rules (--rules) are read before the run starts: the device a
	// run records depends on them.
	var rs *plasticity.RuleSet
	if c.String("rules") == "" {
		if err := cpuOnly(c, "the attack computes on the CPU (only a network trained here with --rules trains on the device)"); err != nil {
			return nil, nil, nil, nil, err
		}
	} else {
		var err error
		if rs, err = rulesFromFlags(c); err != nil {
			return nil, nil, nil, nil, err
		}
		if rs.Multiplicative {
			if err := cpuOnly(c, whyMultiplicativeCPU); err != nil {
				return nil, nil, nil, nil, err
			}
		}
	}
	r, ctx, _, err := startRun(c, command)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	s, err := loadSubject(c, r, ctx, rs)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m, err := attacks.RNN(s.net, attacks.Float32)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return r, ctx, s, m, nil
}

func attackCurve(c *cli.Context) error {
	a, err := attackOf(c)
	if err != nil {
		return err
	}
	grid, err := attacks.ParseGrid(c.String("eps-grid"))
	if err != nil {
		return err
	}
	if c.Int("workers") < 0 {
		return fmt.Errorf("--workers=%d: want >= 0", c.Int("workers"))
	}
	r, ctx, s, m, err := startAttack(c, "attack")
	if err != nil {
		return err
	}
	images := attacks.PickImages(c.Int("images"), s.test.N, c.Int64(flagSeed))
	quiet := c.Bool(flagQuiet)
	start, lastPrint := time.Now(), time.Now()
	opt := attacks.Options{Workers: c.Int("workers"), Progress: func(done, total int) {
		if !quiet && (done == total || time.Since(lastPrint) > 10*time.Second) {
			lastPrint = time.Now()
			fmt.Fprintf(os.Stderr, "attack: %d/%d images settled (%.0fs)\n", done, total, time.Since(start).Seconds())
		}
	}}
	res, err := attacks.Robustness(ctx, m, s.test, images, grid, a, opt)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w: %v", train.ErrInterrupted, err)
		}
		return err
	}
	secs := time.Since(start).Seconds()
	acc := res.Accuracy()
	curve, per, err := res.Tables()
	if err != nil {
		return err
	}
	if err := plots.WriteCSV(r.Path(attacks.CurveFile), *curve); err != nil {
		return err
	}
	if err := plots.WriteCSV(r.Path(attacks.ImagesFile), *per); err != nil {
		return err
	}
	if err := plots.Save(r.Path("robustness"), res.Chart(s.label)); err != nil {
		return err
	}
	accMap := map[string]float64{}
	for i, e := range grid {
		accMap[strconv.FormatFloat(e, 'g', -1, 64)] = acc[i]
	}
	r.Summary["label"] = s.label
	r.Summary["network"] = map[string]any{"file": s.file, "trainer": s.info.Trainer, "dataset": s.info.Dataset,
		"rounds": s.net.T, "nodes": s.net.Nodes, "cap": s.net.Cap, "input_ones": s.net.InputOnes, "test_acc": s.info.TestAcc}
	r.Summary["attack"] = map[string]any{"name": a.Name(), "norm": a.Norm, "targeted": a.Targeted, "steps": a.Steps,
		"step_size": a.StepSize, "restarts": a.Restarts}
	r.Summary["images"] = len(images)
	r.Summary["robust_acc"] = accMap
	r.Summary["evals"] = res.Evals
	r.Summary["attack_seconds"] = secs
	if err := r.AppendMetrics(map[string]float64{"attack_seconds": secs, "evals": float64(res.Evals)}); err != nil {
		return err
	}
	out := c.App.Writer
	fmt.Fprintf(out, "%s attack on %s (%d images, %d evaluations, %.1fs)\n", a.Name(), s.label, len(images), res.Evals, secs)
	fmt.Fprintf(out, "%8s  %10s\n", "eps", "robust acc")
	for i, e := range grid {
		fmt.Fprintf(out, "%8g  %10.3f\n", e, acc[i])
	}
	fmt.Fprintf(out, "wrote %s\n", r.Path(attacks.CurveFile))
	return nil
}

// ---- plastic attack examples ----

func attackExamplesCmd() *cli.Command {
	flags := append(modelFlags(),
		&cli.Float64Flag{Name: "eps", Value: 2, Usage: "radius of the attack"},
		&cli.StringFlag{Name: "norm", Value: string(attacks.L2), Usage: "l2 or linf"},
		&cli.IntFlag{Name: "steps", Value: attacks.DefaultSteps, Usage: "gradient steps per attempt"},
		&cli.Float64Flag{Name: "step-size", Value: attacks.DefaultStepSize, Usage: "step length as a fraction of eps"},
		&cli.StringFlag{Name: "label", Usage: "name of the network in the title"},
	)
	for _, f := range flags {
		if f.Names()[0] == "images" {
			f.(*cli.IntFlag).Value = 8
		}
	}
	return &cli.Command{
		Name:  "examples",
		Usage: "a PNG/SVG grid of test images (top row) and their adversarial images (bottom row), as Fig. 4",
		Description: "Runs the paper's targeted attack at one --eps on --images random test images (seeded by --seed) and\n" +
			"draws each original above its adversarial image: the first misclassified iterate, or, for an image the\n" +
			"attack does not break, the last iterate of the attempt closest to misclassification. Writes examples.png,\n" +
			"examples.svg and examples.csv (label, prediction, target, perturbation norm) to the run folder.",
		UsageText: "plastic attack examples (--model FILE | --run DIR | --rules RULES ...) [--eps 2] [--images 8]\n\nExamples:\n" +
			"  plastic attack examples --run runs/gd-train-... --data mnist --eps 2\n" +
			"  plastic attack examples --model t3.rnn --data mnist --eps 4 --images 10",
		Flags:  append(flags, runFlags()...),
		Action: attackExamples,
	}
}

func attackExamples(c *cli.Context) error {
	norm, err := attacks.ParseNorm(c.String("norm"))
	if err != nil {
		return err
	}
	a := attacks.Attack{Norm: norm, Targeted: true, Steps: c.Int("steps"), StepSize: c.Float64("step-size"), Seed: c.Int64(flagSeed)}
	if err := a.Validate(); err != nil {
		return err
	}
	eps := c.Float64("eps")
	if math.IsNaN(eps) || math.IsInf(eps, 0) || eps < 0 {
		return fmt.Errorf("--eps=%v: want a finite value >= 0", eps)
	}
	if c.Int("images") < 1 || c.Int("images") > 50 {
		return fmt.Errorf("--images=%d: want 1..50 for a figure", c.Int("images"))
	}
	r, ctx, s, m, err := startAttack(c, "attack-examples")
	if err != nil {
		return err
	}
	images := attacks.PickImages(c.Int("images"), s.test.N, c.Int64(flagSeed))
	exs, err := attacks.Examples(ctx, m, s.test, images, eps, a)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w", train.ErrInterrupted)
		}
		return err
	}
	grid, tab, err := attacks.ExamplesFigure(s.test, images, exs, fmt.Sprintf("%s: eps = %g (%s)", s.label, eps, norm), norm)
	if err != nil {
		return err
	}
	if err := plots.Save(r.Path("examples"), grid); err != nil {
		return err
	}
	if err := plots.WriteCSV(r.Path("examples.csv"), *tab); err != nil {
		return err
	}
	r.Summary["label"], r.Summary["eps"], r.Summary["images"] = s.label, eps, len(images)
	fmt.Fprintf(c.App.Writer, "wrote %s\n", r.Path("examples.png"))
	return nil
}

// ---- plastic attack plot ----

func attackPlotCmd() *cli.Command {
	return &cli.Command{
		Name:  "plot",
		Usage: "one robustness chart (and CSV) from several attack runs, as Fig. 5",
		UsageText: "plastic attack plot --save FILE RUN...\n\nExample:\n" +
			"  plastic attack plot --save fig5 runs/attack-t1 runs/attack-t1star runs/attack-t3 runs/attack-gd",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "save", Required: true, Usage: "write `FILE`.png, FILE.svg and FILE.csv"},
			&cli.StringFlag{Name: "title", Value: "robust accuracy under the targeted L2 attack", Usage: "chart title"},
		},
		Action: attackPlot,
	}
}

func attackPlot(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("attack plot: give the attack run folders as arguments")
	}
	chart, long, err := attacks.CombineRuns(c.Args().Slice(), c.String("title"))
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(strings.TrimSuffix(c.String("save"), ".png"), ".svg")
	if err := plots.Save(base, chart); err != nil {
		return err
	}
	if err := plots.WriteCSV(base+".csv", *long); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s.png, %s.svg, %s.csv\n", base, base, base)
	return nil
}
