package graph

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestGorgoniaBuildsAndDifferentiates proves the pinned Gorgonia (and the
// go4.org/unsafe/assume-no-moving-gc pin) work on this Go: it builds
// y = sum((W x)^2), runs it, and checks dy/dW against the analytic 2 (Wx) x^T.
func TestGorgoniaBuildsAndDifferentiates(t *testing.T) {
	g := G.NewGraph()
	wv := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	xv := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.5, -1, 2}))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("W"), G.WithValue(wv))
	x := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("x"), G.WithValue(xv))
	y := G.Must(G.Sum(G.Must(G.Square(G.Must(G.Mul(w, x))))))
	if _, err := G.Grad(y, w); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(w))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	// Wx = [1*0.5-2+6, 4*0.5-5+12] = [4.5, 9]; y = 20.25+81 = 101.25
	if got := y.Value().Data().(float64); math.Abs(got-101.25) > 1e-12 {
		t.Fatalf("y = %v, want 101.25", got)
	}
	gw, err := w.Grad()
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{9 * 0.5, -9, 18, 18 * 0.5, -18, 36}
	for i, v := range gw.Data().([]float64) {
		if math.Abs(v-want[i]) > 1e-12 {
			t.Fatalf("dW[%d] = %v, want %v", i, v, want[i])
		}
	}
}
