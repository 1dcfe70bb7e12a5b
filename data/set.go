// Package data owns the data sets: readers for MNIST/Fashion-MNIST (IDX) and
// CIFAR-10 (binary batches), the synthetic sets of the plasticity paper,
// preprocessing, subsets and seeded mini-batching.
package data

// Set is a labelled data set held in memory: N examples of Dim features each,
// stored row-major in X (example i is X[i*Dim:(i+1)*Dim]), labels in
// [0, Classes) in Y. Shape describes one example (e.g. [1 28 28] or [3 32 32]
// for images, [Dim] otherwise).
type Set struct {
	Name    string
	X       []float32
	Y       []int
	N       int
	Dim     int
	Classes int
	Shape   []int
	// Files are the files the set was read from (none for generated sets).
	Files []string
}

// Row returns example i's features (a view, not a copy).
func (s *Set) Row(i int) []float32 { return s.X[i*s.Dim : (i+1)*s.Dim] }
