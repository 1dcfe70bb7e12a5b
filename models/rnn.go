package models

// This file holds the simple RNN of the plasticity paper: NewRNN builds
// one (masks, input weights); its forward pass is defined once, by Rounds
// (forward.go): Forward is its float64 reference with firing codes,
// Batched its evaluation of many examples, BuildLogits/BuildLogitsT
// (rnn_graph.go) its Gorgonia graph; RNNLabelled (rnn_data.go) is its
// data set.

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"

	"github.com/plasticity-lab/plastic/graph"
)

// MaxT is the largest number of firing rounds: a firing code (T bits) must
// fit a byte and the RNN rule table has 4^T entries.
const MaxT = 8

// RNNConfig sizes the simple RNN of the plasticity paper.
type RNNConfig struct {
	Inputs int     // n, input dimension
	Labels int     // m, number of classes
	Nodes  int     // |V|
	P      float64 // edge probability of the input and graph masks
	Cap    int     // k, nodes kept firing per round
	T      int     // firing rounds, counting the first input-driven one
	// Multiplicative selects multiplicative rules: W, U and b reset to 1
	// instead of 0 (the authors' code).
	Multiplicative bool
	// InputOnes sets every input weight A to 1 instead of N(0,1) draws
	// (Table 2's "T=1*").
	InputOnes bool
	// Firing says which nodes fire in a round: FiringTopK (the zero value,
	// the default) or FiringNonzero.
	Firing Firing
}

// Firing is the definition of a fired node, which makes the firing codes
// the rules look at. The two definitions differ only in rounds where fewer
// than k entries are positive after the ReLU (always so in rounds 2..T of a
// fresh additive network, whose W is zero).
type Firing uint8

const (
	// FiringTopK: the k nodes the cap picked fire, even those picked at
	// value zero (the authors' code, which produced the paper's figures;
	// the default). Exactly k nodes fire every round; among equal values
	// the cap keeps the lowest indices (graph.CapMask), where PyTorch's
	// top-k keeps an unspecified set.
	FiringTopK Firing = iota
	// FiringNonzero: a node fires when its entry is non-zero after the cap
	// (the paper's text); at most k nodes fire.
	FiringNonzero
)

// String is the flag and file spelling: "topk" or "nonzero".
func (f Firing) String() string {
	switch f {
	case FiringTopK:
		return "topk"
	case FiringNonzero:
		return "nonzero"
	}
	return fmt.Sprintf("Firing(%d)", uint8(f))
}

// ParseFiring accepts "topk" and "nonzero" (also "top-k", "non-zero").
func ParseFiring(s string) (Firing, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "topk", "top-k":
		return FiringTopK, nil
	case "nonzero", "non-zero":
		return FiringNonzero, nil
	}
	return 0, fmt.Errorf("firing %q: want topk (the k nodes the cap picked fire; the authors' code, default) or nonzero (non-zero after the cap; the paper's text)", s)
}

// MarshalText writes String, so JSON files hold "topk" or "nonzero".
func (f Firing) MarshalText() ([]byte, error) {
	if f > FiringNonzero {
		return nil, fmt.Errorf("firing %d: unknown definition", uint8(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText is ParseFiring.
func (f *Firing) UnmarshalText(b []byte) error {
	v, err := ParseFiring(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Validate reports the first bad size as a clear error.
func (c RNNConfig) Validate() error {
	switch {
	case c.Inputs < 1:
		return fmt.Errorf("rnn: inputs n = %d, want >= 1", c.Inputs)
	case c.Labels < 1:
		return fmt.Errorf("rnn: labels m = %d, want >= 1", c.Labels)
	case c.Nodes < 1:
		return fmt.Errorf("rnn: nodes |V| = %d, want >= 1", c.Nodes)
	case math.IsNaN(c.P) || c.P < 0 || c.P > 1:
		return fmt.Errorf("rnn: edge probability p = %v, want in [0, 1]", c.P)
	case c.Cap < 1 || c.Cap > c.Nodes:
		return fmt.Errorf("rnn: cap k = %d, want 1 <= k <= |V| = %d", c.Cap, c.Nodes)
	case c.T < 1 || c.T > MaxT:
		return fmt.Errorf("rnn: rounds T = %d, want 1 <= T <= %d", c.T, MaxT)
	case c.Firing > FiringNonzero:
		return fmt.Errorf("rnn: firing definition %d unknown, want topk or nonzero", uint8(c.Firing))
	}
	return nil
}

// checkArrays reports an array of r whose length does not fit its sizes.
func (r *RNN) checkArrays() error {
	v, n, m := r.Nodes, r.Inputs, r.Labels
	for _, a := range []struct {
		name string
		got  []float64
		want int
	}{{"A", r.A, v * n}, {"input mask", r.InMask, v * n}, {"graph mask", r.GraphMask, v * v}, {"W", r.W, v * v},
		{"U", r.U, m * v}, {"b", r.B, v}, {"c", r.C, m}} {
		if len(a.got) != a.want {
			return fmt.Errorf("rnn: %s has %d values, want %d for |V| = %d, n = %d, m = %d", a.name, len(a.got), a.want, v, n, m)
		}
	}
	return nil
}

// Codes is the number of distinct firing codes, 2^T.
func (c RNNConfig) Codes() int { return 1 << c.T }

// RNN is the simple RNN: fixed random masks, input weights A, graph
// weights W, output weights U and biases b, c. All matrices are row-major:
// A is |V| x n, W is |V| x |V| (W[i][j] is the edge j -> i), U is m x |V|.
type RNN struct {
	RNNConfig
	A         []float64 // input weights (fixed unless an input rule or GD trains them)
	InMask    []float64 // 0/1 input mask, |V| x n, Bernoulli(p)
	GraphMask []float64 // 0/1 graph mask, |V| x |V|, Bernoulli(p), zero diagonal
	W         []float64
	U         []float64
	B         []float64 // node biases, |V|
	C         []float64 // output biases, m
}

// NewRNN draws the masks and the input weights from seed and resets the
// trainable weights (W, U, b to 0, or to 1 for multiplicative rules).
func NewRNN(cfg RNNConfig, seed int64) (*RNN, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewSource(seed))
	v, n, m := cfg.Nodes, cfg.Inputs, cfg.Labels
	r := &RNN{
		RNNConfig: cfg,
		A:         make([]float64, v*n),
		InMask:    make([]float64, v*n),
		GraphMask: make([]float64, v*v),
		W:         make([]float64, v*v),
		U:         make([]float64, m*v),
		B:         make([]float64, v),
		C:         make([]float64, m),
	}
	for i := range r.InMask {
		if rng.Float64() < cfg.P {
			r.InMask[i] = 1
		}
	}
	for i := 0; i < v; i++ {
		for j := 0; j < v; j++ {
			if rng.Float64() < cfg.P && i != j {
				r.GraphMask[i*v+j] = 1
			}
		}
	}
	for i := range r.A {
		if cfg.InputOnes {
			r.A[i] = 1
		} else {
			r.A[i] = rng.NormFloat64()
		}
	}
	r.Reset()
	return r, nil
}

// ResetValue is what W, U and b reset to: 0 (additive) or 1 (multiplicative).
func (r *RNN) ResetValue() float64 {
	if r.Multiplicative {
		return 1
	}
	return 0
}

// Reset sets W, U and b to ResetValue and c to 0; A is left alone.
func (r *RNN) Reset() {
	v := r.ResetValue()
	for _, s := range [][]float64{r.W, r.U, r.B} {
		for i := range s {
			s[i] = v
		}
	}
	clear(r.C)
}

// Clone returns a deep copy.
func (r *RNN) Clone() *RNN {
	c := *r
	c.A = append([]float64(nil), r.A...)
	c.InMask = append([]float64(nil), r.InMask...)
	c.GraphMask = append([]float64(nil), r.GraphMask...)
	c.W = append([]float64(nil), r.W...)
	c.U = append([]float64(nil), r.U...)
	c.B = append([]float64(nil), r.B...)
	c.C = append([]float64(nil), r.C...)
	return &c
}

// Pass is the result of one forward pass.
type Pass struct {
	Hidden []float64 // h after the last round (|V|)
	Codes  []uint8   // firing code of every node, first round = most significant bit
	Logits []float64 // (U.*Mout) h + c (m); the softmax of these is the output
}

// Forward runs x through the network: Rounds in float64 with plain loops
// (the reference every other forward pass is tested against), with the
// firing codes of r.Firing.
func (r *RNN) Forward(x []float32) (*Pass, error) {
	if len(x) != r.Inputs {
		return nil, fmt.Errorf("rnn: input has %d features, want %d", len(x), r.Inputs)
	}
	e := r.Reference()
	if err := e.Run(x, 1); err != nil {
		return nil, err
	}
	return &Pass{Hidden: e.Hidden(), Codes: e.Codes(), Logits: e.Logits()}, nil
}

// Reference is Forward for many calls: the float64 forward pass of r's
// current weights (copied) with plain loops, one example per Run, firing
// codes recorded.
func (r *RNN) Reference() *Eval[float64] {
	w := WeightsOf[float64](r)
	e := NewEval(r.RNNConfig, Loops(r.RNNConfig, w), w.B, 1)
	e.Fire = true
	return e
}

// Batched is the forward pass of r's current weights (copied) in
// precision F over batches of up to rows examples, each product one GEMM
// (the evaluation of many examples: the same values as Forward up to the
// order of summation). Codes are not recorded unless Fire is set.
func Batched[F graph.Float](r *RNN, rows int) *Eval[F] {
	w := WeightsOf[F](r)
	return NewEval(r.RNNConfig, GEMM(r.RNNConfig, w), w.B, rows)
}

// Argmax returns the index of the largest value (the lowest on ties).
func Argmax[F ~float32 | ~float64](v []F) int {
	b := 0
	for i := range v {
		if v[i] > v[b] {
			b = i
		}
	}
	return b
}

// ErrEmpty is returned for empty data sets.
var ErrEmpty = errors.New("empty data set")
