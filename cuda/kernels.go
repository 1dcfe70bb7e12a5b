package cuda

import (
	"fmt"
	"sort"
	"strings"
)

// This file holds the CUDA C source of every kernel, as Go strings compiled
// at run time by NVRTC (see nvrtc_gpu.go), and the table of their argument
// signatures that launches are checked against before any driver call.
//
// Conventions: every kernel is `extern "C"` and named pl_*; element-wise
// kernels use a grid-stride loop, so any grid size is correct and Linear()
// caps the grid; row kernels (softmax, cap, batch norm) run one block per
// row/channel and loop when the grid is smaller than the row count; block
// sizes are multiples of 32 (the block reductions use warp shuffles).
// Device memory is float32, int32 for labels/indices/codes.

// BlockSize is the thread-block size every kernel is launched with.
const BlockSize = 256

// kernelSigs maps each kernel to its argument signature, one letter per
// parameter: 'i' int, 'f' float, 'u' u64 (all passed by value), 'p' device
// pointer. It is parsed from the source itself, so it cannot drift from it.
var kernelSigs = mustParseSigs(kernelSource)

// KernelNames lists every kernel in the source, sorted.
func KernelNames() []string {
	names := make([]string, 0, len(kernelSigs))
	for n := range kernelSigs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// KernelSource returns the CUDA C translation unit with every kernel, with
// the block size baked in as PL_BLOCK (the reductions size their shared
// memory from it). It needs no headers: NVRTC compiles it as is.
func KernelSource(block int) (string, error) {
	if block < 32 || block > 1024 || block&(block-1) != 0 {
		return "", fmt.Errorf("cuda: block size %d: want a power of two in [32, 1024]", block)
	}
	return fmt.Sprintf("#define PL_BLOCK %d\n", block) + kernelSource, nil
}

// checkArgs verifies a launch's arguments against the kernel's signature.
func checkArgs(kernel string, args []any) error {
	sig, ok := kernelSigs[kernel]
	if !ok {
		return fmt.Errorf("cuda: unknown kernel %q", kernel)
	}
	if len(args) != len(sig) {
		return fmt.Errorf("cuda: %s takes %d arguments (%s), got %d", kernel, len(sig), sig, len(args))
	}
	for i, a := range args {
		var got byte
		switch a.(type) {
		case int32:
			got = 'i'
		case float32:
			got = 'f'
		case uint64:
			got = 'u'
		case DevPtr:
			got = 'p'
		default:
			return fmt.Errorf("cuda: %s argument %d has Go type %T; want int32, float32, uint64 or DevPtr", kernel, i, a)
		}
		if got != sig[i] {
			return fmt.Errorf("cuda: %s argument %d is %c, signature %s wants %c", kernel, i, got, sig, sig[i])
		}
	}
	return nil
}

const kernelPrefix = `extern "C" __global__ void `

// parseSigs reads the parameter lists of the extern "C" kernels of a source.
func parseSigs(src string) (map[string]string, error) {
	sigs := map[string]string{}
	lines := strings.Split(src, "\n")
	for li := 0; li < len(lines); li++ {
		line := strings.TrimSpace(lines[li])
		if !strings.HasPrefix(line, kernelPrefix) {
			continue
		}
		// A parameter list may continue over the next lines.
		for !strings.Contains(line, ")") && li+1 < len(lines) {
			li++
			line += " " + strings.TrimSpace(lines[li])
		}
		rest := strings.TrimPrefix(line, kernelPrefix)
		open, close := strings.IndexByte(rest, '('), strings.IndexByte(rest, ')')
		if open <= 0 || close < open {
			return nil, fmt.Errorf("cuda: cannot parse kernel declaration %q", line)
		}
		name := rest[:open]
		if _, dup := sigs[name]; dup {
			return nil, fmt.Errorf("cuda: kernel %s declared twice", name)
		}
		var sig []byte
		for _, p := range strings.Split(rest[open+1:close], ",") {
			p = strings.TrimSpace(p)
			fields := strings.Fields(strings.ReplaceAll(p, "*", " * "))
			switch {
			case strings.Contains(p, "*"):
				sig = append(sig, 'p')
			case len(fields) == 2 && fields[0] == "int":
				sig = append(sig, 'i')
			case len(fields) == 2 && fields[0] == "float":
				sig = append(sig, 'f')
			case len(fields) == 2 && fields[0] == "u64":
				sig = append(sig, 'u')
			default:
				return nil, fmt.Errorf("cuda: kernel %s: unsupported parameter %q", name, p)
			}
		}
		sigs[name] = string(sig)
	}
	return sigs, nil
}

func mustParseSigs(src string) map[string]string {
	sigs, err := parseSigs(src)
	if err != nil {
		panic(err)
	}
	return sigs
}

// kernelSource is the whole translation unit: the shared helpers and the
// layer, plasticity and optimizer kernels below, the classifier-training
// kernels (kernels_train.go) and the optimizer-step kernels
// (kernels_optim.go).
const kernelSource = kernelCore + kernelTrain + kernelOptim + kernelPlastic

const kernelCore = `
#define GRID_STRIDE(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); i += (long long)blockDim.x * gridDim.x)
#define NWARPS (PL_BLOCK / 32)

typedef unsigned long long u64;
typedef unsigned int u32;

/* Block-wide sum and max; every thread gets the result. sh: NWARPS floats. */
__device__ float block_sum(float v, float* sh) {
	for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
	__syncthreads();
	if (lane == 0) sh[w] = v;
	__syncthreads();
	if (w == 0) {
		v = (lane < NWARPS) ? sh[lane] : 0.0f;
		for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
		if (lane == 0) sh[0] = v;
	}
	__syncthreads();
	return sh[0];
}

__device__ float block_max(float v, float* sh) {
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
	__syncthreads();
	if (lane == 0) sh[w] = v;
	__syncthreads();
	if (w == 0) {
		v = (lane < NWARPS) ? sh[lane] : -3.402823466e38f;
		for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
		if (lane == 0) sh[0] = v;
	}
	__syncthreads();
	return sh[0];
}

/* Counter-based RNG: the splitmix64 output at position ctr of stream seed;
   uniform on 0 <= u < 1 from its top 24 bits (exactly reproducible on the CPU). */
__device__ float pl_uniform(u64 seed, u64 ctr) {
	u64 z = seed + (ctr + 1ULL) * 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z = z ^ (z >> 31);
	return (float)(z >> 40) * (1.0f / 16777216.0f);
}

/* ---------------- element-wise ---------------- */

extern "C" __global__ void pl_fill(int n, float v, float* y) { GRID_STRIDE(i, n) y[i] = v; }
extern "C" __global__ void pl_add(int n, const float* a, const float* b, float* y) { GRID_STRIDE(i, n) y[i] = a[i] + b[i]; }
extern "C" __global__ void pl_mul(int n, const float* a, const float* b, float* y) { GRID_STRIDE(i, n) y[i] = a[i] * b[i]; }
extern "C" __global__ void pl_scale(int n, float alpha, const float* x, float* y) { GRID_STRIDE(i, n) y[i] = alpha * x[i]; }
extern "C" __global__ void pl_axpy(int n, float alpha, const float* x, float* y) { GRID_STRIDE(i, n) y[i] += alpha * x[i]; }
extern "C" __global__ void pl_relu_fwd(int n, const float* x, float* y) { GRID_STRIDE(i, n) y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
extern "C" __global__ void pl_relu_bwd(int n, const float* x, const float* dy, float* dx) { GRID_STRIDE(i, n) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f; }

/* y[r][c] = x[r][c] + b[c], row-major rows x cols */
extern "C" __global__ void pl_bias_add(int rows, int cols, const float* x, const float* b, float* y) {
	GRID_STRIDE(i, (long long)rows * cols) y[i] = x[i] + b[i % cols];
}

/* Inverted dropout: drop with probability p; mask holds 0 or 1/(1-p). The
   random number of element i is pl_uniform(seed, offset + i). */
extern "C" __global__ void pl_dropout_fwd(int n, float p, u64 seed, u64 offset, const float* x, float* y, float* mask) {
	float keep = 1.0f / (1.0f - p);
	GRID_STRIDE(i, n) {
		float m = pl_uniform(seed, offset + (u64)i) >= p ? keep : 0.0f;
		mask[i] = m;
		y[i] = x[i] * m;
	}
}
extern "C" __global__ void pl_dropout_bwd(int n, const float* mask, const float* dy, float* dx) { GRID_STRIDE(i, n) dx[i] = dy[i] * mask[i]; }

/* ---------------- softmax + cross-entropy ---------------- */

/* One block per row: probs = softmax(x), loss[r] = -log probs[r][label[r]]. */
extern "C" __global__ void pl_softmax_xent_fwd(int rows, int cols, const float* x, const int* labels, float* probs, float* loss) {
	__shared__ float sh[NWARPS];
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		const float* xr = x + (long long)r * cols;
		float* pr = probs + (long long)r * cols;
		float m = -3.402823466e38f;
		for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, xr[c]);
		m = block_max(m, sh);
		float s = 0.0f;
		for (int c = threadIdx.x; c < cols; c += blockDim.x) s += expf(xr[c] - m);
		s = block_sum(s, sh);
		float inv = 1.0f / s;
		for (int c = threadIdx.x; c < cols; c += blockDim.x) pr[c] = expf(xr[c] - m) * inv;
		if (threadIdx.x == 0) loss[r] = logf(s) - (xr[labels[r]] - m);
	}
}

/* dx = (probs - onehot(label)) * scale (scale = dloss/rows for a mean loss). */
extern "C" __global__ void pl_softmax_xent_bwd(int rows, int cols, float scale, const float* probs, const int* labels, float* dx) {
	GRID_STRIDE(i, (long long)rows * cols) {
		int r = (int)(i / cols), c = (int)(i % cols);
		dx[i] = (probs[i] - (c == labels[r] ? 1.0f : 0.0f)) * scale;
	}
}

/* out[c] = sum_r x[r][c] (bias gradients) */
extern "C" __global__ void pl_colsum(int rows, int cols, const float* x, float* out) {
	GRID_STRIDE(c, cols) {
		float s = 0.0f;
		for (int r = 0; r < rows; r++) s += x[(long long)r * cols + c];
		out[c] = s;
	}
}

/* ---------------- batch normalization (N x C x HW) ---------------- */

/* Training: batch statistics per channel (two passes for accuracy), running
   stats updated as PyTorch does (unbiased variance, momentum m):
   run = (1-m)*run + m*batch. Saves mean and 1/sqrt(var+eps) for backward. */
extern "C" __global__ void pl_bn_fwd_train(int N, int C, int HW, float eps, float mom, const float* x, const float* gamma, const float* beta, float* y, float* runMean, float* runVar, float* saveMean, float* saveInvstd) {
	__shared__ float sh[NWARPS];
	long long M = (long long)N * HW;
	for (int c = blockIdx.x; c < C; c += gridDim.x) {
		float s = 0.0f;
		for (long long j = threadIdx.x; j < M; j += blockDim.x) s += x[((j / HW) * C + c) * HW + j % HW];
		float mean = block_sum(s, sh) / (float)M;
		float q = 0.0f;
		for (long long j = threadIdx.x; j < M; j += blockDim.x) {
			float d = x[((j / HW) * C + c) * HW + j % HW] - mean;
			q += d * d;
		}
		float var = block_sum(q, sh) / (float)M;
		float inv = rsqrtf(var + eps);
		float g = gamma[c], b = beta[c];
		for (long long j = threadIdx.x; j < M; j += blockDim.x) {
			long long k = ((j / HW) * C + c) * HW + j % HW;
			y[k] = g * (x[k] - mean) * inv + b;
		}
		if (threadIdx.x == 0) {
			float unb = M > 1 ? var * (float)M / (float)(M - 1) : var;
			runMean[c] = (1.0f - mom) * runMean[c] + mom * mean;
			runVar[c] = (1.0f - mom) * runVar[c] + mom * unb;
			saveMean[c] = mean;
			saveInvstd[c] = inv;
		}
	}
}

extern "C" __global__ void pl_bn_fwd_infer(int N, int C, int HW, float eps, const float* x, const float* gamma, const float* beta, const float* runMean, const float* runVar, float* y) {
	GRID_STRIDE(i, (long long)N * C * HW) {
		int c = (int)((i / HW) % C);
		y[i] = gamma[c] * (x[i] - runMean[c]) * rsqrtf(runVar[c] + eps) + beta[c];
	}
}

/* dbeta = sum dy, dgamma = sum dy*xhat,
   dx = gamma*invstd*(dy - dbeta/M - xhat*dgamma/M). */
extern "C" __global__ void pl_bn_bwd(int N, int C, int HW, const float* x, const float* dy, const float* gamma, const float* saveMean, const float* saveInvstd, float* dx, float* dgamma, float* dbeta) {
	__shared__ float sh[NWARPS];
	long long M = (long long)N * HW;
	for (int c = blockIdx.x; c < C; c += gridDim.x) {
		float mean = saveMean[c], inv = saveInvstd[c];
		float sdy = 0.0f, sdyx = 0.0f;
		for (long long j = threadIdx.x; j < M; j += blockDim.x) {
			long long k = ((j / HW) * C + c) * HW + j % HW;
			sdy += dy[k];
			sdyx += dy[k] * (x[k] - mean) * inv;
		}
		sdy = block_sum(sdy, sh);
		sdyx = block_sum(sdyx, sh);
		float gi = gamma[c] * inv, fM = (float)M;
		for (long long j = threadIdx.x; j < M; j += blockDim.x) {
			long long k = ((j / HW) * C + c) * HW + j % HW;
			float xh = (x[k] - mean) * inv;
			dx[k] = gi * (dy[k] - sdy / fM - xh * sdyx / fM);
		}
		if (threadIdx.x == 0) { dgamma[c] = sdyx; dbeta[c] = sdy; }
	}
}

/* ---------------- pooling (N x C x H x W) ---------------- */

/* Max pooling; argmax holds h*W+w of the first maximum in the plane. */
extern "C" __global__ void pl_maxpool_fwd(int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int OH, int OW, const float* x, float* y, int* argmax) {
	GRID_STRIDE(i, (long long)N * C * OH * OW) {
		int ow = (int)(i % OW), oh = (int)((i / OW) % OH);
		long long plane = i / ((long long)OH * OW);
		const float* xp = x + plane * H * W;
		float best = -3.402823466e38f;
		int arg = -1;
		for (int ki = 0; ki < kh; ki++) {
			int h = oh * sh - ph + ki;
			if (h < 0 || h >= H) continue;
			for (int kj = 0; kj < kw; kj++) {
				int w = ow * sw - pw + kj;
				if (w < 0 || w >= W) continue;
				float v = xp[h * W + w];
				if (arg < 0 || v > best) { best = v; arg = h * W + w; }
			}
		}
		y[i] = best;
		argmax[i] = arg;
	}
}

/* Window range of outputs covering input position h: oh in [lo, hi]. */
__device__ void pl_cover(int h, int k, int s, int p, int O, int* lo, int* hi) {
	int a = h + p - k + 1;
	*lo = a <= 0 ? 0 : (a + s - 1) / s;
	int b = (h + p) / s;
	*hi = b < O - 1 ? b : O - 1;
}

extern "C" __global__ void pl_maxpool_bwd(int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int OH, int OW, const float* dy, const int* argmax, float* dx) {
	GRID_STRIDE(i, (long long)N * C * H * W) {
		int w = (int)(i % W), h = (int)((i / W) % H);
		long long plane = i / ((long long)H * W);
		int hlo, hhi, wlo, whi;
		pl_cover(h, kh, sh, ph, OH, &hlo, &hhi);
		pl_cover(w, kw, sw, pw, OW, &wlo, &whi);
		float s = 0.0f;
		int me = h * W + w;
		for (int oh = hlo; oh <= hhi; oh++)
			for (int ow = wlo; ow <= whi; ow++) {
				long long o = plane * OH * OW + (long long)oh * OW + ow;
				if (argmax[o] == me) s += dy[o];
			}
		dx[i] = s;
	}
}

/* Average pooling counting padding as zeros (PyTorch's count_include_pad). */
extern "C" __global__ void pl_avgpool_fwd(int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int OH, int OW, const float* x, float* y) {
	float inv = 1.0f / (float)(kh * kw);
	GRID_STRIDE(i, (long long)N * C * OH * OW) {
		int ow = (int)(i % OW), oh = (int)((i / OW) % OH);
		long long plane = i / ((long long)OH * OW);
		const float* xp = x + plane * H * W;
		float s = 0.0f;
		for (int ki = 0; ki < kh; ki++) {
			int h = oh * sh - ph + ki;
			if (h < 0 || h >= H) continue;
			for (int kj = 0; kj < kw; kj++) {
				int w = ow * sw - pw + kj;
				if (w >= 0 && w < W) s += xp[h * W + w];
			}
		}
		y[i] = s * inv;
	}
}

extern "C" __global__ void pl_avgpool_bwd(int N, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int OH, int OW, const float* dy, float* dx) {
	float inv = 1.0f / (float)(kh * kw);
	GRID_STRIDE(i, (long long)N * C * H * W) {
		int w = (int)(i % W), h = (int)((i / W) % H);
		long long plane = i / ((long long)H * W);
		int hlo, hhi, wlo, whi;
		pl_cover(h, kh, sh, ph, OH, &hlo, &hhi);
		pl_cover(w, kw, sw, pw, OW, &wlo, &whi);
		float s = 0.0f;
		for (int oh = hlo; oh <= hhi; oh++)
			for (int ow = wlo; ow <= whi; ow++) s += dy[plane * OH * OW + (long long)oh * OW + ow];
		dx[i] = s * inv;
	}
}

/* ---------------- plasticity model ---------------- */

/* Order-preserving map of a float to an unsigned key. */
__device__ __forceinline__ u32 pl_key(float f) {
	u32 b = __float_as_uint(f);
	return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

/* cap_k per row, one block per row: keeps the k largest entries (ties at
   the k-th value broken by lower index) and zeroes the rest. The k-th
   largest key is found by a 4-pass radix select (8 bits per pass, shared
   histogram), then ties are ranked by a block scan over index order.
   fire shifts this round's firing bit into codes (code = 2*code + bit):
   0 none, 1 bit = (y != 0) (the paper's definition), 2 bit = picked by
   the cap, even at value zero (top-k firing, the authors' code). */
extern "C" __global__ void pl_cap_topk(int rows, int cols, int k, int fire, const float* x, float* y, int* codes) {
	__shared__ u32 hist[256];
	__shared__ u32 wsum[NWARPS];
	__shared__ u32 s_prefix, s_kleft, s_base;
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		const float* xr = x + (long long)r * cols;
		float* yr = y + (long long)r * cols;
		if (k >= cols || k <= 0) {
			for (int c = threadIdx.x; c < cols; c += blockDim.x) {
				float v = k <= 0 ? 0.0f : xr[c];
				yr[c] = v;
				if (fire) codes[(long long)r * cols + c] = (codes[(long long)r * cols + c] << 1) | (fire == 1 ? v != 0.0f : k > 0);
			}
			continue;
		}
		if (threadIdx.x == 0) { s_prefix = 0; s_kleft = (u32)k; }
		u32 mask = 0;
		for (int shift = 24; shift >= 0; shift -= 8) {
			for (int d = threadIdx.x; d < 256; d += blockDim.x) hist[d] = 0;
			__syncthreads();
			u32 prefix = s_prefix;
			for (int c = threadIdx.x; c < cols; c += blockDim.x) {
				u32 key = pl_key(xr[c]);
				if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
			}
			__syncthreads();
			if (threadIdx.x == 0) {
				u32 above = 0, kl = s_kleft;
				int d = 255;
				for (; d > 0; d--) {
					if (above + hist[d] >= kl) break;
					above += hist[d];
				}
				s_kleft = kl - above;
				s_prefix = prefix | ((u32)d << shift);
			}
			__syncthreads();
			mask |= 255u << shift;
		}
		u32 thr = s_prefix, keepTies = s_kleft;
		if (threadIdx.x == 0) s_base = 0;
		__syncthreads();
		int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
		for (int c0 = 0; c0 < cols; c0 += blockDim.x) {
			int c = c0 + threadIdx.x;
			u32 key = c < cols ? pl_key(xr[c]) : 0u;
			bool tie = c < cols && key == thr;
			u32 ballot = __ballot_sync(0xffffffffu, tie);
			if (lane == 0) wsum[w] = __popc(ballot);
			__syncthreads();
			u32 before = s_base;
			for (int j = 0; j < w; j++) before += wsum[j];
			before += __popc(ballot & ((1u << lane) - 1u));
			if (c < cols) {
				int kept = key > thr || (tie && before < keepTies);
				float v = kept ? xr[c] : 0.0f;
				yr[c] = v;
				if (fire) codes[(long long)r * cols + c] = (codes[(long long)r * cols + c] << 1) | (fire == 1 ? v != 0.0f : kept);
			}
			__syncthreads();
			if (threadIdx.x == 0) { u32 t = 0; for (int j = 0; j < NWARPS; j++) t += wsum[j]; s_base += t; }
			__syncthreads();
		}
	}
}

/* counts[b] += 1 for each network whose prediction was right (flag 0). */
extern "C" __global__ void pl_count_ok(int B, const int* flags, int* counts) {
	GRID_STRIDE(b, B) counts[b] += flags[b] ? 0 : 1;
}

/* out[b][:] = data[idx[b]][:] for B rows of width n (a step's examples). */
extern "C" __global__ void pl_gather_rows(int B, int n, int rows, const float* data, const int* idx, float* out) {
	GRID_STRIDE(i, (long long)B * n) {
		int b = (int)(i / n), j = (int)(i % n);
		int s = idx[b];
		out[i] = (s >= 0 && s < rows) ? data[(long long)s * n + j] : 0.0f;
	}
}

/* One block per row: pred = first argmax, flag = (pred != label). */
extern "C" __global__ void pl_predict(int rows, int cols, const float* logits, const int* labels, int* preds, int* flags) {
	__shared__ float sh[NWARPS];
	__shared__ int si[PL_BLOCK];
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		const float* xr = logits + (long long)r * cols;
		float best = -3.402823466e38f;
		int arg = cols;
		for (int c = threadIdx.x; c < cols; c += blockDim.x)
			if (arg == cols || xr[c] > best) { best = xr[c]; arg = c; }
		float m = block_max(best, sh);
		si[threadIdx.x] = (best == m) ? arg : cols;
		__syncthreads();
		for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
			if (threadIdx.x < s && si[threadIdx.x + s] < si[threadIdx.x]) si[threadIdx.x] = si[threadIdx.x + s];
			__syncthreads();
		}
		if (threadIdx.x == 0) { preds[r] = si[0]; flags[r] = si[0] != labels[r] ? 1 : 0; }
		__syncthreads();
	}
}

/* RNN rule for B networks of V nodes (codes: B x V): W[b][i][j] changes by
   delta = eta*r[b][code[b][j]][code[b][i]]: additive W += Mg*delta (W stays
   zero off the graph), or multiplicative W *= 1 + delta. S = 2^T.
   ruleStride 0 shares one rule. Networks with flags[b] == 0 are skipped
   when onlyFlagged != 0. */
extern "C" __global__ void pl_rule_update(int B, int V, int S, float eta, int multiplicative, int onlyFlagged, float* W, const float* Mg, const int* codes, int ruleStride, const float* rule, const int* flags) {
	GRID_STRIDE(t, (long long)B * V * V) {
		int b = (int)(t / ((long long)V * V));
		if (onlyFlagged && !flags[b]) continue;
		int i = (int)((t / V) % V), j = (int)(t % V);
		float d = eta * rule[(long long)b * ruleStride + codes[b * V + j] * S + codes[b * V + i]];
		W[t] = multiplicative ? W[t] * (1.0f + d) : W[t] + Mg[t] * d;
	}
}

/* Input rule for B networks, A: B x V x N (A .* input mask): row i changes
   by delta = eta*r[b][code[b][i]]: additive A += Min*delta, or
   multiplicative A *= 1 + delta. */
extern "C" __global__ void pl_input_rule(int B, int V, int N, float eta, int multiplicative, int onlyFlagged, float* A, const float* Min, const int* codes, int inStride, const float* rule, const int* flags) {
	GRID_STRIDE(t, (long long)B * V * N) {
		int b = (int)(t / ((long long)V * N));
		if (onlyFlagged && !flags[b]) continue;
		int i = (int)((t / N) % V);
		float d = eta * rule[(long long)b * inStride + codes[b * V + i]];
		A[t] = multiplicative ? A[t] * (1.0f + d) : A[t] + Min[t] * d;
	}
}

/* Output rule for B networks, U: B x M x V, ro[code][b] with b = 0 for the
   true label's row and 1 for the predicted label's row (every other row
   when allRows != 0); networks with flags[b] == 0 are skipped when
   onlyFlagged != 0. bothColumns != 0 (with the default rows): a right
   prediction's row, both true and predicted, gets column 1 and then
   column 0, as the CPU engine applies them (the authors' code). */
extern "C" __global__ void pl_output_rule(int B, int M, int V, float eta, int multiplicative, int allRows, int onlyFlagged, int bothColumns, float* U, const int* codes, const int* labels, const int* preds, int roStride, const float* ro, const int* flags) {
	GRID_STRIDE(t, (long long)B * M * V) {
		int b = (int)(t / ((long long)M * V));
		if (onlyFlagged && !flags[b]) continue;
		int l = (int)((t / V) % M), j = (int)(t % V);
		int sel;
		if (l == labels[b]) sel = 0;
		else if (allRows || l == preds[b]) sel = 1;
		else continue;
		const float* r = ro + (long long)b * roStride + codes[b * V + j] * 2;
		float u = U[t];
		if (sel == 0 && bothColumns && !allRows && l == preds[b])
			u = multiplicative ? u * (1.0f + eta * r[1]) : u + eta * r[1];
		float d = r[sel];
		U[t] = multiplicative ? u * (1.0f + eta * d) : u + eta * d;
	}
}
`

// CompileOptions are the NVRTC options for compute capability major.minor:
// a cubin for the real architecture sm_XY, or PTX for the virtual
// compute_XY. No fast-math: the kernels must match the CPU references to
// 1e-4.
func CompileOptions(major, minor int, cubin bool) []string {
	arch := fmt.Sprintf("compute_%d%d", major, minor)
	if cubin {
		arch = fmt.Sprintf("sm_%d%d", major, minor)
	}
	return []string{"--gpu-architecture=" + arch, "--std=c++14", "-default-device"}
}
