package graph

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestFixedMul: x M^T and its input gradient dY M against plain loops,
// float64 and float32, through a loss sum(FixedMul(x) .* R) whose gradient
// is R M; two ops on the same matrix name stay apart; bad shapes are errors.
func TestFixedMul(t *testing.T) {
	const B, rows, cols = 3, 4, 5
	rng := rand.New(rand.NewSource(1))
	mat, x, r := make([]float64, rows*cols), make([]float64, B*cols), make([]float64, B*rows)
	for _, s := range [][]float64{mat, x, r} {
		for i := range s {
			s[i] = rng.NormFloat64()
		}
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		g := G.NewGraph()
		xn := G.NewMatrix(g, dt, G.WithShape(B, cols), G.WithName("x"), G.WithValue(denseF(dt, x, B, cols)))
		rn := G.NewMatrix(g, dt, G.WithShape(B, rows), G.WithName("r"), G.WithValue(denseF(dt, r, B, rows)))
		y, err := FixedMul(xn, mat, rows, cols, "M")
		if err != nil {
			t.Fatal(err)
		}
		y2, err := FixedMul(xn, mat, rows, cols, "M")
		if err != nil {
			t.Fatal(err)
		}
		if y.Op().Hashcode() == y2.Op().Hashcode() || !strings.Contains(y.Op().String(), "FixedMul{M}") {
			t.Errorf("%v: ops %v and %v share a hash", dt, y.Op(), y2.Op())
		}
		prod, err := G.HadamardProd(y, rn)
		if err != nil {
			t.Fatal(err)
		}
		loss, err := G.Sum(prod)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := G.Grad(loss, xn); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g, G.BindDualValues(xn))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := floatsOf(y.Value())
		gv, err := xn.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grad := floatsOf(gv)
		for b := 0; b < B; b++ {
			for i := 0; i < rows; i++ {
				want := 0.0
				for j := 0; j < cols; j++ {
					want += x[b*cols+j] * mat[i*cols+j]
				}
				if math.Abs(got[b*rows+i]-want) > tol*(1+math.Abs(want)) {
					t.Errorf("%v: y[%d][%d] = %v, want %v", dt, b, i, got[b*rows+i], want)
				}
			}
			for j := 0; j < cols; j++ {
				want := 0.0
				for i := 0; i < rows; i++ {
					want += r[b*rows+i] * mat[i*cols+j]
				}
				if math.Abs(grad[b*cols+j]-want) > tol*(1+math.Abs(want)) {
					t.Errorf("%v: dx[%d][%d] = %v, want %v", dt, b, j, grad[b*cols+j], want)
				}
			}
		}
		vm.Close()
	}
	g := G.NewGraph()
	xn := G.NewMatrix(g, tensor.Float64, G.WithShape(B, cols+1), G.WithName("x"), G.WithInit(G.Zeroes()))
	if _, err := FixedMul(xn, mat, rows, cols, "M"); err == nil {
		t.Error("an input of the wrong width was accepted")
	}
	if _, err := FixedMul(xn, mat, rows, cols+1, "M"); err == nil {
		t.Error("a matrix of the wrong size was accepted")
	}
}

func denseF(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

func floatsOf(v G.Value) []float64 {
	switch s := v.Data().(type) {
	case []float64:
		return s
	case []float32:
		o := make([]float64, len(s))
		for i, x := range s {
			o[i] = float64(x)
		}
		return o
	}
	return nil
}
