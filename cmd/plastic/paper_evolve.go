package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/evolution"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
)

// `plastic paper evolve`: Appendix C, the evolution of a plasticity
// coefficient set by many genes, next to GD on the coefficient and the two
// candidate first-order steps (package evolution).

const evolveDescription = `Simulates Appendix C: n two-allele genes per coefficient set the trait
Y = eps * sum_i (2 x_i - 1); under weak selection theta the allele
frequencies follow the exact recursion x_i' = x_i (1 + theta (L(Y) - L(Y|+))) / Z.
Beside it, from the same start, the command runs its first-order step
x_i' = x_i - theta x_i (1 - x_i) dL/dx_i (the one that holds), the paper's
claimed step with the factor (2 - 2 x_i) (which does not), plain GD on Y
with rate theta eps^2 n, and, with --population N > 0, a Wright-Fisher
population of N individuals (seeded by --seed). For the quadratic loss the
recursion rests at Y* n/(n-1), O(eps) from the minimum Y* that GD on Y and
the first-order step reach (derivation and tests: go doc ./evolution).

Losses:
  quadratic  L(Y) = sum_c (Y_c - target_c)^2 (one coefficient per --target)
  rule       the test cross-entropy of a simple RNN (--nodes, --cap, --rounds)
             trained for one pass over --examples Halfspace points with an
             output rule: --rule-coefficients scale (one coefficient Y times
             the sign pattern [[-1, 1], [1, -1]] of Theorem 1) or table (every
             entry of the 2^T x 2 output rule is its own coefficient)

Writes, in the run folder under --out: trajectories.csv (the trait of every
method per generation and coefficient), trajectories.png and .svg (one
figure per coefficient, trajectories_Y1.png ..., when there are several),
metrics.jsonl (a line per generation: every method's trait and loss) and
summary.json (final traits and losses; for the quadratic loss also the
recursion's predicted rest point Y* n/(n-1)).`

func init() {
	registerPaper(&cli.Command{
		Name:        "evolve",
		Usage:       "Appendix C: evolution of a plasticity coefficient versus GD",
		UsageText:   "plastic [global options] paper evolve [options]",
		Description: evolveDescription + "\n\nExamples:\n" + evolveExamples,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "loss", Value: "quadratic", Usage: "`LOSS` of the trait: quadratic or rule"},
			&cli.IntFlag{Name: "genes", Value: 20, Usage: "`n`, genes per coefficient"},
			&cli.Float64Flag{Name: "eps", Value: 0.05, Usage: "effect of one allele on its coefficient (the trait lies in (-eps*n, eps*n))"},
			&cli.Float64Flag{Name: "theta", Value: 0.5, Usage: "selection strength (weak selection: every fitness 1 + theta*(L(Y)-L(.)) must stay > 0)"},
			&cli.IntFlag{Name: "generations", Value: 300, Usage: "number of generations"},
			&cli.IntFlag{Name: "population", Value: 0, Usage: "Wright-Fisher population size `N`; 0 runs the deterministic recursion only"},
			&cli.Float64SliceFlag{Name: "start", Usage: "initial trait per coefficient (one value is used for all; default -0.5 for quadratic, 0.05 for rule)"},
			&cli.Float64SliceFlag{Name: "target", Usage: "quadratic loss: the minimum Y*, one value per coefficient (default 0.4)"},
			&cli.StringFlag{Name: "rule-coefficients", Value: "scale", Usage: "rule loss: `scale` (one coefficient scales the sign pattern) or table (one per output-rule entry)"},
			&cli.IntFlag{Name: "nodes", Value: 100, Usage: "rule loss: |V| of the simple RNN"},
			&cli.IntFlag{Name: "cap", Value: 50, Usage: "rule loss: k, nodes firing per round"},
			&cli.IntFlag{Name: "rounds", Value: 1, Usage: "rule loss: T, firing rounds"},
			&cli.IntFlag{Name: "examples", Value: 1000, Usage: "rule loss: Halfspace training points (and as many test points)"},
		}, runFlags()...),
		Action: paperEvolve,
	})
}

const evolveExamples = `  plastic paper evolve
  plastic --seed 3 paper evolve --genes 40 --eps 0.025 --theta 1 --population 2000 --generations 500
  plastic paper evolve --target 0.3 --target -0.2 --start 0 --generations 1000
  plastic paper evolve --loss rule --genes 20 --eps 0.02 --theta 2 --generations 60 --population 500
  plastic paper evolve --loss rule --rule-coefficients table --genes 10 --eps 0.02 --theta 1 --generations 60`

func paperEvolve(c *cli.Context) error {
	cfg := evolveConfigFrom(c)
	if err := cfg.check(); err != nil {
		return err
	}
	r, ctx, stop, err := startRun(c, "paper-evolve")
	if err != nil {
		return err
	}
	defer stop()
	var progress io.Writer = os.Stderr
	if c.Bool(flagQuiet) {
		progress = nil
	}
	res, err := runEvolve(ctx, cfg, r.Dir, progress, r)
	if err != nil {
		return err
	}
	for k, v := range res.Final {
		r.Summary[k] = v
	}
	r.Summary["figures"] = res.Figures
	r.Summary["table"] = "trajectories.csv"
	fmt.Fprint(c.App.Writer, describeFinal(res))
	fmt.Fprintf(c.App.Writer, "wrote %s\n", r.Path("trajectories.csv"))
	return nil
}

// evolveConfig is what `paper evolve` simulates.
type evolveConfig struct {
	Loss        string
	Genes       int
	Eps, Theta  float64
	Generations int
	Population  int
	Start       []float64
	Target      []float64
	RuleCoefs   string
	Nodes, Cap  int
	Rounds      int
	Examples    int
	Seed        int64
}

func evolveConfigFrom(c *cli.Context) evolveConfig {
	return evolveConfig{
		Loss: c.String("loss"), Genes: c.Int("genes"), Eps: c.Float64("eps"), Theta: c.Float64("theta"),
		Generations: c.Int("generations"), Population: c.Int("population"),
		Start: c.Float64Slice("start"), Target: c.Float64Slice("target"),
		RuleCoefs: c.String("rule-coefficients"), Nodes: c.Int("nodes"), Cap: c.Int("cap"),
		Rounds: c.Int("rounds"), Examples: c.Int("examples"), Seed: c.Int64(flagSeed),
	}
}

// check validates the flags and fills in the defaults that depend on the
// loss; errors name the flag.
func (cfg *evolveConfig) check() error {
	switch {
	case cfg.Genes < 1:
		return fmt.Errorf("--genes=%d: want >= 1", cfg.Genes)
	case !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0):
		return fmt.Errorf("--eps=%v: want a finite value > 0", cfg.Eps)
	case !(cfg.Theta > 0) || math.IsInf(cfg.Theta, 0):
		return fmt.Errorf("--theta=%v: want a finite value > 0", cfg.Theta)
	case cfg.Generations < 1:
		return fmt.Errorf("--generations=%d: want >= 1", cfg.Generations)
	case cfg.Population < 0:
		return fmt.Errorf("--population=%d: want 0 (deterministic only) or a size >= 1", cfg.Population)
	}
	coefs := 0
	switch cfg.Loss {
	case "quadratic":
		if len(cfg.Target) == 0 {
			cfg.Target = []float64{0.4}
		}
		coefs = len(cfg.Target)
		if len(cfg.Start) == 0 {
			cfg.Start = []float64{-0.5}
		}
	case "rule":
		if len(cfg.Target) > 0 {
			return fmt.Errorf("--target is for --loss=quadratic; the rule loss has no known minimum")
		}
		if cfg.Rounds < 1 || cfg.Rounds > models.MaxT {
			return fmt.Errorf("--rounds=%d: want 1..%d", cfg.Rounds, models.MaxT)
		}
		switch cfg.RuleCoefs {
		case "scale":
			coefs = 1
		case "table":
			coefs = 2 << cfg.Rounds
		default:
			return fmt.Errorf("--rule-coefficients=%q: want scale or table", cfg.RuleCoefs)
		}
		if cfg.Examples < 1 {
			return fmt.Errorf("--examples=%d: want >= 1", cfg.Examples)
		}
		if len(cfg.Start) == 0 {
			cfg.Start = []float64{0.05}
		}
	default:
		return fmt.Errorf("--loss=%q: want quadratic or rule", cfg.Loss)
	}
	if len(cfg.Start) == 1 && coefs > 1 {
		s := cfg.Start[0]
		cfg.Start = make([]float64, coefs)
		for i := range cfg.Start {
			cfg.Start[i] = s
		}
	}
	if len(cfg.Start) != coefs {
		return fmt.Errorf("--start has %d values for %d coefficients (give one, or one per coefficient)", len(cfg.Start), coefs)
	}
	max := cfg.Eps * float64(cfg.Genes)
	for i, s := range cfg.Start {
		if !(math.Abs(s) < max) {
			return fmt.Errorf("--start value %d = %v is outside (-eps*genes, eps*genes) = (%v, %v)", i+1, s, -max, max)
		}
	}
	return nil
}

// ruleLoss is the loss of a trait vector for `--loss rule`: the test
// cross-entropy of a simple RNN trained for one pass with the output rule
// the trait sets. Deterministic: fixed network, data and example order.
type ruleLoss struct {
	net         *models.RNN
	train, test *data.Set
	table       bool // one coefficient per rule entry (else one scale)
}

// newRuleLoss builds the network and the Halfspace data from seed.
func newRuleLoss(cfg evolveConfig) (*ruleLoss, error) {
	net, err := models.NewRNN(models.RNNConfig{
		Inputs: data.DefaultDim, Labels: 2, Nodes: cfg.Nodes, P: 0.5, Cap: cfg.Cap, T: cfg.Rounds,
	}, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("--nodes/--cap/--rounds: %w", err)
	}
	tr, te, err := data.Halfspace(data.Options{Seed: cfg.Seed, NTrain: cfg.Examples, NTest: cfg.Examples})
	if err != nil {
		return nil, err
	}
	return &ruleLoss{net: net, train: tr, test: te, table: cfg.RuleCoefs == "table"}, nil
}

// ruleTable is the output rule for trait y.
func (l *ruleLoss) ruleTable(y []float64) []float64 {
	codes := l.net.Codes()
	vals := make([]float64, 2*codes)
	for code := 0; code < codes; code++ {
		if l.table {
			vals[2*code], vals[2*code+1] = y[2*code], y[2*code+1]
			continue
		}
		// Theorem 1's sign pattern on the last round's bit: a node that
		// fired strengthens its edge to the true label and weakens the one
		// to the predicted label; a silent node does the opposite.
		s := -1.0
		if code&1 == 1 {
			s = 1
		}
		vals[2*code], vals[2*code+1] = s*y[0], -s*y[0]
	}
	return vals
}

func (l *ruleLoss) Loss(y []float64) (float64, error) {
	rule, err := plasticity.NewTable(plasticity.TargetOutput, l.net.T, l.ruleTable(y))
	if err != nil {
		return 0, err
	}
	tr, err := plasticity.NewTrainer(l.net, &plasticity.RuleSet{Rounds: l.net.T, Output: rule}, plasticity.Scheme{})
	if err != nil {
		return 0, err
	}
	defer tr.Close()
	if err := tr.Pass(l.train, nil); err != nil {
		return 0, err
	}
	trained := tr.Network()
	ce := 0.0
	for i := 0; i < l.test.N; i++ {
		p, err := trained.Forward(l.test.X[i*l.test.Dim : (i+1)*l.test.Dim])
		if err != nil {
			return 0, err
		}
		ce += logSumExp(p.Logits) - p.Logits[l.test.Y[i]]
	}
	return ce / float64(l.test.N), nil
}

func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// evolveMethods names the trajectories, in CSV column order.
var evolveMethods = []string{"recursion", "first_order", "paper_2_2x", "gd_y", "population"}

// evolveTask advances every trajectory by one generation per step of
// train.Run.
type evolveTask struct {
	m      *evolution.Model
	cfg    evolveConfig
	rng    *rand.Rand
	x      map[string][]float64 // allele frequencies per frequency method
	y      []float64            // GD on Y
	traits [][][]float64        // [generation][method][coefficient]
}

func (t *evolveTask) methods() []string {
	if t.cfg.Population > 0 {
		return evolveMethods
	}
	return evolveMethods[:4]
}

func (t *evolveTask) record() {
	row := make([][]float64, 0, len(evolveMethods))
	for _, name := range t.methods() {
		if name == "gd_y" {
			row = append(row, append([]float64(nil), t.y...))
		} else {
			row = append(row, t.m.Trait(t.x[name]))
		}
	}
	t.traits = append(t.traits, row)
}

// One epoch of train.Run is one generation, so metrics.jsonl gets a line
// per generation: every method's trait and loss.
func (t *evolveTask) Epochs() int           { return t.cfg.Generations }
func (t *evolveTask) StepsPerEpoch(int) int { return 1 }

func (t *evolveTask) Step(ctx context.Context, s *train.State) (int, map[string]float64, error) {
	var err error
	steps := map[string]func([]float64) ([]float64, error){
		"recursion": t.m.Step, "first_order": t.m.FirstOrderStep, "paper_2_2x": t.m.PaperStep,
		"population": func(x []float64) ([]float64, error) { return t.m.WrightFisherStep(x, t.cfg.Population, t.rng) },
	}
	for _, name := range t.methods() {
		if name == "gd_y" {
			if t.y, err = t.m.GDStep(t.y); err != nil {
				return 0, nil, fmt.Errorf("generation %d, GD on Y: %w", s.Epoch, err)
			}
			continue
		}
		if t.x[name], err = steps[name](t.x[name]); err != nil {
			return 0, nil, fmt.Errorf("generation %d, %s: %w", s.Epoch, name, err)
		}
	}
	t.record()
	return max(1, t.cfg.Population), nil, nil
}

// EndEpoch reports every method's trait (y_METHOD, or y_METHOD_C for
// coefficient C of several) and loss (loss_METHOD).
func (t *evolveTask) EndEpoch(ctx context.Context, s *train.State) (map[string]float64, error) {
	m := map[string]float64{}
	last := t.traits[len(t.traits)-1]
	for i, name := range t.methods() {
		for c, v := range last[i] {
			if len(last[i]) == 1 {
				m["y_"+name] = v
			} else {
				m[fmt.Sprintf("y_%s_%d", name, c+1)] = v
			}
		}
		l, err := t.m.Loss.Loss(last[i])
		if err != nil {
			return nil, err
		}
		m["loss_"+name] = l
	}
	return m, nil
}

// evolveResult is what one `paper evolve` run produced.
type evolveResult struct {
	Methods []string
	Traits  [][][]float64 // [generation][method][coefficient]
	Final   map[string]any
	Figures []string // file names in the run folder
}

// runEvolve simulates cfg (already checked) and writes trajectories.csv,
// trajectories.png and trajectories.svg into dir.
func runEvolve(ctx context.Context, cfg evolveConfig, dir string, progress io.Writer, hooks ...any) (*evolveResult, error) {
	var loss evolution.Loss
	if cfg.Loss == "quadratic" {
		loss = evolution.Quadratic{Target: cfg.Target}
	} else {
		rl, err := newRuleLoss(cfg)
		if err != nil {
			return nil, err
		}
		loss = rl
	}
	genes := make([]int, len(cfg.Start))
	for i := range genes {
		genes[i] = cfg.Genes
	}
	m := &evolution.Model{Genes: genes, Eps: cfg.Eps, Theta: cfg.Theta, Loss: evolution.Memo(loss)}
	x0, err := m.Start(cfg.Start)
	if err != nil {
		return nil, err
	}
	t := &evolveTask{m: m, cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), x: map[string][]float64{}, y: append([]float64(nil), cfg.Start...)}
	for _, name := range t.methods() {
		t.x[name] = append([]float64(nil), x0...)
	}
	t.record()
	var final map[string]float64
	report := epochHook(func(s *train.State) error {
		final = s.EpochMetrics
		if progress != nil && (s.Epoch%max(1, cfg.Generations/10) == 0 || s.Epoch == s.Epochs) {
			fmt.Fprintf(progress, "generation %d/%d: loss recursion %.5g, first order %.5g, GD on Y %.5g\n",
				s.Epoch, s.Epochs, final["loss_recursion"], final["loss_first_order"], final["loss_gd_y"])
		}
		return nil
	})
	if err := train.Run(ctx, t, train.Options{Hooks: append([]any{train.NaNCheck{}, report}, hooks...)}); err != nil {
		return nil, err
	}
	res := &evolveResult{Methods: t.methods(), Traits: t.traits, Final: map[string]any{}}
	last := t.traits[len(t.traits)-1]
	for i, name := range res.Methods {
		res.Final["y_"+name] = last[i]
		res.Final["loss_"+name] = final["loss_"+name]
	}
	if cfg.Loss == "quadratic" {
		// The recursion rests where L(Y|+) = L(Y|-): Y* n/(n-1) (package
		// evolution), O(eps) from the minimum that GD and the first-order
		// step reach.
		rest := make([]float64, len(cfg.Target))
		for i, v := range cfg.Target {
			rest[i] = v * float64(cfg.Genes) / float64(cfg.Genes-1)
		}
		if cfg.Genes > 1 {
			res.Final["recursion_rest_point"] = rest
		}
		res.Final["target"] = cfg.Target
	}
	if res.Figures, err = writeEvolve(dir, cfg, res); err != nil {
		return nil, err
	}
	return res, nil
}

// epochHook calls f at the end of every epoch (generation).
type epochHook func(*train.State) error

func (f epochHook) OnEpochEnd(s *train.State) error { return f(s) }

var evolveLabels = map[string]string{
	"recursion":   "exact recursion",
	"first_order": "first-order step, x(1-x)",
	"paper_2_2x":  "paper's step, (2-2x)",
	"gd_y":        "GD on Y",
	"population":  "Wright-Fisher population",
}

// writeEvolve writes trajectories.csv and the figures: trajectories.png
// and .svg for one coefficient, trajectories_Y1.png ... (one per
// coefficient) for several, so that each method keeps its colour.
func writeEvolve(dir string, cfg evolveConfig, res *evolveResult) ([]string, error) {
	header := []string{"generation", "coefficient"}
	header = append(header, res.Methods...)
	tab := plots.NewTable(header...)
	coefs := len(res.Traits[0][0])
	for g, row := range res.Traits {
		for c := 0; c < coefs; c++ {
			cells := []any{g, c + 1}
			for mi := range res.Methods {
				cells = append(cells, row[mi][c])
			}
			if err := tab.Append(cells...); err != nil {
				return nil, err
			}
		}
	}
	if err := plots.WriteCSV(filepath.Join(dir, "trajectories.csv"), *tab); err != nil {
		return nil, err
	}
	loss := "L(Y) = (Y - Y*)^2"
	if cfg.Loss == "rule" {
		loss = "L(Y) = test loss of an RNN trained by the rule"
	}
	pop := ""
	if cfg.Population > 0 {
		pop = fmt.Sprintf(", N=%d", cfg.Population)
	}
	var figures []string
	for c := 0; c < coefs; c++ {
		series := make([]plots.Series, 0, len(res.Methods))
		for mi, name := range res.Methods {
			s := plots.Series{Name: evolveLabels[name]}
			for g, row := range res.Traits {
				s.X = append(s.X, float64(g))
				s.Y = append(s.Y, row[mi][c])
			}
			series = append(series, s)
		}
		var refs []plots.Ref
		if cfg.Loss == "quadratic" {
			refs = []plots.Ref{{Name: "minimum Y*", Y: cfg.Target[c]}}
		}
		base, ylabel := "trajectories", "trait Y"
		if coefs > 1 {
			base += fmt.Sprintf("_Y%d", c+1)
			ylabel = fmt.Sprintf("trait Y%d (of %d)", c+1, coefs)
		}
		err := plots.Save(filepath.Join(dir, base), plots.LineChart{
			Title:  fmt.Sprintf("Appendix C: %s; n=%d, eps=%g, theta=%g%s", loss, cfg.Genes, cfg.Eps, cfg.Theta, pop),
			XLabel: "generation", YLabel: ylabel,
			Series: series, Refs: refs,
			Width: 20 * vg.Centimeter,
		})
		if err != nil {
			return nil, err
		}
		figures = append(figures, base+".png", base+".svg")
	}
	return figures, nil
}

func describeFinal(res *evolveResult) string {
	var b strings.Builder
	for _, name := range res.Methods {
		fmt.Fprintf(&b, "%-12s Y = %v, loss %.6g\n", name, fmtVec(res.Final["y_"+name].([]float64)), res.Final["loss_"+name])
	}
	return b.String()
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.5f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
