package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestModelParameterCountsAndOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []int
		count  int
		first  string
		last2  string
		params int
	}{
		{"mlp", []int{1, 28, 28}, 269322, "fc1.weight", "fc3.weight fc3.bias", 6},
		{"cnn", []int{3, 32, 32}, 2193226, "conv1.weight", "fc2.weight fc2.bias", 10},
		{"resnet18", []int{3, 32, 32}, 11173962, "conv1.weight", "fc.weight fc.bias", 62},
	} {
		m, err := New(tc.name, tc.in, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		ps := m.Params()
		n := 0
		for _, p := range ps {
			n += p.Value.Shape().TotalSize()
		}
		if n != tc.count || len(ps) != tc.params {
			t.Errorf("%s: %d tensors with %d parameters, want %d with %d (PyTorch's)", tc.name, len(ps), n, tc.params, tc.count)
		}
		if ps[0].Name != tc.first || ps[len(ps)-2].Name+" "+ps[len(ps)-1].Name != tc.last2 {
			t.Errorf("%s: order %s ... %s %s", tc.name, ps[0].Name, ps[len(ps)-2].Name, ps[len(ps)-1].Name)
		}
	}
	m, _ := New("resnet18", []int{3, 32, 32}, 10, 1)
	if b := m.Buffers(); len(b) != 40 || b[0].Name != "bn1.running_mean" {
		t.Errorf("resnet18 buffers: %d, first %v", len(b), b[0].Name)
	}
	if _, err := New("vgg", []int{3, 32, 32}, 10, 1); err == nil || !strings.Contains(err.Error(), "unknown model") {
		t.Errorf("unknown model: %v", err)
	}
}

// modelGradCheck checks the training loss gradient of a float64 model
// against finite differences on a few elements of the chosen parameters.
func modelGradCheck(t *testing.T, name string, in []int, batch int, picks []string, perTensor int) {
	n, err := newNet(name, in, 3, 1, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.NewSession(batch, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(3, 3))
	for i := range s.Input().Float64s() {
		s.Input().Float64s()[i] = r.NormFloat64()
	}
	for i := range s.Labels().Float64s() {
		s.Labels().Float64s()[i] = float64(i % 3)
	}
	run := func() float64 {
		s.Reseed(1, 1)
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		return s.Loss()
	}
	run()
	run() // gradients must be overwritten, not accumulated
	idx := map[string]int{}
	analytic := map[string][]float64{}
	for i, p := range n.Params() {
		idx[p.Name] = i
		g, err := s.ValueGrads()[i].Grad()
		if err != nil {
			t.Fatal(err)
		}
		analytic[p.Name] = append([]float64(nil), g.Data().([]float64)...)
	}
	for _, pick := range picks {
		i, ok := idx[pick]
		if !ok {
			t.Fatalf("%s: no parameter %s", name, pick)
		}
		ana := analytic[pick]
		vals := n.Params()[i].Value.Float64s()
		for k := 0; k < perTensor; k++ {
			j := r.IntN(len(vals))
			orig := vals[j]
			h := gradStep
			vals[j] = orig + h
			lp := run()
			vals[j] = orig - h
			lm := run()
			vals[j] = orig
			num := (lp - lm) / (2 * h)
			if math.Abs(num-ana[j]) > 1e-6+1e-4*math.Abs(num) {
				t.Errorf("%s: dL/d%s[%d] analytic %.9g, finite differences %.9g", name, pick, j, ana[j], num)
			}
		}
	}
}

var gradStep = 1e-6

func TestMLPGradient(t *testing.T) {
	modelGradCheck(t, "mlp", []int{10}, 4, []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc3.weight", "fc3.bias"}, 6)
}

func TestCNNGradient(t *testing.T) {
	modelGradCheck(t, "cnn", []int{2, 6, 6}, 2, []string{"conv1.weight", "conv1.bias", "conv3.weight", "fc1.weight", "fc2.bias"}, 4)
}

func TestResNet18Gradient(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	modelGradCheck(t, "resnet18", []int{3, 8, 8}, 3, []string{"conv1.weight", "bn1.weight", "layer2.0.downsample.0.weight", "layer4.1.bn2.bias", "fc.weight"}, 2)
}

func TestEvalModeIsDeterministicAndBatchIndependent(t *testing.T) {
	m, _ := New("resnet18", []int{3, 8, 8}, 10, 1)
	// Give the running statistics non-trivial values with one training pass.
	tr, _ := m.NewSession(4, true)
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 4*3*8*8)
	for i := range x {
		x[i] = r.Float32()
	}
	tr.SetBatch(x, []int{0, 1, 2, 3})
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	e4, _ := m.NewSession(4, false)
	e1, _ := m.NewSession(1, false)
	e4.SetBatch(x, nil)
	if err := e4.Run(); err != nil {
		t.Fatal(err)
	}
	e1.SetBatch(x[3*192:], nil)
	if err := e1.Run(); err != nil {
		t.Fatal(err)
	}
	a, b := e4.Logits().Float32s()[30:40], e1.Logits().Float32s()
	for i := range b {
		if math.Abs(float64(a[i]-b[i])) > 1e-4 {
			t.Fatalf("eval logits depend on the batch: %v vs %v", a, b)
		}
	}
}
