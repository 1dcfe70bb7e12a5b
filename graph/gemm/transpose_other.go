//go:build !amd64 || purego

package gemm

// transpose32 sets dst[c*ldd+r] = src[r*lds+c] for r < rows, c < cols.
func transpose32(src []float32, lds, rows, cols int, dst []float32, ldd int) {
	transposeGo(src, lds, 0, rows, cols, dst, ldd)
}
