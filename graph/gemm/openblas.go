//go:build openblas && cgo

package gemm

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// installed is the BLAS that Use installs: in this build, OpenBLAS through
// gonum's cgo bindings (link with CGO_LDFLAGS=-lopenblas).
func installed() gorgonia.BLAS { return netlib.Implementation{} }

// Use makes OpenBLAS the BLAS of Gorgonia and of gorgonia.org/tensor,
// process-wide.
func Use() { gorgonia.Use(installed()) }

// Name says which GEMM Use installs.
func Name() string { return "openblas (cgo, gonum.org/v1/netlib)" }
