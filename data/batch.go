package data

import (
	"fmt"
	"math/rand"
)

// Batcher cuts a set into mini-batches in a seeded random order that
// changes every epoch: the order of epoch e is a shuffle of 0..N-1 drawn
// from (seed, e) only, so the same seed gives the same batches, also when a
// run resumes at a later epoch. It shuffles an index permutation, never the
// set, and gathers a batch into buffers the caller reuses. A Batcher is not
// safe for concurrent use.
type Batcher struct {
	s     *Set
	batch int
	seed  int64
	perm  []int
	epoch int // epoch perm holds; 0: none yet
	src   rand.Source
	rng   *rand.Rand
}

// NewBatcher returns a batcher of batches of the given size (>= 1).
func NewBatcher(s *Set, batch int, seed int64) *Batcher {
	if batch < 1 {
		panic(fmt.Sprintf("data: batch size %d < 1", batch))
	}
	src := rand.NewSource(seed)
	return &Batcher{s: s, batch: batch, seed: seed, perm: make([]int, s.N), src: src, rng: rand.New(src)}
}

// Size is the batch size; NumBatches the number of batches of an epoch, the
// last one partial when the batch size does not divide N.
func (b *Batcher) Size() int       { return b.batch }
func (b *Batcher) NumBatches() int { return (b.s.N + b.batch - 1) / b.batch }

// Order returns the example order of an epoch (owned by the batcher, valid
// until an other epoch is asked for).
func (b *Batcher) Order(epoch int) []int {
	if b.epoch != epoch || b.epoch == 0 {
		b.src.Seed(streamSeed(b.seed, "batcher", int64(epoch)))
		for i := range b.perm {
			b.perm[i] = i
		}
		b.rng.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
		b.epoch = epoch
	}
	return b.perm
}

// Batch gathers batch i (0-based) of the epoch into x (at least Size()*Dim
// values) and y (at least Size()) and returns how many examples it holds
// (0 when i is out of range). It allocates nothing once the epoch's order
// is drawn.
func (b *Batcher) Batch(epoch, i int, x []float32, y []int) int {
	if i < 0 || i >= b.NumBatches() {
		return 0
	}
	order := b.Order(epoch)
	lo := i * b.batch
	hi := min(lo+b.batch, b.s.N)
	n, d := hi-lo, b.s.Dim
	if len(x) < n*d || len(y) < n {
		panic(fmt.Sprintf("data: batch buffers too small: %d features and %d labels for %d examples of %d", len(x), len(y), n, d))
	}
	for k, idx := range order[lo:hi] {
		copy(x[k*d:(k+1)*d], b.s.X[idx*d:(idx+1)*d])
		y[k] = b.s.Y[idx]
	}
	return n
}
