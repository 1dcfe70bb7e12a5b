//go:build !unix

package cputime

// Process is unavailable here (0): benchmarks then skip their per-CPU
// metrics.
func Process() float64 { return 0 }
