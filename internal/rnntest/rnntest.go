// Package rnntest gives the tests of every forward pass of the simple RNN
// (the rule trainer, the evaluations, gradient descent's graph, the
// attacks, network files) the same networks and inputs, and the logits
// the one definition gives them (models.Rounds through RNN.Forward, the
// float64 reference), to compare with.
package rnntest

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/plasticity-lab/plastic/models"
)

// Case is a network with non-trivial weights and inputs to run through it.
type Case struct {
	Name string
	Net  *models.RNN
	X    []float32 // N rows of Net.Inputs values
	N    int
}

// Cases are networks of |V| = nodes with cap k for T = 1 and 3, both
// firing definitions, additive and multiplicative, with random weights
// (W on the graph mask, per-node biases b, output biases c; positive
// weights around 1 for multiplicative networks, as multiplicative rules
// leave them) and N inputs, a fifth of them zero (sparse, as MNIST's). The
// biases make some rounds have fewer than k positive entries, where the
// firing definitions differ.
func Cases(inputs, labels, nodes, k, N int, seed int64) []Case {
	var out []Case
	for _, T := range []int{1, 3} {
		for _, firing := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
			for _, mult := range []bool{false, true} {
				cfg := models.RNNConfig{Inputs: inputs, Labels: labels, Nodes: nodes, P: 0.5, Cap: k, T: T,
					Multiplicative: mult, Firing: firing}
				net, err := models.NewRNN(cfg, seed)
				if err != nil {
					panic(err)
				}
				rng := rand.New(rand.NewSource(seed*31 + int64(len(out))))
				draw := func(s []float64, scale float64) {
					for i := range s {
						if mult {
							s[i] = math.Exp(0.3 * rng.NormFloat64())
						} else {
							s[i] = scale * rng.NormFloat64()
						}
					}
				}
				draw(net.W, 1/math.Sqrt(float64(nodes)))
				draw(net.U, 1)
				for i := range net.B {
					net.B[i] = 0.3*rng.NormFloat64() - 0.2
				}
				for i := range net.C {
					net.C[i] = 0.1 * rng.NormFloat64()
				}
				x := make([]float32, N*inputs)
				for i := range x {
					if rng.Intn(5) != 0 {
						x[i] = float32(rng.Float64())
					}
				}
				name := fmt.Sprintf("T=%d %s", T, firing)
				if mult {
					name += " multiplicative"
				}
				out = append(out, Case{Name: name, Net: net, X: x, N: N})
			}
		}
	}
	return out
}

// Want runs every row of x through net.Forward: the logits (N x m), the
// predictions and the firing codes (N x |V|) of the one definition.
func Want(net *models.RNN, x []float32) (logits []float64, preds []int, codes []uint8) {
	ref := net.Reference()
	n := net.Inputs
	for i := 0; i < len(x)/n; i++ {
		if err := ref.Run(x[i*n:(i+1)*n], 1); err != nil {
			panic(err)
		}
		logits = append(logits, ref.Logits()...)
		preds = append(preds, models.Argmax(ref.Logits()))
		codes = append(codes, ref.Codes()...)
	}
	return logits, preds, codes
}

// Diff is the first logit of got more than tol (relative to 1 + |want|)
// away from want, as a message, or "".
func Diff(got, want []float64, m int, tol float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d logits, want %d", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			return fmt.Sprintf("example %d logit %d = %v, the one definition gives %v", i/m, i%m, got[i], want[i])
		}
	}
	return ""
}
