// Package attacks owns adversarial attacks on the toolkit's classifiers and
// the robustness curves of the plasticity paper (Sec. 4, App. A.3, Fig. 5,
// Table 2's robustness columns).
//
// A Model gives Graders that compute, for a batch of inputs and one target
// label per row, the logits, the cross-entropy loss of each row and its
// gradient with respect to that row's input, by Gorgonia autodiff through
// the model's forward graph (float32 for speed, float64 for checks).
// Adapter: RNN (the simple RNN, rule- or GD-trained, through the forward
// graph models.RNN.BuildLogits builds on fixed weights: one GEMM per
// product, graph.FixedMul, and graph.CapReLU ops); the tests also attack
// a linear softmax classifier (closed-form minimal perturbations) and the
// MLP of package models.
//
// Attack describes FGSM, PGD under L2 or L-infinity, and the paper's
// targeted attack: for every label y' other than the true y, steps
// x <- Proj(x - alpha * grad_x L(x, y') / ||grad_x L(x, y')||_2) projected
// exactly onto the intersection of the L2 ball of radius eps around the
// image and the pixel box [0,1]; an image is broken when any attempt is
// misclassified. Defaults: 50 steps of eps/20 (2.5 eps of travel), no
// random restarts.
//
// Robustness runs an attack over an eps grid on chosen test images and
// returns the eps that first breaks each image; Result.Accuracy gives the
// robust-accuracy curve. The attempts of several images (every target,
// every restart) are batched into one graph evaluation, and images are
// spread over worker goroutines (one per core by default). Adversarial
// attacks one image (Fig. 4's examples).
package attacks
