package cuda

import (
	"math"
	"math/rand"
	"testing"
)

func randF64(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// checkGrad compares an analytic gradient of f at x with central finite
// differences (float64).
func checkGrad(t *testing.T, name string, x []float64, f func([]float64) float64, grad []float64) {
	t.Helper()
	const h = 1e-6
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f(x)
		x[i] = old - h
		fm := f(x)
		x[i] = old
		num := (fp - fm) / (2 * h)
		if math.Abs(num-grad[i]) > 1e-6*math.Max(1, math.Abs(num)) {
			t.Fatalf("%s: d/dx[%d] analytic %.9g, numeric %.9g", name, i, grad[i], num)
		}
	}
}

func TestReluBiasColsumHand(t *testing.T) {
	x := []float64{-1, 2, 0, 3}
	if y := reluRef(x); y[0] != 0 || y[1] != 2 || y[2] != 0 || y[3] != 3 {
		t.Fatal(y)
	}
	if dx := reluBwdRef(x, []float64{5, 6, 7, 8}); dx[0] != 0 || dx[1] != 6 || dx[2] != 0 || dx[3] != 8 {
		t.Fatal(dx)
	}
	if y := biasAddRef(2, 2, x, []float64{10, 20}); y[0] != 9 || y[1] != 22 || y[2] != 10 || y[3] != 23 {
		t.Fatal(y)
	}
	if s := colsumRef(2, 2, x); s[0] != -1 || s[1] != 5 {
		t.Fatal(s)
	}
}

func TestSoftmaxXentGrad(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	rows, cols := 3, 5
	x := randF64(r, rows*cols)
	labels := []int32{4, 0, 2}
	meanLoss := func(x []float64) float64 {
		_, l := softmaxXentRef(rows, cols, x, labels)
		var s float64
		for _, v := range l {
			s += v
		}
		return s / float64(rows)
	}
	p, l := softmaxXentRef(rows, cols, []float64{0, 0, 0, 0, math.Log(4), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, labels)
	if math.Abs(p[4]-0.5) > 1e-12 || math.Abs(l[0]-math.Log(2)) > 1e-12 || math.Abs(l[1]-math.Log(5)) > 1e-12 {
		t.Fatalf("hand softmax: %v %v", p[:5], l)
	}
	probs, _ := softmaxXentRef(rows, cols, x, labels)
	checkGrad(t, "softmax-xent", x, meanLoss, softmaxXentBwdRef(rows, cols, 1/float64(rows), probs, labels))
}

func TestIm2colHandAndAdjoint(t *testing.T) {
	// 1x1x3x3 input 1..9, 2x2 window, stride 1, no padding: the first
	// column of patches is (1,2,4,5) read down the rows of col.
	g := ConvGeom{N: 1, C: 1, H: 3, W: 3, KH: 2, KW: 2, SH: 1, SW: 1}
	col := im2colRef(g, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	if col[0] != 1 || col[4] != 2 || col[8] != 4 || col[12] != 5 || col[15] != 9 {
		t.Fatalf("im2col %v", col)
	}
	r := rand.New(rand.NewSource(5))
	for _, g := range []ConvGeom{
		{N: 2, C: 3, H: 5, W: 4, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1},
		{N: 1, C: 2, H: 7, W: 6, KH: 3, KW: 2, SH: 2, SW: 3, PH: 1, PW: 0},
	} {
		if err := g.Check(); err != nil {
			t.Fatal(err)
		}
		oh, ow := g.Out()
		x := randF64(r, g.N*g.C*g.H*g.W)
		y := randF64(r, g.N*g.C*g.KH*g.KW*oh*ow)
		// <im2col(x), y> = <x, col2im(y)>
		if a, b := dot(im2colRef(g, x), y), dot(x, col2imRef(g, y)); math.Abs(a-b) > 1e-9*math.Abs(a) {
			t.Fatalf("%+v: col2im is not the adjoint: %v vs %v", g, a, b)
		}
	}
	if err := (ConvGeom{N: 1, C: 1, H: 2, W: 2, KH: 3, KW: 3, SH: 1, SW: 1}).Check(); err == nil {
		t.Fatal("window larger than input accepted")
	}
}

func TestBatchNormGradAndStats(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	n, c, hw := 3, 2, 4
	x := randF64(r, n*c*hw)
	gamma, beta := []float64{1.5, -0.7}, []float64{0.1, 0.2}
	rm, rv := []float64{0, 1}, []float64{1, 2}
	y, nm, nv, sm, si := bnTrainRef(n, c, hw, 1e-5, 0.1, x, gamma, beta, rm, rv)
	// Normalised output has mean beta and (biased) variance ~gamma^2.
	for ch := 0; ch < c; ch++ {
		var s, q, xs float64
		for j := 0; j < n*hw; j++ {
			k := ((j/hw)*c+ch)*hw + j%hw
			s += y[k]
			xs += x[k]
		}
		mean := s / float64(n*hw)
		for j := 0; j < n*hw; j++ {
			k := ((j/hw)*c+ch)*hw + j%hw
			q += (y[k] - mean) * (y[k] - mean)
		}
		if math.Abs(mean-beta[ch]) > 1e-9 || math.Abs(q/float64(n*hw)-gamma[ch]*gamma[ch]) > 1e-3 {
			t.Fatalf("channel %d: mean %v var %v", ch, mean, q/float64(n*hw))
		}
		if math.Abs(nm[ch]-(0.9*rm[ch]+0.1*xs/float64(n*hw))) > 1e-12 || math.Abs(sm[ch]-xs/float64(n*hw)) > 1e-12 {
			t.Fatalf("running mean %v", nm)
		}
	}
	_ = nv
	dy := randF64(r, len(x))
	loss := func(x []float64) float64 {
		y, _, _, _, _ := bnTrainRef(n, c, hw, 1e-5, 0.1, x, gamma, beta, rm, rv)
		return dot(y, dy)
	}
	dx, dg, db := bnBwdRef(n, c, hw, x, dy, gamma, sm, si)
	checkGrad(t, "batchnorm dx", x, loss, dx)
	lossG := func(g []float64) float64 {
		y, _, _, _, _ := bnTrainRef(n, c, hw, 1e-5, 0.1, x, g, beta, rm, rv)
		return dot(y, dy)
	}
	checkGrad(t, "batchnorm dgamma", append([]float64(nil), gamma...), lossG, dg)
	lossB := func(b []float64) float64 {
		y, _, _, _, _ := bnTrainRef(n, c, hw, 1e-5, 0.1, x, gamma, b, rm, rv)
		return dot(y, dy)
	}
	checkGrad(t, "batchnorm dbeta", append([]float64(nil), beta...), lossB, db)
	yi := bnInferRef(n, c, hw, 0, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, gamma, beta, rm, rv)
	if math.Abs(yi[0]-(1.5*1+0.1)) > 1e-12 || math.Abs(yi[4]-(-0.7*(5-1)/math.Sqrt(2)+0.2)) > 1e-12 {
		t.Fatalf("inference %v", yi[:5])
	}
}

func TestPoolingGrads(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	g := ConvGeom{N: 2, C: 2, H: 5, W: 6, KH: 3, KW: 2, SH: 2, SW: 2, PH: 1, PW: 1}
	oh, ow := g.Out()
	x := randF64(r, g.N*g.C*g.H*g.W)
	dy := randF64(r, g.N*g.C*oh*ow)
	_, arg := maxpoolRef(g, x)
	checkGrad(t, "maxpool", x, func(x []float64) float64 { y, _ := maxpoolRef(g, x); return dot(y, dy) }, maxpoolBwdRef(g, dy, arg))
	checkGrad(t, "avgpool", x, func(x []float64) float64 { return dot(avgpoolRef(g, x), dy) }, avgpoolBwdRef(g, dy))
	h := ConvGeom{N: 1, C: 1, H: 2, W: 2, KH: 2, KW: 2, SH: 2, SW: 2}
	if y, a := maxpoolRef(h, []float64{1, 4, 4, 2}); y[0] != 4 || a[0] != 1 {
		t.Fatalf("maxpool hand: %v %v (first maximum wins)", y, a)
	}
	if y := avgpoolRef(h, []float64{1, 4, 4, 3}); y[0] != 3 {
		t.Fatalf("avgpool hand: %v", y)
	}
}

func TestCapHand(t *testing.T) {
	x := []float64{3, 1, 4, 1, 5, 9, 2, 6 /* row 2: ties */, 2, 2, 0, 2, 1, 2, 0, 0}
	y := capRef(2, 8, 3, x)
	want := []float64{0, 0, 0, 0, 5, 9, 0, 6, 2, 2, 0, 2, 0, 0, 0, 0}
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("cap: got %v, want %v", y, want)
		}
	}
	if y := capRef(1, 3, 5, []float64{1, 2, 3}); y[0] != 1 || y[2] != 3 {
		t.Fatal("k > cols must keep all")
	}
	codes := fireCodesRef([]float32{0, 2, 0, 1}, []int32{1, 1, 0, 0})
	if codes[0] != 2 || codes[1] != 3 || codes[2] != 0 || codes[3] != 1 {
		t.Fatalf("codes %v", codes)
	}
}

func TestDropoutRNG(t *testing.T) {
	x := make([]float32, 100000)
	for i := range x {
		x[i] = 1
	}
	y, m := dropoutRef(0.25, 42, 0, x)
	var kept int
	var sum float64
	for i := range y {
		if m[i] != 0 {
			kept++
			if m[i] != float32(1/0.75) {
				t.Fatalf("mask %v", m[i])
			}
		}
		sum += float64(y[i])
	}
	if f := float64(kept) / float64(len(x)); math.Abs(f-0.75) > 0.01 {
		t.Fatalf("kept fraction %v", f)
	}
	if mean := sum / float64(len(x)); math.Abs(mean-1) > 0.015 {
		t.Fatalf("inverted dropout mean %v", mean)
	}
	// Counter-based: element i of a call at offset o equals element i+o
	// of a call at offset 0.
	_, m2 := dropoutRef(0.25, 42, 10, x[:100])
	for i := range m2 {
		if m2[i] != m[i+10] {
			t.Fatal("offset does not shift the stream")
		}
	}
	if uniformRef(1, 0) == uniformRef(2, 0) {
		t.Fatal("seeds give the same stream")
	}
}
