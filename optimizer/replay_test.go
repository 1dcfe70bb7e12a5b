package optimizer

// Replay of the authors' NeuroPlastic optimizer (github.com/Sunnylincc/NeuroPlastic-Optimizer).
// testdata/neuroplastic_replay.json was written by testdata/gen_neuroplastic.py, which runs
// their NeuroPlasticOptimizer in float64 on fixed gradients over 4 epochs of 3 steps for
// every option of docs/neuroplastic.md. To regenerate it (Debian's python3-torch suffices):
//
//	git clone https://github.com/Sunnylincc/NeuroPlastic-Optimizer /tmp/np-authors
//	/usr/bin/python3 optimizer/testdata/gen_neuroplastic.py /tmp/np-authors
//
// Each case is configured through the command-line flags the generator wrote (parsed by
// Flags/ConfigFromCLI, built by New, driven by SetTotalEpochs/SetEpoch/Step/EpochDiagnostics
// as the trainer does) and replayed in float64 and float32. The JSON holds the shapes, the
// initial parameters, the gradients of the 12 steps (shared by all cases; some exact zeros,
// whole zero tensors, a tensor with ||g||^2 below eps), and per case the authors' options,
// the project's flags, the parameters after every step and the diagnostics of every epoch.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type replayFile struct {
	AuthorsCommit string        `json:"authors_commit"`
	Shapes        [][]int       `json:"shapes"`
	Epochs        int           `json:"epochs"`
	StepsPerEpoch int           `json:"steps_per_epoch"`
	Init          [][]float64   `json:"init"`
	Grads         [][][]float64 `json:"grads"`
	Cases         []replayCase  `json:"cases"`
}

type replayCase struct {
	Name    string `json:"name"`
	Authors struct {
		TotalEpochs *int `json:"total_epochs"`
	} `json:"authors"`
	Flags       []string             `json:"flags"`
	Params      [][][]float64        `json:"params"` // after every step
	Diagnostics []map[string]float64 `json:"diagnostics"`
}

func loadReplay(t *testing.T) *replayFile {
	t.Helper()
	b, err := os.ReadFile("testdata/neuroplastic_replay.json")
	if err != nil {
		t.Fatal(err)
	}
	var r replayFile
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("testdata/neuroplastic_replay.json: %v", err)
	}
	if len(r.Cases) == 0 || len(r.Grads) != r.Epochs*r.StepsPerEpoch {
		t.Fatalf("testdata/neuroplastic_replay.json: %d cases, %d steps of gradients for %d epochs of %d steps",
			len(r.Cases), len(r.Grads), r.Epochs, r.StepsPerEpoch)
	}
	return &r
}

// replayParams builds the parameters (float64 or float32) from the initial values.
func replayParams(r *replayFile, f64 bool) ([]*testParam, []gorgonia.ValueGrad) {
	var ps []*testParam
	var vgs []gorgonia.ValueGrad
	for i, s := range r.Shapes {
		p := &testParam{name: fmt.Sprintf("p%d", i)}
		if f64 {
			p.val = tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float64(nil), r.Init[i]...)))
			p.grad = tensor.New(tensor.WithShape(s...), tensor.WithBacking(make([]float64, len(r.Init[i]))))
		} else {
			v := make([]float32, len(r.Init[i]))
			for j, x := range r.Init[i] {
				v[j] = float32(x)
			}
			p.val = tensor.New(tensor.WithShape(s...), tensor.WithBacking(v))
			p.grad = tensor.New(tensor.WithShape(s...), tensor.WithBacking(make([]float32, len(v))))
		}
		ps = append(ps, p)
		vgs = append(vgs, p)
	}
	return ps, vgs
}

func setReplayGrads(ps []*testParam, grads [][]float64) {
	for i, p := range ps {
		switch g := p.grad.Data().(type) {
		case []float64:
			copy(g, grads[i])
		case []float32:
			for j, x := range grads[i] {
				g[j] = float32(x)
			}
		}
	}
}

// TestReplayAuthorsNeuroPlastic: after every step, float64 parameters equal the authors'
// to 1e-10 relative (and the step, p_after - p_before, to 1e-9 of its largest element);
// float32 parameters follow the float64 trajectory of the authors' code within 1e-5.
func TestReplayAuthorsNeuroPlastic(t *testing.T) {
	r := loadReplay(t)
	for _, rc := range r.Cases {
		for _, f64 := range []bool{true, false} {
			rc := rc
			name := rc.Name + map[bool]string{true: "/f64", false: "/f32"}[f64]
			t.Run(name, func(t *testing.T) {
				cfg, err := parseWithFlags(t, append([]string{"--optimizer=neuroplastic"}, rc.Flags...))
				if err != nil {
					t.Fatalf("flags %v: %v", rc.Flags, err)
				}
				opt, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				// The trainer always sets the total; cases of the authors' runner, which
				// never does, carry --np-total-epochs=1, which must override it.
				if rc.Authors.TotalEpochs != nil {
					opt.SetTotalEpochs(*rc.Authors.TotalEpochs)
				} else {
					opt.SetTotalEpochs(r.Epochs)
				}
				ps, vgs := replayParams(r, f64)
				prev := r.Init
				nElems := 0
				for _, x := range r.Init {
					nElems += len(x)
				}
				k := 0
				for e := 1; e <= r.Epochs; e++ {
					opt.SetEpoch(e)
					for s := 0; s < r.StepsPerEpoch; s++ {
						setReplayGrads(ps, r.Grads[k])
						if err := opt.Step(vgs); err != nil {
							t.Fatal(err)
						}
						want := rc.Params[k]
						for i, p := range ps {
							got := toF64(p.val.Data())
							if err := compareReplay(got, want[i], prev[i], f64); err != nil {
								t.Fatalf("epoch %d step %d (step %d overall) tensor %d %v: %v", e, s+1, k+1, i, r.Shapes[i], err)
							}
						}
						prev = want
						k++
					}
					d := opt.EpochDiagnostics()
					if err := compareDiagnostics(d, rc.Diagnostics[e-1], f64, r.StepsPerEpoch*nElems); err != nil {
						t.Fatalf("epoch %d diagnostics: %v", e, err)
					}
				}
			})
		}
	}
}

// compareReplay checks one tensor after one step against the reference: got and
// want are the parameters after the step, before the reference's before it.
func compareReplay(got, want, before []float64, f64 bool) error {
	maxStep, maxAbs := 0.0, 0.0
	for j := range want {
		maxStep = math.Max(maxStep, math.Abs(want[j]-before[j]))
		maxAbs = math.Max(maxAbs, math.Abs(want[j]))
	}
	for j := range want {
		d := math.Abs(got[j] - want[j])
		if f64 {
			// Relative to the element; an element that crosses zero is held to 1e-10 of the
			// tensor's largest value instead.
			if d > 1e-10*math.Max(math.Abs(want[j]), 1e-3*maxAbs) || math.IsNaN(got[j]) {
				return fmt.Errorf("[%d] got %.17g want %.17g (rel. diff %.3g)", j, got[j], want[j], d/math.Abs(want[j]))
			}
			if ds := math.Abs((got[j] - before[j]) - (want[j] - before[j])); ds > 1e-9*maxStep+1e-15*maxAbs {
				return fmt.Errorf("[%d] step %.17g want %.17g (diff %.3g of the largest step %.3g)", j, got[j]-before[j], want[j]-before[j], ds, maxStep)
			}
		} else {
			if d > 1e-5*math.Max(math.Abs(want[j]), maxAbs) || math.IsNaN(got[j]) {
				return fmt.Errorf("[%d] float32 got %.9g want %.17g (diff %.3g, largest |p| %.3g)", j, got[j], want[j], d, maxAbs)
			}
		}
	}
	return nil
}

// compareDiagnostics checks one epoch's diagnostics against the reference's
// collect_diagnostics(): float64 to 1e-10 relative. Float32 to 1e-5 relative,
// with absolute floors where float32 arithmetic itself cannot do better: alpha
// statistics (alpha is about 1) to 1e-5, the alpha std, computed as
// sqrt(E[alpha^2] - mean^2), to 5e-4 (sqrt of the float32 precision; the
// reference in float32 has the same floor), the plasticity delta to 1e-5 of
// the gradient norm (alpha - ag cancels), the near-bound fraction to two
// coefficients. The alpha median is not compared: the project takes it from a
// sample of the coefficients (every 32nd).
func compareDiagnostics(d Diagnostics, want map[string]float64, f64 bool, alphaPerEpoch int) error {
	tol := 1e-10
	if !f64 {
		tol = 1e-5
	}
	type pair struct {
		key   string
		got   float64
		abs   float64 // absolute tolerance in float64 (values that are 0 up to rounding)
		abs32 float64 // absolute tolerance in float32
	}
	near := want["alpha_fraction_near_min"] + want["alpha_fraction_near_max"]
	nearTol := 1e-12
	if !f64 {
		nearTol = 2.5 / float64(alphaPerEpoch)
	}
	if math.Abs(d.AlphaNearBound-near) > nearTol {
		return fmt.Errorf("alpha near a bound: got %.17g want %.17g", d.AlphaNearBound, near)
	}
	gn := want["raw_gradient_norm"]
	ps := []pair{
		{"raw_gradient_norm", d.GradNorm, 0, 0},
		{"parameter_norm", d.ParamNorm, 0, 0},
		{"raw_update_norm", d.RawUpdateNorm, 0, 0},
		{"effective_update_norm", d.EffUpdateNorm, 0, 0},
		{"plasticity_delta_norm", d.DeltaNorm, 1e-14, 1e-5 * gn},
		{"weight_decay_term_norm", d.WeightDecayNorm, 0, 0},
		{"effective_to_gradient_norm_ratio", d.EffOverGrad, 0, 0},
		{"stabilization_norm_ratio", d.EffOverRaw, 0, 0},
		{"alpha_mean", d.AlphaMean, 0, 1e-5},
		{"alpha_std", d.AlphaStd, 1e-7, 5e-4},
		{"alpha_min", d.AlphaMin, 0, 1e-5},
		{"alpha_max", d.AlphaMax, 0, 1e-5},
	}
	if d.HasController {
		ps = append(ps,
			pair{"controller_signal_mean", d.SignalMean, 1e-12, 1e-5},
			pair{"controller_signal_min", d.SignalMin, 1e-12, 1e-5},
			pair{"controller_signal_max", d.SignalMax, 1e-12, 1e-5},
			pair{"controller_multiplier_mean", d.MultMean, 0, 0},
			pair{"controller_multiplier_min", d.MultMin, 0, 0},
			pair{"controller_multiplier_max", d.MultMax, 0, 0},
			pair{"controller_clamp_fraction_low", d.ClampLow, 0, 0},
			pair{"controller_clamp_fraction_high", d.ClampHigh, 0, 0})
	}
	if d.HasOrthogonal {
		ps = append(ps,
			pair{"orthogonal_signal_norm", d.OrthSNorm, 0, 0},
			pair{"orthogonal_residual_norm", d.OrthONorm, 0, 0},
			pair{"cosine_similarity_grad_plasticity", d.OrthCosSG, 1e-12, 1e-5},
			pair{"cosine_similarity_grad_orthogonal", d.OrthCosOG, 1e-10, 1e-5},
			pair{"orthogonal_skip_fraction", d.OrthSkipFrac, 0, 0})
	}
	for _, p := range ps {
		w, ok := want[p.key]
		if !ok {
			return fmt.Errorf("reference has no %s", p.key)
		}
		abs := p.abs
		if !f64 {
			abs = p.abs32
		}
		if diff := math.Abs(p.got - w); diff > tol*math.Abs(w)+abs || math.IsNaN(p.got) {
			return fmt.Errorf("%s: got %.17g want %.17g (diff %.3g)", p.key, p.got, w, diff)
		}
	}
	return nil
}
