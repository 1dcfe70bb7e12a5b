// Package graph is the glue between this toolkit and Gorgonia: helpers to
// build and run expression graphs, and every custom op of the toolkit, each
// built on OpBase (op.go): the k-cap of the plasticity models and its
// ReLU form (cap.go), the stable log-softmax and losses, the rule-based
// training pass as one differentiable op (plastic.go), and the fused layer
// ops of the classifiers (layers*.go: dense with bias, ReLU and dropout,
// convolutions as implicit GEMMs, batch norm, pools, flatten, residual sum,
// softmax cross-entropy; dropout.go: the counter-based dropout streams the
// device shares). LayerOf describes a layer op to other backends.
package graph
