#!/usr/bin/env bash
# NeuroPlastic paper, low-data study (Sec. 4.2, Fig. 3): Fashion-MNIST at training fractions
# 0.1/0.25/0.5/1.0, best full configuration vs the gradient-only ablation, 3 seeds
# (configs/lowdata-fashion.flags). CPU: 24 runs, about 10 minutes in all.
# DATASET=mnist runs the same study on MNIST (configs/lowdata-mnist.flags), which needs no download.
# Writes $OUT/lowdata-<dataset>/ (runs, summary.csv) and its plots/ (lowdata-accuracy, lowdata-gap).
source "$(dirname "$0")/np-common.sh"
case ${DATASET:-fashion} in
fashion | fashion-mnist) name=lowdata-fashion data=fashion-mnist ;;
mnist) name=lowdata-mnist data=mnist ;;
*) die "DATASET=${DATASET}: want fashion or mnist" ;;
esac
need_data "$data"
sweep --config "configs/$name.flags" sweep --name "$name" --jobs "$JOBS"
plot plot --baseline grad-only "$OUT/$name"
