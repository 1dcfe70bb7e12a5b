package evolution

import (
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// oneStep returns the one-generation changes of the exact recursion, the
// x(1-x) first-order step and the paper's (2-2x) step.
func oneStep(t *testing.T, m *Model, x []float64) (rec, fo, paper []float64) {
	t.Helper()
	diff := func(f func([]float64) ([]float64, error)) []float64 {
		nx, err := f(x)
		if err != nil {
			t.Fatal(err)
		}
		d := make([]float64, len(x))
		for i := range x {
			d[i] = nx[i] - x[i]
		}
		return d
	}
	return diff(m.Step), diff(m.FirstOrderStep), diff(m.PaperStep)
}

// TestFirstOrderFactor decides between the two candidate first-order steps
// by shrinking theta and eps together (scale s) and measuring each
// candidate's relative one-step error against the exact recursion.
func TestFirstOrderFactor(t *testing.T) {
	xs := []float64{0.1, 0.25, 0.5, 0.7, 0.9}
	const target = 1.0 // far from the trait, so L' = 2 (Y - 1) is about -2
	type errs struct{ fo, paper []float64 }
	var prev *errs
	for _, s := range []float64{1, 0.5, 0.25, 0.125} {
		m := &Model{Genes: []int{len(xs)}, Eps: 0.02 * s, Theta: 0.1 * s, Loss: Quadratic{[]float64{target}}}
		rec, fo, paper := oneStep(t, m, xs)
		y := m.Trait(xs)[0]
		l1, l2 := 2*(y-target), 2.0
		cur := &errs{}
		for i, x := range xs {
			efo := math.Abs(rec[i]-fo[i]) / math.Abs(rec[i])
			ep := math.Abs(rec[i]-paper[i]) / math.Abs(rec[i])
			cur.fo, cur.paper = append(cur.fo, efo), append(cur.paper, ep)
			// The derived leading term of the x(1-x) step's error.
			pred := m.Eps * math.Abs((1-2*x)*l2/l1)
			if x != 0.5 && math.Abs(efo-pred) > 0.05*pred+4*m.Eps*m.Eps {
				t.Errorf("s=%v x=%v: x(1-x) step relative error %.3g, derived eps|1-2x||L''/L'| = %.3g", s, x, efo, pred)
			}
			if efo > 2*m.Eps {
				t.Errorf("s=%v x=%v: x(1-x) step relative error %.3g is not O(eps)", s, x, efo)
			}
			// The paper's step is 2/x times the right one: its error stays.
			if want := 2/x - 1; math.Abs(ep-want) > 0.05*want || ep < 1 {
				t.Errorf("s=%v x=%v: (2-2x) step relative error %.3g, want 2/x-1 = %.3g (>= 1, not shrinking)", s, x, ep, want)
			}
		}
		if prev != nil {
			for i, x := range xs {
				r := cur.fo[i] / prev.fo[i]
				// x != 1/2: O(eps), ratio 1/2 when halving theta and eps.
				// x = 1/2: the eps term vanishes; at most O(theta^2 + eps^2)
				// (ratio <= 1/4); for this quadratic loss the rest is the
				// normalizer's O(theta eps^2) (ratio 1/8).
				lo, hi := 0.4, 0.6
				if x == 0.5 {
					lo, hi = 0.1, 0.3
				}
				if r < lo || r > hi {
					t.Errorf("x=%v: halving theta and eps scaled the x(1-x) step's error by %.3f, want in [%v, %v]", x, r, lo, hi)
				}
				if rp := cur.paper[i] / prev.paper[i]; rp < 0.95 {
					t.Errorf("x=%v: the (2-2x) step's error shrank by %.3f; it should not shrink", x, rp)
				}
			}
		}
		t.Logf("s=%-6v x(1-x) step rel. errors %.2e; (2-2x) step %.3g", s, cur.fo, cur.paper)
		prev = cur
	}
}

// TestFirstOrderExactForLinearLoss: for L(Y) = a Y the differences are
// exactly 2 eps a and Z = 1, so the x(1-x) step is the recursion itself.
func TestFirstOrderExactForLinearLoss(t *testing.T) {
	lin := LossFunc(func(y []float64) (float64, error) { return 0.7 * y[0], nil })
	m := &Model{Genes: []int{4}, Eps: 0.3, Theta: 0.2, Loss: lin}
	rec, fo, _ := oneStep(t, m, []float64{0.1, 0.4, 0.5, 0.95})
	for i := range rec {
		if math.Abs(rec[i]-fo[i]) > 1e-12*math.Abs(rec[i]) {
			t.Fatalf("gene %d: recursion %.17g, first order %.17g", i, rec[i], fo[i])
		}
	}
}

// TestGDOnArcsin: to first order the recursion is GD with rate theta on
// z = 2 arcsin(sqrt(x)), whose gradient is dL/dx * sqrt(x (1-x)).
func TestGDOnArcsin(t *testing.T) {
	xs := []float64{0.15, 0.5, 0.8}
	m := &Model{Genes: []int{3}, Eps: 0.005, Theta: 0.05, Loss: Quadratic{[]float64{1}}}
	nx, err := m.Step(xs)
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.FrequencyGradient(xs)
	if err != nil {
		t.Fatal(err)
	}
	z := func(x float64) float64 { return 2 * math.Asin(math.Sqrt(x)) }
	for i, x := range xs {
		dz := z(nx[i]) - z(x)
		want := -m.Theta * g[i] * math.Sqrt(x*(1-x))
		if math.Abs(dz-want) > 0.02*math.Abs(want) {
			t.Errorf("x=%v: dz = %.6g, GD on z gives %.6g", x, dz, want)
		}
	}
}

// TestConvergesLikeGD runs the recursion, its first-order step, GD on Y
// and a Wright-Fisher population on L(Y) = (Y - Y*)^2 from the same start.
func TestConvergesLikeGD(t *testing.T) {
	const target, gens = 0.4, 400
	m := &Model{Genes: []int{20}, Eps: 0.05, Theta: 0.5, Loss: Quadratic{[]float64{target}}}
	x0, err := m.Start([]float64{-0.5})
	if err != nil {
		t.Fatal(err)
	}
	xr := x0
	xf := x0
	xw := x0
	y := []float64{-0.5}
	rng := rand.New(rand.NewSource(1))
	maxStepErr, maxGap := 0.0, 0.0
	var wfTail float64
	for g := 0; g < gens; g++ {
		nr, err := m.Step(xr)
		if err != nil {
			t.Fatal(err)
		}
		// Per step, from the same frequencies: recursion vs first order.
		nf, err := m.FirstOrderStep(xr)
		if err != nil {
			t.Fatal(err)
		}
		for i := range nr {
			maxStepErr = math.Max(maxStepErr, math.Abs(nr[i]-nf[i]))
		}
		xr = nr
		if xf, err = m.FirstOrderStep(xf); err != nil {
			t.Fatal(err)
		}
		if y, err = m.GDStep(y); err != nil {
			t.Fatal(err)
		}
		if xw, err = m.WrightFisherStep(xw, 5000, rng); err != nil {
			t.Fatal(err)
		}
		maxGap = math.Max(maxGap, math.Abs(m.Trait(xr)[0]-m.Trait(xf)[0]))
		if g >= gens-50 {
			wfTail += m.Trait(xw)[0] / 50
		}
	}
	// Derived: |step error| <= theta eps^2 * 2 x(1-x)|1-2x| L'' + O(theta eps^3),
	// and x(1-x)|1-2x| <= 0.0963.
	if bound := m.Theta * m.Eps * m.Eps * 2 * 0.0963 * 2 * 1.1; maxStepErr > bound {
		t.Errorf("recursion vs first-order step: max one-step difference %.3g > %.3g", maxStepErr, bound)
	}
	// The recursion stops where L(Y|+) = L(Y|-), i.e. where the midpoint
	// Y + eps (1 - 2x) of Y|+ and Y|- is Y*: with equal frequencies
	// Y = eps n (2x - 1), that is Y = Y* n / (n - 1), O(eps) from Y*.
	n := float64(m.Genes[0])
	shift := target / (n - 1)
	if maxGap > shift+0.005 {
		t.Errorf("trajectories of the recursion and its first-order step drift apart by %.3g", maxGap)
	}
	for name, c := range map[string][2]float64{
		"recursion":        {m.Trait(xr)[0], target + shift},
		"first-order step": {m.Trait(xf)[0], target},
		"GD on Y":          {y[0], target},
	} {
		if math.Abs(c[0]-c[1]) > 1e-4 {
			t.Errorf("%s ends at Y = %.5f, want %.5f", name, c[0], c[1])
		}
	}
	if math.Abs(wfTail-target) > 0.05 {
		t.Errorf("Wright-Fisher (N=5000) averages Y = %.4f over its last 50 generations, want about %v", wfTail, target)
	}
	t.Logf("max one-step |recursion - first order| = %.2e; final Y: recursion %.5f, first order %.5f, GD %.5f, WF tail %.4f",
		maxStepErr, m.Trait(xr)[0], m.Trait(xf)[0], y[0], wfTail)
}

// TestFixedPointShiftIsOrderEps: with eps = range/n the recursion's end
// point approaches the minimum as n grows (eps -> 0): Y* n/(n-1).
func TestFixedPointShiftIsOrderEps(t *testing.T) {
	const target = 0.4
	var gaps []float64
	for _, n := range []int{20, 80} {
		m := &Model{Genes: []int{n}, Eps: 1 / float64(n), Theta: 0.5 * float64(n) / 20, Loss: Quadratic{[]float64{target}}}
		x, err := m.Start([]float64{-0.5})
		if err != nil {
			t.Fatal(err)
		}
		for g := 0; g < 1200; g++ {
			if x, err = m.Step(x); err != nil {
				t.Fatal(err)
			}
		}
		y := m.Trait(x)[0]
		if want := target * float64(n) / float64(n-1); math.Abs(y-want) > 1e-6 {
			t.Fatalf("n=%d: recursion ends at %.7f, want Y* n/(n-1) = %.7f", n, y, want)
		}
		gaps = append(gaps, y-target)
	}
	if r := gaps[1] / gaps[0]; r > 0.26 {
		t.Fatalf("n 20 -> 80 (eps / 4): gap to the minimum shrank only by %.3f", r)
	}
}

// TestSeveralCoefficients: a 2x2 rule, each entry with its own 8 genes,
// evolves to the target of every entry.
func TestSeveralCoefficients(t *testing.T) {
	target := []float64{-0.3, 0.2, 0.1, -0.1}
	m := &Model{Genes: []int{8, 8, 8, 8}, Eps: 0.05, Theta: 1, Loss: Quadratic{target}}
	x, err := m.Start([]float64{0, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	for g := 0; g < 1500; g++ {
		if x, err = m.Step(x); err != nil {
			t.Fatal(err)
		}
	}
	y := m.Trait(x)
	for c := range y {
		// The recursion's end point, Y* n/(n-1) (see TestConvergesLikeGD).
		if math.Abs(y[c]-target[c]*8/7) > 1e-4 {
			t.Fatalf("coefficient %d ends at %.5f, want %v (all: %v)", c, y[c], target[c], y)
		}
	}
}

// TestWrightFisherMeanFollowsRecursion: one generation of a large
// population moves the frequencies as the recursion does, up to sampling
// noise; the same seed gives the same numbers.
func TestWrightFisherMeanFollowsRecursion(t *testing.T) {
	m := &Model{Genes: []int{20}, Eps: 0.05, Theta: 0.2, Loss: Quadratic{[]float64{1}}}
	x, _ := m.Start([]float64{-0.4})
	rec, err := m.Step(x)
	if err != nil {
		t.Fatal(err)
	}
	const N = 100000
	wf, err := m.WrightFisherStep(x, N, rand.New(rand.NewSource(7)))
	if err != nil {
		t.Fatal(err)
	}
	var dRec, dWF float64
	for i := range x {
		dRec += (rec[i] - x[i]) / float64(len(x))
		dWF += (wf[i] - x[i]) / float64(len(x))
	}
	// Sampling: two draws of N (genotypes, parents), 20 genes averaged.
	sd := math.Sqrt(2*x[0]*(1-x[0])/N) / math.Sqrt(float64(len(x)))
	if math.Abs(dWF-dRec) > 5*sd {
		t.Fatalf("mean change: Wright-Fisher %.5f, recursion %.5f (sampling sd %.5f)", dWF, dRec, sd)
	}
	again, _ := m.WrightFisherStep(x, N, rand.New(rand.NewSource(7)))
	if !reflect.DeepEqual(wf, again) {
		t.Fatal("same seed, different frequencies")
	}
	other, _ := m.WrightFisherStep(x, N, rand.New(rand.NewSource(8)))
	if reflect.DeepEqual(wf, other) {
		t.Fatal("different seeds, same frequencies")
	}
}

func TestMemo(t *testing.T) {
	calls := 0
	l := Memo(LossFunc(func(y []float64) (float64, error) { calls++; return y[0] * y[0], nil }))
	m := &Model{Genes: []int{10}, Eps: 0.1, Theta: 0.1, Loss: l}
	x, _ := m.Start([]float64{0.3})
	if _, err := m.Step(x); err != nil {
		t.Fatal(err)
	}
	// Equal frequencies: Y, Y|+ and Y|- only.
	if calls != 3 {
		t.Fatalf("%d loss evaluations, want 3", calls)
	}
	if _, err := m.WrightFisherStep(x, 2000, rand.New(rand.NewSource(1))); err != nil {
		t.Fatal(err)
	}
	if calls > 3+11 {
		t.Fatalf("%d loss evaluations after a Wright-Fisher step, want at most 3 + (n+1)", calls)
	}
	if _, ok := Memo(Quadratic{[]float64{0}}).(Differentiable); !ok {
		t.Fatal("Memo hides the gradient")
	}
}

func TestTraitGradientFallsBackToDifferences(t *testing.T) {
	q := Quadratic{[]float64{0.2, -0.1}}
	plain := LossFunc(q.Loss)
	m := &Model{Genes: []int{3, 3}, Eps: 0.01, Theta: 0.1, Loss: plain}
	y := []float64{0.5, 0.3}
	g, err := m.TraitGradient(y)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := q.Gradient(y)
	for c := range g {
		if math.Abs(g[c]-want[c]) > 1e-9 {
			t.Fatalf("central differences %v, gradient %v", g, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	q := Quadratic{[]float64{0}}
	cases := []struct {
		m    Model
		x    []float64
		want string
	}{
		{Model{Eps: 0.1, Theta: 0.1, Loss: q}, nil, "no coefficients"},
		{Model{Genes: []int{0}, Eps: 0.1, Theta: 0.1, Loss: q}, nil, "coefficient 0 has 0 genes"},
		{Model{Genes: []int{2}, Eps: 0, Theta: 0.1, Loss: q}, []float64{.5, .5}, "eps = 0"},
		{Model{Genes: []int{2}, Eps: 0.1, Theta: math.NaN(), Loss: q}, []float64{.5, .5}, "theta = NaN"},
		{Model{Genes: []int{2}, Eps: 0.1, Theta: 0.1}, []float64{.5, .5}, "no loss"},
		{Model{Genes: []int{2}, Eps: 0.1, Theta: 0.1, Loss: q}, []float64{.5}, "1 frequencies for 2 genes"},
		{Model{Genes: []int{2}, Eps: 0.1, Theta: 0.1, Loss: q}, []float64{.5, 1.5}, "x[1] = 1.5 is outside [0, 1]"},
		{Model{Genes: []int{2}, Eps: 1, Theta: 100, Loss: Quadratic{[]float64{5}}}, []float64{.5, .5}, "too large"},
	}
	for _, c := range cases {
		_, err := c.m.Step(c.x)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Step: err = %v, want %q", err, c.want)
		}
	}
	m := &Model{Genes: []int{4}, Eps: 0.1, Theta: 0.1, Loss: q}
	if _, err := m.Start([]float64{0.4}); err == nil || !strings.Contains(err.Error(), "outside (-eps*n, eps*n)") {
		t.Errorf("Start at the boundary: %v", err)
	}
	if _, err := m.WrightFisherStep([]float64{.5, .5, .5, .5}, 0, rand.New(rand.NewSource(1))); err == nil || !strings.Contains(err.Error(), "population size 0") {
		t.Errorf("N = 0: %v", err)
	}
	// Strong selection: the unfit tail gets no offspring, the rest breed.
	big := &Model{Genes: []int{4}, Eps: 1, Theta: 10, Loss: Quadratic{[]float64{0}}}
	x, err := big.WrightFisherStep([]float64{.5, .5, .5, .5}, 1000, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatalf("strong selection: %v", err)
	}
	if y := big.Trait(x)[0]; math.Abs(y) > 0.5 {
		t.Errorf("strong selection towards 0 ended at Y = %v", y)
	}
	// Every individual worse than the mean: no parents at all.
	vee := &Model{Genes: []int{1}, Eps: 1, Theta: 1, Loss: LossFunc(func(y []float64) (float64, error) { return 10 * math.Abs(y[0]), nil })}
	if _, err := vee.WrightFisherStep([]float64{.5}, 10, rand.New(rand.NewSource(1))); err == nil || !strings.Contains(err.Error(), "no individual of the 10 has positive fitness") {
		t.Errorf("no positive fitness: %v", err)
	}
}
