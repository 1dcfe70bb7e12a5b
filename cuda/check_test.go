package cuda

// Device-versus-CPU checks of every kernel on fresh random inputs
// (normwise relative error <= 1e-4, integer outputs exact), through the
// same Context API the rest of the code uses. The device is the GPU in
// gpu builds (testdev_gpu_test.go: skipped without one unless
// PLASTIC_REQUIRE_GPU=1) and the SIMT emulator otherwise
// (testdev_emu_test.go: skipped without clang++ unless
// PLASTIC_REQUIRE_DEVICE=1, which CI sets). On a GPU machine:
//
//	go test -tags gpu -count=1 -v ./cuda/
//	go test -tags gpu -run '^$' -bench GPU -benchtime 20x ./cuda/

import (
	"math"
	"math/rand"
	"os"
	"sync"
	"testing"
	"time"
)

var (
	gpuOnce sync.Once
	gpuCtx  *Context
	gpuErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if gpuCtx != nil {
		gpuCtx.Close()
	}
	os.Exit(code)
}

// gpu returns the shared test device (GPU or emulator), or skips.
func gpu(t testing.TB) *Context {
	t.Helper()
	gpuOnce.Do(func() { gpuCtx, gpuErr = openTestDevice() })
	if gpuErr != nil {
		if os.Getenv("PLASTIC_REQUIRE_DEVICE") == "1" || (!testDeviceEmulated && os.Getenv("PLASTIC_REQUIRE_GPU") == "1") {
			t.Fatalf("test device required (PLASTIC_REQUIRE_DEVICE/PLASTIC_REQUIRE_GPU): %v", gpuErr)
		}
		t.Skipf("no test device: %v", gpuErr)
	}
	return gpuCtx
}

// sz is n on a GPU and emu (smaller) on the emulator.
func sz(c *Context, n, emu int) int {
	if testDeviceEmulated {
		return emu
	}
	return n
}

func up[T elem](t testing.TB, c *Context, x []T) *Array {
	t.Helper()
	a, err := Upload(c, x)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func alloc(t testing.TB, c *Context, n int) *Array {
	t.Helper()
	a, err := c.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func down(t testing.TB, c *Context, a *Array) []float32 {
	t.Helper()
	x, err := Download[float32](c, a)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func downI(t testing.TB, c *Context, a *Array) []int32 {
	t.Helper()
	x, err := Download[int32](c, a)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// close32 asserts a normwise relative error <= 1e-4.
func close32[T float](t testing.TB, name string, got []float32, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var diff, scale float64
	worst := 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > diff || math.IsNaN(d) {
			diff, worst = d, i
		}
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if rel := diff / math.Max(scale, 1e-30); !(rel <= 1e-4) {
		t.Fatalf("%s: relative error %.3g at %d (got %v, want %v)", name, rel, worst, got[worst], want[worst])
	}
}

func exactI(t testing.TB, name string, got, want []int32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %d, want %d", name, i, got[i], want[i])
		}
	}
}

// rnd gives fresh inputs on every run, logging the seed to replay a failure.
func rnd(t testing.TB, salt int64) *rand.Rand {
	seed := salt + time.Now().UnixNano()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewSource(seed))
}

func TestDevElementwise(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 1)
	n := sz(c, 100003, 20011)
	a, b := randSlice(r, n), randSlice(r, n)
	da, db, dy := up(t, c, a), up(t, c, b), alloc(t, c, n)
	defer c.Free(da, db, dy)
	want := make([]float32, n)
	ok(t, c.Add(da, db, dy))
	for i := range want {
		want[i] = a[i] + b[i]
	}
	close32(t, "add", down(t, c, dy), want)
	ok(t, c.Mul(da, db, dy))
	for i := range want {
		want[i] = a[i] * b[i]
	}
	close32(t, "mul", down(t, c, dy), want)
	ok(t, c.Scale(-2.5, da, dy))
	for i := range want {
		want[i] = -2.5 * a[i]
	}
	close32(t, "scale", down(t, c, dy), want)
	ok(t, c.Axpy(0.5, db, dy))
	for i := range want {
		want[i] += 0.5 * b[i]
	}
	close32(t, "axpy", down(t, c, dy), want)
	ok(t, c.ReluFwd(da, dy))
	close32(t, "relu", down(t, c, dy), reluRef(a))
	ok(t, c.ReluBwd(da, db, dy))
	close32(t, "relu bwd", down(t, c, dy), reluBwdRef(a, b))
	rows, cols := sz(c, 1000, 150), 100
	bias := randSlice(r, cols)
	dbias := up(t, c, bias)
	defer c.Free(dbias)
	dx := up(t, c, a[:rows*cols])
	dout := alloc(t, c, rows*cols)
	defer c.Free(dx, dout)
	ok(t, c.BiasAdd(rows, cols, dx, dbias, dout))
	close32(t, "bias add", down(t, c, dout), biasAddRef(rows, cols, a[:rows*cols], bias))
	dsum := alloc(t, c, cols)
	defer c.Free(dsum)
	ok(t, c.ColSum(rows, cols, dx, dsum))
	close32(t, "colsum", down(t, c, dsum), colsumRef(rows, cols, a[:rows*cols]))
	seed, off := r.Uint64(), uint64(r.Intn(1000))
	dmask := alloc(t, c, n)
	defer c.Free(dmask)
	ok(t, c.DropoutFwd(0.3, seed, off, da, dy, dmask))
	wy, wm := dropoutRef(0.3, seed, off, a)
	close32(t, "dropout mask", down(t, c, dmask), wm)
	close32(t, "dropout", down(t, c, dy), wy)
	ok(t, c.DropoutBwd(dmask, db, dy))
	for i := range want {
		want[i] = b[i] * wm[i]
	}
	close32(t, "dropout bwd", down(t, c, dy), want)
	ok(t, c.Fill(dy, 3))
	for i := range want {
		want[i] = 3
	}
	close32(t, "fill", down(t, c, dy), want)
	if err := c.Add(da, dbias, dy); err == nil {
		t.Fatal("length mismatch accepted")
	}
}

func TestDevSoftmaxXent(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 2)
	for _, sh := range [][2]int{{128, 10}, {sz(c, 37, 5), 1000}, {3, sz(c, 5000, 3000)}} {
		rows, cols := sh[0], sh[1]
		x := randSlice(r, rows*cols)
		for i := range x {
			x[i] *= 4
		}
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32(r.Intn(cols))
		}
		dx, dl := up(t, c, x), up(t, c, labels)
		probs, loss, grad := alloc(t, c, rows*cols), alloc(t, c, rows), alloc(t, c, rows*cols)
		ok(t, c.SoftmaxXentFwd(rows, cols, dx, dl, probs, loss))
		wp, wl := softmaxXentRef(rows, cols, x, labels)
		close32(t, "softmax", down(t, c, probs), wp)
		close32(t, "xent loss", down(t, c, loss), wl)
		ok(t, c.SoftmaxXentBwd(rows, cols, 1/float32(rows), probs, dl, grad))
		close32(t, "xent grad", down(t, c, grad), softmaxXentBwdRef(rows, cols, 1/float32(rows), wp, labels))
		c.Free(dx, dl, probs, loss, grad)
	}
}

func TestDevConvPool(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 3)
	for _, g := range []ConvGeom{
		{N: 8, C: 3, H: 32, W: 32, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1},
		{N: 4, C: 16, H: 15, W: 13, KH: 3, KW: 2, SH: 2, SW: 3, PH: 1, PW: 1},
		{N: 2, C: 5, H: 8, W: 8, KH: 2, KW: 2, SH: 2, SW: 2},
	} {
		in, ncol, nout := g.Sizes()
		x := randSlice(r, in)
		dx, dcol, dback := up(t, c, x), alloc(t, c, ncol), alloc(t, c, in)
		// The layout models' device convolutions use: every image's
		// patches side by side (row r of image n at r*N*P + n*P).
		ok(t, c.linear("pl_im2col_t", ncol, append(g.convArgs(), dx.Ptr(), dcol.Ptr())...))
		col := down(t, c, dcol)
		close32(t, "im2col_t", col, imagesSideBySide(g, im2colRef(g, x), false))
		ok(t, c.linear("pl_col2im_t", in, append(g.convArgs(), dcol.Ptr(), dback.Ptr())...))
		close32(t, "col2im_t", down(t, c, dback), col2imRef(g, imagesSideBySide(g, col, true)))

		dy, darg, dgrad := alloc(t, c, nout), alloc(t, c, nout), alloc(t, c, in)
		ok(t, c.MaxPoolFwd(g, dx, dy, darg))
		wy, warg := maxpoolRef(g, x)
		close32(t, "maxpool", down(t, c, dy), wy)
		exactI(t, "maxpool argmax", downI(t, c, darg), warg)
		gy := randSlice(r, nout)
		dgy := up(t, c, gy)
		ok(t, c.MaxPoolBwd(g, dgy, darg, dgrad))
		close32(t, "maxpool bwd", down(t, c, dgrad), maxpoolBwdRef(g, gy, warg))
		ok(t, c.AvgPoolFwd(g, dx, dy))
		close32(t, "avgpool", down(t, c, dy), avgpoolRef(g, x))
		ok(t, c.AvgPoolBwd(g, dgy, dgrad))
		close32(t, "avgpool bwd", down(t, c, dgrad), avgpoolBwdRef(g, gy))
		c.Free(dx, dcol, dback, dy, darg, dgrad, dgy)
	}
}

func TestDevBatchNorm(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 4)
	for _, b := range []BatchNorm{{N: 128, C: sz(c, 256, 12), HW: 1, Eps: 1e-5, Momentum: 0.1}, {N: sz(c, 16, 4), C: sz(c, 64, 6), HW: 64, Eps: 1e-5, Momentum: 0.1}} {
		n := b.N * b.C * b.HW
		x, dy := randSlice(r, n), randSlice(r, n)
		for i := range x {
			x[i] = 3*x[i] + 1
		}
		gamma, beta, rm, rv := randSlice(r, b.C), randSlice(r, b.C), randSlice(r, b.C), randSlice(r, b.C)
		for i := range rv {
			rv[i] = float32(math.Abs(float64(rv[i]))) + 0.5
		}
		dx, ddy, dg, db, drm, drv := up(t, c, x), up(t, c, dy), up(t, c, gamma), up(t, c, beta), up(t, c, rm), up(t, c, rv)
		y, sm, si, gx, gg, gb := alloc(t, c, n), alloc(t, c, b.C), alloc(t, c, b.C), alloc(t, c, n), alloc(t, c, b.C), alloc(t, c, b.C)
		ok(t, c.BatchNormTrain(b, dx, dg, db, y, drm, drv, sm, si))
		wy, wrm, wrv, wsm, wsi := bnTrainRef(b.N, b.C, b.HW, b.Eps, b.Momentum, x, gamma, beta, rm, rv)
		close32(t, "bn train y", down(t, c, y), wy)
		close32(t, "bn running mean", down(t, c, drm), wrm)
		close32(t, "bn running var", down(t, c, drv), wrv)
		close32(t, "bn saved mean", down(t, c, sm), wsm)
		close32(t, "bn saved invstd", down(t, c, si), wsi)
		ok(t, c.BatchNormBwd(b, dx, ddy, dg, sm, si, gx, gg, gb))
		wdx, wdg, wdb := bnBwdRef(b.N, b.C, b.HW, x, dy, gamma, wsm, wsi)
		close32(t, "bn dx", down(t, c, gx), wdx)
		close32(t, "bn dgamma", down(t, c, gg), wdg)
		close32(t, "bn dbeta", down(t, c, gb), wdb)
		ok(t, c.BatchNormInfer(b, dx, dg, db, drm, drv, y))
		close32(t, "bn infer", down(t, c, y), bnInferRef(b.N, b.C, b.HW, b.Eps, x, gamma, beta, wrm, wrv))
		c.Free(dx, ddy, dg, db, drm, drv, y, sm, si, gx, gg, gb)
	}
}

func TestDevCapCodesPredict(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 5)
	// rows of up to SmallRowCols entries take pl_cap_small, longer ones
	// pl_cap_topk: both with ties (the 10-row cases), k = 0 and k = cols
	for _, sh := range [][3]int{{16, 1000, 500}, {10, 100, 50}, {7, 33, 1}, {4, 50, 50}, {4, 50, 0}, {3, 5000, 17},
		{10, 300, 150}, {4, 200, 200}, {4, 200, 0}, {600, 24, 12}} {
		rows, cols, k := sh[0], sh[1], sh[2]
		x := reluRef(randSlice(r, rows*cols)) // many exact zeros, like relu outputs
		if rows == 10 {
			for i := range x { // heavy ties
				x[i] = float32(int(x[i] * 3))
			}
		}
		dx, dy := up(t, c, x), alloc(t, c, rows*cols)
		ok(t, c.CapTopK(rows, cols, k, dx, dy))
		close32(t, "cap", down(t, c, dy), capRef(rows, cols, k, x))
		got, want := down(t, c, dy), capRef(rows, cols, k, x)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("cap rows=%d cols=%d k=%d: [%d] = %v, want %v (must be exact)", rows, cols, k, i, got[i], want[i])
			}
		}
		codes0 := make([]int32, rows*cols)
		for i := range codes0 {
			codes0[i] = int32(r.Intn(4))
		}
		for _, topk := range []bool{false, true} {
			dcodes := up(t, c, codes0)
			ok(t, c.CapFire(rows, cols, k, topk, dx, dy, dcodes))
			wantCodes := fireCodesRef(want, codes0)
			if topk {
				kept := capKeptRef(rows, cols, k, x)
				for i := range wantCodes {
					wantCodes[i] = codes0[i] << 1
					if kept[i] {
						wantCodes[i] |= 1
					}
				}
			}
			exactI(t, "codes", downI(t, c, dcodes), wantCodes)
			got := down(t, c, dy)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("cap+fire rows=%d cols=%d k=%d: [%d] = %v, want %v", rows, cols, k, i, got[i], want[i])
				}
			}
			c.Free(dcodes)
		}
		c.Free(dx, dy)
	}
	for _, sh := range [][2]int{{300, 10}, {20, 300}} { // pl_predict_small, pl_predict
		rows, cols := sh[0], sh[1]
		logits := randSlice(r, rows*cols)
		for i := 0; i < rows; i += 3 { // ties at the maximum: the first wins
			logits[i*cols+cols/2] = 5
			logits[i*cols+cols-1] = logits[i*cols+cols/2]
			logits[i*cols+cols/2+1] = logits[i*cols+cols/2]
		}
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32(r.Intn(cols))
		}
		dl, dlab, dp, df := up(t, c, logits), up(t, c, labels), alloc(t, c, rows), alloc(t, c, rows)
		ok(t, c.Predict(rows, cols, dl, dlab, dp, df))
		wp, wf := predictRef(rows, cols, logits, labels)
		exactI(t, "preds", downI(t, c, dp), wp)
		exactI(t, "flags", downI(t, c, df), wf)
		c.Free(dl, dlab, dp, df)
	}
	data := randSlice(r, 50*7)
	idx := []int32{3, 0, 49, 3}
	dd, di, dout := up(t, c, data), up(t, c, idx), alloc(t, c, 4*7)
	ok(t, c.GatherRows(7, dd, di, dout))
	var wg []float32
	for _, i := range idx {
		wg = append(wg, data[int(i)*7:int(i+1)*7]...)
	}
	close32(t, "gather", down(t, c, dout), wg)
	c.Free(dd, di, dout)
}

func TestDevRules(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 6)
	for _, u := range []RuleUpdate{
		{B: 5, V: 100, M: 10, S: 8, Eta: 0.01, OnlyFlagged: true, RuleStride: 64, OutStride: 16},
		{B: 3, V: 64, M: 4, S: 2, Eta: 0.05, Multiplicative: true, AllRows: true},
		{B: 6, V: 40, M: 3, S: 4, Eta: 0.03, BothColumns: true},
		{B: 6, V: 40, M: 3, S: 4, Eta: 0.03, Multiplicative: true, BothColumns: true},
		{B: 4, V: 40, M: 3, S: 4, Eta: 0.03, AllRows: true, BothColumns: true}, // no effect with all rows
	} {
		w, U, mg := randSlice(r, u.B*u.V*u.V), randSlice(r, u.B*u.M*u.V), make([]float32, u.B*u.V*u.V)
		for i := range mg {
			if r.Intn(2) == 1 {
				mg[i] = 1
			}
		}
		const n = 7
		a, amin := randSlice(r, u.B*u.V*n), make([]float32, u.B*u.V*n)
		for i := range amin {
			amin[i] = float32(r.Intn(2))
		}
		u.InStride = u.RuleStride / u.S
		codes, labels, preds, flags := make([]int32, u.B*u.V), make([]int32, u.B), make([]int32, u.B), make([]int32, u.B)
		for i := range codes {
			codes[i] = int32(r.Intn(u.S))
		}
		for b := range labels {
			labels[b], preds[b], flags[b] = int32(r.Intn(u.M)), int32(r.Intn(u.M)), int32(r.Intn(2))
		}
		preds[0], flags[0] = labels[0], 1 // a right prediction that updates (every example)
		preds[1], flags[1] = (labels[1]+1)%int32(u.M), 1
		nr, no := u.S*u.S, 2*u.S
		if u.RuleStride > 0 {
			nr, no = u.B*u.RuleStride, u.B*u.OutStride
		}
		rule, ro := randSlice(r, nr), randSlice(r, no)
		ni := u.S
		if u.InStride > 0 {
			ni = u.B * u.InStride
		}
		in := randSlice(r, ni)
		dw, dU, dc, dl, dp, df, dr, dro := up(t, c, w), up(t, c, U), up(t, c, codes), up(t, c, labels), up(t, c, preds), up(t, c, flags), up(t, c, rule), up(t, c, ro)
		dmg, da, dmin, din := up(t, c, mg), up(t, c, a), up(t, c, amin), up(t, c, in)
		ok(t, c.RuleUpdate(u, dw, dmg, dc, dr, df))
		close32(t, "rule update", down(t, c, dw), ruleUpdateRef(u, w, mg, codes, rule, flags))
		ok(t, c.OutputRule(u, dU, dc, dl, dp, dro, df))
		close32(t, "output rule", down(t, c, dU), outputRuleRef(u, U, codes, labels, preds, ro, flags))
		ok(t, c.InputRule(u, n, da, dmin, dc, din, df))
		close32(t, "input rule", down(t, c, da), inputRuleRef(u, n, a, amin, codes, in, flags))
		c.Free(dw, dU, dc, dl, dp, df, dr, dro, dmg, da, dmin, din)
	}
}

func TestDevGemm(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 8)
	m, n, k := 129, 65, 257
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			colsA, rowsA := k, m
			if ta {
				colsA, rowsA = m, k
			}
			colsB, rowsB := n, k
			if tb {
				colsB, rowsB = k, n
			}
			a, b := randSlice(r, rowsA*colsA), randSlice(r, rowsB*colsB)
			call, err := RowMajorGemm(ta, tb, m, n, k, colsA, colsB, n)
			ok(t, err)
			da, db, dc := up(t, c, a), up(t, c, b), alloc(t, c, m*n)
			ok(t, c.Gemm(call, 1, da, db, 0, dc))
			close32(t, "gemm", down(t, c, dc), naiveMatMul(ta, tb, m, n, k, a, colsA, b, colsB))
			c.Free(da, db, dc)
		}
	}
	batch := 7
	a, b := randSlice(r, m*k), randSlice(r, batch*k*n)
	call, err := RowMajorGemmBatched(false, false, m, n, k, k, n, n, 0, int64(k*n), int64(m*n), batch)
	ok(t, err)
	da, db, dc := up(t, c, a), up(t, c, b), alloc(t, c, batch*m*n)
	ok(t, c.Gemm(call, 1, da, db, 0, dc))
	var want []float32
	for i := 0; i < batch; i++ {
		want = append(want, naiveMatMul(false, false, m, n, k, a, k, b[i*k*n:], n)...)
	}
	close32(t, "strided batched gemm", down(t, c, dc), want)
	c.Free(da, db, dc)
}

func TestDevPlasticTrain(t *testing.T) {
	c := gpu(t)
	r := rnd(t, 9)
	for _, tc := range []struct {
		shared, topk, mult, input, every, both bool
	}{{true, false, false, false, false, false}, {false, true, false, true, true, false}, {false, false, true, true, false, false},
		{true, true, false, false, true, true}, {false, false, true, false, true, true}} {
		nb := NetBatch{B: 4, V: 64, N: 20, M: 5, T: 3, K: 16, SharedInput: tc.shared, TopKFiring: tc.topk, RNNRule: true, OutputRule: true,
			InputRule: tc.input, EveryExample: tc.every}
		nb.Update.Eta, nb.Update.Multiplicative, nb.Update.BothColumns = 0.01, tc.mult, tc.both
		ok(t, nb.Check())
		nA := nb.B
		if tc.shared {
			nA = 1
		}
		s := &PlasticNets{Am: randSlice(r, nA*nb.V*nb.N), W: randSlice(r, nb.B*nb.V*nb.V), Mg: make([]float32, nb.B*nb.V*nb.V),
			U: randSlice(r, nb.B*nb.M*nb.V), Bias: make([]float32, nb.B*nb.V), C: make([]float32, nb.B*nb.M),
			Rule: randSlice(r, nb.B*nb.Update.S*nb.Update.S), Out: randSlice(r, nb.B*nb.Update.S*2), In: randSlice(r, nb.B*nb.Update.S)}
		for i := range s.Mg {
			if r.Float64() < 0.5 {
				s.Mg[i] = 1
			}
			s.W[i] *= s.Mg[i]
		}
		if tc.input {
			s.Min = make([]float32, len(s.Am))
			for i := range s.Min {
				if r.Float64() < 0.5 {
					s.Min[i] = 1
				}
				s.Am[i] *= s.Min[i]
			}
		}
		rows := 100
		data := reluRef(randSlice(r, rows*nb.N))
		steps := 20
		idx, labels := make([]int32, steps*nb.B), make([]int32, steps*nb.B)
		for i := range idx {
			idx[i] = int32(r.Intn(rows))
			labels[i] = int32(r.Intn(nb.M))
		}
		d, err := c.NewDevicePlastic(nb, s)
		ok(t, err)
		ok(t, d.SetData(data))
		ok(t, d.Train(idx, labels))
		var last PlasticStepResult
		right := make([]int32, nb.B)
		for st := 0; st < steps; st++ {
			x := make([]float32, 0, nb.B*nb.N)
			for b := 0; b < nb.B; b++ {
				i := int(idx[st*nb.B+b])
				x = append(x, data[i*nb.N:(i+1)*nb.N]...)
			}
			last = plasticStepRef(nb, s, x, labels[st*nb.B:(st+1)*nb.B])
			for b, f := range last.Flags {
				right[b] += 1 - f
			}
		}
		st, err := d.State()
		ok(t, err)
		close32(t, "plastic W", st.W, s.W)
		close32(t, "plastic U", st.U, s.U)
		close32(t, "plastic A", st.Am, s.Am)
		close32(t, "plastic h", st.Last.H, last.H)
		exactI(t, "plastic codes", st.Last.Codes, last.Codes)
		exactI(t, "plastic preds", st.Last.Preds, last.Preds)
		cnt, err := d.Counts()
		ok(t, err)
		exactI(t, "right predictions", cnt, right)
		ok(t, d.Free())
	}
}
