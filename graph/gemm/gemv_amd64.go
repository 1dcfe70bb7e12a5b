//go:build amd64 && !purego

package gemm

//go:noescape
func sdot4(n int, a *float32, lda int, x *float32, out *[4]float32)

//go:noescape
func saxpy4(n int, a *float32, lda int, s *[4]float32, y *float32)

// gemvAVX2 says whether sdot4 and saxpy4 (AVX2+FMA) are used.
var gemvAVX2 = hasAVX2

// dot4 sets out[r] = Σ_j a[r*lda+j]*x[j] for r < 4, j < len(x).
func dot4(a []float32, lda int, x []float32, out *[4]float32) {
	n := len(x)
	n8 := n &^ 7
	if !gemvAVX2 || n8 == 0 {
		dot4Go(a, lda, x, out)
		return
	}
	_ = a[3*lda+n-1]
	sdot4(n8, &a[0], lda, &x[0], out)
	for r := 0; r < 4; r++ {
		row := a[r*lda+n8 : r*lda+n]
		s := out[r]
		for j, v := range row {
			s += v * x[n8+j]
		}
		out[r] = s
	}
}

// axpy4 sets y[j] += Σ_r s[r]*a[r*lda+j] for r < 4, j < len(y).
func axpy4(a []float32, lda int, s *[4]float32, y []float32) {
	n := len(y)
	n8 := n &^ 7
	if !gemvAVX2 || n8 == 0 {
		axpy4Go(a, lda, s, y)
		return
	}
	_ = a[3*lda+n-1]
	saxpy4(n8, &a[0], lda, s, &y[0])
	for j := n8; j < n; j++ {
		y[j] += s[0]*a[j] + s[1]*a[lda+j] + s[2]*a[2*lda+j] + s[3]*a[3*lda+j]
	}
}
