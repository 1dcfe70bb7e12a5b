// Package baseline owns training the simple RNN of the plasticity paper by
// gradient descent, the baselines that rule-based training is compared with
// (docs/gd-baseline.md):
//
//   - ModeOutput: only the output layer (U and c) is trained, by Adam with
//     lr 1e-2 (Fig. 2); A keeps the network's own draw (N(0,1) or all ones),
//     b = 0, and W (used only when T > 1) is fixed uniform in [-0.5, 0.5].
//   - ModeAll: everything (A, W, U, b, c) is initialised uniform in
//     [-0.5, 0.5] and trained by Adam (the GD network of Fig. 5 / Table 2).
//
// Gradients come from Gorgonia autodiff through the RNN's forward graph
// (models.RNN.BuildLogits: masks and graph.CapReLU ops, whose gradient
// passes where a layer's output is non-zero; the weights not trained are
// fixed products, graph.FixedMul), with the mean cross-entropy over a
// mini-batch. Accuracy evaluates with models.Batched (no graph).
// Task runs the epochs through train.Run; the trained network is saved in
// the network file format of netfile.go (SaveRNN / LoadRNN), which the
// attack command reads.
package baseline
