package cuda

// kernelTrain holds the kernels of classifier training on the device
// (models.DeviceNet): the fused dense-layer epilogue with the
// counter-based dropout the CPU layers use too, the activation gradient of
// the CPU's actGrad op, convolution as one GEMM over all images of a batch
// (patches of every image side by side: im2col_t/col2im_t and the two
// layout permutations around the GEMM), row sums for conv bias gradients
// and the loss/accuracy counters of a batch.
const kernelTrain = `
/* ---------------- classifier training ---------------- */

/* Dense epilogue on y (rows x cols, the GEMM result x W): y = act(y + b),
   then inverted dropout when p > 0: element i is kept when
   pl_uniform(seed, offset + i) >= p and scaled by keep (the host passes
   float32(1/(1-p)), as the CPU layer computes it). */
extern "C" __global__ void pl_bias_act_drop(int rows, int cols, const float* b, int relu, float p, float keep, u64 seed, u64 offset, float* y) {
	GRID_STRIDE(i, (long long)rows * cols) {
		float v = y[i] + b[i % cols];
		if (relu && v < 0.0f) v = 0.0f;
		if (p > 0.0f) v = pl_uniform(seed, offset + (u64)i) >= p ? v * keep : 0.0f;
		y[i] = v;
	}
}

/* Gradient through a fused ReLU and/or dropout from the layer's output y:
   dx = dy*sc where y > 0 (relu) or y != 0 (dropout alone), else 0. */
extern "C" __global__ void pl_act_grad(int n, int relu, float sc, const float* y, const float* dy, float* dx) {
	GRID_STRIDE(i, n) {
		float v = y[i];
		int on = relu ? v > 0.0f : v != 0.0f;
		dx[i] = on ? dy[i] * sc : 0.0f;
	}
}

/* x: N x C x H x W -> colT: (C*kh*kw) x (N*OH*OW), row (c*kh + ki)*kw + kj,
   column n*OH*OW + oh*OW + ow: the patches of every image side by side, so
   one GEMM convolves the whole batch. */
extern "C" __global__ void pl_im2col_t(int N, int C, int H, int W, int kh, int kw, int ph, int pw, int sh, int sw, int OH, int OW, const float* x, float* col) {
	long long P = (long long)OH * OW, NP = (long long)N * P;
	GRID_STRIDE(i, (long long)C * kh * kw * NP) {
		long long r = i / NP, j = i % NP;
		int n = (int)(j / P), o = (int)(j % P);
		int oh = o / OW, ow = o % OW;
		int kj = (int)(r % kw), ki = (int)((r / kw) % kh), c = (int)(r / ((long long)kw * kh));
		int h = oh * sh - ph + ki, w = ow * sw - pw + kj;
		col[i] = (h >= 0 && h < H && w >= 0 && w < W) ? x[(((long long)n * C + c) * H + h) * W + w] : 0.0f;
	}
}

/* Adjoint of pl_im2col_t: x[n][c][h][w] = sum of its patch entries (one
   thread per input element, no atomics). */
extern "C" __global__ void pl_col2im_t(int N, int C, int H, int W, int kh, int kw, int ph, int pw, int sh, int sw, int OH, int OW, const float* col, float* x) {
	long long P = (long long)OH * OW, NP = (long long)N * P;
	GRID_STRIDE(i, (long long)N * C * H * W) {
		long long t = i;
		int w = (int)(t % W); t /= W;
		int h = (int)(t % H); t /= H;
		int c = (int)(t % C); t /= C;
		int n = (int)t;
		float s = 0.0f;
		for (int ki = 0; ki < kh; ki++) {
			int hn = h + ph - ki;
			if (hn < 0 || hn % sh != 0) continue;
			int oh = hn / sh;
			if (oh >= OH) continue;
			for (int kj = 0; kj < kw; kj++) {
				int wn = w + pw - kj;
				if (wn < 0 || wn % sw != 0) continue;
				int ow = wn / sw;
				if (ow >= OW) continue;
				s += col[(((long long)c * kh + ki) * kw + kj) * NP + (long long)n * P + (long long)oh * OW + ow];
			}
		}
		x[i] = s;
	}
}

/* src: C x (N*HW) (the conv GEMM's result) -> dst: N x C x HW, adding
   bias[c] when hasBias and applying ReLU when relu. */
extern "C" __global__ void pl_cn_to_nchw(int N, int C, int HW, const float* src, int hasBias, const float* bias, int relu, float* dst) {
	GRID_STRIDE(i, (long long)N * C * HW) {
		int j = (int)(i % HW), c = (int)((i / HW) % C), n = (int)(i / ((long long)HW * C));
		float v = src[((long long)c * N + n) * HW + j];
		if (hasBias) v += bias[c];
		if (relu) v = fmaxf(v, 0.0f);
		dst[i] = v;
	}
}

/* src: N x C x HW -> dst: C x (N*HW). */
extern "C" __global__ void pl_nchw_to_cn(int N, int C, int HW, const float* src, float* dst) {
	GRID_STRIDE(i, (long long)N * C * HW) {
		int j = (int)(i % HW), n = (int)((i / HW) % N), c = (int)(i / ((long long)HW * N));
		dst[i] = src[((long long)n * C + c) * HW + j];
	}
}

/* out[r] = sum over c of x[r][c], one block per row. */
extern "C" __global__ void pl_rowsum(int rows, int cols, const float* x, float* out) {
	__shared__ float sh[NWARPS];
	for (int r = blockIdx.x; r < rows; r += gridDim.x) {
		float s = 0.0f;
		for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += x[(long long)r * cols + c];
		s = block_sum(s, sh);
		if (threadIdx.x == 0) out[r] = s;
	}
}

/* Counters of a batch, one block: out[0] += sum of loss[0 .. rows-1],
   out[1] += rows whose first maximal logit is the label. */
extern "C" __global__ void pl_xent_stats(int rows, int cols, const float* logits, const int* labels, const float* loss, float* out) {
	__shared__ float sh[NWARPS];
	float sl = 0.0f, sc = 0.0f;
	for (int r = threadIdx.x; r < rows; r += blockDim.x) {
		const float* xr = logits + (long long)r * cols;
		int best = 0;
		for (int c = 1; c < cols; c++) if (xr[c] > xr[best]) best = c;
		sl += loss[r];
		sc += best == labels[r] ? 1.0f : 0.0f;
	}
	sl = block_sum(sl, sh);
	sc = block_sum(sc, sh);
	if (threadIdx.x == 0) { out[0] += sl; out[1] += sc; }
}
`
