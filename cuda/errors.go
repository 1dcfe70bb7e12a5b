package cuda

import "fmt"

// errorf makes an error prefixed with the package name.
func errorf(format string, args ...any) error {
	return fmt.Errorf("cuda: "+format, args...)
}
