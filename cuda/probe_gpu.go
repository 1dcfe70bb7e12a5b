//go:build gpu

package cuda

// probe initialises the CUDA driver (loaded at run time, so a gpu build
// starts on any machine) and describes GPU 0, or says why none is usable:
// no driver library, a driver that fails to initialise, no device.
func probe() (string, error) {
	_, info, err := deviceInfo(0)
	if err != nil {
		return "", err
	}
	return info.String(), nil
}

// openGPU opens GPU ordinal (Open).
func openGPU(ordinal int) (*Context, error) { return Open(ordinal) }
