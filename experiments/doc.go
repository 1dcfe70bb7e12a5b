// Package experiments owns the plasticity paper's experiments ("Learning
// with Plasticity Rules", docs/plasticity-rules.md): each one is a
// function from a config to results tables (CSV) and figures (PNG + SVG,
// package plots), written into Env.Dir, with one metrics line per
// measurement through Env.Metrics. The `plastic paper` commands
// (cmd/plastic/paper_*.go) call them inside a run folder; configs/*.flags
// hold the paper's settings and scripts/paper-all.sh runs them all.
//
// Every training goes through train.Run: rule-based training as
// plasticity.TrainTask, rule learning as plasticity.MetaTask, the Adam
// baseline as baseline.Task, the classic threshold unit as ThresholdTask.
//
// # Experiments
//
//   - Fig2: the same T=1 network (|V|=1000, k=500) trained by an output
//     rule (default: the perceptron) and by Adam (lr 1e-2, batches of 100)
//     on its output weights; test accuracy against samples seen.
//   - Fig3: an output rule learned on Halfspace (|V|=100, k=50, T=1) and a
//     small-NN RNN rule plus output rule learned on ReLU1 (T=3; its output
//     rule starts from the Halfspace one: from zeros, with updates only on
//     misclassified examples, U stays zero while the prediction is the
//     majority class, and ReLU1 is 90% one class) re-train
//     small (100/50) and large (1000/500) networks with T=1 and T=3 on
//     Halfspace, ReLU1, ReLU2, RNN-labelled, MNIST and Fashion-MNIST (file
//     sets whose files are absent are skipped with a note), Repeats shuffled
//     re-trainings each, Jobs at a time. Every re-training has its own seed
//     derived from (seed, model, data set, repeat) and its own slot, so the
//     CSV does not depend on Jobs.
//   - Table2: |V|=1000, k=500, 2 passes over a random 10,000 training
//     images, tested on the whole test set, Seeds seeds (--seed, --seed+1,
//     ...: a new subset, network and order each). T=1 and T=1* (A all ones)
//     use the perceptron output rule; T=3 uses, as Appendix A.3 says, a
//     small NN (20 hidden units) RNN rule meta-learned on a |V|=200, k=100
//     network next to the fixed perceptron output rule; the T=3 rule is
//     learned and used with top-k firing (below).
//   - Fig6: T=3, |V|=1000, k=500 on MNIST with the Table 2 T=3 rules (same
//     seed, same rule, top-k firing), updating after every example versus
//     only after misclassified ones.
//   - Classic: Table 1's Perceptron ([[-1,1],[1,-1]] over x_i in {-1,1},
//     additive) and Multiplicative Weights ([[1,1],[2,1/2]] over x_i in
//     {0,1}, threshold n) as rules of a single linear threshold unit on
//     separable halfspace data (SignHalfspace, BoolHalfspace), and the
//     toolkit's built-in output rules of the same names on a T=1 simple
//     RNN; Theorem 1 (GD on a T=1 output table rule from random N(0,1)
//     starts reaches [[-,+],[+,-]]: the fraction of starts that do);
//     Theorem 3 (mistakes of [[-a,a],[b,-b]] until convergence on data in
//     {-1,1}^n labelled by a unit w* with sum(w*) = 0, against the bounds of
//     Theorem3Bounds).
//   - Optimal: Appendix B's closed-form MSE rule against the perceptron
//     under the update-all scheme (every example, every output row), and
//     the perceptron under the default scheme.
//
// # Protocol details (checked against the spec)
//
// Pixels are scaled to [0,1] by data.Load (/255). MNIST and Fashion-MNIST
// are cut to a random 10,000 of the 60,000 training images (seeded, in the
// random order of the draw); tests use the whole 10,000-image test set.
// Rule-based training is one example at a time, updates only on
// misclassified examples, output rule on the true and the predicted rows,
// additive, eta = 0.01, W, U and b reset to 0, A ~ N(0,1) masked (or all
// ones). The T=1 rule of Table 2 is the perceptron; a T=1 output rule used
// by a T=3 network looks at the last round's firing bit
// (plasticity.ForRounds). Net.TopKFiring carries the firing definition:
// fired = non-zero after the cap (the paper's definition) for the T=1
// networks, and top-k firing (every node the cap picked fired, as the
// authors' code counts it) for the T=3 networks of Table 2, Fig. 6 and
// Fig. 3, both when their rules are learned and when those rules train
// (RuleLearning.Net's definition is the one the T=3 networks use; CLI
// --t3-topk-firing, --topk-firing, --rnn-topk-firing). With the paper's
// definition meta-learning more often lands in a flat region where rounds
// 2-3 are silent or constant and the network predicts one class
// (investigator, after c91a1f9: 8 of 8 seeds good with top-k firing, 6 of
// 8 with the paper's).
//
// # Rule learning and model selection
//
// Rules are meta-learned as in Appendix A.1 (batches of 100, Adam lr 1e-2,
// L2 0.01, the authors' softmax-then-cross-entropy loss by default; plain
// cross-entropy on the logits collapses on every seed at T=3 on MNIST).
// A rule that is good over one batch of 100 can still make a long training
// collapse (the same nodes win every round, one class predicted), so
// learnRules holds out the last ValidationN (2,000) training examples and
// keeps the parameters (initial ones included) that, training a network
// of the size the rule is used at (RuleLearning.Select: |V|=1000, k=500
// for Table 2 and Fig. 6, Fig. 3's large network) for one pass over the
// other training examples, give the best accuracy on the held-out ones.
// Scoring at the learning size (|V|=200) does not predict |V|=1000 (a rule
// at 9.7% there trains the large network to 85.4%), and a pass over only
// 2,000 examples preferred Table 2's random initial rule (77.2% against
// 74.3%) where the pass over the 8,000 others prefers the learned one
// (82.0% against 77.3%). The rule file's provenance lists the validation
// accuracy of every epoch, the scoring network and the epoch kept.
//
// # Results (seed 1)
//
// Learned-rule numbers re-measured after c91a1f9 (MetaLearner.LossGrad no
// longer accumulates gradients across calls), with top-k firing for the
// T=3 networks and model selection at the target size, on the 2-core
// machine (load 1.3-2.0). Commands as in scripts/paper-all.sh: plastic
// --config configs/NAME.flags paper NAME (table2 with
// configs/table2-mnist.flags; Fashion-MNIST files are absent here and were
// skipped); robustness by scripts/robustness.sh.
//
//	Table 2, MNIST, 5 seeds (1m24s)   ours           before c91a1f9   authors' code here   paper
//	  T=3                             83.6 +- 0.7%   78.0 +- 2.2%     not run              87%
//	  T=1* (A all ones)               88.1 +- 0.6%   88.1             86.7%                93%
//	  T=1                             83.4 +- 1.6%   83.4             82.4%                85%
//	  (T=3 with the random initial rule, kept by the old 2,000-example
//	  selection, top-k firing: 81.3 +- 2.2%.)
//	Fig. 6 (24s): misclassified only 82.6%, every example 78.5% (before:
//	  78.7%, 78.3%; paper: similar).
//	Robust accuracy, targeted L2, 100 test images (scripts/robustness.sh, 53s):
//	  eps              0     0.5   1     1.5   2     2.5   3     3.5   4
//	  T=3 (84.9%)      0.87  0.72  0.64  0.54  0.41  0.33  0.25  0.18  0.11
//	  T=1*             0.87  0.74  0.44  0.25  0.14  0.09  0     0     0
//	  T=1              0.88  0.23  0.02  0     0     0     0     0     0
//	  GD, T=3          0.96  0.48  0.08  0     0     0     0     0     0
//	  (paper, T=3: 60% at eps 2, 36% at eps 4; before c91a1f9 T=3 had 22%
//	  at eps 2.)
//	Fig. 3 (2m07s), mean test accuracy of 10 re-trainings, chance = majority rate:
//	                 halfspace relu1 relu2 rnn-labelled mnist
//	  small T=1        94.2    90.8  83.3   84.5       73.1
//	  small T=3        66.9    87.8  72.1   79.6       27.4
//	  large T=1        96.1    92.4  84.0   83.7       82.3
//	  large T=3        94.0    93.3  86.0   84.5       35.2
//	  chance           55.9    89.7  62.3   79.0       11.4
//	  (before c91a1f9, paper's firing: small T=3 79.3 90.1 80.8 83.9 32.1,
//	  large T=3 95.2 94.1 85.5 86.4 46.0; no ReLU1 epoch beat the initial
//	  RNN rule then or now, so the T=3 rules are the random initial small
//	  NN with the Halfspace output rule.) With the paper's firing for the
//	  T=3 networks (--rnn-topk-firing=false, 1m47s): small T=3 78.0 85.4
//	  81.5 81.2 21.9, large T=3 95.3 95.0 87.4 86.3 13.0: better on the
//	  synthetic sets, at chance on MNIST.
//
// Not re-measured (no learned rule): Fig. 2: after 10,000 samples,
// perceptron rule 84.7%, Adam on U 82.6%. Appendix B, 3 seeds, one pass:
// optimal rule 71.7%, perceptron with update-all 70.2%, perceptron default
// scheme 80.9% (paper 89, 88-89, 92). Table 1: Perceptron and MW threshold
// units reach 100% train and test (56 and 79 mistakes); Theorem 3: 42-76
// mistakes for every (a, b), far below the paper's bound (220-3850).
// Theorem 1 (GD on a T=1 output table rule from N(0,1) starts; plastic
// --config configs/classic.flags paper classic, 6s), re-measured after
// c91a1f9: 7 of 20 starts reach [[-,+],[+,-]] (before: 15 of 20); of the
// 13 others, 12 have a wrong sign in the silent row and 5 in the fired
// row's "other" entry.
//
// The large T=3 network beats the large T=1 one on ReLU1, ReLU2 and
// RNN-labelled, as the paper reports; on MNIST the T=3 networks of Fig. 3
// (Halfspace output rule, random RNN rule) are far below T=1, unlike the
// paper's figure, and with top-k firing the small T=3 network is below
// chance on ReLU1. Table 2's T=3 (its own rule set: the perceptron output
// rule and an RNN rule learned on MNIST) now reaches 83.6%, 3.4 points
// below the paper's 87%, and the T=3 network is the most robust one, as in
// the paper, though less than the paper's (41% against 60% at eps 2).
//
// # Where Table 2 differs from the paper
//
// The paper prints 85% (T=1) and 93% (T=1*); the authors' own code, run on
// this machine with the same data and protocol, gives 82.4% and 86.7%
// (Table2AuthorsCode), which is the reference this package is compared
// with. The gap to the printed numbers may come from what the paper does
// not pin down: the random 10,000-image subset and example order, the
// unreported number of runs behind each printed figure (a single lucky
// seed: the authors' T=1 runs here span 80.2-84.9%, T=1* 85.2-88.1%), k
// and p of the runs (only |V|=1000, k=500 are given), whether fired means
// positive after the cap or picked by top-k, and the authors' code
// indexing the output rule's "other" row as 1 - label (right only for two
// classes) at the commit stored publicly.
package experiments
