// Package models holds the networks of the toolkit as Gorgonia v0.9.18
// expression graphs (float32 for training, float64 for gradient checks),
// batch-first: the simple RNN of the plasticity paper and the classifiers of
// the NeuroPlastic paper (MLP 784-256-256-10, the authors' small CIFAR CNN,
// ResNet-18 for CIFAR-10).
//
// The simple RNN's forward pass is defined once, by Rounds (forward.go);
// every implementation is Rounds with its own steps: on numbers (Eval:
// the float64 reference RNN.Forward, the batched evaluation Batched with
// one GEMM per product, and the rule trainer's fast path in package
// plasticity, which supplies its own Products) and on Gorgonia nodes for
// autodiff (BuildLogits, BuildLogitsT).
//
// The classifiers are built from the fused layer ops of package graph
// (dense layer with bias, ReLU and dropout in one op; 3x3/1x1 convolution
// with optional bias and ReLU as implicit GEMMs; batch norm with optional
// ReLU and running statistics; max pool; global average pool; softmax
// cross-entropy), each with its own backward ops; a Session compiles one
// graph for a batch size and reuses its buffers from step to step.
// DeviceNet runs the same program, read off that graph, on a device.
//
// Parameters are enumerated in a fixed model order (input layer first,
// classifier weight and bias last), which the optimizer's layer groups rely
// on; the checkpoint format is documented in checkpoint.go.
package models
