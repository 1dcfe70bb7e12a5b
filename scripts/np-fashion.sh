#!/usr/bin/env bash
# NeuroPlastic paper, Fashion-MNIST (Sec. 4.1): best full configuration vs the gradient-only
# ablation vs SGD/Adam/AdamW; MLP 784-256-256-10, batch 128, 10 epochs, 3 seeds
# (configs/fashion-compare.flags). CPU: 15 runs of about 15-60 s each.
# Writes $OUT/fashion/ (run folders, summary.csv) and $OUT/fashion/plots/ (curves, diagnostics).
source "$(dirname "$0")/np-common.sh"
need_data fashion-mnist
sweep --config configs/fashion-compare.flags sweep --name fashion --jobs "$JOBS"
plot plot --baseline grad-only "$OUT/fashion"
