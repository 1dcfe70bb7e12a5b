package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randT is a float64 tensor of the shape with entries U(-1,1) (or offset).
func randT(r *rand.Rand, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float64))
	for i := range t.Float64s() {
		t.Float64s()[i] = 2*r.Float64() - 1
	}
	return t
}

// gradCheck compares the analytic gradients of L = sum(out * R) (R random)
// with respect to every wrt node against central finite differences in
// float64, on up to 12 random elements of each.
func gradCheck(t *testing.T, name string, build func(g *G.ExprGraph, r *rand.Rand) (out *G.Node, wrt G.Nodes), before func()) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 11))
	g := G.NewGraph()
	out, wrt := build(g, r)
	loss := out
	if !out.IsScalar() {
		R := G.NodeFromAny(g, randT(r, out.Shape()...), G.WithName("R"))
		prod, err := G.HadamardProd(out, R)
		if err != nil {
			t.Fatal(err)
		}
		if loss, err = G.Sum(prod); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatalf("%s: Grad: %v", name, err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer vm.Close()
	run := func() float64 {
		if before != nil {
			before()
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatalf("%s: run: %v", name, err)
		}
		return loss.Value().Data().(float64)
	}
	run()
	analytic := make([][]float64, len(wrt))
	for i, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			t.Fatalf("%s: grad of %s: %v", name, n.Name(), err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	const h = 1e-6
	for i, n := range wrt {
		vals := n.Value().Data().([]float64)
		for k := 0; k < 12; k++ {
			j := r.IntN(len(vals))
			orig := vals[j]
			vals[j] = orig + h
			lp := run()
			vals[j] = orig - h
			lm := run()
			vals[j] = orig
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - analytic[i][j]); d > 1e-6+1e-5*math.Abs(num) {
				t.Errorf("%s: d/d%s[%d]: analytic %.9g, finite differences %.9g", name, n.Name(), j, analytic[i][j], num)
			}
		}
	}
}

func param(g *G.ExprGraph, r *rand.Rand, name string, shape ...int) *G.Node {
	return G.NodeFromAny(g, randT(r, shape...), G.WithName(name))
}

func TestDenseGradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		relu bool
		drop float64
		tr   bool
	}{{"linear", false, 0, false}, {"relu", true, 0, false}, {"relu+dropout eval", true, 0.3, false}, {"relu+dropout train", true, 0.3, true}} {
		var stream DropStream
		reseed := func() { stream = NewDropStream(1, 2) }
		reseed()
		gradCheck(t, "dense "+tc.name, func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
			x := param(g, r, "x", 5, 7)
			w := param(g, r, "w", 7, 4)
			b := param(g, r, "b", 4)
			y, err := Dense(x, w, b, tc.relu, &Dropout{P: tc.drop, Train: tc.tr, Stream: &stream}, true)
			if err != nil {
				t.Fatal(err)
			}
			return y, G.Nodes{x, w, b}
		}, reseed)
	}
}

func TestDropoutEvalIsIdentityAndTrainScales(t *testing.T) {
	stream := NewDropStream(3, 4)
	y := make([]float64, 10000)
	for i := range y {
		y[i] = 1
	}
	d := &Dropout{P: 0.25, Train: true, Stream: &stream}
	applyDropout(d, y, false)
	zeros, sum := 0, 0.0
	for _, v := range y {
		if v == 0 {
			zeros++
		} else if math.Abs(v-1/0.75) > 1e-12 {
			t.Fatalf("kept value %v, want %v", v, 1/0.75)
		}
		sum += v
	}
	if f := float64(zeros) / float64(len(y)); math.Abs(f-0.25) > 0.02 {
		t.Errorf("dropped fraction %.3f, want about 0.25", f)
	}
	if m := sum / float64(len(y)); math.Abs(m-1) > 0.03 {
		t.Errorf("mean after dropout %.3f, want about 1", m)
	}
	if (&Dropout{P: 0.25, Train: false}).active() {
		t.Error("dropout active in evaluation mode")
	}
}

// TestDropoutMatchesReference: the one-pass, branch-free dropout, with and
// without the fused ReLU, gives bit for bit the values of the plain two-pass
// reference (ReLU with a branch, then zero or scale per DropUniform), and
// advances the stream by the element count.
func TestDropoutMatchesReference(t *testing.T) {
	const p = 0.1
	for _, relu := range []bool{false, true} {
		for _, n := range []int{1, 2, 7, 1000} {
			src := rand.New(rand.NewPCG(5, uint64(n)))
			y32 := make([]float32, n)
			y64 := make([]float64, n)
			for i := range y32 {
				v := src.NormFloat64()
				y32[i], y64[i] = float32(v), v
			}
			if n > 2 {
				y32[1], y64[1] = float32(math.NaN()), math.NaN() // dropped or kept, as the reference
			}
			want32 := append([]float32(nil), y32...)
			want64 := append([]float64(nil), y64...)
			s1, s2 := NewDropStream(9, 9), NewDropStream(9, 9)
			s1.Ctr, s2.Ctr = 17, 17
			s3 := s1
			applyDropout(&Dropout{P: p, Train: true, Stream: &s1}, y32, relu)
			applyDropout(&Dropout{P: p, Train: true, Stream: &s3}, y64, relu)
			if s1.Ctr != 17+uint64(n) || s3.Ctr != s1.Ctr {
				t.Fatalf("stream counter %d / %d after %d elements from 17", s1.Ctr, s3.Ctr, n)
			}
			for i := range want32 {
				if relu {
					if want32[i] < 0 {
						want32[i] = 0
					}
					if want64[i] < 0 {
						want64[i] = 0
					}
				}
				if DropUniform(s2.Key, s2.Ctr+uint64(i)) >= p {
					want32[i] *= float32(1 / (1 - p))
					want64[i] *= 1 / (1 - p)
				} else {
					want32[i], want64[i] = 0, 0
				}
			}
			for i := range y32 {
				if math.Float32bits(y32[i]) != math.Float32bits(want32[i]) || math.Float64bits(y64[i]) != math.Float64bits(want64[i]) {
					t.Fatalf("relu=%v n=%d: element %d = %v / %v, want %v / %v", relu, n, i, y32[i], y64[i], want32[i], want64[i])
				}
			}
		}
	}
}

func TestConvGradients(t *testing.T) {
	for _, tc := range []struct {
		name           string
		k, stride, pad int
		bias, relu     bool
		h, w           int
	}{{"3x3 s1 p1 bias relu", 3, 1, 1, true, true, 6, 5}, {"3x3 s2 p1", 3, 2, 1, false, false, 6, 5}, {"1x1 s2", 1, 2, 0, false, false, 6, 5}, {"1x1 s1", 1, 1, 0, true, false, 6, 5},
		// Larger images: the batch of 3 goes through in chunks of 2+1 and 1+1+1.
		{"3x3 s1 p1 chunks of 2", 3, 1, 1, true, true, 32, 32}, {"3x3 s1 p1 chunks of 1", 3, 1, 1, false, false, 46, 46}} {
		gradCheck(t, "conv "+tc.name, func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
			x := param(g, r, "x", 3, 2, tc.h, tc.w)
			w := param(g, r, "w", 4, 2, tc.k, tc.k)
			wrt := G.Nodes{x, w}
			var b *G.Node
			if tc.bias {
				b = param(g, r, "b", 4)
				wrt = append(wrt, b)
			}
			y, err := Conv2D(x, w, b, tc.stride, tc.pad, tc.relu, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			return y, wrt
		}, nil)
	}
}

func TestConvMatchesDirectSum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := G.NewGraph()
	xt, wt := randT(r, 2, 3, 5, 4), randT(r, 2, 3, 3, 3)
	y, err := Conv2D(G.NodeFromAny(g, xt, G.WithName("x")), G.NodeFromAny(g, wt, G.WithName("w")), nil, 2, 1, false, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	x, w, out := xt.Float64s(), wt.Float64s(), y.Value().Data().([]float64)
	Ho, Wo := 3, 2
	if !y.Shape().Eq(tensor.Shape{2, 2, Ho, Wo}) {
		t.Fatalf("shape %v", y.Shape())
	}
	for n := 0; n < 2; n++ {
		for o := 0; o < 2; o++ {
			for oh := 0; oh < Ho; oh++ {
				for ow := 0; ow < Wo; ow++ {
					var s float64
					for c := 0; c < 3; c++ {
						for i := 0; i < 3; i++ {
							for j := 0; j < 3; j++ {
								ih, iw := oh*2-1+i, ow*2-1+j
								if ih >= 0 && ih < 5 && iw >= 0 && iw < 4 {
									s += x[((n*3+c)*5+ih)*4+iw] * w[((o*3+c)*3+i)*3+j]
								}
							}
						}
					}
					if got := out[((n*2+o)*Ho+oh)*Wo+ow]; math.Abs(got-s) > 1e-12 {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", n, o, oh, ow, got, s)
					}
				}
			}
		}
	}
}

func TestBatchNormGradients(t *testing.T) {
	for _, tc := range []struct {
		name        string
		train, relu bool
		shape       []int
	}{{"train", true, false, []int{4, 3, 3, 2}}, {"train relu", true, true, []int{4, 3, 3, 2}}, {"eval", false, false, []int{4, 3, 3, 2}}, {"train 2-D", true, false, []int{6, 3}}} {
		gradCheck(t, "batchnorm "+tc.name, func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
			x := param(g, r, "x", tc.shape...)
			gm := param(g, r, "gamma", 3)
			bt := param(g, r, "beta", 3)
			rm := randT(r, 3)
			rv := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.5, 1.5, 2}))
			y, err := BatchNorm(x, gm, bt, rm, rv, tc.train, tc.relu)
			if err != nil {
				t.Fatal(err)
			}
			return y, G.Nodes{x, gm, bt}
		}, nil)
	}
}

func TestBatchNormStatistics(t *testing.T) {
	g := G.NewGraph()
	// Channel 0 holds 1,2,3,4; channel 1 holds 10,10,10,14 (B=2, HW=2).
	x := tensor.New(tensor.WithShape(2, 2, 1, 2), tensor.WithBacking([]float64{1, 2, 10, 10, 3, 4, 10, 14}))
	gm := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2}))
	bt := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 1}))
	rm := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 0}))
	rv := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 1}))
	y, err := BatchNorm(G.NodeFromAny(g, x, G.WithName("x")), G.NodeFromAny(g, gm, G.WithName("gamma")), G.NodeFromAny(g, bt, G.WithName("beta")), rm, rv, true, false)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	// channel 0: mean 2.5, biased var 1.25, unbiased 5/3.
	inv := 1 / math.Sqrt(1.25+BatchNormEps)
	got := y.Value().Data().([]float64)
	if math.Abs(got[0]-(1-2.5)*inv) > 1e-12 {
		t.Errorf("y[0] = %v, want %v", got[0], (1-2.5)*inv)
	}
	if math.Abs(rm.Float64s()[0]-0.25) > 1e-12 || math.Abs(rv.Float64s()[0]-(0.9+0.1*5.0/3)) > 1e-12 {
		t.Errorf("running stats %v %v, want 0.25 and %v", rm.Float64s(), rv.Float64s(), 0.9+0.1*5.0/3)
	}
	// channel 1: mean 11, biased var 3, unbiased 4.
	if math.Abs(rm.Float64s()[1]-1.1) > 1e-12 || math.Abs(rv.Float64s()[1]-(0.9+0.4)) > 1e-12 {
		t.Errorf("running stats channel 1: %v %v", rm.Float64s()[1], rv.Float64s()[1])
	}
}

func TestPoolingGradients(t *testing.T) {
	gradCheck(t, "maxpool", func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
		x := param(g, r, "x", 2, 3, 4, 6)
		y, err := MaxPool2D(x, 2)
		if err != nil {
			t.Fatal(err)
		}
		return y, G.Nodes{x}
	}, nil)
	gradCheck(t, "global average pool", func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
		x := param(g, r, "x", 2, 3, 4, 3)
		y, err := GlobalAvgPool(x)
		if err != nil {
			t.Fatal(err)
		}
		return y, G.Nodes{x}
	}, nil)
	gradCheck(t, "flatten+relu+add", func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
		x := param(g, r, "x", 2, 3, 2, 2)
		z := param(g, r, "z", 2, 3, 2, 2)
		s, err := Add(x, z)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ReLU(s)
		if err != nil {
			t.Fatal(err)
		}
		y, err := Flatten(h)
		if err != nil {
			t.Fatal(err)
		}
		return y, G.Nodes{x, z}
	}, nil)
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	// Hand-computed: logits (0, ln 3) with label 1 -> loss -ln(3/4).
	g := G.NewGraph()
	z := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{0, math.Log(3)}))
	l := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))
	loss, err := SoftmaxCrossEntropy(G.NodeFromAny(g, z, G.WithName("z")), G.NodeFromAny(g, l, G.WithName("l")))
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vm.Close()
	if got, want := loss.Value().Data().(float64), -math.Log(0.75); math.Abs(got-want) > 1e-12 {
		t.Errorf("loss %v, want %v", got, want)
	}
	// Gradient against finite differences, through a dense layer.
	labels := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{0, 2, 1, 2}))
	gradCheck(t, "softmax cross-entropy", func(g *G.ExprGraph, r *rand.Rand) (*G.Node, G.Nodes) {
		x := param(g, r, "x", 4, 3)
		loss, err := SoftmaxCrossEntropy(x, G.NodeFromAny(g, labels, G.WithName("labels")))
		if err != nil {
			t.Fatal(err)
		}
		return loss, G.Nodes{x}
	}, nil)
}
