// Package cuda is the GPU backend of the toolkit, on gorgonia.org/cu. Its
// kernels, memory pool and device ops are built only with the build tag
// `gpu` (not `cuda`, which switches on Gorgonia's own CUDA VM); without the
// tag only device selection exists, and it always answers the CPU.
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
