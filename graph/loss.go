package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Loss names accepted by Loss (flag --loss).
const (
	LossCE        = "ce"         // cross-entropy on the logits (log-softmax)
	LossMSE       = "mse"        // mean squared error of softmax(logits) to the one-hot labels
	LossSoftmaxCE = "softmax-ce" // the authors' code: cross-entropy applied to softmax(logits)
)

// Loss returns the mean loss over a batch of logits (batch x m) against
// one-hot targets (batch x m, same dtype). Softmaxes go through the stable
// LogSoftmax, so large logits do not overflow.
func Loss(kind string, logits, onehot *G.Node) (*G.Node, error) {
	var err error
	must := func(n *G.Node, e error) *G.Node {
		if err == nil && e != nil {
			err = e
		}
		return n
	}
	bsz := logits.Shape()[0]
	m := logits.Shape()[1]
	dt := logits.Dtype()
	scalar := func(v float64) *G.Node {
		if dt == tensor.Float32 {
			return G.NewConstant(float32(v))
		}
		return G.NewConstant(v)
	}
	var out *G.Node
	switch kind {
	case LossCE, "":
		ls := must(LogSoftmax(logits))
		out = must(G.Mul(must(G.Sum(must(G.HadamardProd(onehot, ls)))), scalar(-1/float64(bsz))))
	case LossSoftmaxCE:
		sm := must(G.Exp(must(LogSoftmax(logits))))
		ls := must(LogSoftmax(sm))
		out = must(G.Mul(must(G.Sum(must(G.HadamardProd(onehot, ls)))), scalar(-1/float64(bsz))))
	case LossMSE:
		d := must(G.Sub(must(G.Exp(must(LogSoftmax(logits)))), onehot))
		out = must(G.Mul(must(G.Sum(must(G.Square(d)))), scalar(1/float64(bsz*m))))
	default:
		return nil, fmt.Errorf("unknown loss %q: want %s, %s or %s", kind, LossCE, LossMSE, LossSoftmaxCE)
	}
	return out, err
}
