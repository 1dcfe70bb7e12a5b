//go:build openblas && cgo

package gemm

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// installed is the BLAS that Use installs: in this build, OpenBLAS through
// gonum's cgo bindings (link with CGO_LDFLAGS=-lopenblas).
func installed() gorgonia.BLAS { return netlib.Implementation{} }

// Use makes OpenBLAS the BLAS of Gorgonia and of gorgonia.org/tensor,
// process-wide.
func Use() { gorgonia.Use(installed()) }

// InUse says whether Gorgonia's and gorgonia.org/tensor's BLAS is the one
// Use installs.
func InUse() bool {
	return gorgonia.WhichBLAS() == installed() && tensor.WhichBLAS() == installed()
}

// Name says which GEMM Use installs.
func Name() string { return "openblas (cgo, gonum.org/v1/netlib)" }
