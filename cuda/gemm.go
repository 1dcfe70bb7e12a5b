package cuda

import "fmt"

// GemmCall is one column-major SGEMM call as cuBLAS takes it:
// C = alpha*op(A)*op(B) + beta*C with op(A) m x k, op(B) k x n, C m x n.
// First says which of the caller's operands is cuBLAS's A: row-major
// callers get the usual operand swap (C^T = op(B)^T op(A)^T), so First is
// the caller's B.
type GemmCall struct {
	TransA, TransB bool
	M, N, K        int
	LdA, LdB, LdC  int
	FirstIsB       bool // cuBLAS's A operand is the caller's B
	// Strides between consecutive matrices of a strided batched call
	// (cublasSgemmStridedBatched), in elements, for cuBLAS's A, B and C.
	StrideA, StrideB, StrideC int64
	Batch                     int
}

// RowMajorGemm maps the row-major product C = op(A)*op(B), with op(A) m x k,
// op(B) k x n, C m x n and leading dimensions (row strides) lda, ldb, ldc,
// onto a column-major cuBLAS call. A row-major matrix read column-major is
// its transpose, so cuBLAS computes C^T (n x m) = op(B)^T op(A)^T with B
// first: transa = transB, transb = transA, m' = n, n' = m.
func RowMajorGemm(transA, transB bool, m, n, k, lda, ldb, ldc int) (GemmCall, error) {
	if m < 0 || n < 0 || k < 0 {
		return GemmCall{}, fmt.Errorf("cuda: gemm with negative size m=%d n=%d k=%d", m, n, k)
	}
	// Columns of each row-major operand as stored.
	colsA := k
	if transA {
		colsA = m
	}
	colsB := n
	if transB {
		colsB = k
	}
	if lda < max(1, colsA) {
		return GemmCall{}, fmt.Errorf("cuda: gemm lda=%d < %d columns of A", lda, colsA)
	}
	if ldb < max(1, colsB) {
		return GemmCall{}, fmt.Errorf("cuda: gemm ldb=%d < %d columns of B", ldb, colsB)
	}
	if ldc < max(1, n) {
		return GemmCall{}, fmt.Errorf("cuda: gemm ldc=%d < %d columns of C", ldc, n)
	}
	return GemmCall{
		TransA: transB, TransB: transA,
		M: n, N: m, K: k,
		LdA: ldb, LdB: lda, LdC: ldc,
		FirstIsB: true, Batch: 1,
	}, nil
}

// RowMajorGemmBatched is RowMajorGemm over batch independent products,
// consecutive matrices strideA, strideB, strideC elements apart (a stride
// of 0 reuses one matrix for every product, e.g. shared weights).
func RowMajorGemmBatched(transA, transB bool, m, n, k, lda, ldb, ldc int, strideA, strideB, strideC int64, batch int) (GemmCall, error) {
	c, err := RowMajorGemm(transA, transB, m, n, k, lda, ldb, ldc)
	if err != nil {
		return c, err
	}
	if batch < 1 {
		return c, fmt.Errorf("cuda: batched gemm with batch %d", batch)
	}
	if strideA < 0 || strideB < 0 || strideC < 0 || (batch > 1 && strideC < int64(m)*int64(ldc)) {
		return c, fmt.Errorf("cuda: batched gemm strides %d, %d, %d: C matrices (%d x ld %d) would overlap", strideA, strideB, strideC, m, ldc)
	}
	c.StrideA, c.StrideB, c.StrideC, c.Batch = strideB, strideA, strideC, batch
	return c, nil
}
