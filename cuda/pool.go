package cuda

import (
	"fmt"
	"math/bits"
	"sync"
)

// Allocator is the raw device allocator behind a Pool (cuMemAlloc/cuMemFree
// on the GPU; a fake in tests).
type Allocator interface {
	Alloc(bytes int64) (DevPtr, error)
	Free(p DevPtr) error
}

// Buffer is a block of device memory handed out by a Pool.
type Buffer struct {
	Ptr   DevPtr
	Bytes int64 // bytes requested
	class int64 // bytes actually allocated (the size class)
}

// Pool caches device memory in size classes so that a training step
// allocates nothing from the driver once the first step has warmed it up.
// Classes: 512 B minimum, then four classes per power of two (at most 25%
// waste). Freed buffers go to their class's free list; when the driver is
// out of memory the pool releases its cached blocks and retries once.
type Pool struct {
	mu     sync.Mutex
	alloc  Allocator
	free   map[int64][]DevPtr
	live   map[DevPtr]int64
	stats  PoolStats
	closed bool
}

// PoolStats counts what the pool did.
type PoolStats struct {
	DriverAllocs, DriverFrees int   // calls to the Allocator
	Hits                      int   // Gets served from a free list
	InUse, Cached             int64 // bytes handed out / held in free lists
}

// NewPool makes an empty pool over an allocator.
func NewPool(a Allocator) *Pool {
	return &Pool{alloc: a, free: map[int64][]DevPtr{}, live: map[DevPtr]int64{}}
}

const minClass = 512

// SizeClass is the allocation size for a request of n bytes.
func SizeClass(n int64) int64 {
	if n <= minClass {
		return minClass
	}
	k := 63 - bits.LeadingZeros64(uint64(n-1)) // 2^k < n <= 2^(k+1)
	step := int64(1) << (k - 2)                // four classes in (2^k, 2^(k+1)]
	return (n + step - 1) / step * step
}

// Get returns a buffer of at least n bytes (n > 0).
func (p *Pool) Get(n int64) (Buffer, error) {
	if n <= 0 {
		return Buffer{}, fmt.Errorf("cuda: pool: request of %d bytes", n)
	}
	c := SizeClass(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Buffer{}, fmt.Errorf("cuda: pool: Get after Close")
	}
	if l := p.free[c]; len(l) > 0 {
		ptr := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.live[ptr] = c
		p.stats.Hits++
		p.stats.Cached -= c
		p.stats.InUse += c
		return Buffer{Ptr: ptr, Bytes: n, class: c}, nil
	}
	ptr, err := p.alloc.Alloc(c)
	if err != nil {
		// Out of memory (or fragmentation): give the cache back and retry.
		if ferr := p.releaseLocked(); ferr != nil {
			return Buffer{}, fmt.Errorf("cuda: pool: alloc %d bytes: %w (and releasing the cache: %v)", c, err, ferr)
		}
		ptr, err = p.alloc.Alloc(c)
		if err != nil {
			return Buffer{}, fmt.Errorf("cuda: pool: alloc %d bytes (in use %d): %w", c, p.stats.InUse, err)
		}
	}
	p.stats.DriverAllocs++
	p.live[ptr] = c
	p.stats.InUse += c
	return Buffer{Ptr: ptr, Bytes: n, class: c}, nil
}

// Put returns a buffer to its free list.
func (p *Pool) Put(b Buffer) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.live[b.Ptr]
	if !ok {
		return fmt.Errorf("cuda: pool: Put of %v, which the pool did not hand out (or was already returned)", b.Ptr)
	}
	delete(p.live, b.Ptr)
	p.stats.InUse -= c
	if p.closed {
		p.stats.DriverFrees++
		return p.alloc.Free(b.Ptr)
	}
	p.free[c] = append(p.free[c], b.Ptr)
	p.stats.Cached += c
	return nil
}

// Release frees every cached (not in use) block to the driver.
func (p *Pool) Release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.releaseLocked()
}

func (p *Pool) releaseLocked() error {
	var first error
	for c, l := range p.free {
		for _, ptr := range l {
			p.stats.DriverFrees++
			if err := p.alloc.Free(ptr); err != nil && first == nil {
				first = err
			}
		}
		p.stats.Cached -= c * int64(len(l))
		delete(p.free, c)
	}
	return first
}

// Close releases the cache; buffers still in use are freed when Put.
func (p *Pool) Close() error {
	err := p.Release()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return err
}

// Stats reports the pool's counters.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}
