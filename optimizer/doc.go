// Package optimizer holds the NeuroPlastic optimizer of the NeuroPlastic paper
// and the baselines it is compared with (SGD with momentum, Adam, AdamW, all
// with PyTorch semantics), as gorgonia.Solver implementations that work
// directly on the float32/float64 backing slices of *tensor.Dense values.
//
// The exact NeuroPlastic update is restated in shared/spec/neuroplastic.md;
// the code follows it step by step in four passes per parameter tensor:
// gradient sums (the NaN/Inf check: nothing is written before every
// gradient passed), traces and their means, coefficient and raw update u with
// its norms and the alpha statistics, then p -= lr_eff*gain*clip*u. For
// float32 tensors the passes of the default path (and Adam/AdamW) run as
// AVX-512 kernels where the CPU has AVX-512F (kernels512_amd64.s), else as
// AVX2 kernels (kernels_amd64.s); both use the same element operations as
// the Go code, so only the rounding order of the sums differs (build with
// -tags noasm for pure Go). A step allocates nothing.
//
// Choices where the spec is silent: ratio limits rescale by
// lim/(||d||+1e-8) like the norm clip; the controller's groups partition the
// parameters into early, late and classifier (an odd middle parameter of the
// body counts as early); progress = epoch/total is 0 until SetTotalEpochs is
// called; the orthogonal normalisation defaults to none; residual branches
// require the classic base; near-bound means alpha <= 1.05*min_alpha or
// alpha >= 0.95*max_alpha; the alpha median comes from a 64-bin histogram of
// every 32nd coefficient.
//
// Parameter order matters. Step must receive the parameters in model order
// (input layer first, classifier last) and always in the same order: the
// layer groups of NeuroPlastic are derived from the position in that list
// (classifier = the last two tensors, early/late halves of the rest, thirds
// for the target-RMS scales, conv = 4-D tensors), and optimizer state is
// matched to parameters by position.
//
// The trainer sets the epoch (counted from 1) with SetEpoch and the number of
// epochs with SetTotalEpochs before the steps of each epoch; it calls
// EpochDiagnostics at the end of each epoch (which also resets them).
package optimizer
