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
	"unsafe"
)

// cudaBackend drives one GPU: its primary context, one non-blocking
// stream (every launch, copy and GEMM is ordered on it), a cuBLAS handle
// bound to the stream and the module of NVRTC-compiled kernels. Each call
// pins its goroutine to an OS thread and makes the context current there.
type cudaBackend struct {
	dev    C.CUdevice
	ctx    C.CUcontext
	stream C.CUstream
	blas   C.cublasHandle_t
	mod    C.CUmodule
	fns    map[string]C.CUfunction
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
	b := &cudaBackend{dev: dev, fns: map[string]C.CUfunction{}}
	if err := cuCheck("cuDevicePrimaryCtxRetain", C.pl_cuDevicePrimaryCtxRetain(&b.ctx, dev)); err != nil {
		return nil, err
	}
	fail := func(err error) (*Context, error) {
		b.release()
		return nil, err
	}
	if err := cuCheck("cuCtxSetCurrent", C.pl_cuCtxSetCurrent(b.ctx)); err != nil {
		return fail(err)
	}
	if err := cuCheck("cuStreamCreate", C.pl_cuStreamCreate(&b.stream)); err != nil {
		return fail(err)
	}
	if err := loadCublas(); err != nil {
		return fail(err)
	}
	if err := blasCheck("cublasCreate", C.pl_cublasCreate(&b.blas)); err != nil {
		return fail(err)
	}
	var bv C.int
	if err := blasCheck("cublasGetVersion", C.pl_cublasGetVersion(b.blas, &bv)); err != nil {
		return fail(err)
	}
	info.CublasVersion = int(bv)
	if err := blasCheck("cublasSetStream", C.pl_cublasSetStream(b.blas, b.stream)); err != nil {
		return fail(err)
	}
	image, nv, err := compiledKernels(info.Major, info.Minor)
	if err != nil {
		return fail(err)
	}
	info.NvrtcVersion = nv
	if err := cuCheck("cuModuleLoadData", C.pl_cuModuleLoadData(&b.mod, unsafe.Pointer(&image[0]))); err != nil {
		return fail(fmt.Errorf("loading the NVRTC image for sm_%d%d: %w", info.Major, info.Minor, err))
	}
	for _, name := range KernelNames() {
		cname := C.CString(name)
		var f C.CUfunction
		err := cuCheck("cuModuleGetFunction("+name+")", C.pl_cuModuleGetFunction(&f, b.mod, cname))
		C.free(unsafe.Pointer(cname))
		if err != nil {
			return fail(err)
		}
		b.fns[name] = f
	}
	return newContext(b, info), nil
}

// enter pins the calling goroutine's thread and makes the context current;
// the returned func undoes the pinning.
func (b *cudaBackend) enter() (func(), error) {
	runtime.LockOSThread()
	if err := cuCheck("cuCtxSetCurrent", C.pl_cuCtxSetCurrent(b.ctx)); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return runtime.UnlockOSThread, nil
}

// release frees what Open made (on the calling, already current thread).
func (b *cudaBackend) release() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if b.stream != nil {
		keep(cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(b.stream)))
	}
	if b.mod != nil {
		keep(cuCheck("cuModuleUnload", C.pl_cuModuleUnload(b.mod)))
	}
	if b.blas != nil {
		keep(blasCheck("cublasDestroy", C.pl_cublasDestroy(b.blas)))
	}
	if b.stream != nil {
		keep(cuCheck("cuStreamDestroy", C.pl_cuStreamDestroy(b.stream)))
	}
	keep(cuCheck("cuDevicePrimaryCtxRelease", C.pl_cuDevicePrimaryCtxRelease(b.dev)))
	return first
}

func (b *cudaBackend) close() error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	return b.release()
}

func (b *cudaBackend) alloc(n int64) (DevPtr, error) {
	exit, err := b.enter()
	if err != nil {
		return 0, err
	}
	defer exit()
	var p C.CUdeviceptr
	if err := cuCheck("cuMemAlloc", C.pl_cuMemAlloc(&p, C.size_t(n))); err != nil {
		return 0, err
	}
	return DevPtr(p), nil
}

func (b *cudaBackend) free(p DevPtr) error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	return cuCheck("cuMemFree", C.pl_cuMemFree(C.CUdeviceptr(p)))
}

func (b *cudaBackend) htod(dst DevPtr, src []byte) error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	if err := cuCheck("cuMemcpyHtoDAsync", C.pl_cuMemcpyHtoDAsync(C.CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src)), b.stream)); err != nil {
		return err
	}
	// The host slice may be reused as soon as this returns.
	return cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(b.stream))
}

func (b *cudaBackend) dtoh(dst []byte, src DevPtr) error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	if err := cuCheck("cuMemcpyDtoHAsync", C.pl_cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), C.CUdeviceptr(src), C.size_t(len(dst)), b.stream)); err != nil {
		return err
	}
	return cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(b.stream))
}

func (b *cudaBackend) dtod(dst, src DevPtr, n int64) error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	return cuCheck("cuMemcpyDtoDAsync", C.pl_cuMemcpyDtoDAsync(C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(n), b.stream))
}

func (b *cudaBackend) zero(dst DevPtr, words int64) error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	return cuCheck("cuMemsetD32Async", C.pl_cuMemsetD32Async(C.CUdeviceptr(dst), 0, C.size_t(words), b.stream))
}

func (b *cudaBackend) sync() error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	return cuCheck("cuStreamSynchronize", C.pl_cuStreamSynchronize(b.stream))
}

func (b *cudaBackend) launch(kernel string, l Launch, args []byte, offsets []int) error {
	f, ok := b.fns[kernel]
	if !ok {
		return errorf("kernel %s is not loaded", kernel)
	}
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	coffs := make([]C.int, len(offsets))
	for i, o := range offsets {
		coffs[i] = C.int(o)
	}
	cbuf := C.CBytes(args)
	defer C.free(cbuf)
	return cuCheck("cuLaunchKernel("+kernel+")", C.pl_launch(f,
		C.uint(l.Grid[0]), C.uint(l.Grid[1]), C.uint(l.Grid[2]),
		C.uint(l.Block[0]), C.uint(l.Block[1]), C.uint(l.Block[2]),
		C.uint(l.Shared), b.stream, (*C.char)(cbuf), &coffs[0], C.int(len(offsets))))
}

func (b *cudaBackend) gemm(call GemmCall, alpha float32, first, second DevPtr, beta float32, out DevPtr) error {
	exit, err := b.enter()
	if err != nil {
		return err
	}
	defer exit()
	bool2int := func(t bool) C.int {
		if t {
			return 1
		}
		return 0
	}
	if call.Batch <= 1 {
		return blasCheck("cublasSgemm", C.pl_cublasSgemm(b.blas, bool2int(call.TransA), bool2int(call.TransB),
			C.int(call.M), C.int(call.N), C.int(call.K), C.float(alpha),
			C.CUdeviceptr(first), C.int(call.LdA), C.CUdeviceptr(second), C.int(call.LdB),
			C.float(beta), C.CUdeviceptr(out), C.int(call.LdC)))
	}
	return blasCheck("cublasSgemmStridedBatched", C.pl_cublasSgemmStridedBatched(b.blas, bool2int(call.TransA), bool2int(call.TransB),
		C.int(call.M), C.int(call.N), C.int(call.K), C.float(alpha),
		C.CUdeviceptr(first), C.int(call.LdA), C.longlong(call.StrideA),
		C.CUdeviceptr(second), C.int(call.LdB), C.longlong(call.StrideB),
		C.float(beta), C.CUdeviceptr(out), C.int(call.LdC), C.longlong(call.StrideC), C.int(call.Batch)))
}

func (b *cudaBackend) timer() (func() (float64, error), error) {
	exit, err := b.enter()
	if err != nil {
		return nil, err
	}
	defer exit()
	var start, end C.CUevent
	if err := cuCheck("cuEventCreate", C.pl_cuEventCreate(&start)); err != nil {
		return nil, err
	}
	if err := cuCheck("cuEventCreate", C.pl_cuEventCreate(&end)); err != nil {
		C.pl_cuEventDestroy(start)
		return nil, err
	}
	if err := cuCheck("cuEventRecord", C.pl_cuEventRecord(start, b.stream)); err != nil {
		return nil, err
	}
	return func() (float64, error) {
		exit, err := b.enter()
		if err != nil {
			return 0, err
		}
		defer exit()
		defer C.pl_cuEventDestroy(start)
		defer C.pl_cuEventDestroy(end)
		if err := cuCheck("cuEventRecord", C.pl_cuEventRecord(end, b.stream)); err != nil {
			return 0, err
		}
		if err := cuCheck("cuEventSynchronize", C.pl_cuEventSynchronize(end)); err != nil {
			return 0, err
		}
		var ms C.float
		err = cuCheck("cuEventElapsedTime", C.pl_cuEventElapsedTime(&ms, start, end))
		return float64(ms), err
	}, nil
}
