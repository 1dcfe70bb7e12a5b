//go:build amd64 && !purego

package gemm

// useGoGemv switches Sgemv to its portable inner loops (or back to the
// assembly ones, where the CPU has AVX2) and returns the previous setting.
func useGoGemv(goOnly bool) (restore func()) {
	old := gemvAVX2
	gemvAVX2 = hasAVX2 && !goOnly
	return func() { gemvAVX2 = old }
}
