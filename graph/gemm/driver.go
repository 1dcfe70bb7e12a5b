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

// parallelMACs is the smallest product (in multiply-adds) that is split
// across goroutines; below it the fork/join costs more than it saves.
const parallelMACs = 1 << 19

// problem is one C = alpha*op(A)*op(B) + beta*C, or part of one. With cT
// set, the product computed is the transpose of what c holds: element
// (i, j) of the m×n product is c[j*ldc+i].
type problem[T float32 | float64] struct {
	aT, bT, cT    bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
}

// utilization is the fraction of the micro-kernel's lanes doing useful
// work on an m×n product.
func utilization(m, n, mr, nr int) float64 {
	return float64(m) / float64(roundUp(m, mr)) * float64(n) / float64(roundUp(n, nr))
}

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
	p := problem[T]{aT: aT, bT: bT, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc}
	// A narrow C (n much below nr) wastes most of each tile: compute
	// Cᵀ = op(B)ᵀ·op(A)ᵀ instead.
	if utilization(n, m, kn.mr, kn.nr) > 1.5*utilization(m, n, kn.mr, kn.nr) {
		p = problem[T]{aT: !bT, bT: !aT, cT: true, m: n, n: m, k: k, alpha: alpha, beta: beta, a: b, b: a, c: c, lda: ldb, ldb: lda, ldc: ldc}
	}
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < parallelMACs {
		workers = 1
	}
	// Split along the longer side of the product, in whole tiles: the other
	// operand is then packed by every worker, and it is the smaller one.
	splitM := p.m >= p.n
	var tiles, unit int
	if splitM {
		tiles, unit = (p.m+kn.mr-1)/kn.mr, kn.mr
	} else {
		tiles, unit = (p.n+kn.nr-1)/kn.nr, kn.nr
	}
	if workers > tiles {
		workers = tiles
	}
	if workers <= 1 {
		kn.serial(&p)
		return
	}
	j := jobPool.Get().(*job)
	per := (tiles + workers - 1) / workers * unit
	total := p.n
	if splitM {
		total = p.m
	}
	for lo := per; lo < total; lo += per {
		t := kn.task()
		t.kn, t.j, t.p = kn, j, p.part(splitM, lo, min(lo+per, total))
		j.wg.Add(1)
		startWorker(t)
	}
	first := p.part(splitM, 0, per)
	kn.serial(&first)
	j.wg.Wait()
	jobPool.Put(j)
}

// part returns rows (splitM) or columns [lo, hi) of p.
func (p *problem[T]) part(splitM bool, lo, hi int) problem[T] {
	q := *p
	if splitM {
		q.m = hi - lo
		if q.aT {
			q.a = p.a[lo:]
		} else {
			q.a = p.a[lo*p.lda:]
		}
	} else {
		q.n = hi - lo
		if q.bT {
			q.b = p.b[lo*p.ldb:]
		} else {
			q.b = p.b[lo:]
		}
	}
	if splitM != p.cT {
		q.c = p.c[lo*p.ldc:]
	} else {
		q.c = p.c[lo:]
	}
	return q
}

// task is the part of a product handed to a worker goroutine.
type task[T float32 | float64] struct {
	kn *kernel[T]
	j  *job
	p  problem[T]
}

func (kn *kernel[T]) task() *task[T] {
	if t, ok := kn.tasks.Get().(*task[T]); ok {
		return t
	}
	return new(task[T])
}

// run computes the task, recycles it and signals its job.
func (t *task[T]) run() {
	t.kn.serial(&t.p)
	j, kn := t.j, t.kn
	*t = task[T]{}
	kn.tasks.Put(t)
	j.wg.Done()
}

// serial runs the blocked loop nest on one goroutine.
func (kn *kernel[T]) serial(pr *problem[T]) {
	ws := kn.workspace()
	mr, nr := kn.mr, kn.nr
	m, n, k := pr.m, pr.n, pr.k
	alpha, c, ldc := pr.alpha, pr.c, pr.ldc
	for jc := 0; jc < n; jc += kn.nc {
		nc := min(kn.nc, n-jc)
		for pc := 0; pc < k; pc += kn.kc {
			kc := min(kn.kc, k-pc)
			be := pr.beta
			if pc > 0 {
				be = 1
			}
			loadC := 1
			if be == 0 {
				loadC = 0
			}
			packB(pr.bT, pr.b, pr.ldb, pc, jc, kc, nc, nr, ws.b)
			for ic := 0; ic < m; ic += kn.mc {
				mc := min(kn.mc, m-ic)
				packA(pr.aT, pr.a, pr.lda, ic, pc, mc, kc, mr, ws.a)
				for jr := 0; jr < nc; jr += nr {
					w := min(nr, nc-jr)
					bp := &ws.b[jr*kc]
					for ir := 0; ir < mc; ir += mr {
						h := min(mr, mc-ir)
						ap := &ws.a[ir*kc]
						if h == mr && w == nr && !pr.cT {
							kn.fn(kc, ap, bp, &c[(ic+ir)*ldc+jc+jr], ldc, alpha, be, loadC)
							continue
						}
						kn.fn(kc, ap, bp, &ws.tile[0], nr, 1, 0, 0)
						if pr.cT {
							mergeT(ws.tile, nr, h, w, alpha, be, c[(jc+jr)*ldc+ic+ir:], ldc)
						} else {
							merge(ws.tile, nr, h, w, alpha, be, c[(ic+ir)*ldc+jc+jr:], ldc)
						}
					}
				}
			}
		}
	}
	kn.pool.Put(ws)
}

// merge sets the h×w block at c to alpha*tile + be*c (be == 0: not read).
func merge[T float32 | float64](tile []T, nr, h, w int, alpha, be T, c []T, ldc int) {
	for i := 0; i < h; i++ {
		src := tile[i*nr : i*nr+w]
		dst := c[i*ldc : i*ldc+w]
		if be == 0 {
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

// mergeT is merge into the transpose: c[j*ldc+i] for tile element (i, j).
func mergeT[T float32 | float64](tile []T, nr, h, w int, alpha, be T, c []T, ldc int) {
	for j := 0; j < w; j++ {
		dst := c[j*ldc : j*ldc+h]
		for i := range dst {
			v := alpha * tile[i*nr+j]
			if be != 0 {
				v += be * dst[i]
			}
			dst[i] = v
		}
	}
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
		copyRun(dst[:r], src[s:s+r])
		dst = dst[min(stride, len(dst)):]
	}
	if s < len(src) {
		n := copy(dst[:r], src[s:])
		clear(dst[n:r])
	}
}

// copyRun is copy(dst, src) for len(dst) == len(src), inlined as fixed-size
// moves for the tile widths so that short runs do not pay for a call.
func copyRun[T float32 | float64](dst, src []T) {
	switch len(dst) {
	case 32:
		*(*[32]T)(dst) = [32]T(src)
	case 16:
		*(*[16]T)(dst) = [16]T(src)
	case 12:
		*(*[12]T)(dst) = [12]T(src)
	case 8:
		*(*[8]T)(dst) = [8]T(src)
	case 6:
		*(*[6]T)(dst) = [6]T(src)
	case 4:
		*(*[4]T)(dst) = [4]T(src)
	default:
		copy(dst, src)
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
