#!/usr/bin/env bash
# NeuroPlastic paper, MNIST (Sec. 4.1): best full configuration vs the gradient-only
# ablation vs SGD/Adam/AdamW; MLP 784-256-256-10, batch 128, 10 epochs, 3 seeds
# (configs/mnist-compare.flags). CPU: 15 runs of about 15-60 s each.
# Writes $OUT/mnist/ (run folders, summary.csv) and $OUT/mnist/plots/ (curves, diagnostics).
source "$(dirname "$0")/np-common.sh"
need_data mnist
sweep --config configs/mnist-compare.flags sweep --name mnist --jobs "$JOBS"
plot plot --baseline grad-only "$OUT/mnist"
