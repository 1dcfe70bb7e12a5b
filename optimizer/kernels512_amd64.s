//go:build !noasm

#include "textflag.h"

// AVX-512 kernels of the float32 passes of NeuroPlastic and Adam; n is a
// multiple of 16. As in kernels_amd64.s every element operation is the IEEE
// operation, in the same order, of the Go code, so traces, moments and
// weights are bit-identical to it; only the order (and the fusing) of the
// sums differs: they run in float32 lanes for 512 elements (1024 in
// avx512GradSums), then go to float64 in out.

// ZFLUSH adds the 16 float32 lanes of zacc (its low half ylo) to the 8
// float64 at off(DI) and zeroes zacc. Z6, Z7 are its scratch registers.
#define ZFLUSH(ylo, zacc, off) \
	VCVTPS2PD ylo, Z6; \
	VEXTRACTF64X4 $1, zacc, Y7; \
	VCVTPS2PD Y7, Z7; \
	VADDPD Z7, Z6, Z6; \
	VADDPD off(DI), Z6, Z6; \
	VMOVUPD Z6, off(DI); \
	VXORPS zacc, zacc, zacc

// func avx512GradSums(grad *float32, n int, out *[16]float64)
// out: sums of |g| (8 lanes) and g*g (8 lanes), accumulated. Four
// accumulators per sum so that the additions do not chain.
TEXT ·avx512GradSums(SB), NOSPLIT, $0-24
	MOVQ grad+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), DI
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z31
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	MOVQ CX, DX
	ANDQ $-64, DX
	XORQ AX, AX
zgs64:
	CMPQ AX, DX
	JGE zgs16
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS 64(SI)(AX*4), Z1
	VMOVUPS 128(SI)(AX*4), Z2
	VMOVUPS 192(SI)(AX*4), Z3
	VPANDD Z31, Z0, Z4
	VADDPS Z4, Z8, Z8
	VPANDD Z31, Z1, Z5
	VADDPS Z5, Z9, Z9
	VPANDD Z31, Z2, Z4
	VADDPS Z4, Z10, Z10
	VPANDD Z31, Z3, Z5
	VADDPS Z5, Z11, Z11
	VFMADD231PS Z0, Z0, Z12
	VFMADD231PS Z1, Z1, Z13
	VFMADD231PS Z2, Z2, Z14
	VFMADD231PS Z3, Z3, Z15
	ADDQ $64, AX
	TESTQ $1023, AX
	JNZ zgs64
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	VADDPS Z13, Z12, Z12
	VADDPS Z15, Z14, Z14
	VADDPS Z14, Z12, Z12
	ZFLUSH(Y8, Z8, 0)
	ZFLUSH(Y12, Z12, 64)
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	JMP zgs64
zgs16:
	CMPQ AX, CX
	JGE zgsdone
	VMOVUPS (SI)(AX*4), Z0
	VPANDD Z31, Z0, Z4
	VADDPS Z4, Z8, Z8
	VFMADD231PS Z0, Z0, Z12
	ADDQ $16, AX
	JMP zgs16
zgsdone:
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	VADDPS Z13, Z12, Z12
	VADDPS Z15, Z14, Z14
	VADDPS Z14, Z12, Z12
	ZFLUSH(Y8, Z8, 0)
	ZFLUSH(Y12, Z12, 64)
	VZEROUPPER
	RET

// func avx512Pass1(grad, a, m, v, s *float32, n int, c *[8]float32, out *[16]float64, rule int)
// c: absmask (as bits), td, otd, md, omd, vd, ovd, eps. Updates a, m, v;
// with rule != 0 also writes r = |m|/(sqrt(v)+eps) to s; out: sums of a
// and r (8 lanes each).
TEXT ·avx512Pass1(SB), NOSPLIT, $0-72
	MOVQ grad+0(FP), SI
	MOVQ a+8(FP), R9
	MOVQ m+16(FP), R10
	MOVQ v+24(FP), R11
	MOVQ s+32(FP), R12
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), R8
	MOVQ out+56(FP), DI
	MOVQ rule+64(FP), DX
	VBROADCASTSS 0(R8), Z31
	VBROADCASTSS 4(R8), Z30
	VBROADCASTSS 8(R8), Z29
	VBROADCASTSS 12(R8), Z28
	VBROADCASTSS 16(R8), Z27
	VBROADCASTSS 20(R8), Z26
	VBROADCASTSS 24(R8), Z25
	VBROADCASTSS 28(R8), Z24
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	XORQ AX, AX
	TESTQ DX, DX
	JZ zp1g
zp1loop:
	CMPQ AX, CX
	JGE zp1done
	VMOVUPS (SI)(AX*4), Z0
	VPANDD Z31, Z0, Z1
	VMULPS (R9)(AX*4), Z30, Z2
	VMULPS Z1, Z29, Z3
	VADDPS Z3, Z2, Z2
	VMOVUPS Z2, (R9)(AX*4)
	VMULPS (R10)(AX*4), Z28, Z3
	VMULPS Z27, Z0, Z4
	VADDPS Z4, Z3, Z3
	VMOVUPS Z3, (R10)(AX*4)
	VMULPS Z0, Z0, Z4
	VMULPS Z25, Z4, Z4
	VMULPS (R11)(AX*4), Z26, Z5
	VADDPS Z4, Z5, Z5
	VMOVUPS Z5, (R11)(AX*4)
	VPANDD Z31, Z3, Z8
	VSQRTPS Z5, Z9
	VADDPS Z24, Z9, Z9
	VDIVPS Z9, Z8, Z8
	VMOVUPS Z8, (R12)(AX*4)
	VADDPS Z2, Z10, Z10
	VADDPS Z8, Z11, Z11
	ADDQ $16, AX
	TESTQ $511, AX
	JNZ zp1loop
	ZFLUSH(Y10, Z10, 0)
	ZFLUSH(Y11, Z11, 64)
	JMP zp1loop
zp1g:
	CMPQ AX, CX
	JGE zp1done
	VMOVUPS (SI)(AX*4), Z0
	VPANDD Z31, Z0, Z1
	VMULPS (R9)(AX*4), Z30, Z2
	VMULPS Z1, Z29, Z3
	VADDPS Z3, Z2, Z2
	VMOVUPS Z2, (R9)(AX*4)
	VMULPS (R10)(AX*4), Z28, Z3
	VMULPS Z27, Z0, Z4
	VADDPS Z4, Z3, Z3
	VMOVUPS Z3, (R10)(AX*4)
	VMULPS Z0, Z0, Z4
	VMULPS Z25, Z4, Z4
	VMULPS (R11)(AX*4), Z26, Z5
	VADDPS Z4, Z5, Z5
	VMOVUPS Z5, (R11)(AX*4)
	ADDQ $16, AX
	JMP zp1g
zp1done:
	ZFLUSH(Y10, Z10, 0)
	ZFLUSH(Y11, Z11, 64)
	VZEROUPPER
	RET

// func avx512Coef(grad, a, s *float32, n int, c *[12]float32, out *[32]float64, mm *[2][16]float32, hist *[4][64]int32, near *[16]int32, rule int)
// c: absmask (bits), invG, lo, hi, cA, cG, cR, gs, nearLo, nearHi,
// binScale, 63. Writes u = alpha*g over s (which holds r on entry); out:
// sums of u^2, ((alpha-ag)*g)^2 (rule != 0 only; the plasticity delta, with
// alpha-ag taken as gs*(af-ag)), alpha, alpha^2 (8 lanes each); mm: running min and
// max; near: per-lane counts of coefficients near a bound (accumulated); hist: the bins
// of every 32nd alpha (lane 0 of every 2nd vector, in four rotating copies
// so that runs of one bin do not chain their increments).
#define ZCOEFTAIL(next) \
	VMULPS Z2, Z0, Z3; \
	VMOVUPS Z3, (R12)(AX*4); \
	VFMADD231PS Z3, Z3, Z12; \
	VADDPS Z2, Z10, Z10; \
	VFMADD231PS Z2, Z2, Z9; \
	VMINPS Z2, Z14, Z14; \
	VMAXPS Z2, Z13, Z13; \
	VCMPPS $0x12, Z23, Z2, K1; \
	VCMPPS $0x1d, Z22, Z2, K2; \
	KORW K1, K2, K1; \
	VPADDD Z20, Z15, K1, Z15; \
	TESTQ $16, AX; \
	JNZ next; \
	VSUBSS X29, X2, X4; \
	VMULSS X21, X4, X4; \
	VMAXSS X19, X4, X4; \
	VMINSS X18, X4, X4; \
	VCVTTSS2SI X4, BX; \
	MOVQ AX, R13; \
	ANDQ $96, R13; \
	SHLQ $1, R13; \
	ADDQ R13, BX; \
	INCL (R10)(BX*4)

#define ZCOEFFLUSH \
	ZFLUSH(Y12, Z12, 0); \
	ZFLUSH(Y11, Z11, 64); \
	ZFLUSH(Y10, Z10, 128); \
	ZFLUSH(Y9, Z9, 192)

TEXT ·avx512Coef(SB), NOSPLIT, $0-80
	MOVQ grad+0(FP), SI
	MOVQ a+8(FP), R9
	MOVQ s+16(FP), R12
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	MOVQ out+40(FP), DI
	MOVQ mm+48(FP), R13
	MOVQ hist+56(FP), R10
	MOVQ rule+72(FP), DX
	VBROADCASTSS 0(R8), Z31
	VBROADCASTSS 4(R8), Z30
	VBROADCASTSS 8(R8), Z29
	VBROADCASTSS 12(R8), Z28
	VBROADCASTSS 16(R8), Z27
	VBROADCASTSS 20(R8), Z26
	VBROADCASTSS 24(R8), Z25
	VBROADCASTSS 28(R8), Z24
	VBROADCASTSS 32(R8), Z23
	VBROADCASTSS 36(R8), Z22
	VBROADCASTSS 40(R8), Z21
	VBROADCASTSS 44(R8), Z18
	VXORPS Z19, Z19, Z19
	MOVL $1, BX
	VPBROADCASTD BX, Z20
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	MOVQ near+64(FP), BX
	VMOVDQU32 (BX), Z15
	VMOVUPS 0(R13), Z14
	VMOVUPS 64(R13), Z13
	XORQ AX, AX
	TESTQ DX, DX
	JZ zgloop
zrloop:
	CMPQ AX, CX
	JGE zcdone
	VMOVUPS (SI)(AX*4), Z0
	VPANDD Z31, Z0, Z1
	VMULPS Z30, Z1, Z2
	VMAXPS Z29, Z2, Z2
	VMINPS Z28, Z2, Z2
	VMULPS (R9)(AX*4), Z27, Z3
	VMULPS Z26, Z1, Z4
	VADDPS Z4, Z3, Z3
	VMULPS (R12)(AX*4), Z25, Z4
	VADDPS Z4, Z3, Z3
	VMAXPS Z29, Z3, Z3
	VMINPS Z28, Z3, Z3
	VSUBPS Z2, Z3, Z3
	VMULPS Z24, Z3, Z3
	VMULPS Z0, Z3, Z4
	VFMADD231PS Z4, Z4, Z11
	VADDPS Z3, Z2, Z2
	ZCOEFTAIL(zrnext)
zrnext:
	ADDQ $16, AX
	TESTQ $511, AX
	JNZ zrloop
	ZCOEFFLUSH
	JMP zrloop
zgloop:
	CMPQ AX, CX
	JGE zcdone
	VMOVUPS (SI)(AX*4), Z0
	VPANDD Z31, Z0, Z1
	VMULPS Z30, Z1, Z2
	VMAXPS Z29, Z2, Z2
	VMINPS Z28, Z2, Z2
	ZCOEFTAIL(zgnext)
zgnext:
	ADDQ $16, AX
	TESTQ $511, AX
	JNZ zgloop
	ZCOEFFLUSH
	JMP zgloop
zcdone:
	ZCOEFFLUSH
	MOVQ mm+48(FP), R13
	VMOVUPS Z14, 0(R13)
	VMOVUPS Z13, 64(R13)
	MOVQ near+64(FP), BX
	VMOVDQU32 Z15, (BX)
	VZEROUPPER
	RET

// func avx512Apply(p, u *float32, n int, c float32, out *[8]float64)
// p -= c*u; out: sum of p^2 before the step (8 lanes).
TEXT ·avx512Apply(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ u+8(FP), R9
	MOVQ n+16(FP), CX
	VBROADCASTSS c+24(FP), Z15
	MOVQ out+32(FP), DI
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	XORQ AX, AX
zaloop:
	CMPQ AX, CX
	JGE zadone
	VMOVUPS (SI)(AX*4), Z0
	VFMADD231PS Z0, Z0, Z10
	VMULPS (R9)(AX*4), Z15, Z4
	VSUBPS Z4, Z0, Z0
	VMOVUPS Z0, (SI)(AX*4)
	ADDQ $16, AX
	TESTQ $511, AX
	JNZ zaloop
	ZFLUSH(Y10, Z10, 0)
	JMP zaloop
zadone:
	ZFLUSH(Y10, Z10, 0)
	VZEROUPPER
	RET

// func avx512Adam(p, grad, m, v *float32, n int, c *[8]float32, out *[16]float64, flags int)
// c: l2, keep, ob1, b2, ob2, invBc2s, eps, stepSize; flags: 1 = L2
// (g += l2*p), 2 = decoupled decay (p *= keep). The element operations are
// those of adamStep in baselines.go. out: sums of p^2 (before) and q^2.
TEXT ·avx512Adam(SB), NOSPLIT, $0-64
	MOVQ p+0(FP), SI
	MOVQ grad+8(FP), R9
	MOVQ m+16(FP), R10
	MOVQ v+24(FP), R11
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), R8
	MOVQ out+48(FP), DI
	MOVQ flags+56(FP), DX
	VBROADCASTSS 0(R8), Z31
	VBROADCASTSS 4(R8), Z30
	VBROADCASTSS 8(R8), Z29
	VBROADCASTSS 12(R8), Z28
	VBROADCASTSS 16(R8), Z27
	VBROADCASTSS 20(R8), Z26
	VBROADCASTSS 24(R8), Z25
	VBROADCASTSS 28(R8), Z24
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	XORQ AX, AX
	TESTQ DX, DX
	JNZ zadgen
zadplain:
	CMPQ AX, CX
	JGE zaddone
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS (R9)(AX*4), Z1
	VFMADD231PS Z0, Z0, Z10
	VMOVUPS (R10)(AX*4), Z2
	VSUBPS Z2, Z1, Z3
	VMULPS Z29, Z3, Z3
	VADDPS Z3, Z2, Z2
	VMOVUPS Z2, (R10)(AX*4)
	VMULPS (R11)(AX*4), Z28, Z3
	VMULPS Z1, Z1, Z4
	VMULPS Z27, Z4, Z4
	VADDPS Z4, Z3, Z3
	VMOVUPS Z3, (R11)(AX*4)
	VSQRTPS Z3, Z4
	VMULPS Z26, Z4, Z4
	VADDPS Z25, Z4, Z4
	VDIVPS Z4, Z2, Z5
	VFMADD231PS Z5, Z5, Z11
	VMULPS Z24, Z5, Z5
	VSUBPS Z5, Z0, Z0
	VMOVUPS Z0, (SI)(AX*4)
	ADDQ $16, AX
	TESTQ $511, AX
	JNZ zadplain
	ZFLUSH(Y10, Z10, 0)
	ZFLUSH(Y11, Z11, 64)
	JMP zadplain
zadgen:
	CMPQ AX, CX
	JGE zaddone
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS (R9)(AX*4), Z1
	TESTQ $1, DX
	JZ zadnol2
	VMULPS Z31, Z0, Z2
	VADDPS Z2, Z1, Z1
zadnol2:
	VFMADD231PS Z0, Z0, Z10
	TESTQ $2, DX
	JZ zadnodecay
	VMULPS Z30, Z0, Z0
zadnodecay:
	VMOVUPS (R10)(AX*4), Z2
	VSUBPS Z2, Z1, Z3
	VMULPS Z29, Z3, Z3
	VADDPS Z3, Z2, Z2
	VMOVUPS Z2, (R10)(AX*4)
	VMULPS (R11)(AX*4), Z28, Z3
	VMULPS Z1, Z1, Z4
	VMULPS Z27, Z4, Z4
	VADDPS Z4, Z3, Z3
	VMOVUPS Z3, (R11)(AX*4)
	VSQRTPS Z3, Z4
	VMULPS Z26, Z4, Z4
	VADDPS Z25, Z4, Z4
	VDIVPS Z4, Z2, Z5
	VFMADD231PS Z5, Z5, Z11
	VMULPS Z24, Z5, Z5
	VSUBPS Z5, Z0, Z0
	VMOVUPS Z0, (SI)(AX*4)
	ADDQ $16, AX
	TESTQ $511, AX
	JNZ zadgen
	ZFLUSH(Y10, Z10, 0)
	ZFLUSH(Y11, Z11, 64)
	JMP zadgen
zaddone:
	ZFLUSH(Y10, Z10, 0)
	ZFLUSH(Y11, Z11, 64)
	VZEROUPPER
	RET
