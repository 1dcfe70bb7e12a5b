//go:build gpu

package cuda

// The driver, cuBLAS and NVRTC entry points, loaded with dlopen at run
// time instead of linked. Why not gorgonia.org/cu: its package init calls
// cuInit and exits the process when that fails, and linking it makes
// libcuda.so.1 a load-time dependency, so a gpu build could not even start
// on a machine without a driver, and --device auto could not fall back to
// the CPU. Here the prototypes come from the CUDA 11.8 headers (a
// mismatch is a compile error; scripts/cuda-headers.sh fetches them), the
// versioned symbol names from their macros (cuMemAlloc -> cuMemAlloc_v2),
// and the libraries are found when first used: libcuda.so.1, then
// libcublas.so.{13,12,11} and libnvrtc.so.{13,12,11.2}, in
// $PLASTIC_CUDA_LIB_DIRS (colon-separated), the loader's own search path,
// and /usr/local/cuda/lib64.

/*
// The pl_* wrappers are not static: the other gpu files declare and call them.

#cgo CFLAGS: -Wno-deprecated-declarations
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <cuda.h>
#include <cublas_v2.h>
#include <nvrtc.h>

#define PL_STR(x) #x
#define PL_XSTR(x) PL_STR(x)
#define PL_DECL(name) static __typeof__(&name) p_##name;
#define PL_LOAD(h, name) do { p_##name = (__typeof__(p_##name))dlsym(h, PL_XSTR(name)); if (!p_##name) { pl_missing = PL_XSTR(name); return -1; } } while (0)

static const char* pl_missing;

PL_DECL(cuInit) PL_DECL(cuDriverGetVersion) PL_DECL(cuGetErrorName) PL_DECL(cuGetErrorString)
PL_DECL(cuDeviceGetCount) PL_DECL(cuDeviceGet) PL_DECL(cuDeviceGetName) PL_DECL(cuDeviceGetAttribute)
PL_DECL(cuDeviceTotalMem) PL_DECL(cuDevicePrimaryCtxRetain) PL_DECL(cuDevicePrimaryCtxRelease)
PL_DECL(cuCtxSetCurrent) PL_DECL(cuStreamCreate) PL_DECL(cuStreamDestroy) PL_DECL(cuStreamSynchronize)
PL_DECL(cuMemAlloc) PL_DECL(cuMemFree) PL_DECL(cuMemGetInfo)
PL_DECL(cuMemcpyHtoDAsync) PL_DECL(cuMemcpyDtoHAsync) PL_DECL(cuMemcpyDtoDAsync) PL_DECL(cuMemsetD32Async)
PL_DECL(cuModuleLoadData) PL_DECL(cuModuleUnload) PL_DECL(cuModuleGetFunction) PL_DECL(cuLaunchKernel)
PL_DECL(cuEventCreate) PL_DECL(cuEventRecord) PL_DECL(cuEventSynchronize) PL_DECL(cuEventElapsedTime) PL_DECL(cuEventDestroy)

PL_DECL(cublasCreate) PL_DECL(cublasDestroy) PL_DECL(cublasSetStream) PL_DECL(cublasSgemm)
PL_DECL(cublasSgemmStridedBatched) PL_DECL(cublasGetVersion)

PL_DECL(nvrtcVersion) PL_DECL(nvrtcCreateProgram) PL_DECL(nvrtcCompileProgram) PL_DECL(nvrtcDestroyProgram)
PL_DECL(nvrtcGetProgramLogSize) PL_DECL(nvrtcGetProgramLog) PL_DECL(nvrtcGetCUBINSize) PL_DECL(nvrtcGetCUBIN)
PL_DECL(nvrtcGetPTXSize) PL_DECL(nvrtcGetPTX) PL_DECL(nvrtcGetErrorString)

static int pl_load_cuda(void* h) {
	PL_LOAD(h, cuInit); PL_LOAD(h, cuDriverGetVersion); PL_LOAD(h, cuGetErrorName); PL_LOAD(h, cuGetErrorString);
	PL_LOAD(h, cuDeviceGetCount); PL_LOAD(h, cuDeviceGet); PL_LOAD(h, cuDeviceGetName); PL_LOAD(h, cuDeviceGetAttribute);
	PL_LOAD(h, cuDeviceTotalMem); PL_LOAD(h, cuDevicePrimaryCtxRetain); PL_LOAD(h, cuDevicePrimaryCtxRelease);
	PL_LOAD(h, cuCtxSetCurrent); PL_LOAD(h, cuStreamCreate); PL_LOAD(h, cuStreamDestroy); PL_LOAD(h, cuStreamSynchronize);
	PL_LOAD(h, cuMemAlloc); PL_LOAD(h, cuMemFree); PL_LOAD(h, cuMemGetInfo);
	PL_LOAD(h, cuMemcpyHtoDAsync); PL_LOAD(h, cuMemcpyDtoHAsync); PL_LOAD(h, cuMemcpyDtoDAsync); PL_LOAD(h, cuMemsetD32Async);
	PL_LOAD(h, cuModuleLoadData); PL_LOAD(h, cuModuleUnload); PL_LOAD(h, cuModuleGetFunction); PL_LOAD(h, cuLaunchKernel);
	PL_LOAD(h, cuEventCreate); PL_LOAD(h, cuEventRecord); PL_LOAD(h, cuEventSynchronize); PL_LOAD(h, cuEventElapsedTime); PL_LOAD(h, cuEventDestroy);
	return 0;
}

static int pl_load_cublas(void* h) {
	PL_LOAD(h, cublasCreate); PL_LOAD(h, cublasDestroy); PL_LOAD(h, cublasSetStream); PL_LOAD(h, cublasSgemm);
	PL_LOAD(h, cublasSgemmStridedBatched); PL_LOAD(h, cublasGetVersion);
	return 0;
}

static int pl_load_nvrtc(void* h) {
	PL_LOAD(h, nvrtcVersion); PL_LOAD(h, nvrtcCreateProgram); PL_LOAD(h, nvrtcCompileProgram); PL_LOAD(h, nvrtcDestroyProgram);
	PL_LOAD(h, nvrtcGetProgramLogSize); PL_LOAD(h, nvrtcGetProgramLog); PL_LOAD(h, nvrtcGetCUBINSize); PL_LOAD(h, nvrtcGetCUBIN);
	PL_LOAD(h, nvrtcGetPTXSize); PL_LOAD(h, nvrtcGetPTX); PL_LOAD(h, nvrtcGetErrorString);
	return 0;
}

const char* pl_missing_symbol(void) { return pl_missing; }

static void* pl_dlopen(const char* path) { return dlopen(path, RTLD_NOW | RTLD_GLOBAL); }

// Driver API.
CUresult pl_cuInit(void) { return p_cuInit(0); }
CUresult pl_cuDriverGetVersion(int* v) { return p_cuDriverGetVersion(v); }
CUresult pl_cuGetErrorName(CUresult r, const char** s) { return p_cuGetErrorName(r, s); }
CUresult pl_cuGetErrorString(CUresult r, const char** s) { return p_cuGetErrorString(r, s); }
CUresult pl_cuDeviceGetCount(int* n) { return p_cuDeviceGetCount(n); }
CUresult pl_cuDeviceGet(CUdevice* d, int ord) { return p_cuDeviceGet(d, ord); }
CUresult pl_cuDeviceGetName(char* s, int n, CUdevice d) { return p_cuDeviceGetName(s, n, d); }
CUresult pl_cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice d) { return p_cuDeviceGetAttribute(v, a, d); }
CUresult pl_cuDeviceTotalMem(size_t* b, CUdevice d) { return p_cuDeviceTotalMem(b, d); }
CUresult pl_cuDevicePrimaryCtxRetain(CUcontext* c, CUdevice d) { return p_cuDevicePrimaryCtxRetain(c, d); }
CUresult pl_cuDevicePrimaryCtxRelease(CUdevice d) { return p_cuDevicePrimaryCtxRelease(d); }
CUresult pl_cuCtxSetCurrent(CUcontext c) { return p_cuCtxSetCurrent(c); }
CUresult pl_cuStreamCreate(CUstream* s) { return p_cuStreamCreate(s, CU_STREAM_NON_BLOCKING); }
CUresult pl_cuStreamDestroy(CUstream s) { return p_cuStreamDestroy(s); }
CUresult pl_cuStreamSynchronize(CUstream s) { return p_cuStreamSynchronize(s); }
CUresult pl_cuMemAlloc(CUdeviceptr* p, size_t n) { return p_cuMemAlloc(p, n); }
CUresult pl_cuMemFree(CUdeviceptr p) { return p_cuMemFree(p); }
CUresult pl_cuMemGetInfo(size_t* f, size_t* t) { return p_cuMemGetInfo(f, t); }
CUresult pl_cuMemcpyHtoDAsync(CUdeviceptr d, const void* h, size_t n, CUstream s) { return p_cuMemcpyHtoDAsync(d, h, n, s); }
CUresult pl_cuMemcpyDtoHAsync(void* h, CUdeviceptr d, size_t n, CUstream s) { return p_cuMemcpyDtoHAsync(h, d, n, s); }
CUresult pl_cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s0, size_t n, CUstream s) { return p_cuMemcpyDtoDAsync(d, s0, n, s); }
CUresult pl_cuMemsetD32Async(CUdeviceptr d, unsigned int v, size_t n, CUstream s) { return p_cuMemsetD32Async(d, v, n, s); }
CUresult pl_cuModuleLoadData(CUmodule* m, const void* img) { return p_cuModuleLoadData(m, img); }
CUresult pl_cuModuleUnload(CUmodule m) { return p_cuModuleUnload(m); }
CUresult pl_cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) { return p_cuModuleGetFunction(f, m, name); }
CUresult pl_cuEventCreate(CUevent* e) { return p_cuEventCreate(e, CU_EVENT_DEFAULT); }
CUresult pl_cuEventRecord(CUevent e, CUstream s) { return p_cuEventRecord(e, s); }
CUresult pl_cuEventSynchronize(CUevent e) { return p_cuEventSynchronize(e); }
CUresult pl_cuEventElapsedTime(float* ms, CUevent a, CUevent b) { return p_cuEventElapsedTime(ms, a, b); }
CUresult pl_cuEventDestroy(CUevent e) { return p_cuEventDestroy(e); }

// pl_launch builds the parameter array from one packed argument buffer
// (Go's packArgs) and launches; the driver copies the values at launch.
CUresult pl_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
		unsigned shared, CUstream s, char* args, const int* offsets, int n) {
	void* params[64];
	if (n > 64) return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < n; i++) params[i] = args + offsets[i];
	return p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, NULL);
}

// cuBLAS.
cublasStatus_t pl_cublasCreate(cublasHandle_t* h) { return p_cublasCreate(h); }
cublasStatus_t pl_cublasDestroy(cublasHandle_t h) { return p_cublasDestroy(h); }
cublasStatus_t pl_cublasGetVersion(cublasHandle_t h, int* v) { return p_cublasGetVersion(h, v); }
cublasStatus_t pl_cublasSetStream(cublasHandle_t h, CUstream s) { return p_cublasSetStream(h, (cudaStream_t)s); }
cublasStatus_t pl_cublasSgemm(cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
		CUdeviceptr a, int lda, CUdeviceptr b, int ldb, float beta, CUdeviceptr c, int ldc) {
	return p_cublasSgemm(h, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha,
		(const float*)a, lda, (const float*)b, ldb, &beta, (float*)c, ldc);
}
cublasStatus_t pl_cublasSgemmStridedBatched(cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
		CUdeviceptr a, int lda, long long sa, CUdeviceptr b, int ldb, long long sb, float beta, CUdeviceptr c, int ldc,
		long long sc, int batch) {
	return p_cublasSgemmStridedBatched(h, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha,
		(const float*)a, lda, sa, (const float*)b, ldb, sb, &beta, (float*)c, ldc, sc, batch);
}

// NVRTC.
nvrtcResult pl_nvrtcVersion(int* ma, int* mi) { return p_nvrtcVersion(ma, mi); }
nvrtcResult pl_nvrtcCreateProgram(nvrtcProgram* p, const char* src, const char* name) { return p_nvrtcCreateProgram(p, src, name, 0, NULL, NULL); }
nvrtcResult pl_nvrtcCompileProgram(nvrtcProgram p, int n, const char** opts) { return p_nvrtcCompileProgram(p, n, opts); }
nvrtcResult pl_nvrtcDestroyProgram(nvrtcProgram* p) { return p_nvrtcDestroyProgram(p); }
nvrtcResult pl_nvrtcGetProgramLogSize(nvrtcProgram p, size_t* n) { return p_nvrtcGetProgramLogSize(p, n); }
nvrtcResult pl_nvrtcGetProgramLog(nvrtcProgram p, char* s) { return p_nvrtcGetProgramLog(p, s); }
nvrtcResult pl_nvrtcGetCUBINSize(nvrtcProgram p, size_t* n) { return p_nvrtcGetCUBINSize(p, n); }
nvrtcResult pl_nvrtcGetCUBIN(nvrtcProgram p, char* s) { return p_nvrtcGetCUBIN(p, s); }
nvrtcResult pl_nvrtcGetPTXSize(nvrtcProgram p, size_t* n) { return p_nvrtcGetPTXSize(p, n); }
nvrtcResult pl_nvrtcGetPTX(nvrtcProgram p, char* s) { return p_nvrtcGetPTX(p, s); }
const char* pl_nvrtcGetErrorString(nvrtcResult r) { return p_nvrtcGetErrorString(r); }
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

// libDirs is where the libraries are looked for besides the loader's path.
func libDirs() []string {
	var dirs []string
	if env := os.Getenv("PLASTIC_CUDA_LIB_DIRS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	dirs = append(dirs, "") // the loader's own search (LD_LIBRARY_PATH, ld.so.cache)
	return append(dirs, "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib")
}

// openLib dlopens the first library of names found in dirs and resolves
// its symbols with load.
func openLib(what string, names []string, pre []string, load func(unsafe.Pointer) C.int) error {
	var where []string
	for _, dir := range libDirs() {
		if dir == "" {
			where = append(where, "the loader's path")
		} else {
			where = append(where, dir)
		}
		for i, name := range names {
			path := name
			if dir != "" {
				path = filepath.Join(dir, name)
			}
			if len(pre) > i && pre[i] != "" {
				// Load a dependency first (libcublasLt for libcublas) so
				// a library outside the loader's path resolves it.
				pp := pre[i]
				if dir != "" {
					pp = filepath.Join(dir, pp)
				}
				cp := C.CString(pp)
				C.pl_dlopen(cp)
				C.free(unsafe.Pointer(cp))
			}
			cpath := C.CString(path)
			h := C.pl_dlopen(cpath)
			C.free(unsafe.Pointer(cpath))
			if h == nil {
				continue
			}
			if load(h) != 0 {
				return fmt.Errorf("%s (%s) lacks symbol %s", what, path, C.GoString(C.pl_missing_symbol()))
			}
			return nil
		}
	}
	return fmt.Errorf("%s not found: no %s in %s (set PLASTIC_CUDA_LIB_DIRS)", what, strings.Join(names, ", "), strings.Join(where, ", "))
}

var (
	driverOnce, blasOnce, nvrtcOnce sync.Once
	driverErr, blasErr, nvrtcErr    error
)

func loadDriver() error {
	driverOnce.Do(func() {
		driverErr = openLib("the driver library", []string{"libcuda.so.1", "libcuda.so"}, nil,
			func(h unsafe.Pointer) C.int { return C.pl_load_cuda(h) })
		if driverErr != nil {
			driverErr = fmt.Errorf("no CUDA driver: %w", driverErr)
			return
		}
		driverErr = cuCheck("cuInit", C.pl_cuInit())
	})
	return driverErr
}

func loadCublas() error {
	blasOnce.Do(func() {
		blasErr = openLib("cuBLAS", []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"},
			[]string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"},
			func(h unsafe.Pointer) C.int { return C.pl_load_cublas(h) })
	})
	return blasErr
}

func loadNvrtc() error {
	nvrtcOnce.Do(func() {
		nvrtcErr = openLib("NVRTC", []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}, nil,
			func(h unsafe.Pointer) C.int { return C.pl_load_nvrtc(h) })
	})
	return nvrtcErr
}

// cuCheck turns a driver result into an error naming the call.
func cuCheck(call string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	name, desc := driverResultName(int(r))
	var cs *C.char
	if C.pl_cuGetErrorName(r, &cs) == C.CUDA_SUCCESS && cs != nil {
		name = C.GoString(cs)
	}
	if C.pl_cuGetErrorString(r, &cs) == C.CUDA_SUCCESS && cs != nil {
		desc = C.GoString(cs)
	}
	return &Error{Call: call, Code: int(r), Name: name, Desc: desc}
}

func blasCheck(call string, r C.cublasStatus_t) error {
	if r == C.CUBLAS_STATUS_SUCCESS {
		return nil
	}
	name, desc := cublasStatusName(int(r))
	return &Error{Call: call, Code: int(r), Name: name, Desc: desc}
}

func nvrtcCheck(call string, r C.nvrtcResult) error {
	if r == C.NVRTC_SUCCESS {
		return nil
	}
	return &Error{Call: call, Code: int(r), Name: C.GoString(C.pl_nvrtcGetErrorString(r))}
}
