//go:build gpu

package cuda

/*
#include <cuda.h>
#include <cublas_v2.h>
#include <nvrtc.h>
#include <stdlib.h>

CUresult pl_cuDeviceGetCount(int* n);
CUresult pl_cuDeviceGet(CUdevice* d, int ord);
CUresult pl_cuDeviceGetName(char* s, int n, CUdevice d);
CUresult pl_cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice d);
CUresult pl_cuDeviceTotalMem(size_t* b, CUdevice d);
CUresult pl_cuDriverGetVersion(int* v);
CUresult pl_cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice d);
CUresult pl_cuDevicePrimaryCtxRelease(CUdevice d);
CUresult pl_cuCtxSetCurrent(CUcontext c);
CUresult pl_cuStreamCreate(CUstream* s);
CUresult pl_cuStreamDestroy(CUstream s);
CUresult pl_cuStreamSynchronize(CUstream s);
CUresult pl_cuMemAlloc(CUdeviceptr* p, size_t n);
CUresult pl_cuMemFree(CUdeviceptr p);
CUresult pl_cuMemcpyHtoDAsync(CUdeviceptr d, const void* h, size_t n, CUstream s);
CUresult pl_cuMemcpyDtoHAsync(void* h, CUdeviceptr d, size_t n, CUstream s);
CUresult pl_cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s0, size_t n, CUstream s);
CUresult pl_cuMemsetD32Async(CUdeviceptr d, unsigned int v, size_t n, CUstream s);
CUresult pl_cuModuleLoadData(CUmodule* m, const void* img);
CUresult pl_cuModuleUnload(CUmodule m);
CUresult pl_cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name);
CUresult pl_cuEventCreate(CUevent* e);
CUresult pl_cuEventRecord(CUevent e, CUstream s);
CUresult pl_cuEventSynchronize(CUevent e);
CUresult pl_cuEventElapsedTime(float* ms, CUevent a, CUevent b);
CUresult pl_cuEventDestroy(CUevent e);
CUresult pl_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
		unsigned shared, CUstream s, char* args, const int* offsets, int n);
cublasStatus_t pl_cublasCreate(cublasHandle_t* h);
cublasStatus_t pl_cublasDestroy(cublasHandle_t h);
cublasStatus_t pl_cublasGetVersion(cublasHandle_t h, int* v);
cublasStatus_t pl_cublasSetStream(cublasHandle_t h, CUstream s);
cublasStatus_t pl_cublasSgemm(cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
		CUdeviceptr a, int lda, CUdeviceptr b, int ldb, float beta, CUdeviceptr c, int ldc);
cublasStatus_t pl_cublasSgemmStridedBatched(cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
		CUdeviceptr a, int lda, long long sa, CUdeviceptr b, int ldb, long long sb, float beta, CUdeviceptr c, int ldc,
		long long sc, int batch);
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Context is one GPU with its primary context, one non-blocking stream
// (every launch, copy and GEMM of the context is ordered on it), a cuBLAS
// handle bound to the stream, the memory pool and the compiled kernels.
// Its methods may be called from any goroutine, one at a time: each call
// pins its goroutine to an OS thread and makes the context current there.
type Context struct {
	mu       sync.Mutex
	dev      C.CUdevice
	ctx      C.CUcontext
	stream   C.CUstream
	blas     C.cublasHandle_t
	mod      C.CUmodule
	fns      map[string]C.CUfunction
	pool     *Pool
	Info     DeviceInfo
	released bool
}

// DeviceInfo describes the opened GPU.
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

// deviceInfo initialises the driver and describes device ordinal.
func deviceInfo(ordinal int) (C.CUdevice, DeviceInfo, error) {
	var info DeviceInfo
	if err := loadDriver(); err != nil {
		return 0, info, err
	}
	var n C.int
	if err := cuCheck("cuDeviceGetCount", C.pl_cuDeviceGetCount(&n)); err != nil {
		return 0, info, err
	}
	if n == 0 {
		return 0, info, errorf("the CUDA driver sees no device")
	}
	if ordinal < 0 || ordinal >= int(n) {
		return 0, info, errorf("device %d: the driver sees %d device(s)", ordinal, n)
	}
	var dev C.CUdevice
	if err := cuCheck("cuDeviceGet", C.pl_cuDeviceGet(&dev, C.int(ordinal))); err != nil {
		return 0, info, err
	}
	var name [256]C.char
	if err := cuCheck("cuDeviceGetName", C.pl_cuDeviceGetName(&name[0], 256, dev)); err != nil {
		return 0, info, err
	}
	info.Name = C.GoString(&name[0])
	attr := func(a C.CUdevice_attribute, dst *int) error {
		var v C.int
		if err := cuCheck("cuDeviceGetAttribute", C.pl_cuDeviceGetAttribute(&v, a, dev)); err != nil {
			return err
		}
		*dst = int(v)
		return nil
	}
	if err := attr(C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &info.Major); err != nil {
		return 0, info, err
	}
	if err := attr(C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &info.Minor); err != nil {
		return 0, info, err
	}
	if err := attr(C.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &info.SMs); err != nil {
		return 0, info, err
	}
	var mem C.size_t
	if err := cuCheck("cuDeviceTotalMem", C.pl_cuDeviceTotalMem(&mem, dev)); err != nil {
		return 0, info, err
	}
	info.TotalMem = int64(mem)
	var v C.int
	if err := cuCheck("cuDriverGetVersion", C.pl_cuDriverGetVersion(&v)); err != nil {
		return 0, info, err
	}
	info.DriverVersion = int(v)
	return dev, info, nil
}

// Open makes a context on GPU ordinal: primary context, stream, cuBLAS
// handle, memory pool, and the kernels compiled by NVRTC for the device's
// compute capability (once per process and architecture).
func Open(ordinal int) (*Context, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dev, info, err := deviceInfo(ordinal)
	if err != nil {
		return nil, err
	}
	c := &Context{dev: dev, Info: info, fns: map[string]C.CUfunction{}}
	if err := cuCheck("cuDevicePrimaryCtxRetain", C.pl_cuDevicePrimaryCtxRetain(&c.ctx, dev)); err != nil {
		return nil, err
	}
	fail := func(err error) (*Context, error) {
		c.closeLocked()
		return nil, err
	}
	if err := cuCheck("cuCtxSetCurrent", C.pl_cuCtxSetCurrent(c.ctx)); err != nil {
		return fail(err)
	}
	if err := cuCheck("cuStreamCreate", C.pl_cuStreamCreate(&c.stream)); err != nil {
		return fail(err)
	}
	c.pool = NewPool(driverAlloc{})
	if err := loadCublas(); err != nil {
		return fail(err)
	}
	if err := blasCheck("cublasCreate", C.pl_cublasCreate(&c.blas)); err != nil {
		return fail(err)
	}
	var bv C.int
	if err := blasCheck("cublasGetVersion", C.pl_cublasGetVersion(c.blas, &bv)); err != nil {
		return fail(err)
	}
	c.Info.CublasVersion = int(bv)
	if err := blasCheck("cublasSetStream", C.pl_cublasSetStream(c.blas, c.stream)); err != nil {
		return fail(err)
	}
	image, nv, err := compiledKernels(info.Major, info.Minor)
	if err != nil {
		return fail(err)
	}
	c.Info.NvrtcVersion = nv
	if err := cuCheck("cuModuleLoadData", C.pl_cuModuleLoadData(&c.mod, unsafe.Pointer(&image[0]))); err != nil {
		return fail(fmt.Errorf("loading the NVRTC image for sm_%d%d: %w", info.Major, info.Minor, err))
	}
	for _, name := range KernelNames() {
		cname := C.CString(name)
		var f C.CUfunction
		err := cuCheck("cuModuleGetFunction("+name+")", C.pl_cuModuleGetFunction(&f, c.mod, cname))
		C.free(unsafe.Pointer(cname))
		if err != nil {
			return fail(err)
		}
		c.fns[name] = f
	}
	return c, nil
}

// enter pins the calling goroutine's thread and makes the context current.
func (c *Context) enter() error {
	c.mu.Lock()
	runtime.LockOSThread()
	if c.released {
		return errorf("context used after Close")
	}
	return cuCheck("cuCtxSetCurrent", C.pl_cuCtxSetCurrent(c.ctx))
}

func (c *Context) exit() {
	runtime.UnlockOSThread()
	c.mu.Unlock()
}

// Close frees the pool, the module, the cuBLAS handle and the stream, and
// releases the primary context.
func (c *Context) Close() error {
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	return c.closeLocked()
}

func (c *Context) closeLocked() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if c.stream != nil {
		keep(cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(c.stream)))
	}
	if c.pool != nil {
		keep(c.pool.Close())
	}
	if c.mod != nil {
		keep(cuCheck("cuModuleUnload", C.pl_cuModuleUnload(c.mod)))
	}
	if c.blas != nil {
		keep(blasCheck("cublasDestroy", C.pl_cublasDestroy(c.blas)))
	}
	if c.stream != nil {
		keep(cuCheck("cuStreamDestroy", C.pl_cuStreamDestroy(c.stream)))
	}
	keep(cuCheck("cuDevicePrimaryCtxRelease", C.pl_cuDevicePrimaryCtxRelease(c.dev)))
	c.released = true
	return first
}

// driverAlloc is the pool's allocator; it runs with the context current.
type driverAlloc struct{}

func (driverAlloc) Alloc(n int64) (DevPtr, error) {
	var p C.CUdeviceptr
	if err := cuCheck("cuMemAlloc", C.pl_cuMemAlloc(&p, C.size_t(n))); err != nil {
		return 0, err
	}
	return DevPtr(p), nil
}

func (driverAlloc) Free(p DevPtr) error {
	return cuCheck("cuMemFree", C.pl_cuMemFree(C.CUdeviceptr(p)))
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

// Ptr is the array's device address.
func (a *Array) Ptr() DevPtr { return a.buf.Ptr }

// Alloc takes an array of n elements from the pool (contents undefined).
func (c *Context) Alloc(n int) (*Array, error) {
	if err := c.enter(); err != nil {
		c.exit()
		return nil, err
	}
	defer c.exit()
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

// Free returns arrays to the pool (nil entries are skipped).
func (c *Context) Free(arrays ...*Array) error {
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	var first error
	for _, a := range arrays {
		if a == nil {
			continue
		}
		// Kernels queued on the stream may still read it; the pool hands
		// it out again only for work queued after them on the same stream.
		if err := c.pool.Put(a.buf); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// PoolStats reports the memory pool's counters.
func (c *Context) PoolStats() PoolStats { return c.pool.Stats() }

type elem interface{ ~float32 | ~int32 }

// Upload copies host values into a new device array.
func Upload[T elem](c *Context, host []T) (*Array, error) {
	if err := c.enter(); err != nil {
		c.exit()
		return nil, err
	}
	defer c.exit()
	a, err := c.allocLocked(len(host))
	if err != nil {
		return nil, err
	}
	if err := cuCheck("cuMemcpyHtoDAsync", C.pl_cuMemcpyHtoDAsync(C.CUdeviceptr(a.buf.Ptr), unsafe.Pointer(&host[0]), C.size_t(4*len(host)), c.stream)); err != nil {
		c.pool.Put(a.buf)
		return nil, err
	}
	// Pageable host memory is staged before the call returns, but make
	// the copy complete before host may reuse the slice regardless.
	if err := cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(c.stream)); err != nil {
		return nil, err
	}
	return a, nil
}

// CopyIn copies host values into an existing array of the same length.
func CopyIn[T elem](c *Context, dst *Array, host []T) error {
	if dst.N != len(host) {
		return errorf("CopyIn: device array has %d elements, host slice %d", dst.N, len(host))
	}
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	if err := cuCheck("cuMemcpyHtoDAsync", C.pl_cuMemcpyHtoDAsync(C.CUdeviceptr(dst.buf.Ptr), unsafe.Pointer(&host[0]), C.size_t(4*len(host)), c.stream)); err != nil {
		return err
	}
	return cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(c.stream))
}

// Download waits for the stream and copies a device array to the host.
func Download[T elem](c *Context, src *Array) ([]T, error) {
	if err := c.enter(); err != nil {
		c.exit()
		return nil, err
	}
	defer c.exit()
	host := make([]T, src.N)
	if err := cuCheck("cuMemcpyDtoHAsync", C.pl_cuMemcpyDtoHAsync(unsafe.Pointer(&host[0]), C.CUdeviceptr(src.buf.Ptr), C.size_t(4*src.N), c.stream)); err != nil {
		return nil, err
	}
	if err := cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(c.stream)); err != nil {
		return nil, err
	}
	return host, nil
}

// Copy queues a device-to-device copy of src into dst (same length).
func (c *Context) Copy(dst, src *Array) error {
	if dst.N != src.N {
		return errorf("Copy: %d elements into %d", src.N, dst.N)
	}
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	return cuCheck("cuMemcpyDtoDAsync", C.pl_cuMemcpyDtoDAsync(C.CUdeviceptr(dst.buf.Ptr), C.CUdeviceptr(src.buf.Ptr), C.size_t(4*src.N), c.stream))
}

// Zero queues filling an array with zero bits (0.0 or 0).
func (c *Context) Zero(a *Array) error {
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	return cuCheck("cuMemsetD32Async", C.pl_cuMemsetD32Async(C.CUdeviceptr(a.buf.Ptr), 0, C.size_t(a.N), c.stream))
}

// Sync waits until everything queued on the context's stream is done.
func (c *Context) Sync() error {
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	return cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(c.stream))
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
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	f, ok := c.fns[kernel]
	if !ok {
		return errorf("kernel %s is not loaded", kernel)
	}
	coffs := make([]C.int, len(offs))
	for i, o := range offs {
		coffs[i] = C.int(o)
	}
	cbuf := C.CBytes(buf)
	defer C.free(cbuf)
	return cuCheck("cuLaunchKernel("+kernel+")", C.pl_launch(f,
		C.uint(l.Grid[0]), C.uint(l.Grid[1]), C.uint(l.Grid[2]),
		C.uint(l.Block[0]), C.uint(l.Block[1]), C.uint(l.Block[2]),
		C.uint(l.Shared), c.stream, (*C.char)(cbuf), &coffs[0], C.int(len(offs))))
}

// Gemm queues a mapped SGEMM: C = alpha*op(A)*op(B) + beta*C in the
// caller's (row-major) terms, a, b, out being the caller's operands.
func (c *Context) Gemm(call GemmCall, alpha float32, a, b *Array, beta float32, out *Array) error {
	first, second := a, b
	if call.FirstIsB {
		first, second = b, a
	}
	if err := c.enter(); err != nil {
		c.exit()
		return err
	}
	defer c.exit()
	bool2int := func(t bool) C.int {
		if t {
			return 1
		}
		return 0
	}
	if call.Batch <= 1 {
		return blasCheck("cublasSgemm", C.pl_cublasSgemm(c.blas, bool2int(call.TransA), bool2int(call.TransB),
			C.int(call.M), C.int(call.N), C.int(call.K), C.float(alpha),
			C.CUdeviceptr(first.buf.Ptr), C.int(call.LdA), C.CUdeviceptr(second.buf.Ptr), C.int(call.LdB),
			C.float(beta), C.CUdeviceptr(out.buf.Ptr), C.int(call.LdC)))
	}
	return blasCheck("cublasSgemmStridedBatched", C.pl_cublasSgemmStridedBatched(c.blas, bool2int(call.TransA), bool2int(call.TransB),
		C.int(call.M), C.int(call.N), C.int(call.K), C.float(alpha),
		C.CUdeviceptr(first.buf.Ptr), C.int(call.LdA), C.longlong(call.StrideA),
		C.CUdeviceptr(second.buf.Ptr), C.int(call.LdB), C.longlong(call.StrideB),
		C.float(beta), C.CUdeviceptr(out.buf.Ptr), C.int(call.LdC), C.longlong(call.StrideC), C.int(call.Batch)))
}

// Timer measures device time between two points of the stream.
type Timer struct {
	c          *Context
	start, end C.CUevent
}

// StartTimer records a start event on the stream.
func (c *Context) StartTimer() (*Timer, error) {
	if err := c.enter(); err != nil {
		c.exit()
		return nil, err
	}
	defer c.exit()
	t := &Timer{c: c}
	if err := cuCheck("cuEventCreate", C.pl_cuEventCreate(&t.start)); err != nil {
		return nil, err
	}
	if err := cuCheck("cuEventCreate", C.pl_cuEventCreate(&t.end)); err != nil {
		return nil, err
	}
	return t, cuCheck("cuEventRecord", C.pl_cuEventRecord(t.start, c.stream))
}

// Stop records the end event, waits for it and returns the milliseconds.
func (t *Timer) Stop() (float64, error) {
	c := t.c
	if err := c.enter(); err != nil {
		c.exit()
		return 0, err
	}
	defer c.exit()
	defer C.pl_cuEventDestroy(t.start)
	defer C.pl_cuEventDestroy(t.end)
	if err := cuCheck("cuEventRecord", C.pl_cuEventRecord(t.end, c.stream)); err != nil {
		return 0, err
	}
	if err := cuCheck("cuEventSynchronize", C.pl_cuEventSynchronize(t.end)); err != nil {
		return 0, err
	}
	var ms C.float
	err := cuCheck("cuEventElapsedTime", C.pl_cuEventElapsedTime(&ms, t.start, t.end))
	return float64(ms), err
}
