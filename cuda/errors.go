package cuda

import "fmt"

// errorf makes an error prefixed with the package name.
func errorf(format string, args ...any) error {
	return fmt.Errorf("cuda: "+format, args...)
}

// Error is a failed driver, cuBLAS or NVRTC call.
type Error struct {
	Call string // the API function, e.g. cuMemAlloc
	Code int
	Name string // e.g. CUDA_ERROR_OUT_OF_MEMORY
	Desc string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("cuda: %s: %s (%d)", e.Call, e.Name, e.Code)
	if e.Desc != "" {
		s += ": " + e.Desc
	}
	return s
}

// driverResultName names the CUresult codes this package can meet, for
// when the driver cannot name them itself (a stub library, a driver that
// failed to initialise).
func driverResultName(code int) (name, desc string) {
	switch code {
	case 1:
		return "CUDA_ERROR_INVALID_VALUE", "invalid argument"
	case 2:
		return "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"
	case 3:
		return "CUDA_ERROR_NOT_INITIALIZED", "initialization error"
	case 4:
		return "CUDA_ERROR_DEINITIALIZED", "driver shutting down"
	case 34:
		return "CUDA_ERROR_STUB_LIBRARY", "a CUDA stub library was loaded instead of the driver"
	case 35:
		return "CUDA_ERROR_INSUFFICIENT_DRIVER", "the driver is older than the runtime"
	case 100:
		return "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"
	case 101:
		return "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"
	case 200:
		return "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"
	case 209:
		return "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"
	case 218:
		return "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"
	case 222:
		return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the PTX was compiled with an unsupported toolchain"
	case 500:
		return "CUDA_ERROR_NOT_FOUND", "named symbol not found"
	case 700:
		return "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"
	case 701:
		return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"
	case 719:
		return "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"
	case 999:
		return "CUDA_ERROR_UNKNOWN", "unknown error"
	}
	return fmt.Sprintf("CUresult %d", code), ""
}

// cublasStatusName names cuBLAS status codes (cuBLAS has no name call).
func cublasStatusName(code int) (name, desc string) {
	switch code {
	case 1:
		return "CUBLAS_STATUS_NOT_INITIALIZED", "the cuBLAS library was not initialized"
	case 3:
		return "CUBLAS_STATUS_ALLOC_FAILED", "resource allocation failed"
	case 7:
		return "CUBLAS_STATUS_INVALID_VALUE", "an unsupported value or parameter was passed"
	case 8:
		return "CUBLAS_STATUS_ARCH_MISMATCH", "the device does not support the operation"
	case 11:
		return "CUBLAS_STATUS_MAPPING_ERROR", "access to GPU memory space failed"
	case 13:
		return "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"
	case 14:
		return "CUBLAS_STATUS_INTERNAL_ERROR", "an internal cuBLAS operation failed"
	case 15:
		return "CUBLAS_STATUS_NOT_SUPPORTED", "the functionality requested is not supported"
	}
	return fmt.Sprintf("cublasStatus %d", code), ""
}
