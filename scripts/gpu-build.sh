#!/usr/bin/env bash
# gpu-build.sh: build `plastic` with GPU support (-tags gpu) on the machine
# that has the GPU, and gather the CUDA libraries it will load.
#
#   bash scripts/gpu-build.sh            build ./plastic, prepare .cuda/lib, print the export line
#   bash scripts/gpu-build.sh --lib-dir  only prepare .cuda/lib and print its path
#
# Compile: with the CUDA 11.8 headers (${CUDA_HEADERS_DIR:-$HOME/.cache/plastic/cuda-11.8},
# from scripts/cuda-headers.sh, or unpacked by `scripts/gpu-pack.sh run`).
# The headers give the prototypes and the versioned symbol names of the
# few driver (cuMemAlloc_v2, cuLaunchKernel, ...), cuBLAS (cublasSgemm_v2,
# cublasSgemmStridedBatched) and NVRTC entry points used; those keep their
# ABI in CUDA 12 and 13. Nothing is linked: the binary dlopens the
# libraries when a GPU is first asked for, so it also starts (and
# `--device auto` falls back to the CPU) where no CUDA is installed.
#
# Run time: the binary looks in $PLASTIC_CUDA_LIB_DIRS, the loader's path,
# then /usr/local/cuda/lib64. This script makes .cuda/lib, one folder of
# symlinks to this machine's libcuda.so.1 (driver), libcublas.so.N +
# libcublasLt.so.N and libnvrtc.so.N (+ its builtins), found in the CUDA
# toolkit or in NVIDIA's Python wheels (site-packages/nvidia/*/lib).
#
# Supported: driver API of CUDA 11.x-13.x drivers (checked: symbols in the
# 11.8 libraries; the GPU machine has driver 580 / CUDA 13, to verify);
# cuBLAS 11, 12, 13; NVRTC 11.2+, 12, 13; any compute capability the
# NVRTC can target (cubin for sm_XY, else PTX for compute_XY, JIT by the
# driver).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "gpu-build.sh: $*" >&2; exit 1; }

# --- gather the run-time libraries into .cuda/lib ---------------------------
LIB=$PWD/.cuda/lib
mkdir -p "$LIB"
candidates() {
	local d
	[[ -n ${PLASTIC_CUDA_LIB_DIRS:-} ]] && tr ':' '\n' <<<"$PLASTIC_CUDA_LIB_DIRS"
	for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64 \
		/usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib/wsl/lib; do
		[[ -d $d ]] && echo "$d"
	done
	# NVIDIA's Python wheels (cuBLAS/NVRTC for PyTorch)
	for d in /usr/local/lib/python3*/dist-packages/nvidia/*/lib /usr/lib/python3/dist-packages/nvidia/*/lib \
		/usr/local/lib/python3*/site-packages/nvidia/*/lib "$HOME"/.local/lib/python3*/site-packages/nvidia/*/lib \
		/opt/conda/lib/python3*/site-packages/nvidia/*/lib; do
		[[ -d $d ]] && echo "$d"
	done
	if command -v python3 >/dev/null; then
		python3 - 2>/dev/null <<'PY' || true
import glob, os, site
for p in site.getsitepackages() + [site.getusersitepackages()]:
    for d in glob.glob(os.path.join(p, "nvidia", "*", "lib")):
        print(d)
PY
	fi
	return 0
}
find_lib() { # find_lib name... -> first path
	local n d
	for n in "$@"; do
		while read -r d; do
			[[ -e $d/$n ]] && { echo "$d/$n"; return 0; }
		done < <(candidates)
		d=$(ldconfig -p 2>/dev/null | awk -v n="$n" '$1 == n {print $NF; exit}')
		[[ -n $d && -e $d ]] && { echo "$d"; return 0; }
	done
	return 1
}
link_lib() { # link_lib required? names...
	local req=$1; shift
	local p
	if p=$(find_lib "$@"); then
		ln -sfn "$p" "$LIB/$(basename "$p")"
		echo "  $(basename "$p") -> $p" >&2
		echo "$p"
	elif [[ $req == required ]]; then
		echo "  MISSING one of: $*" >&2
		return 1
	fi
}
echo "gpu-build.sh: CUDA libraries for run time (in $LIB):" >&2
missing=0
link_lib required libcuda.so.1 >/dev/null || missing=1
if blas=$(link_lib required libcublas.so.13 libcublas.so.12 libcublas.so.11); then
	v=${blas##*.so.}
	link_lib optional "libcublasLt.so.$v" >/dev/null || true
else
	missing=1
fi
if nvrtc=$(link_lib required libnvrtc.so.13 libnvrtc.so.12 libnvrtc.so.11.2); then
	v=${nvrtc##*.so.}
	v=${v%%.*}
	# NVRTC dlopens its builtins library by soname
	for b in "$(dirname "$nvrtc")"/libnvrtc-builtins.so.*; do
		[[ -e $b ]] && ln -sfn "$b" "$LIB/$(basename "$b")"
	done
else
	missing=1
fi
if [[ ${1:-} == --lib-dir ]]; then
	echo "$LIB"
	exit $missing
fi
if [[ $missing == 1 ]]; then
	echo "gpu-build.sh: warning: some CUDA libraries were not found; the binary will report it and use the CPU" >&2
fi

# --- build -------------------------------------------------------------------
ROOT=${CUDA_HEADERS_DIR:-$HOME/.cache/plastic/cuda-11.8}
[[ -f $ROOT/usr/include/cuda.h && -f $ROOT/usr/include/cublas_v2.h && -f $ROOT/usr/include/nvrtc.h ]] ||
	die "no CUDA 11.8 headers in $ROOT (run scripts/cuda-headers.sh where Debian's archive is reachable, or set CUDA_HEADERS_DIR)"
command -v go >/dev/null || die "no Go toolchain on PATH (without one: scripts/gpu-check.sh ships prebuilt binaries)"
echo "gpu-build.sh: go build -tags gpu -o plastic ./cmd/plastic (headers: $ROOT)" >&2
CGO_ENABLED=1 CGO_CFLAGS="-I$ROOT/usr/include" CGO_LDFLAGS="" go build -tags gpu -o plastic ./cmd/plastic
echo "gpu-build.sh: built ./plastic; before running it:" >&2
echo "export PLASTIC_CUDA_LIB_DIRS=$LIB"
