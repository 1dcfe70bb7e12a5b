//go:build !(openblas && cgo)

package gemm

import "gorgonia.org/gorgonia"

// installed is the BLAS that Use installs: this package's Implementation.
func installed() gorgonia.BLAS { return Implementation{} }

// Use makes this package's Implementation the BLAS of Gorgonia and of
// gorgonia.org/tensor, process-wide.
func Use() { gorgonia.Use(installed()) }

// Name says which GEMM Use installs, e.g. "go-avx512 12x32".
func Name() string { return kernelName() }
