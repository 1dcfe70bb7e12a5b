// Package cuda is the GPU backend of the toolkit: CUDA C kernels compiled at
// run time by NVRTC, cuBLAS for the matrix products, a memory pool and one
// stream per device, driven through its own dlopen binding of the driver,
// cuBLAS and NVRTC (not gorgonia.org/cu; README "Design" says why). The
// binding is built only with the build tag `gpu` (not `cuda`, which
// switches on Gorgonia's own CUDA VM); the rest of the package (the
// Context, the device ops, the kernel source and its argument checks) is
// pure Go and builds everywhere, so the device paths run in the default
// build on the SIMT emulator (OpenEmulator) for tests. Without the tag,
// device selection always answers the CPU.
package cuda

import (
	"fmt"
	"os"

	"github.com/plasticity-lab/plastic/internal/param"
)

// Device is where computations run.
type Device string

const (
	CPU Device = "cpu"
	GPU Device = "cuda"
	// Emulator is the SIMT emulator standing in for a GPU
	// (PLASTIC_DEVICE_EMULATOR=1): the device paths run their CUDA kernels,
	// on the CPU, slowly. It is recorded as itself, never as a GPU.
	Emulator Device = "cuda-emulator"
)

// Kernels reports whether d runs the device paths (the CUDA kernels): a
// GPU, or the emulator standing in for one.
func (d Device) Kernels() bool { return d == GPU || d == Emulator }

// EnvEmulator is the environment switch that makes --device auto|cuda
// choose the SIMT emulator instead of a GPU: for tests and development of
// the device paths on machines without one (needs clang++).
const EnvEmulator = "PLASTIC_DEVICE_EMULATOR"

func emulatorWanted() bool { return os.Getenv(EnvEmulator) == "1" }

// Resolve turns a device name (auto|cpu|cuda) into the device to use and
// a one-line note saying what was chosen and why. auto picks the GPU when
// this binary has GPU support and a usable GPU, else the CPU; cuda fails
// clearly when no GPU can be used. With PLASTIC_DEVICE_EMULATOR=1, auto and
// cuda pick the emulator.
func Resolve(want string) (Device, string, error) {
	switch want {
	case "cpu":
		return CPU, "device: cpu", nil
	case "auto", "", "cuda":
		if emulatorWanted() {
			return Emulator, "device: SIMT emulator (" + EnvEmulator + "=1: the CUDA kernels run on the CPU, for tests)", nil
		}
		name, err := probe()
		if err != nil {
			if want == "cuda" {
				return "", "", param.Errorf("device", "cuda: %w", err)
			}
			return CPU, fmt.Sprintf("device: cpu (auto: %v)", err), nil
		}
		return GPU, "device: cuda (" + name + ")", nil
	}
	return "", "", param.Errorf("device", "%q: want auto, cpu or cuda", want)
}

// OpenDevice opens the device Resolve reports: GPU 0 in a gpu build when the
// driver finds one, the emulator with PLASTIC_DEVICE_EMULATOR=1; otherwise
// it fails with the reason.
func OpenDevice() (*Context, error) {
	if emulatorWanted() {
		return OpenEmulator()
	}
	if _, err := probe(); err != nil {
		return nil, err
	}
	return openGPU(0)
}
