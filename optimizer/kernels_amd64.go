//go:build amd64 && !noasm

package optimizer

import (
	"math"

	"golang.org/x/sys/cpu"
)

// haveAVX2 selects the AVX2 kernels of kernels_amd64.s for float32 tensors.
var haveAVX2 = cpu.X86.HasAVX2

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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fastGradSums handles the first multiple of 8 elements; it returns how
// many it did (0 without AVX2).
func fastGradSums(g []float32) (sumAbs, sumSq float64, done int) {
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
	n8 := len(p) &^ 7
	if !haveAVX2 || n8 == 0 {
		return 0, 0, 0
	}
	var c [8][8]float32
	for i, x := range []float32{k.l2, k.keep, k.ob1, k.b2, k.ob2, k.invBc2s, k.eps, k.stepSize} {
		bcast(&c[i], x)
	}
	flags := 0
	if k.l2 != 0 {
		flags |= 1
	}
	if k.decay != 0 {
		flags |= 2
	}
	var out [8]float64
	avxAdam(&p[0], &g[:n8][0], &m[:n8][0], &v[:n8][0], n8, &c, &out, flags)
	return sum4(out[:4]), sum4(out[4:]), n8
}
