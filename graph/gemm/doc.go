// Package gemm is a fast BLAS for Gorgonia's CPU path.
//
// Implementation is gonum's pure-Go BLAS with the matrix products that
// training spends its time in (Sgemm, Dgemm, Sgemv) replaced by a packed,
// cache-blocked GEMM whose register-tiled micro-kernels are written in Go
// assembly: 12×32 (float32) / 12×16 (float64) tiles with AVX-512, 6×16 / 6×8
// with AVX2+FMA, chosen at start-up from golang.org/x/sys/cpu. CPUs without
// AVX2 and other architectures (or the purego build tag) get a 4×4 kernel in
// plain Go. Products large enough are split over GOMAXPROCS goroutines; the
// packing buffers are pooled, so steady-state calls do not allocate.
//
// One call switches Gorgonia and gorgonia.org/tensor to it, process-wide:
//
//	gemm.Use()
//	log.Println("BLAS:", gemm.Name())
//
// The default build is pure Go (no cgo). Built with the openblas tag (and
// cgo), Use installs OpenBLAS through gonum.org/v1/netlib instead:
//
//	apt-get install -y libopenblas-dev
//	CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas ./...
package gemm
