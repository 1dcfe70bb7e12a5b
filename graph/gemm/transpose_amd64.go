//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:noescape
func transpose4x8(src *float32, lds int, dst *float32, ldd int)

//go:noescape
func transpose8x8(src *float32, lds int, dst *float32, ldd int)

// hasAVX says whether the register transposes of transpose_amd64.s run here.
var hasAVX = cpu.X86.HasAVX

// transpose32 sets dst[c*ldd+r] = src[r*lds+c] for r < rows, c < cols,
// with 8×8 and 4×8 register transposes where the CPU has AVX.
func transpose32(src []float32, lds, rows, cols int, dst []float32, ldd int) {
	if !hasAVX || cols < 8 {
		transposeGo(src, lds, 0, rows, cols, dst, ldd)
		return
	}
	_ = src[(rows-1)*lds+cols-1]
	_ = dst[(cols-1)*ldd+rows-1]
	c8 := cols &^ 7
	r := 0
	for ; r+8 <= rows; r += 8 {
		for c := 0; c < c8; c += 8 {
			transpose8x8(&src[r*lds+c], lds, &dst[c*ldd+r], ldd)
		}
	}
	for ; r+4 <= rows; r += 4 {
		for c := 0; c < c8; c += 8 {
			transpose4x8(&src[r*lds+c], lds, &dst[c*ldd+r], ldd)
		}
	}
	// Rows left over (fewer than 4), then columns past the last 8.
	transposeGo(src, lds, r, rows, c8, dst, ldd)
	if c8 < cols {
		transposeGo(src[c8:], lds, 0, rows, cols-c8, dst[c8*ldd:], ldd)
	}
}
