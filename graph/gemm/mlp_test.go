package gemm

import (
	"math/rand"
	"testing"

	"github.com/plasticity-lab/plastic/internal/cputime"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mlp is a Gorgonia 784-256-256-10 ReLU network with a softmax
// cross-entropy loss, the model PyTorch trains at ~17,600 samples/s here.
type mlp struct {
	g      *G.ExprGraph
	x, y   *G.Node
	params G.Nodes
	loss   *G.Node
	vm     G.VM
	solver G.Solver
}

func newMLP(tb testing.TB, batch int, sizes []int, seed int64) *mlp {
	rng := rand.New(rand.NewSource(seed))
	g := G.NewGraph()
	m := &mlp{g: g}
	m.x = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, sizes[0]), G.WithName("x"))
	m.y = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, sizes[len(sizes)-1]), G.WithName("y"))
	h := m.x
	for l := 0; l+1 < len(sizes); l++ {
		w := make([]float32, sizes[l]*sizes[l+1])
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.05)
		}
		W := G.NewMatrix(g, tensor.Float32, G.WithShape(sizes[l], sizes[l+1]), G.WithName("w"),
			G.WithValue(tensor.New(tensor.WithShape(sizes[l], sizes[l+1]), tensor.WithBacking(w))))
		B := G.NewMatrix(g, tensor.Float32, G.WithShape(1, sizes[l+1]), G.WithName("b"), G.WithInit(G.Zeroes()))
		m.params = append(m.params, W, B)
		h = G.Must(G.BroadcastAdd(G.Must(G.Mul(h, W)), B, nil, []byte{0}))
		if l+2 < len(sizes) {
			h = G.Must(G.Rectify(h))
		}
	}
	m.loss = G.Must(G.Neg(G.Must(G.Mean(G.Must(G.HadamardProd(m.y, G.Must(G.Log(G.Must(G.SoftMax(h))))))))))
	if _, err := G.Grad(m.loss, m.params...); err != nil {
		tb.Fatal(err)
	}
	m.vm = G.NewTapeMachine(g, G.BindDualValues(m.params...))
	m.solver = G.NewAdamSolver(G.WithLearnRate(1e-3))
	return m
}

// step runs one forward/backward pass and one Adam update.
func (m *mlp) step(tb testing.TB, x, y tensor.Tensor) {
	if err := G.Let(m.x, x); err != nil {
		tb.Fatal(err)
	}
	if err := G.Let(m.y, y); err != nil {
		tb.Fatal(err)
	}
	if err := m.vm.RunAll(); err != nil {
		tb.Fatal(err)
	}
	if err := m.solver.Step(G.NodesToValueGrads(m.params)); err != nil {
		tb.Fatal(err)
	}
	m.vm.Reset()
}

func mlpBatch(batch, in, out int, seed int64) (x, y tensor.Tensor) {
	rng := rand.New(rand.NewSource(seed))
	xs := make([]float32, batch*in)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	ys := make([]float32, batch*out)
	for i := 0; i < batch; i++ {
		ys[i*out+rng.Intn(out)] = 1
	}
	return tensor.New(tensor.WithShape(batch, in), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(batch, out), tensor.WithBacking(ys))
}

// BenchmarkMLPTrain reports training samples/s of the 784-256-256-10 MLP at
// batch 128 (Adam) with gonum's BLAS and with the one Use installs.
func BenchmarkMLPTrain(b *testing.B) {
	defer G.Use(gonum.Implementation{})
	for _, c := range []struct {
		name string
		use  func()
	}{{"gonum", func() { G.Use(gonum.Implementation{}) }}, {Name(), Use}} {
		b.Run(c.name, func(b *testing.B) {
			c.use()
			const batch = 128
			m := newMLP(b, batch, []int{784, 256, 256, 10}, 1)
			x, y := mlpBatch(batch, 784, 10, 2)
			m.step(b, x, y)
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				m.step(b, x, y)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "samples/s")
			if cpu := cputime.Process() - cpu0; cpu0 > 0 && cpu > 0 {
				b.ReportMetric(float64(batch*b.N)/cpu, "samples/cpu-s")
			}
		})
	}
}

// TestGorgoniaSameNumbersAfterUse trains a small MLP (its gradient has
// matmuls with transposed operands) for a few steps with gonum's BLAS and
// again after Use: gradients, losses and weights must agree.
func TestGorgoniaSameNumbersAfterUse(t *testing.T) {
	defer G.Use(gonum.Implementation{})
	run := func() (losses []float32, weights [][]float32) {
		m := newMLP(t, 37, []int{50, 45, 29, 7}, 3)
		x, y := mlpBatch(37, 50, 7, 4)
		// The gradients of the first pass, then the weights after Adam.
		if err := G.Let(m.x, x); err != nil {
			t.Fatal(err)
		}
		if err := G.Let(m.y, y); err != nil {
			t.Fatal(err)
		}
		if err := m.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.params {
			g, err := p.Grad()
			if err != nil {
				t.Fatal(err)
			}
			weights = append(weights, append([]float32(nil), g.Data().([]float32)...))
		}
		m.vm.Reset()
		for i := 0; i < 3; i++ {
			m.step(t, x, y)
			losses = append(losses, m.loss.Value().Data().(float32))
		}
		for _, p := range m.params {
			weights = append(weights, append([]float32(nil), p.Value().Data().([]float32)...))
		}
		return losses, weights
	}
	G.Use(gonum.Implementation{})
	wantL, wantW := run()
	Use()
	if !InUse() {
		t.Fatalf("after Use (%s), Gorgonia's BLAS is %T and tensor's %T", Name(), G.WhichBLAS(), tensor.WhichBLAS())
	}
	gotL, gotW := run()
	for i := range wantL {
		if d := gotL[i] - wantL[i]; d > 1e-5 || d < -1e-5 {
			t.Errorf("loss at step %d: %v, gonum gives %v", i, gotL[i], wantL[i])
		}
	}
	if wantL[2] >= wantL[0] {
		t.Errorf("loss did not fall: %v", wantL)
	}
	for l := range wantW {
		for i := range wantW[l] {
			if d := gotW[l][i] - wantW[l][i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("gradient/param %d[%d]: %v, gonum gives %v", l, i, gotW[l][i], wantW[l][i])
			}
		}
	}
}
