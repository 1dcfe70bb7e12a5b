package gemm

import (
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func TestSgemvMatchesGonum(t *testing.T) {
	for _, goOnly := range []bool{false, true} {
		restore := useGoGemv(goOnly)
		rng := rand.New(rand.NewSource(6))
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, m := range []int{1, 3, 4, 7, 9, 17, 33, 129} {
				for _, n := range []int{1, 5, 8, 9, 31, 33, 70} {
					for _, inc := range [][2]int{{1, 1}, {2, 1}, {1, -3}, {-2, 2}} {
						for _, ab := range [][2]float32{{1, 0}, {-0.5, 0}, {2, 1}, {0.75, -1.5}, {0, 3}} {
							checkSgemv(t, rng, tA, m, n, inc[0], inc[1], ab[0], ab[1], goOnly)
						}
					}
				}
			}
		}
		restore()
	}
}

func checkSgemv(t *testing.T, rng *rand.Rand, tA blas.Transpose, m, n, incX, incY int, alpha, beta float32, goOnly bool) {
	t.Helper()
	lenX, lenY := n, m
	if tA == blas.Trans {
		lenX, lenY = m, n
	}
	abs := func(i int) int { return max(i, -i) }
	lda := n + 3
	a := randSlice[float32](rng, m*lda)
	x := randSlice[float32](rng, (lenX-1)*abs(incX)+1)
	used := (lenY-1)*abs(incY) + 1
	y := randSlice[float32](rng, used+2) // two more that must stay as they are
	if beta == 0 {
		for i := range y[:used] {
			if i%abs(incY) == 0 {
				y[i] = float32(math.NaN())
			}
		}
	}
	got := append([]float32(nil), y...)
	want := append([]float32(nil), y...)
	if beta == 0 {
		for i := range want {
			if math.IsNaN(float64(want[i])) {
				want[i] = 0
			}
		}
	}
	Implementation{}.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, got, incY)
	gonum.Implementation{}.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, want, incY)
	tol := 1e-5 * float64(lenX+1) * (math.Abs(float64(alpha)) + math.Abs(float64(beta)) + 1)
	for i := used; i < len(y); i++ {
		if got[i] != y[i] {
			t.Fatalf("tA=%c m=%d n=%d incY=%d: y[%d] past the vector was written", tA, m, n, incY, i)
		}
	}
	// (gonum's own Sgemv may scale past the vector: compare the vector only.)
	for i := range got[:used] {
		if math.IsNaN(float64(got[i])) || math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("goOnly=%v tA=%c m=%d n=%d incX=%d incY=%d alpha=%v beta=%v: y[%d] = %v, want %v",
				goOnly, tA, m, n, incX, incY, alpha, beta, i, got[i], want[i])
		}
	}
}

// BenchmarkSgemv measures GB/s of A streamed for a 256×512 matrix (in L2).
func BenchmarkSgemv(b *testing.B) {
	const m, n = 256, 512
	rng := rand.New(rand.NewSource(1))
	a := randSlice[float32](rng, m*n)
	x := randSlice[float32](rng, max(m, n))
	y := make([]float32, max(m, n))
	for _, impl := range []struct {
		name string
		f    blas.Float32
	}{{"ours", Implementation{}}, {"gonum", gonum.Implementation{}}} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			b.Run(string(rune(tA))+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					impl.f.Sgemv(tA, m, n, 1, a, n, x, 1, 0, y, 1)
				}
				b.ReportMetric(4*m*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
