#!/usr/bin/env bash
# NeuroPlastic paper, diagnostics figure (App. F, Fig. 6): on Fashion-MNIST, alpha mean/std,
# effective update norm and gradient norm per epoch, full configuration vs gradient-only
# ablation (configs/fashion-diagnostics.flags). Its cells are those of scripts/np-fashion.sh
# (sweep folder $OUT/fashion): runs already finished there are reused.
# DATASET=mnist draws the same figure from the MNIST comparison ($OUT/mnist), no download needed.
# Writes $OUT/<sweep>/diagnostics/diag-*.png|svg|csv.
source "$(dirname "$0")/np-common.sh"
case ${DATASET:-fashion} in
fashion | fashion-mnist)
	need_data fashion-mnist
	name=fashion
	sweep --config configs/fashion-diagnostics.flags sweep --name fashion --jobs "$JOBS"
	;;
mnist)
	need_data mnist
	name=mnist
	sweep --config configs/mnist-compare.flags sweep --name mnist --jobs "$JOBS"
	;;
*) die "DATASET=${DATASET}: want fashion or mnist" ;;
esac
shopt -s nullglob
runs=("$OUT/$name"/np-best-s* "$OUT/$name"/grad-only-s*)
((${#runs[@]})) || die "no np-best/grad-only runs in $OUT/$name"
plot plot --to "$OUT/$name/diagnostics" --baseline grad-only "${runs[@]}"
