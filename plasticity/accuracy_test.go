package plasticity

import (
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/models"
)

// TestParallelAccuracyEqualsPredict: Accuracy (examples split over
// workers, row-parallel trainer) counts exactly the examples Predict gets
// right one by one, right after a pass (an RNN update pending), for both
// firing definitions, and leaves the weights as they were.
func TestParallelAccuracyEqualsPredict(t *testing.T) {
	set := mnistLike(600)
	for _, firing := range []models.Firing{models.FiringNonzero, models.FiringTopK} {
		net, err := models.NewRNN(models.RNNConfig{Inputs: 784, Labels: 10, Nodes: 300, P: 0.5, Cap: 150, T: 3, Firing: firing}, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewSource(4))
		rs := &RuleSet{Rounds: 3, RNN: RandomTable(TargetRNN, 3, rng), Output: RandomTable(TargetOutput, 3, rng)}
		tr, err := NewTrainer(net, rs, Scheme{EveryExample: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, par := lastForward(tr); !par {
			t.Log("one CPU: Accuracy runs sequentially")
		}
		if err := tr.Pass(set, nil); err != nil {
			t.Fatal(err)
		}
		acc, err := tr.Accuracy(set)
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for i := 0; i < set.N; i++ {
			if tr.Predict(set.Row(i)) == set.Y[i] {
				ok++
			}
		}
		if want := float64(ok) / float64(set.N); acc != want {
			t.Errorf("firing %v: Accuracy %v, Predict one by one %v", firing, acc, want)
		}
		if again, _ := tr.Accuracy(set); again != acc {
			t.Errorf("firing %v: Accuracy changed from %v to %v", firing, acc, again)
		}
		tr.Close()
	}
}

// BenchmarkAccuracy: classifying 2000 MNIST-shaped examples with a trained
// |V|=1000, k=500, T=3 network (what `plastic rule train` does for the
// train and test accuracy after every pass). Reports examples/s.
func BenchmarkAccuracy(b *testing.B) {
	set := mnistLike(2000)
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
	for i := 0; i < 200; i++ {
		tr.Learn(set.Row(i), set.Y[i])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Accuracy(set); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*set.N)/b.Elapsed().Seconds(), "examples/s")
}
