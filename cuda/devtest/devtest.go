// Package devtest opens the test device for the device-path tests of other
// packages (models, optimizer, classify, plasticity): the GPU in builds
// with tag gpu, the SIMT emulator (cuda.OpenEmulator, needs clang++)
// otherwise. Without a device a test skips, unless the environment says a
// device is required: PLASTIC_REQUIRE_DEVICE=1 (CI sets it, so the device
// tests fail instead of skipping when clang++ is missing) or, in gpu
// builds, PLASTIC_REQUIRE_GPU=1.
package devtest

import (
	"os"
	"sync"
	"testing"

	"github.com/plasticity-lab/plastic/cuda"
)

var (
	once sync.Once
	ctx  *cuda.Context
	err  error
)

// Open returns the test binary's shared device context, or skips t (fails
// it when a device is required). The context lives until the process
// exits (the emulator process ends with it).
func Open(t testing.TB) *cuda.Context {
	t.Helper()
	once.Do(func() { ctx, err = open() })
	if err != nil {
		if Required() {
			t.Fatalf("test device required (PLASTIC_REQUIRE_DEVICE/PLASTIC_REQUIRE_GPU): %v", err)
		}
		t.Skipf("no test device: %v", err)
	}
	return ctx
}

// Required reports whether the environment asks device tests to fail
// rather than skip without a device.
func Required() bool {
	return os.Getenv("PLASTIC_REQUIRE_DEVICE") == "1" || (!Emulated && os.Getenv("PLASTIC_REQUIRE_GPU") == "1")
}
