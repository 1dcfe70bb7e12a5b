//go:build !unix

package gemm

// processCPU is unavailable here: benchmarks then skip the per-CPU metric.
func processCPU() float64 { return 0 }
