//go:build !amd64 || purego

package gemm

func dot4(a []float32, lda int, x []float32, out *[4]float32) { dot4Go(a, lda, x, out) }

func axpy4(a []float32, lda int, s *[4]float32, y []float32) { axpy4Go(a, lda, s, y) }
