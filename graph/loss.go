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
	if logits.Dims() != 2 || !onehot.Shape().Eq(logits.Shape()) {
		return nil, fmt.Errorf("loss: one-hot targets of shape %v for logits of shape %v (want both batch x classes)", onehot.Shape(), logits.Shape())
	}
	bsz := logits.Shape()[0]
	m := logits.Shape()[1]
	scalar := func(v float64) *G.Node {
		if logits.Dtype() == tensor.Float32 {
			return G.NewConstant(float32(v))
		}
		return G.NewConstant(v)
	}
	// term is the per-entry loss whose sum, times scale, is the mean loss.
	var (
		term  *G.Node
		scale float64
	)
	switch kind {
	case LossCE, "":
		ls, err := LogSoftmax(logits)
		if err != nil {
			return nil, err
		}
		if term, err = G.HadamardProd(onehot, ls); err != nil {
			return nil, err
		}
		scale = -1 / float64(bsz)
	case LossSoftmaxCE:
		ls, err := LogSoftmax(logits)
		if err != nil {
			return nil, err
		}
		sm, err := G.Exp(ls)
		if err != nil {
			return nil, err
		}
		if ls, err = LogSoftmax(sm); err != nil {
			return nil, err
		}
		if term, err = G.HadamardProd(onehot, ls); err != nil {
			return nil, err
		}
		scale = -1 / float64(bsz)
	case LossMSE:
		ls, err := LogSoftmax(logits)
		if err != nil {
			return nil, err
		}
		sm, err := G.Exp(ls)
		if err != nil {
			return nil, err
		}
		d, err := G.Sub(sm, onehot)
		if err != nil {
			return nil, err
		}
		if term, err = G.Square(d); err != nil {
			return nil, err
		}
		scale = 1 / float64(bsz*m)
	default:
		return nil, fmt.Errorf("unknown loss %q: want %s, %s or %s", kind, LossCE, LossMSE, LossSoftmaxCE)
	}
	sum, err := G.Sum(term)
	if err != nil {
		return nil, err
	}
	return G.Mul(sum, scalar(scale))
}
