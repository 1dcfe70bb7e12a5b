package cuda

import (
	"strconv"
	"strings"
)

// need is one length requirement of an op's operand.
type need struct {
	name      string
	got, want int
}

// checkLens reports every operand of op whose length is wrong.
func checkLens(op string, needs ...need) error {
	var bad []string
	for _, n := range needs {
		if n.got != n.want {
			bad = append(bad, n.name+" has "+strconv.Itoa(n.got)+" elements, want "+strconv.Itoa(n.want))
		}
	}
	if len(bad) > 0 {
		return errorf("%s: %s", op, strings.Join(bad, "; "))
	}
	return nil
}

// Sizes returns the element counts of the input, the im2col buffer and the
// pooled output of a geometry.
func (g ConvGeom) Sizes() (in, col, out int) {
	oh, ow := g.Out()
	return g.N * g.C * g.H * g.W, g.N * g.C * g.KH * g.KW * oh * ow, g.N * g.C * oh * ow
}

// convArgs converts a geometry to the kernels' int parameters, in the order
// of pl_im2col_t/pl_col2im_t (N C H W kh kw ph pw sh sw OH OW).
func (g ConvGeom) convArgs() []any {
	oh, ow := g.Out()
	return []any{int32(g.N), int32(g.C), int32(g.H), int32(g.W), int32(g.KH), int32(g.KW),
		int32(g.PH), int32(g.PW), int32(g.SH), int32(g.SW), int32(oh), int32(ow)}
}

// poolArgs is the same in the pooling kernels' order (N C H W kh kw sh sw
// ph pw OH OW).
func (g ConvGeom) poolArgs() []any {
	oh, ow := g.Out()
	return []any{int32(g.N), int32(g.C), int32(g.H), int32(g.W), int32(g.KH), int32(g.KW),
		int32(g.SH), int32(g.SW), int32(g.PH), int32(g.PW), int32(oh), int32(ow)}
}

// ConvGeom is the geometry of a convolution or pooling window over
// N x C x H x W inputs.
type ConvGeom struct {
	N, C, H, W     int
	KH, KW         int
	SH, SW, PH, PW int // strides and paddings
}

// Out returns the output height and width (floor mode).
func (g ConvGeom) Out() (oh, ow int) {
	return (g.H+2*g.PH-g.KH)/g.SH + 1, (g.W+2*g.PW-g.KW)/g.SW + 1
}

// Check rejects geometries the kernels cannot run.
func (g ConvGeom) Check() error {
	switch {
	case g.N < 1 || g.C < 1 || g.H < 1 || g.W < 1:
		return errorf("conv geometry %+v: sizes must be positive", g)
	case g.KH < 1 || g.KW < 1 || g.SH < 1 || g.SW < 1 || g.PH < 0 || g.PW < 0:
		return errorf("conv geometry %+v: kernel and stride must be positive, padding non-negative", g)
	case g.PH >= g.KH || g.PW >= g.KW:
		return errorf("conv geometry %+v: padding must be smaller than the window", g)
	}
	oh, ow := g.Out()
	if oh < 1 || ow < 1 {
		return errorf("conv geometry %+v: window larger than the padded input", g)
	}
	return nil
}
