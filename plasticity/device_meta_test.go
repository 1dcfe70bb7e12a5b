package plasticity

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/plasticity-lab/plastic/cuda/devtest"
	"github.com/plasticity-lab/plastic/models"
)

// Meta-learning's loss and rule gradient on the device (float32) against
// the CPU meta-learner (float64, the reference its finite-difference test
// proves): the same loss to 1e-5 and the same gradient of every learned
// parameter to 1e-4 (normwise relative). Why not closer: the device
// trains, runs the batch and sums the gradients in float32; the one-hot
// products sum batch x |V| terms per table entry (float32 rounding ~1e-7
// per term, a few 1e-6 relative over 10^3..10^4 terms), and the
// small-NN rules' tables are rounded to float32 on the way up. Both run
// the same code sequence (the cases are drawn with no near-tie that
// float32 could resolve otherwise: the same predictions on each side).
func TestDeviceMetaGradientMatchesCPU(t *testing.T) {
	dev := devtest.Open(t)
	for ci, c := range metaCases {
		t.Run(c.String(), func(t *testing.T) {
			net, rules, set, cfg := metaSetup(t, ci, c)
			cpu := newMeta(t, net, rules(), cfg)
			cfg.Device = dev
			onDev := newMeta(t, net, rules(), cfg)
			lc, gc, err := cpu.LossGrad(set.X, set.Y)
			if err != nil {
				t.Fatal(err)
			}
			for call := 0; call < 2; call++ { // the second call: reset and record anew
				ld, gd, err := onDev.LossGrad(set.X, set.Y)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(ld-lc) > 1e-5*(1+math.Abs(lc)) {
					t.Fatalf("call %d: loss %v on the device, %v on the CPU", call, ld, lc)
				}
				if len(gd) != len(gc) {
					t.Fatalf("%d gradients on the device, %d on the CPU", len(gd), len(gc))
				}
				nonzero := 0
				for k := range gc {
					if e := relErr64(gd[k], gc[k]); !(e <= 1e-4) {
						t.Errorf("call %d: parameter %d: gradient off by %.3g (device %v, CPU %v)", call, k, e, gd[k], gc[k])
					}
					for _, v := range gc[k] {
						if v != 0 {
							nonzero++
						}
					}
				}
				if nonzero == 0 {
					t.Fatal("every gradient entry is zero")
				}
			}
		})
	}
}

// The device meta-gradient against finite differences of the device's own
// loss, where they are meaningful in float32. The device loss carries
// rounding of a few 1e-7 relative (float32 training and forward; measured
// here against the float64 loss at every point, and required to stay
// within TestDeviceMetaGradientMatchesCPU's 1e-5), so a step of 1e-6 as
// in the float64 test measures noise; a step of 1e-3 or more meets the
// loss's curvature (some output-rule entries change their slope by 2% over
// 1e-3). So the steps are h = 1e-3 and h/2, and the derivative is their
// Richardson extrapolation (4 D(h/2) - D(h)) / 3, which cancels the h^2
// term of the central differences D; its error is the rounding r of the
// losses times 3/h, plus an O(h^4) remainder (allowed 1e-3 relative). An
// entry whose step changes the code sequence, a prediction or a firing
// pattern (a jump, not a slope) is skipped (a node within 1e-3 of its
// ReLU's kink makes about half of them jump); a third must be checked.
func TestDeviceMetaGradientFiniteDifference(t *testing.T) {
	dev := devtest.Open(t)
	for ci, c := range metaCases {
		if c.batch > 10 {
			continue // a hundred steps: most entries' +-h change some code
		}
		t.Run(c.String(), func(t *testing.T) {
			net, rules, set, cfg := metaSetup(t, ci, c)
			rs64 := rules()
			cpu := newMeta(t, net, rs64, cfg)
			cfg.Device = dev
			rs := rules()
			ml := newMeta(t, net, rs, cfg)
			_, grads, err := ml.LossGrad(set.X, set.Y)
			if err != nil {
				t.Fatal(err)
			}
			base, err := ml.dev.mp.Sequence()
			if err != nil {
				t.Fatal(err)
			}
			params, params64 := ruleParams(rs), ruleParams(rs64)
			const h = 1e-3
			steps := [4]float64{h, -h, h / 2, -h / 2}
			checked, nonzero, jumps := 0, 0, 0
			for k, p := range params {
				for i := range p {
					old := p[i]
					var ld [4]float64
					r, jump := 0.0, false
					for s, st := range steps {
						p[i], params64[k][i] = old+st, old+st
						l, _, err := ml.LossGrad(set.X, set.Y)
						if err != nil {
							t.Fatal(err)
						}
						seq, err := ml.dev.mp.Sequence()
						if err != nil {
							t.Fatal(err)
						}
						jump = jump || !slices.Equal(seq, base)
						l64, _, err := cpu.LossGrad(set.X, set.Y)
						if err != nil {
							t.Fatal(err)
						}
						if d := math.Abs(l - l64); !(d <= 1e-5*(1+math.Abs(l64))) {
							t.Fatalf("param %d[%d]%+g: loss %v on the device, %v on the CPU", k, i, st, l, l64)
						} else {
							r = math.Max(r, d)
						}
						ld[s] = l
					}
					p[i], params64[k][i] = old, old
					if jump {
						jumps++ // a firing code, cap choice or prediction changed within +-h
						continue
					}
					dh, dh2 := (ld[0]-ld[1])/(2*h), (ld[2]-ld[3])/h
					fd := (4*dh2 - dh) / 3
					g := grads[k][i]
					if tol := 3*r/h + 1e-3*(1+math.Abs(fd)); !(math.Abs(fd-g) <= tol) {
						t.Errorf("param %d[%d]: gradient %v, finite difference %v (D(h) %v, D(h/2) %v, tolerance %.3g)", k, i, g, fd, dh, dh2, tol)
					}
					checked++
					if g != 0 {
						nonzero++
					}
				}
			}
			if nonzero < checked/3 || 3*checked < checked+jumps {
				t.Errorf("%d of %d gradient entries non-zero, %d entries skipped at a jump", nonzero, checked, jumps)
			}
			t.Logf("%d entries checked, %d skipped at a jump", checked, jumps)
		})
	}
}

// What the device meta-learner cannot do it refuses, naming it: more than
// 64 labels (the loss kernel keeps a row of them per thread).
func TestDeviceMetaRefusesManyLabels(t *testing.T) {
	dev := devtest.Open(t)
	net, err := models.NewRNN(models.RNNConfig{Inputs: 4, Labels: 65, Nodes: 12, P: 0.5, Cap: 6, T: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := NewTable(TargetOutput, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultMeta()
	cfg.Batch, cfg.Learn, cfg.Device = 10, []Target{TargetOutput}, dev
	_, err = NewMetaLearner(net, &RuleSet{Rounds: 1, Eta: 0.3, Output: out}, cfg)
	if err == nil || !strings.Contains(err.Error(), "65 labels, at most 64") || !strings.Contains(err.Error(), "on the device") {
		t.Fatalf("got %v", err)
	}
}
