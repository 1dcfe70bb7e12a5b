#!/usr/bin/env bash
# Runs the plasticity paper's experiments (`plastic paper ...`) with the presets in configs/,
# each into its own run folder under $OUT (default runs/paper), and prints where the CSV tables
# and figures went. Usage:
#   scripts/paper-all.sh                  # classic optimal fig2 table2 fig6 fig3
#   scripts/paper-all.sh table2 fig3      # only these
# Environment: OUT (results folder), SEED (default 1), DATA_DIR (default: plastic's --data-dir
# default, datasets), PLASTIC (a built
# binary; default: go build into a temporary folder), JOBS (fig3 --jobs; default: all CPUs).
# Fashion-MNIST is used only when its four IDX files are in $DATA_DIR/fashion-mnist
# (fetch them with `plastic data fetch fashion-mnist`); otherwise it is left out of --data.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/paper}
SEED=${SEED:-1}
datadir_flag=()
[[ -n "${DATA_DIR:-}" ]] && datadir_flag=(--data-dir "$DATA_DIR")
DATA_DIR=${DATA_DIR:-datasets}
if [[ -z "${PLASTIC:-}" ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	go build -o "$tmp/plastic" ./cmd/plastic
	PLASTIC=$tmp/plastic
fi
fashion=no
if ls "$DATA_DIR"/fashion-mnist/train-images-idx3-ubyte* "$DATA_DIR"/fashion-mnist/t10k-labels-idx1-ubyte* >/dev/null 2>&1; then
	fashion=yes
else
	echo "Fashion-MNIST files not found under $DATA_DIR/fashion-mnist: left out (plastic data fetch fashion-mnist)" >&2
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
run() { # name, extra flags...
	local name=$1
	shift
	echo "== paper $name (seed $SEED) ==" >&2
	local t0=$SECONDS
	"$PLASTIC" --seed "$SEED" --out "$OUT" "${datadir_flag[@]}" --config "configs/$name.flags" \
		paper "$name" --name "$name-s$SEED-$stamp" "$@"
	echo "== paper $name: $((SECONDS - t0)) s ==" >&2
}
experiments=("$@")
[[ ${#experiments[@]} -eq 0 ]] && experiments=(classic optimal fig2 table2 fig6 fig3)
for e in "${experiments[@]}"; do
	case $e in
	table2)
		if [[ $fashion == yes ]]; then run table2; else run table2 --data mnist; fi
		;;
	fig3)
		extra=()
		[[ -n "${JOBS:-}" ]] && extra+=(--jobs "$JOBS")
		if [[ $fashion == yes ]]; then
			run fig3 "${extra[@]}"
		else
			run fig3 --data halfspace,relu1,relu2,rnn-labelled,mnist "${extra[@]}"
		fi
		;;
	classic | optimal | fig2 | fig6) run "$e" ;;
	*)
		echo "unknown experiment $e (want classic, optimal, fig2, table2, fig6, fig3)" >&2
		exit 2
		;;
	esac
done
