package evolution

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strconv"
	"strings"
)

// Loss is the loss of a trait vector (one entry per coefficient); lower is
// fitter. For the paper it is the test loss of a network trained with a
// rule whose coefficients are y.
type Loss interface {
	Loss(y []float64) (float64, error)
}

// LossFunc adapts a function to Loss.
type LossFunc func(y []float64) (float64, error)

// Loss calls f.
func (f LossFunc) Loss(y []float64) (float64, error) { return f(y) }

// Differentiable is a Loss that knows its gradient in y. Losses without it
// get central differences with step eps (Model.TraitGradient).
type Differentiable interface {
	Loss
	Gradient(y []float64) ([]float64, error)
}

// Quadratic is L(Y) = sum_c (Y_c - Target_c)^2, a loss with a known
// minimum at Target.
type Quadratic struct{ Target []float64 }

// Loss implements Loss.
func (q Quadratic) Loss(y []float64) (float64, error) {
	if len(y) != len(q.Target) {
		return 0, fmt.Errorf("evolution: quadratic loss of %d coefficients given %d", len(q.Target), len(y))
	}
	s := 0.0
	for c := range y {
		d := y[c] - q.Target[c]
		s += d * d
	}
	return s, nil
}

// Gradient implements Differentiable.
func (q Quadratic) Gradient(y []float64) ([]float64, error) {
	if len(y) != len(q.Target) {
		return nil, fmt.Errorf("evolution: quadratic loss of %d coefficients given %d", len(q.Target), len(y))
	}
	g := make([]float64, len(y))
	for c := range y {
		g[c] = 2 * (y[c] - q.Target[c])
	}
	return g, nil
}

// Memo wraps an expensive loss (a network trained per call) with a cache
// keyed by the exact trait values. The recursion asks for the same values
// many times when genes share a frequency, and a Wright-Fisher population
// of one coefficient has only n+1 distinct traits. Gradients are passed
// through when l has them. Not safe for concurrent use.
func Memo(l Loss) Loss {
	m := &memo{l: l, cache: map[string]float64{}}
	if d, ok := l.(Differentiable); ok {
		return &memoDiff{memo: m, d: d}
	}
	return m
}

type memo struct {
	l     Loss
	cache map[string]float64
}

func (m *memo) Loss(y []float64) (float64, error) {
	var b strings.Builder
	for _, v := range y {
		b.WriteString(strconv.FormatUint(math.Float64bits(v), 16))
		b.WriteByte(',')
	}
	k := b.String()
	if v, ok := m.cache[k]; ok {
		return v, nil
	}
	v, err := m.l.Loss(y)
	if err != nil {
		return 0, err
	}
	m.cache[k] = v
	return v, nil
}

type memoDiff struct {
	*memo
	d Differentiable
}

func (m *memoDiff) Gradient(y []float64) ([]float64, error) { return m.d.Gradient(y) }

// Model is Appendix C's population: Genes[c] genes set coefficient c, each
// allele contributes ±Eps, and selection has strength Theta.
type Model struct {
	Genes []int
	Eps   float64
	Theta float64
	Loss  Loss
}

// Check reports a model that cannot be simulated.
func (m *Model) Check() error {
	if len(m.Genes) == 0 {
		return fmt.Errorf("evolution: no coefficients (Genes is empty)")
	}
	for c, n := range m.Genes {
		if n < 1 {
			return fmt.Errorf("evolution: coefficient %d has %d genes, want >= 1", c, n)
		}
	}
	if !(m.Eps > 0) || math.IsInf(m.Eps, 0) {
		return fmt.Errorf("evolution: eps = %v, want a finite value > 0", m.Eps)
	}
	if !(m.Theta > 0) || math.IsInf(m.Theta, 0) {
		return fmt.Errorf("evolution: theta = %v, want a finite value > 0 (weak selection: small)", m.Theta)
	}
	if m.Loss == nil {
		return fmt.Errorf("evolution: no loss")
	}
	return nil
}

// NumGenes is the total number of genes.
func (m *Model) NumGenes() int {
	n := 0
	for _, g := range m.Genes {
		n += g
	}
	return n
}

// coef returns, for every gene, the coefficient it belongs to.
func (m *Model) coef() []int {
	out := make([]int, 0, m.NumGenes())
	for c, n := range m.Genes {
		for i := 0; i < n; i++ {
			out = append(out, c)
		}
	}
	return out
}

func (m *Model) checkX(x []float64) error {
	if err := m.Check(); err != nil {
		return err
	}
	if len(x) != m.NumGenes() {
		return fmt.Errorf("evolution: %d frequencies for %d genes", len(x), m.NumGenes())
	}
	for i, v := range x {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("evolution: frequency x[%d] = %v is outside [0, 1]", i, v)
		}
	}
	return nil
}

// Trait is the expected trait Y_c = Eps * sum_{i in c} (2 x_i - 1).
func (m *Model) Trait(x []float64) []float64 {
	y := make([]float64, len(m.Genes))
	for i, c := range m.coef() {
		y[c] += m.Eps * (2*x[i] - 1)
	}
	return y
}

// Start returns frequencies, equal within each coefficient, whose trait is
// y0. Each |y0_c| must be below Eps*Genes[c], the most the genes can give.
func (m *Model) Start(y0 []float64) ([]float64, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if len(y0) != len(m.Genes) {
		return nil, fmt.Errorf("evolution: start trait has %d values for %d coefficients", len(y0), len(m.Genes))
	}
	x := make([]float64, 0, m.NumGenes())
	for c, n := range m.Genes {
		max := m.Eps * float64(n)
		if !(math.Abs(y0[c]) < max) {
			return nil, fmt.Errorf("evolution: start trait %v of coefficient %d is outside (-eps*n, eps*n) = (%v, %v)", y0[c], c, -max, max)
		}
		v := (y0[c]/max + 1) / 2
		for i := 0; i < n; i++ {
			x = append(x, v)
		}
	}
	return x, nil
}

// Step is one generation of the exact deterministic recursion
// x_i' = x_i (1 + theta (L(Y) - L(Y|+))) / Z. It fails if theta is so large
// that some fitness is not positive (selection is then not weak).
func (m *Model) Step(x []float64) ([]float64, error) {
	if err := m.checkX(x); err != nil {
		return nil, err
	}
	y := m.Trait(x)
	l0, err := m.Loss.Loss(y)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(x))
	yc := make([]float64, len(y))
	for i, c := range m.coef() {
		copy(yc, y)
		yc[c] = y[c] + 2*m.Eps*(1-x[i])
		lp, err := m.Loss.Loss(yc)
		if err != nil {
			return nil, err
		}
		yc[c] = y[c] - 2*m.Eps*x[i]
		lm, err := m.Loss.Loss(yc)
		if err != nil {
			return nil, err
		}
		wp, wm := 1+m.Theta*(l0-lp), 1+m.Theta*(l0-lm)
		if !(wp > 0 && wm > 0) {
			return nil, fmt.Errorf("evolution: theta = %v is too large: fitness of + / - at gene %d is %v / %v (must be > 0)", m.Theta, i, wp, wm)
		}
		z := x[i]*wp + (1-x[i])*wm
		out[i] = x[i] * wp / z
	}
	return out, nil
}

// TraitGradient is dL/dY: the loss's own gradient when it is
// Differentiable, otherwise central differences with step Eps (the scale
// on which selection sees the loss).
func (m *Model) TraitGradient(y []float64) ([]float64, error) {
	if d, ok := m.Loss.(Differentiable); ok {
		return d.Gradient(y)
	}
	g := make([]float64, len(y))
	yc := append([]float64(nil), y...)
	for c := range y {
		yc[c] = y[c] + m.Eps
		lp, err := m.Loss.Loss(yc)
		if err != nil {
			return nil, err
		}
		yc[c] = y[c] - m.Eps
		lm, err := m.Loss.Loss(yc)
		if err != nil {
			return nil, err
		}
		yc[c] = y[c]
		g[c] = (lp - lm) / (2 * m.Eps)
	}
	return g, nil
}

// FrequencyGradient is dL/dx_i = 2 Eps dL/dY_c for every gene i of
// coefficient c.
func (m *Model) FrequencyGradient(x []float64) ([]float64, error) {
	if err := m.checkX(x); err != nil {
		return nil, err
	}
	gy, err := m.TraitGradient(m.Trait(x))
	if err != nil {
		return nil, err
	}
	g := make([]float64, len(x))
	for i, c := range m.coef() {
		g[i] = 2 * m.Eps * gy[c]
	}
	return g, nil
}

// FirstOrderStep is the recursion to first order:
// x_i' = x_i - theta x_i (1 - x_i) dL/dx_i, clipped to [0, 1].
func (m *Model) FirstOrderStep(x []float64) ([]float64, error) {
	return m.gdStep(x, func(v float64) float64 { return v * (1 - v) })
}

// PaperStep is the paper's claimed first-order step
// x_i' = x_i - theta (2 - 2 x_i) dL/dx_i, clipped to [0, 1]. It is kept to
// show that it does not follow the recursion (see the package doc).
func (m *Model) PaperStep(x []float64) ([]float64, error) {
	return m.gdStep(x, func(v float64) float64 { return 2 - 2*v })
}

func (m *Model) gdStep(x []float64, factor func(float64) float64) ([]float64, error) {
	g, err := m.FrequencyGradient(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(x))
	for i := range x {
		out[i] = math.Max(0, math.Min(1, x[i]-m.Theta*factor(x[i])*g[i]))
	}
	return out, nil
}

// GDRate is the rate of GD on Y that matches the recursion's speed at
// x = 1/2: theta eps^2 n_c for coefficient c.
func (m *Model) GDRate() []float64 {
	r := make([]float64, len(m.Genes))
	for c, n := range m.Genes {
		r[c] = m.Theta * m.Eps * m.Eps * float64(n)
	}
	return r
}

// GDStep is one step of plain GD on the trait, Y_c' = Y_c - GDRate_c dL/dY_c.
func (m *Model) GDStep(y []float64) ([]float64, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if len(y) != len(m.Genes) {
		return nil, fmt.Errorf("evolution: trait has %d values for %d coefficients", len(y), len(m.Genes))
	}
	g, err := m.TraitGradient(y)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(y))
	for c, r := range m.GDRate() {
		out[c] = y[c] - r*g[c]
	}
	return out, nil
}

// WrightFisherStep is one generation of a population of N individuals (see
// the package doc): sample N genotypes from x in linkage equilibrium, weigh
// each by its fitness max(0, 1 + theta (L(Y) - L(Y_g))) (an individual far
// out in the tail of a steep loss can have none, unlike the mean-field
// carriers of the recursion), draw N parents in proportion to fitness and
// return the parents' allele frequencies. All randomness comes from rng.
func (m *Model) WrightFisherStep(x []float64, N int, rng *rand.Rand) ([]float64, error) {
	if err := m.checkX(x); err != nil {
		return nil, err
	}
	if N < 1 {
		return nil, fmt.Errorf("evolution: population size %d, want >= 1", N)
	}
	if rng == nil {
		return nil, fmt.Errorf("evolution: nil random source")
	}
	coef := m.coef()
	nGenes := len(x)
	l0, err := m.Loss.Loss(m.Trait(x))
	if err != nil {
		return nil, err
	}
	geno := make([]bool, N*nGenes)
	cum := make([]float64, N)
	y := make([]float64, len(m.Genes))
	total := 0.0
	for k := 0; k < N; k++ {
		g := geno[k*nGenes : (k+1)*nGenes]
		for c := range y {
			y[c] = -m.Eps * float64(m.Genes[c])
		}
		for i := range g {
			if rng.Float64() < x[i] {
				g[i] = true
				y[coef[i]] += 2 * m.Eps
			}
		}
		l, err := m.Loss.Loss(y)
		if err != nil {
			return nil, err
		}
		w := 1 + m.Theta*(l0-l)
		if math.IsNaN(w) {
			return nil, fmt.Errorf("evolution: loss %v of trait %v gives fitness NaN", l, y)
		}
		// An individual so unfit that 1 + theta (L(Y) - L(Y_g)) <= 0 has
		// no offspring.
		total += math.Max(0, w)
		cum[k] = total
	}
	if !(total > 0) {
		return nil, fmt.Errorf("evolution: theta = %v is too large: no individual of the %d has positive fitness", m.Theta, N)
	}
	counts := make([]int, nGenes)
	for k := 0; k < N; k++ {
		p := sort.SearchFloat64s(cum, rng.Float64()*total)
		if p >= N {
			p = N - 1
		}
		for i, plus := range geno[p*nGenes : (p+1)*nGenes] {
			if plus {
				counts[i]++
			}
		}
	}
	out := make([]float64, nGenes)
	for i, n := range counts {
		out[i] = float64(n) / float64(N)
	}
	return out, nil
}
