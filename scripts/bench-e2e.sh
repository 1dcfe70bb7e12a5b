#!/usr/bin/env bash
# End-to-end speed: what a user runs (`plastic train`, `plastic rule train`,
# `plastic rule learn`, timed from outside as whole processes) beside the step
# benchmarks (go test -bench) and PyTorch doing the same (scripts/peer/torch_e2e.py),
# interleaved in one run so that the ratios compare measurements taken under the
# same machine load. Prints every figure per round, then the ratios of the best
# figure of each measurement over the rounds.
#
# Usage: scripts/bench-e2e.sh [ROUNDS]          (default 2)
# Env:   EPOCHS=10         epochs of the MLP MNIST runs (both sides evaluate the
#                          whole test set and write a checkpoint after every epoch)
#        RESNET_STEPS=3    ResNet-18 training steps per measurement
#        SKIP_TORCH=1      no PyTorch (needs /usr/bin/python3 with torch otherwise)
#        SKIP_RESNET=1     no ResNet-18 step
#        SKIP_RULES=1      no rule learn / rule train
#        WORK=DIR          keep binaries and runs there (default: a temporary folder)
#
# The figures:
#   train-adam   plastic train --model mlp --dataset mnist --optimizer adam --lr 1e-3,
#                EPOCHS x 60000 samples / process wall time (data loading, evaluations,
#                checkpoints included)
#   train-np     the same with configs/neuroplastic-mnist-best.flags
#   step-adam    go test ./models -bench '^BenchmarkMLPTrainStep$' (300 steps, batch 128)
#   step-np      go test ./models -bench '^BenchmarkMLPTrainStepNeuroPlastic$'
#   torch-train  torch_e2e.py mlp-train: the same run in PyTorch (2 threads), process wall
#   torch-train-1t  the same with 1 thread (PyTorch's MLP is faster so on 2 cores; the
#                ratio uses the better of the two)
#   torch-step, torch-step-1t  torch_e2e.py mlp-step, 2 and 1 threads
#   resnet       go test ./models -bench '^BenchmarkResNet18TrainStep$' (batch 128, Adam)
#   torch-resnet torch_e2e.py resnet18-step (2 threads)
#   learn        plastic rule learn, |V|=100 k=50 T=3 on 10-d halfspace (BenchmarkMetaStep's
#                sizes), 10000 examples, batches of 100, 3 epochs: meta steps / process wall
#   metastep     go test ./plasticity -bench 'MetaStep/misclassified'
#   ruletrain    plastic rule train with the learned RNN+output tables, |V|=1000 k=500 T=3,
#                every example, 10000 MNIST images, one pass, train and test accuracy
#                after it: training examples / process wall
#   ruletrain-pass  the same run's own samples/s of its training pass (no evaluation)
#   rulebench    go test ./plasticity -bench 'RuleTraining' (examples/s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-2}
EPOCHS=${EPOCHS:-10}
RESNET_STEPS=${RESNET_STEPS:-3}
PY=/usr/bin/python3
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"

if [[ -z ${SKIP_TORCH:-} ]] && ! $PY -c 'import torch' 2>/dev/null; then
	echo "bench-e2e: $PY cannot import torch (apt-get install -y python3-torch); set SKIP_TORCH=1 to time without it" >&2
	exit 1
fi

echo "building into $WORK" >&2
go build -o "$WORK/plastic" ./cmd/plastic
go test -c -o "$WORK/models.test" ./models
go test -c -o "$WORK/plasticity.test" ./plasticity
P="$WORK/plastic"
mnist_file=$("$P" data verify mnist | awk '$1 == "ok" {print $2; exit}')
if [[ -z $mnist_file ]]; then
	echo "bench-e2e: MNIST not found (plastic data verify mnist)" >&2
	exit 1
fi
MNIST=$(dirname "$mnist_file")

now() { date +%s.%N; }
# rate NAME COUNT CMD...: runs CMD, prints NAME and COUNT / its wall time.
rate() {
	local name=$1 count=$2 t0 t1
	shift 2
	t0=$(now)
	"$@" >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; exit 1; }
	t1=$(now)
	awk -v n="$name" -v c="$count" -v a="$t0" -v b="$t1" 'BEGIN {printf "%s %.1f\n", n, c / (b - a)}'
}
# bench NAME UNIT BINARY ARGS...: a go test benchmark's UNIT figure.
bench() {
	local name=$1 unit=$2 out
	shift 2
	out=$("$@" 2>&1) || { echo "$out" >&2; exit 1; }
	echo "$out" >"$WORK/$name.log"
	echo "$name $(echo "$out" | grep -o "[0-9.]* $unit" | head -1 | cut -d' ' -f1)"
}
# torch NAME ARGS...: the samples/s the PyTorch script prints.
torch() {
	local name=$1
	shift
	echo "$name $($PY scripts/peer/torch_e2e.py "$@" | grep -o 'samples/s=[0-9.]*' | tail -1 | cut -d= -f2)"
}

results="$WORK/results.txt"
: >"$results"
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r ($(uptime | sed 's/.*load average/load average/'))"
	{
		rate train-adam $((EPOCHS * 60000)) "$P" -q --out "$WORK/runs" train --model mlp --dataset mnist \
			--optimizer adam --lr 1e-3 --epochs "$EPOCHS"
		bench step-adam samples/s "$WORK/models.test" -test.run '^$' -test.bench '^BenchmarkMLPTrainStep$' -test.benchtime 300x
		if [[ -z ${SKIP_TORCH:-} ]]; then
			rate torch-train $((EPOCHS * 60000)) $PY scripts/peer/torch_e2e.py mlp-train --mnist "$MNIST" \
				--epochs "$EPOCHS" --checkpoint "$WORK/torch-checkpoint.pt"
			torch torch-step mlp-step --steps 300
			rate torch-train-1t $((EPOCHS * 60000)) $PY scripts/peer/torch_e2e.py mlp-train --threads 1 --mnist "$MNIST" \
				--epochs "$EPOCHS" --checkpoint "$WORK/torch-checkpoint.pt"
			torch torch-step-1t mlp-step --steps 300 --threads 1
		fi
		rate train-np $((EPOCHS * 60000)) "$P" -q --out "$WORK/runs" --config configs/neuroplastic-mnist-best.flags \
			train --model mlp --dataset mnist --epochs "$EPOCHS"
		bench step-np samples/s "$WORK/models.test" -test.run '^$' -test.bench '^BenchmarkMLPTrainStepNeuroPlastic$' -test.benchtime 300x
		if [[ -z ${SKIP_RESNET:-} ]]; then
			bench resnet samples/s "$WORK/models.test" -test.run '^$' -test.bench '^BenchmarkResNet18TrainStep$' -test.benchtime "${RESNET_STEPS}x"
			[[ -n ${SKIP_TORCH:-} ]] || torch torch-resnet resnet18-step --steps "$RESNET_STEPS"
		fi
		if [[ -z ${SKIP_RULES:-} ]]; then
			rm -rf "$WORK/runs/bench-learn" "$WORK/runs/bench-ruletrain"
			rate learn $((3 * 100)) "$P" -q --out "$WORK/runs" rule learn --data halfspace --n-train 10000 --n-test 1000 \
				--nodes 100 --cap 50 --rounds 3 --learn rnn,output --epochs 3 --batch 100 --name bench-learn
			bench metastep steps/s "$WORK/plasticity.test" -test.run XXX -test.bench 'MetaStep/misclassified' -test.benchtime 300x
			rate ruletrain 10000 "$P" -q --out "$WORK/runs" rule train --rules "$WORK/runs/bench-learn/rules.json" \
				--data mnist --n-train 10000 --nodes 1000 --cap 500 --rounds 3 --every-example --passes 1 --name bench-ruletrain
			echo "ruletrain-pass $(grep -o '"samples_per_s": [0-9.]*' "$WORK/runs/bench-ruletrain/summary.json" | head -1 | awk '{printf "%.1f", $2}')"
			bench rulebench examples/s "$WORK/plasticity.test" -test.run XXX -test.bench 'RuleTraining' -test.benchtime 3000x
		fi
	} | tee -a "$results"
done

# The best figure of each measurement over the rounds, and their ratios.
awk -v epochs="$EPOCHS" '
	{ if (!($1 in best) || $2 > best[$1]) best[$1] = $2 }
	function ratio(label, a, b, target) {
		if ((a in best) && (b in best) && best[b] > 0)
			printf "%-52s %8.2f   %s\n", label, best[a] / best[b], target
	}
	END {
		# PyTorch MLP: its better thread setting.
		if ("torch-train-1t" in best && best["torch-train-1t"] > best["torch-train"]) best["torch-train"] = best["torch-train-1t"]
		if ("torch-step-1t" in best && best["torch-step-1t"] > best["torch-step"]) best["torch-step"] = best["torch-step-1t"]
		print ""
		print "best of the rounds:"
		for (k in best) printf "  %-16s %10.1f\n", k, best[k]
		print ""
		print "ratios (of the best figures):"
		ratio("plastic train MLP Adam whole run / step benchmark", "train-adam", "step-adam", "(target >= 0.8)")
		ratio("plastic train MLP Adam whole run / PyTorch (best threads)", "train-adam", "torch-train", "(target >= 2.5)")
		ratio("plastic train MLP NeuroPlastic whole run / its step", "train-np", "step-np", "")
		ratio("MLP step / PyTorch step (best threads)", "step-adam", "torch-step", "")
		ratio("ResNet-18 step / PyTorch (2 threads)", "resnet", "torch-resnet", "(target >= 1.0)")
		ratio("rule train end to end / BenchmarkRuleTraining", "ruletrain", "rulebench", "(target >= 0.8)")
		ratio("rule train training pass / BenchmarkRuleTraining", "ruletrain-pass", "rulebench", "")
		ratio("rule learn end to end / BenchmarkMetaStep", "learn", "metastep", "")
	}' "$results"
echo "(units: samples/s, examples/s or steps/s; logs and runs in $WORK)"
