package models

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/cuda"
	"github.com/plasticity-lab/plastic/cuda/devtest"
	"github.com/plasticity-lab/plastic/graph"
)

// The device program against the CPU ops the trainer runs: every op kind
// in small networks, and the three models, one training step each (loss,
// every gradient, running statistics, dropout stream), then evaluation
// logits. Normwise relative error per tensor <= 1e-4 against the CPU's
// float32 step. Through ResNet's 20 layers the CPU's own float32
// gradients are up to ~3e-4 off the float64 ones, so there the device's
// gradients are held to 1e-4 of the same network's float64 gradients and
// 5e-4 of the CPU's. (A float64 reference is no use for the others: a
// pre-activation or pooling tie within float32 rounding of a kink flips.)

func relErr(got, want []float32) (float64, int) {
	var diff, scale float64
	worst := 0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > diff || math.IsNaN(d) {
			diff, worst = d, i
		}
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	return diff / math.Max(scale, 1e-30), worst
}

func checkClose(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	if rel, i := relErr(got, want); !(rel <= tol) {
		t.Fatalf("%s: relative error %.3g at %d (device %v, cpu %v)", name, rel, i, got[i], want[i])
	}
}

func testNet(t *testing.T, in []int, classes int, a arch) *net {
	t.Helper()
	n := &net{name: "test", in: in, classes: classes, dt: tensor.Float32, arch: a}
	if _, err := n.declare(11); err != nil {
		t.Fatal(err)
	}
	return n
}

func randBatch(r *rand.Rand, n *net, batch int) ([]float32, []int) {
	size := 1
	for _, s := range n.in {
		size *= s
	}
	x := make([]float32, batch*size)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = r.IntN(n.classes)
	}
	return x, y
}

func grads(t *testing.T, s *Session) [][]float32 {
	t.Helper()
	var out [][]float32
	for _, p := range s.ValueGrads() {
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, g.(tensor.Tensor).Data().([]float32))
	}
	return out
}

// compareStep runs one training step of n on the CPU session and on the
// device from the same parameters, statistics and dropout stream.
func compareStep(t *testing.T, n *net, batch int, tolCPU float64) {
	t.Helper()
	c := devtest.Open(t)
	r := rand.New(rand.NewPCG(3, uint64(batch)))
	x, y := randBatch(r, n, batch)
	dn, err := NewDeviceNet(c, n, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Free()
	s, err := n.NewSession(batch, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Reseed(5, 7)
	if err := s.SetBatch(x, y); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	stream := graph.NewDropStream(5, 7)
	res, err := dn.TrainStep(x, y, &stream)
	if err != nil {
		t.Fatal(err)
	}
	if stream != s.drop {
		t.Fatalf("dropout stream after the step: device %+v, cpu %+v", stream, s.drop)
	}
	if lossCPU := s.Loss() * float64(batch); math.Abs(res.LossSum-lossCPU) > 1e-4*math.Abs(lossCPU) {
		t.Fatalf("loss sum: device %v, cpu %v", res.LossSum, lossCPU)
	}
	if want := countRows(s.Logits().Data().([]float32), y, n.classes); res.Correct != want {
		t.Fatalf("correct rows: device %d, cpu %d", res.Correct, want)
	}
	all, err := cuda.Download[float32](c, dn.Grads())
	if err != nil {
		t.Fatal(err)
	}
	var ref [][]float32
	if tolCPU > 1e-4 {
		ref = float64Grads(t, n, x, y, 5, 7)
	}
	for i, g := range grads(t, s) {
		tt := dn.tensors[i]
		checkClose(t, "gradient of "+tt.Name, all[tt.Offset:tt.Offset+tt.N], g, tolCPU)
		if ref != nil {
			checkClose(t, "gradient of "+tt.Name+" (float64 reference)", all[tt.Offset:tt.Offset+tt.N], ref[i], 1e-4)
		}
	}
	for i, b := range n.buffers {
		got, err := cuda.Download[float32](c, dn.bufs[i])
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, b.Name, got, b.Value.Data().([]float32), tolCPU)
	}
	// Evaluation mode (running statistics, no dropout).
	es, err := n.NewSession(batch, false)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if err := es.SetBatch(x, nil); err != nil {
		t.Fatal(err)
	}
	if err := es.Run(); err != nil {
		t.Fatal(err)
	}
	lg, err := dn.Logits(x)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "evaluation logits", lg, es.Logits().Data().([]float32), tolCPU)
}

// float64Grads are the gradients of the same step in float64: n's
// architecture with its float32 parameters and statistics, the same masks.
func float64Grads(t *testing.T, n *net, x []float32, y []int, seed, stream uint64) [][]float32 {
	t.Helper()
	n64 := &net{name: n.name, in: n.in, classes: n.classes, dt: tensor.Float64, arch: n.arch}
	if _, err := n64.declare(1); err != nil {
		t.Fatal(err)
	}
	for i, p := range n.params {
		d := n64.params[i].Value.Data().([]float64)
		for j, v := range p.Value.Data().([]float32) {
			d[j] = float64(v)
		}
	}
	s, err := n64.NewSession(len(y), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Reseed(seed, stream)
	xd, yd := s.Input().Data().([]float64), s.Labels().Data().([]float64)
	for i, v := range x {
		xd[i] = float64(v)
	}
	for i, v := range y {
		yd[i] = float64(v)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for _, p := range s.ValueGrads() {
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		d := g.(tensor.Tensor).Data().([]float64)
		o := make([]float32, len(d))
		for i, v := range d {
			o[i] = float32(v)
		}
		out = append(out, o)
	}
	return out
}

func countRows(logits []float32, y []int, classes int) int {
	c := 0
	for i, l := range y {
		if Argmax(logits[i*classes:(i+1)*classes]) == l {
			c++
		}
	}
	return c
}

// Conv with bias and ReLU, batch norm without and with ReLU, max pool, a
// strided conv and a strided 1x1 projection sharing one input (gradients
// accumulate), residual add, ReLU, global average pool, dense with ReLU
// and dropout, linear dense.
func TestDeviceOpsConvResidual(t *testing.T) {
	n := testNet(t, []int{3, 8, 8}, 4, func(b *builder, x *G.Node) (*G.Node, error) {
		h, err := b.conv("c1", x, 6, 3, 1, 1, true, true, initUniformFanIn)
		if err != nil {
			return nil, err
		}
		if h, err = b.bn("bn1", h, false); err != nil {
			return nil, err
		}
		if h, err = graph.MaxPool2D(h, 2); err != nil {
			return nil, err
		}
		a, err := b.conv("c2", h, 5, 3, 2, 1, false, false, initKaiming)
		if err != nil {
			return nil, err
		}
		if a, err = b.bn("bn2", a, true); err != nil {
			return nil, err
		}
		sc, err := b.conv("c3", h, 5, 1, 2, 0, false, false, initKaiming)
		if err != nil {
			return nil, err
		}
		if h, err = graph.Add(a, sc); err != nil {
			return nil, err
		}
		if h, err = graph.ReLU(h); err != nil {
			return nil, err
		}
		if h, err = graph.GlobalAvgPool(h); err != nil {
			return nil, err
		}
		if h, err = b.dense("fc1", h, 7, true, 0.25); err != nil {
			return nil, err
		}
		return b.dense("fc2", h, 4, false, 0)
	})
	compareStep(t, n, 5, 1e-4)
}

// Flatten, dropout without ReLU, batch norm over features with ReLU.
func TestDeviceOpsFlattenDropoutBN1D(t *testing.T) {
	n := testNet(t, []int{2, 6, 6}, 3, func(b *builder, x *G.Node) (*G.Node, error) {
		h, err := b.conv("c1", x, 4, 3, 1, 1, true, false, initUniformFanIn)
		if err != nil {
			return nil, err
		}
		if h, err = graph.MaxPool2D(h, 3); err != nil {
			return nil, err
		}
		if h, err = graph.Flatten(h); err != nil {
			return nil, err
		}
		if h, err = b.dense("fc1", h, 9, false, 0.4); err != nil {
			return nil, err
		}
		if h, err = b.bn("bn1", h, true); err != nil {
			return nil, err
		}
		return b.dense("fc2", h, 3, false, 0)
	})
	compareStep(t, n, 6, 1e-4)
}

func TestDeviceMLP(t *testing.T) {
	m, err := New("mlp", []int{40}, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	compareStep(t, m.(*net), 7, 1e-4)
}

func TestDeviceCNN(t *testing.T) {
	m, err := New("cnn", []int{3, 8, 8}, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	compareStep(t, m.(*net), 3, 1e-4)
}

func TestDeviceNarrowResNet(t *testing.T) {
	m, err := NewResNet([]int{3, 8, 8}, 10, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	compareStep(t, m.(*net), 4, 5e-4)
}

// The dropout kernel draws the CPU's masks bit for bit: element i is kept,
// scaled by 1/(1-p), when graph.DropUniform(key, ctr+i) >= p (the rule the
// CPU's dropout follows, tested in package graph).
func TestDeviceDropoutMasksEqualCPU(t *testing.T) {
	c := devtest.Open(t)
	const rows, cols, p = 9, 37, 0.3
	ones := make([]float32, rows*cols)
	for i := range ones {
		ones[i] = 1
	}
	y, err := cuda.Upload(c, ones)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cuda.Upload(c, make([]float32, cols))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(y, b)
	stream := graph.NewDropStream(42, 3)
	stream.Ctr = 1000
	cpu := make([]float32, len(ones))
	for i := range cpu {
		if graph.DropUniform(stream.Key, stream.Ctr+uint64(i)) >= p {
			cpu[i] = ones[i] * float32(1/(1-p))
		}
	}
	l, _ := cuda.Linear(rows*cols, cuda.BlockSize)
	if err := c.Launch("pl_bias_act_drop", l, int32(rows), int32(cols), b.Ptr(), int32(0), float32(p), float32(1/(1-p)),
		stream.Key, stream.Ctr, y.Ptr()); err != nil {
		t.Fatal(err)
	}
	got, err := cuda.Download[float32](c, y)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != cpu[i] {
			t.Fatalf("element %d: device %v, cpu %v", i, got[i], cpu[i])
		}
	}
}
