package attacks

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/graph/gemm"
	"github.com/plasticity-lab/plastic/models"
)

// BenchmarkRNNGrader measures one batched forward+backward pass of the
// Table 2 network (|V| = 1000, k = 500, MNIST-sized input) per row; the
// robustness sweep costs about (row evaluations) x (ns/row) / workers.
//
//	go test -run ^$ -bench RNNGrader -benchtime 20x ./attacks/
func BenchmarkRNNGrader(b *testing.B) {
	gemm.Use()
	for _, T := range []int{1, 3} {
		for _, rows := range []int{9, 72} {
			b.Run(fmt.Sprintf("T=%d/rows=%d", T, rows), func(b *testing.B) {
				net, err := models.NewRNN(models.RNNConfig{Inputs: 784, Labels: 10, Nodes: 1000, P: 0.5, Cap: 500, T: T}, 1)
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewSource(2))
				for _, s := range [][]float64{net.W, net.U} {
					for i := range s {
						s[i] = 0.02 * rng.NormFloat64()
					}
				}
				m, err := RNN(net, Float32)
				if err != nil {
					b.Fatal(err)
				}
				g, err := m.NewGrader(rows)
				if err != nil {
					b.Fatal(err)
				}
				defer g.Close()
				x := randomImages(rng, rows, 784, 0, 1)
				tg := make([]int, rows)
				loss, logits, grad := make([]float64, rows), make([]float64, rows*10), make([]float64, rows*784)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := g.LossGrad(x, tg, loss, logits, grad); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
			})
		}
	}
}
