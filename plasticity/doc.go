// Package plasticity holds plasticity rules, rule-based training of the
// simple RNN (package models) and meta-learning of rules by gradient
// descent, as in "Learning with Plasticity Rules" (docs/plasticity-rules.md
// describes what is implemented and where the paper and the authors' code
// differ).
//
// Rules. A Rule maps firing patterns to weight changes: the RNN rule
// r[pre code][post code] (2^T x 2^T), the output rule ro[code][b] (2^T x 2,
// b = 0 for the true label's row, 1 for the predicted / other rows) and the
// optional input rule (2^T, by post code). It is a TableRule or a small
// NNRule (one hidden ReLU layer fed the concatenated firing bits); both
// evaluate to a lookup table. A RuleSet groups the rules of one network
// with the update kind (additive w += eta*delta, multiplicative
// w *= 1 + eta*delta) and is saved as JSON (SaveRules/LoadRules). Named
// built-ins: Builtin("perceptron"), Builtin("multiplicative-weights").
//
// Training with fixed rules. Trainer resets the weights and learns one
// example at a time: forward pass, firing codes, then the rules (only on
// misclassified examples unless Scheme.EveryExample; Scheme.BothColumns is
// the authors' every-example update of a right label row). It stores W.*Mg
// (non-edges stay 0) and A.*Min in float32 (float64 for multiplicative
// rules, whose weights leave float32's range), precomputes per example the
// 2^T possible row deltas d_b[j] = eta*r[code_j][b] (row i of W gets
// d_{code_i}), and fuses that update into the next example's second-round
// matrix-vector product, so W is streamed once per round; rows are split
// over two goroutines for large networks. Its forward pass is
// models.Rounds with these products (the one definition of the network's
// forward pass, the fast path an option of it); Accuracy and Predictions
// classify a set in batches with one GEMM per product (models.GEMM).
// TrainTask drives it through train.Run.
//
// Meta-learning. MetaLearner builds one Gorgonia graph per run:
//
//	rule parameters -> rule tables (a small NN is an ordinary subgraph)
//	  -> graph.PlasticTrain (a whole rule-based training pass over the batch)
//	  -> final W^T, U^T (and A^T), masked -> RNN forward of the batch
//	     (models.BuildLogitsT, graph.CapReLU ops)
//	  -> loss (graph.Loss: cross-entropy on logits, MSE, or the authors'
//	     softmax-then-CE, all through a stable log-softmax)
//
// and differentiates the loss with respect to the rule parameters. The
// PlasticTrain op is exact and cheap because firing codes, cap selections,
// argmax predictions and the misclassified test are piecewise constant in
// the rule: the trained weights depend on the rule only through the
// recorded sequence of codes. Additive: W_final = W0 + eta*sum_e
// DeltaW(codes_e; r), linear in r, so dL/dr[a][b] = eta * sum_e
// sum_{i: code_i=b, j: code_j=a} dL/dW_final[i][j] (rows grouped by post
// code, columns by pre code; O(|V|^2) per updated example).
// Multiplicative: W_final = W0 .* prod_e (1 + eta*r[..]), so the same sums
// run over dL/dW .* W_final and entry (a, b) gets eta/(1 + eta*r[a][b]).
// This is what PyTorch autograd computes through the unrolled loop
// (finite-difference tests check it in float64). The optimizer package's
// Adam (lr 1e-2, L2 0.01 added to the gradient, as PyTorch's
// weight_decay) updates the parameters in place; MetaTask drives outer
// epochs through train.Run, evaluating and (with SaveRulesHook) saving the
// rule set every epoch. The inner pass runs in float64 with AVX2 kernels;
// one step at |V| = 100, T = 3, batch 100 costs about 2.5 ms of CPU
// (BenchmarkMetaStep; `plastic rule learn` installs graph/gemm's BLAS).
//
// On a device (MetaConfig.Device, device_meta.go) the graph keeps only the
// rule parameters -> tables part and one PlasticTrain node whose value is
// the loss: its forward is cuda.MetaPlastic (the inner pass with each
// step's codes recorded, the batch through the trained network, the loss;
// float32) and its backward is the same sums, written as products with
// the steps' one-hot codes. Tests hold the device's loss and rule gradient
// to the float64 meta-learner's on every option (device_meta_test.go).
//
// Firing. By default the k nodes the cap picked fire, even at value zero
// (models.FiringTopK, the authors' code); models.FiringNonzero is the
// paper's wording, fired = non-zero after the cap. The difference matters:
// the built-in Perceptron rule (+-1 for fired/silent nodes) reaches about
// 93% on Halfspace with top-k firing and stalls near 70% with the paper's
// definition, where fewer than k nodes fire and the silent nodes' -1
// updates dominate.
//
// Replay. brainnet_test.go replays vectors that testdata/gen_brainnet.py
// made by running the authors' BrainNet code: one meta-learning step per
// case (T = 1 and 3, every scheme, additive and multiplicative), weights
// after the pass, loss and rule-table gradients, through the meta-learner
// and the float32 Trainer.
//
// OptimalOutputRule solves Appendix B's closed form: with updates on every
// example and every output row, no softmax and MSE to one-hot, the final U
// is linear in the 2^T x 2 output rule and the loss minimiser solves a
// (2^(T+1))-dimensional linear system (4 x 4 for T = 1) built in O(n*l*d).
package plasticity
