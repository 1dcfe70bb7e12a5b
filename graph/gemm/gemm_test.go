package gemm

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

type float interface{ float32 | float64 }

// withKernels runs f with each float32/float64 kernel pair this machine can
// execute (AVX-512, AVX2+FMA, portable Go), and with each again under tiny
// blocking so that small matrices cross every edge of the loop nest
// (several kc, mc and nc blocks).
func withKernels(t *testing.T, f func(t *testing.T)) {
	var pairs []kernelPair
	for _, p := range allKernels() {
		k32, k64 := p.s, p.d
		pairs = append(pairs, p, kernelPair{
			&kernel[float32]{name: k32.name + " small-blocks", mr: k32.mr, nr: k32.nr, kc: 5, mc: 2 * k32.mr, nc: 3 * k32.nr, fn: k32.fn, fnInd: k32.fnInd},
			&kernel[float64]{name: k64.name + " small-blocks", mr: k64.mr, nr: k64.nr, kc: 5, mc: 2 * k64.mr, nc: 3 * k64.nr, fn: k64.fn, fnInd: k64.fnInd}})
	}
	old32, old64, oldGonum := sKern, dKern, gonumGemm
	defer func() { sKern, dKern, gonumGemm = old32, old64, oldGonum }()
	gonumGemm = false
	for _, p := range pairs {
		sKern, dKern = p.s, p.d
		t.Run(p.s.name, f)
	}
}

// forceOurs makes Sgemm/Dgemm use this package's kernels for the test even
// where gonum's are faster (amd64 without AVX2).
func forceOurs(t *testing.T) {
	old := gonumGemm
	gonumGemm = false
	t.Cleanup(func() { gonumGemm = old })
}

func randSlice[T float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(2*rng.Float64() - 1)
	}
	return s
}

type gemmFunc[T float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// checkGemmCase compares got with gonum's reference on one case, C padded
// with a sentinel beyond column n that must survive untouched.
func checkGemmCase[T float](t *testing.T, rng *rand.Rand, got, want gemmFunc[T], tol float64, tA, tB blas.Transpose, m, n, k, pad int, alpha, beta T, nanC bool) {
	t.Helper()
	rowsA, colsA := m, k
	if tA == blas.Trans {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if tB == blas.Trans {
		rowsB, colsB = n, k
	}
	lda, ldb, ldc := colsA+pad, colsB+pad, n+pad
	a := randSlice[T](rng, max(rowsA*lda, 1))
	b := randSlice[T](rng, max(rowsB*ldb, 1))
	c0 := randSlice[T](rng, max(m*ldc, 1))
	const sentinel = 12345
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			switch {
			case j >= n:
				c0[i*ldc+j] = sentinel
			case nanC:
				c0[i*ldc+j] = T(math.NaN())
			}
		}
	}
	cGot := append([]T(nil), c0...)
	cWant := append([]T(nil), c0...)
	if nanC {
		// The reference must not see NaN: with beta == 0 BLAS overwrites C.
		clear(cWant)
	}
	got(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cGot, ldc)
	want(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cWant, ldc)
	bound := tol * float64(k+1) * (math.Abs(float64(alpha)) + math.Abs(float64(beta)) + 1)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			g, w := cGot[i*ldc+j], cWant[i*ldc+j]
			if j >= n {
				if g != sentinel {
					t.Fatalf("tA=%c tB=%c m=%d n=%d k=%d: C[%d][%d] beyond n was written: %v", tA, tB, m, n, k, i, j, g)
				}
				continue
			}
			if math.IsNaN(float64(g)) || math.Abs(float64(g-w)) > bound {
				t.Fatalf("tA=%c tB=%c m=%d n=%d k=%d pad=%d alpha=%v beta=%v: C[%d][%d] = %v, want %v (tol %g)",
					tA, tB, m, n, k, pad, alpha, beta, i, j, g, w, bound)
			}
		}
	}
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

func TestSgemmMatchesGonum(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		dims := []int{1, 7, 17, 33, 129}
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, m := range dims {
					for _, n := range dims {
						for _, k := range []int{1, 7, 33, 300} {
							pad := (m + n + k) % 3 * 2
							checkGemmCase(t, rng, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, 1e-6,
								tA, tB, m, n, k, pad, 1, 0, false)
						}
					}
				}
			}
		}
	})
}

func TestDgemmMatchesGonum(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(2))
		dims := []int{1, 7, 17, 33, 129}
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, m := range dims {
					for _, n := range dims {
						for _, k := range []int{1, 17, 300} {
							checkGemmCase(t, rng, Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, 1e-14,
								tA, tB, m, n, k, 3, 1, 0, false)
						}
					}
				}
			}
		}
	})
}

func TestGemmAlphaBeta(t *testing.T) {
	cases := []struct {
		alpha, beta float64
		nanC        bool
	}{
		{1, 0, true},    // beta == 0 ignores NaN in C
		{-2.5, 0, true}, //
		{0.5, 1, false}, // accumulate
		{1.5, -0.75, false},
		{0, 2, false}, // alpha == 0 only scales C
		{0, 0, true},  // ... or clears it, NaN included
		{0, 1, false}, // no-op
		{2, 1, false},
	}
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(3))
		for _, tc := range cases {
			for _, tA := range transposes {
				for _, tB := range transposes {
					for _, sz := range [][3]int{{13, 35, 19}, {129, 70, 300}, {5, 3, 0}} {
						m, n, k := sz[0], sz[1], sz[2]
						checkGemmCase(t, rng, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, 1e-6,
							tA, tB, m, n, k, 4, float32(tc.alpha), float32(tc.beta), tc.nanC)
						checkGemmCase(t, rng, Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, 1e-14,
							tA, tB, m, n, k, 4, tc.alpha, tc.beta, tc.nanC)
					}
				}
			}
		}
	})
}

// TestSgemmModelShapes checks the products of the MLP and of ResNet-18's
// im2col convolutions (shrunk in the batch dimension), forward and backward.
func TestSgemmModelShapes(t *testing.T) {
	forceOurs(t)
	rng := rand.New(rand.NewSource(4))
	for _, s := range modelShapes {
		if s.m*s.n*s.k > 128*784*256 {
			continue
		}
		for _, tA := range transposes {
			for _, tB := range transposes {
				checkGemmCase(t, rng, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, 1e-6,
					tA, tB, s.m, s.n, s.k, 0, 1, 0, false)
			}
		}
	}
}

func TestGemmPanicsLikeGonum(t *testing.T) {
	a := make([]float32, 12)
	cases := []struct {
		name string
		f    func(blas.Float32)
	}{
		{"bad transpose", func(b blas.Float32) { b.Sgemm('x', blas.NoTrans, 2, 2, 2, 1, a, 2, a, 2, 0, a, 2) }},
		{"m<0", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) }},
		{"lda", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }},
		{"short c", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 4, 4, 2, 1, a, 2, a, 4, 0, a, 4) }},
	}
	catch := func(f func(blas.Float32), b blas.Float32) (r any) {
		defer func() { r = recover() }()
		f(b)
		return nil
	}
	for _, tc := range cases {
		want := catch(tc.f, gonum.Implementation{})
		got := catch(tc.f, Implementation{})
		if want == nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: panic %v, gonum panics %v", tc.name, got, want)
		}
	}
}
