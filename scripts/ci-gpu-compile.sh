#!/usr/bin/env bash
# ci-gpu-compile.sh: proves on a machine without a GPU that the `gpu`-tagged
# code compiles, vets clean, and that its run-time loader finds every
# driver, cuBLAS and NVRTC symbol it uses in the CUDA 11.8 libraries.
#
#   1. scripts/cuda-headers.sh (cached in ${CUDA_HEADERS_DIR:-$HOME/.cache/plastic/cuda-11.8};
#      only the first run downloads)
#   2. go build -tags gpu ./...  and  go vet -tags gpu ./cuda/...
#   3. go test -tags gpu of the loader against the 11.8 link stubs (cuInit
#      must fail with CUDA_ERROR_STUB_LIBRARY after every symbol resolved)
#      and with no driver at all (--device auto must fall back to the CPU).
#
# The gpu code dlopens libcuda/libcublas/libnvrtc at run time, so nothing
# is linked against the stubs (CGO_LDFLAGS stays empty); the stubs are
# loaded by the test in step 3 instead. No GPU is needed; a few seconds
# when the header cache and Go build cache are warm.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$(bash scripts/cuda-headers.sh | tail -n 1)
STUBS=$ROOT/usr/lib/x86_64-linux-gnu/stubs
export CGO_ENABLED=1
export CGO_CFLAGS="-I$ROOT/usr/include"
export CGO_LDFLAGS=""

echo "ci-gpu-compile: go build -tags gpu ./..."
go build -tags gpu ./...
echo "ci-gpu-compile: go vet -tags gpu ./cuda/..."
go vet -tags gpu ./cuda/...
echo "ci-gpu-compile: loader against the CUDA 11.8 stubs"
PLASTIC_EXPECT=stub PLASTIC_CUDA_LIB_DIRS=$STUBS \
	go test -tags gpu -count=1 -run '^(TestGPULoader|TestResolve)$' ./cuda/
if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
	echo "ci-gpu-compile: loader with no driver on this machine"
	PLASTIC_EXPECT=none go test -tags gpu -count=1 -run '^(TestGPULoader|TestResolve)$' ./cuda/
fi
echo "ci-gpu-compile: ok"
