package plasticity

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// The kernels the engine ships with, called as it calls them (vdot,
// vfusedAdd, vfusedMul, vaxpy for float32 and float64, add64 for the meta
// step), are checked against plain float64 loops for every length 0..80
// (the vector widths are 4, 8, 16 and 32, so every tail length occurs),
// at unaligned offsets, with a random 0/1 mask, on the assembly path
// (when the CPU has AVX2+FMA) and the portable one. Writes past the end of
// an output slice are caught by sentinels.

// kernelPaths are the code paths to test: the portable loops always, the
// assembly when this CPU runs it.
func kernelPaths() []bool {
	if haveAVX {
		return []bool{false, true}
	}
	return []bool{false}
}

// guarded returns a slice of n values at offset off of a buffer whose
// values after it are sentinels, and a check that they are untouched.
func guarded[F float32 | float64](vals []F, off int) ([]F, func() bool) {
	buf := make([]F, off+len(vals)+9)
	for i := range buf {
		buf[i] = F(-12345.5)
	}
	s := buf[off : off+len(vals) : off+len(vals)]
	copy(s, vals)
	return s, func() bool {
		for _, v := range buf[off+len(vals):] {
			if v != F(-12345.5) {
				return false
			}
		}
		return true
	}
}

func TestShippedKernelsMatchPlainGo(t *testing.T) {
	defer func(v bool) { haveAVX = v }(haveAVX)
	rng := rand.New(rand.NewSource(1))
	for _, avx := range kernelPaths() {
		haveAVX = avx
		for n := 0; n <= 80; n++ {
			off := n % 3
			w, d, x, y := randVec(rng, n), randVec(rng, n), randVec(rng, n), randVec(rng, n)
			mask := make([]float64, n)
			mask8 := make([]uint8, n)
			for i := range mask {
				if rng.Intn(2) == 1 {
					mask[i], mask8[i] = 1, 1
				}
			}
			alpha := rng.NormFloat64()

			// Plain float64 references.
			var dotWant, dotAbs float64
			for i := range w {
				dotWant += w[i] * x[i]
				dotAbs += math.Abs(w[i] * x[i])
			}
			addW, mulW, axpyW, add64W := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
			var addWant, addAbs, mulWant, mulAbs float64
			for i := range w {
				addW[i] = w[i] + mask[i]*d[i]
				addWant += addW[i] * x[i]
				addAbs += math.Abs(addW[i] * x[i])
				mulW[i] = w[i] * (1 + d[i])
				mulWant += mulW[i] * x[i]
				mulAbs += math.Abs(mulW[i] * x[i])
				axpyW[i] = y[i] + alpha*x[i]
				add64W[i] = y[i] + x[i]
			}

			where := func(kernel string) string {
				path := "portable"
				if avx {
					path = "avx2"
				}
				return fmt.Sprintf("%s (%s) n=%d", kernel, path, n)
			}
			closeTo := func(what string, got, want, scale, tol float64) {
				t.Helper()
				if math.Abs(got-want) > tol*(scale+1e-3) {
					t.Errorf("%s: %v, want %v", what, got, want)
				}
			}
			sameVec := func(what string, got any, want []float64, tol float64, intact func() bool) {
				t.Helper()
				for i, w := range want {
					var g float64
					switch s := got.(type) {
					case []float32:
						g = float64(s[i])
					case []float64:
						g = s[i]
					}
					if math.Abs(g-w) > tol*(1+math.Abs(w)) {
						t.Errorf("%s: entry %d = %v, want %v", what, i, g, w)
						return
					}
				}
				if !intact() {
					t.Errorf("%s: wrote past the end of the slice", what)
				}
			}

			// float32: dot32, fusedAdd8 (byte mask), fusedMul32, axpy32.
			{
				w32, d32, x32, y32, m32 := f32s(w), f32s(d), f32s(x), f32s(y), f32s(mask)
				// The references again, from the float32-rounded inputs.
				rw, rd, rx, ry := f64s(w32), f64s(d32), f64s(x32), f64s(y32)
				var dw, aw, mw float64
				for i := range rw {
					dw += rw[i] * rx[i]
					addW[i] = rw[i] + mask[i]*rd[i]
					aw += addW[i] * rx[i]
					mulW[i] = rw[i] * (1 + rd[i])
					mw += mulW[i] * rx[i]
					axpyW[i] = ry[i] + float64(float32(alpha))*rx[i]
				}
				a, _ := guarded(w32, off)
				closeTo(where("dot32"), float64(vdot(a, x32)), dw, dotAbs, 1e-5)

				ws, intact := guarded(w32, off)
				got := vfusedAdd(ws, m32, mask8, d32, x32)
				closeTo(where("fusedAdd8"), float64(got), aw, addAbs, 1e-5)
				sameVec(where("fusedAdd8 w"), ws, addW, 1e-6, intact)

				ws, intact = guarded(w32, off)
				got = vfusedMul(ws, d32, x32)
				closeTo(where("fusedMul32"), float64(got), mw, mulAbs, 1e-5)
				sameVec(where("fusedMul32 w"), ws, mulW, 1e-6, intact)

				ys, intact := guarded(y32, off)
				vaxpy(ys, x32, float32(alpha))
				sameVec(where("axpy32"), ys, axpyW, 1e-6, intact)
			}
			// float64: dot64, fusedAdd64 (float mask), fusedMul64, add64.
			{
				a, _ := guarded(w, off)
				closeTo(where("dot64"), vdot(a, x), dotWant, dotAbs, 1e-13)

				for i := range w {
					addW[i] = w[i] + mask[i]*d[i]
					mulW[i] = w[i] * (1 + d[i])
				}
				ws, intact := guarded(w, off)
				got := vfusedAdd(ws, mask, mask8, d, x)
				closeTo(where("fusedAdd64"), got, addWant, addAbs, 1e-13)
				sameVec(where("fusedAdd64 w"), ws, addW, 1e-15, intact)

				ws, intact = guarded(w, off)
				got = vfusedMul(ws, d, x)
				closeTo(where("fusedMul64"), got, mulWant, mulAbs, 1e-13)
				sameVec(where("fusedMul64 w"), ws, mulW, 1e-15, intact)

				ys, intact := guarded(y, off)
				add64(ys, x)
				sameVec(where("add64"), ys, add64W, 0, intact)
			}
		}
	}
}

func randVec(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

func f32s(x []float64) []float32 {
	o := make([]float32, len(x))
	for i, v := range x {
		o[i] = float32(v)
	}
	return o
}

func f64s(x []float32) []float64 {
	o := make([]float64, len(x))
	for i, v := range x {
		o[i] = float64(v)
	}
	return o
}
