#!/usr/bin/env bash
# NeuroPlastic paper, CIFAR-10 ResNet-18 transfer test with learning-rate sweep (Sec. 4.3,
# Fig. 4; App. E): NeuroPlastic (MNIST-tuned, not retuned), its gradient-only ablation and
# SGD at lr 0.01/0.05/0.1 (configs/cifar-sgd-np.flags), Adam and AdamW at 1e-4/3e-4/1e-3
# (configs/cifar-adam.flags); 50 epochs, batch 128, 3 seeds, crop+flip augmentation.
#
# GPU-SCALE: 45 runs x 50 epochs of ResNet-18 on 50,000 images. On a CPU this is weeks; run it
# on a GPU machine with a binary built with -tags gpu (scripts/gpu-build.sh), e.g.
#   PLASTIC=/path/to/plastic-gpu DEVICE=cuda scripts/np-cifar.sh
# The sweep is resumable: rerun the script after an interruption and it continues.
# Writes $OUT/cifar/ (runs, summary.csv) and $OUT/cifar/plots/ (curves, lr-sensitivity).
source "$(dirname "$0")/np-common.sh"
DEVICE=${DEVICE:-cuda}
need_data cifar10
echo "np-cifar: GPU-scale sweep (45 ResNet-18 runs of 50 epochs) on --device $DEVICE" >&2
sweep --device "$DEVICE" --config configs/cifar-sgd-np.flags sweep --name cifar --jobs "$JOBS"
sweep --device "$DEVICE" --config configs/cifar-adam.flags sweep --name cifar --jobs "$JOBS"
sweep sweep --name cifar --summary-only --baseline grad-only
plot plot --baseline grad-only "$OUT/cifar"
