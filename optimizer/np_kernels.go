package optimizer

import "math"

// npTensor holds the state buffers of one parameter tensor (float32 or
// float64) and, during a step, its value and gradient slices.
type npTensor[T float] struct {
	p, g    []T
	a, m, v []T // activity trace, momentum, variance
	bm, bv  []T // hybrid base moments
	s1, s2  []T // scratch: r then u; hybrid base
}

func newNPTensor[T float](n int, hybrid bool) *npTensor[T] {
	t := &npTensor[T]{a: make([]T, n), m: make([]T, n), v: make([]T, n), s1: make([]T, n)}
	if hybrid {
		t.bm = make([]T, n)
		t.bv = make([]T, n)
		t.s2 = make([]T, n)
	}
	return t
}

func (t *npTensor[T]) bind(p, g []T) { t.p, t.g = p, g }

// npK are the per-tensor constants of one step, in the tensor's precision.
type npK[T float] struct {
	td, otd, md, omd, vd, ovd, eps T
	invG, cA, cG, cR               T // 1/(mean|g|+eps), wa/(mean a+eps), wg/(mean|g|+eps), wm/(mean r+eps)
	lo, hi, gs                     T
	agS, alphaS                    T // scalar (not parameter-wise) coefficients
	wd                             T
	nearLo, nearHi, binScale       T
	loB, hiB                       uint64 // math.Float64bits of float64(lo), float64(hi)
	rule, paramWise, coupled, ctrl bool
}

// npStep are the step-wide scalars of the residual and hybrid variants.
type npStep struct {
	residual, base, target string
	resMax                 float64
	orthLambda, orthMax    float64
	orthMatch              bool
	sched                  float64
	modStrength, modMax    float64
	phaseGate              float64
	baseMom, baseB2        float64
	wd                     float64
}

func (o *NeuroPlastic) stepScalars() npStep {
	np := &o.np
	return npStep{
		residual: np.Residual, base: np.HybridBase, target: np.ModulationTarget,
		resMax: np.ResidualMaxRatio, orthLambda: np.OrthogonalLambda, orthMax: np.OrthogonalMaxRatio,
		orthMatch: np.OrthogonalNorm == OrthNormMatch, sched: o.orthSchedule(),
		modStrength: np.ModulationStrength, modMax: np.ModulationMaxRatio, phaseGate: o.phaseGate(),
		baseMom: np.BaseMomentum, baseB2: np.BaseBeta2, wd: o.cfg.WeightDecay,
	}
}

// nearFrac: a coefficient within nearFrac of the range (max_alpha -
// min_alpha) of a bound counts as near it (the reference's
// saturation_threshold_fraction, with its 1e-6 slack).
const nearFrac = 0.05

// makeK computes the constants of one tensor from the pass-1 sums in s.w.
func makeK[T float](o *NeuroPlastic, s *npSlot, n int, rule bool, gs float64) npK[T] {
	np := &o.np
	w := &s.w
	k := npK[T]{
		td: T(np.TraceDecay), otd: T(1 - np.TraceDecay),
		md: T(np.MomentumDecay), omd: T(1 - np.MomentumDecay),
		vd: T(np.VarianceDecay), ovd: T(1 - np.VarianceDecay),
		eps: T(eps),
		lo:  T(np.MinAlpha), hi: T(np.MaxAlpha), gs: T(gs),
		nearLo:   T(np.MinAlpha + nearFrac*(np.MaxAlpha-np.MinAlpha) + 1e-6),
		nearHi:   T(np.MaxAlpha - nearFrac*(np.MaxAlpha-np.MinAlpha) - 1e-6),
		binScale: T(histBins / (np.MaxAlpha - np.MinAlpha)),
		rule:     rule, paramWise: np.ParamWise,
		ctrl: np.Controller != ControllerOff && rule,
	}
	k.loB, k.hiB = math.Float64bits(float64(k.lo)), math.Float64bits(float64(k.hi))
	if o.cfg.WeightDecay > 0 && !np.DecoupledWD && np.HybridBase == BaseClassic {
		k.coupled = true
		k.wd = T(o.cfg.WeightDecay)
	}
	nn := float64(n)
	mg, ma, mr := w.sumAbsG/nn, w.sumA/nn, w.sumR/nn
	ig, ia, ir := 1/(mg+eps), 1/(ma+eps), 1/(mr+eps)
	k.invG, k.cA, k.cG, k.cR = T(ig), T(np.WeightActivity*ia), T(np.WeightGrad*ig), T(np.WeightMemory*ir)
	if !np.ParamWise {
		ag := clampF(mg*ig, np.MinAlpha, np.MaxAlpha)
		al := ag
		if rule {
			af := clampF(np.WeightActivity*ma*ia+np.WeightGrad*mg*ig+np.WeightMemory*mr*ir, np.MinAlpha, np.MaxAlpha)
			al = ag + gs*(af-ag)
		}
		k.agS, k.alphaS = T(ag), T(al)
	}
	return k
}

func (o *NeuroPlastic) kernel32(s *npSlot, rule bool, gs float64) npK[float32] {
	return makeK[float32](o, s, len(s.t32.a), rule, gs)
}

func (o *NeuroPlastic) kernel64(s *npSlot, rule bool, gs float64) npK[float64] {
	return makeK[float64](o, s, len(s.t64.a), rule, gs)
}

func abs[T float](x T) T  { return T(math.Abs(float64(x))) }
func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }

// limit is the factor that rescales a vector of norm `norm` to at most lim:
// lim/(norm+guard) when norm > lim, else 1. The reference guards with 1e-12
// (limitGuard) for the bounded residual and the hybrid modulation, and with
// eps = 1e-8 for the orthogonal residual.
func limit(norm, lim, guard float64) float64 {
	if norm > lim {
		return lim / (norm + guard)
	}
	return 1
}

// limitGuard is the guard of the bounded-residual and hybrid-modulation
// rescaling.
const limitGuard = 1e-12

// clampPos clamps x >= 0 to [lo, hi] (0 < lo < hi) given as the bit patterns
// of float64(lo), float64(hi): bit patterns of non-negative floats order like
// their values, so this is two integer compare-and-moves instead of NaN-aware
// float min/max (the result is x, lo or hi, exact in T).
func clampPos[T float](x T, lo, hi uint64) T {
	return T(math.Float64frombits(min(max(math.Float64bits(float64(x)), lo), hi)))
}

// block is the length of the runs summed in the tensor's precision before
// being added to the float64 totals.
const block = 256

// gradSums returns the sums of |g| and g*g (pass 0, the finiteness check:
// both are finite iff every element is, barring overflow).
func (t *npTensor[T]) gradSums() (sumAbs, sumSq float64) {
	done := 0
	if f, ok := any(t).(*npTensor[float32]); ok {
		sumAbs, sumSq, done = fastGradSums(f.g)
	}
	a, q := gradSums(t.g[done:])
	return sumAbs + a, sumSq + q
}

func gradSums[T float](g []T) (sumAbs, sumSq float64) {
	for b0 := 0; b0 < len(g); b0 += block {
		gb := g[b0:min(b0+block, len(g))]
		var a0, a1, q0, q1 T
		i := 0
		for ; i+2 <= len(gb); i += 2 {
			x0, x1 := gb[i], gb[i+1]
			a0 += abs(x0)
			a1 += abs(x1)
			q0 += x0 * x0
			q1 += x1 * x1
		}
		if i < len(gb) {
			a0 += abs(gb[i])
			q0 += gb[i] * gb[i]
		}
		sumAbs += float64(a0) + float64(a1)
		sumSq += float64(q0) + float64(q1)
	}
	return sumAbs, sumSq
}

// pass1 updates the traces a, m, v (steps 1-2) and, in rule_based mode,
// writes r = |m|/(sqrt(v)+eps) to the scratch buffer and sums a and r.
// It runs only once every gradient of the step is known to be finite.
func (t *npTensor[T]) pass1(k *npK[T], w *npWork) {
	done := t.fastPass1(k, w)
	g := t.g[done:]
	n := len(g)
	a, m, v, s := t.a[done:][:n], t.m[done:][:n], t.v[done:][:n], t.s1[done:][:n]
	td, otd, md, omd, vd, ovd, e := k.td, k.otd, k.md, k.omd, k.vd, k.ovd, k.eps
	if !k.rule {
		for i, gi := range g {
			a[i] = td*a[i] + otd*abs(gi)
			m[i] = md*m[i] + omd*gi
			v[i] = vd*v[i] + ovd*(gi*gi)
		}
		return
	}
	var sa, sr float64
	for b0 := 0; b0 < n; b0 += block {
		b1 := min(b0+block, n)
		gb := g[b0:b1]
		ab, mb, vb, sb := a[b0:b1][:len(gb)], m[b0:b1][:len(gb)], v[b0:b1][:len(gb)], s[b0:b1][:len(gb)]
		var pa, pr T
		for i, gi := range gb {
			ai := td*ab[i] + otd*abs(gi)
			mi := md*mb[i] + omd*gi
			vi := vd*vb[i] + ovd*(gi*gi)
			ab[i], mb[i], vb[i] = ai, mi, vi
			r := abs(mi) / (sqrt(vi) + e)
			sb[i] = r
			pa += ai
			pr += r
		}
		sa += float64(pa)
		sr += float64(pr)
	}
	w.sumA += sa
	w.sumR += sr
}

// histStride: the histogram behind the alpha median takes the coefficients
// at indices 0, 32, 64, ... of each tensor (a sample, to keep it cheap).
const histStride = 32

// alphaLocal accumulates alpha statistics of one tensor in its precision.
type alphaLocal[T float] struct {
	sum, sum2 float64
	mn, mx    T
	near      int
	hist      [histBins]int32
}

func (l *alphaLocal[T]) init() {
	l.mn, l.mx = T(math.Inf(1)), T(math.Inf(-1))
}

func (l *alphaLocal[T]) add(k *npK[T], al T, i int) {
	fa := float64(al)
	l.sum += fa
	l.sum2 += fa * fa
	if al < l.mn {
		l.mn = al
	}
	if al > l.mx {
		l.mx = al
	}
	if al <= k.nearLo || al >= k.nearHi {
		l.near++
	}
	if i%histStride == 0 {
		b := int((al - k.lo) * k.binScale)
		l.hist[min(max(b, 0), histBins-1)]++
	}
}

// addBlock adds the coefficients of one block.
func (l *alphaLocal[T]) addBlock(k *npK[T], alpha []T, base int) {
	var s, s2 T
	mn, mx := l.mn, l.mx
	near := 0
	lo, nearLo, nearHi, bs := k.lo, k.nearLo, k.nearHi, k.binScale
	for _, x := range alpha {
		s += x
		s2 += x * x
		if x < mn {
			mn = x
		}
		if x > mx {
			mx = x
		}
		c := 0
		if x <= nearLo {
			c = 1
		}
		if x >= nearHi {
			c = 1
		}
		near += c
	}
	for i := (histStride - base%histStride) % histStride; i < len(alpha); i += histStride {
		b := int((alpha[i] - lo) * bs)
		l.hist[min(max(b, 0), histBins-1)]++
	}
	l.sum += float64(s)
	l.sum2 += float64(s2)
	l.mn, l.mx, l.near = mn, mx, l.near+near
}

func (l *alphaLocal[T]) flush(n int, as *alphaStats) {
	as.n += float64(n)
	as.sum += l.sum
	as.sum2 += l.sum2
	as.near += float64(l.near)
	as.min = min(as.min, float64(l.mn))
	as.max = max(as.max, float64(l.mx))
	for i, c := range l.hist {
		as.hist[i] += float64(c)
	}
}

// coef returns g, ag and alpha of element i (steps 3-6) from the traces
// written by pass1; used by the residual and hybrid variants.
func (t *npTensor[T]) coef(k *npK[T], i int) (gi, ag, al T) {
	gi = t.g[i]
	if !k.paramWise {
		return gi, k.agS, k.alphaS
	}
	ga := abs(gi)
	ag = clampPos(ga*k.invG, k.loB, k.hiB)
	if !k.rule {
		return gi, ag, ag
	}
	af := clampPos(k.cA*t.a[i]+k.cG*ga+k.cR*t.s1[i], k.loB, k.hiB)
	return gi, ag, ag + k.gs*(af-ag)
}

func ctrlTerm[T float](al, ag T) float64 {
	return math.Log(max(float64(al), eps) / max(float64(ag), eps))
}

// pass2 updates the traces and computes the raw update u into s1 (steps 1-7
// and coupled weight decay), with the norms the later steps need.
func (t *npTensor[T]) pass2(k *npK[T], w *npWork, as *alphaStats, st *npStep, step int64, layerGate float64) {
	var al alphaLocal[T]
	al.init()
	switch {
	case st.base != BaseClassic:
		t.pass2Hybrid(k, w, &al, st, step, layerGate)
	case st.residual == ResidualBounded:
		t.pass2Bounded(k, w, &al, st)
	case st.residual == ResidualOrthogonal:
		t.pass2Orthogonal(k, w, &al, st)
	default:
		t.pass2Classic(k, w, &al)
	}
	al.flush(len(t.g), as)
	if k.ctrl {
		w.signal /= float64(len(t.g))
	}
}

// pass2Classic is the default path: u = alpha*g (+ wd*p), with the norms and
// the alpha statistics accumulated on the way. It works block by block
// through short loops (coefficients, update, statistics) that keep their
// values in registers; the block's coefficients stay in a stack buffer.
func (t *npTensor[T]) pass2Classic(k *npK[T], w *npWork, al *alphaLocal[T]) {
	done := t.fastCoef(k, w, al)
	g := t.g[done:]
	n := len(g)
	a, s, p := t.a[done:][:n], t.s1[done:][:n], t.p[done:][:n]
	var su2, sraw2, sdel2, sig float64
	var abuf, gbuf [block]T
	for b0 := 0; b0 < n; b0 += block {
		b1 := min(b0+block, n)
		gb := g[b0:b1]
		m := len(gb)
		ab, sb := a[b0:b1][:m], s[b0:b1][:m]
		alpha, agb := abuf[:m], gbuf[:m]
		k.coefBlock(gb, ab, sb, alpha, agb)
		var pu2, praw2, pdel2 T
		if k.coupled {
			pb := p[b0:b1][:m]
			wd := k.wd
			for i, gi := range gb {
				u := alpha[i] * gi
				dl := (alpha[i] - agb[i]) * gi
				pdel2 += dl * dl
				praw2 += u * u
				u += wd * pb[i]
				pu2 += u * u
				sb[i] = u
			}
		} else {
			for i, gi := range gb {
				u := alpha[i] * gi
				dl := (alpha[i] - agb[i]) * gi
				pdel2 += dl * dl
				praw2 += u * u
				sb[i] = u
			}
			pu2 = praw2
		}
		su2 += float64(pu2)
		sraw2 += float64(praw2)
		sdel2 += float64(pdel2)
		if k.ctrl {
			for i, x := range alpha {
				sig += ctrlTerm(x, agb[i])
			}
		}
		al.addBlock(k, alpha, done+b0)
	}
	w.sumU2 += su2
	w.sumRaw2 += sraw2
	w.sumDelta2 += sdel2
	w.signal += sig
}

// coefBlock writes alpha (and ag when the controller needs it) of one block
// (steps 3-6) from g, the new trace a and r = |m|/(sqrt(v)+eps) in sb.
func (k *npK[T]) coefBlock(gb, ab, sb, alpha, agb []T) {
	m := len(gb)
	ab, sb, alpha, agb = ab[:m], sb[:m], alpha[:m], agb[:m]
	lo, hi, invG := k.loB, k.hiB, k.invG
	switch {
	case !k.paramWise:
		for i := range alpha {
			alpha[i], agb[i] = k.alphaS, k.agS
		}
	case !k.rule:
		for i, gi := range gb {
			ag := clampPos(abs(gi)*invG, lo, hi)
			alpha[i], agb[i] = ag, ag
		}
	default:
		cA, cG, cR, gs := k.cA, k.cG, k.cR, k.gs
		for i, gi := range gb {
			ga := abs(gi)
			ag := clampPos(ga*invG, lo, hi)
			af := clampPos(cA*ab[i]+cG*ga+cR*sb[i], lo, hi)
			alpha[i] = ag + gs*(af-ag)
			agb[i] = ag
		}
	}
}

// finishU writes u = x + wd*p (coupled) into s1 from the values of x given by
// f, and records the raw and total squared norms.
func (t *npTensor[T]) pass2Bounded(k *npK[T], w *npWork, al *alphaLocal[T], st *npStep) {
	n := len(t.g)
	s := t.s1[:n]
	var sd2, sig float64
	for i := 0; i < n; i++ {
		gi, ag, alpha := t.coef(k, i)
		d := (alpha - 1) * gi
		s[i] = d
		fd := float64(d)
		sd2 += fd * fd
		if k.ctrl {
			sig += ctrlTerm(alpha, ag)
		}
		al.add(k, alpha, i)
	}
	f := limit(math.Sqrt(sd2), st.resMax*math.Sqrt(w.sumG2), limitGuard)
	t.finish(k, w, T(f), t.g)
	w.sumDelta2 = f * f * sd2
	w.signal = sig
}

// finish computes u = x + c*s1 (+ wd*p when coupled) into s1.
func (t *npTensor[T]) finish(k *npK[T], w *npWork, c T, x []T) {
	n := len(t.g)
	s, x, p := t.s1[:n], x[:n], t.p[:n]
	var sraw2, su2 float64
	for i := 0; i < n; i++ {
		u := x[i] + c*s[i]
		fu := float64(u)
		sraw2 += fu * fu
		if k.coupled {
			u += k.wd * p[i]
			fu = float64(u)
			su2 += fu * fu
		}
		s[i] = u
	}
	if !k.coupled {
		su2 = sraw2
	}
	w.sumRaw2, w.sumU2 = sraw2, su2
}

func (t *npTensor[T]) pass2Orthogonal(k *npK[T], w *npWork, al *alphaLocal[T], st *npStep) {
	n := len(t.g)
	s, g := t.s1[:n], t.g[:n]
	var ss2, ssg, sig float64
	for i := 0; i < n; i++ {
		gi, ag, alpha := t.coef(k, i)
		x := (alpha - ag) * gi
		if x-x != 0 { // NaN or Inf
			x = 0
		}
		s[i] = x
		fx := float64(x)
		ss2 += fx * fx
		ssg += fx * float64(gi)
		if k.ctrl {
			sig += ctrlTerm(alpha, ag)
		}
		al.add(k, alpha, i)
	}
	w.signal = sig
	w.orthActive = true
	w.orthS2, w.orthSG = ss2, ssg
	g2 := w.sumG2
	coef := 0.0
	if g2 <= eps {
		w.orthSkip = true
	} else {
		c := T(ssg / (g2 + eps))
		var so2, sog float64
		for i := 0; i < n; i++ {
			o := s[i] - c*g[i]
			s[i] = o
			fo := float64(o)
			so2 += fo * fo
			sog += fo * float64(g[i])
		}
		gn, on := math.Sqrt(g2), math.Sqrt(so2)
		nf := 1.0
		if st.orthMatch && on > eps {
			nf = gn / (on + eps)
		}
		kk := st.orthLambda * st.sched * nf
		f := limit(kk*on, st.orthMax*gn, eps)
		coef = kk * f
		w.orthO2 = nf * nf * so2
		w.orthOG = nf * sog
		w.sumDelta2 = coef * coef * so2
	}
	t.finish(k, w, T(coef), g)
}

func (t *npTensor[T]) pass2Hybrid(k *npK[T], w *npWork, al *alphaLocal[T], st *npStep, step int64, layerGate float64) {
	n := len(t.g)
	s, b, bm, bv, p := t.s1[:n], t.s2[:n], t.bm[:n], t.bv[:n], t.p[:n]
	adam := st.base == BaseAdamW
	mom := T(st.baseMom)
	wdT := T(st.wd)
	useWD := st.wd > 0
	b1, b2 := T(st.baseMom), T(st.baseB2)
	ob1, ob2 := T(1-st.baseMom), T(1-st.baseB2)
	bc1 := T(1 - math.Pow(st.baseMom, float64(step)))
	bc2 := T(1 - math.Pow(st.baseB2, float64(step)))
	var sb2, sp2, sig float64
	for i := 0; i < n; i++ {
		gi, ag, alpha := t.coef(k, i)
		var base T
		if adam {
			bm[i] = b1*bm[i] + ob1*gi
			bv[i] = b2*bv[i] + ob2*(gi*gi)
			base = (bm[i] / bc1) / (sqrt(bv[i]/bc2) + T(1e-8))
		} else {
			gp := gi
			if useWD {
				gp += wdT * p[i]
			}
			bm[i] = mom*bm[i] + gp
			base = bm[i]
		}
		b[i] = base
		s[i] = alpha - 1
		fb, fp := float64(base), float64(p[i])
		sb2 += fb * fb
		sp2 += fp * fp
		if k.ctrl {
			sig += ctrlTerm(alpha, ag)
		}
		al.add(k, alpha, i)
	}
	w.signal = sig
	gate := T(st.modStrength * st.phaseGate * layerGate)
	bn := math.Sqrt(sb2)
	tf := T(clampF(math.Sqrt(sp2)/(bn+1e-12), 0.5, 1.5) - 1)
	var sd2 float64
	for i := 0; i < n; i++ {
		var d T
		switch st.target {
		case TargetGain:
			d = s[i] * b[i]
		case TargetMomentum: // the base's own momentum: bias-corrected for adamw
			if adam {
				d = s[i] * (bm[i] / bc1)
			} else {
				d = s[i] * bm[i]
			}
		default: // trust
			d = s[i] * tf * b[i]
		}
		d *= gate
		s[i] = d
		fd := float64(d)
		sd2 += fd * fd
	}
	f := limit(math.Sqrt(sd2), st.modMax*bn, limitGuard)
	t.finish(k, w, T(f), b)
	w.sumDelta2 = f * f * sd2
}

// apply does p -= dec*p (decoupled weight decay) then p -= c*u and returns
// the sum of squares of p before the step.
func (t *npTensor[T]) apply(dec, c T) float64 {
	var sp float64
	done := 0
	if dec == 0 {
		sp, done = t.fastApply(c)
	}
	p := t.p[done:]
	u := t.s1[done:][:len(p)]
	for b0 := 0; b0 < len(p); b0 += block {
		b1 := min(b0+block, len(p))
		pb := p[b0:b1]
		ub := u[b0:b1][:len(pb)]
		var s0, s1 T
		i := 0
		if dec != 0 {
			for ; i < len(pb); i++ {
				pi := pb[i]
				s0 += pi * pi
				pi -= dec * pi
				pb[i] = pi - c*ub[i]
			}
		}
		for ; i+2 <= len(pb); i += 2 {
			p0, p1 := pb[i], pb[i+1]
			s0 += p0 * p0
			s1 += p1 * p1
			pb[i] = p0 - c*ub[i]
			pb[i+1] = p1 - c*ub[i+1]
		}
		for ; i < len(pb); i++ {
			pi := pb[i]
			s0 += pi * pi
			pb[i] = pi - c*ub[i]
		}
		sp += float64(s0) + float64(s1)
	}
	return sp
}
