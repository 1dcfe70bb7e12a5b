//go:build !amd64 || purego

package gemm

// allKernels returns the portable Go kernels: no assembly on this target.
func allKernels() []kernelPair { return []kernelPair{genericKernels()} }

// gonumGemm is false: on this target gonum's GEMM is plain Go too, and the
// register-tiled kernel does more work per load.
var gonumGemm = false
