package graph

import fastgemm "github.com/plasticity-lab/plastic/graph/gemm"

// Implicit GEMM for the convolutions: the patch matrix of im2col is never
// stored. graph/gemm.GemmB asks a panel for each cache-sized block of it and
// the panel writes the block straight from the images into the packed layout
// the micro-kernel reads (graph/gemm.PanelB). The forward pass, the input
// gradient of stride-1 convolutions (a stride-1 convolution of the output
// gradient with the flipped, transposed kernel) and the weight gradient all
// run this way.

// stripWidth is the strip width of the GEMM kernel for T.
func stripWidth[T Float]() int {
	var z T
	if _, ok := any(z).(float32); ok {
		return fastgemm.StripWidth[float32]()
	}
	return fastgemm.StripWidth[float64]()
}

// gemmB computes c = a·B + beta*c with B (k×n) packed by pb (a patches,
// rowPatches or patchesT of the same element type), split over the cores.
func gemmB[T Float](m, n, k int, a []T, lda int, pb any, beta T, c []T, ldc int) {
	switch aa := any(a).(type) {
	case []float32:
		fastgemm.GemmB(false, false, m, n, k, 1, aa, lda, pb.(fastgemm.PanelB[float32]), float32(beta), any(c).([]float32), ldc)
	case []float64:
		fastgemm.GemmB(false, false, m, n, k, 1, aa, lda, pb.(fastgemm.PanelB[float64]), float64(beta), any(c).([]float64), ldc)
	}
}

// patches is the patch matrix of the images x (a chunk of the batch, NCHW):
// row r = (c, ki, kj) of the C*K*K taps, column j = (n, oh, ow) of the
// n*Ho*Wo output pixels; entry x[n, c, oh*S-P+ki, ow*S-P+kj], zero outside
// the image. It is the B operand of the forward product W·patches.
type patches[T Float] struct {
	g *convGeom
	x []T
}

// rowPatches is the patch matrix of a stride-1 convolution without padding
// (the caller pads the images) whose output rows are a whole number of the
// kernel's strips: every strip is nr consecutive values of an input row for
// each tap, which the GEMM reads in place (graph/gemm.PanelBRows).
type rowPatches[T Float] struct{ patches[T] }

func (pt *rowPatches[T]) Rows(pc, jc, kc, nr int, ptrs []*T) bool {
	g := pt.g
	n, q := jc/g.colCols, jc%g.colCols
	oh, ow := q/g.Wo, q%g.Wo
	if ow+nr > g.Wo {
		return false
	}
	KK := g.K * g.K
	c, ki, kj := pc/KK, pc%KK/g.K, pc%g.K
	base := n*g.inSize + oh*g.W + ow
	for p := range ptrs[:kc] {
		ptrs[p] = &pt.x[base+(c*g.H+ki)*g.W+kj]
		if kj++; kj == g.K {
			kj = 0
			if ki++; ki == g.K {
				ki = 0
				c++
			}
		}
	}
	return true
}

// forwardPanel returns the patch matrix of the k images x for a product:
// a rowPatches when the geometry allows (stride 1, no padding, output rows
// a multiple of the kernel's strip width), else a packing patches.
func forwardPanel[T Float](g *convGeom, x []T) any {
	if g.S == 1 && g.P == 0 && g.Wo%stripWidth[T]() == 0 {
		return &rowPatches[T]{patches[T]{g: g, x: x}}
	}
	return &patches[T]{g: g, x: x}
}

// segment is a run of consecutive columns of a strip in one output row of
// one image: strip columns [off, off+len) are pixels (n, oh, ow0..).
type segment struct{ off, len, n, oh, ow0 int }

// segments splits columns [j0, j0+w) into runs within output rows.
func (g *convGeom) segments(j0, w int, segs []segment) []segment {
	segs = segs[:0]
	for off := 0; off < w; {
		j := j0 + off
		n, q := j/g.colCols, j%g.colCols
		oh, ow := q/g.Wo, q%g.Wo
		l := min(g.Wo-ow, w-off)
		segs = append(segs, segment{off, l, n, oh, ow})
		off += l
	}
	return segs
}

func (pt *patches[T]) PackB(pc, jc, kc, nc, nr int, dst []T) {
	g := pt.g
	if g.P == 0 {
		pt.packUnpadded(pc, jc, kc, nc, nr, dst)
		return
	}
	var buf [64]segment
	KK := g.K * g.K
	c0, ki0, kj0 := pc/KK, pc%KK/g.K, pc%g.K
	for s0 := 0; s0 < nc; s0 += nr {
		w := min(nr, nc-s0)
		strip := dst[s0*kc : s0*kc+nr*kc]
		segs := g.segments(jc+s0, w, buf[:0])
		c, ki, kj := c0, ki0, kj0
		if len(segs) == 1 && w == nr && g.S == 1 {
			// The common case: the strip is part of one output row.
			sg := segs[0]
			img := pt.x[sg.n*g.inSize : (sg.n+1)*g.inSize]
			for p := 0; p < kc; p++ {
				d := strip[p*nr : p*nr+nr]
				ih, iw0 := sg.oh-g.P+ki, sg.ow0-g.P+kj
				if ih >= 0 && ih < g.H && iw0 >= 0 && iw0+nr <= g.W {
					copyStrip(d, img[(c*g.H+ih)*g.W+iw0:])
				} else {
					pt.segment(d, img, c, ki, kj, sg)
				}
				if kj++; kj == g.K {
					kj = 0
					if ki++; ki == g.K {
						ki = 0
						c++
					}
				}
			}
			continue
		}
		for p := 0; p < kc; p++ {
			d := strip[p*nr : p*nr+nr]
			for _, sg := range segs {
				pt.segment(d[sg.off:sg.off+sg.len], pt.x[sg.n*g.inSize:(sg.n+1)*g.inSize], c, ki, kj, sg)
			}
			clear(d[w:])
			if kj++; kj == g.K {
				kj = 0
				if ki++; ki == g.K {
					ki = 0
					c++
				}
			}
		}
	}
}

// packUnpadded is PackB without padding (the caller padded the images):
// every tap of every pixel lies in its image, so each run of a strip is a
// plain copy (stride 1) or gather (stride S) from one input row.
func (pt *patches[T]) packUnpadded(pc, jc, kc, nc, nr int, dst []T) {
	g := pt.g
	var buf [64]segment
	var base [64]int
	KK := g.K * g.K
	c0, ki0, kj0 := pc/KK, pc%KK/g.K, pc%g.K
	for s0 := 0; s0 < nc; s0 += nr {
		w := min(nr, nc-s0)
		strip := dst[s0*kc : s0*kc+nr*kc]
		segs := g.segments(jc+s0, w, buf[:0])
		bs := base[:0]
		for _, sg := range segs {
			bs = append(bs, sg.n*g.inSize+sg.oh*g.S*g.W+sg.ow0*g.S)
		}
		c, ki, kj := c0, ki0, kj0
		for p := 0; p < kc; p++ {
			d := strip[p*nr : p*nr+nr]
			toff := (c*g.H+ki)*g.W + kj
			for i, sg := range segs {
				src := pt.x[bs[i]+toff:]
				ds := d[sg.off : sg.off+sg.len]
				if g.S == 1 {
					copyStrip(ds, src)
					continue
				}
				for t := range ds {
					ds[t] = src[t*g.S]
				}
			}
			clear(d[w:])
			if kj++; kj == g.K {
				kj = 0
				if ki++; ki == g.K {
					ki = 0
					c++
				}
			}
		}
	}
}

// segment writes tap (c, ki, kj) of the pixels of sg (of image img) to ds.
func (pt *patches[T]) segment(ds, img []T, c, ki, kj int, sg segment) {
	g := pt.g
	ds = ds[:sg.len]
	ih := sg.oh*g.S - g.P + ki
	if ih < 0 || ih >= g.H {
		clear(ds)
		return
	}
	row := img[(c*g.H+ih)*g.W : (c*g.H+ih+1)*g.W]
	iw0 := sg.ow0*g.S - g.P + kj
	if g.S == 1 {
		lo, hi := max(0, -iw0), min(sg.len, g.W-iw0)
		if lo >= hi {
			clear(ds)
			return
		}
		clear(ds[:lo])
		copy(ds[lo:hi], row[iw0+lo:iw0+hi])
		clear(ds[hi:])
		return
	}
	for t := range ds {
		iw := iw0 + t*g.S
		if iw >= 0 && iw < g.W {
			ds[t] = row[iw]
		} else {
			ds[t] = 0
		}
	}
}

// copyStrip copies len(d) values of s to d, with one fixed-size block move
// for the strip widths of the kernels (8, 16, 32).
func copyStrip[T Float](d, s []T) {
	switch len(d) {
	case 16:
		*(*[16]T)(d) = *(*[16]T)(s)
	case 8:
		*(*[8]T)(d) = *(*[8]T)(s)
	case 32:
		*(*[32]T)(d) = *(*[32]T)(s)
	case 4:
		*(*[4]T)(d) = *(*[4]T)(s)
	default:
		copy(d, s)
	}
}

// patchesT is the transpose of patches: row p = (n, oh, ow) of the output
// pixels, column t = (c, ki, kj) of the taps. It is the B operand of the
// weight gradient dY·patchesᵀ.
type patchesT[T Float] struct {
	g *convGeom
	x []T
}

// BlockT writes rows jc..jc+nc-1 of the patch matrix (taps), pixels pc..
// pc+kc-1 of each: dst[j*kc+p] (graph/gemm.PanelBT); the product transposes
// them into its packed layout.
func (pt *patchesT[T]) BlockT(pc, jc, kc, nc int, dst []T) {
	g := pt.g
	var buf [256]segment
	segs := g.segments(pc, kc, buf[:0])
	fwd := patches[T]{g: g, x: pt.x}
	KK := g.K * g.K
	c, ki, kj := jc/KK, jc%KK/g.K, jc%g.K
	for j := 0; j < nc; j++ {
		row := dst[j*kc : (j+1)*kc]
		if g.P == 0 {
			// Unpadded (the caller padded): plain copies or gathers.
			toff := (c*g.H+ki)*g.W + kj
			for _, sg := range segs {
				src := pt.x[sg.n*g.inSize+sg.oh*g.S*g.W+sg.ow0*g.S+toff:]
				ds := row[sg.off : sg.off+sg.len]
				if g.S == 1 {
					copy(ds, src)
					continue
				}
				for t := range ds {
					ds[t] = src[t*g.S]
				}
			}
		} else {
			for _, sg := range segs {
				fwd.segment(row[sg.off:sg.off+sg.len], pt.x[sg.n*g.inSize:(sg.n+1)*g.inSize], c, ki, kj, sg)
			}
		}
		if kj++; kj == g.K {
			kj = 0
			if ki++; ki == g.K {
				ki = 0
				c++
			}
		}
	}
}

// PackB packs through BlockT (the product itself calls BlockT).
func (pt *patchesT[T]) PackB(pc, jc, kc, nc, nr int, dst []T) {
	tmp := make([]T, nr*kc)
	for s0 := 0; s0 < nc; s0 += nr {
		w := min(nr, nc-s0)
		pt.BlockT(pc, jc+s0, kc, w, tmp)
		strip := dst[s0*kc : s0*kc+nr*kc]
		for p := 0; p < kc; p++ {
			for j := 0; j < nr; j++ {
				var v T
				if j < w {
					v = tmp[j*kc+p]
				}
				strip[p*nr+j] = v
			}
		}
	}
}

// flipKernel writes the kernel of the input gradient of a stride-1
// convolution: wt[c][co][a][b] = w[co][c][K-1-a][K-1-b].
func flipKernel[T Float](g *convGeom, w, wt []T) {
	KK := g.K * g.K
	for co := 0; co < g.Co; co++ {
		for c := 0; c < g.C; c++ {
			src := w[(co*g.C+c)*KK : (co*g.C+c+1)*KK]
			d := wt[(c*g.Co+co)*KK : (c*g.Co+co+1)*KK]
			for i, v := range src {
				d[KK-1-i] = v
			}
		}
	}
}
