//go:build gpu

package cuda

const testDeviceEmulated = false

// openTestDevice opens GPU 0 when probe finds one.
func openTestDevice() (*Context, error) { return OpenDevice() }
