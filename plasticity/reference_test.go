package plasticity

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/models"
)

// This file holds an independent rule-based trainer: plain float64 loops
// written from the definitions (package doc, "Learning with plasticity
// rules"), sharing no code with the engine (its own forward pass, cap,
// argmax and updates). TestEngineMatchesReferenceTrainer compares the
// engine's weights, predictions and logits with it.

// refFiring is the firing definition the reference uses: which nodes count
// as fired in a round, for their code bit.
type refFiring int

const (
	// refNonzero: fired = non-zero after the cap (the paper).
	refNonzero refFiring = iota
	// refTopK: fired = picked by the cap, even at value zero (the authors'
	// code).
	refTopK
)

func (f refFiring) String() string {
	if f == refTopK {
		return "top-k"
	}
	return "non-zero"
}

// withFiring sets the network configuration's firing definition: the one
// place to adapt when models changes how it is spelled.
func withFiring(cfg models.RNNConfig, f refFiring) models.RNNConfig {
	cfg.Firing = models.FiringNonzero
	if f == refTopK {
		cfg.Firing = models.FiringTopK
	}
	return cfg
}

// refTrainer is the reference: a simple RNN with |V| nodes, n inputs, m
// labels, cap k, T rounds; weights A (|V| x n), W (|V| x |V|, W[i][j] the
// edge j -> i), U (m x |V|), one bias b for every node.
type refTrainer struct {
	v, n, m, k, T int
	firing        refFiring
	a, inMask     []float64
	w, graphMask  []float64
	u             []float64
	b             float64
	mult          bool
	every, all    bool
	eta           float64
	rnn, out, in  []float64 // rule tables, nil when absent
}

// newRefTrainer starts from net's masks and input weights. Trainable
// weights start at 0, or 1 for multiplicative rules; A keeps net's values,
// unless an input rule trains it: then it starts at 0 (1) on the mask.
func newRefTrainer(net *models.RNN, firing refFiring, rs *RuleSet, s Scheme, eta float64) *refTrainer {
	r := &refTrainer{v: net.Nodes, n: net.Inputs, m: net.Labels, k: net.Cap, T: net.T, firing: firing,
		inMask: net.InMask, graphMask: net.GraphMask, mult: rs.Multiplicative,
		every: s.EveryExample, all: s.AllRows, eta: eta}
	start := 0.0
	if r.mult {
		start = 1
	}
	r.a = append([]float64(nil), net.A...)
	if rs.Input != nil {
		for i := range r.a {
			r.a[i] = start
		}
		r.in = rs.Input.Table()
	}
	r.w = make([]float64, r.v*r.v)
	r.u = make([]float64, r.m*r.v)
	for i := range r.w {
		r.w[i] = start
	}
	for i := range r.u {
		r.u[i] = start
	}
	r.b = start
	if rs.RNN != nil {
		r.rnn = rs.RNN.Table()
	}
	if rs.Output != nil {
		r.out = rs.Output.Table()
	}
	return r
}

// forward returns the firing codes (first round most significant), the
// logits and the prediction (the first largest logit).
func (r *refTrainer) forward(x []float32) (codes []int, logits []float64, pred int) {
	v, n := r.v, r.n
	ax := make([]float64, v)
	for i := 0; i < v; i++ {
		for j := 0; j < n; j++ {
			ax[i] += r.a[i*n+j] * r.inMask[i*n+j] * float64(x[j])
		}
	}
	h := make([]float64, v)
	codes = make([]int, v)
	for t := 0; t < r.T; t++ {
		z := make([]float64, v)
		for i := 0; i < v; i++ {
			s := ax[i]
			if t > 0 {
				s = 0
				for j := 0; j < v; j++ {
					s += r.w[i*v+j] * r.graphMask[i*v+j] * (h[j] + ax[j])
				}
			}
			z[i] = math.Max(s+r.b, 0)
		}
		// The cap keeps the k largest entries; among equal values the
		// lower indices.
		order := make([]int, v)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(p, q int) bool { return z[order[p]] > z[order[q]] })
		kept := make([]bool, v)
		for _, i := range order[:r.k] {
			kept[i] = true
		}
		for i := 0; i < v; i++ {
			h[i] = 0
			if kept[i] {
				h[i] = z[i]
			}
			fired := h[i] != 0
			if r.firing == refTopK {
				fired = kept[i]
			}
			codes[i] <<= 1
			if fired {
				codes[i] |= 1
			}
		}
	}
	logits = make([]float64, r.m)
	for c := range logits {
		for j := 0; j < v; j++ {
			logits[c] += r.u[c*v+j] * h[j]
		}
		if logits[c] > logits[pred] {
			pred = c
		}
	}
	return codes, logits, pred
}

// change applies one rule entry delta to a weight.
func (r *refTrainer) change(w *float64, delta float64) {
	if r.mult {
		*w *= 1 + r.eta*delta
	} else {
		*w += r.eta * delta
	}
}

// learn runs one example and, unless only misclassified examples update
// and this one is right, applies the rules: RNN rule r[pre code][post
// code] to every edge, input rule r[post code] to every input edge, output
// rule ro[code][role] to the true label's row (role 0) and the predicted
// one (role 1), or to every row (role 1 for the other labels).
func (r *refTrainer) learn(x []float32, label int) int {
	codes, _, pred := r.forward(x)
	if !r.every && pred == label {
		return pred
	}
	v, n, nc := r.v, r.n, 1<<r.T
	if r.rnn != nil {
		for i := 0; i < v; i++ {
			for j := 0; j < v; j++ {
				if r.graphMask[i*v+j] != 0 {
					r.change(&r.w[i*v+j], r.rnn[codes[j]*nc+codes[i]])
				}
			}
		}
	}
	if r.in != nil {
		for i := 0; i < v; i++ {
			for j := 0; j < n; j++ {
				if r.inMask[i*n+j] != 0 {
					r.change(&r.a[i*n+j], r.in[codes[i]])
				}
			}
		}
	}
	if r.out != nil {
		for c := 0; c < r.m; c++ {
			role := -1
			switch {
			case c == label:
				role = 0
			case r.all || c == pred:
				role = 1
			}
			if role < 0 {
				continue
			}
			for j := 0; j < v; j++ {
				r.change(&r.u[c*v+j], r.out[codes[j]*2+role])
			}
		}
	}
	return pred
}

// refData draws examples with random labels (so that the misclassified-only
// scheme updates often); with sparse, every other one is non-negative and
// mostly zero (the engine's column path for MNIST-like inputs).
func refData(rng *rand.Rand, N, n, m int, sparse bool) *data.Set {
	s := &data.Set{Name: "ref", N: N, Dim: n, Classes: m, X: make([]float32, N*n), Y: make([]int, N)}
	for e := 0; e < N; e++ {
		for j := 0; j < n; j++ {
			x := rng.NormFloat64()
			if sparse && e%2 == 1 {
				x = 0
				if rng.Intn(5) == 0 {
					x = rng.Float64()
				}
			}
			s.X[e*n+j] = float32(x)
		}
		s.Y[e] = rng.Intn(m)
	}
	return s
}

// TestEngineMatchesReferenceTrainer trains the same network with the same
// rules with the reference and with the engine (the float32 Trainer that
// training ships with, and the float64 engine of meta-learning) and
// compares every prediction made while training, then the weights (W, U,
// A) and the logits of held-out examples. Cases: |V| = 37 (odd) and 257
// (odd, >= 256: rows split over two goroutines), T = 1 and 3, additive and
// multiplicative, updates on misclassified or every example, output rule
// on true+predicted or all rows, both firing definitions, and rule sets
// with RNN + output rules (sparse-input path) or RNN + input + output.
func TestEngineMatchesReferenceTrainer(t *testing.T) {
	// The row split needs GOMAXPROCS > 1 (NewTrainer's condition).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	const N, probes, n, m = 24, 6, 12, 4
	for _, nodes := range []int{37, 257} {
		for _, T := range []int{1, 3} {
			for _, mult := range []bool{false, true} {
				for _, scheme := range []Scheme{{}, {EveryExample: true}, {AllRows: true}, {EveryExample: true, AllRows: true}} {
					for _, firing := range []refFiring{refNonzero, refTopK} {
						for _, withInput := range []bool{false, true} {
							name := fmt.Sprintf("V=%d T=%d mult=%v every=%v all=%v firing=%s input=%v",
								nodes, T, mult, scheme.EveryExample, scheme.AllRows, firing, withInput)
							seed := int64(nodes*1000 + T*100 + len(name))
							compareWithReference(t, name, seed, nodes, T, mult, scheme, firing, withInput, N, probes, n, m)
						}
					}
				}
			}
		}
	}
}

func compareWithReference(t *testing.T, name string, seed int64, nodes, T int, mult bool, scheme Scheme,
	firing refFiring, withInput bool, N, probes, n, m int) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	cfg := withFiring(models.RNNConfig{Inputs: n, Labels: m, Nodes: nodes, P: 0.5, Cap: nodes / 3, T: T, Multiplicative: mult}, firing)
	net, err := models.NewRNN(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rs := &RuleSet{Rounds: T, Multiplicative: mult,
		RNN: RandomTable(TargetRNN, T, rng), Output: RandomTable(TargetOutput, T, rng)}
	if withInput {
		rs.Input = RandomTable(TargetInput, T, rng)
	}
	scheme.Eta = 0.05
	// An input rule starts A at one value (0, or 1 when multiplicative) on
	// the mask, so every row of A holds one value; with sparse inputs two
	// nodes then often get exactly equal inputs, a tie at the cap that
	// float32 and float64 roundings break differently. Its cases use dense
	// inputs (the sparse column path serves only networks without it).
	set := refData(rng, N+probes, n, m, !withInput)

	ref := newRefTrainer(net, firing, rs, scheme, scheme.Eta)
	tr, err := NewTrainer(net, rs, scheme)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, _, par := lastForward(tr); nodes >= 256 && !par {
		t.Fatalf("%s: the trainer does not split rows", name)
	}
	e64 := newEngine[float64](net, rs, scheme)
	if nodes >= 256 {
		e64.par = newPool()
		defer e64.par.close()
	}

	for e := 0; e < N; e++ {
		x, y := set.Row(e), set.Y[e]
		want := ref.learn(x, y)
		if got := e64.learn(x, y); got != want {
			t.Fatalf("%s: example %d: float64 engine predicted %d, reference %d", name, e, got, want)
		}
		if got := tr.Learn(x, y); got != want {
			t.Fatalf("%s: example %d: trainer predicted %d, reference %d", name, e, got, want)
		}
	}

	// Weights: the engine keeps W.*Mg and A.*Min.
	e64.flush()
	trained := tr.Network()
	masked := func(w, mask []float64) []float64 {
		o := make([]float64, len(w))
		for i := range w {
			o[i] = w[i] * mask[i]
		}
		return o
	}
	check := func(what string, got, want []float64, tol float64) {
		t.Helper()
		for i := range want {
			if d := math.Abs(got[i] - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(got[i]) {
				t.Fatalf("%s: %s[%d] = %v, reference %v", name, what, i, got[i], want[i])
			}
		}
	}
	refW := masked(ref.w, net.GraphMask)
	check("float64 engine W", e64.w, refW, 1e-12)
	check("trainer W", masked(trained.W, net.GraphMask), refW, 1e-4)
	check("float64 engine U", e64.u, ref.u, 1e-12)
	check("trainer U", trained.U, ref.u, 1e-4)
	refA := masked(ref.a, net.InMask)
	check("float64 engine A", e64.amin, refA, 1e-12)
	check("trainer A", masked(trained.A, net.InMask), refA, 1e-4)

	// Logits of held-out examples.
	for e := N; e < N+probes; e++ {
		x := set.Row(e)
		_, want, wantPred := ref.forward(x)
		if got := e64.forward(x); got != wantPred {
			t.Fatalf("%s: probe %d: float64 engine predicts %d, reference %d", name, e, got, wantPred)
		}
		check(fmt.Sprintf("float64 engine logits of probe %d", e), e64.logits, want, 1e-10)
		if got := tr.Predict(x); got != wantPred {
			t.Fatalf("%s: probe %d: trainer predicts %d, reference %d", name, e, got, wantPred)
		}
		logits, _, _ := lastForward(tr)
		check(fmt.Sprintf("trainer logits of probe %d", e), logits, want, 1e-3)
	}
}
