package cuda

import (
	"math"
	"math/rand"
	"testing"
)

func TestPlasticStepHand(t *testing.T) {
	nb := NetBatch{B: 2, V: 2, N: 2, M: 2, T: 1, K: 1, SharedInput: true, SharedRules: true, RNNRule: true, OutputRule: true}
	nb.Update.Eta = 1
	if err := nb.Check(); err != nil {
		t.Fatal(err)
	}
	s := &PlasticNets{
		Am: []float32{1, 0, 0, 1}, W: make([]float32, 8), Mg: []float32{1, 1, 1, 1, 0, 1, 1, 0},
		U: make([]float32, 8), Bias: make([]float32, 4), C: make([]float32, 4),
		Rule: []float32{0.1, 0.2, 0.3, 0.4}, Out: []float32{0, 0, 1, -1},
	}
	res := plasticStepRef(nb, s, []float32{1, 0, 0, 2}, []int32{1, 0})
	// Net 0: h = (1, 0), codes (1, 0), predicts 0, label 1: updated.
	// Net 1: h = (0, 2), codes (0, 1), predicts 0 = label: untouched.
	if res.Codes[0] != 1 || res.Codes[1] != 0 || res.Codes[2] != 0 || res.Codes[3] != 1 {
		t.Fatalf("codes %v", res.Codes)
	}
	if res.Preds[0] != 0 || res.Flags[0] != 1 || res.Preds[1] != 0 || res.Flags[1] != 0 {
		t.Fatalf("preds %v flags %v", res.Preds, res.Flags)
	}
	// W[i][j] += r[code_j][code_i]: W00 r[1][1]=.4, W01 r[0][1]=.2, W10 r[1][0]=.3, W11 r[0][0]=.1
	wantW := []float32{0.4, 0.2, 0.3, 0.1, 0, 0, 0, 0}
	// U row 1 (true label, b=0): += ro[code_j][0] = (1, 0); row 0 (predicted, b=1): += ro[code_j][1] = (-1, 0)
	wantU := []float32{-1, 0, 1, 0, 0, 0, 0, 0}
	for i := range wantW {
		if s.W[i] != wantW[i] || s.U[i] != wantU[i] {
			t.Fatalf("W %v (want %v), U %v (want %v)", s.W, wantW, s.U, wantU)
		}
	}
	// Every-example scheme with a multiplicative rule touches network 1 too.
	nb.EveryExample, nb.Update.Multiplicative = true, true
	nb.Update.Eta = 0.5
	if err := nb.Check(); err != nil {
		t.Fatal(err)
	}
	s.U = []float32{1, 1, 1, 1, 1, 1, 1, 1}
	plasticStepRef(nb, s, []float32{1, 0, 0, 2}, []int32{1, 0})
	// Net 1 after the step: U = 1 (logits 1, 1 -> pred 0 = label) so only
	// row 0 changes (b=0): U[0][j] *= 1 + 0.5*ro[code_j][0] = (1, 1.5).
	if s.U[4] != 1 || s.U[5] != 1.5 || s.U[6] != 1 || s.U[7] != 1 {
		t.Fatalf("multiplicative every-example U %v", s.U[4:])
	}
	for _, bad := range []NetBatch{{B: 1, V: 4, N: 2, M: 2, T: 0, K: 2}, {B: 1, V: 4, N: 2, M: 2, T: 1, K: 5}, {B: 1, V: 4, N: 2, M: 1, T: 1, K: 2}} {
		if err := bad.Check(); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// The device runs the forward products through the batched GEMM mapping;
// check that mapping against direct products for both input layouts.
func TestPlasticGemmMapping(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for _, shared := range []bool{true, false} {
		nb := NetBatch{B: 3, V: 6, N: 4, M: 3, T: 2, K: 3, SharedInput: shared}
		if err := nb.Check(); err != nil {
			t.Fatal(err)
		}
		nA := nb.B
		if shared {
			nA = 1
		}
		am, x := randSlice(r, nA*nb.V*nb.N), randSlice(r, nb.B*nb.N)
		w, h := randSlice(r, nb.B*nb.V*nb.V), randSlice(r, nb.B*nb.V)
		u := randSlice(r, nb.B*nb.M*nb.V)
		check := func(name string, call GemmCall, err error, a, b []float32, rows, k int, mat func(bi int) []float32, vec func(bi int) []float32) {
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, nb.B*rows)
			runGemmCall(call, a, b, got)
			for bi := 0; bi < nb.B; bi++ {
				m, v := mat(bi), vec(bi)
				for i := 0; i < rows; i++ {
					var s float64
					for j := 0; j < k; j++ {
						s += float64(m[i*k+j]) * float64(v[j])
					}
					if math.Abs(s-float64(got[bi*rows+i])) > 1e-5 {
						t.Fatalf("%s shared=%v: net %d row %d: %v want %v", name, shared, bi, i, got[bi*rows+i], s)
					}
				}
			}
		}
		call, err := nb.InputGemm()
		check("input", call, err, x, am, nb.V, nb.N, func(bi int) []float32 {
			if shared {
				return am
			}
			return am[bi*nb.V*nb.N:]
		}, func(bi int) []float32 { return x[bi*nb.N:] })
		call, err = nb.RecurrentGemm()
		check("recurrent", call, err, h, w, nb.V, nb.V, func(bi int) []float32 { return w[bi*nb.V*nb.V:] }, func(bi int) []float32 { return h[bi*nb.V:] })
		call, err = nb.OutputGemm()
		check("output", call, err, h, u, nb.M, nb.V, func(bi int) []float32 { return u[bi*nb.M*nb.V:] }, func(bi int) []float32 { return h[bi*nb.V:] })
	}
}
