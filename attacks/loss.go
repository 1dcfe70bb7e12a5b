package attacks

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"github.com/plasticity-lab/plastic/graph"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attackLoss is the sum over rows of the cross-entropy of logits (batch x
// classes) against targets (batch, class indices as floats). Its gradient
// with respect to row i's logits is not softmax - onehot(t) but that
// vector divided by 1 - p_t (a positive factor per row):
//
//	g_j = softmax over the labels j != t of the logits,   g_t = -1,
//
// computed stably however large the logits. The input gradient is linear
// in the logit gradient, so its direction is exact, which is all the
// attacks use (unit L2 steps, sign steps); the true softmax - onehot
// underflows to zero in float32 once the network is confident (logit gaps
// beyond about 100), which froze untargeted PGD and FGSM on GD- and
// rule-trained networks.
func attackLoss(logits, targets *G.Node) (*G.Node, error) {
	return G.ApplyOp(lossOp{graph.PureOp("AttackLoss", 2)}, logits, targets)
}

type lossOp struct{ graph.OpBase }

func (lossOp) Type() hm.Type {
	return hm.NewFnType(graph.TensorT(2), graph.TensorT(1), hm.TypeVariable('a'))
}
func (lossOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (lossOp) Do(vals ...G.Value) (G.Value, error) {
	z, t, err := lossInputs(vals)
	if err != nil {
		return nil, err
	}
	B, C := z.Shape()[0], z.Shape()[1]
	zf, tf := floats64(z.Data()), floats64(t.Data())
	sum := 0.0
	for i := 0; i < B; i++ {
		sum += crossEntropy(zf[i*C:(i+1)*C], int(tf[i]))
	}
	if z.Dtype() == tensor.Float32 {
		return G.NewF32(float32(sum)), nil
	}
	return G.NewF64(sum), nil
}
func (lossOp) DiffWRT(int) []bool { return []bool{true, false} }
func (lossOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(lossGradOp{graph.PureOp("AttackLossGrad", 3)}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

// lossGradOp(logits, targets, upstream) is the scaled logit gradient above
// times the upstream scalar.
type lossGradOp struct{ graph.OpBase }

func (lossGradOp) Type() hm.Type {
	return hm.NewFnType(graph.TensorT(2), graph.TensorT(1), hm.TypeVariable('a'), graph.TensorT(2))
}
func (lossGradOp) Do(vals ...G.Value) (G.Value, error) {
	z, t, err := lossInputs(vals[:2])
	if err != nil {
		return nil, err
	}
	up := 1.0
	switch s := vals[2].(type) {
	case *G.F32:
		up = float64(*s)
	case *G.F64:
		up = float64(*s)
	}
	B, C := z.Shape()[0], z.Shape()[1]
	zf, tf := floats64(z.Data()), floats64(t.Data())
	g := make([]float64, B*C)
	for i := 0; i < B; i++ {
		scaledGrad(zf[i*C:(i+1)*C], int(tf[i]), g[i*C:(i+1)*C])
	}
	for i := range g {
		g[i] *= up
	}
	return dense(z.Dtype(), g, B, C), nil
}

// scaledGrad writes (softmax(z) - onehot(t)) / (1 - p_t) into g: the
// softmax of the other logits, and -1 at t.
func scaledGrad(z []float64, t int, g []float64) {
	mx := math.Inf(-1)
	for j, v := range z {
		if j != t {
			mx = max(mx, v)
		}
	}
	s := 0.0
	for j, v := range z {
		if j != t {
			g[j] = math.Exp(v - mx)
			s += g[j]
		}
	}
	for j := range g {
		g[j] /= s
	}
	g[t] = -1
}

func lossInputs(vals []G.Value) (*tensor.Dense, *tensor.Dense, error) {
	z, ok1 := vals[0].(*tensor.Dense)
	t, ok2 := vals[1].(*tensor.Dense)
	if !ok1 || !ok2 || z.Dims() != 2 || t.Dims() != 1 || t.Shape()[0] != z.Shape()[0] {
		return nil, nil, fmt.Errorf("attack loss: want logits (batch, classes) and targets (batch), got %v and %v", vals[0].Shape(), vals[1].Shape())
	}
	C := z.Shape()[1]
	for i, v := range floats64(t.Data()) {
		if v < 0 || int(v) >= C || v != math.Trunc(v) {
			return nil, nil, fmt.Errorf("attack loss: target %v of row %d is not a class in [0,%d)", v, i, C)
		}
	}
	return z, t, nil
}

func floats64(d any) []float64 {
	switch s := d.(type) {
	case []float64:
		return s
	case []float32:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}
