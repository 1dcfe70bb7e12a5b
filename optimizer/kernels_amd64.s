//go:build !noasm

#include "textflag.h"

// AVX2 kernels of the float32 passes of NeuroPlastic and Adam; n is a
// multiple of 8. Every element operation is the IEEE operation, in the same
// order, of the Go code (np_kernels.go, baselines.go), so traces, moments
// and weights are bit-identical to it; only the order of the sums differs:
// they run in float32 lanes for 256 elements, then go to float64 in out.

// FLUSH adds the 8 float32 lanes of all8 (low half lo4) to the 4 float64
// at off(DI) and zeroes all8. Y6, Y7 are its scratch registers.
#define FLUSH(lo4, all8, off) \
	VCVTPS2PD lo4, Y6; \
	VEXTRACTF128 $1, all8, X7; \
	VCVTPS2PD X7, Y7; \
	VADDPD Y7, Y6, Y6; \
	VADDPD off(DI), Y6, Y6; \
	VMOVUPD Y6, off(DI); \
	VXORPS all8, all8, all8

// func avxGradSums(grad *float32, n int, c *[8][8]float32, out *[8]float64)
// out: sums of |g| and g*g (4 lanes each, accumulated).
TEXT ·avxGradSums(SB), NOSPLIT, $0-32
	MOVQ grad+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), R8
	MOVQ out+24(FP), DI
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VMOVUPS 0(R8), Y15
	XORQ AX, AX
gsloop:
	CMPQ AX, CX
	JGE gsdone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS Y15, Y0, Y1
	VADDPS Y1, Y10, Y10
	VMULPS Y0, Y0, Y2
	VADDPS Y2, Y11, Y11
	ADDQ $8, AX
	TESTQ $255, AX
	JNZ gsloop
	FLUSH(X10, Y10, 0)
	FLUSH(X11, Y11, 32)
	JMP gsloop
gsdone:
	FLUSH(X10, Y10, 0)
	FLUSH(X11, Y11, 32)
	VZEROUPPER
	RET

// func avxPass1(grad, a, m, v, s *float32, n int, c *[8][8]float32, out *[8]float64, rule int)
// rows of c: absmask, td, otd, md, omd, vd, ovd, eps. Updates a, m, v; with
// rule != 0 also writes r = |m|/(sqrt(v)+eps) to s; out: sums of a and r.
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
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
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
	VANDPS Y15, Y3, Y8
	VSQRTPS Y5, Y9
	VADDPS 224(R8), Y9, Y9
	VDIVPS Y9, Y8, Y8
	VMOVUPS Y8, (R12)(AX*4)
	VADDPS Y2, Y10, Y10
	VADDPS Y8, Y11, Y11
p1next:
	ADDQ $8, AX
	TESTQ $255, AX
	JNZ p1loop
	FLUSH(X10, Y10, 0)
	FLUSH(X11, Y11, 32)
	JMP p1loop
p1done:
	FLUSH(X10, Y10, 0)
	FLUSH(X11, Y11, 32)
	VZEROUPPER
	RET

// func avxCoef(grad, a, s *float32, n int, c *[12][8]float32, out *[16]float64, mm *[2][8]float32, hist *[4][64]int32, near *int, rule int)
// rows of c: absmask, invG, lo, hi, cA, cG, cR, gs, nearLo, nearHi,
// binScale, {0, 63}. Writes u = alpha*g over s (which holds r on entry);
// out: sums of u^2, ((alpha-ag)*g)^2 (rule != 0 only; the plasticity delta,
// with alpha-ag taken as gs*(af-ag)), alpha, alpha^2 (4 lanes each); mm: running
// min and max; near: count near a bound; hist: the bins of every 32nd alpha
// (lane 0 of every 4th vector, in four rotating copies so that runs of one
// bin do not chain their increments).
#define COEFTAIL(next) \
	VMULPS Y2, Y0, Y3; \
	VMOVUPS Y3, (R12)(AX*4); \
	VMULPS Y3, Y3, Y5; \
	VADDPS Y5, Y12, Y12; \
	VADDPS Y2, Y10, Y10; \
	VMULPS Y2, Y2, Y4; \
	VADDPS Y4, Y9, Y9; \
	VMINPS Y2, Y14, Y14; \
	VMAXPS Y2, Y13, Y13; \
	VCMPPS $0x12, 256(R8), Y2, Y4; \
	VCMPPS $0x1d, 288(R8), Y2, Y5; \
	VORPS Y5, Y4, Y4; \
	VMOVMSKPS Y4, BX; \
	POPCNTL BX, BX; \
	ADDQ BX, R11; \
	TESTQ $24, AX; \
	JNZ next; \
	VSUBSS 64(R8), X2, X4; \
	VMULSS 320(R8), X4, X4; \
	VMAXSS 352(R8), X4, X4; \
	VMINSS 356(R8), X4, X4; \
	VCVTTSS2SI X4, BX; \
	MOVQ AX, R13; \
	ANDQ $96, R13; \
	SHLQ $1, R13; \
	ADDQ R13, BX; \
	INCL (R10)(BX*4)

#define COEFFLUSH \
	FLUSH(X12, Y12, 0); \
	FLUSH(X11, Y11, 32); \
	FLUSH(X10, Y10, 64); \
	FLUSH(X9, Y9, 96)

TEXT ·avxCoef(SB), NOSPLIT, $0-80
	MOVQ grad+0(FP), SI
	MOVQ a+8(FP), R9
	MOVQ s+16(FP), R12
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	MOVQ out+40(FP), DI
	MOVQ mm+48(FP), R13
	MOVQ hist+56(FP), R10
	MOVQ rule+72(FP), DX
	XORQ R11, R11
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VMOVUPS 0(R8), Y15
	VMOVUPS 0(R13), Y14
	VMOVUPS 32(R13), Y13
	XORQ AX, AX
	TESTQ DX, DX
	JZ gloop
rloop:
	CMPQ AX, CX
	JGE cdone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS Y15, Y0, Y1
	VMULPS 32(R8), Y1, Y2
	VMAXPS 64(R8), Y2, Y2
	VMINPS 96(R8), Y2, Y2
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
	VMULPS Y0, Y3, Y4
	VMULPS Y4, Y4, Y4
	VADDPS Y4, Y11, Y11
	VADDPS Y3, Y2, Y2
	COEFTAIL(rnext)
rnext:
	ADDQ $8, AX
	TESTQ $255, AX
	JNZ rloop
	COEFFLUSH
	JMP rloop
gloop:
	CMPQ AX, CX
	JGE cdone
	VMOVUPS (SI)(AX*4), Y0
	VANDPS Y15, Y0, Y1
	VMULPS 32(R8), Y1, Y2
	VMAXPS 64(R8), Y2, Y2
	VMINPS 96(R8), Y2, Y2
	COEFTAIL(gnext)
gnext:
	ADDQ $8, AX
	TESTQ $255, AX
	JNZ gloop
	COEFFLUSH
	JMP gloop
cdone:
	COEFFLUSH
	MOVQ mm+48(FP), R13
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
	VXORPS Y10, Y10, Y10
	VMOVUPS 0(R8), Y15
	XORQ AX, AX
aloop:
	CMPQ AX, CX
	JGE adone
	VMOVUPS (SI)(AX*4), Y0
	VMULPS Y0, Y0, Y1
	VADDPS Y1, Y10, Y10
	VMULPS (R9)(AX*4), Y15, Y4
	VSUBPS Y4, Y0, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ $8, AX
	TESTQ $255, AX
	JNZ aloop
	FLUSH(X10, Y10, 0)
	JMP aloop
adone:
	FLUSH(X10, Y10, 0)
	VZEROUPPER
	RET

// func avxAdam(p, grad, m, v *float32, n int, c *[8][8]float32, out *[8]float64, flags int)
// rows of c: l2, keep, ob1, b2, ob2, invBc2s, eps, stepSize; flags: 1 = L2
// (g += l2*p), 2 = decoupled decay (p *= keep). The element operations are
// those of adamStep in baselines.go. out: sums of p^2 (before) and q^2.
TEXT ·avxAdam(SB), NOSPLIT, $0-64
	MOVQ p+0(FP), SI
	MOVQ grad+8(FP), R9
	MOVQ m+16(FP), R10
	MOVQ v+24(FP), R11
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), R8
	MOVQ out+48(FP), DI
	MOVQ flags+56(FP), DX
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX
adloop:
	CMPQ AX, CX
	JGE addone
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (R9)(AX*4), Y1
	TESTQ $1, DX
	JZ adnol2
	VMULPS 0(R8), Y0, Y2
	VADDPS Y2, Y1, Y1
adnol2:
	VMULPS Y0, Y0, Y2
	VADDPS Y2, Y10, Y10
	TESTQ $2, DX
	JZ adnodecay
	VMULPS 32(R8), Y0, Y0
adnodecay:
	VMOVUPS (R10)(AX*4), Y2
	VSUBPS Y2, Y1, Y3
	VMULPS 64(R8), Y3, Y3
	VADDPS Y3, Y2, Y2
	VMOVUPS Y2, (R10)(AX*4)
	VMOVUPS (R11)(AX*4), Y3
	VMULPS 96(R8), Y3, Y3
	VMULPS Y1, Y1, Y4
	VMULPS 128(R8), Y4, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS Y3, (R11)(AX*4)
	VSQRTPS Y3, Y4
	VMULPS 160(R8), Y4, Y4
	VADDPS 192(R8), Y4, Y4
	VDIVPS Y4, Y2, Y5
	VMULPS Y5, Y5, Y8
	VADDPS Y8, Y11, Y11
	VMULPS 224(R8), Y5, Y5
	VSUBPS Y5, Y0, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ $8, AX
	TESTQ $255, AX
	JNZ adloop
	FLUSH(X10, Y10, 0)
	FLUSH(X11, Y11, 32)
	JMP adloop
addone:
	FLUSH(X10, Y10, 0)
	FLUSH(X11, Y11, 32)
	VZEROUPPER
	RET
