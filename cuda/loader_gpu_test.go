//go:build gpu

package cuda

import (
	"os"
	"strings"
	"testing"
)

// TestGPULoader checks what this machine offers. With
// PLASTIC_EXPECT=stub (PLASTIC_CUDA_LIB_DIRS pointing at the CUDA 11.8
// link stubs) every symbol this package resolves must exist in the stub
// libcuda, libcublas and libnvrtc, and cuInit must fail cleanly; with
// PLASTIC_EXPECT=none the driver must be reported missing.
func TestGPULoader(t *testing.T) {
	t.Setenv(EnvEmulator, "")
	name, err := probe()
	switch os.Getenv("PLASTIC_EXPECT") {
	case "stub":
		if err == nil || !strings.Contains(err.Error(), "CUDA_ERROR_STUB_LIBRARY") {
			t.Fatalf("probe with the stub driver: %q, %v", name, err)
		}
		if err := loadCublas(); err != nil {
			t.Fatalf("cuBLAS stub: %v", err)
		}
		if err := loadNvrtc(); err != nil {
			t.Fatalf("NVRTC stub: %v", err)
		}
	case "none":
		if err == nil || !strings.Contains(err.Error(), "no CUDA driver") {
			t.Fatalf("probe without a driver: %q, %v", name, err)
		}
	}
	d, note, rerr := Resolve("auto")
	if err != nil && (d != CPU || rerr != nil) {
		t.Fatalf("auto without a GPU: %v %q %v", d, note, rerr)
	}
	t.Logf("probe: %q %v; auto -> %s", name, err, note)
}
