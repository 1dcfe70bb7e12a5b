#!/usr/bin/env bash
# NeuroPlastic paper, design space (App. G, Fig. 7): residual (bounded, orthogonal), hybrid
# (AdamW, SGD-momentum bases) and learning-rate-controller variants of the authors' CIFAR
# preset on their small CNN, beside SGD and AdamW (configs/designspace.flags); 20 epochs,
# 3 seeds. GPU-scale on CIFAR-10 (27 CNN runs); DEVICE=cpu works but takes hours.
# DATASET=mnist runs the same variants on MNIST (MLP, 10 epochs) without a download.
# Writes $OUT/designspace[-mnist]/ (runs, summary.csv with wins against np-cifar) and plots/.
source "$(dirname "$0")/np-common.sh"
case ${DATASET:-cifar10} in
cifar10)
	DEVICE=${DEVICE:-auto}
	need_data cifar10
	name=designspace
	sweep --device "$DEVICE" --config configs/designspace.flags sweep --name "$name" --jobs "$JOBS"
	;;
mnist)
	need_data mnist
	name=designspace-mnist
	sweep --config configs/designspace.flags sweep --name "$name" --dataset mnist --model mlp --epochs 10 --jobs "$JOBS"
	;;
*) die "DATASET=${DATASET}: want cifar10 or mnist" ;;
esac
plot plot --baseline np-cifar "$OUT/$name"
