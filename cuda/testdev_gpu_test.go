//go:build gpu

package cuda

const testDeviceEmulated = false

// openTestDevice opens GPU 0 when probe finds one.
func openTestDevice() (*Context, error) {
	if _, err := probe(); err != nil {
		return nil, err
	}
	return Open(0)
}
