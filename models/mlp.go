package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// MLP hidden sizes and dropout of the NeuroPlastic paper (784-256-256-10).
var (
	mlpHidden  = []int{256, 256}
	mlpDropout = 0.1
)

// mlpArch is the paper's MLP: Linear-ReLU-Dropout(0.1) twice, then the
// linear classifier. Examples of any shape are flattened (New). Parameters:
// fc1.weight [in,256], fc1.bias, fc2.weight, fc2.bias, fc3.weight [256,classes], fc3.bias.
func mlpArch(in []int, classes int) (arch, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("mlp: empty input shape")
	}
	return func(b *builder, x *G.Node) (*G.Node, error) {
		h := x
		var err error
		for i, width := range mlpHidden {
			if h, err = b.dense(fmt.Sprintf("fc%d", i+1), h, width, true, mlpDropout); err != nil {
				return nil, err
			}
		}
		return b.dense(fmt.Sprintf("fc%d", len(mlpHidden)+1), h, classes, false, 0)
	}, nil
}
