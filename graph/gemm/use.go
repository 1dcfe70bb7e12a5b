//go:build !(openblas && cgo)

package gemm

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// installed is the BLAS that Use installs: this package's Implementation.
func installed() gorgonia.BLAS { return Implementation{} }

// Use makes this package's Implementation the BLAS of Gorgonia and of
// gorgonia.org/tensor, process-wide.
func Use() { gorgonia.Use(installed()) }

// InUse says whether Gorgonia's and gorgonia.org/tensor's BLAS is the one
// Use installs.
func InUse() bool {
	return gorgonia.WhichBLAS() == installed() && tensor.WhichBLAS() == installed()
}

// Name says which GEMM Use installs, e.g. "go-avx512 12x32".
func Name() string { return kernelName() }
