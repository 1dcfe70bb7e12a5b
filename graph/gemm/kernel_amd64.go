//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run asm_gen.go

// The micro-kernels in kernel_amd64.s (see asm_gen.go for their contract).

//go:noescape
func kernS6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, loadC int)

//go:noescape
func kernD6x8AVX2(kc int, a, b, c *float64, ldc int, alpha, beta float64, loadC int)

//go:noescape
func kernS12x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, loadC int)

//go:noescape
func kernD12x16AVX512(kc int, a, b, c *float64, ldc int, alpha, beta float64, loadC int)

//go:noescape
func kernS6x16AVX2Ind(kc int, a *float32, b **float32, c *float32, ldc int, alpha, beta float32, loadC int)

//go:noescape
func kernD6x8AVX2Ind(kc int, a *float64, b **float64, c *float64, ldc int, alpha, beta float64, loadC int)

//go:noescape
func kernS12x32AVX512Ind(kc int, a *float32, b **float32, c *float32, ldc int, alpha, beta float32, loadC int)

//go:noescape
func kernD12x16AVX512Ind(kc int, a *float64, b **float64, c *float64, ldc int, alpha, beta float64, loadC int)

// hasAVX2 and hasAVX512 say which kernels this CPU (and OS) can run.
var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F
)

// gonumGemm is set where gonum's own Sgemm/Dgemm are faster than ours: on
// amd64 without AVX2+FMA its SSE assembly beats the portable Go kernel
// (about 27 against 3 GFLOP/s on 128x784x256 here).
var gonumGemm = !hasAVX2

// allKernels returns every float32/float64 kernel pair this CPU can run,
// fastest first.
func allKernels() []kernelPair {
	var ks []kernelPair
	if hasAVX512 {
		ks = append(ks, kernelPair{
			&kernel[float32]{name: "go-avx512 12x32", mr: 12, nr: 32, kc: 256, mc: 144, nc: 4096, fn: kernS12x32AVX512, fnInd: kernS12x32AVX512Ind},
			&kernel[float64]{name: "go-avx512 12x16", mr: 12, nr: 16, kc: 256, mc: 72, nc: 2048, fn: kernD12x16AVX512, fnInd: kernD12x16AVX512Ind}})
	}
	if hasAVX2 {
		ks = append(ks, kernelPair{
			&kernel[float32]{name: "go-avx2-fma 6x16", mr: 6, nr: 16, kc: 256, mc: 96, nc: 4096, fn: kernS6x16AVX2, fnInd: kernS6x16AVX2Ind},
			&kernel[float64]{name: "go-avx2-fma 6x8", mr: 6, nr: 8, kc: 256, mc: 48, nc: 2048, fn: kernD6x8AVX2, fnInd: kernD6x8AVX2Ind}})
	}
	return append(ks, genericKernels())
}
