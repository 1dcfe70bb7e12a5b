package cuda

// kernelPlastic holds the kernels of the plasticity model beyond one
// training step (kernels.go): evaluation of many examples at once
// (DevicePlastic.Evaluate: no weight changes between examples, so a
// chunk of E examples of each of B networks runs as one batch of B*E
// rows), the cap and argmax of short rows with one thread per row (no
// block barriers: B*E rows of a small network, or a step's B rows), and
// the loss and rule gradients of meta-learning (MetaPlastic).
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

/* ---------------- plasticity model: meta-learning ---------------- */

/* Mean loss over E rows of logits (E x M) against labels, per row into
   loss[e] (their sum is the batch loss), and its gradient dlogits, as
   graph.Loss defines them: kind 0 cross-entropy on log-softmax(l), 1 the
   authors' cross-entropy on log-softmax(softmax(l)), 2 the mean squared
   error of softmax(l) to the one-hot label. One thread per row, in
   double precision. */
extern "C" __global__ void pl_meta_loss(int E, int M, int kind, const float* logits, const int* labels, float* loss, float* dlogits) {
	GRID_STRIDE(e, E) {
		const float* l = logits + e * M;
		float* d = dlogits + e * M;
		int y = labels[e];
		double mx = l[0];
		for (int c = 1; c < M; c++) mx = l[c] > mx ? l[c] : mx;
		double z = 0.0;
		for (int c = 0; c < M; c++) z += exp((double)l[c] - mx);
		double lz = log(z) + mx;
		if (kind == 0) {
			loss[e] = (float)((lz - (double)l[y]) / E);
			for (int c = 0; c < M; c++) d[c] = (float)((exp((double)l[c] - lz) - (c == y ? 1.0 : 0.0)) / E);
			continue;
		}
		/* s = softmax(l); the loss is a function of s: ds, then back
		   through the softmax: dl = s .* (ds - <ds, s>) */
		double ds[64], sv[64], dot = 0.0, out = 0.0;
		if (kind == 1) {
			double z2 = 0.0, m2 = 0.0;
			for (int c = 0; c < M; c++) { sv[c] = exp((double)l[c] - lz); m2 = sv[c] > m2 ? sv[c] : m2; }
			for (int c = 0; c < M; c++) z2 += exp(sv[c] - m2);
			double lz2 = log(z2) + m2;
			out = (lz2 - sv[y]) / E;
			for (int c = 0; c < M; c++) ds[c] = (exp(sv[c] - lz2) - (c == y ? 1.0 : 0.0)) / E;
		} else {
			for (int c = 0; c < M; c++) {
				sv[c] = exp((double)l[c] - lz);
				double r = sv[c] - (c == y ? 1.0 : 0.0);
				out += r * r / ((double)E * M);
				ds[c] = 2.0 * r / ((double)E * M);
			}
		}
		for (int c = 0; c < M; c++) dot += ds[c] * sv[c];
		loss[e] = (float)out;
		for (int c = 0; c < M; c++) d[c] = (float)(sv[c] * (ds[c] - dot));
	}
}

/* One-hot firing codes of S recorded steps of one network (codes S x V)
   as rows of nc: O[(s*V + j)*nc + a] = 1 when node j's code at step s is
   a and step s updated the weights (every != 0, or flags[s] set). */
extern "C" __global__ void pl_meta_onehot(int S, int V, int nc, int every, const int* codes, const int* flags, float* O) {
	GRID_STRIDE(t, (long long)S * V * nc) {
		long long sj = t / nc;
		int a = (int)(t % nc), s = (int)(sj / V);
		O[t] = ((every || flags[s]) && codes[sj] == a) ? 1.0f : 0.0f;
	}
}

/* The output rule's row roles at each recorded step, applied to gU (M x
   V): Q[(s*V + j)*2 + b] = sum of gU[c][j] over the rows c updated with
   column b at step s (b = 0 the true label's row, 1 the predicted one's,
   or every other row under allRows; bothColumns: a right prediction's row
   with both), 0 for a step without update. */
extern "C" __global__ void pl_meta_out_roles(int S, int M, int V, int every, int allRows, int bothColumns, const int* labels, const int* preds, const int* flags, const float* gU, float* Q) {
	GRID_STRIDE(t, (long long)S * V) {
		int s = (int)(t / V), j = (int)(t % V);
		float q0 = 0.0f, q1 = 0.0f;
		if (every || flags[s]) {
			int y = labels[s], p = preds[s];
			for (int c = 0; c < M; c++) {
				float g = gU[(long long)c * V + j];
				if (c == y) {
					q0 += g;
					if (bothColumns && !allRows && p == y) q1 += g;
				} else if (allRows || c == p) q1 += g;
			}
		}
		Q[t * 2] = q0;
		Q[t * 2 + 1] = q1;
	}
}

/* out[r] = sum_j a[r][j] * b[r][j] for R rows of n. */
extern "C" __global__ void pl_row_dot(int R, int n, const float* a, const float* b, float* out) {
	GRID_STRIDE(r, R) {
		float acc = 0.0f;
		for (int j = 0; j < n; j++) acc += a[r * n + j] * b[r * n + j];
		out[r] = acc;
	}
}

/* res[a] = sum over steps s and nodes r of O[(s*V + r)*nc + a] * vec[r]
   (the input rule's gradient: vec = the rows of gA .* Min). One thread
   per code. */
extern "C" __global__ void pl_meta_code_sum(int S, int V, int nc, const float* O, const float* vec, float* res) {
	GRID_STRIDE(a, nc) {
		float acc = 0.0f;
		for (long long t = 0; t < (long long)S * V; t++) acc += O[t * nc + a] * vec[t % V];
		res[a] = acc;
	}
}
`
