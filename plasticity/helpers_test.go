package plasticity

import (
	"math/rand"

	"github.com/plasticity-lab/plastic/data"
)

// halfspace draws n points uniformly in [-1,1]^dim labelled by a random
// halfspace (the authors' Halfspace data), as train and test sets.
func halfspace(seed int64, n, dim int) (*data.Set, *data.Set) {
	rng := rand.New(rand.NewSource(seed))
	w := make([]float64, dim)
	for i := range w {
		w[i] = 2*rng.Float64() - 1
	}
	b := 0.1 * (2*rng.Float64() - 1)
	mk := func() *data.Set {
		s := &data.Set{Name: "halfspace-test", X: make([]float32, n*dim), Y: make([]int, n), N: n, Dim: dim, Classes: 2, Shape: []int{dim}}
		for i := 0; i < n; i++ {
			dot := b
			for j := 0; j < dim; j++ {
				x := 2*rng.Float64() - 1
				s.X[i*dim+j] = float32(x)
				dot += w[j] * x
			}
			if dot > 0 {
				s.Y[i] = 1
			}
		}
		return s
	}
	return mk(), mk()
}

// blobs draws m Gaussian clusters in dim dimensions (multi-class data).
func blobs(seed int64, n, dim, m int) *data.Set {
	rng := rand.New(rand.NewSource(seed))
	centers := make([]float64, m*dim)
	for i := range centers {
		centers[i] = rng.NormFloat64()
	}
	s := &data.Set{Name: "blobs-test", X: make([]float32, n*dim), Y: make([]int, n), N: n, Dim: dim, Classes: m, Shape: []int{dim}}
	for i := 0; i < n; i++ {
		c := rng.Intn(m)
		s.Y[i] = c
		for j := 0; j < dim; j++ {
			s.X[i*dim+j] = float32(centers[c*dim+j] + 0.7*rng.NormFloat64())
		}
	}
	return s
}
