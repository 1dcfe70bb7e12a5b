package graph

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestCapInPlaceKeepsLargestAndTies(t *testing.T) {
	z := []float64{0.5, 3, -1, 3, 2, 0}
	CapInPlace(z, 3, make([]float64, len(z)))
	want := []float64{0, 3, 0, 3, 2, 0}
	for i := range z {
		if z[i] != want[i] {
			t.Fatalf("cap = %v, want %v", z, want)
		}
	}
	// ties at the threshold: lowest indices kept
	z = []float64{1, 1, 1, 1}
	CapInPlace(z, 2, make([]float64, 4))
	if z[0] != 1 || z[1] != 1 || z[2] != 0 || z[3] != 0 {
		t.Fatalf("tie cap = %v", z)
	}
	// fewer positives than k after relu: unchanged
	z = []float64{0, 2, 0, 0}
	CapInPlace(z, 2, make([]float64, 4))
	if z[1] != 2 {
		t.Fatalf("cap = %v", z)
	}
}

func TestCapMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.Intn(50)
		k := 1 + rng.Intn(n)
		z := make([]float32, n)
		for i := range z {
			z[i] = float32(rng.Intn(7) - 2) // many ties and negatives
			if trial%2 == 1 {
				z[i] = float32(rng.Intn(4)) // non-negative, as after a ReLU
			}
		}
		orig := append([]float32(nil), z...)
		CapInPlace(z, k, make([]float32, n))
		// reference: stable selection of k largest by (value desc, index asc)
		kept := make([]bool, n)
		for c := 0; c < k; c++ {
			b := -1
			for i := range orig {
				if !kept[i] && (b < 0 || orig[i] > orig[b]) {
					b = i
				}
			}
			kept[b] = true
		}
		for i := range z {
			want := float32(0)
			if kept[i] {
				want = orig[i]
			}
			if z[i] != want {
				t.Fatalf("trial %d: cap(%v, %d) = %v", trial, orig, k, z)
			}
		}
	}
}

// TestCapOpGradientFiniteDifference checks d sum(c .* cap(x)) / dx by
// central differences (float64) through the Gorgonia op.
func TestCapOpGradientFiniteDifference(t *testing.T) {
	for _, relu := range []bool{false, true} {
		capGradientCheck(t, relu)
	}
}

// capGradientCheck runs the check for Cap, or CapReLU when relu.
func capGradientCheck(t *testing.T, relu bool) {
	rng := rand.New(rand.NewSource(2))
	rows, cols, k := 3, 7, 3
	xv := make([]float64, rows*cols)
	cv := make([]float64, rows*cols)
	for i := range xv {
		xv[i] = rng.NormFloat64()
		cv[i] = rng.NormFloat64()
	}
	f := func(x []float64) float64 {
		z := append([]float64(nil), x...)
		if relu {
			for i := range z {
				z[i] = max(z[i], 0)
			}
		}
		for r := 0; r < rows; r++ {
			CapInPlace(z[r*cols:(r+1)*cols], k, make([]float64, cols))
		}
		s := 0.0
		for i := range z {
			s += cv[i] * z[i] * z[i]
		}
		return s
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, cols), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(append([]float64(nil), xv...)))))
	c := G.NewMatrix(g, tensor.Float64, G.WithShape(rows, cols), G.WithName("c"),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(cv))))
	var capped *G.Node
	var err error
	if relu {
		capped, err = CapReLU(x, k)
	} else {
		capped, err = Cap(x, k)
	}
	if err != nil {
		t.Fatal(err)
	}
	y := G.Must(G.Sum(G.Must(G.HadamardProd(c, G.Must(G.Square(capped))))))
	if _, err := G.Grad(y, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(x))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := y.Value().Data().(float64); math.Abs(got-f(xv)) > 1e-12 {
		t.Fatalf("forward %v, want %v", got, f(xv))
	}
	gx, _ := x.Grad()
	grad := gx.Data().([]float64)
	const h = 1e-6
	nonzero := 0
	for i := range xv {
		xp := append([]float64(nil), xv...)
		xm := append([]float64(nil), xv...)
		xp[i] += h
		xm[i] -= h
		fd := (f(xp) - f(xm)) / (2 * h)
		if math.Abs(fd-grad[i]) > 1e-6*(1+math.Abs(fd)) {
			t.Fatalf("d/dx[%d]: op %v, finite difference %v", i, grad[i], fd)
		}
		if grad[i] != 0 {
			nonzero++
		}
	}
	if !relu && nonzero != rows*k {
		t.Fatalf("%d non-zero gradient entries, want %d (kept entries only)", nonzero, rows*k)
	}
	if relu && (nonzero == 0 || nonzero > rows*k) {
		t.Fatalf("cap-relu: %d non-zero gradient entries", nonzero)
	}
}

func TestCapRejectsBadK(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithName("x"))
	if _, err := Cap(x, 0); err == nil {
		t.Fatal("Cap(k=0) gave no error")
	}
}

// TestCapGradientAtZeros checks the gradient's handling of exact zeros.
func TestCapGradientAtZeros(t *testing.T) {
	g := []float64{1, 1, 1, 1}
	for _, c := range []struct {
		x    []float64
		k    int
		want []float64
	}{
		{[]float64{0, -1, -2, 3}, 3, []float64{1, 1, 0, 1}}, // zero strictly kept
		{[]float64{0, 0, 2, 3}, 2, []float64{0, 0, 1, 1}},   // zeros dropped
		{[]float64{0, 0, 0, 3}, 2, []float64{0, 0, 0, 1}},   // tie at zero: subgradient 0
		{[]float64{0, 5, 0, 3}, 4, []float64{1, 1, 1, 1}},   // everything kept
	} {
		y := append([]float64(nil), c.x...)
		CapInPlace(y, c.k, make([]float64, 4))
		gr := append([]float64(nil), g...)
		maskRows(c.x, y, gr, 4, c.k)
		for i := range gr {
			if gr[i] != c.want[i] {
				t.Fatalf("x=%v k=%d: gradient mask %v, want %v", c.x, c.k, gr, c.want)
			}
		}
	}
}

// TestLossesFiniteDifference checks every loss (with the stable
// log-softmax) against central differences, and that logits of 1000 give
// a finite loss.
func TestLossesFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, kind := range []string{LossCE, LossSoftmaxCE, LossMSE} {
		for _, scale := range []float64{1, 1000} {
			lv := make([]float64, 12)
			for i := range lv {
				lv[i] = scale * rng.NormFloat64()
			}
			oh := []float64{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0}
			eval := func(l []float64) (float64, []float64) {
				g := G.NewGraph()
				x := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("x"),
					G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(append([]float64(nil), l...)))))
				y := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("y"),
					G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(oh))))
				loss, err := Loss(kind, x, y)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := G.Grad(loss, x); err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(g, G.BindDualValues(x))
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				gx, _ := x.Grad()
				return loss.Value().Data().(float64), append([]float64(nil), gx.Data().([]float64)...)
			}
			f, grad := eval(lv)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				t.Fatalf("%s at scale %v: loss %v", kind, scale, f)
			}
			if scale > 1 {
				continue
			}
			for i := range lv {
				p := append([]float64(nil), lv...)
				m := append([]float64(nil), lv...)
				p[i] += 1e-6
				m[i] -= 1e-6
				fp, _ := eval(p)
				fm, _ := eval(m)
				if fd := (fp - fm) / 2e-6; math.Abs(fd-grad[i]) > 1e-6 {
					t.Fatalf("%s d/dx[%d]: %v, finite difference %v", kind, i, grad[i], fd)
				}
			}
		}
	}
}
