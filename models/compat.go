package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/plasticity-lab/plastic/graph"
)

// SoftmaxCrossEntropy is graph.SoftmaxCrossEntropy, where the layer ops now
// live.
//
// Deprecated: use graph.SoftmaxCrossEntropy. Kept only while baseline/gd.go
// (being edited elsewhere) still calls it here; delete once it does not.
func SoftmaxCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	return graph.SoftmaxCrossEntropy(logits, labels)
}
