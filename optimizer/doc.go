// Package optimizer holds the NeuroPlastic optimizer of the NeuroPlastic paper
// and the baselines it is compared with (SGD with momentum, Adam, AdamW, all
// with PyTorch semantics), as gorgonia.Solver implementations that work
// directly on the float32/float64 backing slices of *tensor.Dense values.
//
// The exact NeuroPlastic update is restated in shared/spec/neuroplastic.md;
// the code follows it step by step, fused into three passes per parameter
// tensor (traces and means, coefficient and update, apply).
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
