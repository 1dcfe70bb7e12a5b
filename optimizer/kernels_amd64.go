//go:build amd64 && !noasm

package optimizer

import (
	"math"

	"golang.org/x/sys/cpu"
)

// haveAVX2 selects the AVX2 kernels of kernels_amd64.s for float32 tensors,
// haveAVX512 those of kernels512_amd64.s (preferred when both are set).
// Tests switch them to compare the paths.
var (
	haveAVX2   = cpu.X86.HasAVX2
	haveAVX512 = cpu.X86.HasAVX512F
)

//go:noescape
func avx512GradSums(grad *float32, n int, out *[16]float64)

//go:noescape
func avx512Pass1(grad, a, m, v, s *float32, n int, c *[8]float32, out *[16]float64, rule int)

//go:noescape
func avx512Coef(grad, a, s *float32, n int, c *[12]float32, out *[32]float64, mm *[2][16]float32, hist *[4][histBins]int32, near *[16]int32, rule int)

//go:noescape
func avx512Apply(p, u *float32, n int, c float32, out *[8]float64)

//go:noescape
func avx512Adam(p, grad, m, v *float32, n int, c *[8]float32, out *[16]float64, flags int)

//go:noescape
func avxGradSums(grad *float32, n int, c *[8][8]float32, out *[8]float64)

//go:noescape
func avxPass1(grad, a, m, v, s *float32, n int, c *[8][8]float32, out *[8]float64, rule int)

//go:noescape
func avxCoef(grad, a, s *float32, n int, c *[12][8]float32, out *[16]float64, mm *[2][8]float32, hist *[4][histBins]int32, near *int, rule int)

//go:noescape
func avxApply(p, u *float32, n int, c *[8]float32, out *[4]float64)

var absRows = func() (c [8][8]float32) {
	bcast(&c[0], math.Float32frombits(0x7fffffff))
	return
}()

func bcast(row *[8]float32, x float32) {
	for i := range row {
		row[i] = x
	}
}

func sum4(x []float64) float64 { return (x[0] + x[1]) + (x[2] + x[3]) }

func sum8(x []float64) float64 { return sum4(x[:4]) + sum4(x[4:8]) }

var absBits = math.Float32frombits(0x7fffffff)

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fastGradSums handles the first multiple of 16 (AVX-512) or 8 (AVX2)
// elements; it returns how many it did (0 without either). The other fast
// paths below split the work the same way.
func fastGradSums(g []float32) (sumAbs, sumSq float64, done int) {
	if n16 := len(g) &^ 15; haveAVX512 && n16 > 0 {
		var out [16]float64
		avx512GradSums(&g[0], n16, &out)
		return sum8(out[:8]), sum8(out[8:]), n16
	}
	n8 := len(g) &^ 7
	if !haveAVX2 || n8 == 0 {
		return 0, 0, 0
	}
	var out [8]float64
	avxGradSums(&g[0], n8, &absRows, &out)
	return sum4(out[:4]), sum4(out[4:]), n8
}

func (t *npTensor[T]) fastPass1(k *npK[T], w *npWork) int {
	f, ok := any(t).(*npTensor[float32])
	n8 := len(t.g) &^ 7
	if !ok || !haveAVX2 || n8 == 0 {
		return 0
	}
	kk := any(k).(*npK[float32])
	if n16 := len(t.g) &^ 15; haveAVX512 && n16 > 0 {
		c := [8]float32{absBits, kk.td, kk.otd, kk.md, kk.omd, kk.vd, kk.ovd, kk.eps}
		var out [16]float64
		avx512Pass1(&f.g[0], &f.a[0], &f.m[0], &f.v[0], &f.s1[0], n16, &c, &out, boolInt(kk.rule))
		w.sumA += sum8(out[:8])
		w.sumR += sum8(out[8:])
		return n16
	}
	var c [8][8]float32
	c[0] = absRows[0]
	for i, x := range []float32{kk.td, kk.otd, kk.md, kk.omd, kk.vd, kk.ovd, kk.eps} {
		bcast(&c[i+1], x)
	}
	var out [8]float64
	avxPass1(&f.g[0], &f.a[0], &f.m[0], &f.v[0], &f.s1[0], n8, &c, &out, boolInt(kk.rule))
	w.sumA += sum4(out[:4])
	w.sumR += sum4(out[4:])
	return n8
}

func (t *npTensor[T]) fastCoef(k *npK[T], w *npWork, al *alphaLocal[T]) int {
	f, ok := any(t).(*npTensor[float32])
	n8 := len(t.g) &^ 7
	if !ok || !haveAVX2 || n8 == 0 || k.coupled || !k.paramWise || k.ctrl {
		return 0
	}
	kk := any(k).(*npK[float32])
	l := any(al).(*alphaLocal[float32])
	if n16 := len(t.g) &^ 15; haveAVX512 && n16 > 0 {
		fastCoef512(f, kk, w, l, n16)
		return n16
	}
	var c [12][8]float32
	c[0] = absRows[0]
	for i, x := range []float32{kk.invG, kk.lo, kk.hi, kk.cA, kk.cG, kk.cR, kk.gs, kk.nearLo, kk.nearHi, kk.binScale} {
		bcast(&c[i+1], x)
	}
	c[11][0], c[11][1] = 0, histBins-1
	var mm [2][8]float32
	bcast(&mm[0], l.mn)
	bcast(&mm[1], l.mx)
	var out [16]float64
	near := 0
	var hist [4][histBins]int32
	avxCoef(&f.g[0], &f.a[0], &f.s1[0], n8, &c, &out, &mm, &hist, &near, boolInt(kk.rule))
	for _, h := range &hist {
		for i, x := range h {
			l.hist[i] += x
		}
	}
	for i := 0; i < 8; i++ {
		l.mn = min(l.mn, mm[0][i])
		l.mx = max(l.mx, mm[1][i])
	}
	l.near += near
	l.sum += sum4(out[8:12])
	l.sum2 += sum4(out[12:16])
	w.sumU2 += sum4(out[0:4])
	w.sumRaw2 += sum4(out[0:4])
	w.sumDelta2 += sum4(out[4:8])
	return n8
}

func (t *npTensor[T]) fastApply(c T) (float64, int) {
	f, ok := any(t).(*npTensor[float32])
	if n16 := len(t.p) &^ 15; ok && haveAVX512 && n16 > 0 {
		var out [8]float64
		avx512Apply(&f.p[0], &f.s1[0], n16, float32(c), &out)
		return sum8(out[:]), n16
	}
	n8 := len(t.p) &^ 7
	if !ok || !haveAVX2 || n8 == 0 {
		return 0, 0
	}
	var cc [8]float32
	bcast(&cc, float32(c))
	var out [4]float64
	avxApply(&f.p[0], &f.s1[0], n8, &cc, &out)
	return sum4(out[:]), n8
}

//go:noescape
func avxAdam(p, grad, m, v *float32, n int, c *[8][8]float32, out *[8]float64, flags int)

// fastAdam does the first multiple of 8 elements of adamStep with AVX2.
func fastAdam(p, g, m, v []float32, k *adamK[float32]) (sp, su float64, done int) {
	flags := 0
	if k.l2 != 0 {
		flags |= 1
	}
	if k.decay != 0 {
		flags |= 2
	}
	if n16 := len(p) &^ 15; haveAVX512 && n16 > 0 {
		c := [8]float32{k.l2, k.keep, k.ob1, k.b2, k.ob2, k.invBc2s, k.eps, k.stepSize}
		var out [16]float64
		avx512Adam(&p[0], &g[:n16][0], &m[:n16][0], &v[:n16][0], n16, &c, &out, flags)
		return sum8(out[:8]), sum8(out[8:]), n16
	}
	n8 := len(p) &^ 7
	if !haveAVX2 || n8 == 0 {
		return 0, 0, 0
	}
	var c [8][8]float32
	for i, x := range []float32{k.l2, k.keep, k.ob1, k.b2, k.ob2, k.invBc2s, k.eps, k.stepSize} {
		bcast(&c[i], x)
	}
	var out [8]float64
	avxAdam(&p[0], &g[:n8][0], &m[:n8][0], &v[:n8][0], n8, &c, &out, flags)
	return sum4(out[:4]), sum4(out[4:]), n8
}

// coefChunk: the coefficient pass runs over the tensor in chunks of this
// many elements from the last chunk to the first, so that it starts on the
// data that pass 1 (first to last) touched most recently and still finds in
// the L2 cache; the apply pass then starts where the coefficient pass ended.
// A multiple of 512 (the kernel's flush block) and of histStride.
const coefChunk = 4096

// fastCoef512 is fastCoef with the AVX-512 kernel on the first n16 elements.
func fastCoef512(f *npTensor[float32], kk *npK[float32], w *npWork, l *alphaLocal[float32], n16 int) {
	c := [12]float32{absBits, kk.invG, kk.lo, kk.hi, kk.cA, kk.cG, kk.cR, kk.gs, kk.nearLo, kk.nearHi, kk.binScale, histBins - 1}
	var mm [2][16]float32
	for i := range mm[0] {
		mm[0][i], mm[1][i] = l.mn, l.mx
	}
	var out [32]float64
	var near [16]int32
	var hist [4][histBins]int32
	rule := boolInt(kk.rule)
	for hi := n16; hi > 0; {
		lo := max(hi-coefChunk, 0)
		avx512Coef(&f.g[lo], &f.a[lo], &f.s1[lo], hi-lo, &c, &out, &mm, &hist, &near, rule)
		hi = lo
	}
	for _, h := range &hist {
		for i, x := range h {
			l.hist[i] += x
		}
	}
	for i := range mm[0] {
		l.mn = min(l.mn, mm[0][i])
		l.mx = max(l.mx, mm[1][i])
		l.near += int(near[i])
	}
	l.sum += sum8(out[16:24])
	l.sum2 += sum8(out[24:32])
	w.sumU2 += sum8(out[0:8])
	w.sumRaw2 += sum8(out[0:8])
	w.sumDelta2 += sum8(out[8:16])
}
