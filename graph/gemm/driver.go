package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
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
	// fnInd is fn with B given as kc addresses of nr values (PanelBRows).
	fnInd func(kc int, a *T, b **T, c *T, ldc int, alpha, beta T, loadC int)

	pool sync.Pool // *workspace[T]
	jobs sync.Pool // *job[T]
}

// workspace holds the packed panels of one goroutine; reused through a pool.
type workspace[T float32 | float64] struct {
	a, b []T
	tile []T
	bt   []T  // nr×kc block of an implicit Bᵀ (PanelBT)
	ptrs []*T // kc row addresses of a strip of B (PanelBRows)
}

func (kn *kernel[T]) workspace() *workspace[T] {
	if w, ok := kn.pool.Get().(*workspace[T]); ok {
		return w
	}
	return &workspace[T]{
		a:    make([]T, roundUp(kn.mc, kn.mr)*kn.kc),
		b:    make([]T, roundUp(kn.nc, kn.nr)*kn.kc),
		tile: make([]T, kn.mr*kn.nr),
		bt:   make([]T, kn.nr*kn.kc),
		ptrs: make([]*T, kn.kc),
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

func unsafeSlice[T any](p *T, n int) []T { return unsafe.Slice(p, n) }

// parallelMACs is the smallest product (in multiply-adds) that is split
// across goroutines; below it the fork/join costs more than it saves.
var parallelMACs = 1 << 21

// problem is one C = alpha*op(A)*op(B) + beta*C, or part of one. With cT
// set, the product computed is the transpose of what c holds: element
// (i, j) of the m×n product is c[j*ldc+i].
type problem[T float32 | float64] struct {
	aT, bT, cT    bool
	m, n, k       int
	alpha, beta   T
	a, b, c       []T
	lda, ldb, ldc int
	// pb, when not nil, packs B instead of b (an implicit operand, see
	// PanelB); column j of this problem is column pbOff+j of pb's matrix.
	pb    PanelB[T]
	pbOff int
}

// packB packs the kc×nc block of op(B) at (pc, jc) into dst (see packB);
// ws's bt is scratch for a PanelBT.
func (p *problem[T]) packB(pc, jc, kc, nc, nr int, dst []T, ws *workspace[T]) {
	switch pb := p.pb.(type) {
	case nil:
		packB(p.bT, p.b, p.ldb, pc, jc, kc, nc, nr, dst)
	case PanelBT[T]:
		// Plain nr×kc blocks of Bᵀ, then the register transposes.
		for js := 0; js < nc; js += nr {
			w := min(nr, nc-js)
			tmp := ws.bt[:w*kc]
			pb.BlockT(pc, p.pbOff+jc+js, kc, w, tmp)
			d := dst[js*kc : js*kc+nr*kc]
			transposeBlock(tmp, kc, w, kc, d, nr)
			for j := w; j < nr; j++ {
				for q := 0; q < kc; q++ {
					d[q*nr+j] = 0
				}
			}
		}
	default:
		pb.PackB(pc, p.pbOff+jc, kc, nc, nr, dst)
	}
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
	kn.run(&p, runtime.GOMAXPROCS(0))
}

// run computes p on up to workers goroutines.
func (kn *kernel[T]) run(pp *problem[T], workers int) {
	p := *pp
	if p.m*p.n*p.k < parallelMACs {
		workers = 1
	}
	// Split along the longer side of the product: the operand along the
	// other side is packed once and shared by all workers. A B given by
	// row addresses is never packed, so then A is the shared one.
	_, rows := p.pb.(PanelBRows[T])
	splitM := p.m >= p.n && !rows
	var tiles int
	if splitM {
		tiles = (p.m + kn.mr - 1) / kn.mr
	} else {
		tiles = (p.n + kn.nr - 1) / kn.nr
	}
	workers = min(workers, tiles)
	if workers <= 1 {
		kn.serial(&p, nil, nil)
		return
	}
	// The shared operand is packed whole; cut the product into panels
	// along the side that is not split if it would take more than
	// sharedMax elements (or, for a shared B, more than one nc block).
	if splitM {
		pw := max(min(sharedMax/p.k, kn.nc)/kn.nr, 1) * kn.nr
		for j0 := 0; j0 < p.n; j0 += pw {
			q := p.part(false, j0, min(j0+pw, p.n))
			kn.parallel(&q, true, workers)
		}
		return
	}
	// An implicit B costs more to pack again (once per panel of A) than a
	// larger shared A costs in cache.
	limit := sharedMax
	if p.pb != nil {
		limit *= 4
	}
	ph := max(limit/p.k/kn.mr, 1) * kn.mr
	for i0 := 0; i0 < p.m; i0 += ph {
		q := p.part(true, i0, min(i0+ph, p.m))
		kn.parallel(&q, false, workers)
	}
}

// sharedMax bounds the elements of a packed operand shared by the workers.
var sharedMax = 1 << 21

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
		switch {
		case p.pb != nil:
			q.pbOff += lo
		case q.bT:
			q.b = p.b[lo*p.ldb:]
		default:
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

// serial runs the blocked loop nest on one goroutine. sa and sb, when not
// nil, are op(A) and op(B) of the whole of pr already packed (see
// job.packUnit); n must then fit one nc block if sb is given.
//
// An implicit B (pr.pb) with A in one mc block is packed strip by strip
// just before the strip is used, so it goes from its source into L1 and
// never makes a round trip through the outer caches.
func (kn *kernel[T]) serial(pr *problem[T], sa, sb []T) {
	ws := kn.workspace()
	mr, nr := kn.mr, kn.nr
	m, n, k := pr.m, pr.n, pr.k
	rows, _ := pr.pb.(PanelBRows[T])
	perStrip := pr.pb != nil && sb == nil && (m <= kn.mc || rows != nil)
	for jc := 0; jc < n; jc += kn.nc {
		nc := min(kn.nc, n-jc)
		for pc := 0; pc < k; pc += kn.kc {
			kc := min(kn.kc, k-pc)
			be := pr.beta
			if pc > 0 {
				be = 1
			}
			bpan := ws.b
			switch {
			case sb != nil:
				bpan = sb[pc*roundUp(n, nr):]
			case !perStrip:
				pr.packB(pc, jc, kc, nc, nr, bpan, ws)
			}
			for ic := 0; ic < m; ic += kn.mc {
				mc := min(kn.mc, m-ic)
				apan := ws.a
				if sa != nil {
					apan = sa[pc*roundUp(m, mr)+ic*kc:]
				} else {
					packA(pr.aT, pr.a, pr.lda, ic, pc, mc, kc, mr, apan)
				}
				for jr := 0; jr < nc; jr += nr {
					w := min(nr, nc-jr)
					bp := &bpan[jr*kc]
					if perStrip {
						if rows != nil && w == nr && rows.Rows(pc, pr.pbOff+jc+jr, kc, nr, ws.ptrs[:kc]) {
							kn.strip(pr, ws, apan, nil, &ws.ptrs[0], ic, mc, jc+jr, w, kc, be)
							continue
						}
						pr.packB(pc, jc+jr, kc, w, nr, bpan, ws)
						bp = &bpan[0]
					}
					kn.strip(pr, ws, apan, bp, nil, ic, mc, jc+jr, w, kc, be)
				}
			}
		}
	}
	kn.pool.Put(ws)
}

// strip runs the micro-kernel down one strip of B (columns j0 .. j0+w-1),
// packed at bp or given as row addresses ptrs, against the packed mc×kc
// block of A at row ic.
func (kn *kernel[T]) strip(pr *problem[T], ws *workspace[T], apan []T, bp *T, ptrs **T, ic, mc, j0, w, kc int, be T) {
	mr, nr := kn.mr, kn.nr
	alpha, c, ldc := pr.alpha, pr.c, pr.ldc
	loadC := 1
	if be == 0 {
		loadC = 0
	}
	for ir := 0; ir < mc; ir += mr {
		h := min(mr, mc-ir)
		ap := &apan[ir*kc]
		if h == mr && w == nr && !pr.cT {
			if ptrs != nil {
				kn.fnInd(kc, ap, ptrs, &c[(ic+ir)*ldc+j0], ldc, alpha, be, loadC)
			} else {
				kn.fn(kc, ap, bp, &c[(ic+ir)*ldc+j0], ldc, alpha, be, loadC)
			}
			continue
		}
		if ptrs != nil {
			kn.fnInd(kc, ap, ptrs, &ws.tile[0], nr, 1, 0, 0)
		} else {
			kn.fn(kc, ap, bp, &ws.tile[0], nr, 1, 0, 0)
		}
		if pr.cT {
			mergeT(ws.tile, nr, h, w, alpha, be, c[j0*ldc+ic+ir:], ldc)
		} else {
			merge(ws.tile, nr, h, w, alpha, be, c[(ic+ir)*ldc+j0:], ldc)
		}
	}
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
	runs := len(src) / r
	for i := 0; i < runs; i++ {
		copy(dst[i*stride:i*stride+r], src[i*r:i*r+r])
	}
	if rest := src[runs*r:]; len(rest) > 0 {
		d := dst[runs*stride : runs*stride+r]
		n := copy(d, rest)
		clear(d[n:])
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

// job is one parallel product: its workers first pack the shared operand
// together (in units claimed from a counter), then compute chunks of C
// claimed the same way. Whoever runs finds work, so a worker goroutine the
// OS does not schedule in time only means the others do more.
type job[T float32 | float64] struct {
	kn     *kernel[T]
	p      problem[T]
	splitM bool
	shared []T

	groups, packUnits int // strip groups per kc block; units to pack
	chunk, chunks     int // rows (splitM) or columns per chunk; their count

	packNext, packDone, next, done atomic.Int64
	refs                           atomic.Int32

	mu   sync.Mutex
	cond sync.Cond
}

// parallel computes p on workers goroutines, sharing packed B (splitM) or
// packed A. A shared B must fit one nc block.
func (kn *kernel[T]) parallel(p *problem[T], splitM bool, workers int) {
	j, ok := kn.jobs.Get().(*job[T])
	if !ok {
		j = new(job[T])
		j.cond.L = &j.mu
	}
	j.kn, j.p, j.splitM = kn, *p, splitM
	var size, tiles, unit int
	if splitM {
		size = roundUp(p.n, kn.nr) * p.k
		tiles, unit = (p.m+kn.mr-1)/kn.mr, kn.mr
	} else {
		size = roundUp(p.m, kn.mr) * p.k
		tiles, unit = (p.n+kn.nr-1)/kn.nr, kn.nr
	}
	if cap(j.shared) < size {
		j.shared = make([]T, size)
	}
	j.shared = j.shared[:size]
	j.groups = workers
	j.packUnits = (p.k + kn.kc - 1) / kn.kc * workers
	perChunk := max(1, tiles/(2*workers)) // two chunks a worker, to balance
	j.chunk = perChunk * unit
	j.chunks = (tiles + perChunk - 1) / perChunk
	j.packNext.Store(0)
	j.packDone.Store(0)
	j.next.Store(0)
	j.done.Store(0)
	j.refs.Store(int32(workers))
	for w := 1; w < workers; w++ {
		startWorker(j)
	}
	j.work()
	j.mu.Lock()
	for j.done.Load() < int64(j.chunks) {
		j.cond.Wait()
	}
	j.mu.Unlock()
	j.release()
}

// run is a worker goroutine's part of the job.
func (j *job[T]) run() {
	j.work()
	j.release()
}

// release drops one reference; the last one recycles the job.
func (j *job[T]) release() {
	if j.refs.Add(-1) == 0 {
		j.p = problem[T]{}
		j.kn.jobs.Put(j)
	}
}

// work packs units of the shared operand while there are any, waits until
// all are packed, then computes chunks while there are any.
func (j *job[T]) work() {
	units := int64(j.packUnits)
	for {
		u := j.packNext.Add(1) - 1
		if u >= units {
			break
		}
		j.packUnit(int(u))
		if j.packDone.Add(1) == units {
			j.mu.Lock()
			j.cond.Broadcast()
			j.mu.Unlock()
		}
	}
	if j.packDone.Load() < units {
		j.mu.Lock()
		for j.packDone.Load() < units {
			j.cond.Wait()
		}
		j.mu.Unlock()
	}
	p, chunks := &j.p, int64(j.chunks)
	total := p.n
	if j.splitM {
		total = p.m
	}
	for {
		c := j.next.Add(1) - 1
		if c >= chunks {
			return
		}
		lo := int(c) * j.chunk
		q := p.part(j.splitM, lo, min(lo+j.chunk, total))
		if j.splitM {
			j.kn.serial(&q, nil, j.shared)
		} else {
			j.kn.serial(&q, j.shared, nil)
		}
		if j.done.Add(1) == chunks {
			j.mu.Lock()
			j.cond.Broadcast()
			j.mu.Unlock()
		}
	}
}

// packUnit packs one group of strips of one kc block of the shared
// operand, in the layout serial expects of sa or sb.
func (j *job[T]) packUnit(u int) {
	kn, p := j.kn, &j.p
	pc := u / j.groups * kn.kc
	kc := min(kn.kc, p.k-pc)
	g := u % j.groups
	if j.splitM {
		strips := (p.n + kn.nr - 1) / kn.nr
		s0, s1 := g*strips/j.groups, (g+1)*strips/j.groups
		if s0 == s1 {
			return
		}
		j0 := s0 * kn.nr
		ws := kn.workspace()
		p.packB(pc, j0, kc, min(s1*kn.nr, p.n)-j0, kn.nr, j.shared[pc*roundUp(p.n, kn.nr)+j0*kc:], ws)
		kn.pool.Put(ws)
		return
	}
	strips := (p.m + kn.mr - 1) / kn.mr
	s0, s1 := g*strips/j.groups, (g+1)*strips/j.groups
	if s0 == s1 {
		return
	}
	i0 := s0 * kn.mr
	packA(p.aT, p.a, p.lda, i0, pc, min(s1*kn.mr, p.m)-i0, kc, kn.mr, j.shared[pc*roundUp(p.m, kn.mr)+i0*kc:])
}
