package plasticity

import (
	"fmt"
	"math"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/graph"
	"github.com/plasticity-lab/plastic/models"
	"github.com/plasticity-lab/plastic/optimizer"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// inner is the graph.InnerTrainer of meta-learning: a float64 engine that
// records the code sequence of a training pass over one batch and turns
// dLoss/d(final weights) into dLoss/d(rule tables).
type inner struct {
	e       *engine[float64]
	targets []Target // op input order
	x       []float32
	y       []int
	out     []float64 // flat W | U | A of the last pass
	racc    []float64 // nc x v scratch
	gbuf    []float64 // row-major gradient scratch
	flat    []float64 // transposed output, reused
}

func (in *inner) OutSize() int {
	e := in.e
	s := e.v*e.v + e.m*e.v
	if e.in != nil {
		s += e.v * e.n
	}
	return s
}

func (in *inner) TrainFlat(tables [][]float64) ([]float64, error) {
	e := in.e
	for i, t := range in.targets {
		var dst []float64
		switch t {
		case TargetRNN:
			dst = e.rnn
		case TargetOutput:
			dst = e.out
		case TargetInput:
			dst = e.in
		}
		if len(tables[i]) != len(dst) {
			return nil, fmt.Errorf("PlasticTrain: %s table has %d entries, want %d", t, len(tables[i]), len(dst))
		}
		copy(dst, tables[i])
	}
	e.reset()
	e.rec.reset()
	n := e.n
	for i, y := range in.y {
		e.learn(in.x[i*n:(i+1)*n], y)
	}
	e.flush()
	in.out = in.out[:0]
	in.out = append(in.out, e.w...)
	in.out = append(in.out, e.u...)
	if e.in != nil {
		in.out = append(in.out, e.amin...)
	}
	// The graph takes the weights transposed (models.BuildLogitsT).
	v, m, n := e.v, e.m, e.n
	if len(in.flat) != len(in.out) {
		in.flat = make([]float64, len(in.out))
	}
	flat := in.flat
	transpose(flat[:v*v], e.w, v, v)
	transpose(flat[v*v:v*v+m*v], e.u, m, v)
	if e.in != nil {
		transpose(flat[v*v+m*v:], e.amin, v, n)
	}
	return flat, nil
}

// transpose writes the cols x rows transpose of the rows x cols matrix src to dst.
func transpose(dst, src []float64, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j, x := range src[i*cols : (i+1)*cols] {
			dst[j*rows+i] = x
		}
	}
}

// BackwardFlat computes dLoss/d(table) from dLoss/d(W|U|A).
//
// Additive rules: W_final = W0 + eta * sum over updated examples of
// DeltaW(codes; r), linear in r, so
//
//	dL/dr[a][b] = eta * sum_e sum_{i: code_i=b} sum_{j: code_j=a} dL/dW[i][j].
//
// Multiplicative rules: W_final = W0 .* prod_e (1 + eta r[code_j][code_i]),
// so the same sums run over dL/dW[i][j] * W_final[i][j] and entry (a, b)
// is scaled by eta / (1 + eta r[a][b]). The output and input rules work
// the same way with their own index maps.
func (in *inner) BackwardFlat(i int, g []float64) ([]float64, error) {
	e := in.e
	v, n, m, nc := e.v, e.n, e.m, e.nc
	if len(g) != len(in.out) {
		return nil, fmt.Errorf("PlasticTrain gradient has %d entries, want %d", len(g), len(in.out))
	}
	// g is the gradient of the transposed layout; back to row-major, with
	// the masks applied (the graph multiplies by no mask: W and A are
	// stored masked, so their non-edge entries are not weights).
	if len(in.gbuf) < len(g) {
		in.gbuf = make([]float64, len(g))
	}
	gw, gu, ga := in.gbuf[:v*v], in.gbuf[v*v:v*v+m*v], in.gbuf[v*v+m*v:len(g)]
	transpose(gw, g[:v*v], v, v)
	transpose(gu, g[v*v:v*v+m*v], v, m)
	if len(ga) > 0 {
		transpose(ga, g[v*v+m*v:], n, v)
	}
	for k, mk := range e.gmask {
		gw[k] *= mk
	}
	fw, fu, fa := in.out[:v*v], in.out[v*v:v*v+m*v], in.out[v*v+m*v:]
	prod := func(a, b []float64) []float64 {
		if !e.mult {
			return a
		}
		o := make([]float64, len(a))
		for k := range a {
			o[k] = a[k] * b[k]
		}
		return o
	}
	rec := e.rec
	ne := len(rec.labels)
	var res, tab []float64
	switch in.targets[i] {
	case TargetRNN:
		tab = e.rnn
		res = make([]float64, nc*nc)
		gw = prod(gw, fw)
		if len(in.racc) < nc*v {
			in.racc = make([]float64, nc*v)
		}
		racc := in.racc[:nc*v]
		for ex := 0; ex < ne; ex++ {
			codes := rec.codes[ex*v : (ex+1)*v]
			clear(racc)
			for r, cr := range codes {
				add64(racc[int(cr)*v:(int(cr)+1)*v], gw[r*v:(r+1)*v])
			}
			for b := 0; b < nc; b++ {
				for j, cj := range codes {
					res[int(cj)*nc+b] += racc[b*v+j]
				}
			}
		}
	case TargetOutput:
		tab = e.out
		res = make([]float64, nc*2)
		gu = prod(gu, fu)
		for ex := 0; ex < ne; ex++ {
			codes := rec.codes[ex*v : (ex+1)*v]
			label, pred := rec.labels[ex], rec.preds[ex]
			for c := 0; c < m; c++ {
				b := -1
				switch {
				case c == label:
					b = 0
				case e.all || c == pred:
					b = 1
				}
				if b < 0 {
					continue
				}
				for j, cj := range codes {
					res[int(cj)*2+b] += gu[c*v+j]
				}
				if c == label && pred == label && e.both && !e.all {
					// Scheme.BothColumns: the label row also got column 1
					for j, cj := range codes {
						res[int(cj)*2+1] += gu[c*v+j]
					}
				}
			}
		}
	case TargetInput:
		tab = e.in
		res = make([]float64, nc)
		ga = prod(ga, fa)
		rows := make([]float64, v)
		for r := 0; r < v; r++ {
			rows[r] = dot(e.inMask[r*n:(r+1)*n], ga[r*n:(r+1)*n])
		}
		for ex := 0; ex < ne; ex++ {
			for r, cr := range rec.codes[ex*v : (ex+1)*v] {
				res[cr] += rows[r]
			}
		}
	default:
		return nil, fmt.Errorf("PlasticTrain: no table %d", i)
	}
	for k := range res {
		if e.mult {
			res[k] *= e.eta / (1 + e.eta*tab[k])
		} else {
			res[k] *= e.eta
		}
	}
	return res, nil
}

// MetaConfig configures meta-learning of rules.
type MetaConfig struct {
	Batch       int      // examples per inner training pass and outer step (100)
	LR          float64  // Adam learning rate (1e-2)
	WeightDecay float64  // L2 added to the gradient (0.01)
	Loss        string   // graph.LossCE (default), graph.LossMSE, graph.LossSoftmaxCE
	Learn       []Target // rules whose parameters are learned; others stay fixed
	Scheme      Scheme
	// Device, when set, runs each step's forward and rule gradient on it
	// (float32; device_meta.go): the inner training, the batch through
	// the trained network, the loss and its gradient with respect to the
	// rule tables. nil: the CPU, in float64.
	Device *cuda.Context
}

// DefaultMeta returns the paper's settings: batches of 100, Adam lr 1e-2
// with L2 0.01, cross-entropy on the logits.
func DefaultMeta() MetaConfig {
	return MetaConfig{Batch: 100, LR: 1e-2, WeightDecay: 0.01, Loss: graph.LossCE}
}

// MetaLearner learns plasticity rules by gradient descent: for each batch
// it resets the network, trains it with the current rules one example at a
// time (the PlasticTrain op), runs the whole batch through the trained
// network (the Gorgonia forward graph of the RNN, with cap ops), and
// differentiates the loss with respect to the learned rule parameters
// (with MetaConfig.Device all of that but the rules' parameterization runs
// on the device).
type MetaLearner struct {
	cfg    MetaConfig
	net    *models.RNN
	rules  *RuleSet
	in     *inner
	vm     G.VM
	x, y   *G.Node
	loss   *G.Node
	params G.Nodes
	values [][]float64 // parameter slices, same order as params
	opt    optimizer.Optimizer
	dev    *devInner // MetaConfig.Device's inner trainer
}

// NewMetaLearner builds the meta-learning graph for net (its masks and A
// are used; W, U, b are reset for every batch) and the rule set rs, whose
// rules named in cfg.Learn are updated in place by Step.
func NewMetaLearner(net *models.RNN, rs *RuleSet, cfg MetaConfig) (*MetaLearner, error) {
	if err := CheckRules(net, rs); err != nil {
		return nil, err
	}
	if err := cfg.Scheme.validate(); err != nil {
		return nil, err
	}
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("meta-learning: batch %d, want >= 1", cfg.Batch)
	}
	if len(cfg.Learn) == 0 {
		return nil, fmt.Errorf("meta-learning: no rule to learn (want some of rnn, output, input)")
	}
	learn := map[Target]bool{}
	for _, t := range cfg.Learn {
		learn[t] = true
	}
	for t := range learn {
		if ruleOf(rs, t) == nil {
			return nil, fmt.Errorf("meta-learning: asked to learn the %s rule but the rule set has none", t)
		}
	}
	net = net.Clone()
	net.Reset()
	e := newEngine[float64](net, rs, cfg.Scheme)
	e.rec = &record{}
	ml := &MetaLearner{cfg: cfg, net: net, rules: rs, in: &inner{e: e}}
	g := G.NewGraph()
	var tables G.Nodes
	for _, r := range rs.Rules() {
		t := r.Target()
		ml.in.targets = append(ml.in.targets, t)
		if learn[t] {
			tab, ps := r.graphTable(g, string(t)+"_rule")
			tables = append(tables, tab)
			ml.params = append(ml.params, ps...)
			ml.values = append(ml.values, r.Params()...)
		} else {
			vals := append([]float64(nil), r.Table()...)
			tables = append(tables, G.NewVector(g, tensor.Float64, G.WithShape(len(vals)), G.WithName(string(t)+"_fixed"),
				G.WithValue(tensor.New(tensor.WithShape(len(vals)), tensor.WithBacking(vals)))))
		}
	}
	if cfg.Device != nil {
		var err error
		if ml.loss, err = ml.deviceLoss(tables); err != nil {
			return nil, err
		}
		if err := ml.finish(g); err != nil {
			return nil, err
		}
		return ml, nil
	}
	flat, err := graph.PlasticTrain(ml.in, tables...)
	if err != nil {
		return nil, err
	}
	v, n, m, B := net.Nodes, net.Inputs, net.Labels, cfg.Batch
	part := func(off, rows, cols int) (*G.Node, error) {
		s, err := G.Slice(flat, G.S(off, off+rows*cols))
		if err != nil {
			return nil, err
		}
		return G.Reshape(s, tensor.Shape{rows, cols})
	}
	// The op's output is W^T | U^T | A^T (masked), what BuildLogitsT takes.
	var p models.TransposedParams
	if net.T > 1 {
		if p.WT, err = part(0, v, v); err != nil {
			return nil, err
		}
	}
	if p.UT, err = part(v*v, v, m); err != nil {
		return nil, err
	}
	if rs.Input != nil {
		if p.AT, err = part(v*v+m*v, n, v); err != nil {
			return nil, err
		}
	} else {
		at := make([]float64, n*v)
		for i := 0; i < v; i++ {
			for j := 0; j < n; j++ {
				at[j*v+i] = net.A[i*n+j] * net.InMask[i*n+j]
			}
		}
		p.AT = G.NewMatrix(g, tensor.Float64, G.WithShape(n, v), G.WithName("AT"),
			G.WithValue(tensor.New(tensor.WithShape(n, v), tensor.WithBacking(at))))
	}
	if net.Multiplicative { // b resets to 1 (additive: 0, left out)
		ones := make([]float64, v)
		for i := range ones {
			ones[i] = 1
		}
		p.B = G.NewVector(g, tensor.Float64, G.WithShape(v), G.WithName("b"),
			G.WithValue(tensor.New(tensor.WithShape(v), tensor.WithBacking(ones))))
	}
	ml.x = G.NewMatrix(g, tensor.Float64, G.WithShape(B, n), G.WithName("X"))
	ml.y = G.NewMatrix(g, tensor.Float64, G.WithShape(B, m), G.WithName("Y"))
	logits, err := net.BuildLogitsT(ml.x, p)
	if err != nil {
		return nil, err
	}
	if ml.loss, err = graph.Loss(cfg.Loss, logits, ml.y); err != nil {
		return nil, err
	}
	if err := ml.finish(g); err != nil {
		return nil, err
	}
	return ml, nil
}

// finish adds the gradient of the loss to g and makes the machine and the
// optimizer.
func (ml *MetaLearner) finish(g *G.ExprGraph) error {
	if _, err := G.Grad(ml.loss, ml.params...); err != nil {
		return fmt.Errorf("meta-learning graph: %w", err)
	}
	ml.vm = G.NewTapeMachine(g, G.BindDualValues(ml.params...))
	oc := optimizer.DefaultConfig()
	oc.Name, oc.LR, oc.WeightDecay = optimizer.NameAdam, ml.cfg.LR, ml.cfg.WeightDecay
	var err error
	if ml.opt, err = optimizer.New(oc); err != nil {
		return fmt.Errorf("meta-learning: %w", err)
	}
	return nil
}

func ruleOf(rs *RuleSet, t Target) Rule {
	switch t {
	case TargetRNN:
		return rs.RNN
	case TargetOutput:
		return rs.Output
	case TargetInput:
		return rs.Input
	}
	return nil
}

// Rules is the rule set being learned (updated in place by Step).
func (ml *MetaLearner) Rules() *RuleSet { return ml.rules }

// Close releases the graph's machine (and the device's memory).
func (ml *MetaLearner) Close() {
	ml.vm.Close()
	if ml.dev != nil {
		ml.dev.mp.Free()
	}
}

// LossGrad runs one batch (x: Batch rows of n features, y: Batch labels)
// and returns the loss after rule-based training on it and the gradient
// with respect to every learned parameter slice (Params order of the
// learned rules, in the order rnn, output, input). Nothing is updated.
func (ml *MetaLearner) LossGrad(x []float32, y []int) (float64, [][]float64, error) {
	B, n, m := ml.cfg.Batch, ml.net.Inputs, ml.net.Labels
	if len(y) != B || len(x) != B*n {
		return 0, nil, fmt.Errorf("meta-learning: batch of %d labels and %d features, want %d and %d", len(y), len(x), B, B*n)
	}
	xs := make([]float64, B*n)
	for i, v := range x {
		xs[i] = float64(v)
	}
	oh := make([]float64, B*m)
	for i, c := range y {
		if c < 0 || c >= m {
			return 0, nil, fmt.Errorf("meta-learning: label %d outside [0, %d)", c, m)
		}
		oh[i*m+c] = 1
	}
	if ml.dev != nil {
		ml.dev.setBatch(x, y)
	} else {
		if err := G.Let(ml.x, tensor.New(tensor.WithShape(B, n), tensor.WithBacking(xs))); err != nil {
			return 0, nil, err
		}
		if err := G.Let(ml.y, tensor.New(tensor.WithShape(B, m), tensor.WithBacking(oh))); err != nil {
			return 0, nil, err
		}
	}
	ml.in.x, ml.in.y = x, y
	// The tape machine adds each run's derivatives to the parameters' dual
	// values; without zeroing them every call would return the sum of the
	// gradients of all batches so far (and Adam would follow that sum).
	for _, p := range ml.params {
		if g, err := p.Grad(); err == nil {
			if gt, ok := g.(tensor.Tensor); ok {
				gt.Zero()
			}
		}
	}
	defer ml.vm.Reset()
	if err := ml.vm.RunAll(); err != nil {
		return 0, nil, err
	}
	loss := ml.loss.Value().Data().(float64)
	grads := make([][]float64, len(ml.params))
	for i, p := range ml.params {
		gv, err := p.Grad()
		if err != nil {
			return 0, nil, err
		}
		grads[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	return loss, grads, nil
}

// Step runs LossGrad and takes one step of the optimizer package's Adam
// (PyTorch semantics, L2 weight decay added to the gradient) on the
// learned parameters.
func (ml *MetaLearner) Step(x []float32, y []int) (float64, error) {
	loss, grads, err := ml.LossGrad(x, y)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("meta-learning: loss is %v", loss)
	}
	vgs := make([]G.ValueGrad, len(grads))
	for i, g := range grads {
		p := ml.values[i]
		vgs[i] = valueGrad{
			v: tensor.New(tensor.WithShape(len(p)), tensor.WithBacking(p)),
			g: tensor.New(tensor.WithShape(len(g)), tensor.WithBacking(g)),
		}
	}
	if err := ml.opt.Step(vgs); err != nil {
		return loss, fmt.Errorf("meta-learning: %w", err)
	}
	return loss, nil
}

// valueGrad hands a parameter slice and its gradient to the optimizer
// (which updates the slice, i.e. the rule, in place).
type valueGrad struct{ v, g *tensor.Dense }

func (p valueGrad) Value() G.Value         { return p.v }
func (p valueGrad) Grad() (G.Value, error) { return p.g, nil }
