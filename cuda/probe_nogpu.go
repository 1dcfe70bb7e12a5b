//go:build !gpu

package cuda

import "errors"

// probe reports that this binary has no GPU support compiled in.
func probe() (string, error) {
	return "", errors.New("this binary was built without GPU support (build with scripts/gpu-build.sh, i.e. -tags gpu)")
}
