// Package gemm is a fast BLAS for Gorgonia's CPU path.
//
// Implementation is gonum's pure-Go BLAS with the products that training
// spends its time in (Sgemm, Dgemm, Sgemv) replaced:
//
//   - Sgemm/Dgemm: a packed, cache-blocked GEMM (all four transpose
//     combinations, any lda/ldb/ldc) whose register-tiled micro-kernels are
//     Go assembly: 12×32 float32 / 12×16 float64 tiles with AVX-512, 6×16 /
//     6×8 with AVX2+FMA, chosen at start-up with golang.org/x/sys/cpu.
//     Products from 2M multiply-adds are split over GOMAXPROCS goroutines,
//     which pack the shared operand once, together. Packing buffers are
//     pooled: steady-state calls do not allocate. amd64 CPUs without
//     AVX2+FMA keep gonum's SSE GEMM (faster there than portable Go); other
//     architectures, and the purego build tag, use a 4×4 kernel in Go.
//   - Sgemv: four rows of A at a time, AVX2+FMA or portable Go.
//   - GemmB: a product whose B is never stored as a matrix (implicit
//     GEMM, e.g. a convolution's patch matrix): a PanelB packs each block
//     on demand, a PanelBT gives plain blocks of Bᵀ for the register
//     transposes, and a PanelBRows gives the addresses of strips that
//     already lie in memory row by row, which indirect micro-kernels
//     (*Ind in kernel_amd64.s) read in place.
//
// One call switches Gorgonia and gorgonia.org/tensor to it, process-wide:
//
//	gemm.Use()
//	log.Println("BLAS:", gemm.Name()) // e.g. "go-avx512 12x32"
//
// The default build is pure Go (no cgo). Built with the openblas tag (and
// cgo), Use installs OpenBLAS through gonum.org/v1/netlib instead:
//
//	apt-get install -y libopenblas-dev
//	CGO_ENABLED=1 CGO_LDFLAGS=-lopenblas go build -tags openblas ./...
//
// Benchmarks (GFLOP/s per model shape against gonum, and OpenBLAS in the
// openblas build; MLP training samples/s):
//
//	go test ./graph/gemm -run '^$' -bench . -benchtime 200ms -count 3
package gemm
