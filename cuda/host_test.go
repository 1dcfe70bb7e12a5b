package cuda

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"
)

func TestKernelTable(t *testing.T) {
	want := []string{"pl_add", "pl_mul", "pl_scale", "pl_relu_fwd", "pl_relu_bwd", "pl_bias_add",
		"pl_dropout_fwd", "pl_dropout_bwd", "pl_softmax_xent_fwd", "pl_softmax_xent_bwd", "pl_colsum",
		"pl_bn_fwd_train", "pl_bn_fwd_infer", "pl_bn_bwd", "pl_maxpool_fwd",
		"pl_maxpool_bwd", "pl_avgpool_fwd", "pl_avgpool_bwd", "pl_cap_topk", "pl_count_ok", "pl_input_rule",
		"pl_rule_update", "pl_output_rule", "pl_predict", "pl_gather_rows", "pl_opt_sgd", "pl_opt_adam",
		"pl_np_pass1", "pl_np_pass2", "pl_np_apply", "pl_im2col_t", "pl_col2im_t", "pl_bias_act_drop", "pl_add_group", "pl_count_ok_group"}
	for _, n := range want {
		if _, ok := kernelSigs[n]; !ok {
			t.Errorf("kernel %s missing from the source", n)
		}
	}
	if got := kernelSigs["pl_opt_sgd"]; got != "ipp"+"fff"+"ppp"+"p" {
		t.Errorf("pl_opt_sgd signature %q", got)
	}
	if got := kernelSigs["pl_dropout_fwd"]; got != "ifuuppp" {
		t.Errorf("pl_dropout_fwd signature %q", got)
	}
	src, err := KernelSource(BlockSize)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src, "#define PL_BLOCK 256\n") {
		t.Errorf("source does not start with the block size: %q", src[:40])
	}
	for _, pair := range []string{"{}", "()", "[]"} {
		if o, c := strings.Count(src, pair[:1]), strings.Count(src, pair[1:]); o != c {
			t.Errorf("unbalanced %s in the kernel source: %d vs %d", pair, o, c)
		}
	}
	if strings.Contains(src, "#include") {
		t.Error("kernel source includes headers; NVRTC has none here")
	}
	for _, b := range []int{0, 31, 96, 2048} {
		if _, err := KernelSource(b); err == nil {
			t.Errorf("block %d accepted", b)
		}
	}
	if _, err := parseSigs(`extern "C" __global__ void k(double x) {}`); err == nil {
		t.Error("double parameter accepted")
	}
}

func TestCheckArgs(t *testing.T) {
	ok := []any{int32(4), DevPtr(1), DevPtr(2), DevPtr(3)}
	if err := checkArgs("pl_add", ok); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]any{
		{int32(4), DevPtr(1), DevPtr(2)},
		{float32(4), DevPtr(1), DevPtr(2), DevPtr(3)},
		{4, DevPtr(1), DevPtr(2), DevPtr(3)},
	} {
		if err := checkArgs("pl_add", bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
	if err := checkArgs("pl_nope", nil); err == nil || !strings.Contains(err.Error(), "pl_nope") {
		t.Errorf("unknown kernel: %v", err)
	}
}

func TestLaunchGeometry(t *testing.T) {
	for _, n := range []int64{0, 1, 255, 256, 257, 1 << 20, 1 << 30} {
		l, err := Linear(n, 256)
		if err != nil {
			t.Fatal(err)
		}
		g := int64(l.Grid[0])
		if g < 1 || g > MaxGridX || l.Block[0] != 256 {
			t.Fatalf("n=%d: %+v", n, l)
		}
		// Grid-stride coverage: the last thread's first index plus the
		// stride walk reaches every element.
		if g < MaxGridX && g*256 < n {
			t.Fatalf("n=%d: %d blocks do not cover", n, g)
		}
		if n > 0 && (g-1)*256 >= n {
			t.Fatalf("n=%d: %d blocks, one idle", n, g)
		}
	}
	if l, _ := Rows(100000, 128); l.Grid[0] != MaxGridX {
		t.Fatalf("rows not capped: %+v", l)
	}
	if l, _ := Rows(7, 128); l.Grid[0] != 7 {
		t.Fatalf("rows: %+v", l)
	}
	if _, err := Linear(10, 100); err == nil {
		t.Fatal("block 100 accepted")
	}
	if _, err := checkCount("n", 1<<31); err == nil {
		t.Fatal("2^31 accepted as an int")
	}
}

func TestPackArgs(t *testing.T) {
	buf, off, err := packArgs([]any{int32(-2), DevPtr(0x1122334455667788), float32(1.5), uint64(7)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 8, 16, 24}; len(off) != 4 || off[0] != want[0] || off[1] != want[1] || off[2] != want[2] || off[3] != want[3] {
		t.Fatalf("offsets %v, want %v", off, want)
	}
	if len(buf) != 32 || buf[0] != 0xfe || buf[3] != 0xff || buf[8] != 0x88 || buf[15] != 0x11 || buf[24] != 7 {
		t.Fatalf("buffer % x", buf)
	}
	if math.Float32frombits(uint32(buf[16])|uint32(buf[17])<<8|uint32(buf[18])<<16|uint32(buf[19])<<24) != 1.5 {
		t.Fatal("float not packed")
	}
	if _, _, err := packArgs([]any{int64(1)}); err == nil {
		t.Fatal("int64 accepted")
	}
}

// naiveMatMul is C = op(A) op(B) for row-major operands with row strides.
func naiveMatMul(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float32
				if transA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if transB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			c[i*n+j] = float32(s)
		}
	}
	return c
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// runGemmCall executes a mapped call with the column-major reference, the
// way the device layer hands pointers to cuBLAS.
func runGemmCall(c GemmCall, a, b, out []float32) {
	first, second := a, b
	if c.FirstIsB {
		first, second = b, a
	}
	for i := 0; i < c.Batch; i++ {
		sgemmColMajor(c.TransA, c.TransB, c.M, c.N, c.K, 1, first[int64(i)*c.StrideA:], c.LdA,
			second[int64(i)*c.StrideB:], c.LdB, 0, out[int64(i)*c.StrideC:], c.LdC)
	}
}

func TestRowMajorGemmMapping(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	m, n, k := 5, 7, 3
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
			lda, ldb, ldc := colsA+2, colsB+1, n+3 // padded rows
			a, b := randSlice(r, rowsA*lda), randSlice(r, rowsB*ldb)
			call, err := RowMajorGemm(ta, tb, m, n, k, lda, ldb, ldc)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, m*ldc)
			runGemmCall(call, a, b, got)
			want := naiveMatMul(ta, tb, m, n, k, a, lda, b, ldb)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					if d := got[i*ldc+j] - want[i*n+j]; math.Abs(float64(d)) > 1e-5 {
						t.Fatalf("ta=%v tb=%v C[%d][%d] = %v, want %v", ta, tb, i, j, got[i*ldc+j], want[i*n+j])
					}
				}
			}
		}
	}
	if _, err := RowMajorGemm(false, false, 2, 3, 4, 3, 3, 3); err == nil {
		t.Fatal("lda < k accepted")
	}
	if _, err := RowMajorGemm(false, false, 2, 3, 4, 4, 2, 3); err == nil {
		t.Fatal("ldb < n accepted")
	}
	if _, err := RowMajorGemmBatched(false, false, 2, 3, 4, 4, 3, 3, 8, 12, 5, 2); err == nil {
		t.Fatal("overlapping C strides accepted")
	}
}

func TestRowMajorGemmBatchedSharedA(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	m, n, k, batch := 4, 2, 3, 3
	a := randSlice(r, m*k) // shared
	b := randSlice(r, batch*k*n)
	call, err := RowMajorGemmBatched(false, false, m, n, k, k, n, n, 0, int64(k*n), int64(m*n), batch)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, batch*m*n)
	runGemmCall(call, a, b, got)
	for i := 0; i < batch; i++ {
		want := naiveMatMul(false, false, m, n, k, a, k, b[i*k*n:], n)
		for j := range want {
			if d := got[i*m*n+j] - want[j]; math.Abs(float64(d)) > 1e-5 {
				t.Fatalf("batch %d elem %d: %v want %v", i, j, got[i*m*n+j], want[j])
			}
		}
	}
}

type fakeAlloc struct {
	next       DevPtr
	live       map[DevPtr]int64
	limit, use int64
}

func (f *fakeAlloc) Alloc(n int64) (DevPtr, error) {
	if f.use+n > f.limit {
		return 0, errors.New("out of memory")
	}
	f.next += 1 << 20
	f.live[f.next] = n
	f.use += n
	return f.next, nil
}

func (f *fakeAlloc) Free(p DevPtr) error {
	n, ok := f.live[p]
	if !ok {
		return errors.New("double free")
	}
	delete(f.live, p)
	f.use -= n
	return nil
}

func TestSizeClass(t *testing.T) {
	prev := int64(0)
	for n := int64(1); n < 1<<22; n += 1 + n/7 {
		c := SizeClass(n)
		if c < n || c < minClass || (n > minClass && float64(c) > 1.25*float64(n)) {
			t.Fatalf("SizeClass(%d) = %d", n, c)
		}
		if c < prev {
			t.Fatalf("SizeClass not monotone at %d", n)
		}
		if SizeClass(c) != c {
			t.Fatalf("class %d is not its own class", c)
		}
		prev = c
	}
	if SizeClass(1000) != 1024 || SizeClass(1025) != 1280 || SizeClass(1<<20) != 1<<20 {
		t.Fatalf("classes: %d %d %d", SizeClass(1000), SizeClass(1025), SizeClass(1<<20))
	}
}

func TestPoolReuseAndOOM(t *testing.T) {
	fa := &fakeAlloc{live: map[DevPtr]int64{}, limit: 10000}
	p := NewPool(fa)
	// A "training step" allocating the same shapes twice: the second
	// step must not reach the driver.
	step := func() {
		var bufs []Buffer
		for _, n := range []int64{100, 1000, 1000, 3000} {
			b, err := p.Get(n)
			if err != nil {
				t.Fatal(err)
			}
			bufs = append(bufs, b)
		}
		for _, b := range bufs {
			if err := p.Put(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	step()
	allocs := p.Stats().DriverAllocs
	step()
	if s := p.Stats(); s.DriverAllocs != allocs || s.Hits != 4 || s.InUse != 0 {
		t.Fatalf("second step reached the driver: %+v", s)
	}
	if err := p.Put(Buffer{Ptr: 12345}); err == nil {
		t.Fatal("foreign Put accepted")
	}
	// 8192 bytes do not fit beside the 5632 cached: the pool must release
	// its cache and retry.
	b, err := p.Get(8000)
	if err != nil {
		t.Fatalf("OOM retry failed: %v", err)
	}
	if s := p.Stats(); s.Cached != 0 || s.InUse != 8192 {
		t.Fatalf("after retry: %+v", s)
	}
	if _, err := p.Get(5000); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("real OOM: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Put(b); err != nil || len(fa.live) != 0 {
		t.Fatalf("close leaked %d blocks (%v)", len(fa.live), err)
	}
	if _, err := p.Get(1); err == nil {
		t.Fatal("Get after Close")
	}
}

func TestErrorNames(t *testing.T) {
	name, _ := driverResultName(100)
	e := &Error{Call: "cuInit", Code: 100, Name: name}
	if e.Error() != "cuda: cuInit: CUDA_ERROR_NO_DEVICE (100)" {
		t.Fatal(e.Error())
	}
	if n, _ := driverResultName(12345); n != "CUresult 12345" {
		t.Fatal(n)
	}
	if n, _ := cublasStatusName(7); n != "CUBLAS_STATUS_INVALID_VALUE" {
		t.Fatal(n)
	}
}

func TestShapeChecks(t *testing.T) {
	if err := checkLens("op", need{"x", 3, 3}); err != nil {
		t.Fatal(err)
	}
	err := checkLens("pl_add", need{"a", 3, 3}, need{"y", -2, 30})
	if err == nil || err.Error() != "cuda: pl_add: y has -2 elements, want 30" {
		t.Fatal(err)
	}
	g := ConvGeom{N: 2, C: 3, H: 5, W: 4, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1}
	in, col, out := g.Sizes()
	if in != 120 || col != 2*3*9*20 || out != 120 {
		t.Fatal(in, col, out)
	}
	a := append(g.convArgs(), DevPtr(0), DevPtr(0))
	if err := checkArgs("pl_im2col_t", a); err != nil {
		t.Fatal(err)
	}
	if a[6] != int32(1) || a[8] != int32(1) || a[10] != int32(5) {
		t.Fatalf("conv args %v", a)
	}
	p := append(g.poolArgs(), DevPtr(0), DevPtr(0), DevPtr(0))
	if err := checkArgs("pl_maxpool_fwd", p); err != nil {
		t.Fatal(err)
	}
}

// sgemmColMajor is a reference column-major SGEMM with BLAS/cuBLAS
// semantics (element (i,j) of a matrix X with leading dimension ld is
// X[i + j*ld]); it checks GemmCall's mapping without a GPU.
func sgemmColMajor(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float32
				if transA {
					av = a[l+i*lda]
				} else {
					av = a[i+l*lda]
				}
				if transB {
					bv = b[j+l*ldb]
				} else {
					bv = b[l+j*ldb]
				}
				s += float64(av) * float64(bv)
			}
			c[i+j*ldc] = alpha*float32(s) + beta*c[i+j*ldc]
		}
	}
}
