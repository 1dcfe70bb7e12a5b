package plasticity

import (
	"fmt"
	"math"
	"math/rand"
	"strings"

	"github.com/plasticity-lab/plastic/models"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Target says which weights a rule updates.
type Target string

const (
	// TargetRNN: graph weights W, table 2^T x 2^T indexed [pre code][post code].
	TargetRNN Target = "rnn"
	// TargetOutput: output weights U, table 2^T x 2 indexed [hidden code][b],
	// b = 0 for the true label's row, 1 for the predicted (or every other) row.
	TargetOutput Target = "output"
	// TargetInput: input weights A, table 2^T x 1 indexed by the post code.
	TargetInput Target = "input"
)

// ParseTarget accepts rnn, output and input.
func ParseTarget(s string) (Target, error) {
	switch t := Target(strings.TrimSpace(s)); t {
	case TargetRNN, TargetOutput, TargetInput:
		return t, nil
	}
	return "", fmt.Errorf("unknown rule target %q: want rnn, output or input", s)
}

// TableShape is the (rows, cols) of a target's lookup table for T rounds.
func TableShape(t Target, rounds int) (rows, cols int) {
	c := 1 << rounds
	switch t {
	case TargetRNN:
		return c, c
	case TargetOutput:
		return c, 2
	default:
		return c, 1
	}
}

// nnInputs is the input width of a small-NN rule: the concatenated firing
// bits (pre and post for the RNN rule, code and label role for the output
// rule, code for the input rule).
func nnInputs(t Target, rounds int) int {
	switch t {
	case TargetRNN:
		return 2 * rounds
	case TargetOutput:
		return rounds + 1
	default:
		return rounds
	}
}

// Rule is a plasticity rule: a lookup table or a small neural network that
// maps firing patterns to weight changes. Both evaluate to the same
// lookup table, which is all rule-based training needs; meta-learning
// differentiates through the parameterization.
type Rule interface {
	Target() Target
	// Rounds is the T the rule was made for.
	Rounds() int
	// Kind is "table" or "nn".
	Kind() string
	// Table evaluates the rule on every input, row-major with TableShape.
	Table() []float64
	// Params are the learnable parameters, as views into the rule (an
	// optimizer updating them in place changes the rule).
	Params() [][]float64
	// graphTable adds the table, as a function of new parameter nodes
	// holding Params, to g (float64).
	graphTable(g *G.ExprGraph, name string) (table *G.Node, params G.Nodes)
}

// TableRule is a rule given by its lookup table.
type TableRule struct {
	target Target
	rounds int
	Values []float64 // row-major, TableShape(target, rounds)
}

// NewTable returns a table rule; values nil means zeros.
func NewTable(t Target, rounds int, values []float64) (*TableRule, error) {
	r, c := TableShape(t, rounds)
	if values == nil {
		values = make([]float64, r*c)
	}
	if len(values) != r*c {
		return nil, fmt.Errorf("%s rule for T=%d needs %dx%d = %d values, got %d", t, rounds, r, c, r*c, len(values))
	}
	return &TableRule{target: t, rounds: rounds, Values: values}, nil
}

// RandomTable returns a table rule with N(0, 1) entries.
func RandomTable(t Target, rounds int, rng *rand.Rand) *TableRule {
	r, c := TableShape(t, rounds)
	v := make([]float64, r*c)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return &TableRule{target: t, rounds: rounds, Values: v}
}

func (r *TableRule) Target() Target      { return r.target }
func (r *TableRule) Rounds() int         { return r.rounds }
func (r *TableRule) Kind() string        { return "table" }
func (r *TableRule) Table() []float64    { return r.Values }
func (r *TableRule) Params() [][]float64 { return [][]float64{r.Values} }
func (r *TableRule) graphTable(g *G.ExprGraph, name string) (*G.Node, G.Nodes) {
	n := G.NewVector(g, tensor.Float64, G.WithShape(len(r.Values)), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(len(r.Values)), tensor.WithBacking(r.Values))))
	return n, G.Nodes{n}
}

// NNRule is a small neural network rule: one hidden ReLU layer of Hidden
// units and a linear output, fed the firing bits (first round first).
type NNRule struct {
	target Target
	rounds int
	Hidden int
	W1     []float64 // inputs x Hidden, row-major
	B1     []float64 // Hidden
	W2     []float64 // Hidden
	B2     []float64 // 1
}

// NewNN returns a small-NN rule initialised like PyTorch's nn.Linear
// (uniform in +-1/sqrt(fan in)).
func NewNN(t Target, rounds, hidden int, rng *rand.Rand) (*NNRule, error) {
	if hidden < 1 {
		return nil, fmt.Errorf("nn rule: hidden width %d, want >= 1", hidden)
	}
	in := nnInputs(t, rounds)
	r := &NNRule{target: t, rounds: rounds, Hidden: hidden,
		W1: make([]float64, in*hidden), B1: make([]float64, hidden), W2: make([]float64, hidden), B2: make([]float64, 1)}
	u := func(s []float64, fan int) {
		b := 1 / math.Sqrt(float64(fan))
		for i := range s {
			s[i] = (2*rng.Float64() - 1) * b
		}
	}
	u(r.W1, in)
	u(r.B1, in)
	u(r.W2, hidden)
	u(r.B2, hidden)
	return r, nil
}

func (r *NNRule) Target() Target      { return r.target }
func (r *NNRule) Rounds() int         { return r.rounds }
func (r *NNRule) Kind() string        { return "nn" }
func (r *NNRule) Params() [][]float64 { return [][]float64{r.W1, r.B1, r.W2, r.B2} }

// bits is the NN input matrix: one row of 0/1 firing bits per table entry.
func (r *NNRule) bits() []float64 {
	rows, cols := TableShape(r.target, r.rounds)
	in := nnInputs(r.target, r.rounds)
	x := make([]float64, 0, rows*cols*in)
	for a := 0; a < rows; a++ {
		for b := 0; b < cols; b++ {
			for t := r.rounds - 1; t >= 0; t-- {
				x = append(x, float64(a>>t&1))
			}
			switch r.target {
			case TargetRNN:
				for t := r.rounds - 1; t >= 0; t-- {
					x = append(x, float64(b>>t&1))
				}
			case TargetOutput:
				x = append(x, float64(b))
			}
		}
	}
	return x
}

// Table evaluates the network on every firing pattern.
func (r *NNRule) Table() []float64 {
	in := nnInputs(r.target, r.rounds)
	x := r.bits()
	p := len(x) / in
	out := make([]float64, p)
	for e := 0; e < p; e++ {
		s := r.B2[0]
		for h := 0; h < r.Hidden; h++ {
			z := r.B1[h]
			for i := 0; i < in; i++ {
				z += x[e*in+i] * r.W1[i*r.Hidden+h]
			}
			if z > 0 {
				s += z * r.W2[h]
			}
		}
		out[e] = s
	}
	return out
}

func (r *NNRule) graphTable(g *G.ExprGraph, name string) (*G.Node, G.Nodes) {
	in := nnInputs(r.target, r.rounds)
	x := r.bits()
	p := len(x) / in
	vec := func(s []float64, nm string, shape ...int) *G.Node {
		t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
		if len(shape) == 1 {
			return G.NewVector(g, tensor.Float64, G.WithShape(shape...), G.WithName(nm), G.WithValue(t))
		}
		return G.NewMatrix(g, tensor.Float64, G.WithShape(shape...), G.WithName(nm), G.WithValue(t))
	}
	xn := vec(x, name+"_bits", p, in)
	w1 := vec(r.W1, name+"_W1", in, r.Hidden)
	b1 := vec(r.B1, name+"_b1", r.Hidden)
	w2 := vec(r.W2, name+"_W2", r.Hidden)
	b2 := vec(r.B2, name+"_b2", 1)
	b1r := G.Must(G.Reshape(b1, tensor.Shape{1, r.Hidden}))
	hid := G.Must(G.Rectify(G.Must(G.BroadcastAdd(G.Must(G.Mul(xn, w1)), b1r, nil, []byte{0}))))
	out := G.Must(G.Mul(hid, w2)) // p
	outc := G.Must(G.Reshape(out, tensor.Shape{p, 1}))
	b2r := G.Must(G.Reshape(b2, tensor.Shape{1, 1}))
	tab := G.Must(G.Reshape(G.Must(G.BroadcastAdd(outc, b2r, nil, []byte{0})), tensor.Shape{p}))
	return tab, G.Nodes{w1, b1, w2, b2}
}

// RuleSet is what trains a network: the rules per target (nil = that
// target is not updated), the update kind and the step size.
type RuleSet struct {
	Rounds         int  // T
	Multiplicative bool // w *= 1 + eta*delta instead of w += eta*delta
	// Eta is the step size the rules were made for; 0 means the default
	// 0.01 (a training Scheme's Eta, when set, wins).
	Eta    float64
	RNN    Rule
	Output Rule
	Input  Rule
	// Provenance says where a learned rule set comes from.
	Provenance *Provenance
}

// Provenance of a learned rule set.
type Provenance struct {
	Command   string  `json:"command,omitempty"`
	Data      string  `json:"data,omitempty"`
	Seed      int64   `json:"seed"`
	FinalLoss float64 `json:"final_loss,omitempty"`
	Epochs    int     `json:"epochs,omitempty"`
	// Firing is the firing definition the rules were learned with ("topk"
	// or "nonzero", models.Firing); empty in files written before it was
	// recorded. Use the rules with the same definition (FiringMismatch).
	Firing string `json:"firing,omitempty"`
	// Scheme is the update scheme they were learned under (Scheme.String).
	Scheme string `json:"scheme,omitempty"`
	Note   string `json:"note,omitempty"`
}

// FiringMismatch returns a sentence when rs records that it was learned
// with another firing definition than f, and "" otherwise (also when rs
// does not record one).
func FiringMismatch(rs *RuleSet, f models.Firing) string {
	if rs == nil || rs.Provenance == nil || rs.Provenance.Firing == "" || rs.Provenance.Firing == f.String() {
		return ""
	}
	return fmt.Sprintf("the rules were learned with %s firing but are used with %s firing", rs.Provenance.Firing, f)
}

// SilentRounds returns a sentence when training a network of rs.Rounds
// >= 2 rounds with rs cannot learn anything, and "" otherwise: additive
// rules without an RNN rule leave the recurrent weights W (and the node
// biases) at their reset value 0, so every round after the first computes
// z = (H + ax)·0 + 0 and fires the same nodes for every example (none, or
// the cap's first k among ties); the output rule then sees one firing
// pattern and the network predicts one class. (A T=1 output rule widened
// to more rounds, e.g. the perceptron with --rounds 3, is this case.)
func SilentRounds(rs *RuleSet) string {
	if rs == nil || rs.Rounds < 2 || rs.Multiplicative || rs.RNN != nil {
		return ""
	}
	return fmt.Sprintf("with T=%d rounds and no RNN rule the recurrent weights stay 0 (additive rules), so rounds 2..%d "+
		"get no input and every example ends in the same firing pattern: the network cannot learn (use 1 round, or rules with an RNN rule)", rs.Rounds, rs.Rounds)
}

// Rules lists the set's rules in the fixed order rnn, output, input
// (skipping absent ones).
func (s *RuleSet) Rules() []Rule {
	var rs []Rule
	for _, r := range []Rule{s.RNN, s.Output, s.Input} {
		if r != nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// Validate checks that every rule has the set's T, its target's slot and shape.
func (s *RuleSet) Validate() error {
	if s.Rounds < 1 {
		return fmt.Errorf("rule set: T = %d, want >= 1", s.Rounds)
	}
	if s.RNN == nil && s.Output == nil && s.Input == nil {
		return fmt.Errorf("rule set: no rules")
	}
	for _, x := range []struct {
		r Rule
		t Target
	}{{s.RNN, TargetRNN}, {s.Output, TargetOutput}, {s.Input, TargetInput}} {
		if x.r == nil {
			continue
		}
		if x.r.Target() != x.t {
			return fmt.Errorf("rule set: a %s rule sits in the %s slot", x.r.Target(), x.t)
		}
		if x.r.Rounds() != s.Rounds {
			return fmt.Errorf("rule set: %s rule is for T=%d, the set for T=%d", x.t, x.r.Rounds(), s.Rounds)
		}
		rows, cols := TableShape(x.t, s.Rounds)
		if n := len(x.r.Table()); n != rows*cols {
			return fmt.Errorf("rule set: %s rule has %d entries, want %dx%d", x.t, n, rows, cols)
		}
	}
	return nil
}
