#!/usr/bin/env bash
# robustness.sh: Fig. 5 and Table 2's robustness columns of "Learning with
# Plasticity Rules": simple RNNs with |V| = 1000, k = 500 trained on MNIST
# (10,000 training images, 2 passes) by rules with T=1, T=1* (A all ones) and
# T=3 (an RNN rule given by a small NN, 20 hidden units, learned on
# |V| = 200, k = 100, with the perceptron output rule:
# configs/t3-rule-learn-mnist.flags), and the same network
# trained by GD (everything, Adam), each attacked by the paper's targeted L2
# attack on 100 random test images at eps = 0, 0.5, ..., 4.
#
#   scripts/robustness.sh                 # everything into runs/robustness
#   OUT=/tmp/rob SEED=2 GD_ROUNDS=1 scripts/robustness.sh
#
# Steps (each one `plastic` command, its run folder named after the step):
#   rule-t3      plastic --config configs/t3-rule-learn-mnist.flags rule learn (META_EPOCHS epochs)
#   attack-t1    plastic attack --rules perceptron --rounds 1
#   attack-t1s   plastic attack --rules perceptron --rounds 1 --input-ones
#   attack-t3    plastic attack --rules rule-t3/rules.json --rounds 3
#   gd           plastic gd train (GD_ROUNDS rounds, default 3)
#   attack-gd    plastic attack --run gd
#   fig5         plastic attack plot (fig5.png/.svg/.csv in OUT)
#   examples-*   plastic attack examples --eps 2 (Fig. 4) for T=3 and GD
# The attack runs also keep the rule-trained networks (network.rnn).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-runs/robustness}
SEED=${SEED:-1}
META_EPOCHS=${META_EPOCHS:-2}
# The T=3 rule: configs/t3-rule-learn-mnist.flags (softmax-ce loss, eta 0.01),
# used with the same firing definition (--firing, top-k by default for every
# step) and eta. META_FLAGS: extra `rule learn` flags.
META_FLAGS=${META_FLAGS:-}
GD_ROUNDS=${GD_ROUNDS:-3}
BIN=${BIN:-$OUT/plastic}

mkdir -p "$OUT"
go build -o "$BIN" ./cmd/plastic
P() { "$BIN" --out "$OUT" --seed "$SEED" "$@"; }
ATTACK=(--config configs/attack-paper.flags)
NET=(--config configs/table2-robust.flags)

step() { echo "== $1 ($(date +%T))" >&2; }

if [[ ! -f $OUT/rule-t3/rules.json ]]; then
	step "learn the T=3 RNN rule (small NN) on |V|=200, k=100"
	# shellcheck disable=SC2086
	P --config configs/t3-rule-learn-mnist.flags rule learn --epochs "$META_EPOCHS" $META_FLAGS --name rule-t3
fi

# The global --config files go before the command; command flags after it.
attack_rules() { # name, label, rule flags...
	local name=$1 label=$2
	shift 2
	if [[ ! -f $OUT/$name/robustness.csv ]]; then
		rm -rf "${OUT:?}/$name"
		step "$name"
		P "${ATTACK[@]}" "${NET[@]}" attack --name "$name" --label "$label" "$@"
	fi
}

attack_rules attack-t1 "rules, T=1" --rules perceptron --rounds 1
attack_rules attack-t1s "rules, T=1*" --rules perceptron --rounds 1 --input-ones
attack_rules attack-t3 "rules, T=3" --rules "$OUT/rule-t3/rules.json" --rounds 3

if [[ ! -f $OUT/gd/network.rnn ]]; then
	rm -rf "${OUT:?}/gd"
	step "gd train (T=$GD_ROUNDS)"
	P --config configs/table2-robust-gd.flags gd train --rounds "$GD_ROUNDS" --name gd
fi
if [[ ! -f $OUT/attack-gd/robustness.csv ]]; then
	rm -rf "${OUT:?}/attack-gd"
	step attack-gd
	P "${ATTACK[@]}" attack --run "$OUT/gd" --data mnist --label "GD, T=$GD_ROUNDS" --name attack-gd
fi

step "fig5"
P attack plot --save "$OUT/fig5" "$OUT/attack-t1" "$OUT/attack-t1s" "$OUT/attack-t3" "$OUT/attack-gd"
for n in t3 gd; do
	src=$OUT/attack-$n label="rules, T=3"
	[[ $n == gd ]] && src=$OUT/gd label="GD, T=$GD_ROUNDS"
	if [[ ! -f $OUT/examples-$n/examples.png ]]; then
		rm -rf "${OUT:?}/examples-$n"
		step "examples-$n"
		P attack examples --run "$src" --data mnist --eps 2 --images 8 --label "$label" --name "examples-$n"
	fi
done

echo "robust accuracy (eps: 0, 0.5, ..., 4):" >&2
for n in t1 t1s t3 gd; do
	printf '%-10s' "$n"
	tail -n +2 "$OUT/attack-$n/robustness.csv" | cut -d, -f2 | tr '\n' ' '
	echo
done
