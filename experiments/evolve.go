package experiments

import (
	"context"
	"fmt"
	"math"
	"math/rand"

	"github.com/plasticity-lab/plastic/internal/param"

	"gonum.org/v1/plot/vg"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/evolution"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/plasticity"
	"github.com/plasticity-lab/plastic/plots"
	"github.com/plasticity-lab/plastic/train"
)

// Appendix C: the evolution of a plasticity coefficient set by many genes
// (package evolution), next to GD on the coefficient and the two candidate
// first-order steps, for a quadratic loss or the test loss of a simple RNN
// trained by the output rule the coefficients set.

// EvolveConfig is what Evolve simulates (`plastic paper evolve`).
type EvolveConfig struct {
	Loss        string    // quadratic | rule
	Genes       int       // n, genes per coefficient
	Eps, Theta  float64   // effect of one allele; selection strength
	Generations int       // generations to simulate
	Population  int       // Wright-Fisher population size; 0: the deterministic methods only
	Start       []float64 // initial trait per coefficient (one value: for all); empty: the loss's default
	Target      []float64 // quadratic loss: the minimum Y*, one per coefficient (default 0.4)
	RuleCoefs   string    // rule loss: scale (one coefficient scales Theorem 1's sign pattern) | table (one per rule entry)
	Nodes, Cap  int       // rule loss: |V| and k of the simple RNN
	Rounds      int       // rule loss: T
	Examples    int       // rule loss: Halfspace training points (and as many test points)
	Seed        int64
}

// DefaultEvolve is the command's default: the quadratic loss.
func DefaultEvolve() EvolveConfig {
	return EvolveConfig{Loss: "quadratic", Genes: 20, Eps: 0.05, Theta: 0.5, Generations: 300,
		RuleCoefs: "scale", Nodes: 100, Cap: 50, Rounds: 1, Examples: 1000, Seed: 1}
}

// check validates the configuration and fills in the defaults that depend
// on the loss; errors name the parameter (internal/param).
func (cfg *EvolveConfig) check() error {
	switch {
	case cfg.Genes < 1:
		return param.Errorf("genes", "%d: want >= 1", cfg.Genes)
	case !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0):
		return param.Errorf("eps", "%v: want a finite value > 0", cfg.Eps)
	case !(cfg.Theta > 0) || math.IsInf(cfg.Theta, 0):
		return param.Errorf("theta", "%v: want a finite value > 0", cfg.Theta)
	case cfg.Generations < 1:
		return param.Errorf("generations", "%d: want >= 1", cfg.Generations)
	case cfg.Population < 0:
		return param.Errorf("population", "%d: want 0 (deterministic only) or a size >= 1", cfg.Population)
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
			return param.Errorf("target", "is for the quadratic loss; the rule loss has no known minimum")
		}
		if cfg.Rounds < 1 || cfg.Rounds > models.MaxT {
			return param.Errorf("rounds", "%d: want 1..%d", cfg.Rounds, models.MaxT)
		}
		switch cfg.RuleCoefs {
		case "scale":
			coefs = 1
		case "table":
			coefs = 2 << cfg.Rounds
		default:
			return param.Errorf("rule coefficients", "%q: want scale or table", cfg.RuleCoefs)
		}
		if cfg.Examples < 1 {
			return param.Errorf("examples", "%d: want >= 1", cfg.Examples)
		}
		if len(cfg.Start) == 0 {
			cfg.Start = []float64{0.05}
		}
	default:
		return param.Errorf("loss", "%q: want quadratic or rule", cfg.Loss)
	}
	if len(cfg.Start) == 1 && coefs > 1 {
		s := cfg.Start[0]
		cfg.Start = make([]float64, coefs)
		for i := range cfg.Start {
			cfg.Start[i] = s
		}
	}
	if len(cfg.Start) != coefs {
		return param.Errorf("start", "has %d values for %d coefficients (give one, or one per coefficient)", len(cfg.Start), coefs)
	}
	max := cfg.Eps * float64(cfg.Genes)
	for i, s := range cfg.Start {
		if !(math.Abs(s) < max) {
			return param.Errorf("start", "value %d = %v is outside (-eps*genes, eps*genes) = (%v, %v)", i+1, s, -max, max)
		}
	}
	return nil
}

// ruleLoss is the loss of a trait vector for the rule loss: the test
// cross-entropy of a simple RNN trained for one pass with the output rule
// the trait sets. Deterministic: fixed network, data and example order.
type ruleLoss struct {
	net         *models.RNN
	train, test *data.Set
	table       bool // one coefficient per rule entry (else one scale)
}

// newRuleLoss builds the network and the Halfspace data from seed.
func newRuleLoss(cfg EvolveConfig) (*ruleLoss, error) {
	net, err := models.NewRNN(models.RNNConfig{
		Inputs: data.DefaultDim, Labels: 2, Nodes: cfg.Nodes, P: 0.5, Cap: cfg.Cap, T: cfg.Rounds,
	}, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("network of the rule loss: %w", err)
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
	err = trained.Reference().Each(l.test.X[:l.test.N*l.test.Dim], func(i int, logits []float64) {
		ce += logSumExp(logits) - logits[l.test.Y[i]]
	})
	return ce / float64(l.test.N), err
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
	cfg    EvolveConfig
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

// EvolveResult is what one Evolve run produced.
type EvolveResult struct {
	Methods []string      // recursion, first_order, paper_2_2x, gd_y (and population)
	Traits  [][][]float64 // [generation][method][coefficient], generation 0 the start
	// Final holds y_METHOD (final trait vector) and loss_METHOD per method;
	// for the quadratic loss also target and recursion_rest_point, the
	// recursion's predicted rest point Y* n/(n-1).
	Final map[string]any
	Output
}

// Evolve runs Appendix C: from the same start, the exact recursion, its
// first-order step x(1-x) dL/dx, the paper's step with (2-2x), GD on Y at
// rate theta eps^2 n and (Population > 0) a Wright-Fisher population, one
// generation per train.Run epoch. It writes trajectories.csv and
// trajectories.png/.svg (trajectories_Y1 ... for several coefficients)
// into env.Dir and a metrics line per generation (every method's trait and
// loss).
func Evolve(ctx context.Context, env Env, cfg EvolveConfig) (*EvolveResult, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
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
		if s.Epoch%max(1, cfg.Generations/10) == 0 || s.Epoch == s.Epochs {
			env.logf("generation %d/%d: loss recursion %.5g, first order %.5g, GD on Y %.5g",
				s.Epoch, s.Epochs, final["loss_recursion"], final["loss_first_order"], final["loss_gd_y"])
		}
		return env.metric(s.EpochMetrics)
	})
	if err := train.Run(ctx, t, train.Options{Hooks: []any{train.NaNCheck{}, report}}); err != nil {
		return nil, err
	}
	res := &EvolveResult{Methods: t.methods(), Traits: t.traits, Final: map[string]any{}}
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
	if err := writeEvolve(env, cfg, res); err != nil {
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
func writeEvolve(env Env, cfg EvolveConfig, res *EvolveResult) error {
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
				return err
			}
		}
	}
	if err := res.table(env, "trajectories.csv", tab); err != nil {
		return err
	}
	loss := "L(Y) = (Y - Y*)^2"
	if cfg.Loss == "rule" {
		loss = "L(Y) = test loss of an RNN trained by the rule"
	}
	pop := ""
	if cfg.Population > 0 {
		pop = fmt.Sprintf(", N=%d", cfg.Population)
	}
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
		err := res.figure(env, base, plots.LineChart{
			Title:  fmt.Sprintf("Appendix C: %s; n=%d, eps=%g, theta=%g%s", loss, cfg.Genes, cfg.Eps, cfg.Theta, pop),
			XLabel: "generation", YLabel: ylabel,
			Series: series, Refs: refs,
			Width: 20 * vg.Centimeter,
		})
		if err != nil {
			return err
		}
	}
	return nil
}
