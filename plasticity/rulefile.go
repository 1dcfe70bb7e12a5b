package plasticity

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
	"github.com/plasticity-lab/plastic/models"
)

// RuleFileFormat identifies rule files.
const RuleFileFormat = "plastic-rules/1"

// ruleFile is the JSON layout of a rule set.
type ruleFile struct {
	Format     string      `json:"format"`
	T          int         `json:"T"`
	Update     string      `json:"update"` // additive | multiplicative
	Eta        float64     `json:"eta,omitempty"`
	Rules      []ruleJSON  `json:"rules"`
	Provenance *Provenance `json:"provenance,omitempty"`
}

type ruleJSON struct {
	Target string    `json:"target"` // rnn | output | input
	Kind   string    `json:"kind"`   // table | nn
	Shape  []int     `json:"shape"`  // table shape [rows, cols]
	Values []float64 `json:"values"` // the table (row-major); for nn rules its evaluation, for reading
	Hidden int       `json:"hidden,omitempty"`
	W1     []float64 `json:"w1,omitempty"`
	B1     []float64 `json:"b1,omitempty"`
	W2     []float64 `json:"w2,omitempty"`
	B2     []float64 `json:"b2,omitempty"`
}

// MarshalRules encodes a rule set as JSON.
func MarshalRules(rs *RuleSet) ([]byte, error) {
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	f := ruleFile{Format: RuleFileFormat, T: rs.Rounds, Update: "additive", Eta: rs.Eta, Provenance: rs.Provenance}
	if rs.Multiplicative {
		f.Update = "multiplicative"
	}
	for _, r := range rs.Rules() {
		rows, cols := TableShape(r.Target(), rs.Rounds)
		j := ruleJSON{Target: string(r.Target()), Kind: r.Kind(), Shape: []int{rows, cols}, Values: r.Table()}
		if nn, ok := r.(*NNRule); ok {
			j.Hidden, j.W1, j.B1, j.W2, j.B2 = nn.Hidden, nn.W1, nn.B1, nn.W2, nn.B2
		}
		f.Rules = append(f.Rules, j)
	}
	return json.MarshalIndent(f, "", "  ")
}

// UnmarshalRules decodes a rule set; name is used in error messages.
func UnmarshalRules(b []byte, name string) (*RuleSet, error) {
	var f ruleFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("rule file %s: %w", name, err)
	}
	if err := checkRuleFile(b, name, f.Eta); err != nil {
		return nil, err
	}
	if f.Format != RuleFileFormat {
		return nil, fmt.Errorf("rule file %s: format %q, want %q", name, f.Format, RuleFileFormat)
	}
	if f.T < 1 || f.T > 8 {
		return nil, fmt.Errorf("rule file %s: T = %d, want 1..8", name, f.T)
	}
	if p := f.Provenance; p != nil && p.Firing != "" {
		if _, err := models.ParseFiring(p.Firing); err != nil {
			return nil, fmt.Errorf("rule file %s: provenance: %w", name, err)
		}
	}
	rs := &RuleSet{Rounds: f.T, Eta: f.Eta, Provenance: f.Provenance}
	switch f.Update {
	case "additive":
	case "multiplicative":
		rs.Multiplicative = true
	default:
		return nil, fmt.Errorf("rule file %s: update %q, want additive or multiplicative", name, f.Update)
	}
	for k, j := range f.Rules {
		t, err := ParseTarget(j.Target)
		if err != nil {
			return nil, fmt.Errorf("rule file %s, rule %d: %w", name, k, err)
		}
		rows, cols := TableShape(t, f.T)
		if len(j.Shape) != 2 || j.Shape[0] != rows || j.Shape[1] != cols {
			return nil, fmt.Errorf("rule file %s: %s rule has shape %v, but T=%d needs %dx%d", name, t, j.Shape, f.T, rows, cols)
		}
		var r Rule
		switch j.Kind {
		case "table":
			if r, err = NewTable(t, f.T, j.Values); err != nil {
				return nil, fmt.Errorf("rule file %s: %w", name, err)
			}
		case "nn":
			in := nnInputs(t, f.T)
			h := j.Hidden
			if h < 1 || len(j.W1) != in*h || len(j.B1) != h || len(j.W2) != h || len(j.B2) != 1 {
				return nil, fmt.Errorf("rule file %s: %s nn rule: want hidden >= 1, w1 %dx%d, b1 %d, w2 %d, b2 1 values (got hidden %d, %d, %d, %d, %d)",
					name, t, in, h, h, h, h, len(j.W1), len(j.B1), len(j.W2), len(j.B2))
			}
			r = &NNRule{target: t, rounds: f.T, Hidden: h, W1: j.W1, B1: j.B1, W2: j.W2, B2: j.B2}
		default:
			return nil, fmt.Errorf("rule file %s: %s rule kind %q, want table or nn", name, t, j.Kind)
		}
		slot := map[Target]*Rule{TargetRNN: &rs.RNN, TargetOutput: &rs.Output, TargetInput: &rs.Input}[t]
		if *slot != nil {
			return nil, fmt.Errorf("rule file %s: two %s rules", name, t)
		}
		*slot = r
	}
	if err := rs.Validate(); err != nil {
		return nil, fmt.Errorf("rule file %s: %w", name, err)
	}
	return rs, nil
}

// SaveRules writes a rule set to path atomically (temporary file + rename).
func SaveRules(path string, rs *RuleSet) error {
	b, err := MarshalRules(rs)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// LoadRules reads a rule file, or a built-in rule set by name.
func LoadRules(nameOrPath string) (*RuleSet, error) {
	if rs, ok := builtins[nameOrPath]; ok {
		return rs(), nil
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("rules %q: not a built-in (%s) and not a readable file: %w", nameOrPath, strings.Join(BuiltinNames(), ", "), err)
	}
	return UnmarshalRules(b, nameOrPath)
}

var builtins = map[string]func() *RuleSet{
	// Table 1's Perceptron as a two-row output rule (T = 1, additive):
	// on a mistake the true label's row gains +1 for fired nodes and -1 for
	// silent ones (x_i in {-1, 1}), the predicted row the opposite.
	"perceptron": func() *RuleSet {
		r, _ := NewTable(TargetOutput, 1, []float64{-1, 1, 1, -1})
		return &RuleSet{Rounds: 1, Output: r, Provenance: &Provenance{Note: "built-in: Table 1 Perceptron"}}
	},
	// Table 1's Multiplicative Weights (T = 1, multiplicative): on a mistake
	// fired nodes' weights double in the true label's row and halve in the
	// predicted row; silent nodes are unchanged. Stored as factor-1 at
	// eta = 1, so w *= 1 + eta*delta gives exactly x2 and x1/2.
	"multiplicative-weights": func() *RuleSet {
		r, _ := NewTable(TargetOutput, 1, []float64{0, 0, 1, -0.5})
		return &RuleSet{Rounds: 1, Multiplicative: true, Eta: 1, Output: r, Provenance: &Provenance{Note: "built-in: Table 1 Multiplicative Weights"}}
	},
}

// BuiltinNames lists the named rule sets.
func BuiltinNames() []string {
	var n []string
	for k := range builtins {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Builtin returns a named rule set (perceptron, multiplicative-weights).
func Builtin(name string) (*RuleSet, error) {
	if rs, ok := builtins[name]; ok {
		return rs(), nil
	}
	return nil, fmt.Errorf("no built-in rule %q (have %s)", name, strings.Join(BuiltinNames(), ", "))
}

// ForRounds adapts a T=1 output-only rule set to a network with T rounds:
// a T-round code's last bit says whether the node fired in the final
// round, which is what the T=1 rule looked at. Other rule sets must match.
// rounds must lie in 1..models.MaxT.
func ForRounds(rs *RuleSet, rounds int) (*RuleSet, error) {
	if rounds < 1 || rounds > models.MaxT {
		return nil, fmt.Errorf("rounds T = %d, want 1..%d", rounds, models.MaxT)
	}
	if rs.Rounds == rounds {
		return rs, nil
	}
	if rs.Rounds != 1 || rs.RNN != nil || rs.Input != nil || rs.Output == nil {
		return nil, fmt.Errorf("rules are for T=%d and cannot be used with T=%d (only a T=1 output rule can be widened)", rs.Rounds, rounds)
	}
	src := rs.Output.Table()
	c := 1 << rounds
	vals := make([]float64, c*2)
	for code := 0; code < c; code++ {
		vals[code*2] = src[(code&1)*2]
		vals[code*2+1] = src[(code&1)*2+1]
	}
	out, err := NewTable(TargetOutput, rounds, vals)
	if err != nil {
		return nil, err
	}
	cp := *rs
	cp.Rounds, cp.Output = rounds, out
	return &cp, nil
}
