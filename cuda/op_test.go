package cuda

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// cpuGemm runs GemmHost through the same row-major -> cuBLAS mapping the
// GPU uses, on the column-major reference SGEMM.
type cpuGemm struct{}

func (cpuGemm) GemmHost(transA, transB bool, m, n, k int, a, b []float32) ([]float32, error) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	call, err := RowMajorGemm(transA, transB, m, n, k, lda, ldb, n)
	if err != nil {
		return nil, err
	}
	out := make([]float32, m*n)
	runGemmCall(call, a, b, out)
	return out, nil
}

// checkMatMulOp builds sum(MatMul(a, b) .* w) and the same with Gorgonia's
// own Mul, and compares values and gradients.
func checkMatMulOp(t *testing.T, dev HostGemm) {
	t.Helper()
	r := rand.New(rand.NewSource(11))
	m, n, k := 5, 4, 3
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			sa, sb := tensor.Shape{m, k}, tensor.Shape{k, n}
			if ta {
				sa = tensor.Shape{k, m}
			}
			if tb {
				sb = tensor.Shape{n, k}
			}
			av, bv, wv := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
			run := func(useOp bool) (float32, []float32, []float32) {
				g := G.NewGraph()
				a := G.NewMatrix(g, tensor.Float32, G.WithShape(sa...), G.WithName("a"), G.WithValue(tensor.New(tensor.WithShape(sa...), tensor.WithBacking(append([]float32(nil), av...)))))
				b := G.NewMatrix(g, tensor.Float32, G.WithShape(sb...), G.WithName("b"), G.WithValue(tensor.New(tensor.WithShape(sb...), tensor.WithBacking(append([]float32(nil), bv...)))))
				w := G.NewMatrix(g, tensor.Float32, G.WithShape(m, n), G.WithName("w"), G.WithValue(tensor.New(tensor.WithShape(m, n), tensor.WithBacking(append([]float32(nil), wv...)))))
				var c *G.Node
				var err error
				if useOp {
					c, err = MatMul(dev, a, b, ta, tb)
				} else {
					oa, ob := a, b
					if ta {
						oa = G.Must(G.Transpose(a))
					}
					if tb {
						ob = G.Must(G.Transpose(b))
					}
					c, err = G.Mul(oa, ob)
				}
				if err != nil {
					t.Fatal(err)
				}
				cost := G.Must(G.Sum(G.Must(G.HadamardProd(c, w))))
				if _, err := G.Grad(cost, a, b); err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(g)
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				ga, _ := a.Grad()
				gb, _ := b.Grad()
				return cost.Value().Data().(float32), append([]float32(nil), ga.Data().([]float32)...), append([]float32(nil), gb.Data().([]float32)...)
			}
			v1, ga1, gb1 := run(true)
			v2, ga2, gb2 := run(false)
			near := func(x, y float32) bool { return math.Abs(float64(x-y)) <= 1e-4*math.Max(1, math.Abs(float64(y))) }
			if !near(v1, v2) {
				t.Fatalf("ta=%v tb=%v: value %v, Gorgonia %v", ta, tb, v1, v2)
			}
			for i := range ga2 {
				if !near(ga1[i], ga2[i]) {
					t.Fatalf("ta=%v tb=%v: dA[%d] %v, Gorgonia %v", ta, tb, i, ga1[i], ga2[i])
				}
			}
			for i := range gb2 {
				if !near(gb1[i], gb2[i]) {
					t.Fatalf("ta=%v tb=%v: dB[%d] %v, Gorgonia %v", ta, tb, i, gb1[i], gb2[i])
				}
			}
		}
	}
}

func TestMatMulOp(t *testing.T) {
	checkMatMulOp(t, cpuGemm{})
	g := G.NewGraph()
	a := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("b"))
	if _, err := MatMul(cpuGemm{}, a, b, false, false); err == nil {
		t.Fatal("inner dimension mismatch accepted")
	}
	c := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("c"))
	if _, err := MatMul(cpuGemm{}, a, c, false, false); err == nil {
		t.Fatal("float64 accepted")
	}
}
