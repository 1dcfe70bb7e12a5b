package graph

import (
	"errors"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// toyTrainer is an InnerTrainer with a known derivative: the flat output is
// out = M tanh(t), t the concatenated tables, so d out/d t = M diag(1 - tanh^2).
type toyTrainer struct {
	sizes []int
	m     []float64 // outSize x sum(sizes)
	out   int
	last  []float64 // tanh(t) of the last TrainFlat
	calls int
	fail  error
}

func (tr *toyTrainer) OutSize() int { return tr.out }

func (tr *toyTrainer) TrainFlat(tables [][]float64) ([]float64, error) {
	tr.calls++
	if tr.fail != nil {
		return nil, tr.fail
	}
	var t []float64
	for i, tab := range tables {
		if len(tab) != tr.sizes[i] {
			return nil, errors.New("toy: wrong table size")
		}
		t = append(t, tab...)
	}
	tr.last = make([]float64, len(t))
	for i, v := range t {
		tr.last[i] = math.Tanh(v)
	}
	out := make([]float64, tr.out)
	for k := range out {
		for i, v := range tr.last {
			out[k] += tr.m[k*len(t)+i] * v
		}
	}
	return out, nil
}

func (tr *toyTrainer) BackwardFlat(which int, g []float64) ([]float64, error) {
	off := 0
	for _, s := range tr.sizes[:which] {
		off += s
	}
	n := len(tr.last)
	d := make([]float64, tr.sizes[which])
	for i := range d {
		for k, gk := range g {
			d[i] += gk * tr.m[k*n+off+i] * (1 - tr.last[off+i]*tr.last[off+i])
		}
	}
	return d, nil
}

// plasticLoss builds loss = c . PlasticTrain(tables) and returns the loss
// and the table gradients of the tape machine's second run (which reuses
// the op's preallocated output and must give the first run's loss).
func plasticLoss(t *testing.T, tr *toyTrainer, vals [][]float64, c []float64) (float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	var tabs G.Nodes
	for i, v := range vals {
		tabs = append(tabs, G.NewVector(g, tensor.Float64, G.WithShape(len(v)), G.WithName("table"+string(rune('0'+i))),
			G.WithValue(tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(append([]float64(nil), v...))))))
	}
	flat, err := PlasticTrain(tr, tabs...)
	if err != nil {
		t.Fatal(err)
	}
	if s := flat.Shape(); len(s) != 1 || s[0] != tr.out {
		t.Fatalf("PlasticTrain shape %v, want (%d)", s, tr.out)
	}
	cn := G.NewVector(g, tensor.Float64, G.WithShape(len(c)), G.WithName("c"),
		G.WithValue(tensor.New(tensor.WithShape(len(c)), tensor.WithBacking(c))))
	prod, err := G.HadamardProd(flat, cn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, tabs...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(tabs...))
	defer vm.Close()
	var first float64
	for run := 0; run < 2; run++ {
		// Input gradients accumulate across runs (the meta-learner zeroes them).
		for _, n := range tabs {
			if gv, err := n.Grad(); err == nil {
				if gt, ok := gv.(tensor.Tensor); ok {
					gt.Zero()
				}
			}
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = loss.Value().Data().(float64)
		} else if l := loss.Value().Data().(float64); l != first {
			t.Fatalf("second run of the same graph: loss %v, first %v", l, first)
		}
	}
	var grads [][]float64
	for _, n := range tabs {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, append([]float64(nil), gv.Data().([]float64)...))
	}
	return first, grads
}

// TestPlasticTrainGradient: the op's value is the trainer's output and its
// gradient with respect to every table is the trainer's BackwardFlat,
// checked against central differences of the whole graph.
func TestPlasticTrainGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	tr := &toyTrainer{sizes: []int{4, 3}, out: 5}
	tr.m = make([]float64, tr.out*7)
	for i := range tr.m {
		tr.m[i] = rng.NormFloat64()
	}
	vals := [][]float64{{0.1, -0.4, 0.9, 0.3}, {-1.2, 0.5, 0.05}}
	c := []float64{1, -2, 0.5, 3, -1}
	f, grads := plasticLoss(t, tr, vals, c)
	// The value by hand.
	want := 0.0
	flat := append(append([]float64(nil), vals[0]...), vals[1]...)
	for k := 0; k < tr.out; k++ {
		for i, v := range flat {
			want += c[k] * tr.m[k*7+i] * math.Tanh(v)
		}
	}
	if math.Abs(f-want) > 1e-12 {
		t.Fatalf("loss %v, want %v", f, want)
	}
	for w := range vals {
		for i := range vals[w] {
			p, m := cloneTables(vals), cloneTables(vals)
			p[w][i] += 1e-6
			m[w][i] -= 1e-6
			fp, _ := plasticLoss(t, tr, p, c)
			fm, _ := plasticLoss(t, tr, m, c)
			if fd := (fp - fm) / 2e-6; math.Abs(fd-grads[w][i]) > 1e-6 {
				t.Errorf("d loss/d table%d[%d] = %v, finite difference %v", w, i, grads[w][i], fd)
			}
		}
	}
}

func cloneTables(v [][]float64) [][]float64 {
	o := make([][]float64, len(v))
	for i := range v {
		o[i] = append([]float64(nil), v[i]...)
	}
	return o
}

// TestPlasticTrainErrors: no tables, float32 tables and a failing trainer
// are errors, not panics.
func TestPlasticTrainErrors(t *testing.T) {
	tr := &toyTrainer{sizes: []int{2}, out: 1, m: []float64{1, 1}}
	if _, err := PlasticTrain(tr); err == nil || !strings.Contains(err.Error(), "no rule tables") {
		t.Errorf("no tables: %v", err)
	}
	g := G.NewGraph()
	f32 := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("t32"), G.WithInit(G.Zeroes()))
	if _, err := PlasticTrain(tr, f32); err == nil || !strings.Contains(err.Error(), "float64") {
		t.Errorf("float32 table: %v", err)
	}
	tab := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("t64"), G.WithInit(G.Zeroes()))
	out, err := PlasticTrain(tr, tab)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Op().(interface{ String() string }).String(), "PlasticTrain") {
		t.Errorf("op name %v", out.Op())
	}
	tr.fail = errors.New("inner training diverged")
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "inner training diverged") {
		t.Errorf("failing trainer: %v", err)
	}
}

// TestCapMaskMatchesDefinition: CapMask keeps the k largest entries, the
// lowest indices among equal values (zeros included: the authors' top-k
// firing counts them), and agrees with CapInPlace on the non-zero ones.
func TestCapMaskMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for trial := 0; trial < 300; trial++ {
		n := 1 + rng.Intn(40)
		k := 1 + rng.Intn(n+2)
		z := make([]float64, n)
		for i := range z {
			switch rng.Intn(3) {
			case 0:
				z[i] = 0
			case 1:
				z[i] = float64(rng.Intn(3)) // ties
			default:
				z[i] = rng.NormFloat64()
			}
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return z[order[a]] > z[order[b]] })
		want := make([]bool, n)
		for _, i := range order[:min(k, n)] {
			want[i] = true
		}
		keep := make([]bool, n)
		CapMask(z, k, make([]float64, n), keep)
		capped := append([]float64(nil), z...)
		CapInPlace(capped, k, make([]float64, n))
		for i := range z {
			if keep[i] != want[i] {
				t.Fatalf("z=%v k=%d: keep[%d] = %v, want %v", z, k, i, keep[i], want[i])
			}
			if w := z[i] * b2f(want[i]); capped[i] != w {
				t.Fatalf("z=%v k=%d: CapInPlace[%d] = %v, want %v", z, k, i, capped[i], w)
			}
		}
	}
	keep := []bool{true, true}
	CapMask([]float64{1, 2}, 0, make([]float64, 2), keep)
	if keep[0] || keep[1] {
		t.Fatalf("k=0 keeps %v", keep)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestCapOpsWithDifferentKAreDistinct: Gorgonia merges nodes whose op and
// inputs hash alike, so caps with different k on one input must hash
// differently (and equal ones alike).
func TestCapOpsWithDifferentKAreDistinct(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(5), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(5), tensor.WithBacking([]float64{5, -1, 3, 4, 2}))))
	build := []func() (*G.Node, error){
		func() (*G.Node, error) { return Cap(x, 2) },
		func() (*G.Node, error) { return Cap(x, 3) },
		func() (*G.Node, error) { return CapReLU(x, 2) },
		func() (*G.Node, error) { return CapReLU(x, 3) },
	}
	var nodes []*G.Node
	for _, b := range build {
		n, err := b()
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	again, _ := Cap(x, 2)
	if again != nodes[0] {
		t.Errorf("two Cap(x, 2) nodes were not merged")
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{5, 0, 0, 4, 0}, {5, 0, 3, 4, 0}, {5, 0, 0, 4, 0}, {5, 0, 3, 4, 0}}
	for i, n := range nodes {
		got := n.Value().Data().([]float64)
		for j := range want[i] {
			if got[j] != want[i][j] {
				t.Fatalf("node %d (%v): %v, want %v", i, n.Op(), got, want[i])
			}
		}
	}
	ops := map[uint32]string{}
	for _, n := range nodes {
		h := n.Op().Hashcode()
		if prev, ok := ops[h]; ok {
			t.Errorf("%v and %s share hash %d", n.Op(), prev, h)
		}
		ops[h] = n.Op().String()
	}
}
