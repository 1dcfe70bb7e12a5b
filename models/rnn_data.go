package models

import (
	"fmt"
	"math/rand"
	"sync"

	"github.com/plasticity-lab/plastic/data"
)

// RNNLabelledName is the data set name under which RegisterDataSets
// registers RNNLabelled with data.Load.
const RNNLabelledName = "rnn-labelled"

var registerOnce sync.Once

// RegisterDataSets registers the data sets this package generates
// (RNNLabelledName) with package data, so that data.Load and data.Names
// know them. Package data cannot generate them itself (a simple RNN labels
// them), so a program that offers them calls this once, explicitly, before
// listing or loading data sets (cmd/plastic and package experiments do).
// Calling it again does nothing.
func RegisterDataSets() {
	registerOnce.Do(func() { data.RegisterGenerator(RNNLabelledName, RNNLabelled) })
}

// RNNLabelled generates the paper's RNN-labelled set: a random simple RNN
// (T = 3, |V| = 100, k = 50, p = 0.5; A, W and U uniform in [-0.5, 0.5],
// zero biases) labels points drawn uniformly in [-1, 1]^Dim (Dim 10 by
// default, as the other synthetic sets) with the argmax of its 2 outputs.
// NTrain and NTest default to 10,000; each label is flipped with
// probability Noise. Everything is drawn from o.Seed.
func RNNLabelled(o data.Options) (train, test *data.Set, err error) {
	if o.NTrain <= 0 {
		o.NTrain = 10000
	}
	if o.NTest <= 0 {
		o.NTest = 10000
	}
	if o.Dim <= 0 {
		o.Dim = 10
	}
	if o.Noise < 0 || o.Noise > 1 {
		return nil, nil, fmt.Errorf("%s: label noise %v, want a probability in [0, 1]", RNNLabelledName, o.Noise)
	}
	net, err := NewRNN(RNNConfig{Inputs: o.Dim, Labels: 2, Nodes: 100, P: 0.5, Cap: 50, T: 3}, o.Seed)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewSource(o.Seed ^ 0x5eed_0f_7ab1e))
	for _, w := range [][]float64{net.A, net.W, net.U} {
		for i := range w {
			w[i] = rng.Float64() - 0.5
		}
	}
	ref := net.Reference()
	gen := func(n int, seed int64) (*data.Set, error) {
		r := rand.New(rand.NewSource(seed))
		s := &data.Set{Name: RNNLabelledName, X: make([]float32, n*o.Dim), Y: make([]int, n), N: n, Dim: o.Dim, Classes: 2, Shape: []int{o.Dim}}
		for i := 0; i < n; i++ {
			x := s.X[i*o.Dim : (i+1)*o.Dim]
			for j := range x {
				x[j] = float32(2*r.Float64() - 1)
			}
			if err := ref.Run(x, 1); err != nil {
				return nil, err
			}
			s.Y[i] = Argmax(ref.Logits())
			if o.Noise > 0 && r.Float64() < o.Noise {
				s.Y[i] = 1 - s.Y[i]
			}
		}
		return s, nil
	}
	if train, err = gen(o.NTrain, o.Seed*2+1); err != nil {
		return nil, nil, err
	}
	if test, err = gen(o.NTest, o.Seed*2+2); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}
