package optimizer

import "math"

// refNP is an independent, unfused float64 implementation of the update in
// docs/neuroplastic.md, written step by step from the authors' reference code
// (not from the fused kernels). The optimizer is checked against it here; the
// authors' code itself is replayed in replay_test.go.
type refNP struct {
	cfg          Config
	np           NPConfig
	lr           float64
	epoch, total int
	st           []refState
	shapes       [][]int
}

type refState struct {
	a, m, v, bm, bv []float64
	step            int
}

func newRefNP(cfg Config, shapes [][]int) *refNP {
	if err := cfg.Validate(); err != nil { // resolves the aliases as New does
		panic(err)
	}
	r := &refNP{cfg: cfg, np: cfg.NP, lr: cfg.LR, epoch: 1, total: 1, shapes: shapes}
	for _, s := range shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		r.st = append(r.st, refState{a: make([]float64, n), m: make([]float64, n), v: make([]float64, n),
			bm: make([]float64, n), bv: make([]float64, n)})
	}
	return r
}

func refMean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func refNorm(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

func refDot(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// refStd is std(x) = x / (mean(x) + eps).
func refStd(x []float64) []float64 {
	mu := refMean(x)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v / (mu + 1e-8)
	}
	return out
}

func refClamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// refRescale rescales d so that ||d|| <= lim, dividing by ||d|| + guard.
func refRescale(d []float64, lim, guard float64) {
	nd := refNorm(d)
	if nd > lim {
		f := lim / (nd + guard)
		for i := range d {
			d[i] *= f
		}
	}
}

// progress is epoch/total; total is 1 unless set (the reference's default).
func (r *refNP) progress() float64 {
	return float64(r.epoch) / float64(max(r.total, 1))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// groups returns, per parameter, the layer-group facts of docs/neuroplastic.md.
func (r *refNP) groups(i int) (classifier, early, late, conv bool, third int) {
	n := len(r.shapes)
	body := n - 2
	if body < 0 {
		body = 0
	}
	classifier = i >= n-2
	early = i < ceilDiv(body, 2) && i < n-2
	late = i >= body/2 && i < n-2
	conv = len(r.shapes[i]) == 4
	switch {
	case i < ceilDiv(n, 3):
		third = 0
	case i < ceilDiv(2*n, 3):
		third = 1
	default:
		third = 2
	}
	return
}

func (r *refNP) step(ps, gs [][]float64) {
	np := r.np
	const eps = 1e-8
	n := len(ps)
	us := make([][]float64, n)
	alphas := make([][]float64, n)
	ags := make([][]float64, n)
	for t := 0; t < n; t++ {
		p, g, s := ps[t], gs[t], &r.st[t]
		absg := make([]float64, len(g))
		for i := range g {
			absg[i] = math.Abs(g[i])
		}
		// 1. activity trace, from zero, every step including the first
		for i := range g {
			s.a[i] = np.TraceDecay*s.a[i] + (1-np.TraceDecay)*absg[i]
		}
		// 2. raw moments
		for i := range g {
			s.m[i] = np.MomentumDecay*s.m[i] + (1-np.MomentumDecay)*g[i]
			s.v[i] = np.VarianceDecay*s.v[i] + (1-np.VarianceDecay)*g[i]*g[i]
		}
		s.step++
		// 4. gradient-only coefficient
		ag := refStd(absg)
		if !np.ParamWise {
			mu := refMean(ag)
			for i := range ag {
				ag[i] = mu
			}
		}
		for i := range ag {
			ag[i] = refClamp(ag[i], np.MinAlpha, np.MaxAlpha)
		}
		// 5. full coefficient
		rr := make([]float64, len(g))
		for i := range g {
			rr[i] = math.Abs(s.m[i]) / (math.Sqrt(s.v[i]) + eps)
		}
		sa, sg, sr := refStd(s.a), refStd(absg), refStd(rr)
		af := make([]float64, len(g))
		for i := range g {
			af[i] = np.WeightActivity*sa[i] + np.WeightGrad*sg[i] + np.WeightMemory*sr[i]
		}
		if !np.ParamWise {
			mu := refMean(af)
			for i := range af {
				af[i] = mu
			}
		}
		for i := range af {
			af[i] = refClamp(af[i], np.MinAlpha, np.MaxAlpha)
		}
		// 6. warm-up gate
		gate := 1.0
		if np.Mode == ModeGradOnly {
			gate = 0
		} else if np.WarmupEpochs > 0 {
			gate = refClamp(float64(r.epoch-1)/float64(np.WarmupEpochs), 0, 1)
		}
		alpha := make([]float64, len(g))
		for i := range g {
			if np.Mode == ModeGradOnly {
				alpha[i] = ag[i]
			} else {
				alpha[i] = ag[i] + gate*np.PlasticityScale*(af[i]-ag[i])
			}
		}
		alphas[t], ags[t] = alpha, ag
		// 7. update by base
		u := make([]float64, len(g))
		gn := refNorm(g)
		switch np.HybridBase {
		case BaseClassic:
			switch np.Residual {
			case ResidualNone:
				for i := range g {
					u[i] = alpha[i] * g[i]
				}
			case ResidualBounded:
				d := make([]float64, len(g))
				for i := range g {
					d[i] = (alpha[i] - 1) * g[i]
				}
				refRescale(d, np.ResidualMaxRatio*gn, 1e-12)
				for i := range g {
					u[i] = g[i] + d[i]
				}
			case ResidualOrthogonal:
				sv := make([]float64, len(g))
				for i := range g {
					sv[i] = (alpha[i] - ag[i]) * g[i]
					if math.IsNaN(sv[i]) || math.IsInf(sv[i], 0) {
						sv[i] = 0
					}
				}
				d := make([]float64, len(g))
				if gn*gn > eps {
					c := refDot(sv, g) / (gn*gn + eps)
					o := make([]float64, len(g))
					for i := range g {
						o[i] = sv[i] - c*g[i]
					}
					on := refNorm(o)
					if np.OrthogonalNorm == OrthNormMatch && on > eps {
						for i := range o {
							o[i] *= gn / (on + eps)
						}
					}
					sched := 1.0
					pr := r.progress()
					switch np.OrthogonalSchedule {
					case ScheduleLate:
						if pr <= 0.3 {
							sched = 0
						} else {
							sched = math.Min((pr-0.3)/(1-0.3), 1)
						}
					case ScheduleCosine:
						sched = 0.5 * (1 - math.Cos(math.Pi*refClamp(pr, 0, 1)))
					}
					for i := range g {
						d[i] = np.OrthogonalLambda * sched * o[i]
					}
					refRescale(d, np.OrthogonalMaxRatio*gn, 1e-8)
				}
				for i := range g {
					u[i] = g[i] + d[i]
				}
			}
		default:
			base := make([]float64, len(g))
			mref := make([]float64, len(g)) // the base's own momentum
			if np.HybridBase == BaseAdamW {
				b1, b2 := np.BaseMomentum, np.BaseBeta2
				for i := range g {
					s.bm[i] = b1*s.bm[i] + (1-b1)*g[i]
					s.bv[i] = b2*s.bv[i] + (1-b2)*g[i]*g[i]
					mh := s.bm[i] / (1 - math.Pow(b1, float64(s.step)))
					vh := s.bv[i] / (1 - math.Pow(b2, float64(s.step)))
					base[i] = mh / (math.Sqrt(vh) + 1e-8)
					mref[i] = mh
				}
			} else {
				for i := range g {
					gp := g[i]
					if r.cfg.WeightDecay > 0 {
						gp += r.cfg.WeightDecay * p[i]
					}
					s.bm[i] = np.BaseMomentum*s.bm[i] + gp
					base[i] = s.bm[i]
					mref[i] = s.bm[i]
				}
			}
			classifier, early, late, conv, _ := r.groups(t)
			scope := 1.0
			switch np.LayerScope {
			case ScopeConvOnly:
				scope = b2f(conv)
			case ScopeClassifierOnly:
				scope = b2f(classifier)
			case ScopeEarlyBlocks:
				scope = b2f(early)
			case ScopeLateBlocks:
				scope = b2f(late)
			}
			pr := r.progress()
			phase := 1.0
			switch np.PhaseScope {
			case PhaseEarly:
				phase = b2f(pr <= 0.3)
			case PhaseMiddle:
				phase = b2f(pr > 0.3 && pr < 0.7)
			case PhaseLate:
				phase = b2f(pr >= 0.7)
			}
			mg := np.ModulationStrength * phase * scope
			d := make([]float64, len(g))
			for i := range g {
				sig := alpha[i] - 1
				switch np.ModulationTarget {
				case TargetGain:
					d[i] = sig * base[i]
				case TargetMomentum:
					d[i] = sig * mref[i]
				case TargetTrust:
					tr := refClamp(refNorm(p)/(refNorm(base)+1e-12), 0.5, 1.5)
					d[i] = sig * (tr - 1) * base[i]
				}
				d[i] *= mg
			}
			refRescale(d, np.ModulationMaxRatio*refNorm(base), 1e-12)
			for i := range g {
				u[i] = base[i] + d[i]
			}
		}
		us[t] = u
	}
	// 8. learning-rate controller
	mult := make([]float64, n)
	signal := make([]float64, n)
	for t := 0; t < n; t++ {
		mult[t] = 1
		if np.Mode == ModeGradOnly {
			continue
		}
		sum := 0.0
		for i := range alphas[t] {
			sum += math.Log(math.Max(alphas[t][i], 1e-8) / math.Max(ags[t][i], 1e-8))
		}
		signal[t] = sum / float64(len(alphas[t]))
		if math.IsNaN(signal[t]) || math.IsInf(signal[t], 0) {
			signal[t] = 0
		}
	}
	groupOf := func(t int) int {
		classifier, early, _, _, _ := r.groups(t)
		switch {
		case classifier:
			return 2
		case early:
			return 0
		}
		return 1
	}
	if np.Controller != ControllerOff {
		var sum, cnt [3]float64
		all := 0.0
		for t := 0; t < n; t++ {
			sum[groupOf(t)] += signal[t]
			cnt[groupOf(t)]++
			all += signal[t]
		}
		for t := 0; t < n; t++ {
			var sig float64
			switch np.Controller {
			case ControllerGlobal:
				sig = all / float64(n)
			case ControllerPerGroup:
				sig = sum[groupOf(t)] / cnt[groupOf(t)]
			case ControllerClassifierOnly:
				if groupOf(t) != 2 {
					continue
				}
				sig = sum[2] / cnt[2]
			}
			mult[t] = refClamp(1+np.ControllerAlpha*sig, np.ControllerMin, np.ControllerMax)
		}
	}
	for t := 0; t < n; t++ {
		p, u := ps[t], us[t]
		lrEff := r.lr * mult[t]
		wd := r.cfg.WeightDecay
		// 9. weight decay
		if np.HybridBase != BaseSGDMomentum && wd > 0 {
			if np.DecoupledWD || np.HybridBase == BaseAdamW {
				for i := range p {
					p[i] -= lrEff * wd * p[i]
				}
			} else {
				for i := range p {
					u[i] += wd * p[i]
				}
			}
		}
		// 10. homeostatic stabilization
		un := refNorm(u)
		if un > np.MaxUpdateNorm {
			for i := range u {
				u[i] *= np.MaxUpdateNorm / (un + 1e-8)
			}
		}
		sq := make([]float64, len(u))
		for i := range u {
			sq[i] = u[i] * u[i]
		}
		rms := math.Sqrt(refMean(sq) + 1e-8)
		_, _, _, _, third := r.groups(t)
		scale := []float64{np.TargetRMSEarly, np.TargetRMSMiddle, np.TargetRMSLate}[third]
		gain := refClamp(1+np.AdaptationRate*(np.TargetRMS*scale-rms), 0.5, 1.5)
		// 11. update
		for i := range p {
			p[i] -= lrEff * gain * u[i]
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// refBaseline is PyTorch's SGD / Adam / AdamW written out plainly.
type refBaseline struct {
	cfg  Config
	m, v [][]float64
	step int
}

func (r *refBaseline) stepAll(ps, gs [][]float64) {
	if r.m == nil {
		for _, p := range ps {
			r.m = append(r.m, make([]float64, len(p)))
			r.v = append(r.v, make([]float64, len(p)))
		}
	}
	r.step++
	c := r.cfg
	for t, p := range ps {
		for i := range p {
			g := gs[t][i]
			switch c.Name {
			case NameSGD:
				g += c.WeightDecay * p[i]
				if r.step == 1 {
					r.m[t][i] = g
				} else {
					r.m[t][i] = c.Momentum*r.m[t][i] + g
				}
				p[i] -= c.LR * r.m[t][i]
			case NameAdam, NameAdamW:
				if c.Name == NameAdam {
					g += c.WeightDecay * p[i]
				} else {
					p[i] *= 1 - c.LR*c.WeightDecay
				}
				r.m[t][i] = c.Beta1*r.m[t][i] + (1-c.Beta1)*g
				r.v[t][i] = c.Beta2*r.v[t][i] + (1-c.Beta2)*g*g
				bc1 := 1 - math.Pow(c.Beta1, float64(r.step))
				bc2 := 1 - math.Pow(c.Beta2, float64(r.step))
				denom := math.Sqrt(r.v[t][i])/math.Sqrt(bc2) + c.Eps
				p[i] -= c.LR / bc1 * r.m[t][i] / denom
			}
		}
	}
}
