package data

import "testing"

// go test ./data -run XXX -bench . -benchtime 200x

func BenchmarkBatcherBatch128(b *testing.B) {
	s := &Set{N: 10000, Dim: 784, Classes: 10, X: make([]float32, 10000*784), Y: make([]int, 10000), Shape: []int{1, 28, 28}}
	bt := NewBatcher(s, 128, 1)
	x := make([]float32, 128*784)
	y := make([]int, 128)
	b.SetBytes(128 * 784 * 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt.Batch(1, i%bt.NumBatches(), x, y)
	}
}

func BenchmarkCIFARAugment128(b *testing.B) {
	a := CIFARAugment(1)
	x := make([]float32, 128*cifarPixels)
	b.SetBytes(int64(len(x)) * 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Apply(1, i, x, 128)
	}
}

// BenchmarkLoadMNIST reads, decompresses and scales both MNIST files pairs
// (the start-up cost of every MNIST command).
func BenchmarkLoadMNIST(b *testing.B) {
	if _, ok := FindMNIST("datasets"); !ok {
		b.Skip("MNIST files not found")
	}
	for i := 0; i < b.N; i++ {
		if _, _, err := Load("mnist", Options{Dir: "datasets"}); err != nil {
			b.Fatal(err)
		}
	}
}
