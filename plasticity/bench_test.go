package plasticity

import (
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/graph/gemm"
	"github.com/plasticity-lab/plastic/models"
)

// mnistLike is random data of MNIST's shape (784 features in [0,1], 10
// classes), for timing only.
func mnistLike(n int) *data.Set {
	rng := rand.New(rand.NewSource(1))
	s := &data.Set{Name: "random-784", X: make([]float32, n*784), Y: make([]int, n), N: n, Dim: 784, Classes: 10}
	for i := range s.X {
		if rng.Intn(5) == 0 {
			s.X[i] = rng.Float32()
		}
	}
	for i := range s.Y {
		s.Y[i] = rng.Intn(10)
	}
	return s
}

// BenchmarkRuleTraining: rule-based training of |V|=1000, k=500, T=3 on
// 784 inputs with RNN and output table rules, updating on every example.
// Reports examples/s (the authors' PyTorch code: about 17/s).
func BenchmarkRuleTraining(b *testing.B) {
	set := mnistLike(500)
	net, err := models.NewRNN(models.RNNConfig{Inputs: 784, Labels: 10, Nodes: 1000, P: 0.5, Cap: 500, T: 3}, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	rs := &RuleSet{Rounds: 3, RNN: RandomTable(TargetRNN, 3, rng), Output: RandomTable(TargetOutput, 3, rng)}
	tr, err := NewTrainer(net, rs, Scheme{EveryExample: true})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % set.N
		tr.Learn(set.Row(k), set.Y[k])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "examples/s")
}

// BenchmarkMetaStep: one meta-learning step (reset, rule-based training
// over a batch of 100, loss and exact gradient, Adam) for |V|=100, k=50,
// T=3 on 10 inputs, learning RNN and output table rules (authors: ~38/s).
//
// It installs graph/gemm's BLAS for Gorgonia first, as `plastic rule learn` does.
func BenchmarkMetaStep(b *testing.B) {
	gemm.Use()
	for _, every := range []bool{false, true} {
		name := "misclassified"
		if every {
			name = "every-example"
		}
		b.Run(name, func(b *testing.B) {
			set, _ := halfspace(1, 1000, 10)
			net, _ := models.NewRNN(models.RNNConfig{Inputs: 10, Labels: 2, Nodes: 100, P: 0.5, Cap: 50, T: 3}, 1)
			rng := rand.New(rand.NewSource(2))
			rs := &RuleSet{Rounds: 3, RNN: RandomTable(TargetRNN, 3, rng), Output: RandomTable(TargetOutput, 3, rng)}
			cfg := DefaultMeta()
			cfg.Learn = []Target{TargetRNN, TargetOutput}
			cfg.Scheme.EveryExample = every
			ml, err := NewMetaLearner(net, rs, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer ml.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % 10
				if _, err := ml.Step(set.X[k*1000:(k+1)*1000], set.Y[k*100:(k+1)*100]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
