package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's pure-Go BLAS with Sgemm, Dgemm and Sgemv
// replaced by the packed, register-tiled kernels of this package. It
// satisfies the BLAS interfaces of gorgonia.Use and tensor.Use.
type Implementation struct {
	gonum.Implementation
}

// Active kernels, the fastest this CPU runs (chosen once at start-up).
var sKern, dKern = allKernels()[0].s, allKernels()[0].d

// kernelName reports the float32 kernel Implementation uses on this CPU.
func kernelName() string {
	if gonumGemm {
		return "gonum (no AVX2+FMA)"
	}
	return sKern.name
}

// Panic messages, the same as gonum's.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
	shortX       = "blas: insufficient length of x"
	shortY       = "blas: insufficient length of y"
	zeroIncX     = "blas: zero x index increment"
	zeroIncY     = "blas: zero y index increment"
)

// checkGemm validates Xgemm arguments as the reference BLAS does and
// reports whether A and B are transposed. It returns ok == false when there
// is nothing to compute (m or n is zero).
func checkGemm(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) (aT, bT, ok bool) {
	switch tA {
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	default:
		panic(badTranspose)
	}
	switch tB {
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	default:
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aT = tA != blas.NoTrans
	bT = tB != blas.NoTrans
	if aT {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bT {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return aT, bT, false
	}
	if aT {
		if lenA < (k-1)*lda+m {
			panic(shortA)
		}
	} else if lenA < (m-1)*lda+k {
		panic(shortA)
	}
	if bT {
		if lenB < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if lenB < (k-1)*ldb+n {
		panic(shortB)
	}
	if lenC < (m-1)*ldc+n {
		panic(shortC)
	}
	return aT, bT, true
}

// Sgemm performs C = alpha * op(A) * op(B) + beta * C where op(X) is X or Xᵀ,
// A is m×k after op, B is k×n after op and C is m×n, all row-major. As in
// the reference BLAS, beta == 0 overwrites C without reading it.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if gonumGemm {
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	aT, bT, ok := checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if !ok || (alpha == 0 || k == 0) && beta == 1 {
		return
	}
	sKern.gemm(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func (impl Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if gonumGemm {
		impl.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	aT, bT, ok := checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if !ok || (alpha == 0 || k == 0) && beta == 1 {
		return
	}
	dKern.gemm(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
