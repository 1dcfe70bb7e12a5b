package optimizer

import (
	"fmt"
	"math"

	"github.com/plasticity-lab/plastic/cuda"
)

// Device runs an optimizer's steps on a device (cuda.Context: a GPU, or
// the SIMT emulator in tests) for parameters and gradients held in two
// flat device arrays: SGD, Adam, AdamW and NeuroPlastic with every option
// (modes, parameter-wise or scalar coefficients, warm-up, coupled or
// decoupled weight decay, bounded and orthogonal residuals with their
// schedules, the adamw and sgd_momentum hybrid bases with every target,
// layer and phase scope, the learning-rate controller, the target-RMS
// thirds) and the per-epoch diagnostics. The optimizer state and every
// per-tensor statistic stay on the device; a step queues a fixed number of
// kernels (cuda/kernels_optim.go) for all tensors at once and reads back
// one int: whether a gradient was not finite.
//
// The host optimizer it is made from (New, Init'ed with the same
// parameters) stays the owner of the configuration, learning rate, epoch
// clock, diagnostics and state file: Device reads them every step,
// DownloadState/UploadState move the state between the two for
// checkpoints, and EpochDiagnostics hands the device's accumulators to the
// host optimizer's own diagnostics.
type Device struct {
	c       *cuda.Context
	host    Optimizer
	np      *NeuroPlastic
	bl      *Baseline
	p, g    *cuda.Array
	tensors []DeviceTensor

	nseg, nchunks       int
	ch, sg, cg, sf      *cuda.Array
	st, pt, flag        *cuda.Array
	dg, hist            *cuda.Array
	a, m, v, s1, s2, bm *cuda.Array
	bv                  *cuda.Array
	own                 []*cuda.Array
	step                int64
}

// DeviceTensor places one parameter tensor in the flat arrays (the model's
// parameter order, the one the host optimizer was initialised with).
type DeviceTensor struct {
	Name   string
	Shape  []int
	Offset int
	N      int
}

// Statistics slots per tensor (cuda/kernels_optim.go).
const (
	slotAbsG, slotG2, slotA, slotR = 0, 1, 2, 3
	slotU2, slotRaw2, slotS        = 4, 5, 7
	slotDelta2, slotAlpha          = 8, 9
	slotX2, slotXG, slotStage2     = 14, 15, 16
	slotP2                         = 25
)

// NewDevice prepares host's steps on the device for the parameters p and
// their gradients g (flat arrays, tensors placed by tensors). host must be
// a NeuroPlastic or baseline optimizer from New, already Init'ed with
// parameters of the same names and shapes; its state (zero, or loaded from
// a checkpoint) is uploaded.
func NewDevice(c *cuda.Context, host Optimizer, p, g *cuda.Array, tensors []DeviceTensor) (*Device, error) {
	d := &Device{c: c, host: host, p: p, g: g, tensors: tensors}
	var params []param
	switch o := host.(type) {
	case *NeuroPlastic:
		d.np, params = o, o.b.params
	case *Baseline:
		d.bl, params = o, o.b.params
	default:
		return nil, fmt.Errorf("optimizer: %T has no device implementation", host)
	}
	if params == nil {
		return nil, fmt.Errorf("optimizer: Init the %s optimizer with the model's parameters before moving it to the device", host.Name())
	}
	if len(params) != len(tensors) {
		return nil, fmt.Errorf("optimizer: %d device tensors, the optimizer has %d parameters", len(tensors), len(params))
	}
	total := 0
	for i, t := range tensors {
		pr := &params[i]
		if shapeString(pr.shape) != shapeString(t.Shape) || pr.n != t.N || t.Offset != total {
			return nil, fmt.Errorf("optimizer: device tensor %d (%s %v at %d) does not match parameter %s %v", i, t.Name, t.Shape, t.Offset, pr.name, pr.shape)
		}
		if pr.dtype.Name() != "float32" {
			return nil, fmt.Errorf("optimizer: the device steps float32 parameters, %s is %v", pr.name, pr.dtype)
		}
		total += t.N
	}
	if p.N != total || g.N != total {
		return nil, fmt.Errorf("optimizer: flat arrays of %d and %d elements for %d parameters", p.N, g.N, total)
	}
	if err := d.alloc(total); err != nil {
		d.Free()
		return nil, err
	}
	if err := d.UploadState(); err != nil {
		d.Free()
		return nil, err
	}
	return d, nil
}

func (d *Device) arr(n int) (*cuda.Array, error) {
	a, err := d.c.Alloc(max(n, 1))
	if err != nil {
		return nil, err
	}
	d.own = append(d.own, a)
	return a, d.c.Zero(a)
}

func (d *Device) alloc(total int) error {
	var ch, sg, cg []int32
	var sf []float32
	for s, t := range d.tensors {
		c0 := len(ch) / 4
		for lo := 0; lo < t.N; lo += cuda.OptChunk {
			hi := min(lo+cuda.OptChunk, t.N)
			ch = append(ch, int32(s), int32(t.Offset+lo), int32(t.Offset+hi), int32(lo))
		}
		sg = append(sg, int32(t.Offset), int32(t.N), int32(c0), int32(len(ch)/4))
		rms, gate, group := 1.0, 1.0, 0
		if d.np != nil {
			sl := &d.np.slots[s]
			rms, gate, group = sl.rmsScale, sl.layerGate, sl.ctrlGroup
		}
		sf = append(sf, float32(rms), float32(gate))
		cg = append(cg, int32(group))
	}
	d.nseg, d.nchunks = len(d.tensors), len(ch)/4
	var err error
	up := func(dst **cuda.Array, up func() (*cuda.Array, error)) {
		if err == nil {
			*dst, err = up()
			if err == nil {
				d.own = append(d.own, *dst)
			}
		}
	}
	up(&d.ch, func() (*cuda.Array, error) { return cuda.Upload(d.c, ch) })
	up(&d.sg, func() (*cuda.Array, error) { return cuda.Upload(d.c, sg) })
	up(&d.cg, func() (*cuda.Array, error) { return cuda.Upload(d.c, cg) })
	up(&d.sf, func() (*cuda.Array, error) { return cuda.Upload(d.c, sf) })
	if err != nil {
		return err
	}
	for _, a := range []struct {
		dst **cuda.Array
		n   int
	}{{&d.st, cuda.OptNS * d.nseg}, {&d.pt, cuda.OptNQ * d.nchunks}, {&d.flag, 1}, {&d.dg, 2 * cuda.OptDiag}, {&d.hist, cuda.OptBins}} {
		if *a.dst, err = d.arr(a.n); err != nil {
			return err
		}
	}
	state := []**cuda.Array{&d.m}
	if d.np != nil {
		state = append(state, &d.a, &d.v, &d.s1)
		if d.np.hybrid() {
			state = append(state, &d.s2, &d.bm, &d.bv)
		}
	} else if d.bl.nbuf() == 2 {
		state = append(state, &d.v)
	}
	for _, s := range state {
		if *s, err = d.arr(total); err != nil {
			return err
		}
	}
	return d.resetDiag()
}

// Free returns the device memory of the state to the pool.
func (d *Device) Free() error {
	err := d.c.Free(d.own...)
	d.own = nil
	return err
}

func (d *Device) chunks() cuda.Launch {
	return cuda.Launch{Grid: [3]uint32{uint32(min(d.nchunks, cuda.MaxGridX)), 1, 1}, Block: [3]uint32{cuda.BlockSize, 1, 1}}
}

func (d *Device) segs() cuda.Launch {
	return cuda.Launch{Grid: [3]uint32{uint32(min(d.nseg, cuda.MaxGridX)), 1, 1}, Block: [3]uint32{cuda.BlockSize, 1, 1}}
}

var one = cuda.Launch{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{32, 1, 1}}

func (d *Device) reduce(q0, nq, qmin, qmax int) error {
	l, err := cuda.Linear(int64(d.nseg*(nq+2)), cuda.BlockSize)
	if err != nil {
		return err
	}
	return d.c.Launch("pl_seg_reduce", l, int32(d.nseg), d.sg.Ptr(), d.flag.Ptr(), int32(q0), int32(nq), int32(qmin), int32(qmax),
		d.pt.Ptr(), d.st.Ptr())
}

func i32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Step applies one update to every parameter from the gradients in the
// flat gradient array. A gradient with a NaN or Inf stops it before
// anything is written: the step is skipped (--skip-nonfinite, counted in
// the diagnostics) or a *NonFiniteError names the tensor and element.
func (d *Device) Step() error {
	c := d.c
	if err := c.Zero(d.flag); err != nil {
		return err
	}
	steps := []func() error{
		func() error {
			return c.Launch("pl_opt_sums", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.g.Ptr(), d.pt.Ptr())
		},
		func() error { return d.reduce(slotAbsG, 2, -1, -1) },
		func() error { return c.Launch("pl_opt_check", one, int32(d.nseg), d.st.Ptr(), d.flag.Ptr()) },
	}
	if d.np != nil {
		steps = append(steps, d.npSteps()...)
	} else {
		steps = append(steps, d.baselineSteps()...)
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	fl, err := cuda.Download[int32](c, d.flag)
	if err != nil {
		return err
	}
	if fl[0] == 0 {
		d.step++
		return nil
	}
	if d.host == nil || d.skipNonFinite() {
		return nil
	}
	t := d.tensors[fl[0]-1]
	gv, err := d.g.View(t.Offset, t.N)
	if err != nil {
		return err
	}
	g, err := cuda.Download[float32](c, gv)
	if err != nil {
		return err
	}
	idx := -1
	for i, x := range g {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			idx = i
			break
		}
	}
	return &NonFiniteError{Param: t.Name, Index: idx}
}

func (d *Device) skipNonFinite() bool {
	if d.np != nil {
		return d.np.cfg.SkipNonFinite
	}
	return d.bl.cfg.SkipNonFinite
}

func (d *Device) baselineSteps() []func() error {
	c, o := d.c, d.bl
	if o.cfg.Name == NameSGD {
		return []func() error{
			func() error {
				return c.Launch("pl_opt_sgd", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.flag.Ptr(), float32(o.lr), float32(o.cfg.Momentum),
					float32(o.cfg.WeightDecay), d.p.Ptr(), d.g.Ptr(), d.m.Ptr(), d.pt.Ptr())
			},
			func() error { return d.reduce(slotU2, 1, -1, -1) },
			func() error { return d.reduce(slotP2, 1, -1, -1) },
			func() error {
				return c.Launch("pl_opt_base_diag", one, int32(d.nseg), d.flag.Ptr(), d.st.Ptr(), float32(1), d.dg.Ptr())
			},
		}
	}
	k := o.adamConsts(d.step + 1)
	return []func() error{
		func() error {
			return c.Launch("pl_opt_adam", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.flag.Ptr(), float32(1-k.b1), float32(k.b2), float32(1-k.b2),
				float32(k.stepSize), float32(k.invBc2s), float32(k.eps), float32(k.l2), float32(k.decay), float32(1-k.decay),
				d.p.Ptr(), d.g.Ptr(), d.m.Ptr(), d.v.Ptr(), d.pt.Ptr())
		},
		func() error { return d.reduce(slotU2, 1, -1, -1) },
		func() error { return d.reduce(slotP2, 1, -1, -1) },
		func() error {
			return c.Launch("pl_opt_base_diag", one, int32(d.nseg), d.flag.Ptr(), d.st.Ptr(), float32(1/(k.bc1*k.bc1)), d.dg.Ptr())
		},
	}
}

func (d *Device) npSteps() []func() error {
	c, o := d.c, d.np
	np := &o.np
	rule := np.Mode == ModeRuleBased
	gs := o.warmupGate() * np.PlasticityScale
	variant := 0
	switch {
	case o.hybrid():
		variant = 3
	case np.Residual == ResidualBounded:
		variant = 1
	case np.Residual == ResidualOrthogonal:
		variant = 2
	}
	wd := o.cfg.WeightDecay
	coupled := wd > 0 && !np.DecoupledWD && np.HybridBase == BaseClassic
	decoupled := (np.DecoupledWD || np.HybridBase == BaseAdamW) && np.HybridBase != BaseSGDMomentum
	ctrl := np.Controller != ControllerOff && rule
	step := float64(d.step + 1)
	b1, b2 := np.BaseMomentum, np.BaseBeta2
	bc1, bc2 := 1-math.Pow(b1, step), 1-math.Pow(b2, step)
	target := map[string]int32{TargetGain: 0, TargetMomentum: 1, TargetTrust: 2}[np.ModulationTarget]
	mode := map[string]int32{ControllerOff: 0, ControllerGlobal: 1, ControllerPerGroup: 2, ControllerClassifierOnly: 3}[np.Controller]
	f := func(x float64) float32 { return float32(x) }
	s2, bm, bv := d.s1, d.s1, d.s1 // unused without a hybrid base
	if variant == 3 {
		s2, bm, bv = d.s2, d.bm, d.bv
	}
	factors := func(stage int, ratio float64) func() error {
		return func() error {
			return c.Launch("pl_np_factors", d.segs(), int32(d.nseg), d.sf.Ptr(), d.flag.Ptr(), d.st.Ptr(), int32(variant), int32(stage), f(ratio),
				f(np.OrthogonalLambda), f(o.orthSchedule()), i32(np.OrthogonalNorm == OrthNormMatch), f(np.ModulationStrength), f(o.phaseGate()))
		}
	}
	finish := func() error {
		return c.Launch("pl_np_finish", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.flag.Ptr(), d.st.Ptr(), i32(variant == 3), i32(coupled), f(wd),
			d.g.Ptr(), s2.Ptr(), d.p.Ptr(), d.s1.Ptr(), d.pt.Ptr())
	}
	stage2 := func() error {
		return c.Launch("pl_np_stage2", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.flag.Ptr(), d.st.Ptr(), int32(variant), target,
			i32(np.HybridBase == BaseAdamW), f(bc1), d.g.Ptr(), s2.Ptr(), bm.Ptr(), d.s1.Ptr(), d.pt.Ptr())
	}
	steps := []func() error{
		func() error {
			return c.Launch("pl_np_pass1", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.flag.Ptr(), i32(rule), f(np.TraceDecay), f(1-np.TraceDecay),
				f(np.MomentumDecay), f(1-np.MomentumDecay), f(np.VarianceDecay), f(1-np.VarianceDecay), d.g.Ptr(), d.a.Ptr(), d.m.Ptr(), d.v.Ptr(),
				d.s1.Ptr(), d.pt.Ptr())
		},
	}
	if rule {
		steps = append(steps, func() error { return d.reduce(slotA, 2, -1, -1) })
	}
	steps = append(steps,
		func() error {
			return c.Launch("pl_np_pass2", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.sg.Ptr(), d.flag.Ptr(), d.st.Ptr(), int32(variant), i32(rule),
				i32(np.ParamWise), f(np.WeightActivity), f(np.WeightGrad), f(np.WeightMemory), f(np.MinAlpha), f(np.MaxAlpha), f(gs),
				f(np.MinAlpha+nearFrac*(np.MaxAlpha-np.MinAlpha)+1e-6), f(np.MaxAlpha-nearFrac*(np.MaxAlpha-np.MinAlpha)-1e-6),
				f(histBins/(np.MaxAlpha-np.MinAlpha)), i32(ctrl), i32(coupled), f(wd),
				i32(np.HybridBase == BaseAdamW), f(b1), f(1-b1), f(b2), f(1-b2), f(bc1), f(bc2), f(b1), f(wd),
				d.g.Ptr(), d.a.Ptr(), d.s1.Ptr(), d.p.Ptr(), d.s1.Ptr(), s2.Ptr(), bm.Ptr(), bv.Ptr(), d.pt.Ptr(), d.hist.Ptr())
		},
		func() error { return d.reduce(slotU2, 12, 12, 13) },
	)
	switch variant {
	case 1:
		steps = append(steps, factors(1, np.ResidualMaxRatio), finish)
	case 2:
		steps = append(steps, factors(1, np.OrthogonalMaxRatio), stage2, func() error { return d.reduce(slotStage2, 2, -1, -1) },
			factors(2, np.OrthogonalMaxRatio), finish)
	case 3:
		steps = append(steps, factors(1, np.ModulationMaxRatio), stage2, func() error { return d.reduce(slotStage2, 2, -1, -1) },
			factors(2, np.ModulationMaxRatio), finish)
	}
	if variant != 0 {
		steps = append(steps, func() error { return d.reduce(slotU2, 2, -1, -1) })
	}
	steps = append(steps,
		func() error {
			return c.Launch("pl_np_control", one, int32(d.nseg), d.sg.Ptr(), d.cg.Ptr(), d.flag.Ptr(), d.st.Ptr(), mode, i32(!rule),
				f(np.ControllerAlpha), f(np.ControllerMin), f(np.ControllerMax), d.dg.Ptr())
		},
		func() error {
			return c.Launch("pl_np_apply", d.chunks(), int32(d.nchunks), d.ch.Ptr(), d.sg.Ptr(), d.sf.Ptr(), d.flag.Ptr(), d.st.Ptr(), f(o.lr),
				f(np.MaxUpdateNorm), f(np.AdaptationRate), f(np.TargetRMS), f(wd), i32(decoupled), d.s1.Ptr(), d.p.Ptr(), d.pt.Ptr())
		},
		func() error { return d.reduce(slotP2, 1, -1, -1) },
		func() error {
			return c.Launch("pl_np_diag", one, int32(d.nseg), d.sg.Ptr(), d.sf.Ptr(), d.flag.Ptr(), d.st.Ptr(), f(o.lr), f(np.MaxUpdateNorm),
				f(np.AdaptationRate), f(np.TargetRMS), f(wd), i32(decoupled), i32(np.HybridBase != BaseSGDMomentum),
				i32(np.Residual == ResidualOrthogonal), d.dg.Ptr())
		},
	)
	return steps
}

// diagIdx are the device accumulators (pl_np_diag, pl_np_control,
// pl_opt_base_diag) that start at +Inf (minima) and -Inf (maxima).
var diagMin, diagMax = []int{14, 18, 21}, []int{15, 19, 22}

func (d *Device) resetDiag() error {
	bits := make([]int32, 2*cuda.OptDiag)
	set := func(i int, v float64) {
		u := math.Float64bits(v)
		bits[2*i], bits[2*i+1] = int32(uint32(u)), int32(uint32(u>>32))
	}
	for _, i := range diagMin {
		set(i, math.Inf(1))
	}
	for _, i := range diagMax {
		set(i, math.Inf(-1))
	}
	if err := cuda.CopyIn(d.c, d.dg, bits); err != nil {
		return err
	}
	return d.c.Zero(d.hist)
}

// EpochDiagnostics returns the diagnostics accumulated on the device since
// the last call (the host optimizer's Diagnostics, computed from them) and
// resets them.
func (d *Device) EpochDiagnostics() (Diagnostics, error) {
	bits, err := cuda.Download[int32](d.c, d.dg)
	if err != nil {
		return Diagnostics{}, err
	}
	h, err := cuda.Download[int32](d.c, d.hist)
	if err != nil {
		return Diagnostics{}, err
	}
	v := make([]float64, cuda.OptDiag)
	for i := range v {
		v[i] = math.Float64frombits(uint64(uint32(bits[2*i])) | uint64(uint32(bits[2*i+1]))<<32)
	}
	var acc *diagAcc
	if d.np != nil {
		acc = &d.np.diag
	} else {
		acc = &d.bl.diag
	}
	acc.reset()
	acc.steps, acc.skipped = int(v[0]), int(v[1])
	acc.grad2, acc.param2, acc.raw2, acc.eff2, acc.delta2, acc.wd2 = v[2], v[3], v[4], v[5], v[6], v[7]
	if d.np != nil {
		acc.alphaN, acc.alphaSum, acc.alphaSum2, acc.alphaNear, acc.alphaMin, acc.alphaMax = v[10], v[11], v[12], v[13], v[14], v[15]
		for i := range acc.hist {
			acc.hist[i] = float64(uint32(h[i]))
		}
		acc.ctrlN, acc.sigSum, acc.sigMin, acc.sigMax, acc.multSum, acc.multMin, acc.multMax = v[16], v[17], v[18], v[19], v[20], v[21], v[22]
		acc.clampLow, acc.clampHigh = v[23], v[24]
		acc.orthS2, acc.orthO2, acc.orthSG, acc.orthOG, acc.orthTensors, acc.orthSkips = v[25], v[26], v[27], v[28], v[29], v[30]
	}
	if err := d.resetDiag(); err != nil {
		return Diagnostics{}, err
	}
	return d.host.EpochDiagnostics(), nil
}

// stateArrays are the device state buffers in the order of the host's
// state file: NeuroPlastic a, m, v (+ bm, bv); SGD its momentum; Adam m, v.
func (d *Device) stateArrays() []*cuda.Array {
	if d.np != nil {
		s := []*cuda.Array{d.a, d.m, d.v}
		if d.np.hybrid() {
			s = append(s, d.bm, d.bv)
		}
		return s
	}
	if d.bl.nbuf() == 2 {
		return []*cuda.Array{d.m, d.v}
	}
	return []*cuda.Array{d.m}
}

// hostState are the host optimizer's buffers of tensor i, same order.
func (d *Device) hostState(i int) ([][]float32, *int64) {
	if d.np != nil {
		s := &d.np.slots[i]
		t := s.t32
		return [][]float32{t.a, t.m, t.v, t.bm, t.bv}[:d.np.nbuf()], &s.step
	}
	s := &d.bl.slots[i]
	return [][]float32{s.t32.m, s.t32.v}[:d.bl.nbuf()], &s.step
}

// DownloadState copies the device state into the host optimizer (before
// SaveState: checkpoints).
func (d *Device) DownloadState() error {
	for k, a := range d.stateArrays() {
		all, err := cuda.Download[float32](d.c, a)
		if err != nil {
			return err
		}
		for i, t := range d.tensors {
			bufs, step := d.hostState(i)
			copy(bufs[k], all[t.Offset:t.Offset+t.N])
			*step = d.step
		}
	}
	return nil
}

// UploadState copies the host optimizer's state to the device (after
// LoadState: resume). Every tensor must have taken the same number of steps.
func (d *Device) UploadState() error {
	for k, a := range d.stateArrays() {
		all := make([]float32, a.N)
		for i, t := range d.tensors {
			bufs, step := d.hostState(i)
			copy(all[t.Offset:t.Offset+t.N], bufs[k])
			if i == 0 {
				d.step = *step
			} else if *step != d.step {
				return fmt.Errorf("optimizer: tensor %s took %d steps, %s %d: the device steps all tensors together", t.Name, *step, d.tensors[0].Name, d.step)
			}
		}
		if err := cuda.CopyIn(d.c, a, all); err != nil {
			return err
		}
	}
	return nil
}
