package attacks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/plasticity-lab/plastic/data"
	"github.com/plasticity-lab/plastic/internal/param"
	"github.com/plasticity-lab/plastic/models"
)

// Norm is the norm of the allowed perturbations (flag --norm).
type Norm string

const (
	L2   Norm = "l2"
	LInf Norm = "linf"
)

// ParseNorm reads a norm name: l2 or linf (any case).
func ParseNorm(s string) (Norm, error) {
	switch Norm(strings.ToLower(s)) {
	case L2:
		return L2, nil
	case LInf:
		return LInf, nil
	}
	return "", param.Errorf("norm", "%q: want l2 or linf", s)
}

// Attack is an iterative gradient attack within the ball of radius eps
// (in Norm) around an image, intersected with the pixel box [0,1]:
//
//	targeted (the paper, Sec. 4): x <- Proj(x - alpha * d(grad_x L(x, y'))) for every y' != y
//	untargeted (PGD):             x <- Proj(x + alpha * d(grad_x L(x, y)))
//
// where L is the cross-entropy, alpha = StepSize * eps, and the direction d
// is the gradient itself scaled to unit L2 length for L2 (the paper's
// gradient direction, not its sign; the length is set by alpha so that one
// step size suits every model, whatever the scale of its logits), and the
// sign of the gradient for L-infinity (Madry et al.). An attempt succeeds
// as soon as an iterate (the start included) is misclassified, i.e. its
// prediction differs from the true label y; an image is broken when any of
// its attempts succeeds. Proj is the exact Euclidean projection onto the
// ball-box intersection (ProjectL2Box, ProjectLInfBox).
type Attack struct {
	Norm     Norm
	Targeted bool    // try every other label as target (the paper); else ascend the true label's loss
	Steps    int     // gradient steps per attempt
	StepSize float64 // alpha as a fraction of eps
	Restarts int     // extra attempts per target from random points of the ball
	Seed     int64   // random starts
}

// Defaults of the paper's attack: 50 steps of eps/20, so an attempt can
// travel 2.5 eps (the 2.5*eps/steps rule of Madry et al.: enough to cross
// the ball and then slide along its boundary); no random restarts.
const (
	DefaultSteps    = 50
	DefaultStepSize = 0.05
)

// FGSM is the fast gradient sign method (Goodfellow et al.): one
// L-infinity step of length eps up the true label's loss.
func FGSM() Attack { return Attack{Norm: LInf, Steps: 1, StepSize: 1} }

// Validate reports the first bad setting (a param.Error naming it).
func (a Attack) Validate() error {
	if _, err := ParseNorm(string(a.Norm)); err != nil {
		return err
	}
	switch {
	case a.Steps < 1:
		return param.Errorf("steps", "%d: want >= 1", a.Steps)
	case !(a.StepSize > 0) || math.IsInf(a.StepSize, 0):
		return param.Errorf("step size", "%v: want a finite fraction of eps > 0", a.StepSize)
	case a.Restarts < 0:
		return param.Errorf("restarts", "%d: want >= 0", a.Restarts)
	}
	return nil
}

// CheckGrid reports a grid that is empty, negative, not finite or not
// strictly increasing.
func CheckGrid(grid []float64) error {
	if len(grid) == 0 {
		return param.Errorf("eps grid", "empty")
	}
	for i, e := range grid {
		if math.IsNaN(e) || math.IsInf(e, 0) || e < 0 {
			return param.Errorf("eps grid", "eps %v at position %d: want a finite value >= 0", e, i+1)
		}
		if i > 0 && e <= grid[i-1] {
			return param.Errorf("eps grid", "%v after %v: the grid must be strictly increasing", e, grid[i-1])
		}
	}
	return nil
}

// ParseGrid reads a comma-separated eps grid ("0,0.5,1") or a range
// "lo:step:hi" ("0:0.5:4") and checks it.
func ParseGrid(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	var grid []float64
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var v [3]float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, param.Errorf("eps grid", "%q: %q is not a number", s, p)
			}
			v[i] = f
		}
		if !(v[1] > 0) || v[2] < v[0] || (v[2]-v[0])/v[1] > 10000 {
			return nil, param.Errorf("eps grid", "%q: want lo:step:hi with step > 0 and hi >= lo", s)
		}
		for k := 0; v[0]+float64(k)*v[1] <= v[2]+1e-9*v[1]; k++ {
			grid = append(grid, v[0]+float64(k)*v[1])
		}
	} else {
		for _, p := range strings.Split(s, ",") {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, param.Errorf("eps grid", "%q: %q is not a number", s, p)
			}
			grid = append(grid, f)
		}
	}
	return grid, CheckGrid(grid)
}

// PickImages returns n distinct indices of a set of size N drawn from seed,
// increasing (all of them when n <= 0 or n >= N).
func PickImages(n, N int, seed int64) []int {
	if n <= 0 || n >= N {
		idx := make([]int, N)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := rand.New(rand.NewSource(seed)).Perm(N)[:n]
	sort.Ints(idx)
	return idx
}

// Options of Robustness.
type Options struct {
	Workers int // goroutines, each with its own graders (GOMAXPROCS when 0)
	Jobs    int // images attacked together by one worker (8 when 0)
	// Progress, when set, is called after each image is settled.
	Progress func(done, total int)
}

// Result of Robustness.
type Result struct {
	Attack Attack
	Grid   []float64
	Images []int // indices into the set
	Labels []int
	// BrokenAt is, per image, the index in Grid of the smallest eps at
	// which it was broken (0 for images misclassified unperturbed), or
	// len(Grid) when no attack broke it.
	BrokenAt []int
	// Target is the target label of the attempt that broke the image
	// (-1 when it was misclassified unperturbed, or untargeted attacks), Pred
	// the label the adversarial image got (or the clean prediction).
	Target, Pred []int
	Evals        int64 // passes (forward and backward; forward only for the clean images) of one input
}

// Accuracy is the robust accuracy at each eps of the grid: the fraction of
// images not broken by then. An adversarial image found within eps lies in
// every larger ball too, so an image broken at eps counts as broken at all
// larger eps (it is not attacked again), and the curve never rises.
func (r *Result) Accuracy() []float64 {
	acc := make([]float64, len(r.Grid))
	for i := range r.Grid {
		ok := 0
		for _, b := range r.BrokenAt {
			if b > i {
				ok++
			}
		}
		acc[i] = float64(ok) / float64(len(r.BrokenAt))
	}
	return acc
}

// CheckData reports a set that does not fit m: another dimension, labels
// beyond m's classes, or pixels outside [0,1].
func CheckData(m Model, set *data.Set) error {
	if set == nil || set.N == 0 {
		return fmt.Errorf("attacks: %w", models.ErrEmpty)
	}
	if set.Dim != m.Inputs() {
		return fmt.Errorf("data set %q has %d features per example but the model has %d inputs", set.Name, set.Dim, m.Inputs())
	}
	if set.Classes > m.Classes() {
		return fmt.Errorf("data set %q has %d classes but the model has %d outputs", set.Name, set.Classes, m.Classes())
	}
	for i, v := range set.X {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("data set %q: feature %d of example %d is %v, outside the pixel box [0,1]", set.Name, i%set.Dim, i/set.Dim, v)
		}
	}
	return nil
}

// Robustness attacks the given images of set (indices) at every eps of the
// grid and reports which eps breaks each image. For each image it walks up
// the grid: it is attacked at the next eps only while no attempt at the
// previous one succeeded. All attempts of one image at one eps (every
// target, every restart) run in lockstep in one batch, together with other
// images' attempts, and stop at the first step at which any of them is
// misclassified; images are spread over Options.Workers goroutines. The
// result depends only on the model, the data, the attack and its seed, not
// on the number of workers or the batching (as long as the BLAS sums each
// row's products in the same order whatever the batch size, as gonum's and
// graph/gemm's do).
func Robustness(ctx context.Context, m Model, set *data.Set, images []int, grid []float64, a Attack, opt Options) (*Result, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := CheckGrid(grid); err != nil {
		return nil, err
	}
	if err := CheckData(m, set); err != nil {
		return nil, err
	}
	if len(images) == 0 {
		return nil, errors.New("attacks: no images to attack")
	}
	for _, i := range images {
		if i < 0 || i >= set.N {
			return nil, fmt.Errorf("attacks: image index %d outside the set's %d examples", i, set.N)
		}
	}
	workers, jobs := opt.Workers, opt.Jobs
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if jobs <= 0 {
		jobs = 8
	}
	workers = min(workers, len(images))
	r := &Result{Attack: a, Grid: append([]float64(nil), grid...), Images: append([]int(nil), images...),
		BrokenAt: make([]int, len(images)), Target: make([]int, len(images)), Pred: make([]int, len(images)),
		Labels: make([]int, len(images))}
	for k, i := range images {
		r.Labels[k] = set.Y[i]
	}

	// Clean pass: misclassified images are broken at every eps.
	if err := r.clean(m, set); err != nil {
		return nil, err
	}
	first := 0
	for first < len(grid) && grid[first] == 0 {
		first++
	}
	s := &scheduler{res: r, set: set, a: a, first: first, total: len(images)}
	s.cond = sync.NewCond(&s.mu)
	for k := range images {
		if r.BrokenAt[k] < 0 {
			if first == len(grid) {
				r.BrokenAt[k] = len(grid)
				s.done++
				continue
			}
			s.queue = append(s.queue, jobKey{img: k, eps: first})
		} else {
			s.done++
		}
	}
	s.progress = opt.Progress
	if s.progress != nil {
		s.progress(s.done, s.total)
	}
	rowsPerJob := a.rowsPerJob(m.Classes())
	// Every worker's graders are compiled here, before the workers start:
	// building a Gorgonia graph is not safe from several goroutines at
	// once (G.Rectify and friends bump a package-level group counter).
	sets := make([]graderSet, workers)
	defer func() {
		for _, gs := range sets {
			gs.close()
		}
	}()
	for w := range sets {
		var err error
		if sets[w], err = newGraderSet(m, jobs, rowsPerJob); err != nil {
			return nil, err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = s.work(ctx, sets[w], m, jobs, rowsPerJob)
			if errs[w] != nil {
				s.fail()
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// clean classifies the images unperturbed: misclassified ones get
// BrokenAt 0; the others -1 (to be attacked). A ForwardModel does it with
// its forward pass alone.
func (r *Result) clean(m Model, set *data.Set) error {
	B := min(len(r.Images), 100)
	var classify func(x []float64, labels []int, logits []float64) error
	if fm, ok := m.(ForwardModel); ok {
		f, err := fm.NewForward(B)
		if err != nil {
			return err
		}
		defer f.Close()
		classify = func(x []float64, _ []int, logits []float64) error { return f.Logits(x, logits) }
	} else {
		gr, err := m.NewGrader(B)
		if err != nil {
			return err
		}
		defer gr.Close()
		loss, grad := make([]float64, B), make([]float64, B*m.Inputs())
		classify = func(x []float64, labels []int, logits []float64) error {
			return gr.LossGrad(x, labels, loss, logits, grad)
		}
	}
	n, c := m.Inputs(), m.Classes()
	x := make([]float64, B*n)
	logits := make([]float64, B*c)
	for lo := 0; lo < len(r.Images); lo += B {
		k := min(B, len(r.Images)-lo)
		for j := 0; j < k; j++ {
			row := set.Row(r.Images[lo+j])
			for i, v := range row {
				x[j*n+i] = float64(v)
			}
		}
		if err := classify(x[:k*n], r.Labels[lo:lo+k], logits); err != nil {
			return err
		}
		r.Evals += int64(k)
		for j := 0; j < k; j++ {
			p := models.Argmax(logits[j*c : (j+1)*c])
			r.Pred[lo+j], r.Target[lo+j], r.BrokenAt[lo+j] = p, -1, -1
			if p != r.Labels[lo+j] {
				r.BrokenAt[lo+j] = 0
			}
		}
	}
	return nil
}

// rowsPerJob is the number of attempts per image and eps.
func (a Attack) rowsPerJob(classes int) int {
	t := 1
	if a.Targeted {
		t = classes - 1
	}
	return t * (1 + a.Restarts)
}

type jobKey struct{ img, eps int }

// scheduler hands (image, eps) jobs to the workers and records results.
type scheduler struct {
	mu       sync.Mutex
	cond     *sync.Cond
	res      *Result
	set      *data.Set
	a        Attack
	first    int
	queue    []jobKey
	done     int
	total    int
	active   int // jobs held by workers
	failed   bool
	progress func(done, total int)
}

func (s *scheduler) isFailed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (s *scheduler) fail() {
	s.mu.Lock()
	s.failed = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// take returns up to n jobs, waiting while the queue is empty but jobs held
// by other workers may still add to it; nil when everything is settled.
func (s *scheduler) take(ctx context.Context, n int, holding int) []jobKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) == 0 && holding == 0 && s.active > 0 && !s.failed && ctx.Err() == nil {
		s.cond.Wait()
	}
	if s.failed || ctx.Err() != nil {
		return nil
	}
	k := min(n, len(s.queue))
	out := append([]jobKey(nil), s.queue[:k]...)
	s.queue = s.queue[k:]
	s.active += k
	return out
}

// finish records a settled job: broken at its eps (adv true), or not broken,
// in which case the image moves on to the next eps (at the queue's front,
// so that images started finish first).
func (s *scheduler) finish(j *job, broken bool, evals int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	r := s.res
	r.Evals += evals
	switch {
	case broken:
		r.BrokenAt[j.img], r.Target[j.img], r.Pred[j.img] = j.eps, j.brokenTarget, j.brokenPred
		s.settle()
	case j.eps+1 < len(r.Grid):
		s.queue = append([]jobKey{{img: j.img, eps: j.eps + 1}}, s.queue...)
	default:
		r.BrokenAt[j.img] = len(r.Grid)
		s.settle()
	}
	s.cond.Broadcast()
}

func (s *scheduler) settle() {
	s.done++
	if s.progress != nil {
		s.progress(s.done, s.total)
	}
}

// work is one worker: it keeps up to jobs images in flight, stepping all
// their attempts in one batch.
// graderSet holds one worker's graders for 1, 2, 4, ... jobs (and all
// jobs), so that a half-empty batch costs half.
type graderSet []Grader

func newGraderSet(m Model, jobs, rowsPerJob int) (graderSet, error) {
	var gs graderSet
	for size := rowsPerJob; ; size *= 2 {
		size = min(size, jobs*rowsPerJob)
		g, err := m.NewGrader(size)
		if err != nil {
			gs.close()
			return nil, err
		}
		gs = append(gs, g)
		if size == jobs*rowsPerJob {
			return gs, nil
		}
	}
}

// get returns the smallest grader that takes rows rows.
func (gs graderSet) get(rows int) Grader {
	for _, g := range gs {
		if g.Batch() >= rows {
			return g
		}
	}
	return gs[len(gs)-1]
}

func (gs graderSet) close() {
	for _, g := range gs {
		g.Close()
	}
}

func (s *scheduler) work(ctx context.Context, graders graderSet, m Model, jobs, rowsPerJob int) error {
	n, c := m.Inputs(), m.Classes()
	B := jobs * rowsPerJob
	x, tg := make([]float64, B*n), make([]int, B)
	loss, logits, grad := make([]float64, B), make([]float64, B*c), make([]float64, B*n)
	var held []*job
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.isFailed() {
			return nil
		}
		if len(held) < jobs {
			for _, k := range s.take(ctx, jobs-len(held), len(held)) {
				held = append(held, s.newJob(k, n, c))
			}
		}
		if len(held) == 0 {
			return nil
		}
		rows := 0
		for _, j := range held {
			for _, at := range j.rows {
				copy(x[rows*n:(rows+1)*n], at.x)
				tg[rows] = at.target
				rows++
			}
		}
		if err := graders.get(rows).LossGrad(x[:rows*n], tg[:rows], loss, logits, grad); err != nil {
			return err
		}
		off := 0
		kept := held[:0]
		for _, j := range held {
			k := len(j.rows)
			settled, broken := j.advance(s.a, logits[off*c:(off+k)*c], grad[off*n:(off+k)*n], c, n)
			off += k
			if settled {
				s.finish(j, broken, int64(j.evals))
			} else {
				kept = append(kept, j)
			}
		}
		held = kept
	}
}

// attempt is one row of a job: a target and the current iterate.
type attempt struct {
	target int
	x      []float64
}

// job is the attack of one image at one eps: all its attempts in lockstep.
type job struct {
	img, eps, label int
	epsV            float64
	x0              []float64
	rows            []attempt
	step, evals     int
	brokenTarget    int
	brokenPred      int
	brokenX         []float64
	bestMargin      float64 // smallest true-label margin seen at the last step
	bestX           []float64
}

func (s *scheduler) newJob(k jobKey, n, c int) *job {
	img := s.res.Images[k.img]
	j := &job{img: k.img, eps: k.eps, label: s.res.Labels[k.img], epsV: s.res.Grid[k.eps]}
	j.x0 = make([]float64, n)
	for i, v := range s.set.Row(img) {
		j.x0[i] = float64(v)
	}
	j.rows = s.a.attempts(j.x0, j.label, j.epsV, c, s.a.Seed, int64(img), k.eps)
	return j
}

// attempts lays out the rows of one image's job: targets in increasing
// order (or the true label, untargeted), each with 1+Restarts starts (the
// image itself, then random points of the ball).
func (a Attack) attempts(x0 []float64, label int, eps float64, classes int, seed, img int64, epsIdx int) []attempt {
	var targets []int
	if a.Targeted {
		for t := 0; t < classes; t++ {
			if t != label {
				targets = append(targets, t)
			}
		}
	} else {
		targets = []int{label}
	}
	var rows []attempt
	for _, t := range targets {
		for r := 0; r <= a.Restarts; r++ {
			x := append([]float64(nil), x0...)
			if r > 0 {
				rng := rand.New(rand.NewSource(mix(seed, img, int64(epsIdx), int64(t), int64(r))))
				a.randomStart(x, x0, eps, rng)
			}
			rows = append(rows, attempt{target: t, x: x})
		}
	}
	return rows
}

// randomStart moves x to a random point of the ball around x0 (L2: a
// uniformly random direction at a uniformly random radius; L-infinity:
// uniform in the cube), then projects it into the box.
func (a Attack) randomStart(x, x0 []float64, eps float64, rng *rand.Rand) {
	if a.Norm == LInf {
		for i := range x {
			x[i] = x0[i] + eps*(2*rng.Float64()-1)
		}
		ProjectLInfBox(x, x0, eps)
		return
	}
	s := 0.0
	for i := range x {
		x[i] = rng.NormFloat64()
		s += x[i] * x[i]
	}
	f := eps * rng.Float64() / math.Sqrt(s)
	for i := range x {
		x[i] = x0[i] + f*x[i]
	}
	ProjectL2Box(x, x0, eps)
}

func mix(vals ...int64) int64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h ^= uint64(v) + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 31
	}
	return int64(h >> 1)
}

// advance takes the evaluation of the job's current iterates: it settles
// the job when some attempt is misclassified (broken) or the steps are used
// up, and otherwise moves every attempt one projected step.
func (j *job) advance(a Attack, logits, grad []float64, c, n int) (settled, broken bool) {
	j.evals += len(j.rows)
	j.bestMargin = math.Inf(1)
	for r, at := range j.rows {
		lg := logits[r*c : (r+1)*c]
		p := models.Argmax(lg)
		if p != j.label {
			// Rows are in target order, so the first is the lowest target.
			j.brokenTarget, j.brokenPred, j.brokenX = at.target, p, at.x
			if !a.Targeted {
				j.brokenTarget = -1
			}
			return true, true
		}
		if mg := margin(lg, j.label); mg < j.bestMargin {
			j.bestMargin, j.bestX = mg, at.x
		}
	}
	if j.step == a.Steps {
		return true, false
	}
	j.step++
	alpha := a.StepSize * j.epsV
	sign := 1.0 // ascend the true label's loss
	if a.Targeted {
		sign = -1 // descend the target's loss
	}
	for r, at := range j.rows {
		g := grad[r*n : (r+1)*n]
		if a.Norm == LInf {
			for i, v := range g {
				switch {
				case v > 0:
					at.x[i] += sign * alpha
				case v < 0:
					at.x[i] -= sign * alpha
				}
			}
			ProjectLInfBox(at.x, j.x0, j.epsV)
			continue
		}
		s := 0.0
		for _, v := range g {
			s += v * v
		}
		if s == 0 {
			continue // a flat loss (e.g. no node fires): nowhere to go
		}
		f := sign * alpha / math.Sqrt(s)
		for i, v := range g {
			at.x[i] += f * v
		}
		ProjectL2Box(at.x, j.x0, j.epsV)
	}
	return false, false
}

// margin is logit[label] minus the largest other logit.
func margin(logits []float64, label int) float64 {
	o := math.Inf(-1)
	for i, v := range logits {
		if i != label {
			o = max(o, v)
		}
	}
	return logits[label] - o
}

// Example is one attacked image.
type Example struct {
	Original, Adversarial []float64
	Label, Pred           int  // true label, prediction on the adversarial image
	Target                int  // target of the shown attempt (-1: untargeted)
	Broken                bool // the adversarial image is misclassified
}

// Adversarial attacks one image (pixels in [0,1]) at one eps and returns
// the first misclassified iterate (lowest target among the attempts that
// succeed first), or, when none succeeds, the last iterate of the attempt
// closest to misclassification.
func Adversarial(m Model, x0 []float64, label int, eps float64, a Attack) (*Example, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if math.IsNaN(eps) || math.IsInf(eps, 0) || eps < 0 {
		return nil, param.Errorf("eps", "%v: want a finite value >= 0", eps)
	}
	n, c := m.Inputs(), m.Classes()
	if len(x0) != n {
		return nil, fmt.Errorf("attacks: image has %d pixels, the model %d inputs", len(x0), n)
	}
	if label < 0 || label >= c {
		return nil, fmt.Errorf("attacks: label %d outside the model's %d classes", label, c)
	}
	for i, v := range x0 {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("attacks: pixel %d is %v, outside [0,1]", i, v)
		}
	}
	j := &job{label: label, epsV: eps, x0: append([]float64(nil), x0...)}
	j.rows = a.attempts(j.x0, label, eps, c, a.Seed, 0, 0)
	rows := len(j.rows)
	g, err := m.NewGrader(rows)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	x, tg := make([]float64, rows*n), make([]int, rows)
	loss, logits, grad := make([]float64, rows), make([]float64, rows*c), make([]float64, rows*n)
	for {
		for r, at := range j.rows {
			copy(x[r*n:(r+1)*n], at.x)
			tg[r] = at.target
		}
		if err := g.LossGrad(x, tg, loss, logits, grad); err != nil {
			return nil, err
		}
		if eps == 0 {
			j.step = a.Steps // no room to move: only the clean check
		}
		settled, broken := j.advance(a, logits, grad, c, n)
		if !settled {
			continue
		}
		ex := &Example{Original: j.x0, Label: label, Broken: broken}
		if broken {
			ex.Adversarial, ex.Pred, ex.Target = append([]float64(nil), j.brokenX...), j.brokenPred, j.brokenTarget
		} else {
			ex.Adversarial, ex.Pred, ex.Target = append([]float64(nil), j.bestX...), label, -1
		}
		return ex, nil
	}
}
