//go:build gpu

package cuda

import (
	"math/rand"
	"testing"
	"time"
)

func BenchmarkGPUSgemm2048(b *testing.B) {
	c := gpu(b)
	n := 2048
	r := rand.New(rand.NewSource(1))
	da, db, dc := up(b, c, randSlice(r, n*n)), up(b, c, randSlice(r, n*n)), alloc(b, c, n*n)
	call, _ := RowMajorGemm(false, false, n, n, n, n, n, n)
	ok(b, c.Gemm(call, 1, da, db, 0, dc))
	ok(b, c.Sync())
	b.ResetTimer()
	tm, err := c.StartTimer()
	ok(b, err)
	for i := 0; i < b.N; i++ {
		ok(b, c.Gemm(call, 1, da, db, 0, dc))
	}
	ms, err := tm.Stop()
	ok(b, err)
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/(ms/1e3)/1e9, "GFLOP/s")
	c.Free(da, db, dc)
}

// BenchmarkGPUPlasticStep: the paper's large network (|V| = 1000,
// k = 500, T = 3, MNIST-sized inputs), 10 networks trained at once.
func BenchmarkGPUPlasticStep(b *testing.B) {
	c := gpu(b)
	r := rand.New(rand.NewSource(2))
	nb := NetBatch{B: 10, V: 1000, N: 784, M: 10, T: 3, K: 500, SharedInput: true, SharedRules: true, RNNRule: true, OutputRule: true}
	nb.Update.Eta = 0.01
	ok(b, nb.Check())
	s := &PlasticNets{Am: randSlice(r, nb.V*nb.N), W: make([]float32, nb.B*nb.V*nb.V), Mg: make([]float32, nb.B*nb.V*nb.V),
		U: make([]float32, nb.B*nb.M*nb.V), Bias: make([]float32, nb.B*nb.V), C: make([]float32, nb.B*nb.M),
		Rule: randSlice(r, nb.Update.S*nb.Update.S), Out: randSlice(r, nb.Update.S*2)}
	for i := range s.Mg {
		if r.Float64() < 0.5 {
			s.Mg[i] = 1
		}
	}
	rows := 1000
	data := make([]float32, rows*nb.N)
	for i := range data {
		data[i] = r.Float32()
	}
	d, err := c.NewDevicePlastic(nb, s)
	ok(b, err)
	ok(b, d.SetData(data))
	steps := 100
	idx, labels := make([]int32, steps*nb.B), make([]int32, steps*nb.B)
	for i := range idx {
		idx[i], labels[i] = int32(r.Intn(rows)), int32(r.Intn(nb.M))
	}
	ok(b, d.Train(idx[:nb.B], labels[:nb.B]))
	ok(b, c.Sync())
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ok(b, d.Train(idx, labels))
	}
	ok(b, c.Sync())
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N*steps*nb.B)/el, "network-examples/s")
	d.Free()
}
