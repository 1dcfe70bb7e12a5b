package graph

import (
	"math/rand/v2"
	"testing"

	fastgemm "github.com/plasticity-lab/plastic/graph/gemm"
	"github.com/plasticity-lab/plastic/internal/cputime"
)

// BenchmarkConv times the forward pass, weight gradient and input gradient
// of ResNet-18's convolution shapes at batch 128, reporting GFLOP/s of wall
// time and per CPU-second (the latter is what one core does, also on a
// machine shared with other jobs):
//
//	go test ./graph -run '^$' -bench Conv/ -benchtime 3x
func BenchmarkConv(b *testing.B) {
	fastgemm.Use()
	for _, c := range []struct {
		name                 string
		C, H, Co, K, S, P, B int
	}{
		{"layer1-64x32x32-3x3", 64, 32, 64, 3, 1, 1, 128},
		{"layer2-128x16x16-3x3", 128, 16, 128, 3, 1, 1, 128},
		{"layer3.0-128x16x16-3x3s2", 128, 16, 256, 3, 2, 1, 128},
		{"layer4-512x4x4-3x3", 512, 4, 512, 3, 1, 1, 128},
	} {
		g, err := newConvGeom(c.C, c.H, c.H, c.Co, c.K, c.S, c.P)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 1))
		x := make([]float32, c.B*g.inSize)
		w := make([]float32, g.weightSize)
		y := make([]float32, c.B*g.outSize)
		for i := range x {
			x[i] = r.Float32()
		}
		for i := range w {
			w[i] = r.Float32()
		}
		var s convScratch[float32]
		flops := 2 * float64(c.B) * float64(g.outSize) * float64(g.colRows)
		for _, pass := range []string{"fwd", "dW", "dX"} {
			b.Run(c.name+"/"+pass, func(b *testing.B) {
				run := func() {
					switch pass {
					case "fwd":
						convFwd(&g, &s, x, w, nil, y, c.B, false)
					case "dW":
						convDW(&g, &s, x, y, w, c.B)
					case "dX":
						convDX(&g, &s, w, y, x, c.B)
					}
				}
				run()
				b.ResetTimer()
				cpu0 := cputime.Process()
				for i := 0; i < b.N; i++ {
					run()
				}
				cpu := cputime.Process() - cpu0
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flops*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}
