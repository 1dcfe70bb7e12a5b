package cuda

// kernelOptim holds the optimizer-step kernels of optimizer.Device: SGD,
// Adam/AdamW and NeuroPlastic with every option, over all parameter
// tensors at once. The tensors lie side by side in one flat array (values
// p, gradients g, and each state buffer alike); the host cuts them into
// chunks of at most OptChunk elements, each inside one tensor, and every
// per-element kernel runs one block per chunk and writes OptNQ partial
// sums per chunk. pl_seg_reduce folds the partials of each tensor (a
// "segment") into its statistics, in chunk order (deterministic), and the
// next kernels read those statistics from device memory: a step needs no
// host round trip. Layouts (int32 unless said):
//
//	ch[4*c..]  chunk c: segment, first element, end element, first element's index in its tensor
//	sg[4*s..]  segment s: first element, element count, first chunk, end chunk
//	sf[2*s..]  float: target-RMS factor of the tensor's third, layer gate of the hybrid scope
//	cg[s]      controller group: 0 early, 1 late, 2 classifier
//	st[OptNS*s + q], pt[OptNQ*c + q]  float statistics per segment / partials per chunk (slots: optimizer/device.go)
//	flag[0]    0, or 1 + the first segment whose gradient is not finite: every later kernel of the step returns at once
//	dg[...]    double: the epoch's diagnostics accumulators; hist: 64 unsigned counters
const kernelOptim = `
/* ---------------- optimizer steps (flat tensors, chunked) ---------------- */

#define OPT_NQ 32
#define OPT_NS 32

/* Block-wide reduction of n values per thread at once, through shared
   memory (one tree, 8 barriers for any n <= OPT_RED): sums, except slot
   imin (minimum) and imax (maximum) when >= 0. Thread 0 gets the results
   in v. */
#define OPT_RED 10
__device__ void block_reduce_n(float* v, int n, int imin, int imax) {
	__shared__ float sh[OPT_RED * PL_BLOCK];
	int t = threadIdx.x;
	for (int q = 0; q < n; q++) sh[q * PL_BLOCK + t] = v[q];
	__syncthreads();
	for (int s = PL_BLOCK / 2; s > 0; s >>= 1) {
		if (t < s)
			for (int q = 0; q < n; q++) {
				float a = sh[q * PL_BLOCK + t], b = sh[q * PL_BLOCK + t + s];
				sh[q * PL_BLOCK + t] = q == imin ? fminf(a, b) : (q == imax ? fmaxf(a, b) : a + b);
			}
		__syncthreads();
	}
	if (t == 0)
		for (int q = 0; q < n; q++) v[q] = sh[q * PL_BLOCK];
	__syncthreads();
}

/* Sums of |g| and g^2 per chunk (slots 0, 1): the finiteness check and
   NeuroPlastic's mean |g|. */
extern "C" __global__ void pl_opt_sums(int nchunks, const int* ch, const float* g, float* pt) {
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		float sa = 0.0f, sq = 0.0f;
		for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) { float x = g[i]; sa += fabsf(x); sq += x * x; }
		float v[2] = {sa, sq};
		block_reduce_n(v, 2, -1, -1);
		if (threadIdx.x == 0) { pt[OPT_NQ * c] = v[0]; pt[OPT_NQ * c + 1] = v[1]; }
	}
}

/* st[q] of segment s = sum over its chunks (in order) of the partials
   for q = q0 .. q0+nq-1, and min/max over its chunks for slots qmin/qmax
   (when >= 0): one thread per (segment, slot), no barriers. */
extern "C" __global__ void pl_seg_reduce(int nseg, const int* sg, const int* flag, int q0, int nq, int qmin, int qmax, const float* pt, float* st) {
	if (flag[0]) return;
	int nx = nq + (qmin >= 0) + (qmax >= 0);
	GRID_STRIDE(i, (long long)nseg * nx) {
		int s = (int)(i / nx), j = (int)(i % nx);
		int c0 = sg[4 * s + 2], c1 = sg[4 * s + 3];
		int q = j < nq ? q0 + j : (j == nq && qmin >= 0 ? qmin : qmax);
		float v = pt[OPT_NQ * c0 + q];
		for (int c = c0 + 1; c < c1; c++) {
			float x = pt[OPT_NQ * c + q];
			v = q == qmin ? fminf(v, x) : (q == qmax ? fmaxf(v, x) : v + x);
		}
		if (j >= nq || (q != qmin && q != qmax)) st[OPT_NS * s + q] = v;
	}
}

/* flag[0] = 1 + the first segment whose sum of |g| or g^2 is not finite
   (the step is then skipped: nothing is written), else 0. One thread. */
extern "C" __global__ void pl_opt_check(int nseg, const float* st, int* flag) {
	if (threadIdx.x != 0 || blockIdx.x != 0) return;
	int bad = 0;
	for (int s = 0; s < nseg && !bad; s++) {
		float a = st[OPT_NS * s], q = st[OPT_NS * s + 1];
		if (a - a != 0.0f || q - q != 0.0f) bad = s + 1;
	}
	flag[0] = bad;
}

/* SGD (PyTorch): d = g + wd*p; d = mu*buf + d when mu != 0 (buf = d);
   p -= lr*d. Partials: slot 25 sum p^2 (before), slot 4 sum d^2. */
extern "C" __global__ void pl_opt_sgd(int nchunks, const int* ch, const int* flag, float lr, float mu, float wd, float* p, const float* g, float* buf, float* pt) {
	if (flag[0]) return;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		float sp = 0.0f, su = 0.0f;
		for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
			float pi = p[i], d = g[i];
			if (wd != 0.0f) d += wd * pi;
			if (mu != 0.0f) { d = mu * buf[i] + d; buf[i] = d; }
			sp += pi * pi; su += d * d;
			p[i] = pi - lr * d;
		}
		float r[2] = {sp, su};
		block_reduce_n(r, 2, -1, -1);
		if (threadIdx.x == 0) { pt[OPT_NQ * c + 25] = r[0]; pt[OPT_NQ * c + 4] = r[1]; }
	}
}

/* Adam (l2 = coupled decay) / AdamW (decay = lr*wd, keep = 1-decay), the
   CPU optimizer's arithmetic: m += ob1*(g-m); v = v*b2 + ob2*g^2;
   q = m/(sqrt(v)*invBc2s + eps); p = p*keep - stepSize*q. Partials:
   slot 25 sum p^2 (before), slot 4 sum q^2. */
extern "C" __global__ void pl_opt_adam(int nchunks, const int* ch, const int* flag, float ob1, float b2, float ob2, float stepSize, float invBc2s, float eps, float l2, float decay, float keep, float* p, const float* g, float* m, float* v, float* pt) {
	if (flag[0]) return;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		float sp = 0.0f, su = 0.0f;
		for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
			float pi = p[i], gi = g[i];
			if (l2 != 0.0f) gi += l2 * pi;
			sp += pi * pi;
			if (decay != 0.0f) pi *= keep;
			float mi = m[i];
			mi += ob1 * (gi - mi);
			float vi = v[i] * b2 + ob2 * (gi * gi);
			m[i] = mi; v[i] = vi;
			float q = mi / (sqrtf(vi) * invBc2s + eps);
			su += q * q;
			p[i] = pi - stepSize * q;
		}
		float r[2] = {sp, su};
		block_reduce_n(r, 2, -1, -1);
		if (threadIdx.x == 0) { pt[OPT_NQ * c + 25] = r[0]; pt[OPT_NQ * c + 4] = r[1]; }
	}
}

/* Diagnostics of a baseline step (one thread): skipped steps count, else
   the epoch's sums of squares: dg[2] g, dg[3] p (before the step), dg[4]
   and dg[5] the update (scaled by u2scale = 1/bc1^2 for Adam). */
extern "C" __global__ void pl_opt_base_diag(int nseg, const int* flag, const float* st, float u2scale, double* dg) {
	if (threadIdx.x != 0 || blockIdx.x != 0) return;
	if (flag[0]) { dg[1] += 1.0; return; }
	double g2 = 0, p2 = 0, u2 = 0;
	for (int s = 0; s < nseg; s++) { g2 += st[OPT_NS * s + 1]; p2 += st[OPT_NS * s + 25]; u2 += (double)st[OPT_NS * s + 4] * u2scale; }
	dg[0] += 1.0; dg[2] += g2; dg[3] += p2; dg[4] += u2; dg[5] += u2;
}

/* NeuroPlastic pass 1 (steps 1-2): a = td*a + otd*|g|, m = md*m + omd*g,
   v = vd*v + ovd*g^2; in rule_based mode r = |m|/(sqrt(v)+eps) into r and
   partials slot 2 sum a, slot 3 sum r. */
extern "C" __global__ void pl_np_pass1(int nchunks, const int* ch, const int* flag, int rule, float td, float otd, float md, float omd, float vd, float ovd, const float* g, float* a, float* m, float* v, float* r, float* pt) {
	if (flag[0]) return;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		float sa = 0.0f, sr = 0.0f;
		for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
			float gi = g[i];
			float ai = td * a[i] + otd * fabsf(gi);
			float mi = md * m[i] + omd * gi;
			float vi = vd * v[i] + ovd * (gi * gi);
			a[i] = ai; m[i] = mi; v[i] = vi;
			if (rule) { float ri = fabsf(mi) / (sqrtf(vi) + 1e-8f); r[i] = ri; sa += ai; sr += ri; }
		}
		if (rule) {
			float v[2] = {sa, sr};
			block_reduce_n(v, 2, -1, -1);
			if (threadIdx.x == 0) { pt[OPT_NQ * c + 2] = v[0]; pt[OPT_NQ * c + 3] = v[1]; }
		}
	}
}

/* The coefficients of steps 3-6 for one element: ag and alpha. */
struct np_coef { float invG, cA, cG, cR, agS, alS; };

__device__ np_coef np_consts(const float* st, int n, int rule, int paramWise, float wa, float wg, float wm, float lo, float hi, float gs) {
	const float eps = 1e-8f;
	float fn = (float)n;
	float mg = st[0] / fn, ma = st[2] / fn, mr = st[3] / fn;
	np_coef k;
	k.invG = 1.0f / (mg + eps);
	float ia = 1.0f / (ma + eps), ir = 1.0f / (mr + eps);
	k.cA = wa * ia; k.cG = wg * k.invG; k.cR = wm * ir;
	k.agS = fminf(fmaxf(mg * k.invG, lo), hi);
	k.alS = k.agS;
	if (rule) {
		float af = fminf(fmaxf(wa * ma * ia + wg * mg * k.invG + wm * mr * ir, lo), hi);
		k.alS = k.agS + gs * (af - k.agS);
	}
	return k;
}

/* NeuroPlastic pass 2: alpha per element and the first stage of the
   variant (0 classic, 1 bounded residual, 2 orthogonal residual, 3 hybrid
   base), with the alpha statistics and the controller signal.
   classic:    u = alpha*g (+ wd*p coupled) into s1; slots 4 u^2, 5 (alpha g)^2, 8 ((alpha - ag) g)^2
   bounded:    d = (alpha-1)*g into s1; slot 14 d^2
   orthogonal: x = (alpha-ag)*g (0 if not finite) into s1; slots 14 x^2, 15 x*g
   hybrid:     base (adamw: bias-corrected Adam direction; else heavy-ball
               momentum of g + hwd*p) into s2 and bm/bv, alpha-1 into s1;
               slots 14 base^2, 15 p^2
   always:     slots 7 controller signal log(alpha/ag) (ctrl), 9 alpha,
               10 alpha^2, 11 near a bound, 12 min, 13 max; every 32nd
               element of a tensor adds to hist. */
extern "C" __global__ void pl_np_pass2(int nchunks, const int* ch, const int* sg, const int* flag, const float* st, int variant, int rule, int paramWise,
		float wa, float wg, float wm, float lo, float hi, float gs, float nearLo, float nearHi, float binScale, int ctrl, int coupled, float wd,
		int adam, float b1, float ob1, float b2, float ob2, float bc1, float bc2, float mom, float hwd,
		const float* g, const float* a, const float* r, const float* p, float* s1, float* s2, float* bm, float* bv, float* pt, unsigned* hist) {
	if (flag[0]) return;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int seg = ch[4 * c], lo_ = ch[4 * c + 1], hi_ = ch[4 * c + 2], base0 = ch[4 * c + 3];
		np_coef k = np_consts(st + OPT_NS * seg, sg[4 * seg + 1], rule, paramWise, wa, wg, wm, lo, hi, gs);
		float q0 = 0.0f, q1 = 0.0f, q2 = 0.0f, sig = 0.0f, asum = 0.0f, asum2 = 0.0f, anear = 0.0f;
		float amin = 3.402823466e38f, amax = -3.402823466e38f;
		for (int i = lo_ + threadIdx.x; i < hi_; i += blockDim.x) {
			float gi = g[i], ag, al;
			if (!paramWise) { ag = k.agS; al = k.alS; }
			else {
				float ga = fabsf(gi);
				ag = fminf(fmaxf(ga * k.invG, lo), hi);
				al = ag;
				if (rule) {
					float af = fminf(fmaxf(k.cA * a[i] + k.cG * ga + k.cR * r[i], lo), hi);
					al = ag + gs * (af - ag);
				}
			}
			if (variant == 0) {
				float u = al * gi, dl = (al - ag) * gi;
				q2 += dl * dl; q1 += u * u;
				if (coupled) u += wd * p[i];
				q0 += u * u;
				s1[i] = u;
			} else if (variant == 1) {
				float d = (al - 1.0f) * gi;
				s1[i] = d; q0 += d * d;
			} else if (variant == 2) {
				float x = (al - ag) * gi;
				if (x - x != 0.0f) x = 0.0f;
				s1[i] = x; q0 += x * x; q1 += x * gi;
			} else {
				float base;
				if (adam) {
					float mi = b1 * bm[i] + ob1 * gi, vi = b2 * bv[i] + ob2 * (gi * gi);
					bm[i] = mi; bv[i] = vi;
					base = (mi / bc1) / (sqrtf(vi / bc2) + 1e-8f);
				} else {
					float gp = gi;
					if (hwd > 0.0f) gp += hwd * p[i];
					float mi = mom * bm[i] + gp;
					bm[i] = mi;
					base = mi;
				}
				s2[i] = base; s1[i] = al - 1.0f;
				float pi = p[i];
				q0 += base * base; q1 += pi * pi;
			}
			if (ctrl) sig += logf(fmaxf(al, 1e-8f) / fmaxf(ag, 1e-8f));
			asum += al; asum2 += al * al;
			if (al <= nearLo || al >= nearHi) anear += 1.0f;
			amin = fminf(amin, al); amax = fmaxf(amax, al);
			if ((i - lo_ + base0) % 32 == 0) {
				int bin = (int)((al - lo) * binScale);
				atomicAdd(&hist[bin < 0 ? 0 : (bin > 63 ? 63 : bin)], 1u);
			}
		}
		float v[9] = {q0, q1, q2, sig, asum, asum2, anear, amin, amax};
		block_reduce_n(v, 9, 7, 8);
		q0 = v[0]; q1 = v[1]; q2 = v[2]; sig = v[3]; asum = v[4]; asum2 = v[5]; anear = v[6]; amin = v[7]; amax = v[8];
		if (threadIdx.x == 0) {
			float* o = pt + OPT_NQ * c;
			if (variant == 0) { o[4] = q0; o[5] = q1; o[8] = q2; o[14] = 0.0f; o[15] = 0.0f; }
			else { o[4] = 0.0f; o[5] = 0.0f; o[8] = 0.0f; o[14] = q0; o[15] = q1; }
			o[6] = 0.0f; o[7] = sig; o[9] = asum; o[10] = asum2; o[11] = anear; o[12] = amin; o[13] = amax;
		}
	}
}

/* Per-segment scalars between the stages (one thread per segment).
   stage 1, bounded: f = limit(||d||, resMax*||g||, 1e-12) -> slot 17, delta^2 -> slot 8
   stage 1, orthogonal: skip = ||g||^2 <= eps -> slot 19, projection c = <x,g>/(||g||^2+eps) -> slot 18
   stage 2, orthogonal: nf = ||g||/(||o||+eps) (match, ||o|| > eps) else 1; kk = lambda*sched*nf;
            ||o||^2 nf^2 -> 20; <o,g> nf -> 21; coef = kk*limit(kk*||o||, orthMax*||g||, eps) -> slot 17;
            delta^2 = coef^2 ||o||^2 -> 8
   stage 1, hybrid: gate = strength*phase*layer gate -> slot 18; tf = clamp(||p||/(||base||+1e-12), 0.5, 1.5) - 1 -> slot 19
   stage 2, hybrid: f = limit(||d||, maxRatio*||base||, 1e-12) -> slot 17, delta^2 -> slot 8
   (slot 16 holds ||o||^2 or ||d||^2 of the second element-wise stage, 17 <o,g>) */
extern "C" __global__ void pl_np_factors(int nseg, const float* sf, const int* flag, float* st, int variant, int stage, float ratio, float lambda, float sched, int match, float strength, float phase) {
	if (flag[0]) return;
	const float eps = 1e-8f;
	for (int s = blockIdx.x * blockDim.x + threadIdx.x; s < nseg; s += blockDim.x * gridDim.x) {
		float* q = st + OPT_NS * s;
		if (variant == 1) {
			float dn = sqrtf(q[14]), lim = ratio * sqrtf(q[1]);
			float f = dn > lim ? lim / (dn + 1e-12f) : 1.0f;
			q[17] = f; q[8] = f * f * q[14];
		} else if (variant == 2 && stage == 1) {
			float g2 = q[1];
			q[19] = g2 <= eps ? 1.0f : 0.0f;
			q[18] = g2 <= eps ? 0.0f : q[15] / (g2 + eps);
			q[16] = 0.0f; q[17] = 0.0f; q[20] = 0.0f; q[21] = 0.0f; q[8] = 0.0f;
		} else if (variant == 2) {
			if (q[19] != 0.0f) continue;
			float gn = sqrtf(q[1]), on = sqrtf(q[16]);
			float nf = (match && on > eps) ? gn / (on + eps) : 1.0f;
			float kk = lambda * sched * nf, lim = ratio * gn, x = kk * on;
			float coef = kk * (x > lim ? lim / (x + eps) : 1.0f);
			q[20] = nf * nf * q[16]; q[21] = nf * q[17]; q[17] = coef; q[8] = coef * coef * q[16];
		} else if (stage == 1) {
			float bn = sqrtf(q[14]);
			q[18] = strength * phase * sf[2 * s + 1];
			q[19] = fminf(fmaxf(sqrtf(q[15]) / (bn + 1e-12f), 0.5f), 1.5f) - 1.0f;
		} else {
			float dn = sqrtf(q[16]), lim = ratio * sqrtf(q[14]);
			float f = dn > lim ? lim / (dn + 1e-12f) : 1.0f;
			q[17] = f; q[8] = f * f * q[16];
		}
	}
}

/* NeuroPlastic second element-wise stage: orthogonal: o = x - c*g (unless
   skipped) into s1, slots 16 o^2, 17 o.g; hybrid: d = (alpha-1)*X*gate into s1,
   slot 16 d^2, X = base (target 0 gain), the base's own momentum (1:
   bm/bc1 for adamw, bm for sgd_momentum) or tf*base (2 trust). */
extern "C" __global__ void pl_np_stage2(int nchunks, const int* ch, const int* flag, const float* st, int variant, int target, int adam, float bc1, const float* g, const float* s2, const float* bm, float* s1, float* pt) {
	if (flag[0]) return;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int seg = ch[4 * c], lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		const float* q = st + OPT_NS * seg;
		float s = 0.0f, og = 0.0f;
		if (variant == 2) {
			if (q[19] == 0.0f) {
				float cc = q[18];
				for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) { float o = s1[i] - cc * g[i]; s1[i] = o; s += o * o; og += o * g[i]; }
			}
		} else {
			float gate = q[18], tf = q[19];
			for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
				float d;
				if (target == 0) d = s1[i] * s2[i];
				else if (target == 1) d = s1[i] * (adam ? bm[i] / bc1 : bm[i]);
				else d = s1[i] * tf * s2[i];
				d *= gate;
				s1[i] = d; s += d * d;
			}
		}
		float v[2] = {s, og};
		block_reduce_n(v, 2, -1, -1);
		if (threadIdx.x == 0) { pt[OPT_NQ * c + 16] = v[0]; pt[OPT_NQ * c + 17] = v[1]; }
	}
}

/* NeuroPlastic finish of the residual and hybrid variants:
   u = x + f*s1 (+ wd*p when coupled) into s1 with x = g (residuals) or the
   base s2 (hybrid) and f = slot 17; slots 5 (x + f s1)^2, 4 u^2. */
extern "C" __global__ void pl_np_finish(int nchunks, const int* ch, const int* flag, const float* st, int hybrid, int coupled, float wd, const float* g, const float* s2, const float* p, float* s1, float* pt) {
	if (flag[0]) return;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int seg = ch[4 * c], lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		float f = st[OPT_NS * seg + 17];
		float sr = 0.0f, su = 0.0f;
		for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
			float x = hybrid ? s2[i] : g[i];
			float u = x + f * s1[i];
			sr += u * u;
			if (coupled) u += wd * p[i];
			su += u * u;
			s1[i] = u;
		}
		float v[2] = {sr, su};
		block_reduce_n(v, 2, -1, -1);
		if (threadIdx.x == 0) { pt[OPT_NQ * c + 5] = v[0]; pt[OPT_NQ * c + 4] = v[1]; }
	}
}

/* The learning-rate controller (step 8), one thread: signal per tensor =
   slot 7 / n (0 in grad-only mode or when not finite), multiplier
   clamp(1 + alpha*mean signal of its scope, lo, hi) -> slot 22 (1 when
   off or outside classifier_only's scope); mode 0 off, 1 global,
   2 per_group, 3 classifier_only. Adds to the controller diagnostics
   (a multiplier within 1e-9 of a clamp counts as clamped). */
extern "C" __global__ void pl_np_control(int nseg, const int* sg, const int* cg, const int* flag, float* st, int mode, int gradOnly, float alpha, float lo, float hi, double* dg) {
	if (threadIdx.x != 0 || blockIdx.x != 0 || flag[0]) return;
	if (mode == 0) { for (int s = 0; s < nseg; s++) st[OPT_NS * s + 22] = 1.0f; return; }
	double sum[3] = {0, 0, 0}, cnt[3] = {0, 0, 0}, all = 0, allN = 0;
	for (int s = 0; s < nseg; s++) {
		double sig = (double)st[OPT_NS * s + 7] / (double)sg[4 * s + 1];
		if (gradOnly || sig - sig != 0.0) sig = 0.0;
		st[OPT_NS * s + 7] = (float)sig;
		sum[cg[s]] += sig; cnt[cg[s]] += 1; all += sig; allN += 1;
	}
	for (int s = 0; s < nseg; s++) {
		double sig = 0.0, m = 1.0;
		if (mode == 1) sig = all / allN;
		else if (mode == 2) sig = sum[cg[s]] / cnt[cg[s]];
		else if (cg[s] == 2) sig = sum[2] / cnt[2];
		if (mode != 3 || cg[s] == 2) m = fmin(fmax(1.0 + alpha * sig, lo), hi);
		st[OPT_NS * s + 22] = (float)m;
		dg[16] += 1; dg[17] += sig; dg[18] = fmin(dg[18], sig); dg[19] = fmax(dg[19], sig);
		dg[20] += m; dg[21] = fmin(dg[21], m); dg[22] = fmax(dg[22], m);
		if (m <= (double)lo + 1e-9) dg[23] += 1;
		if (m >= (double)hi - 1e-9) dg[24] += 1;
	}
}

/* NeuroPlastic step 9-11 per tensor: clip = maxNorm/(||u||+eps) when
   ||u|| > maxNorm; gain = clamp(1 + rate*(target*factor - rms), 0.5, 1.5)
   with rms = sqrt(clip^2 ||u||^2/n + eps); lrEff = lr*mult;
   p = (p - lrEff*wd*p [decoupled]) - lrEff*clip*gain*u. Slot 25 sum p^2
   before the step. */
extern "C" __global__ void pl_np_apply(int nchunks, const int* ch, const int* sg, const float* sf, const int* flag, const float* st, float lr, float maxNorm, float rate, float target, float wd, int decoupled, const float* u, float* p, float* pt) {
	if (flag[0]) return;
	const float eps = 1e-8f;
	for (int c = blockIdx.x; c < nchunks; c += gridDim.x) {
		int seg = ch[4 * c], lo = ch[4 * c + 1], hi = ch[4 * c + 2];
		const float* q = st + OPT_NS * seg;
		float u2 = q[4], norm = sqrtf(u2);
		float clip = norm > maxNorm ? maxNorm / (norm + eps) : 1.0f;
		float rms = sqrtf(clip * clip * u2 / (float)sg[4 * seg + 1] + eps);
		float gain = fminf(fmaxf(1.0f + rate * (target * sf[2 * seg] - rms), 0.5f), 1.5f);
		float lrEff = lr * q[22];
		float k = lrEff * clip * gain, dec = (decoupled && wd > 0.0f) ? lrEff * wd : 0.0f;
		float sp = 0.0f;
		for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
			float pi = p[i];
			sp += pi * pi;
			if (dec != 0.0f) pi -= dec * pi;
			p[i] = pi - k * u[i];
		}
		block_reduce_n(&sp, 1, -1, -1);
		if (threadIdx.x == 0) pt[OPT_NQ * c + 25] = sp;
	}
}

/* Diagnostics of a NeuroPlastic step (one thread), as the CPU optimizer
   accumulates them (sums of squares over the epoch's steps): dg[0] steps,
   1 skipped, 2 g, 3 p after the decoupled decay, 4 raw update (with
   coupled decay), 5 effective update, 6 delta, 7 wd*p (not for the
   sgd_momentum base, wdOut = 0); 10.. alpha statistics; 25.. orthogonal
   residual (orth != 0). */
extern "C" __global__ void pl_np_diag(int nseg, const int* sg, const float* sf, const int* flag, const float* st, float lr, float maxNorm, float rate, float target, float wd, int decoupled, int wdOut, int orth, double* dg) {
	if (threadIdx.x != 0 || blockIdx.x != 0) return;
	if (flag[0]) { dg[1] += 1.0; return; }
	const double eps = 1e-8;
	for (int s = 0; s < nseg; s++) {
		const float* q = st + OPT_NS * s;
		double n = sg[4 * s + 1], u2 = q[4], norm = sqrt(u2);
		double clip = norm > maxNorm ? maxNorm / (norm + eps) : 1.0;
		double rms = sqrt(clip * clip * u2 / n + eps);
		double gain = fmin(fmax(1.0 + rate * ((double)target * sf[2 * s] - rms), 0.5), 1.5);
		double mult = q[22], e = mult * clip * gain;
		double dec = (decoupled && wd > 0.0f) ? (double)lr * mult * wd : 0.0;
		dg[2] += q[1]; dg[3] += (1 - dec) * (1 - dec) * q[25]; dg[4] += u2; dg[5] += e * e * u2; dg[6] += q[8];
		if (wdOut && wd > 0.0f) dg[7] += (double)wd * wd * q[25];
		if (orth) { dg[25] += q[14]; dg[26] += q[20]; dg[27] += q[15]; dg[28] += q[21]; dg[29] += 1; dg[30] += q[19]; }
		dg[10] += n; dg[11] += q[9]; dg[12] += q[10]; dg[13] += q[11];
		dg[14] = fmin(dg[14], (double)q[12]); dg[15] = fmax(dg[15], (double)q[13]);
	}
	dg[0] += 1;
}
`

// Chunking and slots of the optimizer kernels.
const (
	OptChunk = 4096 // elements per chunk (one block of BlockSize threads)
	OptNQ    = 32   // partials per chunk
	OptNS    = 32   // statistics per segment
	OptDiag  = 32   // float64 diagnostics accumulators
	OptBins  = 64   // alpha histogram bins
)
