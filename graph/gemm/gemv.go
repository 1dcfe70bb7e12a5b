package gemm

import (
	"sync"

	"gonum.org/v1/gonum/blas"
)

// Sgemv performs y = alpha * A * x + beta * y (tA == blas.NoTrans) or
// y = alpha * Aᵀ * x + beta * y, where A is an m×n row-major matrix. As in
// the reference BLAS, beta == 0 overwrites y without reading it.
func (Implementation) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	if tA != blas.NoTrans && tA != blas.Trans && tA != blas.ConjTrans {
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if lda < max(1, n) {
		panic(badLdA)
	}
	if incX == 0 {
		panic(zeroIncX)
	}
	if incY == 0 {
		panic(zeroIncY)
	}
	lenX, lenY := n, m
	if tA != blas.NoTrans {
		lenX, lenY = m, n
	}
	if m == 0 || n == 0 {
		return
	}
	if (incX > 0 && (lenX-1)*incX >= len(x)) || (incX < 0 && (1-lenX)*incX >= len(x)) {
		panic(shortX)
	}
	if (incY > 0 && (lenY-1)*incY >= len(y)) || (incY < 0 && (1-lenY)*incY >= len(y)) {
		panic(shortY)
	}
	if len(a) < lda*(m-1)+n {
		panic(shortA)
	}
	if alpha == 0 && beta == 1 {
		return
	}

	// Work on contiguous x and y: gather strided vectors into pooled buffers.
	var buf *[]float32
	xs, ys := x[:lenX], y[:lenY]
	if incX != 1 || incY != 1 {
		buf = vecPool.Get().(*[]float32)
		if cap(*buf) < lenX+lenY {
			*buf = make([]float32, lenX+lenY)
		}
		v := (*buf)[:lenX+lenY]
		if incX != 1 {
			xs = v[:lenX]
			gather(xs, x, incX)
		}
		if incY != 1 {
			ys = v[lenX:]
			if beta != 0 {
				gather(ys, y, incY)
			}
		}
	}
	if tA == blas.NoTrans {
		gemvN(m, alpha, a, lda, xs, beta, ys)
	} else {
		gemvT(m, alpha, a, lda, xs, beta, ys)
	}
	if buf != nil {
		if incY != 1 {
			scatter(y, ys, incY)
		}
		vecPool.Put(buf)
	}
}

var vecPool = sync.Pool{New: func() any { return new([]float32) }}

// gather copies the strided BLAS vector x (increment inc, possibly
// negative) into dst.
func gather(dst, x []float32, inc int) {
	ix := 0
	if inc < 0 {
		ix = -(len(dst) - 1) * inc
	}
	for i := range dst {
		dst[i] = x[ix]
		ix += inc
	}
}

// scatter is the inverse of gather.
func scatter(y, src []float32, inc int) {
	iy := 0
	if inc < 0 {
		iy = -(len(src) - 1) * inc
	}
	for _, v := range src {
		y[iy] = v
		iy += inc
	}
}

// gemvN sets y = alpha*A*x + beta*y, four rows of A at a time.
func gemvN(m int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	var d [4]float32
	i := 0
	for ; i+4 <= m; i += 4 {
		dot4(a[i*lda:], lda, x, &d)
		for r, v := range d {
			if beta == 0 {
				y[i+r] = alpha * v
			} else {
				y[i+r] = alpha*v + beta*y[i+r]
			}
		}
	}
	for ; i < m; i++ {
		var s float32
		for j, v := range a[i*lda : i*lda+len(x)] {
			s += v * x[j]
		}
		if beta == 0 {
			y[i] = alpha * s
		} else {
			y[i] = alpha*s + beta*y[i]
		}
	}
}

// gemvT sets y = alpha*Aᵀ*x + beta*y, adding four scaled rows of A at a
// time.
func gemvT(m int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	switch beta {
	case 0:
		clear(y)
	case 1:
	default:
		for j := range y {
			y[j] *= beta
		}
	}
	if alpha == 0 {
		return
	}
	n := len(y)
	i := 0
	for ; i+4 <= m; i += 4 {
		s := [4]float32{alpha * x[i], alpha * x[i+1], alpha * x[i+2], alpha * x[i+3]}
		axpy4(a[i*lda:], lda, &s, y)
	}
	for ; i < m; i++ {
		s := alpha * x[i]
		for j, v := range a[i*lda : i*lda+n] {
			y[j] += s * v
		}
	}
}

// dot4Go sets out[r] = Σ_j a[r*lda+j]*x[j] for r < 4, j < len(x).
func dot4Go(a []float32, lda int, x []float32, out *[4]float32) {
	n := len(x)
	r0, r1, r2, r3 := a[:n], a[lda:lda+n], a[2*lda:2*lda+n], a[3*lda:3*lda+n]
	var s0, s1, s2, s3 float32
	for j, v := range x {
		s0 += r0[j] * v
		s1 += r1[j] * v
		s2 += r2[j] * v
		s3 += r3[j] * v
	}
	*out = [4]float32{s0, s1, s2, s3}
}

// axpy4Go sets y[j] += Σ_r s[r]*a[r*lda+j] for r < 4, j < len(y).
func axpy4Go(a []float32, lda int, s *[4]float32, y []float32) {
	n := len(y)
	r0, r1, r2, r3 := a[:n], a[lda:lda+n], a[2*lda:2*lda+n], a[3*lda:3*lda+n]
	for j := range y {
		y[j] += s[0]*r0[j] + s[1]*r1[j] + s[2]*r2[j] + s[3]*r3[j]
	}
}
