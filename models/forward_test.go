package models_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/plasticity-lab/plastic/internal/rnntest"
	"github.com/plasticity-lab/plastic/models"
)

// symOps are Rounds' steps as expressions, to read the definition off.
type symOps struct{ failAt string }

func (o symOps) step(name, s string) (string, error) {
	if name == o.failAt {
		return "", errors.New("failed at " + name)
	}
	return s, nil
}
func (o symOps) Input(x string) (string, error)       { return o.step("Input", "A"+x) }
func (o symOps) Layer(z string) (string, error)       { return o.step("Layer", "L("+z+")") }
func (o symOps) Reinject(h, a string) (string, error) { return o.step("Reinject", h+"+"+a) }
func (o symOps) Recurrent(v string) (string, error)   { return o.step("Recurrent", "W("+v+")") }
func (o symOps) Output(h string) (string, error)      { return o.step("Output", "U"+h) }

// TestRoundsDefinition: the round structure, written out: the input drive
// re-injected before every recurrent product, the layer (bias, ReLU, cap)
// after every product, the output of the last round; an error of any step
// ends the pass.
func TestRoundsDefinition(t *testing.T) {
	for T, want := range map[int]string{
		1: "UL(Ax)",
		2: "UL(W(L(Ax)+Ax))",
		3: "UL(W(L(W(L(Ax)+Ax))+Ax))",
	} {
		got, err := models.Rounds[string](T, symOps{}, "x")
		if err != nil || got != want {
			t.Errorf("T=%d: %q, %v; want %q", T, got, err, want)
		}
	}
	for _, step := range []string{"Input", "Layer", "Reinject", "Recurrent", "Output"} {
		if _, err := models.Rounds[string](3, symOps{failAt: step}, "x"); err == nil || err.Error() != "failed at "+step {
			t.Errorf("failing %s: error %v", step, err)
		}
	}
}

// TestForwardsAreTheOneDefinition: every forward pass models builds gives
// the logits of RNN.Forward (Rounds, float64, plain loops) for T = 1 and 3,
// both firing definitions, additive and multiplicative networks: the
// batched evaluation (GEMM products, float64 and float32, full and partial
// batches, with the same firing codes), and the Gorgonia graphs (on
// parameter nodes, on fixed weights, and BuildLogitsT on transposed ones,
// float64 and float32).
func TestForwardsAreTheOneDefinition(t *testing.T) {
	const n, m = 9, 3
	for _, c := range rnntest.Cases(n, m, 37, 20, 6, 1) {
		want, _, wantCodes := rnntest.Want(c.Net, c.X)
		check := func(what string, got []float64, tol float64) {
			t.Helper()
			if d := rnntest.Diff(got, want, m, tol); d != "" {
				t.Errorf("%s, %s: %s", c.Name, what, d)
			}
		}
		for _, rows := range []int{6, 4} {
			b64 := models.Batched[float64](c.Net, rows)
			b64.Fire = true
			var got []float64
			var codes []uint8
			err := b64.Each(c.X, func(i int, l []float64) {
				got = append(got, l...)
				if (i+1)%rows == 0 || i == c.N-1 {
					codes = append(codes, b64.Codes()...)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("batched float64, batches of %d", rows), got, 1e-12)
			if !slices.Equal(codes, wantCodes) {
				t.Errorf("%s, batched float64, batches of %d: firing codes differ", c.Name, rows)
			}
			got = got[:0]
			err = models.Batched[float32](c.Net, rows).Each(c.X, func(i int, l []float32) {
				for _, v := range l {
					got = append(got, float64(v))
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("batched float32, batches of %d", rows), got, 1e-5)
		}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			for _, how := range []string{"parameters", "fixed", "transposed"} {
				got := graphLogits(t, c.Net, c.X, dt, how)
				check(fmt.Sprintf("graph %v on %s weights", dt, how), got, tol)
			}
		}
	}
}

// graphLogits runs x through the network's Gorgonia graph built on
// parameter nodes, on fixed weights, or by BuildLogitsT.
func graphLogits(t *testing.T, r *models.RNN, x []float32, dt tensor.Dtype, how string) []float64 {
	t.Helper()
	g := G.NewGraph()
	B, n := len(x)/r.Inputs, r.Inputs
	xn := G.NewMatrix(g, dt, G.WithShape(B, n), G.WithName("x"), G.WithValue(denseOf(dt, f64(x), B, n)))
	var (
		logits *G.Node
		err    error
	)
	switch how {
	case "parameters":
		logits, err = r.BuildLogits(xn, r.NewGraphParams(g, dt))
	case "fixed":
		logits, err = r.BuildLogits(xn, models.GraphParams{})
	case "transposed":
		v, m := r.Nodes, r.Labels
		tr := func(w, mask []float64, rows, cols int) []float64 {
			o := make([]float64, rows*cols)
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					o[j*rows+i] = w[i*cols+j] * mask[i*cols+j]
				}
			}
			return o
		}
		ones := make([]float64, m*v)
		for i := range ones {
			ones[i] = 1
		}
		node := func(name string, d []float64, shape ...int) *G.Node {
			if len(shape) == 1 {
				return G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(denseOf(dt, d, shape...)))
			}
			return G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(denseOf(dt, d, shape...)))
		}
		p := models.TransposedParams{AT: node("AT", tr(r.A, r.InMask, v, n), n, v), UT: node("UT", tr(r.U, ones, m, v), v, m),
			B: node("b", r.B, v), C: node("c", r.C, m)}
		if r.T > 1 {
			p.WT = node("WT", tr(r.W, r.GraphMask, v, v), v, v)
		}
		logits, err = r.BuildLogitsT(xn, p)
	}
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), f64of(logits.Value().Data())...)
}

// TestBatchedDeterministic: the batched evaluation gives the same bits on
// every run and whatever the number of CPUs (its GEMMs split over them).
func TestBatchedDeterministic(t *testing.T) {
	c := rnntest.Cases(50, 10, 300, 150, 300, 2)[5] // T=3, large enough for parallel GEMMs
	run := func() []float32 {
		var out []float32
		if err := models.Batched[float32](c.Net, 128).Each(c.X, func(_ int, l []float32) { out = append(out, l...) }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := run()
	if !slices.Equal(run(), first) {
		t.Fatal("two runs differ")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if !slices.Equal(run(), first) {
		t.Fatal("one CPU gives other logits")
	}
}

func denseOf(dt tensor.Dtype, data []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
}

func f64(x []float32) []float64 {
	o := make([]float64, len(x))
	for i, v := range x {
		o[i] = float64(v)
	}
	return o
}

func f64of(d any) []float64 {
	switch s := d.(type) {
	case []float64:
		return s
	case []float32:
		return f64(s)
	}
	return nil
}

// TestRoundsByHand: a 3-node network, T=3, per-node biases, worked out by
// hand (comments), through the reference, the batched evaluation and the
// graph; round 3 has one positive entry for k = 2, where the firing
// definitions differ.
func TestRoundsByHand(t *testing.T) {
	for _, firing := range []models.Firing{models.FiringTopK, models.FiringNonzero} {
		r, err := models.NewRNN(models.RNNConfig{Inputs: 2, Labels: 2, Nodes: 3, P: 1, Cap: 2, T: 3, Firing: firing}, 1)
		if err != nil {
			t.Fatal(err)
		}
		copy(r.A, []float64{1, 0, 0, 1, 1, 1})
		copy(r.W, []float64{0, 1, -1, 0, 0, -1, 2, 0, 0})
		copy(r.B, []float64{0.5, -1, -2.5})
		copy(r.U, []float64{1, 1, 1, 0, 0, -2})
		copy(r.C, []float64{0.25, 1})
		x := []float32{1, 2}
		// ax = (1, 2, 3)
		// round 1: relu(ax + b) = (1.5, 1, 0.5), cap 2 -> h = (1.5, 1, 0), fired 1 1 0
		// round 2: W (h + ax) + b = W (2.5, 3, 3) + b = (0, -3, 5) + b = (0.5, -4, 2.5)
		//          relu -> (0.5, 0, 2.5), cap keeps both -> fired 1 0 1
		// round 3: W (h + ax) + b = W (1.5, 2, 5.5) + b = (-3.5, -5.5, 3) + b = (-3, -6.5, 0.5)
		//          relu -> (0, 0, 0.5): top-k also fires node 0 (the lowest zero), non-zero does not
		// logits = U (0, 0, 0.5) + c = (0.75, 0)
		wantCodes := []uint8{0b111, 0b100, 0b011}
		if firing == models.FiringNonzero {
			wantCodes[0] = 0b110
		}
		wantHidden, wantLogits := []float64{0, 0, 0.5}, []float64{0.75, 0}
		p, err := r.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Codes, wantCodes) || !slices.Equal(p.Hidden, wantHidden) || !slices.Equal(p.Logits, wantLogits) {
			t.Errorf("%v: reference codes %03b hidden %v logits %v; want %03b %v %v", firing, p.Codes, p.Hidden, p.Logits, wantCodes, wantHidden, wantLogits)
		}
		b := models.Batched[float64](r, 1)
		b.Fire = true
		if err := b.Run(x, 1); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.Codes(), wantCodes) || !slices.Equal(b.Hidden(), wantHidden) || !slices.Equal(b.Logits(), wantLogits) {
			t.Errorf("%v: batched codes %03b hidden %v logits %v", firing, b.Codes(), b.Hidden(), b.Logits())
		}
		if got := graphLogits(t, r, x, tensor.Float64, "parameters"); !slices.Equal(got, wantLogits) {
			t.Errorf("%v: graph logits %v", firing, got)
		}
	}
}
