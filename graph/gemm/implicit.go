package gemm

import "runtime"

// PanelB is an operand B of a product that is never stored as a matrix,
// such as the patch matrix of a convolution (implicit GEMM): the product
// asks it for each block of B just before using it, packed the way the
// micro-kernel reads it, so B's values go from their source straight into
// the cache-sized packed panel.
type PanelB[T float32 | float64] interface {
	// PackB writes the kc×nc block of B whose top left element is B[pc][jc]
	// into dst as nr-wide strips: strip s (s*nr*kc values from dst[0]) holds,
	// for p = 0..kc-1, the nr values B[pc+p][jc+s*nr+j], j = 0..nr-1, side by
	// side, with zeros for columns at or past nc. It may be called from
	// several goroutines at once (for disjoint blocks).
	PackB(pc, jc, kc, nc, nr int, dst []T)
}

// PanelBT is a PanelB that can also write plain (unpacked) blocks of Bᵀ;
// the product then uses BlockT and packs with its own register transposes,
// which suits an operand whose source runs along Bᵀ's rows (the weight
// gradient's patch matrix, say). PackB is then not called.
type PanelBT[T float32 | float64] interface {
	PanelB[T]
	// BlockT writes the nc×kc block of Bᵀ at (jc, pc) row-major into dst:
	// dst[j*kc+p] = B[pc+p][jc+j] for j < nc, p < kc (nc <= the kernel's nr).
	BlockT(pc, jc, kc, nc int, dst []T)
}

// PanelBRows is a PanelB whose strips may already lie in memory row by
// row (the patch matrix of a stride-1 convolution of a padded image: the nr
// pixels of a strip in one output row are nr consecutive input values for
// every tap). The product then reads them where they are, through their
// addresses, instead of packing them.
type PanelBRows[T float32 | float64] interface {
	PanelB[T]
	// Rows writes into ptrs, for p < kc, the address of the nr values
	// B[pc+p][jc .. jc+nr-1] when each of those rows is contiguous in memory,
	// and reports whether it did; when it returns false the product packs
	// the strip with PackB. The values must stay where they are until the
	// product returns.
	Rows(pc, jc, kc, nr int, ptrs []*T) bool
}

// GemmB computes C = alpha*op(A)*B + beta*C (row-major; op(A) is A, or Aᵀ
// when aT, m×k; C is m×n with rows ldc apart) where B (k×n) is packed by pb
// on demand. With serial set it runs on the calling goroutine only (for
// callers that parallelise themselves); otherwise it is split over
// GOMAXPROCS goroutines like Sgemm. As in BLAS, beta == 0 overwrites C
// without reading it. It always uses this package's kernels (also in the
// openblas build and on CPUs where gonum's Sgemm is installed instead).
func GemmB[T float32 | float64](serial, aT bool, m, n, k int, alpha T, a []T, lda int, pb PanelB[T], beta T, c []T, ldc int) {
	switch {
	case m < 0:
		panic(mLT0)
	case n < 0:
		panic(nLT0)
	case k < 0:
		panic(kLT0)
	}
	if m == 0 || n == 0 {
		return
	}
	if aT {
		if lda < max(1, m) || k > 0 && len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if lda < max(1, k) || k > 0 && len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if ldc < max(1, n) || len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	workers := 1
	if !serial {
		workers = runtime.GOMAXPROCS(0)
	}
	switch kn := any(kernelFor[T]()).(type) {
	case *kernel[float32]:
		gemmB(kn, workers, aT, m, n, k, any(alpha).(float32), any(a).([]float32), lda, any(pb).(PanelB[float32]), any(beta).(float32), any(c).([]float32), ldc)
	case *kernel[float64]:
		gemmB(kn, workers, aT, m, n, k, any(alpha).(float64), any(a).([]float64), lda, any(pb).(PanelB[float64]), any(beta).(float64), any(c).([]float64), ldc)
	}
}

func gemmB[T float32 | float64](kn *kernel[T], workers int, aT bool, m, n, k int, alpha T, a []T, lda int, pb PanelB[T], beta T, c []T, ldc int) {
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	p := problem[T]{aT: aT, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, lda: lda, c: c, ldc: ldc, pb: pb}
	kn.run(&p, workers)
}

// kernelFor returns the active kernel of element type T.
func kernelFor[T float32 | float64]() any {
	var z T
	if _, ok := any(z).(float32); ok {
		return sKern
	}
	return dKern
}

// StripWidth is nr, the width of the strips of B that the active kernel for
// element type T reads (a PanelBRows can serve a strip only if its nr
// columns are contiguous).
func StripWidth[T float32 | float64]() int {
	switch kn := kernelFor[T]().(type) {
	case *kernel[float32]:
		return kn.nr
	case *kernel[float64]:
		return kn.nr
	}
	return 0
}
