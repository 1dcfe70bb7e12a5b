package cuda

// kernelPlastic holds the kernels of the plasticity model beyond one
// training step (kernels.go): evaluation of many examples at once
// (DevicePlastic.Evaluate: no weight changes between examples, so a
// chunk of E examples of each of B networks runs as one batch of B*E
// rows), and the cap and argmax of short rows with one thread per row
// (no block barriers: B*E rows of a small network, or a step's B rows).
// SmallRowCols is the longest row the one-thread-per-row cap and argmax
// take (CapTopK, CapFire and Predict pick them up to it): a thread ranks
// each of its entries against the others, cols^2 comparisons.
const SmallRowCols = 128

const kernelPlastic = `
/* ---------------- plasticity model: batched evaluation ---------------- */

/* y[(g*E + e)*n + i] = x[...] + b[g*n + i]: group g's vector b added to
   each of its E rows (B networks' biases over a chunk of examples). */
extern "C" __global__ void pl_add_group(int G, int E, int n, const float* x, const float* b, float* y) {
	GRID_STRIDE(t, (long long)G * E * n) {
		long long g = t / ((long long)E * n);
		y[t] = x[t] + b[g * n + t % n];
	}
}

/* counts[g] += the number of rows e < E of group g with flags[g*E + e] == 0
   (right predictions). One thread per group: no atomics. */
extern "C" __global__ void pl_count_ok_group(int G, int E, const int* flags, int* counts) {
	GRID_STRIDE(g, G) {
		int s = 0;
		for (int e = 0; e < E; e++) s += flags[(long long)g * E + e] ? 0 : 1;
		counts[g] += s;
	}
}

/* cap_k of short rows (at most SmallRowCols entries), one thread per row: an
   entry is kept when fewer than k entries rank before it (larger, or
   equal at a lower index), which keeps exactly what pl_cap_topk keeps
   (the k largest keys, ties at the k-th by lower index). fire as in
   pl_cap_topk: 0 none, 1 bit = (y != 0), 2 bit = kept. */
extern "C" __global__ void pl_cap_small(int rows, int cols, int k, int fire, const float* x, float* y, int* codes) {
	GRID_STRIDE(r, rows) {
		const float* xr = x + r * cols;
		float* yr = y + r * cols;
		for (int c = 0; c < cols; c++) {
			u32 kc = pl_key(xr[c]);
			int rank = 0;
			for (int j = 0; j < cols; j++) {
				u32 kj = pl_key(xr[j]);
				rank += (kj > kc || (kj == kc && j < c)) ? 1 : 0;
			}
			int kept = rank < k;
			float v = kept ? xr[c] : 0.0f;
			yr[c] = v;
			if (fire) codes[r * cols + c] = (codes[r * cols + c] << 1) | (fire == 1 ? v != 0.0f : kept);
		}
	}
}

/* pl_predict for short rows (at most SmallRowCols entries), one thread
   per row: pred = first argmax, flag = (pred != label). */
extern "C" __global__ void pl_predict_small(int rows, int cols, const float* logits, const int* labels, int* preds, int* flags) {
	GRID_STRIDE(r, rows) {
		const float* xr = logits + r * cols;
		int arg = 0;
		for (int c = 1; c < cols; c++)
			if (xr[c] > xr[arg]) arg = c;
		preds[r] = arg;
		flags[r] = arg != labels[r] ? 1 : 0;
	}
}
`
