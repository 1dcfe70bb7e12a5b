package models

import (
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/data"
)

func TestRNNConfigErrors(t *testing.T) {
	ok := RNNConfig{Inputs: 4, Labels: 2, Nodes: 10, P: 0.5, Cap: 5, T: 3}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mod  func(*RNNConfig)
		want string
	}{
		{func(c *RNNConfig) { c.Cap = 11 }, "cap k = 11"},
		{func(c *RNNConfig) { c.T = 0 }, "rounds T = 0"},
		{func(c *RNNConfig) { c.P = 1.5 }, "edge probability p = 1.5"},
		{func(c *RNNConfig) { c.P = -0.1 }, "edge probability"},
		{func(c *RNNConfig) { c.Inputs = 0 }, "inputs n = 0"},
		{func(c *RNNConfig) { c.Labels = 0 }, "labels m = 0"},
	} {
		cfg := ok
		c.mod(&cfg)
		_, err := NewRNN(cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %+v: error %v, want it to mention %q", cfg, err, c.want)
		}
	}
}

func TestRNNMasksAndReset(t *testing.T) {
	r, err := NewRNN(RNNConfig{Inputs: 3, Labels: 2, Nodes: 50, P: 0.5, Cap: 10, T: 2, Multiplicative: true}, 7)
	if err != nil {
		t.Fatal(err)
	}
	edges := 0
	for i := 0; i < 50; i++ {
		if r.GraphMask[i*50+i] != 0 {
			t.Fatal("graph mask has a self loop")
		}
	}
	for _, v := range r.GraphMask {
		edges += int(v)
	}
	if edges < 1000 || edges > 1450 {
		t.Fatalf("%d edges for p=0.5 on 50 nodes", edges)
	}
	for _, v := range r.W {
		if v != 1 {
			t.Fatal("multiplicative W not reset to 1")
		}
	}
	r2, _ := NewRNN(r.RNNConfig, 7)
	for i := range r.A {
		if r.A[i] != r2.A[i] || r.InMask[i] != r2.InMask[i] {
			t.Fatal("same seed gave different networks")
		}
	}
}

// TestForwardByHand checks a 2-node, T=2 network against values worked out by hand.
func TestForwardByHand(t *testing.T) {
	r, _ := NewRNN(RNNConfig{Inputs: 2, Labels: 2, Nodes: 2, P: 1, Cap: 1, T: 2}, 1)
	copy(r.A, []float64{1, 0, 0, 1})
	copy(r.W, []float64{0, 2, 3, 0}) // edge 1->0 weight 2, edge 0->1 weight 3
	copy(r.U, []float64{1, 0, 0, 1})
	// x = (2, 1): ax = (2, 1); round 1: cap1(relu(2,1)) = (2, 0), codes (1, 0)
	// round 2: W (h + ax) = W (4, 1) = (2*1, 3*4) = (2, 12) -> cap -> (0, 12), codes (10b, 01b)
	p, err := r.Forward([]float32{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Codes[0] != 2 || p.Codes[1] != 1 || p.Hidden[0] != 0 || p.Hidden[1] != 12 || p.Logits[1] != 12 {
		t.Fatalf("got %+v", p)
	}
}

// TestTopKFiring: with fewer than k positive entries the authors' code also
// counts the zeros top-k picked (lowest indices here) as fired; that is the
// zero value of RNNConfig.Firing.
func TestTopKFiring(t *testing.T) {
	for _, topk := range []bool{false, true} {
		cfg := RNNConfig{Inputs: 1, Labels: 2, Nodes: 3, P: 1, Cap: 2, T: 1}
		if !topk {
			cfg.Firing = FiringNonzero
		}
		r, _ := NewRNN(cfg, 1)
		copy(r.A, []float64{-1, 0, 1}) // x = 1: relu -> (0, 0, 1), one positive entry
		p, _ := r.Forward([]float32{1})
		want := []uint8{0, 0, 1}
		if topk {
			want = []uint8{1, 0, 1}
		}
		for i := range want {
			if p.Codes[i] != want[i] {
				t.Fatalf("top-k firing %v: codes %v, want %v", topk, p.Codes, want)
			}
		}
	}
}

func TestFiringText(t *testing.T) {
	for _, f := range []Firing{FiringTopK, FiringNonzero} {
		b, err := f.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var g Firing
		if err := g.UnmarshalText(b); err != nil || g != f {
			t.Fatalf("%s: round trip gave %v, %v", f, g, err)
		}
	}
	if f, err := ParseFiring(" Top-K "); err != nil || f != FiringTopK {
		t.Fatalf("Top-K: %v %v", f, err)
	}
	if _, err := ParseFiring("positive"); err == nil || !strings.Contains(err.Error(), "topk") {
		t.Fatalf("bad firing name: %v", err)
	}
	if _, err := Firing(7).MarshalText(); err == nil {
		t.Fatal("firing 7 marshalled")
	}
	if err := (RNNConfig{Inputs: 1, Labels: 1, Nodes: 2, Cap: 1, T: 1, Firing: 7}).Validate(); err == nil {
		t.Fatal("firing 7 validated")
	}
}

func TestRNNLabelledRegisteredAndDeterministic(t *testing.T) {
	RegisterDataSets()
	RegisterDataSets() // a second call is harmless
	a, at, err := data.Load(RNNLabelledName, data.Options{Seed: 3, NTrain: 500, NTest: 200})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := data.Load(RNNLabelledName, data.Options{Seed: 3, NTrain: 500, NTest: 200})
	if a.N != 500 || at.N != 200 || a.Dim != 10 || a.Classes != 2 {
		t.Fatalf("sizes %d/%d dim %d classes %d", a.N, at.N, a.Dim, a.Classes)
	}
	ones := 0
	for i := range a.Y {
		if a.Y[i] != b.Y[i] || a.X[i*10] != b.X[i*10] {
			t.Fatal("same seed gave different data")
		}
		ones += a.Y[i]
	}
	t.Logf("rnn-labelled: %d of 500 labels are 1", ones)
	if ones == 0 || ones == 500 {
		t.Fatalf("all %d labels equal", a.N)
	}
	if _, _, err := data.Load(RNNLabelledName, data.Options{Noise: 2}); err == nil {
		t.Fatal("noise 2 gave no error")
	}
}
