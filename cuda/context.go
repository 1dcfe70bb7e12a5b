package cuda

import (
	"fmt"
	"sync"
	"unsafe"
)

// backend is what a Context drives: the CUDA driver, cuBLAS and NVRTC on
// a GPU (device_gpu.go, tag gpu), or the SIMT emulator the tests run the
// same kernels on without a GPU. Calls are serialised by the Context;
// launches and copies are ordered as on one stream.
type backend interface {
	alloc(bytes int64) (DevPtr, error)
	free(p DevPtr) error
	htod(dst DevPtr, src []byte) error // done when it returns
	dtoh(dst []byte, src DevPtr) error // waits for the queued work
	dtod(dst, src DevPtr, bytes int64) error
	zero(dst DevPtr, words int64) error
	launch(kernel string, l Launch, args []byte, offsets []int) error
	gemm(call GemmCall, alpha float32, first, second DevPtr, beta float32, out DevPtr) error
	sync() error
	// timer starts measuring device time; the returned func stops it and
	// gives milliseconds.
	timer() (func() (float64, error), error)
	close() error
}

// Context is one device: its backend (on a GPU: the primary context, one
// non-blocking stream that orders every launch, copy and GEMM, a cuBLAS
// handle on that stream, the NVRTC-compiled kernels) and the memory pool.
// Its methods may be called from any goroutine; they are serialised.
type Context struct {
	mu     sync.Mutex
	be     backend
	pool   *Pool
	Info   DeviceInfo
	closed bool
}

// DeviceInfo describes the opened device.
type DeviceInfo struct {
	Name          string
	Major, Minor  int // compute capability
	TotalMem      int64
	SMs           int
	DriverVersion int // e.g. 13000
	CublasVersion int
	NvrtcVersion  [2]int
}

func (d DeviceInfo) String() string {
	return fmt.Sprintf("%s, sm_%d%d, %d SMs, %.1f GiB, driver API %d.%d", d.Name, d.Major, d.Minor, d.SMs,
		float64(d.TotalMem)/(1<<30), d.DriverVersion/1000, d.DriverVersion%1000/10)
}

func newContext(be backend, info DeviceInfo) *Context {
	c := &Context{be: be, Info: info}
	c.pool = NewPool(poolAlloc{be})
	return c
}

// poolAlloc is the pool's allocator (called with the Context locked).
type poolAlloc struct{ be backend }

func (a poolAlloc) Alloc(n int64) (DevPtr, error) { return a.be.alloc(n) }
func (a poolAlloc) Free(p DevPtr) error           { return a.be.free(p) }

func (c *Context) lock() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errorf("context used after Close")
	}
	return nil
}

// Close waits for the device, frees the pool and releases the backend.
func (c *Context) Close() error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	c.closed = true
	first := c.be.sync()
	if err := c.pool.Close(); err != nil && first == nil {
		first = err
	}
	if err := c.be.close(); err != nil && first == nil {
		first = err
	}
	return first
}

// Array is n 4-byte elements (float32 or int32) of device memory from the
// context's pool.
type Array struct {
	buf Buffer
	N   int
}

// view is elements [off, off+n) of a as an array sharing its memory;
// views are never handed to Free.
func (a *Array) view(off, n int) *Array {
	return &Array{buf: Buffer{Ptr: a.buf.Ptr + DevPtr(4*off), Bytes: int64(4 * n)}, N: n}
}

// View is elements [off, off+n) of a as an array sharing its memory (a
// tensor inside a flat parameter array, say). Views must not be handed to
// Free; they are valid while a is.
func (a *Array) View(off, n int) (*Array, error) {
	if off < 0 || n < 1 || off+n > a.N {
		return nil, errorf("View(%d, %d) of an array of %d elements", off, n, a.N)
	}
	return a.view(off, n), nil
}

// Ptr is the array's device address.
func (a *Array) Ptr() DevPtr { return a.buf.Ptr }

// Alloc takes an array of n elements from the pool (contents undefined).
func (c *Context) Alloc(n int) (*Array, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	return c.allocLocked(n)
}

func (c *Context) allocLocked(n int) (*Array, error) {
	if n <= 0 {
		return nil, errorf("Alloc(%d): want a positive length", n)
	}
	b, err := c.pool.Get(int64(n) * 4)
	if err != nil {
		return nil, err
	}
	return &Array{buf: b, N: n}, nil
}

// Free returns arrays to the pool (nil entries are skipped). Work queued
// before may still read them: the pool hands them out again only to work
// queued after it on the same stream.
func (c *Context) Free(arrays ...*Array) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	var first error
	for _, a := range arrays {
		if a == nil {
			continue
		}
		if err := c.pool.Put(a.buf); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// PoolStats reports the memory pool's counters.
func (c *Context) PoolStats() PoolStats { return c.pool.Stats() }

type elem interface{ ~float32 | ~int32 }

func bytesOf[T elem](x []T) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}

// Upload copies host values into a new device array.
func Upload[T elem](c *Context, host []T) (*Array, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	a, err := c.allocLocked(len(host))
	if err != nil {
		return nil, err
	}
	if err := c.be.htod(a.buf.Ptr, bytesOf(host)); err != nil {
		c.pool.Put(a.buf)
		return nil, err
	}
	return a, nil
}

// CopyIn copies host values into an existing array of the same length.
func CopyIn[T elem](c *Context, dst *Array, host []T) error {
	if dst.N != len(host) {
		return errorf("CopyIn: device array has %d elements, host slice %d", dst.N, len(host))
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.be.htod(dst.buf.Ptr, bytesOf(host))
}

// Download waits for the queued work and copies a device array to the host.
func Download[T elem](c *Context, src *Array) ([]T, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	host := make([]T, src.N)
	if err := c.be.dtoh(bytesOf(host), src.buf.Ptr); err != nil {
		return nil, err
	}
	return host, nil
}

// Copy queues a device-to-device copy of src into dst (same length).
func (c *Context) Copy(dst, src *Array) error {
	if dst.N != src.N {
		return errorf("Copy: %d elements into %d", src.N, dst.N)
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.be.dtod(dst.buf.Ptr, src.buf.Ptr, int64(4*src.N))
}

// Zero queues filling an array with zero bits (0.0 or 0).
func (c *Context) Zero(a *Array) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.be.zero(a.buf.Ptr, int64(a.N))
}

// Sync waits until everything queued is done.
func (c *Context) Sync() error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.be.sync()
}

// launch queues a kernel after checking its arguments against the
// source's signature.
func (c *Context) launch(kernel string, l Launch, args ...any) error {
	if err := checkArgs(kernel, args); err != nil {
		return err
	}
	buf, offs, err := packArgs(args)
	if err != nil {
		return err
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.be.launch(kernel, l, buf, offs)
}

// Launch queues kernel with the given geometry and arguments (int32,
// float32, uint64 or DevPtr, checked against the kernel's parameter list
// in the source before anything reaches the device). Packages that own an
// algorithm (models, optimizer, plasticity) sequence their kernels with it.
func (c *Context) Launch(kernel string, l Launch, args ...any) error {
	return c.launch(kernel, l, args...)
}

// Gemm queues a mapped SGEMM: C = alpha*op(A)*op(B) + beta*C in the
// caller's (row-major) terms, a, b, out being the caller's operands.
func (c *Context) Gemm(call GemmCall, alpha float32, a, b *Array, beta float32, out *Array) error {
	first, second := a, b
	if call.FirstIsB {
		first, second = b, a
	}
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.be.gemm(call, alpha, first.buf.Ptr, second.buf.Ptr, beta, out.buf.Ptr)
}

// Timer measures device time between two points of the queued work.
type Timer struct {
	c    *Context
	stop func() (float64, error)
}

// StartTimer marks the start.
func (c *Context) StartTimer() (*Timer, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	stop, err := c.be.timer()
	if err != nil {
		return nil, err
	}
	return &Timer{c: c, stop: stop}, nil
}

// Stop marks the end, waits for it and returns the milliseconds between.
func (t *Timer) Stop() (float64, error) {
	if err := t.c.lock(); err != nil {
		return 0, err
	}
	defer t.c.mu.Unlock()
	return t.stop()
}
