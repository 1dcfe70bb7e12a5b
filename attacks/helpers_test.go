package attacks

// Models, attacks and formulas the tests use: a linear classifier whose
// minimal perturbations are known in closed form, an MLP of package models
// rebuilt from its parameters, the paper's attack and PGD with the
// defaults, and the factor between the attack loss's gradient and the
// cross-entropy's.

import (
	"fmt"
	"math"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/plasticity-lab/plastic/models"
)

// paper is the targeted L2 attack of Sec. 4 / App. A.3 with the defaults.
func paper() Attack {
	return Attack{Norm: L2, Targeted: true, Steps: DefaultSteps, StepSize: DefaultStepSize}
}

// pgd is the untargeted projected gradient attack (Madry et al.).
func pgd(norm Norm) Attack {
	return Attack{Norm: norm, Steps: DefaultSteps, StepSize: DefaultStepSize}
}

// linearModel is the softmax classifier logits = W x + b with W (classes x
// inputs, row-major) and b (classes): a model whose minimal adversarial
// perturbations are known in closed form (tests).
func linearModel(w, b []float64, inputs, classes int, p Precision) (Model, error) {
	if inputs < 1 || classes < 2 || len(w) != inputs*classes || len(b) != classes {
		return nil, fmt.Errorf("attacks: linear model with %d weights and %d biases for %d inputs and %d classes", len(w), len(b), inputs, classes)
	}
	w, b = append([]float64(nil), w...), append([]float64(nil), b...)
	dt := p.dtype()
	return &graphModel{inputs: inputs, classes: classes, prec: p, build: func(x *G.Node) (*G.Node, error) {
		g := x.Graph()
		wn := G.NewMatrix(g, dt, G.WithShape(classes, inputs), G.WithName("W"), G.WithValue(dense(dt, w, classes, inputs)))
		bn := G.NewMatrix(g, dt, G.WithShape(1, classes), G.WithName("b"), G.WithValue(dense(dt, b, 1, classes)))
		wt, err := G.Transpose(wn)
		if err != nil {
			return nil, err
		}
		xw, err := G.Mul(x, wt)
		if err != nil {
			return nil, err
		}
		return G.BroadcastAdd(xw, bn, nil, []byte{0})
	}}, nil
}

// mlpModel adapts a feed-forward classifier of package models made of dense
// layers (the "mlp" model: fcK.weight [in, out] and fcK.bias [out] pairs,
// ReLU between them, dropout off as in evaluation) by rebuilding its
// forward pass from its parameters with Gorgonia's ops, since the model's
// own session computes no input gradient. Parameters are copied.
func mlpModel(c models.Classifier, p Precision) (Model, error) {
	ps := c.Params()
	if c.Name() != "mlp" || len(ps) < 2 || len(ps)%2 != 0 {
		return nil, fmt.Errorf("attacks: model %q with %d parameters is not a dense-layer MLP", c.Name(), len(ps))
	}
	in := c.InputShape()
	if len(in) != 1 {
		return nil, fmt.Errorf("attacks: MLP input shape %v, want flat", in)
	}
	type layer struct {
		w, b    []float64
		in, out int
	}
	var layers []layer
	width := in[0]
	for i := 0; i < len(ps); i += 2 {
		w, b := ps[i], ps[i+1]
		ws, bs := w.Value.Shape(), b.Value.Shape()
		if !strings.HasSuffix(w.Name, ".weight") || !strings.HasSuffix(b.Name, ".bias") ||
			len(ws) != 2 || ws[0] != width || len(bs) != 1 || bs[0] != ws[1] {
			return nil, fmt.Errorf("attacks: MLP parameters %s %v, %s %v do not chain from width %d", w.Name, ws, b.Name, bs, width)
		}
		l := layer{in: ws[0], out: ws[1], w: make([]float64, ws[0]*ws[1]), b: make([]float64, ws[1])}
		copyFloats(l.w, w.Value.Data())
		copyFloats(l.b, b.Value.Data())
		layers = append(layers, l)
		width = ws[1]
	}
	if width != c.Classes() {
		return nil, fmt.Errorf("attacks: MLP ends with width %d, want %d classes", width, c.Classes())
	}
	dt := p.dtype()
	return &graphModel{inputs: in[0], classes: c.Classes(), prec: p, build: func(x *G.Node) (*G.Node, error) {
		g := x.Graph()
		h := x
		for i, l := range layers {
			wn := G.NewMatrix(g, dt, G.WithShape(l.in, l.out), G.WithName(fmt.Sprintf("fc%d.weight", i+1)), G.WithValue(dense(dt, l.w, l.in, l.out)))
			bn := G.NewMatrix(g, dt, G.WithShape(1, l.out), G.WithName(fmt.Sprintf("fc%d.bias", i+1)), G.WithValue(dense(dt, l.b, 1, l.out)))
			z, err := G.Mul(h, wn)
			if err != nil {
				return nil, err
			}
			if z, err = G.BroadcastAdd(z, bn, nil, []byte{0}); err != nil {
				return nil, err
			}
			if i < len(layers)-1 {
				if z, err = G.Rectify(z); err != nil {
					return nil, err
				}
			}
			h = z
		}
		return h, nil
	}}, nil
}

// gradientScale is 1 - softmax(logits)[target], computed without
// cancellation: Grader.LossGrad's gradient times this factor is the
// gradient of the cross-entropy itself.
func gradientScale(logits []float64, target int) float64 {
	z, t := logits, target
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	other, all := 0.0, 0.0
	for j, v := range z {
		e := math.Exp(v - mx)
		all += e
		if j != t {
			other += e
		}
	}
	return other / all
}
