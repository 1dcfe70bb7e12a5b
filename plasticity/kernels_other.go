//go:build !amd64

package plasticity

// haveAVX is false: no assembly kernels on this architecture (the tests
// switch it like the amd64 build's).
var haveAVX = false

func dot32(a, b []float32) float32         { return dot(a, b) }
func fusedMul32(w, d, x []float32) float32 { return fusedMul(w, d, x) }

// fusedAdd8 is fusedAdd with a 0/1 byte mask.
func fusedAdd8(w []float32, m []uint8, d, x []float32) float32 {
	var s float32
	for i := range w {
		w[i] += float32(m[i]) * d[i]
		s += w[i] * x[i]
	}
	return s
}

// axpy32 does y += alpha*x.
func axpy32(y, x []float32, alpha float32) {
	for i := range y {
		y[i] += alpha * x[i]
	}
}

func dot64(a, b []float64) float64            { return dot(a, b) }
func fusedAdd64(w, m, d, x []float64) float64 { return fusedAdd(w, m, d, x) }
func fusedMul64(w, d, x []float64) float64    { return fusedMul(w, d, x) }

// add64 does dst += src.
func add64(dst, src []float64) {
	for i := range dst {
		dst[i] += src[i]
	}
}
