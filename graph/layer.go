package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Layer describes one of the forward layer ops of this package for a
// backend that runs the same program elsewhere (models.DeviceNet reads a
// classifier's device program off its graph with LayerOf).
type Layer struct {
	// Kind is "dense", "conv", "bn", "maxpool", "gap" (global average
	// pool), "flatten", "add" or "relu".
	Kind string
	// ReLU: dense, conv and bn apply ReLU to their output.
	ReLU bool
	// Dropout is the dense layer's dropout probability (0: none).
	Dropout float64
	// NeedDX: dense and conv compute their input gradient.
	NeedDX bool
	// Bias: the convolution adds a bias.
	Bias bool
	// Conv is the convolution's geometry.
	Conv ConvShape
	// RunMean and RunVar are the batch norm's running statistics.
	RunMean, RunVar *tensor.Dense
	// PoolK is the max pool's window (and stride).
	PoolK int
}

// ConvShape is the geometry of a convolution of C×H×W images into Co×Ho×Wo
// ones with a K×K kernel, stride S and zero padding P.
type ConvShape struct {
	C, H, W, Co, K, S, P, Ho, Wo int
}

// PatchRows is the number of rows of an image's patch matrix, C·K·K.
func (s ConvShape) PatchRows() int { return s.C * s.K * s.K }

// PatchCols is the number of columns of an image's patch matrix, Ho·Wo.
func (s ConvShape) PatchCols() int { return s.Ho * s.Wo }

// LayerOf describes op when it is one of the forward layer ops of this
// package (Dense, Conv2D, BatchNorm, MaxPool2D, GlobalAvgPool, Flatten,
// Add, ReLU); ok is false for any other op.
func LayerOf(op G.Op) (l Layer, ok bool) {
	switch o := op.(type) {
	case *denseOp:
		l = Layer{Kind: "dense", ReLU: o.relu, NeedDX: o.needDX}
		if o.drop != nil {
			l.Dropout = o.drop.P
		}
	case *convOp:
		g := &o.st.g
		l = Layer{Kind: "conv", ReLU: o.relu, NeedDX: o.needDX, Bias: o.bias,
			Conv: ConvShape{C: g.C, H: g.H, W: g.W, Co: g.Co, K: g.K, S: g.S, P: g.P, Ho: g.Ho, Wo: g.Wo}}
	case *bnOp:
		l = Layer{Kind: "bn", ReLU: o.relu, RunMean: o.st.runMean, RunVar: o.st.runVar}
	case *maxPoolOp:
		l = Layer{Kind: "maxpool", PoolK: o.st.k}
	case *gapOp:
		l = Layer{Kind: "gap"}
	case *reshapeOp:
		l = Layer{Kind: "flatten"}
	case *addOp:
		l = Layer{Kind: "add"}
	case *reluOp:
		l = Layer{Kind: "relu"}
	default:
		return Layer{}, false
	}
	return l, true
}
