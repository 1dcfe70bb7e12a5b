//go:build !noasm

#include "textflag.h"

// AVX2 kernels of the NeuroPlastic float32 passes; n is a multiple of 8.
// Every element operation is the same IEEE operation, in the same order, as
// in the Go code of np_kernels.go, so traces and updates are bit-identical;
// only the order of the float64 sums differs. Constant rows are 8 copies.

// ACC adds the 8 float32 of Ys (low half Xs) to the 4 float64 of Yacc.
#define ACC(lo4, all8, wide1, hi4, wide2, acc) \
	VCVTPS2PD lo4, wide1; \
	VEXTRACTF128 $1, all8, hi4; \
	VCVTPS2PD hi4, wide2; \
	VADDPD wide1, acc, acc; \
	VADDPD wide2, acc, acc

// func avxGradSums(grad *float32, n int, c *[8][8]float32, out *[8]float64)
TEXT ·avxGradSums(SB), NOSPLIT, $0-32
	MOVQ grad+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), R8
	MOVQ out+24(FP), DI
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VMOVUPS 0(R8), Y15
	XORQ AX, AX
gsloop:
	CMPQ AX, CX
	JGE gsdone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS Y15, Y0, Y1
	VMULPS Y0, Y0, Y2
	ACC(X1, Y1, Y3, X4, Y4, Y10)
	ACC(X2, Y2, Y5, X6, Y6, Y11)
	ADDQ $8, AX
	JMP gsloop
gsdone:
	VMOVUPD Y10, 0(DI)
	VMOVUPD Y11, 32(DI)
	VZEROUPPER
	RET

// func avxPass1(grad, a, m, v, s *float32, n int, c *[8][8]float32, out *[8]float64, rule int)
// rows of c: absmask, td, otd, md, omd, vd, ovd, eps.
TEXT ·avxPass1(SB), NOSPLIT, $0-72
	MOVQ grad+0(FP), SI
	MOVQ a+8(FP), R9
	MOVQ m+16(FP), R10
	MOVQ v+24(FP), R11
	MOVQ s+32(FP), R12
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), R8
	MOVQ out+56(FP), DI
	MOVQ rule+64(FP), DX
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VMOVUPS 0(R8), Y15
	VMOVUPS 32(R8), Y14
	VMOVUPS 64(R8), Y13
	VMOVUPS 96(R8), Y12
	XORQ AX, AX
p1loop:
	CMPQ AX, CX
	JGE p1done
	VMOVUPS (SI)(AX*4), Y0
	VANDPS Y15, Y0, Y1
	VMULPS (R9)(AX*4), Y14, Y2
	VMULPS Y1, Y13, Y3
	VADDPS Y3, Y2, Y2
	VMOVUPS Y2, (R9)(AX*4)
	VMULPS (R10)(AX*4), Y12, Y3
	VMULPS 128(R8), Y0, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS Y3, (R10)(AX*4)
	VMULPS Y0, Y0, Y4
	VMULPS 192(R8), Y4, Y4
	VMOVUPS (R11)(AX*4), Y5
	VMULPS 160(R8), Y5, Y5
	VADDPS Y4, Y5, Y5
	VMOVUPS Y5, (R11)(AX*4)
	TESTQ DX, DX
	JZ p1next
	VANDPS Y15, Y3, Y6
	VSQRTPS Y5, Y7
	VADDPS 224(R8), Y7, Y7
	VDIVPS Y7, Y6, Y6
	VMOVUPS Y6, (R12)(AX*4)
	ACC(X2, Y2, Y8, X9, Y9, Y10)
	ACC(X6, Y6, Y8, X9, Y9, Y11)
p1next:
	ADDQ $8, AX
	JMP p1loop
p1done:
	VMOVUPD Y10, 0(DI)
	VMOVUPD Y11, 32(DI)
	VZEROUPPER
	RET

// func avxCoef(grad, a, s *float32, n int, c *[12][8]float32, out *[16]float64, mm *[2][8]float32, hist *[64]int32, near *int, rule int)
// rows of c: absmask, invG, lo, hi, cA, cG, cR, gs, nearLo, nearHi,
// binScale, {0, 63}. Writes u = alpha*g over s (which holds r on entry);
// out: sums of u^2, (u-g)^2, alpha, alpha^2 (4 lanes each); mm: running
// min and max; hist: bins of every 8th alpha; near: count near a bound.
TEXT ·avxCoef(SB), NOSPLIT, $0-80
	MOVQ grad+0(FP), SI
	MOVQ a+8(FP), R9
	MOVQ s+16(FP), R12
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	MOVQ mm+48(FP), R13
	MOVQ hist+56(FP), R10
	MOVQ rule+72(FP), DX
	XORQ R11, R11
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VMOVUPS 0(R8), Y15
	VMOVUPS 0(R13), Y14
	VMOVUPS 32(R13), Y13
	XORQ AX, AX
cloop:
	CMPQ AX, CX
	JGE cdone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS Y15, Y0, Y1
	VMULPS 32(R8), Y1, Y2
	VMAXPS 64(R8), Y2, Y2
	VMINPS 96(R8), Y2, Y2
	TESTQ DX, DX
	JZ calpha
	VMOVUPS (R9)(AX*4), Y3
	VMULPS 128(R8), Y3, Y3
	VMULPS 160(R8), Y1, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS (R12)(AX*4), Y4
	VMULPS 192(R8), Y4, Y4
	VADDPS Y4, Y3, Y3
	VMAXPS 64(R8), Y3, Y3
	VMINPS 96(R8), Y3, Y3
	VSUBPS Y2, Y3, Y3
	VMULPS 224(R8), Y3, Y3
	VADDPS Y3, Y2, Y2
calpha:
	VMULPS Y2, Y0, Y3
	VMOVUPS Y3, (R12)(AX*4)
	VSUBPS Y0, Y3, Y4
	VMULPS Y4, Y4, Y4
	VMULPS Y3, Y3, Y5
	ACC(X5, Y5, Y6, X7, Y7, Y10)
	ACC(X4, Y4, Y6, X7, Y7, Y11)
	ACC(X2, Y2, Y6, X7, Y7, Y9)
	VMULPS Y2, Y2, Y4
	ACC(X4, Y4, Y6, X7, Y7, Y8)
	VMINPS Y2, Y14, Y14
	VMAXPS Y2, Y13, Y13
	VCMPPS $0x12, 256(R8), Y2, Y4
	VCMPPS $0x1d, 288(R8), Y2, Y5
	VORPS Y5, Y4, Y4
	VMOVMSKPS Y4, BX
	POPCNTL BX, BX
	ADDQ BX, R11
	VSUBSS 64(R8), X2, X4
	VMULSS 320(R8), X4, X4
	VMAXSS 352(R8), X4, X4
	VMINSS 356(R8), X4, X4
	VCVTTSS2SI X4, BX
	INCL (R10)(BX*4)
	ADDQ $8, AX
	JMP cloop
cdone:
	MOVQ out+40(FP), DI
	VMOVUPD Y10, 0(DI)
	VMOVUPD Y11, 32(DI)
	VMOVUPD Y9, 64(DI)
	VMOVUPD Y8, 96(DI)
	VMOVUPS Y14, 0(R13)
	VMOVUPS Y13, 32(R13)
	MOVQ near+64(FP), BX
	ADDQ R11, (BX)
	VZEROUPPER
	RET

// func avxApply(p, u *float32, n int, c *[8]float32, out *[4]float64)
// p -= c*u; out: sum of p^2 before the step (4 lanes).
TEXT ·avxApply(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ u+8(FP), R9
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), R8
	MOVQ out+32(FP), DI
	VXORPD Y10, Y10, Y10
	VMOVUPS 0(R8), Y15
	XORQ AX, AX
aloop:
	CMPQ AX, CX
	JGE adone
	VMOVUPS (SI)(AX*4), Y0
	VMULPS Y0, Y0, Y1
	ACC(X1, Y1, Y2, X3, Y3, Y10)
	VMULPS (R9)(AX*4), Y15, Y4
	VSUBPS Y4, Y0, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ $8, AX
	JMP aloop
adone:
	VMOVUPD Y10, 0(DI)
	VZEROUPPER
	RET
