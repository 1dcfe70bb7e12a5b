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
#        TORCH_MLP_THREADS=1  threads of PyTorch's MLP runs (its ResNet-18 step uses 2)
#        SKIP_TORCH=1      no PyTorch (needs /usr/bin/python3 with torch otherwise)
#        SKIP_RESNET=1     no ResNet-18 step
#        SKIP_RULES=1      no rule learn / rule train
#        WORK=DIR          keep binaries and runs there (default: a temporary folder)
#        TORCH_LIBBLAS_DIR=DIR  a folder with OpenBLAS's libblas.so.3 for PyTorch's library
#                          path: Debian's python3-torch does its matrix products (nn.Linear)
#                          with the system libblas.so.3, the slow reference BLAS unless
#                          OpenBLAS is installed; the script warns when it measures that
#
# The figures:
#   train-adam   plastic train --model mlp --dataset mnist --optimizer adam --lr 1e-3,
#                EPOCHS x 60000 samples / process wall time (data loading, evaluations,
#                checkpoints included)
#   train-np     the same with configs/neuroplastic-mnist-best.flags
#   step-adam    go test ./models -bench '^BenchmarkMLPTrainStep$' (300 steps, batch 128)
#   step-np      go test ./models -bench '^BenchmarkMLPTrainStepNeuroPlastic$'
#   torch-train  torch_e2e.py mlp-train: the same run in PyTorch, process wall, with
#                TORCH_MLP_THREADS threads (default 1: PyTorch's MLP is much faster with one
#                thread than with two on this shared 2-core machine)
#   torch-step   torch_e2e.py mlp-step, same threads
#   resnet       go test ./models -bench '^BenchmarkResNet18TrainStep$' (batch 128, Adam)
#   torch-resnet torch_e2e.py resnet18-step (2 threads)
#   learn        plastic rule learn, |V|=100 k=50 T=3 on 10-d halfspace (BenchmarkMetaStep's
#                sizes), 10000 examples, batches of 100, 3 epochs: meta steps / process wall
#   metastep     go test ./plasticity -bench 'MetaStep/misclassified'
#   ruletrain    plastic rule train with the learned RNN+output tables, |V|=1000 k=500 T=3,
#                every example, 10000 MNIST images, one pass, the test accuracy after
#                it (and the pass's online accuracy; --train-eval would classify the
#                training set again, ~25% more time): training examples / process wall
#   ruletrain-pass  the same run's own samples/s of its training pass (no evaluation)
#   rulebench    go test ./plasticity -bench 'RuleTraining' (examples/s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-2}
EPOCHS=${EPOCHS:-10}
RESNET_STEPS=${RESNET_STEPS:-3}
TMT=${TORCH_MLP_THREADS:-1}
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

# Every figure is printed as "NAME WALL_RATE CPU_RATE": per second of wall
# time, and per CPU-second of the process (all its threads), which other jobs
# on a shared machine disturb much less. Processes are timed from outside
# (bash's time: wall, user + system); benchmarks report both themselves.
TIMEFORMAT='%R %U %S'
# rate NAME COUNT CMD...: runs CMD; COUNT / its wall and CPU time.
rate() {
	local name=$1 count=$2 times
	shift 2
	times=$({ time "$@" >"$WORK/$name.log" 2>&1; } 2>&1) || { cat "$WORK/$name.log" >&2; exit 1; }
	echo "$times" | awk -v n="$name" -v c="$count" '{printf "%s %.1f %.1f\n", n, c / $1, c / ($2 + $3)}'
}
# bench NAME UNIT BINARY ARGS...: a go test benchmark's UNIT and UNIT per
# CPU-second (the benchmark's own, or COUNT / the process CPU time when
# COUNT is given as the env var N).
bench() {
	local name=$1 unit=$2 out times wall cpu
	shift 2
	times=$({ time "$@" >"$WORK/$name.log" 2>&1; } 2>&1) || { cat "$WORK/$name.log" >&2; exit 1; }
	out=$(cat "$WORK/$name.log")
	wall=$(echo "$out" | grep -o "[0-9.]* $unit" | head -1 | cut -d' ' -f1 || true)
	cpu=$(echo "$out" | grep -o "[0-9.]* ${unit%/s}/cpu-s" | head -1 | cut -d' ' -f1 || true)
	if [[ -z $cpu && -n ${N:-} ]]; then
		cpu=$(echo "$times" | awk -v c="$N" '{printf "%.1f", c / ($2 + $3)}')
	fi
	echo "$name $wall ${cpu:-0}"
}
# torch NAME ARGS...: the rates the PyTorch script prints.
torch() {
	local name=$1 out
	shift
	out=$(tpy scripts/peer/torch_e2e.py "$@")
	echo "$name $(echo "$out" | grep -o 'samples/s=[0-9.]*' | tail -1 | cut -d= -f2) $(echo "$out" | grep -o 'samples/cpu-s=[0-9.]*' | tail -1 | cut -d= -f2)"
}
# tpy runs PyTorch's Python, with TORCH_LIBBLAS_DIR first on the library
# path when set (a folder with OpenBLAS's libblas.so.3, see above).
tpy() {
	local th=2 i j # torch_e2e.py's default --threads
	[[ $1 == -c ]] && th=1
	for ((i = 1; i < $#; i++)); do
		j=$((i + 1))
		[[ ${!i} == --threads ]] && th=${!j}
	done
	# OpenBLAS's own threads would compete with PyTorch's: as many as PyTorch's.
	OPENBLAS_NUM_THREADS=$th LD_LIBRARY_PATH=${TORCH_LIBBLAS_DIR:-}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} $PY "$@"
}

if [[ -z ${SKIP_TORCH:-} ]]; then
	gf=$(tpy -c 'import torch, time
torch.set_num_threads(1); a = torch.rand(512, 512); a @ a; t = time.perf_counter()
for _ in range(20): a @ a
print(round(20 * 2 * 512**3 / (time.perf_counter() - t) / 1e9, 1))')
	echo "PyTorch matmul: $gf GFLOP/s on one thread" >&2
	if awk -v g="$gf" 'BEGIN {exit !(g < 15)}'; then
		echo "bench-e2e: warning: PyTorch runs on the reference BLAS here (Debian's python3-torch uses whatever" >&2
		echo "  libblas.so.3 is installed): its MLP figures are far below what it does with OpenBLAS. Install" >&2
		echo "  libopenblas0-pthread, or unpack it (apt-get download libopenblas0-pthread; dpkg -x ...) and set" >&2
		echo "  TORCH_LIBBLAS_DIR=.../usr/lib/x86_64-linux-gnu/openblas-pthread" >&2
	fi
fi

results="$WORK/results.txt"
: >"$results"
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r ($(uptime | sed 's/.*load average/load average/'))"
	{
		rate train-adam $((EPOCHS * 60000)) "$P" -q --out "$WORK/runs" train --model mlp --dataset mnist \
			--optimizer adam --lr 1e-3 --epochs "$EPOCHS"
		bench step-adam samples/s "$WORK/models.test" -test.run '^$' -test.bench '^BenchmarkMLPTrainStep$' -test.benchtime 300x
		if [[ -z ${SKIP_TORCH:-} ]]; then
			rate torch-train $((EPOCHS * 60000)) tpy scripts/peer/torch_e2e.py mlp-train --threads "$TMT" --mnist "$MNIST" \
				--epochs "$EPOCHS" --checkpoint "$WORK/torch-checkpoint.pt"
			torch torch-step mlp-step --steps 300 --threads "$TMT"
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
			N=300 bench metastep steps/s "$WORK/plasticity.test" -test.run XXX -test.bench 'MetaStep/misclassified' -test.benchtime 300x
			rate ruletrain 10000 "$P" -q --out "$WORK/runs" rule train --rules "$WORK/runs/bench-learn/rules.json" \
				--data mnist --n-train 10000 --nodes 1000 --cap 500 --rounds 3 --every-example --passes 1 --name bench-ruletrain
			echo "ruletrain-pass $(grep -o '"samples_per_s": [0-9.]*' "$WORK/runs/bench-ruletrain/summary.json" | head -1 | awk '{printf "%.1f", $2}') 0"
			N=3000 bench rulebench examples/s "$WORK/plasticity.test" -test.run XXX -test.bench 'RuleTraining' -test.benchtime 3000x
		fi
	} | tee -a "$results"
done

# The best figure of each measurement over the rounds, and their ratios,
# per wall second and per CPU-second.
awk '
	{
		if (!($1 in best) || $2 > best[$1]) best[$1] = $2
		if (!($1 in bcpu) || $3 > bcpu[$1]) bcpu[$1] = $3
	}
	function ratio(label, a, b, target) {
		if ((a in best) && (b in best) && best[b] > 0) {
			c = (bcpu[b] > 0 && bcpu[a] > 0) ? sprintf("%8.2f", bcpu[a] / bcpu[b]) : "       -"
			printf "%-54s %8.2f %s   %s\n", label, best[a] / best[b], c, target
		}
	}
	END {
		print ""
		print "best of the rounds:        per second   per CPU-second"
		for (k in best) printf "  %-16s %14.1f %16.1f\n", k, best[k], bcpu[k] | "sort"
		close("sort")
		print ""
		printf "%-54s %8s %8s\n", "ratios (of the best figures):", "wall", "CPU"
		ratio("plastic train MLP Adam whole run / step benchmark", "train-adam", "step-adam", "(target >= 0.8)")
		ratio("plastic train MLP Adam whole run / PyTorch whole run", "train-adam", "torch-train", "(target >= 2.5)")
		ratio("plastic train MLP NeuroPlastic whole run / its step", "train-np", "step-np", "")
		ratio("MLP step / PyTorch step", "step-adam", "torch-step", "")
		ratio("ResNet-18 step / PyTorch (2 threads)", "resnet", "torch-resnet", "(target >= 1.0)")
		ratio("rule train end to end / BenchmarkRuleTraining", "ruletrain", "rulebench", "(target >= 0.8)")
		ratio("rule train training pass / BenchmarkRuleTraining", "ruletrain-pass", "rulebench", "")
		ratio("rule learn end to end / BenchmarkMetaStep", "learn", "metastep", "")
	}' "$results"
echo "(units: samples/s, examples/s or steps/s; logs and runs in $WORK)"
