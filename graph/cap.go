package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type of the hot paths (float32 for speed, float64
// for gradient checks).
type Float interface{ ~float32 | ~float64 }

// CapInPlace applies the k-cap of the plasticity paper to z: it keeps the k
// largest entries and zeroes the rest. Among equal values at the threshold
// the lowest indices are kept, so the result is deterministic. scratch must
// have len(z) capacity; it is overwritten. When k >= len(z) z is unchanged.
func CapInPlace[F Float](z []F, k int, scratch []F) {
	n := len(z)
	if k >= n {
		return
	}
	if k <= 0 {
		clear(z)
		return
	}
	// One branch-free pass: count the positive entries, note negative ones
	// and gather the positive values into scratch. Fast exit: no negative
	// entries and at most k positive ones (the usual case after a ReLU with
	// few active units): zeroing the unselected zeros changes nothing.
	s := scratch[:n]
	pos, neg := 0, 0
	for _, v := range z {
		s[pos] = v
		pos += b2i(v > 0)
		neg |= b2i(v < 0)
	}
	if neg == 0 && pos <= k {
		return
	}
	var thr F
	if neg == 0 {
		// select among the positive entries only (the zeros are all dropped)
		thr = kthLargest(s[:pos], k, s[:pos])
	} else {
		thr = kthLargest(z, k, s)
	}
	greater := 0
	for _, v := range z {
		greater += b2i(v > thr)
	}
	eq := k - greater // ties at the threshold still to keep
	for i, v := range z {
		keep := v > thr
		if v == thr && eq > 0 {
			keep = true
			eq--
		}
		z[i] = v * F(b2i(keep))
	}
}

// b2i is 1 for true and 0 for false, compiled without a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CapMask writes to keep[i] whether entry i of z survives CapInPlace(z, k);
// it does not modify z.
func CapMask[F Float](z []F, k int, scratch []F, keep []bool) {
	n := len(z)
	if k >= n {
		for i := range keep[:n] {
			keep[i] = true
		}
		return
	}
	if k <= 0 {
		clear(keep[:n])
		return
	}
	thr := kthLargest(z, k, scratch[:n])
	greater := 0
	for _, v := range z {
		if v > thr {
			greater++
		}
	}
	eq := k - greater
	for i, v := range z {
		switch {
		case v > thr:
			keep[i] = true
		case v == thr && eq > 0:
			eq--
			keep[i] = true
		default:
			keep[i] = false
		}
	}
}

// kthLargest returns the k-th largest value of z (1-based) using an
// in-place quickselect on a copy held in s.
func kthLargest[F Float](z []F, k int, s []F) F {
	copy(s, z)
	lo, hi := 0, len(s)-1
	want := k - 1 // index in descending order
	for lo < hi {
		// median of three pivot
		mid := lo + (hi-lo)/2
		a, b, c := s[lo], s[mid], s[hi]
		p := b
		if (a > b) != (a > c) {
			p = a
		} else if (c > a) != (c > b) {
			p = c
		}
		i, j := lo, hi
		for i <= j {
			for s[i] > p {
				i++
			}
			for s[j] < p {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case want <= j:
			hi = j
		case want >= i:
			lo = i
		default:
			return s[want]
		}
	}
	return s[want]
}

// Cap returns the k-cap of x applied along its last axis (each row of a
// matrix, or the whole vector). Its gradient passes to the kept entries
// only: d cap(x)/dx is the 0/1 selection of the forward pass.
func Cap(x *G.Node, k int) (*G.Node, error) { return applyCap(x, k, false) }

// CapReLU returns cap_k(relu(x)) along the last axis in one op: the
// simple RNN's activation. Its gradient passes exactly where the output is
// non-zero (ReLU's derivative at 0 taken as 0, the usual convention).
func CapReLU(x *G.Node, k int) (*G.Node, error) { return applyCap(x, k, true) }

func applyCap(x *G.Node, k int, relu bool) (*G.Node, error) {
	name := "Cap"
	if relu {
		name = "CapReLU"
	}
	if k < 1 {
		return nil, fmt.Errorf("graph.%s: k must be >= 1, got %d", name, k)
	}
	if x.Dims() != 1 && x.Dims() != 2 {
		return nil, fmt.Errorf("graph.%s: want a vector or matrix, got shape %v", name, x.Shape())
	}
	return G.ApplyOp(capOp{OpBase: PureOp(fmt.Sprintf("%s{%d}", name, k), 1), k: k, relu: relu}, x)
}

// capOp is the k-cap of each row, of relu(x) when relu is set.
type capOp struct {
	OpBase
	k    int
	relu bool
}

func (op capOp) Do(vals ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, vals...) }

// UsePreallocDo writes into prealloc when it fits (no allocation per run).
func (op capOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseOf(vals[0])
	if err != nil {
		return nil, err
	}
	out := outFor(prealloc, x)
	switch d := out.Data().(type) {
	case []float64:
		capRowsOf(d, rowLen(out), op.k, op.relu)
	case []float32:
		capRowsOf(d, rowLen(out), op.k, op.relu)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, out.Dtype())
	}
	return out, nil
}

// capRowsOf caps the rows of d, after a ReLU when relu is set.
func capRowsOf[F Float](d []F, n, k int, relu bool) {
	if relu {
		reluCapRows(d, n, k)
		return
	}
	capRows(d, n, k)
}

func (op capOp) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff: the cap's gradient masks by the selection (capDiffOp); after
// the ReLU it passes where the output is non-zero (nonzeroMaskOp).
func (op capOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	var d *G.Node
	var err error
	if op.relu {
		d, err = G.ApplyOp(nonzeroMaskOp{PureOp("NonzeroMask", 2)}, output, grad)
	} else {
		d, err = G.ApplyOp(newCapDiffOp(op.k), inputs[0], output, grad)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// capDiffOp(x, y, g) = g masked by the cap selection of x, where y =
// cap(x), in O(n) per row: an entry with x != 0 was kept exactly when
// y != 0. An exact zero is kept with derivative 1 when all P positive and
// Z zero entries fit the cap (P + Z <= k), dropped when P >= k, and
// otherwise it ties with other zeros at the threshold, where the cap is
// not differentiable: it then gets 0, the subgradient ReLU also uses.
type capDiffOp struct {
	OpBase
	k int
}

func newCapDiffOp(k int) capDiffOp {
	return capDiffOp{OpBase: PureOp(fmt.Sprintf("CapDiff{%d}", k), 3), k: k}
}

func (op capDiffOp) Do(vals ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, vals...) }

// UsePreallocDo writes into prealloc when it fits.
func (op capDiffOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, y, err := denseOf2(vals)
	if err != nil {
		return nil, err
	}
	g, err := denseOf(vals[2])
	if err != nil {
		return nil, err
	}
	out := outFor(prealloc, g)
	n := rowLen(x)
	switch d := out.Data().(type) {
	case []float64:
		maskRows(x.Data().([]float64), y.Data().([]float64), d, n, op.k)
	case []float32:
		maskRows(x.Data().([]float32), y.Data().([]float32), d, n, op.k)
	default:
		return nil, fmt.Errorf("cap gradient: unsupported dtype %v", out.Dtype())
	}
	return out, nil
}

func capRows[F Float](d []F, n, k int) {
	s := make([]F, n)
	for off := 0; off < len(d); off += n {
		CapInPlace(d[off:off+n], k, s)
	}
}

func maskRows[F Float](x, y, g []F, n, k int) {
	for off := 0; off < len(x); off += n {
		xr, yr, gr := x[off:off+n], y[off:off+n], g[off:off+n]
		pos, zero := 0, 0
		for i, xv := range xr {
			switch {
			case xv > 0:
				pos++
			case xv == 0:
				zero++
			}
			if xv != 0 && yr[i] == 0 {
				gr[i] = 0
			}
		}
		if zero == 0 || pos+zero <= k {
			continue
		}
		for i, xv := range xr {
			if xv == 0 {
				gr[i] = 0
			}
		}
	}
}

// outFor returns a dense tensor holding a copy of src: prealloc when it
// has src's shape and dtype (the tape machine reuses it across runs),
// else a clone.
func outFor(prealloc G.Value, src *tensor.Dense) *tensor.Dense {
	if p, ok := prealloc.(*tensor.Dense); ok && p.Dtype() == src.Dtype() && p.Shape().Eq(src.Shape()) && p.IsMaterializable() == src.IsMaterializable() {
		switch d := p.Data().(type) {
		case []float64:
			copy(d, src.Data().([]float64))
			return p
		case []float32:
			copy(d, src.Data().([]float32))
			return p
		}
	}
	return src.Clone().(*tensor.Dense)
}

func rowLen(t *tensor.Dense) int {
	s := t.Shape()
	return s[len(s)-1]
}

// denseOf2 is denseOf of the first two values.
func denseOf2(vals []G.Value) (a, b *tensor.Dense, err error) {
	if a, err = denseOf(vals[0]); err != nil {
		return nil, nil, err
	}
	if b, err = denseOf(vals[1]); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

func denseOf(v G.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("graph: want a *tensor.Dense value, got %T", v)
	}
	return d, nil
}

func reluCapRows[F Float](d []F, n, k int) {
	for i, v := range d {
		if v < 0 {
			d[i] = 0
		}
	}
	capRows(d, n, k)
}

// nonzeroMaskOp(y, g) = g where y != 0, else 0.
type nonzeroMaskOp struct{ OpBase }

func (op nonzeroMaskOp) Do(vals ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, vals...) }

// UsePreallocDo writes into prealloc when it fits.
func (op nonzeroMaskOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	y, g, err := denseOf2(vals)
	if err != nil {
		return nil, err
	}
	out := outFor(prealloc, g)
	switch d := out.Data().(type) {
	case []float64:
		for i, v := range y.Data().([]float64) {
			d[i] *= float64(b2i(v != 0))
		}
	case []float32:
		for i, v := range y.Data().([]float32) {
			d[i] *= float32(b2i(v != 0))
		}
	default:
		return nil, fmt.Errorf("cap-relu gradient: unsupported dtype %v", out.Dtype())
	}
	return out, nil
}
