//go:build !gpu

package cuda

const testDeviceEmulated = true

// openTestDevice starts the SIMT emulator (emu_test.go).
func openTestDevice() (*Context, error) { return OpenEmulator() }
