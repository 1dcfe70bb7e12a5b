package data

import (
	"slices"
	"testing"
)

func TestBatcher(t *testing.T) {
	s, _, _ := Halfspace(Options{Seed: 2, NTrain: 103, NTest: 1})
	b := NewBatcher(s, 10, 42)
	if b.NumBatches() != 11 {
		t.Fatalf("%d batches", b.NumBatches())
	}
	x := make([]float32, 10*s.Dim)
	y := make([]int, 10)
	orders := map[int][]int{}
	for epoch := 1; epoch <= 3; epoch++ {
		seen := make([]bool, s.N)
		var order []int
		for i := 0; i < b.NumBatches(); i++ {
			n := b.Batch(epoch, i, x, y)
			if want := min(10, 103-10*i); n != want {
				t.Fatalf("batch %d has %d examples, want %d", i, n, want)
			}
			for k := 0; k < n; k++ {
				// Identify the example by its features.
				idx := b.Order(epoch)[i*10+k]
				if seen[idx] {
					t.Fatalf("epoch %d: example %d twice", epoch, idx)
				}
				seen[idx] = true
				if y[k] != s.Y[idx] || x[k*s.Dim+4] != s.Row(idx)[4] {
					t.Fatalf("batch %d slot %d is not example %d", i, k, idx)
				}
				order = append(order, idx)
			}
		}
		if len(order) != s.N {
			t.Fatalf("epoch %d covered %d of %d", epoch, len(order), s.N)
		}
		orders[epoch] = order
	}
	if slices.Equal(orders[1], orders[2]) {
		t.Fatal("epochs 1 and 2 have the same order")
	}
	// Same seed, same order, also when starting at epoch 2 (resume).
	b2 := NewBatcher(s, 10, 42)
	if !slices.Equal(append([]int{}, b2.Order(2)...), orders[2]) || !slices.Equal(append([]int{}, b2.Order(1)...), orders[1]) {
		t.Fatal("same seed gave another order")
	}
	if b.Batch(1, 11, x, y) != 0 || b.Batch(1, -1, x, y) != 0 {
		t.Fatal("out-of-range batch not empty")
	}
	allocs := testing.AllocsPerRun(20, func() { b.Batch(3, 4, x, y) })
	if allocs != 0 {
		t.Fatalf("Batch allocates %v times", allocs)
	}
}
