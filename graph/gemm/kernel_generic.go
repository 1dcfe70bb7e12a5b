package gemm

// genericKernels returns the portable micro-kernels written in Go, used on
// CPUs without AVX2+FMA and on architectures other than amd64.
func genericKernels() kernelPair {
	return kernelPair{
		&kernel[float32]{name: "go-generic 4x4", mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024, fn: kernGeneric[float32], fnInd: kernGenericInd[float32]},
		&kernel[float64]{name: "go-generic 4x4", mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024, fn: kernGeneric[float64], fnInd: kernGenericInd[float64]}}
}

// kernelPair is the float32 and float64 kernel of one instruction set.
type kernelPair struct {
	s *kernel[float32]
	d *kernel[float64]
}

// kernGeneric is the 4×4 micro-kernel in plain Go: sixteen scalar
// accumulators over packed panels of 4 rows of A and 4 columns of B.
func kernGeneric[T float32 | float64](kc int, a, b, c *T, ldc int, alpha, beta T, loadC int) {
	if kc == 0 {
		var zero [16]T
		storeGeneric(&zero, c, ldc, alpha, beta, loadC)
		return
	}
	ap := unsafeSlice(a, 4*kc)
	bp := unsafeSlice(b, 4*kc)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	for p := 0; p < kc; p++ {
		av := ap[4*p : 4*p+4 : 4*p+4]
		bv := bp[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [16]T{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	storeGeneric(&acc, c, ldc, alpha, beta, loadC)
}

func storeGeneric[T float32 | float64](acc *[16]T, c *T, ldc int, alpha, beta T, loadC int) {
	cs := unsafeSlice(c, 3*ldc+4)
	for i := 0; i < 4; i++ {
		row := cs[i*ldc : i*ldc+4 : i*ldc+4]
		for j := range row {
			if loadC != 0 {
				row[j] = alpha*acc[4*i+j] + beta*row[j]
			} else {
				row[j] = alpha * acc[4*i+j]
			}
		}
	}
}

// kernGenericInd is kernGeneric with B given as kc addresses of 4 values.
func kernGenericInd[T float32 | float64](kc int, a *T, b **T, c *T, ldc int, alpha, beta T, loadC int) {
	var acc [16]T
	if kc > 0 {
		ap := unsafeSlice(a, 4*kc)
		rows := unsafeSlice(b, kc)
		for p, r := range rows {
			bv := unsafeSlice(r, 4)
			av := ap[4*p : 4*p+4 : 4*p+4]
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					acc[4*i+j] += av[i] * bv[j]
				}
			}
		}
	}
	storeGeneric(&acc, c, ldc, alpha, beta, loadC)
}
