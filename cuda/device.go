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

import "fmt"

// Device is where computations run.
type Device string

const (
	CPU Device = "cpu"
	GPU Device = "cuda"
)

// Resolve turns the --device flag (auto|cpu|cuda) into the device to use and
// a one-line note saying what was chosen and why. auto picks the GPU when
// this binary has GPU support and a usable GPU, else the CPU; cuda fails
// clearly when no GPU can be used.
func Resolve(want string) (Device, string, error) {
	switch want {
	case "cpu":
		return CPU, "device: cpu", nil
	case "auto", "":
		name, err := probe()
		if err != nil {
			return CPU, fmt.Sprintf("device: cpu (auto: %v)", err), nil
		}
		return GPU, "device: cuda (" + name + ")", nil
	case "cuda":
		name, err := probe()
		if err != nil {
			return "", "", fmt.Errorf("--device=cuda: %w", err)
		}
		return GPU, "device: cuda (" + name + ")", nil
	}
	return "", "", fmt.Errorf("--device=%q: want auto, cpu or cuda", want)
}

// OpenDevice opens GPU 0, the device Resolve reports: in a gpu build when
// the driver finds one, otherwise it fails with the reason.
func OpenDevice() (*Context, error) {
	if _, err := probe(); err != nil {
		return nil, err
	}
	return openGPU(0)
}
