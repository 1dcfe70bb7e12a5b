package gemm

import (
	"math/rand"
	"runtime"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmConcurrentCallers runs parallel-sized products from several
// goroutines at once: they share the worker pool and the pooled buffers.
func TestSgemmConcurrentCallers(t *testing.T) {
	forceOurs(t)
	defer func(old int) { parallelMACs = old }(parallelMACs)
	parallelMACs = 1
	const m, n, k = 150, 97, 130
	rng := rand.New(rand.NewSource(7))
	a := randSlice[float32](rng, m*k)
	b := randSlice[float32](rng, k*n)
	want := make([]float32, m*n)
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, want, n)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, m*n)
			for r := 0; r < 20; r++ {
				Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
				for i := range c {
					if d := c[i] - want[i]; d > 1e-4 || d < -1e-4 {
						errs <- "concurrent Sgemm differs from gonum"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestSgemmNoAllocs checks that steady-state calls, serial and parallel,
// allocate nothing (packing buffers and tasks come from pools).
func TestSgemmNoAllocs(t *testing.T) {
	forceOurs(t)
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, sz := range [][3]int{{20, 30, 40}, {128, 256, 784}} {
		m, n, k := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewSource(8))
		a := randSlice[float32](rng, m*k)
		b := randSlice[float32](rng, k*n)
		c := make([]float32, m*n)
		f := func() { Implementation{}.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, b, k, 0, c, n) }
		f()
		// A GC between runs may empty the pools: allow a stray allocation.
		if allocs := testing.AllocsPerRun(20, f); allocs > 0.5 {
			t.Errorf("%dx%dx%d: %.1f allocations per call", m, n, k, allocs)
		}
	}
}

// TestSgemmParallelSplits runs the parallel path (whatever the size) with
// 2, 3 and 4 workers (whatever the machine's cores) and with a tiny
// shared-panel budget, so that products are cut into panels and strip
// groups are uneven or empty.
func TestSgemmParallelSplits(t *testing.T) {
	forceOurs(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(old int) { sharedMax = old }(sharedMax)
	defer func(old int) { parallelMACs = old }(parallelMACs)
	parallelMACs = 1
	rng := rand.New(rand.NewSource(9))
	for _, procs := range []int{2, 3, 4} {
		runtime.GOMAXPROCS(procs)
		for _, budget := range []int{1 << 21, 3000} {
			sharedMax = budget
			for _, sz := range [][3]int{{129, 70, 300}, {70, 129, 300}, {200, 33, 90}, {25, 260, 81}, {13, 5, 7}, {1, 40, 3}} {
				for _, tA := range transposes {
					for _, tB := range transposes {
						checkGemmCase(t, rng, Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, 1e-6,
							tA, tB, sz[0], sz[1], sz[2], 1, 1.5, 0.5, false)
						checkGemmCase(t, rng, Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, 1e-14,
							tA, tB, sz[0], sz[1], sz[2], 1, 1.5, 0, true)
					}
				}
			}
		}
	}
}
