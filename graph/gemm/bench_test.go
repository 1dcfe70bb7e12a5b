package gemm

import (
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/internal/cputime"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkSgemm measures GFLOP/s of the model shapes, forward (A·B) and
// with a transposed operand as in the backward pass, for this package's
// Sgemm ("ours"), gonum's ("gonum") and, in the openblas build, OpenBLAS's.
func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		f    blas.Float32
	}{{"ours", Implementation{}}, {"gonum", gonum.Implementation{}}}
	if _, ok := installed().(Implementation); !ok {
		impls = append(impls, struct {
			name string
			f    blas.Float32
		}{"openblas", installed()})
	}
	for _, s := range modelShapes {
		for _, tr := range []struct {
			name   string
			tA, tB blas.Transpose
		}{{"NN", blas.NoTrans, blas.NoTrans}, {"TN", blas.Trans, blas.NoTrans}, {"NT", blas.NoTrans, blas.Trans}} {
			for _, impl := range impls {
				b.Run(s.name+"/"+tr.name+"/"+impl.name, func(b *testing.B) {
					benchSgemm(b, impl.f, tr.tA, tr.tB, s.m, s.n, s.k)
				})
			}
		}
	}
}

// BenchmarkSgemm2048 is the square product PyTorch runs at about
// 220 GFLOP/s on two cores of this machine.
func BenchmarkSgemm2048(b *testing.B) {
	b.Run("ours", func(b *testing.B) {
		benchSgemm(b, Implementation{}, blas.NoTrans, blas.NoTrans, 2048, 2048, 2048)
	})
	if _, ok := installed().(Implementation); !ok {
		b.Run("openblas", func(b *testing.B) {
			benchSgemm(b, installed(), blas.NoTrans, blas.NoTrans, 2048, 2048, 2048)
		})
	}
}

func benchSgemm(b *testing.B, impl blas.Float32, tA, tB blas.Transpose, m, n, k int) {
	rng := rand.New(rand.NewSource(1))
	x := randSlice[float32](rng, m*k)
	y := randSlice[float32](rng, k*n)
	z := make([]float32, m*n)
	lda, ldb := k, n
	if tA == blas.Trans {
		lda = m
	}
	if tB == blas.Trans {
		ldb = k
	}
	impl.Sgemm(tA, tB, m, n, k, 1, x, lda, y, ldb, 0, z, n)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		impl.Sgemm(tA, tB, m, n, k, 1, x, lda, y, ldb, 0, z, n)
	}
	reportFlops(b, 2*float64(m)*float64(n)*float64(k)*float64(b.N), cpu0)
}

// reportFlops reports GFLOP/s of wall time and, where the OS tells, per
// CPU-second of the whole process: on a machine shared with other jobs
// the second one (with -cpu 1) still measures what one core does.
func reportFlops(b *testing.B, flops, cpu0 float64) {
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cputime.Process() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkSgemmKernels compares the kernels this CPU can run (AVX-512,
// AVX2+FMA, portable Go) on the MLP's first layer, 128x784 · 784x256.
func BenchmarkSgemmKernels(b *testing.B) {
	old, oldGonum := sKern, gonumGemm
	defer func() { sKern, gonumGemm = old, oldGonum }()
	gonumGemm = false
	for _, p := range allKernels() {
		b.Run(p.s.name, func(b *testing.B) {
			sKern = p.s
			benchSgemm(b, Implementation{}, blas.NoTrans, blas.NoTrans, 128, 256, 784)
		})
	}
}

// BenchmarkDgemm compares Dgemm with gonum's on 256x256 · 256x256.
func BenchmarkDgemm(b *testing.B) {
	const m, n, k = 256, 256, 256
	rng := rand.New(rand.NewSource(1))
	x := randSlice[float64](rng, m*k)
	y := randSlice[float64](rng, k*n)
	z := make([]float64, m*n)
	for _, impl := range []struct {
		name string
		f    blas.Float64
	}{{"ours", Implementation{}}, {"gonum", gonum.Implementation{}}} {
		b.Run(impl.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				impl.f.Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
