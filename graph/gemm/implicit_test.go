package gemm

import (
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// storedB is a PanelB over a stored k×n matrix, packed element by element
// exactly as the PanelB contract says (independent of packB).
type storedB[T float] struct {
	b   []T
	ldb int
}

func (s *storedB[T]) PackB(pc, jc, kc, nc, nr int, dst []T) {
	strips := (nc + nr - 1) / nr
	for st := 0; st < strips; st++ {
		for p := 0; p < kc; p++ {
			for j := 0; j < nr; j++ {
				var v T
				if col := st*nr + j; col < nc {
					v = s.b[(pc+p)*s.ldb+jc+col]
				}
				dst[st*nr*kc+p*nr+j] = v
			}
		}
	}
}

// storedBT is storedB offering plain blocks of Bᵀ (PanelBT) instead.
type storedBT[T float] struct{ storedB[T] }

func (s *storedBT[T]) PackB(pc, jc, kc, nc, nr int, dst []T) { panic("PackB called on a PanelBT") }
func (s *storedBT[T]) BlockT(pc, jc, kc, nc int, dst []T) {
	for j := 0; j < nc; j++ {
		for p := 0; p < kc; p++ {
			dst[j*kc+p] = s.b[(pc+p)*s.ldb+jc+j]
		}
	}
}

// storedRows is storedB giving the addresses of its rows (PanelBRows), but
// declining every third strip (which the product must then pack).
type storedRows[T float] struct {
	storedB[T]
}

func (s *storedRows[T]) Rows(pc, jc, kc, nr int, ptrs []*T) bool {
	if (jc/nr)%3 == 2 {
		return false
	}
	for p := 0; p < kc; p++ {
		ptrs[p] = &s.b[(pc+p)*s.ldb+jc]
	}
	return true
}

// checkGemmB compares GemmB with gonum's GEMM on the stored matrix, given
// as a PanelB, as a PanelBT and as a PanelBRows.
func checkGemmB[T float](t *testing.T, rng *rand.Rand, ref gemmFunc[T], tol float64, serial, aT bool, m, n, k int, alpha, beta T) {
	t.Helper()
	for kind := 0; kind < 3; kind++ {
		checkGemmBPanel(t, rng, ref, tol, serial, aT, m, n, k, alpha, beta, kind)
	}
}

// checkGemmBPanel checks one kind of panel: 0 PanelB, 1 PanelBT, 2 PanelBRows.
func checkGemmBPanel[T float](t *testing.T, rng *rand.Rand, ref gemmFunc[T], tol float64, serial, aT bool, m, n, k int, alpha, beta T, kind int) {
	t.Helper()
	lda := k + 2
	rowsA := m
	if aT {
		lda, rowsA = m+1, k
	}
	a := randSlice[T](rng, max(rowsA*lda, 1))
	ldb, ldc := n+3, n+1
	b := randSlice[T](rng, max(k*ldb, 1))
	c0 := randSlice[T](rng, m*ldc)
	const sentinel = 777
	for i := 0; i < m; i++ {
		c0[i*ldc+n] = sentinel
	}
	got := append([]T(nil), c0...)
	want := append([]T(nil), c0...)
	tA := blas.NoTrans
	if aT {
		tA = blas.Trans
	}
	var pb PanelB[T] = &storedB[T]{b: b, ldb: ldb}
	switch kind {
	case 1:
		pb = &storedBT[T]{storedB[T]{b: b, ldb: ldb}}
	case 2:
		pb = &storedRows[T]{storedB: storedB[T]{b: b, ldb: ldb}}
	}
	GemmB(serial, aT, m, n, k, alpha, a, lda, pb, beta, got, ldc)
	ref(tA, blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	bound := tol * float64(k+1) * (abs(float64(alpha)) + abs(float64(beta)) + 1)
	for i := 0; i < m; i++ {
		if got[i*ldc+n] != sentinel {
			t.Fatalf("serial=%v aT=%v kind=%d m=%d n=%d k=%d: C[%d][%d] beyond n written", serial, aT, kind, m, n, k, i, n)
		}
		for j := 0; j < n; j++ {
			if d := abs(float64(got[i*ldc+j] - want[i*ldc+j])); !(d <= bound) {
				t.Fatalf("serial=%v aT=%v kind=%d m=%d n=%d k=%d alpha=%v beta=%v: C[%d][%d] = %v, want %v",
					serial, aT, kind, m, n, k, alpha, beta, i, j, got[i*ldc+j], want[i*ldc+j])
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestGemmBMatchesGonum: the implicit-B product equals the stored one for
// odd and even sizes, both layouts of A, serial and split over workers
// (every product parallel-sized here), with each kernel and tiny blocking.
func TestGemmBMatchesGonum(t *testing.T) {
	defer func(old int) { parallelMACs = old }(parallelMACs)
	parallelMACs = 1
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(11))
		dims := []int{1, 5, 17, 40, 131}
		for _, serial := range []bool{true, false} {
			for _, aT := range []bool{false, true} {
				for _, m := range dims {
					for _, n := range dims {
						for _, k := range []int{1, 9, 300} {
							checkGemmB[float32](t, rng, gonum.Implementation{}.Sgemm, 1e-6, serial, aT, m, n, k, 1, 0)
							checkGemmB[float64](t, rng, gonum.Implementation{}.Dgemm, 1e-14, serial, aT, m, n, k, 1, 0)
						}
					}
				}
			}
		}
		for _, ab := range [][2]float64{{-1.5, 1}, {0.5, -0.25}, {0, 2}, {2, 1}} {
			checkGemmB[float32](t, rng, gonum.Implementation{}.Sgemm, 1e-6, false, false, 37, 53, 71, float32(ab[0]), float32(ab[1]))
			checkGemmB[float64](t, rng, gonum.Implementation{}.Dgemm, 1e-14, true, true, 37, 53, 71, ab[0], ab[1])
		}
	})
}

// TestGemmBWideSharedB covers a product split by rows with B shared and cut
// into panels (n above the nc block and sharedMax).
func TestGemmBWideSharedB(t *testing.T) {
	defer func(old, sm int) { parallelMACs, sharedMax = old, sm }(parallelMACs, sharedMax)
	parallelMACs, sharedMax = 1, 600
	rng := rand.New(rand.NewSource(12))
	checkGemmB[float32](t, rng, gonum.Implementation{}.Sgemm, 1e-6, false, false, 300, 250, 40, 1, 0)
	checkGemmB[float32](t, rng, gonum.Implementation{}.Sgemm, 1e-6, false, false, 30, 250, 40, 1, 1)
}
