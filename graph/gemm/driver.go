package gemm

import (
	"runtime"
	"sync"
	"unsafe"
)

// kernel is one micro-kernel with the blocking that suits it.
//
// The driver is the usual packed (Goto/BLIS) loop nest: for each nc-wide
// block of columns and kc-deep block of the inner dimension it packs B into
// nr-wide strips, then for each mc-tall block of rows packs A into mr-tall
// strips and runs the micro-kernel over every mr×nr tile of C.
type kernel[T float32 | float64] struct {
	name       string
	mr, nr     int
	kc, mc, nc int
	fn         func(kc int, a, b, c *T, ldc int, alpha, beta T, loadC int)

	pool  sync.Pool // *workspace[T]
	tasks sync.Pool // *task[T]
}

// workspace holds the packed panels of one goroutine; reused through a pool.
type workspace[T float32 | float64] struct {
	a, b []T
	tile []T
}

func (kn *kernel[T]) workspace() *workspace[T] {
	if w, ok := kn.pool.Get().(*workspace[T]); ok {
		return w
	}
	return &workspace[T]{
		a:    make([]T, roundUp(kn.mc, kn.mr)*kn.kc),
		b:    make([]T, roundUp(kn.nc, kn.nr)*kn.kc),
		tile: make([]T, kn.mr*kn.nr),
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

func unsafeSlice[T any](p *T, n int) []T { return unsafe.Slice(p, n) }

// parallelFlops is the smallest product (in multiply-adds) that is split
// across goroutines; below it the fork/join costs more than it saves.
const parallelFlops = 64 * 64 * 64

// gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices with
// arguments already checked as BLAS does.
func (kn *kernel[T]) gemm(aT, bT bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < parallelFlops {
		workers = 1
	}
	// Split along the longer side of C, in whole tiles: the other operand is
	// then packed by every worker, and it is the smaller one.
	splitM := m*kn.nr >= n*kn.mr
	var tiles, unit int
	if splitM {
		tiles, unit = (m+kn.mr-1)/kn.mr, kn.mr
	} else {
		tiles, unit = (n+kn.nr-1)/kn.nr, kn.nr
	}
	if workers > tiles {
		workers = tiles
	}
	if workers <= 1 {
		kn.serial(aT, bT, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j := jobPool.Get().(*job)
	per := (tiles + workers - 1) / workers * unit
	total := n
	if splitM {
		total = m
	}
	for lo := per; lo < total; lo += per {
		hi := min(lo+per, total)
		t := kn.task()
		*t = task[T]{kn: kn, j: j, aT: aT, bT: bT, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
		if splitM {
			t.m, t.c = hi-lo, c[lo*ldc:]
			if aT {
				t.a = a[lo:]
			} else {
				t.a = a[lo*lda:]
			}
		} else {
			t.n, t.c = hi-lo, c[lo:]
			if bT {
				t.b = b[lo*ldb:]
			} else {
				t.b = b[lo:]
			}
		}
		j.wg.Add(1)
		startWorker(t)
	}
	if splitM {
		kn.serial(aT, bT, min(per, m), n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	} else {
		kn.serial(aT, bT, m, min(per, n), k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	j.wg.Wait()
	jobPool.Put(j)
}

// task is the part of a product handed to a worker goroutine.
type task[T float32 | float64] struct {
	kn            *kernel[T]
	j             *job
	aT, bT        bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
}

func (kn *kernel[T]) task() *task[T] {
	if t, ok := kn.tasks.Get().(*task[T]); ok {
		return t
	}
	return new(task[T])
}

// run computes the task, recycles it and signals its job.
func (t *task[T]) run() {
	t.kn.serial(t.aT, t.bT, t.m, t.n, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.beta, t.c, t.ldc)
	j, kn := t.j, t.kn
	*t = task[T]{}
	kn.tasks.Put(t)
	j.wg.Done()
}

// serial runs the blocked loop nest on one goroutine.
func (kn *kernel[T]) serial(aT, bT bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ws := kn.workspace()
	mr, nr := kn.mr, kn.nr
	for jc := 0; jc < n; jc += kn.nc {
		nc := min(kn.nc, n-jc)
		for pc := 0; pc < k; pc += kn.kc {
			kc := min(kn.kc, k-pc)
			be := beta
			if pc > 0 {
				be = 1
			}
			loadC := 1
			if be == 0 {
				loadC = 0
			}
			packB(bT, b, ldb, pc, jc, kc, nc, nr, ws.b)
			for ic := 0; ic < m; ic += kn.mc {
				mc := min(kn.mc, m-ic)
				packA(aT, a, lda, ic, pc, mc, kc, mr, ws.a)
				for jr := 0; jr < nc; jr += nr {
					w := min(nr, nc-jr)
					bp := &ws.b[jr*kc]
					for ir := 0; ir < mc; ir += mr {
						h := min(mr, mc-ir)
						ap := &ws.a[ir*kc]
						ci := (ic+ir)*ldc + jc + jr
						if h == mr && w == nr {
							kn.fn(kc, ap, bp, &c[ci], ldc, alpha, be, loadC)
							continue
						}
						kn.fn(kc, ap, bp, &ws.tile[0], nr, 1, 0, 0)
						for i := 0; i < h; i++ {
							src := ws.tile[i*nr : i*nr+w]
							dst := c[ci+i*ldc : ci+i*ldc+w]
							if loadC == 0 {
								for j, v := range src {
									dst[j] = alpha * v
								}
							} else {
								for j, v := range src {
									dst[j] = alpha*v + be*dst[j]
								}
							}
						}
					}
				}
			}
		}
	}
	kn.pool.Put(ws)
}

// packA copies the mc×kc block of op(A) at (ic, pc) into mr-tall strips:
// strip s holds, for each p, the mr values A[ic+s*mr+i][pc+p] side by side,
// zero-padded past mc.
func packA[T float32 | float64](aT bool, a []T, lda, ic, pc, mc, kc, mr int, dst []T) {
	if aT {
		// op(A)[i][p] = a[p*lda+i]: each p is a contiguous run of mc values,
		// dealt out to the strips (reading every source line once).
		for p := 0; p < kc; p++ {
			off := (pc+p)*lda + ic
			deal(a[off:off+mc], mr, kc, dst[p*mr:])
		}
		return
	}
	// op(A)[i][p] = a[i*lda+p]: a transpose of each h×kc block.
	for is := 0; is < mc; is += mr {
		h := min(mr, mc-is)
		d := dst[is*kc : is*kc+mr*kc]
		transposeBlock(a[(ic+is)*lda+pc:], lda, h, kc, d, mr)
		for i := h; i < mr; i++ {
			for p := 0; p < kc; p++ {
				d[p*mr+i] = 0
			}
		}
	}
}

// packB copies the kc×nc block of op(B) at (pc, jc) into nr-wide strips:
// strip s holds, for each p, the nr values B[pc+p][jc+s*nr+j] side by side,
// zero-padded past nc.
func packB[T float32 | float64](bT bool, b []T, ldb, pc, jc, kc, nc, nr int, dst []T) {
	if !bT {
		for p := 0; p < kc; p++ {
			off := (pc+p)*ldb + jc
			deal(b[off:off+nc], nr, kc, dst[p*nr:])
		}
		return
	}
	// op(B)[p][j] = b[j*ldb+p]: a transpose of each w×kc block.
	for js := 0; js < nc; js += nr {
		w := min(nr, nc-js)
		d := dst[js*kc : js*kc+nr*kc]
		transposeBlock(b[(jc+js)*ldb+pc:], ldb, w, kc, d, nr)
		for j := w; j < nr; j++ {
			for p := 0; p < kc; p++ {
				d[p*nr+j] = 0
			}
		}
	}
}

// deal copies src in runs of r values to dst, dst+r*kc, dst+2*r*kc, ...
// (one row of every strip), zero-padding the last run to r values.
func deal[T float32 | float64](src []T, r, kc int, dst []T) {
	stride := r * kc
	s := 0
	for ; s+r <= len(src); s += r {
		copy(dst[:r], src[s:s+r])
		dst = dst[min(stride, len(dst)):]
	}
	if s < len(src) {
		n := copy(dst[:r], src[s:])
		clear(dst[n:r])
	}
}

// scale sets C = beta*C; beta == 0 writes zeros whatever C held (NaN too).
func scale[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// job is one fork/join of a parallel product.
type job struct{ wg sync.WaitGroup }

var jobPool = sync.Pool{New: func() any { return new(job) }}

// runner is a unit of work for the worker goroutines.
type runner interface{ run() }

var (
	workOnce sync.Once
	workCh   chan runner
)

// startWorker hands r to one of the long-lived worker goroutines (one per
// CPU, started on first use).
func startWorker(r runner) {
	workOnce.Do(func() {
		n := runtime.NumCPU()
		workCh = make(chan runner, n)
		for i := 0; i < n; i++ {
			go func() {
				for r := range workCh {
					r.run()
				}
			}()
		}
	})
	workCh <- r
}
