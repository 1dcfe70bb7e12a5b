package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/graph"
)

// DeviceNet is a classifier's network on a device (cuda.Context: a GPU, or
// the SIMT emulator in tests): its parameters and gradients in two flat
// device arrays (tensor i at Tensors()[i].Offset, the model's order), the
// batch-norm running statistics, and every activation of a batch of up to
// MaxBatch examples. Its program is read off the model's own graph (the
// ops the CPU session runs: dense, conv, batch norm, max/average pooling,
// flatten, residual add, ReLU), so the device runs exactly the CPU
// architecture; each op is one or a few kernels plus cuBLAS GEMMs, and a
// step touches the host only to upload the batch and download the
// loss/accuracy counters. Dropout uses the CPU's counter-based streams
// (graph/dropout.go), so a seed gives the same masks on both.
type DeviceNet struct {
	c        *cuda.Context
	m        *net
	maxBatch int

	p, g    *cuda.Array // flat parameters and gradients
	tensors []DeviceTensor
	bufs    []*cuda.Array // running statistics, the model's buffer order

	vals []*devVal
	ops  []devOp
	in   int // value index of the input
	out  int // value index of the logits

	x, labels       *cuda.Array // one batch: inputs, int32 labels
	probs, loss     *cuda.Array
	col, cn, tmp    *cuda.Array // conv patches, conv GEMM result, gradient scratch
	counters        *cuda.Array // loss sum, correct count
	own             []*cuda.Array
	classes, inSize int
}

// DeviceTensor places one parameter tensor in the flat arrays.
type DeviceTensor struct {
	Name   string
	Shape  []int
	Offset int
	N      int
}

// devVal is one value of the program: an activation of size per example.
type devVal struct {
	size  int   // elements per example
	shape []int // per example: [C,H,W] or [F]
	buf   *cuda.Array
	grad  *cuda.Array // nil: no gradient needed (the input)
}

// devOp is one op of the program.
type devOp struct {
	kind   string
	in     []int // value indices
	out    int
	params []int // parameter tensor indices
	accum  []bool
	// dense
	relu bool
	drop float64
	// conv
	geom    graph.ConvShape
	hasBias bool
	needDX  bool
	bnIdx   [2]int // running mean, var buffer indices
	save    [2]*cuda.Array
	argmax  *cuda.Array
	poolK   int
}

// NewDeviceNet uploads the classifier's parameters and running statistics
// and prepares its program for batches of up to maxBatch examples.
func NewDeviceNet(c *cuda.Context, cl Classifier, maxBatch int) (*DeviceNet, error) {
	n, ok := cl.(*net)
	if !ok {
		return nil, fmt.Errorf("models: %T is not a model of this package", cl)
	}
	if n.dt != tensor.Float32 {
		return nil, fmt.Errorf("models: the device runs float32 models, %s is %v", n.name, n.dt)
	}
	if maxBatch < 1 {
		return nil, fmt.Errorf("models: device batch %d, want >= 1", maxBatch)
	}
	d := &DeviceNet{c: c, m: n, maxBatch: maxBatch, classes: n.classes, inSize: 1}
	for _, s := range n.in {
		d.inSize *= s
	}
	if err := d.build(); err != nil {
		d.Free()
		return nil, err
	}
	if err := d.alloc(); err != nil {
		d.Free()
		return nil, err
	}
	if err := d.Upload(); err != nil {
		d.Free()
		return nil, err
	}
	return d, nil
}

// build reads the program off the model's graph for a batch of one.
func (d *DeviceNet) build() error {
	n := d.m
	g := G.NewGraph()
	xT := tensor.New(tensor.WithShape(append([]int{1}, n.in...)...), tensor.Of(n.dt))
	x := G.NodeFromAny(g, xT, G.WithName("x"))
	var ds graph.DropStream
	b := &builder{n: n, g: g, train: false, drop: &ds, input: x}
	logits, err := n.arch(b, x)
	if err != nil {
		return fmt.Errorf("models: building %s: %w", n.name, err)
	}
	paramIdx := map[*G.Node]int{}
	for i, p := range b.nodes {
		paramIdx[p] = i
	}
	off := 0
	for _, p := range n.params {
		sz := p.Value.Shape().TotalSize()
		d.tensors = append(d.tensors, DeviceTensor{Name: p.Name, Shape: append([]int(nil), p.Value.Shape()...), Offset: off, N: sz})
		off += sz
	}
	bufIdx := map[*tensor.Dense]int{}
	for i, bt := range n.buffers {
		bufIdx[bt.Value] = i
	}
	valOf := map[*G.Node]int{}
	var visit func(nd *G.Node) (int, error)
	newVal := func(nd *G.Node) int {
		sh := []int(nd.Shape())
		v := &devVal{shape: append([]int(nil), sh[1:]...), size: 1}
		for _, s := range sh[1:] {
			v.size *= s
		}
		d.vals = append(d.vals, v)
		valOf[nd] = len(d.vals) - 1
		return len(d.vals) - 1
	}
	visit = func(nd *G.Node) (int, error) {
		if i, ok := valOf[nd]; ok {
			return i, nil
		}
		if nd == x {
			d.in = newVal(nd)
			return d.in, nil
		}
		if _, isParam := paramIdx[nd]; isParam {
			return -1, fmt.Errorf("models: parameter %s used as an activation", nd.Name())
		}
		op := devOp{}
		var inputs []*G.Node
		for _, ch := range children(nd) {
			if pi, isParam := paramIdx[ch]; isParam {
				op.params = append(op.params, pi)
				continue
			}
			inputs = append(inputs, ch)
		}
		for _, ch := range inputs {
			vi, err := visit(ch)
			if err != nil {
				return -1, err
			}
			op.in = append(op.in, vi)
		}
		l, ok := graph.LayerOf(nd.Op())
		if !ok {
			return -1, fmt.Errorf("models: op %v has no device implementation", nd.Op())
		}
		op.kind, op.relu, op.drop, op.needDX = l.Kind, l.ReLU, l.Dropout, l.NeedDX
		op.geom, op.hasBias, op.poolK = l.Conv, l.Bias, l.PoolK
		if l.Kind == "bn" {
			mi, ok1 := bufIdx[l.RunMean]
			vi, ok2 := bufIdx[l.RunVar]
			if !ok1 || !ok2 {
				return -1, fmt.Errorf("models: batch norm whose running statistics are not model buffers")
			}
			op.bnIdx = [2]int{mi, vi}
		}
		op.out = newVal(nd)
		d.ops = append(d.ops, op)
		return op.out, nil
	}
	if d.out, err = visit(logits); err != nil {
		return err
	}
	// Gradients: every value but the input; the first write of a value's
	// gradient in backward order stores, later ones accumulate.
	written := map[int]bool{d.out: true}
	for i := len(d.ops) - 1; i >= 0; i-- {
		op := &d.ops[i]
		op.accum = make([]bool, len(op.in))
		for j, vi := range op.in {
			op.accum[j] = written[vi]
			written[vi] = true
		}
	}
	return nil
}

// children are the arguments of an op node, in order.
func children(nd *G.Node) []*G.Node {
	var out []*G.Node
	it := nd.Graph().From(nd.ID())
	for it.Next() {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}

func (d *DeviceNet) allocArr(n int) (*cuda.Array, error) {
	a, err := d.c.Alloc(max(n, 1))
	if err != nil {
		return nil, err
	}
	d.own = append(d.own, a)
	return a, nil
}

// alloc allocates parameters, gradients, activations and scratch.
func (d *DeviceNet) alloc() error {
	B := d.maxBatch
	total := 0
	for _, t := range d.tensors {
		total += t.N
	}
	var err error
	if d.p, err = d.allocArr(total); err != nil {
		return err
	}
	if d.g, err = d.allocArr(total); err != nil {
		return err
	}
	for _, bt := range d.m.buffers {
		a, err := d.allocArr(bt.Value.Shape().TotalSize())
		if err != nil {
			return err
		}
		d.bufs = append(d.bufs, a)
	}
	maxVal, maxCol, maxCN := 0, 1, 1
	for i, v := range d.vals {
		maxVal = max(maxVal, v.size)
		if v.buf, err = d.allocArr(B * v.size); err != nil {
			return err
		}
		if i != d.in {
			if v.grad, err = d.allocArr(B * v.size); err != nil {
				return err
			}
		}
	}
	for i := range d.ops {
		op := &d.ops[i]
		switch op.kind {
		case "conv":
			gm := op.geom
			maxCol = max(maxCol, gm.PatchRows()*B*gm.PatchCols())
			maxCN = max(maxCN, gm.Co*B*gm.PatchCols())
		case "bn":
			c := d.vals[op.in[0]].shape[0]
			for k := range op.save {
				if op.save[k], err = d.allocArr(c); err != nil {
					return err
				}
			}
		case "maxpool":
			if op.argmax, err = d.allocArr(B * d.vals[op.out].size); err != nil {
				return err
			}
		}
	}
	for _, a := range []struct {
		dst **cuda.Array
		n   int
	}{{&d.x, B * d.inSize}, {&d.labels, B}, {&d.probs, B * d.classes}, {&d.loss, B}, {&d.col, maxCol}, {&d.cn, maxCN},
		{&d.tmp, B * maxVal}, {&d.counters, 2}} {
		if *a.dst, err = d.allocArr(a.n); err != nil {
			return err
		}
	}
	return nil
}

// Free returns the net's device memory to the pool.
func (d *DeviceNet) Free() error {
	err := d.c.Free(d.own...)
	d.own = nil
	return err
}

// Params and Grads are the flat parameter and gradient arrays; Tensors
// places each parameter tensor in them.
func (d *DeviceNet) Params() *cuda.Array     { return d.p }
func (d *DeviceNet) Grads() *cuda.Array      { return d.g }
func (d *DeviceNet) Tensors() []DeviceTensor { return append([]DeviceTensor(nil), d.tensors...) }
func (d *DeviceNet) Context() *cuda.Context  { return d.c }
func (d *DeviceNet) paramView(i int) *cuda.Array {
	return view(d.p, d.tensors[i].Offset, d.tensors[i].N)
}
func (d *DeviceNet) gradView(i int) *cuda.Array {
	return view(d.g, d.tensors[i].Offset, d.tensors[i].N)
}

// view is a checked view whose bounds are right by construction.
func view(a *cuda.Array, off, n int) *cuda.Array {
	v, err := a.View(off, n)
	if err != nil {
		panic(err)
	}
	return v
}

// Upload copies the model's parameters and running statistics to the device.
func (d *DeviceNet) Upload() error {
	for i, p := range d.m.params {
		if err := cuda.CopyIn(d.c, d.paramView(i), p.Value.Data().([]float32)); err != nil {
			return err
		}
	}
	for i, b := range d.m.buffers {
		if err := cuda.CopyIn(d.c, d.bufs[i], b.Value.Data().([]float32)); err != nil {
			return err
		}
	}
	return nil
}

// Download copies the device's parameters and running statistics into the
// model's tensors (for checkpoints and the CPU's own use of the model).
func (d *DeviceNet) Download() error {
	all, err := cuda.Download[float32](d.c, d.p)
	if err != nil {
		return err
	}
	for i, p := range d.m.params {
		t := d.tensors[i]
		copy(p.Value.Data().([]float32), all[t.Offset:t.Offset+t.N])
	}
	for i, b := range d.m.buffers {
		v, err := cuda.Download[float32](d.c, d.bufs[i])
		if err != nil {
			return err
		}
		copy(b.Value.Data().([]float32), v)
	}
	return nil
}

// Batch is what one step or evaluation batch reports, downloaded from the
// device counters.
type Batch struct {
	LossSum float64 // summed cross-entropy of the batch's rows
	Correct int     // rows whose first maximal logit is the label
}

// TrainStep uploads a batch (n <= MaxBatch examples, row-major inputs,
// labels in [0, classes)), runs the forward pass in training mode
// (dropout from drop, whose counter advances as the CPU session's does;
// batch statistics, running statistics updated), the loss and the
// backward pass into Grads, and returns the batch's counters.
func (d *DeviceNet) TrainStep(x []float32, labels []int, drop *graph.DropStream) (Batch, error) {
	n := len(labels)
	if err := d.setBatch(x, labels); err != nil {
		return Batch{}, err
	}
	if err := d.c.Zero(d.counters); err != nil {
		return Batch{}, err
	}
	if err := d.forward(view(d.x, 0, n*d.inSize), n, true, drop); err != nil {
		return Batch{}, err
	}
	if err := d.lossAndCounters(n); err != nil {
		return Batch{}, err
	}
	if err := d.backward(n); err != nil {
		return Batch{}, err
	}
	return d.readCounters()
}

func (d *DeviceNet) setBatch(x []float32, labels []int) error {
	n := len(labels)
	if n < 1 || n > d.maxBatch {
		return fmt.Errorf("models: device batch of %d examples, want 1..%d", n, d.maxBatch)
	}
	if len(x) != n*d.inSize {
		return fmt.Errorf("models: %d input values for %d examples of %d", len(x), n, d.inSize)
	}
	lab := make([]int32, n)
	for i, l := range labels {
		if l < 0 || l >= d.classes {
			return fmt.Errorf("models: label %d of example %d is not a class in [0,%d)", l, i, d.classes)
		}
		lab[i] = int32(l)
	}
	if err := cuda.CopyIn(d.c, view(d.x, 0, len(x)), x); err != nil {
		return err
	}
	return cuda.CopyIn(d.c, view(d.labels, 0, n), lab)
}

func (d *DeviceNet) readCounters() (Batch, error) {
	v, err := cuda.Download[float32](d.c, d.counters)
	if err != nil {
		return Batch{}, err
	}
	return Batch{LossSum: float64(v[0]), Correct: int(v[1])}, nil
}

func (d *DeviceNet) lossAndCounters(n int) error {
	lg := view(d.vals[d.out].buf, 0, n*d.classes)
	lab, probs, loss := view(d.labels, 0, n), view(d.probs, 0, n*d.classes), view(d.loss, 0, n)
	if err := d.c.SoftmaxXentFwd(n, d.classes, lg, lab, probs, loss); err != nil {
		return err
	}
	one := cuda.Launch{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{cuda.BlockSize, 1, 1}}
	return d.c.Launch("pl_xent_stats", one, int32(n), int32(d.classes), lg.Ptr(), lab.Ptr(), loss.Ptr(), d.counters.Ptr())
}

// DeviceSet is a data set resident on the device (evaluation without
// per-batch uploads).
type DeviceSet struct {
	x, y *cuda.Array
	n    int
}

// UploadSet copies n examples (row-major inputs, labels) to the device.
func (d *DeviceNet) UploadSet(x []float32, labels []int) (*DeviceSet, error) {
	n := len(labels)
	if n == 0 || len(x) != n*d.inSize {
		return nil, fmt.Errorf("models: %d input values for %d examples of %d", len(x), n, d.inSize)
	}
	lab := make([]int32, n)
	for i, l := range labels {
		if l < 0 || l >= d.classes {
			return nil, fmt.Errorf("models: label %d of example %d is not a class in [0,%d)", l, i, d.classes)
		}
		lab[i] = int32(l)
	}
	xa, err := cuda.Upload(d.c, x)
	if err != nil {
		return nil, err
	}
	ya, err := cuda.Upload(d.c, lab)
	if err != nil {
		d.c.Free(xa)
		return nil, err
	}
	return &DeviceSet{x: xa, y: ya, n: n}, nil
}

// Free releases the set's device memory.
func (s *DeviceSet) Free(c *cuda.Context) error { return c.Free(s.x, s.y) }

// Evaluate runs the set through the net in evaluation mode (no dropout,
// running statistics) in batches of MaxBatch and returns the summed
// cross-entropy and the number of correct rows (one download).
func (d *DeviceNet) Evaluate(s *DeviceSet) (Batch, error) {
	if err := d.c.Zero(d.counters); err != nil {
		return Batch{}, err
	}
	for lo := 0; lo < s.n; lo += d.maxBatch {
		n := min(d.maxBatch, s.n-lo)
		if err := d.forward(view(s.x, lo*d.inSize, n*d.inSize), n, false, nil); err != nil {
			return Batch{}, err
		}
		lg := view(d.vals[d.out].buf, 0, n*d.classes)
		lab, probs, loss := view(s.y, lo, n), view(d.probs, 0, n*d.classes), view(d.loss, 0, n)
		if err := d.c.SoftmaxXentFwd(n, d.classes, lg, lab, probs, loss); err != nil {
			return Batch{}, err
		}
		one := cuda.Launch{Grid: [3]uint32{1, 1, 1}, Block: [3]uint32{cuda.BlockSize, 1, 1}}
		if err := d.c.Launch("pl_xent_stats", one, int32(n), int32(d.classes), lg.Ptr(), lab.Ptr(), loss.Ptr(), d.counters.Ptr()); err != nil {
			return Batch{}, err
		}
	}
	return d.readCounters()
}

// Logits runs x (n examples) in evaluation mode and downloads the logits
// (tests and prediction).
func (d *DeviceNet) Logits(x []float32) ([]float32, error) {
	n := len(x) / d.inSize
	if n < 1 || n > d.maxBatch || len(x) != n*d.inSize {
		return nil, fmt.Errorf("models: %d input values: want 1..%d examples of %d", len(x), d.maxBatch, d.inSize)
	}
	if err := cuda.CopyIn(d.c, view(d.x, 0, len(x)), x); err != nil {
		return nil, err
	}
	if err := d.forward(view(d.x, 0, len(x)), n, false, nil); err != nil {
		return nil, err
	}
	return cuda.Download[float32](d.c, view(d.vals[d.out].buf, 0, n*d.classes))
}

func (d *DeviceNet) act(v, n int) *cuda.Array  { return view(d.vals[v].buf, 0, n*d.vals[v].size) }
func (d *DeviceNet) grad(v, n int) *cuda.Array { return view(d.vals[v].grad, 0, n*d.vals[v].size) }

func gemmCall(tA, tB bool, m, n, k int) cuda.GemmCall {
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	c, err := cuda.RowMajorGemm(tA, tB, m, n, k, lda, ldb, n)
	if err != nil {
		panic(err)
	}
	return c
}

func convArgs(g graph.ConvShape, n int) []any {
	return []any{int32(n), int32(g.C), int32(g.H), int32(g.W), int32(g.K), int32(g.K), int32(g.P), int32(g.P),
		int32(g.S), int32(g.S), int32(g.Ho), int32(g.Wo)}
}

func (d *DeviceNet) linear(kernel string, n int, args ...any) error {
	l, err := cuda.Linear(int64(n), cuda.BlockSize)
	if err != nil {
		return err
	}
	return d.c.Launch(kernel, l, args...)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// poolGeom is the cuda geometry of a max pool (window k, stride k) or of
// the global average pool (window = the whole plane).
func (d *DeviceNet) poolGeom(op *devOp, n int) cuda.ConvGeom {
	s := d.vals[op.in[0]].shape
	if op.kind == "gap" {
		return cuda.ConvGeom{N: n, C: s[0], H: s[1], W: s[2], KH: s[1], KW: s[2], SH: 1, SW: 1}
	}
	return cuda.ConvGeom{N: n, C: s[0], H: s[1], W: s[2], KH: op.poolK, KW: op.poolK, SH: op.poolK, SW: op.poolK}
}

func (d *DeviceNet) bnShape(op *devOp, n int) cuda.BatchNorm {
	s := d.vals[op.in[0]].shape
	hw := 1
	for _, v := range s[1:] {
		hw *= v
	}
	return cuda.BatchNorm{N: n, C: s[0], HW: hw, Eps: graph.BatchNormEps, Momentum: graph.BatchNormMomentum}
}

// forward runs the program on input x (n examples).
func (d *DeviceNet) forward(x *cuda.Array, n int, train bool, drop *graph.DropStream) error {
	c := d.c
	for i := range d.ops {
		op := &d.ops[i]
		y := d.act(op.out, n)
		in := func(j int) *cuda.Array {
			if op.in[j] == d.in {
				return x
			}
			return d.act(op.in[j], n)
		}
		var err error
		switch op.kind {
		case "dense":
			inF, outF := d.vals[op.in[0]].size, d.vals[op.out].size
			if err = c.Gemm(gemmCall(false, false, n, outF, inF), 1, in(0), d.paramView(op.params[0]), 0, y); err != nil {
				return err
			}
			p, keep := float32(0), float32(1)
			var key, ctr uint64
			if train && op.drop > 0 {
				p, keep = float32(op.drop), float32(1/(1-op.drop))
				key, ctr = drop.Key, drop.Ctr
				drop.Ctr += uint64(n * outF)
			}
			err = d.linear("pl_bias_act_drop", n*outF, int32(n), int32(outF), d.paramView(op.params[1]).Ptr(), b2i(op.relu), p, keep, key, ctr, y.Ptr())
		case "conv":
			gm := op.geom
			np := n * gm.PatchCols()
			col, cn := view(d.col, 0, gm.PatchRows()*np), view(d.cn, 0, gm.Co*np)
			if err = d.linear("pl_im2col_t", gm.PatchRows()*np, append(convArgs(gm, n), in(0).Ptr(), col.Ptr())...); err != nil {
				return err
			}
			if err = c.Gemm(gemmCall(false, false, gm.Co, np, gm.PatchRows()), 1, d.paramView(op.params[0]), col, 0, cn); err != nil {
				return err
			}
			bias := cn.Ptr()
			if op.hasBias {
				bias = d.paramView(op.params[1]).Ptr()
			}
			err = d.linear("pl_cn_to_nchw", y.N, int32(n), int32(gm.Co), int32(gm.PatchCols()), cn.Ptr(), b2i(op.hasBias), bias, b2i(op.relu), y.Ptr())
		case "bn":
			bs := d.bnShape(op, n)
			gamma, beta := d.paramView(op.params[0]), d.paramView(op.params[1])
			rm, rv := d.bufs[op.bnIdx[0]], d.bufs[op.bnIdx[1]]
			if train {
				err = c.BatchNormTrain(bs, in(0), gamma, beta, y, rm, rv, op.save[0], op.save[1])
			} else {
				err = c.BatchNormInfer(bs, in(0), gamma, beta, rm, rv, y)
			}
			if err == nil && op.relu {
				err = c.ReluFwd(y, y)
			}
		case "maxpool":
			err = c.MaxPoolFwd(d.poolGeom(op, n), in(0), y, view(op.argmax, 0, y.N))
		case "gap":
			err = c.AvgPoolFwd(d.poolGeom(op, n), in(0), y)
		case "flatten":
			err = c.Copy(y, in(0))
		case "add":
			err = c.Add(in(0), in(1), y)
		case "relu":
			err = c.ReluFwd(in(0), y)
		}
		if err != nil {
			return fmt.Errorf("models: device %s: %w", op.kind, err)
		}
	}
	return nil
}

// backward computes every parameter gradient of the mean cross-entropy of
// the last forward pass (training mode) into Grads.
func (d *DeviceNet) backward(n int) error {
	c := d.c
	if err := c.SoftmaxXentBwd(n, d.classes, 1/float32(n), view(d.probs, 0, n*d.classes), view(d.labels, 0, n), d.grad(d.out, n)); err != nil {
		return err
	}
	for i := len(d.ops) - 1; i >= 0; i-- {
		op := &d.ops[i]
		y, dy := d.act(op.out, n), d.grad(op.out, n)
		x := func(j int) *cuda.Array {
			if op.in[j] == d.in {
				return view(d.x, 0, n*d.inSize)
			}
			return d.act(op.in[j], n)
		}
		// dst is where input j's gradient goes: its buffer, or scratch that
		// is then added to it; done finishes the accumulation.
		dst := func(j int) *cuda.Array {
			if op.accum[j] {
				return view(d.tmp, 0, n*d.vals[op.in[j]].size)
			}
			return d.grad(op.in[j], n)
		}
		done := func(j int) error {
			if op.accum[j] {
				g := d.grad(op.in[j], n)
				return c.Add(g, dst(j), g)
			}
			return nil
		}
		needIn := func(j int) bool { return op.in[j] != d.in }
		var err error
		switch op.kind {
		case "dense":
			inF, outF := d.vals[op.in[0]].size, d.vals[op.out].size
			sc := float32(1)
			if op.drop > 0 {
				sc = float32(1 / (1 - op.drop))
			}
			if op.relu || op.drop > 0 {
				if err = d.linear("pl_act_grad", dy.N, int32(dy.N), b2i(op.relu), sc, y.Ptr(), dy.Ptr(), dy.Ptr()); err != nil {
					break
				}
			}
			if err = c.Gemm(gemmCall(true, false, inF, outF, n), 1, x(0), dy, 0, d.gradView(op.params[0])); err != nil {
				break
			}
			if err = c.ColSum(n, outF, dy, d.gradView(op.params[1])); err != nil {
				break
			}
			if needIn(0) && op.needDX {
				beta := float32(0)
				if op.accum[0] {
					beta = 1
				}
				err = c.Gemm(gemmCall(false, true, n, inF, outF), 1, dy, d.paramView(op.params[0]), beta, d.grad(op.in[0], n))
			}
		case "conv":
			gm := op.geom
			np := n * gm.PatchCols()
			col, cn := view(d.col, 0, gm.PatchRows()*np), view(d.cn, 0, gm.Co*np)
			if op.relu {
				if err = d.linear("pl_act_grad", dy.N, int32(dy.N), int32(1), float32(1), y.Ptr(), dy.Ptr(), dy.Ptr()); err != nil {
					break
				}
			}
			if err = d.linear("pl_nchw_to_cn", dy.N, int32(n), int32(gm.Co), int32(gm.PatchCols()), dy.Ptr(), cn.Ptr()); err != nil {
				break
			}
			if op.hasBias {
				rl, _ := cuda.Rows(gm.Co, cuda.BlockSize)
				if err = c.Launch("pl_rowsum", rl, int32(gm.Co), int32(np), cn.Ptr(), d.gradView(op.params[1]).Ptr()); err != nil {
					break
				}
			}
			if err = d.linear("pl_im2col_t", col.N, append(convArgs(gm, n), x(0).Ptr(), col.Ptr())...); err != nil {
				break
			}
			if err = c.Gemm(gemmCall(false, true, gm.Co, gm.PatchRows(), np), 1, cn, col, 0, d.gradView(op.params[0])); err != nil {
				break
			}
			if needIn(0) && op.needDX {
				if err = c.Gemm(gemmCall(true, false, gm.PatchRows(), np, gm.Co), 1, d.paramView(op.params[0]), cn, 0, col); err != nil {
					break
				}
				out := dst(0)
				if err = d.linear("pl_col2im_t", out.N, append(convArgs(gm, n), col.Ptr(), out.Ptr())...); err != nil {
					break
				}
				err = done(0)
			}
		case "bn":
			if op.relu {
				if err = d.linear("pl_act_grad", dy.N, int32(dy.N), int32(1), float32(1), y.Ptr(), dy.Ptr(), dy.Ptr()); err != nil {
					break
				}
			}
			out := dst(0)
			if err = c.BatchNormBwd(d.bnShape(op, n), x(0), dy, d.paramView(op.params[0]), op.save[0], op.save[1], out,
				d.gradView(op.params[0]), d.gradView(op.params[1])); err != nil {
				break
			}
			err = done(0)
		case "maxpool":
			if needIn(0) {
				out := dst(0)
				if err = c.MaxPoolBwd(d.poolGeom(op, n), dy, view(op.argmax, 0, dy.N), out); err == nil {
					err = done(0)
				}
			}
		case "gap":
			if needIn(0) {
				out := dst(0)
				if err = c.AvgPoolBwd(d.poolGeom(op, n), dy, out); err == nil {
					err = done(0)
				}
			}
		case "flatten":
			if needIn(0) {
				out := dst(0)
				if err = c.Copy(out, dy); err == nil {
					err = done(0)
				}
			}
		case "add":
			for j := range op.in {
				if !needIn(j) {
					continue
				}
				if op.accum[j] {
					g := d.grad(op.in[j], n)
					err = c.Add(g, dy, g)
				} else {
					err = c.Copy(d.grad(op.in[j], n), dy)
				}
				if err != nil {
					break
				}
			}
		case "relu":
			if needIn(0) {
				out := dst(0)
				if err = d.linear("pl_act_grad", dy.N, int32(dy.N), int32(1), float32(1), y.Ptr(), dy.Ptr(), out.Ptr()); err == nil {
					err = done(0)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("models: device %s backward: %w", op.kind, err)
		}
	}
	return nil
}
