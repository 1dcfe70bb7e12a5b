package plasticity

import (
	"math"
	"math/rand"
	"testing"
)

// TestKernelsMatchLoops checks the float32 kernels (AVX2 on amd64) against
// float64 loops for lengths around the vector widths.
func TestKernelsMatchLoops(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 80; n++ {
		mk := func() []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
			return s
		}
		a, b, m, d := mk(), mk(), mk(), mk()
		want := 0.0
		for i := range a {
			want += float64(a[i]) * float64(b[i])
		}
		if got := dot32(a, b); math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
			t.Fatalf("n=%d dot %v, want %v", n, got, want)
		}
		a64, b64, m64, d64 := f64s(a), f64s(b), f64s(m), f64s(d)
		if got := dot64(a64, b64); math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
			t.Fatalf("n=%d dot64 %v, want %v", n, got, want)
		}
		w64 := append([]float64(nil), a64...)
		want64 := 0.0
		for i := range a64 {
			want64 += (a64[i] + m64[i]*d64[i]) * b64[i]
		}
		if got := fusedAdd64(w64, m64, d64, b64); math.Abs(got-want64) > 1e-12*(1+math.Abs(want64)) {
			t.Fatalf("n=%d fusedAdd64 %v, want %v", n, got, want64)
		}
		w64 = append([]float64(nil), a64...)
		want64 = 0
		for i := range a64 {
			want64 += a64[i] * (1 + d64[i]) * b64[i]
		}
		if got := fusedMul64(w64, d64, b64); math.Abs(got-want64) > 1e-12*(1+math.Abs(want64)) || (n > 0 && math.Abs(w64[n-1]-a64[n-1]*(1+d64[n-1])) > 1e-12) {
			t.Fatalf("n=%d fusedMul64 %v, want %v", n, got, want64)
		}
		w := append([]float32(nil), a...)
		want = 0
		wantW := make([]float64, n)
		for i := range a {
			wantW[i] = float64(a[i]) + float64(m[i])*float64(d[i])
			want += wantW[i] * float64(b[i])
		}
		got := fusedAdd32(w, m, d, b)
		if math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
			t.Fatalf("n=%d fusedAdd %v, want %v", n, got, want)
		}
		for i := range w {
			if math.Abs(float64(w[i])-wantW[i]) > 1e-5*(1+math.Abs(wantW[i])) {
				t.Fatalf("n=%d fusedAdd w[%d] = %v, want %v", n, i, w[i], wantW[i])
			}
		}
		w = append([]float32(nil), a...)
		want = 0
		for i := range a {
			wantW[i] = float64(a[i]) * (1 + float64(d[i]))
			want += wantW[i] * float64(b[i])
		}
		got = fusedMul32(w, d, b)
		if math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
			t.Fatalf("n=%d fusedMul %v, want %v", n, got, want)
		}
		for i := range w {
			if math.Abs(float64(w[i])-wantW[i]) > 1e-5*(1+math.Abs(wantW[i])) {
				t.Fatalf("n=%d fusedMul w[%d] = %v, want %v", n, i, w[i], wantW[i])
			}
		}
	}
}

func f64s(x []float32) []float64 {
	o := make([]float64, len(x))
	for i, v := range x {
		o[i] = float64(v)
	}
	return o
}
