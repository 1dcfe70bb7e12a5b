# Shared by the scripts/np-*.sh experiment scripts of the NeuroPlastic paper
# (source it; do not run it). It builds the plastic binary once and offers
# need_data, which stops the script with a clear message when a data set's
# files are absent.
#
# Environment: PLASTIC (binary, default ./plastic, built from ./cmd/plastic),
# OUT (results folder, default runs), DATA (data folder, default datasets),
# JOBS (cells trained at once, default 1; the MLP runs use all cores anyway),
# SEED (first seed, default 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PLASTIC=${PLASTIC:-./plastic}
OUT=${OUT:-runs}
DATA=${DATA:-datasets}
JOBS=${JOBS:-1}
SEED=${SEED:-1}
if [[ ! -x $PLASTIC || -n ${REBUILD:-} ]]; then
	go build -o "$PLASTIC" ./cmd/plastic
fi

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# need_data NAME: the data set's files must be in $DATA (MNIST also works
# from the GoMNIST module); otherwise stop with the files and how to get them.
need_data() {
	local check
	if ! check=$("$PLASTIC" -q --data-dir "$DATA" data verify "$1" 2>&1); then
		echo "$check" >&2
		die "data set $1 is not in $DATA/$1 (files listed above). Download it with '$PLASTIC --data-dir $DATA data fetch $1' on a machine with network access, or copy the files there by hand; nothing was trained."
	fi
}

# sweep ARGS...: plastic sweep with the common global flags.
sweep() {
	"$PLASTIC" --out "$OUT" --data-dir "$DATA" --seed "$SEED" "$@"
}

# plot ARGS...: plastic plot with the common global flags.
plot() {
	"$PLASTIC" --out "$OUT" "$@"
}
