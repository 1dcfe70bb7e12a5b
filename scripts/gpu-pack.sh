#!/usr/bin/env bash
# gpu-pack.sh: carry this project to the GPU machine (no Go toolchain, no
# internet there) and run the GPU checks.
#
#   bash scripts/gpu-pack.sh        (here) fill .vendor-gpu/ (git-ignored, < 64 MiB):
#       go-trim.tar.gz               GOROOT without tests, testdata, api, doc, misc, src/cmd
#       vendor.tar.gz                `go mod vendor` of this module (written outside the tree)
#       cuda-11.8-include.tar.gz     the CUDA 11.8 headers (scripts/cuda-headers.sh)
#       MANIFEST                     sizes, sha256, Go version, the commit packed
#
#   bash scripts/gpu-pack.sh run    (there) with .vendor-gpu carried along:
#       unpack into ${PLASTIC_GPU_WORK:-/tmp/plastic-gpu}, copy the tree to
#       $WORK/src (the checkout itself gets no vendor/ folder), build with
#       scripts/gpu-build.sh, then write to ${OUT:-$WORK/out}:
#         gpu-check.txt   go test -tags gpu -v ./cuda/  (every kernel vs the CPU reference; GPU required)
#         gpu-bench.txt   SGEMM 2048 GFLOP/s, batched plasticity step, NeuroPlastic step
#         torch-peer.txt  the same three measured with the machine's PyTorch
#
# The exact command for a session with a GPU (the device `run` tool):
#   run(command="bash scripts/gpu-pack.sh run", carry=[".vendor-gpu"], timeout_s=600)
# Re-pack after go.mod changes (vendor/modules.txt must match go.mod).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "gpu-pack.sh: $*" >&2; exit 1; }
PACK=$PWD/.vendor-gpu

pack() {
	command -v go >/dev/null || die "no go on PATH"
	local goroot ver tmp
	goroot=$(go env GOROOT)
	ver=$(go env GOVERSION)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/plastic-pack.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	mkdir -p "$PACK"
	rm -f "$PACK"/*.tar.gz "$PACK"/MANIFEST

	echo "gpu-pack.sh: trimmed GOROOT ($ver from $goroot)" >&2
	tar -C "$(dirname "$goroot")" -czf "$PACK/go-trim.tar.gz" \
		--exclude="$(basename "$goroot")/test" --exclude="$(basename "$goroot")/api" \
		--exclude="$(basename "$goroot")/doc" --exclude="$(basename "$goroot")/misc" \
		--exclude="$(basename "$goroot")/src/cmd" --exclude="$(basename "$goroot")/pkg/tool/linux_amd64/fix" \
		--exclude='testdata' --exclude='*_test.go' --exclude='.git*' \
		--transform "s,^$(basename "$goroot"),go," "$(basename "$goroot")"

	echo "gpu-pack.sh: go mod vendor" >&2
	go mod vendor -o "$tmp/vendor"
	tar -C "$tmp" -czf "$PACK/vendor.tar.gz" vendor

	echo "gpu-pack.sh: CUDA 11.8 headers" >&2
	local root
	root=$(bash scripts/cuda-headers.sh | tail -n 1)
	tar -C "$root" -czf "$PACK/cuda-11.8-include.tar.gz" usr/include

	{
		echo "go $ver"
		echo "commit $(git rev-parse HEAD 2>/dev/null || echo unknown)"
		echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		(cd "$PACK" && for f in *.tar.gz; do echo "$(stat -c %s "$f") $(sha256sum "$f" | cut -d' ' -f1) $f"; done)
	} > "$PACK/MANIFEST"
	local total
	total=$(du -cb "$PACK"/* | tail -n1 | cut -f1)
	cat "$PACK/MANIFEST" >&2
	echo "gpu-pack.sh: $PACK holds $((total / 1048576)) MiB" >&2
	((total < 64 * 1048576)) || die "the pack is $total bytes, over 64 MiB"
	echo "gpu-pack.sh: on the GPU machine run: bash scripts/gpu-pack.sh run   (carry .vendor-gpu)" >&2
}

run() {
	[[ -f $PACK/MANIFEST ]] || die "no $PACK/MANIFEST: run 'bash scripts/gpu-pack.sh' first and carry .vendor-gpu"
	local work=${PLASTIC_GPU_WORK:-/tmp/plastic-gpu}
	local out=${OUT:-$work/out}
	mkdir -p "$work" "$out"
	(cd "$PACK" && tail -n +4 MANIFEST | while read -r size sum f; do
		echo "$sum  $f" | sha256sum -c --quiet - || die "$f is corrupt"
	done)
	[[ -x $work/go/bin/go ]] || tar -C "$work" -xzf "$PACK/go-trim.tar.gz"
	if [[ ! -f $work/cuda-11.8/usr/include/cuda.h ]]; then
		mkdir -p "$work/cuda-11.8" && tar -C "$work/cuda-11.8" -xzf "$PACK/cuda-11.8-include.tar.gz"
	fi
	# A private copy of the tree, so the checkout never gets a vendor/ folder.
	rm -rf "$work/src" && mkdir -p "$work/src"
	tar -C "$PWD" --exclude=./.vendor-gpu --exclude=./.git --exclude=./vendor -cf - . | tar -C "$work/src" -xf -
	tar -C "$work/src" -xzf "$PACK/vendor.tar.gz"
	export GOROOT=$work/go PATH=$work/go/bin:$PATH GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOPROXY=off \
		GOCACHE=$work/gocache GOTELEMETRY=off CUDA_HEADERS_DIR=$work/cuda-11.8
	cd "$work/src"
	{ go version; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true; } | tee "$out/machine.txt"
	local exportline
	exportline=$(bash scripts/gpu-build.sh 2>&1 | tee "$out/gpu-build.txt" | tail -n 1)
	[[ $exportline == export\ PLASTIC_CUDA_LIB_DIRS=* ]] || die "gpu-build.sh failed (see $out/gpu-build.txt)"
	eval "$exportline"
	export LD_LIBRARY_PATH=$PLASTIC_CUDA_LIB_DIRS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export CGO_ENABLED=1 CGO_CFLAGS="-I$CUDA_HEADERS_DIR/usr/include"
	local rc=0
	PLASTIC_REQUIRE_GPU=1 go test -tags gpu -count=1 -v ./cuda/ 2>&1 | tee "$out/gpu-check.txt" || rc=1
	go test -tags gpu -count=1 -run '^$' -bench GPU -benchtime 20x ./cuda/ 2>&1 | tee "$out/gpu-bench.txt" || rc=1
	if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
		python3 - <<'PY' 2>&1 | tee "$out/torch-peer.txt" || rc=1
# PyTorch peer of the three Go GPU benchmarks, same shapes, same GPU.
import time, torch
torch.backends.cuda.matmul.allow_tf32 = False  # the Go side runs plain FP32 SGEMM
dev = "cuda"
def timed(fn, n):
    fn(); torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n): fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t
n = 2048
a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
el = timed(lambda: a @ b, 20)
print(f"torch {torch.__version__} sgemm 2048 GFLOP/s={2 * n**3 * 20 / el / 1e9:.0f}")

# NeuroPlastic classic step (rule_based, parameter-wise) on 11M parameters.
N = 11 << 20
p, g = torch.ones(N, device=dev), torch.full((N,), 0.01, device=dev)
m, v, act = torch.zeros_like(p), torch.zeros_like(p), g.abs().clone()
def np_step(lr=0.1, eps=1e-8):
    global m, v, act
    ag = g.abs()
    act.mul_(0.95).add_(ag, alpha=0.05); m.mul_(0.9).add_(g, alpha=0.1); v.mul_(0.99).addcmul_(g, g, value=0.01)
    r = m.abs() / (v.sqrt() + eps)
    a_g = (ag / (ag.mean() + eps)).clamp(0.2, 2.0)
    a_f = (0.4 * act / (act.mean() + eps) + 0.4 * ag / (ag.mean() + eps) + 0.2 * r / (r.mean() + eps)).clamp(0.2, 2.0)
    u = (a_g + (a_f - a_g)) * g
    nrm = u.norm()
    u = torch.where(nrm > 1.0, u * (1.0 / (nrm + eps)), u)
    rms = (u.pow(2).mean() + eps).sqrt()
    gain = (1 + 0.01 * (0.02 - rms)).clamp(0.5, 1.5)
    p.sub_(lr * gain * u)
el = timed(np_step, 20)
print(f"torch neuroplastic-step 11M ms/step={el / 20 * 1e3:.3f}")

# Batched plasticity step: B=10 networks, |V|=1000, k=500, T=3, n=784.
B, V, Nin, M, K, T, eta = 10, 1000, 784, 10, 500, 3, 0.01
S = 1 << T
Am = torch.randn(V, Nin, device=dev); W = torch.zeros(B, V, V, device=dev)
Mg = (torch.rand(B, V, V, device=dev) < 0.5).float(); U = torch.zeros(B, M, V, device=dev)
rule, ro = torch.randn(S, S, device=dev), torch.randn(S, 2, device=dev)
data = torch.rand(1000, Nin, device=dev)
idx = torch.randint(0, 1000, (100, B), device=dev); lab = torch.randint(0, M, (100, B), device=dev)
ar = torch.arange(B, device=dev)
def cap(z):
    vals, ind = torch.topk(z, K, dim=1)
    return torch.zeros_like(z).scatter_(1, ind, vals)
def steps():
    global W, U
    for s in range(100):
        x = data[idx[s]]; y = lab[s]
        inp = x @ Am.T
        h = cap(torch.relu(inp)); codes = (h != 0).long()
        Wm = W * Mg
        for _ in range(T - 1):
            h = cap(torch.relu(torch.bmm(Wm, (h + inp).unsqueeze(2)).squeeze(2)))
            codes = codes * 2 + (h != 0).long()
        logits = torch.bmm(U, h.unsqueeze(2)).squeeze(2)
        pred = logits.argmax(1); fl = (pred != y).float()
        W += eta * rule[codes.unsqueeze(1), codes.unsqueeze(2)] * fl[:, None, None]
        dU = torch.zeros_like(U)
        dU[ar, pred] = ro[codes, 1]
        dU[ar, y] = ro[codes, 0]
        U += eta * dU * fl[:, None, None]
el = timed(steps, 3)
print(f"torch plastic-step B=10 V=1000 k=500 T=3 network-examples/s={3 * 100 * B / el:.0f}")
PY
	else
		echo "no CUDA PyTorch on this machine: no peer timings" | tee "$out/torch-peer.txt"
	fi
	echo "gpu-pack.sh: results in $out (rc=$rc)" >&2
	return $rc
}

case ${1:-pack} in
pack) pack ;;
run) run ;;
*) die "usage: gpu-pack.sh [pack|run]" ;;
esac
