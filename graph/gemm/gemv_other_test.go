//go:build !amd64 || purego

package gemm

// useGoGemv is a no-op: on this target Sgemv only has portable loops.
func useGoGemv(bool) (restore func()) { return func() {} }
