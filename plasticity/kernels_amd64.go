package plasticity

import "golang.org/x/sys/cpu"

var haveAVX = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dotAVX(a, b *float32, n int) float32

//go:noescape
func fusedMulAVX(w, d, x *float32, n int) float32

func dot32(a, b []float32) float32 {
	n := len(a) &^ 7
	if !haveAVX || n == 0 {
		return dot(a, b)
	}
	b = b[:len(a)]
	return dotAVX(&a[0], &b[0], n) + dot(a[n:], b[n:])
}

func fusedMul32(w, d, x []float32) float32 {
	n := len(w) &^ 7
	if !haveAVX || n == 0 {
		return fusedMul(w, d, x)
	}
	d, x = d[:len(w)], x[:len(w)]
	return fusedMulAVX(&w[0], &d[0], &x[0], n) + fusedMul(w[n:], d[n:], x[n:])
}

//go:noescape
func fusedAdd8AVX(w *float32, m *uint8, d, x *float32, n int) float32

//go:noescape
func axpyAVX(y, x *float32, alpha float32, n int)

// fusedAdd8 is fusedAdd with a 0/1 byte mask.
func fusedAdd8(w []float32, m []uint8, d, x []float32) float32 {
	n := len(w) &^ 7
	m, d, x = m[:len(w)], d[:len(w)], x[:len(w)]
	var s float32
	if haveAVX && n > 0 {
		s = fusedAdd8AVX(&w[0], &m[0], &d[0], &x[0], n)
	} else {
		n = 0
	}
	for i := n; i < len(w); i++ {
		w[i] += float32(m[i]) * d[i]
		s += w[i] * x[i]
	}
	return s
}

// axpy32 does y += alpha*x.
func axpy32(y, x []float32, alpha float32) {
	n := len(y) &^ 7
	x = x[:len(y)]
	if haveAVX && n > 0 {
		axpyAVX(&y[0], &x[0], alpha, n)
	} else {
		n = 0
	}
	for i := n; i < len(y); i++ {
		y[i] += alpha * x[i]
	}
}

//go:noescape
func dotAVX64(a, b *float64, n int) float64

//go:noescape
func fusedAddAVX64(w, m, d, x *float64, n int) float64

//go:noescape
func fusedMulAVX64(w, d, x *float64, n int) float64

func dot64(a, b []float64) float64 {
	n := len(a) &^ 3
	if !haveAVX || n == 0 {
		return dot(a, b)
	}
	b = b[:len(a)]
	return dotAVX64(&a[0], &b[0], n) + dot(a[n:], b[n:])
}

func fusedAdd64(w, m, d, x []float64) float64 {
	n := len(w) &^ 3
	if !haveAVX || n == 0 {
		return fusedAdd(w, m, d, x)
	}
	m, d, x = m[:len(w)], d[:len(w)], x[:len(w)]
	return fusedAddAVX64(&w[0], &m[0], &d[0], &x[0], n) + fusedAdd(w[n:], m[n:], d[n:], x[n:])
}

func fusedMul64(w, d, x []float64) float64 {
	n := len(w) &^ 3
	if !haveAVX || n == 0 {
		return fusedMul(w, d, x)
	}
	d, x = d[:len(w)], x[:len(w)]
	return fusedMulAVX64(&w[0], &d[0], &x[0], n) + fusedMul(w[n:], d[n:], x[n:])
}

//go:noescape
func addAVX64(dst, src *float64, n int)

// add64 does dst += src.
func add64(dst, src []float64) {
	n := len(dst) &^ 3
	src = src[:len(dst)]
	if haveAVX && n > 0 {
		addAVX64(&dst[0], &src[0], n)
	} else {
		n = 0
	}
	for i := n; i < len(dst); i++ {
		dst[i] += src[i]
	}
}
