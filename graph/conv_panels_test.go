package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// im2col writes the [C*K*K, Ho*Wo] patch matrix of one example into col,
// whose rows are ld apart.
func im2col[T Float](g *convGeom, x, col []T, ld int) {
	r := 0
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ki := 0; ki < g.K; ki++ {
			for kj := 0; kj < g.K; kj++ {
				dst := col[r*ld : r*ld+g.colCols]
				r++
				d := 0
				for oh := 0; oh < g.Ho; oh++ {
					ih := oh*g.S - g.P + ki
					if ih < 0 || ih >= g.H {
						clear(dst[d : d+g.Wo])
						d += g.Wo
						continue
					}
					row := xc[ih*g.W : (ih+1)*g.W]
					if g.S == 1 {
						// ow in [lo,hi) reads row[ow-P+kj]: one copy, zero borders.
						off := kj - g.P
						lo, hi := max(0, -off), min(g.Wo, g.W-off)
						seg := dst[d : d+g.Wo]
						if lo >= hi {
							clear(seg)
						} else {
							clear(seg[:lo])
							copy(seg[lo:hi], row[lo+off:hi+off])
							clear(seg[hi:])
						}
						d += g.Wo
						continue
					}
					for ow := 0; ow < g.Wo; ow++ {
						iw := ow*g.S - g.P + kj
						if iw >= 0 && iw < g.W {
							dst[d] = row[iw]
						} else {
							dst[d] = 0
						}
						d++
					}
				}
			}
		}
	}
}

// packRef packs the kc×nc block at (pc, jc) of the stored matrix m (rows ld
// apart, transposed when tr) as the PanelB contract says.
func packRef(m []float64, ld int, tr bool, pc, jc, kc, nc, nr int) []float64 {
	strips := (nc + nr - 1) / nr
	out := make([]float64, strips*nr*kc)
	for s := 0; s < strips; s++ {
		for p := 0; p < kc; p++ {
			for j := 0; j < nr; j++ {
				if col := s*nr + j; col < nc {
					r, c := pc+p, jc+col
					if tr {
						r, c = c, r
					}
					out[s*nr*kc+p*nr+j] = m[r*ld+c]
				}
			}
		}
	}
	return out
}

// convGeoms are geometries with odd and even sizes, strides 1-3, paddings
// 0-2, kernels 1-5, and outputs of one pixel.
func convGeoms(t *testing.T) []convGeom {
	var gs []convGeom
	for _, c := range [][7]int{ // C, H, W, Co, K, S, P
		{1, 1, 1, 1, 1, 1, 0}, {3, 5, 7, 4, 3, 1, 1}, {2, 6, 6, 3, 3, 2, 1}, {5, 9, 4, 2, 1, 2, 0},
		{4, 7, 7, 5, 5, 1, 2}, {3, 8, 5, 6, 2, 1, 0}, {2, 11, 9, 3, 3, 3, 2}, {6, 4, 4, 7, 3, 1, 0},
		{1, 3, 3, 2, 3, 1, 2}, {7, 5, 5, 3, 1, 1, 0}, {2, 2, 3, 4, 3, 2, 1}, {3, 17, 13, 2, 3, 1, 1},
		// Output rows of whole strips (8: float64 AVX2, 16: float32 AVX2),
		// which the GEMM reads in place, padded or not.
		{3, 8, 8, 5, 3, 1, 1}, {2, 16, 16, 3, 3, 1, 1}, {5, 10, 18, 4, 3, 1, 0}, {4, 16, 8, 3, 1, 1, 0},
	} {
		g, err := newConvGeom(c[0], c[1], c[2], c[3], c[4], c[5], c[6])
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	return gs
}

func randVec(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*r.Float64() - 1
	}
	return v
}

// TestPatchPanelsMatchIm2col: every block the GEMM may ask of patches and
// patchesT (any offset, depth, width, strip width) equals the same block of
// the stored im2col matrix of a batch.
func TestPatchPanelsMatchIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range convGeoms(t) {
		const B = 3
		x := randVec(r, B*g.inSize)
		ld := B * g.colCols
		col := make([]float64, g.colRows*ld)
		for n := 0; n < B; n++ {
			im2col(&g, x[n*g.inSize:(n+1)*g.inSize], col[n*g.colCols:], ld)
		}
		fwd := &patches[float64]{g: &g, x: x}
		tr := &patchesT[float64]{g: &g, x: x}
		for trial := 0; trial < 40; trial++ {
			nr := []int{1, 4, 8, 16}[trial%4]
			// patches: rows are taps, columns pixels.
			pc, jc := r.IntN(g.colRows), r.IntN(ld)
			kc, nc := 1+r.IntN(g.colRows-pc), 1+r.IntN(ld-jc)
			want := packRef(col, ld, false, pc, jc, kc, nc, nr)
			got := make([]float64, len(want))
			for i := range got {
				got[i] = math.NaN()
			}
			fwd.PackB(pc, jc, kc, nc, nr, got)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%+v patches block (%d,%d) %dx%d nr %d: element %d = %v, want %v", g, pc, jc, kc, nc, nr, i, got[i], want[i])
			}
			// patchesT: rows are pixels, columns taps.
			pc, jc = r.IntN(ld), r.IntN(g.colRows)
			kc, nc = 1+r.IntN(ld-pc), 1+r.IntN(g.colRows-jc)
			want = packRef(col, ld, true, pc, jc, kc, nc, nr)
			got = make([]float64, len(want))
			for i := range got {
				got[i] = math.NaN()
			}
			tr.PackB(pc, jc, kc, nc, nr, got)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%+v patchesT block (%d,%d) %dx%d nr %d: element %d = %v, want %v", g, pc, jc, kc, nc, nr, i, got[i], want[i])
			}
		}
	}
}

// TestRowPatchesAddresses: the addresses rowPatches gives for a strip hold
// the strip's rows of the im2col matrix, for every strip inside an output
// row, and it declines strips that cross one.
func TestRowPatchesAddresses(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, g := range convGeoms(t) {
		if g.S != 1 || g.P != 0 {
			continue
		}
		const B = 2
		x := randVec(r, B*g.inSize)
		ld := B * g.colCols
		col := make([]float64, g.colRows*ld)
		for n := 0; n < B; n++ {
			im2col(&g, x[n*g.inSize:(n+1)*g.inSize], col[n*g.colCols:], ld)
		}
		pt := &rowPatches[float64]{patches[float64]{g: &g, x: x}}
		for _, nr := range []int{1, 2, 4, 8} {
			ptrs := make([]*float64, g.colRows)
			for jc := 0; jc+nr <= ld; jc += nr {
				pc := r.IntN(g.colRows)
				kc := 1 + r.IntN(g.colRows-pc)
				ok := pt.Rows(pc, jc, kc, nr, ptrs)
				if want := jc%g.colCols%g.Wo+nr <= g.Wo; ok != want {
					t.Fatalf("%+v strip at %d width %d: Rows says %v, want %v", g, jc, nr, ok, want)
				}
				if !ok {
					continue
				}
				for p := 0; p < kc; p++ {
					got := unsafe.Slice(ptrs[p], nr)
					for j := 0; j < nr; j++ {
						if w := col[(pc+p)*ld+jc+j]; got[j] != w {
							t.Fatalf("%+v strip (%d,%d) nr %d: row %d value %d = %v, want %v", g, pc, jc, nr, p, j, got[j], w)
						}
					}
				}
			}
		}
	}
}

func firstDiff(a, b []float64) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// Plain direct convolutions: the reference of the implicit kernels.
func convRef(g *convGeom, x, w []float64, B int) []float64 {
	y := make([]float64, B*g.outSize)
	for n := 0; n < B; n++ {
		for co := 0; co < g.Co; co++ {
			for oh := 0; oh < g.Ho; oh++ {
				for ow := 0; ow < g.Wo; ow++ {
					var s float64
					for c := 0; c < g.C; c++ {
						for ki := 0; ki < g.K; ki++ {
							for kj := 0; kj < g.K; kj++ {
								ih, iw := oh*g.S-g.P+ki, ow*g.S-g.P+kj
								if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
									s += w[((co*g.C+c)*g.K+ki)*g.K+kj] * x[((n*g.C+c)*g.H+ih)*g.W+iw]
								}
							}
						}
					}
					y[((n*g.Co+co)*g.Ho+oh)*g.Wo+ow] = s
				}
			}
		}
	}
	return y
}

// convBackRef returns dW and dX of sum(y*dy) by the chain rule on the
// direct convolution.
func convBackRef(g *convGeom, x, w, dy []float64, B int) (dw, dx []float64) {
	dw, dx = make([]float64, g.weightSize), make([]float64, B*g.inSize)
	for n := 0; n < B; n++ {
		for co := 0; co < g.Co; co++ {
			for oh := 0; oh < g.Ho; oh++ {
				for ow := 0; ow < g.Wo; ow++ {
					d := dy[((n*g.Co+co)*g.Ho+oh)*g.Wo+ow]
					for c := 0; c < g.C; c++ {
						for ki := 0; ki < g.K; ki++ {
							for kj := 0; kj < g.K; kj++ {
								ih, iw := oh*g.S-g.P+ki, ow*g.S-g.P+kj
								if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
									wi, xi := ((co*g.C+c)*g.K+ki)*g.K+kj, ((n*g.C+c)*g.H+ih)*g.W+iw
									dw[wi] += d * x[xi]
									dx[xi] += d * w[wi]
								}
							}
						}
					}
				}
			}
		}
	}
	return dw, dx
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %.12g, want %.12g", what, i, got[i], want[i])
		}
	}
}

// TestConvKernelsMatchDirect: forward, weight gradient and input gradient
// of the implicit-GEMM convolution (float64 and float32) equal the direct
// loops, for odd sizes, strides, paddings, batch sizes 1 and 5, and with
// chunks of one example (several products per call).
func TestConvKernelsMatchDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	defaultMat := maxMatElems
	defer func() { maxMatElems = defaultMat }()
	big, err := newConvGeom(40, 12, 11, 9, 3, 1, 1) // 360 taps: two kc blocks
	if err != nil {
		t.Fatal(err)
	}
	bigRows, err := newConvGeom(32, 16, 16, 8, 3, 1, 1) // 288 taps, rows read in place
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range append(convGeoms(t), big, bigRows) {
		for _, B := range []int{1, 5} {
			for _, small := range []bool{false, true} {
				name := fmt.Sprintf("%+v B=%d small-chunks=%v", g, B, small)
				maxMatElems = defaultMat
				if small {
					maxMatElems = 1
				}
				x, w := randVec(r, B*g.inSize), randVec(r, g.weightSize)
				dy := randVec(r, B*g.outSize)
				wantY := convRef(&g, x, w, B)
				wantDW, wantDX := convBackRef(&g, x, w, dy, B)
				var s convScratch[float64]
				y := make([]float64, len(wantY))
				convFwd(&g, &s, x, w, nil, y, B, false)
				closeTo(t, name+" y", y, wantY, 1e-12)
				dw := randVec(r, g.weightSize) // overwritten
				convDW(&g, &s, x, dy, dw, B)
				closeTo(t, name+" dW", dw, wantDW, 1e-12)
				dx := randVec(r, B*g.inSize) // overwritten
				convDX(&g, &s, w, dy, dx, B)
				closeTo(t, name+" dX", dx, wantDX, 1e-12)

				var s32 convScratch[float32]
				f32 := func(v []float64) []float32 {
					o := make([]float32, len(v))
					for i, e := range v {
						o[i] = float32(e)
					}
					return o
				}
				f64 := func(v []float32) []float64 {
					o := make([]float64, len(v))
					for i, e := range v {
						o[i] = float64(e)
					}
					return o
				}
				y32, dw32, dx32 := make([]float32, len(y)), make([]float32, len(dw)), make([]float32, len(dx))
				convFwd(&g, &s32, f32(x), f32(w), nil, y32, B, false)
				convDW(&g, &s32, f32(x), f32(dy), dw32, B)
				convDX(&g, &s32, f32(w), f32(dy), dx32, B)
				closeTo(t, name+" float32 y", f64(y32), wantY, 1e-4)
				closeTo(t, name+" float32 dW", f64(dw32), wantDW, 1e-4)
				closeTo(t, name+" float32 dX", f64(dx32), wantDX, 1e-4)
			}
		}
	}
}
