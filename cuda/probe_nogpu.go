//go:build !gpu

package cuda

import "errors"

var errNoGPUBuild = errors.New("this binary was built without GPU support (build with scripts/gpu-build.sh, i.e. -tags gpu)")

// probe reports that this binary has no GPU support compiled in.
func probe() (string, error) {
	return "", errNoGPUBuild
}

// openGPU fails: no GPU support is compiled in.
func openGPU(int) (*Context, error) { return nil, errNoGPUBuild }
