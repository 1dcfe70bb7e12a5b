//go:build !amd64 || purego

package gemm

// allKernels returns the portable Go kernels: no assembly on this target.
func allKernels() []kernelPair { return []kernelPair{genericKernels()} }
