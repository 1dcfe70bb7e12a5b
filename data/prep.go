package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand"
	"sort"
)

// Standardize maps every feature x to (x-mean)/std in place, e.g.
// Standardize(s, 0.5, 0.5) for the NeuroPlastic paper's (x-0.5)/0.5.
func Standardize(s *Set, mean, std float32) {
	inv := 1 / std
	for i, v := range s.X {
		s.X[i] = (v - mean) * inv
	}
}

// NormalizeChannels maps every pixel of channel c to (x-mean[c])/std[c] in
// place; s.Shape[0] is the number of channels (CIFAR-10: [3 32 32] with
// CIFARMean and CIFARStd).
func NormalizeChannels(s *Set, mean, std []float32) error {
	if len(s.Shape) < 2 {
		return fmt.Errorf("%s: shape %v has no channel axis", s.Name, s.Shape)
	}
	C := s.Shape[0]
	if len(mean) != C || len(std) != C {
		return fmt.Errorf("%s: %d channels but %d means and %d stds", s.Name, C, len(mean), len(std))
	}
	if s.Dim%C != 0 {
		return fmt.Errorf("%s: dimension %d not divisible by %d channels", s.Name, s.Dim, C)
	}
	per := s.Dim / C
	for i := 0; i < s.N; i++ {
		row := s.Row(i)
		for c := 0; c < C; c++ {
			m, inv := mean[c], 1/std[c]
			for j := c * per; j < (c+1)*per; j++ {
				row[j] = (row[j] - m) * inv
			}
		}
	}
	return nil
}

// Select returns a new set holding the examples idx of s, in that order.
func Select(s *Set, idx []int) *Set {
	t := &Set{Name: s.Name, X: make([]float32, len(idx)*s.Dim), Y: make([]int, len(idx)), N: len(idx),
		Dim: s.Dim, Classes: s.Classes, Shape: append([]int(nil), s.Shape...), Files: s.Files}
	for k, i := range idx {
		copy(t.X[k*s.Dim:(k+1)*s.Dim], s.Row(i))
		t.Y[k] = s.Y[i]
	}
	return t
}

// Subset returns n examples of s drawn at random without replacement (the
// plasticity paper's 10,000 of MNIST's 60,000) and their indices in s,
// increasing; the caller saves them with the run. n >= N keeps everything.
func Subset(s *Set, n int, rng *rand.Rand) (*Set, []int) {
	if n >= s.N {
		n = s.N
	}
	if n < 0 {
		n = 0
	}
	idx := rng.Perm(s.N)[:n]
	sort.Ints(idx)
	return Select(s, idx), idx
}

// Fraction returns a random fraction f in (0,1] of s (round(f*N) examples,
// at least one), as Subset: the NeuroPlastic low-data study.
func Fraction(s *Set, f float64, rng *rand.Rand) (*Set, []int, error) {
	if !(f > 0 && f <= 1) {
		return nil, nil, fmt.Errorf("data fraction %v: want 0 < f <= 1", f)
	}
	n := int(math.Round(f * float64(s.N)))
	if n < 1 {
		n = 1
	}
	t, idx := Subset(s, n, rng)
	return t, idx, nil
}

// ClassCounts returns how many examples of each class s holds.
func ClassCounts(s *Set) []int {
	c := make([]int, s.Classes)
	for _, y := range s.Y {
		if y >= 0 && y < len(c) {
			c[y]++
		}
	}
	return c
}

// Checksum is the SHA-256 (hex) of a set's content: N, Dim, Classes and
// Shape as little-endian uint64, then every feature as its little-endian
// float32 bits, then every label as a little-endian uint64. Two sets with
// the same checksum hold the same numbers.
func Checksum(s *Set) string {
	h := sha256.New()
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(s.N))
	put(uint64(s.Dim))
	put(uint64(s.Classes))
	put(uint64(len(s.Shape)))
	for _, d := range s.Shape {
		put(uint64(d))
	}
	buf := make([]byte, 0, 1<<16)
	for _, v := range s.X {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	for _, y := range s.Y {
		put(uint64(y))
	}
	return hex.EncodeToString(h.Sum(nil))
}
