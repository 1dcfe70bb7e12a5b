package optimizer

import (
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Baseline is SGD with momentum, Adam or AdamW with the semantics of
// PyTorch's torch.optim single-tensor implementations (no batch-size scaling,
// no clipping, unlike Gorgonia's own solvers):
//
//	SGD:   g' = g + wd*p; buf = mu*buf + g' (buf = g' at the first step); p -= lr*buf
//	Adam:  g' = g + wd*p; m = lerp(m, g', 1-b1); v = b2*v + (1-b2)*g'^2;
//	       p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//	AdamW: p *= 1 - lr*wd; then Adam with g' = g
//
// (division by sqrt(1-b2^t) is done as a multiplication by its reciprocal,
// which can differ from PyTorch in the last bit).
type Baseline struct {
	cfg   Config
	lr    float64
	epoch int
	total int

	b     binder
	slots []blSlot
	diag  diagAcc

	pending *stateFile
}

type blSlot struct {
	step int64
	t32  *blTensor[float32]
	t64  *blTensor[float64]
	g2   float64
}

// blTensor holds the buffers: m (SGD: the momentum buffer) and v (Adam).
type blTensor[T float] struct {
	m, v []T
}

func newBaseline(cfg Config) *Baseline {
	o := &Baseline{cfg: cfg, lr: cfg.LR, epoch: 1}
	o.diag.reset()
	return o
}

func (o *Baseline) Name() string         { return o.cfg.Name }
func (o *Baseline) SetLR(lr float64)     { o.lr = lr }
func (o *Baseline) LR() float64          { return o.lr }
func (o *Baseline) SetEpoch(e int)       { o.epoch = e }
func (o *Baseline) SetTotalEpochs(n int) { o.total = n }

// EpochDiagnostics returns the diagnostics since the last call and resets them.
func (o *Baseline) EpochDiagnostics() Diagnostics {
	d := o.diag.result(o.cfg.Name, false, false, false, 0, 0)
	o.diag.reset()
	return d
}

func (o *Baseline) nbuf() int {
	if o.cfg.Name == NameSGD {
		return 1
	}
	return 2
}

// Init allocates the state for these parameters; the first Step calls it.
func (o *Baseline) Init(vgs []gorgonia.ValueGrad) error {
	if o.slots != nil {
		return nil
	}
	if err := o.b.describe(vgs); err != nil {
		return err
	}
	o.slots = make([]blSlot, len(o.b.params))
	for i := range o.slots {
		pr := &o.b.params[i]
		if pr.dtype == tensor.Float32 {
			t := &blTensor[float32]{m: make([]float32, pr.n)}
			if o.nbuf() == 2 {
				t.v = make([]float32, pr.n)
			}
			o.slots[i].t32 = t
		} else {
			t := &blTensor[float64]{m: make([]float64, pr.n)}
			if o.nbuf() == 2 {
				t.v = make([]float64, pr.n)
			}
			o.slots[i].t64 = t
		}
	}
	if o.pending != nil {
		st := o.pending
		o.pending = nil
		if err := o.applyState(st); err != nil {
			o.slots = nil
			o.b.params = nil
			o.pending = st
			return err
		}
	}
	return nil
}

// Step applies one update; NaN/Inf gradients stop it before any write.
func (o *Baseline) Step(vgs []gorgonia.ValueGrad) error {
	if err := o.Init(vgs); err != nil {
		return err
	}
	if err := o.b.bind(vgs); err != nil {
		return err
	}
	for i := range o.slots {
		pr := &o.b.params[i]
		var g2 float64
		if pr.g32 != nil {
			_, sq, done := fastGradSums(pr.g32)
			g2 = sq + sumSq(pr.g32[done:])
		} else {
			g2 = sumSq(pr.g64)
		}
		if !isFinite(g2) {
			if o.cfg.SkipNonFinite {
				o.diag.skipped++
				return nil
			}
			return nonFinite(pr)
		}
		o.slots[i].g2 = g2
	}
	var sg2, sp2, su2 float64
	for i := range o.slots {
		s := &o.slots[i]
		pr := &o.b.params[i]
		s.step++
		var p2, u2 float64
		switch o.cfg.Name {
		case NameSGD:
			if s.t32 != nil {
				p2, u2 = sgdStep(pr.p32, pr.g32, s.t32.m, float32(o.lr), float32(o.cfg.Momentum), float32(o.cfg.WeightDecay))
			} else {
				p2, u2 = sgdStep(pr.p64, pr.g64, s.t64.m, o.lr, o.cfg.Momentum, o.cfg.WeightDecay)
			}
		default:
			c := o.adamConsts(s.step)
			if s.t32 != nil {
				k := adamK[float32]{
					b1: float32(c.b1), ob1: float32(1 - c.b1), b2: float32(c.b2), ob2: float32(1 - c.b2),
					stepSize: float32(c.stepSize), invBc2s: float32(c.invBc2s), eps: float32(c.eps),
					l2: float32(c.l2), decay: float32(c.decay), keep: float32(1 - c.decay)}
				sp, su, done := fastAdam(pr.p32, pr.g32, s.t32.m, s.t32.v, &k)
				p2, u2 = adamStep(pr.p32[done:], pr.g32[done:], s.t32.m[done:], s.t32.v[done:], k)
				p2 += sp
				u2 += su
			} else {
				p2, u2 = adamStep(pr.p64, pr.g64, s.t64.m, s.t64.v, adamK[float64]{
					b1: c.b1, ob1: 1 - c.b1, b2: c.b2, ob2: 1 - c.b2,
					stepSize: c.stepSize, invBc2s: c.invBc2s, eps: c.eps, l2: c.l2, decay: c.decay, keep: 1 - c.decay})
			}
			u2 /= c.bc1 * c.bc1
		}
		sg2 += s.g2
		sp2 += p2
		su2 += u2
	}
	d := &o.diag
	d.steps++
	d.grad2 += sg2
	d.param2 += sp2
	d.eff2 += su2
	d.raw2 += su2
	return nil
}

type adamConsts struct {
	b1, b2, stepSize, invBc2s, eps, l2, decay, bc1 float64
}

func (o *Baseline) adamConsts(step int64) adamConsts {
	c := adamConsts{b1: o.cfg.Beta1, b2: o.cfg.Beta2, eps: o.cfg.Eps}
	c.bc1 = 1 - math.Pow(c.b1, float64(step))
	bc2 := 1 - math.Pow(c.b2, float64(step))
	c.stepSize = o.lr / c.bc1
	c.invBc2s = 1 / math.Sqrt(bc2)
	if o.cfg.Name == NameAdamW {
		c.decay = o.lr * o.cfg.WeightDecay
	} else {
		c.l2 = o.cfg.WeightDecay
	}
	return c
}

// sgdStep returns the sum of squares of p before the step and of the update.
func sgdStep[T float](p, g, buf []T, lr, mu, wd T) (float64, float64) {
	n := len(p)
	g, buf = g[:n], buf[:n]
	var sp, su float64
	for i := 0; i < n; i++ {
		pi := p[i]
		d := g[i]
		if wd != 0 {
			d += wd * pi
		}
		if mu != 0 {
			d = mu*buf[i] + d
			buf[i] = d
		}
		fp, fd := float64(pi), float64(d)
		sp += fp * fp
		su += fd * fd
		p[i] = pi - lr*d
	}
	return sp, su
}

type adamK[T float] struct {
	b1, ob1, b2, ob2, stepSize, invBc2s, eps, l2, decay, keep T
}

// adamStep returns the sum of squares of p before the step and of m/denom.
func adamStep[T float](p, g, m, v []T, k adamK[T]) (float64, float64) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	var sp, su float64
	for i := 0; i < n; i++ {
		pi := p[i]
		gi := g[i]
		if k.l2 != 0 {
			gi += k.l2 * pi
		}
		fp := float64(pi)
		sp += fp * fp
		if k.decay != 0 {
			pi *= k.keep
		}
		mi := m[i]
		mi += k.ob1 * (gi - mi)
		vi := v[i]*k.b2 + k.ob2*(gi*gi)
		m[i], v[i] = mi, vi
		q := mi / (sqrt(vi)*k.invBc2s + k.eps)
		fq := float64(q)
		su += fq * fq
		p[i] = pi - k.stepSize*q
	}
	return sp, su
}
