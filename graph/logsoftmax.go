package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// LogSoftmax is a numerically stable log-softmax over the last axis of a
// matrix (rows) or vector: y = x - max(x) - log(sum(exp(x - max(x)))).
// Gorgonia v0.9.18's LogSoftMax overflows for logits of a few hundred,
// which the trained simple RNN easily produces. Its gradient is
// dx = g - softmax(x) * sum(g) per row.
func LogSoftmax(x *G.Node) (*G.Node, error) {
	if x.Dims() != 1 && x.Dims() != 2 {
		return nil, fmt.Errorf("graph.LogSoftmax: want a vector or matrix, got shape %v", x.Shape())
	}
	return G.ApplyOp(logSoftmaxOp{PureOp("LogSoftmaxStable", 1)}, x)
}

type logSoftmaxOp struct{ OpBase }

func (op logSoftmaxOp) Do(vals ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, vals...) }

// UsePreallocDo writes into prealloc when it fits.
func (op logSoftmaxOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseOf(vals[0])
	if err != nil {
		return nil, err
	}
	out := outFor(prealloc, x)
	n := rowLen(out)
	switch d := out.Data().(type) {
	case []float64:
		logSoftmaxRows(d, n)
	case []float32:
		logSoftmaxRows(d, n)
	default:
		return nil, fmt.Errorf("log-softmax: unsupported dtype %v", out.Dtype())
	}
	return out, nil
}
func (op logSoftmaxOp) DiffWRT(int) []bool { return []bool{true} }
func (op logSoftmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(logSoftmaxDiffOp{PureOp("LogSoftmaxStableDiff", 2)}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

func logSoftmaxRows[F Float](d []F, n int) {
	for off := 0; off < len(d); off += n {
		r := d[off : off+n]
		mx := r[0]
		for _, v := range r {
			mx = max(mx, v)
		}
		s := 0.0
		for _, v := range r {
			s += math.Exp(float64(v - mx))
		}
		l := mx + F(math.Log(s))
		for i := range r {
			r[i] -= l
		}
	}
}

// logSoftmaxDiffOp(y, g) = g - exp(y) * rowsum(g).
type logSoftmaxDiffOp struct{ OpBase }

func (op logSoftmaxDiffOp) Do(vals ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, vals...)
}

// UsePreallocDo writes into prealloc when it fits.
func (op logSoftmaxDiffOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	y, g, err := denseOf2(vals)
	if err != nil {
		return nil, err
	}
	out := outFor(prealloc, g)
	n := rowLen(y)
	switch d := out.Data().(type) {
	case []float64:
		logSoftmaxGrad(y.Data().([]float64), d, n)
	case []float32:
		logSoftmaxGrad(y.Data().([]float32), d, n)
	default:
		return nil, fmt.Errorf("log-softmax gradient: unsupported dtype %v", out.Dtype())
	}
	return out, nil
}

func logSoftmaxGrad[F Float](y, g []F, n int) {
	for off := 0; off < len(y); off += n {
		yr, gr := y[off:off+n], g[off:off+n]
		var s F
		for _, v := range gr {
			s += v
		}
		for i := range gr {
			gr[i] -= F(math.Exp(float64(yr[i]))) * s
		}
	}
}
