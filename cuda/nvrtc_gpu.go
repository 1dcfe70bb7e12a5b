//go:build gpu

package cuda

/*
#include <nvrtc.h>
#include <stdlib.h>

nvrtcResult pl_nvrtcVersion(int* ma, int* mi);
nvrtcResult pl_nvrtcCreateProgram(nvrtcProgram* p, const char* src, const char* name);
nvrtcResult pl_nvrtcCompileProgram(nvrtcProgram p, int n, const char** opts);
nvrtcResult pl_nvrtcDestroyProgram(nvrtcProgram* p);
nvrtcResult pl_nvrtcGetProgramLogSize(nvrtcProgram p, size_t* n);
nvrtcResult pl_nvrtcGetProgramLog(nvrtcProgram p, char* s);
nvrtcResult pl_nvrtcGetCUBINSize(nvrtcProgram p, size_t* n);
nvrtcResult pl_nvrtcGetCUBIN(nvrtcProgram p, char* s);
nvrtcResult pl_nvrtcGetPTXSize(nvrtcProgram p, size_t* n);
nvrtcResult pl_nvrtcGetPTX(nvrtcProgram p, char* s);
*/
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/plasticity-lab/plastic/internal/atomicfile"
)

// The kernels are compiled by NVRTC once per process and architecture, and
// the image is kept on disk (kernelCacheDir) keyed by the source, options
// and NVRTC version, so later processes load it without compiling.
var (
	imageMu    sync.Mutex
	imageCache = map[[2]int][]byte{}
)

// compiledKernels returns the kernel image for compute capability
// major.minor: a cubin for sm_XY, or, when this NVRTC cannot target that
// architecture as a cubin, PTX for compute_XY that the driver JIT-compiles.
func compiledKernels(major, minor int) ([]byte, [2]int, error) {
	var ver [2]int
	if err := loadNvrtc(); err != nil {
		return nil, ver, err
	}
	var ma, mi C.int
	if err := nvrtcCheck("nvrtcVersion", C.pl_nvrtcVersion(&ma, &mi)); err != nil {
		return nil, ver, err
	}
	ver = [2]int{int(ma), int(mi)}
	imageMu.Lock()
	defer imageMu.Unlock()
	key := [2]int{major, minor}
	if img, ok := imageCache[key]; ok {
		return img, ver, nil
	}
	src, err := KernelSource(BlockSize)
	if err != nil {
		return nil, ver, err
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\n%v\nnvrtc %d.%d", src, CompileOptions(major, minor, true), ma, mi)))
	var file string
	if dir := kernelCacheDir(); dir != "" {
		file = filepath.Join(dir, fmt.Sprintf("kernels-sm_%d%d-%s.img", major, minor, hex.EncodeToString(h[:12])))
		if img, err := os.ReadFile(file); err == nil && len(img) > 0 {
			imageCache[key] = img
			return img, ver, nil
		}
	}
	img, cubinErr := nvrtcCompile(src, CompileOptions(major, minor, true), true)
	if cubinErr != nil {
		var ptxErr error
		img, ptxErr = nvrtcCompile(src, CompileOptions(major, minor, false), false)
		if ptxErr != nil {
			return nil, ver, fmt.Errorf("compiling the kernels with NVRTC %d.%d: as a cubin: %v; as PTX: %w", ma, mi, cubinErr, ptxErr)
		}
	}
	imageCache[key] = img
	if file != "" && os.MkdirAll(filepath.Dir(file), 0o755) == nil {
		atomicfile.Write(file, img) // a cache: a failed write only costs a compile next time
	}
	return img, ver, nil
}

// kernelCacheDir is $PLASTIC_KERNEL_CACHE, else the user's cache folder
// (plastic/kernels), else none ("off" disables the cache).
func kernelCacheDir() string {
	if d := os.Getenv("PLASTIC_KERNEL_CACHE"); d != "" {
		if strings.EqualFold(d, "off") {
			return ""
		}
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "plastic", "kernels")
	}
	return ""
}

func nvrtcCompile(src string, opts []string, cubin bool) ([]byte, error) {
	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	cname := C.CString("plastic_kernels.cu")
	defer C.free(unsafe.Pointer(cname))
	var prog C.nvrtcProgram
	if err := nvrtcCheck("nvrtcCreateProgram", C.pl_nvrtcCreateProgram(&prog, csrc, cname)); err != nil {
		return nil, err
	}
	defer C.pl_nvrtcDestroyProgram(&prog)
	copts := make([]*C.char, len(opts))
	for i, o := range opts {
		copts[i] = C.CString(o)
		defer C.free(unsafe.Pointer(copts[i]))
	}
	if err := nvrtcCheck("nvrtcCompileProgram", C.pl_nvrtcCompileProgram(prog, C.int(len(opts)), &copts[0])); err != nil {
		var n C.size_t
		if C.pl_nvrtcGetProgramLogSize(prog, &n) == C.NVRTC_SUCCESS && n > 1 {
			log := make([]byte, n)
			C.pl_nvrtcGetProgramLog(prog, (*C.char)(unsafe.Pointer(&log[0])))
			return nil, fmt.Errorf("%w (options %v):\n%s", err, opts, log[:n-1])
		}
		return nil, err
	}
	var n C.size_t
	if cubin {
		if err := nvrtcCheck("nvrtcGetCUBINSize", C.pl_nvrtcGetCUBINSize(prog, &n)); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errorf("NVRTC produced an empty cubin (options %v)", opts)
		}
		img := make([]byte, n)
		return img, nvrtcCheck("nvrtcGetCUBIN", C.pl_nvrtcGetCUBIN(prog, (*C.char)(unsafe.Pointer(&img[0]))))
	}
	if err := nvrtcCheck("nvrtcGetPTXSize", C.pl_nvrtcGetPTXSize(prog, &n)); err != nil {
		return nil, err
	}
	img := make([]byte, n) // NUL-terminated, as cuModuleLoadData wants
	return img, nvrtcCheck("nvrtcGetPTX", C.pl_nvrtcGetPTX(prog, (*C.char)(unsafe.Pointer(&img[0]))))
}
