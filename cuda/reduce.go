package cuda

import "fmt"

// ReducePlan is the launch plan of a two-pass reduction over N elements:
// pass 1 runs Blocks blocks of Block threads, each thread summing a
// grid-stride slice and each block writing one partial per quantity;
// pass 2 (pl_reduce_partials) runs one block over the Blocks partials.
// NeuroPlastic uses it twice per tensor (the means of |g|, a and
// |m|/(sqrt(v)+eps), then the sum of u^2), so every per-tensor statistic
// stays on the device and a step needs no host synchronisation.
type ReducePlan struct {
	N, Block, Blocks int
}

// MaxReduceBlocks bounds pass 1's grid: enough blocks to fill a large GPU
// (H100: 132 SMs x 8 blocks of 256 threads) and few enough partials for
// one block to finish them.
const MaxReduceBlocks = 1024

// PlanReduce plans a reduction of n elements with the given block size.
func PlanReduce(n int64, block int) (ReducePlan, error) {
	if err := checkBlock(block); err != nil {
		return ReducePlan{}, err
	}
	if _, err := checkCount("reduction length", n); err != nil {
		return ReducePlan{}, err
	}
	if n == 0 {
		return ReducePlan{}, fmt.Errorf("cuda: reduction over an empty tensor")
	}
	b := (n + int64(block) - 1) / int64(block)
	b = max(1, min(b, MaxReduceBlocks))
	return ReducePlan{N: int(n), Block: block, Blocks: int(b)}, nil
}

// Simulate runs the plan's summation order on the CPU in float32, exactly
// as the kernels do it (each thread's grid-stride slice, then a tree over
// the warp shuffles and the warps, then over the partials). It proves the
// plan covers every element once and gives the float32 result the device
// should reproduce up to the order of floating-point additions.
func (p ReducePlan) Simulate(x func(i int) float32) float32 {
	partials := make([]float32, p.Blocks)
	for b := 0; b < p.Blocks; b++ {
		th := make([]float32, p.Block)
		for t := 0; t < p.Block; t++ {
			for i := b*p.Block + t; i < p.N; i += p.Block * p.Blocks {
				th[t] += x(i)
			}
		}
		partials[b] = blockSumSim(th)
	}
	th := make([]float32, p.Block)
	for t := 0; t < p.Block; t++ {
		for b := t; b < p.Blocks; b += p.Block {
			th[t] += partials[b]
		}
	}
	return blockSumSim(th)
}

// blockSumSim mirrors block_sum: a shuffle-down tree inside each warp,
// then the same tree over the warp sums.
func blockSumSim(th []float32) float32 {
	warp := func(v []float32) float32 {
		w := make([]float32, 32)
		copy(w, v)
		for o := 16; o > 0; o >>= 1 {
			for l := 0; l+o < 32; l++ {
				w[l] += w[l+o]
			}
		}
		return w[0]
	}
	sums := make([]float32, 0, len(th)/32)
	for w := 0; w < len(th); w += 32 {
		sums = append(sums, warp(th[w:w+32]))
	}
	return warp(sums)
}
