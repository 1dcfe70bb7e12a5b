package attacks

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/internal/rnntest"
	"github.com/plasticity-lab/plastic/models"
)

// randomRNN is a small simple RNN with every weight random (as if trained).
func randomRNN(t *testing.T, n, m, T int, seed int64) *models.RNN {
	t.Helper()
	net, err := models.NewRNN(models.RNNConfig{Inputs: n, Labels: m, Nodes: 16, P: 0.6, Cap: 7, T: T}, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(seed + 1))
	for _, s := range [][]float64{net.W, net.U, net.B, net.C} {
		for i := range s {
			s[i] = rng.Float64() - 0.5
		}
	}
	return net
}

func randomLinear(t *testing.T, n, m int, seed int64, p Precision) (Model, []float64, []float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	w, b := make([]float64, n*m), make([]float64, m)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	for i := range b {
		b[i] = 0.1 * rng.NormFloat64()
	}
	lm, err := linearModel(w, b, n, m, p)
	if err != nil {
		t.Fatal(err)
	}
	return lm, w, b
}

func randomImages(rng *rand.Rand, rows, n int, lo, hi float64) []float64 {
	x := make([]float64, rows*n)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float64()
	}
	return x
}

// checkFD compares a float64 grader's input gradient with central
// differences of lossOf (an independent forward pass where one exists).
func checkFD(t *testing.T, name string, m Model, lossOf func(x []float64, target int) float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(11))
	rows, n, c := 3, m.Inputs(), m.Classes()
	g, err := m.NewGrader(4) // one row of padding
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	x := randomImages(rng, rows, n, 0, 1)
	targets := []int{0, c - 1, 1}
	loss, logits, grad := make([]float64, rows), make([]float64, rows*c), make([]float64, rows*n)
	if err := g.LossGrad(x, targets, loss, logits, grad); err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	nonzero := 0
	for r := 0; r < rows; r++ {
		sc := gradientScale(logits[r*c:(r+1)*c], targets[r])
		for i := range grad[r*n : (r+1)*n] {
			grad[r*n+i] *= sc
		}
		xr := x[r*n : (r+1)*n]
		if ref := lossOf(xr, targets[r]); math.Abs(ref-loss[r]) > 1e-9*(1+math.Abs(ref)) {
			t.Errorf("%s row %d: loss %v, reference %v", name, r, loss[r], ref)
		}
		for i := range xr {
			old := xr[i]
			xr[i] = old + h
			lp := lossOf(xr, targets[r])
			xr[i] = old - h
			lm := lossOf(xr, targets[r])
			xr[i] = old
			fd := (lp - lm) / (2 * h)
			if gv := grad[r*n+i]; math.Abs(gv-fd) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("%s row %d input %d: gradient %.10g, finite difference %.10g", name, r, i, gv, fd)
			} else if gv != 0 {
				nonzero++
			}
		}
	}
	if nonzero == 0 {
		t.Errorf("%s: all gradients zero, the check proves nothing", name)
	}
}

func ceOf(logits []float64, t int) float64 { return crossEntropy(logits, t) }

func TestInputGradientRNN(t *testing.T) {
	for _, T := range []int{1, 3} {
		net := randomRNN(t, 6, 4, T, int64(T))
		m, err := RNN(net, Float64)
		if err != nil {
			t.Fatal(err)
		}
		checkFD(t, "rnn", m, func(x []float64, target int) float64 {
			// models.RNN.Forward takes float32 inputs; forward64 is the
			// same formulas on float64 inputs.
			return ceOf(forward64(net, x), target)
		})
	}
}

// forward64 is the RNN's forward pass in float64 on float64 inputs (the
// spec's formulas, written out here independently of the graph).
func forward64(r *models.RNN, x []float64) []float64 {
	v, n := r.Nodes, r.Inputs
	ax := make([]float64, v)
	for i := 0; i < v; i++ {
		for j := 0; j < n; j++ {
			ax[i] += r.A[i*n+j] * r.InMask[i*n+j] * x[j]
		}
	}
	capk := func(z []float64) {
		idx := make([]int, v)
		for i := range idx {
			idx[i] = i
		}
		// keep the k largest (stable: lower index first on ties)
		for a := 0; a < v; a++ {
			for b := a + 1; b < v; b++ {
				if z[idx[b]] > z[idx[a]] {
					idx[a], idx[b] = idx[b], idx[a]
				}
			}
		}
		for _, i := range idx[r.Cap:] {
			z[i] = 0
		}
	}
	h := make([]float64, v)
	for i := range h {
		h[i] = max(ax[i]+r.B[i], 0)
	}
	capk(h)
	for t := 1; t < r.T; t++ {
		z := make([]float64, v)
		for i := 0; i < v; i++ {
			s := r.B[i]
			for j := 0; j < v; j++ {
				s += r.W[i*v+j] * r.GraphMask[i*v+j] * (h[j] + ax[j])
			}
			z[i] = max(s, 0)
		}
		capk(z)
		h = z
	}
	out := make([]float64, r.Labels)
	for c := range out {
		out[c] = r.C[c]
		for j := 0; j < v; j++ {
			out[c] += r.U[c*v+j] * h[j]
		}
	}
	return out
}

func TestInputGradientLinear(t *testing.T) {
	n, c := 5, 4
	m, w, b := randomLinear(t, n, c, 3, Float64)
	checkFD(t, "linear", m, func(x []float64, target int) float64 {
		lg := make([]float64, c)
		for k := range lg {
			lg[k] = b[k]
			for i := 0; i < n; i++ {
				lg[k] += w[k*n+i] * x[i]
			}
		}
		return ceOf(lg, target)
	})
}

func TestInputGradientMLP(t *testing.T) {
	cl, err := models.New("mlp", []int{12}, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	m64, err := mlpModel(cl, Float64)
	if err != nil {
		t.Fatal(err)
	}
	g64, err := m64.NewGrader(1)
	if err != nil {
		t.Fatal(err)
	}
	defer g64.Close()
	// The reference loss is the adapter's own float64 forward pass (the
	// model's session is float32 and computes no input gradient).
	checkFD(t, "mlp", m64, func(x []float64, target int) float64 {
		loss, lg, gr := make([]float64, 1), make([]float64, 3), make([]float64, 12)
		if err := g64.LossGrad(x, []int{target}, loss, lg, gr); err != nil {
			t.Fatal(err)
		}
		return loss[0]
	})
	// ... and that forward pass is the model's: compare with its
	// evaluation session (float32).
	sess, err := cl.NewSession(2, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	x := randomImages(rand.New(rand.NewSource(2)), 2, 12, 0, 1)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	if err := sess.SetBatch(x32, nil); err != nil {
		t.Fatal(err)
	}
	if err := sess.Run(); err != nil {
		t.Fatal(err)
	}
	want := sess.Logits().Data().([]float32)
	g2, _ := m64.NewGrader(2)
	defer g2.Close()
	loss, lg, gr := make([]float64, 2), make([]float64, 6), make([]float64, 24)
	if err := g2.LossGrad(x, []int{0, 1}, loss, lg, gr); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(float64(want[i])-lg[i]) > 1e-4*(1+math.Abs(lg[i])) {
			t.Fatalf("logit %d: adapter %v, model session %v", i, lg[i], want[i])
		}
	}
	if _, err := mlpModel(mustModel(t, "cnn"), Float32); err == nil {
		t.Error("MLP adapter accepted a CNN")
	}
}

func mustModel(t *testing.T, name string) models.Classifier {
	t.Helper()
	c, err := models.New(name, []int{1, 8, 8}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// twoClass is a binary linear model with its analytic minimal L2 and
// L-infinity perturbations for an image (when the box does not bind).
func twoClass(t *testing.T, n int, seed int64) (Model, func(x []float64) (label int, l2, linf float64)) {
	return twoClassScaled(t, n, seed, 1, Float64)
}

// twoClassScaled multiplies the weights and biases by scale: the same
// decision boundary (and minimal perturbations), a softmax that saturates.
func twoClassScaled(t *testing.T, n int, seed int64, scale float64, p Precision) (Model, func(x []float64) (label int, l2, linf float64)) {
	rng := rand.New(rand.NewSource(seed))
	w := make([]float64, 2*n)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	b := []float64{0.3, -0.3}
	ws, bs := make([]float64, len(w)), []float64{scale * b[0], scale * b[1]}
	for i := range w {
		ws[i] = scale * w[i]
	}
	m, err := linearModel(ws, bs, n, 2, p)
	if err != nil {
		t.Fatal(err)
	}
	return m, func(x []float64) (int, float64, float64) {
		z := [2]float64{b[0], b[1]}
		n2, n1 := 0.0, 0.0
		for i := 0; i < n; i++ {
			z[0] += w[i] * x[i]
			z[1] += w[n+i] * x[i]
			d := w[i] - w[n+i]
			n2 += d * d
			n1 += math.Abs(d)
		}
		label := 0
		if z[1] > z[0] {
			label = 1
		}
		mg := math.Abs(z[0] - z[1])
		return label, mg / math.Sqrt(n2), mg / n1
	}
}

// TestL2AttackReachesMinimalPerturbation: on a binary linear softmax model
// the targeted L2 attack breaks an image exactly when eps exceeds the
// analytic minimal perturbation |z_0 - z_1| / ||w_0 - w_1||.
func TestL2AttackReachesMinimalPerturbation(t *testing.T) {
	n := 8
	m, analytic := twoClass(t, n, 4)
	rng := rand.New(rand.NewSource(5))
	tested := 0
	for tested < 10 {
		x := randomImages(rng, 1, n, 0.3, 0.7)
		label, d, dinf := analytic(x)
		if d > 0.25 || d < 0.01 { // the box cannot bind within 0.25 of [0.3, 0.7]
			continue
		}
		tested++
		for _, c := range []struct {
			a    Attack
			dmin float64
		}{{paper(), d}, {pgd(L2), d}, {pgd(LInf), dinf}} {
			above, err := Adversarial(m, x, label, c.dmin*1.001, c.a)
			if err != nil {
				t.Fatal(err)
			}
			below, err := Adversarial(m, x, label, c.dmin*0.999, c.a)
			if err != nil {
				t.Fatal(err)
			}
			if !above.Broken || below.Broken {
				t.Errorf("%s %v: minimal perturbation %.5f: broken at 1.001x %v, at 0.999x %v", c.a.Norm, c.a.Targeted, c.dmin, above.Broken, below.Broken)
			}
			if got := Dist(c.a.Norm, above.Adversarial, x); got > c.dmin*1.001+1e-12 {
				t.Errorf("%s: adversarial image at distance %v beyond eps %v", c.a.Norm, got, c.dmin*1.001)
			}
		}
		// FGSM breaks iff eps * ||w_0 - w_1||_1 exceeds the margin.
		for _, f := range []float64{0.999, 1.001} {
			ex, err := Adversarial(m, x, label, dinf*f, FGSM())
			if err != nil {
				t.Fatal(err)
			}
			if ex.Broken != (f > 1) {
				t.Errorf("FGSM at %.3fx the minimal L-inf perturbation: broken %v", f, ex.Broken)
			}
		}
	}
}

// TestSaturatedSoftmax: on a binary linear model with logits in the
// thousands (float32: softmax - onehot underflows to zero) untargeted PGD,
// FGSM and the targeted attack still reach the minimal perturbation.
func TestSaturatedSoftmax(t *testing.T) {
	n := 8
	m, analytic := twoClassScaled(t, n, 4, 2000, Float32)
	rng := rand.New(rand.NewSource(9))
	for tested := 0; tested < 5; {
		x := randomImages(rng, 1, n, 0.3, 0.7)
		label, d, dinf := analytic(x)
		if d > 0.25 || d < 0.05 {
			continue
		}
		tested++
		for _, c := range []struct {
			a    Attack
			dmin float64
		}{{paper(), d}, {pgd(L2), d}, {pgd(LInf), dinf}, {FGSM(), dinf}} {
			above, err := Adversarial(m, x, label, c.dmin*1.01, c.a)
			if err != nil {
				t.Fatal(err)
			}
			below, err := Adversarial(m, x, label, c.dmin*0.99, c.a)
			if err != nil {
				t.Fatal(err)
			}
			if !above.Broken || below.Broken {
				t.Errorf("%s targeted=%v steps=%d: minimal perturbation %.4f: broken at 1.01x %v, at 0.99x %v", c.a.Norm, c.a.Targeted, c.a.Steps, c.dmin, above.Broken, below.Broken)
			}
		}
	}
	if s := gradientScale([]float64{300, 0, 1}, 0); !(s > 0) {
		t.Errorf("gradientScale of a saturated softmax = %v, want a tiny positive number", s)
	}
}

// TestRobustnessMatchesAnalytic: on the binary linear model, each image is
// broken at the first grid eps above its minimal perturbation.
func TestRobustnessMatchesAnalytic(t *testing.T) {
	n := 8
	m, analytic := twoClass(t, n, 6)
	rng := rand.New(rand.NewSource(7))
	N := 60
	set := &data.Set{Name: "box", N: N, Dim: n, Classes: 2, X: make([]float32, N*n), Y: make([]int, N)}
	grid := []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25}
	want := make([]int, N)
	for k := 0; k < N; k++ {
		x := randomImages(rng, 1, n, 0.3, 0.7)
		for i, v := range x {
			set.X[k*n+i] = float32(v)
			x[i] = float64(set.X[k*n+i])
		}
		label, d, _ := analytic(x)
		set.Y[k] = label
		if k%5 == 0 {
			set.Y[k] = 1 - label // misclassified: broken at eps 0
			want[k] = 0
			continue
		}
		want[k] = len(grid)
		for i, e := range grid {
			if e > d {
				want[k] = i
				break
			}
		}
		for _, e := range grid {
			if math.Abs(e-d) < 1e-3 {
				want[k] = -1 // too close to call
			}
		}
	}
	res, err := Robustness(context.Background(), m, set, PickImages(0, N, 1), grid, paper(), Options{Workers: 2, Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if want[k] >= 0 && res.BrokenAt[k] != want[k] {
			t.Errorf("image %d: broken at grid index %d, analytic %d", k, res.BrokenAt[k], want[k])
		}
	}
	acc := res.Accuracy()
	clean := 0
	for k := range want {
		if want[k] != 0 {
			clean++
		}
	}
	if acc[0] != float64(clean)/float64(N) {
		t.Errorf("robust accuracy at eps 0 = %v, clean accuracy %v", acc[0], float64(clean)/float64(N))
	}
	for i := 1; i < len(acc); i++ {
		if acc[i] > acc[i-1] {
			t.Errorf("robust accuracy rises: %v", acc)
		}
	}
}

// recorder wraps a model and records every row it evaluates.
type recorder struct {
	Model
	mu   sync.Mutex
	rows [][]float64
}

func (r *recorder) NewGrader(batch int) (Grader, error) {
	g, err := r.Model.NewGrader(batch)
	return &recGrader{g, r}, err
}

type recGrader struct {
	Grader
	r *recorder
}

func (g *recGrader) LossGrad(x []float64, targets []int, loss, logits, grad []float64) error {
	n := g.r.Inputs()
	g.r.mu.Lock()
	for i := range targets {
		g.r.rows = append(g.r.rows, append([]float64(nil), x[i*n:(i+1)*n]...))
	}
	g.r.mu.Unlock()
	return g.Grader.LossGrad(x, targets, loss, logits, grad)
}

// TestIteratesStayInBallAndBox records every iterate of the attacks on an
// RNN and checks it lies in the eps-ball of its image and in [0,1].
func TestIteratesStayInBallAndBox(t *testing.T) {
	n := 10
	net := randomRNN(t, n, 3, 2, 9)
	base, err := RNN(net, Float32)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	for _, a := range []Attack{paper(), pgd(LInf), {Norm: L2, Targeted: true, Steps: 7, StepSize: 0.9, Restarts: 2, Seed: 4}} {
		for _, eps := range []float64{0.3, 2} {
			x := randomImages(rng, 1, n, 0, 1)
			x[0], x[1] = 0, 1 // pixels on the box's faces
			rec := &recorder{Model: base}
			p, err := net.Forward(toF32(x))
			if err != nil {
				t.Fatal(err)
			}
			label := (models.Argmax(p.Logits) + 1) % 3 // any label: we check the path
			if _, err := Adversarial(rec, x, label, eps, a); err != nil {
				t.Fatal(err)
			}
			label = models.Argmax(p.Logits)
			if _, err := Adversarial(rec, x, label, eps, a); err != nil {
				t.Fatal(err)
			}
			if len(rec.rows) < 2 {
				t.Fatalf("%v eps %v: only %d evaluations", a, eps, len(rec.rows))
			}
			for _, z := range rec.rows {
				if d := Dist(a.Norm, z, x); d > eps*(1+1e-9) {
					t.Fatalf("%s eps %v: iterate at distance %v", a.Norm, eps, d)
				}
				for i, v := range z {
					if v < 0 || v > 1 {
						t.Fatalf("%s eps %v: pixel %d = %v outside [0,1]", a.Norm, eps, i, v)
					}
				}
			}
		}
	}
}

func toF32(x []float64) []float32 {
	o := make([]float32, len(x))
	for i, v := range x {
		o[i] = float32(v)
	}
	return o
}

// TestProjectL2BoxIsTheProjection: no feasible point is closer to z than
// ProjectL2Box(z), and the projection is feasible.
func TestProjectL2BoxIsTheProjection(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		n := 3
		x0 := randomImages(rng, 1, n, 0, 1)
		z := randomImages(rng, 1, n, -1, 2)
		eps := 0.05 + rng.Float64()
		p := append([]float64(nil), z...)
		ProjectL2Box(p, x0, eps)
		if Dist(L2, p, x0) > eps*(1+1e-12) {
			t.Fatalf("projection outside the ball: %v > %v", Dist(L2, p, x0), eps)
		}
		for _, v := range p {
			if v < 0 || v > 1 {
				t.Fatalf("projection outside the box: %v", p)
			}
		}
		best := Dist(L2, p, z)
		for s := 0; s < 3000; s++ {
			q := randomImages(rng, 1, n, 0, 1)
			if Dist(L2, q, x0) > eps {
				continue
			}
			if Dist(L2, q, z) < best-1e-12 {
				t.Fatalf("feasible point %v is closer to %v than the projection %v", q, z, p)
			}
		}
	}
}

// TestDeterministicAcrossWorkers: the same seed gives the same result with
// any number of workers and images per batch.
func TestDeterministicAcrossWorkers(t *testing.T) {
	n := 10
	net := randomRNN(t, n, 4, 2, 21)
	m, err := RNN(net, Float64)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(8))
	N := 30
	set := &data.Set{Name: "rand", N: N, Dim: n, Classes: 4, X: make([]float32, N*n), Y: make([]int, N)}
	for i := range set.X {
		set.X[i] = rng.Float32()
	}
	for k := 0; k < N; k++ {
		p, _ := net.Forward(set.Row(k))
		set.Y[k] = models.Argmax(p.Logits)
		if k%7 == 0 {
			set.Y[k] = (set.Y[k] + 1) % 4
		}
	}
	a := paper()
	a.Steps, a.Restarts, a.Seed = 10, 1, 3
	grid := []float64{0, 0.1, 0.3, 0.6}
	var first *Result
	for _, o := range []Options{{Workers: 1, Jobs: 1}, {Workers: 2, Jobs: 3}, {Workers: 3, Jobs: 8}} {
		res, err := Robustness(context.Background(), m, set, PickImages(20, N, 5), grid, a, o)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		for k := range res.BrokenAt {
			if res.BrokenAt[k] != first.BrokenAt[k] || res.Target[k] != first.Target[k] || res.Pred[k] != first.Pred[k] {
				t.Errorf("options %+v image %d: broken at %d (target %d), first run %d (target %d)", o, k,
					res.BrokenAt[k], res.Target[k], first.BrokenAt[k], first.Target[k])
			}
		}
		if res.Evals != first.Evals {
			t.Errorf("options %+v: %d evaluations, first run %d", o, res.Evals, first.Evals)
		}
	}
	acc := first.Accuracy()
	if acc[len(acc)-1] == acc[0] {
		t.Logf("accuracy %v: the attack broke nothing", acc)
	}
}

// serialBuilds wraps a Model and records whether two NewGrader calls (each
// builds a Gorgonia graph, which is not safe concurrently) ever overlapped.
type serialBuilds struct {
	Model
	inFlight, overlaps atomic.Int32
}

func (m *serialBuilds) NewGrader(batch int) (Grader, error) {
	if m.inFlight.Add(1) > 1 {
		m.overlaps.Add(1)
	}
	defer m.inFlight.Add(-1)
	time.Sleep(5 * time.Millisecond) // widen the window in which a second build would overlap
	return m.Model.NewGrader(batch)
}

// TestGraphsBuiltBeforeWorkers: Robustness never builds two graphs at once
// (with lazy per-worker graders, go test -race found the workers racing on
// Gorgonia's package-level group counter).
func TestGraphsBuiltBeforeWorkers(t *testing.T) {
	n := 6
	net := randomRNN(t, n, 3, 2, 5)
	base, err := RNN(net, Float64)
	if err != nil {
		t.Fatal(err)
	}
	m := &serialBuilds{Model: base}
	rng := rand.New(rand.NewSource(2))
	N := 12
	set := &data.Set{Name: "rand", N: N, Dim: n, Classes: 3, X: make([]float32, N*n), Y: make([]int, N)}
	for i := range set.X {
		set.X[i] = rng.Float32()
	}
	for k := range set.Y {
		p, _ := net.Forward(set.Row(k))
		set.Y[k] = models.Argmax(p.Logits)
	}
	a := paper()
	a.Steps, a.Restarts, a.Seed = 3, 1, 1
	if _, err := Robustness(context.Background(), m, set, PickImages(N, N, 1), []float64{0, 0.5, 1}, a, Options{Workers: 4, Jobs: 2}); err != nil {
		t.Fatal(err)
	}
	if k := m.overlaps.Load(); k > 0 {
		t.Fatalf("%d graph builds overlapped another", k)
	}
}

func TestBadInput(t *testing.T) {
	m, _, _ := randomLinear(t, 4, 3, 1, Float64)
	set := &data.Set{Name: "s", N: 2, Dim: 4, Classes: 3, X: make([]float32, 8), Y: []int{0, 1}}
	ctx := context.Background()
	errHas := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", what, err, want)
		}
	}
	// paramIs: the error names the parameter (the CLI names its flag).
	paramIs := func(what string, err error, name string) {
		t.Helper()
		var pe *param.Error
		if !errors.As(err, &pe) || pe.Name != name {
			t.Errorf("%s: error %v, want a param.Error for %q", what, err, name)
		}
	}
	_, err := Robustness(ctx, m, set, []int{0}, []float64{0, -1}, paper(), Options{})
	paramIs("negative eps", err, "eps grid")
	_, err = Robustness(ctx, m, set, []int{0}, []float64{0, 2, 1}, paper(), Options{})
	errHas("grid out of order", err, "strictly increasing")
	_, err = Robustness(ctx, m, set, []int{0}, []float64{0, math.NaN()}, paper(), Options{})
	paramIs("NaN eps", err, "eps grid")
	_, err = Robustness(ctx, m, set, []int{0}, nil, paper(), Options{})
	errHas("empty grid", err, "empty")
	_, err = Robustness(ctx, m, set, []int{5}, []float64{0}, paper(), Options{})
	errHas("image index", err, "index 5")
	wide := &data.Set{Name: "mnist", N: 1, Dim: 784, Classes: 10, X: make([]float32, 784), Y: []int{0}}
	_, err = Robustness(ctx, m, wide, []int{0}, []float64{0}, paper(), Options{})
	errHas("dimension mismatch", err, "784 features")
	bright := &data.Set{Name: "raw", N: 1, Dim: 4, Classes: 3, X: []float32{0, 255, 0, 0}, Y: []int{0}}
	_, err = Robustness(ctx, m, bright, []int{0}, []float64{0}, paper(), Options{})
	errHas("pixels out of box", err, "[0,1]")
	for _, c := range []struct {
		a    Attack
		want string
	}{
		{Attack{Norm: "l1", Steps: 1, StepSize: 1}, "norm"},
		{Attack{Norm: L2, Steps: 0, StepSize: 1}, "steps"},
		{Attack{Norm: L2, Steps: 1, StepSize: 0}, "step size"},
		{Attack{Norm: L2, Steps: 1, StepSize: 1, Restarts: -1}, "restarts"},
	} {
		_, err := Robustness(ctx, m, set, []int{0}, []float64{0}, c.a, Options{})
		paramIs(c.want, err, c.want)
	}
	_, err = Adversarial(m, []float64{0, 0, 0, 0}, 0, -0.5, paper())
	paramIs("negative eps", err, "eps")
	_, err = Adversarial(m, []float64{0, 0, 0}, 0, 1, paper())
	errHas("short image", err, "3 pixels")
	for _, s := range []string{"0,1,0.5", "0,-1", "a,b", "0:0:4", ""} {
		_, err := ParseGrid(s)
		paramIs("grid "+s, err, "eps grid")
	}
	if g, err := ParseGrid("0:0.5:4"); err != nil || len(g) != 9 || g[8] != 4 {
		t.Errorf("ParseGrid(0:0.5:4) = %v, %v", g, err)
	}
	if g, err := ParseGrid("0, 0.5,2"); err != nil || len(g) != 3 || g[2] != 2 {
		t.Errorf("ParseGrid(0, 0.5,2) = %v, %v", g, err)
	}
	if _, err := ParseNorm("L2"); err != nil {
		t.Error(err)
	}
	if _, err := linearModel(make([]float64, 3), make([]float64, 2), 2, 2, Float64); err == nil {
		t.Error("Linear accepted 3 weights for 2x2")
	}
}

// TestLargeLogitsAcrossRows: rows whose logits differ by hundreds (as in
// rule-trained networks) get finite gradients equal to those computed one
// row at a time (Gorgonia's own LogSoftMax takes the wrong row's maximum in
// batches and gives NaN here).
func TestLargeLogitsAcrossRows(t *testing.T) {
	n, c := 6, 4
	rng := rand.New(rand.NewSource(3))
	w, b := make([]float64, n*c), make([]float64, c)
	for i := range w {
		w[i] = 100 * rng.NormFloat64()
	}
	for i := 0; i < n; i++ {
		w[i] = 1000 // row 0's first logit, about 3000, dwarfs row 2's
	}
	for _, p := range []Precision{Float64, Float32} {
		m, err := linearModel(w, b, n, c, p)
		if err != nil {
			t.Fatal(err)
		}
		x := randomImages(rng, 3, n, 0, 1)
		for i := 0; i < n; i++ {
			x[2*n+i] *= 0.01 // a row with small logits next to large ones
		}
		tg := []int{1, 2, 3}
		gb, _ := m.NewGrader(3)
		g1, _ := m.NewGrader(1)
		loss, logits, grad := make([]float64, 3), make([]float64, 3*c), make([]float64, 3*n)
		if err := gb.LossGrad(x, tg, loss, logits, grad); err != nil {
			t.Fatal(err)
		}
		for r := 0; r < 3; r++ {
			l1, lg1, gr1 := make([]float64, 1), make([]float64, c), make([]float64, n)
			if err := g1.LossGrad(x[r*n:(r+1)*n], tg[r:r+1], l1, lg1, gr1); err != nil {
				t.Fatal(err)
			}
			if math.Abs(l1[0]-loss[r]) > 1e-3*(1+l1[0]) {
				t.Fatalf("precision %v row %d: batched loss %v, alone %v", p, r, loss[r], l1[0])
			}
			for i := 0; i < n; i++ {
				v := grad[r*n+i]
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v-gr1[i]) > 1e-3*(1+math.Abs(gr1[i])) {
					t.Fatalf("precision %v row %d input %d: batched gradient %v, alone %v", p, r, i, v, gr1[i])
				}
			}
		}
		gb.Close()
		g1.Close()
	}
}

// TestRNNLogitsAreTheOneDefinition: the attacks' RNN model (its
// forward-only graph and its loss-and-gradient graph, both precisions)
// gives the logits of models.Rounds (RNN.Forward), for T = 1 and 3, both
// firing definitions, additive and multiplicative networks.
func TestRNNLogitsAreTheOneDefinition(t *testing.T) {
	for _, c := range rnntest.Cases(9, 3, 37, 20, 6, 5) {
		want, _, _ := rnntest.Want(c.Net, c.X)
		x := make([]float64, len(c.X))
		for i, v := range c.X {
			x[i] = float64(v)
		}
		for _, p := range []Precision{Float64, Float32} {
			tol := 1e-12
			if p == Float32 {
				tol = 1e-5
			}
			m, err := RNN(c.Net, p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := m.(ForwardModel).NewForward(c.N)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(want))
			if err := f.Logits(x, got); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if d := rnntest.Diff(got, want, 3, tol); d != "" {
				t.Errorf("%s precision %d, forward graph: %s", c.Name, p, d)
			}
			g, err := m.NewGrader(c.N)
			if err != nil {
				t.Fatal(err)
			}
			loss, grad := make([]float64, c.N), make([]float64, len(x))
			if err := g.LossGrad(x, make([]int, c.N), loss, got, grad); err != nil {
				t.Fatal(err)
			}
			g.Close()
			if d := rnntest.Diff(got, want, 3, tol); d != "" {
				t.Errorf("%s precision %d, grader: %s", c.Name, p, d)
			}
		}
	}
}

// TestForwardMatchesGrader: the forward-only graph (used for the clean
// images) gives the logits of the loss-and-gradient graph, for the RNN,
// MLP and linear models, both precisions, full and partial batches.
func TestForwardMatchesGrader(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	n := 10
	cl, err := models.New("mlp", []int{n}, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Precision{Float32, Float64} {
		rnn, err := RNN(randomRNN(t, n, 3, 3, 5), p)
		if err != nil {
			t.Fatal(err)
		}
		mlp, err := mlpModel(cl, p)
		if err != nil {
			t.Fatal(err)
		}
		w := randomImages(rng, 3, n, -1, 1)
		lin, err := linearModel(w, []float64{0.1, -0.2, 0.3}, n, 3, p)
		if err != nil {
			t.Fatal(err)
		}
		for name, m := range map[string]Model{"rnn": rnn, "mlp": mlp, "linear": lin} {
			fm, ok := m.(ForwardModel)
			if !ok {
				t.Fatalf("%s: not a ForwardModel", name)
			}
			f, err := fm.NewForward(4)
			if err != nil {
				t.Fatal(err)
			}
			g, err := m.NewGrader(4)
			if err != nil {
				t.Fatal(err)
			}
			for _, rows := range []int{4, 1, 3} {
				x := randomImages(rng, rows, n, 0, 1)
				targets := make([]int, rows)
				want, loss, grad := make([]float64, rows*3), make([]float64, rows), make([]float64, rows*n)
				if err := g.LossGrad(x, targets, loss, want, grad); err != nil {
					t.Fatal(err)
				}
				got := make([]float64, rows*3)
				if err := f.Logits(x, got); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s precision %d rows %d: logit %d = %v, grader's %v", name, p, rows, i, got[i], want[i])
					}
				}
			}
			if err := f.Logits(make([]float64, 5*n), make([]float64, 15)); err == nil {
				t.Errorf("%s: 5 rows into a batch of 4 accepted", name)
			}
			f.Close()
			g.Close()
		}
	}
}

// TestRNNGraphShapeErrors: an inconsistent network (biases of the wrong
// length: RNN() validates the sizes, not the arrays) is an error from the
// graph builder, not a panic.
func TestRNNGraphShapeErrors(t *testing.T) {
	for _, T := range []int{1, 3} {
		for _, bad := range []string{"b", "c"} {
			net := randomRNN(t, 7, 3, T, 4)
			if bad == "b" {
				net.B = net.B[:5]
			} else {
				net.C = append(net.C, 1)
			}
			g := G.NewGraph()
			xn := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 7), G.WithName("x"), G.WithInit(G.Zeroes()))
			var (
				out *G.Node
				err error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("T=%d, %s of the wrong length: panic %v", T, bad, p)
					}
				}()
				out, err = net.BuildLogits(xn, models.GraphParams{})
			}()
			if err == nil || out != nil {
				t.Errorf("T=%d, %s of the wrong length: got %v, %v; want an error", T, bad, out, err)
			}
		}
	}
}
