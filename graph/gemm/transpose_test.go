package gemm

import (
	"math/rand"
	"testing"
)

// TestTranspose32 checks the register transposes (8×8, 4×8 and the scalar
// edges) against the definition on every shape up to 20×20, padded rows.
func TestTranspose32(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for rows := 1; rows <= 20; rows++ {
		for cols := 1; cols <= 20; cols++ {
			lds, ldd := cols+3, rows+5
			src := randSlice[float32](rng, rows*lds)
			dst := make([]float32, cols*ldd)
			for i := range dst {
				dst[i] = -7
			}
			transpose32(src, lds, rows, cols, dst, ldd)
			for c := 0; c < cols; c++ {
				for r := 0; r < ldd; r++ {
					want := float32(-7)
					if r < rows {
						want = src[r*lds+c]
					}
					if got := dst[c*ldd+r]; got != want {
						t.Fatalf("%d×%d: dst[%d][%d] = %v, want %v", rows, cols, c, r, got, want)
					}
				}
			}
		}
	}
}
