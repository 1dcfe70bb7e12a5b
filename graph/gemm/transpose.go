package gemm

// transposeGo sets dst[c*ldd+r] = src[r*lds+c] for r0 <= r < rows, c < cols.
func transposeGo[T float32 | float64](src []T, lds, r0, rows, cols int, dst []T, ldd int) {
	for r := r0; r < rows; r++ {
		s := src[r*lds : r*lds+cols]
		d := dst[r:]
		for c, v := range s {
			d[c*ldd] = v
		}
	}
}

// transposeBlock is transposeGo, with the register transposes for float32.
func transposeBlock[T float32 | float64](src []T, lds, rows, cols int, dst []T, ldd int) {
	if rows == 0 || cols == 0 {
		return
	}
	if s, ok := any(src).([]float32); ok {
		transpose32(s, lds, rows, cols, any(dst).([]float32), ldd)
		return
	}
	transposeGo(src, lds, 0, rows, cols, dst, ldd)
}
