package models

import (
	"fmt"

	"github.com/plasticity-lab/plastic/graph"
	G "gorgonia.org/gorgonia"
)

// cnnArch is the NeuroPlastic authors' small CIFAR CNN:
// conv3x3(32)-ReLU, conv3x3(64)-ReLU, maxpool 2, conv3x3(128)-ReLU,
// maxpool 2, fc 256-ReLU, dropout 0.2, fc classes (padding 1 everywhere).
// On 3x32x32 inputs the flattened features are 128*8*8 = 8192.
func cnnArch(in []int, classes int) (arch, error) {
	if len(in) != 3 || in[1] < 4 || in[2] < 4 {
		return nil, fmt.Errorf("cnn: want images [C,H,W] of at least 4x4, got %v", in)
	}
	return func(b *builder, x *G.Node) (*G.Node, error) {
		h, err := b.conv("conv1", x, 32, 3, 1, 1, true, true, initUniformFanIn)
		if err != nil {
			return nil, err
		}
		if h, err = b.conv("conv2", h, 64, 3, 1, 1, true, true, initUniformFanIn); err != nil {
			return nil, err
		}
		if h, err = graph.MaxPool2D(h, 2); err != nil {
			return nil, err
		}
		if h, err = b.conv("conv3", h, 128, 3, 1, 1, true, true, initUniformFanIn); err != nil {
			return nil, err
		}
		if h, err = graph.MaxPool2D(h, 2); err != nil {
			return nil, err
		}
		if h, err = graph.Flatten(h); err != nil {
			return nil, err
		}
		if h, err = b.dense("fc1", h, 256, true, 0.2); err != nil {
			return nil, err
		}
		return b.dense("fc2", h, classes, false, 0)
	}, nil
}
