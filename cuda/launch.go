package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DevPtr is a device address (CUdeviceptr).
type DevPtr uint64

// Launch is a kernel launch configuration.
type Launch struct {
	Grid, Block [3]uint32
	Shared      uint32 // dynamic shared memory bytes
}

// MaxGridX caps the grids of grid-stride kernels: more blocks than this
// only add scheduling overhead (a few waves on the largest GPUs).
const MaxGridX = 65535

// Linear is the configuration of an element-wise (grid-stride) kernel over
// n elements: ceil(n/block) blocks, at most MaxGridX, at least 1.
func Linear(n int64, block int) (Launch, error) {
	if err := checkBlock(block); err != nil {
		return Launch{}, err
	}
	if n < 0 {
		return Launch{}, fmt.Errorf("cuda: negative element count %d", n)
	}
	g := (n + int64(block) - 1) / int64(block)
	g = max(1, min(g, MaxGridX))
	return Launch{Grid: [3]uint32{uint32(g), 1, 1}, Block: [3]uint32{uint32(block), 1, 1}}, nil
}

// Rows is the configuration of a kernel that runs one block per row
// (softmax, cap, batch-norm channels, argmax): min(rows, MaxGridX) blocks,
// the kernels loop over the rest.
func Rows(rows int, block int) (Launch, error) {
	if err := checkBlock(block); err != nil {
		return Launch{}, err
	}
	if rows < 0 {
		return Launch{}, fmt.Errorf("cuda: negative row count %d", rows)
	}
	g := max(1, min(rows, MaxGridX))
	return Launch{Grid: [3]uint32{uint32(g), 1, 1}, Block: [3]uint32{uint32(block), 1, 1}}, nil
}

func checkBlock(block int) error {
	if block < 32 || block > 1024 || block%32 != 0 {
		return fmt.Errorf("cuda: block size %d: want a multiple of 32 in [32, 1024]", block)
	}
	return nil
}

// checkCount verifies that an element count fits the kernels' int
// parameters (they index with 64-bit arithmetic but take counts as int).
func checkCount(what string, n int64) (int32, error) {
	if n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("cuda: %s = %d does not fit a kernel's int parameter", what, n)
	}
	return int32(n), nil
}

// packArgs lays kernel arguments out the way cuLaunchKernel reads them: a
// buffer holding each value at its natural alignment, and the offset of
// each value (the driver receives an array of pointers to them).
func packArgs(args []any) (buf []byte, offsets []int, err error) {
	for i, a := range args {
		var size int
		switch a.(type) {
		case int32, float32:
			size = 4
		case uint64, DevPtr:
			size = 8
		default:
			return nil, nil, fmt.Errorf("cuda: kernel argument %d has unsupported type %T", i, a)
		}
		off := (len(buf) + size - 1) / size * size
		for len(buf) < off+size {
			buf = append(buf, 0)
		}
		switch v := a.(type) {
		case int32:
			binary.LittleEndian.PutUint32(buf[off:], uint32(v))
		case float32:
			binary.LittleEndian.PutUint32(buf[off:], math.Float32bits(v))
		case uint64:
			binary.LittleEndian.PutUint64(buf[off:], v)
		case DevPtr:
			binary.LittleEndian.PutUint64(buf[off:], uint64(v))
		}
		offsets = append(offsets, off)
	}
	return buf, offsets, nil
}
