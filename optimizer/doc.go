// Package optimizer holds the NeuroPlastic optimizer of the NeuroPlastic paper
// and the baselines it is compared with (SGD with momentum, Adam, AdamW, all
// with PyTorch semantics), as gorgonia.Solver implementations that work
// directly on the float32/float64 backing slices of *tensor.Dense values.
//
// The NeuroPlastic update, its layer groups, gates, schedules, controller,
// diagnostics and baselines, the choices where the paper is silent and the
// points where the authors' code differs from the paper are written out in
// docs/neuroplastic.md. It is the authors' algorithm: replay_test.go replays
// testdata/neuroplastic_replay.json, written by testdata/gen_neuroplastic.py
// from their own optimizer class, for every option (float64 to 1e-10).
//
// The code does the step in four passes per parameter tensor: gradient sums
// (the NaN/Inf check: nothing is written before every gradient passed),
// traces and their means, coefficient and raw update u with its norms and the
// alpha statistics, then p -= lr_eff*gain*clip*u. For float32 tensors the
// passes of the default path (and Adam/AdamW) run as AVX-512 kernels where
// the CPU has AVX-512F (kernels512_amd64.s), else as AVX2 kernels
// (kernels_amd64.s); both use the same element operations as the Go code, so
// only the rounding order of the sums differs (build with -tags noasm for
// pure Go). A step allocates nothing.
//
// Parameter order matters. Step must receive the parameters in model order
// (input layer first, classifier last) and always in the same order: the
// layer groups of NeuroPlastic are derived from the position in that list
// (classifier = the last two tensors, early/late halves of the rest, thirds
// for the target-RMS scales, conv = 4-D tensors), and optimizer state is
// matched to parameters by position.
//
// The trainer sets the epoch (counted from 1) with SetEpoch and the number of
// epochs with SetTotalEpochs before the steps of each epoch (total_epochs is
// 1 until then, as in the reference; --np-total-epochs fixes it); it calls
// EpochDiagnostics at the end of each epoch (which also resets them).
package optimizer
