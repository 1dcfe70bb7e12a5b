// Package experiments owns the plasticity paper's experiments ("Learning
// with Plasticity Rules", docs/plasticity-rules.md): each one is a
// function from a config to results tables (CSV) and figures (PNG + SVG,
// package plots), written into Env.Dir, with one metrics line per
// measurement through Env.Metrics. The `plastic paper` commands
// (cmd/plastic/paper_*.go) and `plastic demo` call them inside a run folder; configs/*.flags
// hold the paper's settings and scripts/paper-all.sh runs them all.
//
// Every training goes through train.Run: rule-based training as
// plasticity.TrainTask, rule learning as plasticity.MetaTask, the Adam
// baseline as baseline.Task, the classic threshold unit as ThresholdTask.
//
// # Experiments
//
//   - Demo (`plastic demo`): an output rule learned on Halfspace
//     (|V|=100, k=50, T=1) trains fresh |V|=Nodes networks for one pass on
//     Halfspace, ReLU1 and MNIST beside the Perceptron rule and Adam on
//     the output layer.
//   - Fig2: the same T=1 network (|V|=1000, k=500) trained by an output
//     rule (default: the perceptron) and by Adam (lr 1e-2, batches of 100)
//     on its output weights; test accuracy against samples seen.
//   - Fig3: an output rule learned on Halfspace (|V|=100, k=50, T=1) and
//     T=3 rules learned on ReLU1 (|V|=100, k=50, T=3) as the authors' code
//     learns them (a table RNN rule and an output rule from zeros, both
//     learned, 20 epochs) on the ReLU1 task of the seed, from RNNRestarts
//     (8) initial rules, the best on held-out examples kept, re-train small
//     (100/50) and large (1000/500) networks with T=1 and T=3 on
//     Halfspace, ReLU1, ReLU2, RNN-labelled, MNIST and Fashion-MNIST (file
//     sets whose files are absent are skipped with a note), Repeats shuffled
//     re-trainings each, Jobs at a time. Every re-training has its own seed
//     derived from (seed, model, the data set's name, repeat) and its own
//     slot, so the CSV does not depend on Jobs, and a cell's numbers do not
//     depend on the other data sets listed or skipped (--data relu1,mnist
//     gives the five-set run's relu1 and mnist cells). The rule check
//     (fig3_rulecheck.csv) trains 10 new small and 10 new large T=3
//     networks on ReLU1 with the kept start's initial and with the learned
//     T=3 rules.
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
// # Protocol details
//
// docs/plasticity-rules.md describes the model, rules, schemes, firing
// definitions and data as implemented. Pixels are scaled to [0,1] by
// data.Load (/255). MNIST and Fashion-MNIST are cut to a random 10,000 of
// the 60,000 training images (seeded, in the random order of the draw);
// tests use the whole 10,000-image test set. Rule-based training is one
// example at a time, updates only on misclassified examples, output rule on
// the true and the predicted rows, additive, eta = 0.01, W, U and b reset
// to 0, A ~ N(0,1) masked (or all ones). The T=1 rule of Table 2 is the
// perceptron; a T=1 output rule used by a T=3 network looks at the last
// round's firing bit (plasticity.ForRounds). Every network of every
// experiment, the rule-learning networks included, uses one firing
// definition: top-k firing (models.FiringTopK, the authors' code) unless
// --firing nonzero. ReLU1/ReLU2 are the authors' generator (points uniform
// in [-1,1]^10, width 100).
//
// # Rule learning and model selection
//
// Rules are meta-learned as in Appendix A.1 (batches of 100, Adam lr 1e-2,
// L2 0.01, the authors' softmax-then-cross-entropy loss by default; plain
// cross-entropy on the logits collapses on every seed at T=3 on MNIST).
// A rule that is good over one batch of 100 can still make a long training
// collapse (the same nodes win every round, one class predicted), so
// learnRules holds out the last ValidationN (2,000) training examples and
// keeps the parameters (initial ones included) that, training a fresh
// network of the size the rule is used at (RuleLearning.Select and
// SelectAlso: |V|=1000, k=500 for Table 2 and Fig. 6, three draws of
// Fig. 3's small network for its T=3 rules) for one pass over the other
// training examples, give the best accuracy on the held-out ones. The rule
// file's provenance lists the validation accuracy of every epoch, the
// scoring networks, the epoch kept, the firing definition and the scheme.
//
// # Why Fig. 3's learned T=3 rules did not improve (issue 14), and what does
//
// Before: no ReLU1 epoch beat the initial RNN rule, so Fig. 3 kept the
// random initial one; later the learned rules fell below their initial
// ones on |V|=100 networks on every seed. Causes found, in order of effect:
//   - The check was cross-task: the T=3 rules were learned on a ReLU1 task
//     drawn with another seed (subSeed(seed, "fig3 rnn rule")) than the
//     one the rule check and Fig. 3's relu1 column train on (a different
//     labelling network), while the authors' code checks its rules on
//     held-out examples of the task they were learned on. On one task the
//     held-out accuracy that selects the rules predicts the check (seeds
//     1-3, the starts kept: 77.8/76.8/78.9% validation, 74.6/74.6/76.2%
//     check); across tasks it did not. Fig. 3 now learns on the task of
//     its seed.
//   - One start is not enough: from some initial RNN tables learning never
//     gets far from a one-class prediction in 20 epochs (2 of 8 starts on
//     seeds 2 and 3: the one-batch loss falls to 0.53-0.59 while one pass
//     over 8,000 examples predicts one class), as the authors' seed 2
//     collapsed to the majority rate. Fig. 3 learns from RNNRestarts (8)
//     initial tables and keeps the rules with the best validation accuracy
//     over every start and epoch; the kept start was start 1, 2 and 8 on
//     seeds 1-3.
//   - The rule setting: with the check on the same task, the paper's small
//     NN next to the fixed perceptron (the previous default) kept its
//     initial rule on seed 1 in an exploratory run (validation 71.9%
//     initial, 65-68% after every one of 20 epochs; check 61.2% initial,
//     57-58% learned), while the
//     authors' setting (table RNN rule, output rule from zeros, both
//     learned) reached 76-77% from the first epochs. The authors' setting is
//     the default; `--rnn-learn-param nn --rnn-output-init perceptron
//     --rnn-learn-output=false` runs the small NN.
//   - Selection: scoring the candidates on the large network does not
//     predict MNIST transfer (in an exploratory run seed 3's first start
//     scored 83-87% on |V|=1000 ReLU1 networks from epoch 7 on, and 8-12%
//     on MNIST after every epoch: one class or close); they are
//     scored on three draws of the small network, the size they are learned
//     at (`--rnn-select-large` adds the large one).
//   - The data: standard-normal points and a width-1000 labelling network
//     gave a set 90% one class (seed 1), where a constant prediction is
//     hard to beat; the authors' generator (uniform points, width 100) gives
//     51-66% (seeds 1-3: 59.6, 54.0, 63.5% majority).
//
// The authors' own code (their LocalNet, table rule, zero output rule, 20
// epochs) run here on the same ReLU1 data (seeds 1 and 2, a fresh |V|=100
// network trained on 5,000 examples) collapses to the minority class on
// seed 1 (40.4%, majority 59.6%) and reaches 50-58% on seed 2 (majority
// 54.0%): one start, the rules of the last epoch, no selection.
//
// # Results (seed 1 unless said)
//
// Measured on the 2-core machine shared with other jobs (load 6-13), after
// top-k firing became the default everywhere and ReLU1/ReLU2 the authors'
// generator. Commands as in scripts/paper-all.sh: plastic --config
// configs/NAME.flags paper NAME (table2 with configs/table2-mnist.flags;
// Fashion-MNIST files are absent here and were skipped); robustness by
// scripts/robustness.sh.
//
//	Table 2, MNIST, 5 seeds           ours           authors' code here   paper
//	  T=3                             83.6 +- 0.7%   not run              87%
//	    seeds 83.01 85.01 83.14 83.35 83.62
//	  T=1* (A all ones)               88.1 +- 0.6%   86.7%                93%
//	    seeds 87.81 87.93 88.48 88.83 87.23
//	  T=1                             83.5 +- 1.0%   82.4%                85%
//	    seeds 83.04 84.43 82.14 82.99 84.82
//	  (T=1 and T=1* were 83.4 and 88.1% with the paper's firing definition:
//	  at |V|=1000, k=500 on MNIST more than k entries are positive in
//	  nearly every round, and the definitions agree.)
//	Fig. 6: misclassified only 82.6%, every example 78.5%, every example as
//	  the authors' code updates a right prediction (both columns) 82.6%.
//	Robust accuracy, targeted L2, 100 test images (scripts/robustness.sh):
//	  eps              0     0.5   1     1.5   2     2.5   3     3.5   4
//	  T=3 (85.0%)      0.87  0.72  0.64  0.54  0.41  0.33  0.25  0.18  0.11
//	  T=1* (85.2%)     0.87  0.74  0.44  0.25  0.14  0.09  0     0     0
//	  T=1 (83.7%)      0.89  0.25  0     0     0     0     0     0     0
//	  GD, T=3          0.96  0.48  0.08  0     0     0     0     0     0
//	  (paper, T=3: 60% at eps 2, 36% at eps 4.)
//	Fig. 3, mean test accuracy of 10 re-trainings, chance = majority rate
//	  (seed 1; the T=3 rules as below; in brackets the previous default's,
//	  a small NN next to the perceptron learned on another ReLU1 task,
//	  measured before the re-trainings were seeded by the data set's name,
//	  so on other draws):
//	                 halfspace    relu1        relu2        rnn-labelled mnist
//	  small T=1      92.9         78.1         84.5         82.4         73.8
//	  small T=3      81.5 (60.9)  76.0 (47.5)  81.0 (67.5)  78.5 (64.5)  42.6 (21.7)
//	  large T=1      95.9         77.4         85.4         81.8         82.3
//	  large T=3      91.2 (94.1)  83.0 (84.4)  87.9 (86.9)  84.3 (86.1)  75.0 (63.6)
//	  chance         55.9         59.9         69.1         79.0         11.4
//	  Large T=3 beats large T=1 on ReLU1, ReLU2 and RNN-labelled (the
//	  previous rules: on all three), not on Halfspace and MNIST; the small
//	  T=3 network stays at the majority rate on RNN-labelled (78.5 against
//	  79.0). The large T=3 network on MNIST has a standard deviation of 4.5
//	  points over its re-trainings. A cell depends only on the seed, the
//	  model and the data set: the relu1 and mnist cells above are those of
//	  seed 1 below. relu1 and mnist at seeds 1, 2, 3 (plastic --seed N
//	  paper fig3 --data relu1,mnist, the defaults: the authors' T=3
//	  setting, 8 starts):
//	                     seed 1        seed 2        seed 3
//	    small T=1        78.1 / 73.8   80.8 / 74.0   83.0 / 72.4
//	    small T=3        76.0 / 42.6   76.2 / 53.4   78.0 / 46.7
//	    large T=1        77.4 / 82.3   79.8 / 83.5   85.3 / 82.0
//	    large T=3        83.0 / 75.0   84.8 / 79.1   84.8 / 77.6
//	    chance           59.9 / 11.4   53.6 / 11.4   62.7 / 11.4
//	  (relu1 / mnist). Large T=3 beats large T=1 on ReLU1 on seeds 1 and 2
//	  (by 5.7 and 5.0 points), not on seed 3 (0.6 below, within one sd) and
//	  is 4.4-7.3 points below it on MNIST (with the previous default, the
//	  small NN next to the perceptron learned on another ReLU1 task, and
//	  the earlier seeds: 63.6% in the five-set draw and 84.1% in a
//	  relu1+mnist run of seed 1, 82.6 and 43.3% on seeds 2 and 3, against
//	  80.8 / 81.7, 83.0, 82.0%). MNIST transfer (plastic
//	  --seed N rule train --rules RUN/fig3_rules_T3.json --data mnist
//	  --nodes 1000 --cap 500 --rounds 3 --passes 1 --n-train 2000 --n-test
//	  2000, N = 1..5, RUN the seed's run above; the authors' code: 63-69%):
//	    rules of seed 1: 43.5 63.5 62.3 51.7 69.2 (mean 58.0%)
//	    rules of seed 2: 64.0 70.6 69.5 71.0 59.2 (mean 66.9%)
//	    rules of seed 3: 63.4 70.6 64.9 71.0 53.9 (mean 64.8%)
//	  (N = 6..10: 59.4, 71.1, 65.4%; ten draws 58.7, 69.0, 65.1%; previous
//	  default, N = 1..5: 65.8, 69.1, 27.7%). One pass over 2,000 images
//	  depends on the network's draw by up to 26 points for the same rules.
//	Fig. 3's rule check (fig3_rulecheck.csv; the kept start's initial ->
//	  learned T=3 rules, mean test accuracy on 10 new ReLU1 networks of the
//	  task the rules were learned on, one pass over its 10,000 training
//	  examples; the initial rules, a zero output rule, predict class 0):
//	                 seed 1          seed 2          seed 3
//	  |V|=100        40.1 -> 74.6    53.6 -> 74.6    62.7 -> 76.2
//	  |V|=1000       40.1 -> 83.1    53.6 -> 84.6    62.7 -> 85.6
//	  majority       59.9            53.6            62.7
//	  (same runs as above). Issue 14's targets: learned above initial at
//	  |V|=100 on every seed, and above the majority rate by 14.7, 21.0 and
//	  13.5 points (>= 5 on 2 of 3 seeds wanted): met; MNIST transfer >= 60%
//	  met on average for the rules of seeds 2 and 3, not for seed 1's
//	  (58.0%, 58.7% over ten draws); large T=3 on MNIST 4.4-7.3 points
//	  below T=1 on seeds 1-3 (seed 1's cells are the five-set figure's;
//	  before, with the earlier seeds: seed 3 38.7 points below, the
//	  five-set figure's draw of seed 1 17.2).
//	Before (the small NN next to the fixed perceptron, one start, scored
//	  on one small and one large network, learned on another ReLU1 task
//	  than the check's; today's --rnn-learn-param nn --rnn-output-init
//	  perceptron --rnn-learn-output=false --rnn-restarts 1
//	  --rnn-select-large comes closest), rule check initial -> learned: |V|=100 62.7 -> 55.5, 61.4 -> 60.4,
//	  77.4 -> 74.3; |V|=1000 83.1 -> 83.7, 71.5 -> 82.1, 86.2 -> 84.8
//	  (seeds 1-3). The authors' setting with one start, learned on the other
//	  task and scored on both sizes: |V|=100 40.1 -> 73.7, 53.6 -> 60.9,
//	  62.7 -> 55.3; large T=3 on MNIST 73.1% (seed 1) and 10.5% (seed 2).
//	Fig. 2: after 10,000 samples, perceptron rule 83.6%, Adam on U 82.6%.
//	Appendix B, 3 seeds, one pass: optimal rule 71.6%, perceptron with
//	  update-all 69.7%, perceptron default scheme 81.4% (paper 89, 88-89, 92).
//	Table 1: Perceptron and MW threshold units reach 100% train and test (56
//	  and 79 mistakes); the built-in rules on a T=1 RNN 96.1% and 69.6%;
//	  Theorem 3: 42-76 mistakes for every (a, b), far below the paper's
//	  bound; Theorem 1: 7 of 20 random starts reach [[-,+],[+,-]].
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
