//go:build amd64 && !purego

#include "textflag.h"

// Register transposes for packing (AVX). src rows are lds floats apart,
// dst rows ldd floats apart; dst[c][r] = src[r][c].

// TRANSPOSE4 leaves the columns of the 4×8 block in rows r0..r3 in the
// 128-bit lanes of u0..u3: u_c = [col c | col c+4].
#define TRANSPOSE4(r0, r1, r2, r3, t0, t1, t2, t3, u0, u1, u2, u3) \
	VUNPCKLPS r1, r0, t0 \
	VUNPCKHPS r1, r0, t1 \
	VUNPCKLPS r3, r2, t2 \
	VUNPCKHPS r3, r2, t3 \
	VSHUFPS $0x44, t2, t0, u0 \
	VSHUFPS $0xEE, t2, t0, u1 \
	VSHUFPS $0x44, t3, t1, u2 \
	VSHUFPS $0xEE, t3, t1, u3

// func transpose4x8(src *float32, lds int, dst *float32, ldd int)
TEXT ·transpose4x8(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	SHLQ $2, AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), CX // 3*ldd
	VMOVUPS (SI), Y0
	ADDQ AX, SI
	VMOVUPS (SI), Y1
	ADDQ AX, SI
	VMOVUPS (SI), Y2
	ADDQ AX, SI
	VMOVUPS (SI), Y3
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVUPS X8, (DI)
	VMOVUPS X9, (DI)(BX*1)
	VMOVUPS X10, (DI)(BX*2)
	VMOVUPS X11, (DI)(CX*1)
	LEAQ (DI)(BX*4), DI
	VEXTRACTF128 $1, Y8, (DI)
	VEXTRACTF128 $1, Y9, (DI)(BX*1)
	VEXTRACTF128 $1, Y10, (DI)(BX*2)
	VEXTRACTF128 $1, Y11, (DI)(CX*1)
	VZEROUPPER
	RET

// func transpose8x8(src *float32, lds int, dst *float32, ldd int)
TEXT ·transpose8x8(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), AX
	SHLQ $2, AX
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), CX // 3*ldd
	LEAQ (AX)(AX*2), DX // 3*lds
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(DX*1), Y3
	LEAQ (SI)(AX*4), SI
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(DX*1), Y3
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15)
	VPERM2F128 $0x20, Y12, Y8, Y0
	VPERM2F128 $0x20, Y13, Y9, Y1
	VPERM2F128 $0x20, Y14, Y10, Y2
	VPERM2F128 $0x20, Y15, Y11, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(BX*1)
	VMOVUPS Y2, (DI)(BX*2)
	VMOVUPS Y3, (DI)(CX*1)
	LEAQ (DI)(BX*4), DI
	VPERM2F128 $0x31, Y12, Y8, Y0
	VPERM2F128 $0x31, Y13, Y9, Y1
	VPERM2F128 $0x31, Y14, Y10, Y2
	VPERM2F128 $0x31, Y15, Y11, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(BX*1)
	VMOVUPS Y2, (DI)(BX*2)
	VMOVUPS Y3, (DI)(CX*1)
	VZEROUPPER
	RET
