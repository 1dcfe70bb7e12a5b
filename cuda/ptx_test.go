package cuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKernelSourcePTX compiles the kernel source with clang's CUDA front
// end to PTX for sm_80, the way NVRTC will (device code only, no headers
// of ours), and checks every kernel comes out as an entry point. It needs
// clang++ and the CUDA 11.8 headers (scripts/cuda-headers.sh); it skips
// without them. This catches CUDA-specific errors (intrinsics, qualifiers)
// that the emulator's host compile cannot.
func TestKernelSourcePTX(t *testing.T) {
	clang, err := exec.LookPath("clang++")
	if err != nil {
		t.Skip("no clang++")
	}
	root := os.Getenv("CUDA_HEADERS_DIR")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "plastic", "cuda-11.8")
	}
	inc := filepath.Join(root, "usr", "include")
	if _, err := os.Stat(filepath.Join(inc, "cuda.h")); err != nil {
		t.Skipf("no CUDA headers in %s (scripts/cuda-headers.sh)", inc)
	}
	// clang wants a CUDA installation layout: include/, bin/, lib64/.
	dir := t.TempDir()
	fake := filepath.Join(dir, "cuda")
	for _, d := range []string{"bin", "lib64"} {
		if err := os.MkdirAll(filepath.Join(fake, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(inc, filepath.Join(fake, "include")); err != nil {
		t.Fatal(err)
	}
	src, err := KernelSource(BlockSize)
	if err != nil {
		t.Fatal(err)
	}
	cu := filepath.Join(dir, "k.cu")
	ptx := filepath.Join(dir, "k.ptx")
	if err := os.WriteFile(cu, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(clang, "-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=sm_80", "--cuda-path="+fake,
		"-nocudalib", "-std=c++14", "-O2", "-Wall", "-Werror", "-Wno-unknown-cuda-version",
		"-Xclang", "-target-feature", "-Xclang", "+ptx70", "-S", "-o", ptx, cu).CombinedOutput()
	if err != nil {
		t.Fatalf("clang CUDA compile: %v\n%s", err, out)
	}
	text, err := os.ReadFile(ptx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range KernelNames() {
		if !strings.Contains(string(text), ".entry "+k+"(") {
			t.Errorf("kernel %s missing from the PTX", k)
		}
	}
}
